//! Frustration signals and activity figures from a session's rrweb events.
//!
//! - A **rage click** is a burst of at least `rage_clicks` clicks within
//!   `rage_window_ms` of its first click, all within `rage_radius_px` of it.
//! - A **dead click** is a click after which the page shows no DOM mutation
//!   within `dead_mutation_ms`, and neither scrolls nor changes the selection
//!   within `dead_reaction_ms`. A click too close to the end of the recording
//!   to tell is not counted.
//! - An **error click** is a click followed by a JavaScript error (reported by
//!   the SDK as a span, passed in as error times) within `error_window_ms`.
//!
//! Times are rrweb event times: milliseconds since the Unix epoch.

use serde::{Deserialize, Serialize};

/// rrweb event type of incremental snapshots.
const INCREMENTAL: u64 = 3;
/// Incremental sources this module reads.
const MUTATION: u64 = 0;
const MOUSE_MOVE: u64 = 1;
const MOUSE_INTERACTION: u64 = 2;
const SCROLL: u64 = 3;
const INPUT: u64 = 5;
const TOUCH_MOVE: u64 = 6;
const SELECTION: u64 = 14;
/// Mouse interaction type of a click.
const CLICK: u64 = 2;

/// The fields of one rrweb event that the detectors read. Deserializing into
/// this skips everything else (added DOM nodes, texts) without building it,
/// several times faster than a full `serde_json::Value` on mutation-heavy pages.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct EventHead {
    #[serde(default)]
    pub timestamp: Option<i64>,
    #[serde(rename = "type", default)]
    pub kind: Option<u64>,
    #[serde(default)]
    pub data: DataHead,
}

/// The fields of an event's `data` that the detectors read.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct DataHead {
    #[serde(default)]
    pub source: Option<u64>,
    /// Mouse interaction type (a click is 2).
    #[serde(rename = "type", default)]
    pub kind: Option<u64>,
    #[serde(default)]
    pub x: Option<f64>,
    #[serde(default)]
    pub y: Option<f64>,
    #[serde(default)]
    pub id: Option<i64>,
}

impl EventHead {
    /// Reads the head of one event's JSON; `None` when it is not an rrweb event object.
    pub fn parse(json: &str) -> Option<Self> {
        serde_json::from_str(json).ok()
    }
}

/// Thresholds of the detectors.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignalSettings {
    pub rage_clicks: usize,
    pub rage_window_ms: i64,
    pub rage_radius_px: f64,
    pub dead_mutation_ms: i64,
    pub dead_reaction_ms: i64,
    pub error_window_ms: i64,
    /// Gaps between user inputs longer than this do not count as active time.
    pub idle_after_ms: i64,
}

impl Default for SignalSettings {
    fn default() -> Self {
        Self {
            rage_clicks: 3,
            rage_window_ms: 1_000,
            rage_radius_px: 30.0,
            dead_mutation_ms: 2_500,
            dead_reaction_ms: 100,
            error_window_ms: 1_000,
            idle_after_ms: 5_000,
        }
    }
}

/// The kind of a frustration signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    RageClick,
    DeadClick,
    ErrorClick,
}

impl SignalKind {
    /// Returns the name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            SignalKind::RageClick => "rage_click",
            SignalKind::DeadClick => "dead_click",
            SignalKind::ErrorClick => "error_click",
        }
    }
}

/// One detected signal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Signal {
    pub kind: SignalKind,
    /// Time of the (first) click, ms since the epoch.
    pub time_ms: i64,
    pub x: f64,
    pub y: f64,
    /// rrweb id of the clicked node.
    pub node: i64,
    /// Clicks in a rage burst. 1 otherwise.
    pub clicks: usize,
}

/// A click read from the recording.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Click {
    time_ms: i64,
    x: f64,
    y: f64,
    node: i64,
}

/// The clicks, mutations, reactions and inputs of a recording, read once for the detectors.
#[derive(Debug, Default)]
struct Timeline {
    clicks: Vec<Click>,
    mutations: Vec<i64>,
    reactions: Vec<i64>,
    inputs: Vec<i64>,
    first_ms: Option<i64>,
    last_ms: Option<i64>,
}

fn read(events: &[EventHead]) -> Timeline {
    let mut timeline = Timeline::default();
    for event in events {
        let Some(time) = event.timestamp else {
            continue;
        };
        timeline.first_ms = Some(timeline.first_ms.map_or(time, |t: i64| t.min(time)));
        timeline.last_ms = Some(timeline.last_ms.map_or(time, |t: i64| t.max(time)));
        if event.kind != Some(INCREMENTAL) {
            continue;
        }
        let data = &event.data;
        match data.source {
            Some(MUTATION) => timeline.mutations.push(time),
            Some(SCROLL) => {
                timeline.reactions.push(time);
                timeline.inputs.push(time);
            }
            Some(SELECTION) => timeline.reactions.push(time),
            Some(MOUSE_MOVE | INPUT | TOUCH_MOVE) => timeline.inputs.push(time),
            Some(MOUSE_INTERACTION) => {
                timeline.inputs.push(time);
                if data.kind == Some(CLICK) {
                    timeline.clicks.push(Click {
                        time_ms: time,
                        x: data.x.unwrap_or(0.0),
                        y: data.y.unwrap_or(0.0),
                        node: data.id.unwrap_or(-1),
                    });
                }
            }
            _ => {}
        }
    }
    for list in [
        &mut timeline.mutations,
        &mut timeline.reactions,
        &mut timeline.inputs,
    ] {
        list.sort_unstable();
    }
    timeline.clicks.sort_by_key(|c| c.time_ms);
    timeline
}

