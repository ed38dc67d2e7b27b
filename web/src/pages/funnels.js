// Funnels (/funnels): build a funnel from span names and see per-step conversion, time to
// convert and conversion over time, split by an attribute (POST /api/funnels). The page also
// shows which events and values go with converting (POST /api/funnels/correlation). It lists
// the actors who dropped off at a step, with links to their trace, replay and visitor page
// (POST /api/funnels/actors).
// A step or exclusion is a span name or a saved action (`action:<name>`, offered in the step
// list). A saved cohort and the filter bar's filters narrow the actors and spans.
// The whole definition lives in the URL (see lib/funnel-query.js), so a link reloads the view.

import { h, replace } from "../lib/dom.js";
import { api, isAbort } from "../lib/api.js";
import { pageLink, updateQuery } from "../lib/state.js";
import { badge, card, dataTable, emptyState, errorBox, field, load, sidePanel, skeleton } from "../lib/ui.js";
import { barChart, lineChart, color } from "../lib/charts.js";
import { countOf, formatCount, formatFullTime, formatPercent } from "../lib/format.js";
import { saveToDashboardButton } from "../lib/analysis-panels.js";
import { cohortSelect, library } from "../lib/product.js";
import {
  ACTORS, ACTOR_COLUMNS, BREAKDOWN_KEYS, KINDS, MODES, WINDOW_UNITS, formatNanos, funnelParams, funnelRequest, funnelState, spanNames,
} from "../lib/funnel-query.js";

const NONE_LABEL = "(none)";
// The column a cohort lists for each funnel actor.

function breakdownLabel(value) {
  return value === "" ? NONE_LABEL : value;
}

// ---- charts, shared with dashboards ---------------------------------------------------

function stepsChart(response, { height = 260, onStep } = {}) {
  const shown = response.series.length ? response.series : [response.total];
  const datasets = shown.map((series, index) => ({
    label: response.series.length ? breakdownLabel(series.breakdown) : "Actors",
    data: series.steps.map((step) => step.actors),
    color: color(index),
  }));
  return barChart(response.steps.map((label, index) => `${index + 1}. ${label}`), datasets, {
    height, label: "Actors reaching each funnel step", onClick: onStep, legend: response.series.length > 0,
  });
}

function timeToConvertChart(response, { height = 200 } = {}) {
  const bins = response.total.time_to_convert.bins || [];
  return barChart(bins.map((bin) => `${formatNanos(bin.from_ns)}–${formatNanos(bin.to_ns)}`),
    [{ label: "Converted actors", data: bins.map((bin) => bin.actors) }], { height, label: "Time to convert, first to last step" });
}

function trendChart(response, { height = 200 } = {}) {
  const shown = response.series.length ? response.series : [response.total];
  const starts = [...new Set(shown.flatMap((series) => series.trend.map((point) => point.period_start_ns)))].sort((a, b) => a - b);
  const labels = starts.map((ns) => new Date(ns / 1e6).toISOString().slice(0, 10));
  const series = shown.map((item, index) => {
    const byStart = new Map(item.trend.map((point) => [point.period_start_ns, point.conversion]));
    return { label: response.series.length ? breakdownLabel(item.breakdown) : "Conversion", data: starts.map((ns) => byStart.get(ns) ?? null), color: color(index) };
  });
  // A period is not final when some of its chains started less than a window before
  // the range's end: they may still convert.
  const spacing = starts.length > 1 ? starts[1] - starts[0] : 86_400e9;
  const from = starts.findIndex((start, index) => (starts[index + 1] ?? start + spacing) + response.window_ns > response.to_ns);
  const chart = lineChart(labels, series, {
    height, label: "Conversion over time by the period of the first step", yFormat: formatPercent,
    partial: from >= 0 ? { from } : undefined,
  });
  if (from < 0) return chart;
  return h("div", {}, chart, h("p", { class: "text-xs muted funnel-trend-note" },
    `Dashed from ${labels[from]}: chains that started then had less than the conversion window before the range's end, so some may still convert.`));
}

// Draws a saved funnel panel on a dashboard; `panel.analysis.chart` picks the chart.
export function renderPanel(response, panel) {
  const chart = panel?.analysis?.chart || "steps";
  if (chart === "time") return timeToConvertChart(response, { height: 240 });
  if (chart === "trend") return trendChart(response, { height: 240 });
  return stepsChart(response, { height: 240 });
}

