// Analysis charts on dashboards. An analysis page (funnels, paths, retention, trends,
// process maps, ...) saves its chart as a dashboard panel that keeps the API request,
// not the result: {title, analysis: {endpoint, request, page}, w, h}. When a dashboard
// opens, the panel re-runs POST `endpoint` with `request` and draws the response with the
// `renderPanel(response, panel)` export of the page module named by `page`, so a saved
// chart always shows current data and the page owns how it looks.

import { h, replace } from "./dom.js";
import { api } from "./api.js";
import { load, modal, field, toast } from "./ui.js";

// Page modules that can draw saved panels, by the `page` key stored in a panel. A page
// that offers "Save to dashboard" adds one line here, e.g.
// `funnels: () => import("../pages/funnels.js")`, and exports `renderPanel`.
const PAGE_MODULES = {
  funnels: () => import("../pages/funnels.js"),
  retention: () => import("../pages/retention.js"),
  paths: () => import("../pages/paths.js"),
  analytics: () => import("../pages/analytics.js"),
  processes: () => import("../pages/processes.js"),
  ocpm: () => import("../pages/ocpm.js"),
  operators: () => import("../pages/operators.js"),
  opportunities: () => import("../pages/opportunities.js"),
};

// Draws one saved analysis panel into `body`.
export function renderAnalysisPanel(body, panel, { signal } = {}) {
  const { endpoint, request, page } = panel.analysis || {};
  const loadModule = PAGE_MODULES[page];
  if (!endpoint || !loadModule) {
    replace(body, h("p", { class: "muted text-sm" }, `This panel needs the ${page || "unknown"} page, which this version of EXOS does not have.`));
    return;
  }
  load(body, async () => {
    const [module, response] = await Promise.all([loadModule(), api(endpoint, { method: "POST", body: request, signal })]);
    return { module, response };
  }, ({ module, response }) => module.renderPanel(response, panel));
}

// A "Save to dashboard" button: asks for a dashboard (an existing one or a new name) and
// appends the panel. `panel()` is called at click time so it saves the current request.
export function saveToDashboardButton(panel) {
  return h("button", { class: "btn btn-sm", type: "button", onclick: () => saveDialog(panel()) }, "Save to dashboard");
}

async function saveDialog(panel) {
  let dashboards = [];
  try {
    const data = await api("/api/workspaces");
    dashboards = (Array.isArray(data) ? data : data?.items || []).filter((item) => item.kind === "dashboard");
  } catch (error) {
    toast(`Cannot list dashboards: ${error.message}`, { kind: "error" });
    return;
  }
  modal("Save to dashboard", (close) => {
    const title = h("input", { class: "input", value: panel.title || "" });
    const choice = h("select", { class: "input" },
      dashboards.map((item) => h("option", { value: item.id }, item.name)),
      h("option", { value: "" }, "New dashboard…"));
    const newName = h("input", { class: "input", placeholder: "Name of the new dashboard" });
    const message = h("p", { class: "text-sm text-red-600 dark:text-red-400", role: "alert" });
    const submit = async (event) => {
      event.preventDefault();
      const saved = { ...panel, title: title.value.trim() || panel.title || "Untitled chart", w: panel.w || 6, h: panel.h || 340 };
      try {
        await appendPanel(dashboards.find((item) => item.id === choice.value), newName.value.trim(), saved);
        close();
        toast(`Saved “${saved.title}” to the dashboard.`);
      } catch (error) {
        replace(message, error.message);
      }
    };
    return h("form", { class: "space-y-3 w-[26rem]", onsubmit: submit },
      field("Chart title", title), field("Dashboard", choice),
      field("New dashboard name", newName, { hint: "Used when “New dashboard…” is chosen." }), message,
      h("div", { class: "flex justify-end gap-2" }, h("button", { type: "button", class: "btn", onclick: close }, "Cancel"),
        h("button", { type: "submit", class: "btn btn-primary" }, "Save")));
  });
}

async function appendPanel(dashboard, newName, panel) {
  if (!dashboard) {
    if (!newName) throw new Error("Enter a name for the new dashboard.");
    await api("/api/workspaces", { method: "POST", body: { kind: "dashboard", name: newName, shared: false, body: { panels: [panel] } } });
    return;
  }
  const item = await api(`/api/workspaces/${encodeURIComponent(dashboard.id)}`);
  const panels = [...(item.body?.panels || []), panel];
  await api(`/api/workspaces/${encodeURIComponent(item.id)}`, { method: "PUT", body: { kind: "dashboard", name: item.name, shared: item.shared, body: { panels } } });
}
