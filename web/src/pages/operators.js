// Operators (/operators): per operator throughput, handling and waiting time, rework rate
// and variants from the business spans, compared with the peers of the same LOB, and the
// workload over time. Page parameters: `lob`, `sort` (rework_rate, handling, waiting,
// throughput, cases) and `operator` (repeatable: the operators in the workload chart).

import { h, replace } from "../lib/dom.js";
import { api, isAbort } from "../lib/api.js";
import { apiParams, pageLink, params, updateQuery } from "../lib/state.js";
import { badge, card, dataTable, emptyState, errorBox, skeleton } from "../lib/ui.js";
import { barChart, lineChart, color, ERROR_COLOR, PALETTE } from "../lib/charts.js";
import { formatBucket, formatCount, formatPercent } from "../lib/format.js";
import { saveToDashboardButton } from "../lib/analysis-panels.js";

const SORTS = [
  ["rework_rate", "Rework rate"], ["handling", "Handling time"], ["waiting", "Waiting time"],
  ["throughput", "Throughput"], ["cases", "Orders"],
];
// Operators drawn in the comparison chart at most.
const CHART_OPERATORS = 15;

function currentRequest() {
  const search = params();
  const range = apiParams();
  const request = { from: range.from, to: range.to };
  for (const key of ["lob", "sort"]) if (search.get(key)) request[key] = search.get(key);
  const operators = search.getAll("operator");
  if (operators.length) request.operator = operators;
  return request;
}

const minutes = (value) => (value >= 90 ? `${(value / 60).toFixed(1)} h` : `${value.toFixed(1)} min`);

// A z-score against LOB peers, coloured when |z| ≥ 2.
function zBadge(compared, { higherIsWorse = true } = {}) {
  const z = compared?.z || 0;
  const text = `${z >= 0 ? "+" : ""}${z.toFixed(1)}σ`;
  if (Math.abs(z) < 2) return h("span", { class: "muted text-xs", title: `Peer mean ${compared?.peer_mean?.toFixed(2)}` }, text);
  return badge(text, (z > 0) === higherIsWorse ? "error" : "ok");
}

function reworkChart(data) {
  const top = (data.operators || []).filter((o) => !o.few_cases).slice(0, CHART_OPERATORS);
  if (top.length === 0) return emptyState("No operators with enough orders.", null, { compact: true, showGettingStarted: false });
  return barChart(top.map((o) => o.operator), [
    { label: "Rework rate", data: top.map((o) => o.rework_rate * 100), color: ERROR_COLOR },
    { label: "LOB peer mean", data: top.map((o) => o.rework_vs_peers.peer_mean * 100), color: PALETTE[7] },
  ], { height: 240, label: "Rework rate per operator against the mean of their LOB peers", yFormat: (v) => `${Number(v.toFixed(2))}%` });
}

function workloadChart(data) {
  const workload = data.workload || { buckets: [], series: [] };
  if (!workload.series.length) return emptyState("No workload in this range.", null, { compact: true, showGettingStarted: false });
  const labels = workload.buckets.map((t) => formatBucket(t, data.range?.bucket_s));
  return lineChart(labels, workload.series.map((s, i) => ({ label: s.operator, data: s.steps, color: color(i) })),
    { height: 240, label: "Steps per operator over time", yTitle: "steps", xTickLimit: 4 });
}

function lobTable(data) {
  return dataTable([
    { label: "LOB", value: (l) => h("a", { href: pageLink("/operators", { lob: l.lob }) }, l.lob || "(none)") },
    { label: "Operators", align: "right", value: (l) => formatCount(l.operators) },
    { label: "Mean rework rate", align: "right", value: (l) => formatPercent(l.rework_rate_mean) },
    { label: "Median handling", align: "right", value: (l) => minutes(l.handling_median_min) },
    { label: "Orders per day", align: "right", value: (l) => l.cases_per_day_mean.toFixed(1) },
  ], data.lobs || [], { caption: "Lines of business" });
}

