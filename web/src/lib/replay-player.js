// The session replay player: rrweb-player (pinned to 2.1.6) with its own controller hidden
// and EXOS controls instead: play/pause, speed, skip inactivity, full screen and the time.
// The recorded page is rebuilt inside a sandboxed iframe that runs no script. The player's
// style sheet is bundled and added to the document when the first player opens.

import RrwebPlayer from "rrweb-player";
import PLAYER_CSS from "rrweb-player/dist/style.css?inline";
import { h } from "./dom.js";
import { icon } from "./icons.js";

export const SPEEDS = [1, 2, 4, 8];

let styleAdded = false;
function addPlayerStyle() {
  if (styleAdded) return;
  document.head.append(h("style", { dataset: { rrwebPlayer: "2.1.6" } }, PLAYER_CSS));
  styleAdded = true;
}

// Formats a playback offset as `m:ss`, or `h:mm:ss` past an hour.
export function formatOffset(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
}

// rrweb event types and incremental sources (rrweb 2.x `EventType`, `IncrementalSource`).
const FULL_SNAPSHOT = 2;
const INCREMENTAL = 3;
const MUTATION = 0;

// Removes inline event handler attributes (`onclick`, `onsubmit`, …) and `javascript:` URLs
// from recorded DOM nodes. The player's iframe runs no script, so they do nothing there, but
// Chromium logs a "Blocked script execution" error for each handler it is given.
function stripAttributes(attributes) {
  if (!attributes) return;
  for (const [name, value] of Object.entries(attributes)) {
    if (/^on/i.test(name) || (typeof value === "string" && /^\s*javascript:/i.test(value))) delete attributes[name];
  }
}

function stripNode(node) {
  const stack = [node];
  while (stack.length) {
    const current = stack.pop();
    if (!current) continue;
    stripAttributes(current.attributes);
    if (current.childNodes) stack.push(...current.childNodes);
  }
}

// Strips script entry points from every snapshot and DOM mutation, in place.
export function stripInlineScripts(events) {
  for (const event of events) {
    if (event.type === FULL_SNAPSHOT) stripNode(event.data?.node);
    if (event.type === INCREMENTAL && event.data?.source === MUTATION) {
      for (const added of event.data.adds || []) stripNode(added.node);
      for (const change of event.data.attributes || []) stripAttributes(change.attributes);
    }
  }
  return events;
}

// Creates a player for rrweb `events` (at least two, sorted by time). Options:
// `startOffset` (ms from the first event), `autoPlay`, `onTime(offsetMs)` called as playback
// moves, `onState("playing"|"paused")`. Returns the `wrapper` element (the part shown in full
// screen: append the controls and a timeline to it), the `controls` bar and the playback
// functions. Call `mount()` once the wrapper is in the document, so the player can measure it.
export function createReplayPlayer(events, { startOffset = 0, autoPlay = true, onTime, onState } = {}) {
  addPlayerStyle();
  const stage = h("div", { class: "replay-stage", role: "region", "aria-label": "Session recording" });
  const wrapper = h("div", { class: "replay-frame" }, stage);
  let player = null;
  let offset = startOffset;
  let state = "paused";
  let resizeObserver = null;

  const playButton = h("button", { class: "btn btn-sm replay-play", type: "button", "aria-label": "Play", onclick: () => toggle() }, icon("play"));
  const timeText = h("span", { class: "replay-time tabular-nums", "aria-live": "off" }, "0:00 / 0:00");
  const speedSelect = h("select", { class: "input w-auto replay-speed", "aria-label": "Playback speed", onchange: () => player?.setSpeed(Number(speedSelect.value)) },
    SPEEDS.map((speed) => h("option", { value: String(speed) }, `${speed}×`)));
  const skipBox = h("input", { type: "checkbox", checked: true, onchange: () => player?.toggleSkipInactive() });
  const fullButton = h("button", { class: "btn btn-sm", type: "button", "aria-label": "Full screen", title: "Full screen", onclick: () => toggleFullscreen() }, icon("expand"));
  const controls = h("div", { class: "replay-controls" },
    playButton, timeText, h("div", { class: "flex-1" }),
    h("label", { class: "flex items-center gap-1 text-xs" }, skipBox, "Skip inactivity"),
    speedSelect, fullButton);

  function showState(next) {
    state = next;
    playButton.replaceChildren(icon(state === "playing" ? "pause" : "play"));
    playButton.setAttribute("aria-label", state === "playing" ? "Pause" : "Play");
    onState?.(state);
  }

  function showTime(ms) {
    offset = ms;
    timeText.textContent = `${formatOffset(ms)} / ${formatOffset(duration())}`;
    onTime?.(ms);
  }

  function duration() {
    return player ? player.getMetaData().totalTime : 0;
  }

  // Fits the recording into the stage's width, keeping a 16:10 box (taller in full screen).
  function resize() {
    if (!player) return;
    const width = Math.max(320, stage.clientWidth);
    const below = [...wrapper.children].filter((child) => child !== stage).reduce((sum, child) => sum + child.offsetHeight, 0);
    const height = document.fullscreenElement === wrapper
      ? Math.max(240, wrapper.clientHeight - below - 24)
      : Math.round(width * 0.625);
    player.$set({ width, height });
    player.triggerResize();
  }

  function toggleFullscreen() {
    if (document.fullscreenElement) document.exitFullscreen();
    else wrapper.requestFullscreen?.();
  }

  function onFullscreen() {
    // rrweb-player resizes itself on this event a tick later; this runs after it.
    setTimeout(resize, 50);
  }

  function toggle() {
    if (!player) return;
    if (offset >= duration() - 1) player.goto(0, true);
    else player.toggle();
  }

  function mount() {
    const width = Math.max(320, stage.clientWidth);
    player = new RrwebPlayer({
      target: stage,
      props: {
        events: stripInlineScripts(events),
        width,
        height: Math.round(width * 0.625),
        autoPlay: false,
        showController: false,
        skipInactive: true,
        speedOption: SPEEDS,
        mouseTail: { strokeStyle: "#d64550", lineWidth: 2, duration: 600 },
        showWarning: false,
        triggerFocus: false,
        UNSAFE_replayCanvas: false,
      },
    });
    player.addEventListener("ui-update-current-time", ({ payload }) => showTime(payload));
    player.addEventListener("ui-update-player-state", ({ payload }) => showState(payload));
    resizeObserver = new ResizeObserver(() => resize());
    resizeObserver.observe(stage);
    document.addEventListener("fullscreenchange", onFullscreen);
    const start = Math.min(Math.max(0, startOffset), duration());
    player.goto(start, autoPlay);
    showTime(start);
  }

  return {
    wrapper,
    controls,
    mount,
    goto: (ms, play) => player?.goto(Math.min(Math.max(0, ms), duration()), play),
    play: () => player?.play(),
    pause: () => player?.pause(),
    toggle,
    state: () => state,
    currentOffset: () => offset,
    duration,
    startTime: () => (player ? player.getMetaData().startTime : events[0]?.timestamp || 0),
    iframe: () => stage.querySelector("iframe"),
    destroy() {
      resizeObserver?.disconnect();
      document.removeEventListener("fullscreenchange", onFullscreen);
      try {
        player?.getReplayer().pause();
        player?.$destroy();
      } catch (error) {
        console.warn("replay player cleanup failed", error);
      }
      player = null;
    },
  };
}
