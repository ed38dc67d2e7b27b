// The Funnels, Retention and Compare › Funnel / By LOB pages in headless Chromium, over
// `exos simulate` data: orders moving through activities, and browser sessions with replays.
// The tests build a funnel step by step and break it down by LOB. They open the actors who
// dropped off and follow their trace and replay links, build a retention table, and open the
// Compare tabs.
// Screenshots of each state go to the screenshot folder.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";

import { EXOS_BIN, launchBrowser, screenshotFolder, settle, signIn, startServer, watchedPage } from "./harness.mjs";

const ORDERS = 80;
const folder = screenshotFolder();
let server;
let browser;

before(async () => {
  server = await startServer();
  const simulated = spawnSync(EXOS_BIN, [
    "simulate", "--url", server.otlpHttp, "--key", server.ingestKey, "--orders", String(ORDERS), "--days", "3",
    "--seed", "11", "--truth", join(server.dataDir, "truth.json"),
  ], { encoding: "utf8", timeout: 180_000 });
  assert.equal(simulated.status, 0, `exos simulate failed: ${simulated.stderr?.slice(-3000)}`);
  browser = await launchBrowser();
  console.log(`screenshots: ${folder}`);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

function clean(problems) {
  assert.deepEqual(problems, [], problems.join("\n"));
}

async function shot(page, name) {
  await page.screenshot({ path: join(folder, `funnels-${name}.png`), fullPage: true });
}

// Posts JSON to the server as the admin, outside the browser.
function postJson(path, body) {
  return fetch(`${server.http}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Basic ${Buffer.from(`admin:${server.password}`).toString("base64")}` },
    body: JSON.stringify(body),
  });
}

async function kpiNumber(page, label) {
  const tile = page.locator(".kpi", { has: page.locator(".kpi-label", { hasText: label }) }).first();
  return Number((await tile.locator(".kpi-value").textContent()).replace(/[^0-9.]/g, ""));
}

const FUNNEL = "/funnels?from=now-7d&actor=order.id&step=Order%20Received&step=Review%20Documents&window=1209600";

test("build a funnel, break it down, open drop-offs and follow their links", async () => {
  const { context, page, problems } = await watchedPage(browser, server);
  await signIn(page, server);
  await page.goto(`${server.http}${FUNNEL}`);
  await settle(page);
  assert.equal(await page.locator("ol[aria-label='Funnel steps'] li").count(), 2);
  const entered = await kpiNumber(page, "Entered");
  assert.ok(entered > 0, `entered ${entered}`);
  assert.ok(entered <= ORDERS, `entered ${entered} of ${ORDERS} orders`);

  // Add a third step through the builder; the definition moves into the URL.
  await page.fill("input[aria-label='New step event']", "Approve");
  await page.click("text=Add step");
  await page.waitForURL(/step=Approve/);
  await settle(page);
  assert.equal(await page.locator("ol[aria-label='Funnel steps'] li").count(), 3);
  assert.equal(await page.locator("table[class='data-table'] caption", { hasText: "Funnel steps" }).count(), 1);
  await page.waitForSelector("text=What goes with converting");
  await settle(page);
  await shot(page, "steps");

  // Break the funnel down by line of business.
  await page.fill("input[aria-label='Breakdown attribute']", "lob");
  await page.press("input[aria-label='Breakdown attribute']", "Enter");
  await page.waitForURL(/breakdown=lob/);
  await settle(page);
  const byLob = page.locator("section", { has: page.locator("h2", { hasText: "By lob" }) });
  assert.ok(await byLob.locator("tbody tr").count() >= 2, "at least two lines of business");
  await shot(page, "breakdown");

  // A reload shows the same funnel.
  await page.reload();
  await settle(page);
  assert.equal(await page.locator("ol[aria-label='Funnel steps'] li").count(), 3);
  assert.equal(await page.inputValue("input[aria-label='Breakdown attribute']"), "lob");

  // Orders that never got past step 2: the side panel lists them with links.
  await page.click("button[data-dropped='3']");
  const panel = page.locator(".side-panel");
  await panel.locator("table").waitFor();
  await settle(page);
  await shot(page, "dropped-actors");
  const traceLink = panel.locator("a", { hasText: "Trace" }).first();
  await traceLink.waitFor();
  const replayHref = await panel.locator("a", { hasText: "Replay" }).first().getAttribute("href");
  assert.match(replayHref, /^\/replay\?.*session=[0-9a-f]+.*&t=\d+|^\/replay\?.*t=\d+.*session=/);
  await traceLink.click();
  await page.waitForURL(/\/engineering\?.*trace=[0-9a-f]{32}/);
  await settle(page);
  await shot(page, "trace");

  await page.goto(`${server.http}${replayHref}`);
  await settle(page);
  assert.match(page.url(), /\/replay\?/);
  await shot(page, "replay");
  clean(problems);
  await context.close();
});

