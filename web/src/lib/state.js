// The state every page shares lives in the URL query, so a view can be shared and reloads
// the same: `from` and `to` (relative like `now-1h` or an RFC 3339 time), `tz` (an IANA time
// zone, the browser's when absent) and repeated `filter` (`key=value` or `key!=value`).
// Pages keep their own parameters (`q`, `trace`, …) beside these.

export const GLOBAL_KEYS = ["from", "to", "tz", "filter"];
export const DEFAULT_FROM = "now-24h";

export const PRESETS = [
  { from: "now-15m", label: "Last 15 minutes", short: "15 min" },
  { from: "now-1h", label: "Last 1 hour", short: "1 h" },
  { from: "now-6h", label: "Last 6 hours", short: "6 h" },
  { from: "now-24h", label: "Last 24 hours", short: "24 h" },
  { from: "now-7d", label: "Last 7 days", short: "7 d" },
  { from: "now-30d", label: "Last 30 days", short: "30 d" },
];

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export function browserTimeZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

export function params() {
  return new URLSearchParams(location.search);
}

// Resolves a `from`/`to` value to epoch milliseconds, or null when it is not understood.
export function resolveTime(spec, now = Date.now()) {
  if (!spec) return null;
  const relative = /^now(?:-(\d+)([smhdw]))?$/.exec(spec);
  if (relative) return relative[1] ? now - Number(relative[1]) * UNIT_MS[relative[2]] : now;
  if (/^\d{10,}$/.test(spec)) return Number(spec);
  const parsed = Date.parse(spec);
  return Number.isNaN(parsed) ? null : parsed;
}

// Returns why the URL's `from` and `to` cannot be used, or null when they can. Absent values
// take their defaults.
export function rangeProblem(search = params(), now = Date.now()) {
  const fromSpec = search.get("from") || DEFAULT_FROM;
  const toSpec = search.get("to") || "now";
  const from = resolveTime(fromSpec, now);
  const to = resolveTime(toSpec, now);
  if (from === null) return `from “${fromSpec}” is not a time`;
  if (to === null) return `to “${toSpec}” is not a time`;
  if (from >= to) return `from ${fromSpec} is not before to ${toSpec}`;
  return null;
}

// Returns the current range: the specs as written in the URL and their resolved values.
// A range that cannot be used (see rangeProblem) is replaced by the default one.
export function currentRange() {
  const search = params();
  const now = Date.now();
  let fromSpec = search.get("from") || DEFAULT_FROM;
  let toSpec = search.get("to") || "now";
  let from = resolveTime(fromSpec, now);
  let to = resolveTime(toSpec, now);
  if (rangeProblem(search, now)) {
    fromSpec = DEFAULT_FROM;
    toSpec = "now";
    from = resolveTime(fromSpec, now);
    to = now;
  }
  const preset = toSpec === "now" ? PRESETS.find((p) => p.from === fromSpec) : undefined;
  return { fromSpec, toSpec, from, to, preset, tz: search.get("tz") || browserTimeZone() };
}

export function currentFilters() {
  return params().getAll("filter").map(parseFilter).filter(Boolean);
}

export function parseFilter(text) {
  const match = /^(.+?)(!=|=)(.*)$/.exec(text);
  if (!match) return null;
  return { key: match[1], op: match[2], value: match[3], text };
}

export function formatFilter({ key, op, value }) {
  return `${key}${op}${value}`;
}

// The parameters every data call sends: the resolved range and the filters.
export function apiParams(extra = {}) {
  const range = currentRange();
  return { from: range.from, to: range.to, filter: params().getAll("filter"), ...extra };
}

// Returns the global parameters as a query string, to carry them into links.
export function globalQuery(extra = {}) {
  const search = new URLSearchParams();
  const current = params();
  for (const key of GLOBAL_KEYS) current.getAll(key).forEach((value) => search.append(key, value));
  for (const [key, value] of Object.entries(extra)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, value);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

// Builds a link to an app page that keeps the current range and filters.
export function pageLink(path, extra = {}) {
  return path + globalQuery(extra);
}

// Changes URL parameters. Keys set to null or undefined are removed, arrays become repeated
// parameters. Sends `exos:state` with the changed keys so the shell and pages can react.
export function updateQuery(changes, { replace = false } = {}) {
  const search = params();
  for (const [key, value] of Object.entries(changes)) {
    search.delete(key);
    if (value === null || value === undefined || value === "") continue;
    if (Array.isArray(value)) value.forEach((item) => search.append(key, item));
    else search.set(key, String(value));
  }
  const text = search.toString();
  const url = location.pathname + (text ? `?${text}` : "");
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  window.dispatchEvent(new CustomEvent("exos:state", { detail: { keys: Object.keys(changes) } }));
}

// Sets an absolute range, as when a chart is zoomed.
export function setAbsoluteRange(fromMs, toMs) {
  updateQuery({ from: new Date(Math.round(fromMs)).toISOString(), to: new Date(Math.round(toMs)).toISOString() });
}
