//! The run report: what was sent and what the server acknowledged, per stream.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::batch::Stream;
use crate::send::Outcome;
use crate::truth::stream_name;

/// Totals of one stream.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct StreamTotals {
    pub requests: u64,
    /// Records in the requests sent.
    pub sent: u64,
    /// Records the server accepted: those in requests with a success response, less the rejected ones.
    pub acknowledged: u64,
    /// Records the server rejected in `partial_success`.
    pub rejected: u64,
    /// Records whose request never got a success response.
    pub failed: u64,
    pub retries: u64,
    /// Request body bytes, after compression where the stream is compressed.
    pub bytes: u64,
}

impl StreamTotals {
    pub fn add(&mut self, records: u64, outcome: &Outcome) {
        self.requests += 1;
        self.sent += records;
        self.acknowledged += outcome.acknowledged;
        self.rejected += outcome.rejected;
        self.failed += outcome.failed;
        self.retries += outcome.retries;
        self.bytes += outcome.bytes;
    }

    fn merge(&mut self, other: &StreamTotals) {
        self.requests += other.requests;
        self.sent += other.sent;
        self.acknowledged += other.acknowledged;
        self.rejected += other.rejected;
        self.failed += other.failed;
        self.retries += other.retries;
        self.bytes += other.bytes;
    }
}

/// The report printed at the end of a run and written by `--report`.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Report {
    pub orders: u64,
    pub streams: BTreeMap<String, StreamTotals>,
    pub total: StreamTotals,
    pub elapsed_seconds: f64,
    /// Acknowledged records per second of wall time.
    pub records_per_second: f64,
    pub orders_per_second: f64,
}

impl Report {
    /// Adds the totals one worker gathered.
    pub fn merge(&mut self, totals: &BTreeMap<Stream, StreamTotals>) {
        for (stream, stream_totals) in totals {
            self.streams
                .entry(stream_name(*stream).to_string())
                .or_default()
                .merge(stream_totals);
            self.total.merge(stream_totals);
        }
    }

    /// Sets the elapsed time and the rates derived from it.
    pub fn finish(&mut self, orders: u64, elapsed_seconds: f64) {
        self.orders = orders;
        self.elapsed_seconds = elapsed_seconds;
        let seconds = elapsed_seconds.max(1e-9);
        self.records_per_second = self.total.acknowledged as f64 / seconds;
        self.orders_per_second = orders as f64 / seconds;
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<16} {:>9} {:>12} {:>12} {:>9} {:>9} {:>8} {:>12}",
            "stream",
            "requests",
            "sent",
            "acknowledged",
            "rejected",
            "failed",
            "retries",
            "MiB sent"
        )?;
        let rows = self
            .streams
            .iter()
            .map(|(name, totals)| (name.as_str(), totals))
            .chain([("total", &self.total)]);
        for (name, t) in rows {
            writeln!(
                f,
                "{:<16} {:>9} {:>12} {:>12} {:>9} {:>9} {:>8} {:>12.1}",
                name,
                t.requests,
                t.sent,
                t.acknowledged,
                t.rejected,
                t.failed,
                t.retries,
                t.bytes as f64 / (1024.0 * 1024.0)
            )?;
        }
        write!(
            f,
            "{} orders in {:.1} s: {:.0} records/s acknowledged, {:.1} orders/s",
            self.orders, self.elapsed_seconds, self.records_per_second, self.orders_per_second
        )
    }
}
