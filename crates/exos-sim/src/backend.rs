//! Backend telemetry of one order step: the business span, the HTTP and
//! database calls it makes across services, and the logs they write.
//!
//! Every business activity is a root span of service `order-api` named after
//! the activity and spanning the activity's start and end in simulated time.
//! Its children are the short requests the operations application makes while
//! the operator works: they share its trace id and point at their parents, and
//! follow the OpenTelemetry HTTP and database semantic conventions.

use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::Span;

use crate::batch::Batcher;
use crate::calendar::{HOUR_NS, MILLISECOND_NS};
use crate::model::{Activity, Model};
use crate::otlp::{error_status, exception_event, int, text, texts};
use crate::process::{Order, Step};
use crate::random::{Purpose, Random};

pub const ORDER_API: &str = "order-api";
pub const DOCUMENT_SERVICE: &str = "document-service";
pub const VALUATION_ENGINE: &str = "valuation-engine";
pub const NOTIFICATION_SERVICE: &str = "notification-service";
pub const AUTH_SERVICE: &str = "auth-service";
pub const POSTGRES: &str = "postgres";

pub const SERVICES: [&str; 6] = [
    ORDER_API,
    DOCUMENT_SERVICE,
    VALUATION_ENGINE,
    NOTIFICATION_SERVICE,
    AUTH_SERVICE,
    POSTGRES,
];

/// Probability that a call to a healthy service fails.
const BASE_ERROR_RATE: f64 = 0.008;
/// Database statements slower than this are also traced by the database itself.
const TRACED_QUERY_NS: i64 = 5 * MILLISECOND_NS;

const PROCESS_SCOPE: &str = "ops.process";
const HTTP_SCOPE: &str = "ops.http";
const DB_SCOPE: &str = "ops.db";

/// A span being built: its ids and time, so children can be placed inside it.
#[derive(Clone)]
pub struct SpanRef {
    pub trace_id: Vec<u8>,
    pub span_id: Vec<u8>,
    pub start_ns: i64,
    pub end_ns: i64,
}

/// The shared state of one trace while its spans are generated.
pub struct TraceWriter<'a> {
    pub model: &'a Model,
    pub random: Random,
    pub batcher: &'a mut Batcher,
    pub trace_id: Vec<u8>,
    /// Attributes every span of an order's trace carries (`order.id`, `lob`).
    pub order_attributes: Vec<opentelemetry_proto::tonic::common::v1::KeyValue>,
}

/// One outgoing HTTP call from `order-api` to another service.
pub struct Call {
    pub service: &'static str,
    pub method: &'static str,
    pub route: &'static str,
    pub path: String,
    /// Median server-side handling time in milliseconds.
    pub median_ms: f64,
}

/// Generates the spans and logs of step `step_index` of `order`.
pub fn emit_step(
    model: &Model,
    seed: u64,
    order: &Order,
    step_index: usize,
    batcher: &mut Batcher,
) {
    let step = &order.steps[step_index];
    let mut random = Random::stream(seed, Purpose::Step, order.index * 64 + step_index as u64);
    let trace_id = random.id::<16>().to_vec();
    let mut writer = TraceWriter {
        model,
        random,
        batcher,
        trace_id,
        order_attributes: vec![
            text("order.id", &order.id),
            text("lob", model.lobs[order.lob].name),
        ],
    };
    let documents = order.documents(model).swap_remove(step_index);
    let business = writer.business_span(order, step, &documents);
    let submit_ms = writer.random.lognormal(120.0, 0.5);
    let submit_ns = ((submit_ms * MILLISECOND_NS as f64) as i64)
        .min((step.end_ns - step.start_ns) / 2)
        .max(1);
    if let Some(call) = service_call(order, step) {
        let at = business.start_ns + (step.end_ns - step.start_ns) / 10;
        writer.client_call(&business, at, &call);
    }
    let (method, route) = submit_route(step.activity);
    let path = route.replace("{orderId}", &order.id);
    let server = writer.server_span(
        ORDER_API,
        &business,
        step.end_ns - submit_ns,
        submit_ns,
        method,
        route,
        &path,
        200,
    );
    writer.database_call(ORDER_API, &server, db_statement(step.activity));
    writer.completion_log(order, step, &server);
}