test("correlation needs converted and dropped actors", async () => {
  const { context, page, problems } = await watchedPage(browser, server);
  await signIn(page, server);
  const correlation = page.locator("section", { has: page.locator("h2", { hasText: "What goes with converting" }) });

  // Every verdict is one of three badges.
  await page.goto(`${server.http}${FUNNEL}`);
  await settle(page);
  const verdicts = await correlation.locator("tbody tr td:last-child").allTextContents();
  assert.ok(verdicts.length > 0, "the simulated funnel has correlated values");
  assert.deepEqual([...new Set(verdicts)].filter((text) => !["converts more", "converts less", "not significant"].includes(text)), []);
  assert.equal(await correlation.locator("th", { hasText: "Verdict" }).count(), 1);

  // Nothing follows Close in an order, so no order converts.
  await page.goto(`${server.http}/funnels?from=now-7d&actor=order.id&step=Close&step=Order%20Received&window=1209600`);
  await settle(page);
  assert.ok(await kpiNumber(page, "Entered") > 0, "some orders entered");
  const text = await correlation.textContent();
  assert.match(text, /Nothing to correlate/);
  assert.match(text, /0 converted and \d+ dropped/);
  assert.equal(await correlation.locator("table").count(), 0, "no odds ratios are listed");
  await shot(page, "correlation-none-converted");
  clean(problems);
  await context.close();
});

// Returns the time of the newest page load of a known user, in epoch milliseconds.
async function lastPageLoadMs() {
  const response = await fetch(`${server.http}/api/sql`, {
    method: "POST",
    headers: { authorization: `Basic ${Buffer.from(`admin:${server.password}`).toString("base64")}`, "content-type": "application/json" },
    body: JSON.stringify({ sql: "SELECT epoch_ms(max(Timestamp)) FROM otel_traces WHERE SpanName = 'documentLoad' AND UserId != ''" }),
  });
  const answer = await response.json();
  assert.equal(response.status, 200, JSON.stringify(answer));
  return Number(answer.rows[0][0]);
}

