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
//! event of a session evicted before it came is left to the value patterns of
//! [`crate::scrub`].
//!
//! An event sent in chunks (a full snapshot of a page over about a megabyte)
//! is joined first ([`crate::replay_chunks`]). When all its chunks are in one
//! batch, it is masked like a whole event and cut again. When they come in
//! several batches, the chunks are stored as they come. The batch that
//! brings the last one writes the whole event again, masked, and the store
//! deletes the earlier chunks in the same write. The ids are learnt for
//! later events.
//!
//! NOTE: two cases still store a secret of such a snapshot as sent, unless a
//! value pattern matches it. One is an event whose copies left the bounded
//! buffer before its last chunk came. The other is an earlier chunk whose
//! request is written after the request of the last chunk, which needs two
//! requests of one session in flight at once on different writer threads.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Instant;

use exos_core::{LogRow, REPLAY_REWRITTEN};
use serde_json::Value;

use crate::replay_chunks::{split, ChunkBuffer, ChunkPlace, EventKey};

/// Log attribute of a chunk's 1-based number.
const RRWEB_CHUNK: &str = "rr-web.chunk";

/// The changes masking makes to a batch beyond record texts.
#[derive(Default)]
struct Rewrite {
    /// Chunks of rewritten events that this batch did not bring.
    added: Vec<LogRow>,
    /// Batch positions of retried chunks of events already rewritten.
    dropped: Vec<usize>,
    /// Events rewritten, whose earlier rows the store deletes.
    keys: Vec<EventKey>,
}

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
    chunks: Mutex<ChunkBuffer>,
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
    /// Masks secret input values in a batch's replay records, in batch order,
    /// joining chunked events first. Returns how many records changed.
    ///
    /// When this batch brings the last chunks of an event whose first chunks
    /// were stored from earlier batches, and the joined event contains a secret,
    /// every chunk of the event is written again, masked and marked
    /// [`REPLAY_REWRITTEN`]: the chunks of this batch are replaced, the
    /// others appended, and the event's key pushed to `rewritten`, so that the
    /// store deletes the earlier rows. Later copies of its chunks (client
    /// retries) are left out of the batch.
    pub fn mask_records(&self, records: &mut Vec<LogRow>, rewritten: &mut Vec<EventKey>) -> usize {
        let mut chunked: HashMap<EventKey, Vec<(usize, ChunkPlace)>> = HashMap::new();
        for (index, record) in records.iter().enumerate() {
            if let Some(place) = ChunkPlace::of(record) {
                chunked
                    .entry(place.key.clone())
                    .or_default()
                    .push((index, place));
            }
        }
        let mut changed = 0;
        let mut rewrite = Rewrite::default();
        for index in 0..records.len() {
            let Some(place) = ChunkPlace::of(&records[index]) else {
                let record = &mut records[index];
                changed += usize::from(self.mask(&record.keys.rum_session_id, &mut record.body));
                continue;
            };
            // An event is handled at its first chunk in the batch.
            if let Some(chunks) = chunked.remove(&place.key) {
                changed += self.mask_chunked(records, &place.key, &chunks, &mut rewrite);
            }
        }
        if !rewrite.dropped.is_empty() {
            let dropped: HashSet<usize> = rewrite.dropped.into_iter().collect();
            let mut index = 0;
            records.retain(|_| {
                index += 1;
                !dropped.contains(&(index - 1))
            });
        }
        changed += rewrite.added.len();
        records.append(&mut rewrite.added);
        rewritten.append(&mut rewrite.keys);
        changed
    }

    /// Masks one chunked event given the batch positions of its chunks.
    fn mask_chunked(
        &self,
        records: &mut [LogRow],
        key: &EventKey,
        chunks: &[(usize, ChunkPlace)],
        rewrite: &mut Rewrite,
    ) -> usize {
        let total = chunks[0].1.total;
        let mut parts: HashMap<u32, &str> = HashMap::new();
        for (index, place) in chunks {
            if place.total == total {
                parts.entry(place.chunk).or_insert(&records[*index].body);
            }
        }
        if parts.len() < total as usize {
            if self.buffer().was_rewritten(key) {
                // Retries of chunks already stored again, masked.
                rewrite
                    .dropped
                    .extend(chunks.iter().map(|(index, _)| *index));
                return 0;
            }
            return match self.hold_chunks(records, chunks) {
                Some(whole) => self.rewrite_event(records, key, chunks, whole, rewrite),
                None => 0,
            };
        }
        let mut whole: String = (1..=total).map(|n| parts[&n]).collect();
        self.buffer().finish(key.clone());
        if !self.mask(&key.session, &mut whole) {
            return 0;
        }
        let pieces = split(&whole, total as usize);
        for (index, place) in chunks {
            if place.total == total {
                records[*index].body = pieces[place.chunk as usize - 1].clone();
            }
        }
        chunks.len()
    }

    /// Writes every chunk of an event completed over several batches again,
    /// masked, when the joined event `whole` contains a secret.
    fn rewrite_event(
        &self,
        records: &mut [LogRow],
        key: &EventKey,
        chunks: &[(usize, ChunkPlace)],
        mut whole: String,
        rewrite: &mut Rewrite,
    ) -> usize {
        if !self.mask(&key.session, &mut whole) {
            return 0;
        }
        let total = chunks[0].1.total;
        let pieces = split(&whole, total as usize);
        let mut present = HashSet::new();
        let mut changed = 0;
        for (index, place) in chunks.iter().filter(|(_, place)| place.total == total) {
            let record = &mut records[*index];
            record.body = pieces[place.chunk as usize - 1].clone();
            record
                .log_attributes
                .push((REPLAY_REWRITTEN.to_string(), "true".to_string()));
            present.insert(place.chunk);
            changed += 1;
        }
        let template = &records[chunks[0].0];
        for chunk in (1..=total).filter(|chunk| !present.contains(chunk)) {
            let mut record = template.clone();
            record.body = pieces[chunk as usize - 1].clone();
            for (name, value) in &mut record.log_attributes {
                if name == RRWEB_CHUNK {
                    *value = chunk.to_string();
                }
            }
            rewrite.added.push(record);
        }
        self.buffer().rewrote(key.clone());
        rewrite.keys.push(key.clone());
        changed
    }

    /// Keeps copies of the chunks of an event that is not whole in this batch.
    /// Returns the joined event when these chunks complete one held from
    /// earlier batches; its secret ids are learnt by masking it.
    fn hold_chunks(&self, records: &[LogRow], chunks: &[(usize, ChunkPlace)]) -> Option<String> {
        let now = Instant::now();
        let mut buffer = self.buffer();
        let mut whole = None;
        for (index, place) in chunks {
            whole = whole.or(buffer.add(place, &records[*index].body, now));
        }
        whole
    }

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

    fn buffer(&self) -> std::sync::MutexGuard<'_, ChunkBuffer> {
        self.chunks
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
    use exos_core::attributes::lookup;
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

    /// A full snapshot of a page over a megabyte, whose password input (id 90_001)
    /// contains `value`, with multi-byte text so that byte cuts fall inside characters.
    fn large_snapshot(value: &str) -> String {
        let mut children: Vec<Value> = (0..12_000)
            .map(|n| json!({"type": 2, "id": 10 + n, "tagName": "p", "attributes": {}, "childNodes": [
                {"type": 3, "id": 50_000 + n, "textContent": format!("Grüße aus Köln ✓ row {n} of the archive")}]}))
            .collect();
        children.push(json!({"type": 2, "id": 90_001, "tagName": "input",
            "attributes": {"type": "password", "value": value}, "childNodes": []}));
        let snapshot = json!({"type": 2, "timestamp": 1, "data": {"node": {"type": 0, "id": 1, "childNodes": children}}});
        snapshot.to_string()
    }

    /// Cuts `text` into chunks of `size` bytes as the browser SDK does: by byte
    /// count, each chunk decoded leniently on its own.
    fn sdk_chunks(text: &str, size: usize) -> Vec<String> {
        text.as_bytes()
            .chunks(size)
            .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
            .collect()
    }

    fn replay_row(event: u64, chunk: usize, total: usize, body: &str) -> LogRow {
        let mut row = LogRow {
            body: body.to_string(),
            resource_attributes: std::sync::Arc::new(vec![(
                "rum.scriptInstance".into(),
                "load-1".into(),
            )]),
            log_attributes: vec![
                ("rr-web.event".into(), event.to_string()),
                ("rr-web.chunk".into(), chunk.to_string()),
                ("rr-web.total-chunks".into(), total.to_string()),
            ],
            ..LogRow::default()
        };
        row.keys.rum_session_id = "s1".into();
        row
    }

    fn snapshot_rows(event: u64, value: &str) -> Vec<LogRow> {
        let chunks = sdk_chunks(&large_snapshot(value), 400_000);
        assert!(chunks.len() >= 3, "{} chunks", chunks.len());
        chunks
            .iter()
            .enumerate()
            .map(|(index, body)| replay_row(event, index + 1, chunks.len(), body))
            .collect()
    }

    fn typed_into_password(event: u64, text: &str) -> LogRow {
        let input = json!({"type": 3, "timestamp": 9, "data": {"source": 5, "id": 90_001, "text": text, "isChecked": false}});
        replay_row(event, 1, 1, &input.to_string())
    }

    fn joined(rows: &[LogRow]) -> String {
        rows.iter().map(|row| row.body.as_str()).collect()
    }

    #[test]
    fn chunked_snapshot_in_one_batch_is_masked_whole() {
        let inputs = SecretInputs::default();
        let mut rows = snapshot_rows(2, "snapshot-secret");
        let total = rows.len();
        rows.reverse(); // Out of order within the batch.
        rows.push(rows[0].clone()); // A client retry.
        rows.push(typed_into_password(3, "typed-secret"));
        let changed = inputs.mask_records(&mut rows, &mut Vec::new());
        assert_eq!(changed, total + 2);
        let all = joined(&rows);
        assert!(!all.contains("snapshot-secret"));
        assert!(!all.contains("typed-secret"));

        rows.truncate(total);
        rows.sort_by_key(|row| row.log_attributes[1].1.parse::<usize>().unwrap());
        let snapshot: Value =
            serde_json::from_str(&joined(&rows)).expect("the cut chunks join to JSON");
        let children = snapshot["data"]["node"]["childNodes"].as_array().unwrap();
        assert_eq!(children.len(), 12_001);
        assert_eq!(children[12_000]["attributes"]["value"], "*".repeat(15));
        assert!(
            rows.iter().all(|row| row.body.len() < 450_000),
            "chunks stay about their size"
        );
    }

    #[test]
    fn chunked_snapshot_over_batches_is_rewritten_masked() {
        let inputs = SecretInputs::default();
        let rows = snapshot_rows(2, "snapshot-secret");
        let total = rows.len();
        let (last, first) = rows.split_at(1);
        // Every chunk but the first, then a retry of one of them, then the first.
        let mut batch = first.to_vec();
        let mut rewritten = Vec::new();
        assert_eq!(inputs.mask_records(&mut batch, &mut rewritten), 0);
        let mut retry = vec![first[0].clone()];
        assert_eq!(inputs.mask_records(&mut retry, &mut rewritten), 0);
        assert!(rewritten.is_empty());

        let mut batch = vec![last[0].clone(), typed_into_password(3, "typed-secret")];
        let changed = inputs.mask_records(&mut batch, &mut rewritten);
        // The chunk of this batch, the typed input, and the other chunks added again.
        assert_eq!(changed, 2 + (total - 1));
        assert_eq!(batch.len(), 2 + (total - 1));
        assert!(!batch[1].body.contains("typed-secret"), "{}", batch[1].body);
        assert_eq!(rewritten.len(), 1);
        assert_eq!(rewritten[0].session, "s1");
        assert_eq!(rewritten[0].event, "2");
        let mut chunks: Vec<&LogRow> = batch
            .iter()
            .filter(|row| lookup(&row.log_attributes, REPLAY_REWRITTEN) == Some("true"))
            .collect();
        assert_eq!(chunks.len(), total);
        chunks.sort_by_key(|row| {
            lookup(&row.log_attributes, RRWEB_CHUNK)
                .and_then(|n| n.parse::<u32>().ok())
                .unwrap_or(0)
        });
        let whole: String = chunks.iter().map(|row| row.body.as_str()).collect();
        let snapshot: Value =
            serde_json::from_str(&whole).expect("the rewritten chunks join to JSON");
        let children = snapshot["data"]["node"]["childNodes"].as_array().unwrap();
        assert_eq!(children[12_000]["attributes"]["value"], "*".repeat(15));
        assert_eq!(inputs.buffer().pending(), 0);
        assert_eq!(inputs.buffer().bytes(), 0);

        // A late retry of a rewritten event's chunk is not stored again.
        let mut retry = vec![first[1].clone(), typed_into_password(4, "later-secret")];
        inputs.mask_records(&mut retry, &mut rewritten);
        assert_eq!(retry.len(), 1);
        assert!(!retry[0].body.contains("later-secret"));
        assert_eq!(rewritten.len(), 1);
    }

    #[test]
    fn chunks_over_batches_without_secrets_are_not_rewritten() {
        let inputs = SecretInputs::default();
        let rows = snapshot_rows(2, "");
        let plain: Vec<LogRow> = rows
            .iter()
            .map(|row| {
                let mut row = row.clone();
                row.body = row.body.replace("password", "text");
                row
            })
            .collect();
        let mut rewritten = Vec::new();
        let mut batch = plain[1..].to_vec();
        inputs.mask_records(&mut batch, &mut rewritten);
        let mut batch = plain[..1].to_vec();
        assert_eq!(inputs.mask_records(&mut batch, &mut rewritten), 0);
        assert_eq!(batch, plain[..1].to_vec());
        assert!(rewritten.is_empty());
    }

    #[test]
    fn chunks_never_completed_are_stored_as_sent() {
        let inputs = SecretInputs::default();
        let rows = snapshot_rows(2, "snapshot-secret");
        let mut batch = rows[..rows.len() - 1].to_vec();
        let sent = batch.clone();
        assert_eq!(inputs.mask_records(&mut batch, &mut Vec::new()), 0);
        assert_eq!(batch, sent);
        let mut input = vec![typed_into_password(3, "visible-until-known")];
        inputs.mask_records(&mut input, &mut Vec::new());
        assert!(input[0].body.contains("visible-until-known"));
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
