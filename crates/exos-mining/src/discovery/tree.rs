//! Process trees: sequence, exclusive choice, parallel and loop operators
//! over activity leaves and silent (tau) leaves.
//!
//! [`ProcessTree::fold`] and [`ProcessTree::sort`] normalize a tree the way
//! PM4Py 2.7 does after discovery (flatten nested operators of one kind,
//! drop redundant silent leaves, order choice and parallel children by the
//! sum of their labels' MD5 values), so that [`ProcessTree::render`] prints
//! the same text as PM4Py's `str(tree)`.

use md5::{Digest, Md5};

use crate::log::{Sym, Symbols};

/// Process tree operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    /// Children in order (`->`).
    Sequence,
    /// Exactly one child (`X`).
    Xor,
    /// All children, interleaved (`+`).
    Parallel,
    /// First child (do), then any number of (redo, do) rounds (`*`).
    Loop,
}

impl Operator {
    /// PM4Py's symbol for the operator.
    pub fn symbol(self) -> &'static str {
        match self {
            Operator::Sequence => "->",
            Operator::Xor => "X",
            Operator::Parallel => "+",
            Operator::Loop => "*",
        }
    }
}

/// A process tree over activity ids.
#[derive(Debug, Clone, PartialEq)]
pub enum ProcessTree {
    /// An activity leaf, or a silent leaf (`None`, printed `tau`).
    Leaf(Option<Sym>),
    /// An operator with its children.
    Node(Operator, Vec<ProcessTree>),
}

impl ProcessTree {
    /// Returns a silent leaf.
    pub fn tau() -> ProcessTree {
        ProcessTree::Leaf(None)
    }

    fn is_tau(&self) -> bool {
        matches!(self, ProcessTree::Leaf(None))
    }

    /// Prints the tree as PM4Py's `str(tree)` does, e.g. `->( 'a', X( 'b', tau ) )`.
    pub fn render(&self, names: &Symbols) -> String {
        let mut out = String::new();
        self.render_into(names, &mut out);
        out
    }

    fn render_into(&self, names: &Symbols, out: &mut String) {
        match self {
            ProcessTree::Leaf(None) => out.push_str("tau"),
            ProcessTree::Leaf(Some(label)) => out.push_str(names.name(*label)),
            ProcessTree::Node(operator, children) => {
                out.push_str(operator.symbol());
                out.push_str("( ");
                for (index, child) in children.iter().enumerate() {
                    if index > 0 {
                        out.push_str(", ");
                    }
                    let quoted = matches!(child, ProcessTree::Leaf(Some(_)));
                    if quoted {
                        out.push('\'');
                    }
                    child.render_into(names, out);
                    if quoted {
                        out.push('\'');
                    }
                }
                out.push_str(" )");
            }
        }
    }

    /// Number of nodes.
    pub fn size(&self) -> usize {
        match self {
            ProcessTree::Leaf(_) => 1,
            ProcessTree::Node(_, children) => {
                1 + children.iter().map(ProcessTree::size).sum::<usize>()
            }
        }
    }

    /// Activity labels of the leaves, in depth-first order.
    pub fn labels(&self) -> Vec<Sym> {
        let mut labels = Vec::new();
        self.collect_labels(&mut labels);
        labels
    }

    fn collect_labels(&self, labels: &mut Vec<Sym>) {
        match self {
            ProcessTree::Leaf(Some(label)) => labels.push(*label),
            ProcessTree::Leaf(None) => {}
            ProcessTree::Node(_, children) => {
                children.iter().for_each(|c| c.collect_labels(labels))
            }
        }
    }

    /// Simplifies the tree until nothing changes: silent leaves that cannot
    /// matter are dropped (all of them under a sequence or parallel operator
    /// with another child, all but one under a choice, and a loop of two
    /// silent leaves becomes one), operators with one child are replaced by
    /// it, and a child with its parent's operator (sequence, choice,
    /// parallel) is merged into the parent.
    pub fn fold(self) -> ProcessTree {
        let mut tree = self;
        loop {
            let before = tree.clone();
            tree = fold_node(tree).unwrap_or_else(ProcessTree::tau);
            if tree == before {
                return tree;
            }
        }
    }

