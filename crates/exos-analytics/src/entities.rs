//! The overview's order and session figures from the entity summaries
//! (`exos_store::entities`, DuckDB only) instead of every span of the range.
//!
//! An entity counts in a range when it has spans in it. When its last span comes
//! before the range's end, the summary decides it: the entity has spans in the
//! range exactly when that last span is at or after the start.
//! For an order the summary also keeps its last status and that status's time.
//! A status at or after the range's start is the order's last status inside
//! the range. An earlier one means no span of the range carries a status.
//! The entities whose spans go on after the range's end are few, or none for
//! a range that ends now. The queries scan `otel_traces` for those alone, so
//! every figure equals the one a scan of the whole range gives, with one
//! exception: an order's LOB is the greatest of all its spans, not of the
//! range's (an order keeps one LOB in practice).

use exos_store::entities::{folded_columns, Kind, ORDERS, SESSIONS};
use exos_store::schema::ORDER_STATUS_COLUMN;

use crate::scope::Scope;
use crate::sql::Sql;

/// Renders one row per entity of `kind` whose last span is at or after `from`, with
/// its rows folded: merged rows as they are, plus the rows of entities that still
/// have partial rows, grouped. Merges write rows in the order of their last
/// activity, so the test on `LastSeen` lets DuckDB skip older row groups.
fn entity_sql(kind: Kind, from: i64) -> String {
    let table = kind.table;
    let partial = format!("SELECT Id FROM {table} WHERE NOT Merged");
    format!(
        "SELECT Id, Lob, Status, StatusTime, FirstSeen, LastSeen, Spans FROM {table} \
         WHERE Merged AND LastSeen >= {from} AND Id NOT IN ({partial}) \
         UNION ALL SELECT Id, {folded} FROM {table} WHERE Id IN ({partial}) GROUP BY Id \
         HAVING max(LastSeen) >= {from}",
        folded = folded_columns(
            "Lob",
            "Status",
            "StatusTime",
            "FirstSeen",
            "LastSeen",
            "sum(Spans)"
        ),
    )
}

/// Renders the conditions on a folded entity row that its last span lies in the
/// range, and that its spans go on after the range.
fn ends(scope: &Scope) -> (String, String) {
    let (from, to) = (scope.range.from_ns, scope.range.to_ns);
    (
        format!("LastSeen >= {from} AND LastSeen < {to}"),
        format!("FirstSeen < {to} AND LastSeen >= {to}"),
    )
}

/// Renders (LOB, status, orders) rows for the orders with spans in the range, as
/// `stats` counts them: the order's last non-empty `order.status` in the range.
pub fn orders_by_lob_sql(sql: &Sql, scope: &Scope, condition: &str, limit: usize) -> String {
    let (inside, after) = ends(scope);
    let from = scope.range.from_ns;
    format!(
        "WITH entity AS ({entity}) \
         SELECT lob, status, count(*) AS orders, {total} FROM (\
           SELECT Lob AS lob, CASE WHEN StatusTime >= {from} THEN Status ELSE '' END AS status \
           FROM entity WHERE {inside} \
           UNION ALL SELECT max(Lob), {last_status} FROM (\
             SELECT OrderId, Lob, {time} AS t, {status} AS order_status FROM otel_traces \
             WHERE {condition} AND OrderId IN (SELECT Id FROM entity WHERE {after})) AS order_span \
           GROUP BY OrderId) AS per_order \
         GROUP BY lob, status ORDER BY orders DESC, lob, status {limit}",
        entity = entity_sql(ORDERS, from),
        last_status = sql.last_value_if("order_status", "t", "order_status != ''"),
        time = sql.epoch_ns("Timestamp"),
        status = ORDER_STATUS_COLUMN.0,
        total = sql.sum_over_groups("count(*)"),
        limit = sql.limit(limit),
    )
}

/// Renders the number of browser sessions with spans in the range.
pub fn sessions_sql(scope: &Scope, condition: &str) -> String {
    let (inside, after) = ends(scope);
    format!(
        "WITH entity AS ({entity}) \
         SELECT (SELECT count(*) FROM entity WHERE {inside}) + (\
           SELECT count(DISTINCT RumSessionId) FROM otel_traces \
           WHERE {condition} AND RumSessionId IN (SELECT Id FROM entity WHERE {after}))",
        entity = entity_sql(SESSIONS, scope.range.from_ns),
    )
}
