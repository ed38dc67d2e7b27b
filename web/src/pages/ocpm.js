// OCPM (/ocpm): object-centric process mining over an imported event log or over business
// spans. Page parameters: `log` (an imported log; spans when absent), `objects` (span
// attribute keys that are object types, comma-separated) and `type` (the object type shown).
// Shows OCEL statistics, the chosen type's directly-follows graph (Mermaid), lifecycle
// variants, convergence and divergence per activity, and a form to import a log file.

import { h, replace } from "../lib/dom.js";
import { api, isAbort } from "../lib/api.js";
import { apiParams, params, updateQuery } from "../lib/state.js";
import { badge, card, dataTable, emptyState, errorBox, field, skeleton, toast } from "../lib/ui.js";
import { barChart } from "../lib/charts.js";
import { formatCount, formatDuration, formatPercent } from "../lib/format.js";
import { saveToDashboardButton } from "../lib/analysis-panels.js";
import { isDark } from "../lib/theme.js";

// Edges drawn at most in the graph; more stop being readable.
const MAX_DRAWN_EDGES = 40;
const IMPORT_FORMATS = ["", "xes", "csv", "parquet", "ocel-json", "ocel-xml", "ocel-sqlite"];

// The API request of the current URL, also what a dashboard panel stores.
function currentRequest() {
  const search = params();
  const log = search.get("log");
  if (log) return { log };
  const range = apiParams();
  const request = { from: range.from, to: range.to };
  if (search.get("objects")) request.objects = search.get("objects");
  return request;
}

function statisticsSection(data) {
  const stats = data.statistics;
  const tiles = [
    ["Events", stats.events], ["Objects", stats.objects],
    ["Event-object links", stats.event_object_links], ["Object-object links", stats.object_object_links],
  ].map(([label, value]) => h("div", { class: "kpi", role: "listitem" }, h("span", { class: "kpi-label" }, label), h("span", { class: "kpi-value" }, formatCount(value))));
  const perType = stats.objects_per_type || [];
  const chart = perType.length
    ? barChart(perType.map((t) => t.name), [{ label: "Objects", data: perType.map((t) => t.count) }], { height: 180, label: "Objects per object type", horizontal: true })
    : emptyState("No objects.", null, { compact: true, showGettingStarted: false });
  const qualifiers = dataTable([
    { label: "Qualifier", value: (q) => q.name || h("span", { class: "muted" }, "(none)") },
    { label: "Links", align: "right", value: (q) => formatCount(q.count) },
  ], (stats.links_per_qualifier || []).slice(0, 12), { caption: "Event-object links per qualifier" });
  return h("div", { class: "space-y-4" },
    h("div", { class: "kpi-grid", role: "list", "aria-label": "OCEL statistics" }, tiles),
    h("div", { class: "grid gap-4 xl:grid-cols-2" }, card("Objects per type", chart), card("Links per qualifier", qualifiers)));
}

// Mermaid node ids must be plain words; labels carry the activity names.
function mermaidGraph(view) {
  const edges = view.edges.slice(0, MAX_DRAWN_EDGES);
  const names = new Set();
  edges.forEach((e) => { names.add(e.source); names.add(e.target); });
  (view.start_activities || []).forEach((s) => names.add(s.name));
  const ids = new Map([...names].map((name, i) => [name, `a${i}`]));
  const label = (text) => text.replace(/["<>#;]/g, " ");
  const lines = ["flowchart LR", "  start((start))", "  stop((end))"];
  for (const [name, id] of ids) lines.push(`  ${id}["${label(name)}"]`);
  for (const s of view.start_activities || []) if (ids.has(s.name)) lines.push(`  start -->|${s.count}| ${ids.get(s.name)}`);
  for (const e of edges) lines.push(`  ${ids.get(e.source)} -->|${e.count}| ${ids.get(e.target)}`);
  for (const s of view.end_activities || []) if (ids.has(s.name)) lines.push(`  ${ids.get(s.name)} -->|${s.count}| stop`);
  return lines.join("\n");
}

let graphCount = 0;

async function drawGraph(target, view) {
  if (!view.edges.length && !(view.start_activities || []).length) {
    replace(target, emptyState("No directly-follows relations for this type.", null, { compact: true, showGettingStarted: false }));
    return;
  }
  const { default: mermaid } = await import("mermaid");
  mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: isDark() ? "dark" : "default", flowchart: { curve: "basis" } });
  graphCount += 1;
  const { svg } = await mermaid.render(`ocpm-dfg-${graphCount}`, mermaidGraph(view));
  target.innerHTML = svg;
  const element = target.querySelector("svg");
  element?.setAttribute("role", "img");
  element?.setAttribute("aria-label", `Directly-follows graph of object type ${view.object_type}`);
  element?.style.setProperty("max-width", "100%");
}

