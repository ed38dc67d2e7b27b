// Sessions (/sessions): browser sessions from GET /api/sessions in the global time range, with
// activity, the orders they touched, errors and frustration signals (rage, dead and error
// clicks), and a link to each one's replay.
//
// Page parameters in the URL: `q` (user, order or session id), `lob`, `frustrated=true`,
// `has_replay=true|false`, `did` (a span name the session must contain), `sort`.
// Saved views are kept in this browser's localStorage, one list per signed-in user, as the
// page's URL query (time range included), so a view reopens exactly as saved. They are not
// shared with other users or browsers: workspace items only hold SQL queries and dashboards.

import { h, replace, debounce } from "../lib/dom.js";
import { api, isAbort } from "../lib/api.js";
import { apiParams, currentRange, params, pageLink, updateQuery } from "../lib/state.js";
import { badge, card, dataTable, emptyState, errorBox, modal, skeleton, toast, field } from "../lib/ui.js";
import { formatCount, formatDuration, formatFullTime, formatTime } from "../lib/format.js";
import { icon } from "../lib/icons.js";

const SORTS = [
  { id: "newest", label: "Newest first" },
  { id: "longest", label: "Longest first" },
  { id: "most_errors", label: "Most errors" },
  { id: "most_frustrated", label: "Most frustrated" },
];

// URL parameters that make up a view of this page.
const VIEW_KEYS = ["q", "lob", "frustrated", "has_replay", "did", "sort", "from", "to", "tz"];
const VIEWS_KEY_PREFIX = "exos-session-views:";
const PAGE_SIZE = 200;

// ---- saved views ----------------------------------------------------------------------

function viewsKey(user) {
  return VIEWS_KEY_PREFIX + user;
}

export function loadViews(user) {
  try {
    const views = JSON.parse(localStorage.getItem(viewsKey(user)) || "[]");
    return Array.isArray(views) ? views.filter((view) => view && typeof view.name === "string" && typeof view.query === "string") : [];
  } catch {
    return [];
  }
}

function storeViews(user, views) {
  localStorage.setItem(viewsKey(user), JSON.stringify(views));
}

// The current view as a query string of VIEW_KEYS only.
function currentViewQuery() {
  const search = new URLSearchParams();
  const current = params();
  for (const key of VIEW_KEYS) {
    const value = current.get(key);
    if (value) search.set(key, value);
  }
  return search.toString();
}

function saveViewDialog(user, onSaved) {
  modal("Save this view", (close) => {
    const name = h("input", { class: "input", required: true, maxlength: "80", placeholder: "Frustrated Appraisal sessions" });
    const form = h("form", {
      class: "space-y-3 w-[24rem] max-w-full",
      onsubmit: (event) => {
        event.preventDefault();
        const text = name.value.trim();
        if (!text) return;
        const views = loadViews(user).filter((view) => view.name !== text);
        views.push({ name: text, query: currentViewQuery() });
        views.sort((a, b) => a.name.localeCompare(b.name));
        storeViews(user, views);
        close();
        toast(`Saved the view "${text}" in this browser.`);
        onSaved();
      },
    },
    field("Name", name, { hint: "Views are kept in this browser for your user, with their filters, sort and time range." }),
    h("div", { class: "flex justify-end gap-2" },
      h("button", { class: "btn", type: "button", onclick: close }, "Cancel"),
      h("button", { class: "btn btn-primary", type: "submit" }, "Save view")));
    requestAnimationFrame(() => name.focus());
    return form;
  });
}

