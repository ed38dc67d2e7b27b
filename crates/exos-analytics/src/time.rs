//! Time ranges of requests and the bucket width of their charts.
//!
//! Bounds arrive as RFC 3339 text or milliseconds since the epoch and are kept
//! as nanoseconds since the epoch (UTC), the unit of the `Timestamp` columns.
//! Times in responses are text in the store's form, `2026-12-01 10:00:00.123456789`,
//! formatted here from integers so both stores print them the same way.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::AnalyticsError;

const NS_PER_MS: i64 = 1_000_000;
const NS_PER_S: i64 = 1_000_000_000;

/// 2262-01-01T00:00:00Z: request times must come before it. Nanoseconds since the
/// epoch end in April 2262, and the stores cannot compare times that close to the end.
pub const LATEST_NS: i64 = 9_214_646_400_000_000_000;

/// The default range when a request gives no `from`: the last 24 hours.
pub const DEFAULT_SPAN_NS: i64 = 24 * 3600 * NS_PER_S;

/// Charts aim at this many buckets; the width is the smallest nice width that keeps to it.
pub const TARGET_BUCKETS: i64 = 60;

/// Bucket widths in seconds that read well on a time axis.
const NICE_WIDTHS_S: [i64; 22] = [
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400,
    172_800, 604_800, 2_592_000, 31_536_000,
];

/// A half-open time range `[from, to)` in nanoseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    pub from_ns: i64,
    pub to_ns: i64,
}

/// The range as responses show it, with the chart bucket width.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RangeInfo {
    pub from: String,
    pub to: String,
    pub bucket_s: i64,
}

impl TimeRange {
    /// Creates a range; `from_ns` must be before `to_ns`.
    pub fn new(from_ns: i64, to_ns: i64) -> Result<Self, AnalyticsError> {
        if from_ns >= to_ns {
            return Err(AnalyticsError::bad(
                "from",
                format!(
                    "the range start {} is not before its end {}; swap `from` and `to`",
                    format_ns(from_ns),
                    format_ns(to_ns)
                ),
            ));
        }
        Ok(Self { from_ns, to_ns })
    }

    /// Parses `from` and `to` parameters; a missing `to` is now, a missing `from` 24 hours before `to`.
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        now_ns: i64,
    ) -> Result<Self, AnalyticsError> {
        let to_ns = match to {
            Some(text) => parse_time("to", text)?,
            None => now_ns,
        };
        let from_ns = match from {
            Some(text) => parse_time("from", text)?,
            None => to_ns - DEFAULT_SPAN_NS,
        };
        Self::new(from_ns, to_ns)
    }

    /// Returns the range's length in nanoseconds.
    pub fn span_ns(&self) -> i64 {
        self.to_ns - self.from_ns
    }

    /// Returns the chart bucket width in seconds: the smallest nice width giving at most 60 buckets.
    pub fn bucket_s(&self) -> i64 {
        let seconds = (self.span_ns() + NS_PER_S - 1) / NS_PER_S;
        let min_width = ((seconds + TARGET_BUCKETS - 1) / TARGET_BUCKETS).max(1);
        NICE_WIDTHS_S
            .iter()
            .copied()
            .find(|width| *width >= min_width)
            .unwrap_or_else(|| (min_width + 86_399) / 86_400 * 86_400)
    }

    /// Returns the bucket width in nanoseconds.
    pub fn bucket_ns(&self) -> i64 {
        self.bucket_s() * NS_PER_S
    }

    /// Returns the start of every bucket that overlaps the range, oldest first.
    pub fn bucket_starts(&self) -> Vec<i64> {
        let width = self.bucket_ns();
        let mut start = self.from_ns.div_euclid(width) * width;
        let mut starts = Vec::new();
        while start < self.to_ns {
            starts.push(start);
            // Past the largest time there is no next bucket.
            let Some(next) = start.checked_add(width) else {
                break;
            };
            start = next;
        }
        starts
    }

    /// Returns the range as responses show it.
    pub fn info(&self) -> RangeInfo {
        RangeInfo {
            from: format_ns(self.from_ns),
            to: format_ns(self.to_ns),
            bucket_s: self.bucket_s(),
        }
    }
}

/// Parses one bound: RFC 3339 text, or an integer number of milliseconds since the epoch.
pub fn parse_time(name: &str, text: &str) -> Result<i64, AnalyticsError> {
    let ns = parse_ns(name, text)?;
    if ns >= LATEST_NS {
        return Err(AnalyticsError::bad(
            name,
            format!("{} is too late; use a time before 2262", text.trim()),
        ));
    }
    Ok(ns)
}

