//! CSV importer with a column mapping.
//!
//! One row is one event. The caller names the case, activity and timestamp
//! columns, and optionally start timestamp, resource and lifecycle columns.
//! Every other column becomes a string attribute: of the case when its name
//! starts with `case:` (the PM4Py convention, keeping the value of the
//! case's first row), and of the event otherwise. Rows of one case need not be
//! adjacent. Empty cells are absent values.

use std::path::Path;

use chrono::{DateTime, NaiveDateTime};
use rustc_hash::FxHashMap;

use super::{
    read_file_bytes, ImportError, ImportOptions, ImportReport, IssueKind, IssueSink, Location,
    OnError,
};
use crate::log::{
    AttrValue, Attribute, EventFields, EventLog, LogBuilder, Timestamp, NO_SYM, NO_TIME,
};
use crate::time::{from_chrono, parse_iso8601};

/// Timestamp notation of the file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum TimestampFormat {
    /// ISO 8601 / RFC 3339 with `T` or a space, optional fraction and offset.
    #[default]
    Iso8601,
    /// A chrono `strftime` pattern, such as `%d-%m-%Y %H:%M:%S`; with `%z`
    /// the offset comes from the text, otherwise the default offset applies.
    Pattern(String),
}

/// Column roles: which column contains the case, the activity and so on.
#[derive(Debug, Clone)]
pub struct CsvMapping {
    /// Case id column.
    pub case: String,
    /// Activity column.
    pub activity: String,
    /// Complete timestamp column.
    pub timestamp: String,
    /// Optional start timestamp column.
    pub start_timestamp: Option<String>,
    /// Optional resource column.
    pub resource: Option<String>,
    /// Optional lifecycle transition column.
    pub lifecycle: Option<String>,
    /// Field delimiter.
    pub delimiter: u8,
    /// Timestamp format of both timestamp columns.
    pub format: TimestampFormat,
}

impl Default for CsvMapping {
    /// Returns the PM4Py/XES column names.
    fn default() -> Self {
        CsvMapping {
            case: "case:concept:name".into(),
            activity: "concept:name".into(),
            timestamp: "time:timestamp".into(),
            start_timestamp: None,
            resource: Some("org:resource".into()),
            lifecycle: Some("lifecycle:transition".into()),
            delimiter: b',',
            format: TimestampFormat::Iso8601,
        }
    }
}

/// Reads a CSV file (gzip allowed) into an event log.
pub fn read_csv(
    path: &Path,
    mapping: &CsvMapping,
    options: &ImportOptions,
) -> Result<(EventLog, ImportReport), ImportError> {
    let bytes = read_file_bytes(path)?;
    parse_csv(&bytes, mapping, options)
}

/// Column positions resolved from the header.
struct Columns {
    case: usize,
    activity: usize,
    timestamp: usize,
    start: Option<usize>,
    resource: Option<usize>,
    lifecycle: Option<usize>,
    /// (position, key, is a case attribute) of every other column.
    others: Vec<(usize, String, bool)>,
}

/// A parsed row waiting for its case to be assembled.
struct Row {
    fields: EventFields,
    attributes: Vec<Attribute>,
}

/// Parses CSV text held in memory.
pub fn parse_csv(
    bytes: &[u8],
    mapping: &CsvMapping,
    options: &ImportOptions,
) -> Result<(EventLog, ImportReport), ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(mapping.delimiter)
        .flexible(true)
        .from_reader(bytes);
    let header = reader
        .headers()
        .map_err(|e| ImportError::Unsupported(format!("unreadable CSV header: {e}")))?
        .clone();
    let columns = resolve_columns(&header, mapping)?;
    let mut sink = IssueSink::new(options);
    let mut builder = LogBuilder::default();
    builder.sort_by_time = options.sort_by_time;

    let mut case_index: FxHashMap<String, usize> = FxHashMap::default();
    let mut cases: Vec<(String, Vec<Attribute>, Vec<Row>)> = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut row_number = 1u64;
    let total = bytes.len() as u64;
    let mut next_progress = options.progress_every_bytes;
    loop {
        row_number += 1;
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(error) => {
                let location = Location::Row {
                    table: "csv".into(),
                    row: row_number,
                };
                sink.raise(
                    IssueKind::Malformed,
                    location,
                    format!("unreadable CSV row: {error}"),
                )?;
                sink.skipped();
                continue;
            }
        }
        let position = reader.position().byte();
        if position >= next_progress {
            next_progress = position + options.progress_every_bytes;
            if let Some(progress) = &options.progress {
                progress(position, Some(total));
            }
        }
        let Some((case_id, row, case_attributes)) = read_row(
            &record,
            &columns,
            mapping,
            options,
            &mut builder,
            &mut sink,
            row_number,
        )?
        else {
            continue;
        };
        let index = *case_index.entry(case_id.clone()).or_insert_with(|| {
            cases.push((case_id, case_attributes, Vec::new()));
            cases.len() - 1
        });
        cases[index].2.push(row);
    }

    for (case_id, attributes, rows) in cases {
        builder.begin_case(case_id, attributes);
        for mut row in rows {
            builder.push_event(&row.fields, &mut row.attributes);
        }
        builder.end_case();
    }
    let log = builder.finish();
    let mut report = sink.report;
    report.cases = log.case_count();
    report.events = log.event_count();
    Ok((log, report))
}

