//! The OTLP receivers against malformed, hostile and edge-case input.
//!
//! Every case states its expected response, and after each one the server must
//! still serve and the rows accepted before it must still be there.

mod common;

use std::io::Write;

use common::Server;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, ArrayValue, KeyValue};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    metric, number_data_point, Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;

const PROTOBUF: &str = "application/x-protobuf";
const START: u64 = 1_780_000_000_000_000_000;

fn text_attr(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.into())),
        }),
        key_strindex: 0,
    }
}

fn span(index: u64) -> Span {
    let mut trace_id = [0u8; 16];
    trace_id[8..].copy_from_slice(&(index + 1).to_be_bytes());
    Span {
        trace_id: trace_id.to_vec(),
        span_id: (index + 1).to_be_bytes().to_vec(),
        name: format!("step-{index}"),
        kind: 2,
        start_time_unix_nano: START + index,
        end_time_unix_nano: START + index + 1_000,
        ..Default::default()
    }
}

fn traces(spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![text_attr("service.name", "bad-input")],
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

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn partial(reply: &common::Reply) -> (i64, String) {
    let response = ExportTraceServiceResponse::decode(reply.body.as_slice())
        .expect("ExportTraceServiceResponse");
    response
        .partial_success
        .map_or((0, String::new()), |p| (p.rejected_spans, p.error_message))
}

/// Posts the baseline spans that every case must leave intact.
fn baseline(server: &Server) -> i64 {
    let reply = server.post(
        "/v1/traces",
        PROTOBUF,
        None,
        &traces((0..5).map(span).collect()).encode_to_vec(),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    5
}

fn assert_intact(server: &Server, case: &str, expected: i64) {
    assert!(server.healthy(), "{case}: server stopped serving");
    let count = server.scalar("SELECT count(*) FROM otel_traces WHERE ServiceName = 'bad-input'");
    assert_eq!(
        count,
        serde_json::json!(expected),
        "{case}: stored span count changed"
    );
}

/// One malformed request: name, content type, content encoding, body, expected status and message.
type Case = (
    &'static str,
    &'static str,
    Option<&'static str>,
    Vec<u8>,
    u16,
    &'static str,
);

#[test]
fn malformed_bodies_get_clear_errors() {
    let server = Server::start(&["--max-body-bytes", "4194304"]);
    let stored = baseline(&server);
    let valid = traces(vec![span(100)]).encode_to_vec();

    let mut invalid_utf8 = traces(vec![Span {
        name: "XX".into(),
        ..span(101)
    }])
    .encode_to_vec();
    let at = invalid_utf8.windows(2).position(|w| w == b"XX").unwrap();
    invalid_utf8[at] = 0xff;

    let mut nested = AnyValue {
        value: Some(any_value::Value::StringValue("leaf".into())),
    };
    for _ in 0..200 {
        nested = AnyValue {
            value: Some(any_value::Value::ArrayValue(ArrayValue {
                values: vec![nested],
            })),
        };
    }
    let deep = traces(vec![Span {
        attributes: vec![KeyValue {
            key: "deep".into(),
            value: Some(nested),
            key_strindex: 0,
        }],
        ..span(102)
    }])
    .encode_to_vec();

    let bomb = gzip(&vec![0u8; 64 * 1024 * 1024]);
    let cases: Vec<Case> = vec![
        ("truncated protobuf", PROTOBUF, None, valid[..valid.len() - 7].to_vec(), 400, "invalid protobuf"),
        ("invalid gzip", PROTOBUF, Some("gzip"), b"\x1f\x8b not really gzip".to_vec(), 400, "invalid gzip"),
        ("gzip bomb", PROTOBUF, Some("gzip"), bomb, 413, "larger than 4194304 bytes"),
        ("wrong content type", "text/plain", None, valid.clone(), 415, "unsupported content type"),
        ("unknown content encoding", PROTOBUF, Some("br"), valid.clone(), 415, "unsupported content encoding"),
        ("invalid utf-8 in a string", PROTOBUF, None, invalid_utf8, 400, "invalid protobuf"),
        ("deeply nested AnyValue", PROTOBUF, None, deep, 400, "recursion limit"),
        ("empty JSON body", "application/json", None, Vec::new(), 400, "empty body"),
        ("JSON that is not OTLP", "application/json", None, b"[1,2,3]".to_vec(), 400, "expected an object"),
        ("negative JSON time", "application/json", None,
            br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","startTimeUnixNano":"-5"}]}]}]}"#.to_vec(),
            400, "not an unsigned 64-bit integer"),
    ];
    for (case, content_type, encoding, body, status, message) in cases {
        let reply = server.post("/v1/traces", content_type, encoding, &body);
        assert_eq!(reply.status, status, "{case}: {}", reply.text());
        assert!(
            reply.text().contains(message),
            "{case}: body {:?} lacks {message:?}",
            reply.text()
        );
        assert_intact(&server, case, stored);
    }
}

#[test]
fn gzip_bomb_is_refused_before_inflating() {
    let server = Server::start(&[]);
    let bomb = gzip(&vec![0u8; 512 * 1024 * 1024]);
    let started = std::time::Instant::now();
    let reply = server.post("/v1/traces", PROTOBUF, Some("gzip"), &bomb);
    assert_eq!(reply.status, 413);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn empty_protobuf_body_is_an_empty_export() {
    let server = Server::start(&[]);
    let reply = server.post("/v1/traces", PROTOBUF, None, &[]);
    assert_eq!(reply.status, 200);
    assert_eq!(partial(&reply), (0, String::new()));
}

#[test]
fn invalid_records_are_rejected_individually() {
    let server = Server::start(&[]);
    let stored = baseline(&server);
    let cases: Vec<(&str, Span, &str)> = vec![
        (
            "short trace id",
            Span {
                trace_id: vec![1; 15],
                ..span(200)
            },
            "trace_id has 15 bytes",
        ),
        (
            "long span id",
            Span {
                span_id: vec![1; 9],
                ..span(201)
            },
            "span_id has 9 bytes",
        ),
        (
            "missing span id",
            Span {
                span_id: vec![],
                ..span(202)
            },
            "span_id is missing",
        ),
        (
            "zero trace id",
            Span {
                trace_id: vec![0; 16],
                ..span(203)
            },
            "all zeros",
        ),
        (
            "bad parent id",
            Span {
                parent_span_id: vec![1; 3],
                ..span(204)
            },
            "parent_span_id has 3 bytes",
        ),
        (
            "zero start time",
            Span {
                start_time_unix_nano: 0,
                ..span(205)
            },
            "start_time_unix_nano is 0",
        ),
        (
            "far-future time",
            Span {
                start_time_unix_nano: u64::MAX - 1,
                end_time_unix_nano: u64::MAX,
                ..span(206)
            },
            "year 2262",
        ),
    ];
    for (case, bad, message) in cases {
        let reply = server.post(
            "/v1/traces",
            PROTOBUF,
            None,
            &traces(vec![bad, span(300)]).encode_to_vec(),
        );
        assert_eq!(reply.status, 200, "{case}: {}", reply.text());
        let (rejected, text) = partial(&reply);
        assert_eq!(rejected, 1, "{case}");
        assert!(text.contains(message), "{case}: {text:?} lacks {message:?}");
    }
    // Each request also carried span 300, which must be stored every time.
    assert_intact(&server, "after invalid records", stored + 7);
}

#[test]
fn oversized_attributes_are_trimmed_and_reported() {
    let server = Server::start(&[]);
    let many: Vec<KeyValue> = (0..10_000)
        .map(|i| text_attr(&format!("k{i}"), "v"))
        .collect();
    let huge = vec![text_attr("blob", &"x".repeat(1024 * 1024))];
    let request = traces(vec![
        Span {
            attributes: many,
            ..span(400)
        },
        Span {
            attributes: huge,
            ..span(401)
        },
    ]);
    let reply = server.post("/v1/traces", PROTOBUF, None, &request.encode_to_vec());
    assert_eq!(reply.status, 200, "{}", reply.text());
    let (rejected, message) = partial(&reply);
    assert_eq!(rejected, 0);
    assert!(message.contains("only the first 2048 kept"), "{message}");
    assert!(message.contains("cut to 131072 bytes"), "{message}");
    let sizes = server.sql(common::by_store(
        "SELECT cardinality(SpanAttributes), length(coalesce(SpanAttributes['blob'], '')) FROM otel_traces ORDER BY SpanName",
        "SELECT length(SpanAttributes), length(SpanAttributes['blob']) FROM otel_traces ORDER BY SpanName",
    ));
    assert_eq!(sizes["rows"], serde_json::json!([[2048, 0], [1, 131072]]));
}

#[test]
fn nan_and_infinite_doubles_are_stored() {
    let server = Server::start(&[]);
    let double = |key: &str, value: f64| KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::DoubleValue(value)),
        }),
        key_strindex: 0,
    };
    let request = traces(vec![Span {
        attributes: vec![
            double("nan", f64::NAN),
            double("inf", f64::INFINITY),
            double("ninf", f64::NEG_INFINITY),
        ],
        ..span(500)
    }]);
    assert_eq!(
        server
            .post("/v1/traces", PROTOBUF, None, &request.encode_to_vec())
            .status,
        200
    );
    let row = server.sql("SELECT SpanAttributes['nan'], SpanAttributes['inf'], SpanAttributes['ninf'] FROM otel_traces");
    assert_eq!(row["rows"][0], serde_json::json!(["NaN", "+Inf", "-Inf"]));

    let point = |value: f64| NumberDataPoint {
        time_unix_nano: START,
        value: Some(number_data_point::Value::AsDouble(value)),
        ..Default::default()
    };
    let metrics = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: "odd".into(),
                    data: Some(metric::Data::Gauge(Gauge {
                        data_points: vec![point(f64::NAN), point(f64::INFINITY)],
                    })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    assert_eq!(
        server
            .post("/v1/metrics", PROTOBUF, None, &metrics.encode_to_vec())
            .status,
        200
    );
    let values = server.sql(common::by_store(
        "SELECT isnan(Value), isinf(Value) FROM otel_metrics_gauge ORDER BY isnan(Value)",
        "SELECT isNaN(Value), isInfinite(Value) FROM otel_metrics_gauge ORDER BY isNaN(Value)",
    ));
    let expected = common::by_store(
        serde_json::json!([[false, true], [true, false]]),
        serde_json::json!([[0, 1], [1, 0]]),
    );
    assert_eq!(values["rows"], expected);
}

