// Session replay end to end: a page instrumented with the real `@hyperdx/browser` SDK from npm
// (bundled here with esbuild) is driven in headless Chromium and sends its spans and rrweb
// recording to a real `exos serve`. Then the sessions list and the replay page are checked in
// the web app, and SQL checks that no secret typed or sent by the page reached the store.
//
// The instrumented page does: two page loads (the second one has more than 1 MB of text, so
// the SDK cuts its full snapshot into chunks), typing into masked inputs, a hidden input with
// a secret, clicks, a rage-click burst, a click whose handler throws, a console error, and a
// failing fetch and XHR carrying `Authorization: Bearer <secret>`.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { join } from "node:path";

import { knownData, launchBrowser, screenshotFolder, seed, settle, signIn, sql, startServer, watchedPage } from "./harness.mjs";
import { ARCHIVE_HEADING, SHOP_HEADING, buildSdkBundle, startSite } from "./instrumented-site.mjs";

const secret = (name) => `${name}-${randomBytes(6).toString("hex")}`;
const SECRETS = {
  typed: secret("typedsecret"),
  password: secret("pinsecret"),
  hiddenHtml: secret("hiddensecret"),
  bearer: secret("bearersecret"),
  // Set by script into a hidden input of the page whose full snapshot comes in chunks.
  archive: secret("archivesecret"),
};
// A hidden input's value set by a script after the page loaded.
const HIDDEN_BY_SCRIPT = secret("scriptsecret");

// Console errors the instrumented page makes on purpose.
const EXPECTED_PAGE_ERRORS = [/checkout total mismatch/, /status of 500/, /payment widget failed to load/];

let server;
let site;
let browser;
let sessionId;
const folder = screenshotFolder();

before(async () => {
  server = await startServer(["--replay-quiet-ms", "500"]);
  const bundle = await buildSdkBundle({ otlpUrl: server.otlpHttp, apiKey: server.ingestKey, service: "shop-web" });
  site = await startSite(bundle, { hiddenValue: SECRETS.hiddenHtml });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await site?.stop();
  await server?.stop();
});

function clean(problems) {
  assert.deepEqual(problems, [], problems.join("\n"));
}

async function apiGet(path) {
  const response = await fetch(`${server.http}${path}`, {
    headers: { authorization: `Basic ${Buffer.from(`admin:${server.password}`).toString("base64")}` },
  });
  const body = await response.json();
  if (!response.ok) throw new Error(`GET ${path} answered ${response.status}: ${JSON.stringify(body)}`);
  return body;
}