// A lifecycle's span in days, hours or minutes; a one-event lifecycle lasts 0 s.
function lifeSpan(seconds) {
  return seconds > 0 ? formatDuration(seconds * 1000) : "0 s";
}

function activitiesTable(view) {
  return dataTable([
    { label: "Activity", value: (a) => a.activity },
    { label: "Events", align: "right", value: (a) => formatCount(a.events) },
    { label: "Convergent", align: "right", value: (a) => a.convergent_events ? h("span", { title: "Events linked to more than one object of this type" }, `${formatCount(a.convergent_events)} (${formatPercent(a.convergent_events / a.events)})`) : "0" },
    { label: "Objects", align: "right", value: (a) => formatCount(a.objects) },
    { label: "Divergent", align: "right", value: (a) => a.divergent_objects ? h("span", { title: "Objects with this activity more than once" }, `${formatCount(a.divergent_objects)} (${formatPercent(a.divergent_objects / Math.max(a.objects, 1))})`) : "0" },
  ], view.activities || [], { caption: `Activities of ${view.object_type}: convergence and divergence` });
}

function lifecycleSection(view) {
  const life = view.lifecycles;
  const variants = dataTable([
    { label: "Lifecycle", className: "max-w-[36rem]", value: (v) => h("span", { class: "text-xs" }, v.activities.join(" → ")) },
    { label: "Objects", align: "right", value: (v) => formatCount(v.objects) },
    { label: "Share", align: "right", value: (v) => formatPercent(v.objects / Math.max(life.objects_with_events, 1)) },
  ], life.variants || [], { caption: "Most frequent lifecycles" });
  return h("div", { class: "space-y-3" },
    h("p", { class: "text-sm" },
      `${formatCount(life.objects_with_events)} objects with events, ${life.mean_events.toFixed(1)} events each on average; `,
      `lifecycle duration median ${lifeSpan(life.median_duration_s)}, mean ${lifeSpan(life.mean_duration_s)}, max ${lifeSpan(life.max_duration_s)}; `,
      `${formatCount(life.variant_count)} distinct lifecycles.`),
    variants,
    life.examples?.length ? h("p", { class: "text-xs muted" }, "Longest: ", life.examples.join(", ")) : null);
}