/// True when some time in the sorted list lies in `(after, after + within]`.
fn any_within(sorted: &[i64], after: i64, within: i64) -> bool {
    let start = sorted.partition_point(|&t| t <= after);
    sorted.get(start).is_some_and(|&t| t <= after + within)
}

fn rage_clicks(clicks: &[Click], settings: &SignalSettings) -> Vec<Signal> {
    let mut signals = Vec::new();
    let mut i = 0;
    while i < clicks.len() {
        let first = clicks[i];
        let burst: Vec<usize> = (i..clicks.len())
            .take_while(|&j| clicks[j].time_ms - first.time_ms <= settings.rage_window_ms)
            .filter(|&j| {
                (clicks[j].x - first.x).hypot(clicks[j].y - first.y) <= settings.rage_radius_px
            })
            .collect();
        if burst.len() >= settings.rage_clicks.max(1) {
            signals.push(Signal {
                kind: SignalKind::RageClick,
                time_ms: first.time_ms,
                x: first.x,
                y: first.y,
                node: first.node,
                clicks: burst.len(),
            });
            // One signal per burst: go on after its last click.
            i = burst[burst.len() - 1] + 1;
        } else {
            i += 1;
        }
    }
    signals
}

/// Finds the frustration signals of one session. `error_times_ms` are its JavaScript errors.
pub fn detect(
    events: &[EventHead],
    error_times_ms: &[i64],
    settings: &SignalSettings,
) -> Vec<Signal> {
    let timeline = read(events);
    let mut errors = error_times_ms.to_vec();
    errors.sort_unstable();
    let mut signals = rage_clicks(&timeline.clicks, settings);
    let end = timeline.last_ms.unwrap_or(i64::MIN);
    for click in &timeline.clicks {
        let single = |kind| Signal {
            kind,
            time_ms: click.time_ms,
            x: click.x,
            y: click.y,
            node: click.node,
            clicks: 1,
        };
        let observed = end >= click.time_ms + settings.dead_mutation_ms;
        if observed
            && !any_within(
                &timeline.mutations,
                click.time_ms,
                settings.dead_mutation_ms,
            )
            && !any_within(
                &timeline.reactions,
                click.time_ms,
                settings.dead_reaction_ms,
            )
        {
            signals.push(single(SignalKind::DeadClick));
        }
    }
    // Each error is blamed on the last click before it within the window (an error at the
    // click's own millisecond counts as following it), so a burst of clicks before one
    // error makes one error click, not one per click.
    let mut blamed: Vec<usize> = errors
        .iter()
        .filter_map(|&error| {
            let before = timeline.clicks.partition_point(|c| c.time_ms <= error);
            before
                .checked_sub(1)
                .filter(|&last| error - timeline.clicks[last].time_ms <= settings.error_window_ms)
        })
        .collect();
    blamed.sort_unstable();
    blamed.dedup();
    for index in blamed {
        let click = timeline.clicks[index];
        signals.push(Signal {
            kind: SignalKind::ErrorClick,
            time_ms: click.time_ms,
            x: click.x,
            y: click.y,
            node: click.node,
            clicks: 1,
        });
    }
    signals.sort_by_key(|s| (s.time_ms, s.kind.as_str()));
    signals
}

/// Activity figures of a recording.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Activity {
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    /// Time between the first and last event.
    pub duration_ms: i64,
    /// Time with user input, gaps longer than the idle threshold left out.
    pub active_ms: i64,
    pub clicks: usize,
}

