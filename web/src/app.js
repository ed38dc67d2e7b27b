// The app shell: signs the user in through GET /api/me, draws the layout (navigation,
// top bar, time-range picker, filter bar), and routes between pages with the History API.
// Each page is its own module, loaded when first opened.

import { h, replace } from "./lib/dom.js";
import { api, setCsrfToken, isAbort } from "./lib/api.js";
import { globalQuery } from "./lib/state.js";
import { timePicker } from "./lib/timepicker.js";
import { filterBar } from "./lib/filterbar.js";
import { themeChoice, setTheme } from "./lib/theme.js";
import { refreshChartTheme } from "./lib/charts.js";
import { errorBox, spinner } from "./lib/ui.js";
import { changePasswordDialog } from "./lib/account.js";
import { icon } from "./lib/icons.js";

// Navigation groups in display order. A group without pages is not shown.
const GROUPS = ["Operations", "Product", "Processes", "Sessions", "Engineering", "Query", "Help"];

// `range` is true when the page reads the time range, and `filters` when it also honours
// the filter bar. The shell hides the controls a page does not use. A `hidden` page has no
// navigation link of its own: the link of its `navParent` is marked while it is open.
const ROUTES = [
  { path: "/", title: "Overview", group: "Operations", icon: "overview", range: true, filters: true, load: () => import("./pages/overview.js") },
  { path: "/events", title: "Events", group: "Product", icon: "events", range: true, filters: true, load: () => import("./pages/events.js") },
  { path: "/funnels", title: "Funnels", group: "Product", icon: "funnels", range: true, filters: true, load: () => import("./pages/funnels.js") },
  { path: "/retention", title: "Retention", group: "Product", icon: "retention", range: true, filters: true, load: () => import("./pages/retention.js") },
  { path: "/paths", title: "Paths", group: "Product", icon: "paths", range: true, filters: true, load: () => import("./pages/paths.js") },
  { path: "/analytics", title: "Analytics", group: "Product", icon: "analytics", range: true, filters: true, load: () => import("./pages/analytics.js") },
  { path: "/sessions", title: "Sessions", group: "Sessions", icon: "sessions", range: true, filters: false, load: () => import("./pages/sessions.js") },
  { path: "/replay", title: "Replay", group: "Sessions", icon: "replay", range: false, filters: false, hidden: true, navParent: "/sessions", load: () => import("./pages/replay.js") },
  { path: "/visitor", title: "Visitor", group: "Sessions", icon: "visitor", range: true, filters: false, load: () => import("./pages/visitor.js") },
  { path: "/engineering", title: "Engineering", group: "Engineering", icon: "engineering", range: true, filters: true, load: () => import("./pages/engineering.js") },
  { path: "/errors", title: "Errors", group: "Engineering", icon: "errors", range: true, filters: true, load: () => import("./pages/errors.js") },
  { path: "/architecture", title: "Architecture", group: "Engineering", icon: "architecture", range: true, filters: false, load: () => import("./pages/architecture.js") },
  { path: "/processes", title: "Processes", group: "Processes", icon: "processes", range: true, filters: false, load: () => import("./pages/processes.js") },
  { path: "/compare", title: "Compare", group: "Processes", icon: "compare", range: true, filters: true, load: () => import("./pages/compare.js") },
  { path: "/operators", title: "Operators", group: "Processes", icon: "operators", range: true, filters: false, load: () => import("./pages/operators.js") },
  { path: "/opportunities", title: "Opportunities", group: "Processes", icon: "opportunities", range: true, filters: false, load: () => import("./pages/opportunities.js") },
  { path: "/ocpm", title: "OCPM", group: "Processes", icon: "ocpm", range: true, filters: false, load: () => import("./pages/ocpm.js") },
  { path: "/query", title: "Query studio", group: "Query", icon: "query", range: false, filters: false, load: () => import("./pages/query.js") },
  { path: "/workspaces", title: "Workspaces", group: "Query", icon: "workspaces", range: false, filters: false, load: () => import("./pages/workspaces.js") },
  { path: "/docs", title: "Docs", group: "Help", icon: "docs", range: false, filters: false, load: () => import("./pages/docs.js") },
  { path: "/getting-started", title: "Getting started", group: "Help", icon: "start", range: false, filters: false, load: () => import("./pages/getting-started.js") },
  { path: "/settings", title: "Settings", group: "Help", icon: "settings", range: false, filters: false, load: () => import("./pages/settings.js") },
];

const shell = {};
let me = null;
// The open page: {route, controller (aborted when the page closes), cleanup, stateHandlers}.
let current = null;

function findRoute(path) {
  const clean = path.length > 1 ? path.replace(/\/+$/, "") : path;
  return ROUTES.find((route) => route.path === clean);
}

