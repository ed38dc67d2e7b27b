// Workspaces (/workspaces): saved queries and dashboards (the caller's own and shared ones):
// open, share, delete, and build dashboards from saved queries. `dashboard=<id>` opens a
// dashboard.

import { h, replace, copyText } from "../lib/dom.js";
import { api, isAbort } from "../lib/api.js";
import { params, updateQuery, pageLink } from "../lib/state.js";
import { card, dataTable, emptyState, errorBox, skeleton, modal, field, toast, badge } from "../lib/ui.js";
import { formatTime } from "../lib/format.js";
import { dashboardPanel } from "../lib/panels.js";

function itemsOf(data) {
  return Array.isArray(data) ? data : data?.items || data?.workspaces || [];
}

function canEdit(item, me) {
  return me.role === "admin" || item.owner === me.user;
}

async function deleteItem(item, refresh) {
  if (!confirm(`Delete “${item.name}”? This cannot be undone.`)) return;
  try {
    await api(`/api/workspaces/${encodeURIComponent(item.id)}`, { method: "DELETE" });
    toast(`Deleted “${item.name}”.`);
    refresh();
  } catch (error) {
    toast(`Delete failed: ${error.message}`, { kind: "error" });
  }
}

async function setShared(item, shared) {
  try {
    await api(`/api/workspaces/${encodeURIComponent(item.id)}`, { method: "PUT", body: { name: item.name, kind: item.kind, body: item.body, shared } });
    item.shared = shared;
    toast(shared ? `“${item.name}” is now shared.` : `“${item.name}” is now private.`);
  } catch (error) {
    toast(`Sharing failed: ${error.message}`, { kind: "error" });
  }
}

// Asks for a name and saved queries, and creates a dashboard with one panel per query.
function newDashboardDialog(queries, onCreated) {
  modal("New dashboard", (close) => {
    const name = h("input", { class: "input", required: true });
    const shared = h("input", { type: "checkbox" });
    const message = h("p", { class: "text-sm text-red-600 dark:text-red-400", role: "alert" });
    const boxes = queries.map((query) => h("label", { class: "flex items-center gap-2 text-sm py-0.5" }, h("input", { type: "checkbox", value: query.id }), query.name));
    const submit = async (event) => {
      event.preventDefault();
      const picked = boxes.map((label) => label.querySelector("input")).filter((box) => box.checked).map((box) => queries.find((q) => q.id === box.value));
      if (!name.value.trim()) return replace(message, "Enter a name.");
      if (picked.length === 0) return replace(message, "Pick at least one saved query.");
      const panels = picked.map((query) => ({ title: query.name, sql: query.body?.sql || "", chart: query.body?.chart || null, w: 6, h: 320 }));
      try {
        const item = await api("/api/workspaces", { method: "POST", body: { kind: "dashboard", name: name.value.trim(), shared: shared.checked, body: { panels } } });
        close();
        onCreated(item);
      } catch (error) {
        replace(message, error.message);
      }
    };
    return h("form", { class: "space-y-3 w-[26rem]", onsubmit: submit },
      field("Name", name),
      h("fieldset", {}, h("legend", { class: "field-label mb-1" }, "Panels from saved queries"),
        queries.length ? h("div", { class: "max-h-64 overflow-auto" }, boxes) : h("p", { class: "muted text-sm" }, "Save a query in Query studio first.")),
      h("label", { class: "flex items-center gap-2 text-sm" }, shared, "Share with everyone on this server"), message,
      h("div", { class: "flex justify-end gap-2" }, h("button", { type: "button", class: "btn", onclick: close }, "Cancel"),
        h("button", { type: "submit", class: "btn btn-primary" }, "Create dashboard")));
  });
}

function itemsView(me, signal) {
  const target = h("div", {}, card(null, skeleton({ lines: 5 })));
  let items = [];
  async function refresh() {
    try {
      items = itemsOf(await api("/api/workspaces", { signal }));
    } catch (error) {
      if (!isAbort(error)) replace(target, errorBox(error, { retry: refresh }));
      return;
    }
    const queries = items.filter((item) => item.kind === "query");
    const toolbar = h("div", { class: "flex gap-2 mb-3" },
      h("a", { class: "btn btn-primary", href: "/query" }, "New query"),
      h("button", { class: "btn", onclick: () => newDashboardDialog(queries, (item) => updateQuery({ dashboard: item.id })) }, "New dashboard"));
    if (items.length === 0) {
      replace(target, toolbar, card(null, emptyState("Nothing saved yet.", "Write a query in Query studio and press Save. Saved queries can then be combined into dashboards.", { showGettingStarted: false })));
      return;
    }
    replace(target, toolbar, card(null, dataTable([
      { label: "Name", value: (item) => h("a", { href: item.kind === "query" ? `/query?id=${encodeURIComponent(item.id)}` : pageLink("/workspaces", { dashboard: item.id }) }, item.name) },
      { label: "Kind", value: (item) => badge(item.kind === "query" ? "Query" : "Dashboard", item.kind === "query" ? "neutral" : "brand") },
      { label: "Owner", value: (item) => (item.owner === me.user ? "you" : item.owner) },
      { label: "Shared", value: (item) => h("input", {
        type: "checkbox", checked: item.shared, disabled: !canEdit(item, me), "aria-label": `Share ${item.name}`,
        onchange: (event) => setShared(item, event.target.checked),
      }) },
      { label: "Updated", className: "whitespace-nowrap", value: (item) => formatTime(item.updated_at * 1000, { seconds: false }) },
      { label: "", value: (item) => (canEdit(item, me) ? h("button", { class: "btn btn-sm btn-danger", onclick: () => deleteItem(item, refresh), "aria-label": `Delete ${item.name}` }, "Delete") : null) },
    ], items, { caption: "Saved queries and dashboards" })));
  }
  refresh();
  return target;
}

