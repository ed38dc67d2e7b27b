// The funnel and retention definitions the Funnels, Retention and Compare pages keep in the
// URL, and the JSON requests of POST /api/funnels and /api/retention built from them.
// URL parameters: `actor`, repeated `step` (span names, or `action:<id or name>` for a saved
// action), `kind`, `window` (seconds), repeated `mode`, repeated `exclude` (`event|from|to`),
// `breakdown`, `trend`, `cohort`; for retention `start`, `return`, `rkind`, `period`, `periods`.
// The time range is the shell's `from`/`to`, and the filter bar's repeated `filter` narrows the
// spans every request reads.

import { api } from "./api.js";
import { apiParams, currentFilters, currentRange, formatFilter, globalQuery, params } from "./state.js";
import { parseEvent } from "./product.js";

// The span column of each actor key, as saved cohorts name their actor.
export const ACTOR_COLUMNS = { "order.id": "OrderId", "user.id": "UserId", "rum.session_id": "RumSessionId", "operator.id": "OperatorId" };

export const ACTORS = [
  { id: "order.id", label: "Orders (order.id)" },
  { id: "user.id", label: "Users (user.id)" },
  { id: "rum.session_id", label: "Browser sessions (rum.session_id)" },
  { id: "operator.id", label: "Operators (operator.id)" },
];

export const KINDS = [
  { id: "sequential", label: "Sequential", about: "Steps in order; other events may come between them." },
  { id: "strict", label: "Strict order", about: "Steps in order with no other event of the actor between them." },
  { id: "any_order", label: "Any order", about: "Steps in any order within the window." },
];

export const MODES = [
  { id: "strict_deduplication", label: "Stop on a repeated step" },
  { id: "strict_increase", label: "Strictly increasing times" },
  { id: "strict_once", label: "One event per step" },
  { id: "strict_order", label: "No other steps between" },
  { id: "allow_reentry", label: "Allow re-entry (with no other steps between)" },
];

export const WINDOW_UNITS = [
  { id: "60", label: "minutes" },
  { id: "3600", label: "hours" },
  { id: "86400", label: "days" },
];

export const PERIODS = ["day", "week", "month"];

// Attribute keys offered for breakdowns; any other SpanAttributes key can be typed.
export const BREAKDOWN_KEYS = ["lob", "operator.id", "service.name", "http.user_agent", "user.id", "order.status"];

// Demo order flow, used as the starting funnel when the URL names no steps.
export const DEFAULT_STEPS = ["Order Received", "Review Documents", "Approve"];
const DEFAULT_WINDOW_S = 14 * 86_400;

// Reads the funnel definition from the URL.
export function funnelState(search = params()) {
  const steps = search.getAll("step").filter((step) => step.trim() !== "");
  return {
    actor: search.get("actor") || "order.id",
    steps: steps.length ? steps : DEFAULT_STEPS,
    kind: search.get("kind") || "sequential",
    windowSeconds: Number(search.get("window")) > 0 ? Number(search.get("window")) : DEFAULT_WINDOW_S,
    modes: search.getAll("mode"),
    exclusions: search.getAll("exclude").map(parseExclusion).filter(Boolean),
    breakdown: search.get("breakdown") || "",
    trend: search.get("trend") || "day",
    cohort: search.get("cohort") || "",
  };
}

function parseExclusion(text) {
  const [name, from, to] = text.split("|");
  if (!name || !Number(from) || !Number(to)) return null;
  return { name, from: Number(from), to: Number(to) };
}

// Returns URL parameters that store `state`, for updateQuery.
export function funnelParams(state) {
  return {
    actor: state.actor,
    step: state.steps,
    kind: state.kind,
    window: String(state.windowSeconds),
    mode: state.modes,
    exclude: state.exclusions.map((item) => `${item.name}|${item.from}|${item.to}`),
    breakdown: state.breakdown || null,
    trend: state.trend,
    cohort: state.cohort || null,
  };
}

// Returns the filter bar's filters as the API reads them (`Lob=Appraisal`, `key!=value`).
export function filterTexts() {
  return currentFilters().map(formatFilter);
}

// Returns a link to the Funnels page showing `state`, keeping the range and filters.
export function funnelLink(state) {
  const search = new URLSearchParams(globalQuery().slice(1));
  for (const [key, value] of Object.entries(funnelParams(state))) {
    if (value === null || value === undefined || value === "") continue;
    (Array.isArray(value) ? value : [value]).forEach((item) => search.append(key, item));
  }
  return `/funnels?${search}`;
}

// Builds the body of POST /api/funnels for `state` over the shell's time range.
export function funnelRequest(state, { breakdown = state.breakdown } = {}) {
  const range = currentRange();
  return {
    actor: state.actor,
    steps: state.steps.map(parseEvent),
    kind: state.kind,
    window_seconds: state.windowSeconds,
    modes: state.kind === "any_order" ? [] : state.modes,
    exclusions: state.exclusions.map((item) => ({ event: parseEvent(item.name), from_step: item.from, to_step: item.to })),
    filters: filterTexts(),
    cohort: state.cohort || null,
    breakdown: breakdown || null,
    from: range.from,
    to: range.to,
    trend_period: state.trend,
  };
}

// Reads the retention definition from the URL.
export function retentionState(search = params()) {
  return {
    actor: search.get("actor") || "user.id",
    start: search.get("start") || "documentLoad",
    returning: search.get("return") || search.get("start") || "documentLoad",
    kind: search.get("rkind") === "recurring" ? "recurring" : "first_time",
    period: PERIODS.includes(search.get("period")) ? search.get("period") : "day",
    periods: Math.min(32, Math.max(2, Number(search.get("periods")) || 8)),
    breakdown: search.get("breakdown") || "",
    cohort: search.get("cohort") || "",
  };
}

export function retentionParams(state) {
  return {
    actor: state.actor, start: state.start, return: state.returning, rkind: state.kind,
    period: state.period, periods: String(state.periods), breakdown: state.breakdown || null,
    cohort: state.cohort || null,
  };
}

// Builds the body of POST /api/retention; the table starts at the range's start.
export function retentionRequest(state) {
  return {
    actor: state.actor,
    start_event: parseEvent(state.start),
    return_event: parseEvent(state.returning),
    filters: filterTexts(),
    kind: state.kind,
    period: state.period,
    periods: state.periods,
    from: currentRange().from,
    breakdown: state.breakdown || null,
    cohort: state.cohort || null,
  };
}

// Lists span names in the range with their counts, for step autocomplete.
export async function spanNames(signal) {
  const data = await api("/api/filters", { params: apiParams({ key: "SpanName" }), signal });
  return (data?.values || []).map((item) => item.value);
}

// Formats nanoseconds as a short duration: `45 s`, `3.2 h`, `2.5 d`.
export function formatNanos(ns) {
  if (ns === null || ns === undefined) return "—";
  const seconds = Number(ns) / 1e9;
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 120) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(1)} min`;
  if (seconds < 172_800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} d`;
}