function viewsMenu(user, navigate) {
  const slot = h("div", { class: "flex items-center gap-1" });
  function draw() {
    const views = loadViews(user);
    const select = h("select", {
      class: "input w-auto", "aria-label": "Saved views",
      onchange: () => {
        const view = views[Number(select.value)];
        if (view) navigate(`/sessions${view.query ? `?${view.query}` : ""}`);
      },
    },
    h("option", { value: "" }, views.length ? "Saved views…" : "No saved views"),
    views.map((view, index) => h("option", { value: String(index), selected: view.query === currentViewQuery() }, view.name)));
    const matching = views.find((view) => view.query === currentViewQuery());
    replace(slot, select,
      h("button", { class: "btn", type: "button", onclick: () => saveViewDialog(user, draw) }, icon("save"), "Save view"),
      matching ? h("button", {
        class: "btn btn-ghost btn-sm", type: "button", "aria-label": `Delete the saved view ${matching.name}`, title: "Delete this saved view",
        onclick: () => { storeViews(user, views.filter((view) => view !== matching)); draw(); },
      }, icon("close")) : null);
  }
  draw();
  return { element: slot, draw };
}

// ---- filters --------------------------------------------------------------------------

function filterControls(signal) {
  const current = params();
  const search = h("input", {
    class: "input max-w-xs", type: "search", placeholder: "User, order or session ID (press /)", "aria-label": "Search sessions by user, order or session ID",
    value: current.get("q") || "", dataset: { pageSearch: "true" },
  });
  search.addEventListener("input", debounce(() => updateQuery({ q: search.value.trim() || null }, { replace: true }), 400));

  const lob = h("select", { class: "input w-auto", "aria-label": "Line of business", onchange: () => updateQuery({ lob: lob.value || null }) },
    h("option", { value: "" }, "All lines of business"));
  fillOptions(lob, "Lob", current.get("lob"), signal);

  const did = h("input", {
    class: "input max-w-[14rem]", type: "search", placeholder: "Did event…", "aria-label": "Only sessions with this event (span name)",
    value: current.get("did") || "", list: "session-did-options", autocomplete: "off",
  });
  const didOptions = h("datalist", { id: "session-did-options" });
  const suggest = debounce(async () => {
    try {
      const data = await api("/api/filters", { params: apiParams({ key: "SpanName", prefix: did.value.trim() || undefined }), signal });
      replace(didOptions, (data.values || []).slice(0, 30).map((item) => h("option", { value: item.value }, `${formatCount(item.count)} spans`)));
    } catch (error) {
      if (!isAbort(error)) console.warn("event name suggestions failed", error);
    }
  }, 250);
  did.addEventListener("focus", suggest);
  did.addEventListener("input", suggest);
  did.addEventListener("change", () => updateQuery({ did: did.value.trim() || null }));

  const frustrated = h("input", { type: "checkbox", checked: current.get("frustrated") === "true", onchange: () => updateQuery({ frustrated: frustrated.checked ? "true" : null }) });
  const replay = h("select", { class: "input w-auto", "aria-label": "Recording", onchange: () => updateQuery({ has_replay: replay.value || null }) },
    [["", "With or without replay"], ["true", "With replay"], ["false", "Without replay"]].map(([value, label]) =>
      h("option", { value, selected: (current.get("has_replay") || "") === value }, label)));
  const choice = (key, label, options) => {
    const select = h("select", { class: "input w-auto", "aria-label": label, onchange: () => updateQuery({ [key]: select.value || null }) },
      options.map(([value, text]) => h("option", { value, selected: (current.get(key) || "") === value }, text)));
    return select;
  };
  const browser = choice("browser", "Browser", [["", "Any browser"], ...["Chrome", "Edge", "Firefox", "Opera", "Safari"].map((b) => [b, b])]);
  const device = choice("device", "Device", [["", "Any device"], ["desktop", "Desktop"], ["mobile", "Mobile"], ["tablet", "Tablet"]]);
  const country = h("input", {
    class: "input w-24", type: "search", placeholder: "Country", "aria-label": "Country code (ISO 3166, for example DE)", maxlength: 3,
    value: current.get("country") || "", onchange: () => updateQuery({ country: country.value.trim().toUpperCase() || null }),
  });
  const sort = h("select", { class: "input w-auto", "aria-label": "Sort sessions", onchange: () => updateQuery({ sort: sort.value === "newest" ? null : sort.value }) },
    SORTS.map((option) => h("option", { value: option.id, selected: (current.get("sort") || "newest") === option.id }, option.label)));

  return [search, lob, did, didOptions, replay, browser, device, country, h("label", { class: "flex items-center gap-1.5 text-sm" }, frustrated, "Frustrated only"), sort];
}