function dashboardView(id, me, signal) {
  const target = h("div", { class: "space-y-4" }, card(null, skeleton({ lines: 4 })));
  (async () => {
    let item;
    let queries = [];
    try {
      [item, queries] = await Promise.all([
        api(`/api/workspaces/${encodeURIComponent(id)}`, { signal }),
        api("/api/workspaces", { signal }).then((data) => itemsOf(data).filter((i) => i.kind === "query")),
      ]);
    } catch (error) {
      if (!isAbort(error)) replace(target, errorBox(error));
      return;
    }
    const panels = item.body?.panels || [];
    const editable = canEdit(item, me);
    const grid = h("div", { class: "grid gap-4 xl:grid-cols-2" });
    let dirty = false;
    const saveButton = h("button", { class: "btn btn-primary", disabled: true, onclick: save }, "Save layout");

    async function save() {
      try {
        await api(`/api/workspaces/${encodeURIComponent(item.id)}`, { method: "PUT", body: { kind: "dashboard", name: item.name, shared: item.shared, body: { panels } } });
        dirty = false;
        saveButton.disabled = true;
        toast("Dashboard saved.");
      } catch (error) {
        toast(`Save failed: ${error.message}`, { kind: "error" });
      }
    }
    function changed() {
      dirty = true;
      saveButton.disabled = false;
      draw();
    }
    function draw() {
      if (panels.length === 0) {
        replace(grid, h("div", { class: "xl:col-span-2" }, card(null, emptyState("This dashboard has no panels.", "Add a saved query below.", { showGettingStarted: false }))));
        return;
      }
      replace(grid, panels.map((panel, index) => dashboardPanel(panel, {
        signal,
        actions: editable ? h("div", { class: "flex gap-1" },
          h("button", { class: "btn btn-sm btn-ghost", "aria-label": `Make ${panel.title} ${Number(panel.w) >= 12 ? "half" : "full"} width`, onclick: () => { panel.w = Number(panel.w) >= 12 ? 6 : 12; changed(); } }, Number(panel.w) >= 12 ? "Half width" : "Full width"),
          index > 0 ? h("button", { class: "btn btn-sm btn-ghost", "aria-label": `Move ${panel.title} earlier`, onclick: () => { panels.splice(index - 1, 0, panels.splice(index, 1)[0]); changed(); } }, "◀") : null,
          panel.analysis
            ? null
            : h("a", { class: "btn btn-sm btn-ghost", href: `/query?sql=${encodeURIComponent(panel.sql)}&chart=${encodeURIComponent(JSON.stringify(panel.chart || null))}` }, "Edit SQL"),
          h("button", { class: "btn btn-sm btn-ghost btn-danger", "aria-label": `Remove ${panel.title}`, onclick: () => { panels.splice(index, 1); changed(); } }, "Remove")) : null,
      })));
    }
    const addSelect = h("select", { class: "input w-auto", "aria-label": "Saved query to add" },
      h("option", { value: "" }, "Add a saved query as a panel…"), queries.map((query) => h("option", { value: query.id }, query.name)));
    addSelect.addEventListener("change", () => {
      const query = queries.find((q) => q.id === addSelect.value);
      addSelect.value = "";
      if (!query) return;
      panels.push({ title: query.name, sql: query.body?.sql || "", chart: query.body?.chart || null, w: 6, h: 320 });
      changed();
    });
    const share = h("button", { class: "btn" }, "Copy link");
    share.addEventListener("click", () => copyText(location.href, share));
    replace(target,
      h("div", { class: "flex flex-wrap items-center gap-2" },
        h("a", { class: "btn btn-ghost", href: "/workspaces" }, "← All items"),
        h("h2", { class: "text-lg font-medium flex-1" }, item.name, " ", item.shared ? badge("shared", "brand") : null),
        editable ? addSelect : null, share, editable ? saveButton : null),
      grid);
    draw();
    window.addEventListener("beforeunload", (event) => { if (dirty) event.preventDefault(); }, { signal });
  })();
  return target;
}

export function mount(root, { me, signal, onState }) {
  function draw() {
    const dashboard = params().get("dashboard");
    if (dashboard) replace(root, dashboardView(dashboard, me, signal));
    else replace(root, itemsView(me, signal));
  }
  onState(draw);
  draw();
}
