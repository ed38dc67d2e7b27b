//! Runs funnel and retention questions on DuckDB over spans from a file, for
//! the differential test against ClickHouse (`tests/python/test_funnels_chdb.py`).
//!
//! ```sh
//! cargo run -p exos-funnels --example funnel_diff -- SPANS.jsonl QUESTIONS.json
//! ```
//!
//! SPANS.jsonl contains one span a line: `{"ts": nanoseconds, "name": SpanName,
//! "user": UserId, "lob": Lob, "attributes": {key: value}}`. QUESTIONS.json is
//! `{"funnels": [FunnelQuery], "retentions": [RetentionQuery]}`. The output
//! (JSON on stdout) gives, for each funnel, the per-actor levels and the report
//! from DuckDB plus the ClickHouse SQL to compare them with, or the error the
//! definition raised. Funnels without a native ClickHouse query also carry
//! the engines' per-actor input. Each retention question gets its table and
//! its ClickHouse SQL.

use std::path::Path;

use anyhow::Context;
use duckdb::Connection;
use exos_funnels::{duck, sql, FunnelQuery, RetentionQuery};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
struct Questions {
    funnels: Vec<FunnelQuery>,
    retentions: Vec<RetentionQuery>,
}

/// Creates the columns of `otel_traces` that funnels read, with DuckDB's types.
const CREATE_SPANS: &str = "CREATE TABLE otel_traces (Timestamp TIMESTAMP_NS, SpanName VARCHAR, \
     ServiceName VARCHAR, UserId VARCHAR, RumSessionId VARCHAR, OrderId VARCHAR, OperatorId VARCHAR, \
     Lob VARCHAR, SpanAttributes MAP(VARCHAR, VARCHAR))";

fn main() -> anyhow::Result<()> {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let [spans_path, questions_path] = arguments.as_slice() else {
        anyhow::bail!("usage: funnel_diff SPANS.jsonl QUESTIONS.json");
    };
    let questions: Questions = serde_json::from_str(
        &std::fs::read_to_string(questions_path)
            .with_context(|| format!("failed to read {questions_path}"))?,
    )
    .with_context(|| format!("invalid questions in {questions_path}"))?;

    let connection = Connection::open_in_memory()?;
    load_spans(&connection, Path::new(spans_path))?;

    let funnels: Vec<Value> = questions
        .funnels
        .iter()
        .map(|query| funnel_output(&connection, query))
        .collect();
    let retentions: Vec<Value> = questions
        .retentions
        .iter()
        .map(|query| retention_output(&connection, query))
        .collect();
    println!(
        "{}",
        json!({ "funnels": funnels, "retentions": retentions })
    );
    Ok(())
}

fn load_spans(connection: &Connection, path: &Path) -> anyhow::Result<()> {
    connection.execute_batch(CREATE_SPANS)?;
    let path = path
        .to_str()
        .context("spans path is not UTF-8")?
        .replace('\'', "''");
    connection.execute_batch(&format!(
        "INSERT INTO otel_traces (Timestamp, SpanName, ServiceName, UserId, RumSessionId, OrderId, OperatorId, Lob, SpanAttributes) \
         SELECT make_timestamp_ns(ts), name, 'svc', user, '', '', '', lob, attributes \
         FROM read_json('{path}', format = 'newline_delimited', columns = {{ts: 'BIGINT', name: 'VARCHAR', \
         user: 'VARCHAR', lob: 'VARCHAR', attributes: 'MAP(VARCHAR, VARCHAR)'}})"
    ))?;
    Ok(())
}

fn funnel_output(connection: &Connection, query: &FunnelQuery) -> Value {
    let levels = match duck::funnel_actor_levels(connection, query) {
        Ok(levels) => levels,
        Err(error) => return json!({ "error": error.to_string() }),
    };
    let report = duck::run_funnel(connection, query).map_err(|error| error.to_string());
    let native = sql::clickhouse::funnel_is_native(query);
    // Funnels that ClickHouse cannot compute natively run the Rust engine on
    // ClickHouse's per-actor lists, so those lists are compared instead.
    let input = match native {
        true => None,
        false => duck::funnel_actor_input(connection, query).ok(),
    };
    json!({
        "levels": levels,
        "report": report.ok(),
        "clickhouse_actor_levels": sql::clickhouse::actor_levels(query),
        "clickhouse_funnel_levels": sql::clickhouse::funnel_levels(query),
        "native": native,
        "input": input,
        "clickhouse_input": sql::clickhouse::funnel_input(query),
    })
}

fn retention_output(connection: &Connection, query: &RetentionQuery) -> Value {
    match duck::run_retention(connection, query) {
        Ok(table) => json!({
            "table": table,
            "clickhouse_table": sql::clickhouse::retention_table(query),
        }),
        Err(error) => json!({ "error": error.to_string() }),
    }
}
