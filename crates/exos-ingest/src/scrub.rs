//! Server-side scrubbing of secrets and personal data, applied to every batch
//! before it is stored, whatever the client sent.
//!
//! Browser SDKs with network capture send request headers (Authorization
//! included) and bodies unredacted, and rrweb records hidden inputs unmasked.
//! Three kinds of rules apply:
//!
//! - **Attribute keys**: an attribute (span, span event, log, resource) whose
//!   key matches has its whole value replaced. By default: the `authorization`,
//!   `proxy-authorization`, `cookie`, `set-cookie` and `x-api-key` headers as
//!   captured in `http.request.header.*` / `http.response.header.*`.
//! - **Values**: text matching a value pattern is replaced wherever it appears
//!   (attribute values, log bodies, status messages, replay events). By default:
//!   bearer and basic credentials, and `password`/`token`/`secret` fields in
//!   captured JSON or form bodies.
//! - **Replay events**: in whole rrweb events, the values of hidden and password
//!   inputs are masked: in DOM snapshots, added nodes, later attribute changes
//!   and input events ([`crate::replay_mask`]). An event sent in chunks is
//!   joined before masking when all its chunks are in one batch
//!   ([`crate::replay_chunks`]).

use exos_core::{Attributes, Batch, BusinessKeys};
use std::sync::Arc;

use regex::Regex;

use crate::replay_mask::SecretInputs;

/// What scrubbed text is replaced with.
pub const REDACTED: &str = "[scrubbed]";

/// Attribute keys whose values are always scrubbed.
pub const DEFAULT_KEY_PATTERNS: &[&str] = &[
    r"(?i)^http\.(request|response)\.header\.(authorization|proxy[-_]authorization|cookie|set[-_]cookie|x[-_]api[-_]key)$",
];

/// Text scrubbed wherever it appears, each with its replacement (`$1` keeps the field name).
pub const DEFAULT_VALUE_PATTERNS: &[(&str, &str)] = &[
    (
        r"(?i)\b(bearer|basic)\s+[a-z0-9._~+/=-]{8,}",
        "$1 [scrubbed]",
    ),
    (
        r#"(?i)("(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?token)"\s*:\s*)"(?:[^"\\]|\\.)*""#,
        r#"${1}"[scrubbed]""#,
    ),
    (
        r"(?i)\b((?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?token)=)[^&\s]+",
        "${1}[scrubbed]",
    ),
];

/// An invalid scrubbing pattern, naming the pattern and why.
#[derive(Debug, thiserror::Error)]
#[error("invalid scrubbing pattern {pattern:?}: {reason}")]
pub struct PatternError {
    pub pattern: String,
    pub reason: String,
}

/// The scrubbing rules of a server.
#[derive(Debug, Clone)]
pub struct ScrubRules {
    keys: Vec<Regex>,
    /// Patterns and their replacement templates.
    values: Vec<(Regex, String)>,
    mask_replay_inputs: bool,
    /// Secret input ids per replay session, shared by every clone of the rules.
    secret_inputs: Arc<SecretInputs>,
}

fn compile(patterns: &[String]) -> Result<Vec<Regex>, PatternError> {
    patterns
        .iter()
        .map(|pattern| {
            Regex::new(pattern).map_err(|e| PatternError {
                pattern: pattern.clone(),
                reason: e.to_string(),
            })
        })
        .collect()
}

impl Default for ScrubRules {
    fn default() -> Self {
        Self::new(&[], &[]).expect("the default patterns compile")
    }
}

