//! `exos import` and `exos export`: event-log files into and out of the store.
//!
//! Without `--url` they open the data folder's embedded store, which works
//! only while no server has it open; with `--url` they go through a running
//! server's `/api/logs` routes. Import prints the importer's report: every
//! problem kept with its location, and the counts of skipped and repaired
//! records.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::ValueEnum;
use exos_ocpm::export::{export_log, ExportFormat};
use exos_ocpm::import::{import_file, ColumnOptions, Format, ImportRequest, ImportSummary};
use exos_store::{DuckOptions, DuckStore};
use indicatif::{ProgressBar, ProgressStyle};

use crate::sql_cmd::{authorization, Target};

/// Import formats, as flags spell them.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ImportFormat {
    Xes,
    Csv,
    OcelJson,
    OcelXml,
    OcelSqlite,
    Parquet,
}

impl From<ImportFormat> for Format {
    fn from(format: ImportFormat) -> Self {
        match format {
            ImportFormat::Xes => Format::Xes,
            ImportFormat::Csv => Format::Csv,
            ImportFormat::OcelJson => Format::OcelJson,
            ImportFormat::OcelXml => Format::OcelXml,
            ImportFormat::OcelSqlite => Format::OcelSqlite,
            ImportFormat::Parquet => Format::Parquet,
        }
    }
}

/// The policy for a broken record.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OnErrorFlag {
    /// Drop the record and go on.
    Skip,
    /// Keep the record with a repaired value where one exists, else drop it.
    Repair,
    /// Stop at the first problem.
    Fail,
}

/// Export formats, as flags spell them.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormatFlag {
    Xes,
    Csv,
    OcelJson,
    OcelSqlite,
}

/// Flags of `exos import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The log file: XES (.xes, .xes.gz), CSV, Parquet or OCEL 2.0 (.jsonocel, .xmlocel, .sqlite).
    pub file: PathBuf,
    /// Name of the log in the store (letters, digits, '.', '_', '-'); the file name by default.
    #[arg(long)]
    pub name: Option<String>,
    /// File format; guessed from the file name when absent.
    #[arg(long, value_enum)]
    pub format: Option<ImportFormat>,
    /// Policy for a broken record (bad timestamp, dangling reference, integer id, …).
    #[arg(long, value_enum, default_value_t = OnErrorFlag::Skip)]
    pub on_error: OnErrorFlag,
    /// Replace a stored log of the same name.
    #[arg(long)]
    pub replace: bool,
    /// CSV/Parquet: case id column (default case:concept:name).
    #[arg(long)]
    pub csv_case: Option<String>,
    /// CSV/Parquet: activity column (default concept:name).
    #[arg(long)]
    pub csv_activity: Option<String>,
    /// CSV/Parquet: timestamp column (default time:timestamp).
    #[arg(long)]
    pub csv_timestamp: Option<String>,
    /// CSV/Parquet: start timestamp column.
    #[arg(long)]
    pub csv_start_timestamp: Option<String>,
    /// CSV/Parquet: resource column (default org:resource when no column is named).
    #[arg(long)]
    pub csv_resource: Option<String>,
    /// CSV: strftime pattern of the timestamps, e.g. "%d-%m-%Y %H:%M"; ISO 8601 when absent.
    #[arg(long)]
    pub csv_timestamp_format: Option<String>,
    /// Offset of timestamps that carry none: UTC, +02:00 or -0500 (all formats).
    #[arg(long)]
    pub csv_timezone: Option<String>,
    /// CSV field delimiter (one character).
    #[arg(long, default_value = ",")]
    pub csv_delimiter: char,
    #[command(flatten)]
    pub target: Target,
}

/// Flags of `exos export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Name of the stored log.
    #[arg(long)]
    pub log: String,
    /// Output format.
    #[arg(long, value_enum)]
    pub format: ExportFormatFlag,
    /// Output file (replaced when it exists).
    #[arg(long)]
    pub out: PathBuf,
    /// XES/CSV: the object type whose objects become cases (needed when the log has several).
    #[arg(long)]
    pub object_type: Option<String>,
    #[command(flatten)]
    pub target: Target,
}

