// Chart.js wrappers with the EXOS look: brand palette, theme-aware axis colours, bucket
// labels in the selected time zone. Each function draws into a new canvas and returns its
// wrapper element. Charts whose canvas has left the document are destroyed the next time a
// chart is created or the theme changes.

import { Chart, registerables } from "chart.js";
import { h } from "./dom.js";
import { formatCount, formatDuration } from "./format.js";

Chart.register(...registerables);

// Red is left out of the series colours: it is kept for errors (ERROR_COLOR).
export const PALETTE = ["#2B7FBE", "#E8833A", "#3BA272", "#8E6BBF", "#C9A227", "#2FA4A9", "#9A6B4F", "#6B7A8F", "#E86FAE", "#4C5FD5"];
export const ERROR_COLOR = "#D64550";

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function applyThemeDefaults() {
  Chart.defaults.font.family = "Roboto, system-ui, sans-serif";
  Chart.defaults.font.size = 12;
  Chart.defaults.color = cssVar("--chart-text") || "#555";
  Chart.defaults.borderColor = cssVar("--chart-grid") || "#e5e7eb";
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
}

const charts = new Set();

// Destroys charts whose canvas left the document, so page changes free their memory.
// Charts younger than a second are kept: a page builds its charts before attaching them.
function sweep() {
  const cutoff = performance.now() - 1000;
  for (const chart of charts) {
    if (chart.exosCreatedAt < cutoff && !chart.canvas?.isConnected) {
      chart.destroy();
      charts.delete(chart);
    }
  }
}

// Redraws every chart with the current theme's colours.
export function refreshChartTheme() {
  sweep();
  applyThemeDefaults();
  for (const chart of charts) {
    for (const scale of Object.values(chart.options.scales || {})) {
      if (scale.ticks) scale.ticks.color = Chart.defaults.color;
      if (scale.grid) scale.grid.color = Chart.defaults.borderColor;
    }
    if (chart.options.plugins?.legend?.labels) chart.options.plugins.legend.labels.color = Chart.defaults.color;
    chart.update();
  }
}

export function color(index) {
  return PALETTE[index % PALETTE.length];
}

export function alpha(hex, opacity) {
  const value = parseInt(hex.slice(1), 16);
  return `rgba(${(value >> 16) & 255}, ${(value >> 8) & 255}, ${value & 255}, ${opacity})`;
}

// Creates a chart in a sized wrapper. `label` names the chart for screen readers.
export function makeChart(config, { height = 220, label = "Chart", className = "" } = {}) {
  sweep();
  applyThemeDefaults();
  const canvas = h("canvas", { role: "img", "aria-label": label });
  const wrapper = h("div", { class: `chart-box ${className}`, style: { height: `${height}px` } }, canvas);
  // Chart.js watches the wrapper's size, so the chart draws once the wrapper is attached.
  const chart = new Chart(canvas, config);
  chart.exosCreatedAt = performance.now();
  charts.add(chart);
  wrapper.chart = chart;
  return wrapper;
}

// Tick steps of a duration axis in ms: round numbers below a second, then whole
// seconds, minutes and hours that read well (15 s, 5 min, 6 h).
const DURATION_STEPS_MS = [
  0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500,
  1e3, 2e3, 5e3, 10e3, 15e3, 30e3, 60e3, 120e3, 300e3, 600e3, 900e3, 1800e3,
  3600e3, 7200e3, 10800e3, 21600e3, 43200e3, 86400e3,
];

// Returns the first step that covers `max` ms in at most 5 ticks.
function durationStep(max) {
  return DURATION_STEPS_MS.find((step) => max / step <= 5) ?? DURATION_STEPS_MS.at(-1);
}

