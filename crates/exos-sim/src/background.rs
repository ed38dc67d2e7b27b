//! Telemetry not tied to one order: scheduled job traces and service metrics.
//!
//! Jobs run every ten minutes around the clock, so every service has traffic
//! in every window, including the injected outage at night or on a weekend.
//! Metrics are written per time slot from the arrival intensity, as the
//! services' OpenTelemetry SDKs would export them.

use opentelemetry_proto::tonic::metrics::v1::{
    metric, number_data_point, AggregationTemporality, Gauge, Histogram, HistogramDataPoint,
    Metric, NumberDataPoint, Sum,
};
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::Span;

use crate::backend::{
    Call, SpanRef, TraceWriter, AUTH_SERVICE, DOCUMENT_SERVICE, NOTIFICATION_SERVICE, ORDER_API,
    POSTGRES, VALUATION_ENGINE,
};
use crate::batch::Batcher;
use crate::calendar::{arrival_intensity, MILLISECOND_NS, MINUTE_NS};
use crate::model::Model;
use crate::otlp::{int, text};
use crate::random::{Purpose, Random};

/// Time between two runs of the scheduled jobs.
pub const JOB_INTERVAL_NS: i64 = 10 * MINUTE_NS;

/// Generates the job trace that runs at `start_ns` (job number `index`).
pub fn emit_job(model: &Model, seed: u64, index: u64, start_ns: i64, batcher: &mut Batcher) {
    let mut random = Random::stream(seed, Purpose::Job, index);
    let trace_id = random.id::<16>().to_vec();
    let span_id = random.id::<8>().to_vec();
    let duration_ns = (random.lognormal(1500.0, 0.4) * MILLISECOND_NS as f64) as i64;
    let root = Span {
        trace_id: trace_id.clone(),
        span_id: span_id.clone(),
        name: "job refresh-valuations".into(),
        kind: SpanKind::Internal as i32,
        start_time_unix_nano: start_ns as u64,
        end_time_unix_nano: (start_ns + duration_ns) as u64,
        attributes: vec![
            text("job.name", "refresh-valuations"),
            int("job.run", index as i64),
        ],
        ..Default::default()
    };
    batcher.span(ORDER_API, "ops.jobs", root);
    let parent = SpanRef {
        trace_id: trace_id.clone(),
        span_id,
        start_ns,
        end_ns: start_ns + duration_ns,
    };
    let mut writer = TraceWriter {
        model,
        random,
        batcher,
        trace_id,
        order_attributes: Vec::new(),
    };
    let refresh = Call {
        service: VALUATION_ENGINE,
        method: "POST",
        route: "/valuations/refresh",
        path: "/valuations/refresh".into(),
        median_ms: 300.0,
    };
    writer.client_call(&parent, start_ns + 2 * MILLISECOND_NS, &refresh);
    let digest = Call {
        service: NOTIFICATION_SERVICE,
        method: "POST",
        route: "/notifications/digest",
        path: "/notifications/digest".into(),
        median_ms: 40.0,
    };
    writer.client_call(&parent, start_ns + duration_ns / 2, &digest);
}

/// Requests each service serves per order, on average.
const REQUESTS_PER_ORDER: [(&str, f64); 6] = [
    (ORDER_API, 11.0),
    (AUTH_SERVICE, 2.0),
    (DOCUMENT_SERVICE, 1.6),
    (VALUATION_ENGINE, 0.7),
    (NOTIFICATION_SERVICE, 1.4),
    (POSTGRES, 12.0),
];

/// Upper bounds in seconds of the request-duration histogram buckets.
const DURATION_BOUNDS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Generates every service's metrics for the slot `[start_ns, start_ns + slot_ns)`.
///
/// `orders_per_slot` is the mean number of orders per slot over the run, which
/// the arrival intensity at the slot scales up or down. Returns the data points written.
pub fn emit_metrics(
    model: &Model,
    seed: u64,
    slot: u64,
    start_ns: i64,
    slot_ns: i64,
    orders_per_slot: f64,
    batcher: &mut Batcher,
) -> u64 {
    let mut random = Random::stream(seed, Purpose::Metrics, slot);
    let end_ns = start_ns + slot_ns;
    let orders = orders_per_slot * arrival_intensity(start_ns) / MEAN_INTENSITY;
    let mut points = 0;
    for (service, per_order) in REQUESTS_PER_ORDER {
        let requests = (orders * per_order * random.uniform(0.8, 1.2)).round() as u64 + 1;
        let (ok, failed, unavailable) =
            split_by_status(model, &mut random, service, start_ns, requests);
        points += push_counter(
            batcher,
            service,
            start_ns,
            end_ns,
            &[(200, ok), (500, failed), (503, unavailable)],
        );
        batcher.metric(
            service,
            "ops.metrics",
            duration_histogram(&mut random, start_ns, end_ns, requests),
            1,
        );
        points += 1;
    }
    for (service, queue, scale) in [
        (ORDER_API, "work-items", 40.0),
        (NOTIFICATION_SERVICE, "email", 3.0),
    ] {
        let depth = (orders * scale * random.uniform(0.7, 1.3)).round();
        batcher.metric(service, "ops.metrics", queue_gauge(queue, end_ns, depth), 1);
        points += 1;
    }
    points
}

