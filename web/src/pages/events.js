// Events (/events): search spans or logs, see their count over time (drag on the histogram
// to zoom the range), page through results, and open one record with its trace waterfall.
// Page parameters in the URL: `source` (spans or logs), `q`, `columns`.

import { h, replace } from "../lib/dom.js";
import { api, isAbort } from "../lib/api.js";
import { apiParams, params, updateQuery, setAbsoluteRange, currentRange, pageLink } from "../lib/state.js";
import { card, dataTable, emptyState, errorBox, skeleton, sidePanel, tabList, badge, spinner, modal } from "../lib/ui.js";
import { barChart, enableRangeSelect } from "../lib/charts.js";
import { formatBucket, formatCount, formatDuration, formatTime, parseTime, cellText } from "../lib/format.js";
import { attributeTable, isErrorStatus, loadTrace, visitorLinks } from "../lib/waterfall.js";

const PAGE_SIZE = 100;
const DEFAULT_COLUMNS = {
  spans: ["Timestamp", "ServiceName", "SpanName", "Duration", "StatusCode", "TraceId"],
  logs: ["Timestamp", "ServiceName", "SeverityText", "Body", "TraceId"],
};
const KNOWN_COLUMNS = {
  spans: ["Timestamp", "ServiceName", "SpanName", "SpanKind", "Duration", "StatusCode", "StatusMessage", "TraceId", "SpanId", "ParentSpanId",
    "OrderId", "OperatorId", "Lob", "UserId", "RumSessionId", "SpanAttributes", "ResourceAttributes"],
  logs: ["Timestamp", "ServiceName", "SeverityText", "SeverityNumber", "Body", "TraceId", "SpanId", "OrderId", "OperatorId", "Lob", "UserId",
    "RumSessionId", "LogAttributes", "ResourceAttributes"],
};

function source() {
  return params().get("source") === "logs" ? "logs" : "spans";
}

function chosenColumns() {
  const text = params().get("columns");
  return text ? text.split(",").filter(Boolean) : null;
}

function severityKind(text) {
  const value = String(text || "").toUpperCase();
  if (value.startsWith("ERR") || value.startsWith("FATAL") || value.startsWith("CRIT")) return "error";
  if (value.startsWith("WARN")) return "warn";
  return "neutral";
}

// Renders one cell by column name.
const COLUMN_LABELS = {
  ServiceName: "Service", SpanName: "Span", SpanKind: "Kind", StatusCode: "Status", StatusMessage: "Status message", SeverityText: "Severity",
  SeverityNumber: "Severity number", TraceId: "Trace", SpanId: "Span ID", ParentSpanId: "Parent span", OrderId: "Order", OperatorId: "Operator",
  Lob: "Line of business", UserId: "User", RumSessionId: "Session", Timestamp: "Time",
};

function columnLabel(column) {
  return COLUMN_LABELS[column] || column.replace(/^(Span|Log|Resource)Attributes\./, "");
}

function cell(column, row) {
  const value = row[column];
  if (column === "Timestamp") return h("span", { class: "whitespace-nowrap tabular-nums" }, formatTime(value, { ms: true }));
  if (column === "Duration") return h("span", { class: "tabular-nums whitespace-nowrap" }, formatDuration(value));
  if (column === "StatusCode") return isErrorStatus(value) ? badge(value, "error") : h("span", { class: "muted" }, value || "");
  if (column === "SeverityText") return badge(value || "—", severityKind(value));
  if (column === "RumSessionId" && value) {
    return h("a", { class: "font-mono text-xs", href: pageLink("/replay", { session: value, t: parseTime(row.Timestamp) || undefined }), title: `Replay session ${value}` }, String(value).slice(0, 12));
  }
  if (column === "TraceId" || column === "SpanId" || column === "ParentSpanId") return h("span", { class: "font-mono text-xs muted" }, String(value || "").slice(0, 12));
  if (column === "Body" || column === "SpanName" || column === "StatusMessage") return h("span", { class: "block max-w-[36rem] truncate", title: cellText(value) }, cellText(value));
  return h("span", { class: "block max-w-[20rem] truncate", title: cellText(value) }, cellText(value));
}

