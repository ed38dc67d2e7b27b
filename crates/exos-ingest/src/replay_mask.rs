//! Masking of hidden and password input values in rrweb replay events.
//!
//! rrweb records a page as one full snapshot followed by incremental events,
//! and refers to DOM nodes by numeric id. A secret input shows its value in
//! three places: in the snapshot (or the mutation that added the node), in a
//! later attribute mutation of its `value` (a script setting a hidden input
//! writes the attribute), and in input events (source 5) naming the node id.
//! Only the first says the node is hidden or a password; the others carry the
//! id alone. So the masker remembers, per replay session, the ids of secret
//! inputs it has seen, and masks later values of those ids.
//!
//! The memory is bounded: only sessions with at least one secret input are
//! kept, at most [`MAX_SESSIONS`], the least recently seen evicted first. An
//! event that arrives in several chunks is not JSON on its own and is left to
//! the value patterns of [`crate::scrub`]. So is an event of a session evicted
//! before it came.
//!
//! NOTE: a full snapshot sent in chunks (pages over about a megabyte) registers
//! no secret ids, so later value changes of that page's secret inputs are not
//! masked; reassembling chunks before masking would close this gap.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use serde_json::Value;

/// Sessions whose secret node ids are remembered at once.
pub const MAX_SESSIONS: usize = 20_000;

/// Input types whose values a replay must never show.
const SECRET_INPUT_TYPES: &[&str] = &["hidden", "password"];

/// rrweb event type of a full DOM snapshot.
const FULL_SNAPSHOT: u64 = 2;
/// rrweb event type of an incremental change.
const INCREMENTAL: u64 = 3;
/// Incremental source of DOM mutations (added nodes, attribute changes).
const SOURCE_MUTATION: u64 = 0;
/// Incremental source of input value changes.
const SOURCE_INPUT: u64 = 5;

/// Remembers secret input node ids per replay session and masks their values.
#[derive(Debug, Default)]
pub struct SecretInputs {
    index: Mutex<SessionIndex>,
}

#[derive(Debug, Default)]
struct SessionIndex {
    sessions: HashMap<String, Remembered>,
    clock: u64,
}

#[derive(Debug, Default)]
struct Remembered {
    ids: HashSet<u64>,
    seen_at: u64,
}

impl SecretInputs {
    /// Masks secret input values in one whole rrweb event of `session`.
    /// Returns whether the event changed.
    pub fn mask(&self, session: &str, body: &mut String) -> bool {
        let names_secret_type = body.contains("hidden") || body.contains("password");
        let may_reference =
            (body.contains("\"value\"") || body.contains("\"source\":5")) && self.tracks(session);
        if !names_secret_type && !may_reference {
            return false;
        }
        let Ok(mut event) = serde_json::from_str::<Value>(body) else {
            return false;
        };
        let changed = self.mask_event(session, &mut event);
        if changed {
            *body = event.to_string();
        }
        changed
    }

