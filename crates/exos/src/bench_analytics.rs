//! `exos bench analytics`: a funnel, a paths and a retention question through
//! the API functions, on a DuckDB store, next to native ClickHouse SQL in chdb.
//!
//! The questions are a 4-step funnel split by `lob` (`POST /api/funnels`), a
//! depth-5 path from `view_item` (`POST /api/paths`) and a 12-week first-time
//! retention table (`POST /api/retention`). Each is parsed from the JSON body a
//! client would send and answered by the function the HTTP handler calls, on
//! an EXOS DuckDB store. chdb runs `windowFunnel`, `retention()` and an array
//! path query over the same spans, loaded from a Parquet copy into a MergeTree
//! table (`crates/exos-funnels/bench/chdb_bench.py`). The bench checks that
//! both give the same numbers and prints medians, min–max and ratios.
//!
//! Loading is not timed: DuckDB generates the spans with SQL straight into the
//! store's `otel_traces` table. With `--data`, a folder loaded by an earlier
//! run with the same sizes is reused.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, ensure, Context};
use exos_analytics::funnels::{self, FunnelRequest, FunnelResponse, RetentionRequest};
use exos_analytics::paths::{self, Group, PathsQuery, PathsResponse};
use exos_analytics::Library;
use exos_funnels::sql::{self as funnel_sql, Dialect};
use exos_funnels::{Column, EventFilter, Period, RetentionKind, RetentionQuery, TimeRange};
use exos_store::{DuckOptions, DuckStore, Store};
use serde_json::{json, Value};

/// 2026-01-05T00:00:00Z, a Monday, so the 12 weeks are whole periods.
const START_NS: i64 = 1_767_571_200_000_000_000;
const WEEK_NS: i64 = 7 * 86_400_000_000_000;
const WEEKS: i64 = 12;
const STEP_NAMES: [&str; 4] = ["view_item", "add_to_cart", "checkout", "purchase"];
/// Steps of a path.
const DEPTH: usize = 5;
/// The file in the data folder that records the sizes of the loaded spans.
const SIZES_FILE: &str = "bench-analytics.json";

/// One question's timings and answer on both stores.
struct Outcome {
    question: &'static str,
    exos_ms: Vec<f64>,
    chdb_ms: Vec<f64>,
    agrees: bool,
}

/// Runs the benchmark and prints a Markdown table on stdout.
pub fn run(events: u64, actors: u64, runs: usize, data: Option<PathBuf>) -> anyhow::Result<()> {
    ensure!(
        events > 0 && actors > 0 && runs > 0,
        "--events, --actors and --runs must be positive"
    );
    let (folder, temporary) = match data {
        Some(folder) => (folder, false),
        None => (
            std::env::temp_dir().join(format!("exos-bench-analytics-{}", std::process::id())),
            true,
        ),
    };
    let parquet = folder.join("spans.parquet");
    load(&folder, &parquet, events, actors)?;
    let store = DuckStore::open(&folder, &DuckOptions::default())?;

    let load_before = load_average();
    let library = Library::from_items(&store.saved_items()?);
    let funnel_body = funnel_body();
    let paths_body = paths_body();
    let retention_body = retention_body();
    let (funnel_ms, funnel) = time_runs(runs, || {
        let request: FunnelRequest = serde_json::from_value(funnel_body.clone())?;
        let response = funnels::funnel(&store, &request, &library)?;
        serde_json::to_vec(&response)?;
        Ok(response)
    });
    let (paths_ms, path) = time_runs(runs, || {
        let query: PathsQuery = serde_json::from_value(paths_body.clone())?;
        let response = paths::paths(&store, &query, &library)?;
        serde_json::to_vec(&response)?;
        Ok(response)
    });
    let (retention_ms, retention) = time_runs(runs, || {
        let request: RetentionRequest = serde_json::from_value(retention_body.clone())?;
        let response = funnels::retention(&store, &request, &library)?;
        serde_json::to_vec(&response)?;
        Ok(response)
    });
    drop(store);

    eprintln!("running chdb");
    let chdb = run_chdb(&folder, &parquet, runs)?;
    let load_after = load_average();
    let paths_query: PathsQuery = serde_json::from_value(paths_body)?;
    let outcomes = [
        Outcome {
            question: "4-step funnel, breakdown by lob (`POST /api/funnels`)",
            exos_ms: funnel_ms,
            chdb_ms: timings(&chdb, "funnel")?,
            agrees: funnel.as_ref().map(funnel_counts).ok() == Some(chdb_funnel_counts(&chdb)?),
        },
        Outcome {
            question: "paths, depth 5 from view_item (`POST /api/paths`)",
            exos_ms: paths_ms,
            chdb_ms: timings(&chdb, "paths")?,
            agrees: match (&path, chdb_paths(&chdb, &paths_query)) {
                (Ok(path), Ok(chdb)) => same_paths(path, &chdb),
                _ => false,
            },
        },
        Outcome {
            question: "12-week retention, first time (`POST /api/retention`)",
            exos_ms: retention_ms,
            chdb_ms: timings(&chdb, "retention")?,
            agrees: retention.as_ref().map(retention_rows).ok()
                == Some(chdb_retention_rows(&chdb)?),
        },
    ];
    println!(
        "spans: {events}, actors: {actors}, runs: {runs}; load average {load_before} before, {load_after} after"
    );
    println!("| question | EXOS on DuckDB median ms (min–max) | chdb native median ms (min–max) | EXOS / chdb | same answer |");
    println!("|---|---|---|---|---|");
    for outcome in &outcomes {
        print_row(outcome);
    }
    if temporary {
        std::fs::remove_dir_all(&folder).ok();
    }
    ensure!(
        outcomes.iter().all(|outcome| outcome.agrees),
        "EXOS and chdb answers differ"
    );
    Ok(())
}