fn parse_ns(name: &str, text: &str) -> Result<i64, AnalyticsError> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse::<i64>()
            .ok()
            .and_then(|ms| ms.checked_mul(NS_PER_MS))
            .ok_or_else(|| {
                AnalyticsError::bad(
                    name,
                    format!("{text} ms is out of range; use a time after 1970 and before 2262"),
                )
            });
    }
    let parsed = DateTime::parse_from_rfc3339(text).map_err(|error| {
        AnalyticsError::bad(
            name,
            format!(
                "{text:?} is not a time ({error}); use RFC 3339 such as 2026-12-01T00:00:00Z, or milliseconds since the epoch"
            ),
        )
    })?;
    parsed.timestamp_nanos_opt().ok_or_else(|| {
        AnalyticsError::bad(
            name,
            format!("{text:?} is out of range; use a time between 1970 and 2262"),
        )
    })
}

/// Formats nanoseconds since the epoch as the store prints times: UTC, a space, no trailing zeros.
pub fn format_ns(epoch_ns: i64) -> String {
    let time: DateTime<Utc> = DateTime::from_timestamp_nanos(epoch_ns);
    let mut text = time.format("%Y-%m-%d %H:%M:%S").to_string();
    let nanos = epoch_ns.rem_euclid(NS_PER_S);
    if nanos != 0 {
        let fraction = format!("{nanos:09}");
        text.push('.');
        text.push_str(fraction.trim_end_matches('0'));
    }
    text
}

/// Returns the current time in nanoseconds since the epoch.
pub fn now_ns() -> i64 {
    Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX)
}

/// Converts nanoseconds to milliseconds, rounded to the microsecond.
pub fn ns_to_ms(ns: f64) -> f64 {
    round_ms(ns / NS_PER_MS as f64)
}

/// Rounds a millisecond figure to microseconds, so float noise of either engine never shows.
pub fn round_ms(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = DEFAULT_SPAN_NS;

    #[test]
    fn parses_rfc3339_and_milliseconds() {
        let rfc = parse_time("from", "2026-12-01T00:00:00Z").unwrap();
        let ms = parse_time("from", "1796083200000").unwrap();
        assert_eq!(rfc, 1_796_083_200 * NS_PER_S);
        assert_eq!(ms, rfc);
        let offset = parse_time("from", "2026-12-01T01:00:00.5+01:00").unwrap();
        assert_eq!(offset, rfc + 500 * NS_PER_MS);
    }

    #[test]
    fn bad_time_names_value_and_fix() {
        let error = parse_time("to", "yesterday").unwrap_err().to_string();
        assert!(error.contains("`to`"), "{error}");
        assert!(error.contains("\"yesterday\""), "{error}");
        assert!(error.contains("RFC 3339"), "{error}");
    }

    #[test]
    fn times_from_2262_are_refused() {
        for text in [
            "9223372036854",
            "2262-04-11T23:47:16.854775807Z",
            "2262-01-01T00:00:00Z",
        ] {
            let error = parse_time("to", text).unwrap_err().to_string();
            assert!(error.contains("before 2262"), "{text}: {error}");
        }
        assert!(parse_time("to", "2261-12-31T23:59:59Z").is_ok());
        // The last buckets before the largest time end the list instead of wrapping.
        let range = TimeRange::new(i64::MAX - 10 * DAY, i64::MAX).unwrap();
        let buckets = range.bucket_starts().len() as i64;
        assert!(
            buckets > 0 && buckets <= TARGET_BUCKETS + 1,
            "{buckets} buckets"
        );
    }

    #[test]
    fn default_range_is_last_day() {
        let range = TimeRange::parse(None, None, 10 * DAY).unwrap();
        assert_eq!(
            range,
            TimeRange {
                from_ns: 9 * DAY,
                to_ns: 10 * DAY
            }
        );
    }

    #[test]
    fn reversed_range_is_rejected() {
        let error = TimeRange::parse(Some("2000"), Some("1000"), 0).unwrap_err();
        assert!(error.to_string().contains("swap"), "{error}");
    }

    #[test]
    fn bucket_widths_are_nice() {
        let cases = [
            (60 * NS_PER_S, 1),
            (3600 * NS_PER_S, 60),
            (6 * 3600 * NS_PER_S, 600),
            (DAY, 1800),
            (7 * DAY, 10_800),
            (30 * DAY, 43_200),
        ];
        for (span, width) in cases {
            let range = TimeRange::new(0, span).unwrap();
            assert_eq!(range.bucket_s(), width, "span {span}");
            assert!(range.bucket_starts().len() as i64 <= TARGET_BUCKETS + 1);
        }
    }

    #[test]
    fn buckets_cover_unaligned_ranges() {
        let range = TimeRange::new(90 * NS_PER_S, 3690 * NS_PER_S).unwrap();
        let starts = range.bucket_starts();
        assert_eq!(starts.first(), Some(&(60 * NS_PER_S)));
        assert_eq!(starts.last(), Some(&(3660 * NS_PER_S)));
        assert_eq!(starts.len(), 61);
    }

    #[test]
    fn formats_like_the_store() {
        assert_eq!(format_ns(1_796_083_200 * NS_PER_S), "2026-12-01 00:00:00");
        assert_eq!(
            format_ns(1_796_083_200 * NS_PER_S + 123_450_000),
            "2026-12-01 00:00:00.12345"
        );
    }
}
