// Opportunities (/opportunities): automation candidates ranked by estimated hours saved —
// rule-like steps (frequent, steady duration, fixed neighbour) and click sequences repeated
// across browser sessions — each with its evidence and links to example orders and replays.
// Page parameters: `min_count`, `max_cv`, `min_determinism`, `min_sessions`, `kind`.

import { h, replace } from "../lib/dom.js";
import { api, isAbort } from "../lib/api.js";
import { apiParams, params, updateQuery } from "../lib/state.js";
import { badge, card, dataTable, emptyState, errorBox, field, skeleton } from "../lib/ui.js";
import { barChart, PALETTE } from "../lib/charts.js";
import { formatCount, formatPercent, formatSeconds } from "../lib/format.js";
import { saveToDashboardButton } from "../lib/analysis-panels.js";

// Each threshold: parameter, label, default, and the bounds the API accepts.
const THRESHOLDS = [
  ["min_count", "Min. executions", "20", 1, 10_000_000, 1], ["max_cv", "Max. duration CV", "0.6", 0, 10, "any"],
  ["min_determinism", "Min. determinism", "0.8", 0, 1, "any"], ["min_sessions", "Min. sessions", "3", 1, 10_000_000, 1],
];
const KIND_LABELS = { step: "Rule-like step", click_sequence: "Click sequence" };
// Candidates in the chart at most.
const CHART_CANDIDATES = 12;

function currentRequest() {
  const search = params();
  const range = apiParams();
  const request = { from: range.from, to: range.to };
  for (const [key] of THRESHOLDS) if (search.get(key)) request[key] = search.get(key);
  return request;
}

const hours = (value) => (value >= 10 ? `${Math.round(value)} h` : `${value.toFixed(1)} h`);

function hoursChart(candidates) {
  const top = candidates.slice(0, CHART_CANDIDATES);
  if (top.length === 0) return emptyState("No candidates.", null, { compact: true, showGettingStarted: false });
  const short = (text) => (text.length > 48 ? `${text.slice(0, 46)}…` : text);
  return barChart(top.map((c) => short(c.title)), [{ label: "Estimated hours saved", data: top.map((c) => c.hours_saved),
    color: PALETTE[2] }], { horizontal: true, height: Math.max(160, 28 * top.length), label: "Automation candidates by estimated hours saved", yFormat: hours });
}

function evidence(candidate) {
  if (candidate.kind === "step") {
    const neighbour = (n, word) => (n ? `${word} ${n.activity} in ${formatPercent(n.share)}` : null);
    return h("span", { class: "text-xs" }, [
      `${formatCount(candidate.count)} runs, ${formatSeconds(candidate.mean_duration_s)} each (CV ${candidate.duration_cv.toFixed(2)})`,
      neighbour(candidate.predecessor, "; after"), neighbour(candidate.successor, "; before"),
    ].filter(Boolean).join(""));
  }
  return h("span", { class: "text-xs" },
    `${formatCount(candidate.count)} times in ${formatCount(candidate.sessions)} sessions, ${formatSeconds(candidate.mean_duration_s)} each`);
}

function candidatesTable(candidates) {
  return dataTable([
    { label: "#", align: "right", value: (_, i) => String(i + 1) },
    { label: "Kind", value: (c) => badge(KIND_LABELS[c.kind] || c.kind, c.kind === "step" ? "brand" : "warn") },
    { label: "Candidate", className: "max-w-[28rem]", value: (c) => h("span", { title: c.steps.join(" → ") }, c.title) },
    { label: "Hours saved", align: "right", value: (c) => h("strong", {}, hours(c.hours_saved)) },
    { label: "Evidence", className: "max-w-[28rem]", value: evidence },
    { label: "Examples", value: (c) => h("span", {}, (c.examples || []).map((e) => h("a", { class: "mr-2 text-xs font-mono", href: e.link, title: e.id }, e.id.length > 20 ? `${e.id.slice(0, 12)}…` : e.id))) },
  ], candidates, { caption: "Automation candidates, most hours first" });
}

