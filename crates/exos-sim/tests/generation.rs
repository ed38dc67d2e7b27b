//! Whole-run properties of the generator, checked without a server. The same
//! seed gives the same bytes, and every request decodes and maps without
//! rejected records in EXOS's own ingest code. The truth file's variants can be
//! recovered from the business spans alone.

use std::collections::BTreeMap;

use exos_sim::batch::Request;
use exos_sim::calendar::DAY_NS;
use exos_sim::model::Activity;
use exos_sim::send::{http_body, Protocol};
use exos_sim::{Backfill, BackfillSettings, BatchLimits, Payload, Stream};
use opentelemetry_proto::tonic::common::v1::any_value;

/// 2026-03-01T00:00:00Z, a fixed end so that runs are comparable.
const END_NS: i64 = 20_513 * DAY_NS;

fn settings(seed: u64, orders: u64) -> BackfillSettings {
    BackfillSettings {
        seed,
        orders,
        start_ns: END_NS - 7 * DAY_NS,
        end_ns: END_NS,
        first_order: 0,
        batch: BatchLimits { records: 500 },
    }
}

fn run(seed: u64, orders: u64) -> (Vec<Payload>, String) {
    let mut backfill = Backfill::new(settings(seed, orders));
    let mut payloads = Vec::new();
    while let Some(ready) = backfill.next_payloads() {
        payloads.extend(ready);
    }
    let truth = backfill.truth().to_json().expect("truth serializes");
    (payloads, truth)
}

#[test]
fn same_seed_same_bytes() {
    let (first, first_truth) = run(42, 120);
    let (second, second_truth) = run(42, 120);
    assert_eq!(first_truth, second_truth, "truth differs between runs");
    assert_eq!(first.len(), second.len(), "payload count differs");
    for protocol in [Protocol::HttpProtobuf, Protocol::HttpJson] {
        let a = http_body(&first[0], protocol);
        let b = http_body(&second[0], protocol);
        assert_eq!(a.bytes, b.bytes, "first payload differs in {protocol:?}");
    }
    let last = first.len() - 1;
    assert_eq!(
        http_body(&first[last], Protocol::HttpProtobuf),
        http_body(&second[last], Protocol::HttpProtobuf)
    );
}

#[test]
fn other_seed_other_bytes() {
    let (first, first_truth) = run(42, 60);
    let (other, other_truth) = run(43, 60);
    assert_ne!(first_truth, other_truth);
    assert_ne!(
        http_body(&first[0], Protocol::HttpProtobuf).bytes,
        http_body(&other[0], Protocol::HttpProtobuf).bytes
    );
}

#[test]
fn truth_counts_match_payloads() {
    let mut backfill = Backfill::new(settings(5, 150));
    let mut by_stream: BTreeMap<Stream, u64> = BTreeMap::new();
    while let Some(ready) = backfill.next_payloads() {
        for payload in ready {
            *by_stream.entry(payload.stream).or_default() += payload.records;
        }
    }
    let truth = backfill.truth();
    let name = |stream| exos_sim::truth::stream_name(stream).to_string();
    for (stream, records) in by_stream {
        assert_eq!(truth.records[&name(stream)], records, "{stream:?}");
    }
    assert!(
        truth.records["replay_records"] > truth.replay_events,
        "the large snapshot of order 0 should be chunked"
    );
}

#[test]
fn ingest_maps_every_record() {
    let (payloads, _) = run(7, 150);
    let limits = exos_ingest::Limits::default();
    for payload in &payloads {
        let rejected = match &payload.request {
            Request::Traces(request) => exos_ingest::traces::map(request.clone(), &limits).rejected,
            Request::Logs(request) => {
                exos_ingest::logs::map(request.clone(), &limits, END_NS).rejected
            }
            Request::Metrics(request) => {
                exos_ingest::metrics::map(request.clone(), &limits).rejected
            }
        };
        assert_eq!(
            rejected, 0,
            "{:?} payload has rejected records",
            payload.stream
        );
    }
}

#[test]
fn json_round_trips_through_ingest() {
    let (payloads, _) = run(7, 80);
    for stream in [
        Stream::Spans,
        Stream::Logs,
        Stream::Metrics,
        Stream::BrowserSpans,
    ] {
        let payload = payloads
            .iter()
            .find(|p| p.stream == stream)
            .expect("stream has a payload");
        let body = http_body(payload, Protocol::HttpJson);
        assert_eq!(body.content_type, "application/json");
        let decoded = match &payload.request {
            Request::Traces(_) => Request::Traces(
                exos_ingest::json::traces(&body.bytes).expect("traces JSON decodes"),
            ),
            Request::Logs(_) => {
                Request::Logs(exos_ingest::json::logs(&body.bytes).expect("logs JSON decodes"))
            }
            Request::Metrics(_) => Request::Metrics(
                exos_ingest::json::metrics(&body.bytes).expect("metrics JSON decodes"),
            ),
        };
        assert_eq!(
            decoded, payload.request,
            "{stream:?} JSON does not decode to the same request"
        );
    }
}

fn attribute<'a>(
    attributes: &'a [opentelemetry_proto::tonic::common::v1::KeyValue],
    key: &str,
) -> Option<&'a any_value::Value> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.as_ref())
}

fn text_attribute(
    attributes: &[opentelemetry_proto::tonic::common::v1::KeyValue],
    key: &str,
) -> Option<String> {
    match attribute(attributes, key)? {
        any_value::Value::StringValue(text) => Some(text.clone()),
        _ => None,
    }
}