function typeSection(data, signal) {
  const types = data.object_types || [];
  if (types.length === 0) return card(null, emptyState("No object types.", "The log has no objects, or the spans carry none of the chosen keys.", { showGettingStarted: false }));
  const chosen = types.find((t) => t.object_type === params().get("type")) || types[0];
  const picker = h("select", { class: "input w-auto", "aria-label": "Object type", onchange: (event) => updateQuery({ type: event.target.value }) },
    types.map((t) => h("option", { value: t.object_type, selected: t === chosen }, `${t.object_type} (${formatCount(t.objects)})`)));
  const graph = h("div", { class: "overflow-auto min-h-[16rem] flex justify-center" }, skeleton({ height: 240 }));
  drawGraph(graph, chosen).catch((error) => { if (!signal.aborted) replace(graph, errorBox(error)); });
  const save = saveToDashboardButton(() => ({
    title: `Directly-follows graph of ${chosen.object_type}`,
    analysis: { endpoint: "/api/ocpm", request: { ...currentRequest(), type: chosen.object_type }, page: "ocpm" },
  }));
  return h("div", { class: "space-y-4" },
    h("div", { class: "flex items-center gap-2" }, h("label", { class: "field-label" }, "Object type"), picker,
      chosen.edges_truncated ? badge(`top ${chosen.edges.length} edges`, "warn") : null),
    card(`Directly-follows graph: ${chosen.object_type}`, graph, { actions: save }),
    h("div", { class: "grid gap-4 xl:grid-cols-2" }, card("Lifecycles", lifecycleSection(chosen)), card("Convergence and divergence", activitiesTable(chosen))));
}

// Draws a saved dashboard panel: the DFG of the saved object type.
export function renderPanel(response, panel) {
  const view = (response.object_types || []).find((t) => t.object_type === panel.analysis?.request?.type) || (response.object_types || [])[0];
  if (!view) return emptyState("No object types.", null, { compact: true, showGettingStarted: false });
  const target = h("div", { class: "overflow-auto flex justify-center" }, skeleton({ height: 200 }));
  drawGraph(target, view).catch((error) => replace(target, errorBox(error)));
  return target;
}

// The import form: uploads the raw file with a progress bar, shows that the server is
// reading it once the upload is done, then shows the import report.
function importForm(me, onImported) {
  const input = h("input", { type: "file", class: "input", "aria-label": "Log file" });
  const name = h("input", { class: "input", placeholder: "Name in the store (default: file name)" });
  const format = h("select", { class: "input" }, IMPORT_FORMATS.map((f) => h("option", { value: f }, f || "from the file name")));
  const onError = h("select", { class: "input" }, ["skip", "repair", "fail"].map((p) => h("option", { value: p }, p)));
  const progress = h("progress", { max: 100, value: 0, class: "w-full", hidden: true, "aria-label": "Upload progress" });
  const report = h("div", { "aria-live": "polite" });
  const stage = h("span", { class: "text-sm muted whitespace-nowrap", role: "status" });
  const submit = h("button", { class: "btn btn-primary", type: "submit" }, "Import");
  if (me?.role !== "admin") {
    return h("p", { class: "text-sm muted" }, "Importing logs needs the admin role.");
  }
  const send = (event) => {
    event.preventDefault();
    const file = input.files?.[0];
    if (!file) { toast("Choose a log file first.", { kind: "error" }); return; }
    const query = new URLSearchParams({ file: file.name, on_error: onError.value });
    if (name.value.trim()) query.set("name", name.value.trim());
    if (format.value) query.set("format", format.value);
    const request = new XMLHttpRequest();
    request.open("POST", `/api/logs/import?${query}`);
    request.setRequestHeader("content-type", "application/octet-stream");
    if (me?.csrf_token) request.setRequestHeader("x-csrf-token", me.csrf_token);
    progress.hidden = false;
    progress.value = 0;
    submit.disabled = true;
    stage.textContent = `Uploading ${file.name}…`;
    request.upload.onprogress = (e) => { if (e.lengthComputable) progress.value = (100 * e.loaded) / e.total; };
    // Once the bytes are sent, the server parses, checks and stores the log: the bar
    // turns indeterminate until its report arrives.
    request.upload.onload = () => {
      progress.removeAttribute("value");
      progress.setAttribute("aria-label", "Reading and storing the log");
      stage.textContent = "Reading, checking and storing the log on the server…";
    };
    request.onloadend = () => {
      submit.disabled = false;
      progress.hidden = true;
      progress.setAttribute("aria-label", "Upload progress");
      stage.textContent = "";
      let body = null;
      try { body = JSON.parse(request.responseText); } catch { body = null; }
      if (request.status === 201 && body) {
        replace(report, importReport(body));
        onImported(body.log.log_id);
      } else {
        replace(report, errorBox(new Error(body?.error?.message || `import failed with status ${request.status}`)));
      }
    };
    request.send(file);
  };
  return h("form", { class: "space-y-3", onsubmit: send },
    h("div", { class: "grid gap-3 md:grid-cols-4" }, field("File", input), field("Name", name), field("Format", format), field("Broken records", onError)),
    h("div", { class: "flex items-center gap-3" }, submit, progress, stage), report);
}

