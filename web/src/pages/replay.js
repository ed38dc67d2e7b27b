// Replay (/replay?session=<id>&t=<offset or epoch ms>): one browser session's recording from
// GET /api/replay/{session}, played in rrweb-player, with a timeline of page views, clicks,
// frustration signals, errors, console messages, network requests and backend spans, and
// side panels (events, console, network, backend trace) that follow playback and move the
// player when an item is picked. `t` below 10^11 is an offset from the recording's start in
// milliseconds; larger values are epoch milliseconds.

import { h, replace, copyText } from "../lib/dom.js";
import { api, isAbort } from "../lib/api.js";
import { params, pageLink } from "../lib/state.js";
import { card, emptyState, errorBox, skeleton, badge, tabList } from "../lib/ui.js";
import { formatDuration, formatFullTime } from "../lib/format.js";
import { loadTrace } from "../lib/waterfall.js";
import { icon } from "../lib/icons.js";
import { createReplayPlayer, formatOffset } from "../lib/replay-player.js";
import { createTimeline, describeGap, isFailed, KIND_LABELS } from "../lib/replay-timeline.js";

// A `t` below this is an offset from the recording's start, and a larger one is epoch milliseconds.
const EPOCH_THRESHOLD_MS = 1e11;
// Markers of one kind, name and detail closer than this are taken as one event, because the
// SDK can send one click as several identical spans.
const DUPLICATE_WINDOW_MS = 50;

const PANELS = [
  { id: "events", label: "Events", kinds: ["page_view", "click", "rage_click", "dead_click", "error_click", "error"] },
  { id: "console", label: "Console", kinds: ["console", "error"] },
  { id: "network", label: "Network", kinds: ["network"] },
  { id: "backend", label: "Backend", kinds: ["backend"] },
];

const BADGE_KIND = {
  page_view: "brand", click: "neutral", rage_click: "error", dead_click: "warn", error_click: "error",
  error: "error", console: "warn", network: "ok", backend: "brand", span: "neutral",
};

// Pointer spans the SDK sends around each click. The click span itself is shown instead.
const POINTER_SPANS = new Set(["mousedown", "mouseup", "pointerdown", "pointerup"]);

// Drops markers the SDK reported more than once for the same user action.
export function dedupeMarkers(markers) {
  const unique = [];
  const lastSeen = new Map();
  for (const marker of markers) {
    if (marker.kind === "click" && POINTER_SPANS.has(marker.name)) continue;
    const key = `${marker.kind}|${marker.name}|${marker.detail}`;
    const previous = lastSeen.get(key);
    if (marker.kind !== "backend" && marker.kind !== "network" && previous !== undefined && marker.time_ms - previous < DUPLICATE_WINDOW_MS) continue;
    lastSeen.set(key, marker.time_ms);
    unique.push(marker);
  }
  return unique;
}

// Resolves `t` from the URL to an offset from `startMs`.
function startOffset(startMs) {
  const value = Number(params().get("t"));
  if (!Number.isFinite(value) || value <= 0) return 0;
  return value >= EPOCH_THRESHOLD_MS ? value - startMs : value;
}

// Kinds whose detail (URL, message, clicked element) is shown in place of the span name.
const SHOWS_DETAIL = new Set(["network", "console", "error", "click"]);

function markerLine(marker, startMs) {
  const failed = isFailed(marker);
  const detail = marker.detail || "";
  const timing = marker.duration_ms ? formatDuration(marker.duration_ms) : "";
  return [
    h("span", { class: "replay-item-time tabular-nums" }, formatOffset(marker.time_ms - startMs)),
    badge(KIND_LABELS[marker.kind] || marker.kind, failed && marker.kind === "network" ? "error" : BADGE_KIND[marker.kind] || "neutral"),
    marker.http_status ? badge(marker.http_status, Number(marker.http_status) >= 400 ? "error" : "ok") : null,
    h("span", { class: "replay-item-name", title: `${marker.name} ${detail}`.trim() },
      marker.kind === "backend" ? h("span", { class: "muted" }, `${marker.service} · `) : null,
      SHOWS_DETAIL.has(marker.kind) ? detail || marker.name : marker.name,
      !SHOWS_DETAIL.has(marker.kind) && detail ? h("span", { class: "muted" }, ` ${detail}`) : null),
    timing ? h("span", { class: "replay-item-timing tabular-nums muted" }, timing) : null,
  ];
}

