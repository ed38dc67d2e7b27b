//! Imported event-log rows to Arrow record batches for the DuckDB appender.
//!
//! Column order and types equal `eventlogs::DUCKDB_TABLES` exactly, because
//! the appender does not cast. `Ordinal` is each row's position in its list,
//! so reads can restore the file order.

use std::sync::Arc;

use duckdb::arrow::array::{
    ArrayRef, StringBuilder, TimestampMicrosecondBuilder, TimestampMillisecondBuilder,
    UInt64Builder,
};
use duckdb::arrow::datatypes::{Field, Schema};
use duckdb::arrow::error::ArrowError;
use duckdb::arrow::record_batch::RecordBatch;

use crate::eventlogs::{EventLogEntry, EventLogRows, LogAttributeRow, LogLinkRow};

fn batch(columns: Vec<(&str, ArrayRef)>) -> Result<RecordBatch, ArrowError> {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
        .collect();
    RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns.into_iter().map(|(_, array)| array).collect(),
    )
}

fn strings<'a>(values: impl Iterator<Item = &'a str>) -> ArrayRef {
    let mut builder = StringBuilder::new();
    for value in values {
        builder.append_value(value);
    }
    Arc::new(builder.finish())
}

fn repeated(value: &str, count: usize) -> ArrayRef {
    strings(std::iter::repeat_n(value, count))
}

fn ordinals(count: usize) -> ArrayRef {
    let mut builder = UInt64Builder::with_capacity(count);
    for index in 0..count {
        builder.append_value(index as u64);
    }
    Arc::new(builder.finish())
}

fn times<'a>(values: impl Iterator<Item = &'a Option<i64>>) -> ArrayRef {
    let mut builder = TimestampMicrosecondBuilder::new();
    for value in values {
        builder.append_option(*value);
    }
    Arc::new(builder.finish())
}

fn counts(values: &[u64]) -> Vec<ArrayRef> {
    values
        .iter()
        .map(|&value| {
            let mut builder = UInt64Builder::with_capacity(1);
            builder.append_value(value);
            Arc::new(builder.finish()) as ArrayRef
        })
        .collect()
}

/// The catalogue row.
pub fn catalogue(entry: &EventLogEntry) -> Result<RecordBatch, ArrowError> {
    let mut imported = TimestampMillisecondBuilder::new();
    imported.append_value(entry.imported_ms);
    let mut columns: Vec<(&str, ArrayRef)> = vec![
        ("LogId", repeated(&entry.log_id, 1)),
        ("Name", repeated(&entry.name, 1)),
        ("SourceFile", repeated(&entry.source_file, 1)),
        ("Format", repeated(&entry.format, 1)),
        ("ImportedAt", Arc::new(imported.finish())),
    ];
    let names = [
        "Events",
        "Objects",
        "EventObjectLinks",
        "ObjectObjectLinks",
        "Issues",
    ];
    let values = counts(&[
        entry.events,
        entry.objects,
        entry.event_object_links,
        entry.object_object_links,
        entry.issues,
    ]);
    columns.extend(names.into_iter().zip(values));
    batch(columns)
}

fn links(log_id: &str, names: [&str; 2], rows: &[LogLinkRow]) -> Result<RecordBatch, ArrowError> {
    batch(vec![
        ("LogId", repeated(log_id, rows.len())),
        (names[0], strings(rows.iter().map(|r| r.source_id.as_str()))),
        (names[1], strings(rows.iter().map(|r| r.target_id.as_str()))),
        (
            "Qualifier",
            strings(rows.iter().map(|r| r.qualifier.as_str())),
        ),
        ("Ordinal", ordinals(rows.len())),
    ])
}

fn attributes(
    log_id: &str,
    owner: &str,
    with_time: bool,
    rows: &[LogAttributeRow],
) -> Result<RecordBatch, ArrowError> {
    let mut columns = vec![
        ("LogId", repeated(log_id, rows.len())),
        (owner, strings(rows.iter().map(|r| r.owner_id.as_str()))),
        ("Name", strings(rows.iter().map(|r| r.name.as_str()))),
    ];
    if with_time {
        columns.push(("Time", times(rows.iter().map(|r| &r.time_us))));
    }
    columns.extend([
        ("Type", strings(rows.iter().map(|r| r.value_type.as_str()))),
        ("Value", strings(rows.iter().map(|r| r.value.as_str()))),
        ("Ordinal", ordinals(rows.len())),
    ]);
    batch(columns)
}

/// The batches of every non-empty table, with the table name.
pub fn tables(
    log_id: &str,
    rows: &EventLogRows,
) -> Result<Vec<(&'static str, RecordBatch)>, ArrowError> {
    let mut out = Vec::new();
    if !rows.events.is_empty() {
        let events = &rows.events;
        out.push((
            "exos_log_events",
            batch(vec![
                ("LogId", repeated(log_id, events.len())),
                (
                    "EventId",
                    strings(events.iter().map(|e| e.event_id.as_str())),
                ),
                (
                    "EventType",
                    strings(events.iter().map(|e| e.event_type.as_str())),
                ),
                ("Time", times(events.iter().map(|e| &e.time_us))),
                ("Ordinal", ordinals(events.len())),
            ])?,
        ));
    }
    if !rows.objects.is_empty() {
        let objects = &rows.objects;
        out.push((
            "exos_log_objects",
            batch(vec![
                ("LogId", repeated(log_id, objects.len())),
                (
                    "ObjectId",
                    strings(objects.iter().map(|o| o.object_id.as_str())),
                ),
                (
                    "ObjectType",
                    strings(objects.iter().map(|o| o.object_type.as_str())),
                ),
                ("Ordinal", ordinals(objects.len())),
            ])?,
        ));
    }
    if !rows.event_objects.is_empty() {
        out.push((
            "exos_log_event_objects",
            links(log_id, ["EventId", "ObjectId"], &rows.event_objects)?,
        ));
    }
    if !rows.object_objects.is_empty() {
        out.push((
            "exos_log_object_objects",
            links(log_id, ["SourceId", "TargetId"], &rows.object_objects)?,
        ));
    }
    if !rows.event_attributes.is_empty() {
        out.push((
            "exos_log_event_attributes",
            attributes(log_id, "EventId", false, &rows.event_attributes)?,
        ));
    }
    if !rows.object_attributes.is_empty() {
        out.push((
            "exos_log_object_attributes",
            attributes(log_id, "ObjectId", true, &rows.object_attributes)?,
        ));
    }
    Ok(out)
}
