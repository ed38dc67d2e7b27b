//! Inductive miner infrequent (IMf), over the variants of a log.
//!
//! The miner splits the log recursively by the cuts of the directly-follows
//! graph, with the choices PM4Py 2.7 makes so that both produce the same
//! tree:
//!
//! - each recursion first handles empty traces (a choice with tau when more
//!   than `noise_threshold` of the traces are empty, otherwise they are
//!   dropped), then the base cases, then the cuts in the order exclusive
//!   choice, strict sequence, parallel, loop;
//! - when no cut is found, the cuts are searched again on a filtered
//!   directly-follows graph that keeps an edge only when its count exceeds
//!   `noise_threshold` times the largest outgoing count of its source (end
//!   counts included) and a start activity when its count reaches
//!   `noise_threshold` times the largest start count; the log is then split
//!   by the cut found there;
//! - otherwise the fall-throughs apply in the order: activity once per
//!   trace, activity concurrent, strict tau loop, tau loop, flower model.
//!
//! Activities are renumbered by name first, so that "sorted by name" is
//! integer order everywhere below.

use rustc_hash::{FxHashMap, FxHashSet};

use super::tree::{Operator, ProcessTree};
use crate::analysis::variants;
use crate::log::{EventLog, Sym};

/// Inductive miner settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImfOptions {
    /// Share of behaviour treated as noise, 0..=1. 0 gives the plain
    /// inductive miner. ProM's IMf defaults to 0.2; PM4Py's
    /// `discover_process_tree_inductive` defaults to 0.0, so pass 0.2 to it
    /// explicitly to compare.
    pub noise_threshold: f64,
}

impl Default for ImfOptions {
    fn default() -> Self {
        ImfOptions {
            noise_threshold: 0.2,
        }
    }
}

/// Discovers a process tree from `log`, folded and sorted as PM4Py does.
pub fn inductive_miner(log: &EventLog, options: ImfOptions) -> ProcessTree {
    let (rank_of, sym_of) = rank_activities(log);
    let mut uvcl = Uvcl::default();
    for variant in variants(log) {
        let trace: Vec<u32> = variant
            .activities
            .iter()
            .map(|&a| rank_of[a as usize])
            .collect();
        uvcl.add(trace, variant.count);
    }
    let miner = Miner {
        noise_threshold: options.noise_threshold,
    };
    let tree = miner.mine(uvcl, false).unwrap_or_else(ProcessTree::tau);
    let tree = relabel(tree, &sym_of).fold();
    let mut tree = tree;
    tree.sort(&log.activities);
    tree
}

/// Ranks of activity ids in name order, and the inverse.
fn rank_activities(log: &EventLog) -> (Vec<u32>, Vec<Sym>) {
    let mut sym_of: Vec<Sym> = (0..log.activities.len() as Sym).collect();
    sym_of.sort_by(|&a, &b| log.activity_name(a).cmp(log.activity_name(b)));
    let mut rank_of = vec![0u32; sym_of.len()];
    for (rank, &sym) in sym_of.iter().enumerate() {
        rank_of[sym as usize] = rank as u32;
    }
    (rank_of, sym_of)
}

fn relabel(tree: ProcessTree, sym_of: &[Sym]) -> ProcessTree {
    match tree {
        ProcessTree::Leaf(label) => ProcessTree::Leaf(label.map(|l| sym_of[l as usize])),
        ProcessTree::Node(operator, children) => ProcessTree::Node(
            operator,
            children.into_iter().map(|c| relabel(c, sym_of)).collect(),
        ),
    }
}

/// A multiset of traces (a "univariate variant compressed log"), keeping
/// first-insertion order as Python's `Counter` does.
#[derive(Debug, Clone, Default)]
struct Uvcl {
    traces: Vec<(Vec<u32>, u64)>,
    index: FxHashMap<Vec<u32>, usize>,
}

