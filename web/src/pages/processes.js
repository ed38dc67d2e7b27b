// Processes (/processes): how orders really flow. The process map (frequency or
// performance, with Disco-style activity and path sliders), the variants with their
// shares (selecting one highlights its path), the case-duration distribution and
// throughput, discovery with the inductive miner, and conformance with streamed progress.
// Everything comes from POST /api/process/*; the view state lives in the URL:
// `measure`, `acts`, `paths`, `variant`, `lob`, `noise`, `model`, `discover`, `case`.

import { h, replace } from "../lib/dom.js";
import { api, csrfHeaders, isAbort } from "../lib/api.js";
import { params, updateQuery } from "../lib/state.js";
import { card, dataTable, emptyState, errorBox, load, skeleton } from "../lib/ui.js";
import { barChart, lineChart } from "../lib/charts.js";
import { isDark } from "../lib/theme.js";
import { formatCount, formatPercent, formatTime } from "../lib/format.js";
import { saveToDashboardButton } from "../lib/analysis-panels.js";
import { formatWait, openCaseTrace, processMapGraph, processScope, shareBar } from "../lib/process.js";

// The view state from the URL, with defaults.
function viewState() {
  const search = params();
  const percent = (key, fallback) => {
    const value = Number(search.get(key));
    return Number.isFinite(value) && search.get(key) !== null ? Math.min(100, Math.max(0, value)) : fallback;
  };
  const variant = search.get("variant");
  return {
    measure: search.get("measure") === "performance" ? "performance" : "frequency",
    acts: percent("acts", 100),
    paths: percent("paths", 100),
    // The URL numbers variants from 1, as the list shows them; the API ranks from 0.
    variant: variant !== null && /^[1-9]\d*$/.test(variant) ? Number(variant) - 1 : null,
    lob: search.get("lob") || "",
    noise: percent("noise", 20),
    model: search.get("model") === "petri" ? "petri" : "tree",
    discover: search.get("discover") === "1",
    case: search.get("case") || "",
  };
}

function scopeOf(state) {
  return processScope(state.lob ? { case_attributes: { lob: [state.lob] } } : {});
}

function mapRequest(state) {
  return { scope: scopeOf(state), activity_share: state.acts / 100, path_share: state.paths / 100, highlight_variant: state.variant };
}

// ---- dashboard panels -------------------------------------------------------------------

// Draws a saved panel: the map, the duration histogram or the throughput chart.
export function renderPanel(response, panel) {
  const chart = panel.analysis?.chart;
  if (chart === "map") return processMapGraph(response, { measure: panel.analysis.measure, height: (panel.h || 340) - 40 });
  if (chart === "histogram") return durationChart(response, 220);
  if (chart === "throughput") return throughputChart(response, 220);
  return h("p", { class: "muted text-sm" }, `Unknown process chart ${chart}.`);
}

function savePanel(title, endpoint, request, chart, extra = {}) {
  return saveToDashboardButton(() => ({ title, analysis: { endpoint, request, page: "processes", chart, ...extra }, w: chart === "map" ? 12 : 6, h: chart === "map" ? 520 : 300 }));
}

// ---- pieces -----------------------------------------------------------------------------

function segmented(options, selected, onSelect, label) {
  return h("div", { class: "inline-flex rounded-md border border-[var(--border)] overflow-hidden", role: "group", "aria-label": label },
    options.map(([id, text]) => h("button", {
      type: "button", class: `btn btn-sm rounded-none border-0 ${id === selected ? "btn-primary" : ""}`,
      "aria-pressed": String(id === selected), dataset: { option: id }, onclick: () => onSelect(id),
    }, text)));
}

function slider(id, label, value, onChange) {
  const output = h("output", { class: "text-xs tabular-nums w-10 text-right", for: id }, `${value}%`);
  const input = h("input", {
    type: "range", id, min: "0", max: "100", step: "5", value: String(value), class: "w-36 accent-[#2b7fbe]",
    "aria-label": label,
    oninput: () => { output.textContent = `${input.value}%`; },
    onchange: () => onChange(Number(input.value)),
  });
  return h("label", { class: "flex items-center gap-2 text-sm", for: id }, h("span", { class: "muted" }, label), input, output);
}

