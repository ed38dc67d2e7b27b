//! Object-centric analyses: statistics per type, per-object-type
//! directly-follows graphs and object lifecycles.
//!
//! The directly-follows graph of an object type is the DFG of the log
//! flattened on that type (PM4Py's `ocel_flattening`). Each object is a
//! case whose events are the events linked to it, ordered by time with
//! ties in file order. An event linked to an object under several
//! qualifiers counts once.

use rustc_hash::FxHashMap;

use super::Ocel;
use crate::log::Timestamp;
use crate::time::seconds_between;

/// Counts describing an OCEL log.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OcelStatistics {
    /// Number of events.
    pub events: usize,
    /// Number of objects.
    pub objects: usize,
    /// Event-to-object links (each qualifier counts).
    pub event_object_links: usize,
    /// Object-to-object links (each qualifier counts).
    pub object_object_links: usize,
    /// Events per event type name.
    pub events_per_type: Vec<(String, usize)>,
    /// Objects per object type name.
    pub objects_per_type: Vec<(String, usize)>,
    /// Event-to-object links per qualifier.
    pub links_per_qualifier: Vec<(String, usize)>,
}

/// Computes [`OcelStatistics`]; lists are sorted by name.
pub fn statistics(ocel: &Ocel) -> OcelStatistics {
    let mut events_per_type: FxHashMap<&str, usize> = FxHashMap::default();
    for event in &ocel.events {
        *events_per_type
            .entry(&ocel.event_types[event.event_type].name)
            .or_default() += 1;
    }
    let mut objects_per_type: FxHashMap<&str, usize> = FxHashMap::default();
    for object in &ocel.objects {
        *objects_per_type
            .entry(&ocel.object_types[object.object_type].name)
            .or_default() += 1;
    }
    let mut links_per_qualifier: FxHashMap<&str, usize> = FxHashMap::default();
    for link in &ocel.event_object {
        *links_per_qualifier.entry(&link.qualifier).or_default() += 1;
    }
    OcelStatistics {
        events: ocel.events.len(),
        objects: ocel.objects.len(),
        event_object_links: ocel.event_object.len(),
        object_object_links: ocel.object_object.len(),
        events_per_type: sorted(events_per_type),
        objects_per_type: sorted(objects_per_type),
        links_per_qualifier: sorted(links_per_qualifier),
    }
}

fn sorted(counts: FxHashMap<&str, usize>) -> Vec<(String, usize)> {
    let mut list: Vec<(String, usize)> = counts
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    list.sort();
    list
}

/// The events of one object in time order.
#[derive(Debug, Clone, PartialEq)]
pub struct Lifecycle {
    /// Index into [`Ocel::objects`].
    pub object: usize,
    /// Indices into [`Ocel::events`], ordered by time then file order.
    pub events: Vec<usize>,
    /// Last minus first event time, in seconds (0 without events).
    pub duration_seconds: f64,
}

/// Lifecycles of all objects of `object_type` (a type name), in object
/// order; objects without events have empty lifecycles.
pub fn object_lifecycles(ocel: &Ocel, object_type: &str) -> Vec<Lifecycle> {
    let Some(type_index) = ocel.object_types.iter().position(|t| t.name == object_type) else {
        return Vec::new();
    };
    let mut events_of: FxHashMap<usize, Vec<usize>> = FxHashMap::default();
    for link in &ocel.event_object {
        if ocel.objects[link.object].object_type == type_index {
            events_of.entry(link.object).or_default().push(link.event);
        }
    }
    (0..ocel.objects.len())
        .filter(|&o| ocel.objects[o].object_type == type_index)
        .map(|object| {
            let mut events = events_of.remove(&object).unwrap_or_default();
            events.sort_by_key(|&e| (ocel.events[e].time, e));
            events.dedup();
            let times: Vec<Timestamp> = events.iter().map(|&e| ocel.events[e].time).collect();
            let duration_seconds = match (times.first(), times.last()) {
                (Some(&first), Some(&last)) => seconds_between(first, last),
                _ => 0.0,
            };
            Lifecycle {
                object,
                events,
                duration_seconds,
            }
        })
        .collect()
}

/// Directly-follows graph of one object type, keyed by event type names.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ObjectTypeDfg {
    /// (event type, event type) to count.
    pub edges: FxHashMap<(String, String), u64>,
    /// Objects whose first event has each type.
    pub start_activities: FxHashMap<String, u64>,
    /// Objects whose last event has each type.
    pub end_activities: FxHashMap<String, u64>,
}

/// Computes the directly-follows graph of `object_type`.
pub fn object_type_dfg(ocel: &Ocel, object_type: &str) -> ObjectTypeDfg {
    let mut dfg = ObjectTypeDfg::default();
    let type_name = |event: usize| ocel.event_types[ocel.events[event].event_type].name.clone();
    for lifecycle in object_lifecycles(ocel, object_type) {
        let (Some(&first), Some(&last)) = (lifecycle.events.first(), lifecycle.events.last())
        else {
            continue;
        };
        *dfg.start_activities.entry(type_name(first)).or_default() += 1;
        *dfg.end_activities.entry(type_name(last)).or_default() += 1;
        for pair in lifecycle.events.windows(2) {
            *dfg.edges
                .entry((type_name(pair[0]), type_name(pair[1])))
                .or_default() += 1;
        }
    }
    dfg
}
