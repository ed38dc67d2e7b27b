//! `GET /api/ocpm`: object-centric mining over a stored log or over spans.
//!
//! For each object type: its directly-follows graph (the DFG of the log
//! flattened on that type, as PM4Py computes it), its objects' lifecycles
//! (events per object, lifecycle durations, the most frequent lifecycle
//! variants), convergence and divergence, and the log's statistics.
//!
//! Convergence and divergence follow van der Aalst, "Object-Centric Process
//! Mining: Dealing with Divergence and Convergence in Event Data" (SEFM 2019):
//! an event of activity `a` converges on type `t` when it is linked to more
//! than one object of `t` (flattening on `t` copies it once per object); an
//! object of type `t` diverges on `a` when its lifecycle contains `a` more than
//! once (flattening makes it look like a loop).

use exos_analytics::params::Params;
use exos_analytics::time::now_ns;
use exos_analytics::TimeRange;
use exos_mining::ocel::stats::{object_lifecycles, object_type_dfg, statistics};
use exos_mining::ocel::Ocel;
use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::export::load_ocel;
use crate::spans::{object_keys, read_step_spans, spans_to_ocel};
use crate::OcpmError;
use exos_store::Store;

/// Edges returned at most per object type, the most frequent first.
pub const MAX_EDGES: usize = 200;
/// Lifecycle variants returned at most per object type.
pub const MAX_VARIANTS: usize = 10;

/// The source of the events.
#[derive(Debug, Clone, PartialEq)]
pub enum OcpmSource {
    /// A stored log, by id.
    Log(String),
    /// Business spans in a range, with the attribute keys that are object types.
    Spans { range: TimeRange, keys: Vec<String> },
}

/// The parameters of `/api/ocpm`.
#[derive(Debug, Clone, PartialEq)]
pub struct OcpmRequest {
    pub source: OcpmSource,
    /// Limits the per-type sections to these types; all types when empty.
    pub object_types: Vec<String>,
}

impl OcpmRequest {
    /// Reads `log`, or `from`, `to` and `objects` (repeatable) for spans; `type` limits the types.
    pub fn from_query(pairs: &[(String, String)]) -> Result<Self, OcpmError> {
        let params = Params::new(pairs, &["log", "from", "to", "objects", "type"])?;
        let object_types = params.all("type").iter().map(|t| t.to_string()).collect();
        let source = match params.one("log")? {
            Some(log) => OcpmSource::Log(log.to_string()),
            None => {
                let range = TimeRange::parse(params.one("from")?, params.one("to")?, now_ns())?;
                let requested: Vec<String> = params
                    .all("objects")
                    .iter()
                    .flat_map(|v| v.split(','))
                    .filter(|v| !v.is_empty())
                    .map(String::from)
                    .collect();
                OcpmSource::Spans {
                    range,
                    keys: object_keys(&requested)?,
                }
            }
        };
        Ok(Self {
            source,
            object_types,
        })
    }
}

/// A name with a count.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Count {
    pub name: String,
    pub count: u64,
}

/// The statistics section.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Statistics {
    pub events: u64,
    pub objects: u64,
    pub event_object_links: u64,
    pub object_object_links: u64,
    pub events_per_type: Vec<Count>,
    pub objects_per_type: Vec<Count>,
    /// Event-to-object links per qualifier (each qualifier of a pair counts).
    pub links_per_qualifier: Vec<Count>,
    pub object_links_per_qualifier: Vec<Count>,
}

/// One edge of a directly-follows graph.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DfgEdge {
    pub source: String,
    pub target: String,
    pub count: u64,
}

/// One activity of an object type: how often it occurs, converges and diverges.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActivityView {
    pub activity: String,
    /// Events of this activity linked to an object of the type.
    pub events: u64,
    /// Of those, events linked to more than one object of the type.
    pub convergent_events: u64,
    /// Objects of the type whose lifecycle contains the activity.
    pub objects: u64,
    /// Of those, objects whose lifecycle contains it more than once.
    pub divergent_objects: u64,
}

