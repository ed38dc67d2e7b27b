// Paths (/paths): the sequences of events actors go through, as a Sankey diagram from
// POST /api/paths. Controls choose the actor, the event name, a start and/or end event,
// depth, minimum link weight, included and excluded events, cleaning rules and a cohort;
// all of them live in the URL, and the filter bar's filters narrow the spans. Hovering a node or link shows its actors; clicking opens
// the actors on it (POST /api/paths/actors) with links to their visitor, replay or order pages.

import { select } from "d3";
import { sankey, sankeyLinkHorizontal } from "d3-sankey";
import { h, replace } from "../lib/dom.js";
import { params, updateQuery } from "../lib/state.js";
import { filterTexts } from "../lib/funnel-query.js";
import { card, dataTable, emptyState, field, load, sidePanel } from "../lib/ui.js";
import { color } from "../lib/charts.js";
import { formatCount } from "../lib/format.js";
import { saveToDashboardButton } from "../lib/analysis-panels.js";
import { ACTORS, STEP_CHOICES, choiceSelect, cohortSelect, library, parseEvents, postQuestion, timeRange } from "../lib/product.js";

const DEFAULTS = { actor: "OrderId", depth: "5", min: "1", event: "" };
const NODE_WIDTH = 14;
// Estimated width of one character of the 11 px labels, for fitting them, and the most
// room the last column's labels take.
const CHAR_WIDTH = 6.4;
const LABEL_ROOM_MAX = 260;
// Height of one line of the 11 px labels: labels whose centres are closer overlap.
const LABEL_LINE = 14;
// Maximum links the API keeps when the question sets no `max_edges`.
const MAX_EDGES = 100;

// Reads the question from the URL.
function questionFromUrl() {
  const search = params();
  const get = (key) => search.get(key) ?? DEFAULTS[key] ?? "";
  const query = {
    actor: get("actor"),
    time_range: timeRange(),
    depth: Number(get("depth")) || 5,
    min_edge_weight: Number(get("min")) || 1,
    include: parseEvents(get("include")),
    exclude: parseEvents(get("exclude")),
    cleaning: parseRules(get("clean")),
  };
  if (get("event")) query.event_name = { attribute: get("event") };
  if (get("start")) query.start = get("start");
  if (get("end")) query.end = get("end");
  if (get("cohort")) query.cohort = get("cohort");
  if (get("steps") === "business") query.business_steps = true;
  const filters = filterTexts();
  if (filters.length) query.filters = filters;
  return query;
}

// Cleaning rules are written one per line as `pattern => replacement`.
function parseRules(text) {
  return (text || "").split("\n").map((line) => line.split("=>")).filter((parts) => parts.length === 2 && parts[0].trim())
    .map(([pattern, replacement]) => ({ pattern: pattern.trim(), replacement: replacement.trim() }));
}

function controls(saved, onApply) {
  const search = params();
  const get = (key) => search.get(key) ?? DEFAULTS[key] ?? "";
  const inputs = {
    actor: choiceSelect(ACTORS, get("actor"), "Actor"),
    event: h("input", { class: "input", value: get("event"), placeholder: "span name (default) or an attribute key, e.g. url.path" }),
    start: h("input", { class: "input", value: get("start"), placeholder: "e.g. Order Received" }),
    end: h("input", { class: "input", value: get("end"), placeholder: "e.g. Close" }),
    depth: h("input", { class: "input", type: "number", min: "2", max: "10", value: get("depth") }),
    min: h("input", { class: "input", type: "number", min: "1", value: get("min") }),
    include: h("input", { class: "input", value: get("include"), placeholder: "span names or action:<id>, comma-separated" }),
    exclude: h("input", { class: "input", value: get("exclude"), placeholder: "span names or action:<id>, comma-separated" }),
    clean: h("textarea", { class: "input font-mono text-xs", rows: "2", placeholder: "/[0-9]+ => /:id" }, get("clean")),
    cohort: cohortSelect(saved.cohorts, get("actor"), get("cohort")),
    steps: choiceSelect(STEP_CHOICES, get("steps") || "all", "Spans read"),
  };
  const apply = (event) => {
    event.preventDefault();
    const changes = Object.fromEntries(Object.entries(inputs).map(([key, input]) => [key, input.value.trim() || null]));
    onApply(changes);
  };
  return h("form", { class: "grid gap-3 md:grid-cols-4", onsubmit: apply, "aria-label": "Path question" },
    field("Actor", inputs.actor), field("Event name", inputs.event), field("Start at", inputs.start), field("End at", inputs.end),
    field("Depth (steps)", inputs.depth), field("Minimum actors per link", inputs.min), field("Only events", inputs.include), field("Leave out events", inputs.exclude),
    h("div", { class: "md:col-span-2" }, field("Cleaning rules", inputs.clean, { hint: "One regex => replacement per line; collapses ids in names and URLs." })),
    field("Cohort", inputs.cohort), field("Spans read", inputs.steps),
    h("div", { class: "flex items-end" }, h("button", { class: "btn btn-primary", type: "submit" }, "Show paths")));
}

