//! The service map's edges on DuckDB (`exos_edge_rollup`). An edge is a call from
//! a client or producer span of one service to the server or consumer span it
//! caused in another. Calls are counted per 5-minute slot of the server span,
//! caller, callee and latency bin of the server span.
//!
//! The two spans of a call usually reach the store in different writes, because
//! each service exports its own spans. [`Pairing`] keeps in memory the client spans
//! that arrived in the last [`PAIRING_WINDOW`] and the server spans of that time
//! still waiting for their client span. The call is counted when its second span
//! arrives. A store opening again seeds the pairing from its latest spans, so a
//! restart loses no call whose spans are stored.
//!
//! A call is not counted when its two spans arrive more than the window apart, or
//! when the pairing is full ([`MAX_PENDING`]) and drops its oldest spans. The
//! service map scans spans instead of reading this table where it has a filter,
//! and on ClickHouse.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

use exos_core::SpanRow;

use crate::rollup::{duration_bin, duration_bin_sql, is_error, Counts, IS_ERROR_SQL, SPAN_SLOT_NS};
use crate::Dialect;

/// The edge rollup's table.
pub const TABLE: &str = "exos_edge_rollup";

/// How long a span waits in memory for the other span of its call.
pub const PAIRING_WINDOW: Duration = Duration::from_secs(300);

/// Spans waiting in memory at most (an estimated 100 bytes each); the oldest go first.
pub const MAX_PENDING: usize = 1_000_000;

/// The DuckDB table. `Merged` marks the rows a merge wrote.
pub const DUCKDB_TABLE: &str = "\
CREATE TABLE IF NOT EXISTS exos_edge_rollup (Slot BIGINT NOT NULL, Source VARCHAR NOT NULL, \
Target VARCHAR NOT NULL, Bin BIGINT NOT NULL, Calls UBIGINT NOT NULL, Errors UBIGINT NOT NULL, \
MinDuration UBIGINT NOT NULL, MaxDuration UBIGINT NOT NULL, Merged BOOLEAN NOT NULL);
";

/// The key columns of the table, then its counted columns.
pub const KEYS: [&str; 4] = ["Slot", "Source", "Target", "Bin"];
/// The counted columns, summed by readers and merges.
pub const COUNTED: [&str; 2] = ["Calls", "Errors"];

/// Span kinds that call another service.
pub const CALLER_KINDS_SQL: &str =
    "SpanKind IN ('Client', 'Producer', 'SPAN_KIND_CLIENT', 'SPAN_KIND_PRODUCER')";
/// Span kinds that serve a call.
pub const CALLEE_KINDS_SQL: &str =
    "SpanKind IN ('Server', 'Consumer', 'SPAN_KIND_SERVER', 'SPAN_KIND_CONSUMER')";

fn is_caller(kind: &str) -> bool {
    matches!(
        kind,
        "Client" | "Producer" | "SPAN_KIND_CLIENT" | "SPAN_KIND_PRODUCER"
    )
}

fn is_callee(kind: &str) -> bool {
    matches!(
        kind,
        "Server" | "Consumer" | "SPAN_KIND_SERVER" | "SPAN_KIND_CONSUMER"
    )
}

/// The key of an edge row: slot of the server span, caller, callee, latency bin.
pub type EdgeKey = (i64, Arc<str>, Arc<str>, i64);

/// A server or consumer span waiting for the span that called it.
#[derive(Debug, Clone)]
pub struct Callee {
    pub service: Arc<str>,
    pub timestamp_ns: i64,
    pub duration_ns: u64,
    pub failed: bool,
    arrived: Instant,
}

impl Callee {
    /// Creates a waiting callee that arrived at `arrived`.
    pub fn new(
        service: Arc<str>,
        timestamp_ns: i64,
        duration_ns: u64,
        failed: bool,
        arrived: Instant,
    ) -> Self {
        Self {
            service,
            timestamp_ns,
            duration_ns,
            failed,
            arrived,
        }
    }
}

/// Returns a 128-bit key for a (trace id, span id) pair: two independent 64-bit hashes.
fn id_key(trace_id: &str, span_id: &str) -> u128 {
    let half = |seed: u8| {
        let mut hasher = DefaultHasher::new();
        seed.hash(&mut hasher);
        trace_id.hash(&mut hasher);
        span_id.hash(&mut hasher);
        hasher.finish()
    };
    (u128::from(half(1)) << 64) | u128::from(half(2))
}

#[derive(Debug, Clone, Copy)]
enum Side {
    Caller,
    Callee,
}

