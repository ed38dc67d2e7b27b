// Formatting of times, durations and numbers for display. The API sends times as text in
// the store's form (`2026-12-01 10:00:00.123456789`, UTC) and durations in milliseconds.

import { currentRange } from "./state.js";

// Parses an API time (store text, RFC 3339 or epoch milliseconds) to epoch milliseconds.
export function parseTime(value) {
  if (value === null || value === undefined || value === "") return null;
  if (typeof value === "number") return value;
  let text = String(value).trim();
  if (/^\d{10,}$/.test(text)) return Number(text);
  text = text.replace(" ", "T");
  // Keep milliseconds: Date.parse rejects more than three fraction digits in some engines.
  text = text.replace(/(\.\d{3})\d+/, "$1");
  if (!/(Z|[+-]\d\d:?\d\d)$/.test(text)) text += "Z";
  const parsed = Date.parse(text);
  return Number.isNaN(parsed) ? null : parsed;
}

const formatters = new Map();
function formatter(tz, options) {
  const key = tz + JSON.stringify(options);
  if (!formatters.has(key)) {
    try {
      formatters.set(key, new Intl.DateTimeFormat("en-GB", { ...options, timeZone: tz }));
    } catch {
      formatters.set(key, new Intl.DateTimeFormat("en-GB", options));
    }
  }
  return formatters.get(key);
}

// Formats a time in the selected time zone, e.g. `12 Dec 14:03:09`.
export function formatTime(value, { seconds = true, date = true, ms = false } = {}) {
  const time = parseTime(value);
  if (time === null) return "—";
  const options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  if (seconds) options.second = "2-digit";
  if (ms) options.fractionalSecondDigits = 3;
  if (date) Object.assign(options, { day: "2-digit", month: "short" });
  return formatter(currentRange().tz, options).format(time);
}

// Formats a time with its year, for first/last seen columns and exports.
export function formatFullTime(value) {
  const time = parseTime(value);
  if (time === null) return "—";
  return formatter(currentRange().tz, {
    year: "numeric", month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  }).format(time);
}

// Formats a bucket time for a chart axis, choosing detail from the bucket width.
export function formatBucket(value, bucketSeconds = 60) {
  if (bucketSeconds >= 86_400) return formatter(currentRange().tz, { day: "2-digit", month: "short" }).format(parseTime(value));
  if (bucketSeconds >= 3_600) return formatTime(value, { seconds: false });
  return formatTime(value, { seconds: bucketSeconds < 60, date: false });
}

// Formats a span of milliseconds as `850 µs`, `12.3 ms`, `4.2 s` or `3 min 5 s`.
export function formatDuration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "—";
  const value = Number(ms);
  if (value < 1) return `${Math.round(value * 1000)} µs`;
  if (value < 1000) return `${value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : Math.round(value)} ms`;
  if (value < 60_000) return `${(value / 1000).toFixed(value < 10_000 ? 2 : 1)} s`;
  const minutes = Math.floor(value / 60_000);
  if (minutes < 60) return `${minutes} min ${Math.round((value % 60_000) / 1000)} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

// Formats a count compactly: 950, 12.4k, 3.1M.
// Formats a count with its noun, singular for one: "1 span", "3 spans". `plural` is
// for nouns that do not just add "s".
export function countOf(value, singular, plural = `${singular}s`) {
  return `${formatCount(value)} ${Number(value) === 1 ? singular : plural}`;
}

export function formatCount(value) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return "—";
  const number = Number(value);
  // Below 1, two significant digits keep small rates apart (0.005/s and 0.015/s).
  if (number !== 0 && Math.abs(number) < 1) return number.toLocaleString("en-US", { maximumSignificantDigits: 2 });
  if (Math.abs(number) < 10_000) return number.toLocaleString("en-US", { maximumFractionDigits: 2 });
  return new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 }).format(number);
}

// Formats a 0..1 ratio as a percentage.
export function formatPercent(ratio) {
  if (ratio === null || ratio === undefined || Number.isNaN(Number(ratio))) return "—";
  const percent = Number(ratio) * 100;
  if (percent === 0) return "0%";
  if (percent < 0.1) return "<0.1%";
  return `${percent < 10 ? percent.toFixed(1) : Math.round(percent)}%`;
}

// Formats seconds as `9 min 59 s`, for lockout countdowns.
export function formatSeconds(seconds) {
  const total = Math.max(0, Math.ceil(seconds));
  const minutes = Math.floor(total / 60);
  return minutes > 0 ? `${minutes} min ${total % 60} s` : `${total} s`;
}

// Renders any attribute value as short text for a table cell.
export function cellText(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}
