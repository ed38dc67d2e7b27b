// Process-mining pieces shared by the Processes page and the Compare tabs: the request
// scope sent to /api/process/*, the process map drawn with dagre and d3, and one order's
// timeline with links to its traces and browser replays.

import dagre from "@dagrejs/dagre";
import { select, zoom, zoomIdentity, scaleLinear, max } from "d3";
import { h } from "./dom.js";
import { api } from "./api.js";
import { currentRange, pageLink } from "./state.js";
import { PALETTE, alpha } from "./charts.js";
import { formatCount, formatPercent, formatTime } from "./format.js";
import { dataTable, emptyState, load, sidePanel } from "./ui.js";

const HIGHLIGHT = PALETTE[1];
const NODE_HEIGHT = 46;
// The smallest scale the map opens at, so that its 12 px labels show at 6 px or more.
const READABLE_SCALE = 0.5;
const START = "▶ start";
const END = "■ end";

// The `scope` of a process request: the default log definition (orders by `order.id`,
// activities by span name), the page's time range and the given filters.
export function processScope(filters = {}) {
  const range = currentRange();
  return { from: String(Math.round(range.from)), to: String(Math.round(range.to)), filters };
}

// Formats seconds for waits and case durations: `45 s`, `12 min`, `3.5 h`, `2.1 d`.
export function formatWait(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(Number(seconds))) return "—";
  const value = Number(seconds);
  if (value < 60) return `${value < 10 ? value.toFixed(1) : Math.round(value)} s`;
  if (value < 3600) return `${Math.round(value / 60)} min`;
  if (value < 86_400) return `${(value / 3600).toFixed(1)} h`;
  const days = value / 86_400;
  return `${days.toLocaleString("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 })} d`;
}

function nodeLabel(node, measure) {
  return measure === "performance" ? formatWait(node.duration.mean) : formatCount(node.count);
}

function edgeLabel(edge, measure) {
  return measure === "performance" ? formatWait(edge.wait.mean) : formatCount(edge.count);
}

// Lays the map out top to bottom with dagre; start and end are extra round nodes.
function layout(map, measure) {
  const graph = new dagre.graphlib.Graph({ multigraph: false });
  graph.setGraph({ rankdir: "TB", nodesep: 24, ranksep: 44, edgesep: 8, marginx: 16, marginy: 16 });
  graph.setDefaultEdgeLabel(() => ({}));
  graph.setNode(START, { width: 90, height: 30, kind: "terminal" });
  graph.setNode(END, { width: 90, height: 30, kind: "terminal" });
  for (const node of map.nodes) {
    graph.setNode(node.name, { width: Math.max(140, node.name.length * 7.4 + 30), height: NODE_HEIGHT, kind: "activity", data: node });
  }
  for (const edge of map.edges) {
    graph.setEdge(edge.from, edge.to, { data: edge, label: edgeLabel(edge, measure), width: 36, height: 16, labelpos: "c" });
  }
  for (const node of map.nodes) {
    if (node.starts > 0) graph.setEdge(START, node.name, { data: { count: node.starts, terminal: true }, label: formatCount(node.starts), width: 28, height: 16 });
    if (node.ends > 0) graph.setEdge(node.name, END, { data: { count: node.ends, terminal: true }, label: formatCount(node.ends), width: 28, height: 16 });
  }
  dagre.layout(graph);
  return graph;
}

// The edges of a highlighted variant, as "from→to" keys, start and end included.
function highlightKeys(highlight) {
  if (!highlight) return null;
  const steps = [START, ...highlight.activities, END];
  const keys = new Set();
  for (let i = 0; i + 1 < steps.length; i += 1) keys.add(`${steps[i]}→${steps[i + 1]}`);
  return { keys, nodes: new Set(highlight.activities) };
}

