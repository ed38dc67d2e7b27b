// Pieces the product-analytics pages share: the actor choices, events written as text
// (`Approve`, `action:<id>`), the range as the API's time_range, and the saved actions and
// cohorts the caller may use (GET /api/workspaces, kinds `action` and `cohort`).

import { h } from "./dom.js";
import { api } from "./api.js";
import { currentRange } from "./state.js";

export const ACTORS = [
  { id: "UserId", label: "User (user.id)" },
  { id: "RumSessionId", label: "Browser session (rum.session_id)" },
  { id: "OperatorId", label: "Operator (operator.id)" },
  { id: "OrderId", label: "Order (order.id)" },
];

// Choices of the spans a path question reads: every span of the actor, or business steps only
// (root spans outside browser sessions, the spans the process log reads).
export const STEP_CHOICES = [
  { id: "all", label: "All spans" },
  { id: "business", label: "Business steps only" },
];

// The range of the time picker as {from_ns, to_ns}. The values pass 2^53, but a whole
// number of milliseconds times 1e6 prints as its exact digits (JSON.stringify writes the
// shortest text that reads back as the same double), so the API receives exact integers.
export function timeRange() {
  const range = currentRange();
  return { from_ns: Math.round(range.from) * 1e6, to_ns: Math.round(range.to) * 1e6 };
}

// Reads one event written as text: `action:<id>` is a saved action, anything else a span name.
export function parseEvent(text) {
  const trimmed = text.trim();
  if (!trimmed) return null;
  if (trimmed.startsWith("action:")) return { action: trimmed.slice(7).trim() };
  return { span_name: trimmed };
}

// Reads a comma-separated list of events.
export function parseEvents(text) {
  return (text || "").split(",").map(parseEvent).filter(Boolean);
}

// Lists the saved actions and cohorts: {actions: [...], cohorts: [...]}.
export async function library(signal) {
  const data = await api("/api/workspaces", { signal });
  const items = data?.items || [];
  return {
    actions: items.filter((item) => item.kind === "action"),
    cohorts: items.filter((item) => item.kind === "cohort"),
  };
}

// A select of cohorts for `actor`, with "Everyone" first.
export function cohortSelect(cohorts, actor, selected) {
  const matching = cohorts.filter((cohort) => cohort.body?.actor === actor);
  return h("select", { class: "input", "aria-label": "Cohort" },
    h("option", { value: "" }, "Everyone"),
    matching.map((cohort) => h("option", { value: cohort.id, selected: cohort.id === selected }, cohort.name)));
}

// A select built from [{id, label}] choices.
export function choiceSelect(choices, selected, label) {
  return h("select", { class: "input", "aria-label": label },
    choices.map((choice) => h("option", { value: choice.id, selected: choice.id === selected }, choice.label)));
}

// Posts an analytics question.
export function postQuestion(endpoint, request, signal) {
  return api(endpoint, { method: "POST", body: request, signal });
}