impl TraceWriter<'_> {
    fn next_span_id(&mut self) -> Vec<u8> {
        self.random.id::<8>().to_vec()
    }

    fn business_span(&mut self, order: &Order, step: &Step, documents: &[String]) -> SpanRef {
        let operator = &self.model.operators[step.operator];
        let mut attributes = self.order_attributes.clone();
        attributes.extend([
            text("operator.id", &operator.id),
            text("user.id", &operator.email),
            text("order.status", step.activity.status_after()),
        ]);
        if step.activity.is_product_event() {
            attributes.push(text("product.event", "true"));
        }
        if !documents.is_empty() {
            attributes.push(texts("document.id", documents));
        }
        if step.activity == Activity::Close {
            let breached = order.sla_breached(self.model);
            attributes.push(text("order.sla_breached", breached.to_string()));
        }
        let span_id = self.next_span_id();
        let span = Span {
            trace_id: self.trace_id.clone(),
            span_id: span_id.clone(),
            name: step.activity.name().into(),
            kind: SpanKind::Internal as i32,
            start_time_unix_nano: step.start_ns as u64,
            end_time_unix_nano: step.end_ns as u64,
            attributes,
            ..Default::default()
        };
        self.batcher.span(ORDER_API, PROCESS_SCOPE, span);
        SpanRef {
            trace_id: self.trace_id.clone(),
            span_id,
            start_ns: step.start_ns,
            end_ns: step.end_ns,
        }
    }

    /// Emits a server span of `service` handling one request; status codes of 500
    /// and above mark it as an error with an exception event and an error log.
    #[allow(clippy::too_many_arguments)]
    pub fn server_span(
        &mut self,
        service: &'static str,
        parent: &SpanRef,
        start_ns: i64,
        duration_ns: i64,
        method: &str,
        route: &str,
        path: &str,
        status: i64,
    ) -> SpanRef {
        let span_id = self.next_span_id();
        let mut attributes = self.order_attributes.clone();
        attributes.extend([
            text("http.request.method", method),
            text("url.path", path),
            text("url.scheme", "http"),
            text("http.route", route),
            int("http.response.status_code", status),
            text("server.address", format!("{service}.ops.internal")),
            int("server.port", 8080),
        ]);
        let mut span = Span {
            trace_id: self.trace_id.clone(),
            span_id: span_id.clone(),
            parent_span_id: parent.span_id.clone(),
            name: format!("{method} {route}"),
            kind: SpanKind::Server as i32,
            start_time_unix_nano: start_ns as u64,
            end_time_unix_nano: (start_ns + duration_ns) as u64,
            attributes,
            ..Default::default()
        };
        let reference = SpanRef {
            trace_id: self.trace_id.clone(),
            span_id,
            start_ns,
            end_ns: start_ns + duration_ns,
        };
        if status >= 500 {
            let (kind, message) = failure_for(service, status);
            let stack = stacktrace(service, kind);
            span.status = error_status(message);
            span.events.push(exception_event(
                start_ns + duration_ns,
                kind,
                message,
                &stack,
            ));
            let log = self.log_record(
                &reference,
                start_ns + duration_ns,
                17,
                "ERROR",
                format!("{method} {path} failed: {kind}: {message}"),
            );
            self.batcher.log(service, HTTP_SCOPE, log);
        }
        self.batcher.span(service, HTTP_SCOPE, span);
        reference
    }

    /// Emits an `order-api` client span and the called service's server span,
    /// failing as the service's health at that moment dictates.
    pub fn client_call(&mut self, parent: &SpanRef, start_ns: i64, call: &Call) {
        let server_ns = (self.random.lognormal(call.median_ms, 0.6) * MILLISECOND_NS as f64) as i64;
        let network_ns = (self.random.uniform(0.4, 3.0) * MILLISECOND_NS as f64) as i64;
        let duration_ns = server_ns + 2 * network_ns;
        let room = (parent.end_ns - start_ns - MILLISECOND_NS).max(2);
        let duration_ns = duration_ns.min(room);
        let status = self.call_status(call.service, start_ns);
        let span_id = self.next_span_id();
        let mut attributes = self.order_attributes.clone();
        attributes.extend([
            text("http.request.method", call.method),
            text(
                "url.full",
                format!("http://{}.ops.internal:8080{}", call.service, call.path),
            ),
            text("server.address", format!("{}.ops.internal", call.service)),
            int("server.port", 8080),
            int("http.response.status_code", status),
            text("peer.service", call.service),
        ]);
        let mut span = Span {
            trace_id: self.trace_id.clone(),
            span_id: span_id.clone(),
            parent_span_id: parent.span_id.clone(),
            name: call.method.to_string(),
            kind: SpanKind::Client as i32,
            start_time_unix_nano: start_ns as u64,
            end_time_unix_nano: (start_ns + duration_ns) as u64,
            attributes,
            ..Default::default()
        };
        if status >= 500 {
            span.status = error_status(format!("{} answered {status}", call.service));
        }
        self.batcher.span(ORDER_API, HTTP_SCOPE, span);
        let client = SpanRef {
            trace_id: self.trace_id.clone(),
            span_id,
            start_ns,
            end_ns: start_ns + duration_ns,
        };
        let inner_start = start_ns + (duration_ns - server_ns).max(0) / 2;
        let inner_ns = server_ns.min(duration_ns).max(1);
        let server = self.server_span(
            call.service,
            &client,
            inner_start,
            inner_ns,
            call.method,
            call.route,
            &call.path,
            status,
        );
        if status < 500 && call.service == DOCUMENT_SERVICE {
            self.database_call(
                DOCUMENT_SERVICE,
                &server,
                "SELECT id, kind, pages FROM documents WHERE order_id = $1",
            );
        }
    }

    /// Returns the HTTP status a call to `service` at `at_ns` gets: mostly 200,
    /// rarely 500, and mostly 503 inside the injected outage of that service.
    fn call_status(&mut self, service: &str, at_ns: i64) -> i64 {
        let outage = &self.model.incidents.outage;
        let in_outage =
            service == outage.service && (outage.start_ns..outage.end_ns).contains(&at_ns);
        if in_outage && self.random.chance(outage.error_rate) {
            return 503;
        }
        if self.random.chance(BASE_ERROR_RATE) {
            return 500;
        }
        200
    }

    /// Emits a database client span of `service` under `parent`, and the database's
    /// own span when the statement is slow enough for the database to trace it.
    pub fn database_call(&mut self, service: &'static str, parent: &SpanRef, statement: &str) {
        let duration_ns = ((self.random.lognormal(3.0, 0.8) * MILLISECOND_NS as f64) as i64)
            .min((parent.end_ns - parent.start_ns) / 2)
            .max(1);
        let start_ns = parent.start_ns + (parent.end_ns - parent.start_ns - duration_ns) / 3;
        let operation = statement.split_whitespace().next().unwrap_or("SELECT");
        let table = table_of(statement);
        let attributes = vec![
            text("db.system", "postgresql"),
            text("db.system.name", "postgresql"),
            text("db.namespace", "orders"),
            text("db.operation.name", operation),
            text("db.collection.name", table),
            text("db.query.text", statement),
            text("db.statement", statement),
            text("server.address", "postgres.ops.internal"),
            int("server.port", 5432),
        ];
        let span_id = self.next_span_id();
        let client = Span {
            trace_id: self.trace_id.clone(),
            span_id: span_id.clone(),
            parent_span_id: parent.span_id.clone(),
            name: format!("{operation} {table}"),
            kind: SpanKind::Client as i32,
            start_time_unix_nano: start_ns as u64,
            end_time_unix_nano: (start_ns + duration_ns) as u64,
            attributes: attributes.clone(),
            ..Default::default()
        };
        self.batcher.span(service, DB_SCOPE, client);
        if duration_ns >= TRACED_QUERY_NS {
            let server = Span {
                trace_id: self.trace_id.clone(),
                span_id: self.next_span_id(),
                parent_span_id: span_id,
                name: format!("{operation} {table}"),
                kind: SpanKind::Server as i32,
                start_time_unix_nano: (start_ns + duration_ns / 10) as u64,
                end_time_unix_nano: (start_ns + duration_ns * 9 / 10) as u64,
                attributes,
                ..Default::default()
            };
            self.batcher.span(POSTGRES, DB_SCOPE, server);
        }
    }

    /// Builds a log record tied to `span`.
    pub fn log_record(
        &self,
        span: &SpanRef,
        time_ns: i64,
        severity: i32,
        level: &str,
        message: String,
    ) -> LogRecord {
        LogRecord {
            time_unix_nano: time_ns as u64,
            observed_time_unix_nano: time_ns as u64,
            severity_number: severity,
            severity_text: level.into(),
            body: Some(crate::otlp::body(message)),
            attributes: self.order_attributes.clone(),
            flags: 1,
            trace_id: span.trace_id.clone(),
            span_id: span.span_id.clone(),
            ..Default::default()
        }
    }

    /// Logs the completed activity, with a warning when the order is past its service level.
    fn completion_log(&mut self, order: &Order, step: &Step, server: &SpanRef) {
        let operator = &self.model.operators[step.operator];
        let message = format!(
            "{} completed for order {} by {} (status {})",
            step.activity.name(),
            order.id,
            operator.id,
            step.activity.status_after()
        );
        let record = self.log_record(server, server.end_ns, 9, "INFO", message);
        self.batcher.log(ORDER_API, HTTP_SCOPE, record);
        let sla_ns = (self.model.lobs[order.lob].sla_hours * HOUR_NS as f64) as i64;
        let late_ns = step.end_ns - order.arrival_ns - sla_ns;
        if late_ns > 0 && !matches!(step.activity, Activity::Close | Activity::Cancel) {
            let message = format!(
                "order {} is past its {} h service level by {} h",
                order.id,
                sla_ns / HOUR_NS,
                late_ns / HOUR_NS
            );
            let record = self.log_record(server, server.end_ns, 13, "WARN", message);
            self.batcher.log(ORDER_API, HTTP_SCOPE, record);
        }
    }
}