// ---- layout ---------------------------------------------------------------------------

function navigation() {
  const groups = GROUPS.map((group) => {
    const routes = ROUTES.filter((route) => route.group === group && !route.hidden);
    if (routes.length === 0) return null;
    const headingId = `nav-${group.toLowerCase()}`;
    return h("div", { class: "nav-group", role: "group", "aria-labelledby": headingId },
      h("p", { class: "nav-group-title", id: headingId }, group),
      routes.map((route) => h("a", { class: "nav-link", href: route.path, dataset: { path: route.path } },
        h("span", { class: "nav-icon" }, icon(route.icon)), route.title)));
  });
  return h("nav", { class: "sidebar", id: "sidebar", "aria-label": "Main" },
    h("a", { class: "brand", href: "/", "aria-label": "EXOS overview" },
      h("span", { class: "brand-mark", "aria-hidden": "true" }, "EX"), h("span", { class: "brand-name" }, "EXOS")),
    h("div", { class: "nav-groups" }, groups),
    h("p", { class: "sidebar-footer" }, `${me.store || ""} · v${me.version || "?"}`));
}

// Keeps nav links pointing at the current range and filters, and marks the open page.
function updateNavigation() {
  const query = globalQuery();
  for (const link of shell.nav.querySelectorAll("a.nav-link")) {
    link.href = link.dataset.path + query;
    const isCurrent = link.dataset.path === (current?.route?.navParent || current?.route?.path);
    link.classList.toggle("active", isCurrent);
    if (isCurrent) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

function themeButton() {
  const labels = { system: "Theme: system", light: "Theme: light", dark: "Theme: dark" };
  const icons = { system: "system", light: "sun", dark: "moon" };
  const next = { system: "light", light: "dark", dark: "system" };
  const button = h("button", { class: "btn btn-toolbar", onclick: () => { setTheme(next[themeChoice()]); update(); } });
  function update() {
    const choice = themeChoice();
    button.replaceChildren(icon(icons[choice]));
    button.setAttribute("aria-label", `${labels[choice]} (switch to ${next[choice]})`);
    button.title = labels[choice];
  }
  update();
  return button;
}

async function logOut() {
  try {
    await api("/api/logout", { method: "POST" });
  } catch (error) {
    console.warn("logout failed", error);
  }
  location.assign("/login");
}

function userMenu() {
  const menu = h("div", { class: "popover popover-right w-56", role: "menu", hidden: true });
  const button = h("button", {
    class: "btn btn-toolbar", "aria-haspopup": "menu", "aria-expanded": "false", onclick: () => toggle(),
  }, h("span", { class: "avatar", "aria-hidden": "true" }, (me.user || "?").slice(0, 1).toUpperCase()),
  h("span", { class: "hidden md:inline" }, me.user));
  const item = (label, action) => h("button", { class: "menu-item", role: "menuitem", onclick: () => { close(); action(); } }, label);
  menu.append(
    h("div", { class: "px-3 py-2 text-sm border-b border-[var(--border)]" },
      h("div", { class: "font-medium" }, me.user), h("div", { class: "muted" }, `Role: ${me.role}`)),
    item("Change password", changePasswordDialog),
    item(me.role === "admin" ? "Settings, users & keys" : "Settings", () => navigate("/settings")),
    item("Log out", logOut));
  const onOutside = (event) => { if (!menu.contains(event.target) && !button.contains(event.target)) close(); };
  const onKey = (event) => {
    if (event.key === "Escape") { close(); button.focus(); }
    const items = [...menu.querySelectorAll(".menu-item")];
    const index = items.indexOf(document.activeElement);
    if (event.key === "ArrowDown") { event.preventDefault(); items[(index + 1) % items.length].focus(); }
    if (event.key === "ArrowUp") { event.preventDefault(); items[(index - 1 + items.length) % items.length].focus(); }
  };
  function open() {
    menu.hidden = false;
    button.setAttribute("aria-expanded", "true");
    menu.querySelector(".menu-item")?.focus();
    document.addEventListener("pointerdown", onOutside);
    document.addEventListener("keydown", onKey);
  }
  function close() {
    menu.hidden = true;
    button.setAttribute("aria-expanded", "false");
    document.removeEventListener("pointerdown", onOutside);
    document.removeEventListener("keydown", onKey);
  }
  function toggle() { if (menu.hidden) open(); else close(); }
  return h("div", { class: "relative" }, button, menu);
}

function layout() {
  shell.nav = navigation();
  shell.title = h("h1", { class: "page-title", tabindex: "-1" });
  shell.rangeSlot = h("div", {}, timePicker());
  shell.filters = h("div", { class: "filter-row" }, filterBar());
  shell.main = h("div", { class: "page" });
  const menuButton = h("button", {
    class: "btn btn-toolbar lg:hidden", "aria-label": "Show navigation", "aria-controls": "sidebar", "aria-expanded": "false",
    onclick: () => {
      const open = document.body.classList.toggle("nav-open");
      menuButton.setAttribute("aria-expanded", String(open));
    },
  }, icon("menu", { size: 18 }));
  const root = document.getElementById("app");
  replace(root,
    shell.nav,
    h("main", { class: "main-column", id: "main", tabindex: "-1" },
      h("header", { class: "topbar" }, menuButton, shell.title, h("div", { class: "flex-1" }),
        shell.rangeSlot, themeButton(), userMenu()),
      shell.filters,
      shell.main));
}

// ---- routing --------------------------------------------------------------------------

function navigate(url, { replace: replaceEntry = false } = {}) {
  if (replaceEntry) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  route({ focus: true });
}

async function route({ focus = false } = {}) {
  const path = location.pathname;
  if (current && current.route.path === findRoute(path)?.path) {
    current.stateHandlers.forEach((handler) => handler());
    updateNavigation();
    return;
  }
  unmount();
  document.body.classList.remove("nav-open");
  const found = findRoute(path);
  const routeInfo = found || { path, title: "Page not found", range: false, filters: false };
  const controller = new AbortController();
  current = { route: routeInfo, controller, cleanup: null, stateHandlers: [] };
  shell.title.textContent = routeInfo.title;
  document.title = `${routeInfo.title} · EXOS`;
  shell.rangeSlot.hidden = !routeInfo.range;
  shell.filters.hidden = !routeInfo.filters;
  updateNavigation();
  replace(shell.main, h("div", { class: "p-8 flex justify-center" }, spinner("Loading page")));
  if (focus) shell.title.focus();

  if (!found) {
    replace(shell.main, h("div", { class: "empty-state" }, h("p", { class: "empty-title" }, `No page at ${path}.`),
      h("a", { class: "btn btn-primary btn-sm mt-3", href: "/" }, "Go to the overview")));
    return;
  }
  const context = {
    me,
    signal: controller.signal,
    navigate,
    // Registers a handler run when the URL query changes while this page stays open.
    onState: (handler) => current?.controller === controller && current.stateHandlers.push(handler),
    setTitle: (title) => { shell.title.textContent = title; document.title = `${title} · EXOS`; },
  };
  try {
    const module = await found.load();
    if (controller.signal.aborted) return;
    replace(shell.main);
    const cleanup = await module.mount(shell.main, context);
    if (controller.signal.aborted) cleanup?.();
    else current.cleanup = cleanup || null;
  } catch (error) {
    if (isAbort(error) || controller.signal.aborted) return;
    console.error("page failed", error);
    replace(shell.main, errorBox(error, { retry: () => { current = null; route(); } }));
  }
}

function unmount() {
  if (!current) return;
  current.controller.abort();
  try {
    current.cleanup?.();
  } catch (error) {
    console.warn("page cleanup failed", error);
  }
  document.querySelectorAll(".side-panel").forEach((panel) => panel.remove());
  current = null;
}

// Follows in-app links without reloading; leaves modified clicks and other origins alone.
function interceptLinks(event) {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const link = event.target.closest("a[href]");
  if (!link || link.target || link.hasAttribute("download")) return;
  const url = new URL(link.href, location.href);
  if (url.origin !== location.origin || !findRoute(url.pathname)) return;
  event.preventDefault();
  if (url.pathname + url.search === location.pathname + location.search && !url.hash) return;
  navigate(url.pathname + url.search + url.hash);
}

// `/` focuses the page's search box (or the filter bar) unless the user is typing.
function shortcuts(event) {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target.closest?.("input, textarea, select, [contenteditable], .cm-editor")) return;
  const search = shell.main.querySelector("[data-page-search]") || (!shell.filters.hidden && shell.filters.querySelector("[data-global-search]"));
  if (search) {
    event.preventDefault();
    search.focus();
  }
}

async function start() {
  try {
    me = await api("/api/me");
  } catch (error) {
    if (error.status === 401) return;
    replace(document.getElementById("app"), h("div", { class: "p-8 max-w-xl" },
      h("h1", { class: "page-title mb-4" }, "EXOS could not start"), errorBox(error, { retry: () => location.reload() })));
    return;
  }
  setCsrfToken(me.csrf_token);
  layout();
  document.addEventListener("click", interceptLinks);
  document.addEventListener("keydown", shortcuts);
  window.addEventListener("popstate", () => route());
  window.addEventListener("exos:state", () => route());
  window.addEventListener("exos:theme", () => refreshChartTheme());
  route();
}

start();
