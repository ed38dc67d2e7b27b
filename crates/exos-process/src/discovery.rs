//! Discovery: the inductive miner (infrequent) over the filtered log, drawn
//! as a process tree and as a Petri net, both in Mermaid.

use exos_mining::discovery::{inductive_miner, tree_to_petri_net, ImfOptions, PetriNet};
use exos_mining::log::Symbols;
use exos_mining::EventLog;
use serde::{Deserialize, Serialize};

use crate::error::ProcessError;
use crate::request::LogScope;

/// A discovery request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiscoveryRequest {
    pub scope: LogScope,
    /// Share of behaviour treated as noise, 0..=1 (0.2 by default, as ProM's IMf).
    pub noise_threshold: f64,
}

impl Default for DiscoveryRequest {
    fn default() -> Self {
        DiscoveryRequest {
            scope: LogScope::default(),
            noise_threshold: 0.2,
        }
    }
}

/// The discovery response.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiscoveryAnswer {
    pub cases: u64,
    pub noise_threshold: f64,
    /// The process tree in PM4Py's text notation.
    pub tree: String,
    /// The tree as a Mermaid flowchart.
    pub tree_mermaid: String,
    /// The Petri net as a Mermaid flowchart: places as circles, transitions as boxes.
    pub petri_mermaid: String,
    pub places: usize,
    pub transitions: usize,
}

/// Discovers a model of `log`.
pub fn discover(
    log: &EventLog,
    request: &DiscoveryRequest,
) -> Result<DiscoveryAnswer, ProcessError> {
    let noise = request.noise_threshold;
    if !(0.0..=1.0).contains(&noise) {
        return Err(ProcessError::bad(
            "noise_threshold",
            format!("{noise} is not a share; give a number from 0 to 1"),
        ));
    }
    let tree = inductive_miner(
        log,
        ImfOptions {
            noise_threshold: noise,
        },
    );
    let net = tree_to_petri_net(&tree);
    Ok(DiscoveryAnswer {
        cases: log.case_count() as u64,
        noise_threshold: noise,
        tree: tree.render(&log.activities),
        tree_mermaid: tree.to_mermaid(&log.activities),
        petri_mermaid: petri_mermaid(&net, &log.activities),
        places: net.places.len(),
        transitions: net.transitions.len(),
    })
}

/// Renders a Petri net as a left-to-right Mermaid flowchart. The initial place
/// shows a filled circle (its token) and the final place a double circle.
pub fn petri_mermaid(net: &PetriNet, names: &Symbols) -> String {
    let mut out = String::from("flowchart LR\n");
    for (p, _) in net.places.iter().enumerate() {
        let shape = if net.initial.get(p).is_some_and(|&t| t > 0) {
            format!("  p{p}((\"●\"))\n")
        } else if net.final_marking.get(p).is_some_and(|&t| t > 0) {
            format!("  p{p}(((\" \")))\n")
        } else {
            format!("  p{p}((\" \"))\n")
        };
        out.push_str(&shape);
    }
    for (t, transition) in net.transitions.iter().enumerate() {
        match transition.label {
            Some(label) => {
                let text = names.name(label).replace('"', "#quot;");
                out.push_str(&format!("  t{t}[\"{text}\"]\n"));
            }
            None => out.push_str(&format!("  t{t}[\" \"]:::silent\n")),
        }
        for &p in &transition.inputs {
            out.push_str(&format!("  p{p} --> t{t}\n"));
        }
        for &p in &transition.outputs {
            out.push_str(&format!("  t{t} --> p{p}\n"));
        }
    }
    out.push_str("  classDef silent fill:#333,stroke:#333\n");
    out
}