// ---- builder ----------------------------------------------------------------------------

function select(options, value, label, onChange) {
  return h("select", { class: "input w-auto", "aria-label": label, onchange: (event) => onChange(event.target.value) },
    options.map((option) => h("option", { value: option.id, selected: option.id === value }, option.label)));
}

function windowControl(state, change) {
  const unit = [...WINDOW_UNITS].reverse().find((item) => state.windowSeconds % Number(item.id) === 0) || WINDOW_UNITS[0];
  const amount = h("input", { class: "input w-20", type: "number", min: "1", value: String(state.windowSeconds / Number(unit.id)), "aria-label": "Conversion window length" });
  const units = select(WINDOW_UNITS, unit.id, "Conversion window unit", () => update());
  function update() {
    const seconds = Math.round(Number(amount.value) * Number(units.value));
    if (seconds > 0) change({ windowSeconds: seconds });
  }
  amount.addEventListener("change", update);
  return h("div", { class: "flex gap-2 items-center" }, amount, units);
}

function stepRow(state, index, change) {
  const input = h("input", {
    class: "input flex-1", value: state.steps[index], list: "funnel-span-names", "aria-label": `Step ${index + 1} event`,
    dataset: { step: String(index + 1) },
    onchange: (event) => change({ steps: state.steps.map((step, i) => (i === index ? event.target.value.trim() : step)).filter(Boolean) }),
  });
  const remove = h("button", {
    class: "btn btn-sm", type: "button", "aria-label": `Remove step ${index + 1}`, disabled: state.steps.length <= 1,
    onclick: () => change({ steps: state.steps.filter((_, i) => i !== index) }),
  }, "✕");
  return h("li", { class: "flex gap-2 items-center" }, h("span", { class: "badge badge-brand w-7 justify-center" }, String(index + 1)), input, remove);
}

function exclusionControl(state, change) {
  const name = h("input", { class: "input flex-1", list: "funnel-span-names", placeholder: "Event that disqualifies", "aria-label": "Exclusion event" });
  const add = h("button", {
    class: "btn btn-sm", type: "button",
    onclick: () => {
      if (!name.value.trim() || state.steps.length < 2) return;
      change({ exclusions: [...state.exclusions, { name: name.value.trim(), from: 1, to: state.steps.length }] });
    },
  }, "Exclude");
  const chips = state.exclusions.map((item, index) => h("span", { class: "chip" },
    h("span", { class: "chip-key" }, item.name), h("span", { class: "chip-value" }, ` between steps ${item.from} and ${item.to}`),
    h("button", { class: "chip-remove", type: "button", "aria-label": `Remove exclusion ${item.name}`, onclick: () => change({ exclusions: state.exclusions.filter((_, i) => i !== index) }) }, "✕")));
  return h("div", { class: "space-y-2" }, h("div", { class: "flex gap-2" }, name, add), h("div", { class: "flex flex-wrap gap-2" }, chips));
}

function modeControl(state, change) {
  if (state.kind === "any_order") return h("p", { class: "muted text-sm" }, "Any-order funnels take no windowFunnel modes.");
  return h("div", { class: "flex flex-wrap gap-x-4 gap-y-1" }, MODES.map((mode) => h("label", { class: "flex gap-1 items-center text-sm" },
    h("input", {
      type: "checkbox", checked: state.modes.includes(mode.id), value: mode.id,
      onchange: (event) => change({ modes: event.target.checked ? [...state.modes, mode.id] : state.modes.filter((item) => item !== mode.id) }),
    }), mode.label, h("code", { class: "muted text-xs" }, mode.id))));
}

// The step suggestions: saved actions first (`action:<name>`), then the span names in the range.
function eventOptions(names, saved) {
  return [
    ...saved.actions.map((action) => h("option", { value: `action:${action.name}`, label: `Saved action: ${action.name}` })),
    ...names.map((name) => h("option", { value: name })),
  ];
}

function cohortControl(state, saved, change) {
  const select = cohortSelect(saved.cohorts, ACTOR_COLUMNS[state.actor], state.cohort);
  select.addEventListener("change", () => change({ cohort: select.value }));
  return select;
}

