// Engineering (/engineering): RED metrics per service (rate, errors, p50/p95 duration),
// the latency histogram, the slowest endpoints, the service map, and a trace waterfall for
// one trace id. Page parameters: `service` (one service or all) and `trace`.

import { h, replace } from "../lib/dom.js";
import { api, isAbort } from "../lib/api.js";
import { apiParams, params, updateQuery, pageLink } from "../lib/state.js";
import { card, dataTable, emptyState, errorBox, skeleton } from "../lib/ui.js";
import { barChart, lineChart, color, ERROR_COLOR, PALETTE } from "../lib/charts.js";
import { formatBucket, formatCount, formatDuration, formatPercent } from "../lib/format.js";
import { loadTrace } from "../lib/waterfall.js";

// Charts show the busiest services; more lines than this stop being readable.
const MAX_SERIES = 8;

function redCharts(data) {
  const services = (data.services || []).slice(0, MAX_SERIES);
  const points = services[0]?.series || [];
  const labels = points.map((point) => formatBucket(point.t, data.range?.bucket_s));
  const single = services.length === 1;
  const rate = lineChart(labels, services.map((s, i) => ({ label: s.service, data: (s.series || []).map((p) => p.rate_per_s), color: color(i) })),
    { height: 200, label: "Request rate per second by service", yFormat: (v) => `${formatCount(v)}/s` });
  const errors = barChart(labels, services.map((s, i) => ({ label: s.service, data: (s.series || []).map((p) => p.errors), color: single ? ERROR_COLOR : color(i) })),
    { stacked: true, height: 200, label: "Errors over time by service" });
  const duration = single
    ? lineChart(labels, [
      { label: "p50", data: points.map((p) => p.p50_ms), color: PALETTE[0] },
      { label: "p95", data: points.map((p) => p.p95_ms), color: PALETTE[1] },
    ], { height: 200, label: "p50 and p95 duration over time", yFormat: formatDuration })
    : lineChart(labels, services.map((s, i) => ({ label: s.service, data: (s.series || []).map((p) => p.p95_ms), color: color(i) })),
      { height: 200, label: "p95 duration over time by service", yFormat: formatDuration });
  return h("div", { class: "grid gap-4 xl:grid-cols-3" },
    card("Rate", rate), card("Errors", errors), card(single ? "Duration (p50, p95)" : "Duration (p95)", duration));
}

function latencyHistogram(data) {
  const buckets = data.histogram || [];
  if (buckets.length === 0) return emptyState("No durations in this range.", null, { compact: true, showGettingStarted: false });
  return barChart(buckets.map((b) => `≤ ${formatDuration(b.le_ms)}`), [{ label: "Spans", data: buckets.map((b) => b.count) }],
    { height: 220, label: "How many spans finished within each duration" });
}

function endpointsTable(data) {
  const endpoints = [...(data.endpoints || [])].sort((a, b) => b.p95_ms - a.p95_ms).slice(0, 20);
  if (endpoints.length === 0) return emptyState("No endpoints in this range.", null, { compact: true, showGettingStarted: false });
  return dataTable([
    // Name and service share a cell, cut to a width, so p50 and p95 stay in view.
    { label: "Endpoint", value: (e) => h("div", { class: "max-w-[16rem]" },
      h("a", { class: "block truncate", href: pageLink("/events", { filter: null, q: e.name }), title: e.name }, e.name),
      h("span", { class: "block truncate text-xs muted", title: e.service }, e.service)) },
    { label: "Calls", align: "right", value: (e) => formatCount(e.count) },
    { label: "Error rate", align: "right", value: (e) => formatPercent(e.count ? e.errors / e.count : 0) },
    { label: "p50", align: "right", value: (e) => formatDuration(e.p50_ms) },
    { label: "p95", align: "right", value: (e) => h("strong", {}, formatDuration(e.p95_ms)) },
  ], endpoints, { caption: "Slowest endpoints" });
}