/// Generates the spans into the store and a Parquet copy for chdb, unless the
/// folder already contains spans of these sizes.
/// The store refuses file access (`enable_external_access = false`), so the
/// spans are written through a plain connection to its database file, after
/// the store created its tables.
fn load(folder: &Path, parquet: &Path, events: u64, actors: u64) -> anyhow::Result<()> {
    let sizes = json!({"events": events, "actors": actors}).to_string();
    let sizes_file = folder.join(SIZES_FILE);
    if parquet.exists() && std::fs::read_to_string(&sizes_file).ok().as_deref() == Some(&sizes) {
        eprintln!("reusing the spans in {}", folder.display());
        return Ok(());
    }
    drop(DuckStore::open(folder, &DuckOptions::default())?);
    let connection = duckdb::Connection::open(folder.join(exos_store::duck::DATABASE_FILE))?;
    let started = Instant::now();
    connection.execute_batch(&generate_sql(events, actors))?;
    connection.execute_batch(&format!(
        "COPY (SELECT Timestamp, SpanId, SpanName, ServiceName, UserId, Lob FROM otel_traces) \
         TO '{}' (FORMAT parquet)",
        parquet.display()
    ))?;
    connection.execute_batch("CHECKPOINT")?;
    std::fs::write(&sizes_file, sizes)?;
    eprintln!(
        "loaded {events} spans of {actors} actors in {:.1} s (not timed)",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Renders the insert of the generated spans: actors `u<n>` spread evenly,
/// timestamps uniform over 12 weeks, step names at 40%, 20%, 10% and 5% of
/// spans (the rest one of eight pages), one of four `Lob` values per actor.
/// `UserId` and `Lob` are also in `SpanAttributes`, as ingest writes them.
fn generate_sql(events: u64, actors: u64) -> String {
    let span_ns = WEEKS * WEEK_NS;
    format!(
        "DELETE FROM otel_traces;
         INSERT INTO otel_traces BY NAME
         SELECT make_timestamp_ns({START_NS} + CAST(hash(i) % {span_ns} AS BIGINT)) AS Timestamp,
                lpad(lower(hex(i // 4)), 32, '0') AS TraceId,
                lpad(lower(hex(i)), 16, '0') AS SpanId,
                '' AS ParentSpanId,
                CASE WHEN r < 40 THEN '{0}' WHEN r < 60 THEN '{1}' WHEN r < 70 THEN '{2}'
                     WHEN r < 75 THEN '{3}' ELSE 'page_' || CAST(r % 8 AS VARCHAR) END AS SpanName,
                'SPAN_KIND_SERVER' AS SpanKind,
                'web' AS ServiceName,
                user_id AS UserId,
                lob AS Lob,
                MAP {{'user.id': user_id, 'lob': lob}} AS SpanAttributes,
                CAST(1000000 AS BIGINT) AS Duration
         FROM (SELECT i, 'u' || CAST(actor AS VARCHAR) AS user_id,
                      ['Appraisal', 'Title', 'Flood', 'Closing'][actor % 4 + 1] AS lob, r
               FROM (SELECT i, CAST(hash(i + {events}) % {actors} AS BIGINT) AS actor,
                            CAST(hash(i + 2 * {events}) % 100 AS INTEGER) AS r
                     FROM range({events}) AS t(i)))",
        STEP_NAMES[0], STEP_NAMES[1], STEP_NAMES[2], STEP_NAMES[3],
    )
}

/// Returns the funnel body a client posts to `/api/funnels`.
fn funnel_body() -> Value {
    let steps: Vec<Value> = STEP_NAMES
        .iter()
        .map(|name| json!({"span_name": name}))
        .collect();
    json!({
        "actor": "user.id",
        "steps": steps,
        "window_seconds": 7 * 86_400,
        "breakdown": "lob",
        "from": START_NS / 1_000_000,
        "to": (START_NS + WEEKS * WEEK_NS) / 1_000_000,
    })
}

/// Returns the paths body a client posts to `/api/paths`.
fn paths_body() -> Value {
    json!({
        "actor": "UserId",
        "time_range": {"from_ns": START_NS, "to_ns": START_NS + WEEKS * WEEK_NS},
        "depth": DEPTH,
        "start": STEP_NAMES[0],
    })
}

/// Returns the retention body a client posts to `/api/retention`.
fn retention_body() -> Value {
    json!({
        "actor": "user.id",
        "start_event": {"span_name": STEP_NAMES[0]},
        "return_event": {"span_name": STEP_NAMES[3]},
        "kind": "first_time",
        "period": "week",
        "periods": WEEKS,
        "from": START_NS / 1_000_000,
    })
}

/// Renders chdb's three questions: native `windowFunnel` for the total and
/// per `Lob`, `retention()`, and a path query over sorted, compacted arrays.
fn chdb_questions() -> Value {
    let range = TimeRange {
        from_ns: START_NS,
        to_ns: START_NS + WEEKS * WEEK_NS,
    };
    let split = exos_funnels::FunnelQuery {
        actor: Column::UserId,
        steps: STEP_NAMES
            .iter()
            .map(|name| EventFilter::SpanName(name.to_string()))
            .collect(),
        kind: Default::default(),
        window_ns: WEEK_NS as u64,
        modes: Default::default(),
        exclusions: Vec::new(),
        breakdown: Some(exos_funnels::Property::Column(Column::Lob)),
        time_range: range,
        trend_period: None,
    };
    let total = exos_funnels::FunnelQuery {
        breakdown: None,
        ..split.clone()
    };
    let funnel = format!(
        "SELECT 'total' AS series, breakdown, level, actors FROM ({}) \
         UNION ALL SELECT 'split' AS series, breakdown, level, actors FROM ({})",
        funnel_sql::clickhouse::funnel_levels(&total),
        funnel_sql::clickhouse::funnel_levels(&split),
    );
    let retention = RetentionQuery {
        actor: Column::UserId,
        start_event: EventFilter::SpanName(STEP_NAMES[0].to_string()),
        return_event: EventFilter::SpanName(STEP_NAMES[3].to_string()),
        kind: RetentionKind::FirstTime,
        period: Period::Week,
        periods: WEEKS as usize,
        from_ns: START_NS,
    };
    json!({
        "funnel": funnel,
        "paths": chdb_paths_sql(&range),
        "retention": funnel_sql::clickhouse::retention_table(&retention),
    })
}

/// Renders the path groups as a ClickHouse user would write them: each actor's
/// span names sorted by (time, span id, name), repeats compacted, cut from the
/// first `view_item` to `DEPTH` steps, then unrolled into (position, label,
/// next label) groups.
fn chdb_paths_sql(range: &TimeRange) -> String {
    let start = Dialect::ClickHouse.string_literal(STEP_NAMES[0]);
    format!(
        "SELECT position, label, next_label, count() AS actors FROM (\
         SELECT arrayJoin(arrayEnumerate(path)) AS i, i - 1 AS position, path[i] AS label, \
         if(i < length(path), path[i + 1], '') AS next_label FROM (\
         SELECT arraySlice(labels, indexOf(labels, {start}), {DEPTH}) AS path FROM (\
         SELECT UserId, arrayCompact(arrayMap(e -> e.3, arraySort(groupArray((Timestamp, SpanId, SpanName))))) AS labels \
         FROM otel_traces WHERE {range} AND UserId != '' AND SpanName != '' GROUP BY UserId) \
         WHERE has(labels, {start}))) \
         GROUP BY position, label, next_label ORDER BY actors DESC, position, label, next_label",
        range = Dialect::ClickHouse.time_range(range),
    )
}

/// Runs `question` `runs` times and returns the timings in ms and the last
/// answer; a failed run ends the question and is reported in its row.
fn time_runs<T>(
    runs: usize,
    mut question: impl FnMut() -> anyhow::Result<T>,
) -> (Vec<f64>, anyhow::Result<T>) {
    let mut timings = Vec::with_capacity(runs);
    let mut answer = Err(anyhow::anyhow!("no run"));
    for _ in 0..runs {
        let started = Instant::now();
        answer = question();
        timings.push(started.elapsed().as_secs_f64() * 1000.0);
        if let Err(error) = &answer {
            eprintln!(
                "EXOS failed after {:.0} ms: {error:#}",
                timings[timings.len() - 1]
            );
            break;
        }
    }
    (timings, answer)
}

/// Runs the chdb script with the workspace's venv (`EXOS_PYTHON` overrides it).
fn run_chdb(folder: &Path, parquet: &Path, runs: usize) -> anyhow::Result<Value> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = std::env::var_os("EXOS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join(".venv/bin/python"));
    let questions = folder.join("questions.json");
    std::fs::write(&questions, chdb_questions().to_string())?;
    let output = Command::new(&python)
        .arg(workspace.join("crates/exos-funnels/bench/chdb_bench.py"))
        .arg(parquet)
        .arg(&questions)
        .arg(runs.to_string())
        .output()
        .with_context(|| {
            format!(
                "cannot start {}: create the venv as README.md says, or set EXOS_PYTHON",
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

fn chdb_rows<'a>(chdb: &'a Value, question: &str) -> anyhow::Result<&'a Vec<Value>> {
    chdb["questions"][question]["rows"]
        .as_array()
        .with_context(|| format!("chdb rows of {question} missing"))
}

/// Per-step actors of the total (breakdown `None`) and of each breakdown value.
type StepCounts = Vec<(Option<String>, Vec<u64>)>;

fn funnel_counts(response: &FunnelResponse) -> StepCounts {
    let steps = |series: &exos_funnels::FunnelSeries| -> Vec<u64> {
        series.steps.iter().map(|step| step.actors).collect()
    };
    let mut counts = vec![(None, steps(&response.total))];
    let mut split: Vec<_> = response
        .series
        .iter()
        .map(|series| (Some(series.breakdown.clone()), steps(series)))
        .collect();
    split.sort();
    counts.extend(split);
    counts
}

/// Adds chdb's actors per level into per-step counts, as the API reports them.
fn chdb_funnel_counts(chdb: &Value) -> anyhow::Result<StepCounts> {
    let mut counts: std::collections::BTreeMap<Option<String>, Vec<u64>> = Default::default();
    for row in chdb_rows(chdb, "funnel")? {
        let breakdown = match row["series"].as_str() {
            Some("total") => None,
            _ => Some(row["breakdown"].as_str().context("breakdown")?.to_string()),
        };
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

/// Builds the Sankey of chdb's groups the way `POST /api/paths` builds its own.
fn chdb_paths(chdb: &Value, query: &PathsQuery) -> anyhow::Result<PathsResponse> {
    let groups = chdb_rows(chdb, "paths")?
        .iter()
        .map(|row| {
            Ok(Group {
                position: number(&row["position"])? as usize,
                label: row["label"].as_str().context("label")?.to_string(),
                next: row["next_label"]
                    .as_str()
                    .context("next_label")?
                    .to_string(),
                actors: number(&row["actors"])?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(paths::sankey(query, &groups))
}

fn same_paths(exos: &PathsResponse, chdb: &PathsResponse) -> bool {
    exos.actors == chdb.actors && exos.nodes == chdb.nodes && exos.links == chdb.links
}

fn retention_rows(response: &funnels::RetentionResponse) -> Vec<(u64, Vec<u64>)> {
    response
        .total
        .cohorts
        .iter()
        .map(|cohort| (cohort.period as u64, cohort.returned.clone()))
        .collect()
}

fn chdb_retention_rows(chdb: &Value) -> anyhow::Result<Vec<(u64, Vec<u64>)>> {
    chdb_rows(chdb, "retention")?
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

/// Returns the 1-minute load average, or `?` where /proc is missing.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

fn print_row(outcome: &Outcome) {
    let (exos, chdb) = (&outcome.exos_ms, &outcome.chdb_ms);
    println!(
        "| {} | {:.0} ({:.0}–{:.0}) | {:.0} ({:.0}–{:.0}) | {:.2} | {} |",
        outcome.question,
        median(exos),
        min(exos),
        max(exos),
        median(chdb),
        min(chdb),
        max(chdb),
        median(exos) / median(chdb),
        if outcome.agrees { "yes" } else { "no" },
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