function builder(state, names, saved, change) {
  const newStep = h("input", { class: "input flex-1", list: "funnel-span-names", placeholder: "Add a step: type an event name", "aria-label": "New step event" });
  const addStep = () => { if (newStep.value.trim()) change({ steps: [...state.steps, newStep.value.trim()] }); };
  newStep.addEventListener("keydown", (event) => { if (event.key === "Enter") addStep(); });
  const breakdown = h("input", { class: "input", list: "funnel-breakdown-keys", value: state.breakdown, placeholder: "None", "aria-label": "Breakdown attribute" });
  breakdown.addEventListener("change", () => change({ breakdown: breakdown.value.trim() }));
  return card("Funnel definition", h("div", { class: "grid gap-4 lg:grid-cols-2" },
    h("div", { class: "space-y-2" },
      h("datalist", { id: "funnel-span-names" }, eventOptions(names, saved)),
      h("datalist", { id: "funnel-breakdown-keys" }, BREAKDOWN_KEYS.map((key) => h("option", { value: key }))),
      h("ol", { class: "space-y-2", "aria-label": "Funnel steps" }, state.steps.map((_, index) => stepRow(state, index, change))),
      h("div", { class: "flex gap-2" }, newStep, h("button", { class: "btn btn-sm", type: "button", onclick: addStep }, "Add step"))),
    h("div", { class: "grid gap-3 sm:grid-cols-2 content-start" },
      field("Actor", select(ACTORS, state.actor, "Actor", (actor) => change({ actor }))),
      field("Kind", select(KINDS, state.kind, "Funnel kind", (kind) => change({ kind })), { hint: KINDS.find((kind) => kind.id === state.kind)?.about }),
      field("Conversion window", windowControl(state, change)),
      field("Breakdown", breakdown, { hint: "Any attribute: lob, operator.id, http.user_agent, …" }),
      field("Conversion over time", select(["day", "week", "month"].map((id) => ({ id, label: `By ${id}` })), state.trend, "Trend period", (trend) => change({ trend }))),
      field("Cohort", cohortControl(state, saved, change), { hint: "Only the members of a saved cohort of this actor." }),
      h("div", { class: "sm:col-span-2" }, field("windowFunnel modes", modeControl(state, change))),
      h("div", { class: "sm:col-span-2" }, field("Exclusions", exclusionControl(state, change))))));
}

// ---- results ----------------------------------------------------------------------------

function kpiTiles(response) {
  const steps = response.total.steps;
  const entered = steps[0]?.actors || 0;
  const converted = steps[steps.length - 1]?.actors || 0;
  const tile = (label, value) => h("div", { class: "kpi" }, h("span", { class: "kpi-label" }, label), h("span", { class: "kpi-value" }, value));
  return h("div", { class: "kpi-grid", role: "list", "aria-label": "Funnel figures" },
    tile("Entered", formatCount(entered)), tile("Converted", formatCount(converted)),
    tile("Conversion", formatPercent(steps[steps.length - 1]?.conversion_from_first ?? 0)),
    tile("Median time to convert", formatNanos(response.total.time_to_convert.median_ns)),
    tile("Excluded", formatCount(response.total.excluded_actors)));
}

function stepTable(response, openActors) {
  const steps = response.total.steps;
  return dataTable([
    { label: "Step", value: (step) => `${step.step}. ${response.steps[step.step - 1]}` },
    { label: "Actors", align: "right", value: (step) => formatCount(step.actors) },
    { label: "From previous", align: "right", value: (step) => formatPercent(step.conversion_from_previous) },
    { label: "From first", align: "right", value: (step) => formatPercent(step.conversion_from_first) },
    { label: "Median time from previous", align: "right", value: (step) => formatNanos(step.median_time_from_previous_ns) },
    { label: "Dropped before", align: "right", value: (step) => (step.step > 1 ? formatCount(steps[step.step - 2].actors - step.actors) : "") },
    { label: "Actors", value: (step) => h("div", { class: "flex gap-1" },
      step.step > 1 ? h("button", { class: "btn btn-sm", type: "button", dataset: { dropped: String(step.step) }, onclick: () => openActors(step.step, "dropped") }, "Dropped") : null,
      h("button", { class: "btn btn-sm", type: "button", dataset: { converted: String(step.step) }, onclick: () => openActors(step.step, "converted") }, "Converted")) },
  ], steps, { caption: "Funnel steps" });
}

