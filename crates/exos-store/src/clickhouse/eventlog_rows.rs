//! Insert rows of the imported event-log tables, in RowBinary column order.
//!
//! `DateTime64(6)` values are microseconds as `Int64`, `DateTime64(3)`
//! milliseconds; `Ordinal` is each row's position in its list.

use clickhouse::Row;
use serde::Serialize;

use crate::eventlogs::{EventLogEntry, LogAttributeRow, LogEventRow, LogLinkRow, LogObjectRow};

/// One `exos_event_logs` row.
#[derive(Row, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CatalogueInsert<'a> {
    pub log_id: &'a str,
    pub name: &'a str,
    pub source_file: &'a str,
    pub format: &'a str,
    pub imported_at: i64,
    pub events: u64,
    pub objects: u64,
    pub event_object_links: u64,
    pub object_object_links: u64,
    pub issues: u64,
}

impl<'a> From<&'a EventLogEntry> for CatalogueInsert<'a> {
    fn from(entry: &'a EventLogEntry) -> Self {
        Self {
            log_id: &entry.log_id,
            name: &entry.name,
            source_file: &entry.source_file,
            format: &entry.format,
            imported_at: entry.imported_ms,
            events: entry.events,
            objects: entry.objects,
            event_object_links: entry.event_object_links,
            object_object_links: entry.object_object_links,
            issues: entry.issues,
        }
    }
}

/// One `exos_log_events` row.
#[derive(Row, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventInsert<'a> {
    pub log_id: &'a str,
    pub event_id: &'a str,
    pub event_type: &'a str,
    pub time: Option<i64>,
    pub ordinal: u64,
}

impl<'a> EventInsert<'a> {
    pub fn new(log_id: &'a str, ordinal: usize, row: &'a LogEventRow) -> Self {
        Self {
            log_id,
            event_id: &row.event_id,
            event_type: &row.event_type,
            time: row.time_us,
            ordinal: ordinal as u64,
        }
    }
}

/// One `exos_log_objects` row.
#[derive(Row, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ObjectInsert<'a> {
    pub log_id: &'a str,
    pub object_id: &'a str,
    pub object_type: &'a str,
    pub ordinal: u64,
}

impl<'a> ObjectInsert<'a> {
    pub fn new(log_id: &'a str, ordinal: usize, row: &'a LogObjectRow) -> Self {
        Self {
            log_id,
            object_id: &row.object_id,
            object_type: &row.object_type,
            ordinal: ordinal as u64,
        }
    }
}

/// Declares an insert row of a link table whose two id columns are named `$source` and `$target`.
macro_rules! link_insert {
    ($name:ident, $table:literal, $source:literal, $target:literal) => {
        #[doc = concat!("One `", $table, "` row.")]
        #[derive(Row, Serialize)]
        pub struct $name<'a> {
            #[serde(rename = "LogId")]
            pub log_id: &'a str,
            #[serde(rename = $source)]
            pub source: &'a str,
            #[serde(rename = $target)]
            pub target: &'a str,
            #[serde(rename = "Qualifier")]
            pub qualifier: &'a str,
            #[serde(rename = "Ordinal")]
            pub ordinal: u64,
        }

        impl<'a> $name<'a> {
            pub fn new(log_id: &'a str, ordinal: usize, row: &'a LogLinkRow) -> Self {
                Self {
                    log_id,
                    source: &row.source_id,
                    target: &row.target_id,
                    qualifier: &row.qualifier,
                    ordinal: ordinal as u64,
                }
            }
        }
    };
}

link_insert!(
    EventObjectInsert,
    "exos_log_event_objects",
    "EventId",
    "ObjectId"
);
link_insert!(
    ObjectObjectInsert,
    "exos_log_object_objects",
    "SourceId",
    "TargetId"
);

/// One `exos_log_event_attributes` row.
#[derive(Row, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventAttributeInsert<'a> {
    pub log_id: &'a str,
    pub event_id: &'a str,
    pub name: &'a str,
    #[serde(rename = "Type")]
    pub value_type: &'a str,
    pub value: &'a str,
    pub ordinal: u64,
}

impl<'a> EventAttributeInsert<'a> {
    pub fn new(log_id: &'a str, ordinal: usize, row: &'a LogAttributeRow) -> Self {
        Self {
            log_id,
            event_id: &row.owner_id,
            name: &row.name,
            value_type: &row.value_type,
            value: &row.value,
            ordinal: ordinal as u64,
        }
    }
}

/// One `exos_log_object_attributes` row.
#[derive(Row, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ObjectAttributeInsert<'a> {
    pub log_id: &'a str,
    pub object_id: &'a str,
    pub name: &'a str,
    pub time: Option<i64>,
    #[serde(rename = "Type")]
    pub value_type: &'a str,
    pub value: &'a str,
    pub ordinal: u64,
}

impl<'a> ObjectAttributeInsert<'a> {
    pub fn new(log_id: &'a str, ordinal: usize, row: &'a LogAttributeRow) -> Self {
        Self {
            log_id,
            object_id: &row.owner_id,
            name: &row.name,
            time: row.time_us,
            value_type: &row.value_type,
            value: &row.value,
            ordinal: ordinal as u64,
        }
    }
}