// Names a duration axis tick, which falls on a whole step, in its largest unit.
function durationTick(ms) {
  if (ms === 0) return "0";
  const units = [[86400e3, "d"], [3600e3, "h"], [60e3, "min"], [1e3, "s"], [1, "ms"], [1e-3, "µs"]];
  const [size, name] = units.find(([unit]) => ms >= unit) || units.at(-1);
  return `${Number((ms / size).toPrecision(3))} ${name}`;
}

// Scale callbacks that put a duration axis's ticks on whole steps from 0.
const durationAxis = {
  afterDataLimits: (scale) => {
    scale.durationStep = durationStep(Math.max(scale.max, 0.001));
    scale.max = Math.ceil(scale.max / scale.durationStep) * scale.durationStep || scale.durationStep;
  },
  afterBuildTicks: (scale) => {
    const ticks = [];
    for (let value = Math.max(0, scale.min); value <= scale.max + 1e-9; value += scale.durationStep) ticks.push({ value });
    scale.ticks = ticks;
  },
};

function baseScales({ stacked = false, yFormat = formatCount, yTitle, xTickLimit = 8 } = {}) {
  return {
    x: { stacked, grid: { display: false }, ticks: { maxRotation: 0, autoSkip: true, autoSkipPadding: 16, maxTicksLimit: xTickLimit } },
    y: {
      stacked, beginAtZero: true,
      ticks: { callback: (value) => yFormat(value), maxTicksLimit: 5 },
      title: yTitle ? { display: true, text: yTitle } : undefined,
      ...(yFormat === formatDuration ? { ...durationAxis, ticks: { callback: durationTick } } : {}),
    },
  };
}

// Returns true when data[index] is a number and neither neighbour is.
function isolated(data, index) {
  const known = (value) => value !== null && value !== undefined && !Number.isNaN(value);
  return known(data[index]) && !known(data[index - 1]) && !known(data[index + 1]);
}

// A line or area chart over labels. `series` is [{label, data, color?, dashed?}], and `xTickLimit` caps the time labels of narrow charts.

// `partial` ({first, last, from}) dashes the line into the first point, out of the last,
// and into every point from index `from` on, for buckets that only part of the range
// covers or whose figures are not final yet.
export function lineChart(labels, series, { area = false, stacked = false, height, label, yFormat, yTitle, legend, xTickLimit, partial } = {}) {
  const last = labels.length - 1;
  const dashed = (context) => ((partial?.first && context.p0DataIndex === 0) || (partial?.last && context.p1DataIndex === last)
    || (partial?.from !== undefined && context.p1DataIndex >= partial.from) ? [4, 4] : undefined);
  return makeChart({
    type: "line",
    data: {
      labels,
      datasets: series.map((item, index) => {
        const stroke = item.color || color(index);
        return {
          label: item.label, data: item.data, borderColor: stroke, backgroundColor: alpha(stroke, area ? 0.25 : 0.1),
          fill: area ? (stacked ? (index === 0 ? "origin" : "-1") : "origin") : false,
          // A value with no value beside it draws no line, so it gets a dot.
          borderWidth: 2, pointRadius: (context) => (isolated(item.data, context.dataIndex) ? 3 : 0),
          pointHoverRadius: 3, tension: 0.25, borderDash: item.dashed ? [5, 4] : undefined,
          segment: partial ? { borderDash: dashed } : undefined,
        };
      }),
    },
    options: {
      interaction: { mode: "index", intersect: false },
      scales: baseScales({ stacked, yFormat, yTitle, xTickLimit }),
      plugins: {
        legend: { display: legend ?? series.length > 1, position: "bottom", labels: { boxWidth: 10, boxHeight: 10 } },
        tooltip: { callbacks: { label: (ctx) => `${ctx.dataset.label}: ${(yFormat || formatCount)(ctx.parsed.y)}` } },
      },
    },
  }, { height, label });
}