function breakdownTable(response, openActors) {
  const last = response.steps.length;
  return dataTable([
    { label: response.breakdown, value: (series) => breakdownLabel(series.breakdown) },
    { label: "Entered", align: "right", value: (series) => formatCount(series.steps[0].actors) },
    { label: "Converted", align: "right", value: (series) => formatCount(series.steps[last - 1].actors) },
    { label: "Conversion", align: "right", value: (series) => formatPercent(series.steps[last - 1].conversion_from_first) },
    { label: "Median time to convert", align: "right", value: (series) => formatNanos(series.time_to_convert.median_ns) },
    { label: "", value: (series) => (last > 1 ? h("button", { class: "btn btn-sm", type: "button", onclick: () => openActors(last, "dropped", series.breakdown) }, "Dropped") : null) },
  ], response.series, { caption: "Funnel by breakdown value" });
}

function sqlDetails(sql) {
  return h("details", { class: "text-sm" }, h("summary", { class: "cursor-pointer muted" }, `SQL that ran (${countOf(sql.length, "statement")})`),
    sql.map((text) => h("pre", { class: "code-block mt-2 whitespace-pre-wrap" }, text)));
}

// Returns the verdict of one row as a badge. Every row gets one, so the column reads alike.
function verdictBadge(row) {
  if (!row.significant) return badge("not significant");
  if (row.correlation === "success") return badge("converts more", "brand");
  return badge("converts less", "error");
}

// Formats an odds ratio, with bounds past a thousand either way. Such ratios come
// from a value seen almost only on one side, often an event that follows
// conversion, and the cell's title keeps the exact value.
function oddsText(ratio) {
  if (ratio >= 1000) return "> 1,000";
  if (ratio <= 0.001) return "< 0.001";
  return ratio.toFixed(2);
}

function correlationTable(data) {
  // When one side has no actors, every odds ratio only reflects the 0.5 added to each cell.
  if (data.success_actors === 0 || data.failure_actors === 0) {
    return emptyState("Nothing to correlate.",
      `${formatCount(data.success_actors)} converted and ${formatCount(data.failure_actors)} dropped. Correlation compares the actors who converted with those who dropped, so it needs both.`,
      { compact: true, showGettingStarted: false });
  }
  if (!data.rows.length) return emptyState("Nothing to correlate.", "Every actor had the same events and values.", { compact: true, showGettingStarted: false });
  return h("div", { class: "space-y-2" },
    h("p", { class: "muted text-sm" }, `${formatCount(data.success_actors)} converted, ${formatCount(data.failure_actors)} dropped. Odds ratio above 1: more likely to convert. Fisher exact test, two-sided.`),
    dataTable([
      { label: "Kind", value: (row) => row.kind },
      { label: "Value", className: "max-w-[22rem] truncate", value: (row) => h("span", { title: row.value }, row.value) },
      { label: "Converted with it", align: "right", value: (row) => formatCount(row.success_actors) },
      { label: "Dropped with it", align: "right", value: (row) => formatCount(row.failure_actors) },
      { label: "Odds ratio", align: "right", value: (row) => h("span", { title: String(row.odds_ratio) }, oddsText(row.odds_ratio)) },
      { label: "p-value", align: "right", value: (row) => (row.p_value < 0.0001 ? "<0.0001" : row.p_value.toFixed(4)) },
      { label: "Verdict", value: verdictBadge },
    ], data.rows, { caption: "Correlation with conversion" }));
}