impl Uvcl {
    fn add(&mut self, trace: Vec<u32>, count: u64) {
        if let Some(&slot) = self.index.get(&trace) {
            self.traces[slot].1 += count;
            return;
        }
        self.index.insert(trace.clone(), self.traces.len());
        self.traces.push((trace, count));
    }

    fn total(&self) -> u64 {
        self.traces.iter().map(|(_, c)| c).sum()
    }

    fn alphabet(&self) -> Vec<u32> {
        let set: FxHashSet<u32> = self
            .traces
            .iter()
            .flat_map(|(t, _)| t.iter().copied())
            .collect();
        let mut alphabet: Vec<u32> = set.into_iter().collect();
        alphabet.sort_unstable();
        alphabet
    }

    fn dfg(&self) -> ImDfg {
        let mut dfg = ImDfg::default();
        for (trace, count) in &self.traces {
            for pair in trace.windows(2) {
                *dfg.edges.entry((pair[0], pair[1])).or_default() += count;
            }
            if let (Some(&first), Some(&last)) = (trace.first(), trace.last()) {
                *dfg.start.entry(first).or_default() += count;
                *dfg.end.entry(last).or_default() += count;
            }
        }
        dfg
    }
}

/// Directly-follows graph used by the cuts.
#[derive(Debug, Clone, Default)]
struct ImDfg {
    edges: FxHashMap<(u32, u32), u64>,
    start: FxHashMap<u32, u64>,
    end: FxHashMap<u32, u64>,
}

impl ImDfg {
    /// Activities on an edge or among the start or end activities, sorted.
    fn vertices(&self) -> Vec<u32> {
        let mut set: FxHashSet<u32> = self.start.keys().chain(self.end.keys()).copied().collect();
        for &(a, b) in self.edges.keys() {
            set.insert(a);
            set.insert(b);
        }
        let mut vertices: Vec<u32> = set.into_iter().collect();
        vertices.sort_unstable();
        vertices
    }

    fn has_edge(&self, a: u32, b: u32) -> bool {
        self.edges.contains_key(&(a, b))
    }

    /// Keeps the frequent part of the graph (see the module comment).
    fn filter_noise(&self, threshold: f64) -> ImDfg {
        let mut max_outgoing: FxHashMap<u32, u64> = FxHashMap::default();
        for (&(a, _), &count) in &self.edges {
            let entry = max_outgoing.entry(a).or_default();
            *entry = (*entry)
                .max(count)
                .max(self.end.get(&a).copied().unwrap_or(0));
        }
        let edges = self
            .edges
            .iter()
            .filter(|(&(a, _), &count)| count as f64 > threshold * max_outgoing[&a] as f64)
            .map(|(&e, &c)| (e, c))
            .collect();
        let max_start = self.start.values().copied().max().unwrap_or(0);
        let start = self
            .start
            .iter()
            .filter(|(_, &c)| c as f64 >= max_start as f64 * threshold)
            .map(|(&a, &c)| (a, c))
            .collect();
        ImDfg {
            edges,
            start,
            end: self.end.clone(),
        }
    }
}

struct Miner {
    noise_threshold: f64,
}

/// An operator with the sub-logs of its children.
type Split = (Operator, Vec<Uvcl>);

impl Miner {
    /// Mines one node; `filtered` is the second try on the filtered graph,
    /// which may find nothing (`None`).
    fn mine(&self, mut log: Uvcl, filtered: bool) -> Option<ProcessTree> {
        let empty: u64 = log
            .traces
            .iter()
            .filter(|(t, _)| t.is_empty())
            .map(|(_, c)| c)
            .sum();
        if empty > 0 && log.traces.len() > 1 {
            let total = log.total();
            let mut rest = Uvcl::default();
            for (trace, count) in log.traces.into_iter().filter(|(t, _)| !t.is_empty()) {
                rest.add(trace, count);
            }
            if empty as f64 > self.noise_threshold * total as f64 {
                return Some(self.node(Operator::Xor, vec![Uvcl::default(), rest]));
            }
            log = rest;
        }
        if let Some(leaf) = base_case(&log) {
            return Some(leaf);
        }
        let dfg = if filtered {
            log.dfg().filter_noise(self.noise_threshold)
        } else {
            log.dfg()
        };
        if let Some((operator, parts)) = find_cut(&log, &dfg) {
            return Some(self.node(operator, parts));
        }
        if filtered {
            return None;
        }
        if let Some(tree) = self.mine(log.clone(), true) {
            return Some(tree);
        }
        let (operator, parts) = fall_through(&log);
        Some(self.node(operator, parts))
    }

