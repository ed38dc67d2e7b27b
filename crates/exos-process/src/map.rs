//! The process map: the directly-follows graph with frequencies and waiting
//! times, thinned by the activity and path sliders as Disco does.
//!
//! The activity slider keeps the most frequent activities and removes the
//! other activities' events, so the remaining edges bridge what was hidden.
//! The path slider keeps the most frequent edges, and then each activity's
//! strongest incoming and outgoing edge, so no shown activity is cut off.

use exos_mining::analysis::filter::activities as filter_activities;
use exos_mining::analysis::{directly_follows, performance_dfg, variants, Summary};
use exos_mining::log::Sym;
use exos_mining::EventLog;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use crate::error::ProcessError;
use crate::request::LogScope;
use crate::stats::{event_durations, share_count};

/// A process map request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MapRequest {
    pub scope: LogScope,
    /// Share (0..=1) of activities shown, most frequent first.
    pub activity_share: f64,
    /// Share (0..=1) of edges shown, most frequent first.
    pub path_share: f64,
    /// Rank (0 = most frequent) of a variant whose path to highlight.
    pub highlight_variant: Option<usize>,
}

impl Default for MapRequest {
    fn default() -> Self {
        MapRequest {
            scope: LogScope::default(),
            activity_share: 1.0,
            path_share: 1.0,
            highlight_variant: None,
        }
    }
}

/// One activity of the map.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MapNode {
    pub name: String,
    /// Events of the activity.
    pub count: u64,
    /// Cases starting with it.
    pub starts: u64,
    /// Cases ending with it.
    pub ends: u64,
    /// Processing time (span duration) in seconds.
    pub duration: Summary,
}

/// One directly-follows edge of the map.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MapEdge {
    pub from: String,
    pub to: String,
    pub count: u64,
    /// Waiting time in seconds from the end of `from` to the start of `to`.
    pub wait: Summary,
}

/// The path of a highlighted variant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Highlight {
    pub rank: usize,
    pub count: u64,
    pub activities: Vec<String>,
}

/// The process map answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProcessMap {
    pub cases: u64,
    pub events: u64,
    pub variants: u64,
    /// Activities and edges before the sliders.
    pub total_activities: usize,
    pub total_edges: usize,
    pub nodes: Vec<MapNode>,
    pub edges: Vec<MapEdge>,
    pub highlight: Option<Highlight>,
}

/// Builds the map of `log` under the request's sliders.
pub fn process_map(log: &EventLog, request: &MapRequest) -> Result<ProcessMap, ProcessError> {
    check_share("activity_share", request.activity_share)?;
    check_share("path_share", request.path_share)?;
    let full = directly_follows(log);
    let kept = top_activities(&full.activity_counts, request.activity_share);
    let reduced = filter_activities(log, &kept, true);
    let dfg = directly_follows(&reduced);
    let waits = performance_dfg(&reduced, true);
    let edges = thin_edges(&dfg.sorted_edges(), request.path_share);
    let durations = event_durations(&reduced);
    let name = |a: Sym| reduced.activity_name(a).to_string();
    let mut nodes: Vec<MapNode> = kept
        .iter()
        .filter(|&&a| dfg.activity_counts[a as usize] > 0)
        .map(|&a| MapNode {
            name: name(a),
            count: dfg.activity_counts[a as usize],
            starts: dfg.start_activities.get(&a).copied().unwrap_or(0),
            ends: dfg.end_activities.get(&a).copied().unwrap_or(0),
            duration: durations.get(&a).copied().unwrap_or_default(),
        })
        .collect();
    nodes.sort_by(|a, b| b.count.cmp(&a.count).then(a.name.cmp(&b.name)));
    let all_variants = variants(log);
    let highlight = match request.highlight_variant {
        Some(rank) => Some(highlight(log, &all_variants, rank)?),
        None => None,
    };
    Ok(ProcessMap {
        cases: log.case_count() as u64,
        events: log.event_count() as u64,
        variants: all_variants.len() as u64,
        total_activities: full.activity_counts.iter().filter(|&&c| c > 0).count(),
        total_edges: full.edges.len(),
        nodes,
        edges: edges
            .into_iter()
            .map(|((a, b), count)| MapEdge {
                from: name(a),
                to: name(b),
                count,
                wait: waits.get(&(a, b)).copied().unwrap_or_default(),
            })
            .collect(),
        highlight,
    })
}

fn check_share(field: &str, share: f64) -> Result<(), ProcessError> {
    if (0.0..=1.0).contains(&share) {
        return Ok(());
    }
    Err(ProcessError::bad(
        field,
        format!("{share} is not a share; give a number from 0 to 1"),
    ))
}

/// The most frequent `share` of the activities that occur (at least one).
fn top_activities(counts: &[u64], share: f64) -> Vec<Sym> {
    let mut present: Vec<Sym> = (0..counts.len() as Sym)
        .filter(|&a| counts[a as usize] > 0)
        .collect();
    present.sort_by(|&a, &b| counts[b as usize].cmp(&counts[a as usize]).then(a.cmp(&b)));
    present.truncate(share_count(present.len(), share));
    present
}

/// The most frequent `share` of `sorted` edges, plus every activity's
/// strongest incoming and outgoing edge; in descending count.
fn thin_edges(sorted: &[((Sym, Sym), u64)], share: f64) -> Vec<((Sym, Sym), u64)> {
    let mut keep: FxHashSet<(Sym, Sym)> = sorted
        .iter()
        .take(share_count(sorted.len(), share))
        .map(|(edge, _)| *edge)
        .collect();
    let mut strongest_out: FxHashMap<Sym, (Sym, Sym)> = FxHashMap::default();
    let mut strongest_in: FxHashMap<Sym, (Sym, Sym)> = FxHashMap::default();
    for &(edge, _) in sorted {
        strongest_out.entry(edge.0).or_insert(edge);
        strongest_in.entry(edge.1).or_insert(edge);
    }
    keep.extend(strongest_out.values().chain(strongest_in.values()));
    sorted
        .iter()
        .filter(|(edge, _)| keep.contains(edge))
        .copied()
        .collect()
}

fn highlight(
    log: &EventLog,
    all: &[exos_mining::analysis::Variant],
    rank: usize,
) -> Result<Highlight, ProcessError> {
    let variant = all.get(rank).ok_or_else(|| {
        ProcessError::bad(
            "highlight_variant",
            format!(
                "variant {rank} does not exist; the log has {} variants (ranks from 0)",
                all.len()
            ),
        )
    })?;
    Ok(Highlight {
        rank,
        count: variant.count,
        activities: variant
            .activities
            .iter()
            .map(|&a| log.activity_name(a).to_string())
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_slider_keeps_each_activitys_strongest_edges() {
        let edges = vec![((0, 1), 10), ((1, 2), 8), ((0, 2), 2), ((2, 3), 1)];
        let kept = thin_edges(&edges, 0.25);
        assert_eq!(kept, vec![((0, 1), 10), ((1, 2), 8), ((2, 3), 1)]);
    }

    #[test]
    fn activity_slider_keeps_at_least_one_activity() {
        assert_eq!(top_activities(&[5, 0, 9], 0.0), vec![2]);
        assert_eq!(top_activities(&[5, 0, 9], 1.0), vec![2, 0]);
    }
}
