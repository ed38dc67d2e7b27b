// Times how fast the replay page shows one recorded session in headless Chromium against a
// running exos, from the start of navigation to /replay?session=<id>: until the replay answer
// has arrived, until the timeline under the player is drawn, until the player's iframe shows
// the first frame of the recorded page, and until playback runs. Prints one JSON object with
// the median of each (and every run's figures) on stdout.
// Usage: node replay-paint.mjs <exos url> <admin password> <session id> [runs]

import { launchBrowser } from "./harness.mjs";

const [http, password, session, runsText = "5"] = process.argv.slice(2);
if (!http || !password || !session) {
  console.error("usage: node replay-paint.mjs <exos url> <admin password> <session id> [runs]");
  process.exit(2);
}
const runs = Math.max(1, Number(runsText));

// Runs in the page before its scripts: records, at each animation frame, the first time
// each milestone is seen, in milliseconds since the start of navigation.
const WATCH_MILESTONES = () => {
  const seen = {};
  window.__replayMilestones = seen;
  const note = (name, reached) => {
    if (seen[name] === undefined && reached()) seen[name] = performance.now();
  };
  const check = () => {
    note("timeline", () => document.querySelector(".timeline .timeline-marker"));
    note("frame", () => {
      const body = document.querySelector(".replay-stage iframe")?.contentDocument?.body;
      return body && body.textContent.trim().length > 0;
    });
    note("playing", () => document.querySelector(".replay-play[aria-label='Pause']"));
    if (Object.keys(seen).length < 3) requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
};

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
};

const browser = await launchBrowser();
const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
const login = await context.request.post(`${http}/api/login`, { data: { user: "admin", password } });
if (!login.ok()) throw new Error(`login failed: ${login.status()}`);
await context.addInitScript(WATCH_MILESTONES);

const results = [];
for (let run = 0; run <= runs; run += 1) {
  const page = await context.newPage();
  await page.goto(`${http}/replay?session=${encodeURIComponent(session)}`, { waitUntil: "commit" });
  try {
    await page.waitForFunction(() => Object.keys(window.__replayMilestones || {}).length >= 3, null, { timeout: 120_000, polling: 200 });
  } catch (error) {
    const seen = await page.evaluate(() => JSON.stringify(window.__replayMilestones));
    throw new Error(`the replay page reached only ${seen} within 120 s: ${error.message}`);
  }
  const figures = await page.evaluate((id) => {
    const answer = performance.getEntriesByType("resource").find((entry) => entry.name.includes(`/api/replay/${id}`));
    const sessions = performance.getEntriesByType("resource").find((entry) => entry.name.includes("/api/sessions"));
    return {
      ...window.__replayMilestones,
      sessions_answer: sessions?.responseEnd,
      asked: answer?.startTime,
      first_byte: answer?.responseStart,
      answer: answer?.responseEnd,
      answer_bytes: answer?.decodedBodySize,
      answer_wire_bytes: answer?.encodedBodySize,
    };
  }, session);
  await page.close();
  // The first load warms the server's and the browser's caches and is left out.
  if (run > 0) results.push(figures);
  console.error(`run ${run}: ${JSON.stringify(figures)}`);
}
await browser.close();

const summary = { runs: results.length };
for (const name of ["asked", "first_byte", "answer", "sessions_answer", "timeline", "frame", "playing"]) summary[name] = Math.round(median(results.map((figures) => figures[name])));
summary.answer_bytes = results[0].answer_bytes;
summary.answer_wire_bytes = results[0].answer_wire_bytes;
summary.each = results;
console.log(JSON.stringify(summary));