fn format_name(format: ExportFormatFlag) -> &'static str {
    match format {
        ExportFormatFlag::Xes => "xes",
        ExportFormatFlag::Csv => "csv",
        ExportFormatFlag::OcelJson => "ocel-json",
        ExportFormatFlag::OcelSqlite => "ocel-sqlite",
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "log".into())
}

/// Creates a byte-count bar for the file being read.
fn progress_bar(total: u64) -> ProgressBar {
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template(
        "importing [{elapsed_precise}] {bar:30} {bytes}/{total_bytes} ({eta})",
    ) {
        bar.set_style(style);
    }
    bar
}

fn import_request(args: &ImportArgs) -> anyhow::Result<ImportRequest> {
    if !args.csv_delimiter.is_ascii() {
        anyhow::bail!(
            "invalid --csv-delimiter {:?}: use one ASCII character",
            args.csv_delimiter
        );
    }
    Ok(ImportRequest {
        path: args.file.clone(),
        file_name: file_name(&args.file),
        format: args.format.map(Format::from),
        name: args.name.clone(),
        on_error: exos_ocpm::import::parse_on_error(on_error_name(args.on_error))?,
        columns: ColumnOptions {
            case: args.csv_case.clone(),
            activity: args.csv_activity.clone(),
            timestamp: args.csv_timestamp.clone(),
            start_timestamp: args.csv_start_timestamp.clone(),
            resource: args.csv_resource.clone(),
            timestamp_format: args.csv_timestamp_format.clone(),
            timezone: args.csv_timezone.clone(),
            delimiter: Some(args.csv_delimiter as u8),
        },
        replace: args.replace,
        progress: None,
    })
}

fn on_error_name(flag: OnErrorFlag) -> &'static str {
    match flag {
        OnErrorFlag::Skip => "skip",
        OnErrorFlag::Repair => "repair",
        OnErrorFlag::Fail => "fail",
    }
}

