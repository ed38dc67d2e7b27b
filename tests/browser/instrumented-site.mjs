// A small web shop page instrumented with the real HyperDX browser SDK (`@hyperdx/browser`
// from npm), served on loopback for the replay end-to-end test. esbuild bundles the SDK with
// the test's configuration: the exos OTLP/HTTP address, the ingest key and masked inputs.
//
// Pages: `/` (a form with a masked input, a hidden input holding a secret, buttons for
// clicks, a rage-click target, an error click, a console error and a failing fetch) and
// `/archive.html` (more than 1 MB of text, so the SDK cuts its full snapshot into chunks, and a
// hidden input after the text that the test fills by script).
// `/api/fail` answers 500, for the failing requests. The page sends them with the header
// `Authorization: Bearer <window.billingToken>`, which the test sets and the DOM never holds.

import { createServer } from "node:http";
import * as esbuild from "esbuild";

// Text every test page shows, looked for inside the replay player's iframe.
export const SHOP_HEADING = "Order desk replay check";
export const ARCHIVE_HEADING = "Order history archive";

// Bundles the SDK and its start-up call into one browser script.
export async function buildSdkBundle({ otlpUrl, apiKey, service }) {
  const config = {
    url: otlpUrl,
    apiKey,
    service,
    consoleCapture: true,
    advancedNetworkCapture: true,
    maskAllInputs: true,
    disableIntercom: true,
  };
  const source = `import HyperDX from "@hyperdx/browser";
HyperDX.init(${JSON.stringify(config)});
HyperDX.setGlobalAttributes({ userId: "shopper@example.com" });
window.HyperDX = HyperDX;
`;
  const result = await esbuild.build({
    stdin: { contents: source, resolveDir: import.meta.dirname, loader: "js" },
    bundle: true,
    write: false,
    format: "iife",
    platform: "browser",
    target: ["chrome110"],
    minify: true,
    logLevel: "warning",
    define: { "process.env.NODE_ENV": '"production"', global: "globalThis" },
  });
  return result.outputFiles[0].text;
}

function page(title, body) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<script src="/sdk.js"></script>
<style>body{font-family:sans-serif;margin:24px;background:#fff;color:#222}button{margin:4px;padding:8px 14px}
.row{margin:12px 0}#dead-zone{padding:20px;background:#f5e6c8}</style>
</head><body>${body}<script src="/page.js"></script></body></html>`;
}

function shopPage(hiddenValue) {
  return page("Order desk", `
<h1>${SHOP_HEADING}</h1>
<p>Order ORD-2026-REPLAY-1 waiting for approval.</p>
<form id="order-form" onsubmit="return false">
  <div class="row"><label>Customer note <input id="customer" name="customer" type="text"></label></div>
  <div class="row"><label>Card PIN <input id="pin" name="pin" type="password"></label></div>
  <input id="csrf" name="csrf" type="hidden" value="${hiddenValue}">
  <input id="session-token" name="session_token" type="hidden" value="">
</form>
<div class="row">
  <button id="approve">Approve order</button>
  <button id="refresh">Refresh totals</button>
  <button id="pay">Pay now</button>
  <button id="log-error">Report problem</button>
  <button id="fetch-fail">Send to billing</button>
</div>
<div id="status" class="row">Ready.</div>
<p><a id="to-archive" href="/archive.html">Open the order archive</a></p>`);
}

// Paragraphs of mixed one-, two- and three-byte characters, so chunk boundaries can fall
// inside a multi-byte character.
function archivePage() {
  const rows = [];
  let length = 0;
  for (let i = 0; length < 1_300_000; i += 1) {
    const row = `<p>Archived order ORD-2026-${String(i).padStart(6, "0")}: Grüße aus Köln, ✓ geprüft, Straße ${i % 97}, `
      + "status closed after review by the appraisal desk with no open findings.</p>";
    rows.push(row);
    length += row.length;
  }
  // The hidden input comes after the text, so it sits in the snapshot's last chunk.
  return page("Order archive", `<h1>${ARCHIVE_HEADING}</h1><button id="archive-back">Back</button>${rows.join("\n")}
<input id="archive-token" name="archive_token" type="hidden" value="">`);
}

const PAGE_SCRIPT = `
document.getElementById("approve")?.addEventListener("click", () => {
  document.getElementById("status").textContent = "Approved at " + new Date().toISOString();
});
// "Refresh totals" does nothing on purpose: clicks on it are dead clicks.
document.getElementById("pay")?.addEventListener("click", () => {
  throw new Error("payment widget failed to load");
});
document.getElementById("log-error")?.addEventListener("click", () => {
  console.error("checkout total mismatch for ORD-2026-REPLAY-1");
});
document.getElementById("fetch-fail")?.addEventListener("click", async () => {
  const headers = { Authorization: "Bearer " + window.billingToken, "content-type": "application/json" };
  const response = await fetch("/api/fail", { method: "POST", headers, body: "{}" });
  const request = new XMLHttpRequest();
  request.open("POST", "/api/fail?via=xhr");
  request.setRequestHeader("Authorization", "Bearer " + window.billingToken);
  request.onloadend = () => {
    document.getElementById("status").textContent = "Billing answered " + response.status + " and " + request.status;
  };
  request.send("{}");
});
`;

// Serves the pages and the SDK bundle on 127.0.0.1 with a port chosen by the system.
// `hiddenValue` is written into the page's hidden `csrf` input.
export async function startSite(bundle, { hiddenValue = "" } = {}) {
  const server = createServer((request, response) => {
    const path = new URL(request.url, "http://127.0.0.1").pathname;
    const send = (status, type, body) => {
      response.writeHead(status, { "content-type": type, "cache-control": "no-store" });
      response.end(body);
    };
    if (path === "/" || path === "/index.html") return send(200, "text/html; charset=utf-8", shopPage(hiddenValue));
    if (path === "/archive.html") return send(200, "text/html; charset=utf-8", archivePage());
    if (path === "/sdk.js") return send(200, "text/javascript; charset=utf-8", bundle);
    if (path === "/page.js") return send(200, "text/javascript; charset=utf-8", PAGE_SCRIPT);
    if (path === "/api/fail") return send(500, "application/json", JSON.stringify({ error: "billing is down" }));
    if (path === "/favicon.ico") return send(204, "image/x-icon", "");
    return send(404, "text/plain", "not found");
  });
  await new Promise((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () => new Promise((done) => server.close(done)),
  };
}
