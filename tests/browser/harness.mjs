// Shared set-up of the browser tests: a real `exos serve` on loopback, known data sent
// through its OTLP/HTTP receiver, and the system Chromium with the flags this machine needs.

import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const repo = resolve(import.meta.dirname, "../..");

export const EXOS_BIN = process.env.EXOS_BIN
  || join(process.env.CARGO_TARGET_DIR || join(process.env.HOME, ".cache/exos-target"), "debug/exos");

// Starts `exos serve` on a fresh data folder with every port chosen by the system.
export async function startServer(extra = []) {
  const dataDir = mkdtempSync(join(tmpdir(), "exos-browser-"));
  const child = spawn(EXOS_BIN, [
    "serve", "--data-dir", dataDir,
    "--http-addr", "127.0.0.1:0", "--otlp-http-addr", "127.0.0.1:0", "--otlp-grpc-addr", "127.0.0.1:0",
    ...extra,
  ], { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, RUST_LOG: "warn" } });
  const lines = createInterface({ input: child.stdout });
  const server = { child, dataDir };
  await new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error("exos did not print its ready line in 60 s")), 60_000);
    child.once("exit", (code) => fail(new Error(`exos exited with ${code} before it was ready`)));
    lines.on("line", (line) => {
      if (line.startsWith("admin password: ")) server.password = line.slice(16);
      if (line.startsWith("ingest key: ")) server.ingestKey = line.slice(12);
      if (line.startsWith("exos ready: ")) {
        const field = (name) => line.split(" ").find((part) => part.startsWith(`${name}=`)).split("=")[1];
        server.http = `http://${field("http")}`;
        server.otlpHttp = `http://${field("otlp_http")}`;
        clearTimeout(timer);
        done();
      }
    });
  });
  server.stop = () => new Promise((done) => {
    if (child.exitCode !== null) return done();
    child.once("exit", done);
    child.kill("SIGTERM");
  });
  return server;
}

// Runs SQL through the API as admin; returns the rows.
export async function sql(server, text) {
  const response = await fetch(`${server.http}/api/sql`, {
    method: "POST",
    headers: { authorization: `Basic ${Buffer.from(`admin:${server.password}`).toString("base64")}` },
    body: JSON.stringify({ sql: text }),
  });
  const body = await response.json();
  if (!response.ok) throw new Error(`SQL failed: ${text}: ${JSON.stringify(body)}`);
  return body.rows;
}

const attr = (key, value) => (typeof value === "number"
  ? { key, value: { intValue: String(value) } }
  : { key, value: { stringValue: String(value) } });

const hex = (n, width) => n.toString(16).padStart(width, "0");

