//! Importing a log file into the store: read, convert, write in one batch.
//!
//! The readers are `exos-mining`'s, with their issue reports and
//! [`OnError`] policy. Parquet has no reader there, so DuckDB copies the
//! file to a temporary CSV first. That DuckDB is in memory and runs only the
//! SQL written here. The CSV reader then maps the copy with the same column
//! options, so both formats report problems the same way.

use std::path::{Path, PathBuf};

use exos_mining::import::csv::{read_csv, CsvMapping, TimestampFormat};
use exos_mining::import::xes::read_xes;
use exos_mining::import::Progress;
use exos_mining::ocel::json::read_ocel_json;
use exos_mining::ocel::sqlite::read_ocel_sqlite;
use exos_mining::ocel::xml::read_ocel_xml;
use exos_mining::ocel::Ocel;
use exos_mining::{ImportOptions, ImportReport, Issue, IssueKind, OnError};
use exos_store::eventlogs::{check_log_id, find_event_log};
use exos_store::{EventLogEntry, Store};
use serde::Serialize;

use crate::convert::{event_log_to_ocel, ocel_to_rows};
use crate::OcpmError;

/// File formats `exos import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xes,
    Csv,
    Parquet,
    OcelJson,
    OcelXml,
    OcelSqlite,
}

impl Format {
    /// Returns the name used in flags, the API and the catalogue.
    pub fn name(self) -> &'static str {
        match self {
            Format::Xes => "xes",
            Format::Csv => "csv",
            Format::Parquet => "parquet",
            Format::OcelJson => "ocel-json",
            Format::OcelXml => "ocel-xml",
            Format::OcelSqlite => "ocel-sqlite",
        }
    }

    /// Parses a format name.
    pub fn parse(name: &str) -> Result<Self, OcpmError> {
        [
            Format::Xes,
            Format::Csv,
            Format::Parquet,
            Format::OcelJson,
            Format::OcelXml,
            Format::OcelSqlite,
        ]
        .into_iter()
        .find(|f| f.name() == name)
        .ok_or_else(|| {
            OcpmError::BadInput(format!(
                "unknown format {name:?}: use xes, csv, parquet, ocel-json, ocel-xml or ocel-sqlite"
            ))
        })
    }

    /// Guesses the format from the file name (`.gz` is looked through).
    pub fn detect(path: &Path) -> Result<Self, OcpmError> {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        let extension = name.rsplit('.').next().unwrap_or_default();
        match extension {
            "xes" => Ok(Format::Xes),
            "csv" => Ok(Format::Csv),
            "parquet" => Ok(Format::Parquet),
            "jsonocel" | "json" => Ok(Format::OcelJson),
            "xmlocel" | "xml" => Ok(Format::OcelXml),
            "sqlite" | "sqlite3" | "db" => Ok(Format::OcelSqlite),
            _ => Err(OcpmError::BadInput(format!(
                "cannot tell the format of {:?} from its name; pass --format",
                path.display().to_string()
            ))),
        }
    }
}

/// Column roles of CSV and Parquet files.
#[derive(Debug, Clone, Default)]
pub struct ColumnOptions {
    pub case: Option<String>,
    pub activity: Option<String>,
    pub timestamp: Option<String>,
    pub start_timestamp: Option<String>,
    pub resource: Option<String>,
    /// A chrono `strftime` pattern; RFC 3339 / ISO 8601 when absent.
    pub timestamp_format: Option<String>,
    /// Offset applied to times that carry none, as `+02:00`, `-0500` or `UTC`.
    pub timezone: Option<String>,
    pub delimiter: Option<u8>,
}

/// Everything an import needs besides the store.
#[derive(Clone)]
pub struct ImportRequest {
    pub path: PathBuf,
    /// The name the user gave the file (uploads are saved under a temporary name).
    pub file_name: String,
    pub format: Option<Format>,
    /// Log id; the file name's stem when absent.
    pub name: Option<String>,
    pub on_error: OnError,
    pub columns: ColumnOptions,
    /// Replace a log of the same name instead of failing.
    pub replace: bool,
    pub progress: Option<Progress>,
}

/// One reported problem, as the CLI prints it and the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IssueView {
    pub kind: &'static str,
    pub location: String,
    pub message: String,
}

impl From<&Issue> for IssueView {
    fn from(issue: &Issue) -> Self {
        Self {
            kind: issue_kind(issue.kind),
            location: issue.location.to_string(),
            message: issue.message.clone(),
        }
    }
}

