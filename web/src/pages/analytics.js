// Analytics (/analytics): trends of events over time from POST /api/trends, as line or bar
// charts with a breakdown and the previous period overlaid; stickiness and lifecycle views;
// and the saved actions and cohorts the questions can use (kinds `action` and `cohort` of
// /api/workspaces). The question lives in the URL: view, series (`event|measure` per line),
// interval, breakdown, compare, chart and cohort; the filter bar's filters narrow the spans.

import { h, replace } from "../lib/dom.js";
import { api } from "../lib/api.js";
import { params, updateQuery } from "../lib/state.js";
import { filterTexts } from "../lib/funnel-query.js";
import { badge, card, dataTable, emptyState, field, load, tabList, toast } from "../lib/ui.js";
import { barChart, lineChart, color, alpha } from "../lib/charts.js";
import { formatBucket, formatCount } from "../lib/format.js";
import { saveToDashboardButton } from "../lib/analysis-panels.js";
import { ACTORS, choiceSelect, cohortSelect, library, parseEvent, postQuestion, timeRange } from "../lib/product.js";

const VIEWS = [{ id: "trends", label: "Trends" }, { id: "stickiness", label: "Stickiness" }, { id: "lifecycle", label: "Lifecycle" }, { id: "library", label: "Actions & cohorts" }];
const MEASURES = [
  { id: "total", label: "Events" },
  { id: "unique_actors", label: "Unique actors" },
  { id: "per_actor:avg", label: "Events per actor (average)" },
  { id: "per_actor:median", label: "Events per actor (median)" },
  { id: "per_actor:max", label: "Events per actor (max)" },
  { id: "duration:avg", label: "Duration (average ms)" },
  { id: "duration:p50", label: "Duration p50 (ms)" },
  { id: "duration:p90", label: "Duration p90 (ms)" },
  { id: "duration:p99", label: "Duration p99 (ms)" },
  { id: "duration:sum", label: "Duration (sum ms)" },
];
const INTERVALS = [{ id: "hour", label: "Hour" }, { id: "day", label: "Day" }, { id: "week", label: "Week" }];
const BREAKDOWNS = [{ id: "", label: "No breakdown" }, { id: "Lob", label: "LOB" }, { id: "ServiceName", label: "Service" }, { id: "OperatorId", label: "Operator" }, { id: "SpanName", label: "Span name" }];
const DEFAULT_SERIES = "click|total";

// Measures are written `kind` or `kind:stat` in the URL.
function measure(text) {
  const [kind, stat] = text.split(":");
  if (kind === "per_actor") return { kind, stat };
  if (kind === "duration") return { kind: "property", property: "duration_ms", stat };
  return { kind };
}

function questionFromUrl() {
  const search = params();
  const series = (search.getAll("series").length ? search.getAll("series") : [DEFAULT_SERIES]).map((text) => {
    const [event, how = "total"] = text.split("|");
    // The measure joins the label unless it is the plain count, so two series of
    // one event (events and unique actors) stay apart in legends and tables.
    const named = MEASURES.find((option) => option.id === how)?.label || how;
    return { event: parseEvent(event) || { span_name: "" }, measure: measure(how), label: how === "total" ? event : `${event} · ${named}` };
  });
  const query = {
    actor: search.get("actor") || "UserId",
    time_range: timeRange(),
    interval: search.get("interval") || "day",
    series,
    view: ["stickiness", "lifecycle"].includes(search.get("view")) ? search.get("view") : "trends",
    compare: search.get("compare") === "1",
  };
  if (search.get("breakdown")) query.breakdown = { column: search.get("breakdown") };
  if (search.get("cohort")) query.cohort = search.get("cohort");
  const filters = filterTexts();
  if (filters.length) query.filters = filters;
  return query;
}

function controls(saved) {
  const search = params();
  const rows = (search.getAll("series").length ? search.getAll("series") : [DEFAULT_SERIES]).map((text) => text.split("|"));
  const seriesList = h("div", { class: "space-y-2" });
  const addRow = ([event = "", how = "total"] = []) => {
    const row = h("div", { class: "flex gap-2 series-row" },
      h("input", { class: "input", value: event, placeholder: "span name or action:<id>", "aria-label": "Event" }),
      choiceSelect(MEASURES, how, "Measure"),
      h("button", { class: "btn btn-sm", type: "button", "aria-label": "Remove series", onclick: () => row.remove() }, "✕"));
    seriesList.append(row);
  };
  rows.forEach(addRow);
  const actor = choiceSelect(ACTORS, search.get("actor") || "UserId", "Actor");
  const interval = choiceSelect(INTERVALS, search.get("interval") || "day", "Interval");
  const breakdown = choiceSelect(BREAKDOWNS, search.get("breakdown") || "", "Breakdown");
  const chart = choiceSelect([{ id: "line", label: "Line" }, { id: "bar", label: "Bar" }], search.get("chart") || "line", "Chart");
  const compare = h("input", { type: "checkbox", checked: search.get("compare") === "1", "aria-label": "Compare to the previous period" });
  const cohort = cohortSelect(saved.cohorts, search.get("actor") || "UserId", search.get("cohort"));
  const apply = (event) => {
    event.preventDefault();
    const series = [...seriesList.querySelectorAll(".series-row")].map((row) => {
      const [input, select] = row.querySelectorAll("input, select");
      return input.value.trim() ? `${input.value.trim()}|${select.value}` : null;
    }).filter(Boolean);
    updateQuery({ series, actor: actor.value, interval: interval.value, breakdown: breakdown.value || null, chart: chart.value, compare: compare.checked ? "1" : null, cohort: cohort.value || null });
  };
  return h("form", { class: "grid gap-3 md:grid-cols-4", onsubmit: apply, "aria-label": "Trend question" },
    h("div", { class: "md:col-span-2" }, field("Series", seriesList, { hint: "Up to 5: an event and what to count." }),
      h("button", { class: "btn btn-sm mt-2", type: "button", onclick: () => addRow() }, "Add series")),
    h("div", { class: "space-y-3" }, field("Actor", actor), field("Interval", interval), field("Cohort", cohort)),
    h("div", { class: "space-y-3" }, field("Breakdown", breakdown), field("Chart", chart),
      h("label", { class: "flex items-center gap-2 text-sm" }, compare, "Compare to the previous period"),
      h("button", { class: "btn btn-primary", type: "submit" }, "Show")));
}

