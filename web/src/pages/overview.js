// Overview (/): KPI tiles with sparklines, ingest volume, per-service health, orders by line
// of business and status, recent errors and the busiest operators, all from GET /api/stats.

import { h, replace } from "../lib/dom.js";
import { api } from "../lib/api.js";
import { apiParams, pageLink, updateQuery } from "../lib/state.js";
import { card, dataTable, emptyState, errorBox, load, skeleton, badge } from "../lib/ui.js";
import { barChart, lineChart, sparkline, ERROR_COLOR, PALETTE } from "../lib/charts.js";
import { icon } from "../lib/icons.js";
import { formatBucket, formatCount, formatDuration, formatPercent, formatTime, parseTime } from "../lib/format.js";

const REFRESH_MS = 30_000;
const REFRESH_KEY = "exos-overview-refresh";

function kpiTile(label, value, { series, color = PALETTE[0], href, title } = {}) {
  const body = [
    h("span", { class: "kpi-label" }, label),
    h("span", { class: "kpi-value", title }, value),
    series && series.length > 1 ? sparkline(series, { stroke: color, width: null, height: 28, label: `${label} over time` }) : h("div", { class: "h-7" }),
  ];
  return href ? h("a", { class: "kpi no-underline text-inherit hover:border-brand-400", href, style: { color: "inherit" } }, body) : h("div", { class: "kpi" }, body);
}

function kpis(stats) {
  const totals = stats.totals;
  const volume = stats.volume || [];
  const errorRate = volume.map((point) => (point.spans ? point.errors / point.spans : 0));
  return h("div", { class: "kpi-grid", role: "list", "aria-label": "Key figures" },
    kpiTile("Spans", formatCount(totals.spans), { series: volume.map((p) => p.spans), href: pageLink("/events", { source: "spans" }), title: String(totals.spans) }),
    kpiTile("Logs", formatCount(totals.logs), { series: volume.map((p) => p.logs), color: PALETTE[2], href: pageLink("/events", { source: "logs" }), title: String(totals.logs) }),
    kpiTile("Errors", formatCount(totals.errors), { series: volume.map((p) => p.errors), color: ERROR_COLOR, href: pageLink("/errors"), title: String(totals.errors) }),
    kpiTile("Error rate", formatPercent(totals.error_rate), { series: errorRate, color: ERROR_COLOR, href: pageLink("/errors") }),
    // Root spans in range: a trace counts where it starts, so a service that is only
    // called by others starts none.
    kpiTile("Traces started", formatCount(totals.traces), { href: pageLink("/engineering"), title: String(totals.traces) }),
    kpiTile("Sessions", formatCount(totals.sessions), { title: String(totals.sessions) }),
    kpiTile("Orders", formatCount(totals.orders), { title: String(totals.orders) }));
}

function volumeChart(stats) {
  const volume = stats.volume || [];
  if (volume.length === 0) return emptyState("No ingest in this range.", null, { compact: true, showGettingStarted: false });
  const labels = volume.map((point) => formatBucket(point.t, stats.range?.bucket_s));
  // The range rarely starts or ends on a bucket boundary, so its first and last buckets
  // hold only part of their time: their lines are dashed, not read as a dip.
  const bucketMs = (stats.range?.bucket_s || 0) * 1000;
  const from = parseTime(stats.range?.from);
  const to = parseTime(stats.range?.to);
  const start = (point) => parseTime(point.t);
  const partial = bucketMs > 0 && from !== null && to !== null ? {
    first: start(volume[0]) < from,
    last: start(volume[volume.length - 1]) + bucketMs > to,
  } : null;
  const chart = lineChart(labels, [
    { label: "Spans", data: volume.map((p) => p.spans) },
    { label: "Logs", data: volume.map((p) => p.logs), color: PALETTE[2] },
    { label: "Errors", data: volume.map((p) => p.errors), color: ERROR_COLOR },
  ], { area: true, height: 240, label: "Ingest volume over time: spans, logs and errors", partial });
  if (!partial?.first && !partial?.last) return chart;
  return h("div", {}, chart, h("p", { class: "muted text-xs mt-1 volume-partial-note" },
    "Dashed: a bucket the range covers only in part, so it counts less than a whole one."));
}