fn issue_kind(kind: IssueKind) -> &'static str {
    match kind {
        IssueKind::Malformed => "malformed",
        IssueKind::BadTimestamp => "bad_timestamp",
        IssueKind::MissingValue => "missing_value",
        IssueKind::DanglingReference => "dangling_reference",
        IssueKind::IntegerId => "integer_id",
        IssueKind::BadValue => "bad_value",
    }
}

/// The result of an import: the catalogue row and the importer's report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportSummary {
    pub log: EventLogEntry,
    pub skipped: usize,
    pub repaired: usize,
    /// All problems found; `issues` lists the first ones.
    pub issue_count: usize,
    pub issues: Vec<IssueView>,
}

/// Parses `--on-error` values.
pub fn parse_on_error(text: &str) -> Result<OnError, OcpmError> {
    match text {
        "skip" => Ok(OnError::Skip),
        "repair" => Ok(OnError::Repair),
        "fail" => Ok(OnError::Fail),
        other => Err(OcpmError::BadInput(format!(
            "invalid on-error policy {other:?}: use skip, repair or fail"
        ))),
    }
}

/// Parses a time-zone offset (`UTC`, `Z`, `+02:00`, `-0530`) to seconds east of UTC.
pub fn parse_offset(text: &str) -> Result<i32, OcpmError> {
    let invalid = || {
        OcpmError::BadInput(format!(
            "invalid time zone {text:?}: use UTC or an offset such as +02:00 or -0500"
        ))
    };
    if matches!(text, "UTC" | "utc" | "Z" | "z") {
        return Ok(0);
    }
    let (sign, rest) = match text.as_bytes().first() {
        Some(b'+') => (1, &text[1..]),
        Some(b'-') => (-1, &text[1..]),
        _ => return Err(invalid()),
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(invalid());
    }
    let hours: i32 = digits[..2].parse().map_err(|_| invalid())?;
    let minutes: i32 = digits[2..].parse().map_err(|_| invalid())?;
    if hours > 14 || minutes > 59 {
        return Err(invalid());
    }
    Ok(sign * (hours * 3600 + minutes * 60))
}

fn csv_mapping(columns: &ColumnOptions) -> CsvMapping {
    let defaults = CsvMapping::default();
    let has_own_columns = columns.case.is_some() || columns.activity.is_some();
    CsvMapping {
        case: columns.case.clone().unwrap_or(defaults.case),
        activity: columns.activity.clone().unwrap_or(defaults.activity),
        timestamp: columns.timestamp.clone().unwrap_or(defaults.timestamp),
        start_timestamp: columns.start_timestamp.clone(),
        // The PM4Py column names are looked for only when the caller named no columns.
        resource: columns.resource.clone().or(if has_own_columns {
            None
        } else {
            defaults.resource
        }),
        lifecycle: if has_own_columns {
            None
        } else {
            defaults.lifecycle
        },
        delimiter: columns.delimiter.unwrap_or(b','),
        format: match &columns.timestamp_format {
            Some(pattern) => TimestampFormat::Pattern(pattern.clone()),
            None => TimestampFormat::Iso8601,
        },
    }
}

/// Copies a Parquet file to CSV with DuckDB; times are written in RFC 3339, UTC.
fn parquet_to_csv(path: &Path, csv: &Path) -> Result<(), OcpmError> {
    let failed = |e: duckdb::Error| {
        OcpmError::BadInput(format!("cannot read {} as Parquet: {e}", path.display()))
    };
    let quote = |p: &Path| format!("'{}'", p.display().to_string().replace('\'', "''"));
    let connection = duckdb::Connection::open_in_memory().map_err(failed)?;
    connection
        .execute_batch(&format!(
            "SET TimeZone = 'UTC'; COPY (SELECT * FROM read_parquet({})) TO {} \
             (HEADER, DELIMITER ',', TIMESTAMPFORMAT '%Y-%m-%dT%H:%M:%S.%fZ')",
            quote(path),
            quote(csv)
        ))
        .map_err(failed)
}