function histogram(data, bucketSeconds) {
  const buckets = data.histogram || [];
  if (buckets.length === 0) return h("div");
  const labels = buckets.map((bucket) => formatBucket(bucket.t, bucketSeconds));
  const chart = barChart(labels, [{ label: source() === "logs" ? "Logs" : "Spans", data: buckets.map((b) => b.count) }], {
    height: 130, label: "Matching records over time. Drag across bars to zoom in.",
  });
  const times = buckets.map((bucket) => parseTime(bucket.t));
  const step = times.length > 1 ? times[1] - times[0] : (bucketSeconds || 60) * 1000;
  requestAnimationFrame(() => enableRangeSelect(chart, (first, last) => setAbsoluteRange(times[first], times[last] + step)));
  return chart;
}

// Opens the side panel with the full record and its trace.
function openRecord(row, kind, signal) {
  const title = kind === "logs" ? `Log · ${row.ServiceName || ""}` : `${row.ServiceName || ""} · ${row.SpanName || "span"}`;
  const panel = sidePanel(title, { wide: true });
  const traceTarget = h("div");
  const fields = Object.fromEntries(Object.entries(row).filter(([, value]) => typeof value !== "object" || value === null));
  // The same time zone and units as the table's cells.
  if (fields.Timestamp) fields.Timestamp = `${formatTime(fields.Timestamp, { ms: true })} (${currentRange().tz})`;
  if (typeof fields.Duration === "number") fields.Duration = formatDuration(fields.Duration);
  const maps = Object.entries(row).filter(([, value]) => value && typeof value === "object");
  replace(panel.body,
    h("div", { class: "flex flex-wrap gap-2" }, visitorLinks(row),
      row.TraceId ? h("a", { class: "btn btn-sm", href: pageLink("/engineering", { trace: row.TraceId }) }, "Open trace in Engineering") : null),
    kind === "logs" && row.Body ? h("pre", { class: "code-block whitespace-pre-wrap" }, cellText(row.Body)) : null,
    attributeTable(fields, { title: "Record" }),
    maps.map(([name, value]) => attributeTable(value, { title: name })),
    row.TraceId ? h("div", {}, h("h3", { class: "card-title mb-2" }, "Trace"), traceTarget) : null);
  if (row.TraceId) loadTrace(traceTarget, row.TraceId, { signal, selectedSpanId: kind === "spans" ? row.SpanId : undefined });
}

function columnPicker(current, onApply) {
  modal("Choose columns", (close) => {
    const extra = h("input", { class: "input", placeholder: "SpanAttributes.order.id", "aria-label": "Add an attribute column" });
    const known = [...new Set([...KNOWN_COLUMNS[source()], ...current])];
    const boxes = known.map((column) => h("label", { class: "flex items-center gap-2 py-0.5 text-sm" },
      h("input", { type: "checkbox", value: column, checked: current.includes(column) }), h("span", { class: "font-mono text-xs" }, column)));
    const apply = (event) => {
      event.preventDefault();
      const picked = boxes.map((label) => label.querySelector("input")).filter((box) => box.checked).map((box) => box.value);
      if (extra.value.trim()) picked.push(extra.value.trim());
      close();
      onApply(picked);
    };
    return h("form", { class: "w-96 space-y-3", onsubmit: apply },
      h("div", { class: "grid grid-cols-2 gap-x-4 max-h-80 overflow-auto" }, boxes),
      h("label", { class: "field-label block" }, "Attribute column (a map key such as SpanAttributes.order.id)", extra),
      h("div", { class: "flex justify-between" },
        h("button", { type: "button", class: "btn", onclick: () => { close(); onApply(null); } }, "Reset to default"),
        h("button", { type: "submit", class: "btn btn-primary" }, "Apply")));
  });
}