// Polls `check` until it returns a truthy value, and fails naming `description` after `timeoutMs`.
async function waitFor(description, check, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const result = await check();
    if (result) return result;
    await new Promise((done) => setTimeout(done, 500));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}`);
}

// A browser context for the instrumented page: fails on requests that leave loopback and on
// console errors other than the ones the page makes on purpose.
async function instrumentedPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const problems = [];
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === "data:" || url.protocol === "blob:" || url.hostname === "127.0.0.1") return route.continue();
    problems.push(`request left loopback: ${url.href}`);
    return route.abort();
  });
  const page = await context.newPage();
  const unexpected = (text) => !EXPECTED_PAGE_ERRORS.some((pattern) => pattern.test(text));
  page.on("console", (message) => {
    if (message.type() === "error" && unexpected(message.text())) problems.push(`console error on ${page.url()}: ${message.text()}`);
  });
  page.on("pageerror", (error) => {
    if (unexpected(error.message)) problems.push(`uncaught error on ${page.url()}: ${error.message}`);
  });
  return { context, page, problems };
}

async function replayRows(where) {
  const [[count]] = await sql(server, `SELECT count(*) FROM hyperdx_sessions WHERE ${where}`);
  return Number(count);
}

test("instrumented page sends a session with a recording", async () => {
  const { context, page, problems } = await instrumentedPage();
  await page.goto(`${site.url}/`);
  await page.evaluate((token) => { window.billingToken = token; }, SECRETS.bearer);

  await page.click("#customer");
  await page.keyboard.type(SECRETS.typed, { delay: 5 });
  await page.click("#pin");
  await page.keyboard.type(SECRETS.password, { delay: 5 });
  await page.evaluate((value) => { document.getElementById("session-token").value = value; }, HIDDEN_BY_SCRIPT);
  await page.click("#approve");
  await page.waitForTimeout(400);

  // A rage-click burst: four clicks within about 200 ms on one spot of a button that does nothing.
  const box = await page.locator("#refresh").boundingBox();
  for (let i = 0; i < 4; i += 1) await page.mouse.click(box.x + box.width / 2 + i, box.y + box.height / 2);
  await page.waitForTimeout(400);

  await page.click("#pay");
  await page.click("#log-error");
  await page.click("#fetch-fail");
  await page.waitForFunction(() => document.getElementById("status").textContent.includes("and 500"));

  sessionId = await page.evaluate(() => window.HyperDX.getSessionId());
  assert.match(sessionId, /^[0-9a-f]{32}$/, "the session id is 32 hex characters");

  // The SDK exports every 5 s: wait until the failing requests' spans are stored before leaving.
  await waitFor("the failing requests' spans", async () => {
    const [[count]] = await sql(server, "SELECT count(*) FROM otel_traces WHERE SpanAttributes['http.url'] LIKE '%/api/fail%'");
    return Number(count) >= 2;
  });

  await Promise.all([page.waitForURL(/archive\.html$/), page.click("#to-archive")]);
  await page.locator("h1", { hasText: ARCHIVE_HEADING }).waitFor();
  await page.evaluate((value) => { document.getElementById("archive-token").value = value; }, SECRETS.archive);
  await page.click("#archive-back");

  await waitFor("the chunked full snapshot of the archive page", async () =>
    (await replayRows(`RumSessionId = '${sessionId}' AND LogAttributes['rr-web.total-chunks'] NOT IN ('1', '1.0', '')`)) >= 2);
  const [[chunks]] = await sql(server, `SELECT max(LogAttributes['rr-web.total-chunks']) FROM hyperdx_sessions WHERE RumSessionId = '${sessionId}'`);
  assert.ok(Number(chunks) >= 2, `the archive page's snapshot came in ${chunks} chunks`);

  // Hide the page, as a user switching tabs does: the SDK sends what it still holds.
  await page.evaluate(() => {
    Object.defineProperty(document, "visibilityState", { value: "hidden", configurable: true });
    document.dispatchEvent(new Event("visibilitychange"));
  });
  await page.waitForTimeout(1000);
  clean(problems);
  await context.close();
});

test("sessions API lists the session with its counts and signals", async () => {
  assert.ok(sessionId, "the first test recorded a session");
  const session = await waitFor("the session's analysis with a rage click", async () => {
    const data = await apiGet(`/api/sessions?from=${Date.now() - 3_600_000}&to=${Date.now() + 60_000}`);
    const found = data.sessions.find((row) => row.session_id === sessionId);
    return found && found.rage_clicks >= 1 ? found : null;
  });
  assert.equal(session.has_replay, true, "has a recording");
  assert.equal(session.pages, 2, "two page loads");
  assert.ok(session.errors >= 1, `errors ${session.errors}`);
  assert.ok(session.rage_clicks >= 1, `rage clicks ${session.rage_clicks}`);
  assert.ok(session.error_clicks >= 1, `error clicks ${session.error_clicks}`);
  assert.ok(session.clicks >= 7, `clicks ${session.clicks}`);
  assert.ok(session.active_ms > 0, "some active time");
  assert.ok(session.duration_ms >= session.active_ms, "duration covers active time");
  assert.equal(session.browser, "Chrome");
  assert.equal(session.device, "desktop", "headless Chromium on Linux is a desktop");
  assert.equal(session.country, "", "no country attribute was sent");
  assert.equal(session.user, "shopper@example.com", "the user set with setGlobalAttributes");

  const filtered = async (query) => (await apiGet(`/api/sessions?from=${Date.now() - 3_600_000}&to=${Date.now() + 60_000}&${query}`))
    .sessions.some((row) => row.session_id === sessionId);
  assert.equal(await filtered("frustrated=true"), true, "frustrated only keeps it");
  assert.equal(await filtered("has_replay=false"), false, "without replay drops it");
  assert.equal(await filtered("did=documentLoad"), true, "did documentLoad keeps it");
  assert.equal(await filtered("did=no-such-span"), false, "did an unknown event drops it");
  assert.equal(await filtered("q=shopper%40example.com"), true, "search by user finds it");
  assert.equal(await filtered("browser=chrome&device=desktop"), true, "its browser and device keep it");
  assert.equal(await filtered("browser=Firefox"), false, "another browser drops it");
  assert.equal(await filtered("device=mobile"), false, "another device drops it");
  assert.equal(await filtered("country=DE"), false, "a country it has not drops it");
});