    fn node(&self, operator: Operator, parts: Vec<Uvcl>) -> ProcessTree {
        let children = parts
            .into_iter()
            .map(|p| self.mine(p, false).unwrap_or_else(ProcessTree::tau))
            .collect();
        ProcessTree::Node(operator, children)
    }
}

fn base_case(log: &Uvcl) -> Option<ProcessTree> {
    match log.traces.as_slice() {
        [] => Some(ProcessTree::tau()),
        [(trace, _)] if trace.len() <= 1 => Some(ProcessTree::Leaf(trace.first().copied())),
        _ => None,
    }
}

fn find_cut(log: &Uvcl, dfg: &ImDfg) -> Option<Split> {
    if let Some(groups) = xor_cut(dfg) {
        return Some((Operator::Xor, project_xor(log, &groups)));
    }
    if let Some(groups) = strict_sequence_cut(dfg) {
        return Some((Operator::Sequence, project_sequence(log, &groups)));
    }
    if let Some(groups) = parallel_cut(dfg) {
        return Some((Operator::Parallel, project_parallel(log, &groups)));
    }
    if let Some(groups) = loop_cut(dfg) {
        return Some((Operator::Loop, project_loop(log, &groups)));
    }
    None
}

type Group = Vec<u32>;

fn contains(group: &[u32], activity: u32) -> bool {
    group.binary_search(&activity).is_ok()
}

fn union(a: &[u32], b: &[u32]) -> Group {
    let mut merged: Group = a.iter().chain(b).copied().collect();
    merged.sort_unstable();
    merged.dedup();
    merged
}

/// Connected components of the undirected graph, ordered by their sorted
/// member names.
fn xor_cut(dfg: &ImDfg) -> Option<Vec<Group>> {
    let vertices = dfg.vertices();
    let mut components = UnionFind::new(&vertices);
    for &(a, b) in dfg.edges.keys() {
        components.union(a, b);
    }
    let groups = components.groups();
    (groups.len() > 1).then_some(groups)
}

/// Trace-by-trace: the trace goes to the group holding most of its events
/// (ties to the later group) with only that group's events.
fn project_xor(log: &Uvcl, groups: &[Group]) -> Vec<Uvcl> {
    let mut parts = vec![Uvcl::default(); groups.len()];
    for (trace, count) in &log.traces {
        let counts: Vec<usize> = groups
            .iter()
            .map(|g| trace.iter().filter(|&&a| contains(g, a)).count())
            .collect();
        let best = (0..groups.len())
            .max_by_key(|&i| (counts[i], i))
            .unwrap_or(0);
        let projected = trace
            .iter()
            .copied()
            .filter(|&a| contains(&groups[best], a))
            .collect();
        parts[best].add(projected, *count);
    }
    parts
}

/// Transitive successors and predecessors of every vertex.
fn reachability(
    dfg: &ImDfg,
    vertices: &[u32],
) -> (
    FxHashMap<u32, FxHashSet<u32>>,
    FxHashMap<u32, FxHashSet<u32>>,
) {
    let mut outgoing: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
    for &(a, b) in dfg.edges.keys() {
        outgoing.entry(a).or_default().push(b);
    }
    let mut successors: FxHashMap<u32, FxHashSet<u32>> = FxHashMap::default();
    for &v in vertices {
        let mut seen = FxHashSet::default();
        let mut stack: Vec<u32> = outgoing.get(&v).cloned().unwrap_or_default();
        while let Some(next) = stack.pop() {
            if seen.insert(next) {
                stack.extend(outgoing.get(&next).into_iter().flatten().copied());
            }
        }
        successors.insert(v, seen);
    }
    let mut predecessors: FxHashMap<u32, FxHashSet<u32>> = vertices
        .iter()
        .map(|&v| (v, FxHashSet::default()))
        .collect();
    for (&v, reached) in &successors {
        for &w in reached {
            predecessors.entry(w).or_default().insert(v);
        }
    }
    (successors, predecessors)
}