function ordersChart(stats) {
  const rows = stats.orders_by_lob || [];
  if (rows.length === 0) {
    return emptyState("No orders in this range.", "Orders appear when spans carry an order.id attribute.", { compact: true, showGettingStarted: false });
  }
  const lobs = [...new Set(rows.map((row) => row.lob || "(none)"))];
  const statuses = [...new Set(rows.map((row) => row.status || "unknown"))];
  const series = statuses.map((status) => ({
    label: status,
    data: lobs.map((lob) => rows.filter((row) => (row.lob || "(none)") === lob && (row.status || "unknown") === status).reduce((sum, row) => sum + row.orders, 0)),
  }));
  return barChart(lobs, series, {
    stacked: true, height: 240, label: "Orders with activity in the range, by line of business and last status", legend: true,
    onClick: (index) => updateQuery({ filter: [...new URLSearchParams(location.search).getAll("filter"), `Lob=${lobs[index]}`] }),
  });
}

function servicesTable(stats) {
  const services = stats.services || [];
  if (services.length === 0) return emptyState("No services reported spans in this range.", null, { compact: true, showGettingStarted: false });
  return dataTable([
    { label: "Service", value: (s) => h("a", { href: pageLink("/engineering", { service: s.service }) }, s.service) },
    { label: "Spans", align: "right", value: (s) => formatCount(s.spans) },
    { label: "Traffic", value: (s) => sparkline((s.series || []).map((p) => p.spans), { width: 110, height: 24, label: `${s.service} spans over time` }) },
    { label: "Errors", align: "right", value: (s) => formatCount(s.errors) },
    { label: "Error rate", align: "right", value: (s) => h("span", { class: s.error_rate > 0.05 ? "text-red-600 dark:text-red-400 font-medium" : "" }, formatPercent(s.error_rate)) },
    { label: "Error trend", value: (s) => sparkline((s.series || []).map((p) => p.errors), { width: 90, height: 24, stroke: ERROR_COLOR, bars: true, label: `${s.service} errors over time` }) },
    { label: "p50", align: "right", value: (s) => formatDuration(s.p50_ms) },
    { label: "p95", align: "right", value: (s) => formatDuration(s.p95_ms) },
    { label: "p95 trend", value: (s) => sparkline((s.series || []).map((p) => p.p95_ms), { width: 90, height: 24, stroke: PALETTE[3], label: `${s.service} p95 latency over time` }) },
  ], services, { caption: "Services" });
}

function recentErrors(stats) {
  const errors = stats.recent_errors || [];
  if (errors.length === 0) return emptyState("No errors in this range.", null, { compact: true, showGettingStarted: false });
  return dataTable([
    { label: "Time", className: "whitespace-nowrap", value: (e) => formatTime(e.time) },
    { label: "Service", value: (e) => e.service },
    { label: "Type", value: (e) => badge(e.type || "Error", "error") },
    // The message gives way, so the trace link keeps its 8 characters in a narrow card.
    { label: "Message", className: "max-w-[16rem] truncate", value: (e) => h("span", { title: e.message }, e.message) },
    { label: "Trace", className: "whitespace-nowrap", value: (e) => (e.trace_id ? h("a", { class: "font-mono text-xs", title: e.trace_id, href: pageLink("/engineering", { trace: e.trace_id }) }, `${e.trace_id.slice(0, 8)}…`) : "") },
  ], errors.slice(0, 12), { caption: "Recent errors" });
}

function operatorsChart(stats) {
  const operators = (stats.busiest_operators || []).slice(0, 10);
  if (operators.length === 0) {
    return emptyState("No operator activity in this range.", "Operators appear when spans carry an operator.id attribute.", { compact: true, showGettingStarted: false });
  }
  return barChart(operators.map((o) => o.operator), [
    { label: "Spans", data: operators.map((o) => o.spans) },
    { label: "Orders", data: operators.map((o) => o.orders), color: PALETTE[1] },
  ], { horizontal: true, height: Math.max(160, operators.length * 30 + 50), label: "Busiest operators by spans and orders", legend: true });
}

function tableTotal(stats) {
  return Object.values(stats.tables || {}).reduce((sum, count) => sum + (Number(count) || 0), 0);
}

