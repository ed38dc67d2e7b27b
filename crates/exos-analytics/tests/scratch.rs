//! Scratch profiling helper (not committed).
mod common;
use exos_store::{DuckOptions, DuckStore, QueryLimits, Store};
use std::time::Instant;

#[test]
#[ignore = "scratch"]
fn scratch_sql() {
    let dir = std::env::var("SCRATCH_DIR").unwrap();
    let text = std::fs::read_to_string(std::env::var("SCRATCH_SQL").unwrap()).unwrap();
    let store: Box<dyn Store> = if std::env::var("SCRATCH_CH").is_ok() {
        let chdb = common::ChdbServer::start(&std::path::Path::new(&dir).join("chdb"));
        let settings = exos_store::ClickHouseSettings {
            url: chdb.url.clone(),
            user: "default".into(),
            password: String::new(),
            database: "exos_analytics_bench".into(),
            retention_days: 0,
            max_query_memory_bytes: 4 << 30,
        };
        std::mem::forget(chdb);
        Box::new(exos_store::ClickHouseStore::open(&settings).unwrap())
    } else {
        Box::new(
            DuckStore::open(
                &std::path::Path::new(&dir).join("duckdb"),
                &DuckOptions::default(),
            )
            .unwrap(),
        )
    };
    for sql in text.split(";;") {
        let sql = sql.trim();
        if sql.is_empty() {
            continue;
        }
        for _ in 0..3 {
            let started = Instant::now();
            let r = store.query(
                sql,
                &QueryLimits {
                    max_rows: 100000,
                    timeout: std::time::Duration::from_secs(120),
                },
            );
            match r {
                Ok(r) => eprintln!(
                    "{:>8.1} ms rows={} | {}",
                    started.elapsed().as_secs_f64() * 1000.0,
                    r.row_count,
                    &sql[..sql.len().min(100)].replace('\n', " ")
                ),
                Err(e) => {
                    eprintln!("ERR {e} | {sql}");
                    break;
                }
            }
        }
    }
}