/// Runs `exos import`.
pub fn run_import(args: ImportArgs) -> anyhow::Result<()> {
    let mut request = import_request(&args)?;
    let summary = match &args.target.url {
        Some(url) => import_remote(&args, url)?,
        None => {
            let total = std::fs::metadata(&args.file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", args.file.display()))?
                .len();
            let bar = Arc::new(progress_bar(total));
            let shown = Arc::clone(&bar);
            request.progress = Some(Arc::new(move |read, _| shown.set_position(read)));
            let store = DuckStore::open(&args.target.data_dir, &DuckOptions::default())?;
            let summary = import_file(&store, &request);
            bar.finish_and_clear();
            summary?
        }
    };
    print_summary(&summary);
    Ok(())
}

fn import_remote(args: &ImportArgs, url: &str) -> anyhow::Result<ImportSummary> {
    let endpoint = format!("{}/api/logs/import", url.trim_end_matches('/'));
    let body = std::fs::read(&args.file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", args.file.display()))?;
    let mut query: Vec<(&str, String)> = vec![("file", file_name(&args.file))];
    let optional = [
        ("name", args.name.clone()),
        ("case", args.csv_case.clone()),
        ("activity", args.csv_activity.clone()),
        ("timestamp", args.csv_timestamp.clone()),
        ("start_timestamp", args.csv_start_timestamp.clone()),
        ("resource", args.csv_resource.clone()),
        ("timestamp_format", args.csv_timestamp_format.clone()),
        ("timezone", args.csv_timezone.clone()),
    ];
    query.extend(optional.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
    if let Some(format) = args.format {
        query.push(("format", Format::from(format).name().to_string()));
    }
    query.push(("on_error", on_error_name(args.on_error).into()));
    query.push(("delimiter", args.csv_delimiter.to_string()));
    if args.replace {
        query.push(("replace", "true".into()));
    }
    let mut request = ureq::post(&endpoint)
        .set("authorization", &authorization(&args.target)?)
        .set("content-type", "application/octet-stream");
    for (key, value) in &query {
        request = request.query(key, value);
    }
    eprintln!("uploading {} bytes to {endpoint}", body.len());
    let value = answer(request.send_bytes(&body), &endpoint)?;
    Ok(summary_from_json(&value))
}

fn answer(
    response: Result<ureq::Response, ureq::Error>,
    endpoint: &str,
) -> anyhow::Result<serde_json::Value> {
    Ok(response
        .map_err(|e| request_failed(e, endpoint))?
        .into_json()?)
}

/// Turns a failed request into an error naming the endpoint and the server's message.
fn request_failed(error: ureq::Error, endpoint: &str) -> anyhow::Error {
    match error {
        ureq::Error::Status(status, response) => {
            let error: serde_json::Value = response.into_json().unwrap_or_default();
            let message = error["error"]["message"].as_str().unwrap_or("no message");
            anyhow::anyhow!("{endpoint} returned {status}: {message}")
        }
        error => anyhow::anyhow!("cannot reach {endpoint}: {error}"),
    }
}

/// Rebuilds a summary from the API's JSON, for printing.
fn summary_from_json(value: &serde_json::Value) -> ImportSummary {
    let count = |v: &serde_json::Value| v.as_u64().unwrap_or(0);
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let log = &value["log"];
    ImportSummary {
        log: exos_store::EventLogEntry {
            log_id: text(&log["log_id"]),
            name: text(&log["name"]),
            source_file: text(&log["source_file"]),
            format: text(&log["format"]),
            imported_ms: log["imported_ms"].as_i64().unwrap_or(0),
            events: count(&log["events"]),
            objects: count(&log["objects"]),
            event_object_links: count(&log["event_object_links"]),
            object_object_links: count(&log["object_object_links"]),
            issues: count(&log["issues"]),
        },
        skipped: count(&value["skipped"]) as usize,
        repaired: count(&value["repaired"]) as usize,
        issue_count: count(&value["issue_count"]) as usize,
        issues: value["issues"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|issue| exos_ocpm::import::IssueView {
                kind: "reported",
                location: text(&issue["location"]),
                message: format!("{} ({})", text(&issue["message"]), text(&issue["kind"])),
            })
            .collect(),
    }
}

fn print_summary(summary: &ImportSummary) {
    let log = &summary.log;
    println!(
        "imported {:?} ({}, from {}): {} events, {} objects, {} event-object links, {} object-object links",
        log.log_id, log.format, log.source_file, log.events, log.objects, log.event_object_links, log.object_object_links
    );
    println!(
        "issues: {} found, {} records skipped, {} repaired",
        summary.issue_count, summary.skipped, summary.repaired
    );
    for issue in &summary.issues {
        println!("  {}: {} [{}]", issue.location, issue.message, issue.kind);
    }
    if summary.issue_count > summary.issues.len() {
        println!(
            "  … and {} more not listed",
            summary.issue_count - summary.issues.len()
        );
    }
}

/// Runs `exos export`.
pub fn run_export(args: ExportArgs) -> anyhow::Result<()> {
    let format = format_name(args.format);
    match &args.target.url {
        Some(url) => {
            let endpoint = format!("{}/api/logs/{}/export", url.trim_end_matches('/'), args.log);
            let mut request = ureq::get(&endpoint)
                .set("authorization", &authorization(&args.target)?)
                .query("format", format);
            if let Some(object_type) = &args.object_type {
                request = request.query("type", object_type);
            }
            let response = request.call().map_err(|e| request_failed(e, &endpoint))?;
            let mut file = std::fs::File::create(&args.out)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", args.out.display()))?;
            std::io::copy(&mut response.into_reader(), &mut file)?;
        }
        None => {
            let options = DuckOptions {
                read_only: true,
                ..DuckOptions::default()
            };
            let store = DuckStore::open(&args.target.data_dir, &options)?;
            export_log(
                &store,
                &args.log,
                ExportFormat::parse(format)?,
                args.object_type.as_deref(),
                &args.out,
            )?;
        }
    }
    println!("wrote {:?} as {format} to {}", args.log, args.out.display());
    Ok(())
}
