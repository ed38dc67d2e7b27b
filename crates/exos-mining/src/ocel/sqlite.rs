//! OCEL 2.0 SQLite importer.
//!
//! The layout: `event` and `object` (id, type), `event_map_type` and
//! `object_map_type` (type name to table suffix), one `event_<suffix>`
//! table per event type (id, `ocel_time`, attributes), one
//! `object_<suffix>` table per object type (id, attributes, `ocel_time`,
//! `ocel_changed_field`: empty for the initial values, else the one
//! attribute that changed), `event_object` and `object_object` (qualified
//! links). Ids stored as SQLite integers are reported and read as their
//! decimal text under `Repair` (some writers produce them).

use std::path::Path;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use rustc_hash::FxHashMap;

use super::{
    drop_duplicate_ids, ObjectAttribute, Ocel, OcelEvent, OcelObject, OcelValue, PendingLinks,
};
use crate::import::{
    ImportError, ImportOptions, ImportReport, IssueKind, IssueSink, Location, OnError,
};
use crate::log::NO_TIME;
use crate::time::parse_iso8601;

/// Reads an OCEL 2.0 SQLite file.
pub fn read_ocel_sqlite(
    path: &Path,
    options: &ImportOptions,
) -> Result<(Ocel, ImportReport), ImportError> {
    let unsupported = |e: rusqlite::Error| {
        ImportError::Unsupported(format!(
            "{} is not a readable OCEL 2.0 SQLite file: {e}",
            path.display()
        ))
    };
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(unsupported)?;
    let mut reader = SqliteReader {
        connection: &connection,
        options,
        sink: IssueSink::new(options),
        ocel: Ocel::default(),
    };
    reader.read().map_err(|e| match e {
        ReadError::Import(error) => error,
        ReadError::Sql(error) => unsupported(error),
    })?;
    let SqliteReader {
        mut ocel, mut sink, ..
    } = reader;
    drop_duplicate_ids(&mut ocel, &mut sink)?;
    let mut report = sink.report;
    report.cases = ocel.objects.len();
    report.events = ocel.events.len();
    Ok((ocel, report))
}

enum ReadError {
    Import(ImportError),
    Sql(rusqlite::Error),
}

impl From<ImportError> for ReadError {
    fn from(error: ImportError) -> Self {
        ReadError::Import(error)
    }
}

impl From<rusqlite::Error> for ReadError {
    fn from(error: rusqlite::Error) -> Self {
        ReadError::Sql(error)
    }
}

struct SqliteReader<'a> {
    connection: &'a Connection,
    options: &'a ImportOptions,
    sink: IssueSink,
    ocel: Ocel,
}

/// An event's type index, time and attributes, keyed by event id.
type EventRows = FxHashMap<String, (usize, i64, Vec<(String, OcelValue)>)>;

/// A link row: (row number, (from id, to id, qualifier)).
type LinkRow = (u64, (String, String, String));

/// One row as owned values.
type Row = Vec<rusqlite::types::Value>;