test("retention table and curve", async () => {
  const { context, page, problems } = await watchedPage(browser, server);
  await signIn(page, server);
  await page.goto(`${server.http}/retention?from=now-4d&actor=user.id&start=documentLoad&return=documentLoad&period=day&periods=4`);
  await settle(page);
  const rows = page.locator("table[aria-label^='Retention cohorts'] tbody tr");
  assert.ok(await rows.count() >= 1, "at least one cohort");
  const firstCell = await rows.first().locator("td").nth(1).textContent();
  assert.equal(firstCell.trim(), "100%", "period 0 of a cohort is the cohort itself");
  // A table that reaches past today: the days to come are blank, not 0%. The simulated
  // operators rest at weekends, so the table starts on the day of the last page load.
  const last = await lastPageLoadMs();
  const DAY = 86_400_000;
  const started = Math.ceil((Date.now() - last) / DAY) || 1;
  const from = new Date(Date.now() - started * DAY).toISOString();
  await page.goto(`${server.http}/retention?from=${from}&actor=user.id&start=documentLoad&return=documentLoad&period=day&periods=${started + 6}`);
  await settle(page);
  const lastRow = page.locator("table[aria-label^='Retention cohorts'] tbody tr").last();
  const cells = (await lastRow.locator("td").allTextContents()).map((text) => text.trim());
  // Cells: the cohort, then one per day. Days 0 to `started` have begun; the rest have not.
  assert.ok(cells.length > started + 2, `a row of ${started + 6} days: ${cells}`);
  assert.deepEqual(cells.slice(started + 2), Array(cells.length - started - 2).fill(""), `days to come are blank: ${cells}`);
  await page.goto(`${server.http}/retention?from=now-4d&actor=user.id&start=documentLoad&return=documentLoad&period=day&periods=4`);
  await settle(page);
  await shot(page, "retention");

  await page.selectOption("select[aria-label='Cohort kind']", "recurring");
  await page.waitForURL(/rkind=recurring/);
  await settle(page);
  assert.ok(await rows.count() >= 1);
  clean(problems);
  await context.close();
});

test("compare tabs show the funnel and order metrics per LOB", async () => {
  const { context, page, problems } = await watchedPage(browser, server);
  await signIn(page, server);
  await page.goto(`${server.http}/compare?tab=funnel&from=now-7d&actor=order.id&step=Order%20Received&step=Approve&window=1209600`);
  await settle(page);
  assert.ok(await page.locator("section .chart-box").count() >= 2, "one chart per LOB");
  await shot(page, "compare-funnel");
  await page.click("#tab-by-lob");
  await page.waitForURL(/tab=by-lob/);
  await settle(page);
  const table = page.locator("table", { has: page.locator("caption", { hasText: "Order metrics by line of business" }) });
  // The tab draws after its two funnel requests; wait for the rows, not a fixed time.
  await table.locator("tbody tr").nth(1).waitFor({ timeout: 15_000 });
  assert.ok(await table.locator("tbody tr").count() >= 2);
  await shot(page, "compare-by-lob");
  clean(problems);
  await context.close();
});

test("a funnel chart saved to a dashboard draws there", async () => {
  const { context, page, problems } = await watchedPage(browser, server);
  await signIn(page, server);
  await page.goto(`${server.http}${FUNNEL}&step=Approve&breakdown=lob`);
  await settle(page);
  const stepsCard = page.locator("section", { has: page.locator("h2", { hasText: "Actors per step" }) });
  await stepsCard.locator("button", { hasText: "Save to dashboard" }).click();
  await page.fill("input[placeholder='Name of the new dashboard']", "Order funnel");
  await page.click("dialog button[type='submit']");
  await page.waitForSelector("text=Saved “Actors per step”");

  const items = await page.evaluate(async () => (await fetch("/api/workspaces")).json());
  const list = Array.isArray(items) ? items : items.items;
  const dashboard = list.find((item) => item.kind === "dashboard" && item.name === "Order funnel");
  assert.ok(dashboard, "the dashboard was created");
  assert.equal(dashboard.body.panels[0].analysis.page, "funnels");
  await page.goto(`${server.http}/workspaces?dashboard=${encodeURIComponent(dashboard.id)}`);
  await settle(page);
  const panel = page.locator("section[aria-label='Actors per step']");
  await panel.locator("canvas").waitFor();
  assert.equal(await panel.locator(".error-box").count(), 0);
  await shot(page, "dashboard");
  clean(problems);
  await context.close();
});