/// The request the application makes when the operator completes the activity.
fn submit_route(activity: Activity) -> (&'static str, &'static str) {
    match activity {
        Activity::OrderReceived => ("POST", "/api/orders"),
        Activity::AssignOperator => ("PUT", "/api/orders/{orderId}/assignee"),
        Activity::InformationReceived => ("POST", "/api/webhooks/documents/{orderId}"),
        Activity::Cancel => ("DELETE", "/api/orders/{orderId}"),
        _ => ("POST", "/api/orders/{orderId}/activities"),
    }
}

fn db_statement(activity: Activity) -> &'static str {
    match activity {
        Activity::OrderReceived => "INSERT INTO orders (id, lob, status, received_at) VALUES ($1, $2, 'open', $3)",
        Activity::AssignOperator => "UPDATE orders SET assignee = $2 WHERE id = $1",
        Activity::Close | Activity::Cancel => "UPDATE orders SET status = $2, closed_at = $3 WHERE id = $1",
        _ => "INSERT INTO order_activities (order_id, activity, operator_id, done_at) VALUES ($1, $2, $3, $4)",
    }
}

fn table_of(statement: &str) -> &str {
    let words: Vec<&str> = statement.split_whitespace().collect();
    let after = |keyword: &str| {
        words
            .iter()
            .position(|w| w.eq_ignore_ascii_case(keyword))
            .and_then(|i| words.get(i + 1))
    };
    after("INTO")
        .or_else(|| after("FROM"))
        .or_else(|| after("UPDATE"))
        .copied()
        .unwrap_or("orders")
}