function durationChart(answer, height = 240) {
  if (!answer.histogram.length) return emptyState("No cases.", null, { showGettingStarted: false, compact: true });
  const labels = answer.histogram.map((bin) => `${formatWait(bin.from_seconds)}–${formatWait(bin.to_seconds)}`);
  return barChart(labels, [{ label: "Cases", data: answer.histogram.map((bin) => bin.cases) }], { height, label: "Case duration distribution", legend: false });
}

function throughputChart(answer, height = 240) {
  if (!answer.throughput.length) return emptyState("No cases.", null, { showGettingStarted: false, compact: true });
  const labels = answer.throughput.map((row) => formatTime(row.start_ms, { seconds: false }));
  const chart = lineChart(labels, [
    { label: "Started", data: answer.throughput.map((row) => row.cases_started) },
    { label: "Completed", data: answer.throughput.map((row) => row.cases_completed) },
  ], { height, label: "Cases started and completed per day" });
  const ends = answer.end_activities || [];
  const endNames = ends.slice(0, 4).join(", ") + (ends.length > 4 ? ` and ${ends.length - 4} more` : "");
  return h("div", {}, chart, h("p", { class: "muted text-xs mt-1 process-throughput-note" }, ends.length
    ? `Completed: cases whose last step is ${endNames}, steps no case went on after. Other cases are still running.`
    : "No step ends cases for good in this range, so no case counts as completed."));
}

function variantList(answer, selected, onSelect) {
  if (!answer.variants.length) return emptyState("No variants.", "No case in this range matches the filters.", { showGettingStarted: false, compact: true });
  const rows = answer.variants.map((variant) => h("li", {},
    h("button", {
      type: "button", class: `variant-row w-full text-left rounded-md px-2 py-1.5 hover:bg-[var(--hover)] ${variant.rank === selected ? "ring-2 ring-[#E8833A]" : ""}`,
      "aria-pressed": String(variant.rank === selected), dataset: { rank: String(variant.rank) },
      onclick: () => onSelect(variant.rank === selected ? null : variant.rank),
      title: variant.activities.join(" → "),
    },
    h("div", { class: "flex justify-between text-sm" },
      h("span", { class: "font-medium" }, `Variant ${variant.rank + 1}`),
      h("span", { class: "muted text-xs" }, `${formatCount(variant.count)} cases · ${variant.activities.length} ${variant.activities.length === 1 ? "step" : "steps"} · median ${formatWait(variant.duration.median)}`)),
    shareBar(variant.share))));
  return h("div", {},
    h("p", { class: "muted text-xs mb-2" }, `${formatCount(answer.total_variants)} variants over ${formatCount(answer.cases)} cases`),
    h("ol", { class: "space-y-1 max-h-[520px] overflow-auto pr-1" }, rows));
}

// ---- discovery and conformance --------------------------------------------------------

let diagramCount = 0;

async function drawMermaid(target, text, label) {
  const { default: mermaid } = await import("mermaid");
  mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: isDark() ? "dark" : "default", fontFamily: "Roboto, system-ui, sans-serif", maxTextSize: 200_000 });
  diagramCount += 1;
  const { svg } = await mermaid.render(`process-model-${diagramCount}`, text);
  target.innerHTML = svg;
  const element = target.querySelector("svg");
  element?.setAttribute("role", "img");
  element?.setAttribute("aria-label", label);
  element?.style.setProperty("max-width", "100%");
}

function discoveryView(answer, model) {
  const diagram = h("div", { class: "discovery-diagram overflow-auto" }, skeleton({ height: 200 }));
  const text = model === "petri" ? answer.petri_mermaid : answer.tree_mermaid;
  drawMermaid(diagram, text, model === "petri" ? "Petri net of the discovered model" : "Process tree of the discovered model")
    .catch((error) => replace(diagram, errorBox(error)));
  return h("div", { class: "space-y-2" },
    h("p", { class: "muted text-xs" }, `${formatCount(answer.cases)} cases · noise ${formatPercent(answer.noise_threshold)} · ${answer.places} places, ${answer.transitions} transitions`),
    h("pre", { class: "text-xs font-mono whitespace-pre-wrap break-all bg-[var(--hover)] rounded p-2" }, answer.tree),
    diagram);
}

