// Errors (/errors): exception groups from GET /api/errors with counts, reach (users,
// sessions, orders) and trend; a group opens its recent occurrences with stack traces and
// traces (GET /api/errors/{fingerprint}). `group` in the URL reopens a group.

import { h, replace } from "../lib/dom.js";
import { api, isAbort } from "../lib/api.js";
import { apiParams, params, pageLink } from "../lib/state.js";
import { card, dataTable, emptyState, errorBox, load, skeleton, sidePanel, badge } from "../lib/ui.js";
import { barChart, sparkline, ERROR_COLOR } from "../lib/charts.js";
import { formatBucket, formatCount, formatFullTime, formatTime, parseTime } from "../lib/format.js";
import { loadTrace, replayButton } from "../lib/waterfall.js";

const SORTS = {
  count: { label: "Most occurrences", compare: (a, b) => b.count - a.count },
  users: { label: "Most users", compare: (a, b) => b.users - a.users },
  last_seen: { label: "Most recent", compare: (a, b) => parseTime(b.last_seen) - parseTime(a.last_seen) },
  first_seen: { label: "Newest first seen", compare: (a, b) => parseTime(b.first_seen) - parseTime(a.first_seen) },
};

function setGroupParam(fingerprint) {
  const search = params();
  if (fingerprint) search.set("group", fingerprint);
  else search.delete("group");
  const text = search.toString();
  history.replaceState(null, "", location.pathname + (text ? `?${text}` : ""));
}

function occurrenceDetails(occurrence, signal) {
  const trace = h("div");
  const view = h("div", { class: "space-y-3 border rounded-md p-3 border-[var(--border)]" },
    h("div", { class: "flex flex-wrap gap-2 items-center text-sm" },
      h("strong", {}, formatTime(occurrence.time, { ms: true })), badge(occurrence.service || "?", "brand"),
      occurrence.user ? h("a", { class: "btn btn-sm", href: pageLink("/visitor", { user: occurrence.user }) }, `User ${occurrence.user}`) : null,
      occurrence.session ? h("a", { class: "btn btn-sm", href: pageLink("/visitor", { session: occurrence.session }) }, `Session ${occurrence.session.slice(0, 8)}…`) : null,
      occurrence.session ? replayButton(occurrence.session, occurrence.time) : null,
      occurrence.order ? h("a", { class: "btn btn-sm", href: pageLink("/events", { q: occurrence.order }) }, `Order ${occurrence.order}`) : null,
      occurrence.trace_id ? h("a", { class: "btn btn-sm", href: pageLink("/engineering", { trace: occurrence.trace_id }) }, "Open trace") : null),
    h("p", { class: "text-sm" }, occurrence.message),
    occurrence.stack ? h("pre", { class: "code-block", "aria-label": "Stack trace" }, occurrence.stack) : null,
    occurrence.trace_id ? trace : null);
  if (occurrence.trace_id) loadTrace(trace, occurrence.trace_id, { signal, selectedSpanId: occurrence.span_id });
  return view;
}

function groupDetails(group, signal) {
  const selected = h("div");
  const occurrences = group.occurrences || [];
  const series = group.series || [];
  return h("div", { class: "space-y-4" },
    h("div", { class: "flex flex-wrap gap-2 items-center" }, badge(group.type || "Error", "error"), (group.services || []).map((service) => badge(service, "brand"))),
    h("p", { class: "text-base font-medium break-words" }, group.message),
    group.top_frame ? h("p", { class: "font-mono text-xs muted" }, group.top_frame) : null,
    h("dl", { class: "grid grid-cols-3 md:grid-cols-6 gap-3 text-sm" },
      [["Occurrences", formatCount(group.count)], ["Users", formatCount(group.users)], ["Sessions", formatCount(group.sessions)], ["Orders", formatCount(group.orders)],
        ["First seen", formatTime(group.first_seen, { seconds: false })], ["Last seen", formatTime(group.last_seen, { seconds: false })]]
        .map(([label, value]) => h("div", {}, h("dt", { class: "kpi-label" }, label), h("dd", { class: "font-medium" }, value)))),
    h("p", { class: "text-xs muted" }, "Users, sessions and orders are counted on every span of the failing traces, not only on the error spans."),
    series.length ? barChart(series.map((p) => formatBucket(p.t, 3600)), [{ label: "Occurrences", data: series.map((p) => p.count), color: ERROR_COLOR }], { height: 120, label: "Occurrences over time" }) : null,
    h("h3", { class: "card-title" }, occurrences.length < group.count
      ? `Newest ${formatCount(occurrences.length)} of ${formatCount(group.count)} occurrences`
      : `Occurrences (${formatCount(occurrences.length)})`),
    occurrences.length === 0 ? emptyState("No occurrences in this range.", null, { compact: true, showGettingStarted: false }) : dataTable([
      { label: "Time", className: "whitespace-nowrap", value: (o) => formatTime(o.time) },
      { label: "Service", value: (o) => o.service },
      { label: "User on the span", value: (o) => o.user || "" },
      { label: "Order on the span", value: (o) => o.order || "" },
      { label: "Message", className: "max-w-[18rem] truncate", value: (o) => h("span", { title: o.message }, o.message) },
    ], occurrences, { caption: "Occurrences", onRow: (o) => { replace(selected, occurrenceDetails(o, signal)); selected.scrollIntoView({ block: "nearest" }); } }),
    selected);
}