fn resolve_columns(
    header: &csv::StringRecord,
    mapping: &CsvMapping,
) -> Result<Columns, ImportError> {
    let find = |name: &str| header.iter().position(|h| h == name);
    let required = |name: &str| {
        find(name).ok_or_else(|| {
            ImportError::Unsupported(format!(
                "CSV column {name:?} not found; the header has {:?}",
                header.iter().collect::<Vec<_>>()
            ))
        })
    };
    let optional = |name: &Option<String>| name.as_deref().and_then(find);
    let mut columns = Columns {
        case: required(&mapping.case)?,
        activity: required(&mapping.activity)?,
        timestamp: required(&mapping.timestamp)?,
        start: optional(&mapping.start_timestamp),
        resource: optional(&mapping.resource),
        lifecycle: optional(&mapping.lifecycle),
        others: Vec::new(),
    };
    let mapped = [
        Some(columns.case),
        Some(columns.activity),
        Some(columns.timestamp),
        columns.start,
        columns.resource,
        columns.lifecycle,
    ];
    for (position, name) in header.iter().enumerate() {
        if mapped.contains(&Some(position)) {
            continue;
        }
        match name.strip_prefix("case:") {
            Some(key) => columns.others.push((position, key.to_string(), true)),
            None => columns.others.push((position, name.to_string(), false)),
        }
    }
    Ok(columns)
}

#[allow(clippy::too_many_arguments)]
fn read_row(
    record: &csv::StringRecord,
    columns: &Columns,
    mapping: &CsvMapping,
    options: &ImportOptions,
    builder: &mut LogBuilder,
    sink: &mut IssueSink,
    row_number: u64,
) -> Result<Option<(String, Row, Vec<Attribute>)>, ImportError> {
    let location = || Location::Row {
        table: "csv".into(),
        row: row_number,
    };
    let cell = |position: usize| record.get(position).unwrap_or("");
    let case_id = cell(columns.case);
    let activity = cell(columns.activity);
    if case_id.is_empty() || activity.is_empty() {
        let what = if case_id.is_empty() {
            "case id"
        } else {
            "activity"
        };
        sink.raise(
            IssueKind::MissingValue,
            location(),
            format!("row has an empty {what}; it is skipped"),
        )?;
        sink.skipped();
        return Ok(None);
    }

    let mut fields = EventFields {
        activity: builder.intern_activity(activity),
        timestamp: NO_TIME,
        start: NO_TIME,
        resource: NO_SYM,
        lifecycle: NO_SYM,
    };
    for (column, slot) in [
        (Some(columns.timestamp), &mut fields.timestamp),
        (columns.start, &mut fields.start),
    ] {
        let Some(column) = column else { continue };
        let text = cell(column);
        if text.is_empty() {
            continue;
        }
        match parse_timestamp(text, &mapping.format, options.default_offset_seconds) {
            Some(time) => *slot = time,
            None => {
                let message = format!(
                    "invalid timestamp {text:?} in column {:?}",
                    record_header_name(columns, column, mapping)
                );
                if sink.raise(IssueKind::BadTimestamp, location(), message)? == OnError::Repair {
                    sink.repaired();
                } else {
                    sink.skipped();
                    return Ok(None);
                }
            }
        }
    }
    let log = builder.log_mut();
    if let Some(text) = columns.resource.map(cell).filter(|t| !t.is_empty()) {
        fields.resource = log.resources.intern(text);
    }
    if let Some(text) = columns.lifecycle.map(cell).filter(|t| !t.is_empty()) {
        fields.lifecycle = log.lifecycles.intern(text);
    }

    let mut attributes = Vec::new();
    let mut case_attributes = Vec::new();
    for (position, key, is_case) in &columns.others {
        let text = cell(*position);
        if text.is_empty() {
            continue;
        }
        let attribute = Attribute {
            key: log.keys.intern(key),
            value: AttrValue::Str(log.values.intern(text)),
            nested: Vec::new(),
        };
        if *is_case {
            case_attributes.push(attribute);
        } else {
            attributes.push(attribute);
        }
    }
    Ok(Some((
        case_id.to_string(),
        Row { fields, attributes },
        case_attributes,
    )))
}

fn record_header_name<'a>(columns: &Columns, column: usize, mapping: &'a CsvMapping) -> &'a str {
    if column == columns.timestamp {
        &mapping.timestamp
    } else {
        mapping.start_timestamp.as_deref().unwrap_or("")
    }
}

/// Parses one timestamp cell.
pub fn parse_timestamp(
    text: &str,
    format: &TimestampFormat,
    default_offset_seconds: i32,
) -> Option<Timestamp> {
    match format {
        TimestampFormat::Iso8601 => parse_iso8601(text, default_offset_seconds),
        TimestampFormat::Pattern(pattern) if pattern.contains("%z") || pattern.contains("%:z") => {
            DateTime::parse_from_str(text.trim(), pattern)
                .ok()
                .map(|t| from_chrono(t.to_utc()))
        }
        TimestampFormat::Pattern(pattern) => {
            let naive = NaiveDateTime::parse_from_str(text.trim(), pattern)
                .ok()
                .or_else(|| {
                    chrono::NaiveDate::parse_from_str(text.trim(), pattern)
                        .ok()
                        .and_then(|d| d.and_hms_opt(0, 0, 0))
                })?;
            Some(naive.and_utc().timestamp_micros() - default_offset_seconds as i64 * 1_000_000)
        }
    }
}