// Draws the Sankey; `onPick({step, name, target?})` is called for a clicked node or link.
// Paths that never go past their first event have no links, and a Sankey needs links
// to lay out its nodes: list those nodes instead, each opening its actors.
function singleSteps(response, onPick) {
  return h("div", { class: "space-y-2" },
    h("p", { class: "text-sm" }, "Every path ends after its first event."),
    dataTable([
      { label: "Event", value: (node) => (onPick
        ? h("button", { class: "underline decoration-dotted text-left", type: "button", onclick: () => onPick({ step: node.step, name: node.name }) }, node.name)
        : node.name) },
      { label: "Actors", align: "right", value: (node) => formatCount(node.actors) },
    ], response.nodes, { caption: "Paths of one event" }));
}

export function sankeyChart(response, { height = 460, onPick } = {}) {
  const steps = Math.max(1, ...response.nodes.map((node) => node.step + 1));
  const width = Math.max(720, steps * 190);
  // Every label sits right of its node, so the last column keeps room for its labels.
  const labelText = (node) => `${node.name} (${formatCount(node.actors)})`;
  const longest = Math.max(...response.nodes.map((node) => labelText(node).length));
  const labelRoom = Math.min(LABEL_ROOM_MAX, Math.ceil(longest * CHAR_WIDTH) + 12);
  const layout = sankey().nodeId((node) => node.id).nodeWidth(NODE_WIDTH).nodePadding(12)
    .nodeAlign((node) => node.step).extent([[4, 8], [width - labelRoom, height - 8]]);
  const graph = layout({
    nodes: response.nodes.map((node) => ({ ...node })),
    links: response.links.map((link) => ({ source: link.source, target: link.target, value: link.actors, actors: link.actors })),
  });
  const names = [...new Set(response.nodes.map((node) => node.name))];
  const fill = (name) => color(names.indexOf(name));
  const svg = select(document.createElementNS("http://www.w3.org/2000/svg", "svg"))
    .attr("viewBox", `0 0 ${width} ${height}`).attr("width", width).attr("height", height)
    .attr("role", onPick ? "group" : "img").attr("aria-label", "Paths Sankey diagram").attr("class", "paths-sankey");
  // With a drill-down, every node and link is a button that Tab reaches and Enter or Space presses.
  const pickable = (selection, pick, label) => {
    if (!onPick) return selection;
    return selection.attr("tabindex", 0).attr("role", "button").attr("aria-label", label)
      .on("click", (_, item) => onPick(pick(item)))
      .on("keydown", (event, item) => {
        if (event.key !== "Enter" && event.key !== " ") return;
        event.preventDefault();
        onPick(pick(item));
      });
  };
  const links = svg.append("g").attr("fill", "none").selectAll("path").data(graph.links).join("path")
    .attr("d", sankeyLinkHorizontal()).attr("stroke", (link) => fill(link.source.name)).attr("stroke-opacity", 0.35)
    .attr("stroke-width", (link) => Math.max(1, link.width)).attr("class", "sankey-link").style("cursor", "pointer");
  pickable(links, (link) => ({ step: link.source.step, name: link.source.name, target: link.target.name }),
    (link) => `Actors from ${link.source.name} to ${link.target.name}: ${formatCount(link.actors)}`)
    .append("title").text((link) => `${link.source.name} → ${link.target.name}\n${formatCount(link.actors)} actors`);
  const nodes = pickable(svg.append("g").selectAll("g").data(graph.nodes).join("g").attr("class", "sankey-node").style("cursor", "pointer"),
    (node) => ({ step: node.step, name: node.name }),
    (node) => `Actors at step ${node.step + 1}, ${node.name}: ${formatCount(node.actors)}`);
  nodes.append("rect").attr("x", (node) => node.x0).attr("y", (node) => node.y0)
    .attr("width", (node) => node.x1 - node.x0).attr("height", (node) => Math.max(1, node.y1 - node.y0)).attr("fill", (node) => fill(node.name));
  nodes.append("title").text((node) => `Step ${node.step + 1}: ${node.name}\n${formatCount(node.actors)} actors, ${formatCount(node.dropoffs)} end here`);
  // A label longer than the gap to the next column is cut; the node's title has all of it.
  const columns = [...new Set(graph.nodes.map((node) => node.x0))].sort((a, b) => a - b);
  const gap = columns.length > 1 ? columns[1] - columns[0] - NODE_WIDTH - 10 : labelRoom;
  // The name is cut, never the count after it.
  const fits = (node, room) => {
    const text = labelText(node);
    if (text.length * CHAR_WIDTH <= room) return text;
    const count = ` (${formatCount(node.actors)})`;
    const keep = Math.max(1, Math.floor(room / CHAR_WIDTH) - count.length - 1);
    return `${node.name.slice(0, keep)}…${count}`;
  };
  const lastX = columns[columns.length - 1];
  const labelled = labelledNodes(graph.nodes);
  nodes.filter((node) => labelled.has(node)).append("text")
    .attr("x", (node) => node.x1 + 6).attr("y", (node) => (node.y0 + node.y1) / 2).attr("dy", "0.35em")
    .attr("text-anchor", "start").attr("font-size", 11).attr("fill", "currentColor")
    .text((node) => fits(node, node.x0 >= lastX ? labelRoom - 8 : gap));
  return h("div", { class: "overflow-x-auto" }, svg.node());
}