    /// Returns the number of sessions remembered.
    pub fn sessions(&self) -> usize {
        self.lock().sessions.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SessionIndex> {
        self.index
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn tracks(&self, session: &str) -> bool {
        self.lock().sessions.contains_key(session)
    }

    fn mask_event(&self, session: &str, event: &mut Value) -> bool {
        let kind = event.get("type").and_then(Value::as_u64);
        let Some(data) = event.get_mut("data") else {
            return false;
        };
        match kind {
            Some(FULL_SNAPSHOT) => {
                let mut found = HashSet::new();
                let changed = data
                    .get_mut("node")
                    .is_some_and(|node| mask_node(node, &mut found));
                // A full snapshot starts a new page: ids of the old one are gone.
                self.lock().replace(session, found);
                changed
            }
            Some(INCREMENTAL) => match data.get("source").and_then(Value::as_u64) {
                Some(SOURCE_MUTATION) => self.mask_mutation(session, data),
                Some(SOURCE_INPUT) => self.mask_input(session, data),
                _ => false,
            },
            _ => false,
        }
    }

    fn mask_mutation(&self, session: &str, data: &mut Value) -> bool {
        let mut found = HashSet::new();
        let mut changed = false;
        if let Some(adds) = data.get_mut("adds").and_then(Value::as_array_mut) {
            for add in adds {
                if let Some(node) = add.get_mut("node") {
                    changed |= mask_node(node, &mut found);
                }
            }
        }
        let mut index = self.lock();
        index.extend(session, found);
        let Some(changes) = data.get_mut("attributes").and_then(Value::as_array_mut) else {
            return changed;
        };
        for change in changes {
            let Some(id) = change.get("id").and_then(Value::as_u64) else {
                continue;
            };
            let Some(attributes) = change.get_mut("attributes").and_then(Value::as_object_mut)
            else {
                continue;
            };
            // A node can also become secret later, by a change of its type.
            if attributes
                .get("type")
                .and_then(Value::as_str)
                .is_some_and(is_secret_type)
            {
                index.extend(session, HashSet::from([id]));
            }
            if index.contains(session, id) {
                if let Some(value) = attributes.get_mut("value") {
                    changed |= mask(value);
                }
            }
        }
        changed
    }

    fn mask_input(&self, session: &str, data: &mut Value) -> bool {
        let Some(id) = data.get("id").and_then(Value::as_u64) else {
            return false;
        };
        if !self.lock().contains(session, id) {
            return false;
        }
        data.get_mut("text").is_some_and(mask)
    }
}

impl SessionIndex {
    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    fn replace(&mut self, session: &str, ids: HashSet<u64>) {
        if ids.is_empty() {
            self.sessions.remove(session);
            return;
        }
        let seen_at = self.tick();
        self.sessions
            .insert(session.to_string(), Remembered { ids, seen_at });
        self.evict();
    }

    fn extend(&mut self, session: &str, ids: HashSet<u64>) {
        if ids.is_empty() {
            return;
        }
        let seen_at = self.tick();
        let entry = self.sessions.entry(session.to_string()).or_default();
        entry.ids.extend(ids);
        entry.seen_at = seen_at;
        self.evict();
    }

    fn contains(&mut self, session: &str, id: u64) -> bool {
        let seen_at = self.tick();
        match self.sessions.get_mut(session) {
            Some(entry) if entry.ids.contains(&id) => {
                entry.seen_at = seen_at;
                true
            }
            _ => false,
        }
    }

    /// Drops the least recently seen half when over the limit, so eviction
    /// runs once per many insertions rather than on each.
    fn evict(&mut self) {
        if self.sessions.len() <= MAX_SESSIONS {
            return;
        }
        let mut ages: Vec<u64> = self.sessions.values().map(|e| e.seen_at).collect();
        let middle = ages.len() / 2;
        let (_, cutoff, _) = ages.select_nth_unstable(middle);
        let cutoff = *cutoff;
        self.sessions.retain(|_, entry| entry.seen_at > cutoff);
    }
}

fn is_secret_type(kind: &str) -> bool {
    SECRET_INPUT_TYPES.contains(&kind.to_ascii_lowercase().as_str())
}

fn mask(value: &mut Value) -> bool {
    match value {
        Value::String(text) if !text.is_empty() && text.chars().any(|c| c != '*') => {
            *text = "*".repeat(text.chars().count().min(32));
            true
        }
        _ => false,
    }
}

/// Masks hidden and password input values in a serialized DOM node and its
/// children, and collects the ids of those inputs.
fn mask_node(node: &mut Value, found: &mut HashSet<u64>) -> bool {
    let mut changed = false;
    let id = node.get("id").and_then(Value::as_u64);
    if let Some(attributes) = node.get_mut("attributes").and_then(Value::as_object_mut) {
        let secret = attributes
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(is_secret_type);
        if secret {
            found.extend(id);
            if let Some(value) = attributes.get_mut("value") {
                changed |= mask(value);
            }
        }
    }
    if let Some(children) = node.get_mut("childNodes").and_then(Value::as_array_mut) {
        for child in children {
            changed |= mask_node(child, found);
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn masked(inputs: &SecretInputs, session: &str, event: Value) -> String {
        let mut body = event.to_string();
        inputs.mask(session, &mut body);
        body
    }

    fn snapshot_with_hidden_input() -> Value {
        json!({
            "type": 2, "timestamp": 1,
            "data": {"node": {"type": 0, "id": 1, "childNodes": [
                {"type": 2, "id": 2, "tagName": "input", "attributes": {"type": "hidden", "value": "csrf-secret"}, "childNodes": []},
                {"type": 2, "id": 3, "tagName": "input", "attributes": {"type": "text", "value": "visible"}, "childNodes": []},
                {"type": 2, "id": 4, "tagName": "input", "attributes": {"type": "PASSWORD", "value": "pw"}, "childNodes": []}
            ]}}
        })
    }

    #[test]
    fn snapshot_secrets_masked() {
        let inputs = SecretInputs::default();
        let body = masked(&inputs, "s1", snapshot_with_hidden_input());
        assert!(
            !body.contains("csrf-secret") && !body.contains("\"pw\""),
            "{body}"
        );
        assert!(body.contains("visible"));
        let mutation = masked(
            &inputs,
            "s1",
            json!({
                "type": 3, "timestamp": 2,
                "data": {"source": 0, "adds": [{"parentId": 1, "node": {"type": 2, "id": 9, "tagName": "input",
                    "attributes": {"type": "hidden", "value": "token-123"}, "childNodes": []}}]}
            }),
        );
        assert!(!mutation.contains("token-123"), "{mutation}");
    }

    #[test]
    fn script_set_secret_values_masked() {
        let inputs = SecretInputs::default();
        masked(&inputs, "s1", snapshot_with_hidden_input());
        let attribute = masked(
            &inputs,
            "s1",
            json!({"type": 3, "timestamp": 3, "data": {"source": 0, "texts": [], "removes": [], "adds": [],
                "attributes": [{"id": 2, "attributes": {"value": "set-by-script"}},
                               {"id": 3, "attributes": {"value": "plain"}}]}}),
        );
        assert!(!attribute.contains("set-by-script"), "{attribute}");
        assert!(attribute.contains("plain"), "{attribute}");
        let input = masked(
            &inputs,
            "s1",
            json!({"type": 3, "timestamp": 4, "data": {"source": 5, "id": 4, "text": "typed-pw", "isChecked": false}}),
        );
        assert!(!input.contains("typed-pw"), "{input}");
        let visible = masked(
            &inputs,
            "s1",
            json!({"type": 3, "timestamp": 5, "data": {"source": 5, "id": 3, "text": "hello", "isChecked": false}}),
        );
        assert!(visible.contains("hello"), "{visible}");
    }

    #[test]
    fn secret_ids_are_per_session() {
        let inputs = SecretInputs::default();
        masked(&inputs, "s1", snapshot_with_hidden_input());
        let other = masked(
            &inputs,
            "s2",
            json!({"type": 3, "timestamp": 3, "data": {"source": 5, "id": 2, "text": "not-secret-here"}}),
        );
        assert!(other.contains("not-secret-here"), "{other}");
    }

    #[test]
    fn input_turned_secret_is_masked() {
        let inputs = SecretInputs::default();
        let change = masked(
            &inputs,
            "s1",
            json!({"type": 3, "timestamp": 3, "data": {"source": 0,
                "attributes": [{"id": 7, "attributes": {"type": "password", "value": "now-secret"}}]}}),
        );
        assert!(!change.contains("now-secret"), "{change}");
    }

    #[test]
    fn chunk_left_to_value_rules() {
        let inputs = SecretInputs::default();
        let mut chunk =
            "{\"type\":2,\"data\":{\"node\":{\"attributes\":{\"type\":\"hidden\",\"val".to_string();
        assert!(!inputs.mask("s1", &mut chunk));
    }

    #[test]
    fn eviction_bounds_remembered_sessions() {
        let inputs = SecretInputs::default();
        for n in 0..(MAX_SESSIONS + 10) {
            masked(&inputs, &format!("s{n}"), snapshot_with_hidden_input());
        }
        assert!(inputs.sessions() <= MAX_SESSIONS, "{}", inputs.sessions());
        let last = format!("s{}", MAX_SESSIONS + 9);
        let input = masked(
            &inputs,
            &last,
            json!({"type": 3, "data": {"source": 5, "id": 2, "text": "recent-secret"}}),
        );
        assert!(
            !input.contains("recent-secret"),
            "the newest session is kept"
        );
    }
}