// Builds one side-panel list. `onPick(marker)` moves the player, and `setTime` highlights the
// last item at or before the playback time and scrolls it into the list's view.
function markerList(markers, startMs, { onPick, emptyText }) {
  if (markers.length === 0) return { element: emptyState(emptyText, null, { compact: true, showGettingStarted: false }), setTime: () => {} };
  const items = markers.map((marker) => h("li", {},
    h("button", { type: "button", class: `replay-item${isFailed(marker) ? " replay-item-failed" : ""}`, onclick: () => onPick(marker) }, markerLine(marker, startMs))));
  const list = h("ol", { class: "replay-list", "aria-label": "Items in time order" }, items);
  let currentIndex = -1;
  function setTime(offsetMs) {
    const time = startMs + offsetMs;
    let index = -1;
    for (let i = 0; i < markers.length && markers[i].time_ms <= time; i += 1) index = i;
    if (index === currentIndex) return;
    items[currentIndex]?.firstChild.classList.remove("replay-item-current");
    items[currentIndex]?.firstChild.removeAttribute("aria-current");
    currentIndex = index;
    const item = items[index];
    if (!item) return;
    item.firstChild.classList.add("replay-item-current");
    item.firstChild.setAttribute("aria-current", "true");
    const top = item.offsetTop - list.offsetTop;
    if (top < list.scrollTop || top > list.scrollTop + list.clientHeight - item.offsetHeight) list.scrollTop = Math.max(0, top - list.clientHeight / 3);
  }
  return { element: list, setTime };
}

// The backend tab: the traces of the session's requests, each opening its waterfall.
function traceList(markers, startMs, { onPick, signal }) {
  const byTrace = new Map();
  for (const marker of markers) {
    if (!marker.trace_id) continue;
    if (!byTrace.has(marker.trace_id)) byTrace.set(marker.trace_id, marker);
  }
  const roots = [...byTrace.values()];
  const waterfallBox = h("div", { class: "replay-trace" });
  const list = markerList(roots, startMs, {
    emptyText: "No backend spans share a trace with this session.",
    onPick: (marker) => { onPick(marker); openTrace(marker); },
  });
  function openTrace(marker) {
    replace(waterfallBox, h("h3", { class: "card-title mb-2" }, `Trace ${marker.trace_id.slice(0, 12)}…`), h("div"));
    const target = waterfallBox.lastChild;
    loadTrace(target, marker.trace_id, { signal, selectedSpanId: marker.span_id }).then(() => {
      if (target.querySelector(".error-box")) {
        replace(target, h("p", { class: "muted text-sm" }, "The trace could not be loaded here. ",
          h("a", { href: pageLink("/engineering", { trace: marker.trace_id }) }, "Open it in Engineering")));
      }
    });
  }
  return { element: h("div", { class: "space-y-3" }, list.element, waterfallBox), setTime: list.setTime, openTrace };
}