export function mount(root, { signal, onState }) {
  const histogramTarget = h("div");
  const resultsTarget = h("div");
  const countLabel = h("span", { class: "text-sm muted", "aria-live": "polite" });
  const searchInput = h("input", {
    class: "input max-w-md", type: "search", placeholder: "Search text (press / to focus)", "aria-label": "Search text", value: params().get("q") || "",
    dataset: { pageSearch: "true" },
  });
  const tabsSlot = h("div");
  let controller = null;
  let state = null; // {rows, columns, nextCursor, loading}
  let observer = null;

  // Asks for one part of the response: `rows` (a page, from `cursor` on) or `histogram`.
  // The two go separately, so the rows of a search show before the histogram,
  // which counts every match of the range.
  function request(part, cursor) {
    const columns = chosenColumns();
    return api("/api/events", {
      params: apiParams({ source: source(), q: params().get("q") || undefined, columns: columns ? columns.join(",") : undefined, limit: PAGE_SIZE, cursor, part }),
      signal: controller.signal,
    });
  }

  function renderResults() {
    const kind = source();
    const columns = state.columns.length ? state.columns : DEFAULT_COLUMNS[kind];
    if (state.rows.length === 0) {
      const filtered = params().get("q") || params().getAll("filter").length;
      replace(resultsTarget, card(null, filtered
        ? emptyState(`No ${kind} match this search.`, "Change the search text, remove filters or widen the time range.", { showGettingStarted: false })
        : emptyState(`No ${kind} in this time range.`, "Widen the time range. If this server has no data yet, send some first.")));
      return;
    }
    const more = state.nextCursor
      ? h("div", { class: "flex justify-center py-3" }, h("button", { class: "btn", onclick: loadMore, disabled: state.loading }, state.loading ? spinner("Loading more") : "Load more"))
      : h("p", { class: "text-center text-xs muted py-3" }, `All ${formatCount(state.rows.length)} matching records shown.`);
    const table = dataTable(columns.map((column) => ({ label: columnLabel(column), value: (row) => cell(column, row) })), state.rows, {
      caption: `${kind} results`, onRow: (row) => openRecord(row, kind, signal),
    });
    replace(resultsTarget, card(null, [table, more], {}));
    observer?.disconnect();
    if (state.nextCursor && "IntersectionObserver" in window) {
      observer = new IntersectionObserver((entries) => { if (entries.some((entry) => entry.isIntersecting)) loadMore(); }, { rootMargin: "200px" });
      observer.observe(more);
    }
    countLabel.textContent = `${formatCount(state.rows.length)} shown${state.nextCursor ? ", more available" : ""}`;
  }

  async function loadMore() {
    if (!state?.nextCursor || state.loading) return;
    state.loading = true;
    try {
      const data = await request("rows", state.nextCursor);
      state.rows.push(...(data.rows || []));
      state.nextCursor = data.next_cursor || null;
    } catch (error) {
      if (!isAbort(error)) resultsTarget.append(errorBox(error, { retry: loadMore }));
      return;
    } finally {
      state.loading = false;
    }
    renderResults();
  }

  async function refresh() {
    controller?.abort();
    controller = new AbortController();
    signal.addEventListener("abort", () => controller.abort(), { once: true });
    replace(tabsSlot, tabList([{ id: "spans", label: "Spans" }, { id: "logs", label: "Logs" }], source(),
      (id) => updateQuery({ source: id === "spans" ? null : id, columns: null }), "Record type"));
    searchInput.value = params().get("q") || "";
    replace(histogramTarget, skeleton({ height: 130 }));
    replace(resultsTarget, card(null, skeleton({ lines: 8 })));
    countLabel.textContent = "";
    const counts = request("histogram");
    // Handled below; this keeps a rejection while the rows load from counting as unhandled.
    counts.catch(() => {});
    try {
      const data = await request("rows");
      state = { rows: data.rows || [], columns: data.columns || [], nextCursor: data.next_cursor || null, loading: false };
      renderResults();
    } catch (error) {
      if (isAbort(error)) return;
      replace(resultsTarget, errorBox(error, { retry: refresh }));
    }
    try {
      const data = await counts;
      const range = currentRange();
      const bucketSeconds = (range.to - range.from) / 1000 / Math.max(1, (data.histogram || []).length);
      replace(histogramTarget, histogram(data, bucketSeconds));
    } catch (error) {
      if (isAbort(error)) return;
      replace(histogramTarget, errorBox(error, { retry: refresh }));
    }
  }

  replace(root,
    h("form", {
      class: "flex flex-wrap items-center gap-3", role: "search",
      onsubmit: (event) => { event.preventDefault(); updateQuery({ q: searchInput.value.trim() || null }); },
    },
    tabsSlot, searchInput, h("button", { class: "btn btn-primary", type: "submit" }, "Search"),
    h("button", { class: "btn", type: "button", onclick: () => columnPicker(chosenColumns() || state?.columns || DEFAULT_COLUMNS[source()], (picked) => updateQuery({ columns: picked ? picked.join(",") : null })) }, "Columns"),
    h("div", { class: "flex-1" }), countLabel),
    card(null, histogramTarget, { className: "pt-3" }),
    resultsTarget);
  onState(refresh);
  refresh();
  return () => {
    observer?.disconnect();
    controller?.abort();
  };
}