// Draws the process map as an SVG in a box. Edge width and node shade follow the frequency
// or the mean wait and processing time (`measure`). A highlighted variant's path is drawn
// in orange and the rest faded. Drag to pan, scroll to zoom.
export function processMapGraph(map, { measure = "frequency", height = 560, onNode } = {}) {
  if (!map.nodes.length) return emptyState("No activities to draw.", "No case in this range matches the filters.", { showGettingStarted: false, compact: true });
  const graph = layout(map, measure);
  const { width: graphWidth, height: graphHeight } = graph.graph();
  const marked = highlightKeys(map.highlight);
  const value = (edge) => (measure === "performance" ? edge.wait?.mean || 0 : edge.count);
  const edgeScale = scaleLinear().domain([0, max(map.edges, value) || 1]).range([1.2, 9]);
  const nodeScale = scaleLinear().domain([0, max(map.nodes, (node) => (measure === "performance" ? node.duration.mean : node.count)) || 1]).range([0.12, 0.85]);
  const base = measure === "performance" ? "#D64550" : PALETTE[0];

  const container = h("div", { class: "process-map relative w-full overflow-hidden rounded-md border border-[var(--border)]", style: { height: `${height}px` } });
  const svg = select(container).append("svg").attr("width", "100%").attr("height", height)
    .attr("role", "img").attr("aria-label", `Process map: ${map.nodes.length} activities, ${map.edges.length} paths`);
  const defs = svg.append("defs");
  for (const [id, fill] of [["pm-arrow", "var(--muted)"], ["pm-arrow-hl", HIGHLIGHT]]) {
    defs.append("marker").attr("id", id).attr("viewBox", "0 0 10 10").attr("refX", 9).attr("refY", 5).attr("markerUnits", "userSpaceOnUse")
      .attr("markerWidth", 9).attr("markerHeight", 9).attr("orient", "auto").append("path").attr("d", "M0,0L10,5L0,10z").attr("fill", fill);
  }
  const layer = svg.append("g");
  // The map fits the box, but never below a scale where labels stay readable: a larger
  // map then opens at its top, centred, and dragging shows the rest.
  const fitScale = () => Math.min(1, Math.max(READABLE_SCALE,
    Math.min((container.clientWidth || 900) / (graphWidth + 20), height / (graphHeight + 20))));
  const scale = fitScale();
  // An explicit extent: d3's default reads the SVG's width, which a percentage width
  // cannot resolve once the map is detached (redrawn while a frame was pending).
  const behaviour = zoom().scaleExtent([0.2, 3])
    .extent(() => [[0, 0], [container.clientWidth || 900, height]])
    .on("zoom", (event) => layer.attr("transform", event.transform));
  svg.call(behaviour);
  requestAnimationFrame(() => {
    if (!container.isConnected) return;
    const fit = fitScale();
    const x = ((container.clientWidth || 900) - graphWidth * fit) / 2;
    svg.call(behaviour.transform, zoomIdentity.translate(x, 8).scale(fit || scale));
  });

  for (const id of graph.edges()) {
    const edge = graph.edge(id);
    const key = `${id.v}→${id.w}`;
    const on = marked?.keys.has(key);
    const faded = marked && !on;
    const points = edge.points.map((p) => `${p.x},${p.y}`).join(" L");
    const width = edge.data.terminal ? 1.2 : edgeScale(value(edge.data));
    const group = layer.append("g").attr("class", "pm-edge").attr("data-edge", key);
    group.append("path").attr("d", `M${points}`).attr("fill", "none")
      .attr("stroke", on ? HIGHLIGHT : "var(--muted)").attr("stroke-opacity", faded ? 0.15 : 0.7)
      .attr("stroke-width", on ? Math.max(width, 3) : width).attr("stroke-dasharray", edge.data.terminal ? "4 3" : null)
      .attr("marker-end", `url(#${on ? "pm-arrow-hl" : "pm-arrow"})`);
    group.append("text").attr("x", edge.x).attr("y", edge.y + 4).attr("text-anchor", "middle").attr("class", "pm-edge-label")
      .attr("font-size", 11).attr("fill", on ? HIGHLIGHT : "var(--text)").attr("opacity", faded ? 0.3 : 0.9).text(edge.label);
    if (!edge.data.terminal) {
      const d = edge.data;
      group.append("title").text(`${d.from} → ${d.to}\n${formatCount(d.count)} times\nwait: mean ${formatWait(d.wait.mean)}, median ${formatWait(d.wait.median)}, p95 ${formatWait(d.wait.p95)}`);
    }
  }

  for (const name of graph.nodes()) {
    const node = graph.node(name);
    const group = layer.append("g").attr("class", "pm-node").attr("data-activity", name)
      .attr("transform", `translate(${node.x - node.width / 2},${node.y - node.height / 2})`);
    if (node.kind === "terminal") {
      group.append("rect").attr("width", node.width).attr("height", node.height).attr("rx", 15).attr("fill", "var(--surface)").attr("stroke", "var(--muted)");
      group.append("text").attr("x", node.width / 2).attr("y", 19).attr("text-anchor", "middle").attr("font-size", 12).attr("fill", "var(--text)").text(name);
      continue;
    }
    const data = node.data;
    const faded = marked && !marked.nodes.has(name);
    const shade = nodeScale(measure === "performance" ? data.duration.mean : data.count);
    group.attr("opacity", faded ? 0.35 : 1).attr("tabindex", "0").attr("role", "button").style("cursor", onNode ? "pointer" : "default");
    group.append("rect").attr("width", node.width).attr("height", node.height).attr("rx", 6)
      .attr("fill", alpha(base, shade)).attr("stroke", marked?.nodes.has(name) ? HIGHLIGHT : base).attr("stroke-width", marked?.nodes.has(name) ? 2.5 : 1);
    group.append("text").attr("x", node.width / 2).attr("y", 19).attr("text-anchor", "middle").attr("font-size", 12.5).attr("font-weight", 600)
      .attr("fill", shade > 0.55 ? "#fff" : "var(--text)").text(name);
    group.append("text").attr("x", node.width / 2).attr("y", 36).attr("text-anchor", "middle").attr("font-size", 11)
      .attr("fill", shade > 0.55 ? "#fff" : "var(--muted)").text(nodeLabel(data, measure));
    group.append("title").text(`${name}\n${formatCount(data.count)} events\nprocessing: mean ${formatWait(data.duration.mean)}, median ${formatWait(data.duration.median)}`);
    if (onNode) {
      group.on("click", () => onNode(data));
      group.on("keydown", (event) => { if (event.key === "Enter") onNode(data); });
    }
  }
  return container;
}