impl ScrubRules {
    /// The default rules plus extra key and value patterns (regular expressions).
    pub fn new(extra_keys: &[String], extra_values: &[String]) -> Result<Self, PatternError> {
        let keys: Vec<String> = DEFAULT_KEY_PATTERNS
            .iter()
            .map(|p| p.to_string())
            .chain(extra_keys.iter().cloned())
            .collect();
        let mut values: Vec<(Regex, String)> = DEFAULT_VALUE_PATTERNS
            .iter()
            .map(|(p, r)| {
                (
                    Regex::new(p).expect("default patterns compile"),
                    r.to_string(),
                )
            })
            .collect();
        values.extend(
            compile(extra_values)?
                .into_iter()
                .map(|pattern| (pattern, REDACTED.to_string())),
        );
        Ok(Self {
            keys: compile(&keys)?,
            values,
            mask_replay_inputs: true,
            secret_inputs: Arc::default(),
        })
    }

    fn key_matches(&self, key: &str) -> bool {
        self.keys.iter().any(|pattern| pattern.is_match(key))
    }

    /// Replaces every value-pattern match in `text`. Returns whether anything changed.
    pub fn scrub_text(&self, text: &mut String) -> bool {
        let mut changed = false;
        for (pattern, replacement) in &self.values {
            if !pattern.is_match(text) {
                continue;
            }
            *text = pattern.replace_all(text, replacement.as_str()).into_owned();
            changed = true;
        }
        changed
    }

    /// Scrubs one attribute list. Returns how many values changed.
    pub fn scrub_attributes(&self, attributes: &mut Attributes) -> usize {
        let mut changed = 0;
        for (key, value) in attributes.iter_mut() {
            if self.key_matches(key) {
                if value != REDACTED {
                    *value = REDACTED.to_string();
                    changed += 1;
                }
            } else if self.scrub_text(value) {
                changed += 1;
            }
        }
        changed
    }

    /// Scrubs every row of a batch in place. Returns how many values changed.
    pub fn scrub_batch(&self, batch: &mut Batch) -> usize {
        let mut changed = 0;
        for span in &mut batch.spans {
            let before = changed;
            changed += self.scrub_attributes(&mut span.span_attributes);
            changed += usize::from(self.scrub_text(&mut span.status_message));
            for event in &mut span.events {
                changed += self.scrub_attributes(&mut event.attributes);
            }
            if resource_needs_scrub(self, &span.resource_attributes) {
                let resource = std::sync::Arc::make_mut(&mut span.resource_attributes);
                changed += self.scrub_attributes(resource);
            }
            // The key columns (OrderId, UserId, …) were taken from the attributes
            // before scrubbing; take them again from the scrubbed ones.
            if changed > before {
                span.keys = BusinessKeys::extract(&span.span_attributes, &span.resource_attributes);
            }
        }
        for log in &mut batch.logs {
            let before = changed;
            changed += self.scrub_attributes(&mut log.log_attributes);
            changed += usize::from(self.scrub_text(&mut log.body));
            if resource_needs_scrub(self, &log.resource_attributes) {
                changed += self.scrub_attributes(Arc::make_mut(&mut log.resource_attributes));
            }
            if changed > before {
                log.keys = BusinessKeys::extract(&log.log_attributes, &log.resource_attributes);
            }
        }
        for record in &mut batch.sessions {
            let before = changed;
            changed += self.scrub_attributes(&mut record.log_attributes);
            if resource_needs_scrub(self, &record.resource_attributes) {
                changed += self.scrub_attributes(Arc::make_mut(&mut record.resource_attributes));
            }
            if changed > before {
                record.keys =
                    BusinessKeys::extract(&record.log_attributes, &record.resource_attributes);
            }
        }
        if self.mask_replay_inputs {
            changed += self
                .secret_inputs
                .mask_records(&mut batch.sessions, &mut batch.rewritten_replay_events);
        }
        for record in &mut batch.sessions {
            changed += usize::from(self.scrub_text(&mut record.body));
        }
        changed
    }
}

