// The timeline under the replay player: one lane per kind of marker (page views, actions,
// frustration signals, errors and console messages, network requests, backend spans), the
// gaps where recorded events never arrived, and a cursor at the playback position. Clicking
// a marker or the track, or the arrow keys on the track, move the player.

import { h } from "./dom.js";
import { formatOffset } from "./replay-player.js";

export const KIND_LABELS = {
  page_view: "Page view",
  // User-interaction spans: clicks, key presses and form submits.
  click: "Action",
  rage_click: "Rage click",
  dead_click: "Dead click",
  error_click: "Error click",
  error: "Error",
  console: "Console",
  network: "Network",
  backend: "Backend",
  span: "Span",
};

const LANES = [
  { label: "Pages", kinds: ["page_view"] },
  { label: "Actions", kinds: ["click"] },
  { label: "Frustration", kinds: ["rage_click", "dead_click", "error_click"] },
  { label: "Errors & console", kinds: ["error", "console"] },
  { label: "Network", kinds: ["network"] },
  { label: "Backend", kinds: ["backend"] },
];

// Milliseconds the arrow keys move the playback position.
const KEY_STEP_MS = 5000;

// Returns the gap's time in epoch milliseconds and a sentence about what is missing.
export function describeGap(gap) {
  const timeMs = Number(gap.time_ns) / 1e6;
  if (gap.kind === "missing_chunks") {
    return { timeMs, text: `Event ${gap.event} is missing chunk ${(gap.missing || []).join(", ")}: it is left out and playback goes on after it.` };
  }
  const count = Number(gap.last) - Number(gap.first) + 1;
  return { timeMs, text: `${count} recorded event${count === 1 ? "" : "s"} never arrived (${gap.first}–${gap.last}): playback goes on after the gap.` };
}

// Builds the timeline. `startMs` is the recording's first event (epoch ms), `durationMs` its
// length; `onSeek(offsetMs)` moves the player. Returns {element, setTime(offsetMs)}.
export function createTimeline({ startMs, durationMs, markers, gaps, onSeek }) {
  const span = Math.max(durationMs, 1);
  const percent = (timeMs) => `${(Math.min(Math.max(timeMs - startMs, 0), span) / span) * 100}%`;
  const cursor = h("div", { class: "timeline-cursor", "aria-hidden": "true" });
  let current = 0;

  const gapBands = (gaps || []).map((gap) => {
    const { timeMs, text } = describeGap(gap);
    return h("div", { class: "timeline-gap", style: { left: percent(timeMs) }, title: `Gap at ${formatOffset(timeMs - startMs)}. ${text}`, dataset: { gap: gap.kind } });
  });

  const lanes = LANES.map((lane) => {
    const laneMarkers = markers.filter((marker) => lane.kinds.includes(marker.kind));
    const dots = laneMarkers.map((marker) => {
      const offset = marker.time_ms - startMs;
      const label = `${KIND_LABELS[marker.kind] || marker.kind} at ${formatOffset(offset)}: ${marker.detail || marker.name}`;
      return h("button", {
        type: "button", class: `timeline-marker marker-${marker.kind}${isFailed(marker) ? " marker-failed" : ""}`,
        style: { left: percent(marker.time_ms) }, title: label, "aria-label": label, tabindex: "-1",
        onclick: (event) => { event.stopPropagation(); onSeek(offset); },
      });
    });
    return h("div", { class: "timeline-lane" },
      h("span", { class: "timeline-lane-label" }, lane.label, h("span", { class: "muted" }, ` ${laneMarkers.length}`)),
      h("div", { class: "timeline-lane-track" }, dots));
  });

  const ticks = [0, 0.25, 0.5, 0.75, 1].map((fraction) =>
    h("span", { class: "timeline-tick", style: { left: `${fraction * 100}%` } }, formatOffset(fraction * span)));

  const tracks = h("div", { class: "timeline-tracks" }, gapBands, cursor);
  const element = h("div", {
    class: "timeline", role: "slider", tabindex: "0", "aria-label": "Playback position",
    "aria-valuemin": "0", "aria-valuemax": String(Math.round(span / 1000)), "aria-valuenow": "0", "aria-valuetext": "0:00",
    onkeydown: (event) => {
      const steps = { ArrowRight: KEY_STEP_MS, ArrowLeft: -KEY_STEP_MS };
      if (event.key === "Home") onSeek(0);
      if (event.key === "End") onSeek(span);
      if (!(event.key in steps)) return;
      event.preventDefault();
      onSeek(Math.min(Math.max(current + steps[event.key], 0), span));
    },
  }, lanes, tracks, h("div", { class: "timeline-axis" }, ticks));

  // A click on the track (not on a marker) seeks to that point.
  element.addEventListener("click", (event) => {
    const track = element.querySelector(".timeline-lane-track");
    const box = track.getBoundingClientRect();
    if (event.clientX < box.left || event.clientX > box.right) return;
    onSeek(((event.clientX - box.left) / box.width) * span);
  });

  function setTime(offsetMs) {
    current = offsetMs;
    cursor.style.left = percent(startMs + offsetMs);
    element.setAttribute("aria-valuenow", String(Math.round(offsetMs / 1000)));
    element.setAttribute("aria-valuetext", formatOffset(offsetMs));
  }
  setTime(0);
  return { element, setTime };
}

// True for a failed network request, an error, or a span with an error status.
export function isFailed(marker) {
  return Number(marker.http_status) >= 400 || /error/i.test(marker.status || "") || marker.kind === "error";
}