function importReport(summary) {
  const log = summary.log;
  return h("div", { class: "space-y-2 mt-3" },
    h("p", { class: "text-sm" }, `Imported ${log.log_id}: ${formatCount(log.events)} events, ${formatCount(log.objects)} objects. `,
      `${formatCount(summary.issue_count)} problems, ${formatCount(summary.skipped)} records skipped, ${formatCount(summary.repaired)} repaired.`),
    summary.issues?.length ? dataTable([
      { label: "Where", value: (i) => h("span", { class: "font-mono text-xs" }, i.location) },
      { label: "Kind", value: (i) => badge(i.kind, "warn") },
      { label: "Problem", value: (i) => i.message },
    ], summary.issues, { caption: "Import report" }) : null);
}

export function mount(root, { me, signal, onState }) {
  let controller = null;
  const sourcePicker = h("select", { class: "input w-auto", "aria-label": "Source" });
  const objectsInput = h("input", { class: "input w-64", placeholder: "order.id,document.id,operator.id", "aria-label": "Object keys of spans" });
  const content = h("div", { class: "space-y-4" });

  sourcePicker.addEventListener("change", () => updateQuery({ log: sourcePicker.value || null, type: null }));
  objectsInput.addEventListener("change", () => updateQuery({ objects: objectsInput.value.trim() || null, type: null }));

  async function loadLogs() {
    const data = await api("/api/logs", { signal: controller.signal });
    const current = params().get("log") || "";
    replace(sourcePicker, h("option", { value: "" }, "Spans (business steps)"),
      (data.logs || []).map((log) => h("option", { value: log.log_id, selected: log.log_id === current }, `${log.log_id} (${log.format}, ${formatCount(log.events)} events)`)));
    objectsInput.disabled = Boolean(current);
    objectsInput.value = params().get("objects") || "";
  }

  async function refresh() {
    controller?.abort();
    controller = new AbortController();
    signal.addEventListener("abort", () => controller.abort(), { once: true });
    replace(content, h("div", { class: "grid gap-4 xl:grid-cols-2" }, [1, 2].map(() => h("div", { class: "card p-4" }, skeleton({ height: 180 })))));
    try {
      await loadLogs();
      const data = await api("/api/ocpm", { params: currentRequest(), signal: controller.signal });
      if (!data.statistics.events) {
        replace(content, card(null, emptyState("No events to mine.", data.source === "spans"
          ? "No business spans (with order.id and operator.id) in this range. Widen the range, or import a log below."
          : "This log has no events.")));
        return;
      }
      replace(content, statisticsSection(data), typeSection(data, controller.signal),
        data.truncated ? h("p", { class: "text-xs muted" }, "Only the first 500,000 spans were read; narrow the range for the full picture.") : null);
    } catch (error) {
      if (!isAbort(error)) replace(content, errorBox(error, { retry: refresh }));
    }
  }

  replace(root, h("div", { class: "space-y-4" },
    h("div", { class: "flex flex-wrap items-center gap-2" }, h("label", { class: "field-label" }, "Source"), sourcePicker,
      h("label", { class: "field-label ml-4" }, "Object keys"), objectsInput),
    content,
    card("Import an event log", importForm(me, (logId) => updateQuery({ log: logId, type: null })))));
  onState(refresh);
  refresh();
  return () => controller?.abort();
}
