//! Token-based replay fitness, computed as PM4Py 2.7 computes it.
//!
//! Each variant is replayed once on the net. An event fires a transition
//! with its label, after trying to enable it through silent transitions
//! along the shortest silent paths from marked places to the places missing
//! tokens. A transition that still is not enabled gets the missing tokens
//! added (counted as missing). At the end, silent paths towards the final
//! marking are fired, final-marking tokens are consumed, and tokens left
//! over are counted as remaining.
//!
//! Events whose activity no transition carries are skipped without any
//! effect on the counts, as PM4Py does by default
//! (`consider_activities_not_in_model_in_fitness = False`): such a trace
//! can still be perfectly fitting.
//!
//! Fitness of a trace is `0.5 (1 - m/c) + 0.5 (1 - r/p)`; the log fitness
//! applies the same formula to the sums over all traces.

use std::collections::VecDeque;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::analysis::variants;
use crate::discovery::PetriNet;
use crate::log::{EventLog, Sym};

/// PM4Py stops enabling silent transitions after this recursion depth.
const MAX_HIDDEN_DEPTH: usize = 2;
/// Rounds of firing silent transitions towards the final marking.
const FINAL_ROUNDS: usize = 5;

/// Replay counts of one trace.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TraceReplay {
    /// Tokens added because a transition was not enabled.
    pub missing: u64,
    /// Tokens consumed (final-marking tokens included).
    pub consumed: u64,
    /// Tokens left over at the end.
    pub remaining: u64,
    /// Tokens produced (initial-marking tokens included).
    pub produced: u64,
    /// No token was missing or remaining.
    pub is_fit: bool,
    /// Fitness of the trace, 0..=1.
    pub fitness: f64,
}

/// Log-level replay fitness, PM4Py's `fitness_token_based_replay` figures.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ReplayFitness {
    /// Percentage (0..=100) of traces that fit.
    pub perc_fit_traces: f64,
    /// Mean trace fitness over traces.
    pub average_trace_fitness: f64,
    /// Fitness of the summed token counts.
    pub log_fitness: f64,
}

/// Replays every case of `log` (once per variant) on `net`.
pub fn token_replay(log: &EventLog, net: &PetriNet) -> ReplayFitness {
    let replayer = Replayer::new(net);
    let mut totals = [0u64; 4];
    let (mut fit_traces, mut fitness_sum, mut traces) = (0u64, 0.0, 0u64);
    for variant in variants(log) {
        let result = replayer.replay(&variant.activities);
        let weight = variant.count;
        traces += weight;
        fit_traces += weight * u64::from(result.is_fit);
        fitness_sum += result.fitness * weight as f64;
        for (total, value) in totals.iter_mut().zip([
            result.missing,
            result.consumed,
            result.remaining,
            result.produced,
        ]) {
            *total += value * weight;
        }
    }
    let [missing, consumed, remaining, produced] = totals.map(|v| v as f64);
    if traces == 0 || consumed == 0.0 || produced == 0.0 {
        return ReplayFitness::default();
    }
    ReplayFitness {
        perc_fit_traces: 100.0 * fit_traces as f64 / traces as f64,
        average_trace_fitness: fitness_sum / traces as f64,
        log_fitness: 0.5 * (1.0 - missing / consumed) + 0.5 * (1.0 - remaining / produced),
    }
}

/// A net prepared for replay.
pub struct Replayer<'a> {
    net: &'a PetriNet,
    /// Transitions per label.
    by_label: FxHashMap<Sym, Vec<usize>>,
    /// Shortest silent path (transitions) between two places.
    silent_paths: FxHashMap<(usize, usize), Vec<usize>>,
    /// Place indices in PM4Py's name order, used to order path lookups.
    places_by_name: Vec<usize>,
}

impl<'a> Replayer<'a> {
    /// Prepares `net`: label index and silent shortest paths.
    pub fn new(net: &'a PetriNet) -> Self {
        let mut by_label: FxHashMap<Sym, Vec<usize>> = FxHashMap::default();
        for (t, transition) in net.transitions.iter().enumerate() {
            if let Some(label) = transition.label {
                by_label.entry(label).or_default().push(t);
            }
        }
        let mut places_by_name: Vec<usize> = (0..net.places.len()).collect();
        places_by_name.sort_by(|&a, &b| net.places[a].cmp(&net.places[b]));
        Replayer {
            net,
            by_label,
            silent_paths: silent_shortest_paths(net),
            places_by_name,
        }
    }

