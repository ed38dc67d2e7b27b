//! `exos bench replay-paint`: how fast the replay page shows a long recorded session.
//!
//! Generates one recording of M minutes with the simulator's rrweb generator. It
//! is one page load of an order page with a 4,000-row table, whose full snapshot
//! comes in chunks. On that page the operator works through order after order
//! (mouse paths, scrolls, typing into masked inputs, clicks and the page's
//! mutations). It sends it to a fresh `exos serve` through OTLP/HTTP as the browser
//! SDK does (JSON log records with the `rr-web.*` attributes, large events in
//! chunks) together with a click span per click, and waits until it is stored.
//! Then `tests/browser/replay-paint.mjs` opens `/replay?session=…` in headless
//! Chromium several times and reports the median milliseconds from navigation to
//! the replay answer, the drawn timeline, the player's first frame and playback.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use exos_sim::random::{Purpose, Random};
use exos_sim::rrweb;
use serde_json::{json, Value};

use crate::bench_cmd::{now_ns, spawn_server, BenchServer, Target};

/// The recorded session's id.
const SESSION: &str = "5e55104e5e55104e5e55104e5e55104e";
/// Log records per OTLP request, about what the SDK's batch processor sends at once.
const RECORDS_PER_REQUEST: usize = 200;

/// Runs the benchmark and prints Markdown.
pub fn run(minutes: u64, runs: usize, seed: u64) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (store, flags) = Target::DuckDb.open(dir.path())?;
    drop(store);
    let server = spawn_server(&flags)?;
    let outcome = measure(&server, minutes, runs, seed);
    let BenchServer { mut child, .. } = server;
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let (events, json_bytes, figures) = outcome?;
    print_report(minutes, events, json_bytes, &figures);
    print_answer_breakdown(dir.path(), runs)?;
    Ok(())
}

/// Times the steps of building the replay response in this process, on the
/// server's store after the server stopped. Parsing every event is timed for
/// comparison only, because the response passes events through unparsed.
fn print_answer_breakdown(dir: &Path, runs: usize) -> anyhow::Result<()> {
    let (store, _) = Target::DuckDb.open(dir)?;
    let settings = exos_replay::SignalSettings::default();
    let median = |mut step: Box<dyn FnMut() -> anyhow::Result<()> + '_>| -> anyhow::Result<f64> {
        let mut times = Vec::new();
        for _ in 0..runs.max(1) {
            let started = Instant::now();
            step()?;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        Ok(times[(times.len() - 1) / 2])
    };
    let load = || {
        exos_replay::queries::load_records(
            store.as_ref(),
            SESSION,
            exos_replay::queries::Bodies::All,
        )
    };
    let records = load()?;
    let joined = exos_replay::reassemble(records.clone());
    let read_ms = median(Box::new(|| {
        load()?;
        Ok(())
    }))?;
    let join_ms = median(Box::new(|| {
        exos_replay::reassemble(records.clone());
        Ok(())
    }))?;
    let parse_ms = median(Box::new(|| {
        for event in &joined.events {
            serde_json::from_str::<Value>(&event.json)?;
        }
        Ok(())
    }))?;

    let answer = exos_replay::queries::replay(store.as_ref(), SESSION, &settings)?;
    let whole_ms = median(Box::new(|| {
        exos_replay::queries::replay(store.as_ref(), SESSION, &settings)?;
        Ok(())
    }))?;
    let serialize_ms = median(Box::new(|| {
        serde_json::to_vec(&answer)?;
        Ok(())
    }))?;

    println!("\n| building the replay answer in-process | ms |\n|---|---:|");
    println!("| reading the records from DuckDB | {read_ms:.0} |");
    println!("| joining chunks (clone included) | {join_ms:.0} |");
    println!("| parsing every event into a JSON value (not done since the answer passes events through) | {parse_ms:.0} |");
    println!("| the whole answer (`queries::replay`) | {whole_ms:.0} |");
    println!("| serializing the answer | {serialize_ms:.0} |");
    Ok(())
}

type Measured = (usize, usize, Value);

