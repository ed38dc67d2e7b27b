//! Temporary probe: times DuckDB input queries of the funnel.
use std::time::Instant;
use duckdb::arrow::array::Array;
fn main() -> anyhow::Result<()> {
    let path = std::env::args().nth(1).unwrap();
    let c = duckdb::Connection::open(path)?;
    let range = "Timestamp >= make_timestamp_ns(1767571200000000000) AND Timestamp < make_timestamp_ns(1774828800000000000)";
    let steps = "CAST(CASE WHEN SpanName='view_item' THEN 1 ELSE 0 END + CASE WHEN SpanName='add_to_cart' THEN 2 ELSE 0 END + CASE WHEN SpanName='checkout' THEN 4 ELSE 0 END + CASE WHEN SpanName='purchase' THEN 8 ELSE 0 END AS UINTEGER)";
    let queries = [
        ("sorted+strings", format!("SELECT hash(actor) AS h, actor, breakdown, ts, steps FROM (SELECT UserId AS actor, Lob AS breakdown, epoch_ns(Timestamp) AS ts, {steps} AS steps FROM otel_traces WHERE {range} AND UserId <> '') WHERE steps <> 0 ORDER BY h")),
        ("unsorted+strings", format!("SELECT hash(actor) AS h, actor, breakdown, ts, steps FROM (SELECT UserId AS actor, Lob AS breakdown, epoch_ns(Timestamp) AS ts, {steps} AS steps FROM otel_traces WHERE {range} AND UserId <> '') WHERE steps <> 0")),
        ("unsorted+breakdown", format!("SELECT hash(actor) AS h, breakdown, ts, steps FROM (SELECT UserId AS actor, Lob AS breakdown, epoch_ns(Timestamp) AS ts, {steps} AS steps FROM otel_traces WHERE {range} AND UserId <> '') WHERE steps <> 0")),
        ("unsorted narrow", format!("SELECT hash(actor) AS h, ts, steps FROM (SELECT UserId AS actor, epoch_ns(Timestamp) AS ts, {steps} AS steps FROM otel_traces WHERE {range} AND UserId <> '') WHERE steps <> 0")),
    ];
    for (name, sql) in &queries {
        for _ in 0..2 {
            let started = Instant::now();
            let mut stmt = c.prepare(sql)?;
            let mut rows = 0usize;
            for batch in stmt.query_arrow([])? { rows += batch.num_rows(); let _ = batch.column(0).len(); }
            println!("{name}: {rows} rows {:.0} ms", started.elapsed().as_secs_f64() * 1000.0);
        }
    }
    Ok(())
}