impl SqliteReader<'_> {
    fn read(&mut self) -> Result<(), ReadError> {
        let event_tables = self.type_map("event_map_type")?;
        let object_tables = self.type_map("object_map_type")?;
        let event_types = self.typed_ids("event")?;
        let object_types = self.typed_ids("object")?;

        let mut event_rows: EventRows = FxHashMap::default();
        for (type_name, suffix) in &event_tables {
            let type_index = self.ocel.event_type_index(type_name);
            self.read_event_table(&format!("event_{suffix}"), type_index, &mut event_rows)?;
        }
        for (id, type_name) in event_types {
            let Some((type_index, time, attributes)) = event_rows.remove(&id) else {
                let location = Location::Row {
                    table: "event".into(),
                    row: 0,
                };
                self.sink.raise(IssueKind::MissingValue, location, format!("event {id:?} of type {type_name:?} has no row in its type table; it is skipped"))?;
                self.sink.skipped();
                continue;
            };
            self.ocel.events.push(OcelEvent {
                id,
                event_type: type_index,
                time,
                attributes,
            });
        }

        let mut object_attributes: FxHashMap<String, Vec<ObjectAttribute>> = FxHashMap::default();
        for (type_name, suffix) in &object_tables {
            self.ocel.object_type_index(type_name);
            self.read_object_table(&format!("object_{suffix}"), &mut object_attributes)?;
        }
        for (id, type_name) in object_types {
            let object_type = self.ocel.object_type_index(&type_name);
            let attributes = object_attributes.remove(&id).unwrap_or_default();
            self.ocel.objects.push(OcelObject {
                id,
                object_type,
                attributes,
            });
        }

        let mut links = PendingLinks::default();
        for (row, (from, to, qualifier)) in
            self.link_rows("event_object", "ocel_event_id", "ocel_object_id")?
        {
            links.event_object.push((
                from,
                to,
                qualifier,
                Location::Row {
                    table: "event_object".into(),
                    row,
                },
            ));
        }
        for (row, (from, to, qualifier)) in
            self.link_rows("object_object", "ocel_source_id", "ocel_target_id")?
        {
            links.object_object.push((
                from,
                to,
                qualifier,
                Location::Row {
                    table: "object_object".into(),
                    row,
                },
            ));
        }
        links.resolve(&mut self.ocel, &mut self.sink)?;
        Ok(())
    }

    fn rows(&self, sql: &str) -> Result<(Vec<String>, Vec<Row>), rusqlite::Error> {
        let mut statement = self.connection.prepare(sql)?;
        let columns: Vec<String> = statement
            .column_names()
            .iter()
            .map(|c| c.to_string())
            .collect();
        let count = columns.len();
        let rows = statement
            .query_map([], |row| {
                (0..count)
                    .map(|i| row.get::<_, rusqlite::types::Value>(i))
                    .collect::<Result<Row, _>>()
            })?
            .collect::<Result<Vec<Row>, _>>()?;
        Ok((columns, rows))
    }

    fn type_map(&self, table: &str) -> Result<Vec<(String, String)>, rusqlite::Error> {
        let (_, rows) = self.rows(&format!("SELECT ocel_type, ocel_type_map FROM {table}"))?;
        Ok(rows
            .into_iter()
            .map(|r| (as_text(&r[0]), as_text(&r[1])))
            .collect())
    }

    /// Reads an id cell, reporting integers.
    fn id(
        &mut self,
        value: &rusqlite::types::Value,
        table: &str,
        row: u64,
    ) -> Result<Option<String>, ImportError> {
        let location = || Location::Row {
            table: table.to_string(),
            row,
        };
        match value {
            rusqlite::types::Value::Text(text) => Ok(Some(text.clone())),
            rusqlite::types::Value::Integer(number) => {
                let message = format!("id {number} is an integer, expected text");
                if self.sink.raise(IssueKind::IntegerId, location(), message)? == OnError::Repair {
                    self.sink.repaired();
                    return Ok(Some(number.to_string()));
                }
                self.sink.skipped();
                Ok(None)
            }
            other => {
                self.sink.raise(
                    IssueKind::MissingValue,
                    location(),
                    format!("missing id {other:?}; the row is skipped"),
                )?;
                self.sink.skipped();
                Ok(None)
            }
        }
    }

    fn typed_ids(&mut self, table: &str) -> Result<Vec<(String, String)>, ReadError> {
        let (_, rows) = self.rows(&format!("SELECT ocel_id, ocel_type FROM {table}"))?;
        let mut ids = Vec::with_capacity(rows.len());
        for (index, row) in rows.iter().enumerate() {
            if let Some(id) = self.id(&row[0], table, index as u64 + 1)? {
                ids.push((id, as_text(&row[1])));
            }
        }
        Ok(ids)
    }

    fn read_event_table(
        &mut self,
        table: &str,
        type_index: usize,
        out: &mut EventRows,
    ) -> Result<(), ReadError> {
        let (columns, rows) =
            self.rows(&format!("SELECT * FROM \"{}\"", table.replace('"', "\"\"")))?;
        let id_column = columns.iter().position(|c| c == "ocel_id").unwrap_or(0);
        let time_column = columns.iter().position(|c| c == "ocel_time");
        for (index, row) in rows.iter().enumerate() {
            let row_number = index as u64 + 1;
            let Some(id) = self.id(&row[id_column], table, row_number)? else {
                continue;
            };
            let time_text = time_column.map(|c| as_text(&row[c])).unwrap_or_default();
            let time = match parse_iso8601(&time_text, self.options.default_offset_seconds) {
                Some(time) => time,
                None => {
                    let location = Location::Row {
                        table: table.to_string(),
                        row: row_number,
                    };
                    if self.sink.raise(
                        IssueKind::BadTimestamp,
                        location,
                        format!("invalid timestamp {time_text:?} of event {id:?}"),
                    )? != OnError::Repair
                    {
                        self.sink.skipped();
                        continue;
                    }
                    self.sink.repaired();
                    NO_TIME
                }
            };
            let attributes = columns
                .iter()
                .enumerate()
                .filter(|(c, _)| *c != id_column && Some(*c) != time_column)
                .filter(|(c, _)| !matches!(row[*c], rusqlite::types::Value::Null))
                .map(|(c, name)| (name.clone(), value_of(&row[c])))
                .collect();
            out.insert(id, (type_index, time, attributes));
        }
        Ok(())
    }

    fn read_object_table(
        &mut self,
        table: &str,
        out: &mut FxHashMap<String, Vec<ObjectAttribute>>,
    ) -> Result<(), ReadError> {
        let (columns, rows) =
            self.rows(&format!("SELECT * FROM \"{}\"", table.replace('"', "\"\"")))?;
        let position = |name: &str| columns.iter().position(|c| c == name);
        let (id_column, time_column, changed_column) = (
            position("ocel_id").unwrap_or(0),
            position("ocel_time"),
            position("ocel_changed_field"),
        );
        for (index, row) in rows.iter().enumerate() {
            let Some(id) = self.id(&row[id_column], table, index as u64 + 1)? else {
                continue;
            };
            let changed = changed_column.map(|c| as_text(&row[c])).unwrap_or_default();
            let time = if changed.is_empty() {
                0
            } else {
                time_column
                    .and_then(|c| {
                        parse_iso8601(&as_text(&row[c]), self.options.default_offset_seconds)
                    })
                    .unwrap_or(0)
            };
            let attributes = out.entry(id).or_default();
            for (c, name) in columns.iter().enumerate() {
                let is_meta = c == id_column || Some(c) == time_column || Some(c) == changed_column;
                let wanted = changed.is_empty() || *name == changed;
                if is_meta || !wanted || matches!(row[c], rusqlite::types::Value::Null) {
                    continue;
                }
                attributes.push(ObjectAttribute {
                    name: name.clone(),
                    time,
                    value: value_of(&row[c]),
                });
            }
        }
        Ok(())
    }

    fn link_rows(&mut self, table: &str, from: &str, to: &str) -> Result<Vec<LinkRow>, ReadError> {
        let (_, rows) = self.rows(&format!("SELECT {from}, {to}, ocel_qualifier FROM {table}"))?;
        let mut links = Vec::with_capacity(rows.len());
        for (index, row) in rows.iter().enumerate() {
            let row_number = index as u64 + 1;
            let (Some(source), Some(target)) = (
                self.id(&row[0], table, row_number)?,
                self.id(&row[1], table, row_number)?,
            ) else {
                continue;
            };
            links.push((row_number, (source, target, as_text(&row[2]))));
        }
        Ok(links)
    }
}

fn as_text(value: &rusqlite::types::Value) -> String {
    match ValueRef::from(value) {
        ValueRef::Text(text) => String::from_utf8_lossy(text).into_owned(),
        ValueRef::Integer(number) => number.to_string(),
        ValueRef::Real(number) => number.to_string(),
        ValueRef::Null => String::new(),
        ValueRef::Blob(bytes) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

fn value_of(value: &rusqlite::types::Value) -> OcelValue {
    match value {
        rusqlite::types::Value::Integer(number) => OcelValue::Int(*number),
        rusqlite::types::Value::Real(number) => OcelValue::Float(*number),
        other => OcelValue::Str(as_text(other)),
    }
}
