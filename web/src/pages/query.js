// Query studio (/query): write SQL with highlighting and completion, run it with
// POST /api/sql (Ctrl/Cmd+Enter), then read the result as a table, pivot it (Perspective) or
// chart it (Chart.js, shaped in the browser or by POST /api/visualize). Queries can be saved
// to workspaces, exported as CSV and shared: the URL carries `sql` and `chart`, or `id` of a
// saved query. While a saved query is open its `id` stays in the URL, with `sql` and `chart`
// only where they differ from the saved ones, so a reload still edits the same item.

import { h, replace, copyText } from "../lib/dom.js";
import { api, isAbort } from "../lib/api.js";
import { params } from "../lib/state.js";
import { card, dataTable, emptyState, errorBox, skeleton, spinner, tabList, modal, field, toast, badge } from "../lib/ui.js";
import { icon } from "../lib/icons.js";
import { CHART_TYPES, defaultChart, shapeRows, renderChart, toCsv, downloadText } from "../lib/chartbuilder.js";
import { formatCount, cellText } from "../lib/format.js";

const MAX_ROWS = [100, 1000, 10000, 100000];
const EXAMPLE_SQL = {
  duckdb: `-- Spans and errors per service over the last day
SELECT ServiceName,
       date_trunc('hour', Timestamp) AS hour,
       count(*) AS spans,
       count(*) FILTER (WHERE StatusCode = 'Error') AS errors
FROM otel_traces
WHERE Timestamp > now()::TIMESTAMP - INTERVAL 1 DAY
GROUP BY ALL
ORDER BY hour`,
  clickhouse: `-- Spans and errors per service over the last day
SELECT ServiceName,
       toStartOfHour(Timestamp) AS hour,
       count() AS spans,
       countIf(StatusCode = 'Error') AS errors
FROM otel_traces
WHERE Timestamp > now() - INTERVAL 1 DAY
GROUP BY ServiceName, hour
ORDER BY hour`,
};

function readChartParam() {
  try {
    return JSON.parse(params().get("chart") || "null");
  } catch {
    return null;
  }
}

// Writes page state into the URL without reloading the page.
function writeUrl(changes) {
  const search = params();
  for (const [key, value] of Object.entries(changes)) {
    if (value === null || value === undefined || value === "") search.delete(key);
    else search.set(key, value);
  }
  const text = search.toString();
  history.replaceState(null, "", location.pathname + (text ? `?${text}` : ""));
}

function schemaBrowser(schema, insert) {
  const tables = schema?.tables || [];
  if (tables.length === 0) return h("p", { class: "muted text-sm" }, "No tables.");
  return h("div", { class: "space-y-1 text-sm max-h-[22rem] overflow-auto pr-1" }, tables.map((table) => h("details", {},
    h("summary", { class: "cursor-pointer py-0.5 font-medium", title: table.about || "" },
      h("span", { class: "font-mono text-xs" }, table.name), " ", table.kind === "view" ? badge("view") : null),
    h("ul", { class: "pl-4 py-1 space-y-0.5" }, (table.columns || []).map((column) => h("li", {},
      h("button", { class: "font-mono text-xs hover:underline", title: `Insert ${column.name}`, onclick: () => insert(column.name) }, column.name),
      " ", h("span", { class: "text-[10px] muted" }, column.type)))))));
}

