// Visitor (/visitor?user=… or ?session=…): one user's or browser session's profile from
// GET /api/visitor: summary, sessions, orders and a timeline of page views, actions,
// errors, spans and logs. Without a user or session it offers the most active users.

import { h, replace } from "../lib/dom.js";
import { api, isAbort } from "../lib/api.js";
import { apiParams, params, updateQuery, pageLink, currentRange } from "../lib/state.js";
import { card, dataTable, emptyState, errorBox, skeleton, badge } from "../lib/ui.js";
import { formatCount, formatDuration, formatTime, parseTime } from "../lib/format.js";

const KIND_STYLE = {
  page_view: { label: "Page view", kind: "brand" },
  action: { label: "Action", kind: "neutral" },
  error: { label: "Error", kind: "error" },
  span: { label: "Span", kind: "ok" },
  log: { label: "Log", kind: "warn" },
};

// A 32-character hex string is a browser session id; anything else is taken as a user.
function lookup(text) {
  const value = text.trim();
  if (!value) return;
  if (/^[0-9a-f]{32}$/i.test(value)) updateQuery({ session: value.toLowerCase(), user: null });
  else updateQuery({ user: value, session: null });
}

function searchForm() {
  const input = h("input", {
    class: "input max-w-md", type: "search", placeholder: "User (e-mail) or session ID", "aria-label": "User or session ID",
    value: params().get("user") || params().get("session") || "", dataset: { pageSearch: "true" }, list: "visitor-suggestions",
  });
  const suggestions = h("datalist", { id: "visitor-suggestions" });
  input.addEventListener("input", async () => {
    const prefix = input.value.trim();
    if (prefix.length < 2 || /^[0-9a-f]{32}$/i.test(prefix)) return;
    try {
      const data = await api("/api/filters", { params: apiParams({ key: "UserId", prefix }) });
      replace(suggestions, (data.values || []).slice(0, 20).map((item) => h("option", { value: item.value }, `${formatCount(item.count)} events`)));
    } catch (error) {
      console.warn("user suggestions failed", error);
    }
  });
  return h("form", { class: "flex gap-2", role: "search", onsubmit: (event) => { event.preventDefault(); lookup(input.value); } },
    input, suggestions, h("button", { class: "btn btn-primary", type: "submit" }, "Open"));
}

async function topUsers(signal) {
  const target = h("div");
  replace(target, skeleton({ lines: 5 }));
  try {
    const data = await api("/api/filters", { params: apiParams({ key: "UserId" }), signal });
    const users = (data.values || []).filter((item) => item.value);
    replace(target, users.length === 0
      ? emptyState("No users seen in this range.", "Users appear when spans carry a user.id attribute, or the browser SDK sets one.")
      : dataTable([
        { label: "User", value: (u) => h("a", { href: pageLink("/visitor", { user: u.value }) }, u.value) },
        { label: "Events", align: "right", value: (u) => formatCount(u.count) },
      ], users.slice(0, 25), { caption: "Most active users" }));
  } catch (error) {
    if (!isAbort(error)) replace(target, errorBox(error));
  }
  return card("Most active users", target);
}

function summary(profile) {
  const s = profile.summary || {};
  const tile = (label, value) => h("div", { class: "kpi" }, h("span", { class: "kpi-label" }, label), h("span", { class: "kpi-value text-xl" }, value));
  return h("div", { class: "grid gap-3 grid-cols-2 md:grid-cols-3 xl:grid-cols-6" },
    tile("First seen", formatTime(s.first_seen, { seconds: false })), tile("Last seen", formatTime(s.last_seen, { seconds: false })),
    tile("Sessions", formatCount(s.sessions)), tile("Events", formatCount(s.events)), tile("Errors", formatCount(s.errors)), tile("Orders", formatCount(s.orders)));
}

// Returns the note above a list that the API cut, or null when there is no note.
function shownNote(text) {
  return text ? h("p", { class: "text-xs muted mb-2" }, text) : null;
}

// Returns "Showing N of M" for a list the API cut and also counted, or null when it is whole.
function countNote(listed, total, noun) {
  return listed < total ? shownNote(`Showing ${formatCount(listed)} of ${formatCount(total)} ${noun}, the most recently active first.`) : null;
}

function sessionsTable(profile) {
  const sessions = profile.sessions || [];
  if (sessions.length === 0) return emptyState("No browser sessions in this range.", null, { compact: true, showGettingStarted: false });
  const current = params().get("session");
  return h("div", {}, countNote(sessions.length, profile.summary?.sessions ?? 0, "sessions"), dataTable([
    { label: "Session", value: (s) => h("a", { class: "font-mono text-xs", href: pageLink("/visitor", { session: s.session_id }) }, s.session_id.slice(0, 12) + "…") },
    { label: "Start", className: "whitespace-nowrap", value: (s) => formatTime(s.start, { seconds: false }) },
    { label: "Length", align: "right", value: (s) => formatDuration(parseTime(s.end) - parseTime(s.start)) },
    { label: "Pages", align: "right", value: (s) => formatCount(s.page_views) },
    { label: "Actions", align: "right", value: (s) => formatCount(s.actions) },
    { label: "Errors", align: "right", value: (s) => (s.errors ? badge(formatCount(s.errors), "error") : "0") },
    { label: "Replay", value: (s) => (s.has_replay
      ? h("a", { class: "btn btn-sm", href: pageLink("/replay", { session: s.session_id }), "aria-label": `Replay session ${s.session_id}` }, "Play")
      : h("span", { class: "muted" }, "none")) },
  ], sessions, { caption: "Sessions", selectedIndex: sessions.findIndex((s) => s.session_id === current) }));
}

