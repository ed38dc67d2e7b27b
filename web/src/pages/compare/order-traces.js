// Compare › Order traces: find an order and see its activities in time, each linked to
// its trace waterfall (/engineering?trace=…) and to the browser sessions of the operators
// who worked it (/replay?session=…). The order is the `order` URL parameter.

import { h, replace } from "../../lib/dom.js";
import { api } from "../../lib/api.js";
import { params, updateQuery } from "../../lib/state.js";
import { card, emptyState, load } from "../../lib/ui.js";
import { formatCount } from "../../lib/format.js";
import { caseTimeline, formatWait, processScope } from "../../lib/process.js";

function examples(answer) {
  const rows = answer.variants.slice(0, 5).flatMap((variant) => variant.example_cases.slice(0, 2).map((id) => ({ id, variant })));
  if (!rows.length) return emptyState("No orders in this range.", null, { showGettingStarted: false, compact: true });
  return h("ul", { class: "space-y-1" }, rows.map(({ id, variant }) => h("li", { class: "text-sm" },
    h("button", { type: "button", class: "link font-mono order-example", onclick: () => updateQuery({ order: id }) }, id),
    h("span", { class: "muted text-xs" }, ` variant ${variant.rank + 1} · ${formatCount(variant.count)} orders like it · median ${formatWait(variant.duration.median)}`))));
}

export function mount(root, { signal, onState }) {
  const input = h("input", { class: "input input-sm w-64", placeholder: "Order id, e.g. ORD-2026-000123", "aria-label": "Order id", value: params().get("order") || "" });
  const form = h("form", { class: "flex gap-2", onsubmit: (event) => { event.preventDefault(); updateQuery({ order: input.value.trim() || null }); } },
    input, h("button", { class: "btn btn-primary btn-sm", type: "submit" }, "Show order"));
  const timeline = h("div", {});
  const picks = h("div", {});
  replace(root, h("div", { class: "space-y-4" }, card("Find an order", h("div", { class: "space-y-3" }, form, picks)), card("Order timeline", timeline)));

  function show() {
    const order = params().get("order");
    input.value = order || "";
    if (!order) {
      replace(timeline, emptyState("No order chosen.", "Enter an order id or pick one of the examples.", { showGettingStarted: false, compact: true }));
      return;
    }
    const scope = processScope();
    load(timeline, () => api(`/api/process/case/${encodeURIComponent(order)}`, { method: "POST", body: { scope }, signal }), caseTimeline);
  }

  load(picks, () => api("/api/process/variants", { method: "POST", body: { scope: processScope(), limit: 5 }, signal }), examples);
  onState(show);
  show();
}
