// The global time-range picker: presets, an absolute from/to in a chosen time zone, and
// buttons to step the range back and forward. It writes `from`, `to` and `tz` to the URL.

import { h, replace, uid } from "./dom.js";
import { DEFAULT_FROM, PRESETS, browserTimeZone, currentRange, params, rangeProblem, updateQuery } from "./state.js";
import { formatFullTime } from "./format.js";
import { icon } from "./icons.js";
import { toast } from "./ui.js";

// Returns how far the wall clock in `tz` is ahead of UTC at `ms`, in milliseconds.
function zoneOffset(ms, tz) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-US", {
    timeZone: tz, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
  }).formatToParts(ms).map((part) => [part.type, part.value]));
  const wall = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
  return wall - Math.floor(ms / 1000) * 1000;
}

// Formats epoch milliseconds as a datetime-local value in `tz`.
export function toLocalInput(ms, tz) {
  return new Date(ms + zoneOffset(ms, tz)).toISOString().slice(0, 16);
}

// Parses a datetime-local value as a wall-clock time in `tz`; returns epoch milliseconds.
export function fromLocalInput(text, tz) {
  const wall = Date.parse(`${text}:00Z`);
  if (Number.isNaN(wall)) return null;
  let guess = wall - zoneOffset(wall, tz);
  guess = wall - zoneOffset(guess, tz);
  return guess;
}

function timeZones() {
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  const list = new Set(["UTC", browserTimeZone(), ...zones]);
  return [...list];
}

// Removes an unusable `from`/`to` pair from the URL, so that the URL matches the default range
// the pages show, and shows a notice naming the invalid value. Runs before a page reads the range.
function dropInvalidRange() {
  const problem = rangeProblem();
  if (!problem) return;
  const search = params();
  search.delete("from");
  search.delete("to");
  const text = search.toString();
  history.replaceState(null, "", location.pathname + (text ? `?${text}` : "") + location.hash);
  const fallback = PRESETS.find((preset) => preset.from === DEFAULT_FROM).label.toLowerCase();
  toast(`Invalid time range in the URL: ${problem}. Showing the ${fallback} instead.`, { kind: "error" });
}

export function rangeLabel(range = currentRange()) {
  if (range.preset) return range.preset.label;
  return `${formatFullTime(range.from)} → ${formatFullTime(range.to)}`;
}

export function timePicker() {
  const popoverId = uid("range");
  const label = h("span", { class: "truncate" });
  const zoneLabel = h("span", { class: "text-xs muted hidden xl:inline" });
  const button = h("button", {
    class: "btn btn-toolbar", "aria-haspopup": "dialog", "aria-expanded": "false", "aria-controls": popoverId,
    title: "Time range", onclick: () => toggle(),
  }, icon("clock"), label, zoneLabel);
  const popover = h("div", { class: "popover popover-right w-[22rem]", id: popoverId, role: "dialog", "aria-label": "Choose time range", hidden: true });

  function shift(direction) {
    const range = currentRange();
    const width = range.to - range.from;
    const to = Math.min(Date.now(), range.to + direction * width);
    updateQuery({ from: new Date(to - width).toISOString(), to: new Date(to).toISOString() });
  }

  function zoomOut() {
    const range = currentRange();
    const width = range.to - range.from;
    const to = Math.min(Date.now(), range.to + width / 2);
    updateQuery({ from: new Date(to - width * 2).toISOString(), to: new Date(to).toISOString() });
  }

  function renderPopover() {
    const range = currentRange();
    const fromInput = h("input", { type: "datetime-local", class: "input", value: toLocalInput(range.from, range.tz), "aria-label": "From" });
    const toInput = h("input", { type: "datetime-local", class: "input", value: toLocalInput(range.to, range.tz), "aria-label": "To" });
    const zoneSelect = h("select", { class: "input", "aria-label": "Time zone" },
      timeZones().map((zone) => h("option", { value: zone, selected: zone === range.tz }, zone === browserTimeZone() ? `${zone} (this browser)` : zone)));
    const problem = h("p", { class: "text-sm text-red-600 dark:text-red-400", role: "alert" });

    const apply = (event) => {
      event.preventDefault();
      const tz = zoneSelect.value;
      const from = fromLocalInput(fromInput.value, tz);
      const to = fromLocalInput(toInput.value, tz);
      if (from === null || to === null) return replace(problem, "Enter both a start and an end time.");
      if (from >= to) return replace(problem, "The start must be before the end.");
      close();
      updateQuery({ from: new Date(from).toISOString(), to: new Date(to).toISOString(), tz: tz === browserTimeZone() ? null : tz });
    };

    replace(popover,
      h("div", { class: "grid grid-cols-3 gap-1 mb-3", role: "group", "aria-label": "Presets" },
        PRESETS.map((preset) => h("button", {
          class: `btn btn-sm ${range.preset === preset ? "btn-primary" : ""}`, "aria-pressed": String(range.preset === preset), title: preset.label, "aria-label": preset.label,
          onclick: () => { close(); updateQuery({ from: preset.from, to: null }); },
        }, preset.short))),
      h("form", { class: "space-y-2", onsubmit: apply },
        h("label", { class: "field-label block" }, "From", fromInput),
        h("label", { class: "field-label block" }, "To", toInput),
        h("label", { class: "field-label block" }, "Time zone", zoneSelect),
        problem,
        h("div", { class: "flex justify-between gap-2 pt-1" },
          h("div", { class: "flex gap-1" },
            h("button", { type: "button", class: "btn btn-sm", "aria-label": "Earlier range", title: "Earlier", onclick: () => { close(); shift(-1); } }, "◀"),
            h("button", { type: "button", class: "btn btn-sm", "aria-label": "Later range", title: "Later", onclick: () => { close(); shift(1); } }, "▶"),
            h("button", { type: "button", class: "btn btn-sm", onclick: () => { close(); zoomOut(); } }, "Zoom out")),
          h("button", { type: "submit", class: "btn btn-primary btn-sm" }, "Apply"))));
  }

  const onOutside = (event) => {
    if (!popover.contains(event.target) && !button.contains(event.target)) close();
  };
  const onKey = (event) => {
    if (event.key === "Escape") { close(); button.focus(); }
  };
  function open() {
    renderPopover();
    popover.hidden = false;
    button.setAttribute("aria-expanded", "true");
    document.addEventListener("pointerdown", onOutside);
    document.addEventListener("keydown", onKey);
    popover.querySelector("button")?.focus();
  }
  function close() {
    popover.hidden = true;
    button.setAttribute("aria-expanded", "false");
    document.removeEventListener("pointerdown", onOutside);
    document.removeEventListener("keydown", onKey);
  }
  function toggle() {
    if (popover.hidden) open();
    else close();
  }
  function update() {
    dropInvalidRange();
    const range = currentRange();
    label.textContent = rangeLabel(range);
    zoneLabel.textContent = range.tz === browserTimeZone() ? "" : range.tz;
  }
  update();
  window.addEventListener("exos:state", update);
  window.addEventListener("popstate", update);
  return h("div", { class: "relative" }, button, popover);
}
