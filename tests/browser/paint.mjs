// Times each page's first meaningful paint in headless Chromium against a running exos:
// milliseconds from the start of navigation until the page's heading is shown and no
// loading placeholder is left. Prints one Markdown table row per page (median of 3 loads).
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
for (const path of PAGES) {
  const times = [];
  for (let run = 0; run < 3; run += 1) {
    await page.goto(`${http}${path}`, { waitUntil: "commit" });
    await page.waitForFunction(() => document.querySelector("main h1")
      && !document.querySelector(".skeleton, .boot, [aria-busy='true']"), null, { timeout: 60_000, polling: "raf" });
    times.push(await page.evaluate(() => performance.now()));
    await settle(page);
  }
  times.sort((a, b) => a - b);
  console.log(`| \`${path.split("?")[0]}\` | ${Math.round(times[1])} |`);
  console.error(`painted ${path}`);
}
await browser.close();
