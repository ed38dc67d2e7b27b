// Query studio in headless Chromium, through the real binary with the known data of
// harness.mjs: a saved query keeps its id in the URL across runs and reloads, so Save changes
// updates that item, and the CSV export defuses text a spreadsheet would run as a formula.
// Each test fails on a console error or a request that leaves the host.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";

import { launchBrowser, screenshotFolder, seed, settle, signIn, startServer, watchedPage } from "./harness.mjs";

let server;
let browser;
const folder = screenshotFolder();

before(async () => {
  server = await startServer();
  await seed(server);
  browser = await launchBrowser();
  console.log(`screenshots: ${folder}`);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function savedQueries() {
  const response = await fetch(`${server.http}/api/workspaces`, {
    headers: { authorization: `Basic ${Buffer.from(`admin:${server.password}`).toString("base64")}` },
  });
  const body = await response.json();
  const items = Array.isArray(body) ? body : body.items || body.workspaces || [];
  return items.filter((item) => item.kind === "query");
}

// Replaces the editor's text and runs it, then waits until the result is shown.
async function runSql(page, text) {
  await page.locator(".cm-content").click();
  await page.keyboard.press("ControlOrMeta+a");
  await page.keyboard.type(text);
  await Promise.all([
    page.waitForResponse((response) => response.url().endsWith("/api/sql")),
    page.keyboard.press("ControlOrMeta+Enter"),
  ]);
  await settle(page);
}

const search = (page) => new URL(page.url()).searchParams;

test("saved query keeps its id after reload", async () => {
  const { context, page, problems } = await watchedPage(browser, server);
  await signIn(page, server);
  await page.goto(`${server.http}/query`);
  await settle(page);
  await runSql(page, "SELECT ServiceName, count(*) AS spans FROM otel_traces GROUP BY ServiceName");

  await page.getByRole("button", { name: /^Save$/ }).click();
  const dialog = page.getByRole("dialog", { name: "Save query" });
  await dialog.getByLabel("Name").fill("Spans per service");
  const [created] = await Promise.all([
    page.waitForResponse((response) => response.url().endsWith("/api/workspaces") && response.request().method() === "POST"),
    dialog.getByRole("button", { name: "Save", exact: true }).click(),
  ]);
  const { id } = await created.json();
  assert.deepEqual([...search(page).entries()], [["id", id]], page.url());

  // Opening the saved query runs it. The URL still names the item, also after a new run.
  await Promise.all([page.waitForResponse((response) => response.url().endsWith("/api/sql")), page.reload()]);
  await settle(page);
  assert.equal(search(page).get("id"), id, `after the reload: ${page.url()}`);
  assert.equal(search(page).get("sql"), null, "the saved SQL is not repeated in the URL");
  await Promise.all([
    page.waitForResponse((response) => response.url().endsWith("/api/sql")),
    page.getByRole("button", { name: /^Run/ }).click(),
  ]);
  await settle(page);
  assert.equal(search(page).get("id"), id, `after a run: ${page.url()}`);

  // Edited SQL joins the id in the URL, and survives a reload with it.
  const edited = "SELECT ServiceName, count(*) AS spans FROM otel_traces GROUP BY ServiceName ORDER BY spans DESC";
  await runSql(page, edited);
  assert.equal(search(page).get("id"), id);
  assert.equal(search(page).get("sql"), edited);
  await Promise.all([page.waitForResponse((response) => response.url().endsWith("/api/sql")), page.reload()]);
  await settle(page);
  assert.equal(await page.locator(".cm-content").textContent(), edited, "the edit is back after the reload");

  await page.getByRole("button", { name: /^Save$/ }).click();
  const [updated] = await Promise.all([
    page.waitForResponse((response) => response.url().includes("/api/workspaces/") && response.request().method() === "PUT"),
    page.getByRole("dialog", { name: "Save query" }).getByRole("button", { name: "Save changes" }).click(),
  ]);
  assert.equal(updated.status(), 200);
  await page.screenshot({ path: join(folder, "query-saved-changes.png"), fullPage: true });

  const queries = await savedQueries();
  assert.equal(queries.length, 1, `one saved query: ${JSON.stringify(queries)}`);
  assert.equal(queries[0].id, id);
  assert.equal(queries[0].body.sql, edited, "the item holds the edited SQL");
  assert.deepEqual([...search(page).entries()], [["id", id]], page.url());
  assert.deepEqual(problems, [], problems.join("\n"));
  await context.close();
});

test("CSV export defuses formula text", async () => {
  const { context, page, problems } = await watchedPage(browser, server, { acceptDownloads: true });
  await signIn(page, server);
  await page.goto(`${server.http}/query`);
  await settle(page);
  await runSql(page, "SELECT '=HYPERLINK(\"x\")' AS f, '+1+2' AS p, '-2+3' AS m, '@SUM(A1)' AS a, "
    + "'safe' AS s, -5 AS n, '-5' AS t, -1.5 AS d");
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "CSV" }).click()]);
  const text = await readFile(await download.path(), "utf8");
  assert.equal(text, "f,p,m,a,s,n,t,d\r\n\"'=HYPERLINK(\"\"x\"\")\",'+1+2,'-2+3,'@SUM(A1),safe,-5,-5,-1.5\r\n");
  assert.deepEqual(problems, [], problems.join("\n"));
  await context.close();
});