/// Groups of mutually reachable or mutually unreachable activities, ordered
/// from first to last.
fn sequence_cut(dfg: &ImDfg) -> Option<Vec<Group>> {
    let vertices = dfg.vertices();
    if vertices.is_empty() {
        return None;
    }
    let (successors, predecessors) = reachability(dfg, &vertices);
    let mut components = UnionFind::new(&vertices);
    for (i, &a) in vertices.iter().enumerate() {
        for &b in &vertices[i + 1..] {
            let a_to_b = successors[&a].contains(&b);
            let b_to_a = successors[&b].contains(&a);
            if a_to_b == b_to_a {
                components.union(a, b);
            }
        }
    }
    let mut groups = components.groups();
    let n = vertices.len();
    groups.sort_by_key(|g| predecessors[&g[0]].len() + (n - successors[&g[0]].len()));
    (groups.len() > 1).then_some(groups)
}

/// Finds the sequence cut with skippable groups merged with their neighbours, so
/// that every group can be entered and left only through the cut order.
fn strict_sequence_cut(dfg: &ImDfg) -> Option<Vec<Group>> {
    let mut groups = sequence_cut(dfg)?;
    let group_of: FxHashMap<u32, usize> = groups
        .iter()
        .enumerate()
        .flat_map(|(i, g)| g.iter().map(move |&a| (a, i)))
        .collect();
    let count = groups.len() as i64;
    let mut first_from: Vec<i64> = groups
        .iter()
        .map(|g| {
            if g.iter().any(|a| dfg.start.contains_key(a)) {
                i64::MIN
            } else {
                i64::MAX
            }
        })
        .collect();
    let mut last_to: Vec<i64> = groups
        .iter()
        .map(|g| {
            if g.iter().any(|a| dfg.end.contains_key(a)) {
                i64::MAX
            } else {
                i64::MIN
            }
        })
        .collect();
    for &(a, b) in dfg.edges.keys() {
        let (ga, gb) = (group_of[&a], group_of[&b]);
        first_from[gb] = first_from[gb].min(ga as i64);
        last_to[ga] = last_to[ga].max(gb as i64);
    }
    for p in 0..groups.len() {
        if !is_skippable(p, dfg, &groups) {
            continue;
        }
        let mut q = p as i64 - 1;
        while q >= 0 && last_to[q as usize] <= p as i64 {
            let taken = std::mem::take(&mut groups[q as usize]);
            groups[p] = union(&groups[p], &taken);
            q -= 1;
        }
        let mut q = p as i64 + 1;
        while q < count && first_from[q as usize] >= p as i64 {
            let taken = std::mem::take(&mut groups[q as usize]);
            groups[p] = union(&groups[p], &taken);
            q += 1;
        }
    }
    groups.retain(|g| !g.is_empty());
    Some(groups)
}

fn is_skippable(p: usize, dfg: &ImDfg, groups: &[Group]) -> bool {
    for (i, before) in groups.iter().enumerate().take(p) {
        let _ = i;
        for after in &groups[p + 1..] {
            if before
                .iter()
                .any(|&a| after.iter().any(|&b| dfg.has_edge(a, b)))
            {
                return true;
            }
        }
    }
    let start_after = groups[p + 1..]
        .iter()
        .flatten()
        .any(|a| dfg.start.contains_key(a));
    let end_before = groups[..p]
        .iter()
        .flatten()
        .any(|a| dfg.end.contains_key(a));
    start_after || end_before
}