function openGroup(group, signal) {
  setGroupParam(group.fingerprint);
  const panel = sidePanel(`${group.type || "Error"}: ${group.message}`, { wide: true, onClose: () => setGroupParam(null) });
  load(panel.body, () => api(`/api/errors/${encodeURIComponent(group.fingerprint)}`, { params: apiParams(), signal }), (details) => groupDetails({ ...group, ...details }, signal));
}

export function mount(root, { signal, onState }) {
  const target = h("div");
  const sortSelect = h("select", { class: "input w-auto", "aria-label": "Sort error groups" },
    Object.entries(SORTS).map(([id, sort]) => h("option", { value: id }, sort.label)));
  const search = h("input", { class: "input max-w-sm", type: "search", placeholder: "Find in type, message or frame (press /)", "aria-label": "Find error groups", dataset: { pageSearch: "true" } });
  let groups = [];
  let controller = null;

  function renderTable() {
    const needle = search.value.trim().toLowerCase();
    const visibleGroups = groups
      .filter((g) => !needle || `${g.type} ${g.message} ${g.top_frame} ${(g.services || []).join(" ")}`.toLowerCase().includes(needle))
      .sort(SORTS[sortSelect.value].compare);
    if (groups.length === 0) {
      replace(target, card(null, emptyState("No errors in this range.", "Spans with an error status and exception events are grouped here. No news is good news.", { showGettingStarted: false })));
      return;
    }
    replace(target, card(`${formatCount(visibleGroups.length)} error groups`, dataTable([
      { label: "Error", value: (g) => h("div", { class: "max-w-[34rem]" },
        h("div", { class: "flex items-center gap-2" }, badge(g.type || "Error", "error"), h("span", { class: "truncate font-medium", title: g.message }, g.message)),
        h("div", { class: "font-mono text-[11px] muted truncate", title: g.top_frame }, g.top_frame || "")) },
      { label: "Services", value: (g) => (g.services || []).join(", ") },
      { label: "Count", align: "right", value: (g) => formatCount(g.count) },
      { label: "Users", align: "right", value: (g) => formatCount(g.users) },
      { label: "Sessions", align: "right", value: (g) => formatCount(g.sessions) },
      { label: "Orders", align: "right", value: (g) => formatCount(g.orders) },
      { label: "Trend", value: (g) => sparkline((g.series || []).map((p) => p.count), { width: 110, height: 26, bars: true, stroke: ERROR_COLOR, label: "Occurrences over time" }) },
      { label: "First seen", className: "whitespace-nowrap", value: (g) => h("span", { title: formatFullTime(g.first_seen) }, formatTime(g.first_seen, { seconds: false })) },
      { label: "Last seen", className: "whitespace-nowrap", value: (g) => h("span", { title: formatFullTime(g.last_seen) }, formatTime(g.last_seen, { seconds: false })) },
    ], visibleGroups, { caption: "Error groups", onRow: (g) => openGroup(g, signal) })));
  }

  async function refresh() {
    controller?.abort();
    controller = new AbortController();
    signal.addEventListener("abort", () => controller.abort(), { once: true });
    replace(target, card(null, skeleton({ lines: 8 })));
    try {
      const data = await api("/api/errors", { params: apiParams(), signal: controller.signal });
      groups = data.groups || [];
      renderTable();
      const wanted = params().get("group");
      const group = wanted && groups.find((g) => g.fingerprint === wanted);
      if (group) openGroup(group, signal);
    } catch (error) {
      if (!isAbort(error)) replace(target, errorBox(error, { retry: refresh }));
    }
  }

  search.addEventListener("input", renderTable);
  sortSelect.addEventListener("change", renderTable);
  replace(root, h("div", { class: "flex flex-wrap gap-3 items-center" }, search, sortSelect), target);
  onState(refresh);
  refresh();
  return () => controller?.abort();
}
