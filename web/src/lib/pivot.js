// The pivot grid: Perspective's viewer with its datagrid plugin. Its WebAssembly files are
// bundled into /assets, and its engine runs in a Web Worker created from a blob: URL
// (the page's CSP allows worker-src blob: and wasm-unsafe-eval for this).

import perspective from "@finos/perspective";
import perspectiveViewer from "@finos/perspective-viewer";
import "@finos/perspective-viewer-datagrid";
import SERVER_WASM from "@finos/perspective/dist/wasm/perspective-server.wasm";
import CLIENT_WASM from "@finos/perspective-viewer/dist/wasm/perspective-viewer.wasm";
import THEMES_CSS from "@finos/perspective-viewer/dist/css/themes.css?inline";
import { h } from "./dom.js";
import { isDark } from "./theme.js";
import { isNumericType, isTimeType } from "./chartbuilder.js";
import { parseTime } from "./format.js";

let ready = null;
let worker = null;

function init() {
  ready ??= (async () => {
    document.head.append(h("style", { id: "perspective-themes" }, THEMES_CSS));
    await Promise.all([perspective.init_server(fetch(SERVER_WASM)), perspectiveViewer.init_client(fetch(CLIENT_WASM))]);
    worker = await perspective.worker();
  })();
  return ready;
}

// Converts a SQL result to Perspective's column-oriented input and a schema naming each
// column's type (times become epoch milliseconds in a datetime column).
function toColumns(result) {
  const data = {};
  const schema = {};
  result.columns.forEach((column, i) => {
    let name = column.name;
    while (name in data) name += "_";
    const time = isTimeType(column.type);
    const numeric = isNumericType(column.type);
    schema[name] = "string";
    if (time) schema[name] = "datetime";
    else if (numeric) schema[name] = "float";
    data[name] = result.rows.map((row) => {
      const value = row[i];
      if (value === null || value === undefined) return null;
      if (time) return parseTime(value);
      if (numeric) return Number(value);
      return typeof value === "object" ? JSON.stringify(value) : String(value);
    });
  });
  return { data, schema };
}

// Shows a result in a new viewer inside `container`; returns a function that frees it.
export async function showPivot(container, result) {
  await init();
  const viewer = document.createElement("perspective-viewer");
  viewer.setAttribute("theme", isDark() ? "Pro Dark" : "Pro Light");
  viewer.style.height = "480px";
  viewer.style.display = "block";
  container.replaceChildren(viewer);
  const { data, schema } = toColumns(result);
  const table = await worker.table(schema);
  await table.update(data);
  await viewer.load(table);
  return async () => {
    await viewer.delete();
    await table.delete();
  };
}
