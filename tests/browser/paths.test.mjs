// The Paths, Analytics and Compare › Sequences pages in headless Chromium, through the real
// binary with the known data of harness.mjs (12 orders, each with order-api and
// document-service spans): build a path and drill into a node's actors, draw a trend with a
// breakdown, the lifecycle view, save an action, and compare sequences by LOB. Screenshots
// go to the screenshot folder; each test fails on a console error or a request leaving the host.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";

import { launchBrowser, screenshotFolder, seed, settle, signIn, sql, startServer, watchedPage } from "./harness.mjs";

let server;
let browser;
const folder = screenshotFolder();

const attr = (key, value) => ({ key, value: { stringValue: value } });

// Users with paths of their own, beside the known data. Most take the common path Open → Main.
// Each of many single users takes a branch Open → Branch n, which gives small neighbouring
// nodes in one column. A few have Peek as their only event, a path the Sankey cannot draw.
const WALKERS = 60;
const BRANCHES = 30;
const LONELY = 7;

function walkers(now = Date.now()) {
  const spans = [];
  const add = (user, name, at) => spans.push({
    traceId: (0xa11ce000 + spans.length).toString(16).padStart(32, "0"), spanId: (0x9000 + spans.length).toString(16).padStart(16, "0"),
    name, kind: 1, startTimeUnixNano: `${BigInt(at) * 1_000_000n}`, endTimeUnixNano: `${BigInt(at + 5) * 1_000_000n}`,
    attributes: [attr("user.id", user)], status: { code: 0 },
  });
  const start = now - 20 * 60_000;
  for (let i = 0; i < WALKERS; i += 1) {
    add(`walker-${i}`, "Open", start + i * 1000);
    add(`walker-${i}`, "Main", start + i * 1000 + 500);
  }
  for (let i = 0; i < BRANCHES; i += 1) {
    add(`rare-${i}`, "Open", start + i * 1000);
    add(`rare-${i}`, `Branch ${i}`, start + i * 1000 + 500);
  }
  for (let i = 0; i < LONELY; i += 1) add(`lonely-${i}`, "Peek", start + i * 1000);
  return { resourceSpans: [{ resource: { attributes: [attr("service.name", "walk-web")] }, scopeSpans: [{ scope: { name: "walk" }, spans }] }] };
}

before(async () => {
  server = await startServer();
  await seed(server);
  const response = await fetch(`${server.otlpHttp}/v1/traces`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: server.ingestKey },
    body: JSON.stringify(walkers()),
  });
  if (!response.ok) throw new Error(`/v1/traces failed with ${response.status}: ${await response.text()}`);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function open(path) {
  const { context, page, problems } = await watchedPage(browser, server);
  await signIn(page, server);
  await page.goto(`${server.http}${path}`);
  await settle(page);
  return { context, page, problems };
}

test("a path of orders, drilled into a node's actors", async () => {
  const { context, page, problems } = await open("/paths?actor=OrderId&from=now-1h&depth=4");
  const orders = Number((await sql(server, "SELECT count(DISTINCT OrderId) FROM otel_traces WHERE OrderId != ''"))[0][0]);
  const summary = await page.locator("text=/actors\\b.*Click a node/").first().textContent();
  assert.match(summary, new RegExp(`^${orders} actors`), summary);
  const nodes = await page.locator("svg.paths-sankey .sankey-node").count();
  assert.ok(nodes >= 4, `the Sankey has ${nodes} nodes`);
  assert.ok(await page.locator("svg.paths-sankey .sankey-link").count() >= 3);
  await page.screenshot({ path: join(folder, "paths-sankey.png"), fullPage: true });

  await page.locator("svg.paths-sankey .sankey-node rect").first().click();
  const panel = page.locator(".side-panel");
  await panel.locator("table tbody tr").first().waitFor();
  const rows = await panel.locator("table tbody tr").count();
  assert.ok(rows >= 1, "the node lists its orders");
  const link = await panel.locator("a.btn").first().getAttribute("href");
  assert.match(link, /^\/events\?filter=OrderId%3DORD-2026-/);
  await page.screenshot({ path: join(folder, "paths-drill.png"), fullPage: true });
  assert.deepEqual(problems, [], problems.join("\n"));
  await context.close();
});

test("paths header counts undrawn single events", async () => {
  const { context, page, problems } = await open("/paths?actor=UserId&from=now-1h&depth=3");
  const users = Number((await sql(server, "SELECT count(DISTINCT UserId) FROM otel_traces WHERE UserId != ''"))[0][0]);
  const summary = await page.locator("text=/actors\\b.*Click a node/").first().textContent();
  assert.equal(summary, `${users} actors; ${LONELY} with a single event are not drawn. Click a node or link to list its actors.`);
  assert.deepEqual(problems, [], problems.join("\n"));
  await context.close();
});

test("paths labels do not overlap", async () => {
  const { context, page, problems } = await open("/paths?actor=UserId&from=now-1h&depth=3");
  const nodes = await page.locator("svg.paths-sankey .sankey-node").evaluateAll((groups) => groups.map((group) => {
    const rect = group.querySelector("rect");
    const text = group.querySelector("text");
    const box = text?.getBBox();
    return {
      x: Number(rect.getAttribute("x")), title: group.querySelector("title").textContent, label: group.getAttribute("aria-label"),
      text: box ? { top: box.y, bottom: box.y + box.height } : null,
    };
  }));
  const branches = nodes.filter((node) => node.title.includes("Branch"));
  assert.equal(branches.length, BRANCHES, "every branch is drawn");
  assert.ok(branches.some((node) => !node.text), "some crowded labels are hidden");
  for (const node of branches) assert.match(node.label, /Branch \d+: 1$/, "a hidden label stays in the aria-label");
  for (const [i, a] of nodes.entries()) {
    for (const b of nodes.slice(i + 1)) {
      if (a.x !== b.x || !a.text || !b.text) continue;
      assert.ok(a.text.bottom <= b.text.top || b.text.bottom <= a.text.top, `labels overlap: ${a.title} / ${b.title}`);
    }
  }
  await page.screenshot({ path: join(folder, "paths-crowded.png"), fullPage: true });
  assert.deepEqual(problems, [], problems.join("\n"));
  await context.close();
});

