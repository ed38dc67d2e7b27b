//! EXOS on a real ClickHouse engine (chdb behind its HTTP harness), regardless of
//! `EXOS_TEST_STORE`: errors reach the user, and an outage loses nothing.

mod common;

use std::time::{Duration, Instant};

use common::{ChdbServer, Server};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;

fn on_clickhouse() -> (tempfile::TempDir, ChdbServer, Server) {
    let dir = tempfile::tempdir().unwrap();
    let chdb = ChdbServer::start(&dir.path().join("chdb"));
    let server = Server::start_in(
        &dir.path().join("exos"),
        &["--clickhouse-url", &chdb.url],
        None,
    );
    (dir, chdb, server)
}

fn batch(index: u64) -> Vec<u8> {
    let span = Span {
        trace_id: [9u8; 16].to_vec(),
        span_id: (index + 1).to_be_bytes().to_vec(),
        name: format!("batch-{index}"),
        kind: 2,
        start_time_unix_nano: 1_780_000_000_000_000_000 + index,
        end_time_unix_nano: 1_780_000_000_000_000_000 + index + 10,
        ..Default::default()
    };
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![KeyValue {
                    key: "service.name".into(),
                    value: Some(AnyValue {
                        value: Some(any_value::Value::StringValue("outage".into())),
                    }),
                    key_strindex: 0,
                }],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans: vec![span],
                ..Default::default()
            }],
            schema_url: String::new(),
        }],
    }
    .encode_to_vec()
}

#[test]
fn clickhouse_errors_reach_the_user() {
    let (_dir, _chdb, server) = on_clickhouse();
    let reply = ureq::post(&format!("{}/api/sql", server.http))
        .set("authorization", &common::basic("admin", &server.password))
        .send_json(serde_json::json!({"sql": "SELECT NoSuchColumn FROM otel_traces"}));
    let Err(ureq::Error::Status(status, response)) = reply else {
        panic!("an unknown column must fail");
    };
    assert_eq!(status, 400);
    let body: serde_json::Value = response.into_json().unwrap();
    let message = body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(message.contains("Code: 47"), "{message}");
    assert!(message.contains("NoSuchColumn"), "{message}");
}

#[test]
fn clickhouse_answers_views_and_guarded_sql() {
    let (_dir, _chdb, server) = on_clickhouse();
    assert_eq!(
        server
            .post("/v1/traces", "application/x-protobuf", None, &batch(1))
            .status,
        200
    );
    let services = server.sql("SELECT ServiceName, SpanCount, ErrorCount FROM services");
    assert_eq!(services["rows"], serde_json::json!([["outage", 1, 0]]));
    let rejected = ureq::post(&format!("{}/api/sql", server.http))
        .set("authorization", &common::basic("admin", &server.password))
        .send_json(serde_json::json!({"sql": "SELECT * FROM file('/etc/passwd')"}));
    assert!(matches!(rejected, Err(ureq::Error::Status(400, _))));
}

#[test]
fn clickhouse_outage_loses_no_acknowledged_span() {
    let (_dir, mut chdb, server) = on_clickhouse();
    let mut acknowledged = Vec::new();
    let mut refused = 0;
    for index in 0..40u64 {
        if index == 15 {
            chdb.kill();
        }
        if index == 25 {
            chdb.restart();
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let reply = server.post("/v1/traces", "application/x-protobuf", None, &batch(index));
            if reply.status == 200 {
                acknowledged.push(index);
                break;
            }
            assert!(
                matches!(reply.status, 429 | 503),
                "batch {index}: {} {}",
                reply.status,
                reply.text()
            );
            assert!(reply.retry_after.is_some(), "batch {index}: no Retry-After");
            refused += 1;
            if (15..25).contains(&index) {
                // While ClickHouse is down the sender receives 503. Move on, as a sender whose
                // retries are exhausted would, so the outage also drops unacknowledged data.
                break;
            }
            assert!(
                Instant::now() < deadline,
                "ingest did not resume after ClickHouse came back"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    assert!(refused > 0, "the outage was never reported to the sender");
    assert!(
        acknowledged.contains(&39),
        "ingest resumed after the restart"
    );
    let stored = server
        .sql("SELECT SpanName FROM otel_traces WHERE ServiceName = 'outage' ORDER BY SpanName");
    let names: Vec<String> = stored["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row[0].as_str().unwrap().to_string())
        .collect();
    for index in acknowledged {
        assert!(
            names.contains(&format!("batch-{index}")),
            "acknowledged batch {index} is missing"
        );
    }
}

#[test]
fn two_servers_share_one_clickhouse() {
    let (dir, chdb, first) = on_clickhouse();
    let known = (first.password.as_str(), first.ingest_key.as_str());
    let second = Server::start_in(
        &dir.path().join("second"),
        &["--clickhouse-url", &chdb.url],
        Some(known),
    );

    assert_eq!(
        second
            .post("/v1/traces", "application/x-protobuf", None, &batch(7))
            .status,
        200
    );
    assert_eq!(
        first.scalar("SELECT count() FROM otel_traces WHERE SpanName = 'batch-7'"),
        serde_json::json!(1)
    );

    let created: serde_json::Value = ureq::post(&format!("{}/api/keys", first.http))
        .set("authorization", &common::basic("admin", &first.password))
        .send_json(serde_json::json!({"name": "shared"}))
        .expect("admin creates a key")
        .into_json()
        .unwrap();
    let key = created["key"].as_str().unwrap();
    let reply = ureq::post(&format!("{}/v1/traces", second.otlp_http))
        .set("content-type", "application/x-protobuf")
        .set("authorization", key)
        .send_bytes(&batch(8));
    assert_eq!(
        reply.map(|r| r.status()).unwrap_or(0),
        200,
        "a key made on one server works on the other"
    );
}
