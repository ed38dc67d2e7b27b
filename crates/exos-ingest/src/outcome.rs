//! The result of mapping one request: rows to store, and the records rejected or trimmed.

use exos_core::Batch;

/// Rows accepted from one request, plus the record-level problems found on the way.
#[derive(Debug, Default)]
pub struct Mapped {
    pub batch: Batch,
    /// Records dropped as invalid (spans, log records or metric data points).
    pub rejected: u64,
    /// Records stored with trimmed attributes.
    pub trimmed: u64,
    /// The first problems found, for the response's `partial_success.error_message`.
    messages: Vec<String>,
}

/// Problems quoted in one response; the counts give the totals.
const MAX_MESSAGES: usize = 5;

impl Mapped {
    /// Counts a rejected record and keeps its reason if there is room.
    pub fn reject(&mut self, reason: String) {
        self.rejected += 1;
        self.note(reason);
    }

    /// Counts a trimmed record and keeps the reason if there is room.
    pub fn trim(&mut self, reason: String) {
        self.trimmed += 1;
        self.note(reason);
    }

    fn note(&mut self, reason: String) {
        if self.messages.len() < MAX_MESSAGES {
            self.messages.push(reason);
        }
    }

    /// Returns the `partial_success.error_message`: empty when nothing went wrong.
    pub fn message(&self) -> String {
        if self.messages.is_empty() {
            return String::new();
        }
        let mut text = format!(
            "{} record(s) rejected, {} trimmed: {}",
            self.rejected,
            self.trimmed,
            self.messages.join("; ")
        );
        let noted = self.messages.len() as u64;
        if self.rejected + self.trimmed > noted {
            text.push_str(&format!(
                " (and {} more)",
                self.rejected + self.trimmed - noted
            ));
        }
        text
    }
}
