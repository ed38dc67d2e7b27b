// Compare › By LOB: key order metrics per line of business side by side: orders received,
// conversion to Approve and to Close, and the median time from Order Received to each. Two
// order funnels (actor order.id, breakdown lob) through POST /api/funnels. The step names are
// the order process's activity names, and the `received`, `approve` and `close` URL
// parameters can replace them.

import { h, replace } from "../../lib/dom.js";
import { api, isAbort } from "../../lib/api.js";
import { params } from "../../lib/state.js";
import { card, dataTable, emptyState, errorBox, skeleton } from "../../lib/ui.js";
import { barChart } from "../../lib/charts.js";
import { formatCount, formatPercent } from "../../lib/format.js";
import { saveToDashboardButton } from "../../lib/analysis-panels.js";
import { formatNanos, funnelRequest } from "../../lib/funnel-query.js";

// Long enough for an order to pass from receipt to closing.
const WINDOW_S = 30 * 86_400;

function orderFunnel(first, last) {
  const state = { actor: "order.id", steps: [first, last], kind: "sequential", windowSeconds: WINDOW_S, modes: [], exclusions: [], breakdown: "lob", trend: "week" };
  return { ...funnelRequest(state), breakdown_limit: 50 };
}

function metrics(approve, close) {
  const byLob = new Map();
  for (const [key, response] of [["approve", approve], ["close", close]]) {
    for (const series of response.series) {
      const row = byLob.get(series.breakdown) || { lob: series.breakdown || "(none)", orders: series.steps[0].actors };
      row[key] = series.steps[1].conversion_from_first;
      row[`${key}_median_ns`] = series.time_to_convert.median_ns;
      byLob.set(series.breakdown, row);
    }
  }
  return [...byLob.values()].sort((a, b) => b.orders - a.orders);
}

export function mount(root, { signal, onState }) {
  let controller = null;
  async function refresh() {
    controller?.abort();
    controller = new AbortController();
    signal.addEventListener("abort", () => controller.abort(), { once: true });
    const search = params();
    const received = search.get("received") || "Order Received";
    const approveRequest = orderFunnel(received, search.get("approve") || "Approve");
    const closeRequest = orderFunnel(received, search.get("close") || "Close");
    replace(root, card(null, skeleton({ lines: 6 })));
    try {
      const [approve, close] = await Promise.all([approveRequest, closeRequest].map((body) => api("/api/funnels", { method: "POST", body, signal: controller.signal })));
      const rows = metrics(approve, close);
      if (!rows.length) {
        replace(root, card(null, emptyState("No orders in this range.", `No span named “${received}” carries an order.id here.`, { showGettingStarted: false })));
        return;
      }
      const chart = barChart(rows.map((row) => row.lob), [
        { label: "Reached Approve", data: rows.map((row) => row.approve ?? 0) },
        { label: "Reached Close", data: rows.map((row) => row.close ?? 0) },
      ], { height: 240, label: "Conversion by line of business", yFormat: formatPercent });
      const save = saveToDashboardButton(() => ({ title: "Orders reaching Approve by LOB", analysis: { endpoint: "/api/funnels", request: approveRequest, page: "funnels", chart: "steps" } }));
      replace(root, h("div", { class: "space-y-4" },
        card("Conversion by line of business", chart, { actions: save }),
        card("Key figures by line of business", dataTable([
          { label: "Line of business", value: (row) => row.lob },
          { label: "Orders received", align: "right", value: (row) => formatCount(row.orders) },
          { label: "Reached Approve", align: "right", value: (row) => formatPercent(row.approve) },
          { label: "Median time to Approve", align: "right", value: (row) => formatNanos(row.approve_median_ns) },
          { label: "Reached Close", align: "right", value: (row) => formatPercent(row.close) },
          { label: "Median time to Close", align: "right", value: (row) => formatNanos(row.close_median_ns) },
        ], rows, { caption: "Order metrics by line of business" }))));
    } catch (error) {
      if (!isAbort(error)) replace(root, errorBox(error, { retry: refresh }));
    }
  }
  onState(refresh);
  refresh();
}
