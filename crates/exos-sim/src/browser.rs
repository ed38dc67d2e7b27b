//! Browser sessions of operators, in the HyperDX browser SDK's wire format.
//!
//! A session is one page load of the operations web app (`ops-web`) while the
//! operator works an order. It contains a document load, a route change to the order,
//! fetch calls, clicks, key presses, a form submit, sometimes a console warning,
//! a JavaScript error or a burst of rage clicks. Some page loads are also
//! recorded with rrweb; their events go out as log records of scope
//! `rum.rr-web`, one record per chunk, with the SDK's `rr-web.*` attributes.

use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::Span;

use crate::batch::Batcher;
use crate::calendar::MILLISECOND_NS;
use crate::model::Model;
use crate::otlp::{double, error_status, exception_event, int, text};
use crate::process::{Order, Step};
use crate::random::{Purpose, Random};
use crate::rrweb::{self, Page, Schedule};

pub const WEB_SERVICE: &str = "ops-web";
const APP_ORIGIN: &str = "https://ops.example.com";
const USER_AGENT: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Safari/537.36";

/// Share of orders whose review is done in a traced browser session.
const SESSION_RATE: f64 = 0.3;
/// Share of sessions that are also recorded with rrweb.
const REPLAY_RATE: f64 = 0.1;
/// Every this many orders, the session is recorded on a page whose full snapshot
/// is large enough to need several chunks (order 0 included).
const LARGE_PAGE_EVERY: u64 = 2_000;

/// Plan of an order's browser session, drawn from the order's own stream.
#[derive(Debug, Clone, Copy)]
pub struct SessionPlan {
    pub replay: bool,
    pub large_page: bool,
    pub rage: bool,
    pub script_error: bool,
    pub console_warning: bool,
}

/// Returns the plan of the order's browser session, or `None` when it has none.
pub fn plan_session(seed: u64, order: &Order) -> Option<SessionPlan> {
    let mut random = Random::stream(seed, Purpose::Session, order.index);
    let large_page = order.index.is_multiple_of(LARGE_PAGE_EVERY);
    if !large_page && !random.chance(SESSION_RATE) {
        return None;
    }
    Some(SessionPlan {
        replay: large_page || random.chance(REPLAY_RATE),
        large_page,
        rage: random.chance(0.06),
        script_error: random.chance(0.08),
        console_warning: random.chance(0.3),
    })
}

/// Counts of what one session produced.
#[derive(Debug, Default, Clone, Copy)]
pub struct SessionOutput {
    pub replay_events: u64,
}

/// Emits the session of `order` that runs while the operator works `step`.
pub fn emit_session(
    model: &Model,
    seed: u64,
    order: &Order,
    step: &Step,
    plan: SessionPlan,
    batcher: &mut Batcher,
) -> SessionOutput {
    let mut random = Random::stream(seed, Purpose::Session, order.index ^ (1 << 62));
    let session_id = random.hex(32);
    let script_instance = random.hex(32);
    let resource = browser_resource(&session_id, &script_instance);
    let key = format!("{session_id}/{script_instance}");
    let operator = &model.operators[step.operator];
    let mut session = Session {
        random,
        batcher,
        resource: &resource,
        key: &key,
        trace_id: Vec::new(),
        common: vec![
            text("rum.session_id", &session_id),
            text("user.id", &operator.email),
            text("operator.id", &operator.id),
            text("lob", model.lobs[order.lob].name),
            text("order.id", &order.id),
        ],
    };
    let order_href = format!("{APP_ORIGIN}/orders/{}", order.id);
    let schedule = session.spans(order, step.start_ns, &order_href, plan);
    let mut output = SessionOutput::default();
    if plan.replay {
        let page = Page {
            href: &order_href,
            order_id: &order.id,
            lob: model.lobs[order.lob].name,
            operator_email: &operator.email,
            table_rows: if plan.large_page {
                rrweb::LARGE_ROWS
            } else {
                rrweb::ORDINARY_ROWS
            },
        };
        output.replay_events = session.replay(&page, &schedule);
    }
    output
}

fn browser_resource(session_id: &str, script_instance: &str) -> Resource {
    Resource {
        attributes: vec![
            text("service.name", WEB_SERVICE),
            text("service.version", "2026.3.1"),
            text("telemetry.sdk.language", "webjs"),
            text("telemetry.sdk.name", "opentelemetry"),
            text("rum.sessionId", session_id),
            text("rum.scriptInstance", script_instance),
        ],
        dropped_attributes_count: 0,
        entity_refs: Vec::new(),
    }
}

struct Session<'a> {
    random: Random,
    batcher: &'a mut Batcher,
    resource: &'a Resource,
    key: &'a str,
    trace_id: Vec<u8>,
    common: Vec<KeyValue>,
}

