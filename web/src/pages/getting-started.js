// Getting started (/getting-started): copy-paste set-up for the HyperDX browser SDK, Python,
// Node and curl, filled in with this server's OTLP address and an ingest key that an admin
// can create here, and a live indicator that polls GET /api/stats until data arrives.

import { h, replace, copyText } from "../lib/dom.js";
import { api } from "../lib/api.js";
import { card, tabList, errorBox, spinner } from "../lib/ui.js";
import { formatCount } from "../lib/format.js";
import { pageLink } from "../lib/state.js";

const POLL_MS = 5000;
const KEY_PLACEHOLDER = "<YOUR_INGEST_KEY>";

function otlpHttpUrl(me) {
  return (me.otlp_http || `${location.protocol}//${location.hostname}:4318`).replace(/\/+$/, "");
}

function snippets(url, key, grpc) {
  return {
    browser: {
      label: "Browser (HyperDX SDK)",
      intro: "Install the SDK in your web application and start it as early as possible. It sends traces, console messages, errors and session recordings.",
      blocks: [
        ["Install", "npm install @hyperdx/browser"],
        ["Start it in your application's entry point", `import HyperDX from "@hyperdx/browser";

HyperDX.init({
  url: "${url}",
  apiKey: "${key}",
  service: "my-web-app",
  consoleCapture: true,
  // Adds trace headers to calls to your own back end, so browser and server spans join up.
  tracePropagationTargets: [/\\/api\\//i],
});

// Optional: tell EXOS who is signed in.
HyperDX.setGlobalAttributes({ userId: "ann@example.com" });`],
      ],
    },
    python: {
      label: "Python",
      intro: "The OpenTelemetry SDK with the OTLP/HTTP exporter. The exporter reads its address and headers from the environment.",
      blocks: [
        ["Install", "pip install opentelemetry-sdk opentelemetry-exporter-otlp-proto-http"],
        ["Configure", `export OTEL_EXPORTER_OTLP_ENDPOINT="${url}"
export OTEL_EXPORTER_OTLP_HEADERS="authorization=${key}"
export OTEL_SERVICE_NAME="my-python-service"`],
        ["Send a span", `from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

provider = TracerProvider()
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
trace.set_tracer_provider(provider)

tracer = trace.get_tracer("getting-started")
with tracer.start_as_current_span("process order", attributes={"order.id": "ORD-2026-001", "lob": "Appraisal"}):
    print("hello from EXOS getting started")

provider.shutdown()  # flushes the last batch before the program exits`],
      ],
    },
    node: {
      label: "Node.js",
      intro: "The OpenTelemetry Node SDK with automatic instrumentation of HTTP servers, clients and databases.",
      blocks: [
        ["Install", "npm install @opentelemetry/sdk-node @opentelemetry/auto-instrumentations-node @opentelemetry/exporter-trace-otlp-proto"],
        ["Configure", `export OTEL_EXPORTER_OTLP_ENDPOINT="${url}"
export OTEL_EXPORTER_OTLP_HEADERS="authorization=${key}"
export OTEL_SERVICE_NAME="my-node-service"`],
        ["Create tracing.js and start your app with node --require ./tracing.js app.js", `const { NodeSDK } = require("@opentelemetry/sdk-node");
const { getNodeAutoInstrumentations } = require("@opentelemetry/auto-instrumentations-node");
const { OTLPTraceExporter } = require("@opentelemetry/exporter-trace-otlp-proto");

const sdk = new NodeSDK({
  traceExporter: new OTLPTraceExporter(),
  instrumentations: [getNodeAutoInstrumentations()],
});
sdk.start();
process.on("SIGTERM", () => sdk.shutdown());`],
      ],
    },
    curl: {
      label: "curl",
      intro: "One span as OTLP/JSON, to check the address and key by hand. OTLP gRPC is also open" + (grpc ? ` on ${grpc}.` : "."),
      blocks: [
        ["Send one span", `NOW=$(date +%s%N)
curl -sS -X POST "${url}/v1/traces" \\
  -H "content-type: application/json" \\
  -H "authorization: ${key}" \\
  -d '{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"curl-test"}}]},
       "scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
       "name":"hello from curl","kind":2,"startTimeUnixNano":"'$NOW'","endTimeUnixNano":"'$((NOW+5000000))'",
       "attributes":[{"key":"order.id","value":{"stringValue":"ORD-2026-001"}}]}]}]}]}'`],
      ],
    },
  };
}

