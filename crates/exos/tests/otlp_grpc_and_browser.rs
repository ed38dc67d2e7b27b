//! The gRPC receiver with the generated OTLP client, and payloads shaped
//! exactly as the HyperDX browser SDK sends them over OTLP/HTTP.

mod common;

use std::io::Write;

use common::Server;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;

fn text(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.into())),
        }),
        key_strindex: 0,
    }
}

fn double(key: &str, value: f64) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::DoubleValue(value)),
        }),
        key_strindex: 0,
    }
}

fn request(count: u64) -> ExportTraceServiceRequest {
    let spans = (0..count)
        .map(|i| Span {
            trace_id: [7u8; 16].to_vec(),
            span_id: (i + 1).to_be_bytes().to_vec(),
            name: "Approve".into(),
            kind: 1,
            start_time_unix_nano: 1_780_000_000_000_000_000,
            end_time_unix_nano: 1_780_000_000_000_000_000 + 42,
            attributes: vec![
                text("order.id", "ORD-2026-001"),
                text("operator.id", "op-437"),
            ],
            ..Default::default()
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![text("service.name", "grpc-client")],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            schema_url: String::new(),
        }],
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn grpc_export_needs_key_and_lands_rows() {
    let server = Server::start(&[]);
    let mut client = TraceServiceClient::connect(server.otlp_grpc.clone())
        .await
        .expect("gRPC connects");

    let status = client
        .export(request(1))
        .await
        .expect_err("no key must fail");
    assert_eq!(status.code(), tonic::Code::Unauthenticated);

    let mut authorized = tonic::Request::new(request(3));
    authorized
        .metadata_mut()
        .insert("authorization", server.ingest_key.parse().unwrap());
    let response = client
        .export(authorized)
        .await
        .expect("export with key succeeds")
        .into_inner();
    assert!(response.partial_success.is_none());

    let mut compressed = TraceServiceClient::connect(server.otlp_grpc.clone())
        .await
        .unwrap()
        .send_compressed(tonic::codec::CompressionEncoding::Gzip);
    let mut gzipped = tonic::Request::new(request(2));
    gzipped
        .metadata_mut()
        .insert("x-exos-ingest-key", server.ingest_key.parse().unwrap());
    compressed
        .export(gzipped)
        .await
        .expect("gzip export succeeds");

    let server_ref = &server;
    let rows = tokio::task::block_in_place(|| {
        server_ref.sql("SELECT count(*), min(Duration), min(SpanKind), min(OrderId), min(OperatorId) FROM otel_traces")
    });
    assert_eq!(
        rows["rows"][0],
        serde_json::json!([5, 42, "Internal", "ORD-2026-001", "op-437"])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn grpc_full_queue_asks_to_retry() {
    let server = Server::start(&["--queue-bytes", "64", "--test-write-delay-ms", "1500"]);
    let mut client = TraceServiceClient::connect(server.otlp_grpc.clone())
        .await
        .unwrap();
    let send = |mut client: TraceServiceClient<tonic::transport::Channel>, key: String| async move {
        let mut request = tonic::Request::new(request(20));
        request
            .metadata_mut()
            .insert("authorization", key.parse().unwrap());
        client.export(request).await
    };
    let first = tokio::spawn(send(client.clone(), server.ingest_key.clone()));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mut second = tonic::Request::new(request(20));
    second
        .metadata_mut()
        .insert("authorization", server.ingest_key.parse().unwrap());
    let refused = client.export(second).await.expect_err("queue is full");
    assert_eq!(refused.code(), tonic::Code::ResourceExhausted);
    assert!(
        refused.message().contains("queue is full"),
        "{}",
        refused.message()
    );
    assert!(
        first.await.unwrap().is_ok(),
        "the queued request still lands"
    );
}

/// A trace export as `@hyperdx/browser` 0.26 posts it: OTLP JSON, bare key header, session resource.
const BROWSER_TRACES: &str = r#"{"resourceSpans":[{"resource":{"attributes":[
  {"key":"service.name","value":{"stringValue":"order-web"}},
  {"key":"telemetry.sdk.language","value":{"stringValue":"webjs"}},
  {"key":"rum.sessionId","value":{"stringValue":"8f14e45fceea167a5a36dedd4bea2543"}},
  {"key":"rum.scriptInstance","value":{"stringValue":"b1"}}],"droppedAttributesCount":0},
  "scopeSpans":[{"scope":{"name":"@opentelemetry/instrumentation-user-interaction","version":"0.39.0"},
  "spans":[{"traceId":"a1b2c3d4e5f60718293a4b5c6d7e8f90","spanId":"0a1b2c3d4e5f6071","name":"click","kind":1,
  "startTimeUnixNano":1780000000123000000,"endTimeUnixNano":1780000000125500000,"droppedAttributesCount":0,
  "attributes":[{"key":"event_type","value":{"stringValue":"click"}},{"key":"target_element","value":{"stringValue":"BUTTON"}},
  {"key":"rum.session_id","value":{"stringValue":"8f14e45fceea167a5a36dedd4bea2543"}},
  {"key":"order.id","value":{"stringValue":"ORD-2026-001"}}],
  "events":[],"droppedEventsCount":0,"status":{"code":0},"links":[],"droppedLinksCount":0}]}]}]}"#;

