//! Place/transition nets and the translation of process trees into them.
//!
//! The translation reproduces PM4Py 2.7's `convert_to_petri_net` structure
//! (same places, silent transitions and arcs up to renaming), because
//! token-replay fitness and alignment costs depend on the silent
//! transitions a net has. Choices share their entry and exit places,
//! parallel blocks get a silent split and join, loops a silent entry and a
//! silent back edge, and silent transitions that merely pass a token along
//! are merged away afterwards.

use super::tree::{Operator, ProcessTree};
use crate::log::Sym;

/// Tokens per place, indexed by place.
pub type Marking = Vec<u32>;

/// A transition: visible with an activity label, or silent.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// Name, unique in the net.
    pub name: String,
    /// Activity label; `None` for a silent (tau) transition.
    pub label: Option<Sym>,
    /// Input places (one entry per arc).
    pub inputs: Vec<usize>,
    /// Output places (one entry per arc).
    pub outputs: Vec<usize>,
}

/// A Petri net with its initial and final markings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PetriNet {
    /// Place names.
    pub places: Vec<String>,
    /// Transitions.
    pub transitions: Vec<Transition>,
    /// Initial marking.
    pub initial: Marking,
    /// Final marking.
    pub final_marking: Marking,
}

impl PetriNet {
    /// True when every input place of `transition` contains a token per arc.
    pub fn is_enabled(&self, transition: usize, marking: &[u32]) -> bool {
        let inputs = &self.transitions[transition].inputs;
        inputs
            .iter()
            .all(|&p| marking[p] as usize >= inputs.iter().filter(|&&q| q == p).count())
    }

    /// Fires `transition`, which must be enabled.
    pub fn fire(&self, transition: usize, marking: &mut [u32]) {
        for &p in &self.transitions[transition].inputs {
            marking[p] -= 1;
        }
        for &p in &self.transitions[transition].outputs {
            marking[p] += 1;
        }
    }

    /// Transitions consuming from each place.
    pub fn consumers(&self) -> Vec<Vec<usize>> {
        let mut consumers = vec![Vec::new(); self.places.len()];
        for (t, transition) in self.transitions.iter().enumerate() {
            for &p in &transition.inputs {
                if !consumers[p].contains(&t) {
                    consumers[p].push(t);
                }
            }
        }
        consumers
    }

    /// Transitions producing into each place.
    pub fn producers(&self) -> Vec<Vec<usize>> {
        let mut producers = vec![Vec::new(); self.places.len()];
        for (t, transition) in self.transitions.iter().enumerate() {
            for &p in &transition.outputs {
                if !producers[p].contains(&t) {
                    producers[p].push(t);
                }
            }
        }
        producers
    }
}

/// Translates a process tree into a sound workflow net with one `source`
/// place (initial marking) and one `sink` place (final marking).
pub fn tree_to_petri_net(tree: &ProcessTree) -> PetriNet {
    let mut builder = Builder::default();
    let source = builder.place("source");
    let sink = builder.place("sink");
    let initial = if tau_needed_at_start(tree) {
        let place = builder.new_place();
        let tau = builder.silent("tau");
        builder.arc_in(source, tau);
        builder.arc_out(tau, place);
        place
    } else {
        source
    };
    let last = if tau_needed_at_end(tree) {
        let place = builder.new_place();
        let tau = builder.silent("tau");
        builder.arc_in(place, tau);
        builder.arc_out(tau, sink);
        place
    } else {
        sink
    };
    builder.add_tree(tree, Entity::Place(initial), Some(Entity::Place(last)));
    builder.reduce();
    builder.into_net(source, sink)
}

/// Connection point of a subtree: an existing place, or a transition that
/// a new place is attached to.
#[derive(Debug, Clone, Copy)]
enum Entity {
    Place(usize),
    Transition(usize),
}

#[derive(Default)]
struct Builder {
    places: Vec<(String, bool)>,
    transitions: Vec<(Transition, bool)>,
    place_count: usize,
    silent_count: usize,
}

impl Builder {
    fn place(&mut self, name: &str) -> usize {
        self.place_count += 1;
        self.places.push((name.to_string(), true));
        self.places.len() - 1
    }

    fn new_place(&mut self) -> usize {
        let name = format!("p_{}", self.place_count + 1);
        self.place(&name)
    }

    fn silent(&mut self, kind: &str) -> usize {
        self.silent_count += 1;
        let name = format!("{kind}_{}", self.silent_count);
        self.transitions.push((
            Transition {
                name,
                label: None,
                inputs: Vec::new(),
                outputs: Vec::new(),
            },
            true,
        ));
        self.transitions.len() - 1
    }

    fn visible(&mut self, label: Sym) -> usize {
        let name = format!("t_{}", self.transitions.len());
        self.transitions.push((
            Transition {
                name,
                label: Some(label),
                inputs: Vec::new(),
                outputs: Vec::new(),
            },
            true,
        ));
        self.transitions.len() - 1
    }

