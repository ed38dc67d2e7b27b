//! Entity summaries on DuckDB: one row per order (`exos_orders`) and per browser
//! session (`exos_sessions`), with the first and last time a span named it.
//!
//! The overview counts the orders and sessions of a range from these rows
//! instead of grouping every span of the range by id. An entity whose last
//! span lies inside the range has spans in it. When an order's last status
//! also lies inside the range, that status is its last status in the range.
//! Readers scan `otel_traces` only for the entities that go on after the range
//! ends (none, for a range that ends now).
//!
//! Like the span rollups, each store write appends partial rows (`Merged =
//! false`) in its own transaction. `duckdb_merge` folds them into one row per
//! entity now and then, and a store whose summaries do not count its spans
//! rebuilds them when it opens. ClickHouse groups its spans fast enough and
//! keeps no such tables.

use std::collections::HashMap;

use exos_core::attributes::lookup;
use exos_core::SpanRow;

/// The span attribute that carries an order's status.
pub const ORDER_STATUS: &str = "order.status";
/// `StatusTime` of a row without a status.
pub const NO_STATUS_TIME: i64 = i64::MIN;

/// One kind of entity: its table and the `otel_traces` column that names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    pub table: &'static str,
    pub column: &'static str,
    /// True when rows keep a LOB and a status (orders).
    pub status: bool,
}

/// Orders: `Id` is the order id; `Lob` the greatest LOB of its spans, `Status`
/// its last non-empty `order.status` and `StatusTime` that span's time.
pub const ORDERS: Kind = Kind {
    table: "exos_orders",
    column: "OrderId",
    status: true,
};
/// Browser sessions: `Id` is the session id; `Lob` and `Status` stay empty.
pub const SESSIONS: Kind = Kind {
    table: "exos_sessions",
    column: "RumSessionId",
    status: false,
};
/// Every kind.
pub const KINDS: [Kind; 2] = [ORDERS, SESSIONS];

/// Renders the DuckDB tables.
pub fn duckdb_tables() -> String {
    KINDS
        .iter()
        .map(|kind| {
            format!(
                "CREATE TABLE IF NOT EXISTS {} (Id VARCHAR NOT NULL, Lob VARCHAR NOT NULL, \
                 Status VARCHAR NOT NULL, StatusTime BIGINT NOT NULL, FirstSeen BIGINT NOT NULL, \
                 LastSeen BIGINT NOT NULL, Spans UBIGINT NOT NULL, Merged BOOLEAN NOT NULL);\n",
                kind.table
            )
        })
        .collect()
}

/// The summary of one entity's spans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub lob: String,
    pub status: String,
    pub status_time: i64,
    pub first_seen: i64,
    pub last_seen: i64,
    pub spans: u64,
}

impl Summary {
    fn new(time: i64) -> Self {
        Self {
            lob: String::new(),
            status: String::new(),
            status_time: NO_STATUS_TIME,
            first_seen: time,
            last_seen: time,
            spans: 0,
        }
    }

    fn add(&mut self, time: i64, lob: &str, status: &str) {
        self.spans += 1;
        self.first_seen = self.first_seen.min(time);
        self.last_seen = self.last_seen.max(time);
        if lob > self.lob.as_str() {
            self.lob = lob.to_string();
        }
        // The latest status wins; at equal times the greatest text, as `arg_max` over
        // `(time, status)` picks it in SQL.
        if !status.is_empty() && (time, status) > (self.status_time, self.status.as_str()) {
            self.status_time = time;
            self.status = status.to_string();
        }
    }
}

/// Partial rows of one kind: (id, summary).
pub type EntityRows = Vec<(String, Summary)>;

/// Summarises `spans` into partial rows of orders and of sessions, one per entity they name.
pub fn entity_rows(spans: &[SpanRow]) -> (EntityRows, EntityRows) {
    let mut orders: HashMap<&str, Summary> = HashMap::new();
    let mut sessions: HashMap<&str, Summary> = HashMap::new();
    for span in spans {
        let keys = &span.keys;
        let time = span.timestamp_ns;
        if !keys.order_id.is_empty() {
            let status = lookup(&span.span_attributes, ORDER_STATUS).unwrap_or_default();
            orders
                .entry(&keys.order_id)
                .or_insert_with(|| Summary::new(time))
                .add(time, &keys.lob, status);
        }
        if !keys.rum_session_id.is_empty() {
            sessions
                .entry(&keys.rum_session_id)
                .or_insert_with(|| Summary::new(time))
                .add(time, "", "");
        }
    }
    let owned = |rows: HashMap<&str, Summary>| {
        rows.into_iter()
            .map(|(id, summary)| (id.to_string(), summary))
            .collect()
    };
    (owned(orders), owned(sessions))
}

