//! Benchmark: a 4-step funnel with a breakdown and a 12-week retention table
//! over generated spans, on DuckDB (Rust engines) and on chdb (native
//! `windowFunnel` and `retention`), on the same data in the same run.
//!
//! ```sh
//! cargo run -p exos-funnels --release --example bench -- [EVENTS] [ACTORS] [RUNS]
//! ```
//!
//! Defaults: 10,000,000 spans, 1,000,000 actors, 5 runs. DuckDB generates the
//! spans in memory and writes them to a Parquet file that chdb loads through
//! `bench/chdb_bench.py`, run with `.venv/bin/python` at the workspace root
//! (`EXOS_PYTHON` overrides it). Prints each question's median and min–max
//! in milliseconds, the ratio DuckDB / chdb, and whether the answers agree.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, ensure, Context};
use duckdb::Connection;
use exos_funnels::{
    duck, sql, Column, EventFilter, FunnelQuery, FunnelResult, Period, Property, RetentionKind,
    RetentionQuery, RetentionTable, TimeRange,
};
use serde_json::{json, Value};

/// 2026-01-05T00:00:00Z, a Monday, so the 12 weeks are whole periods.
const START_NS: i64 = 1_767_571_200_000_000_000;
const WEEK_NS: i64 = 7 * 86_400_000_000_000;
const WEEKS: i64 = 12;
const STEP_NAMES: [&str; 4] = ["view_item", "add_to_cart", "checkout", "purchase"];

fn main() -> anyhow::Result<()> {
    let arguments: Vec<u64> = std::env::args()
        .skip(1)
        .map(|argument| {
            argument
                .parse()
                .with_context(|| format!("invalid number {argument:?}"))
        })
        .collect::<anyhow::Result<_>>()?;
    let events = arguments.first().copied().unwrap_or(10_000_000);
    let actors = arguments.get(1).copied().unwrap_or(1_000_000);
    let runs = arguments.get(2).copied().unwrap_or(5) as usize;
    ensure!(
        events > 0 && actors > 0 && runs > 0,
        "events, actors and runs must be positive"
    );

    let folder = tempfile_folder()?;
    let parquet = folder.join("spans.parquet");
    let connection = Connection::open_in_memory()?;
    let started = Instant::now();
    generate_spans(&connection, events, actors)?;
    eprintln!(
        "generated {events} spans for {actors} actors in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    connection.execute_batch(&format!(
        "COPY otel_traces TO '{}' (FORMAT parquet)",
        parquet.display()
    ))?;

    let funnel = funnel_question();
    let retention = retention_question();
    let (funnel_ms, funnel_result) = time_runs(runs, || duck::run_funnel(&connection, &funnel))?;
    let (retention_ms, retention_table) =
        time_runs(runs, || duck::run_retention(&connection, &retention))?;

    eprintln!("running chdb");
    let chdb = run_chdb(&folder, &parquet, &funnel, &retention, runs)?;
    let chdb_funnel_ms = timings(&chdb, "funnel")?;
    let chdb_retention_ms = timings(&chdb, "retention")?;
    let funnel_agrees = funnel_counts(&funnel_result) == chdb_funnel_counts(&chdb)?;
    let retention_agrees = retention_rows(&retention_table) == chdb_retention_rows(&chdb)?;

    println!(
        "spans: {events}, actors: {actors}, runs: {runs}; chdb load {:.1} s",
        chdb["load_ms"].as_f64().unwrap_or(0.0) / 1000.0
    );
    println!("| question | DuckDB + Rust median ms (min–max) | chdb native median ms (min–max) | DuckDB / chdb | same answer |");
    println!("|---|---|---|---|---|");
    print_row(
        "4-step funnel, breakdown by Lob",
        &funnel_ms,
        &chdb_funnel_ms,
        funnel_agrees,
    );
    print_row(
        "12-week retention, first time",
        &retention_ms,
        &chdb_retention_ms,
        retention_agrees,
    );
    std::fs::remove_dir_all(&folder).ok();
    ensure!(
        funnel_agrees && retention_agrees,
        "DuckDB and chdb answers differ"
    );
    Ok(())
}

fn tempfile_folder() -> anyhow::Result<PathBuf> {
    let folder = std::env::temp_dir().join(format!("exos-funnels-bench-{}", std::process::id()));
    std::fs::create_dir_all(&folder)?;
    Ok(folder)
}

/// Generates spans in DuckDB: actor `u<n>` spread evenly, timestamps uniform
/// over 12 weeks, step names with falling frequency (40%, 20%, 10%, 5%, the
/// rest other names), and one of four Lob values per actor.
fn generate_spans(connection: &Connection, events: u64, actors: u64) -> duckdb::Result<()> {
    let span_ns = WEEKS * WEEK_NS;
    connection.execute_batch(&format!(
        "CREATE TABLE otel_traces AS
         SELECT make_timestamp_ns({START_NS} + CAST(hash(i) % {span_ns} AS BIGINT)) AS Timestamp,
                CASE WHEN r < 40 THEN '{0}' WHEN r < 60 THEN '{1}' WHEN r < 70 THEN '{2}'
                     WHEN r < 75 THEN '{3}' ELSE 'page_' || CAST(r % 8 AS VARCHAR) END AS SpanName,
                lpad(lower(hex(i)), 16, '0') AS SpanId,
                'web' AS ServiceName,
                'u' || CAST(actor AS VARCHAR) AS UserId,
                ['Appraisal', 'Title', 'Flood', 'Closing'][actor % 4 + 1] AS Lob
         FROM (SELECT i, CAST(hash(i + {events}) % {actors} AS BIGINT) AS actor,
                      CAST(hash(i + 2 * {events}) % 100 AS INTEGER) AS r
               FROM range({events}) AS t(i))",
        STEP_NAMES[0], STEP_NAMES[1], STEP_NAMES[2], STEP_NAMES[3],
    ))
}