/// Splits each trace at the positions that best separate the groups in
/// order: the cost of a split point counts events of the group as -1 and
/// events of later groups as +1.
fn project_sequence(log: &Uvcl, groups: &[Group]) -> Vec<Uvcl> {
    let mut parts = vec![Uvcl::default(); groups.len()];
    for (trace, count) in &log.traces {
        let mut split = 0;
        let mut earlier: Group = Vec::new();
        for (index, group) in groups.iter().enumerate() {
            let next_split = find_split_point(trace, group, split, &earlier);
            let piece = trace[split..next_split]
                .iter()
                .copied()
                .filter(|&a| contains(group, a))
                .collect();
            parts[index].add(piece, *count);
            split = next_split;
            earlier = union(&earlier, group);
        }
    }
    parts
}

fn find_split_point(trace: &[u32], group: &[u32], start: usize, ignore: &[u32]) -> usize {
    let (mut cost, mut least_cost, mut position) = (0i64, 0i64, start);
    for (i, &activity) in trace.iter().enumerate().skip(start) {
        if contains(group, activity) {
            cost -= 1;
        } else if !contains(ignore, activity) {
            cost += 1;
        }
        if cost < least_cost {
            least_cost = cost;
            position = i + 1;
        }
    }
    position
}

/// Groups such that every pair of activities in different groups follows
/// each other in both directions, and every group has a start and an end
/// activity.
fn parallel_cut(dfg: &ImDfg) -> Option<Vec<Group>> {
    let vertices = dfg.vertices();
    if vertices.is_empty() {
        return None;
    }
    // Merge while two groups hold a pair not connected both ways, always
    // merging the first such pair (lowest indices), as PM4Py does.
    let mut groups: Vec<Group> = vertices.iter().map(|&a| vec![a]).collect();
    'restart: loop {
        for i in 0..groups.len() {
            for j in i + 1..groups.len() {
                let apart = groups[i].iter().any(|&a| {
                    groups[j]
                        .iter()
                        .any(|&b| !dfg.has_edge(a, b) || !dfg.has_edge(b, a))
                });
                if apart {
                    let taken = groups.remove(j);
                    groups[i] = union(&groups[i], &taken);
                    continue 'restart;
                }
            }
        }
        break;
    }
    groups.sort_by_key(Vec::len);
    let mut i = 0;
    while i < groups.len() && groups.len() > 1 {
        let has_start = groups[i].iter().any(|a| dfg.start.contains_key(a));
        let has_end = groups[i].iter().any(|a| dfg.end.contains_key(a));
        if has_start && has_end {
            i += 1;
            continue;
        }
        let group = groups.remove(i);
        let target = if i == 0 { 0 } else { i - 1 };
        groups[target] = union(&groups[target], &group);
    }
    (groups.len() > 1).then_some(groups)
}

fn project_parallel(log: &Uvcl, groups: &[Group]) -> Vec<Uvcl> {
    groups
        .iter()
        .map(|group| {
            let mut part = Uvcl::default();
            for (trace, count) in &log.traces {
                part.add(
                    trace
                        .iter()
                        .copied()
                        .filter(|&a| contains(group, a))
                        .collect(),
                    *count,
                );
            }
            part
        })
        .collect()
}