// A bar chart; `stacked` stacks the series, `horizontal` lays bars sideways.
export function barChart(labels, series, { stacked = false, horizontal = false, height, label, yFormat, onClick, legend } = {}) {
  const scales = baseScales({ stacked, yFormat });
  if (horizontal) {
    scales.x.grid = { display: true };
    scales.x.ticks = { callback: (value) => (yFormat || formatCount)(value), maxTicksLimit: 5 };
    scales.y = { stacked, grid: { display: false }, ticks: { autoSkip: false } };
    scales.x.beginAtZero = true;
  }
  return makeChart({
    type: "bar",
    data: {
      labels,
      datasets: series.map((item, index) => ({
        label: item.label, data: item.data, backgroundColor: item.color || color(index), borderRadius: 2, maxBarThickness: 48,
      })),
    },
    options: {
      indexAxis: horizontal ? "y" : "x",
      scales,
      onClick: onClick ? (event, elements) => elements[0] && onClick(elements[0].index) : undefined,
      plugins: {
        legend: { display: legend ?? series.length > 1, position: "bottom", labels: { boxWidth: 10, boxHeight: 10 } },
      },
    },
  }, { height, label });
}

export function pieChart(labels, values, { height, label } = {}) {
  return makeChart({
    type: "doughnut",
    data: { labels, datasets: [{ data: values, backgroundColor: labels.map((_, i) => color(i)), borderWidth: 1 }] },
    options: { plugins: { legend: { position: "right", labels: { boxWidth: 10, boxHeight: 10 } } } },
  }, { height, label });
}

// A tiny chart without axes, for table cells and KPI tiles.
export function sparkline(values, { stroke = PALETTE[0], height = 32, width = 120, label = "Trend", bars = false } = {}) {
  const wrapper = makeChart({
    type: bars ? "bar" : "line",
    data: {
      labels: values.map((_, i) => i),
      datasets: [{
        data: values, borderColor: stroke, backgroundColor: bars ? stroke : alpha(stroke, 0.15), fill: !bars,
        borderWidth: bars ? 0 : 1.5, pointRadius: 0, tension: 0.3, barPercentage: 1, categoryPercentage: 0.9,
      }],
    },
    options: {
      events: [],
      scales: { x: { display: false }, y: { display: false, beginAtZero: true } },
      plugins: { legend: { display: false }, tooltip: { enabled: false } },
    },
  }, { height, label });
  wrapper.style.width = width ? `${width}px` : "100%";
  wrapper.classList.add("sparkline");
  return wrapper;
}

// Adds click-and-drag selection over a category-axis chart. `onSelect(startIndex, endIndex)`
// gets the first and last bucket covered; a plain click selects one bucket.
export function enableRangeSelect(wrapper, onSelect) {
  const chart = wrapper.chart;
  const band = h("div", { class: "select-band", hidden: true });
  wrapper.append(band);
  let startX = null;
  const indexAt = (x) => {
    const scale = chart.scales.x;
    const value = scale.getValueForPixel(x);
    return Math.max(0, Math.min(chart.data.labels.length - 1, Math.round(value)));
  };
  const offsetX = (event) => event.clientX - chart.canvas.getBoundingClientRect().left;
  chart.canvas.style.cursor = "crosshair";
  chart.canvas.addEventListener("pointerdown", (event) => {
    startX = offsetX(event);
    chart.canvas.setPointerCapture(event.pointerId);
    Object.assign(band.style, { left: `${startX}px`, width: "0px" });
    band.hidden = false;
  });
  chart.canvas.addEventListener("pointermove", (event) => {
    if (startX === null) return;
    const x = offsetX(event);
    Object.assign(band.style, { left: `${Math.min(x, startX)}px`, width: `${Math.abs(x - startX)}px` });
  });
  chart.canvas.addEventListener("pointerup", (event) => {
    if (startX === null) return;
    const endX = offsetX(event);
    band.hidden = true;
    const a = indexAt(Math.min(startX, endX));
    const b = indexAt(Math.max(startX, endX));
    startX = null;
    onSelect(a, b);
  });
}