function bucketLabels(response) {
  const seconds = { hour: 3600, day: 86_400, week: 604_800 }[response.interval] || 86_400;
  return response.buckets.map((bucket) => formatBucket(bucket, seconds));
}

// Draws a trends, stickiness or lifecycle answer; also the dashboard panels' renderer.
export function renderPanel(response, panel = {}, { chartType = "line", height = 300 } = {}) {
  const labels = bucketLabels(response);
  if (response.view === "stickiness") {
    const days = labels.map((_, index) => `${index + 1}`);
    return barChart(days, response.stickiness.map((item) => ({ label: item.label, data: item.actors })), { height, label: "Actors by active buckets" });
  }
  if (response.view === "lifecycle") {
    const item = response.lifecycle[0];
    if (!item) return emptyState("No lifecycle data.", null, { compact: true, showGettingStarted: false });
    return barChart(labels, [
      { label: "New", data: item.new, color: "#3BA272" },
      { label: "Returning", data: item.returning, color: "#2B7FBE" },
      { label: "Resurrecting", data: item.resurrecting, color: "#C9A227" },
      { label: "Dormant", data: item.dormant, color: "#D64550" },
    ], { stacked: true, height, label: "Lifecycle" });
  }
  const lines = response.series.map((item, index) => ({
    label: item.label, data: item.values, dashed: item.previous,
    color: item.previous ? alpha(color(index - 1), 0.6) : color(index),
  }));
  const type = panel.chartType || chartType;
  return type === "bar" ? barChart(labels, lines, { height, label: "Trend" }) : lineChart(labels, lines, { height, label: "Trend" });
}

// Whether a measure's bucket values add up to its value over the whole range. Event
// counts and duration sums do. Unique actors, averages and percentiles do not.
function additive(measure) {
  return measure?.kind === "total" || (measure?.kind === "property" && measure.stat === "sum");
}

function summaryTable(response, question) {
  if (response.view !== "trends") return null;
  const total = (item) => {
    if (!additive(question.series[item.series]?.measure)) {
      return h("span", { class: "muted", title: "Bucket values of this measure do not add up over the range." }, "—");
    }
    return formatCount(item.values.reduce((a, b) => a + b, 0));
  };
  return dataTable([
    { label: "Series", value: (item) => h("span", {}, item.label, item.previous ? " " : "", item.previous ? badge("previous", "neutral") : "") },
    { label: "Sum over buckets", align: "right", value: total },
    { label: "Last bucket", align: "right", value: (item) => formatCount(item.values[item.values.length - 1] ?? 0) },
  ], response.series);
}

// ---- saved actions and cohorts ---------------------------------------------------------