/// Finds the loop cut: the do part contains the start and end activities; the redo part
/// the components that leave from end activities and return to start
/// activities only in complete ways.
fn loop_cut(dfg: &ImDfg) -> Option<Vec<Group>> {
    if dfg.edges.is_empty() {
        return None;
    }
    let start: FxHashSet<u32> = dfg.start.keys().copied().collect();
    let end: FxHashSet<u32> = dfg.end.keys().copied().collect();
    let mut first: Group = start.union(&end).copied().collect();
    first.sort_unstable();
    let mut groups = vec![first];

    let inner: Vec<u32> = dfg
        .vertices()
        .into_iter()
        .filter(|a| !start.contains(a) && !end.contains(a))
        .collect();
    let mut components = UnionFind::new(&inner);
    for &(a, b) in dfg.edges.keys() {
        if contains(&inner, a) && contains(&inner, b) {
            components.union(a, b);
        }
    }
    groups.extend(components.groups());

    // An edge from a start-only activity, or into an end-only activity, puts
    // the other end into the do part.
    let mut edges: Vec<(u32, u32)> = dfg.edges.keys().copied().collect();
    edges.sort_unstable();
    for &(a, b) in &edges {
        if start.contains(&a) && !end.contains(&a) {
            merge_groups_of(&mut groups, a, b);
        }
        if end.contains(&b) && !start.contains(&b) {
            merge_groups_of(&mut groups, a, b);
        }
    }

    let mut i = 1;
    while i < groups.len() {
        let incomplete_entry = groups[i].iter().any(|&a| {
            start.iter().any(|&s| dfg.has_edge(a, s)) && start.iter().any(|&s| !dfg.has_edge(a, s))
        });
        let incomplete_exit = groups[i].iter().any(|&a| {
            end.iter().any(|&e| dfg.has_edge(e, a)) && end.iter().any(|&e| !dfg.has_edge(e, a))
        });
        if incomplete_entry || incomplete_exit {
            let taken = groups.remove(i);
            groups[0] = union(&groups[0], &taken);
            continue;
        }
        i += 1;
    }
    groups.retain(|g| !g.is_empty());
    if groups.len() <= 1 {
        return None;
    }
    let redo = groups[1..].iter().fold(Vec::new(), |acc, g| union(&acc, g));
    Some(vec![groups.swap_remove(0), redo])
}

/// Merges the groups containing `a` and `b` into the first position.
fn merge_groups_of(groups: &mut Vec<Group>, a: u32, b: u32) {
    let ga = groups.iter().position(|g| contains(g, a));
    let gb = groups.iter().position(|g| contains(g, b));
    let (Some(ga), Some(gb)) = (ga, gb) else {
        return;
    };
    let merged = union(&groups[ga], &groups[gb]);
    let (low, high) = (ga.min(gb), ga.max(gb));
    groups.remove(high);
    if low != high {
        groups.remove(low);
    }
    groups.insert(0, merged);
}

/// Cuts each trace into do segments and redo segments; a trace always
/// contributes its last do segment, even an empty one.
fn project_loop(log: &Uvcl, groups: &[Group]) -> Vec<Uvcl> {
    let (body, redo) = (&groups[0], &groups[1]);
    let mut do_log = Uvcl::default();
    let mut redo_log = Uvcl::default();
    for (trace, count) in &log.traces {
        let mut do_piece = Vec::new();
        let mut redo_piece = Vec::new();
        for &activity in trace {
            if contains(body, activity) {
                do_piece.push(activity);
                if !redo_piece.is_empty() {
                    redo_log.add(std::mem::take(&mut redo_piece), *count);
                }
            } else if contains(redo, activity) {
                redo_piece.push(activity);
                if !do_piece.is_empty() {
                    do_log.add(std::mem::take(&mut do_piece), *count);
                }
            } else {
                if !do_piece.is_empty() {
                    do_log.add(std::mem::take(&mut do_piece), *count);
                }
                if !redo_piece.is_empty() {
                    redo_log.add(std::mem::take(&mut redo_piece), *count);
                }
            }
        }
        if !redo_piece.is_empty() {
            redo_log.add(redo_piece, *count);
        }
        do_log.add(do_piece, *count);
    }
    vec![do_log, redo_log]
}

fn fall_through(log: &Uvcl) -> Split {
    if let Some(activity) = activity_once_per_trace(log).or_else(|| activity_concurrent(log)) {
        return split_out_activity(log, activity);
    }
    if let Some(split) = tau_loop(log, true).or_else(|| tau_loop(log, false)) {
        return split;
    }
    flower(log)
}