test("a trend broken down by LOB, and the lifecycle view", async () => {
  const series = encodeURIComponent("POST /orders/{id}/steps|total");
  const { context, page, problems } = await open(`/analytics?series=${series}&breakdown=Lob&interval=hour&from=now-1h`);
  assert.equal(await page.locator("canvas").count(), 1, "one trend chart");
  const labels = await page.locator("table tbody tr td:first-child").allTextContents();
  assert.deepEqual(labels.map((text) => text.split(" · ")[1]).sort(), ["Appraisal", "Flood", "Title"]);
  const sums = (await page.locator("table tbody tr td:nth-child(2)").allTextContents()).map(Number);
  assert.equal(sums.reduce((a, b) => a + b, 0), 24, "24 order-api step spans in all");
  await page.screenshot({ path: join(folder, "analytics-trend.png"), fullPage: true });

  // Unique actors per bucket do not add up over the range, so no sum is shown for them.
  const unique = encodeURIComponent("POST /orders/{id}/steps|unique_actors");
  await page.goto(`${server.http}/analytics?series=${unique}&interval=hour&from=now-1h`);
  await settle(page);
  assert.equal((await page.locator("table tbody tr td:nth-child(2)").first().textContent()).trim(), "—");

  await page.goto(`${server.http}/analytics?view=lifecycle&actor=OrderId&series=${series}&interval=hour&from=now-1h`);
  await settle(page);
  assert.equal(await page.locator("canvas").count(), 1, "one lifecycle chart");
  await page.screenshot({ path: join(folder, "analytics-lifecycle.png"), fullPage: true });
  assert.deepEqual(problems, [], problems.join("\n"));
  await context.close();
});

test("the filter bar narrows paths and trends", async () => {
  const lob = "Title";
  const filter = encodeURIComponent(`Lob=${lob}`);
  const { context, page, problems } = await open(`/paths?actor=OrderId&from=now-1h&depth=4&filter=${filter}`);
  const orders = Number((await sql(server, `SELECT count(DISTINCT OrderId) FROM otel_traces WHERE OrderId != '' AND Lob = '${lob}'`))[0][0]);
  assert.ok(orders > 0, `some orders of ${lob}`);
  const summary = await page.locator("text=/actors\\b.*Click a node/").first().textContent();
  assert.match(summary, new RegExp(`^${orders} actors`), summary);
  assert.equal(await page.locator(".chip-value").first().textContent(), lob, "the filter shows in the bar");
  await page.screenshot({ path: join(folder, "paths-filtered.png"), fullPage: true });

  const series = encodeURIComponent("POST /orders/{id}/steps|total");
  await page.goto(`${server.http}/analytics?series=${series}&breakdown=Lob&interval=hour&from=now-1h&filter=${filter}`);
  await settle(page);
  const labels = await page.locator("table tbody tr td:first-child").allTextContents();
  assert.deepEqual(labels.map((text) => text.split(" · ")[1]), [lob]);
  const total = (await page.locator("table tbody tr td:nth-child(2)").allTextContents()).map(Number).reduce((a, b) => a + b, 0);
  const expected = Number((await sql(server, `SELECT count(*) FROM otel_traces WHERE SpanName = 'POST /orders/{id}/steps' AND Lob = '${lob}'`))[0][0]);
  assert.equal(total, expected);
  assert.deepEqual(problems, [], problems.join("\n"));
  await context.close();
});

test("an action saved from the library view, and sequences compared by LOB", async () => {
  const { context, page, problems } = await open("/analytics?view=library");
  await page.fill("input[placeholder='Approved']", "Order step");
  await page.fill("input[placeholder='span name, e.g. Approve']", "POST /orders/{id}/steps");
  await page.click("text=Save action");
  await page.locator("td", { hasText: "Order step" }).waitFor();
  await page.screenshot({ path: join(folder, "analytics-library.png"), fullPage: true });

  await page.goto(`${server.http}/compare?tab=sequences&from=now-1h`);
  await settle(page);
  const columns = await page.locator("section.card h2", { hasText: "actors" }).allTextContents();
  assert.deepEqual(columns.map((text) => text.split(" · ")[0]).sort(), ["Appraisal", "Flood", "Title"]);
  // Orders read business steps by default: the known data's only root spans are
  // POST /orders/{id}/steps, so their GET /documents/{id} descendants are not listed.
  assert.equal(await page.getByLabel("Spans read").inputValue(), "business");
  const business = await page.locator("section.card").allTextContents();
  assert.doesNotMatch(business.join("\n"), /\/documents\//);
  await page.getByLabel("Spans read").selectOption("all");
  await page.waitForURL(/steps=all/);
  await settle(page);
  const sequences = await page.locator("section.card ol li").count();
  assert.ok(sequences >= 3, `each LOB lists its sequences (${sequences} in all)`);
  const all = await page.locator("section.card ol li").allTextContents();
  assert.match(all.join("\n"), /GET \/documents\//, "all spans include the HTTP descendants");
  await page.screenshot({ path: join(folder, "compare-sequences.png"), fullPage: true });
  assert.deepEqual(problems, [], problems.join("\n"));
  await context.close();
});
