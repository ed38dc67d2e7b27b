// Retention (/retention): cohorts of actors who did a start event, and how many did a return
// event 1, 2, … periods later, with ClickHouse's retention() semantics (POST /api/retention).
// Shows a heatmap table per cohort and the retention curve, first-time or recurring, by day,
// week or month, optionally split by an attribute. The definition lives in the URL.

import { h, replace } from "../lib/dom.js";
import { api, isAbort } from "../lib/api.js";
import { updateQuery } from "../lib/state.js";
import { card, emptyState, errorBox, field, skeleton } from "../lib/ui.js";
import { lineChart, color, alpha, PALETTE } from "../lib/charts.js";
import { countOf, formatCount, formatPercent } from "../lib/format.js";
import { saveToDashboardButton } from "../lib/analysis-panels.js";
import { ACTORS, ACTOR_COLUMNS, BREAKDOWN_KEYS, PERIODS, retentionParams, retentionRequest, retentionState, spanNames } from "../lib/funnel-query.js";
import { cohortSelect, library } from "../lib/product.js";

function periodLabel(ms, period) {
  const text = new Date(ms).toISOString();
  return period === "month" ? text.slice(0, 7) : text.slice(0, 10);
}

function curveChart(response, { height = 240 } = {}) {
  const labels = Array.from({ length: response.periods }, (_, k) => `${response.period} ${k}`);
  const shown = response.series.length ? response.series : [response.total];
  const series = shown.map((item, index) => ({
    label: response.series.length ? item.breakdown || "(none)" : "Retained", data: item.curve.map((value) => value ?? null), color: color(index),
  }));
  return lineChart(labels, series, { height, label: "Retention curve: share of cohort entries returning k periods later", yFormat: formatPercent });
}

// Draws a saved retention panel on a dashboard.
export function renderPanel(response) {
  return curveChart(response, { height: 240 });
}

// One heatmap table: a row per cohort, a cell per period offset shaded by the share returning.
function heatmap(series, response) {
  if (!series.cohorts.length) return emptyState("No cohort in these periods.", "No actor did the start event in the table's periods.", { compact: true, showGettingStarted: false });
  const head = h("tr", {}, h("th", { scope: "col" }, "Cohort"), h("th", { scope: "col", class: "text-right" }, "Actors"),
    Array.from({ length: response.periods }, (_, k) => h("th", { scope: "col", class: "text-right" }, `${k}`)));
  const rows = series.cohorts.map((cohort) => h("tr", {},
    h("th", { scope: "row", class: "whitespace-nowrap font-normal" }, periodLabel(cohort.period_start_ns / 1e6, response.period)),
    h("td", { class: "text-right tabular-nums" }, formatCount(cohort.returned[0])),
    cohort.returned.map((count, k) => {
      if (cohort.period + k >= response.periods) return h("td", { class: "muted text-right" }, "");
      // A period that has not started yet is not a 0%: it is not known.
      if (cohort.period + k >= (response.observed_periods ?? response.periods)) {
        return h("td", { class: "muted text-right", title: "This period has not started yet" }, "");
      }
      const share = cohort.returned[0] ? count / cohort.returned[0] : 0;
      return h("td", {
        class: "text-right tabular-nums heat-cell", title: `${formatCount(count)} of ${formatCount(cohort.returned[0])}`,
        style: { background: alpha(PALETTE[0], 0.08 + share * 0.72), color: share > 0.55 ? "#fff" : undefined },
      }, formatPercent(share));
    })));
  return h("div", { class: "table-wrap" }, h("table", { class: "data-table", "aria-label": `Retention cohorts ${series.breakdown}` },
    h("thead", {}, head), h("tbody", {}, rows)));
}