/// Renders the aggregates that fold an entity's rows (or its spans, for a rebuild)
/// into one row, in the table's column order after `Id`.
pub fn folded_columns(
    lob: &str,
    status: &str,
    status_time: &str,
    first: &str,
    last: &str,
    spans: &str,
) -> String {
    format!(
        "max({lob}) AS Lob, \
         coalesce(arg_max({status}, ({status_time}, {status})) FILTER (WHERE {status} != ''), '') AS Status, \
         coalesce(max({status_time}) FILTER (WHERE {status} != ''), {NO_STATUS_TIME}) AS StatusTime, \
         min({first}) AS FirstSeen, max({last}) AS LastSeen, CAST({spans} AS UBIGINT) AS Spans"
    )
}

/// DuckDB statements that empty the tables and summarise every stored span into them.
pub fn duckdb_rebuild() -> Vec<String> {
    let mut statements = Vec::new();
    for kind in KINDS {
        let (lob, status) = if kind.status {
            (
                "Lob".to_string(),
                format!("coalesce(SpanAttributes['{ORDER_STATUS}'], '')"),
            )
        } else {
            ("''".to_string(), "''".to_string())
        };
        let folded = folded_columns("lob", "s", "t", "t", "t", "count(*)");
        statements.push(format!("DELETE FROM {}", kind.table));
        statements.push(format!(
            "INSERT INTO {table} SELECT {column}, {folded}, true FROM (\
               SELECT {column}, {lob} AS lob, {status} AS s, epoch_ns(Timestamp) AS t \
               FROM otel_traces WHERE {column} != '') AS span \
             GROUP BY {column}",
            table = kind.table,
            column = kind.column,
        ));
    }
    statements
}

/// DuckDB statements that fold every row of the entities that have partial rows into
/// one merged row each. Run in one transaction: rows that other writers append
/// meanwhile are not visible to it, so the `DELETE` leaves them for the next merge.
pub fn duckdb_merge() -> Vec<String> {
    let folded = folded_columns(
        "Lob",
        "Status",
        "StatusTime",
        "FirstSeen",
        "LastSeen",
        "sum(Spans)",
    );
    let mut statements = Vec::new();
    for kind in KINDS {
        let table = kind.table;
        statements.push(format!(
            "CREATE OR REPLACE TEMP TABLE exos_entity_merge AS \
             SELECT Id, {folded}, true AS Merged FROM {table} \
             WHERE Id IN (SELECT Id FROM {table} WHERE NOT Merged) GROUP BY Id"
        ));
        statements.push(format!(
            "DELETE FROM {table} WHERE Id IN (SELECT Id FROM exos_entity_merge)"
        ));
        statements.push(format!(
            "INSERT INTO {table} SELECT * FROM exos_entity_merge"
        ));
        statements.push("DROP TABLE exos_entity_merge".into());
    }
    statements
}

/// Renders a DuckDB query whose one row gives, for each kind in turn, the spans of
/// `otel_traces` that name an entity of it and the spans its table counts.
pub fn duckdb_counts() -> String {
    let columns: Vec<String> = KINDS
        .iter()
        .map(|kind| {
            format!(
                "count(*) FILTER (WHERE {} != ''), (SELECT coalesce(sum(Spans), 0) FROM {})",
                kind.column, kind.table
            )
        })
        .collect();
    format!("SELECT {} FROM otel_traces", columns.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use exos_core::BusinessKeys;

    fn span(time: i64, order: &str, session: &str, status: &str) -> SpanRow {
        let mut span_attributes = Vec::new();
        if !status.is_empty() {
            span_attributes.push((ORDER_STATUS.to_string(), status.to_string()));
        }
        SpanRow {
            timestamp_ns: time,
            span_attributes,
            keys: BusinessKeys {
                order_id: order.into(),
                rum_session_id: session.into(),
                lob: "Title".into(),
                ..BusinessKeys::default()
            },
            ..SpanRow::default()
        }
    }

    #[test]
    fn summary_keeps_last_status_and_ends() {
        let (orders, sessions) = entity_rows(&[
            span(30, "o1", "s1", "open"),
            span(10, "o1", "", ""),
            span(30, "o1", "s2", "approved"),
            span(20, "o1", "", "closed"),
            span(50, "o1", "", ""),
            span(5, "", "s1", "closed"),
        ]);
        let expected = Summary {
            lob: "Title".into(),
            status: "open".into(),
            status_time: 30,
            first_seen: 10,
            last_seen: 50,
            spans: 5,
        };
        assert_eq!(orders, vec![("o1".to_string(), expected)]);
        assert_eq!(sessions.len(), 2);
        let first = sessions.iter().find(|(id, _)| id == "s1").expect("s1");
        assert_eq!(
            (first.1.first_seen, first.1.last_seen, first.1.spans),
            (5, 30, 2)
        );
        assert_eq!(first.1.status, "", "sessions keep no status");
    }
}