/// A lifecycle variant: the sequence of activities of objects of one type.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LifecycleVariant {
    pub activities: Vec<String>,
    pub objects: u64,
}

/// Summary of the lifecycles of one object type.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lifecycles {
    pub objects_with_events: u64,
    pub mean_events: f64,
    pub median_duration_s: f64,
    pub mean_duration_s: f64,
    pub max_duration_s: f64,
    pub variants: Vec<LifecycleVariant>,
    /// Distinct lifecycle variants in all.
    pub variant_count: u64,
    /// Up to five objects, for links: the longest lifecycles first.
    pub examples: Vec<String>,
}

/// Everything about one object type.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectTypeView {
    pub object_type: String,
    pub objects: u64,
    pub edges: Vec<DfgEdge>,
    /// True when more than [`MAX_EDGES`] edges existed.
    pub edges_truncated: bool,
    pub start_activities: Vec<Count>,
    pub end_activities: Vec<Count>,
    pub activities: Vec<ActivityView>,
    pub lifecycles: Lifecycles,
}

/// The response body of `/api/ocpm`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OcpmResponse {
    /// `log` or `spans`.
    pub source: &'static str,
    pub log: Option<String>,
    /// The object-type keys used for spans.
    pub object_keys: Vec<String>,
    /// True when spans were cut at the read limit.
    pub truncated: bool,
    pub statistics: Statistics,
    pub object_types: Vec<ObjectTypeView>,
}

fn counts(list: Vec<(String, usize)>) -> Vec<Count> {
    list.into_iter()
        .map(|(name, count)| Count {
            name,
            count: count as u64,
        })
        .collect()
}

fn sorted_counts(map: FxHashMap<String, u64>) -> Vec<Count> {
    let mut list: Vec<Count> = map
        .into_iter()
        .map(|(name, count)| Count { name, count })
        .collect();
    list.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    list
}

fn statistics_view(ocel: &Ocel) -> Statistics {
    let stats = statistics(ocel);
    let mut object_links: FxHashMap<String, u64> = FxHashMap::default();
    for link in &ocel.object_object {
        *object_links.entry(link.qualifier.clone()).or_default() += 1;
    }
    let mut object_links = sorted_counts(object_links);
    object_links.sort_by(|a, b| a.name.cmp(&b.name));
    Statistics {
        events: stats.events as u64,
        objects: stats.objects as u64,
        event_object_links: stats.event_object_links as u64,
        object_object_links: stats.object_object_links as u64,
        events_per_type: counts(stats.events_per_type),
        objects_per_type: counts(stats.objects_per_type),
        links_per_qualifier: counts(stats.links_per_qualifier),
        object_links_per_qualifier: object_links,
    }
}

/// Counts, per activity, the events linked to objects of `type_index` and those linked to several.
fn convergence(ocel: &Ocel, type_index: usize) -> FxHashMap<usize, (u64, u64)> {
    let mut objects_per_event: FxHashMap<usize, Vec<usize>> = FxHashMap::default();
    for link in &ocel.event_object {
        if ocel.objects[link.object].object_type == type_index {
            objects_per_event
                .entry(link.event)
                .or_default()
                .push(link.object);
        }
    }
    let mut per_activity: FxHashMap<usize, (u64, u64)> = FxHashMap::default();
    for (event, mut objects) in objects_per_event {
        objects.sort_unstable();
        objects.dedup();
        let entry = per_activity
            .entry(ocel.events[event].event_type)
            .or_default();
        entry.0 += 1;
        entry.1 += u64::from(objects.len() > 1);
    }
    per_activity
}

/// Returns the median (the mean of the middle two for an even count); 0 for no values.
pub(crate) fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    let middle = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[middle - 1] + values[middle]) / 2.0
    } else {
        values[middle]
    }
}