function controls(state, names, saved, change) {
  const choose = (options, value, label, onChange) => h("select", { class: "input", "aria-label": label, onchange: (event) => onChange(event.target.value) },
    options.map((option) => h("option", { value: option.id, selected: option.id === value }, option.label)));
  const eventInput = (value, label, key) => {
    const input = h("input", { class: "input", value, list: "retention-span-names", "aria-label": label });
    input.addEventListener("change", () => input.value.trim() && change({ [key]: input.value.trim() }));
    return input;
  };
  const periods = h("input", { class: "input w-20 block", type: "number", min: "2", max: "32", value: String(state.periods), "aria-label": "Number of periods" });
  periods.addEventListener("change", () => change({ periods: Math.min(32, Math.max(2, Number(periods.value) || 8)) }));
  const breakdown = h("input", { class: "input", value: state.breakdown, list: "retention-breakdown-keys", placeholder: "None", "aria-label": "Breakdown attribute" });
  breakdown.addEventListener("change", () => change({ breakdown: breakdown.value.trim() }));
  const cohort = cohortSelect(saved.cohorts, ACTOR_COLUMNS[state.actor], state.cohort);
  cohort.addEventListener("change", () => change({ cohort: cohort.value }));
  return card("Retention definition", h("div", { class: "grid gap-3 sm:grid-cols-2 lg:grid-cols-4" },
    h("datalist", { id: "retention-span-names" }, names.map((name) => h("option", { value: name }))),
    h("datalist", { id: "retention-breakdown-keys" }, BREAKDOWN_KEYS.map((key) => h("option", { value: key }))),
    field("Actor", choose(ACTORS, state.actor, "Actor", (actor) => change({ actor }))),
    field("Start event", eventInput(state.start, "Start event", "start")),
    field("Return event", eventInput(state.returning, "Return event", "returning")),
    field("Cohorts", choose([{ id: "first_time", label: "First time" }, { id: "recurring", label: "Recurring" }], state.kind, "Cohort kind", (kind) => change({ kind })),
      { hint: "First time: each actor once, in the period of its first start event." }),
    field("Period", choose(PERIODS.map((id) => ({ id, label: id })), state.period, "Period", (period) => change({ period }))),
    field("Periods", periods, { hint: "2 to 32, from the start of the time range." }),
    field("Breakdown", breakdown),
    field("Cohort", cohort, { hint: "Only the members of a saved cohort of this actor." })));
}

export function mount(root, { signal, onState }) {
  let names = [];
  let saved = { actions: [], cohorts: [] };
  let controller = null;
  const controlSlot = h("div");
  const results = h("div", { class: "space-y-4" });
  replace(root, h("div", { class: "space-y-4" }, controlSlot, results));
  const change = (patch) => updateQuery(retentionParams({ ...retentionState(), ...patch }));

  function render(response, request) {
    const save = saveToDashboardButton(() => ({ title: "Retention curve", analysis: { endpoint: "/api/retention", request, page: "retention" } }));
    const tables = response.series.length ? response.series : [response.total];
    replace(results,
      card("Retention curve", curveChart(response), { actions: save }),
      tables.map((series) => card(response.series.length ? `${response.breakdown} = ${series.breakdown || "(none)"}` : "Cohorts", heatmap(series, response))),
      h("details", { class: "text-sm" }, h("summary", { class: "cursor-pointer muted" }, `SQL that ran (${countOf(response.sql.length, "statement")})`),
        response.sql.map((text) => h("pre", { class: "code-block mt-2 whitespace-pre-wrap" }, text))));
  }

  async function refresh() {
    controller?.abort();
    controller = new AbortController();
    signal.addEventListener("abort", () => controller.abort(), { once: true });
    const state = retentionState();
    replace(controlSlot, controls(state, names, saved, change));
    replace(results, card(null, skeleton({ lines: 8 })));
    const request = retentionRequest(state);
    try {
      render(await api("/api/retention", { method: "POST", body: request, signal: controller.signal }), request);
    } catch (error) {
      if (!isAbort(error)) replace(results, errorBox(error, { retry: refresh }));
    }
  }

  onState(refresh);
  refresh();
  spanNames(signal).then((found) => {
    names = found;
    const list = controlSlot.querySelector("#retention-span-names");
    if (list) replace(list, names.map((name) => h("option", { value: name })));
  }).catch((error) => { if (!isAbort(error)) console.warn("span names failed", error); });
  library(signal).then((found) => {
    saved = found;
    replace(controlSlot, controls(retentionState(), names, saved, change));
  }).catch((error) => { if (!isAbort(error)) console.warn("saved cohorts failed", error); });
  return () => controller?.abort();
}
