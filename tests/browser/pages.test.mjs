// Every page of the web app in headless Chromium, through the real binary with known data:
// sign in, visit each page in light and dark mode (screenshots of each), check shown numbers
// against SQL, use the time picker and filters and reload, run and save a query, sign out.
// Each test fails on a console error or a request that leaves the host.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";

import {
  launchBrowser, screenshotFolder, seed, settle, signIn, sql, startServer, watchedPage,
} from "./harness.mjs";

const PAGES = [
  ["overview", "/"],
  ["events", "/events"],
  ["events-logs", "/events?source=logs"],
  ["errors", "/errors"],
  ["funnels-empty", "/funnels"],
  ["retention", "/retention"],
  ["engineering", "/engineering"],
  ["visitor", "/visitor?user=operator1%40example.com"],
  ["query", "/query"],
  ["workspaces", "/workspaces"],
  ["docs", "/docs"],
  ["getting-started", "/getting-started"],
  ["architecture", "/architecture"],
];

let server;
let browser;
let data;
const folder = screenshotFolder();

before(async () => {
  server = await startServer();
  data = await seed(server);
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

for (const theme of ["light", "dark"]) {
  test(`every page renders in ${theme} mode`, async () => {
    const { context, page, problems } = await watchedPage(browser, server, { colorScheme: theme });
    await signIn(page, server);
    for (const [name, path] of PAGES) {
      await page.goto(`${server.http}${path}`);
      await settle(page);
      const dark = await page.evaluate(() => document.documentElement.classList.contains("dark"));
      assert.equal(dark, theme === "dark", `${name}: page follows the system's ${theme} scheme`);
      const heading = await page.locator("main h1").first().textContent();
      assert.ok(heading && heading.trim().length > 0, `${name} has a heading`);
      const errors = await page.locator(".error-box:visible").allTextContents();
      assert.deepEqual(errors, [], `${name} shows no error`);
      await page.screenshot({ path: join(folder, `${theme}-${name}.png`), fullPage: true });
    }
    clean(problems);
    await context.close();
  });
}

// Reads the exact number behind a KPI tile of the overview.
async function kpi(page, label) {
  const tile = page.locator(".kpi").filter({ has: page.locator(".kpi-label", { hasText: new RegExp(`^${label}$`) }) });
  const title = await tile.locator(".kpi-value").getAttribute("title");
  return Number(title);
}

test("overview numbers equal SQL over the same data", async () => {
  const { context, page, problems } = await watchedPage(browser, server);
  await signIn(page, server);
  await page.goto(`${server.http}/`);
  await settle(page);
  const [[spans]] = await sql(server, "SELECT count(*) FROM otel_traces");
  const [[logs]] = await sql(server, "SELECT count(*) FROM otel_logs");
  const [[errors]] = await sql(server, "SELECT count(*) FROM errors");
  const [[traces]] = await sql(server, "SELECT count(*) FROM otel_traces WHERE ParentSpanId = ''");
  const [[orders]] = await sql(server, "SELECT count(DISTINCT OrderId) FROM otel_traces WHERE OrderId != ''");
  assert.equal(await kpi(page, "Spans"), Number(spans));
  assert.equal(await kpi(page, "Logs"), Number(logs));
  assert.equal(await kpi(page, "Errors"), Number(errors));
  assert.equal(await kpi(page, "Traces started"), Number(traces));
  // "Last 24 hours" starts between bucket boundaries, so its first bucket is partial.
  assert.equal(await page.locator(".volume-partial-note").count(), 1, "the partial bucket is explained");
  assert.equal(await kpi(page, "Orders"), Number(orders));
  assert.ok(Number(spans) > 0 && Number(errors) > 0, "the known data arrived");
  clean(problems);
  await context.close();
});

test("dark mode toggle is kept across reloads", async () => {
  const { context, page, problems } = await watchedPage(browser, server, { colorScheme: "light" });
  await signIn(page, server);
  await settle(page);
  const toggle = page.locator("button[aria-label^='Theme:']");
  for (let i = 0; i < 3 && !(await page.evaluate(() => document.documentElement.classList.contains("dark"))); i += 1) {
    await toggle.click();
  }
  assert.ok(await page.evaluate(() => document.documentElement.classList.contains("dark")), "toggle reaches dark");
  await page.reload();
  await settle(page);
  assert.ok(await page.evaluate(() => document.documentElement.classList.contains("dark")), "dark survives a reload");
  clean(problems);
  await context.close();
});

test("time range and filters live in the URL and survive a reload", async () => {
  const { context, page, problems } = await watchedPage(browser, server);
  await signIn(page, server);
  await page.goto(`${server.http}/`);
  await settle(page);
  await page.locator("button[title='Time range']").click();
  await page.getByRole("dialog", { name: "Choose time range" }).getByRole("button", { name: "Last 1 hour" }).click();
  await settle(page);
  assert.match(page.url(), /from=now-1h/);

  const input = page.getByRole("combobox", { name: "Add a filter" });
  await input.fill("Lob=Title");
  await input.press("Enter");
  await settle(page);
  assert.ok(new URL(page.url()).searchParams.getAll("filter").includes("Lob=Title"), page.url());
  const [[titleSpans]] = await sql(server, "SELECT count(*) FROM otel_traces WHERE Lob = 'Title'");
  assert.equal(await kpi(page, "Spans"), Number(titleSpans), "the filter narrows the numbers");

  const url = page.url();
  await page.reload();
  await settle(page);
  assert.equal(page.url(), url);
  assert.equal(await page.locator(".chip .chip-value", { hasText: "Title" }).count(), 1, "the chip is back");
  assert.equal(await kpi(page, "Spans"), Number(titleSpans), "same numbers after the reload");

  // The same link opened in a fresh browser shows the same view.
  const fresh = await watchedPage(browser, server);
  await signIn(fresh.page, server);
  await fresh.page.goto(url);
  await settle(fresh.page);
  assert.equal(await kpi(fresh.page, "Spans"), Number(titleSpans));
  clean(fresh.problems);
  await fresh.context.close();
  clean(problems);
  await context.close();
});

test("invalid time range shows a notice", async () => {
  const { context, page, problems } = await watchedPage(browser, server);
  await signIn(page, server);
  const cases = [
    ["from=2026-12-05T00:00:00Z&to=2026-12-01T00:00:00Z", "from 2026-12-05T00:00:00Z is not before to 2026-12-01T00:00:00Z"],
    ["from=garbage&filter=Lob%3DTitle", "from “garbage” is not a time"],
  ];
  for (const [query, problem] of cases) {
    await page.goto(`${server.http}/?${query}`);
    await settle(page);
    const notice = page.locator(".toast", { hasText: "Invalid time range" });
    await notice.waitFor();
    assert.equal(await notice.textContent(), `Invalid time range in the URL: ${problem}. Showing the last 24 hours instead.`);
    const search = new URL(page.url()).searchParams;
    assert.equal(search.get("from"), null, `from is gone: ${page.url()}`);
    assert.equal(search.get("to"), null, `to is gone: ${page.url()}`);
    assert.equal(await page.locator("button[title='Time range']").textContent(), "Last 24 hours");
    await page.screenshot({ path: join(folder, "invalid-range.png") });
  }
  assert.deepEqual(new URL(page.url()).searchParams.getAll("filter"), ["Lob=Title"], "other parameters stay");
  clean(problems);
  await context.close();
});

test("events search and rows answer Enter", async () => {
  const { context, page, problems } = await watchedPage(browser, server);
  await signIn(page, server);
  await page.goto(`${server.http}/events`);
  await settle(page);
  const search = page.getByRole("searchbox", { name: "Search text" });
  await search.fill("order");
  await search.press("Enter");
  await page.waitForURL(/[?&]q=order/);
  await settle(page);
  const row = page.locator("tbody tr.row-link").first();
  await row.focus();
  await page.keyboard.press("Enter");
  await page.getByRole("dialog").first().waitFor();
  assert.ok(await page.getByRole("dialog").first().isVisible(), "the record panel stays open");
  clean(problems);
  await context.close();
});

test("the filter bar completes a typed value to a stored one", async () => {
  const { context, page, problems } = await watchedPage(browser, server);
  await signIn(page, server);
  await page.goto(`${server.http}/events`);
  await settle(page);
  const input = page.getByRole("combobox", { name: "Add a filter" });
  await input.fill("ServiceName=order-a");
  await page.getByRole("option", { name: /^order-api/ }).waitFor();
  await input.press("Enter");
  await settle(page);
  assert.deepEqual(new URL(page.url()).searchParams.getAll("filter"), ["ServiceName=order-api"], page.url());
  clean(problems);
  await context.close();
});

test("query studio runs a query and saves it to a workspace", async () => {
  const { context, page, problems } = await watchedPage(browser, server);
  await signIn(page, server);
  await page.goto(`${server.http}/query`);
  await settle(page);
  // The example the editor opens with runs as it is.
  const [example] = await Promise.all([
    page.waitForResponse((response) => response.url().endsWith("/api/sql")),
    page.getByRole("button", { name: /^Run/ }).first().click(),
  ]);
  assert.equal(example.status(), 200, `the example query runs: ${await example.text()}`);
  await settle(page);
  assert.ok(!(await page.locator("main").textContent()).includes("query failed"), "no error is shown");
  const editor = page.locator(".cm-content");
  await editor.click();
  await page.keyboard.press("ControlOrMeta+a");
  await page.keyboard.type("SELECT ServiceName, count(*) AS spans FROM otel_traces GROUP BY ServiceName ORDER BY spans DESC");
  await page.keyboard.press("ControlOrMeta+Enter");
  await page.waitForResponse((response) => response.url().endsWith("/api/sql"));
  await settle(page);
  const shown = await page.locator("main").textContent();
  for (const service of ["order-api", "document-service", "ops-web"]) {
    assert.ok(shown.includes(service), `results list ${service}`);
  }
  page.once("dialog", (dialog) => dialog.accept("Spans per service"));
  await page.getByRole("button", { name: /^Save/ }).first().click();
  const nameInput = page.getByLabel(/name/i).first();
  if (await nameInput.isVisible().catch(() => false)) {
    await nameInput.fill("Spans per service");
    await page.getByRole("button", { name: /^Save/ }).last().click();
  }
  await page.waitForResponse((response) => response.url().endsWith("/api/workspaces") && response.request().method() === "POST");
  await page.goto(`${server.http}/workspaces`);
  await settle(page);
  const listed = await page.locator("main").textContent();
  assert.ok(listed.includes("Spans per service"), "the saved query is listed");
  // Saved just now: the list shows this month, not January 1970.
  const month = await page.evaluate(() => new Date().toLocaleString("en-GB", { month: "short" }));
  assert.ok(listed.includes(month), `the update time is in ${month}`);
  clean(problems);
  await context.close();
});

test("signing out ends the session", async () => {
  const { context, page, problems } = await watchedPage(browser, server);
  await signIn(page, server);
  await settle(page);
  const cookies = await context.cookies();
  assert.ok(cookies.some((cookie) => cookie.name === "exos_session" && cookie.httpOnly && cookie.sameSite === "Lax"));
  await page.getByRole("button", { name: /admin|account|user/i }).first().click();
  await Promise.all([page.waitForURL(/\/login/), page.getByRole("menuitem", { name: /sign out|log out/i }).or(page.getByRole("button", { name: /sign out|log out/i })).first().click()]);
  await page.goto(`${server.http}/events`);
  await page.waitForURL(/\/login\?next=/);
  clean(problems);
  await context.close();
});

test("pages can be reached with the keyboard alone", async () => {
  const { context, page, problems } = await watchedPage(browser, server);
  await signIn(page, server);
  await settle(page);
  await page.keyboard.press("Tab");
  const first = await page.evaluate(() => document.activeElement?.textContent?.trim());
  assert.match(first || "", /skip/i, "the first Tab stop is the skip link");
  // Every button and input in the shell has an accessible name.
  const unnamed = await page.evaluate(() => [...document.querySelectorAll("button, input, select, textarea")]
    .filter((el) => el.offsetParent !== null)
    .filter((el) => !(el.getAttribute("aria-label") || el.labels?.length || el.textContent.trim() || el.title || el.getAttribute("aria-labelledby") || el.placeholder))
    .map((el) => el.outerHTML.slice(0, 120)));
  assert.deepEqual(unnamed, []);
  clean(problems);
  await context.close();
});

