// Compare (/compare): side-by-side views of one question across groups, one tab each.
// Tabs live in pages/compare/*.js, each exporting `mount(root, { signal, onState })` like a
// page; the open tab is the `tab` URL parameter, so a comparison can be shared as a link.

import { h, replace } from "../lib/dom.js";
import { params, updateQuery } from "../lib/state.js";
import { card, emptyState, tabList } from "../lib/ui.js";

// Tabs in display order. Analytics tabs come first, then process-mining ones.
const TABS = [
  { id: "funnel", label: "Funnel", load: () => import("./compare/funnel.js") },
  { id: "by-lob", label: "By LOB", load: () => import("./compare/by-lob.js") },
  { id: "sequences", label: "Sequences", load: () => import("./compare/sequences.js") },
  { id: "bottlenecks", label: "Bottlenecks", load: () => import("./compare/bottlenecks.js") },
  { id: "orders", label: "Order traces", load: () => import("./compare/order-traces.js") },
];

export function mount(root, context) {
  const { signal, onState } = context;
  const body = h("div", { class: "space-y-4" });
  let tabController = null;
  let tabHandler = null;
  let shownTab = null;

  async function show() {
    tabController?.abort();
    tabController = new AbortController();
    signal.addEventListener("abort", () => tabController.abort(), { once: true });
    const selected = TABS.find((tab) => tab.id === params().get("tab")) || TABS[0];
    shownTab = selected?.id;
    if (!selected) {
      replace(root, card(null, emptyState("No comparisons yet.", "This version of EXOS has no Compare tabs.", { showGettingStarted: false })));
      return;
    }
    const tabs = tabList(TABS, selected.id, (id) => updateQuery({ tab: id }), "Comparisons");
    replace(root, h("div", { class: "space-y-4" }, tabs, body));
    const module = await selected.load();
    tabHandler = null;
    replace(body);
    module.mount(body, { ...context, signal: tabController.signal, onState: (handler) => { tabHandler = handler; } });
  }

  // A tab change remounts; any other URL change goes to the open tab's own handler.
  onState(() => {
    const wanted = TABS.find((tab) => tab.id === params().get("tab"))?.id || TABS[0]?.id;
    if (wanted !== shownTab || !tabHandler) show();
    else tabHandler();
  });
  show();
}