    /// Replays one activity sequence.
    pub fn replay(&self, trace: &[Sym]) -> TraceReplay {
        let net = self.net;
        let mut state = ReplayState {
            marking: net.initial.clone(),
            consumed: 0,
            produced: net.initial.iter().map(|&t| t as u64).sum(),
            missing: 0,
        };
        for activity in trace {
            let Some(candidates) = self.by_label.get(activity) else {
                continue;
            };
            let transition = candidates
                .iter()
                .copied()
                .find(|&t| net.is_enabled(t, &state.marking))
                .unwrap_or(candidates[0]);
            if !net.is_enabled(transition, &state.marking) {
                let mut visited = FxHashSet::default();
                self.enable_through_silent(transition, &mut state, &mut visited, 0);
            }
            if !net.is_enabled(transition, &state.marking) {
                state.add_missing_tokens(net, transition);
            }
            state.fire(net, transition);
        }
        self.reach_final_marking(&mut state);
        self.finish(state)
    }

    fn finish(&self, mut state: ReplayState) -> TraceReplay {
        let net = self.net;
        let mut final_missing = 0u64;
        let mut remaining = 0u64;
        for (place, tokens) in state.marking.iter().enumerate() {
            let wanted = net.final_marking[place];
            final_missing += wanted.saturating_sub(*tokens) as u64;
            remaining += tokens.saturating_sub(wanted) as u64;
        }
        let is_fit = state.missing == 0 && remaining == 0;
        state.consumed += net.final_marking.iter().map(|&t| t as u64).sum::<u64>();
        state.missing += final_missing;
        let fitness = if state.consumed > 0 && state.produced > 0 {
            0.5 * (1.0 - state.missing as f64 / state.consumed as f64)
                + 0.5 * (1.0 - remaining as f64 / state.produced as f64)
        } else {
            1.0
        };
        TraceReplay {
            missing: state.missing,
            consumed: state.consumed,
            remaining,
            produced: state.produced,
            is_fit,
            fitness,
        }
    }

    /// Silent paths from each marked place to each of `targets`, shortest
    /// first (stable for ties, in place-name order).
    fn paths_towards(&self, marking: &[u32], targets: &[usize]) -> Vec<&[usize]> {
        let mut targets: Vec<usize> = targets.to_vec();
        targets.sort_by(|&a, &b| self.net.places[a].cmp(&self.net.places[b]));
        let mut paths = Vec::new();
        for &from in self.places_by_name.iter().filter(|&&p| marking[p] > 0) {
            for &to in &targets {
                if let Some(path) = self.silent_paths.get(&(from, to)) {
                    paths.push(path.as_slice());
                }
            }
        }
        paths.sort_by_key(|p| p.len());
        paths
    }

    /// Fires silent transitions to enable `target`, as PM4Py's
    /// `apply_hidden_trans` does. Each path group in turn fires its enabled,
    /// not yet fired transitions until `target` is enabled or a group fires
    /// nothing. Then transitions of the paths that are still not enabled
    /// are enabled recursively, up to depth [`MAX_HIDDEN_DEPTH`].
    fn enable_through_silent(
        &self,
        target: usize,
        state: &mut ReplayState,
        visited: &mut FxHashSet<usize>,
        depth: usize,
    ) {
        let net = self.net;
        if depth >= MAX_HIDDEN_DEPTH || !visited.insert(target) {
            return;
        }
        let missing_places: Vec<usize> = missing_places(net, target, &state.marking);
        let groups: Vec<Vec<usize>> = self
            .paths_towards(&state.marking, &missing_places)
            .into_iter()
            .map(<[usize]>::to_vec)
            .collect();
        if groups.is_empty() {
            return;
        }
        for group in &groups {
            let mut fired = false;
            for &silent in group {
                if silent != target
                    && net.is_enabled(silent, &state.marking)
                    && visited.insert(silent)
                {
                    state.fire(net, silent);
                    fired = true;
                }
                if net.is_enabled(target, &state.marking) {
                    return;
                }
            }
            if !fired {
                break;
            }
        }
        if net.is_enabled(target, &state.marking) {
            return;
        }
        let groups: Vec<Vec<usize>> = self
            .paths_towards(&state.marking, &missing_places)
            .into_iter()
            .map(<[usize]>::to_vec)
            .collect();
        for group in &groups {
            for &silent in group {
                if silent == target || visited.contains(&silent) {
                    continue;
                }
                if !net.is_enabled(silent, &state.marking) {
                    self.enable_through_silent(silent, state, visited, depth + 1);
                }
                if net.is_enabled(silent, &state.marking) {
                    state.fire(net, silent);
                    visited.insert(silent);
                }
            }
        }
    }