test("funnel with saved action and filter-bar filter", async () => {
  const { context, page, problems } = await watchedPage(browser, server);
  await signIn(page, server);
  await page.goto(`${server.http}/funnels?from=now-7d&actor=order.id&step=Order%20Received&window=1209600`);
  await settle(page);
  const created = await postJson("/api/workspaces", { kind: "action", name: "Approved order", shared: true, body: { event: { span_name: "Approve" } } });
  assert.equal(created.status, 201);

  // The reference: the same funnel with the span name, split by LOB, straight from the API.
  const referenceReply = await postJson("/api/funnels", {
    actor: "order.id", steps: [{ span_name: "Order Received" }, { span_name: "Approve" }], window_seconds: 1209600,
    from: Date.now() - 7 * 86_400_000, to: Date.now(), breakdown: "lob", breakdown_limit: 50,
  });
  assert.equal(referenceReply.status, 200);
  const reference = await referenceReply.json();
  assert.ok(reference.total.steps[1].actors > 0, "some orders reached Approve");

  // The saved action appears among the step suggestions once the library loads.
  await page.reload();
  await settle(page);
  await page.locator("#funnel-span-names option[value='action:Approved order']").waitFor({ state: "attached" });
  await page.fill("input[aria-label='New step event']", "action:Approved order");
  await page.click("text=Add step");
  await page.waitForURL(/step=action%3AApproved/);
  await settle(page);
  const stepsTable = page.locator("table", { has: page.locator("caption", { hasText: "Funnel steps" }) });
  await stepsTable.locator("td", { hasText: "2. Approved order" }).waitFor();
  assert.equal(await kpiNumber(page, "Entered"), reference.total.steps[0].actors);
  assert.equal(await kpiNumber(page, "Converted"), reference.total.steps[1].actors);
  await shot(page, "saved-action-step");

  // A filter from the filter bar: only one line of business.
  // The line of business with the most approvals, so the filtered charts have bars to show.
  const chosen = [...reference.series].sort((a, b) => b.steps[1].actors - a.steps[1].actors)[0];
  const lob = chosen.breakdown;
  await page.fill("input[aria-label='Add a filter']", `Lob=${lob}`);
  await page.press("input[aria-label='Add a filter']", "Enter");
  await page.waitForURL(/filter=Lob%3D/);
  await settle(page);
  await page.waitForFunction((expected) => {
    const tile = [...document.querySelectorAll(".kpi")].find((item) => item.querySelector(".kpi-label")?.textContent === "Entered");
    return tile && Number(tile.querySelector(".kpi-value").textContent.replace(/[^0-9.]/g, "")) === expected;
  }, chosen.steps[0].actors, { timeout: 15_000 });
  assert.equal(await kpiNumber(page, "Converted"), chosen.steps[1].actors);
  assert.ok(chosen.steps[0].actors < reference.total.steps[0].actors, "the filter leaves orders out");
  await page.locator("input[aria-label='Add a filter']").blur();
  await shot(page, "filtered");

  // Compare › Funnel keeps the filter: one column, the filtered LOB.
  const filter = `filter=${encodeURIComponent(`Lob=${lob}`)}`;
  await page.goto(`${server.http}/compare?tab=funnel&from=now-7d&actor=order.id&step=Order%20Received&step=action%3AApproved%20order&window=1209600&${filter}`);
  await settle(page);
  const matrix = page.locator("table", { has: page.locator("caption", { hasText: "Actors and conversion from the first step" }) });
  await matrix.waitFor();
  assert.deepEqual((await matrix.locator("thead th").allTextContents()).map((text) => text.trim()), ["Step", lob]);
  await shot(page, "compare-funnel-filtered");

  // Compare › By LOB keeps it too: one row.
  await page.goto(`${server.http}/compare?tab=by-lob&from=now-7d&${filter}`);
  await settle(page);
  const table = page.locator("table", { has: page.locator("caption", { hasText: "Order metrics by line of business" }) });
  await table.locator("tbody tr").first().waitFor({ timeout: 15_000 });
  assert.equal(await table.locator("tbody tr").count(), 1);
  assert.equal((await table.locator("tbody tr td").first().textContent()).trim(), lob);
  await shot(page, "compare-by-lob-filtered");
  clean(problems);
  await context.close();
});