for (const theme of ["light", "dark"]) {
  test(`sessions page lists the session in ${theme} mode`, async () => {
    const { context, page, problems } = await watchedPage(browser, server, { colorScheme: theme });
    await signIn(page, server);
    await page.goto(`${server.http}/sessions`);
    await settle(page);
    const row = page.locator("tr", { hasText: sessionId.slice(0, 12) });
    await row.waitFor();
    const text = await row.textContent();
    assert.match(text, /rage/, "rage badge");
    assert.match(text, /shopper@example\.com/, "user");
    assert.match(text, /Chrome/, "browser");
    assert.equal(await page.locator("nav a.nav-link.active").textContent(), "Sessions", "nav marks Sessions");
    await page.screenshot({ path: join(folder, `${theme}-sessions.png`), fullPage: true });

    // The frustrated filter goes into the URL and keeps the row.
    await page.getByLabel("Frustrated only").check();
    await settle(page);
    assert.equal(new URL(page.url()).searchParams.get("frustrated"), "true");
    await row.waitFor();

    // A saved view comes back after a reload.
    await page.getByRole("button", { name: "Save view" }).click();
    await page.getByRole("dialog").getByLabel("Name").fill(`Frustrated ${theme}`);
    await page.getByRole("dialog").getByRole("button", { name: "Save view" }).click();
    await page.goto(`${server.http}/sessions`);
    await settle(page);
    await page.getByLabel("Saved views").selectOption({ label: `Frustrated ${theme}` });
    await settle(page);
    assert.equal(new URL(page.url()).searchParams.get("frustrated"), "true", "the saved view restores the filter");

    // A click on the row's play link opens the replay.
    await Promise.all([page.waitForURL(/\/replay\?/), page.locator("tr", { hasText: sessionId.slice(0, 12) }).getByRole("link", { name: /Replay session/ }).click()]);
    assert.equal(new URL(page.url()).searchParams.get("session"), sessionId);
    clean(problems);
    await context.close();
  });
}

// Returns the text of the page rebuilt inside the replay player's iframe. textContent needs
// no layout, so polling it stays cheap on the 1 MB archive page.
function playerText(page) {
  return page.evaluate(() => document.querySelector(".replay-stage iframe")?.contentDocument?.body?.textContent || "");
}

// Waits until the player's iframe shows `text`.
function waitForPlayerText(page, text) {
  return page.waitForFunction((wanted) => (document.querySelector(".replay-stage iframe")?.contentDocument?.body?.textContent || "").includes(wanted),
    text, { timeout: 30_000, polling: 250 });
}

function playerOffset(page) {
  return page.locator(".timeline").getAttribute("aria-valuenow").then(Number);
}