// Reads the conformance stream: JSON lines of progress, then the result.
async function streamConformance(request, onProgress, signal) {
  const response = await fetch("/api/process/conformance", {
    method: "POST", credentials: "same-origin", signal,
    headers: { "content-type": "application/json", accept: "application/x-ndjson", ...csrfHeaders() },
    body: JSON.stringify(request),
  });
  if (!response.ok) {
    const data = await response.json().catch(() => null);
    throw new Error(data?.error?.message || `conformance failed with HTTP ${response.status}`);
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let result = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let newline;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const line = JSON.parse(buffer.slice(0, newline));
      buffer = buffer.slice(newline + 1);
      if (line.kind === "progress") onProgress(line);
      else if (line.kind === "error") throw new Error(line.message);
      else if (line.kind === "result") result = line;
    }
  }
  if (!result) throw new Error("the conformance stream ended without a result");
  return result;
}

function conformanceView(result) {
  const figures = [
    ["Fitting cases (token replay)", `${result.perc_fit_traces.toFixed(1)}%`],
    ["Log fitness (token replay)", result.log_fitness.toFixed(3)],
    ["Alignment fitness", result.alignment_fitness.toFixed(3)],
    ["Variants aligned", `${formatCount(result.aligned_variants)} of ${formatCount(result.total_variants)}${result.complete ? "" : " (time budget reached)"}`],
  ];
  return h("div", { class: "space-y-3 conformance-result" },
    h("dl", { class: "grid grid-cols-2 md:grid-cols-4 gap-3" }, figures.map(([label, value]) =>
      h("div", { class: "rounded-md border border-[var(--border)] p-2" }, h("dt", { class: "muted text-xs" }, label), h("dd", { class: "text-lg font-semibold" }, value)))),
    dataTable([
      { label: "Variant", value: (v) => h("span", { class: "text-xs", title: v.activities.join(" → ") }, `${v.activities.length} ${v.activities.length === 1 ? "step" : "steps"}: ${v.activities.slice(0, 4).join(" → ")}${v.activities.length > 4 ? " …" : ""}`) },
      { label: "Cases", align: "right", value: (v) => formatCount(v.count) },
      { label: "Deviations", align: "right", value: (v) => (v.deviations === null ? "—" : String(v.deviations)) },
      { label: "Alignment fitness", align: "right", value: (v) => (v.alignment_fitness === null ? "—" : v.alignment_fitness.toFixed(3)) },
      { label: "Replay fitness", align: "right", value: (v) => v.replay_fitness.toFixed(3) },
    ], result.variants.slice(0, 25), { caption: "Conformance per variant" }),
    result.deviations.length ? dataTable([
      { label: "Activity", value: (d) => d.activity },
      { label: "Log moves", align: "right", value: (d) => formatCount(d.log_moves) },
      { label: "Model moves", align: "right", value: (d) => formatCount(d.model_moves) },
    ], result.deviations, { caption: "Deviations per activity" }) : h("p", { class: "muted text-sm" }, "No deviations: every aligned case fits the model."));
}

// ---- the page ---------------------------------------------------------------------------