function ordersTable(profile) {
  const orders = profile.orders || [];
  if (orders.length === 0) return emptyState("No orders touched in this range.", null, { compact: true, showGettingStarted: false });
  return h("div", {}, countNote(orders.length, profile.summary?.orders ?? 0, "orders"), dataTable([
    { label: "Order", value: (o) => h("a", { href: pageLink("/events", { filter: `OrderId=${o.order_id}` }) }, o.order_id) },
    { label: "First seen", value: (o) => formatTime(o.first_seen, { seconds: false }) },
    { label: "Last seen", value: (o) => formatTime(o.last_seen, { seconds: false }) },
    { label: "Spans", align: "right", value: (o) => formatCount(o.spans) },
  ], orders, { caption: "Orders" }));
}

function timeline(profile) {
  const events = profile.timeline || [];
  if (events.length === 0) return emptyState("Nothing happened in this range.", null, { compact: true, showGettingStarted: false });
  const kinds = [...new Set(events.map((event) => event.kind))];
  const list = h("ol", { class: "relative border-l ml-2 border-[var(--border)] space-y-2" });
  const checks = kinds.map((kind) => h("label", { class: "flex items-center gap-1 text-xs" },
    h("input", { type: "checkbox", checked: true, value: kind, onchange: draw }), (KIND_STYLE[kind] || { label: kind }).label));
  function draw() {
    const visibleKinds = new Set(checks.map((label) => label.querySelector("input")).filter((box) => box.checked).map((box) => box.value));
    let lastDay = "";
    replace(list, events.filter((event) => visibleKinds.has(event.kind)).flatMap((event) => {
      const style = KIND_STYLE[event.kind] || { label: event.kind, kind: "neutral" };
      const day = formatTime(event.time, { seconds: false }).split(",")[0];
      const header = day !== lastDay ? h("li", { class: "pl-4 pt-2 text-xs font-medium muted" }, day) : null;
      lastDay = day;
      return [header, h("li", { class: "pl-4 relative" },
        h("span", { class: `absolute -left-[5px] top-2 w-2.5 h-2.5 rounded-full ${event.kind === "error" ? "bg-red-500" : "bg-brand-500"}` }),
        h("div", { class: "flex flex-wrap items-center gap-2 text-sm" },
          h("span", { class: "tabular-nums muted text-xs w-16" }, formatTime(event.time, { date: false })), badge(style.label, style.kind),
          h("span", { class: "font-medium" }, event.name),
          event.detail ? h("span", { class: "muted truncate max-w-[30rem]", title: event.detail }, event.detail) : null,
          event.order_id ? h("a", { class: "text-xs", href: pageLink("/events", { filter: `OrderId=${event.order_id}` }) }, event.order_id) : null,
          event.trace_id ? h("a", { class: "text-xs", href: pageLink("/engineering", { trace: event.trace_id }) }, "trace") : null))];
    }));
  }
  draw();
  // The response has no total of timeline entries, only whether it left some out.
  const cut = profile.timeline_cut ? `Showing the newest ${formatCount(events.length)} entries.` : null;
  return h("div", { class: "space-y-3" }, shownNote(cut), h("div", { class: "flex flex-wrap gap-3", role: "group", "aria-label": "Show event kinds" }, checks), list);
}

export function mount(root, { signal, onState, setTitle }) {
  const content = h("div", { class: "space-y-4" });
  let controller = null;

  async function refresh() {
    controller?.abort();
    controller = new AbortController();
    signal.addEventListener("abort", () => controller.abort(), { once: true });
    const user = params().get("user");
    const session = params().get("session");
    if (!user && !session) {
      setTitle("Visitor");
      replace(content, h("p", { class: "muted" }, "Pick a user or a browser session to see everything they did."), await topUsers(controller.signal));
      return;
    }
    setTitle(user ? `Visitor · ${user}` : `Session · ${session.slice(0, 12)}…`);
    replace(content, h("div", { class: "card p-4" }, skeleton({ lines: 3 })), h("div", { class: "card p-4" }, skeleton({ lines: 8 })));
    try {
      const range = currentRange();
      const profile = await api("/api/visitor", { params: { user, session, from: range.from, to: range.to }, signal: controller.signal });
      const s = profile.summary || {};
      if (!s.events && !(profile.timeline || []).length) {
        replace(content, card(null, emptyState(`Nothing recorded for this ${user ? "user" : "session"} in this range.`, "Check the spelling, or widen the time range.", { showGettingStarted: false })));
        return;
      }
      replace(content,
        summary(profile),
        h("div", { class: "grid gap-4 xl:grid-cols-3" },
          h("div", { class: "space-y-4 xl:col-span-1" }, card("Sessions", sessionsTable(profile)), card("Orders", ordersTable(profile))),
          card("Timeline", timeline(profile), { className: "xl:col-span-2" })));
    } catch (error) {
      if (!isAbort(error)) replace(content, errorBox(error, { retry: refresh }));
    }
  }

  replace(root, searchForm(), content);
  onState(refresh);
  refresh();
  return () => controller?.abort();
}
