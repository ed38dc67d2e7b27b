// Times each page's first meaningful paint in headless Chromium against a running exos:
// milliseconds from the start of navigation until the page's heading is shown, every
// `/api/` request of the load has completed and no loading placeholder is left.
// Waiting for the responses matters: a page shows its heading before it puts up its
// placeholders, so the placeholder test alone can pass before any data arrived.
// Prints one Markdown table row per page (median of 3 loads).
// Usage: node paint.mjs http://127.0.0.1:8080 <admin password>

import { launchBrowser, settle } from "./harness.mjs";

const [http, password] = process.argv.slice(2);
if (!http || !password) {
  console.error("usage: node paint.mjs <exos url> <admin password>");
  process.exit(2);
}
const PAGES = ["/", "/events", "/errors", "/engineering", "/visitor?user=user7%40example.com", "/query", "/workspaces", "/docs", "/getting-started", "/architecture"];

const browser = await launchBrowser();
const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
const login = await context.request.post(`${http}/api/login`, { data: { user: "admin", password } });
if (!login.ok()) throw new Error(`login failed: ${login.status()}`);
const page = await context.newPage();
// The `/api/` requests of the current load that have not completed yet.
const open = new Set();
page.on("request", (request) => {
  if (new URL(request.url()).pathname.startsWith("/api/")) open.add(request);
});
for (const event of ["requestfinished", "requestfailed"]) {
  page.on(event, (request) => open.delete(request));
}
// A load is done when the heading is shown, no placeholder is left and no `/api/`
// request is open, and all of it stays so for QUIET_MS. The wait covers a page that
// starts its data requests a moment after showing its heading.
const QUIET_MS = 150;
for (const path of PAGES) {
  const times = [];
  for (let run = 0; run < 3; run += 1) {
    open.clear();
    await page.goto(`${http}${path}`, { waitUntil: "commit" });
    const deadline = Date.now() + 60_000;
    let since = null;
    for (;;) {
      const [ready, now] = await page.evaluate(() => [
        Boolean(document.querySelector("main h1")
          && !document.querySelector(".skeleton, .boot, [aria-busy='true']")),
        performance.now(),
      ]);
      if (ready && open.size === 0) {
        since ??= now;
        if (now - since >= QUIET_MS) break;
      } else {
        since = null;
      }
      if (Date.now() > deadline) throw new Error(`${path} did not finish loading in 60 s`);
      await page.waitForTimeout(5);
    }
    times.push(since);
    await settle(page);
  }
  times.sort((a, b) => a - b);
  console.log(`| \`${path.split("?")[0]}\` | ${Math.round(times[1])} |`);
  console.error(`painted ${path}`);
}
await browser.close();
