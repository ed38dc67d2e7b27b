// The Visitor page in headless Chromium, through the real binary: a user with more sessions,
// orders and timeline entries than GET /api/visitor lists. Each list on the page must say
// that it is cut. The test fails on a console error or a request that leaves the host.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";

import { launchBrowser, screenshotFolder, settle, signIn, startServer, watchedPage } from "./harness.mjs";

const USER = "busy@example.com";
const SESSIONS = 55;
const ORDERS = 105;
const SPANS = 230;

let server;
let browser;
const folder = screenshotFolder();

const attr = (key, value) => ({ key, value: { stringValue: value } });
const hex = (n, width) => n.toString(16).padStart(width, "0");

// Builds one span a minute for the last SPANS minutes, each with the user, a session and an order.
function busyUser(now = Date.now()) {
  const spans = Array.from({ length: SPANS }, (_, i) => {
    const start = now - (SPANS - i) * 60_000;
    return {
      traceId: hex(0xfeed0000 + i, 32), spanId: hex(0x7000 + i, 16), name: "POST /orders/{id}/steps", kind: 2,
      startTimeUnixNano: `${BigInt(start) * 1_000_000n}`, endTimeUnixNano: `${BigInt(start + 50) * 1_000_000n}`,
      attributes: [attr("user.id", USER), attr("rum.session_id", `${hex(0x5e550000 + (i % SESSIONS), 8)}${"0".repeat(24)}`), attr("order.id", `ORD-${i % ORDERS}`)],
      status: { code: 1 },
    };
  });
  return { resourceSpans: [{ resource: { attributes: [attr("service.name", "order-api")] }, scopeSpans: [{ scope: { name: "orders" }, spans }] }] };
}

before(async () => {
  server = await startServer();
  const response = await fetch(`${server.otlpHttp}/v1/traces`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: server.ingestKey },
    body: JSON.stringify(busyUser()),
  });
  assert.ok(response.ok, `traces answered ${response.status}`);
  browser = await launchBrowser();
  console.log(`screenshots: ${folder}`);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test("visitor notes cut lists", async () => {
  const { context, page, problems } = await watchedPage(browser, server);
  await signIn(page, server);
  await page.goto(`${server.http}/visitor?user=${encodeURIComponent(USER)}&from=now-6h`);
  await settle(page);
  const section = (title) => page.locator("section", { has: page.locator("h2", { hasText: new RegExp(`^${title}$`) }) });

  assert.match(await section("Sessions").textContent(), new RegExp(`Showing 50 of ${SESSIONS} sessions`));
  assert.equal(await section("Sessions").locator("tbody tr").count(), 50);
  assert.match(await section("Orders").textContent(), new RegExp(`Showing 100 of ${ORDERS} orders`));
  assert.equal(await section("Orders").locator("tbody tr").count(), 100);
  assert.match(await section("Timeline").textContent(), /Showing the newest 200 entries/);
  await page.screenshot({ path: join(folder, "visitor-cut-lists.png") });
  assert.deepEqual(problems, [], problems.join("\n"));
  await context.close();
});