function libraryView(saved, reload) {
  const message = h("p", { class: "text-sm text-red-600", role: "alert" });
  const save = async (kind, name, body) => {
    try {
      await api("/api/workspaces", { method: "POST", body: { kind, name, shared: true, body } });
      toast(`Saved ${kind} “${name}”.`);
      reload();
    } catch (error) {
      replace(message, error.message);
    }
  };
  const remove = async (item) => {
    await api(`/api/workspaces/${encodeURIComponent(item.id)}`, { method: "DELETE" });
    reload();
  };
  const actionName = h("input", { class: "input", placeholder: "Approved" });
  const actionEvent = h("input", { class: "input", placeholder: "span name, e.g. Approve" });
  const cohortName = h("input", { class: "input", placeholder: "Power users" });
  const cohortActor = choiceSelect(ACTORS, "UserId", "Cohort actor");
  const cohortKind = choiceSelect([{ id: "dynamic", label: "Did an event" }, { id: "static", label: "Fixed list" }], "dynamic", "Cohort kind");
  const cohortEvent = h("input", { class: "input", placeholder: "event (dynamic), e.g. click" });
  const cohortCount = h("input", { class: "input", type: "number", min: "1", value: "3", "aria-label": "At least this many times" });
  const cohortDays = h("input", { class: "input", type: "number", min: "1", value: "30", "aria-label": "In the last days" });
  const cohortIds = h("textarea", { class: "input font-mono text-xs", rows: "2", placeholder: "ids, one per line (fixed list)" });
  const cohortBody = () => cohortKind.value === "static"
    ? { actor: cohortActor.value, static: cohortIds.value.split("\n").map((id) => id.trim()).filter(Boolean) }
    : { actor: cohortActor.value, dynamic: { event: parseEvent(cohortEvent.value) || { span_name: "" }, min_count: Number(cohortCount.value) || 1, days: Number(cohortDays.value) || 30 } };
  const table = (items, describe) => items.length === 0
    ? emptyState("None saved yet.", null, { compact: true, showGettingStarted: false })
    : dataTable([
      { label: "Name", value: (item) => item.name },
      { label: "Use as", value: (item) => h("code", { class: "text-xs" }, item.kind === "action" ? `action:${item.id}` : `cohort ${item.id}`) },
      { label: "Definition", value: (item) => h("span", { class: "text-xs font-mono" }, describe(item)) },
      { label: "", value: (item) => h("button", { class: "btn btn-sm", type: "button", onclick: () => remove(item) }, "Delete") },
    ], items);
  return h("div", { class: "grid gap-4 lg:grid-cols-2" },
    card("Saved actions", h("div", { class: "space-y-3" },
      table(saved.actions, (item) => JSON.stringify(item.body.event)),
      h("form", { class: "grid gap-2 md:grid-cols-3 items-end", onsubmit: (event) => { event.preventDefault(); save("action", actionName.value.trim(), { event: parseEvent(actionEvent.value) || { span_name: "" } }); } },
        field("Name", actionName), field("Event", actionEvent), h("button", { class: "btn btn-primary", type: "submit" }, "Save action")))),
    card("Cohorts", h("div", { class: "space-y-3" },
      table(saved.cohorts, (item) => item.body.static ? `${item.body.actor}: ${item.body.static.length} ids` : `${item.body.actor} with ≥ ${item.body.dynamic?.min_count} × ${JSON.stringify(item.body.dynamic?.event)} in ${item.body.dynamic?.days} d`),
      h("form", { class: "grid gap-2 md:grid-cols-3 items-end", onsubmit: (event) => { event.preventDefault(); save("cohort", cohortName.value.trim(), cohortBody()); } },
        field("Name", cohortName), field("Actor", cohortActor), field("Kind", cohortKind), field("Event", cohortEvent), field("At least (times)", cohortCount), field("In the last (days)", cohortDays),
        h("div", { class: "md:col-span-2" }, field("Ids", cohortIds)), h("button", { class: "btn btn-primary", type: "submit" }, "Save cohort")))),
    message);
}

export function mount(root, { signal, onState }) {
  const tabs = h("div");
  const body = h("div", { class: "space-y-4" });
  replace(root, h("div", { class: "space-y-4" }, tabs, body));
  let saved = { actions: [], cohorts: [] };

  function drawQuestion() {
    const question = questionFromUrl();
    const chartType = params().get("chart") || "line";
    const chart = h("div");
    const table = h("div");
    const sql = h("details", { class: "text-xs" });
    const title = { trends: "Trend", stickiness: "Stickiness: actors by active buckets", lifecycle: "Lifecycle: new, returning, resurrecting and dormant actors" }[question.view];
    replace(body, card("Question", controls(saved)), card(title, h("div", { class: "space-y-3" }, chart, table, sql), {
      actions: saveToDashboardButton(() => ({ title, analysis: { endpoint: "/api/trends", request: questionFromUrl(), page: "analytics" }, chartType })),
    }));
    load(chart, () => postQuestion("/api/trends", question, signal), (response) => {
      replace(sql, h("summary", { class: "cursor-pointer muted" }, "SQL that ran"), h("pre", { class: "code-block whitespace-pre-wrap" }, response.sql.join(";\n\n")));
      const empty = response.view === "trends" ? response.series.every((item) => item.values.every((v) => v === 0))
        : response.view === "stickiness" ? response.stickiness.every((item) => item.actors.every((v) => v === 0))
          : response.lifecycle.every((item) => [...item.new, ...item.returning, ...item.resurrecting].every((v) => v === 0));
      if (empty) return emptyState("Nothing in this range.", "No span matches these events. Widen the range or pick another event (span names such as click, documentLoad or a process step).", { showGettingStarted: false });
      replace(table, summaryTable(response, question));
      return renderPanel(response, {}, { chartType });
    });
  }

  function draw() {
    const view = params().get("view") || "trends";
    replace(tabs, tabList(VIEWS, view, (id) => updateQuery({ view: id }), "Analytics views"));
    if (view !== "library") return drawQuestion();
    load(body, () => library(signal), (found) => {
      saved = found;
      return libraryView(found, draw);
    });
  }

  library(signal).then((found) => { saved = found; }).catch(() => {}).finally(draw);
  onState(draw);
}