function actorList(data) {
  if (!data.actors.length) return emptyState("No actors here.", null, { compact: true, showGettingStarted: false });
  const link = (path, label) => (path ? h("a", { class: "btn btn-sm", href: pageLink(path.split("?")[0], Object.fromEntries(new URLSearchParams(path.split("?")[1]))) }, label) : null);
  return h("div", { class: "space-y-2" },
    h("p", { class: "muted text-sm" }, `${formatCount(data.total)} actors; the first ${data.actors.length} by id.`),
    dataTable([
      { label: "Actor", className: "font-mono text-xs", value: (row) => row.actor },
      { label: "Steps", align: "right", value: (row) => String(row.level) },
      { label: "Last step", className: "whitespace-nowrap", value: (row) => formatFullTime(row.last_step_ms) },
      { label: "Open", value: (row) => h("div", { class: "flex flex-wrap gap-1" },
        link(row.links.trace, "Trace"), link(row.links.replay, "Replay"), link(row.links.visitor, "Visitor"), link(row.links.events, "Events")) },
    ], data.actors, { caption: "Actors" }));
}

// ---- page -------------------------------------------------------------------------------

export function mount(root, { signal, onState }) {
  let names = [];
  let saved = { actions: [], cohorts: [] };
  let controller = null;
  const builderSlot = h("div");
  const results = h("div", { class: "space-y-4" });
  replace(root, h("div", { class: "space-y-4" }, builderSlot, results));

  const change = (patch) => updateQuery(funnelParams({ ...funnelState(), ...patch }));

  function openActors(step, outcome, breakdownValue) {
    const state = funnelState();
    const title = `${outcome === "dropped" ? "Dropped before" : "Converted through"} step ${step}: ${state.steps[step - 1]}${breakdownValue !== undefined ? ` (${breakdownLabel(breakdownValue)})` : ""}`;
    const panel = sidePanel(title, { wide: true });
    const body = { funnel: funnelRequest(state), step, outcome, breakdown_value: breakdownValue, limit: 100 };
    load(panel.body, () => api("/api/funnels/actors", { method: "POST", body, signal }), actorList);
  }

  function chartCard(title, chart, request, kind) {
    const save = saveToDashboardButton(() => ({ title, analysis: { endpoint: "/api/funnels", request, page: "funnels", chart: kind } }));
    return card(title, chart, { actions: save });
  }

  function render(response, request) {
    if (response.total.steps[0].actors === 0) {
      replace(results, card(null, emptyState("No actor did the first step in this range.",
        `Nobody with a ${response.actor} did “${response.steps[0]}” between the range's start and end. Widen the range or pick another first step.`, { showGettingStarted: false })),
      sqlDetails(response.sql));
      return;
    }
    const correlation = h("div");
    replace(results,
      kpiTiles(response),
      chartCard("Actors per step", stepsChart(response, { onStep: (index) => index > 0 && openActors(index + 1, "dropped") }), request, "steps"),
      card("Steps", stepTable(response, openActors)),
      response.series.length ? card(`By ${response.breakdown}${response.other_breakdown_values ? ` (${response.other_breakdown_values} more values not shown)` : ""}`, breakdownTable(response, openActors)) : null,
      h("div", { class: "grid gap-4 xl:grid-cols-2" },
        chartCard("Time to convert", timeToConvertChart(response), request, "time"),
        chartCard("Conversion over time", trendChart(response), request, "trend")),
      card("What goes with converting", correlation),
      sqlDetails(response.sql));
    load(correlation, () => api("/api/funnels/correlation", { method: "POST", body: { funnel: { ...request, breakdown: null } }, signal: controller.signal }), correlationTable);
  }

  async function refresh() {
    controller?.abort();
    controller = new AbortController();
    signal.addEventListener("abort", () => controller.abort(), { once: true });
    const state = funnelState();
    replace(builderSlot, builder(state, names, saved, change));
    replace(results, card(null, skeleton({ lines: 8 })));
    const request = funnelRequest(state);
    try {
      const response = await api("/api/funnels", { method: "POST", body: request, signal: controller.signal });
      render(response, request);
    } catch (error) {
      if (!isAbort(error)) replace(results, errorBox(error, { retry: refresh }));
    }
  }

  onState(refresh);
  refresh();
  spanNames(signal).then((found) => {
    names = found;
    const list = builderSlot.querySelector("#funnel-span-names");
    if (list) replace(list, eventOptions(names, saved));
  }).catch((error) => { if (!isAbort(error)) console.warn("span names failed", error); });
  library(signal).then((found) => {
    saved = found;
    replace(builderSlot, builder(funnelState(), names, saved, change));
  }).catch((error) => { if (!isAbort(error)) console.warn("saved actions failed", error); });
  return () => controller?.abort();
}