export async function mount(root, { me, signal }) {
  const dialect = me.store === "clickhouse" ? "clickhouse" : "duckdb";
  const editorHost = h("div", { class: "min-w-0" });
  const schemaSlot = h("div", {}, skeleton({ lines: 6 }));
  const status = h("div", { class: "text-sm muted flex items-center gap-2", "aria-live": "polite" });
  const resultSlot = h("div");
  const maxRows = h("select", { class: "input w-auto", "aria-label": "Maximum rows" },
    MAX_ROWS.map((count) => h("option", { value: count, selected: count === 1000 }, `${formatCount(count)} rows`)));
  let editor = null;
  let result = null;
  let view = "table";
  let chart = readChartParam();
  let savedItem = null;
  let disposePivot = null;
  let controller = null;

  const currentSql = () => editor?.state.doc.toString() ?? "";

  // Return the URL values of the open query. A saved query is named by its id, so its SQL and
  // chart go into the URL only after they change.
  const sqlParam = (sql) => (savedItem && sql === (savedItem.body?.sql || "").trim() ? null : sql);
  const chartParam = () => {
    const text = chart ? JSON.stringify(chart) : null;
    return savedItem && text === JSON.stringify(savedItem.body?.chart ?? null) ? null : text;
  };

  async function run() {
    const sql = currentSql().trim();
    if (!sql) return;
    controller?.abort();
    controller = new AbortController();
    signal.addEventListener("abort", () => controller.abort(), { once: true });
    writeUrl({ id: savedItem?.id ?? null, sql: sqlParam(sql) });
    replace(status, spinner("Running query"), "Running…");
    try {
      result = await api("/api/sql", { method: "POST", body: { sql, max_rows: Number(maxRows.value) }, signal: controller.signal });
      if (!chart || !result.columns.some((c) => c.name === chart.x)) chart = defaultChart(result.columns);
      writeUrl({ chart: chartParam() });
      replace(status,
        `${formatCount(result.row_count ?? result.rows.length)} rows in ${Math.round(result.elapsed_ms ?? 0)} ms`,
        result.truncated ? badge(`cut at ${formatCount(result.rows.length)} rows`, "warn") : null);
      renderResult();
    } catch (error) {
      if (isAbort(error)) return;
      result = null;
      replace(status, "Failed");
      replace(resultSlot, errorBox(error));
    }
  }

  function renderResult() {
    disposePivot?.();
    disposePivot = null;
    if (!result) {
      replace(resultSlot, card(null, emptyState("Run a query to see its result.", "Press Ctrl+Enter (⌘+Enter on a Mac) in the editor.", { showGettingStarted: false })));
      return;
    }
    const body = h("div", { class: "mt-3" });
    const tabs = tabList([{ id: "table", label: "Table" }, { id: "pivot", label: "Pivot" }, { id: "chart", label: "Chart" }], view,
      (id) => { view = id; renderResult(); }, "Result view");
    replace(resultSlot, card(null, [h("div", { class: "flex items-center justify-between gap-2" }, tabs,
      h("div", { class: "flex gap-2" },
        h("button", { class: "btn btn-sm", onclick: () => downloadText(toCsv(result), "exos-query.csv") }, icon("download", { size: 14 }), "CSV"))), body]));
    if (result.rows.length === 0) {
      replace(body, emptyState("The query returned no rows.", null, { compact: true, showGettingStarted: false }));
    } else if (view === "table") {
      replace(body, dataTable(result.columns.map((column, i) => ({
        label: column.name, align: /int|float|double|decimal/i.test(column.type) ? "right" : undefined,
        value: (row) => h("span", { class: "block max-w-[28rem] truncate", title: cellText(row[i]) }, cellText(row[i])),
      })), result.rows.slice(0, 2000), { caption: "Query result" }),
      result.rows.length > 2000 ? h("p", { class: "text-xs muted mt-2" }, "The table shows the first 2,000 rows; Pivot and CSV use them all.") : null);
    } else if (view === "pivot") {
      replace(body, h("div", { class: "flex items-center gap-2 p-6 muted" }, spinner("Loading pivot"), "Loading the pivot grid…"));
      import("../lib/pivot.js")
        .then(async ({ showPivot }) => { disposePivot = await showPivot(body, result); })
        .catch((error) => { console.error("pivot failed", error); replace(body, errorBox(error)); });
    } else {
      replace(body, chartView());
    }
  }

  function chartView() {
    const target = h("div", { class: "mt-3" });
    const columns = result.columns.map((c) => c.name);
    const select = (label, value, options, onChange, { blank } = {}) => {
      const control = h("select", { class: "input w-auto", "aria-label": label },
        blank ? h("option", { value: "" }, blank) : null,
        options.map((option) => h("option", { value: option, selected: option === value }, option)));
      control.addEventListener("change", () => onChange(control.value || null));
      return h("label", { class: "field-label flex flex-col gap-1" }, label, control);
    };
    const yBoxes = h("fieldset", { class: "field-label flex flex-col gap-1" }, h("legend", { class: "mb-1" }, "Y (values)"),
      h("div", { class: "flex flex-wrap gap-x-3 gap-y-1 max-w-[28rem]" }, columns.map((name) => h("label", { class: "flex items-center gap-1 text-xs font-normal" },
        h("input", { type: "checkbox", checked: chart.y.includes(name), onchange: (event) => {
          chart.y = event.target.checked ? [...chart.y, name] : chart.y.filter((n) => n !== name);
          draw();
        } }), name))));
    const shaping = h("select", { class: "input w-auto", "aria-label": "Where to shape the data" },
      h("option", { value: "browser" }, "In the browser (rows shown)"), h("option", { value: "server" }, "On the server (whole result)"));
    shaping.addEventListener("change", draw);

    async function draw() {
      writeUrl({ chart: chartParam() });
      if (shaping.value === "server" && chart.type !== "table") {
        replace(target, skeleton({ height: 280 }));
        try {
          const shape = await api("/api/visualize", { method: "POST", body: { sql: currentSql(), chart }, signal });
          replace(target, renderChart(shape, chart, { result }), shape.truncated ? h("p", { class: "text-xs muted" }, "The server cut the data to fit the chart.") : null);
        } catch (error) {
          if (!isAbort(error)) replace(target, errorBox(error));
        }
        return;
      }
      replace(target, renderChart(shapeRows(result.columns, result.rows, chart), chart, { result }));
    }
    draw();
    return h("div", {},
      h("div", { class: "flex flex-wrap gap-4 items-end" },
        select("Chart", chart.type, CHART_TYPES, (value) => { chart.type = value; draw(); }),
        select("X (labels)", chart.x, columns, (value) => { chart.x = value; draw(); }),
        yBoxes,
        select("Series (split by)", chart.series, columns, (value) => { chart.series = value; draw(); }, { blank: "None" }),
        h("label", { class: "field-label flex flex-col gap-1" }, "Shaping", shaping)),
      target);
  }

  function saveDialog() {
    modal("Save query", (close) => {
      const name = h("input", { class: "input", required: true, value: savedItem?.name || "" });
      const shared = h("input", { type: "checkbox", checked: savedItem?.shared || false });
      const message = h("p", { class: "text-sm text-red-600 dark:text-red-400", role: "alert" });
      const save = async (asNew) => {
        if (!name.value.trim()) return replace(message, "Enter a name.");
        const body = { kind: "query", name: name.value.trim(), shared: shared.checked, body: { sql: currentSql(), chart } };
        try {
          savedItem = savedItem && !asNew
            ? await api(`/api/workspaces/${encodeURIComponent(savedItem.id)}`, { method: "PUT", body })
            : await api("/api/workspaces", { method: "POST", body });
          if (savedItem?.id) writeUrl({ id: savedItem.id, sql: null, chart: null });
          close();
          toast(`Saved “${body.name}” to Workspaces.`);
        } catch (error) {
          replace(message, error.message);
        }
      };
      return h("form", { class: "space-y-3 w-96", onsubmit: (event) => { event.preventDefault(); save(false); } },
        field("Name", name), h("label", { class: "flex items-center gap-2 text-sm" }, shared, "Share with everyone on this server"), message,
        h("div", { class: "flex justify-end gap-2" },
          h("button", { type: "button", class: "btn", onclick: close }, "Cancel"),
          savedItem ? h("button", { type: "button", class: "btn", onclick: () => save(true) }, "Save as new") : null,
          h("button", { type: "submit", class: "btn btn-primary" }, savedItem ? "Save changes" : "Save")));
    });
  }

  function shareLink(button) {
    const url = new URL(location.href);
    url.search = "";
    url.searchParams.set("sql", currentSql());
    if (chart) url.searchParams.set("chart", JSON.stringify(chart));
    copyText(url.toString(), button);
  }

  const runButton = h("button", { class: "btn btn-primary", onclick: run, title: "Run (Ctrl+Enter)" }, icon("play", { size: 14 }), "Run");
  const shareButton = h("button", { class: "btn" }, icon("link", { size: 14 }), "Copy share link");
  shareButton.addEventListener("click", () => shareLink(shareButton));
  replace(root,
    h("div", { class: "flex flex-wrap items-center gap-2" }, runButton, h("kbd", { class: "text-xs muted" }, "Ctrl+Enter"), maxRows,
      h("button", { class: "btn", onclick: saveDialog }, icon("save", { size: 14 }), "Save"), shareButton, h("div", { class: "flex-1" }), status),
    h("div", { class: "grid gap-4 xl:grid-cols-[1fr_18rem]" }, editorHost, card("Tables", schemaSlot)),
    resultSlot);
  renderResult();

  // Load the saved query, the schema and the editor code together.
  const id = params().get("id");
  const [schema, item, editorModule] = await Promise.all([
    api("/api/schema", { signal }).catch((error) => { if (!isAbort(error)) replace(schemaSlot, errorBox(error)); return null; }),
    id ? api(`/api/workspaces/${encodeURIComponent(id)}`, { signal }).catch((error) => { if (!isAbort(error)) toast(`Could not open the saved query: ${error.message}`, { kind: "error" }); return null; }) : null,
    import("../lib/sqleditor.js"),
  ]);
  if (signal.aborted) return undefined;
  if (item?.kind === "query") {
    savedItem = item;
    chart = chart || structuredClone(item.body?.chart ?? null);
  }
  const doc = params().get("sql") || item?.body?.sql || EXAMPLE_SQL[schema?.dialect || dialect];
  editor = editorModule.sqlEditor(editorHost, { doc, schema: schema || { dialect, tables: [] }, onRun: run });
  if (schema) replace(schemaSlot, schemaBrowser(schema, (text) => { editor.dispatch(editor.state.replaceSelection(text)); editor.focus(); }));
  if (params().get("sql") || item) run();
  return () => {
    controller?.abort();
    disposePivot?.();
    editor?.destroy();
  };
}
