//! Exporting a stored log to a file: XES, CSV, OCEL 2.0 JSON or SQLite.
//!
//! XES and CSV are case-centric, so the log is flattened on one object type
//! first (the only type, `case` for classic imports, or the one asked for).
//! The OCEL 2.0 SQLite layout written here is the one PM4Py 2.7 reads and
//! writes: `event`, `object`, `event_object`, `object_object`, the two type
//! maps and one attribute table per event and object type.

use std::io::Write;
use std::path::Path;

use exos_mining::export::write_xes;
use exos_mining::log::{AttrValue, NO_SYM, NO_TIME};
use exos_mining::ocel::export::write_ocel_json;
use exos_mining::ocel::{Ocel, OcelValue, TypeDeclaration};
use exos_mining::time::format_rfc3339;
use exos_mining::EventLog;
use exos_store::eventlogs::{find_event_log, read_event_log};
use exos_store::Store;
use rusqlite::types::Value;

use crate::convert::{flatten, rows_to_ocel, CASE_TYPE};
use crate::OcpmError;

/// File formats `exos export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Xes,
    Csv,
    OcelJson,
    OcelSqlite,
}

impl ExportFormat {
    /// Parses a format name.
    pub fn parse(name: &str) -> Result<Self, OcpmError> {
        match name {
            "xes" => Ok(Self::Xes),
            "csv" => Ok(Self::Csv),
            "ocel-json" => Ok(Self::OcelJson),
            "ocel-sqlite" => Ok(Self::OcelSqlite),
            other => Err(OcpmError::BadInput(format!(
                "unknown export format {other:?}: use xes, csv, ocel-json or ocel-sqlite"
            ))),
        }
    }
}

/// Loads a stored log as OCEL.
pub fn load_ocel(store: &dyn Store, log_id: &str) -> Result<Ocel, OcpmError> {
    if find_event_log(store, log_id)?.is_none() {
        return Err(OcpmError::NotFound(format!(
            "no imported log named {log_id:?}; list them with GET /api/logs"
        )));
    }
    Ok(rows_to_ocel(&read_event_log(store, log_id)?))
}

/// Picks the object type to flatten on: the one given, `case`, or the only type.
pub fn flatten_type(ocel: &Ocel, requested: Option<&str>) -> Result<String, OcpmError> {
    let names: Vec<&str> = ocel.object_types.iter().map(|t| t.name.as_str()).collect();
    if let Some(name) = requested {
        if names.contains(&name) {
            return Ok(name.to_string());
        }
        return Err(OcpmError::BadInput(format!(
            "unknown object type {name:?}; the log has {names:?}"
        )));
    }
    if names.contains(&CASE_TYPE) {
        return Ok(CASE_TYPE.to_string());
    }
    match names.as_slice() {
        [only] => Ok(only.to_string()),
        _ => Err(OcpmError::BadInput(format!(
            "the log has several object types {names:?}; pass --object-type to pick the case notion"
        ))),
    }
}

/// Writes a stored log to `out` in `format`.
pub fn export_log(
    store: &dyn Store,
    log_id: &str,
    format: ExportFormat,
    object_type: Option<&str>,
    out: &Path,
) -> Result<(), OcpmError> {
    let ocel = load_ocel(store, log_id)?;
    let io = |e: std::io::Error| OcpmError::Io(format!("cannot write {}: {e}", out.display()));
    match format {
        ExportFormat::OcelSqlite => write_ocel_sqlite(&ocel, out),
        ExportFormat::OcelJson => {
            let mut file = std::io::BufWriter::new(std::fs::File::create(out).map_err(io)?);
            write_ocel_json(&ocel, &mut file).map_err(io)?;
            file.flush().map_err(io)
        }
        ExportFormat::Xes | ExportFormat::Csv => {
            let log = flatten(&ocel, &flatten_type(&ocel, object_type)?);
            let mut file = std::io::BufWriter::new(std::fs::File::create(out).map_err(io)?);
            if format == ExportFormat::Xes {
                write_xes(&log, &mut file).map_err(io)?;
            } else {
                write_csv(&log, &mut file)?;
            }
            file.flush().map_err(io)
        }
    }
}

