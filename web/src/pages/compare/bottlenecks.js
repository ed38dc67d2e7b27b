// Compare › Bottlenecks: the top waiting edges and slowed-down activities side by side,
// one column for all orders and one per line of business (POST /api/process/bottlenecks
// with a `lob` case-attribute filter per column).

import { h, replace } from "../../lib/dom.js";
import { api } from "../../lib/api.js";
import { card, emptyState, load } from "../../lib/ui.js";
import { formatCount, formatTime } from "../../lib/format.js";
import { formatWait, openCaseTrace, processScope, shareBar } from "../../lib/process.js";

const MAX_COLUMNS = 6;
const ITEMS = 5;

function column(title, answer, scope) {
  if (!answer.cases) return card(title, emptyState("No orders.", null, { showGettingStarted: false, compact: true }));
  const caseLink = (id) => h("button", { type: "button", class: "link text-xs font-mono", onclick: () => openCaseTrace(id, { scope }) }, id);
  const edges = answer.edges.slice(0, ITEMS).map((edge) => h("li", { class: "space-y-1 bottleneck-edge" },
    h("div", { class: "text-sm" }, h("span", { class: "font-medium" }, `${edge.from} → ${edge.to}`)),
    h("div", { class: "muted text-xs" }, `${formatCount(edge.wait.count)} waits · mean ${formatWait(edge.wait.mean)} · p95 ${formatWait(edge.wait.p95)}`),
    shareBar(edge.share),
    h("div", { class: "flex flex-wrap gap-2" }, edge.cases.slice(0, 3).map((c) => caseLink(c.case)))));
  const slowdowns = answer.slowdowns.slice(0, 3).map((slow) => h("li", { class: "text-sm bottleneck-slowdown" },
    h("span", { class: "font-medium" }, slow.activity), ` ${slow.factor.toFixed(1)}× slower since ${formatTime(slow.since_ms, { seconds: false })}`,
    h("div", { class: "muted text-xs" }, `median ${formatWait(slow.median_before_seconds)} → ${formatWait(slow.median_after_seconds)} · ${formatWait(slow.extra_seconds)} extra over ${formatCount(slow.events_after)} events`)));
  return card(title, h("div", { class: "space-y-3" },
    h("p", { class: "muted text-xs" }, `${formatCount(answer.cases)} orders · ${formatWait(answer.total_wait_seconds)} waiting in total`),
    h("h3", { class: "text-xs font-semibold uppercase muted" }, "Where orders wait"),
    h("ol", { class: "space-y-3" }, edges),
    h("h3", { class: "text-xs font-semibold uppercase muted" }, "Slowed-down steps"),
    slowdowns.length ? h("ul", { class: "space-y-2" }, slowdowns) : h("p", { class: "muted text-xs" }, "No step became markedly slower.")));
}

export function mount(root, { signal }) {
  const grid = h("div", { class: "grid grid-cols-1 md:grid-cols-2 2xl:grid-cols-3 gap-4 compare-bottlenecks" });
  replace(root, grid);
  load(grid, async () => {
    const rework = await api("/api/process/rework", { method: "POST", body: { scope: processScope(), min_cases: 1 }, signal });
    const lobs = rework.groups.map((group) => group.name).filter(Boolean).sort().slice(0, MAX_COLUMNS - 1);
    const groups = [["All orders", {}], ...lobs.map((lob) => [lob, { case_attributes: { lob: [lob] } }])];
    return Promise.all(groups.map(async ([title, filters]) => {
      const scope = processScope(filters);
      const answer = await api("/api/process/bottlenecks", { method: "POST", body: { scope, limit: ITEMS }, signal });
      return { title, answer, scope };
    }));
  }, (columns) => columns.map(({ title, answer, scope }) => column(title, answer, scope)));
}
