//! Saved items: queries, dashboards and, later, actions and cohorts that users keep.
//!
//! One table holds every kind, so a new kind of saved thing needs no migration.
//! The body is JSON text whose shape belongs to the kind. The store never reads it.
//! Deleting writes a tombstone (`deleted`), which lets ClickHouse's
//! `ReplacingMergeTree` forget the item the same way it forgets an old version.

use serde::{Deserialize, Serialize};

/// One saved item, as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedItem {
    /// Random id, unique across kinds.
    pub id: String,
    /// `query`, `dashboard`, …: what the body describes.
    pub kind: String,
    pub name: String,
    /// The user who created it. Only they and admins may change it.
    pub owner: String,
    /// Visible to every user when true, to its owner only otherwise.
    pub shared: bool,
    /// JSON text whose shape depends on `kind`.
    pub body: String,
    /// Seconds since the Unix epoch.
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted: bool,
}

/// The DuckDB table of saved items.
pub const DUCKDB_TABLE: &str = "CREATE TABLE IF NOT EXISTS exos_saved_items (\n    \
     Id VARCHAR PRIMARY KEY,\n    Kind VARCHAR NOT NULL,\n    Name VARCHAR NOT NULL,\n    \
     Owner VARCHAR NOT NULL,\n    Shared BOOLEAN NOT NULL DEFAULT false,\n    Body VARCHAR NOT NULL,\n    \
     CreatedAt BIGINT NOT NULL,\n    UpdatedAt BIGINT NOT NULL,\n    Deleted BOOLEAN NOT NULL DEFAULT false\n);\n";

/// The ClickHouse table of saved items. The highest `Version` of an id wins.
pub const CLICKHOUSE_TABLE: &str = "CREATE TABLE IF NOT EXISTS exos_saved_items (Id String, Kind String, \
     Name String, Owner String, Shared Bool, Body String, CreatedAt Int64, UpdatedAt Int64, Deleted Bool, \
     Version UInt64) ENGINE = ReplacingMergeTree(Version) ORDER BY Id";