fn attribute_text(log: &EventLog, value: &AttrValue) -> String {
    match value {
        AttrValue::Str(symbol) | AttrValue::Id(symbol) => log.values.name(*symbol).to_string(),
        AttrValue::Int(number) => number.to_string(),
        AttrValue::Float(number) => number.to_string(),
        AttrValue::Bool(flag) => flag.to_string(),
        AttrValue::Time(time) => format_rfc3339(*time),
        AttrValue::List(_) | AttrValue::Container(_) => String::new(),
    }
}

/// Writes a classic log as CSV with PM4Py's column names; case attributes get the `case:` prefix.
pub fn write_csv(log: &EventLog, out: &mut impl Write) -> Result<(), OcpmError> {
    let mut case_keys: Vec<u32> = Vec::new();
    for attribute in log.case_attributes.iter().flatten() {
        if !case_keys.contains(&attribute.key) {
            case_keys.push(attribute.key);
        }
    }
    let mut event_keys: Vec<u32> = Vec::new();
    for attribute in &log.event_attributes {
        if !event_keys.contains(&attribute.key) {
            event_keys.push(attribute.key);
        }
    }
    let mut writer = csv::Writer::from_writer(out);
    let csv_error = |e: csv::Error| OcpmError::Io(format!("cannot write CSV: {e}"));
    let mut header: Vec<String> = [
        "case:concept:name",
        "concept:name",
        "time:timestamp",
        "org:resource",
        "lifecycle:transition",
    ]
    .map(String::from)
    .to_vec();
    header.extend(
        case_keys
            .iter()
            .map(|&k| format!("case:{}", log.keys.name(k))),
    );
    header.extend(event_keys.iter().map(|&k| log.keys.name(k).to_string()));
    writer.write_record(&header).map_err(csv_error)?;
    for case in 0..log.case_count() {
        let case_values: Vec<String> = case_keys
            .iter()
            .map(|key| {
                log.case_attributes[case]
                    .iter()
                    .find(|a| a.key == *key)
                    .map(|a| attribute_text(log, &a.value))
                    .unwrap_or_default()
            })
            .collect();
        for event in log.case_range(case) {
            let symbol = |table: &exos_mining::log::Symbols, id: u32| {
                if id == NO_SYM {
                    String::new()
                } else {
                    table.name(id).to_string()
                }
            };
            let mut record = vec![
                log.case_ids[case].clone(),
                log.activity_name(log.activity[event]).to_string(),
                if log.timestamp[event] == NO_TIME {
                    String::new()
                } else {
                    format_rfc3339(log.timestamp[event])
                },
                symbol(&log.resources, log.resource[event]),
                symbol(&log.lifecycles, log.lifecycle[event]),
            ];
            record.extend(case_values.iter().cloned());
            record.extend(event_keys.iter().map(|key| {
                log.attributes_of(event)
                    .iter()
                    .find(|a| a.key == *key)
                    .map(|a| attribute_text(log, &a.value))
                    .unwrap_or_default()
            }));
            writer.write_record(&record).map_err(csv_error)?;
        }
    }
    writer
        .flush()
        .map_err(|e| OcpmError::Io(format!("cannot write CSV: {e}")))
}

/// Builds the SQLite table suffix of a type: its name with only letters, digits and `_` kept.
fn table_suffix(name: &str, taken: &mut Vec<String>) -> String {
    let mut suffix: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    if suffix.is_empty() {
        suffix = "type".into();
    }
    let base = suffix.clone();
    let mut counter = 2;
    while taken.contains(&suffix) {
        suffix = format!("{base}{counter}");
        counter += 1;
    }
    taken.push(suffix.clone());
    suffix
}

fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// OCEL SQLite stores times as `YYYY-MM-DD HH:MM:SS[.ffffff]` text in UTC.
fn sqlite_time(time: i64) -> String {
    let text = format_rfc3339(if time == NO_TIME { 0 } else { time });
    text.trim_end_matches('Z')
        .trim_end_matches("+00:00")
        .replacen('T', " ", 1)
}

fn sqlite_value(value: &OcelValue) -> Value {
    match value {
        OcelValue::Str(text) => Value::Text(text.clone()),
        OcelValue::Int(number) => Value::Integer(*number),
        OcelValue::Float(number) => Value::Real(*number),
        OcelValue::Bool(flag) => Value::Integer(i64::from(*flag)),
        OcelValue::Time(time) => Value::Text(sqlite_time(*time)),
    }
}

fn sqlite_type(value_type: &str) -> &'static str {
    match value_type {
        "integer" | "boolean" => "INTEGER",
        "float" => "REAL",
        "time" => "TIMESTAMP",
        _ => "TEXT",
    }
}

/// Writes an OCEL 2.0 SQLite file (an existing file is replaced).
pub fn write_ocel_sqlite(ocel: &Ocel, out: &Path) -> Result<(), OcpmError> {
    if out.exists() {
        std::fs::remove_file(out)
            .map_err(|e| OcpmError::Io(format!("cannot replace {}: {e}", out.display())))?;
    }
    let sql = |e: rusqlite::Error| OcpmError::Io(format!("cannot write {}: {e}", out.display()));
    let mut connection = rusqlite::Connection::open(out).map_err(sql)?;
    let transaction = connection.transaction().map_err(sql)?;
    transaction
        .execute_batch(
            "CREATE TABLE event_map_type (ocel_type TEXT PRIMARY KEY, ocel_type_map TEXT);
             CREATE TABLE object_map_type (ocel_type TEXT PRIMARY KEY, ocel_type_map TEXT);
             CREATE TABLE event (ocel_id TEXT PRIMARY KEY, ocel_type TEXT);
             CREATE TABLE object (ocel_id TEXT PRIMARY KEY, ocel_type TEXT);
             CREATE TABLE event_object (ocel_event_id TEXT, ocel_object_id TEXT, ocel_qualifier TEXT,
                 PRIMARY KEY (ocel_event_id, ocel_object_id, ocel_qualifier));
             CREATE TABLE object_object (ocel_source_id TEXT, ocel_target_id TEXT, ocel_qualifier TEXT,
                 PRIMARY KEY (ocel_source_id, ocel_target_id, ocel_qualifier));",
        )
        .map_err(sql)?;
    write_type_tables(&transaction, ocel).map_err(sql)?;
    write_links(&transaction, ocel).map_err(sql)?;
    transaction.commit().map_err(sql)
}

fn create_type_table(
    transaction: &rusqlite::Transaction,
    table: &str,
    declaration: &TypeDeclaration,
    object: bool,
) -> rusqlite::Result<()> {
    let mut columns = vec![
        "ocel_id TEXT".to_string(),
        "ocel_time TIMESTAMP".to_string(),
    ];
    if object {
        columns.push("ocel_changed_field TEXT".into());
    }
    columns.extend(
        declaration
            .attributes
            .iter()
            .map(|(name, kind)| format!("{} {}", quote_identifier(name), sqlite_type(kind))),
    );
    transaction.execute_batch(&format!(
        "CREATE TABLE {} ({})",
        quote_identifier(table),
        columns.join(", ")
    ))
}

fn insert_row(
    transaction: &rusqlite::Transaction,
    table: &str,
    columns: &[String],
    values: Vec<Value>,
) -> rusqlite::Result<()> {
    let names: Vec<String> = columns.iter().map(|c| quote_identifier(c)).collect();
    let marks = vec!["?"; columns.len()].join(", ");
    let mut statement = transaction.prepare_cached(&format!(
        "INSERT INTO {} ({}) VALUES ({marks})",
        quote_identifier(table),
        names.join(", ")
    ))?;
    statement.execute(rusqlite::params_from_iter(values))?;
    Ok(())
}

