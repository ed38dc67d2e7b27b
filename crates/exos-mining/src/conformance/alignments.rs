//! Optimal alignments of each variant with a Petri net (A* over the
//! synchronous product, with the standard cost function).
//!
//! A move is synchronous (event and transition with the same label, cost
//! 0), on the log only (cost 10 000), on the model only with a visible
//! transition (10 000) or with a silent one (1). These are PM4Py 2.7's
//! costs, so the optimal cost of a variant equals the `cost` PM4Py reports,
//! and `cost / 10 000` (integer division) is the number of deviations.
//!
//! The product is never built. A search state is (marking, events
//! consumed). Markings are interned once per net and the transitions each
//! marking enables are cached, so all variants of one worker share one
//! reachability graph. It is explored up front when it has at most
//! [`MAX_PRECOMPUTED_MARKINGS`] markings, and lazily otherwise.
//!
//! The heuristic adds two lower bounds on disjoint sets of moves. Remaining
//! events whose activity no transition reachable (in the net's graph) from
//! the marked places carries can only be log moves. The model part of any
//! completion needs at least as many silent moves as the cheapest run from
//! the marking to the final marking, where silent moves cost 1 and visible
//! ones 0 (known only when the graph was explored up front). So the
//! estimate never exceeds the true remaining cost, and A* stays optimal.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

use rustc_hash::FxHashMap;

use crate::analysis::variants;
use crate::discovery::PetriNet;
use crate::log::{EventLog, Sym};

/// Cost of a log move or a visible model move.
pub const DEVIATION_COST: u64 = 10_000;
/// Cost of a silent model move.
pub const SILENT_COST: u64 = 1;

/// One move of an alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    /// Event and transition together.
    Sync(usize),
    /// An event the model could not follow (activity id).
    Log(Sym),
    /// A transition fired without an event (transition index).
    Model(usize),
}

/// Reachability graphs up to this many markings are explored when the
/// aligner is built, which enables the silent-move bound of the heuristic.
pub const MAX_PRECOMPUTED_MARKINGS: usize = 200_000;

/// Progress callback: (variants aligned, variants in total).
pub type AlignmentProgress<'a> = &'a mut dyn FnMut(usize, usize);

/// Alignment settings.
#[derive(Debug, Clone, Copy)]
pub struct AlignmentOptions {
    /// Stop starting new variants after this long; results so far are kept.
    pub time_budget: Option<Duration>,
    /// Give up on one variant after expanding this many states.
    pub max_states_per_variant: usize,
    /// Worker threads; 0 uses the available parallelism.
    pub threads: usize,
}

impl Default for AlignmentOptions {
    fn default() -> Self {
        AlignmentOptions {
            time_budget: None,
            max_states_per_variant: 5_000_000,
            threads: 0,
        }
    }
}

/// Optimal alignment of one variant.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantAlignment {
    /// Activity ids of the variant.
    pub activities: Vec<Sym>,
    /// Cases following the variant (indices into the log).
    pub cases: Vec<u32>,
    /// Optimal cost; `None` when the state limit was hit first.
    pub cost: Option<u64>,
    /// The moves of the optimal alignment.
    pub moves: Vec<Move>,
    /// `1 - deviations / (events + shortest model run's visible moves)`,
    /// PM4Py's alignment fitness.
    pub fitness: f64,
    /// States expanded.
    pub expanded: usize,
}

/// Alignments of the variants of a log.
#[derive(Debug, Clone, Default)]
pub struct AlignmentReport {
    /// One per aligned variant, most frequent first.
    pub variants: Vec<VariantAlignment>,
    /// Variants not aligned because the time budget ran out.
    pub skipped_variants: usize,
    /// Log moves per activity id, weighted by case count.
    pub log_moves: FxHashMap<Sym, u64>,
    /// Visible model moves per activity id, weighted by case count.
    pub model_moves: FxHashMap<Sym, u64>,
}

impl AlignmentReport {
    /// Cost of each case (indexed by case), `None` when not aligned.
    pub fn case_costs(&self, case_count: usize) -> Vec<Option<u64>> {
        let mut costs = vec![None; case_count];
        for variant in &self.variants {
            for &case in &variant.cases {
                costs[case as usize] = variant.cost;
            }
        }
        costs
    }
}