/// Returns the first activity (by name) occurring exactly once in every
/// trace, if any.
fn activity_once_per_trace(log: &Uvcl) -> Option<u32> {
    let mut candidates: FxHashSet<u32> = log.alphabet().into_iter().collect();
    for (trace, _) in &log.traces {
        let mut counts: FxHashMap<u32, usize> = FxHashMap::default();
        for &a in trace {
            *counts.entry(a).or_default() += 1;
        }
        candidates.retain(|a| counts.get(a) == Some(&1));
        if candidates.is_empty() {
            return None;
        }
    }
    candidates.into_iter().min()
}

/// Returns the first activity (by name) whose removal lets the plain cuts
/// split the log.
fn activity_concurrent(log: &Uvcl) -> Option<u32> {
    log.alphabet().into_iter().find(|&candidate| {
        let mut without = Uvcl::default();
        for (trace, count) in &log.traces {
            without.add(
                trace.iter().copied().filter(|&a| a != candidate).collect(),
                *count,
            );
        }
        find_cut(&without, &without.dfg()).is_some()
    })
}

fn split_out_activity(log: &Uvcl, activity: u32) -> Split {
    let mut only = Uvcl::default();
    let mut rest = Uvcl::default();
    for (trace, count) in &log.traces {
        only.add(
            trace.iter().copied().filter(|&a| a == activity).collect(),
            *count,
        );
        rest.add(
            trace.iter().copied().filter(|&a| a != activity).collect(),
            *count,
        );
    }
    (Operator::Parallel, vec![only, rest])
}

/// Splits traces before each start activity (strict: only where the
/// previous activity is an end activity); applies when that yields more
/// traces than before.
fn tau_loop(log: &Uvcl, strict: bool) -> Option<Split> {
    let start: FxHashSet<u32> = log
        .traces
        .iter()
        .filter_map(|(t, _)| t.first().copied())
        .collect();
    let end: FxHashSet<u32> = log
        .traces
        .iter()
        .filter_map(|(t, _)| t.last().copied())
        .collect();
    let mut projected = Uvcl::default();
    for (trace, count) in &log.traces {
        let mut from = 0;
        for i in 1..trace.len() {
            if start.contains(&trace[i]) && (!strict || end.contains(&trace[i - 1])) {
                projected.add(trace[from..i].to_vec(), *count);
                from = i;
            }
        }
        projected.add(trace[from..].to_vec(), *count);
    }
    (projected.total() > log.total()).then(|| (Operator::Loop, vec![projected, Uvcl::default()]))
}

/// Loop of tau with a choice of every activity.
fn flower(log: &Uvcl) -> Split {
    let mut redo = Uvcl::default();
    for activity in log.alphabet() {
        redo.add(vec![activity], 1);
    }
    (Operator::Loop, vec![Uvcl::default(), redo])
}

/// Union-find over a fixed set of activities.
struct UnionFind {
    members: Vec<u32>,
    parent: Vec<usize>,
}

impl UnionFind {
    fn new(members: &[u32]) -> Self {
        UnionFind {
            members: members.to_vec(),
            parent: (0..members.len()).collect(),
        }
    }

    fn find(&mut self, mut i: usize) -> usize {
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }

    fn union(&mut self, a: u32, b: u32) {
        let (Ok(ia), Ok(ib)) = (
            self.members.binary_search(&a),
            self.members.binary_search(&b),
        ) else {
            return;
        };
        let (ra, rb) = (self.find(ia), self.find(ib));
        self.parent[ra.max(rb)] = ra.min(rb);
    }

    /// Groups, each sorted, ordered by their smallest member.
    fn groups(&mut self) -> Vec<Group> {
        let mut by_root: FxHashMap<usize, Group> = FxHashMap::default();
        for i in 0..self.members.len() {
            let root = self.find(i);
            by_root.entry(root).or_default().push(self.members[i]);
        }
        let mut groups: Vec<Group> = by_root.into_values().collect();
        groups.sort();
        groups
    }
}