/// The call to another service that an activity makes, if any.
fn service_call(order: &Order, step: &Step) -> Option<Call> {
    let id = &order.id;
    let call = |service, method, route: &'static str, median_ms| Call {
        service,
        method,
        route,
        path: route.replace("{orderId}", id),
        median_ms,
    };
    match step.activity {
        Activity::OrderReceived => Some(call(AUTH_SERVICE, "POST", "/tokens/introspect", 8.0)),
        Activity::AssignOperator => Some(call(AUTH_SERVICE, "GET", "/users/roles", 6.0)),
        Activity::ReviewDocuments | Activity::TitleSearch => {
            Some(call(DOCUMENT_SERVICE, "GET", "/documents/{orderId}", 45.0))
        }
        Activity::SiteInspection => Some(call(
            DOCUMENT_SERVICE,
            "POST",
            "/documents/{orderId}",
            160.0,
        )),
        Activity::Valuation | Activity::QualityCheck
            if order
                .steps
                .iter()
                .any(|s| s.activity == Activity::Valuation) =>
        {
            Some(call(
                VALUATION_ENGINE,
                "POST",
                "/valuations/{orderId}",
                220.0,
            ))
        }
        Activity::RequestInformation | Activity::DeliverReport | Activity::Cancel => {
            Some(call(NOTIFICATION_SERVICE, "POST", "/notifications", 25.0))
        }
        _ => None,
    }
}

/// The exception a failing service raises.
fn failure_for(service: &str, status: i64) -> (&'static str, &'static str) {
    match (service, status) {
        (_, 503) => (
            "ServiceUnavailableError",
            "upstream connection pool exhausted: no healthy replica",
        ),
        (VALUATION_ENGINE, _) => (
            "ValuationError",
            "comparable sales lookup timed out after 5000 ms",
        ),
        (DOCUMENT_SERVICE, _) => (
            "StorageError",
            "object store returned SlowDown for documents bucket",
        ),
        (NOTIFICATION_SERVICE, _) => (
            "SmtpError",
            "mail relay rejected message: 451 temporary failure",
        ),
        (AUTH_SERVICE, _) => ("TokenValidationError", "signing key not found in key set"),
        _ => ("DatabaseError", "deadlock detected"),
    }
}

fn stacktrace(service: &str, kind: &str) -> String {
    format!(
        "{kind}\n    at handle_request ({service}/src/handlers.rs:142)\n    at route ({service}/src/router.rs:57)\n    at serve ({service}/src/main.rs:31)"
    )
}