export function mount(root, context) {
  const { signal, onState } = context;
  let state = viewState();
  let controller = null;

  const mapBody = h("div", {});
  const variantsBody = h("div", {});
  const histogramBody = h("div", {});
  const throughputBody = h("div", {});
  const discoveryBody = h("div", {}, h("p", { class: "muted text-sm" }, "Run discovery to mine a model from the cases shown."));
  const conformanceBody = h("div", {}, h("p", { class: "muted text-sm" }, "Check how well the cases fit the discovered model."));
  const toolbar = h("div", { class: "flex flex-wrap items-center gap-4" });
  const mapActions = h("div", { class: "flex gap-2" });
  const histogramActions = h("div", {});
  const throughputActions = h("div", {});
  const lobSelect = h("select", { class: "input input-sm w-auto", "aria-label": "Line of business", onchange: () => updateQuery({ lob: lobSelect.value || null, variant: null }) },
    h("option", { value: "" }, "All lines of business"));
  const orderInput = h("input", { class: "input input-sm w-64", placeholder: "Order id, e.g. ORD-2026-000123", "aria-label": "Order id" });
  const orderForm = h("form", { class: "flex gap-2", onsubmit: (event) => { event.preventDefault(); if (orderInput.value.trim()) updateQuery({ case: orderInput.value.trim() }); } },
    orderInput, h("button", { class: "btn btn-sm", type: "submit" }, "Open order"));

  function drawToolbar() {
    replace(toolbar,
      segmented([["frequency", "Frequency"], ["performance", "Performance"]], state.measure, (id) => updateQuery({ measure: id === "frequency" ? null : id }, { replace: true }), "Map measure"),
      slider("process-acts", "Activities", state.acts, (value) => updateQuery({ acts: value === 100 ? null : value }, { replace: true })),
      slider("process-paths", "Paths", state.paths, (value) => updateQuery({ paths: value === 100 ? null : value }, { replace: true })),
      lobSelect, orderForm);
  }

  function refresh() {
    controller?.abort();
    controller = new AbortController();
    signal.addEventListener("abort", () => controller.abort(), { once: true });
    const requestSignal = controller.signal;
    drawToolbar();
    const request = mapRequest(state);
    replace(mapActions, savePanel("Process map", "/api/process/map", request, "map", { measure: state.measure }));
    load(mapBody, () => api("/api/process/map", { method: "POST", body: request, signal: requestSignal }), (map) => h("div", { class: "space-y-2" },
      h("p", { class: "muted text-xs process-map-summary" },
        `${formatCount(map.cases)} cases · ${formatCount(map.events)} events · showing ${map.nodes.length} of ${map.total_activities} activities and ${map.edges.length} of ${map.total_edges} paths`
        + (map.highlight ? ` · variant ${map.highlight.rank + 1} highlighted (${formatCount(map.highlight.count)} cases)` : "")),
      processMapGraph(map, { measure: state.measure })), { placeholder: skeleton({ height: 560 }) });
    const scope = scopeOf(state);
    load(variantsBody, () => api("/api/process/variants", { method: "POST", body: { scope, limit: 30 }, signal: requestSignal }),
      (answer) => variantList(answer, state.variant, (rank) => updateQuery({ variant: rank === null ? null : rank + 1 }, { replace: true })));
    const casesRequest = { scope, bins: 30, bucket: "day" };
    replace(histogramActions, savePanel("Case durations", "/api/process/cases", casesRequest, "histogram"));
    replace(throughputActions, savePanel("Throughput", "/api/process/cases", casesRequest, "throughput"));
    const casesAnswer = api("/api/process/cases", { method: "POST", body: casesRequest, signal: requestSignal });
    load(histogramBody, () => casesAnswer, (answer) => h("div", {},
      h("p", { class: "muted text-xs mb-1" }, `median ${formatWait(answer.duration.median)} · mean ${formatWait(answer.duration.mean)} · p95 ${formatWait(answer.duration.p95)}`),
      durationChart(answer)));
    load(throughputBody, () => casesAnswer, (answer) => throughputChart(answer));
    fillLobs(requestSignal);
    if (state.discover) runDiscovery();
    if (state.case) openCaseTrace(state.case, { scope });
  }

  async function fillLobs(requestSignal) {
    try {
      const answer = await api("/api/process/rework", { method: "POST", body: { scope: processScope(), min_cases: 1 }, signal: requestSignal });
      const names = answer.groups.map((group) => group.name).filter(Boolean).sort();
      replace(lobSelect, h("option", { value: "" }, "All lines of business"), names.map((name) => h("option", { value: name, selected: name === state.lob }, name)));
    } catch (error) {
      if (!isAbort(error)) console.warn("cannot list lines of business", error);
    }
  }

  const noiseOutput = h("output", { class: "text-xs tabular-nums w-10" }, `${state.noise}%`);
  const noiseInput = h("input", { type: "range", min: "0", max: "100", step: "5", value: String(state.noise), class: "w-36", "aria-label": "Noise threshold",
    oninput: () => { noiseOutput.textContent = `${noiseInput.value}%`; } });
  const modelChoice = h("span", {});

  function drawModelChoice() {
    replace(modelChoice, segmented([["tree", "Process tree"], ["petri", "Petri net"]], state.model, (id) => updateQuery({ model: id === "tree" ? null : id }, { replace: true }), "Model notation"));
  }

  function runDiscovery() {
    const request = { scope: scopeOf(state), noise_threshold: Number(noiseInput.value) / 100 };
    load(discoveryBody, () => api("/api/process/discovery", { method: "POST", body: request, signal: controller.signal }), (answer) => discoveryView(answer, state.model));
  }

  const budget = h("select", { class: "input input-sm w-auto", "aria-label": "Time budget" },
    [5, 10, 30, 60].map((seconds) => h("option", { value: String(seconds), selected: seconds === 10 }, `${seconds} s budget`)));

  async function runConformance() {
    const bar = h("div", { class: "h-2 rounded bg-[#2b7fbe] transition-all", style: { width: "0%" } });
    const label = h("p", { class: "muted text-xs conformance-progress" }, "Discovering the model and replaying the cases…");
    replace(conformanceBody, h("div", { class: "space-y-2", role: "status" }, label, h("div", { class: "h-2 rounded bg-[var(--hover)]" }, bar)));
    const request = { scope: scopeOf(state), noise_threshold: Number(noiseInput.value) / 100, time_budget_seconds: Number(budget.value) };
    try {
      const result = await streamConformance(request, (progress) => {
        bar.style.width = `${(progress.done / Math.max(1, progress.total)) * 100}%`;
        label.textContent = `Aligned ${formatCount(progress.done)} of ${formatCount(progress.total)} variants…`;
      }, controller.signal);
      replace(conformanceBody, conformanceView(result));
    } catch (error) {
      if (!isAbort(error)) replace(conformanceBody, errorBox(error, { retry: runConformance }));
    }
  }

  drawModelChoice();
  replace(root, h("div", { class: "space-y-4" },
    card(null, toolbar),
    h("div", { class: "grid grid-cols-1 xl:grid-cols-3 gap-4" },
      h("div", { class: "xl:col-span-2" }, card("Process map", mapBody, { actions: mapActions, id: "process-map-title" })),
      card("Variants", variantsBody, { id: "process-variants-title" })),
    h("div", { class: "grid grid-cols-1 lg:grid-cols-2 gap-4" },
      card("Case durations", histogramBody, { actions: histogramActions, id: "process-durations-title" }),
      card("Throughput", throughputBody, { actions: throughputActions, id: "process-throughput-title" })),
    card("Discovery", h("div", { class: "space-y-3" },
      h("div", { class: "flex flex-wrap items-center gap-3" },
        h("label", { class: "flex items-center gap-2 text-sm" }, h("span", { class: "muted" }, "Noise"), noiseInput, noiseOutput),
        modelChoice,
        h("button", { class: "btn btn-primary btn-sm", type: "button", id: "run-discovery", onclick: () => updateQuery({ discover: "1", noise: Number(noiseInput.value) }, { replace: true }) }, "Run discovery")),
      discoveryBody), { id: "process-discovery-title" }),
    card("Conformance", h("div", { class: "space-y-3" },
      h("div", { class: "flex flex-wrap items-center gap-3" }, budget,
        h("button", { class: "btn btn-sm", type: "button", id: "run-conformance", onclick: runConformance }, "Check conformance")),
      conformanceBody), { id: "process-conformance-title" })));

  onState(() => {
    const next = viewState();
    const onlyCase = next.case !== state.case && JSON.stringify({ ...next, case: "" }) === JSON.stringify({ ...state, case: "" });
    const onlyModel = next.model !== state.model && JSON.stringify({ ...next, model: "" }) === JSON.stringify({ ...state, model: "" });
    state = next;
    drawModelChoice();
    if (onlyCase) {
      if (state.case) openCaseTrace(state.case, { scope: scopeOf(state) });
      return;
    }
    if (onlyModel) {
      if (state.discover) runDiscovery();
      return;
    }
    refresh();
  });
  refresh();
}