    fn arc_in(&mut self, place: usize, transition: usize) {
        self.transitions[transition].0.inputs.push(place);
    }

    fn arc_out(&mut self, transition: usize, place: usize) {
        self.transitions[transition].0.outputs.push(place);
    }

    /// Adds `tree` between `initial` and `last`; returns its final place.
    fn add_tree(&mut self, tree: &ProcessTree, initial: Entity, last: Option<Entity>) -> usize {
        let initial_place = match initial {
            Entity::Place(place) => place,
            Entity::Transition(transition) => {
                let place = self.new_place();
                self.arc_out(transition, place);
                place
            }
        };
        let final_place = match last {
            Some(Entity::Place(place)) => place,
            other => {
                let place = self.new_place();
                if let Some(Entity::Transition(transition)) = other {
                    self.arc_in(place, transition);
                }
                place
            }
        };
        match tree {
            ProcessTree::Leaf(label) => {
                let transition = match label {
                    Some(label) => self.visible(*label),
                    None => self.silent("skip"),
                };
                self.arc_in(initial_place, transition);
                self.arc_out(transition, final_place);
            }
            ProcessTree::Node(Operator::Xor, children) => {
                for child in children {
                    self.add_tree(
                        child,
                        Entity::Place(initial_place),
                        Some(Entity::Place(final_place)),
                    );
                }
            }
            ProcessTree::Node(Operator::Parallel, children) => {
                let split = self.silent("tauSplit");
                self.arc_in(initial_place, split);
                let join = self.silent("tauJoin");
                self.arc_out(join, final_place);
                for child in children {
                    self.add_tree(
                        child,
                        Entity::Transition(split),
                        Some(Entity::Transition(join)),
                    );
                }
            }
            ProcessTree::Node(Operator::Sequence, children) => {
                let mut intermediate = initial_place;
                for (index, child) in children.iter().enumerate() {
                    let connection =
                        (index == children.len() - 1).then_some(Entity::Place(final_place));
                    intermediate = self.add_tree(child, Entity::Place(intermediate), connection);
                }
            }
            ProcessTree::Node(Operator::Loop, children) => {
                self.add_loop(children, initial_place, final_place)
            }
        }
        final_place
    }

    fn add_loop(&mut self, children: &[ProcessTree], initial_place: usize, final_place: usize) {
        let loop_start = self.new_place();
        let enter = self.silent("init_loop");
        self.arc_in(initial_place, enter);
        self.arc_out(enter, loop_start);
        let back = self.silent("loop");
        if children.len() == 1 {
            self.add_tree(
                &children[0],
                Entity::Place(loop_start),
                Some(Entity::Place(final_place)),
            );
            self.arc_in(final_place, back);
            self.arc_out(back, loop_start);
            return;
        }
        let after_do = self.add_tree(&children[0], Entity::Place(loop_start), None);
        let mut after_redo = None;
        for redo in &children[1..] {
            after_redo =
                Some(self.add_tree(redo, Entity::Place(after_do), after_redo.map(Entity::Place)));
        }
        self.add_tree(
            &ProcessTree::tau(),
            Entity::Place(after_do),
            Some(Entity::Place(final_place)),
        );
        if let Some(after_redo) = after_redo {
            self.arc_in(after_redo, back);
        }
        self.arc_out(back, loop_start);
    }

