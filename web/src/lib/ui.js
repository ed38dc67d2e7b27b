// Shared page pieces: cards, loading skeletons, error and empty states, tables, side
// panels, dialogs and notices. Each returns DOM nodes built with h().

import { h, replace } from "./dom.js";
import { isAbort } from "./api.js";
import { pageLink } from "./state.js";

export function card(title, body, { actions, className = "", id } = {}) {
  return h("section", { class: `card ${className}`, "aria-labelledby": id },
    title ? h("header", { class: "card-header" }, h("h2", { class: "card-title", id }, title), actions) : null,
    h("div", { class: "card-body" }, body));
}

export function spinner(label = "Loading") {
  return h("span", { class: "spinner", role: "status", "aria-label": label });
}

// A grey placeholder shaped like the content that is loading.
export function skeleton({ lines = 3, height } = {}) {
  if (height) return h("div", { class: "skeleton", style: { height: `${height}px` }, role: "status", "aria-label": "Loading" });
  return h("div", { class: "space-y-2", role: "status", "aria-label": "Loading" },
    Array.from({ length: lines }, (_, i) => h("div", { class: "skeleton h-4", style: { width: `${90 - i * 12}%` } })));
}

export function errorBox(error, { retry } = {}) {
  const message = error?.message || String(error);
  return h("div", { class: "error-box", role: "alert" },
    h("strong", {}, error?.status === 403 ? "Not allowed. " : "Could not load this. "),
    h("span", {}, message),
    retry ? h("button", { class: "btn btn-sm ml-3", onclick: retry }, "Try again") : null);
}

// Shown in place of a chart or table that has nothing to show.
export function emptyState(title, detail, { showGettingStarted = true, compact = false } = {}) {
  return h("div", { class: compact ? "empty-state empty-compact" : "empty-state" },
    h("p", { class: "empty-title" }, title),
    detail ? h("p", { class: "empty-detail" }, detail) : null,
    showGettingStarted ? h("a", { class: "btn btn-primary btn-sm mt-3", href: pageLink("/getting-started") }, "How to send data") : null);
}

// Loads data into `target`: shows a skeleton, then what `render` returns, or the error.
// A cancelled load (page left) leaves the target alone.
export async function load(target, fetcher, render, { placeholder } = {}) {
  replace(target, placeholder || skeleton());
  target.setAttribute("aria-busy", "true");
  try {
    const data = await fetcher();
    replace(target, render(data));
  } catch (error) {
    if (isAbort(error)) return;
    console.warn("load failed", error);
    replace(target, errorBox(error, { retry: () => load(target, fetcher, render, { placeholder }) }));
  } finally {
    target.removeAttribute("aria-busy");
  }
}

// A table from column definitions: {label, value(row) → node|text, className, align}.
// `onRow` makes rows focusable and opens them with a click or Enter.
export function dataTable(columns, rows, { onRow, caption, selectedIndex } = {}) {
  const head = h("tr", {}, columns.map((column) =>
    h("th", { scope: "col", class: column.align === "right" ? "text-right" : "" }, column.label)));
  const body = rows.map((row, index) => {
    const cells = columns.map((column) => {
      const value = column.value(row, index);
      return h("td", { class: `${column.className || ""} ${column.align === "right" ? "text-right tabular-nums whitespace-nowrap" : ""}` },
        value instanceof Node ? value : value === null || value === undefined ? "" : String(value));
    });
    if (!onRow) return h("tr", {}, cells);
    const open = () => onRow(row, index);
    return h("tr", {
      class: `row-link ${index === selectedIndex ? "row-selected" : ""}`,
      tabindex: "0",
      onclick: (event) => { if (!event.target.closest("a,button")) open(); },
      onkeydown: (event) => {
        // Without preventDefault, the Enter that opens a panel would also press the
        // button that the panel focuses, and close it again.
        if (event.key === "Enter") {
          event.preventDefault();
          open();
        }
        if (event.key === "ArrowDown") event.currentTarget.nextElementSibling?.focus();
        if (event.key === "ArrowUp") event.currentTarget.previousElementSibling?.focus();
      },
    }, cells);
  });
  return h("div", { class: "table-wrap" },
    h("table", { class: "data-table" }, caption ? h("caption", { class: "sr-only" }, caption) : null,
      h("thead", {}, head), h("tbody", {}, body)));
}