function header(data, sessionRow, startMs, durationMs) {
  const id = data.session_id;
  const counts = (kind) => data.markers.filter((marker) => marker.kind === kind).length;
  const facts = [
    ["Started", formatFullTime(startMs)],
    ["Length", formatDuration(durationMs)],
    ["Active", formatDuration(data.activity?.active_ms)],
    ["Clicks", String(data.activity?.clicks ?? data.markers.filter((marker) => marker.kind === "click" && marker.name === "click").length)],
    ["Errors", String(counts("error"))],
  ];
  const signals = ["rage_click", "dead_click", "error_click"].map((kind) => (counts(kind) ? badge(`${counts(kind)} ${KIND_LABELS[kind].toLowerCase()}${counts(kind) === 1 ? "" : "s"}`, BADGE_KIND[kind]) : null));
  return h("div", { class: "flex flex-wrap items-center gap-x-5 gap-y-2" },
    h("span", { class: "font-mono text-xs", title: "Session ID" }, id),
    sessionRow?.user ? h("a", { href: pageLink("/visitor", { user: sessionRow.user }) }, sessionRow.user) : null,
    facts.map(([label, value]) => h("span", { class: "text-sm" }, h("span", { class: "muted" }, `${label} `), value)),
    signals,
    h("div", { class: "flex-1" }),
    h("a", { class: "btn btn-sm", href: pageLink("/visitor", { session: id }) }, "Visitor profile"),
    h("a", { class: "btn btn-sm", href: pageLink("/sessions") }, "All sessions"));
}

function gapNotice(gaps, duplicates) {
  if (!gaps.length && !duplicates) return null;
  const texts = gaps.map((gap) => describeGap(gap).text);
  return h("div", { class: "info-box text-sm", role: "note" },
    gaps.length ? h("strong", {}, `This recording has ${gaps.length} gap${gaps.length === 1 ? "" : "s"}, marked in red on the timeline. `) : null,
    texts.slice(0, 3).join(" "),
    duplicates ? ` ${duplicates} chunk${duplicates === 1 ? " was" : "s were"} received twice and used once.` : null);
}

// Builds the page for a loaded replay. Returns {element, start(), jump(), destroy()}.
function replayView(data, sessionRow, signal) {
  const events = data.events || [];
  const markers = dedupeMarkers((data.markers || []).filter((marker) => marker.kind !== "span"));
  const hasRecording = events.length >= 2;
  const firstMarker = markers[0]?.time_ms;
  const startMs = hasRecording ? events[0].timestamp : (data.activity?.start_ms ?? firstMarker ?? 0);
  const endMs = hasRecording ? events[events.length - 1].timestamp : Math.max(startMs, ...markers.map((marker) => marker.time_ms));
  const durationMs = Math.max(endMs - startMs, 0);
  let player = null;
  const followers = [];
  const seek = (offsetMs) => {
    if (player) player.goto(offsetMs);
    else followers.forEach((follow) => follow(offsetMs));
  };
  const pick = (marker) => seek(Math.max(0, marker.time_ms - startMs));

  const timeline = createTimeline({ startMs, durationMs, markers, gaps: data.gaps || [], onSeek: seek });
  followers.push(timeline.setTime);

  // Side panels: one list per tab, all following playback.
  const lists = {};
  for (const panel of PANELS) {
    const panelMarkers = markers.filter((marker) => panel.kinds.includes(marker.kind));
    lists[panel.id] = panel.id === "backend"
      ? traceList(panelMarkers, startMs, { onPick: pick, signal })
      : markerList(panelMarkers, startMs, { onPick: pick, emptyText: `No ${panel.label.toLowerCase()} items in this session.` });
    followers.push(lists[panel.id].setTime);
  }
  const panelBody = h("div", { class: "replay-panel-body" });
  let selectedPanel = params().get("panel") || "events";
  const tabsSlot = h("div");
  function selectPanel(id) {
    selectedPanel = PANELS.some((panel) => panel.id === id) ? id : "events";
    const labels = PANELS.map((panel) => ({ id: panel.id, label: `${panel.label} (${markers.filter((m) => panel.kinds.includes(m.kind)).length})` }));
    replace(tabsSlot, tabList(labels, selectedPanel, selectPanel, "Session panels"));
    replace(panelBody, lists[selectedPanel].element);
  }
  selectPanel(selectedPanel);

  const copyButton = h("button", {
    class: "btn btn-sm", type: "button", title: "Copy a link to this moment",
    onclick: () => {
      const url = new URL(location.href);
      url.searchParams.set("t", String(Math.round(player ? player.currentOffset() : 0)));
      copyText(url.toString(), copyButton);
    },
  }, icon("link"), "Link to this moment");

  let playerArea;
  if (hasRecording) {
    player = createReplayPlayer(events, {
      startOffset: startOffset(startMs),
      autoPlay: true,
      onTime: (offsetMs) => followers.forEach((follow) => follow(offsetMs)),
    });
    player.controls.insertBefore(copyButton, player.controls.querySelector(".flex-1").nextSibling);
    player.wrapper.append(player.controls, timeline.element);
    playerArea = player.wrapper;
  } else {
    playerArea = h("div", { class: "space-y-3" },
      emptyState("This session has no recording.", "The browser sent its spans but no DOM recording, for example because the page was left within seconds or recording was off. The timeline still shows what happened.", { compact: true, showGettingStarted: false }),
      timeline.element);
  }

  const element = h("div", { class: "space-y-4" },
    card(null, header(data, sessionRow, startMs, durationMs)),
    gapNotice(data.gaps || [], data.duplicates || 0),
    h("div", { class: "replay-layout" },
      h("section", { class: "card p-3 min-w-0", "aria-label": "Player" }, playerArea),
      h("section", { class: "card replay-panels", "aria-label": "Session details" }, h("div", { class: "p-3 pb-2" }, tabsSlot), panelBody)));

  return {
    element,
    start() {
      if (player) player.mount();
      else {
        const offset = startOffset(startMs);
        followers.forEach((follow) => follow(offset));
      }
    },
    // Moves playback to the URL's `t`, for links followed while the page is open.
    jump: () => seek(startOffset(startMs)),
    destroy: () => player?.destroy(),
  };
}

