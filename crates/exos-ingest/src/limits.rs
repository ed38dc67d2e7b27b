//! Limits on what one record may carry, and the record-level validation rules.
//!
//! Records over a limit are trimmed, not rejected, and the trimming is
//! reported in the response's `partial_success.error_message`. Records that
//! cannot be stored faithfully (bad ids, impossible times) are rejected and
//! counted in `partial_success.rejected_*`.

/// Per-record limits applied while mapping OTLP to rows.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Attributes kept per record; later ones are dropped.
    pub max_attributes: usize,
    /// Bytes kept of one attribute value; longer values are cut at a UTF-8 boundary.
    pub max_attribute_value_bytes: usize,
    /// Nesting rendered for array and key-value-list attribute values.
    pub max_value_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_attributes: 2_048,
            max_attribute_value_bytes: 128 * 1024,
            max_value_depth: 16,
        }
    }
}

/// The latest timestamp the store can represent: `i64::MAX` nanoseconds (year 2262).
pub const MAX_TIMESTAMP_NS: u64 = i64::MAX as u64;