async function fillOptions(select, key, selected, signal) {
  try {
    const data = await api("/api/filters", { params: apiParams({ key }), signal });
    for (const item of data.values || []) {
      if (item.value) select.append(h("option", { value: item.value, selected: item.value === selected }, item.value));
    }
    if (selected && ![...select.options].some((option) => option.value === selected)) select.append(h("option", { value: selected, selected: true }, selected));
  } catch (error) {
    if (!isAbort(error)) console.warn(`${key} options failed`, error);
  }
}

// ---- table ----------------------------------------------------------------------------

export function replayLink(session, { t } = {}) {
  return pageLink("/replay", { session, t });
}

function signalBadge(count, name, kind) {
  const element = badge(`${count} ${name}`, kind);
  element.title = `${count} ${name} click${count === 1 ? "" : "s"}`;
  return element;
}

function frustrationBadges(session) {
  const parts = [
    session.rage_clicks ? signalBadge(session.rage_clicks, "rage", "error") : null,
    session.dead_clicks ? signalBadge(session.dead_clicks, "dead", "warn") : null,
    session.error_clicks ? signalBadge(session.error_clicks, "error", "error") : null,
  ].filter(Boolean);
  return parts.length ? h("span", { class: "inline-flex flex-wrap gap-1" }, parts) : h("span", { class: "muted" }, "—");
}

// Builds the summary tiles. `totals` counts every session the filters match, but the median
// active time covers only the listed rows, and its label shows this when rows were left out.
function summaryTiles(sessions, totals) {
  const tile = (label, value, title) => h("div", { class: "kpi" }, h("span", { class: "kpi-label" }, label), h("span", { class: "kpi-value text-xl", title }, value));
  // Sessions without a replay analysis have no active time, so they stay out of the median.
  const active = sessions.map((s) => s.active_ms).filter((ms) => ms !== null && ms !== undefined).sort((a, b) => a - b);
  const activeMedian = active.length ? active[Math.floor(active.length / 2)] : null;
  const partial = sessions.length < totals.sessions;
  return h("div", { class: "grid gap-3 grid-cols-2 md:grid-cols-5" },
    tile("Sessions", formatCount(totals.sessions), String(totals.sessions)),
    tile("With replay", formatCount(totals.with_replay), String(totals.with_replay)),
    tile("Frustrated", formatCount(totals.frustrated), String(totals.frustrated)),
    tile("Errors", formatCount(totals.errors), String(totals.errors)),
    tile(partial ? `Median active (${formatCount(sessions.length)} listed)` : "Median active", formatDuration(activeMedian),
      partial ? `Over the ${sessions.length} listed sessions of ${totals.sessions}` : undefined));
}