    /// Fires silent transitions towards the final marking, as PM4Py does
    /// before counting remaining tokens.
    fn reach_final_marking(&self, state: &mut ReplayState) {
        let net = self.net;
        let final_places: Vec<usize> = (0..net.places.len())
            .filter(|&p| net.final_marking[p] > 0)
            .collect();
        let reached = |marking: &[u32]| final_places.iter().all(|&p| marking[p] > 0);
        for _ in 0..FINAL_ROUNDS {
            if reached(&state.marking) {
                return;
            }
            let groups: Vec<Vec<usize>> = self
                .paths_towards(&state.marking, &final_places)
                .into_iter()
                .map(<[usize]>::to_vec)
                .collect();
            for group in &groups {
                for &silent in group {
                    if net.is_enabled(silent, &state.marking) {
                        state.fire(net, silent);
                    }
                }
                if reached(&state.marking) {
                    return;
                }
            }
        }
        if reached(&state.marking) || final_places.len() != 1 {
            return;
        }
        let sink = final_places[0];
        let mut connections: Vec<Vec<usize>> = (0..net.places.len())
            .filter(|&p| state.marking[p] > 0)
            .filter_map(|p| self.silent_paths.get(&(p, sink)).cloned())
            .collect();
        connections.sort_by_key(Vec::len);
        for _ in 0..FINAL_ROUNDS {
            for path in &connections {
                for &silent in path {
                    if !net.is_enabled(silent, &state.marking) {
                        break;
                    }
                    state.fire(net, silent);
                }
            }
        }
    }
}

struct ReplayState {
    marking: Vec<u32>,
    consumed: u64,
    produced: u64,
    missing: u64,
}

impl ReplayState {
    fn fire(&mut self, net: &PetriNet, transition: usize) {
        let t = &net.transitions[transition];
        self.consumed += t.inputs.len() as u64;
        self.produced += t.outputs.len() as u64;
        net.fire(transition, &mut self.marking);
    }

    fn add_missing_tokens(&mut self, net: &PetriNet, transition: usize) {
        for &place in &net.transitions[transition].inputs {
            let needed = net.transitions[transition]
                .inputs
                .iter()
                .filter(|&&p| p == place)
                .count() as u32;
            if self.marking[place] < needed {
                self.missing += (needed - self.marking[place]) as u64;
                self.marking[place] = needed;
            }
        }
    }
}

fn missing_places(net: &PetriNet, transition: usize, marking: &[u32]) -> Vec<usize> {
    let mut places: Vec<usize> = net.transitions[transition]
        .inputs
        .iter()
        .copied()
        .filter(|&p| marking[p] == 0)
        .collect();
    places.dedup();
    places
}

/// Shortest paths of silent transitions between places, by breadth-first
/// search from every place (a path from a place back to itself included).
///
/// NOTE: PM4Py finds these paths depth-first, so where two shortest paths
/// tie it may pick another one; fitness can then differ on nets with such
/// ties (none of the IMf nets in the tests has one that matters).
fn silent_shortest_paths(net: &PetriNet) -> FxHashMap<(usize, usize), Vec<usize>> {
    let consumers = net.consumers();
    let mut paths = FxHashMap::default();
    for from in 0..net.places.len() {
        let mut queue = VecDeque::from([(from, Vec::<usize>::new())]);
        let mut seen = FxHashSet::default();
        while let Some((place, path)) = queue.pop_front() {
            for &t in &consumers[place] {
                if net.transitions[t].label.is_some() {
                    continue;
                }
                for &next in &net.transitions[t].outputs {
                    if seen.insert(next) {
                        let mut extended = path.clone();
                        extended.push(t);
                        paths.insert((from, next), extended.clone());
                        queue.push_back((next, extended));
                    }
                }
            }
        }
    }
    paths
}