test("replay page plays the recording and follows it in the panels", async () => {
  const { context, page, problems } = await watchedPage(browser, server, { colorScheme: "light" });
  await signIn(page, server);
  const opened = Date.now();
  await page.goto(`${server.http}/replay?session=${sessionId}`);
  await waitForPlayerText(page, SHOP_HEADING);
  await page.getByRole("button", { name: "Pause" }).waitFor();
  const playingAfterMs = Date.now() - opened;
  console.log(`replay: ${playingAfterMs} ms from opening /replay to the first page playing`);
  assert.ok((await playerText(page)).includes(SHOP_HEADING), "the recorded page is shown");

  const markerCount = async (kind) => page.locator(`.timeline-marker.marker-${kind}`).count();
  assert.ok(await markerCount("page_view") >= 2, "page views on the timeline");
  assert.ok(await markerCount("rage_click") >= 1, "rage click on the timeline");
  assert.ok(await markerCount("error") >= 1, "error on the timeline");
  assert.ok(await markerCount("console") >= 1, "console message on the timeline");
  assert.ok(await markerCount("network") >= 1, "network requests on the timeline");
  await page.screenshot({ path: join(folder, "light-replay.png"), fullPage: true });

  // Picking the console message moves the player there and highlights it.
  await page.getByRole("button", { name: "Pause" }).click();
  await page.getByRole("tab", { name: /^Console/ }).click();
  const consoleItem = page.locator(".replay-item", { hasText: "checkout total mismatch" });
  await consoleItem.click();
  await page.waitForFunction(() => document.querySelector(".replay-item-current")?.textContent.includes("checkout total mismatch"));
  const replay = await apiGet(`/api/replay/${sessionId}`);
  const consoleMarker = replay.markers.find((marker) => marker.kind === "console");
  const expectedSeconds = Math.round((consoleMarker.time_ms - replay.events[0].timestamp) / 1000);
  assert.ok(Math.abs(await playerOffset(page) - expectedSeconds) <= 1, "the player moved to the console message");

  // The network panel shows the failing requests with their status.
  await page.getByRole("tab", { name: /^Network/ }).click();
  const failed = page.locator(".replay-item", { hasText: "/api/fail" });
  assert.ok(await failed.count() >= 1, "failing request listed");
  assert.match(await failed.first().textContent(), /500/, "with its status");
  clean(problems);
  await context.close();
});

test("replay deep link starts at that moment", async () => {
  const replay = await apiGet(`/api/replay/${sessionId}`);
  const archiveLoad = replay.markers.find((marker) => marker.kind === "page_view" && marker.detail.endsWith("/archive.html"));
  assert.ok(archiveLoad, "the archive page view is a marker");
  const archiveSnapshot = replay.events.find((event) => event.type === 2 && event.timestamp >= archiveLoad.time_ms);
  assert.ok(archiveSnapshot, "the archive page's chunked full snapshot was reassembled");
  const { context, page, problems } = await watchedPage(browser, server, { colorScheme: "dark" });
  await signIn(page, server);
  await page.goto(`${server.http}/replay?session=${sessionId}&t=${archiveSnapshot.timestamp + 500}`);
  const opened = Date.now();
  await waitForPlayerText(page, ARCHIVE_HEADING);
  console.log(`replay: ${Date.now() - opened} ms from opening a deep link to the chunked page showing`);
  const text = await playerText(page);
  assert.ok(text.includes("Grüße aus Köln"), "the chunked snapshot's multi-byte text is shown");
  await page.getByRole("button", { name: "Pause" }).click().catch(() => {});
  await page.screenshot({ path: join(folder, "dark-replay.png"), fullPage: true });
  clean(problems);
  await context.close();
});

test("replay page without recording shows the timeline", async () => {
  // The known data's browser session has spans (a page load and clicks) but no rrweb events.
  const data = await seed(server, knownData());
  const { context, page, problems } = await watchedPage(browser, server);
  await signIn(page, server);
  await page.goto(`${server.http}/replay?session=${data.session}`);
  await settle(page);
  assert.ok(await page.getByText("This session has no recording.").isVisible(), "says there is no recording");
  assert.equal(await page.locator(".replay-stage").count(), 0, "no player");
  assert.ok(await page.locator(".timeline-marker.marker-page_view").count() >= 1, "the page load is on the timeline");
  assert.ok(await page.locator(".timeline-marker.marker-click").count() >= 1, "the clicks are on the timeline");
  clean(problems);
  await context.close();
});

