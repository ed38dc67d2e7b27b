// A dashboard panel: runs its SQL with POST /api/sql and draws the result with its chart,
// or, for a saved analysis chart (`panel.analysis`), re-runs the analysis request.

import { h, replace } from "./dom.js";
import { api } from "./api.js";
import { load } from "./ui.js";
import { defaultChart, renderChart, shapeRows } from "./chartbuilder.js";
import { renderAnalysisPanel } from "./analysis-panels.js";

const PANEL_ROWS = 500;

export function dashboardPanel(panel, { signal, actions } = {}) {
  const body = h("div");
  const height = Math.max(160, Math.min(Number(panel.h) || 300, 800));
  if (panel.analysis) renderAnalysisPanel(body, panel, { signal });
  else load(body, () => api("/api/sql", { method: "POST", body: { sql: panel.sql, max_rows: PANEL_ROWS }, signal }), (result) => {
    const chart = panel.chart?.x ? panel.chart : defaultChart(result.columns);
    return renderChart(shapeRows(result.columns, result.rows, chart), chart, { height: height - 60, result, title: panel.title });
  });
  const width = Number(panel.w) >= 12 ? "xl:col-span-2" : "";
  return h("section", { class: `card ${width}`, "aria-label": panel.title },
    h("header", { class: "card-header" }, h("h2", { class: "card-title truncate" }, panel.title || "Untitled panel"), actions || null),
    h("div", { class: "card-body", style: { minHeight: `${height - 60}px` } }, body));
}

export function replacePanelBody(section, node) {
  replace(section.querySelector(".card-body"), node);
}