fn funnel_question() -> FunnelQuery {
    FunnelQuery {
        actor: Column::UserId,
        steps: STEP_NAMES
            .iter()
            .map(|name| EventFilter::SpanName(name.to_string()))
            .collect(),
        kind: Default::default(),
        window_ns: 7 * 86_400_000_000_000,
        modes: Default::default(),
        exclusions: Vec::new(),
        breakdown: Some(Property::Column(Column::Lob)),
        time_range: TimeRange {
            from_ns: START_NS,
            to_ns: START_NS + WEEKS * WEEK_NS,
        },
        trend_period: None,
    }
}

fn retention_question() -> RetentionQuery {
    RetentionQuery {
        actor: Column::UserId,
        start_event: EventFilter::SpanName(STEP_NAMES[0].to_string()),
        return_event: EventFilter::SpanName(STEP_NAMES[3].to_string()),
        kind: RetentionKind::FirstTime,
        period: Period::Week,
        periods: WEEKS as usize,
        from_ns: START_NS,
    }
}

/// Runs `question` `runs` times and returns the timings and the last result.
fn time_runs<T, E: std::error::Error + Send + Sync + 'static>(
    runs: usize,
    mut question: impl FnMut() -> Result<T, E>,
) -> anyhow::Result<(Vec<f64>, T)> {
    let mut timings = Vec::with_capacity(runs);
    let mut result = None;
    for _ in 0..runs {
        let started = Instant::now();
        result = Some(question()?);
        timings.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    Ok((timings, result.context("no run")?))
}

fn run_chdb(
    folder: &Path,
    parquet: &Path,
    funnel: &FunnelQuery,
    retention: &RetentionQuery,
    runs: usize,
) -> anyhow::Result<Value> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = std::env::var_os("EXOS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join(".venv/bin/python"));
    let questions = folder.join("questions.json");
    std::fs::write(
        &questions,
        json!({
            "funnel": sql::clickhouse::funnel_levels(funnel),
            "retention": sql::clickhouse::retention_table(retention),
        })
        .to_string(),
    )?;
    let output = Command::new(&python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/chdb_bench.py"))
        .arg(parquet)
        .arg(&questions)
        .arg(runs.to_string())
        .output()
        .with_context(|| {
            format!(
                "failed to start {}: create the venv as README.md says",
                python.display()
            )
        })?;
    if !output.status.success() {
        bail!(
            "chdb_bench.py failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(serde_json::from_slice(&output.stdout)?)
}

fn timings(chdb: &Value, question: &str) -> anyhow::Result<Vec<f64>> {
    chdb["questions"][question]["timings_ms"]
        .as_array()
        .context("chdb timings missing")?
        .iter()
        .map(|value| value.as_f64().context("chdb timing is not a number"))
        .collect()
}

/// Returns (breakdown, per-step actors) from the DuckDB report.
fn funnel_counts(result: &FunnelResult) -> Vec<(String, Vec<u64>)> {
    result
        .series
        .iter()
        .map(|series| {
            (
                series.breakdown.clone(),
                series.steps.iter().map(|step| step.actors).collect(),
            )
        })
        .collect()
}

/// Returns (breakdown, per-step actors) from chdb's level counts.
fn chdb_funnel_counts(chdb: &Value) -> anyhow::Result<Vec<(String, Vec<u64>)>> {
    let mut counts: std::collections::BTreeMap<String, Vec<u64>> = Default::default();
    for row in chdb["questions"]["funnel"]["rows"]
        .as_array()
        .context("chdb funnel rows missing")?
    {
        let breakdown = row["breakdown"].as_str().context("breakdown")?.to_string();
        let level = number(&row["level"])? as usize;
        let actors = number(&row["actors"])?;
        let steps = counts
            .entry(breakdown)
            .or_insert_with(|| vec![0; STEP_NAMES.len()]);
        for step in steps.iter_mut().take(level) {
            *step += actors;
        }
    }
    Ok(counts.into_iter().collect())
}

fn retention_rows(table: &RetentionTable) -> Vec<(u64, Vec<u64>)> {
    table
        .cohorts
        .iter()
        .map(|cohort| (cohort.period as u64, cohort.returned.clone()))
        .collect()
}

fn chdb_retention_rows(chdb: &Value) -> anyhow::Result<Vec<(u64, Vec<u64>)>> {
    chdb["questions"]["retention"]["rows"]
        .as_array()
        .context("chdb retention rows missing")?
        .iter()
        .map(|row| {
            let counts = row["counts"]
                .as_array()
                .context("counts")?
                .iter()
                .map(number)
                .collect::<anyhow::Result<_>>()?;
            Ok((number(&row["cohort"])?, counts))
        })
        .collect()
}

/// Reads a JSON number that ClickHouse may print as a string (64-bit integers).
fn number(value: &Value) -> anyhow::Result<u64> {
    match value {
        Value::Number(number) => number.as_u64().context("not an unsigned integer"),
        Value::String(text) => Ok(text.parse()?),
        _ => bail!("not a number: {value}"),
    }
}

fn print_row(question: &str, duck_ms: &[f64], chdb_ms: &[f64], agrees: bool) {
    let (duck_median, chdb_median) = (median(duck_ms), median(chdb_ms));
    println!(
        "| {question} | {duck_median:.0} ({:.0}–{:.0}) | {chdb_median:.0} ({:.0}–{:.0}) | {:.2} | {} |",
        min(duck_ms), max(duck_ms), min(chdb_ms), max(chdb_ms),
        duck_median / chdb_median,
        if agrees { "yes" } else { "no" },
    );
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

fn min(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::INFINITY, f64::min)
}

fn max(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}