/// An interaction target: its element name and XPath, as the user-interaction instrumentation records them.
const ORDER_ROW: (&str, &str) = ("TR", "//*[@id=\"order-table\"]/tbody/tr[3]");
const VALUE_INPUT: (&str, &str) = ("INPUT", "//*[@id=\"appraised-value\"]");
const NOTES: (&str, &str) = ("TEXTAREA", "//*[@id=\"notes\"]");
const SAVE: (&str, &str) = ("BUTTON", "//*[@id=\"save\"]");
const APPROVE: (&str, &str) = ("BUTTON", "//*[@id=\"approve\"]");
const FORM: (&str, &str) = ("FORM", "//*[@id=\"order-form\"]");

impl Session<'_> {
    /// Emits the session's spans; returns when each click and typing happened,
    /// for the recording.
    fn spans(
        &mut self,
        order: &Order,
        start_ns: i64,
        order_href: &str,
        plan: SessionPlan,
    ) -> Schedule {
        let list_href = format!("{APP_ORIGIN}/orders");
        let mut clock = start_ns;
        let load_ms = self.random.lognormal(1200.0, 0.4);
        self.document_load(clock, load_ms, &list_href);
        clock += ms(load_ms) + ms(self.random.lognormal(2500.0, 0.5));
        self.route_change(clock, &list_href, order_href);
        self.fetch(
            clock + ms(20.0),
            "GET",
            &format!("{APP_ORIGIN}/api/orders/{}", order.id),
            200,
            order_href,
        );
        clock += ms(self.random.lognormal(4000.0, 0.6));
        let row_click_ns = clock;
        self.interaction(clock, "click", ORDER_ROW, order_href);
        clock += ms(self.random.lognormal(6000.0, 0.6));
        let value_typing_ns = clock;
        self.interaction(clock, "keypress", VALUE_INPUT, order_href);
        clock += ms(self.random.lognormal(5000.0, 0.6));
        let notes_typing_ns = clock;
        self.interaction(clock, "keypress", NOTES, order_href);
        if plan.console_warning {
            self.console(clock + ms(300.0), order_href);
        }
        clock += ms(self.random.lognormal(3000.0, 0.5));
        let save_clicks_ms = Schedule::save_clicks(clock / MILLISECOND_NS, plan.rage);
        self.save(clock, order, order_href, &save_clicks_ms);
        if plan.script_error {
            self.script_error(clock + ms(900.0), order_href);
        }
        clock += ms(self.random.lognormal(4000.0, 0.5));
        self.interaction(clock, "click", APPROVE, order_href);
        Schedule {
            start_ms: start_ns / MILLISECOND_NS,
            row_click_ms: row_click_ns / MILLISECOND_NS,
            value_typing_ms: value_typing_ns / MILLISECOND_NS,
            notes_typing_ms: notes_typing_ns / MILLISECOND_NS,
            save_clicks_ms,
            approve_click_ms: clock / MILLISECOND_NS,
        }
    }

    /// Save: a click, a form submit and the POST it sends. In a rage burst the
    /// POST fails and the operator clicks again three times within 400 ms, at
    /// the times of `clicks_ms`.
    fn save(&mut self, at_ns: i64, order: &Order, href: &str, clicks_ms: &[Option<i64>; 4]) {
        let url = format!("{APP_ORIGIN}/api/orders/{}/activities", order.id);
        let rage = clicks_ms[1].is_some();
        self.interaction(at_ns, "click", SAVE, href);
        self.interaction(at_ns + ms(5.0), "submit", FORM, href);
        self.fetch(
            at_ns + ms(10.0),
            "POST",
            &url,
            if rage { 500 } else { 200 },
            href,
        );
        if rage {
            for click_ms in clicks_ms[1..].iter().flatten() {
                // The first click's span starts within its millisecond; the others
                // keep that offset.
                let at = click_ms * MILLISECOND_NS + at_ns % MILLISECOND_NS;
                self.interaction(at, "click", SAVE, href);
            }
            self.fetch(at_ns + ms(2500.0), "POST", &url, 200, href);
        }
    }

    fn new_trace(&mut self) {
        self.trace_id = self.random.id::<16>().to_vec();
    }

    fn push(
        &mut self,
        name: &str,
        kind: SpanKind,
        start_ns: i64,
        duration_ns: i64,
        extra: Vec<KeyValue>,
    ) -> Span {
        let mut attributes = self.common.clone();
        attributes.extend(extra);
        Span {
            trace_id: self.trace_id.clone(),
            span_id: self.random.id::<8>().to_vec(),
            name: name.into(),
            kind: kind as i32,
            start_time_unix_nano: start_ns as u64,
            end_time_unix_nano: (start_ns + duration_ns.max(1)) as u64,
            attributes,
            ..Default::default()
        }
    }

    fn send(&mut self, scope: &str, span: Span) {
        self.batcher
            .browser_span(self.key, self.resource, scope, span);
    }

    fn document_load(&mut self, start_ns: i64, load_ms: f64, href: &str) {
        self.new_trace();
        let extra = vec![
            text("location.href", href),
            text("http.url", href),
            text("http.user_agent", USER_AGENT),
        ];
        let span = self.push(
            "documentLoad",
            SpanKind::Internal,
            start_ns,
            ms(load_ms),
            extra,
        );
        self.send("@opentelemetry/instrumentation-document-load", span);
    }

    fn route_change(&mut self, at_ns: i64, from: &str, to: &str) {
        self.new_trace();
        let extra = vec![text("location.href", to), text("prev.href", from)];
        let span = self.push("routeChange", SpanKind::Internal, at_ns, ms(3.0), extra);
        self.send("@hyperdx/instrumentation-router", span);
    }

    fn fetch(&mut self, at_ns: i64, method: &str, url: &str, status: i64, href: &str) {
        self.new_trace();
        let duration = ms(self.random.lognormal(180.0, 0.6));
        let extra = vec![
            text("http.method", method),
            text("http.url", url),
            int("http.status_code", status),
            text("http.host", "ops.example.com"),
            text("http.scheme", "https"),
            text("component", "fetch"),
            text("location.href", href),
        ];
        let mut span = self.push(
            &format!("HTTP {method}"),
            SpanKind::Client,
            at_ns,
            duration,
            extra,
        );
        if status >= 500 {
            span.status = error_status(format!("HTTP {status}"));
        }
        self.send("@opentelemetry/instrumentation-fetch", span);
    }

    fn interaction(&mut self, at_ns: i64, event: &str, target: (&str, &str), href: &str) {
        self.new_trace();
        let duration = ms(self.random.uniform(2.0, 40.0));
        let extra = vec![
            text("event_type", event),
            text("target_element", target.0),
            text("target_xpath", target.1),
            text("location.href", href),
        ];
        let span = self.push(event, SpanKind::Internal, at_ns, duration, extra);
        self.send("@opentelemetry/instrumentation-user-interaction", span);
    }

    fn console(&mut self, at_ns: i64, href: &str) {
        self.new_trace();
        let extra = vec![
            text("level", "warn"),
            text(
                "message",
                "valuation date is earlier than the inspection date",
            ),
            text("location.href", href),
        ];
        let span = self.push("console.warn", SpanKind::Internal, at_ns, 1, extra);
        self.send("@hyperdx/instrumentation-console", span);
    }

    fn script_error(&mut self, at_ns: i64, href: &str) {
        self.new_trace();
        let kind = "TypeError";
        let message = "Cannot read properties of undefined (reading 'inspectionDate')";
        let stack = "TypeError: Cannot read properties of undefined (reading 'inspectionDate')\n    at renderSummary (https://ops.example.com/assets/order-page.js:412:31)\n    at onSaved (https://ops.example.com/assets/order-page.js:388:5)";
        let extra = vec![
            text("exception.type", kind),
            text("exception.message", message),
            text("exception.stacktrace", stack),
            text("location.href", href),
        ];
        let mut span = self.push("exception", SpanKind::Internal, at_ns, 1, extra);
        span.status = error_status(message);
        span.events
            .push(exception_event(at_ns, kind, message, stack));
        self.send("@hyperdx/instrumentation-exception", span);
    }

    /// Sends the rrweb recording of the page load; returns the number of events.
    fn replay(&mut self, page: &Page, schedule: &Schedule) -> u64 {
        let events = rrweb::record(&mut self.random, page, schedule);
        let mut offset = 0.0;
        for (number, event) in events.iter().enumerate() {
            let body = event.to_string();
            let parts = rrweb::chunks(&body);
            let timestamp_ms = event["timestamp"].as_i64().unwrap_or(schedule.start_ms);
            let total = parts.len();
            for (chunk, part) in parts.into_iter().enumerate() {
                offset += 1.0;
                let sub_millisecond = self.random.below(0, MILLISECOND_NS as u64) as i64;
                let time_ns = timestamp_ms * MILLISECOND_NS + sub_millisecond;
                let bytes = part.len();
                let record = LogRecord {
                    time_unix_nano: time_ns as u64,
                    observed_time_unix_nano: time_ns as u64,
                    body: Some(crate::otlp::body(part)),
                    attributes: vec![
                        double("rr-web.offset", offset),
                        double("rr-web.event", (number + 1) as f64),
                        double("rr-web.chunk", (chunk + 1) as f64),
                        double("rr-web.total-chunks", total as f64),
                    ],
                    ..Default::default()
                };
                self.batcher.replay(self.key, self.resource, record, bytes);
            }
        }
        events.len() as u64
    }
}

fn ms(milliseconds: f64) -> i64 {
    (milliseconds * MILLISECOND_NS as f64) as i64
}