// A panel sliding in from the right. Escape or the close button closes it, and focus
// returns to where it was. Returns {panel, body, close}.
let openPanel = null;
export function sidePanel(title, { onClose, wide = false } = {}) {
  openPanel?.close();
  const previousFocus = document.activeElement;
  const body = h("div", { class: "side-panel-body" });
  const titleId = `panel-title-${Date.now()}`;
  const closeButton = h("button", { class: "btn btn-ghost btn-sm", "aria-label": "Close panel", onclick: () => close() }, "✕");
  const panel = h("aside", { class: `side-panel ${wide ? "side-panel-wide" : ""}`, role: "dialog", "aria-modal": "false", "aria-labelledby": titleId },
    h("header", { class: "side-panel-header" }, h("h2", { class: "card-title truncate", id: titleId }, title), closeButton),
    body);
  const onKey = (event) => { if (event.key === "Escape") close(); };
  function close() {
    if (!panel.isConnected) return;
    panel.remove();
    document.removeEventListener("keydown", onKey);
    openPanel = null;
    onClose?.();
    previousFocus?.focus?.();
  }
  document.addEventListener("keydown", onKey);
  document.body.append(panel);
  closeButton.focus();
  openPanel = { panel, body, close };
  return openPanel;
}

export function closeSidePanel() {
  openPanel?.close();
}

// A modal dialog built on <dialog>. `content` gets a close function; returns the dialog.
export function modal(title, content, { onClose } = {}) {
  const dialog = h("dialog", { class: "modal", "aria-label": title });
  const close = () => dialog.close();
  dialog.append(
    h("header", { class: "side-panel-header" }, h("h2", { class: "card-title" }, title),
      h("button", { class: "btn btn-ghost btn-sm", "aria-label": "Close dialog", onclick: close }, "✕")),
    h("div", { class: "p-4" }, content(close)));
  dialog.addEventListener("close", () => { dialog.remove(); onClose?.(); });
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

// A short message at the bottom of the screen that disappears by itself.
export function toast(message, { kind = "info" } = {}) {
  let region = document.getElementById("toasts");
  if (!region) {
    region = h("div", { id: "toasts", class: "toasts", role: "status", "aria-live": "polite" });
    document.body.append(region);
  }
  const item = h("div", { class: `toast toast-${kind}` }, message);
  region.append(item);
  setTimeout(() => item.remove(), kind === "error" ? 8000 : 4000);
}

// Tabs with arrow-key navigation. `tabs` is [{id, label}]; `onSelect(id)` is called on change.
export function tabList(tabs, selected, onSelect, label) {
  const buttons = tabs.map((tab) => h("button", {
    role: "tab", class: "tab", id: `tab-${tab.id}`, "aria-selected": String(tab.id === selected), tabindex: tab.id === selected ? "0" : "-1",
    onclick: () => onSelect(tab.id),
    onkeydown: (event) => {
      const index = tabs.findIndex((t) => t.id === tab.id);
      const step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
      if (!step) return;
      const next = tabs[(index + step + tabs.length) % tabs.length];
      onSelect(next.id);
      requestAnimationFrame(() => document.getElementById(`tab-${next.id}`)?.focus());
    },
  }, tab.label));
  return h("div", { role: "tablist", class: "tabs", "aria-label": label }, buttons);
}

export function badge(text, kind = "neutral") {
  return h("span", { class: `badge badge-${kind}` }, text);
}

// A labelled form field: label above a control.
export function field(label, control, { hint } = {}) {
  const id = control.id || `field-${Math.random().toString(36).slice(2, 8)}`;
  control.id = id;
  return h("div", { class: "field" }, h("label", { class: "field-label", for: id }, label), control,
    hint ? h("p", { class: "field-hint" }, hint) : null);
}