function sessionsTable(sessions, navigate) {
  return dataTable([
    { label: "Replay", value: (s) => (s.has_replay
      ? h("a", { class: "btn btn-sm", href: replayLink(s.session_id), "aria-label": `Replay session ${s.session_id}` }, icon("play", { size: 12 }), "Play")
      : h("span", { class: "muted text-xs" }, "none")) },
    { label: "Start", className: "whitespace-nowrap", value: (s) => h("span", { title: formatFullTime(s.start) }, formatTime(s.start)) },
    { label: "Duration", align: "right", value: (s) => formatDuration(s.duration_ms) },
    { label: "Active", align: "right", value: (s) => formatDuration(s.active_ms) },
    { label: "User", value: (s) => h("div", { class: "min-w-0" },
      s.user ? h("a", { href: pageLink("/visitor", { user: s.user }) }, s.user) : h("span", { class: "muted" }, "anonymous"),
      h("div", { class: "font-mono text-[11px] muted", title: s.session_id }, `${s.session_id.slice(0, 12)}…`)) },
    { label: "Operator", value: (s) => s.operator || "" },
    { label: "LOB", value: (s) => s.lob || "" },
    { label: "Orders", align: "right", value: (s) => formatCount(s.orders) },
    { label: "Pages", align: "right", value: (s) => formatCount(s.pages) },
    { label: "Clicks", align: "right", value: (s) => formatCount(s.clicks) },
    { label: "Errors", align: "right", value: (s) => (s.errors ? badge(formatCount(s.errors), "error") : "0") },
    { label: "Frustration", value: frustrationBadges },
    { label: "Browser", value: (s) => s.browser || "" },
    { label: "Device", value: (s) => s.device || "" },
    { label: "Country", value: (s) => s.country || h("span", { class: "muted", title: "No geo.country.iso_code attribute was sent" }, "—") },
  ], sessions, {
    caption: "Browser sessions",
    onRow: (s) => navigate(s.has_replay ? replayLink(s.session_id) : pageLink("/visitor", { session: s.session_id })),
  });
}

export function mount(root, { me, signal, onState, navigate }) {
  const target = h("div", { class: "space-y-4" });
  const user = me?.user || "anonymous";
  const views = viewsMenu(user, navigate);
  let controller = null;

  async function refresh() {
    controller?.abort();
    controller = new AbortController();
    signal.addEventListener("abort", () => controller.abort(), { once: true });
    views.draw();
    replace(target, card(null, skeleton({ lines: 8 })));
    const current = params();
    const range = currentRange();
    try {
      const data = await api("/api/sessions", {
        params: {
          from: range.from, to: range.to, q: current.get("q"), lob: current.get("lob"), frustrated: current.get("frustrated"),
          has_replay: current.get("has_replay"), did: current.get("did"), browser: current.get("browser"),
          device: current.get("device"), country: current.get("country"), sort: current.get("sort"), limit: PAGE_SIZE,
        },
        signal: controller.signal,
      });
      const sessions = data.sessions || [];
      if (sessions.length === 0) {
        const filtered = ["q", "lob", "frustrated", "has_replay", "did", "browser", "device", "country"].some((key) => current.get(key));
        replace(target, card(null, filtered
          ? emptyState("No sessions match these filters.", "Clear a filter or widen the time range.", { showGettingStarted: false })
          : emptyState("No browser sessions in this range.", "Sessions appear when the HyperDX browser SDK sends spans with a session ID.")));
        return;
      }
      replace(target, summaryTiles(sessions, data.totals),
        card(sessions.length < data.totals.sessions ? `First ${formatCount(sessions.length)} of ${formatCount(data.totals.sessions)} sessions (narrow the filters to see others)` : `${formatCount(sessions.length)} session${sessions.length === 1 ? "" : "s"}`, sessionsTable(sessions, navigate)));
    } catch (error) {
      if (!isAbort(error)) replace(target, errorBox(error, { retry: refresh }));
    }
  }

  // Redraws the controls from the URL, keeping focus in the control the user is typing in.
  function render() {
    const focused = document.activeElement?.getAttribute?.("aria-label");
    replace(root, h("div", { class: "flex flex-wrap gap-2 items-center" }, filterControls(signal), h("div", { class: "flex-1" }), views.element), target);
    const again = focused && [...root.querySelectorAll("[aria-label]")].find((element) => element.getAttribute("aria-label") === focused);
    if (again) {
      again.focus();
      if (typeof again.value === "string" && again.setSelectionRange && again.type !== "select-one") again.setSelectionRange(again.value.length, again.value.length);
    }
  }

  render();
  onState(() => { render(); refresh(); });
  refresh();
  return () => controller?.abort();
}