#[test]
fn variants_recoverable_from_spans() {
    let mut backfill = Backfill::new(settings(11, 200));
    let names: Vec<&str> = Activity::ALL.iter().map(|a| a.name()).collect();
    let mut by_order: BTreeMap<String, Vec<(u64, String)>> = BTreeMap::new();
    while let Some(ready) = backfill.next_payloads() {
        for payload in ready.iter().filter(|p| p.stream == Stream::Spans) {
            let Request::Traces(request) = &payload.request else {
                continue;
            };
            let spans = request
                .resource_spans
                .iter()
                .flat_map(|r| &r.scope_spans)
                .flat_map(|s| &s.spans);
            for span in spans.filter(|span| names.contains(&span.name.as_str())) {
                let order = text_attribute(&span.attributes, "order.id")
                    .expect("business span has order.id");
                by_order
                    .entry(order)
                    .or_default()
                    .push((span.start_time_unix_nano, span.name.clone()));
            }
        }
    }
    let mut variants: BTreeMap<String, u64> = BTreeMap::new();
    for steps in by_order.values_mut() {
        steps.sort();
        let variant: Vec<&str> = steps.iter().map(|(_, name)| name.as_str()).collect();
        *variants.entry(variant.join(",")).or_default() += 1;
    }
    assert_eq!(variants, backfill.truth().variants);
    assert!(variants.len() > 10, "only {} variants", variants.len());
}

/// Returns the value of a double attribute, as the SDK sends rrweb chunk numbers.
fn number_attribute(
    attributes: &[opentelemetry_proto::tonic::common::v1::KeyValue],
    key: &str,
) -> Option<f64> {
    match attribute(attributes, key)? {
        any_value::Value::DoubleValue(number) => Some(*number),
        _ => None,
    }
}

/// The click spans of each browser session (span start in ms) and the rrweb
/// events of its recording, joined from their chunks.
#[derive(Default)]
struct BrowserSession {
    click_spans_ms: Vec<i64>,
    span_times_ms: Vec<i64>,
    chunks: BTreeMap<(u64, u64), String>,
}

#[test]
fn recordings_cover_their_sessions_and_clicks() {
    let mut backfill = Backfill::new(settings(5, 400));
    let mut sessions: BTreeMap<String, BrowserSession> = BTreeMap::new();
    while let Some(ready) = backfill.next_payloads() {
        for payload in ready {
            match (&payload.stream, &payload.request) {
                (Stream::BrowserSpans, Request::Traces(request)) => {
                    for resource in &request.resource_spans {
                        let attributes = &resource.resource.as_ref().expect("resource").attributes;
                        let id = text_attribute(attributes, "rum.sessionId").expect("session id");
                        let session = sessions.entry(id).or_default();
                        for span in resource.scope_spans.iter().flat_map(|s| &s.spans) {
                            let at_ms = (span.start_time_unix_nano / 1_000_000) as i64;
                            session.span_times_ms.push(at_ms);
                            if span.name == "click" {
                                session.click_spans_ms.push(at_ms);
                            }
                        }
                    }
                }
                (Stream::Replay, Request::Logs(request)) => {
                    for resource in &request.resource_logs {
                        let attributes = &resource.resource.as_ref().expect("resource").attributes;
                        let id = text_attribute(attributes, "rum.sessionId").expect("session id");
                        let session = sessions.entry(id).or_default();
                        for record in resource.scope_logs.iter().flat_map(|s| &s.log_records) {
                            let event = number_attribute(&record.attributes, "rr-web.event");
                            let chunk = number_attribute(&record.attributes, "rr-web.chunk");
                            let Some(any_value::Value::StringValue(body)) =
                                record.body.as_ref().and_then(|b| b.value.as_ref())
                            else {
                                panic!("rrweb chunk without a text body");
                            };
                            let key = (event.expect("event") as u64, chunk.expect("chunk") as u64);
                            session.chunks.insert(key, body.clone());
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let mut recorded = 0;
    for (id, session) in &sessions {
        if session.chunks.is_empty() {
            continue;
        }
        recorded += 1;
        let mut events: BTreeMap<u64, String> = BTreeMap::new();
        for ((event, _), body) in &session.chunks {
            events.entry(*event).or_default().push_str(body);
        }
        let events: Vec<serde_json::Value> = events
            .values()
            .map(|text| serde_json::from_str(text).expect("event is JSON"))
            .collect();
        let times: Vec<i64> = events
            .iter()
            .filter_map(|e| e["timestamp"].as_i64())
            .collect();
        let recording = (times[0], *times.last().expect("events"));
        let first_span = *session.span_times_ms.iter().min().expect("spans");
        let clicks: Vec<i64> = events
            .iter()
            .filter(|e| e["data"]["source"] == 2 && e["data"]["type"] == 2)
            .filter_map(|e| e["timestamp"].as_i64())
            .collect();
        let mut click_spans = session.click_spans_ms.clone();
        click_spans.sort_unstable();
        assert_eq!(
            clicks, click_spans,
            "session {id}: recorded clicks differ from click spans"
        );
        assert_eq!(
            recording.0, first_span,
            "session {id}: recording starts late"
        );
        assert!(
            recording.1 >= *click_spans.last().expect("clicks"),
            "session {id}: recording ends before the last click"
        );
    }
    assert!(recorded >= 5, "only {recorded} recorded sessions");
}
