//! What replay analysis keeps per browser session: activity figures and frustration signals.
//!
//! The server computes them from the stored rrweb events (see `exos-replay`) and
//! writes them here, replacing the previous analysis of the same session, so SQL
//! and the sessions page can filter on them without reading recordings.

/// One analysed session.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayAnalysis {
    pub session_id: String,
    /// First and last recorded event, milliseconds since the Unix epoch.
    pub start_ms: i64,
    pub end_ms: i64,
    /// Time with user input, idle gaps left out.
    pub active_ms: i64,
    pub clicks: u64,
    /// Reassembled rrweb events.
    pub events: u64,
    /// Holes in the recording (missing chunks or events).
    pub gaps: u64,
    pub signals: Vec<SignalRecord>,
    /// When this analysis was made (ms). A later analysis of the session replaces it.
    pub analysed_ms: i64,
}

/// One frustration signal.
#[derive(Debug, Clone, PartialEq)]
pub struct SignalRecord {
    /// `rage_click`, `dead_click` or `error_click`.
    pub kind: String,
    pub time_ms: i64,
    pub x: f64,
    pub y: f64,
    /// rrweb id of the clicked node.
    pub node: i64,
    pub clicks: u64,
}

impl ReplayAnalysis {
    /// Counts the signals of one kind.
    pub fn count(&self, kind: &str) -> u64 {
        self.signals.iter().filter(|s| s.kind == kind).count() as u64
    }
}

/// DuckDB tables of replay analysis.
pub const DUCKDB_TABLES: &str = "CREATE TABLE IF NOT EXISTS exos_replay_sessions (\n    \
     SessionId VARCHAR PRIMARY KEY,\n    StartTime TIMESTAMP_MS NOT NULL,\n    EndTime TIMESTAMP_MS NOT NULL,\n    \
     ActiveMs BIGINT NOT NULL,\n    Clicks UBIGINT NOT NULL,\n    RageClicks UBIGINT NOT NULL,\n    \
     DeadClicks UBIGINT NOT NULL,\n    ErrorClicks UBIGINT NOT NULL,\n    ReplayEvents UBIGINT NOT NULL,\n    \
     Gaps UBIGINT NOT NULL,\n    AnalysedAt BIGINT NOT NULL\n);\n\
     CREATE TABLE IF NOT EXISTS exos_session_signals (\n    SessionId VARCHAR NOT NULL,\n    \
     Time TIMESTAMP_MS NOT NULL,\n    Kind VARCHAR NOT NULL,\n    X DOUBLE NOT NULL,\n    Y DOUBLE NOT NULL,\n    \
     Node BIGINT NOT NULL,\n    Clicks UBIGINT NOT NULL,\n    AnalysedAt BIGINT NOT NULL\n);\n";

/// ClickHouse tables of replay analysis. The latest analysis of a session wins.
pub const CLICKHOUSE_TABLES: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS exos_replay_sessions (SessionId String, StartTime DateTime64(3), \
     EndTime DateTime64(3), ActiveMs Int64, Clicks UInt64, RageClicks UInt64, DeadClicks UInt64, \
     ErrorClicks UInt64, ReplayEvents UInt64, Gaps UInt64, AnalysedAt Int64) \
     ENGINE = ReplacingMergeTree(AnalysedAt) ORDER BY SessionId",
    "CREATE TABLE IF NOT EXISTS exos_session_signals (SessionId String, Time DateTime64(3), \
     Kind LowCardinality(String), X Float64, Y Float64, Node Int64, Clicks UInt64, AnalysedAt Int64) \
     ENGINE = ReplacingMergeTree(AnalysedAt) ORDER BY (SessionId, Kind, Time)",
];
