// Architecture (/architecture): a Mermaid diagram of the running system, from receivers
// through the ingest queue and writers to the store, the query engines and these pages,
// with live row counts from GET /api/stats on its boxes. Page boxes link to their pages.

import { h, replace } from "../lib/dom.js";
import { api, isAbort } from "../lib/api.js";
import { apiParams, pageLink } from "../lib/state.js";
import { card, dataTable, errorBox, skeleton } from "../lib/ui.js";
import { isDark } from "../lib/theme.js";
import { formatCount } from "../lib/format.js";

const REFRESH_MS = 10_000;

// Diagram node ids of the pages, and the paths they open.
const PAGE_NODES = {
  pOverview: "/", pEvents: "/events", pErrors: "/errors", pEngineering: "/engineering", pVisitor: "/visitor", pQuery: "/query",
  pProduct: "/funnels", pProcesses: "/processes", pSessions: "/sessions",
};

function diagram(me, stats) {
  const t = stats.tables || {};
  const totals = stats.totals || {};
  const metrics = (t.otel_metrics_gauge || 0) + (t.otel_metrics_sum || 0) + (t.otel_metrics_histogram || 0);
  const store = me.store === "clickhouse" ? "ClickHouse" : "DuckDB (embedded)";
  const count = (value) => formatCount(value || 0);
  return `flowchart LR
  subgraph sources["Senders"]
    browser["Browser<br/>HyperDX SDK"]
    services["Back-end services<br/>OpenTelemetry SDKs"]
  end
  subgraph receivers["Receivers"]
    http["OTLP/HTTP<br/>${me.otlp_http || ":4318"}"]
    grpc["OTLP/gRPC<br/>${me.otlp_grpc || ":4317"}"]
  end
  queue[["Ingest queue<br/>decode · validate · batch"]]
  writers["Writers<br/>ack when durable"]
  subgraph store["Store: ${store}"]
    traces[("otel_traces<br/>${count(t.otel_traces)} rows")]
    logs[("otel_logs<br/>${count(t.otel_logs)} rows")]
    replay[("hyperdx_sessions<br/>${count(t.hyperdx_sessions)} rows")]
    metricTables[("otel_metrics_*<br/>${count(metrics)} points")]
    rollups[("span rollups<br/>per 5 min and per hour")]
  end
  subgraph engines["Query engines"]
    stats["Stats · events · errors · services<br/>${count(totals.spans)} spans, ${count(totals.errors)} errors in range"]
    guard["SQL guard<br/>read-only, time and row limits"]
    analytics["Product analytics<br/>funnels · paths · retention · trends"]
    mining["Process mining<br/>maps · variants · conformance · OCPM"]
    replayEngine["Replay analysis<br/>chunks · frustration signals"]
  end
  subgraph pages["Pages"]
    pOverview["Overview"]
    pEvents["Events"]
    pErrors["Errors"]
    pEngineering["Engineering"]
    pVisitor["Visitor"]
    pQuery["Query studio"]
    pProduct["Funnels · Retention<br/>Paths · Analytics"]
    pProcesses["Processes · Compare · Operators<br/>Opportunities · OCPM"]
    pSessions["Sessions · Replay"]
  end
  browser --> http
  services --> http
  services --> grpc
  http --> queue
  grpc --> queue
  queue --> writers
  writers --> traces
  writers --> logs
  writers --> replay
  writers --> metricTables
  writers --> rollups
  rollups --> stats
  traces --> stats
  logs --> stats
  replay --> stats
  traces --> guard
  logs --> guard
  metricTables --> guard
  stats --> pOverview
  stats --> pEvents
  stats --> pErrors
  stats --> pEngineering
  stats --> pVisitor
  guard --> pQuery
  traces --> analytics
  traces --> mining
  replay --> replayEngine
  analytics --> pProduct
  mining --> pProcesses
  replayEngine --> pSessions
  classDef page fill:#2B7FBE,stroke:#1c537d,color:#fff
  class pOverview,pEvents,pErrors,pEngineering,pVisitor,pQuery,pProduct,pProcesses,pSessions page`;
}

let renderCount = 0;

async function drawDiagram(target, text, navigate) {
  const { default: mermaid } = await import("mermaid");
  mermaid.initialize({
    startOnLoad: false, securityLevel: "strict", theme: isDark() ? "dark" : "default",
    fontFamily: "Roboto, system-ui, sans-serif", flowchart: { curve: "basis", htmlLabels: true },
  });
  renderCount += 1;
  const { svg } = await mermaid.render(`architecture-diagram-${renderCount}`, text);
  target.innerHTML = svg;
  const element = target.querySelector("svg");
  element?.setAttribute("role", "img");
  element?.setAttribute("aria-label", "System diagram: senders, receivers, ingest queue, writers, store tables, query engines and pages");
  element?.style.setProperty("max-width", "100%");
  // Mermaid's own click handlers need a looser security level; wire the page boxes here.
  for (const [id, path] of Object.entries(PAGE_NODES)) {
    const node = target.querySelector(`g.node[id*="-${id}-"], g.node[id$="${id}"]`);
    if (!node) continue;
    node.style.cursor = "pointer";
    node.setAttribute("tabindex", "0");
    node.setAttribute("role", "link");
    node.addEventListener("click", () => navigate(pageLink(path)));
    node.addEventListener("keydown", (event) => { if (event.key === "Enter") navigate(pageLink(path)); });
  }
}

function countsTable(stats) {
  const rows = Object.entries(stats.tables || {}).map(([table, count]) => ({ table, count }));
  return dataTable([
    { label: "Table", value: (r) => h("span", { class: "font-mono text-xs" }, r.table) },
    { label: "Rows", align: "right", value: (r) => formatCount(r.count) },
  ], rows, { caption: "Rows per table" });
}

export function mount(root, { me, signal, navigate, onState }) {
  const diagramTarget = h("div", { class: "overflow-auto min-h-[20rem] flex justify-center" }, skeleton({ height: 320 }));
  const tableTarget = h("div", {}, skeleton({ lines: 6 }));
  const updated = h("span", { class: "text-xs muted", "aria-live": "polite" });
  let timer = null;

  async function refresh() {
    clearTimeout(timer);
    try {
      const stats = await api("/api/stats", { params: apiParams({ brief: "true" }), signal });
      replace(tableTarget, countsTable(stats));
      await drawDiagram(diagramTarget, diagram(me, stats), navigate);
      updated.textContent = "Counts refresh every 10 s";
    } catch (error) {
      if (isAbort(error)) return;
      console.error("architecture diagram failed", error);
      replace(diagramTarget, errorBox(error, { retry: refresh }));
    }
    if (!signal.aborted) timer = setTimeout(refresh, REFRESH_MS);
  }

  const onTheme = () => refresh();
  window.addEventListener("exos:theme", onTheme);
  replace(root, h("div", { class: "space-y-4" },
    card("How data flows through this server", diagramTarget, { actions: updated }),
    card("Rows per table (all time)", [h("div", { class: "max-w-md" }, tableTarget),
      h("p", { class: "text-xs muted mt-3" }, "Span and error counts in the diagram follow the chosen time range; table rows count everything stored.")])));
  onState(refresh);
  refresh();
  return () => {
    clearTimeout(timer);
    window.removeEventListener("exos:theme", onTheme);
  };
}