fn write_type_tables(transaction: &rusqlite::Transaction, ocel: &Ocel) -> rusqlite::Result<()> {
    let mut taken = Vec::new();
    let mut event_tables = Vec::new();
    for declaration in &ocel.event_types {
        let suffix = table_suffix(&declaration.name, &mut taken);
        transaction.execute(
            "INSERT INTO event_map_type VALUES (?, ?)",
            (&declaration.name, &suffix),
        )?;
        let table = format!("event_{suffix}");
        create_type_table(transaction, &table, declaration, false)?;
        event_tables.push(table);
    }
    for event in &ocel.events {
        let declaration = &ocel.event_types[event.event_type];
        transaction.execute(
            "INSERT INTO event VALUES (?, ?)",
            (&event.id, &declaration.name),
        )?;
        let mut columns = vec!["ocel_id".to_string(), "ocel_time".to_string()];
        let mut values = vec![
            Value::Text(event.id.clone()),
            Value::Text(sqlite_time(event.time)),
        ];
        for (name, value) in &event.attributes {
            columns.push(name.clone());
            values.push(sqlite_value(value));
        }
        insert_row(
            transaction,
            &event_tables[event.event_type],
            &columns,
            values,
        )?;
    }
    let mut object_tables = Vec::new();
    taken.clear();
    for declaration in &ocel.object_types {
        let suffix = table_suffix(&declaration.name, &mut taken);
        transaction.execute(
            "INSERT INTO object_map_type VALUES (?, ?)",
            (&declaration.name, &suffix),
        )?;
        let table = format!("object_{suffix}");
        create_type_table(transaction, &table, declaration, true)?;
        object_tables.push(table);
    }
    for object in &ocel.objects {
        let declaration = &ocel.object_types[object.object_type];
        transaction.execute(
            "INSERT INTO object VALUES (?, ?)",
            (&object.id, &declaration.name),
        )?;
        write_object_rows(transaction, &object_tables[object.object_type], object)?;
    }
    Ok(())
}

/// Writes an object's initial values (time 0) in one row, then one row per later change.
fn write_object_rows(
    transaction: &rusqlite::Transaction,
    table: &str,
    object: &exos_mining::ocel::OcelObject,
) -> rusqlite::Result<()> {
    let mut columns = vec!["ocel_id".to_string(), "ocel_time".to_string()];
    let mut values = vec![Value::Text(object.id.clone()), Value::Text(sqlite_time(0))];
    for attribute in object.attributes.iter().filter(|a| a.time == 0) {
        columns.push(attribute.name.clone());
        values.push(sqlite_value(&attribute.value));
    }
    insert_row(transaction, table, &columns, values)?;
    for attribute in object.attributes.iter().filter(|a| a.time != 0) {
        insert_row(
            transaction,
            table,
            &[
                "ocel_id".into(),
                "ocel_time".into(),
                "ocel_changed_field".into(),
                attribute.name.clone(),
            ],
            vec![
                Value::Text(object.id.clone()),
                Value::Text(sqlite_time(attribute.time)),
                Value::Text(attribute.name.clone()),
                sqlite_value(&attribute.value),
            ],
        )?;
    }
    Ok(())
}

fn write_links(transaction: &rusqlite::Transaction, ocel: &Ocel) -> rusqlite::Result<()> {
    let mut event_object =
        transaction.prepare("INSERT OR IGNORE INTO event_object VALUES (?, ?, ?)")?;
    for link in &ocel.event_object {
        event_object.execute((
            &ocel.events[link.event].id,
            &ocel.objects[link.object].id,
            &link.qualifier,
        ))?;
    }
    let mut object_object =
        transaction.prepare("INSERT OR IGNORE INTO object_object VALUES (?, ?, ?)")?;
    for link in &ocel.object_object {
        object_object.execute((
            &ocel.objects[link.source].id,
            &ocel.objects[link.target].id,
            &link.qualifier,
        ))?;
    }
    Ok(())
}