#[test]
fn log_time_falls_back_to_observed_time() {
    let server = Server::start(&[]);
    let request = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![LogRecord {
                    time_unix_nano: 0,
                    observed_time_unix_nano: START,
                    body: Some(AnyValue {
                        value: Some(any_value::Value::StringValue("observed".into())),
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    assert_eq!(
        server
            .post("/v1/logs", PROTOBUF, None, &request.encode_to_vec())
            .status,
        200
    );
    let stored = server.scalar(common::by_store(
        "SELECT epoch_ns(Timestamp) FROM otel_logs WHERE Body = 'observed'",
        "SELECT toUnixTimestamp64Nano(Timestamp) FROM otel_logs WHERE Body = 'observed'",
    ));
    assert_eq!(stored, serde_json::json!(START));
}

#[test]
fn missing_or_wrong_key_gets_401() {
    let server = Server::start(&[]);
    let body = traces(vec![span(1)]).encode_to_vec();
    let missing = common::Reply::from(
        ureq::post(&format!("{}/v1/traces", server.otlp_http))
            .set("content-type", PROTOBUF)
            .send_bytes(&body),
    );
    assert_eq!(missing.status, 401);
    for key in ["exos_ik_nope_nope", "garbage", "Bearer exos_ik_x_y"] {
        let wrong = common::Reply::from(
            ureq::post(&format!("{}/v1/traces", server.otlp_http))
                .set("content-type", PROTOBUF)
                .set("authorization", key)
                .send_bytes(&body),
        );
        assert_eq!(wrong.status, 401, "{key}");
    }
    for header in ["authorization", "x-exos-ingest-key"] {
        let ok = common::Reply::from(
            ureq::post(&format!("{}/v1/traces", server.otlp_http))
                .set("content-type", PROTOBUF)
                .set(header, &server.ingest_key)
                .send_bytes(&body),
        );
        assert_eq!(ok.status, 200, "{header}");
    }
    let bearer = common::Reply::from(
        ureq::post(&format!("{}/v1/traces", server.otlp_http))
            .set("content-type", PROTOBUF)
            .set("authorization", &format!("Bearer {}", server.ingest_key))
            .send_bytes(&body),
    );
    assert_eq!(bearer.status, 200);
}

#[test]
fn api_routes_need_auth() {
    let server = Server::start(&[]);
    for (method, path) in [
        ("POST", "/api/sql"),
        ("GET", "/api/tables"),
        ("GET", "/api/keys"),
        ("GET", "/api/nothing"),
    ] {
        let reply =
            common::Reply::from(ureq::request(method, &format!("{}{path}", server.http)).call());
        assert_eq!(reply.status, 401, "{method} {path}");
        let wrong = common::Reply::from(
            ureq::request(method, &format!("{}{path}", server.http))
                .set("authorization", &common::basic("admin", "wrong"))
                .call(),
        );
        assert_eq!(wrong.status, 401, "{method} {path} with a wrong password");
    }
}

#[test]
fn cors_preflight_allows_browser_sdks() {
    let server = Server::start(&[]);
    let reply = ureq::request("OPTIONS", &format!("{}/v1/traces", server.otlp_http))
        .set("origin", "http://127.0.0.1:5173")
        .set("access-control-request-method", "POST")
        .set(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .call()
        .expect("preflight answered");
    assert_eq!(
        reply.header("access-control-allow-origin"),
        Some("http://127.0.0.1:5173")
    );
    let allowed = reply
        .header("access-control-allow-headers")
        .unwrap_or_default()
        .to_lowercase();
    assert!(allowed.contains("authorization"), "{allowed}");
}

#[test]
fn sql_api_reads_json_without_content_type() {
    let server = Server::start(&[]);
    let reply = ureq::post(&format!("{}/api/sql", server.http))
        .set("authorization", &common::basic("admin", &server.password))
        .send_string(r#"{"sql": "SELECT 41 + 1 AS answer"}"#)
        .expect("a JSON body sent as text/plain is accepted");
    let body: serde_json::Value = reply.into_json().unwrap();
    assert_eq!(body["rows"], serde_json::json!([[42]]));
    let broken = ureq::post(&format!("{}/api/sql", server.http))
        .set("authorization", &common::basic("admin", &server.password))
        .send_string("SELECT 1");
    let Err(ureq::Error::Status(status, response)) = broken else {
        panic!("a body that is not JSON must be rejected");
    };
    assert_eq!(status, 400);
    assert!(response
        .into_string()
        .unwrap()
        .contains("send {\\\"sql\\\""));
}