fn resource_needs_scrub(rules: &ScrubRules, attributes: &Attributes) -> bool {
    attributes.iter().any(|(key, value)| {
        (rules.key_matches(key) && value != REDACTED)
            || rules.values.iter().any(|(p, _)| p.is_match(value))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(key: &str, value: &str) -> (String, String) {
        (key.to_string(), value.to_string())
    }

    #[test]
    fn captured_secret_headers_are_scrubbed() {
        let rules = ScrubRules::default();
        let mut attributes = vec![
            pair("http.request.header.authorization", "Bearer abc.def.ghi"),
            pair("http.request.header.Cookie", "sid=123"),
            pair("http.response.header.set-cookie", "sid=456; HttpOnly"),
            pair("http.request.header.accept", "application/json"),
            pair("order.id", "ORD-1"),
        ];
        assert_eq!(rules.scrub_attributes(&mut attributes), 3);
        assert_eq!(attributes[0].1, REDACTED);
        assert_eq!(attributes[1].1, REDACTED);
        assert_eq!(attributes[2].1, REDACTED);
        assert_eq!(attributes[3].1, "application/json");
        assert_eq!(attributes[4].1, "ORD-1");
    }

    #[test]
    fn secrets_inside_values_are_scrubbed() {
        let rules = ScrubRules::default();
        let mut body = r#"{"user":"ann","password":"hunter2 \"x\"","note":"ok"}"#.to_string();
        assert!(rules.scrub_text(&mut body));
        assert_eq!(
            body,
            r#"{"user":"ann","password":"[scrubbed]","note":"ok"}"#
        );
        let mut form = "user=ann&password=hunter2&x=1".to_string();
        assert!(rules.scrub_text(&mut form));
        assert_eq!(form, "user=ann&password=[scrubbed]&x=1");
        let mut header = "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload".to_string();
        assert!(rules.scrub_text(&mut header));
        assert!(!header.contains("eyJ"), "{header}");
        let mut plain = "order ORD-7 approved".to_string();
        assert!(!rules.scrub_text(&mut plain));
    }

    #[test]
    fn configured_patterns_add_to_the_defaults() {
        let rules = ScrubRules::new(
            &["^user\\.email$".into()],
            &["\\b\\d{4}-\\d{4}-\\d{4}-\\d{4}\\b".into()],
        )
        .unwrap();
        let mut attributes = vec![
            pair("user.email", "ann@example.com"),
            pair("note", "card 4111-1111-1111-1111 used"),
        ];
        assert_eq!(rules.scrub_attributes(&mut attributes), 2);
        assert_eq!(attributes[0].1, REDACTED);
        assert_eq!(attributes[1].1, "card [scrubbed] used");
        let bad = ScrubRules::new(&["(".into()], &[]).unwrap_err();
        assert!(bad.to_string().contains("\"(\""), "{bad}");
    }

    #[test]
    fn key_columns_come_from_the_scrubbed_attributes() {
        let rules = ScrubRules::new(&[], &["secret-[0-9]+".into()]).unwrap();
        let span_attributes = vec![pair("order.id", "secret-1"), pair("user.id", "ann")];
        let resource = Arc::new(vec![pair("rum.sessionId", "secret-2")]);
        let mut batch = Batch::default();
        batch.spans.push(exos_core::SpanRow {
            keys: BusinessKeys::extract(&span_attributes, &resource),
            span_attributes: span_attributes.clone(),
            resource_attributes: resource.clone(),
            ..Default::default()
        });
        batch.logs.push(exos_core::LogRow {
            keys: BusinessKeys::extract(&span_attributes, &resource),
            log_attributes: span_attributes,
            resource_attributes: resource,
            ..Default::default()
        });
        assert!(rules.scrub_batch(&mut batch) > 0);
        let keys = [&batch.spans[0].keys, &batch.logs[0].keys];
        for keys in keys {
            assert_eq!(keys.order_id, REDACTED);
            assert_eq!(keys.rum_session_id, REDACTED);
            assert_eq!(keys.user_id, "ann", "unscrubbed keys stay");
        }
        assert_eq!(batch.logs[0].resource_attributes[0].1, REDACTED);
    }
}
