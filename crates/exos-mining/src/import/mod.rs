//! Importers for XES and CSV event logs, with the shared error policy.
//!
//! Real files are imperfect: a truncated document, an unparseable
//! timestamp, an event without an activity. Every importer reports each
//! problem as an [`Issue`] with its location and handles it according to
//! [`OnError`]: skip the broken record, repair it when a sensible repair
//! exists, or stop with [`ImportError::Invalid`]. The import tests feed
//! truncated, mistyped and dangling input and check that none panics.
//! Long imports call [`ImportOptions::progress`] with the bytes read so far.

pub mod csv;
pub mod xes;

use std::fmt;
use std::sync::Arc;

/// Policy of an importer for a broken record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnError {
    /// Drop the broken record (event, case, object or link) and go on.
    #[default]
    Skip,
    /// Keep the record with a repaired value where one exists (a missing
    /// timestamp stays missing, a truncated document is closed, an integer
    /// id becomes its decimal text); otherwise skip it.
    Repair,
    /// Stop at the first problem.
    Fail,
}

/// Location of a problem in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// 1-based line and column in a text file.
    Text {
        /// Line number, from 1.
        line: u64,
        /// Column number in bytes, from 1.
        column: u64,
    },
    /// A row of a table (CSV line number including the header, or an
    /// SQLite table's row number from 1).
    Row {
        /// Table name (`events`, `event_object`, …) or the CSV file.
        table: String,
        /// Row number, from 1.
        row: u64,
    },
    /// A path inside a JSON document, such as `events[3].relationships[0]`.
    Json(String),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Text { line, column } => write!(f, "line {line}, column {column}"),
            Location::Row { table, row } => write!(f, "{table} row {row}"),
            Location::Json(path) => write!(f, "{path}"),
        }
    }
}

/// The kind of an import problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IssueKind {
    /// The document is not well-formed (XML syntax, JSON syntax, truncation).
    Malformed,
    /// A timestamp could not be parsed.
    BadTimestamp,
    /// A required value (activity, case id, object id) is missing.
    MissingValue,
    /// A link names an event or object that does not exist.
    DanglingReference,
    /// An id was an integer where text was expected; it is read as text.
    IntegerId,
    /// A value did not match its declared type.
    BadValue,
}

/// One problem found during an import.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    /// Kind of problem.
    pub kind: IssueKind,
    /// Where.
    pub location: Location,
    /// Human-readable detail naming the value.
    pub message: String,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// Counts and the first issues of an import.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportReport {
    /// Cases (or objects, for OCEL) read.
    pub cases: usize,
    /// Events read.
    pub events: usize,
    /// Records dropped because of a problem.
    pub skipped: usize,
    /// Records kept with a repaired value.
    pub repaired: usize,
    /// Total problems found, including those not kept in `issues`.
    pub issue_count: usize,
    /// The first [`ImportOptions::max_issues`] problems, in file order.
    pub issues: Vec<Issue>,
}

/// Callback receiving (bytes read, total bytes if known).
pub type Progress = Arc<dyn Fn(u64, Option<u64>) + Send + Sync>;

/// Options shared by every importer.
#[derive(Clone)]
pub struct ImportOptions {
    /// Policy for broken records.
    pub on_error: OnError,
    /// Number of issues kept in the report (all are counted).
    pub max_issues: usize,
    /// Offset in seconds applied to timestamps that carry none (0 = UTC).
    pub default_offset_seconds: i32,
    /// Called every [`ImportOptions::progress_every_bytes`] bytes.
    pub progress: Option<Progress>,
    /// Progress granularity in bytes.
    pub progress_every_bytes: u64,
    /// Stable-sort the events of each case by time, as PM4Py does before any
    /// analysis.
    pub sort_by_time: bool,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            on_error: OnError::Skip,
            max_issues: 20,
            default_offset_seconds: 0,
            progress: None,
            progress_every_bytes: 16 << 20,
            sort_by_time: true,
        }
    }
}

impl fmt::Debug for ImportOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImportOptions")
            .field("on_error", &self.on_error)
            .field("max_issues", &self.max_issues)
            .field("default_offset_seconds", &self.default_offset_seconds)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// Import failure.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file could not be opened or read.
    #[error("failed to read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A problem was found and [`OnError::Fail`] was set.
    #[error("invalid input at {0}; pass OnError::Skip or OnError::Repair to import the rest")]
    Invalid(Issue),
    /// The input cannot be read at all (not the expected format).
    #[error("unsupported input: {0}")]
    Unsupported(String),
}

/// Collects issues and applies the [`OnError`] policy; shared by importers.
#[derive(Debug)]
pub(crate) struct IssueSink {
    policy: OnError,
    max_issues: usize,
    pub(crate) report: ImportReport,
}

impl IssueSink {
    pub(crate) fn new(options: &ImportOptions) -> Self {
        IssueSink {
            policy: options.on_error,
            max_issues: options.max_issues,
            report: ImportReport::default(),
        }
    }

    /// Records a problem. Returns the policy to apply, or the error that ends
    /// the import under [`OnError::Fail`].
    pub(crate) fn raise(
        &mut self,
        kind: IssueKind,
        location: Location,
        message: String,
    ) -> Result<OnError, ImportError> {
        let issue = Issue {
            kind,
            location,
            message,
        };
        self.report.issue_count += 1;
        if self.policy == OnError::Fail {
            return Err(ImportError::Invalid(issue));
        }
        if self.report.issues.len() < self.max_issues {
            self.report.issues.push(issue);
        }
        Ok(self.policy)
    }

    /// Counts a dropped record.
    pub(crate) fn skipped(&mut self) {
        self.report.skipped += 1;
    }

    /// Counts a repaired record.
    pub(crate) fn repaired(&mut self) {
        self.report.repaired += 1;
    }
}

/// Reads a whole file, decompressing it when it starts with the gzip magic
/// bytes.
pub(crate) fn read_file_bytes(path: &std::path::Path) -> Result<Vec<u8>, ImportError> {
    use std::io::Read;
    let io_error = |source| ImportError::Io {
        path: path.display().to_string(),
        source,
    };
    let raw = std::fs::read(path).map_err(io_error)?;
    if !raw.starts_with(&[0x1f, 0x8b]) {
        return Ok(raw);
    }
    let mut decoded = Vec::with_capacity(raw.len() * 8);
    flate2::read::MultiGzDecoder::new(&raw[..])
        .read_to_end(&mut decoded)
        .map_err(io_error)?;
    Ok(decoded)
}

/// 1-based line and column of byte `offset` in `text`.
pub(crate) fn line_column(text: &[u8], offset: usize) -> Location {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    Location::Text {
        line,
        column: (offset - line_start) as u64 + 1,
    }
}
