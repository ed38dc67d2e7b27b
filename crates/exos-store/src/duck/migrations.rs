//! Forward-only schema migrations for the embedded store.
//!
//! Each migration runs once, in order, inside a transaction that also records
//! it in `exos_schema_version`. Views are not migrated: they are recreated at
//! every start from `schema::views`, since they hold no data.

use duckdb::Connection;

use crate::schema;
use crate::StoreError;

/// One migration step.
struct Migration {
    version: i32,
    description: &'static str,
    sql: fn() -> String,
}

fn initial_tables() -> String {
    let mut sql: String = schema::all_tables()
        .iter()
        .map(schema::duckdb_ddl)
        .collect();
    sql.push_str(
        "CREATE TABLE IF NOT EXISTS exos_credentials (\n    Kind VARCHAR NOT NULL,\n    Id VARCHAR NOT NULL,\n    \
         Name VARCHAR NOT NULL DEFAULT '',\n    Hash VARCHAR NOT NULL,\n    Role VARCHAR NOT NULL DEFAULT '',\n    \
         CreatedAt BIGINT NOT NULL,\n    Revoked BOOLEAN NOT NULL DEFAULT false,\n    PRIMARY KEY (Kind, Id)\n);\n",
    );
    sql
}

fn saved_items() -> String {
    crate::saved::DUCKDB_TABLE.to_string()
}

fn replay_analysis() -> String {
    crate::replay::DUCKDB_TABLES.to_string()
}

fn event_logs() -> String {
    crate::eventlogs::DUCKDB_TABLES.to_string()
}

/// Joins table definitions and the statements that fill the tables into one script.
fn script(tables: &str, statements: impl IntoIterator<Item = String>) -> String {
    let mut sql = tables.to_string();
    for statement in statements {
        sql.push_str(&statement);
        sql.push_str(";\n");
    }
    sql
}

fn span_rollups() -> String {
    script(
        crate::rollup::DUCKDB_TABLES,
        crate::rollup::duckdb_rebuild(),
    )
}

fn entity_summaries() -> String {
    let tables = crate::rollup::DUCKDB_TABLES.to_string() + &crate::entities::duckdb_tables();
    let statements = crate::rollup::duckdb_rebuild()
        .into_iter()
        .chain(crate::entities::duckdb_rebuild());
    script(&tables, statements)
}

fn error_summaries() -> String {
    script(
        crate::errors::DUCKDB_TABLES,
        crate::errors::duckdb_rebuild(),
    )
}

fn service_edges() -> String {
    script(crate::edges::DUCKDB_TABLE, crate::edges::duckdb_rebuild())
}

/// Adds `OrderStatus` to `otel_traces` and fills it from the stored spans. A store made
/// by this binary has the column from its first migration.
fn order_status_column() -> String {
    let (column, _) = crate::schema::ORDER_STATUS_COLUMN;
    let status = format!("SpanAttributes['{}']", crate::entities::ORDER_STATUS);
    format!(
        "ALTER TABLE otel_traces ADD COLUMN IF NOT EXISTS {column} VARCHAR DEFAULT '';\n\
         ALTER TABLE otel_traces ALTER COLUMN {column} SET NOT NULL;\n\
         UPDATE otel_traces SET {column} = {status} WHERE coalesce({status}, '') != '';\n"
    )
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "OTel exporter tables, replay table and credentials",
        sql: initial_tables,
    },
    Migration {
        version: 2,
        description: "saved queries and dashboards",
        sql: saved_items,
    },
    Migration {
        version: 3,
        description: "replay analysis: session activity and frustration signals",
        sql: replay_analysis,
    },
    Migration {
        version: 4,
        description: "imported event logs in the OCEL 2.0 layout",
        sql: event_logs,
    },
    Migration {
        version: 5,
        description: "span rollups per time slot, service and latency bin",
        sql: span_rollups,
    },
    Migration {
        version: 6,
        description: "operator rollup, order and session summaries",
        sql: entity_summaries,
    },
    Migration {
        version: 7,
        description: "error spans with their fingerprints",
        sql: error_summaries,
    },
    Migration {
        version: 8,
        description: "service-map edges per time slot",
        sql: service_edges,
    },
    Migration {
        version: 9,
        description: "order status column on spans",
        sql: order_status_column,
    },
];

