// The Processes page and the Compare page's process tabs in headless Chromium, over data
// from `exos simulate`. The map matches the API and the sliders thin it. A selected variant
// is highlighted, discovery draws a model and conformance streams to a result. An order's
// trace opens with links to its spans, and the map saves to a dashboard that draws it again.
// Screenshots go to the screenshot folder. Each test fails on a console error or a
// request that leaves the host.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";

import { EXOS_BIN, launchBrowser, screenshotFolder, settle, signIn, startServer, watchedPage } from "./harness.mjs";

const END = "2026-03-01T00:00:00Z";
const RANGE = "from=2026-02-20T00:00:00Z&to=2026-03-02T00:00:00Z";
const SCOPE = { from: String(Date.parse("2026-02-20T00:00:00Z")), to: String(Date.parse("2026-03-02T00:00:00Z")), filters: {} };

let server;
let browser;
const folder = screenshotFolder();

async function ask(route, body) {
  const response = await fetch(`${server.http}/api/process/${route}`, {
    method: "POST",
    headers: { authorization: `Basic ${Buffer.from(`admin:${server.password}`).toString("base64")}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(`${route}: ${JSON.stringify(answer)}`);
  return answer;
}

before(async () => {
  server = await startServer();
  const simulate = spawnSync(EXOS_BIN, [
    "simulate", "--url", server.otlpHttp, "--key", server.ingestKey,
    "--orders", "200", "--days", "7", "--seed", "7", "--end", END,
  ], { encoding: "utf8", timeout: 120_000 });
  assert.equal(simulate.status, 0, `exos simulate failed: ${simulate.stderr?.slice(-2000)}`);
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
  await page.screenshot({ path: join(folder, `processes-${name}.png`), fullPage: false });
}

// Moves a range slider to `value` the way a user's release does: input, then change.
async function slide(page, selector, value) {
  await page.locator(selector).evaluate((input, next) => {
    input.value = String(next);
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }, value);
}

test("process map, sliders, variants, discovery, conformance and an order trace", async () => {
  const { context, page, problems } = await watchedPage(browser, server);
  await signIn(page, server);
  const full = await ask("map", { scope: SCOPE });
  assert.ok(full.nodes.length >= 10, `the simulated orders have ${full.nodes.length} activities`);

  await page.goto(`${server.http}/processes?${RANGE}`);
  await settle(page);
  assert.equal(await page.locator(".process-map g.pm-node[role='button']").count(), full.nodes.length);
  assert.equal(await page.locator(".process-map g.pm-edge").count(), full.edges.length + full.nodes.filter((n) => n.starts).length + full.nodes.filter((n) => n.ends).length);
  const summary = await page.locator(".process-map-summary").textContent();
  assert.match(summary, new RegExp(`${full.cases.toLocaleString("en-US")} cases`));
  const cases = await ask("cases", { scope: SCOPE });
  assert.ok(cases.end_activities.length > 0, "the simulated orders end at Close or Cancel");
  const note = await page.locator(".process-throughput-note").textContent();
  for (const name of cases.end_activities.slice(0, 4)) assert.ok(note.includes(name), `${name} is named in: ${note}`);
  await shot(page, "map");

  await slide(page, "#process-acts", 50);
  await page.waitForURL(/acts=50/);
  await settle(page);
  const half = Math.ceil(full.total_activities / 2);
  assert.equal(await page.locator(".process-map g.pm-node[role='button']").count(), half);
  await slide(page, "#process-paths", 10);
  await page.waitForURL(/paths=10/);
  await settle(page);
  const thin = await ask("map", { scope: SCOPE, activity_share: 0.5, path_share: 0.1 });
  assert.equal(await page.locator(".process-map g.pm-edge").count(),
    thin.edges.length + thin.nodes.filter((n) => n.starts).length + thin.nodes.filter((n) => n.ends).length);
  await shot(page, "sliders");

  await slide(page, "#process-acts", 100);
  await slide(page, "#process-paths", 100);
  await settle(page);
  // The most frequent variants of a short window can be single steps (orders just received).
  const variants = await ask("variants", { scope: SCOPE, limit: 30 });
  const chosen = variants.variants.find((variant) => variant.activities.length >= 3);
  await page.locator(`.variant-row[data-rank='${chosen.rank}']`).click();
  await page.waitForURL(new RegExp(`variant=${chosen.rank + 1}(&|$)`));
  await settle(page);
  assert.match(await page.locator(".process-map-summary").textContent(), new RegExp(`variant ${chosen.rank + 1} highlighted`));
  const steps = chosen.activities;
  const key = `${steps[0]}→${steps[1]}`;
  const stroke = await page.locator(`.process-map g.pm-edge[data-edge="${key}"] path`).getAttribute("stroke");
  assert.equal(stroke, "#E8833A", `${key} is drawn in the highlight colour`);
  await shot(page, "variant");

  await page.locator("button[data-option='performance']").click();
  await page.waitForURL(/measure=performance/);
  await settle(page);
  await shot(page, "performance");

  await page.locator("#run-discovery").click();
  await page.waitForURL(/discover=1/);
  await page.locator(".discovery-diagram svg").waitFor({ timeout: 30_000 });
  await page.locator("#process-discovery-title").scrollIntoViewIfNeeded();
  await shot(page, "discovery-tree");
  await page.locator("button[data-option='petri']").click();
  await page.waitForURL(/model=petri/);
  await page.locator(".discovery-diagram svg").waitFor({ timeout: 30_000 });
  await page.locator("#process-discovery-title").scrollIntoViewIfNeeded();
  await shot(page, "discovery-petri");

  await page.locator("#run-conformance").click();
  await page.locator(".conformance-result").waitFor({ timeout: 90_000 });
  const figures = await page.locator(".conformance-result dd").allTextContents();
  assert.equal(figures.length, 4);
  await page.locator("#process-conformance-title").scrollIntoViewIfNeeded();
  await shot(page, "conformance");

  const order = chosen.example_cases[0];
  await page.fill("input[aria-label='Order id']", order);
  await page.locator("form button[type='submit']", { hasText: "Open order" }).click();
  await page.locator(".side-panel .case-timeline").waitFor({ timeout: 30_000 });
  const links = await page.locator(".side-panel a.case-trace-link").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
  assert.equal(links.length, steps.length);
  assert.ok(links.every((href) => /^\/engineering\?.*trace=[0-9a-f]{32}/.test(href)), links.join(" "));
  await shot(page, "order-trace");
  await page.locator(".side-panel a.case-trace-link").first().click();
  await page.waitForURL(/\/engineering\?.*trace=/);
  await settle(page);

  clean(problems);
  await context.close();
});

test("compare tabs: bottlenecks per LOB and order traces", async () => {
  const { context, page, problems } = await watchedPage(browser, server);
  await signIn(page, server);
  await page.goto(`${server.http}/compare?tab=bottlenecks&${RANGE}`);
  await settle(page);
  const columns = await page.locator(".compare-bottlenecks > section").count();
  const rework = await ask("rework", { scope: SCOPE, min_cases: 1 });
  await shot(page, "compare-bottlenecks");
  assert.equal(columns, 1 + Math.min(5, rework.groups.filter((g) => g.name).length));
  for (let index = 0; index < columns; index += 1) {
    const column = page.locator(".compare-bottlenecks > section").nth(index);
    assert.ok(await column.locator(".bottleneck-edge").count() >= 1, `column ${index + 1} lists waiting edges`);
  }

  await page.goto(`${server.http}/compare?tab=orders&${RANGE}`);
  await settle(page);
  const example = page.locator(".order-example").nth(2);
  const order = await example.textContent();
  await example.click();
  await page.waitForURL(/order=/);
  await settle(page);
  await page.locator(".case-timeline").waitFor();
  await shot(page, "compare-orders");
  const trace = await ask(`case/${order}`, { scope: SCOPE });
  assert.equal(await page.locator("a.case-trace-link").count(), trace.events.length);
  assert.equal(await page.locator(".case-timeline tbody tr").first().locator("td").first().textContent(), trace.events[0].activity);
  clean(problems);
  await context.close();
});

test("the process map saves to a dashboard and draws there", async () => {
  const { context, page, problems } = await watchedPage(browser, server);
  await signIn(page, server);
  await page.goto(`${server.http}/processes?${RANGE}`);
  await settle(page);
  await page.locator("#process-map-title").locator("xpath=..").getByRole("button", { name: "Save to dashboard" }).click();
  await page.locator("dialog select").selectOption("");
  await page.locator("dialog input[placeholder='Name of the new dashboard']").fill("Order flow");
  await page.locator("dialog button[type='submit']").click();
  await page.locator(".toast", { hasText: "Saved" }).waitFor();
  const items = await (await fetch(`${server.http}/api/workspaces`, {
    headers: { authorization: `Basic ${Buffer.from(`admin:${server.password}`).toString("base64")}` },
  })).json();
  const dashboard = (Array.isArray(items) ? items : items.items).find((item) => item.name === "Order flow");
  assert.ok(dashboard, "the dashboard was created");
  assert.equal(dashboard.body.panels[0].analysis.page, "processes");
  await page.goto(`${server.http}/workspaces?dashboard=${dashboard.id}&${RANGE}`);
  await settle(page);
  await page.locator(".process-map g.pm-node").first().waitFor({ timeout: 30_000 });
  await shot(page, "dashboard");
  clean(problems);
  await context.close();
});
