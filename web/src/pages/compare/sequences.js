// Compare › Sequences: the most common steps from one event to the next, side by side for
// the top values of an attribute (LOB by default). Each column is one POST /api/paths
// question; its links are the actors' consecutive
// event pairs, heaviest first, among the actors with a span of that value. `by` (column),
// `actor` and `steps` live in the URL. Orders and operators read business steps by
// default: every order's first spans are the same HTTP calls, which hide how LOBs differ.

import { h, replace } from "../../lib/dom.js";
import { api } from "../../lib/api.js";
import { apiParams, params, updateQuery } from "../../lib/state.js";
import { card, emptyState, field, load } from "../../lib/ui.js";
import { color } from "../../lib/charts.js";
import { formatCount } from "../../lib/format.js";
import { ACTORS, STEP_CHOICES, choiceSelect, postQuestion, timeRange } from "../../lib/product.js";

const GROUPS = [{ id: "Lob", label: "LOB" }, { id: "ServiceName", label: "Service" }, { id: "OperatorId", label: "Operator" }];
const COLUMNS = 4;
const ROWS = 10;

function sequenceList(response, index) {
  if (!response.links.length) return emptyState("No sequences.", "No actor here has two steps in a row in this range: widen the range. Browser sessions have no business steps: choose All spans for them.", { compact: true, showGettingStarted: false });
  const nodes = Object.fromEntries(response.nodes.map((node) => [node.id, node]));
  const top = response.links.slice(0, ROWS);
  const heaviest = top[0].actors;
  return h("ol", { class: "space-y-2 text-sm" }, top.map((link) => h("li", {},
    // A pair can repeat at several steps of the paths, so each shows the step it leaves.
    h("div", { class: "flex justify-between gap-2" },
      h("span", { class: "truncate", title: `${nodes[link.source].name} → ${nodes[link.target].name}` },
        h("span", { class: "muted tabular-nums" }, `${nodes[link.source].step + 1}. `), `${nodes[link.source].name} → ${nodes[link.target].name}`),
      h("span", { class: "tabular-nums" }, formatCount(link.actors))),
    h("div", { class: "h-1.5 rounded", style: { width: `${(100 * link.actors) / heaviest}%`, background: color(index) } }))));
}

export function mount(root, { signal, onState }) {
  function draw() {
    const by = params().get("by") || "Lob";
    const actor = params().get("actor") || "OrderId";
    const steps = params().get("steps") || (actor === "OrderId" || actor === "OperatorId" ? "business" : "all");
    const groupSelect = choiceSelect(GROUPS, by, "Compare by");
    const actorSelect = choiceSelect(ACTORS, actor, "Actor");
    const stepSelect = choiceSelect(STEP_CHOICES, steps, "Spans read");
    groupSelect.onchange = () => updateQuery({ by: groupSelect.value });
    // A new actor takes its own default events.
    actorSelect.onchange = () => updateQuery({ actor: actorSelect.value, steps: null });
    stepSelect.onchange = () => updateQuery({ steps: stepSelect.value });
    const columns = h("div");
    replace(root, h("div", { class: "space-y-4" },
      card(null, h("div", { class: "grid gap-3 md:grid-cols-4" }, field("Compare by", groupSelect), field("Actor", actorSelect), field("Spans read", stepSelect))), columns));
    load(columns, async () => {
      const found = await api("/api/filters", { params: { ...apiParams(), key: by }, signal });
      const all = (found?.values || []).map((item) => item.value).filter(Boolean);
      const values = all.slice(0, COLUMNS);
      const answers = await Promise.all(values.map((value) => postQuestion("/api/paths", {
        actor, time_range: timeRange(), depth: 4, max_edges: 50, business_steps: steps === "business",
        actors_with: { equals: { property: { column: by }, value } },
      }, signal)));
      const groups = values.map((value, index) => ({ value, response: answers[index] }));
      // The values come ranked by spans; the columns go by actors, most first.
      groups.sort((a, b) => b.response.actors - a.response.actors);
      return { groups, left: all.length - values.length };
    }, ({ groups, left }) => {
      if (!groups.length) return card(null, emptyState(`No ${by} values in this range.`, "Widen the range, or compare by another attribute.", { showGettingStarted: false }));
      const label = GROUPS.find((group) => group.id === by)?.label || by;
      const actorLabel = ACTORS.find((item) => item.id === actor)?.label || actor;
      return h("div", { class: "space-y-2" },
        h("p", { class: "muted text-sm sequences-about" }, `Each column follows the actors (${actorLabel}) that have at least one span with that ${label} value, through all of their ${steps === "business" ? "business steps" : "spans"}, whatever ${label} those carry.`),
        left > 0 ? h("p", { class: "muted text-sm sequences-left-out" }, `Showing the ${groups.length} ${label} values with the most spans; ${left} more ${left === 1 ? "is" : "are"} not shown. Narrow the range or filter to see them.`) : null,
        h("div", { class: "grid gap-4 md:grid-cols-2 xl:grid-cols-4" }, groups.map(({ value, response }, index) =>
          card(`${value} · ${formatCount(response.actors)} actors`, sequenceList(response, index)))));
    });
  }
  onState(draw);
  draw();
}