function rejectedTable(rejected) {
  if (!rejected.length) return emptyState("Every activity qualified.", null, { compact: true, showGettingStarted: false });
  return dataTable([
    { label: "Activity", value: (r) => r.activity },
    { label: "Runs", align: "right", value: (r) => formatCount(r.count) },
    { label: "Duration CV", align: "right", value: (r) => r.duration_cv.toFixed(2) },
    { label: "Determinism", align: "right", value: (r) => formatPercent(r.determinism) },
    { label: "Why not", value: (r) => h("span", { class: "text-xs muted" }, r.reason) },
  ], rejected, { caption: "Steps that did not qualify" });
}

// Draws a saved dashboard panel: the hours-saved chart.
export function renderPanel(response) {
  return hoursChart(response.candidates || []);
}

function thresholdForm() {
  const search = params();
  const inputs = THRESHOLDS.map(([key, label, placeholder, min, max, step]) => [key, field(label, h("input", { class: "input w-28", type: "number", min, max, step, value: search.get(key) || "", placeholder, inputmode: "decimal" }))]);
  const apply = (event) => {
    event.preventDefault();
    const changes = {};
    for (const [key, wrapper] of inputs) changes[key] = wrapper.querySelector("input").value.trim() || null;
    updateQuery(changes);
  };
  return h("form", { class: "flex flex-wrap items-end gap-3", onsubmit: apply },
    inputs.map(([, wrapper]) => wrapper), h("button", { class: "btn", type: "submit" }, "Apply"));
}

export function mount(root, { signal, onState }) {
  let controller = null;
  const form = h("div");
  const content = h("div", { class: "space-y-4" });

  async function refresh() {
    controller?.abort();
    controller = new AbortController();
    signal.addEventListener("abort", () => controller.abort(), { once: true });
    replace(form, thresholdForm());
    replace(content, h("div", { class: "card p-4" }, skeleton({ height: 260 })));
    try {
      const data = await api("/api/opportunities", { params: currentRequest(), signal: controller.signal });
      const kind = params().get("kind");
      const candidates = (data.candidates || []).filter((c) => !kind || c.kind === kind);
      if (!candidates.length && !(data.rejected_steps || []).length) {
        replace(content, card(null, emptyState("No steps or click sequences in this range.", "Candidates come from business spans and browser user-interaction spans. Widen the range or send data.")));
        return;
      }
      const total = candidates.reduce((sum, c) => sum + c.hours_saved, 0);
      const save = saveToDashboardButton(() => ({ title: "Automation opportunities (hours saved)", analysis: { endpoint: "/api/opportunities", request: currentRequest(), page: "opportunities" } }));
      const kinds = h("select", { class: "input w-auto", "aria-label": "Kind", onchange: (e) => updateQuery({ kind: e.target.value || null }) },
        h("option", { value: "" }, "All kinds"), Object.entries(KIND_LABELS).map(([value, label]) => h("option", { value, selected: value === kind }, label)));
      replace(content,
        h("p", { class: "text-sm" }, `${formatCount(candidates.length)} candidates, up to ${hours(total)} of manual work in this range. `,
          h("span", { class: "muted" }, "Hours are upper bounds: all the time spent on the step or sequence.")),
        card("Estimated hours saved", hoursChart(candidates), { actions: h("div", { class: "flex gap-2" }, kinds, save) }),
        card("Candidates with evidence", candidates.length ? candidatesTable(candidates) : emptyState("No candidate passes the thresholds.", "Loosen them above.", { compact: true, showGettingStarted: false })),
        card("Rejected steps", rejectedTable(data.rejected_steps || [])),
        data.truncated ? h("p", { class: "text-xs muted" }, "Only the first 500,000 rows were read; narrow the range.") : null);
    } catch (error) {
      if (!isAbort(error)) replace(content, errorBox(error, { retry: refresh }));
    }
  }

  replace(root, h("div", { class: "space-y-4" }, card("Thresholds", form), content));
  onState(refresh);
  refresh();
  return () => controller?.abort();
}