// Builds the known data set: order traces across services (some failing), their logs,
// and one browser session. Every timestamp lies in the last 30 minutes.
export function knownData(now = Date.now()) {
  const ns = (ms) => `${BigInt(Math.round(ms)) * 1_000_000n}`;
  const lobs = ["Appraisal", "Title", "Flood"];
  const statuses = ["open", "waiting", "closed"];
  const api = [];
  const docs = [];
  const logs = [];
  for (let i = 0; i < 24; i += 1) {
    const traceId = hex(0xabc000 + i, 32);
    const start = now - 25 * 60_000 + i * 60_000;
    const failed = i % 8 === 3;
    const order = `ORD-2026-${hex(100 + (i % 12), 6)}`;
    const business = [
      attr("order.id", order), attr("lob", lobs[i % 3]), attr("operator.id", `op-${100 + (i % 4)}`),
      attr("user.id", `operator${i % 4}@example.com`), attr("order.status", statuses[i % 3]), attr("product.event", "true"),
    ];
    api.push({
      traceId, spanId: hex(1000 + i, 16), name: "POST /orders/{id}/steps", kind: 2,
      startTimeUnixNano: ns(start), endTimeUnixNano: ns(start + 120 + i * 7),
      attributes: [attr("http.request.method", "POST"), attr("http.route", "/orders/{id}/steps"), attr("http.response.status_code", failed ? 504 : 200), ...business],
      status: failed ? { code: 2, message: `upstream timed out after ${3000 + i} ms` } : { code: 1 },
      events: failed ? [{
        timeUnixNano: ns(start + 100), name: "exception",
        attributes: [attr("exception.type", "TimeoutError"), attr("exception.message", `upstream timed out after ${3000 + i} ms`),
          attr("exception.stacktrace", "TimeoutError: upstream timed out\n    at callDocuments (order.js:41:9)")],
      }] : [],
    });
    api.push({
      traceId, spanId: hex(2000 + i, 16), parentSpanId: hex(1000 + i, 16), name: "GET document-service", kind: 3,
      startTimeUnixNano: ns(start + 10), endTimeUnixNano: ns(start + 90), attributes: [attr("http.request.method", "GET")], status: { code: 0 },
    });
    docs.push({
      traceId, spanId: hex(3000 + i, 16), parentSpanId: hex(2000 + i, 16), name: "GET /documents/{id}", kind: 2,
      startTimeUnixNano: ns(start + 12), endTimeUnixNano: ns(start + 85), attributes: [attr("http.route", "/documents/{id}"), attr("order.id", order)], status: { code: 0 },
    });
    logs.push({
      timeUnixNano: ns(start + 50), severityNumber: failed ? 17 : 9, severityText: failed ? "ERROR" : "INFO",
      body: { stringValue: failed ? `order ${order} step failed` : `order ${order} step done` },
      traceId, spanId: hex(1000 + i, 16), attributes: [attr("order.id", order)],
    });
  }
  const session = "5e55" + hex(42, 28);
  const browser = [0, 1, 2, 3].map((i) => ({
    traceId: hex(0xbeef00 + i, 32), spanId: hex(5000 + i, 16), name: i === 0 ? "documentLoad" : "click", kind: 1,
    startTimeUnixNano: ns(now - 10 * 60_000 + i * 5000), endTimeUnixNano: ns(now - 10 * 60_000 + i * 5000 + 300),
    attributes: [attr("rum.session_id", session), attr("user.id", "operator1@example.com"), attr("location.href", "http://ops.example/orders/ORD-2026-000065"),
      ...(i === 0 ? [] : [attr("event_type", "click"), attr("target_element", "BUTTON"), attr("target_xpath", "//button[@id='approve']")])],
  }));
  const resource = (service, extra = []) => ({ attributes: [attr("service.name", service), ...extra] });
  return {
    traces: {
      resourceSpans: [
        { resource: resource("order-api"), scopeSpans: [{ scope: { name: "orders" }, spans: api }] },
        { resource: resource("document-service"), scopeSpans: [{ scope: { name: "docs" }, spans: docs }] },
        { resource: resource("ops-web", [attr("rum.sessionId", session)]), scopeSpans: [{ scope: { name: "browser" }, spans: browser }] },
      ],
    },
    logs: { resourceLogs: [{ resource: resource("order-api"), scopeLogs: [{ scope: { name: "orders" }, logRecords: logs }] }] },
    session,
  };
}

// Sends the known data through OTLP/HTTP JSON with the ingest key.
export async function seed(server, data = knownData()) {
  for (const [path, body] of [["/v1/traces", data.traces], ["/v1/logs", data.logs]]) {
    const response = await fetch(`${server.otlpHttp}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: server.ingestKey },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${path} answered ${response.status}: ${await response.text()}`);
  }
  return data;
}

// The system Chromium, headless, with the flags that keep it off the network. Playwright
// starts it on a fresh temporary profile folder of its own (the --user-data-dir).
export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync",
    ],
  });
}

// Opens a page that fails the test on console errors and on any request leaving the host.
export async function watchedPage(browser, server, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, ...options });
  const problems = [];
  const host = new URL(server.http).host;
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === "data:" || url.protocol === "blob:" || url.host === host) return route.continue();
    problems.push(`request left the host: ${url.href}`);
    return route.abort();
  });
  const page = await context.newPage();
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error on ${page.url()}: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`uncaught error on ${page.url()}: ${error.message}`));
  return { context, page, problems };
}

// Signs in through the login form.
export async function signIn(page, server, user = "admin", password = server.password) {
  await page.goto(`${server.http}/`);
  await page.waitForURL(/\/login/);
  await page.fill("#user", user);
  await page.fill("#password", password);
  await Promise.all([page.waitForURL((url) => !url.pathname.startsWith("/login")), page.click("#login-submit")]);
}

// Waits until a page has loaded its data: no pending requests and no loading markers left.
export async function settle(page) {
  await page.waitForLoadState("networkidle");
  await page.waitForFunction(() => !document.querySelector(".skeleton, .boot, [aria-busy='true']"), null, { timeout: 15_000 });
}

// The folder screenshots go to; printed so people can look at them.
export function screenshotFolder() {
  const folder = process.env.EXOS_SCREENSHOTS || join(repo, "target-screenshots");
  mkdirSync(folder, { recursive: true });
  return folder;
}