// Returns the laid-out nodes whose label does not overlap a label of a larger node in the same
// column. Larger nodes choose first. The other nodes keep their name in the title and aria-label.
function labelledNodes(nodes) {
  const centre = (node) => (node.y0 + node.y1) / 2;
  const placed = new Map();
  const labelled = new Set();
  for (const node of [...nodes].sort((a, b) => b.actors - a.actors)) {
    const column = placed.get(node.x0) || [];
    if (column.every((other) => Math.abs(centre(other) - centre(node)) >= LABEL_LINE)) {
      column.push(node);
      labelled.add(node);
    }
    placed.set(node.x0, column);
  }
  return labelled;
}

// Returns the header line: the actors with a path, and how many of them the Sankey leaves out.
// Nodes that no drawn link touches are left out. Without a cut, a minimum link weight or a
// full set of links, the only such nodes are paths of a single event.
function pathsSummary(response, question) {
  const anchor = question.end && !question.start ? question.depth - 1 : 0;
  const drawn = response.nodes.filter((node) => node.step === anchor).reduce((sum, node) => sum + node.actors, 0);
  const hidden = response.links.length ? response.actors - drawn : 0;
  const cut = response.truncated || question.min_edge_weight > 1 || response.links.length >= MAX_EDGES;
  const reason = cut ? "on paths too rare to draw" : "with a single event";
  return [
    `${formatCount(response.actors)} actors`,
    hidden > 0 ? `; ${formatCount(hidden)} ${reason} ${hidden === 1 ? "is" : "are"} not drawn` : "",
    response.truncated ? " (the rarest paths were cut)" : "",
    ". Click a node or link to list its actors.",
  ].join("");
}

// Draws a saved panel on a dashboard.
export function renderPanel(response) {
  if (!response.nodes.length) return emptyState("No paths in this range.", null, { compact: true, showGettingStarted: false });
  return response.links.length ? sankeyChart(response, { height: 300 }) : singleSteps(response, null);
}

function openActors(question, at, signal) {
  const title = at.target ? `${at.name} → ${at.target}` : at.name;
  const { body } = sidePanel(`Actors at step ${at.step + 1}: ${title}`, { wide: true });
  load(body, () => postQuestion("/api/paths/actors", { query: question, at, limit: 200 }, signal), (response) => {
    if (!response.actors.length) return emptyState("No actors here.", null, { compact: true, showGettingStarted: false });
    return h("div", { class: "space-y-3" },
      h("p", { class: "text-sm muted" }, `${formatCount(response.total)} actors${response.total > response.actors.length ? `, the first ${response.actors.length} shown` : ""}.`),
      dataTable([
        { label: "Actor", value: (row) => h("span", { class: "font-mono text-xs" }, row.actor) },
        { label: "", value: (row) => row.link ? h("a", { class: "btn btn-sm", href: row.link }, "Open") : "" },
      ], response.actors));
  });
}

export function mount(root, { signal, onState }) {
  const form = h("div");
  const chart = h("div");
  const sql = h("details", { class: "text-xs" });
  replace(root, h("div", { class: "space-y-4" }, card("Question", form), card("Paths", h("div", { class: "space-y-3" }, chart, sql), {
    actions: saveToDashboardButton(() => ({ title: "Paths", analysis: { endpoint: "/api/paths", request: questionFromUrl(), page: "paths" } })),
  })));
  let saved = { actions: [], cohorts: [] };

  function draw() {
    replace(form, controls(saved, (changes) => updateQuery(changes)));
    const question = questionFromUrl();
    load(chart, () => postQuestion("/api/paths", question, signal), (response) => {
      replace(sql, h("summary", { class: "cursor-pointer muted" }, "SQL that ran"), h("pre", { class: "code-block whitespace-pre-wrap" }, response.sql));
      if (!response.nodes.length) {
        return emptyState("No paths in this range.", params().get("steps") === "business"
          ? "No actor has business steps that match. Browser sessions have none: choose All spans under Spans read, or widen the range."
          : "No actor has events that match. Widen the range, choose another actor, or remove the start, end or cohort.", { showGettingStarted: false });
      }
      const onPick = (at) => openActors(question, at, signal);
      return h("div", { class: "space-y-2" },
        h("p", { class: "text-sm muted" }, pathsSummary(response, question)),
        response.links.length ? sankeyChart(response, { onPick }) : singleSteps(response, onPick));
    });
  }

  library(signal).then((found) => { saved = found; }).catch(() => {}).finally(draw);
  onState(draw);
}