/// The spans of recent calls whose other span has not arrived yet.
#[derive(Debug)]
pub struct Pairing {
    /// Caller spans by (trace id, span id), with the service and arrival time.
    callers: HashMap<u128, (Arc<str>, Instant)>,
    /// Callee spans by (trace id, parent span id).
    waiting: HashMap<u128, Vec<Callee>>,
    waiting_count: usize,
    /// Every insertion in arrival order, for expiry.
    arrivals: VecDeque<(Instant, u128, Side)>,
    window: Duration,
    max_pending: usize,
}

impl Default for Pairing {
    fn default() -> Self {
        Self::new(PAIRING_WINDOW, MAX_PENDING)
    }
}

impl Pairing {
    /// Creates an empty pairing that keeps spans for `window`, `max_pending` at most.
    pub fn new(window: Duration, max_pending: usize) -> Self {
        Self {
            callers: HashMap::new(),
            waiting: HashMap::new(),
            waiting_count: 0,
            arrivals: VecDeque::new(),
            window,
            max_pending,
        }
    }

    /// Returns the number of spans kept.
    pub fn pending(&self) -> usize {
        self.callers.len() + self.waiting_count
    }

    /// Adds the spans of one committed write; returns the edge rows of the calls they complete.
    pub fn add(&mut self, spans: &[SpanRow], now: Instant) -> Vec<(EdgeKey, Counts)> {
        self.expire(now);
        let mut edges = Edges::default();
        // Callers first, so that both spans of a call in one write meet.
        for span in spans.iter().filter(|s| is_caller(s.span_kind)) {
            self.add_caller(
                &span.trace_id,
                &span.span_id,
                &span.service_name,
                now,
                &mut edges,
            );
        }
        for span in spans
            .iter()
            .filter(|s| is_callee(s.span_kind) && !s.parent_span_id.is_empty())
        {
            let callee = Callee::new(
                span.service_name.clone(),
                span.timestamp_ns,
                span.duration_ns,
                is_error(span.status_code),
                now,
            );
            self.add_callee(&span.trace_id, &span.parent_span_id, callee, &mut edges);
        }
        self.trim();
        edges.rows.into_iter().collect()
    }

    /// Adds a caller span seen before this process started, without counting anything.
    pub fn seed_caller(&mut self, trace_id: &str, span_id: &str, service: &Arc<str>, now: Instant) {
        self.add_caller(trace_id, span_id, service, now, &mut Edges::default());
        self.trim();
    }

    /// Adds a callee span seen before this process started whose caller is not stored.
    pub fn seed_callee(&mut self, trace_id: &str, parent_span_id: &str, callee: Callee) {
        self.add_callee(trace_id, parent_span_id, callee, &mut Edges::default());
        self.trim();
    }

    fn add_caller(
        &mut self,
        trace_id: &str,
        span_id: &str,
        service: &Arc<str>,
        now: Instant,
        edges: &mut Edges,
    ) {
        let key = id_key(trace_id, span_id);
        self.callers.insert(key, (service.clone(), now));
        self.arrivals.push_back((now, key, Side::Caller));
        if let Some(callees) = self.waiting.remove(&key) {
            self.waiting_count -= callees.len();
            for callee in &callees {
                edges.count(service, callee);
            }
        }
    }

    fn add_callee(
        &mut self,
        trace_id: &str,
        parent_span_id: &str,
        callee: Callee,
        edges: &mut Edges,
    ) {
        let key = id_key(trace_id, parent_span_id);
        if let Some((service, _)) = self.callers.get(&key) {
            edges.count(service, &callee);
            return;
        }
        self.arrivals.push_back((callee.arrived, key, Side::Callee));
        self.waiting.entry(key).or_default().push(callee);
        self.waiting_count += 1;
    }

    /// Forgets the spans that arrived more than the window before `now`.
    fn expire(&mut self, now: Instant) {
        while let Some(&(arrived, key, side)) = self.arrivals.front() {
            if now.saturating_duration_since(arrived) <= self.window {
                break;
            }
            self.arrivals.pop_front();
            self.forget(key, side, arrived);
        }
    }

    /// Drops the oldest spans while more than `max_pending` are kept.
    fn trim(&mut self) {
        while self.pending() > self.max_pending {
            let Some((arrived, key, side)) = self.arrivals.pop_front() else {
                break;
            };
            self.forget(key, side, arrived);
        }
    }

    /// Removes the entry of `key` on `side` that arrived at `arrived` or before.
    fn forget(&mut self, key: u128, side: Side, arrived: Instant) {
        match side {
            Side::Caller => {
                if self.callers.get(&key).is_some_and(|(_, at)| *at <= arrived) {
                    self.callers.remove(&key);
                }
            }
            Side::Callee => {
                if let Some(callees) = self.waiting.get_mut(&key) {
                    let before = callees.len();
                    callees.retain(|callee| callee.arrived > arrived);
                    self.waiting_count -= before - callees.len();
                    if callees.is_empty() {
                        self.waiting.remove(&key);
                    }
                }
            }
        }
    }
}