/// Reads the file into an OCEL log with the importer's report.
pub fn read_file(
    request: &ImportRequest,
    format: Format,
) -> Result<(Ocel, ImportReport), OcpmError> {
    let mut options = ImportOptions {
        on_error: request.on_error,
        max_issues: 200,
        progress: request.progress.clone(),
        progress_every_bytes: 1 << 20,
        ..ImportOptions::default()
    };
    if let Some(zone) = &request.columns.timezone {
        options.default_offset_seconds = parse_offset(zone)?;
    }
    let path = request.path.as_path();
    let mapping = || csv_mapping(&request.columns);
    let (ocel, report) = match format {
        Format::Xes => {
            let (log, report) = read_xes(path, &options)?;
            (event_log_to_ocel(&log), report)
        }
        Format::Csv => {
            let (log, report) = read_csv(path, &mapping(), &options)?;
            (event_log_to_ocel(&log), report)
        }
        Format::Parquet => {
            let folder = tempfile::tempdir().map_err(|e| OcpmError::Io(e.to_string()))?;
            let csv = folder.path().join("log.csv");
            parquet_to_csv(path, &csv)?;
            let (log, report) = read_csv(&csv, &mapping(), &options)?;
            (event_log_to_ocel(&log), report)
        }
        Format::OcelJson => read_ocel_json(path, &options)?,
        Format::OcelXml => read_ocel_xml(path, &options)?,
        Format::OcelSqlite => read_ocel_sqlite(path, &options)?,
    };
    Ok((ocel, report))
}

/// Returns the log id to use: the given name, or the file name's stem made safe.
pub fn log_id_for(request: &ImportRequest) -> Result<String, OcpmError> {
    if let Some(name) = &request.name {
        check_log_id(name).map_err(OcpmError::BadInput)?;
        return Ok(name.clone());
    }
    let stem = request
        .file_name
        .split('.')
        .next()
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(exos_store::eventlogs::MAX_LOG_ID_CHARS)
        .collect::<String>();
    let id = if stem.is_empty() {
        "log".to_string()
    } else {
        stem
    };
    check_log_id(&id).map_err(OcpmError::BadInput)?;
    Ok(id)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Imports one file: reads it, converts it and writes it to the store in one batch.
pub fn import_file(store: &dyn Store, request: &ImportRequest) -> Result<ImportSummary, OcpmError> {
    let log_id = log_id_for(request)?;
    if find_event_log(store, &log_id)?.is_some() {
        if !request.replace {
            return Err(OcpmError::Conflict(format!(
                "a log named {log_id:?} exists; pick another name or replace it"
            )));
        }
        store.delete_event_log(&log_id)?;
    }
    let format = match request.format {
        Some(format) => format,
        None => Format::detect(Path::new(&request.file_name))?,
    };
    let (ocel, report) = read_file(request, format)?;
    let rows = ocel_to_rows(&ocel);
    let entry = EventLogEntry {
        log_id: log_id.clone(),
        name: request.name.clone().unwrap_or_else(|| log_id.clone()),
        source_file: request.file_name.clone(),
        format: format.name().to_string(),
        imported_ms: now_ms(),
        events: rows.events.len() as u64,
        objects: rows.objects.len() as u64,
        event_object_links: rows.event_objects.len() as u64,
        object_object_links: rows.object_objects.len() as u64,
        issues: report.issue_count as u64,
    };
    store.put_event_log(&entry, &rows)?;
    Ok(ImportSummary {
        log: entry,
        skipped: report.skipped,
        repaired: report.repaired,
        issue_count: report.issue_count,
        issues: report.issues.iter().map(IssueView::from).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_parses_common_spellings() {
        assert_eq!(parse_offset("UTC").unwrap(), 0);
        assert_eq!(parse_offset("+02:00").unwrap(), 7200);
        assert_eq!(parse_offset("-0530").unwrap(), -19800);
    }

    #[test]
    fn offset_rejects_names_and_garbage() {
        for bad in ["Europe/Berlin", "+2", "+25:00", ""] {
            assert!(parse_offset(bad).is_err(), "{bad:?} passed");
        }
    }

    #[test]
    fn format_detects_from_name() {
        assert_eq!(Format::detect(Path::new("a.xes.gz")).unwrap(), Format::Xes);
        assert_eq!(
            Format::detect(Path::new("b.jsonocel")).unwrap(),
            Format::OcelJson
        );
        assert_eq!(
            Format::detect(Path::new("c.sqlite")).unwrap(),
            Format::OcelSqlite
        );
        assert!(Format::detect(Path::new("d.txt")).is_err());
    }
}