/// Mean of `arrival_intensity` over a week, to turn it into a factor around 1.
const MEAN_INTENSITY: f64 = 0.62;

fn split_by_status(
    model: &Model,
    random: &mut Random,
    service: &str,
    at_ns: i64,
    requests: u64,
) -> (u64, u64, u64) {
    let outage = &model.incidents.outage;
    let unavailable =
        if service == outage.service && (outage.start_ns..outage.end_ns).contains(&at_ns) {
            (requests as f64 * outage.error_rate).round() as u64
        } else {
            0
        };
    let failed = (0..requests - unavailable)
        .filter(|_| random.chance(0.008))
        .count() as u64;
    (requests - unavailable - failed, failed, unavailable)
}

fn push_counter(
    batcher: &mut Batcher,
    service: &str,
    start_ns: i64,
    end_ns: i64,
    counts: &[(i64, u64)],
) -> u64 {
    let data_points: Vec<NumberDataPoint> = counts
        .iter()
        .filter(|(_, count)| *count > 0)
        .map(|&(status, count)| NumberDataPoint {
            attributes: vec![
                int("http.response.status_code", status),
                text("http.request.method", "POST"),
            ],
            start_time_unix_nano: start_ns as u64,
            time_unix_nano: end_ns as u64,
            value: Some(number_data_point::Value::AsInt(count as i64)),
            ..Default::default()
        })
        .collect();
    let points = data_points.len() as u64;
    let metric = Metric {
        name: "http.server.requests".into(),
        description: "HTTP requests served, by response status.".into(),
        unit: "{request}".into(),
        data: Some(metric::Data::Sum(Sum {
            data_points,
            aggregation_temporality: AggregationTemporality::Delta as i32,
            is_monotonic: true,
        })),
        ..Default::default()
    };
    batcher.metric(service, "ops.metrics", metric, points);
    points
}

fn duration_histogram(random: &mut Random, start_ns: i64, end_ns: i64, requests: u64) -> Metric {
    let mut bucket_counts = vec![0u64; DURATION_BOUNDS.len() + 1];
    let (mut sum, mut min, mut max) = (0.0, f64::MAX, 0.0f64);
    for _ in 0..requests {
        let seconds = random.lognormal(0.06, 0.9);
        let bucket = DURATION_BOUNDS.partition_point(|bound| *bound < seconds);
        bucket_counts[bucket] += 1;
        sum += seconds;
        min = min.min(seconds);
        max = max.max(seconds);
    }
    Metric {
        name: "http.server.request.duration".into(),
        description: "Duration of HTTP server requests.".into(),
        unit: "s".into(),
        data: Some(metric::Data::Histogram(Histogram {
            data_points: vec![HistogramDataPoint {
                start_time_unix_nano: start_ns as u64,
                time_unix_nano: end_ns as u64,
                count: requests,
                sum: Some(sum),
                bucket_counts,
                explicit_bounds: DURATION_BOUNDS.to_vec(),
                min: Some(min),
                max: Some(max),
                ..Default::default()
            }],
            aggregation_temporality: AggregationTemporality::Delta as i32,
        })),
        ..Default::default()
    }
}

fn queue_gauge(queue: &str, at_ns: i64, depth: f64) -> Metric {
    Metric {
        name: "ops.queue.depth".into(),
        description: "Items waiting in a work queue.".into(),
        unit: "{item}".into(),
        data: Some(metric::Data::Gauge(Gauge {
            data_points: vec![NumberDataPoint {
                attributes: vec![text("queue.name", queue)],
                time_unix_nano: at_ns as u64,
                value: Some(number_data_point::Value::AsDouble(depth)),
                ..Default::default()
            }],
        })),
        ..Default::default()
    }
}