/// Edge rows being counted.
#[derive(Default)]
struct Edges {
    rows: HashMap<EdgeKey, Counts>,
}

impl Edges {
    /// Counts one call from `caller` to `callee`, unless both are the same service.
    fn count(&mut self, caller: &Arc<str>, callee: &Callee) {
        if **caller == *callee.service {
            return;
        }
        let key = (
            callee.timestamp_ns.div_euclid(SPAN_SLOT_NS) * SPAN_SLOT_NS,
            caller.clone(),
            callee.service.clone(),
            duration_bin(callee.duration_ns),
        );
        self.rows
            .entry(key)
            .or_insert_with(|| Counts::starting(callee.duration_ns))
            .count(callee.duration_ns, callee.failed);
    }
}

/// Renders the join of callee spans that meet `callee_condition` with their caller
/// spans that meet `caller_condition`, both in `otel_traces`, in `dialect`. Its rows
/// are those of `exos_edge_rollup` without `Merged`. A caller span stored twice (an
/// exporter's retry) counts once, as in the pairing.
pub fn edges_select(dialect: Dialect, callee_condition: &str, caller_condition: &str) -> String {
    let (slot, calls, errors) = match dialect {
        Dialect::DuckDb => (
            format!("(epoch_ns(callee.Timestamp) // {SPAN_SLOT_NS}) * {SPAN_SLOT_NS}"),
            "CAST(count(*) AS UBIGINT)",
            "CAST(count(*) FILTER (WHERE callee.failed) AS UBIGINT)",
        ),
        Dialect::ClickHouse => (
            format!(
                "intDiv(toUnixTimestamp64Nano(callee.Timestamp), {SPAN_SLOT_NS}) * {SPAN_SLOT_NS}"
            ),
            "count()",
            "countIf(callee.failed)",
        ),
    };
    format!(
        "SELECT {slot} AS Slot, caller.ServiceName AS Source, callee.ServiceName AS Target, \
         {bin} AS Bin, {calls} AS Calls, {errors} AS Errors, \
         min(callee.Duration) AS MinDuration, max(callee.Duration) AS MaxDuration \
         FROM (SELECT Timestamp, TraceId, ParentSpanId, ServiceName, Duration, {IS_ERROR_SQL} AS failed \
               FROM otel_traces WHERE {callee_condition} AND ParentSpanId != '' AND {CALLEE_KINDS_SQL}) AS callee \
         INNER JOIN (SELECT DISTINCT TraceId, SpanId, ServiceName FROM otel_traces \
               WHERE {caller_condition} AND {CALLER_KINDS_SQL}) AS caller \
         ON callee.TraceId = caller.TraceId AND callee.ParentSpanId = caller.SpanId \
         WHERE callee.ServiceName != caller.ServiceName \
         GROUP BY Slot, Source, Target, Bin",
        bin = duration_bin_sql(dialect, "callee.Duration"),
    )
}

/// DuckDB statements that empty the edge rollup and count every stored call into it.
pub fn duckdb_rebuild() -> Vec<String> {
    vec![
        format!("DELETE FROM {TABLE}"),
        format!(
            "INSERT INTO {TABLE} SELECT *, true FROM ({})",
            edges_select(Dialect::DuckDb, "true", "true")
        ),
    ]
}

/// Renders the DuckDB query of the spans a store seeds its pairing with when it
/// opens. These are the caller spans (`side` 0) and the callee spans without a
/// stored caller (`side` 1) that may still meet the other span of their call.
/// Columns: side, trace id, span id (the parent's for a callee), service, start in
/// epoch ns, duration, failed.
///
/// The store does not keep when a span arrived. A span is exported when it ends,
/// so the query takes the spans that ended in the last [`PAIRING_WINDOW`] before
/// the newest end, or before `now_ns` when a span is dated in the future. The
/// newest end is that of the spans that started in the hour before the newest
/// start. Spans that started more than an hour before the window are not looked at.
pub fn duckdb_seed(now_ns: i64) -> String {
    let window_ns = PAIRING_WINDOW.as_nanos() as i64;
    let end = "epoch_ns(Timestamp) + CAST(Duration AS BIGINT)";
    // Only the spans of the newest start's last hour are read for the newest end, so
    // opening a large store does not scan every span (15 ms against 100 ms at 10M).
    let newest = format!(
        "least((SELECT max({end}) FROM otel_traces WHERE Timestamp >= \
         (SELECT max(Timestamp) FROM otel_traces) - INTERVAL 1 HOUR), {now_ns})"
    );
    let since = format!("{newest} - {window_ns}");
    let recent =
        format!("Timestamp >= make_timestamp_ns({since} - {HOUR_NS}) AND {end} >= {since}");
    format!(
        "SELECT 0 AS side, TraceId, SpanId, ServiceName, epoch_ns(Timestamp), Duration, false \
         FROM otel_traces WHERE {recent} AND {CALLER_KINDS_SQL} \
         UNION ALL \
         SELECT 1, callee.TraceId, callee.ParentSpanId, callee.ServiceName, epoch_ns(callee.Timestamp), \
         callee.Duration, {IS_ERROR_SQL} \
         FROM otel_traces AS callee WHERE {recent} AND {CALLEE_KINDS_SQL} AND ParentSpanId != '' \
         AND NOT EXISTS (SELECT 1 FROM otel_traces AS caller WHERE caller.TraceId = callee.TraceId \
         AND caller.SpanId = callee.ParentSpanId \
         AND caller.Timestamp >= make_timestamp_ns({since} - 2 * {HOUR_NS}) \
         AND caller.{CALLER_KINDS_SQL})"
    )
}