// Counts stored rows that contain `value` anywhere an attribute, body or message is kept.
async function placesHolding(value) {
  const like = `'%${value}%'`;
  const checks = {
    "hyperdx_sessions.Body": `SELECT count(*) FROM hyperdx_sessions WHERE Body LIKE ${like}`,
    "hyperdx_sessions.LogAttributes": `SELECT count(*) FROM hyperdx_sessions WHERE CAST(LogAttributes AS VARCHAR) LIKE ${like}`,
    "otel_traces.SpanAttributes": `SELECT count(*) FROM otel_traces WHERE CAST(SpanAttributes AS VARCHAR) LIKE ${like}`,
    "otel_traces.ResourceAttributes": `SELECT count(*) FROM otel_traces WHERE CAST(ResourceAttributes AS VARCHAR) LIKE ${like}`,
    "otel_traces.Events.Attributes": `SELECT count(*) FROM otel_traces WHERE CAST("Events.Attributes" AS VARCHAR) LIKE ${like}`,
    "otel_traces.StatusMessage": `SELECT count(*) FROM otel_traces WHERE StatusMessage LIKE ${like}`,
    "otel_logs.Body": `SELECT count(*) FROM otel_logs WHERE Body LIKE ${like}`,
    "otel_logs.LogAttributes": `SELECT count(*) FROM otel_logs WHERE CAST(LogAttributes AS VARCHAR) LIKE ${like}`,
  };
  const found = [];
  for (const [place, query] of Object.entries(checks)) {
    const [[count]] = await sql(server, query);
    if (Number(count) > 0) found.push(`${place} (${count} rows)`);
  }
  return found;
}

test("no secret from the page reaches the store", async () => {
  assert.ok(sessionId, "the first test recorded a session");
  const [[requests]] = await sql(server, "SELECT count(*) FROM otel_traces WHERE SpanAttributes['http.url'] LIKE '%/api/fail%'");
  assert.ok(Number(requests) >= 2, "the failing fetch and XHR were recorded");
  for (const [name, value] of Object.entries(SECRETS)) {
    assert.deepEqual(await placesHolding(value), [], `the ${name} secret is stored`);
  }
  // The recorded page itself is there: the check above looks at real data.
  assert.ok(await replayRows(`Body LIKE '%${SHOP_HEADING}%'`) >= 1, "the recording holds the page text");
});

test("hidden input value set by a script is scrubbed", async () => {
  assert.deepEqual(await placesHolding(HIDDEN_BY_SCRIPT), []);
});

// Sends `count` browser sessions of one span each, none recorded, in line of business `lob`.
async function seedSessions(count, lob) {
  const now = Date.now();
  const ns = (ms) => `${BigInt(ms) * 1_000_000n}`;
  const text = (key, value) => ({ key, value: { stringValue: value } });
  const resourceSpans = Array.from({ length: count }, (_, i) => {
    const start = now - 20 * 60_000 + i * 1000;
    const id = (i + 0xc000).toString(16);
    return {
      resource: { attributes: [text("service.name", "ops-web"), text("rum.sessionId", `${lob}-${i}`)] },
      scopeSpans: [{ spans: [{
        traceId: id.padStart(32, "0"), spanId: id.padStart(16, "0"), name: "documentLoad", kind: 1,
        startTimeUnixNano: ns(start), endTimeUnixNano: ns(start + 300), attributes: [text("lob", lob)],
      }] }],
    };
  });
  const response = await fetch(`${server.otlpHttp}/v1/traces`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: server.ingestKey },
    body: JSON.stringify({ resourceSpans }),
  });
  assert.equal(response.status, 200, await response.text());
}

// Returns the value shown in the summary tile whose label starts with `label`.
function tileValue(page, label) {
  return page.locator(".kpi", { has: page.locator(".kpi-label", { hasText: new RegExp(`^${label}`) }) })
    .locator(".kpi-value").textContent();
}

test("sessions page counts every session of the range", async () => {
  await seedSessions(210, "TotalsCheck");
  const { context, page, problems } = await watchedPage(browser, server);
  await signIn(page, server);
  await page.goto(`${server.http}/sessions?lob=TotalsCheck`);
  await settle(page);
  assert.equal(await page.locator("tbody tr").count(), 200, "one page of rows is listed");
  assert.equal(await tileValue(page, "Sessions"), "210", "the tile counts the unlisted sessions too");
  assert.equal(await tileValue(page, "With replay"), "0");
  assert.equal(await tileValue(page, "Frustrated"), "0");
  assert.ok(await page.getByText("First 200 of 210 sessions").isVisible(), "the table's title says rows were left out");
  assert.equal(await tileValue(page, "Median active"), "—", "no session has an active time");
  const activeColumn = await page.locator("thead th").allTextContents();
  const activeCell = page.locator("tbody tr").first().locator("td").nth(activeColumn.findIndex((name) => name.trim() === "Active"));
  assert.equal((await activeCell.textContent()).trim(), "—", "a session without a recording has no active time");
  clean(problems);
  await context.close();
});