fn measure(server: &BenchServer, minutes: u64, runs: usize, seed: u64) -> anyhow::Result<Measured> {
    let start_ms = (now_ns() / 1_000_000) as i64 - minutes as i64 * 60_000 - 60_000;
    let events = recording(seed, start_ms, minutes);
    let json_bytes = events.iter().map(|(_, text)| text.len()).sum();
    let started = Instant::now();
    send_recording(server, &events)?;
    send_click_spans(server, &events)?;
    wait_until_stored(server, events.len())?;
    eprintln!(
        "sent and stored {} events in {:.1} s",
        events.len(),
        started.elapsed().as_secs_f64()
    );
    let mut figures = paint_times(server, runs)?;
    figures["server"] = json!(answer_time(server, runs)?);
    figures["snapshot_bytes"] = json!(events[1].1.len());
    Ok((events.len(), json_bytes, figures))
}

/// Builds the recording: each pass of the simulator's page visit adds the
/// operator's work on one more order. Only the first pass keeps its Meta and
/// FullSnapshot events, so the whole session is one page load. Returns each
/// event's time (ms) and JSON text.
fn recording(seed: u64, start_ms: i64, minutes: u64) -> Vec<(i64, String)> {
    let end_ms = start_ms + minutes as i64 * 60_000;
    let mut random = Random::stream(seed, Purpose::Session, 0);
    let mut events: Vec<(i64, String)> = Vec::new();
    let mut clock = start_ms;
    let mut pass = 0usize;
    while clock < end_ms {
        let order_id = format!("ORD-2026-{pass:06}");
        let page = rrweb::Page {
            href: "https://ops.example/orders",
            order_id: &order_id,
            lob: "Appraisal",
            operator_email: "operator7@example.com",
            table_rows: rrweb::LARGE_ROWS,
        };
        let schedule = rrweb::Schedule::brisk(&mut random, clock, pass % 9 == 4);
        let visit = rrweb::record(&mut random, &page, &schedule);
        let skip = if pass == 0 { 0 } else { 2 };
        for event in visit.into_iter().skip(skip) {
            let time = event["timestamp"].as_i64().unwrap_or(clock);
            clock = clock.max(time);
            events.push((time, event.to_string()));
        }
        // A pause before the next order, as an operator reads or takes a call.
        clock += random.below(2_000, 25_000) as i64;
        pass += 1;
    }
    events
}

fn attribute(key: &str, value: Value) -> Value {
    json!({"key": key, "value": value})
}

/// Log records of the recording, large events cut as the SDK cuts them.
fn log_records(events: &[(i64, String)]) -> Vec<Value> {
    let mut records = Vec::new();
    for (number, (time_ms, text)) in events.iter().enumerate() {
        let chunks: Vec<&[u8]> = text.as_bytes().chunks(rrweb::CHUNK_BYTES).collect();
        for (index, chunk) in chunks.iter().enumerate() {
            records.push(json!({
                "timeUnixNano": format!("{}", *time_ms as i128 * 1_000_000),
                "body": {"stringValue": String::from_utf8_lossy(chunk)},
                "attributes": [
                    attribute("rr-web.offset", json!({"doubleValue": records.len() + 1})),
                    attribute("rr-web.event", json!({"doubleValue": number + 1})),
                    attribute("rr-web.chunk", json!({"doubleValue": index + 1})),
                    attribute("rr-web.total-chunks", json!({"doubleValue": chunks.len()})),
                ]
            }));
        }
    }
    records
}

fn resource() -> Value {
    json!({"attributes": [
        attribute("service.name", json!({"stringValue": "ops-web"})),
        attribute("rum.sessionId", json!({"stringValue": SESSION})),
        attribute("rum.scriptInstance", json!({"stringValue": "load-1"})),
    ]})
}

fn post(server: &BenchServer, path: &str, body: &Value) -> anyhow::Result<()> {
    ureq::post(&format!("{}{path}", server.otlp_http))
        .set("authorization", &server.ingest_key)
        .set("content-type", "application/json")
        .send_bytes(body.to_string().as_bytes())
        .map_err(|e| anyhow::anyhow!("POST {path}: {e}"))?;
    Ok(())
}

fn send_recording(server: &BenchServer, events: &[(i64, String)]) -> anyhow::Result<()> {
    for records in log_records(events).chunks(RECORDS_PER_REQUEST) {
        let body = json!({"resourceLogs": [{"resource": resource(),
            "scopeLogs": [{"scope": {"name": "rum.rr-web"}, "logRecords": records}]}]});
        post(server, "/v1/logs", &body)?;
    }
    Ok(())
}