/// One hour in nanoseconds: how long before its callee a caller span may start and
/// still be joined to it, outside the pairing.
pub const HOUR_NS: i64 = 3_600_000_000_000;

#[cfg(test)]
mod tests {
    use super::*;

    fn span(trace: &str, id: &str, parent: &str, service: &str, kind: &'static str) -> SpanRow {
        SpanRow {
            timestamp_ns: 7,
            trace_id: trace.into(),
            span_id: id.into(),
            parent_span_id: parent.into(),
            service_name: service.into(),
            span_kind: kind,
            duration_ns: 1_000,
            status_code: "Ok",
            ..SpanRow::default()
        }
    }

    fn calls(rows: &[(EdgeKey, Counts)]) -> u64 {
        rows.iter().map(|(_, counts)| counts.spans).sum()
    }

    #[test]
    fn pairing_matches_either_order() {
        let now = Instant::now();
        let mut pairing = Pairing::default();
        let callee_first = pairing.add(&[span("t1", "s2", "s1", "b", "Server")], now);
        assert!(callee_first.is_empty());
        let completed = pairing.add(&[span("t1", "s1", "", "a", "Client")], now);
        assert_eq!(calls(&completed), 1);
        assert_eq!((&*completed[0].0 .1, &*completed[0].0 .2), ("a", "b"));

        let caller_first = pairing.add(&[span("t2", "s1", "", "a", "Producer")], now);
        assert!(caller_first.is_empty());
        let completed = pairing.add(&[span("t2", "s9", "s1", "c", "Consumer")], now);
        assert_eq!(calls(&completed), 1);

        let same_write = pairing.add(
            &[
                span("t3", "s2", "s1", "b", "Server"),
                span("t3", "s1", "", "a", "Client"),
            ],
            now,
        );
        assert_eq!(calls(&same_write), 1);
    }

    #[test]
    fn pairing_skips_same_service_calls() {
        let now = Instant::now();
        let mut pairing = Pairing::default();
        let rows = pairing.add(
            &[
                span("t1", "s1", "", "a", "Client"),
                span("t1", "s2", "s1", "a", "Server"),
            ],
            now,
        );
        assert!(rows.is_empty());
    }

    #[test]
    fn pairing_expires_after_window() {
        let start = Instant::now();
        let mut pairing = Pairing::new(Duration::from_secs(10), 100);
        pairing.add(&[span("t1", "s2", "s1", "b", "Server")], start);
        pairing.add(&[span("t2", "s1", "", "a", "Client")], start);
        assert_eq!(pairing.pending(), 2);
        let later = start + Duration::from_secs(11);
        let rows = pairing.add(&[span("t1", "s1", "", "a", "Client")], later);
        assert!(rows.is_empty(), "the callee expired");
        assert_eq!(pairing.pending(), 1, "only the new caller is kept");
    }

    #[test]
    fn pairing_drops_oldest_when_full() {
        let now = Instant::now();
        let mut pairing = Pairing::new(PAIRING_WINDOW, 2);
        for id in ["s1", "s2", "s3"] {
            pairing.add(&[span("t1", id, "", "a", "Client")], now);
        }
        assert_eq!(pairing.pending(), 2);
        let dropped = pairing.add(&[span("t1", "c1", "s1", "b", "Server")], now);
        assert!(dropped.is_empty(), "s1 was dropped");
        let kept = pairing.add(&[span("t1", "c3", "s3", "b", "Server")], now);
        assert_eq!(calls(&kept), 1);
    }
}
