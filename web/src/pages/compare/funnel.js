// Compare › Funnel: the funnel of the Funnels page (same URL parameters) with one column per
// value of an attribute, side by side. The attribute is the `breakdown` parameter, `lob` by
// default. Each column shows actors per step and conversion from the first step, all from one
// POST /api/funnels call.

import { h, replace } from "../../lib/dom.js";
import { api, isAbort } from "../../lib/api.js";
import { updateQuery } from "../../lib/state.js";
import { card, dataTable, emptyState, errorBox, skeleton } from "../../lib/ui.js";
import { barChart } from "../../lib/charts.js";
import { formatCount, formatPercent } from "../../lib/format.js";
import { saveToDashboardButton } from "../../lib/analysis-panels.js";
import { BREAKDOWN_KEYS, formatNanos, funnelLink, funnelRequest, funnelState } from "../../lib/funnel-query.js";

const DEFAULT_ATTRIBUTE = "lob";

function attributeControl(attribute) {
  const input = h("input", { class: "input w-56", value: attribute, list: "compare-funnel-keys", "aria-label": "Compare by attribute" });
  input.addEventListener("change", () => input.value.trim() && updateQuery({ breakdown: input.value.trim() }));
  return h("label", { class: "flex gap-2 items-center text-sm" }, "Compare by", input,
    h("datalist", { id: "compare-funnel-keys" }, BREAKDOWN_KEYS.map((key) => h("option", { value: key }))));
}

function columns(response) {
  return h("div", { class: "grid gap-4", style: { gridTemplateColumns: `repeat(${Math.min(response.series.length, 4)}, minmax(0, 1fr))` } },
    response.series.map((series) => {
      const last = series.steps[series.steps.length - 1];
      return card(series.breakdown || "(none)", h("div", { class: "space-y-2" },
        barChart(response.steps.map((_, index) => `${index + 1}`), [{ label: "Actors", data: series.steps.map((step) => step.actors) }], { height: 160, label: `Funnel steps for ${series.breakdown}` }),
        h("p", { class: "text-sm" }, h("strong", {}, formatPercent(last.conversion_from_first)), ` converted of ${formatCount(series.steps[0].actors)}; median ${formatNanos(series.time_to_convert.median_ns)}`)));
    }));
}

function stepMatrix(response) {
  const rows = response.steps.map((label, index) => ({ label: `${index + 1}. ${label}`, index }));
  return dataTable([
    { label: "Step", value: (row) => row.label },
    ...response.series.map((series) => ({
      label: series.breakdown || "(none)", align: "right",
      value: (row) => `${formatCount(series.steps[row.index].actors)} · ${formatPercent(series.steps[row.index].conversion_from_first)}`,
    })),
  ], rows, { caption: "Actors and conversion from the first step, per value" });
}

export function mount(root, { signal, onState }) {
  let controller = null;
  async function refresh() {
    controller?.abort();
    controller = new AbortController();
    signal.addEventListener("abort", () => controller.abort(), { once: true });
    const state = funnelState();
    const attribute = state.breakdown || DEFAULT_ATTRIBUTE;
    const request = { ...funnelRequest(state, { breakdown: attribute }), breakdown_limit: 8 };
    const header = h("div", { class: "flex flex-wrap gap-3 items-center" }, attributeControl(attribute),
      h("span", { class: "muted text-sm" }, `Funnel: ${state.steps.join(" → ")}`),
      h("a", { class: "btn btn-sm", href: funnelLink(state) }, "Edit the funnel"));
    const body = h("div", { class: "space-y-4" }, card(null, skeleton({ lines: 6 })));
    replace(root, h("div", { class: "space-y-4" }, header, body));
    try {
      const response = await api("/api/funnels", { method: "POST", body: request, signal: controller.signal });
      if (!response.series.length) {
        replace(body, card(null, emptyState(`No ${attribute} values in this funnel.`, "Nobody did the first step in this range, or no span carries the attribute.", { showGettingStarted: false })));
        return;
      }
      const save = saveToDashboardButton(() => ({ title: `Funnel by ${attribute}`, analysis: { endpoint: "/api/funnels", request, page: "funnels", chart: "steps" } }));
      replace(body, columns(response), card(`Side by side by ${attribute}`, stepMatrix(response), { actions: save }));
    } catch (error) {
      if (!isAbort(error)) replace(body, errorBox(error, { retry: refresh }));
    }
  }
  onState(refresh);
  refresh();
}
