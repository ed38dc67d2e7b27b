// A trace waterfall: one row per span, indented by depth, with a bar placed by its start
// offset and duration. Selecting a row shows the span's attributes, events and logs.

import { h, replace } from "./dom.js";
import { api } from "./api.js";
import { pageLink } from "./state.js";
import { countOf, formatDuration, formatTime, cellText, parseTime } from "./format.js";
import { color, ERROR_COLOR } from "./charts.js";
import { badge, load, emptyState } from "./ui.js";

export function isErrorStatus(status) {
  return /error/i.test(String(status || ""));
}

// A two-column table of a map's keys and values, sorted by key.
export function attributeTable(attributes, { title } = {}) {
  const entries = Object.entries(attributes || {}).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return null;
  return h("div", {},
    title ? h("h3", { class: "text-xs uppercase tracking-wide muted font-medium mb-1" }, title) : null,
    h("table", { class: "attr-table" }, h("tbody", {}, entries.map(([key, value]) => h("tr", {}, h("th", { scope: "row" }, key), h("td", {}, cellText(value)))))));
}

// A link to a browser session's replay, starting at `time` (any form parseTime reads) when given.
export function replayButton(session, time) {
  const at = parseTime(time);
  return h("a", { class: "btn btn-sm", href: pageLink("/replay", { session, t: at ? String(at) : undefined }) }, "Replay");
}

// Links to the visitor page for the user and browser session a record names, if any.
export function visitorLinks(record) {
  const span = record.SpanAttributes || {};
  const log = record.LogAttributes || {};
  const resource = record.ResourceAttributes || {};
  const user = record.UserId || span["user.id"] || log["user.id"] || resource["user.id"];
  const session = record.RumSessionId || span["rum.session_id"] || log["rum.session_id"] || resource["rum.sessionId"] || resource["rum.session_id"];
  const links = [];
  if (user) links.push(h("a", { class: "btn btn-sm", href: pageLink("/visitor", { user }) }, `User ${user}`));
  if (session) links.push(h("a", { class: "btn btn-sm", href: pageLink("/visitor", { session }) }, `Session ${String(session).slice(0, 8)}…`));
  if (session) links.push(replayButton(session, record.Timestamp));
  return links;
}

function spanDetails(span, logs) {
  const spanLogs = logs.filter((log) => log.SpanId === span.SpanId);
  return h("div", { class: "space-y-3 border rounded-md p-3 border-[var(--border)]" },
    h("div", { class: "flex flex-wrap items-center gap-2" },
      h("strong", {}, span.SpanName), badge(span.ServiceName, "brand"), span.SpanKind ? badge(span.SpanKind) : null,
      isErrorStatus(span.StatusCode) ? badge(span.StatusCode, "error") : badge(span.StatusCode || "Unset", "ok"),
      h("span", { class: "muted text-xs" }, `${formatDuration(span.Duration)} · started ${formatTime(span.Timestamp, { ms: true })}`)),
    span.StatusMessage ? h("p", { class: "error-box" }, span.StatusMessage) : null,
    h("div", { class: "flex flex-wrap gap-2" }, visitorLinks(span)),
    attributeTable(span.SpanAttributes, { title: "Span attributes" }),
    attributeTable(span.ResourceAttributes, { title: "Resource attributes" }),
    (span.Events || []).length ? h("div", {}, h("h3", { class: "text-xs uppercase tracking-wide muted font-medium mb-1" }, "Events"),
      (span.Events || []).map((event) => h("div", { class: "mb-2" }, h("div", { class: "text-xs" }, h("strong", {}, event.name), " ", h("span", { class: "muted" }, formatTime(event.time, { ms: true }))),
        attributeTable(event.attributes)))) : null,
    spanLogs.length ? h("div", {}, h("h3", { class: "text-xs uppercase tracking-wide muted font-medium mb-1" }, `Logs (${spanLogs.length})`),
      spanLogs.map((log) => h("div", { class: "text-xs font-mono py-0.5" }, h("span", { class: "muted" }, formatTime(log.Timestamp, { ms: true, date: false })), " ", badge(log.SeverityText || "LOG"), " ", log.Body))) : null);
}

// Renders a trace answer from GET /api/trace/{id}. `selectedSpanId` starts with that span open.
export function waterfall(trace, { selectedSpanId } = {}) {
  const spans = trace.spans || [];
  const logs = trace.logs || [];
  if (spans.length === 0) return emptyState("This trace has no spans in the store.", "It may be outside the data kept, or its spans have not arrived yet.", { compact: true, showGettingStarted: false });
  const total = Math.max(...spans.map((span) => (span.start_offset_ms || 0) + (Number(span.Duration) || 0)), 0.001);
  const services = [...new Set(spans.map((span) => span.ServiceName))];
  const details = h("div");
  const rows = [];

  function select(span, row) {
    rows.forEach((other) => other.classList.remove("selected"));
    row.classList.add("selected");
    replace(details, spanDetails(span, logs));
  }

  const list = h("div", { role: "list", "aria-label": "Spans of the trace" }, spans.map((span) => {
    const left = ((span.start_offset_ms || 0) / total) * 100;
    const width = Math.max(((Number(span.Duration) || 0) / total) * 100, 0.2);
    const barColor = isErrorStatus(span.StatusCode) ? ERROR_COLOR : color(services.indexOf(span.ServiceName));
    const row = h("div", {
      class: "waterfall-row", role: "listitem", tabindex: "0",
      "aria-label": `${span.ServiceName} ${span.SpanName}, ${formatDuration(span.Duration)}${isErrorStatus(span.StatusCode) ? ", error" : ""}`,
    },
    h("div", { class: "truncate", style: { paddingLeft: `${(span.depth || 0) * 12}px` }, title: `${span.ServiceName}: ${span.SpanName}` },
      h("span", { class: "inline-block w-2 h-2 rounded-full mr-1.5", style: { background: barColor } }),
      h("span", { class: "muted" }, span.ServiceName), " ", span.SpanName),
    h("div", { class: "waterfall-track" },
      h("div", { class: "waterfall-bar", style: { left: `${left}%`, width: `${width}%`, background: barColor } }),
      h("span", { class: "absolute text-[10px] muted top-0.5 whitespace-nowrap", style: left + width > 80 ? { right: `${100 - left + 0.5}%` } : { left: `calc(${left + width}% + 4px)` } }, formatDuration(span.Duration))));
    row.addEventListener("click", () => select(span, row));
    row.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); select(span, row); }
      if (event.key === "ArrowDown") row.nextElementSibling?.focus();
      if (event.key === "ArrowUp") row.previousElementSibling?.focus();
    });
    rows.push(row);
    return row;
  }));

  const initial = spans.findIndex((span) => span.SpanId === selectedSpanId);
  const start = initial >= 0 ? initial : 0;
  select(spans[start], rows[start]);

  return h("div", { class: "space-y-3" },
    h("div", { class: "flex flex-wrap gap-3 text-xs muted" },
      h("span", {}, countOf(spans.length, "span")), h("span", {}, countOf(logs.length, "log")), h("span", {}, countOf(services.length, "service")),
      h("span", {}, `total ${formatDuration(total)}`), h("span", {}, `started ${formatTime(spans[0].Timestamp, { ms: true })}`)),
    list, details);
}

// Loads a trace into `target` and renders its waterfall.
export function loadTrace(target, traceId, { signal, selectedSpanId } = {}) {
  return load(target, () => api(`/api/trace/${encodeURIComponent(traceId)}`, { signal }), (trace) => waterfall(trace, { selectedSpanId }));
}