// Renders one order's activities as a table with links to each activity's trace and to
// the browser sessions of its operators. `trace` is the response of /api/process/case/{id}.
export function caseTimeline(trace) {
  const attributes = Object.entries(trace.attributes || {}).filter(([, value]) => value);
  const first = trace.events[0]?.start_ms || 0;
  const last = Math.max(...trace.events.map((event) => event.end_ms), first + 1);
  const bar = (event) => {
    const left = ((event.start_ms - first) / (last - first)) * 100;
    const width = Math.max(0.6, ((event.end_ms - event.start_ms) / (last - first)) * 100);
    return h("div", { class: "relative h-3 w-40 rounded bg-[var(--hover)]", title: `${formatTime(event.start_ms)} – ${formatTime(event.end_ms)}` },
      h("div", { class: "absolute top-0 h-3 rounded", style: { left: `${left}%`, width: `${width}%`, background: PALETTE[0] } }));
  };
  const table = dataTable([
    { label: "Activity", value: (event) => h("span", { class: "font-medium" }, event.activity) },
    { label: "Start", value: (event) => formatTime(event.start_ms) },
    { label: "Waited", align: "right", value: (event) => (event.wait_seconds === null ? "—" : formatWait(event.wait_seconds)) },
    { label: "Took", align: "right", value: (event) => formatWait(event.duration_seconds) },
    { label: "Operator", value: (event) => event.resource || "—" },
    { label: "When", value: bar },
    { label: "Trace", value: (event) => (event.trace_id
      ? h("a", { class: "link font-mono text-xs case-trace-link", href: pageLink("/engineering", { trace: event.trace_id }) }, `${event.trace_id.slice(0, 8)}…`)
      : "—") },
    { label: "Logs", align: "right", value: (event) => formatCount(event.logs) },
  ], trace.events, { caption: `Activities of ${trace.case}` });
  const sessions = trace.sessions.length
    ? dataTable([
      { label: "Browser session", value: (s) => h("a", { class: "link font-mono text-xs case-replay-link", href: pageLink("/replay", { session: s.session_id }) }, s.session_id.slice(0, 12)) },
      { label: "Operator", value: (s) => s.operator || "—" },
      { label: "From", value: (s) => formatTime(s.start_ms) },
      { label: "To", value: (s) => formatTime(s.end_ms) },
      // A session is listed when its spans carry the order id, or when one of the
      // order's operators had it open while the order ran.
      { label: "Linked by", value: (s) => (s.on_case ? "order id" : `operator, same time${s.case ? ` (on ${s.case})` : ""}`) },
    ], trace.sessions, { caption: "Browser sessions" })
    : h("p", { class: "muted text-sm" }, "No browser session of these operators around this order.");
  return h("div", { class: "space-y-4 case-timeline" },
    h("div", { class: "flex flex-wrap gap-4 text-sm" },
      h("span", {}, h("strong", {}, "Order "), trace.case),
      h("span", {}, h("strong", {}, "Duration "), formatWait(trace.duration_seconds)),
      h("span", {}, h("strong", {}, "Activities "), String(trace.events.length)),
      attributes.map(([key, value]) => h("span", {}, h("strong", {}, `${key} `), value))),
    table,
    h("h3", { class: "card-title" }, "Browser sessions"),
    trace.sessions.length ? h("p", { class: "muted text-xs case-sessions-note" },
      "Sessions whose spans carry this order's id, and sessions of its operators from an hour before its first step to an hour after its last.",
      trace.sessions_total > trace.sessions.length
        ? ` Showing ${formatCount(trace.sessions.length)} of ${formatCount(trace.sessions_total)}, those with the order's id first.`
        : "") : null,
    sessions);
}

// Opens one order's timeline in a side panel.
export function openCaseTrace(caseId, { scope = processScope() } = {}) {
  const { body } = sidePanel(`Order ${caseId}`, { wide: true });
  load(body, () => api(`/api/process/case/${encodeURIComponent(caseId)}`, { method: "POST", body: { scope } }), caseTimeline);
}

// A horizontal share bar with its label, for variant and bottleneck lists.
export function shareBar(share, { color = PALETTE[0] } = {}) {
  return h("div", { class: "flex items-center gap-2 min-w-[8rem]" },
    h("div", { class: "h-2 flex-1 rounded bg-[var(--hover)]" },
      h("div", { class: "h-2 rounded", style: { width: `${Math.max(1, share * 100)}%`, background: color } })),
    h("span", { class: "text-xs tabular-nums w-12 text-right" }, formatPercent(share)));
}