function servicesTable(data) {
  return dataTable([
    { label: "Service", value: (s) => h("a", { href: pageLink("/engineering", { service: s.service }) }, s.service) },
    { label: "Spans", align: "right", value: (s) => formatCount(s.spans) },
    { label: "Errors", align: "right", value: (s) => formatCount(s.errors) },
    { label: "Error rate", align: "right", value: (s) => formatPercent(s.spans ? s.errors / s.spans : 0) },
    { label: "p50", align: "right", value: (s) => formatDuration(s.p50_ms) },
    { label: "p95", align: "right", value: (s) => formatDuration(s.p95_ms) },
    { label: "p99", align: "right", value: (s) => formatDuration(s.p99_ms) },
  ], data.services || [], { caption: "Services" });
}

function traceBox(signal) {
  const traceId = params().get("trace") || "";
  const input = h("input", { class: "input font-mono max-w-xl", value: traceId, placeholder: "Trace ID (32 hex characters)", "aria-label": "Trace ID", spellcheck: "false" });
  const target = h("div");
  const form = h("form", { class: "flex gap-2", onsubmit: (event) => { event.preventDefault(); updateQuery({ trace: input.value.trim() || null }); } },
    input, h("button", { class: "btn btn-primary", type: "submit" }, "Show trace"),
    traceId ? h("button", { class: "btn", type: "button", onclick: () => updateQuery({ trace: null }) }, "Close") : null);
  if (traceId) loadTrace(target, traceId, { signal });
  return card("Trace waterfall", [form, h("div", { class: "mt-3" }, target)]);
}

export function mount(root, { signal, onState }) {
  let controller = null;
  const serviceSelect = h("select", { class: "input w-auto", "aria-label": "Service" });
  const traceSlot = h("div");
  const content = h("div", { class: "space-y-4" });
  let mapModule = null;

  serviceSelect.addEventListener("change", () => updateQuery({ service: serviceSelect.value || null }));

  async function render(data) {
    const services = data.services || [];
    if (services.length === 0) {
      return card(null, emptyState("No spans in this range.", "Services appear here once their traces arrive. Widen the time range or send data."));
    }
    const map = h("div");
    mapModule ??= await import("../lib/servicemap.js");
    replace(map, (data.edges || []).length || services.length
      ? mapModule.serviceMap(data.edges || [], services, { onSelect: (name) => updateQuery({ service: name }) })
      : emptyState("No calls between services in this range.", null, { compact: true, showGettingStarted: false }));
    return h("div", { class: "space-y-4" },
      redCharts(data),
      card("Service map", map, { actions: h("span", { class: "text-xs muted" },
        (data.edges_one_in || 1) > 1
          ? `Estimated from 1 in ${data.edges_one_in} traces · scroll to zoom, drag to pan, click a service to focus it`
          : "Scroll to zoom, drag to pan, click a service to focus it") }),
      h("div", { class: "grid gap-4 xl:grid-cols-2" }, card("Latency distribution", latencyHistogram(data)), card("Slowest endpoints", endpointsTable(data))),
      card("Services", servicesTable(data)));
  }

  async function refresh() {
    controller?.abort();
    controller = new AbortController();
    signal.addEventListener("abort", () => controller.abort(), { once: true });
    replace(traceSlot, traceBox(controller.signal));
    replace(content, h("div", { class: "grid gap-4 xl:grid-cols-3" }, [1, 2, 3].map(() => h("div", { class: "card p-4" }, skeleton({ height: 200 })))));
    const service = params().get("service") || "";
    try {
      const [all, data] = await Promise.all([
        api("/api/services", { params: apiParams(), signal: controller.signal }),
        service ? api("/api/services", { params: apiParams({ service }), signal: controller.signal }) : null,
      ]);
      const names = (all.services || []).map((s) => s.service);
      if (service && !names.includes(service)) names.push(service);
      replace(serviceSelect, h("option", { value: "" }, "All services"), names.map((name) => h("option", { value: name, selected: name === service }, name)));
      replace(content, await render(data ? { ...data, edges: all.edges, edges_one_in: all.edges_one_in } : all));
    } catch (error) {
      if (!isAbort(error)) replace(content, errorBox(error, { retry: refresh }));
    }
  }

  replace(root, h("div", { class: "flex items-center gap-2" }, h("label", { class: "field-label" }, "Service"), serviceSelect), traceSlot, content);
  onState(refresh);
  refresh();
  return () => controller?.abort();
}
