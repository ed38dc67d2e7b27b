// Turns a SQL result into a chart: picks sensible defaults (x, y, series) from column types,
// shapes rows into labels and datasets in the browser, and draws line, bar, area, pie or
// table views. Query studio and dashboard panels share it.

import { h } from "./dom.js";
import { barChart, lineChart, pieChart } from "./charts.js";
import { dataTable, emptyState } from "./ui.js";
import { formatTime, parseTime, cellText } from "./format.js";

export const CHART_TYPES = ["line", "bar", "area", "pie", "table"];

export function isNumericType(type) {
  return /int|float|double|decimal|numeric|real|number/i.test(type || "");
}

export function isTimeType(type) {
  return /date|time/i.test(type || "") && !/interval/i.test(type || "");
}

// Chooses a chart for a result: time or text on x, up to three numeric columns on y.
export function defaultChart(columns) {
  const time = columns.find((c) => isTimeType(c.type));
  const text = columns.find((c) => !isNumericType(c.type) && !isTimeType(c.type));
  const numbers = columns.filter((c) => isNumericType(c.type));
  const x = (time || text || columns[0])?.name || null;
  const y = numbers.filter((c) => c.name !== x).slice(0, 3).map((c) => c.name);
  const series = time && text && y.length === 1 ? text.name : null;
  return { type: time ? "line" : y.length ? "bar" : "table", x, y, series };
}

// Shapes result rows (arrays in column order) into {labels, datasets} for Chart.js.
// With a series column, each of its values becomes a dataset of the first y column.
export function shapeRows(columns, rows, chart) {
  const index = Object.fromEntries(columns.map((c, i) => [c.name, i]));
  const xIndex = index[chart.x];
  const xType = columns[xIndex]?.type;
  const yColumns = (chart.y || []).filter((name) => name in index);
  if (xIndex === undefined || yColumns.length === 0) return { labels: [], datasets: [] };
  const xKey = (row) => row[xIndex];
  let keys = [...new Set(rows.map(xKey))];
  if (isTimeType(xType)) keys.sort((a, b) => parseTime(a) - parseTime(b));
  const position = new Map(keys.map((key, i) => [key, i]));
  const labels = keys.map((key) => (isTimeType(xType) ? formatTime(key, { seconds: false }) : cellText(key)));

  if (chart.series && chart.series in index) {
    const seriesIndex = index[chart.series];
    const yIndex = index[yColumns[0]];
    const groups = new Map();
    for (const row of rows) {
      const name = cellText(row[seriesIndex]);
      if (!groups.has(name)) groups.set(name, new Array(keys.length).fill(0));
      groups.get(name)[position.get(xKey(row))] += Number(row[yIndex]) || 0;
    }
    return { labels, datasets: [...groups].map(([label, data]) => ({ label, data })) };
  }
  const datasets = yColumns.map((name) => {
    const data = new Array(keys.length).fill(0);
    for (const row of rows) data[position.get(xKey(row))] += Number(row[index[name]]) || 0;
    return { label: name, data };
  });
  return { labels, datasets };
}

// Draws a shaped result. `result` (columns and rows) is used for the table type.
export function renderChart(shape, chart, { height = 280, result, title = "Query result" } = {}) {
  if (chart.type === "table") {
    if (!result) return emptyState("Nothing to show.", null, { compact: true, showGettingStarted: false });
    return dataTable(result.columns.map((c, i) => ({ label: c.name, value: (row) => cellText(row[i]) })), result.rows.slice(0, 500), { caption: title });
  }
  if (!shape.labels.length || !shape.datasets.length) {
    return emptyState("Nothing to chart.", "Choose an x column and at least one numeric y column.", { compact: true, showGettingStarted: false });
  }
  const series = shape.datasets.map((dataset) => ({ label: dataset.label, data: dataset.data }));
  const label = `${title}: ${chart.type} chart`;
  if (chart.type === "pie") return pieChart(shape.labels, series[0].data, { height, label });
  if (chart.type === "bar") return barChart(shape.labels, series, { height, label, stacked: Boolean(chart.series) });
  return lineChart(shape.labels, series, { height, label, area: chart.type === "area", stacked: chart.type === "area" && series.length > 1 });
}

// Spreadsheet programs run a cell that starts with one of these characters as a formula.
// Stored values come from browsers, so such text gets a leading apostrophe, the usual defence
// against CSV injection. A plain number such as -5 cannot contain a formula and stays as it is.
const FORMULA_START = /^[=+\-@\t\r]/;
const PLAIN_NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function defuseFormula(text) {
  return FORMULA_START.test(text) && !PLAIN_NUMBER.test(text) ? `'${text}` : text;
}

// Builds CSV text (RFC 4180 quoting) from a SQL result.
export function toCsv(result) {
  const quote = (value) => {
    const text = defuseFormula(cellText(value));
    return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  const lines = [result.columns.map((c) => quote(c.name)).join(",")];
  for (const row of result.rows) lines.push(row.map(quote).join(","));
  return lines.join("\r\n") + "\r\n";
}

export function downloadText(text, filename, type = "text/csv") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = h("a", { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