fn object_type_view(ocel: &Ocel, type_index: usize) -> ObjectTypeView {
    let name = ocel.object_types[type_index].name.clone();
    let dfg = object_type_dfg(ocel, &name);
    let lifecycles = object_lifecycles(ocel, &name);
    let activity_name = |event: usize| ocel.event_types[ocel.events[event].event_type].name.clone();

    let mut edges: Vec<DfgEdge> = dfg
        .edges
        .into_iter()
        .map(|((source, target), count)| DfgEdge {
            source,
            target,
            count,
        })
        .collect();
    edges.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| (&a.source, &a.target).cmp(&(&b.source, &b.target)))
    });
    let edges_truncated = edges.len() > MAX_EDGES;
    edges.truncate(MAX_EDGES);

    let mut variants: FxHashMap<Vec<String>, u64> = FxHashMap::default();
    let mut per_activity_objects: FxHashMap<usize, (u64, u64)> = FxHashMap::default();
    let mut durations = Vec::new();
    let mut event_total = 0u64;
    let mut longest: Vec<(f64, usize)> = Vec::new();
    for lifecycle in lifecycles.iter().filter(|l| !l.events.is_empty()) {
        let sequence: Vec<String> = lifecycle.events.iter().map(|&e| activity_name(e)).collect();
        *variants.entry(sequence).or_default() += 1;
        let mut seen: FxHashMap<usize, u64> = FxHashMap::default();
        for &event in &lifecycle.events {
            *seen.entry(ocel.events[event].event_type).or_default() += 1;
        }
        for (activity, times) in seen {
            let entry = per_activity_objects.entry(activity).or_default();
            entry.0 += 1;
            entry.1 += u64::from(times > 1);
        }
        durations.push(lifecycle.duration_seconds);
        event_total += lifecycle.events.len() as u64;
        longest.push((lifecycle.duration_seconds, lifecycle.object));
    }
    let with_events = durations.len() as u64;
    longest.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mean_duration_s = if durations.is_empty() {
        0.0
    } else {
        durations.iter().sum::<f64>() / durations.len() as f64
    };
    let max_duration_s = durations.iter().copied().fold(0.0, f64::max);
    let variant_count = variants.len() as u64;
    let mut variants: Vec<LifecycleVariant> = variants
        .into_iter()
        .map(|(activities, objects)| LifecycleVariant {
            activities,
            objects,
        })
        .collect();
    variants.sort_by(|a, b| {
        b.objects
            .cmp(&a.objects)
            .then_with(|| a.activities.cmp(&b.activities))
    });
    variants.truncate(MAX_VARIANTS);

    let converging = convergence(ocel, type_index);
    let mut activities: Vec<ActivityView> = converging
        .iter()
        .map(|(&activity, &(events, convergent_events))| {
            let (objects, divergent_objects) = per_activity_objects
                .get(&activity)
                .copied()
                .unwrap_or_default();
            ActivityView {
                activity: ocel.event_types[activity].name.clone(),
                events,
                convergent_events,
                objects,
                divergent_objects,
            }
        })
        .collect();
    activities.sort_by(|a, b| {
        b.events
            .cmp(&a.events)
            .then_with(|| a.activity.cmp(&b.activity))
    });

    ObjectTypeView {
        object_type: name,
        objects: lifecycles.len() as u64,
        edges,
        edges_truncated,
        start_activities: sorted_counts(dfg.start_activities),
        end_activities: sorted_counts(dfg.end_activities),
        activities,
        lifecycles: Lifecycles {
            objects_with_events: with_events,
            mean_events: if with_events == 0 {
                0.0
            } else {
                event_total as f64 / with_events as f64
            },
            median_duration_s: median(&mut durations),
            mean_duration_s,
            max_duration_s,
            variants,
            variant_count,
            examples: longest
                .iter()
                .take(5)
                .map(|&(_, object)| ocel.objects[object].id.clone())
                .collect(),
        },
    }
}