/// Measures duration, active time and clicks of a recording.
pub fn activity(events: &[EventHead], settings: &SignalSettings) -> Activity {
    let timeline = read(events);
    let active_ms = timeline
        .inputs
        .windows(2)
        .map(|pair| pair[1] - pair[0])
        .filter(|gap| *gap <= settings.idle_after_ms)
        .sum();
    Activity {
        start_ms: timeline.first_ms,
        end_ms: timeline.last_ms,
        duration_ms: timeline
            .first_ms
            .zip(timeline.last_ms)
            .map_or(0, |(a, b)| b - a),
        active_ms,
        clicks: timeline.clicks.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn head(event: Value) -> EventHead {
        EventHead::parse(&event.to_string()).expect("an rrweb event")
    }

    fn click(t: i64, x: f64, y: f64) -> EventHead {
        head(
            json!({"type": 3, "timestamp": t, "data": {"source": 2, "type": 2, "id": 7, "x": x, "y": y}}),
        )
    }

    fn mutation(t: i64) -> EventHead {
        head(
            json!({"type": 3, "timestamp": t, "data": {"source": 0, "adds": [], "removes": [], "texts": [], "attributes": []}}),
        )
    }

    fn scroll(t: i64) -> EventHead {
        head(json!({"type": 3, "timestamp": t, "data": {"source": 3, "id": 1, "x": 0, "y": 100}}))
    }

    fn kinds(signals: &[Signal]) -> Vec<(SignalKind, i64)> {
        signals.iter().map(|s| (s.kind, s.time_ms)).collect()
    }

    fn settings() -> SignalSettings {
        SignalSettings::default()
    }

    #[test]
    fn three_close_fast_clicks_are_one_rage_click() {
        let events = vec![
            click(1_000, 100.0, 100.0),
            click(1_300, 110.0, 95.0),
            click(1_900, 120.0, 110.0),
            click(1_950, 101.0, 100.0),
            mutation(2_000),
            mutation(9_000),
        ];
        let signals = detect(&events, &[], &settings());
        let rage: Vec<_> = signals
            .iter()
            .filter(|s| s.kind == SignalKind::RageClick)
            .collect();
        assert_eq!(rage.len(), 1);
        assert_eq!(rage[0].clicks, 4);
        assert_eq!(rage[0].time_ms, 1_000);
    }

    #[test]
    fn clicks_too_far_apart_in_space_or_time_are_not_rage() {
        let spread = vec![
            click(0, 0.0, 0.0),
            click(200, 100.0, 0.0),
            click(400, 0.0, 100.0),
            mutation(500),
        ];
        assert!(detect(&spread, &[], &settings())
            .iter()
            .all(|s| s.kind != SignalKind::RageClick));
        let slow = vec![
            click(0, 0.0, 0.0),
            click(600, 0.0, 0.0),
            click(1_001, 0.0, 0.0),
            mutation(1_100),
        ];
        assert!(detect(&slow, &[], &settings())
            .iter()
            .all(|s| s.kind != SignalKind::RageClick));
        // Exactly at the window's end still counts.
        let edge = vec![
            click(0, 0.0, 0.0),
            click(600, 0.0, 0.0),
            click(1_000, 0.0, 0.0),
            mutation(1_100),
        ];
        assert_eq!(
            detect(&edge, &[], &settings())
                .iter()
                .filter(|s| s.kind == SignalKind::RageClick)
                .count(),
            1
        );
    }

    #[test]
    fn a_click_without_any_reaction_is_dead() {
        let events = vec![click(1_000, 5.0, 5.0), mutation(3_600)];
        assert_eq!(
            kinds(&detect(&events, &[], &settings())),
            vec![(SignalKind::DeadClick, 1_000)]
        );
    }

    #[test]
    fn a_mutation_or_a_quick_scroll_keeps_a_click_alive() {
        let mutated = vec![click(1_000, 5.0, 5.0), mutation(3_400), mutation(9_000)];
        assert!(detect(&mutated, &[], &settings()).is_empty());
        let scrolled = vec![click(1_000, 5.0, 5.0), scroll(1_080), mutation(9_000)];
        assert!(detect(&scrolled, &[], &settings()).is_empty());
        let late_scroll = vec![click(1_000, 5.0, 5.0), scroll(1_200), mutation(9_000)];
        assert_eq!(detect(&late_scroll, &[], &settings()).len(), 1);
    }

    #[test]
    fn a_click_at_the_end_of_the_recording_is_not_judged() {
        let events = vec![mutation(0), click(1_000, 5.0, 5.0)];
        assert!(detect(&events, &[], &settings()).is_empty());
    }

    #[test]
    fn an_error_soon_after_a_click_makes_an_error_click() {
        let events = vec![
            click(1_000, 5.0, 5.0),
            mutation(1_100),
            click(5_000, 5.0, 5.0),
            mutation(5_100),
            mutation(9_000),
        ];
        let signals = detect(&events, &[1_400, 7_000], &settings());
        assert_eq!(kinds(&signals), vec![(SignalKind::ErrorClick, 1_000)]);
    }

    #[test]
    fn one_error_after_a_burst_blames_the_last_click() {
        let events = vec![
            click(1_000, 5.0, 5.0),
            click(1_200, 5.0, 5.0),
            click(1_400, 5.0, 5.0),
            mutation(1_500),
            mutation(9_000),
        ];
        let errors: Vec<_> = detect(&events, &[1_600], &settings())
            .into_iter()
            .filter(|s| s.kind == SignalKind::ErrorClick)
            .collect();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].time_ms, 1_400);
    }

    #[test]
    fn activity_leaves_idle_gaps_out() {
        let events = vec![
            head(
                json!({"type": 4, "timestamp": 0, "data": {"href": "x", "width": 1, "height": 1}}),
            ),
            click(1_000, 0.0, 0.0),
            click(2_000, 0.0, 0.0),
            click(30_000, 0.0, 0.0),
            mutation(31_000),
        ];
        let figures = activity(&events, &settings());
        assert_eq!(figures.duration_ms, 31_000);
        assert_eq!(figures.active_ms, 1_000);
        assert_eq!(figures.clicks, 3);
    }
}
