// The service map: services as boxes in layers from callers (left) to callees (right),
// calls as curved edges whose width follows the call count and whose colour turns red
// with errors. Drawn with d3 into SVG; drag to pan and scroll to zoom.

import { select, zoom, linkHorizontal, scaleSqrt, max } from "d3";
import { h } from "./dom.js";
import { ERROR_COLOR } from "./charts.js";
import { formatCount, formatDuration, formatPercent } from "./format.js";

const NODE_WIDTH = 210;
const NODE_HEIGHT = 44;
const COLUMN_GAP = 110;
const ROW_GAP = 26;

// Assigns each service a layer: the longest call chain that leads to it, ignoring cycles.
function layers(nodes, edges) {
  const incoming = new Map(nodes.map((node) => [node, []]));
  for (const edge of edges) if (edge.source !== edge.target) incoming.get(edge.target).push(edge.source);
  const depth = new Map();
  const visiting = new Set();
  const visit = (node) => {
    if (depth.has(node)) return depth.get(node);
    if (visiting.has(node)) return 0;
    visiting.add(node);
    const parents = incoming.get(node);
    const value = parents.length ? Math.max(...parents.map((parent) => visit(parent) + 1)) : 0;
    visiting.delete(node);
    depth.set(node, value);
    return value;
  };
  nodes.forEach(visit);
  return depth;
}

// `edges`: [{source, target, calls, errors, p95_ms}]; `services`: [{service, spans, errors}].
export function serviceMap(edges, services, { onSelect } = {}) {
  const stats = new Map(services.map((service) => [service.service, service]));
  const names = [...new Set([...edges.flatMap((edge) => [edge.source, edge.target]), ...services.map((service) => service.service)])];
  const depth = layers(names, edges);
  const columns = new Map();
  for (const name of names.sort()) {
    const column = depth.get(name);
    if (!columns.has(column)) columns.set(column, []);
    columns.get(column).push(name);
  }
  const tallest = Math.max(...[...columns.values()].map((column) => column.length));
  const height = Math.max(220, tallest * (NODE_HEIGHT + ROW_GAP) + ROW_GAP);
  const width = columns.size * (NODE_WIDTH + COLUMN_GAP) + 40;
  const position = new Map();
  for (const [column, members] of columns) {
    const offset = (height - members.length * (NODE_HEIGHT + ROW_GAP) + ROW_GAP) / 2;
    members.forEach((name, row) => position.set(name, { x: 20 + column * (NODE_WIDTH + COLUMN_GAP), y: offset + row * (NODE_HEIGHT + ROW_GAP) }));
  }

  const container = h("div", { class: "relative w-full overflow-auto rounded-md border border-[var(--border)]", style: { height: `${Math.min(height, 460)}px` } });
  const svg = select(container).append("svg").attr("width", Math.max(width, 300)).attr("height", height).style("display", "block").style("margin", "0 auto")
    .attr("role", "img").attr("aria-label", `Service map: ${names.length} services, ${edges.length} call paths`);
  const defs = svg.append("defs");
  const arrow = (id, fill) => defs.append("marker").attr("id", id).attr("viewBox", "0 0 10 10").attr("refX", 9).attr("refY", 5)
    .attr("markerUnits", "userSpaceOnUse").attr("markerWidth", 10).attr("markerHeight", 10).attr("orient", "auto").append("path").attr("d", "M0,0L10,5L0,10z").attr("fill", fill);
  arrow("arrow-normal", "var(--muted)");
  arrow("arrow-error", ERROR_COLOR);
  const layer = svg.append("g");
  svg.call(zoom().scaleExtent([0.3, 3]).on("zoom", (event) => layer.attr("transform", event.transform)));

  const widthScale = scaleSqrt().domain([0, max(edges, (edge) => edge.calls) || 1]).range([1, 8]);
  const link = linkHorizontal().x((point) => point[0]).y((point) => point[1]);
  const edgeGroup = layer.append("g").attr("fill", "none");
  for (const edge of edges) {
    const from = position.get(edge.source);
    const to = position.get(edge.target);
    if (!from || !to) continue;
    const failing = edge.calls > 0 && edge.errors / edge.calls > 0.01;
    const path = edgeGroup.append("path")
      .attr("d", link({ source: [from.x + NODE_WIDTH, from.y + NODE_HEIGHT / 2], target: [to.x - 2, to.y + NODE_HEIGHT / 2] }))
      .attr("stroke", failing ? ERROR_COLOR : "var(--muted)").attr("stroke-opacity", 0.55).attr("stroke-width", widthScale(edge.calls))
      .attr("marker-end", `url(#${failing ? "arrow-error" : "arrow-normal"})`);
    path.append("title").text(`${edge.source} → ${edge.target}: ${formatCount(edge.calls)} calls, ${formatCount(edge.errors)} errors, p95 ${formatDuration(edge.p95_ms)}`);
    // The call count sits on the middle of the edge, with the errors when there are any.
    const middle = [(from.x + NODE_WIDTH + to.x) / 2, (from.y + to.y) / 2 + NODE_HEIGHT / 2 - 4];
    edgeGroup.append("text").attr("class", "service-edge-label").attr("x", middle[0]).attr("y", middle[1]).attr("text-anchor", "middle")
      .attr("font-size", 10).attr("fill", failing ? ERROR_COLOR : "var(--text)").attr("paint-order", "stroke").attr("stroke", "var(--surface)").attr("stroke-width", 3)
      .text(edge.errors > 0 ? `${formatCount(edge.calls)} · ${formatCount(edge.errors)} err` : formatCount(edge.calls));
  }

  const nodeGroup = layer.append("g");
  for (const name of names) {
    const { x, y } = position.get(name);
    const stat = stats.get(name);
    const errorRate = stat?.spans ? stat.errors / stat.spans : 0;
    const node = nodeGroup.append("g").attr("transform", `translate(${x},${y})`).attr("tabindex", 0).attr("role", "button")
      .attr("aria-label", `${name}${stat ? `: ${formatCount(stat.spans)} spans, error rate ${formatPercent(errorRate)}` : ""}`)
      .style("cursor", onSelect ? "pointer" : "default");
    node.append("rect").attr("width", NODE_WIDTH).attr("height", NODE_HEIGHT).attr("rx", 6)
      .attr("fill", "var(--surface)").attr("stroke", errorRate > 0.05 ? ERROR_COLOR : "#2B7FBE").attr("stroke-width", 1.5);
    node.append("text").attr("x", 10).attr("y", 18).attr("fill", "var(--text)").attr("font-size", 12).attr("font-weight", 500)
      .text(name.length > 24 ? `${name.slice(0, 23)}…` : name);
    if (stat) {
      node.append("text").attr("x", 10).attr("y", 34).attr("fill", "var(--muted)").attr("font-size", 10)
        .text(`${formatCount(stat.spans)} spans · ${formatPercent(errorRate)} errors · p95 ${formatDuration(stat.p95_ms)}`);
    }
    node.append("title").text(name);
    if (onSelect) {
      node.on("click", () => onSelect(name));
      node.on("keydown", (event) => { if (event.key === "Enter") onSelect(name); });
    }
  }
  return container;
}