/// Aligns every variant of `log` with `net` on [`AlignmentOptions::threads`]
/// threads, calling `progress` after each variant. Results are listed most
/// frequent variant first; variants not started within the time budget are
/// counted in [`AlignmentReport::skipped_variants`].
pub fn align_variants(
    log: &EventLog,
    net: &PetriNet,
    options: AlignmentOptions,
    progress: Option<AlignmentProgress>,
) -> AlignmentReport {
    let started = Instant::now();
    let all = variants(log);
    let total = all.len();
    let threads = match options.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
    .min(total.max(1));

    // Workers take variants round-robin, each with its own aligner (the
    // reachability graph is explored once per worker), and send results
    // back so this thread can report progress in completion order.
    let (sender, receiver) = std::sync::mpsc::channel::<(usize, Option<VariantAlignment>)>();
    let mut slots: Vec<Option<VariantAlignment>> = vec![None; total];
    let mut progress = progress;
    std::thread::scope(|scope| {
        for worker in 0..threads {
            let sender = sender.clone();
            let all = &all;
            scope.spawn(move || {
                let mut aligner = Aligner::new(net);
                for index in (worker..all.len()).step_by(threads) {
                    let out_of_time = options
                        .time_budget
                        .is_some_and(|budget| started.elapsed() > budget);
                    let aligned = (!out_of_time).then(|| {
                        aligner.align(&all[index].activities, options.max_states_per_variant)
                    });
                    if sender.send((index, aligned)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(sender);
        let mut done = 0;
        for (index, aligned) in receiver {
            done += 1;
            slots[index] = aligned;
            if let Some(callback) = progress.as_mut() {
                callback(done, total);
            }
        }
    });

    let mut report = AlignmentReport::default();
    for (variant, aligned) in all.into_iter().zip(slots) {
        let Some(aligned) = aligned else {
            report.skipped_variants += 1;
            continue;
        };
        for step in &aligned.moves {
            match *step {
                Move::Log(activity) => {
                    *report.log_moves.entry(activity).or_default() += variant.count
                }
                Move::Model(t) => {
                    if let Some(label) = net.transitions[t].label {
                        *report.model_moves.entry(label).or_default() += variant.count;
                    }
                }
                Move::Sync(_) => {}
            }
        }
        report.variants.push(VariantAlignment {
            cases: variant.cases,
            ..aligned
        });
    }
    report
}

/// A* aligner for one net; reusable across traces.
pub struct Aligner<'a> {
    net: &'a PetriNet,
    markings: FxHashMap<Box<[u8]>, u32>,
    marking_list: Vec<Box<[u8]>>,
    /// (transition, successor marking) per marking, filled on first visit.
    successors: Vec<Option<Vec<(usize, u32)>>>,
    /// Labels reachable from each place in the net graph, as bit sets.
    reachable_labels: Vec<Vec<u64>>,
    /// Per marking: labels reachable from its marked places.
    marking_labels: Vec<Option<Vec<u64>>>,
    final_id: u32,
    shortest_model_run: Option<u64>,
    /// Minimum number of silent moves from each marking to the final marking, when the
    /// whole reachability graph is known.
    silent_to_final: Option<Vec<u64>>,
    /// Reused per search: successors of the marking being expanded.
    successor_buffer: Vec<(usize, u32)>,
}

impl<'a> Aligner<'a> {
    /// Prepares `net`.
    pub fn new(net: &'a PetriNet) -> Self {
        let mut aligner = Aligner {
            net,
            markings: FxHashMap::default(),
            marking_list: Vec::new(),
            successors: Vec::new(),
            reachable_labels: reachable_labels(net),
            marking_labels: Vec::new(),
            final_id: 0,
            shortest_model_run: None,
            silent_to_final: None,
            successor_buffer: Vec::new(),
        };
        aligner.final_id = aligner.intern(to_bytes(&net.final_marking));
        if aligner.explore_all(MAX_PRECOMPUTED_MARKINGS) {
            aligner.silent_to_final = Some(aligner.silent_distances_to_final());
        }
        aligner
    }

    /// Explores the reachability graph from the initial marking; false when
    /// it has more than `limit` markings (exploration stops there).
    fn explore_all(&mut self, limit: usize) -> bool {
        let initial = self.intern(to_bytes(&self.net.initial));
        let mut queue = std::collections::VecDeque::from([initial]);
        let mut seen = vec![false; self.marking_list.len()];
        while let Some(marking) = queue.pop_front() {
            if seen.len() <= marking as usize {
                seen.resize(marking as usize + 1, false);
            }
            if std::mem::replace(&mut seen[marking as usize], true) {
                continue;
            }
            if self.marking_list.len() > limit {
                return false;
            }
            for (_, next) in self.successors_of(marking) {
                if seen.get(next as usize) != Some(&true) {
                    queue.push_back(next);
                }
            }
        }
        true
    }

    /// 0-1 breadth-first search backwards from the final marking over the
    /// explored graph: silent edges cost 1, visible ones 0.
    fn silent_distances_to_final(&self) -> Vec<u64> {
        let count = self.marking_list.len();
        let mut incoming: Vec<Vec<(u32, u64)>> = vec![Vec::new(); count];
        for (from, successors) in self.successors.iter().enumerate() {
            for &(t, to) in successors.iter().flatten() {
                let cost = u64::from(self.net.transitions[t].label.is_none());
                incoming[to as usize].push((from as u32, cost));
            }
        }
        let mut distance = vec![u64::MAX; count];
        let mut queue = std::collections::VecDeque::from([(self.final_id, 0u64)]);
        distance[self.final_id as usize] = 0;
        while let Some((marking, cost)) = queue.pop_front() {
            if cost > distance[marking as usize] {
                continue;
            }
            for &(previous, step) in &incoming[marking as usize] {
                let candidate = cost + step;
                if candidate < distance[previous as usize] {
                    distance[previous as usize] = candidate;
                    if step == 0 {
                        queue.push_front((previous, candidate));
                    } else {
                        queue.push_back((previous, candidate));
                    }
                }
            }
        }
        // Markings that cannot reach the final marking get no bound beyond
        // the others' (they are dead ends the search leaves anyway).
        distance
            .iter()
            .map(|&d| if d == u64::MAX { 0 } else { d })
            .collect()
    }

    fn intern(&mut self, marking: Box<[u8]>) -> u32 {
        if let Some(&id) = self.markings.get(&marking) {
            return id;
        }
        let id = self.marking_list.len() as u32;
        self.markings.insert(marking.clone(), id);
        self.marking_list.push(marking);
        self.successors.push(None);
        self.marking_labels.push(None);
        id
    }

    fn successors_of(&mut self, marking: u32) -> Vec<(usize, u32)> {
        if let Some(known) = &self.successors[marking as usize] {
            return known.clone();
        }
        let current: Vec<u32> = self.marking_list[marking as usize]
            .iter()
            .map(|&b| b as u32)
            .collect();
        let mut found = Vec::new();
        for t in 0..self.net.transitions.len() {
            if self.net.is_enabled(t, &current) {
                let mut next = current.clone();
                self.net.fire(t, &mut next);
                // Markings of sound workflow nets stay small; more than 255
                // tokens in a place means an unbounded net, capped here.
                let next_id = self.intern(to_bytes(&next));
                found.push((t, next_id));
            }
        }
        self.successors[marking as usize] = Some(found.clone());
        found
    }

    fn fill_successor_buffer(&mut self, marking: u32) {
        if self.successors[marking as usize].is_none() {
            self.successors_of(marking);
        }
        self.successor_buffer.clear();
        if let Some(known) = &self.successors[marking as usize] {
            self.successor_buffer.extend_from_slice(known);
        }
    }

    fn labels_of(&mut self, marking: u32) -> &[u64] {
        if self.marking_labels[marking as usize].is_none() {
            let words = self.reachable_labels.first().map_or(0, Vec::len);
            let mut union = vec![0u64; words];
            for (place, &tokens) in self.marking_list[marking as usize].iter().enumerate() {
                if tokens > 0 {
                    union
                        .iter_mut()
                        .zip(&self.reachable_labels[place])
                        .for_each(|(u, r)| *u |= r);
                }
            }
            self.marking_labels[marking as usize] = Some(union);
        }
        self.marking_labels[marking as usize]
            .as_deref()
            .unwrap_or(&[])
    }

    /// Lower bound of the remaining cost from (marking, position);
    /// `suffix_labels[position]` contains the labels of `trace[position..]`.
    fn heuristic(
        &mut self,
        marking: u32,
        trace: &[Sym],
        position: usize,
        suffix_labels: &[Vec<u64>],
    ) -> u64 {
        let silent = self
            .silent_to_final
            .as_ref()
            .and_then(|d| d.get(marking as usize))
            .copied()
            .unwrap_or(0);
        let labels = self.labels_of(marking);
        let suffix = &suffix_labels[position];
        let all_reachable = suffix
            .iter()
            .enumerate()
            .all(|(w, bits)| bits & !labels.get(w).copied().unwrap_or(0) == 0);
        if all_reachable {
            return silent;
        }
        let unreachable = trace[position..]
            .iter()
            .filter(|&&a| {
                labels
                    .get(a as usize / 64)
                    .is_none_or(|w| w & (1 << (a % 64)) == 0)
            })
            .count();
        unreachable as u64 * DEVIATION_COST + silent
    }

    /// Cost of the cheapest run of the model from initial to final marking.
    fn shortest_model_run(&mut self) -> u64 {
        if let Some(cost) = self.shortest_model_run {
            return cost;
        }
        let cost = self.search(&[], usize::MAX).0.unwrap_or(0);
        self.shortest_model_run = Some(cost);
        cost
    }

    /// Aligns one activity sequence.
    pub fn align(&mut self, trace: &[Sym], max_states: usize) -> VariantAlignment {
        let (cost, moves, expanded) = self.search(trace, max_states);
        let model_run = self.shortest_model_run();
        let fitness = match cost {
            Some(cost) => {
                let worst = trace.len() as u64 + model_run / DEVIATION_COST;
                if worst == 0 {
                    1.0
                } else {
                    1.0 - (cost / DEVIATION_COST) as f64 / worst as f64
                }
            }
            None => 0.0,
        };
        VariantAlignment {
            activities: trace.to_vec(),
            cases: Vec::new(),
            cost,
            moves,
            fitness,
            expanded,
        }
    }

    /// A* over (marking, position) of the synchronous product. State
    /// costs live in dense arrays indexed by `marking * (len + 1) +
    /// position` when the reachability graph was explored up front, which
    /// is much cheaper than hashing on this hot path.
    fn search(&mut self, trace: &[Sym], max_states: usize) -> (Option<u64>, Vec<Move>, usize) {
        let initial = self.intern(to_bytes(&self.net.initial));
        let suffix_labels = suffix_label_sets(trace);
        let width = trace.len() + 1;
        let key = |marking: u32, position: usize| marking as usize * width + position;
        let mut states = StateTable::new(
            self.silent_to_final
                .as_ref()
                .map(|_| self.marking_list.len() * width),
        );
        let mut open = BinaryHeap::new();
        let start_h = self.heuristic(initial, trace, 0, &suffix_labels);
        states.improve(key(initial, 0), 0, (usize::MAX, Move::Log(0)));
        // Ties on f prefer states further along the trace.
        open.push((Reverse(start_h), 0usize, Reverse(0u64), initial));
        let mut expanded = 0;
        let mut steps: Vec<(u32, usize, u64, Move)> = Vec::with_capacity(16);
        while let Some((Reverse(_), position, Reverse(cost), marking)) = open.pop() {
            let state = key(marking, position);
            if states.cost(state) < cost {
                continue;
            }
            if marking == self.final_id && position == trace.len() {
                return (Some(cost), states.rebuild(state), expanded);
            }
            expanded += 1;
            if expanded > max_states {
                return (None, Vec::new(), expanded);
            }
            steps.clear();
            if position < trace.len() {
                steps.push((
                    marking,
                    position + 1,
                    DEVIATION_COST,
                    Move::Log(trace[position]),
                ));
            }
            self.fill_successor_buffer(marking);
            for &(t, next) in &self.successor_buffer {
                match self.net.transitions[t].label {
                    None => steps.push((next, position, SILENT_COST, Move::Model(t))),
                    Some(label) => {
                        if position < trace.len() && trace[position] == label {
                            steps.push((next, position + 1, 0, Move::Sync(t)));
                        }
                        steps.push((next, position, DEVIATION_COST, Move::Model(t)));
                    }
                }
            }
            for &(next_marking, next_position, step_cost, step) in &steps {
                let next_cost = cost + step_cost;
                if !states.improve(key(next_marking, next_position), next_cost, (state, step)) {
                    continue;
                }
                let estimate =
                    next_cost + self.heuristic(next_marking, trace, next_position, &suffix_labels);
                open.push((
                    Reverse(estimate),
                    next_position,
                    Reverse(next_cost),
                    next_marking,
                ));
            }
        }
        (None, Vec::new(), expanded)
    }
}

/// Best known cost and predecessor of each search state: dense arrays when
/// the state count is known, hash maps otherwise.
enum StateTable {
    Dense {
        cost: Vec<u64>,
        parent: Vec<(usize, Move)>,
    },
    Sparse {
        cost: FxHashMap<usize, u64>,
        parent: FxHashMap<usize, (usize, Move)>,
    },
}

impl StateTable {
    fn new(dense_size: Option<usize>) -> Self {
        match dense_size {
            Some(size) => StateTable::Dense {
                cost: vec![u64::MAX; size],
                parent: vec![(usize::MAX, Move::Log(0)); size],
            },
            None => StateTable::Sparse {
                cost: FxHashMap::default(),
                parent: FxHashMap::default(),
            },
        }
    }

    fn cost(&self, state: usize) -> u64 {
        match self {
            StateTable::Dense { cost, .. } => cost[state],
            StateTable::Sparse { cost, .. } => cost.get(&state).copied().unwrap_or(u64::MAX),
        }
    }

    /// Records `new_cost` when it beats the known cost; returns whether it did.
    fn improve(&mut self, state: usize, new_cost: u64, via: (usize, Move)) -> bool {
        if self.cost(state) <= new_cost {
            return false;
        }
        match self {
            StateTable::Dense { cost, parent } => {
                cost[state] = new_cost;
                parent[state] = via;
            }
            StateTable::Sparse { cost, parent } => {
                cost.insert(state, new_cost);
                parent.insert(state, via);
            }
        }
        true
    }

    fn parent(&self, state: usize) -> (usize, Move) {
        match self {
            StateTable::Dense { parent, .. } => parent[state],
            StateTable::Sparse { parent, .. } => parent
                .get(&state)
                .copied()
                .unwrap_or((usize::MAX, Move::Log(0))),
        }
    }

    /// Returns the moves from the start state to `state`.
    fn rebuild(&self, mut state: usize) -> Vec<Move> {
        let mut moves = Vec::new();
        loop {
            let (previous, step) = self.parent(state);
            if previous == usize::MAX {
                break;
            }
            moves.push(step);
            state = previous;
        }
        moves.reverse();
        moves
    }
}

/// Label bit sets of every suffix of `trace`.
fn suffix_label_sets(trace: &[Sym]) -> Vec<Vec<u64>> {
    let words = trace.iter().max().map_or(1, |&m| m as usize / 64 + 1);
    let mut sets = vec![vec![0u64; words]; trace.len() + 1];
    for position in (0..trace.len()).rev() {
        let mut set = sets[position + 1].clone();
        set[trace[position] as usize / 64] |= 1 << (trace[position] % 64);
        sets[position] = set;
    }
    sets
}

fn to_bytes(marking: &[u32]) -> Box<[u8]> {
    marking.iter().map(|&t| t.min(255) as u8).collect()
}

/// For each place, the labels of transitions reachable from it in the
/// net's graph (ignoring synchronization), as bit sets over label ids.
fn reachable_labels(net: &PetriNet) -> Vec<Vec<u64>> {
    let max_label = net
        .transitions
        .iter()
        .filter_map(|t| t.label)
        .max()
        .map_or(0, |l| l as usize + 1);
    let words = max_label.div_ceil(64).max(1);
    let consumers = net.consumers();
    (0..net.places.len())
        .map(|from| {
            let mut bits = vec![0u64; words];
            let mut seen_places = vec![false; net.places.len()];
            let mut stack = vec![from];
            seen_places[from] = true;
            while let Some(place) = stack.pop() {
                for &t in &consumers[place] {
                    if let Some(label) = net.transitions[t].label {
                        bits[label as usize / 64] |= 1 << (label % 64);
                    }
                    for &next in &net.transitions[t].outputs {
                        if !seen_places[next] {
                            seen_places[next] = true;
                            stack.push(next);
                        }
                    }
                }
            }
            bits
        })
        .collect()
}