    /// Orders the children of choice and parallel operators by the sum of
    /// the MD5 values of the labels below them (stable for ties), as PM4Py's
    /// `tree_sort`. Returns that sum.
    pub fn sort(&mut self, names: &Symbols) -> LabelHash {
        match self {
            ProcessTree::Leaf(None) => LabelHash::default(),
            ProcessTree::Leaf(Some(label)) => LabelHash::of(names.name(*label)),
            ProcessTree::Node(operator, children) => {
                let mut hashes: Vec<(LabelHash, ProcessTree)> =
                    children.drain(..).map(|mut c| (c.sort(names), c)).collect();
                let total = hashes
                    .iter()
                    .fold(LabelHash::default(), |sum, (h, _)| sum.add(*h));
                if matches!(operator, Operator::Xor | Operator::Parallel) {
                    hashes.sort_by_key(|(hash, _)| *hash);
                }
                children.extend(hashes.into_iter().map(|(_, c)| c));
                total
            }
        }
    }

    /// Mermaid flowchart text of the tree: one node per operator and leaf.
    pub fn to_mermaid(&self, names: &Symbols) -> String {
        let mut out = String::from("flowchart TD\n");
        let mut next_id = 0usize;
        self.mermaid_node(names, &mut out, &mut next_id);
        out
    }

    fn mermaid_node(&self, names: &Symbols, out: &mut String, next_id: &mut usize) -> usize {
        let id = *next_id;
        *next_id += 1;
        match self {
            ProcessTree::Leaf(None) => out.push_str(&format!("  n{id}((tau))\n")),
            ProcessTree::Leaf(Some(label)) => {
                let text = names.name(*label).replace('"', "#quot;");
                out.push_str(&format!("  n{id}[\"{text}\"]\n"));
            }
            ProcessTree::Node(operator, children) => {
                let title = match operator {
                    Operator::Sequence => "sequence",
                    Operator::Xor => "choice",
                    Operator::Parallel => "parallel",
                    Operator::Loop => "loop",
                };
                out.push_str(&format!(
                    "  n{id}{{\"{} {title}\"}}\n",
                    operator.symbol().replace('>', "#gt;")
                ));
                for child in children {
                    let child_id = child.mermaid_node(names, out, next_id);
                    out.push_str(&format!("  n{id} --> n{child_id}\n"));
                }
            }
        }
        id
    }
}

/// Sum of 128-bit MD5 values, kept exact as PM4Py's Python integers are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct LabelHash {
    high: u64,
    low: u128,
}

impl LabelHash {
    fn of(label: &str) -> LabelHash {
        let digest = Md5::digest(label.as_bytes());
        LabelHash {
            high: 0,
            low: u128::from_be_bytes(digest.into()),
        }
    }

    fn add(self, other: LabelHash) -> LabelHash {
        let (low, carry) = self.low.overflowing_add(other.low);
        LabelHash {
            high: self.high + other.high + u64::from(carry),
            low,
        }
    }
}

/// Folds one node once; `None` means the node disappears.
fn fold_node(tree: ProcessTree) -> Option<ProcessTree> {
    let ProcessTree::Node(operator, children) = tree else {
        return Some(tree);
    };
    let mut children: Vec<ProcessTree> = drop_redundant_taus(operator, children)
        .into_iter()
        .filter_map(fold_node)
        .collect();
    match children.len() {
        0 => return None,
        1 => return children.pop(),
        _ => {}
    }
    if matches!(operator, Operator::Sequence | Operator::Parallel) {
        children.retain(|c| !c.is_tau());
        if children.is_empty() {
            return Some(ProcessTree::tau());
        }
    }
    if operator != Operator::Loop {
        children = children
            .into_iter()
            .flat_map(|child| match child {
                ProcessTree::Node(inner, grandchildren) if inner == operator => grandchildren,
                other => vec![other],
            })
            .collect();
    }
    Some(ProcessTree::Node(operator, children))
}

fn drop_redundant_taus(operator: Operator, mut children: Vec<ProcessTree>) -> Vec<ProcessTree> {
    let silent = children.iter().filter(|c| c.is_tau()).count();
    if silent == 0 {
        return children;
    }
    let all_silent = silent == children.len();
    match operator {
        Operator::Sequence | Operator::Parallel if !all_silent => children.retain(|c| !c.is_tau()),
        Operator::Loop if all_silent && children.len() == 2 => children.truncate(1),
        Operator::Loop => {}
        _ => {
            // Keep the last silent leaf: a choice still needs one to skip.
            let mut to_remove = silent - 1;
            children.retain(|c| {
                if to_remove > 0 && c.is_tau() {
                    to_remove -= 1;
                    return false;
                }
                true
            });
        }
    }
    children
}