fn rrweb_log(number: f64, chunk: f64, chunks: f64, body: &str) -> LogRecord {
    LogRecord {
        time_unix_nano: 1_780_000_000_123_456_789,
        body: Some(AnyValue {
            value: Some(any_value::Value::StringValue(body.into())),
        }),
        attributes: vec![
            double("rr-web.offset", 0.0),
            double("rr-web.event", number),
            double("rr-web.chunk", chunk),
            double("rr-web.total-chunks", chunks),
        ],
        ..Default::default()
    }
}

#[test]
fn browser_sdk_payloads_land_in_traces_and_sessions() {
    let server = Server::start(&[]);
    let reply = server.post(
        "/v1/traces",
        "application/json",
        None,
        BROWSER_TRACES.as_bytes(),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(reply.content_type.starts_with("application/json"));

    let replay = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: vec![
                    text("service.name", "order-web"),
                    text("rum.sessionId", "8f14e45fceea167a5a36dedd4bea2543"),
                ],
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                scope: Some(InstrumentationScope {
                    name: "rum.rr-web".into(),
                    ..Default::default()
                }),
                log_records: vec![
                    rrweb_log(
                        1.0,
                        1.0,
                        1.0,
                        r#"{"type":4,"data":{"href":"http://app/orders","width":1280,"height":720},"timestamp":1780000000123}"#,
                    ),
                    rrweb_log(
                        2.0,
                        1.0,
                        2.0,
                        r#"{"type":2,"data":{"node":{"type":0,"childNodes":["#,
                    ),
                    rrweb_log(2.0, 2.0, 2.0, r#"]}},"timestamp":1780000000124}"#),
                ],
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    };
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&replay.encode_to_vec()).unwrap();
    let reply = server.post(
        "/v1/logs",
        "application/x-protobuf",
        Some("gzip"),
        &gz.finish().unwrap(),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());

    let span = server.sql(
        "SELECT SpanName, SpanKind, RumSessionId, OrderId, ResourceAttributes['rum.scriptInstance'], Duration FROM otel_traces",
    );
    assert_eq!(
        span["rows"][0],
        serde_json::json!([
            "click",
            "Internal",
            "8f14e45fceea167a5a36dedd4bea2543",
            "ORD-2026-001",
            "b1",
            2_500_000
        ])
    );
    let sessions = server.sql(
        "SELECT count(*), min(ScopeName), min(RumSessionId), min(LogAttributes['rr-web.total-chunks']) FROM hyperdx_sessions",
    );
    assert_eq!(
        sessions["rows"][0],
        serde_json::json!([3, "rum.rr-web", "8f14e45fceea167a5a36dedd4bea2543", "1"])
    );
    assert_eq!(
        server.scalar("SELECT count(*) FROM otel_logs"),
        serde_json::json!(0)
    );
    let joined = server.scalar(common::by_store(
        "SELECT string_agg(Body, '' ORDER BY LogAttributes['rr-web.chunk']) FROM hyperdx_sessions \
         WHERE LogAttributes['rr-web.event'] = '2'",
        "SELECT arrayStringConcat(groupArray(Body)) FROM (SELECT Body FROM hyperdx_sessions \
         WHERE LogAttributes['rr-web.event'] = '2' ORDER BY LogAttributes['rr-web.chunk'])",
    ));
    assert_eq!(
        joined,
        serde_json::json!(
            r#"{"type":2,"data":{"node":{"type":0,"childNodes":[]}},"timestamp":1780000000124}"#
        )
    );
    let view = server.sql("SELECT SessionId, HasReplay, ReplayEvents, Actions FROM sessions");
    assert_eq!(
        view["rows"][0],
        serde_json::json!(["8f14e45fceea167a5a36dedd4bea2543", true, 3, 1])
    );
}

#[test]
fn sigterm_drains_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_in(dir.path(), &[], None);
    let (password, key) = (server.password.clone(), server.ingest_key.clone());
    let reply = server.post(
        "/v1/traces",
        "application/x-protobuf",
        None,
        &request(4).encode_to_vec(),
    );
    assert_eq!(reply.status, 200);
    let status = server.stop();
    assert!(status.success(), "exit status {status:?}");
    let again = Server::start_in(dir.path(), &[], Some((&password, &key)));
    assert_eq!(
        again.scalar("SELECT count(*) FROM otel_traces"),
        serde_json::json!(4)
    );
}
