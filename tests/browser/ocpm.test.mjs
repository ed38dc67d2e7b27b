// The OCPM, Operators and Opportunities pages in headless Chromium, through the real binary
// filled by `exos simulate` (orders, operators, browser sessions of the last days): import a
// log file on the OCPM page and see its report and graphs, read the operator table and
// compare it with the API, and open the opportunity list with its evidence links.
// Screenshots in light and dark mode. Each test fails on a console error or a request
// that leaves the host.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

import { EXOS_BIN, launchBrowser, screenshotFolder, settle, signIn, startServer, watchedPage } from "./harness.mjs";

const run = promisify(execFile);
const LOGS = process.env.EXOS_EVENT_LOGS || resolve(import.meta.dirname, "../../../shared/data/event-logs");
const DAYS = 3;

let server;
let browser;
const folder = screenshotFolder();

before(async () => {
  server = await startServer();
  await run(EXOS_BIN, ["simulate", "--url", server.otlpHttp, "--key", server.ingestKey,
    "--orders", "120", "--days", String(DAYS), "--seed", "7", "--end", new Date().toISOString(),
    "--truth", join(mkdtempSync(join(tmpdir(), "exos-ocpm-")), "truth.json")], { timeout: 120_000 });
  browser = await launchBrowser();
  console.log(`screenshots: ${folder}`);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function apiGet(path) {
  const response = await fetch(`${server.http}${path}`, {
    headers: { authorization: `Basic ${Buffer.from(`admin:${server.password}`).toString("base64")}` },
  });
  const text = await response.text();
  assert.equal(response.status, 200, `${path}: ${text}`);
  return JSON.parse(text);
}

const RANGE = `from=now-${DAYS + 1}d`;

function clean(problems) {
  assert.deepEqual(problems, [], problems.join("\n"));
}

test("OCPM page imports a log, then shows its statistics and graph", async () => {
  const { context, page, problems } = await watchedPage(browser, server);
  await signIn(page, server);
  await page.goto(`${server.http}/ocpm?${RANGE}`);
  await settle(page);
  assert.ok(await page.locator("svg[aria-label^='Directly-follows graph']").count() > 0, "spans give a graph");
  await page.setInputFiles("input[type=file]", join(LOGS, "ocel20_example.jsonocel"));
  await page.fill("input[placeholder^='Name in the store']", "p2p");
  await page.click("button:has-text('Import')");
  await page.waitForURL(/log=p2p/);
  await settle(page);
  const kpis = await page.locator(".kpi-value").allTextContents();
  assert.deepEqual(kpis.slice(0, 2), ["13", "9"], "events and objects of the example log");
  await page.selectOption("select[aria-label='Object type']", "Purchase Order");
  await settle(page);
  assert.match(page.url(), /type=Purchase\+Order|type=Purchase%20Order/);
  await page.waitForSelector("svg[aria-label='Directly-follows graph of object type Purchase Order']");
  const statistics = await apiGet("/api/ocpm?log=p2p&type=Purchase%20Order");
  const rows = await page.locator("table[class='data-table'] >> nth=1").locator("tbody tr").count();
  assert.ok(rows >= 1, "lifecycle variants listed");
  assert.ok(statistics.object_types[0].edges.length >= 1);
  for (const theme of ["light", "dark"]) {
    await page.emulateMedia({ colorScheme: theme });
    await page.reload();
    await settle(page);
    await page.waitForSelector("svg[aria-label^='Directly-follows graph']");
    await page.screenshot({ path: join(folder, `${theme}-ocpm.png`), fullPage: true });
  }
  assert.deepEqual(await page.locator(".error-box:visible").allTextContents(), []);
  clean(problems);
  await context.close();
});

test("OCPM page over spans shows documents as an object type of their own", async () => {
  const { context, page, problems } = await watchedPage(browser, server);
  await signIn(page, server);
  await page.goto(`${server.http}/ocpm?${RANGE}&type=document.id`);
  await settle(page);
  await page.waitForSelector("svg[aria-label='Directly-follows graph of object type document.id']");
  const answer = await apiGet(`/api/ocpm?from=${Date.now() - (DAYS + 1) * 86_400_000}`);
  const perType = Object.fromEntries(answer.statistics.objects_per_type.map((c) => [c.name, c.count]));
  assert.deepEqual(Object.keys(perType).sort(), ["document.id", "operator.id", "order.id"]);
  const options = await page.locator("select[aria-label='Object type'] option").allTextContents();
  assert.ok(options.some((o) => o.startsWith("document.id (")), options.join(", "));
  const documents = answer.object_types.find((t) => t.object_type === "document.id");
  await page.screenshot({ path: join(folder, "light-ocpm-documents.png"), fullPage: true });
  // Mermaid writes node labels as HTML inside the SVG, so read its whole text.
  const shown = await page.locator("svg[aria-label='Directly-follows graph of object type document.id']").textContent();
  for (const activity of ["Review Documents", "Deliver Report"]) {
    assert.ok(documents.activities.some((a) => a.activity === activity), `${activity} touches documents`);
    assert.ok(shown.includes(activity), `${activity} drawn in the graph`);
  }
  assert.deepEqual(await page.locator(".error-box:visible").allTextContents(), []);
  clean(problems);
  await context.close();
});

test("Operators page lists every operator the API returns", async () => {
  const { context, page, problems } = await watchedPage(browser, server);
  await signIn(page, server);
  await page.goto(`${server.http}/operators?${RANGE}`);
  await settle(page);
  const shown = await page.locator("section:has(h2:text-is('Operators')) tbody tr").count();
  const range = await page.evaluate(() => ({ from: new URL(location.href).searchParams.get("from") }));
  assert.ok(range.from, "range in the URL");
  assert.ok(shown > 5, `${shown} operators shown`);
  const first = (await page.locator("section:has(h2:text-is('Operators')) tbody tr >> nth=0 >> td >> nth=0").textContent()).trim();
  await page.selectOption("select[aria-label='Sort by']", "cases");
  await settle(page);
  assert.match(page.url(), /sort=cases/);
  const afterSort = (await page.locator("section:has(h2:text-is('Operators')) tbody tr >> nth=0 >> td >> nth=0").textContent()).trim();
  assert.ok(first.length > 0 && afterSort.length > 0);
  assert.ok(await page.locator("canvas[aria-label^='Rework rate per operator']").count() === 1);
  assert.ok(await page.locator("canvas[aria-label='Steps per operator over time']").count() === 1);
  for (const theme of ["light", "dark"]) {
    await page.emulateMedia({ colorScheme: theme });
    await page.reload();
    await settle(page);
    await page.screenshot({ path: join(folder, `${theme}-operators.png`), fullPage: true });
  }
  assert.deepEqual(await page.locator(".error-box:visible").allTextContents(), []);
  clean(problems);
  await context.close();
});

test("Opportunities page ranks candidates with evidence links", async () => {
  const { context, page, problems } = await watchedPage(browser, server);
  await signIn(page, server);
  await page.goto(`${server.http}/opportunities?${RANGE}&min_count=5&max_cv=2&min_determinism=0.5&min_sessions=2`);
  await settle(page);
  const rows = page.locator("section:has(h2:text-is('Candidates with evidence')) tbody tr");
  assert.ok(await rows.count() > 0, "candidates listed");
  const links = await page.locator("section:has(h2:text-is('Candidates with evidence')) tbody a").evaluateAll((items) => items.map((a) => a.getAttribute("href")));
  assert.ok(links.some((href) => href.startsWith("/replay?session=") || href.startsWith("/engineering?trace=")), links.join(" "));
  for (const theme of ["light", "dark"]) {
    await page.emulateMedia({ colorScheme: theme });
    await page.reload();
    await settle(page);
    await page.screenshot({ path: join(folder, `${theme}-opportunities.png`), fullPage: true });
  }
  await page.goto(`${server.http}/opportunities?${RANGE}&min_count=abc`);
  await settle(page);
  assert.match(await page.locator(".error-box").first().textContent(), /min_count/);
  const errors = problems.filter((p) => !p.includes("400"));
  clean(errors);
  await context.close();
});