function operatorsTable(data) {
  const selected = new Set(params().getAll("operator"));
  const toggle = (operator) => {
    const next = new Set(selected);
    if (next.has(operator)) next.delete(operator); else next.add(operator);
    updateQuery({ operator: [...next] });
  };
  return dataTable([
    { label: "Operator", value: (o) => h("span", { class: "flex items-center gap-2" }, h("strong", {}, o.operator), o.few_cases ? badge("few orders", "neutral") : null) },
    { label: "LOB", value: (o) => o.lob },
    { label: "Orders", align: "right", value: (o) => formatCount(o.cases) },
    { label: "Orders/day", align: "right", value: (o) => h("span", {}, o.cases_per_day.toFixed(1), " ", zBadge(o.throughput_vs_peers, { higherIsWorse: false })) },
    { label: "Handling (median)", align: "right", value: (o) => h("span", {}, minutes(o.handling_median_min), " ", zBadge(o.handling_vs_peers)) },
    { label: "Waiting (median)", align: "right", value: (o) => minutes(o.waiting_median_min) },
    { label: "Rework rate", align: "right", value: (o) => h("span", {}, formatPercent(o.rework_rate), " ", zBadge(o.rework_vs_peers)) },
    { label: "Variants", align: "right", value: (o) => h("span", { title: (o.top_variant || []).join(" → ") }, formatCount(o.variants)) },
    { label: "Looping orders", value: (o) => h("span", {}, (o.example_orders || []).map((id) => h("a", { class: "mr-2 text-xs", href: pageLink("/events", { q: id }) }, id))) },
  ], data.operators || [], { caption: "Operators", onRow: (o) => toggle(o.operator) });
}

// Draws a saved dashboard panel: the rework comparison chart.
export function renderPanel(response) {
  return reworkChart(response);
}

export function mount(root, { signal, onState }) {
  let controller = null;
  const lobSelect = h("select", { class: "input w-auto", "aria-label": "Line of business" });
  const sortSelect = h("select", { class: "input w-auto", "aria-label": "Sort by" },
    SORTS.map(([value, label]) => h("option", { value }, label)));
  const content = h("div", { class: "space-y-4" });
  lobSelect.addEventListener("change", () => updateQuery({ lob: lobSelect.value || null }));
  sortSelect.addEventListener("change", () => updateQuery({ sort: sortSelect.value }));

  async function refresh() {
    controller?.abort();
    controller = new AbortController();
    signal.addEventListener("abort", () => controller.abort(), { once: true });
    sortSelect.value = params().get("sort") || "rework_rate";
    replace(content, h("div", { class: "grid gap-4 xl:grid-cols-2" }, [1, 2].map(() => h("div", { class: "card p-4" }, skeleton({ height: 220 })))));
    try {
      const request = currentRequest();
      const [data, all] = await Promise.all([
        api("/api/operators", { params: request, signal: controller.signal }),
        request.lob ? api("/api/operators", { params: { from: request.from, to: request.to }, signal: controller.signal }) : null,
      ]);
      const lobs = (all || data).lobs.map((l) => l.lob);
      replace(lobSelect, h("option", { value: "" }, "All LOBs"), lobs.map((lob) => h("option", { value: lob, selected: lob === request.lob }, lob)));
      if (!(data.operators || []).length) {
        replace(content, card(null, emptyState("No operator activity in this range.", "Operators appear once business spans with order.id and operator.id arrive. Widen the time range or send data.")));
        return;
      }
      const save = saveToDashboardButton(() => ({ title: "Rework rate by operator", analysis: { endpoint: "/api/operators", request: currentRequest(), page: "operators" } }));
      replace(content,
        h("div", { class: "grid gap-4 xl:grid-cols-2" },
          card("Rework rate against LOB peers", reworkChart(data), { actions: save }),
          card("Workload over time", workloadChart(data), { actions: h("span", { class: "text-xs muted" }, "Click operators in the table to chart them") })),
        card("Operators", operatorsTable(data)),
        card("Peers by line of business", lobTable(data)),
        data.truncated ? h("p", { class: "text-xs muted" }, "Only the first 500,000 steps were read; narrow the range.") : null);
    } catch (error) {
      if (!isAbort(error)) replace(content, errorBox(error, { retry: refresh }));
    }
  }

  replace(root, h("div", { class: "space-y-4" },
    h("div", { class: "flex flex-wrap items-center gap-2" }, h("label", { class: "field-label" }, "LOB"), lobSelect,
      h("label", { class: "field-label ml-4" }, "Sort by"), sortSelect),
    content));
  onState(refresh);
  refresh();
  return () => controller?.abort();
}