// Finds the session's row of the sessions list, for the user shown in the header.
async function sessionRow(session, signal) {
  try {
    const data = await api("/api/sessions", { params: { q: session, from: 0, to: Date.now() + 86_400_000, limit: 1 }, signal });
    return (data.sessions || [])[0] || null;
  } catch (error) {
    if (isAbort(error)) throw error;
    console.warn("session summary failed", error);
    return null;
  }
}

export function mount(root, { signal, onState, setTitle }) {
  let view = null;
  let controller = null;

  async function refresh() {
    controller?.abort();
    controller = new AbortController();
    signal.addEventListener("abort", () => controller.abort(), { once: true });
    view?.destroy();
    view = null;
    const session = (params().get("session") || "").trim();
    if (!session) {
      setTitle("Replay");
      replace(root, card(null, emptyState("Pick a session to replay.", "Open one from the sessions list, a visitor's profile, or an error or event with a session.", { showGettingStarted: false })),
        h("a", { class: "btn btn-primary", href: pageLink("/sessions") }, "Go to sessions"));
      return;
    }
    setTitle(`Replay · ${session.slice(0, 12)}…`);
    replace(root, card(null, skeleton({ lines: 2 })), h("div", { class: "replay-layout" }, h("div", { class: "card p-3" }, skeleton({ height: 420 })), h("div", { class: "card p-3" }, skeleton({ lines: 10 }))));
    try {
      const [data, row] = await Promise.all([
        api(`/api/replay/${encodeURIComponent(session)}`, { signal: controller.signal }),
        sessionRow(session, controller.signal),
      ]);
      view = replayView(data, row, controller.signal);
      replace(root, view.element);
      view.start();
    } catch (error) {
      if (isAbort(error)) return;
      if (error.status === 404) {
        replace(root, card(null, emptyState("No such session in the store.", "It may be older than the replay retention, or its data has not arrived yet.", { showGettingStarted: false })));
        return;
      }
      replace(root, errorBox(error, { retry: refresh }));
    }
  }

  // Only a new session reloads; a new `t` moves the player that is open.
  let shownParams = { session: params().get("session"), t: params().get("t") };
  onState(() => {
    const next = { session: params().get("session"), t: params().get("t") };
    if (next.session !== shownParams.session) refresh();
    else if (next.t !== shownParams.t) view?.jump();
    shownParams = next;
  });
  refresh();
  return () => {
    controller?.abort();
    view?.destroy();
  };
}