function codeBlock(text, label) {
  const copy = h("button", { class: "btn btn-sm code-copy", "aria-label": `Copy: ${label}` }, "Copy");
  copy.addEventListener("click", () => copyText(text, copy));
  return h("div", { class: "relative" }, h("pre", { class: "code-block pr-20", tabindex: "0", "aria-label": label }, h("code", {}, text)), copy);
}

// Polls the table counts and reports when rows arrive.
function dataIndicator(signal) {
  const box = h("div", { class: "info-box flex items-center gap-3", role: "status", "aria-live": "polite" });
  let baseline = null;
  let timer = null;
  async function poll() {
    try {
      const stats = await api("/api/stats", { params: { brief: "true" }, signal });
      const tables = stats.tables || {};
      const total = Object.values(tables).reduce((sum, count) => sum + (Number(count) || 0), 0);
      baseline ??= total;
      if (total === 0) {
        replace(box, spinner("Waiting"), h("span", {}, "Waiting for the first data… This page checks every 5 seconds."));
      } else {
        const parts = [["spans", tables.otel_traces], ["logs", tables.otel_logs], ["replay events", tables.hyperdx_sessions]]
          .filter(([, count]) => count).map(([name, count]) => `${formatCount(count)} ${name}`);
        replace(box, h("span", { class: "inline-block w-3 h-3 rounded-full bg-green-500", "aria-hidden": "true" }),
          h("span", {}, total > baseline ? "New data arrived: " : "Data is in the store: ", parts.join(", "), ". "),
          h("a", { href: pageLink("/") }, "Open the overview →"));
      }
    } catch (error) {
      if (error.name === "AbortError") return;
      replace(box, errorBox(error));
    }
    if (!signal.aborted) timer = setTimeout(poll, POLL_MS);
  }
  poll();
  signal.addEventListener("abort", () => clearTimeout(timer));
  return box;
}

export function mount(root, { me, signal }) {
  const url = otlpHttpUrl(me);
  let key = null;
  let tab = "browser";
  const guide = h("div");
  const keySlot = h("div");

  function drawGuide() {
    const all = snippets(url, key || KEY_PLACEHOLDER, me.otlp_grpc);
    const current = all[tab];
    replace(guide,
      tabList(Object.entries(all).map(([id, s]) => ({ id, label: s.label })), tab, (id) => { tab = id; drawGuide(); }, "Language"),
      h("p", { class: "text-sm my-3" }, current.intro),
      current.blocks.map(([label, text]) => h("div", { class: "mb-4" }, h("h3", { class: "text-sm font-medium mb-1" }, label), codeBlock(text, label))));
  }

  function drawKey() {
    if (key) {
      replace(keySlot, h("div", { class: "info-box" }, h("strong", {}, "Ingest key created. "),
        "It is filled into the examples below. Copy it now: it is not shown again."));
      return;
    }
    if (me.role !== "admin") {
      replace(keySlot, h("p", { class: "text-sm" }, `Ask an admin for an ingest key and put it where the examples say ${KEY_PLACEHOLDER}.`));
      return;
    }
    const button = h("button", { class: "btn btn-primary" }, "Create an ingest key");
    const message = h("div");
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        const created = await api("/api/keys", { method: "POST", body: { name: "getting-started" } });
        key = created.key;
        drawKey();
        drawGuide();
      } catch (error) {
        button.disabled = false;
        replace(message, errorBox(error));
      }
    });
    replace(keySlot, h("div", { class: "flex flex-wrap items-center gap-3" }, button,
      h("span", { class: "text-sm muted" }, "Senders need a key. Admins manage keys under Help → Settings.")), message);
  }

  drawKey();
  drawGuide();
  replace(root, h("div", { class: "max-w-4xl space-y-4" },
    dataIndicator(signal),
    card("1. Where to send", h("dl", { class: "grid grid-cols-[10rem_1fr] gap-y-2 text-sm" },
      h("dt", { class: "muted" }, "OTLP over HTTP"), h("dd", {}, codeBlock(url, "OTLP HTTP address")),
      h("dt", { class: "muted" }, "OTLP over gRPC"), h("dd", {}, codeBlock(me.otlp_grpc || `${location.hostname}:4317`, "OTLP gRPC address")))),
    card("2. Get an ingest key", keySlot),
    card("3. Send data", guide)));
}