/// Runs the analyses over an OCEL log.
pub fn analyse(ocel: &Ocel, object_types: &[String]) -> Result<Vec<ObjectTypeView>, OcpmError> {
    for requested in object_types {
        if !ocel.object_types.iter().any(|t| &t.name == requested) {
            let known: Vec<&str> = ocel.object_types.iter().map(|t| t.name.as_str()).collect();
            return Err(OcpmError::BadInput(format!(
                "unknown object type {requested:?}; the log has {known:?}"
            )));
        }
    }
    Ok((0..ocel.object_types.len())
        .filter(|&t| object_types.is_empty() || object_types.contains(&ocel.object_types[t].name))
        .map(|t| object_type_view(ocel, t))
        .collect())
}

/// Answers `/api/ocpm`.
pub fn ocpm(store: &dyn Store, request: &OcpmRequest) -> Result<OcpmResponse, OcpmError> {
    let (ocel, source, log, keys, truncated) = match &request.source {
        OcpmSource::Log(log_id) => (
            load_ocel(store, log_id)?,
            "log",
            Some(log_id.clone()),
            Vec::new(),
            false,
        ),
        OcpmSource::Spans { range, keys } => {
            let (spans, truncated) = read_step_spans(store, *range, keys)?;
            (
                spans_to_ocel(&spans, keys),
                "spans",
                None,
                keys.clone(),
                truncated,
            )
        }
    };
    Ok(OcpmResponse {
        source,
        log,
        object_keys: keys,
        truncated,
        statistics: statistics_view(&ocel),
        object_types: analyse(&ocel, &request.object_types)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use exos_mining::ocel::{EventObjectLink, OcelEvent, OcelObject};

    /// One order with two items; "pick" runs once per item, "place" once for all.
    fn order_with_items() -> Ocel {
        let mut ocel = Ocel::default();
        let order = ocel.object_type_index("order");
        let item = ocel.object_type_index("item");
        let place = ocel.event_type_index("place");
        let pick = ocel.event_type_index("pick");
        for (id, object_type) in [("o1", order), ("i1", item), ("i2", item)] {
            ocel.objects.push(OcelObject {
                id: id.into(),
                object_type,
                attributes: Vec::new(),
            });
        }
        for (id, event_type, time) in [("e1", place, 1), ("e2", pick, 2), ("e3", pick, 3)] {
            ocel.events.push(OcelEvent {
                id: id.into(),
                event_type,
                time,
                attributes: Vec::new(),
            });
        }
        let link = |event, object| EventObjectLink {
            event,
            object,
            qualifier: String::new(),
        };
        ocel.event_object = vec![
            link(0, 0),
            link(0, 1),
            link(0, 2),
            link(1, 0),
            link(1, 1),
            link(2, 0),
            link(2, 2),
        ];
        ocel
    }

    #[test]
    fn convergence_counts_events_on_several_items() {
        let views = analyse(&order_with_items(), &["item".to_string()]).unwrap();
        let place = views[0]
            .activities
            .iter()
            .find(|a| a.activity == "place")
            .unwrap();
        assert_eq!(place.events, 1);
        assert_eq!(place.convergent_events, 1);
        let pick = views[0]
            .activities
            .iter()
            .find(|a| a.activity == "pick")
            .unwrap();
        assert_eq!(pick.convergent_events, 0);
    }

    #[test]
    fn divergence_counts_repeated_activity_per_order() {
        let views = analyse(&order_with_items(), &["order".to_string()]).unwrap();
        let pick = views[0]
            .activities
            .iter()
            .find(|a| a.activity == "pick")
            .unwrap();
        assert_eq!(pick.objects, 1);
        assert_eq!(pick.divergent_objects, 1);
        assert_eq!(views[0].edges.len(), 2);
    }

    #[test]
    fn unknown_object_type_is_rejected() {
        assert!(analyse(&order_with_items(), &["invoice".to_string()]).is_err());
    }
}