function render(stats) {
  const totals = stats.totals || {};
  const inRange = (totals.spans || 0) + (totals.logs || 0) + (totals.metric_points || 0) + (totals.replay_events || 0);
  if (inRange === 0) {
    if (tableTotal(stats) === 0) {
      return card(null, emptyState("No data has arrived yet.",
        "Point an OpenTelemetry SDK or the HyperDX browser SDK at this server, and figures appear here within seconds."));
    }
    return card(null, h("div", {},
      emptyState("Nothing matches this time range and these filters.",
        `The store holds ${formatCount(tableTotal(stats))} rows in total. Widen the range or remove filters.`, { showGettingStarted: false }),
      h("div", { class: "flex justify-center gap-2 pb-6" },
        h("button", { class: "btn btn-sm", onclick: () => updateQuery({ from: "now-30d", to: null }) }, "Show the last 30 days"),
        h("button", { class: "btn btn-sm", onclick: () => updateQuery({ filter: null }) }, "Remove filters"))));
  }
  return h("div", { class: "space-y-4" },
    kpis(stats),
    h("div", { class: "grid gap-4 xl:grid-cols-3" },
      card("Ingest volume", volumeChart(stats), { className: "xl:col-span-2" }),
      card("Orders with activity, by line of business", ordersChart(stats))),
    card("Services", servicesTable(stats)),
    h("div", { class: "grid gap-4 xl:grid-cols-3" },
      card("Recent errors", recentErrors(stats), { className: "xl:col-span-2", actions: h("a", { class: "text-sm", href: pageLink("/errors") }, "All error groups →") }),
      card("Busiest operators", operatorsChart(stats))));
}

function placeholder() {
  return h("div", { class: "space-y-4" },
    h("div", { class: "kpi-grid" }, Array.from({ length: 7 }, () => h("div", { class: "kpi" }, skeleton({ lines: 2 })))),
    h("div", { class: "grid gap-4 xl:grid-cols-3" },
      h("div", { class: "card p-4 xl:col-span-2" }, skeleton({ height: 240 })), h("div", { class: "card p-4" }, skeleton({ height: 240 }))),
    h("div", { class: "card p-4" }, skeleton({ lines: 5 })));
}

export function mount(root, { signal, onState }) {
  const content = h("div");
  const updated = h("span", { class: "text-xs muted", "aria-live": "polite" });
  const toggle = h("input", { type: "checkbox", class: "accent-brand-500", checked: localStorage.getItem(REFRESH_KEY) === "on" });
  let timer = null;
  let controller = null;
  let firstLoad = true;

  async function refresh() {
    controller?.abort();
    controller = new AbortController();
    signal.addEventListener("abort", () => controller.abort(), { once: true });
    const request = () => api("/api/stats", { params: apiParams(), signal: controller.signal });
    if (firstLoad) {
      firstLoad = false;
      await load(content, request, render, { placeholder: placeholder() });
    } else {
      // Refreshes swap the content in place, so the page does not flash skeletons.
      try {
        const stats = await request();
        replace(content, render(stats));
      } catch (error) {
        if (error.name !== "AbortError") replace(content, errorBox(error, { retry: refresh }));
        return;
      }
    }
    updated.textContent = `Updated ${formatTime(Date.now(), { date: false })}`;
  }

  function schedule() {
    clearInterval(timer);
    timer = toggle.checked ? setInterval(refresh, REFRESH_MS) : null;
  }
  toggle.addEventListener("change", () => {
    localStorage.setItem(REFRESH_KEY, toggle.checked ? "on" : "off");
    schedule();
  });

  replace(root,
    h("div", { class: "flex items-center justify-end gap-3" }, updated,
      h("label", { class: "flex items-center gap-1.5 text-sm cursor-pointer" }, toggle, "Auto-refresh every 30 s"),
      h("button", { class: "btn btn-sm", onclick: refresh, "aria-label": "Refresh now" }, icon("refresh", { size: 14 }), "Refresh")),
    content);
  onState(() => { firstLoad = true; refresh(); });
  refresh();
  schedule();
  return () => {
    clearInterval(timer);
    controller?.abort();
  };
}