/// Returns the newest schema version this binary can migrate to.
pub fn latest_version() -> i32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// Applies every migration newer than the stored version, then recreates the views.
pub fn apply(connection: &Connection) -> Result<(), StoreError> {
    let fail = |error: duckdb::Error| StoreError::Other(format!("migration failed: {error}"));
    connection
        .execute_batch(
            "CREATE TABLE IF NOT EXISTS exos_schema_version (Version INTEGER PRIMARY KEY, \
             Description VARCHAR NOT NULL, AppliedAt TIMESTAMP NOT NULL DEFAULT current_timestamp)",
        )
        .map_err(fail)?;
    let current: i32 = connection
        .query_row(
            "SELECT coalesce(max(Version), 0) FROM exos_schema_version",
            [],
            |row| row.get(0),
        )
        .map_err(fail)?;
    if current > latest_version() {
        return Err(StoreError::Other(format!(
            "store schema version {current} is newer than this binary's {}; upgrade exos",
            latest_version()
        )));
    }
    for migration in MIGRATIONS.iter().filter(|m| m.version > current) {
        let sql = format!(
            "BEGIN TRANSACTION;\n{}\nINSERT INTO exos_schema_version (Version, Description) VALUES ({}, '{}');\nCOMMIT;",
            (migration.sql)(),
            migration.version,
            migration.description
        );
        connection.execute_batch(&sql).map_err(fail)?;
        tracing::info!(
            version = migration.version,
            description = migration.description,
            "applied store migration"
        );
    }
    for view in schema::views() {
        connection
            .execute_batch(&format!(
                "CREATE OR REPLACE VIEW {} AS {}",
                view.name, view.duckdb
            ))
            .map_err(|error| {
                StoreError::Other(format!("cannot create view {}: {error}", view.name))
            })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statuses(connection: &Connection) -> Vec<(String, String)> {
        let mut statement = connection
            .prepare("SELECT SpanName, OrderStatus FROM otel_traces ORDER BY SpanName")
            .unwrap();
        let rows = statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap();
        rows.map(Result::unwrap).collect()
    }

    #[test]
    fn order_status_filled_on_old_store() {
        let connection = Connection::open_in_memory().unwrap();
        apply(&connection).unwrap();
        // The layout of a store made before migration 9, holding spans with and without a status.
        connection
            .execute_batch(
                "ALTER TABLE otel_traces DROP COLUMN OrderStatus;
                 DELETE FROM exos_schema_version WHERE Version = 9;
                 INSERT INTO otel_traces BY NAME SELECT TIMESTAMP_NS '2026-12-01 10:00:00' AS Timestamp,
                   'approve' AS SpanName, MAP {'order.status': 'approved', 'lob': 'Title'} AS SpanAttributes;
                 INSERT INTO otel_traces BY NAME SELECT TIMESTAMP_NS '2026-12-01 10:01:00' AS Timestamp,
                   'lookup' AS SpanName, MAP {'lob': 'Title'} AS SpanAttributes;
                 INSERT INTO otel_traces BY NAME SELECT TIMESTAMP_NS '2026-12-01 10:02:00' AS Timestamp,
                   'resource' AS SpanName, MAP {'order.status': ''} AS SpanAttributes,
                   MAP {'order.status': 'closed'} AS ResourceAttributes;",
            )
            .unwrap();
        apply(&connection).unwrap();
        assert_eq!(
            statuses(&connection),
            [
                ("approve".to_string(), "approved".to_string()),
                ("lookup".to_string(), String::new()),
                ("resource".to_string(), String::new()),
            ]
        );
        // The column keeps the layout of a new store: last, text, never NULL.
        let last: (String, String) = connection
            .query_row(
                "SELECT column_name, is_nullable FROM information_schema.columns \
                 WHERE table_name = 'otel_traces' ORDER BY ordinal_position DESC LIMIT 1",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .unwrap();
        assert_eq!(last, ("OrderStatus".to_string(), "NO".to_string()));
        assert!(connection
            .execute("INSERT INTO otel_traces (OrderStatus) VALUES (NULL)", [])
            .is_err());
    }
}