    fn live_transitions(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.transitions.len()).filter(|&t| self.transitions[t].1)
    }

    fn arcs_into(&self, place: usize) -> Vec<usize> {
        self.live_transitions()
            .flat_map(|t| {
                self.transitions[t]
                    .0
                    .outputs
                    .iter()
                    .filter(move |&&p| p == place)
                    .map(move |_| t)
            })
            .collect()
    }

    fn arcs_out_of(&self, place: usize) -> Vec<usize> {
        self.live_transitions()
            .flat_map(|t| {
                self.transitions[t]
                    .0
                    .inputs
                    .iter()
                    .filter(move |&&p| p == place)
                    .map(move |_| t)
            })
            .collect()
    }

    /// Merges silent transitions that only pass a token along, until none is
    /// left: a silent transition whose single input place is fed by one
    /// transition and feeds only it, or whose single output place is fed
    /// only by it and feeds one transition.
    fn reduce(&mut self) {
        while self.merge_single_entry() || self.merge_single_exit() {}
    }

    fn merge_single_entry(&mut self) -> bool {
        let candidates: Vec<usize> = self.live_transitions().collect();
        for t in candidates {
            let transition = &self.transitions[t].0;
            if transition.label.is_some() || transition.inputs.len() != 1 {
                continue;
            }
            let place = transition.inputs[0];
            let producers = self.arcs_into(place);
            let consumers = self.arcs_out_of(place);
            if producers.len() != 1 || producers[0] == t || consumers.iter().any(|&c| c != t) {
                continue;
            }
            let outputs = self.transitions[t].0.outputs.clone();
            self.transitions[t].1 = false;
            self.places[place].1 = false;
            let producer = producers[0];
            self.transitions[producer].0.outputs.retain(|&p| p != place);
            self.transitions[producer].0.outputs.extend(outputs);
            return true;
        }
        false
    }

    fn merge_single_exit(&mut self) -> bool {
        let candidates: Vec<usize> = self.live_transitions().collect();
        for t in candidates {
            let transition = &self.transitions[t].0;
            if transition.label.is_some() || transition.outputs.len() != 1 {
                continue;
            }
            let place = transition.outputs[0];
            let consumers = self.arcs_out_of(place);
            let producers = self.arcs_into(place);
            if consumers.len() != 1 || consumers[0] == t || producers.iter().any(|&p| p != t) {
                continue;
            }
            let inputs = self.transitions[t].0.inputs.clone();
            self.transitions[t].1 = false;
            self.places[place].1 = false;
            let consumer = consumers[0];
            self.transitions[consumer].0.inputs.retain(|&p| p != place);
            self.transitions[consumer].0.inputs.extend(inputs);
            return true;
        }
        false
    }

    /// Drops removed elements and places without arcs on one side (other
    /// than source and sink), renumbering places.
    fn into_net(mut self, source: usize, sink: usize) -> PetriNet {
        for place in 0..self.places.len() {
            if place == source || place == sink || !self.places[place].1 {
                continue;
            }
            if self.arcs_out_of(place).is_empty() || self.arcs_into(place).is_empty() {
                self.places[place].1 = false;
                for (transition, _) in &mut self.transitions {
                    transition.inputs.retain(|&p| p != place);
                    transition.outputs.retain(|&p| p != place);
                }
            }
        }
        let mut new_index = vec![usize::MAX; self.places.len()];
        let mut places = Vec::new();
        for (index, (name, alive)) in self.places.into_iter().enumerate() {
            if alive {
                new_index[index] = places.len();
                places.push(name);
            }
        }
        let transitions: Vec<Transition> = self
            .transitions
            .into_iter()
            .filter(|(_, alive)| *alive)
            .map(|(mut t, _)| {
                t.inputs.iter_mut().for_each(|p| *p = new_index[*p]);
                t.outputs.iter_mut().for_each(|p| *p = new_index[*p]);
                t
            })
            .collect();
        let mut initial = vec![0; places.len()];
        initial[new_index[source]] = 1;
        let mut final_marking = vec![0; places.len()];
        final_marking[new_index[sink]] = 1;
        PetriNet {
            places,
            transitions,
            initial,
            final_marking,
        }
    }
}

fn is_loop(tree: &ProcessTree) -> bool {
    matches!(tree, ProcessTree::Node(Operator::Loop, _))
}

fn children(tree: &ProcessTree) -> &[ProcessTree] {
    match tree {
        ProcessTree::Node(_, children) => children,
        ProcessTree::Leaf(_) => &[],
    }
}

/// True when the first (or last) descendant chain, following operator
/// children, reaches a loop.
fn loop_along(tree: &ProcessTree, first: bool) -> bool {
    let mut node = tree;
    loop {
        if is_loop(node) {
            return true;
        }
        let next = if first {
            children(node).first()
        } else {
            children(node).last()
        };
        match next {
            Some(child) if matches!(child, ProcessTree::Node(..)) => node = child,
            _ => return false,
        }
    }
}

/// Returns whether PM4Py adds a silent transition after the source: when
/// the tree starts with a loop, or is a choice or parallel block, because
/// the source place must not be re-entered or shared.
fn tau_needed_at_start(tree: &ProcessTree) -> bool {
    matches!(
        tree,
        ProcessTree::Node(Operator::Xor | Operator::Parallel, _)
    ) || loop_along(tree, true)
        || terminal_loop_of_first_child(tree)
}

/// Returns whether PM4Py adds the same silent transition before the sink,
/// for a tree ending with a loop.
fn tau_needed_at_end(tree: &ProcessTree) -> bool {
    matches!(
        tree,
        ProcessTree::Node(Operator::Xor | Operator::Parallel, _)
    ) || loop_along(tree, false)
}

/// PM4Py's start check looks at the last-descendant chain of the first
/// child (its `check_initial_loop` calls `check_terminal_loop`).
fn terminal_loop_of_first_child(tree: &ProcessTree) -> bool {
    match children(tree).first() {
        Some(first @ ProcessTree::Node(..)) => is_loop(first) || loop_along_children_last(first),
        _ => false,
    }
}

fn loop_along_children_last(tree: &ProcessTree) -> bool {
    match children(tree).last() {
        Some(last @ ProcessTree::Node(..)) => is_loop(last) || loop_along_children_last(last),
        _ => false,
    }
}