/// Sends a page-load span and one click span per recorded click, as the SDK does.
fn send_click_spans(server: &BenchServer, events: &[(i64, String)]) -> anyhow::Result<()> {
    let nanos = |ms: i64| format!("{}", ms as i128 * 1_000_000);
    let span = |index: usize, name: &str, ms: i64| {
        json!({"traceId": format!("{:032x}", index + 1), "spanId": format!("{:016x}", index + 1),
            "name": name, "kind": 1, "startTimeUnixNano": nanos(ms), "endTimeUnixNano": nanos(ms + 5),
            "attributes": [attribute("location.href", json!({"stringValue": "https://ops.example/orders"}))]})
    };
    let mut spans = vec![span(0, "documentLoad", events[0].0)];
    for (time_ms, text) in events {
        if text.contains("\"source\":2") {
            spans.push(span(spans.len(), "click", *time_ms));
        }
    }
    let body =
        json!({"resourceSpans": [{"resource": resource(), "scopeSpans": [{"spans": spans}]}]});
    post(server, "/v1/traces", &body)
}

fn wait_until_stored(server: &BenchServer, events: usize) -> anyhow::Result<()> {
    let auth = crate::sql_cmd::basic_header("admin", &server.password);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let answer: Value = ureq::get(&format!("{}/api/replay/{SESSION}", server.http))
            .set("authorization", &auth)
            .call()?
            .into_json()?;
        let stored = answer["events"].as_array().map_or(0, Vec::len);
        if stored == events {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "only {stored} of {events} replay events were stored after 120 s"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Median milliseconds for `GET /api/replay/{session}` from this process, over loopback.
fn answer_time(server: &BenchServer, runs: usize) -> anyhow::Result<f64> {
    let auth = crate::sql_cmd::basic_header("admin", &server.password);
    let mut times = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        ureq::get(&format!("{}/api/replay/{SESSION}", server.http))
            .set("authorization", &auth)
            .call()?
            .into_string()?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[(times.len() - 1) / 2])
}

fn paint_times(server: &BenchServer, runs: usize) -> anyhow::Result<Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/browser/replay-paint.mjs");
    let output = Command::new("node")
        .arg(&script)
        .args([&server.http, &server.password, SESSION, &runs.to_string()])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| anyhow::anyhow!("cannot run node {}: {e}", script.display()))?;
    anyhow::ensure!(output.status.success(), "{} failed", script.display());
    Ok(serde_json::from_slice(&output.stdout)?)
}

fn print_report(minutes: u64, events: usize, json_bytes: usize, figures: &Value) {
    let ms = |name: &str| figures[name].as_f64().unwrap_or(f64::NAN);
    println!("\n## exos bench replay-paint --minutes {minutes}\n");
    println!(
        "One {minutes}-minute recording: {events} rrweb events, {:.1} MB of JSON. Median of {} loads.\n",
        json_bytes as f64 / 1e6,
        figures["runs"]
    );
    let snapshot = figures["snapshot_bytes"].as_u64().unwrap_or(0) as usize;
    println!(
        "The full snapshot: {:.1} MB in {} chunks.\n",
        snapshot as f64 / 1e6,
        snapshot.div_ceil(rrweb::CHUNK_BYTES)
    );
    println!("| from navigation to | ms |\n|---|---:|");
    println!("| replay request sent | {:.0} |", ms("asked"));
    println!(
        "| first byte of the replay answer | {:.0} |",
        ms("first_byte")
    );
    println!("| replay answer received | {:.0} |", ms("answer"));
    println!("| timeline drawn | {:.0} |", ms("timeline"));
    println!("| first frame in the player | {:.0} |", ms("frame"));
    println!("| playback running | {:.0} |", ms("playing"));
    println!(
        "\nReplay answer: {:.1} MB of JSON ({:.1} MB on the wire); {:.0} ms for the same \
         request from a plain HTTP client over loopback.",
        figures["answer_bytes"].as_f64().unwrap_or(0.0) / 1e6,
        figures["answer_wire_bytes"].as_f64().unwrap_or(0.0) / 1e6,
        ms("server")
    );
}
