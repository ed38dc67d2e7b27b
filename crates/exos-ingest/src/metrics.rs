//! Maps `ExportMetricsServiceRequest` to rows of the five `otel_metrics_*` tables.
//!
//! One row per data point, as the ClickHouse exporter writes them. Integer
//! values are stored as doubles (`Value Float64`), as the exporter does.

use std::sync::Arc;

use exos_core::{
    Exemplar, ExpHistogramRow, GaugeRow, HistogramRow, MetricMeta, PointCommon, SumRow, SummaryRow,
};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::{self as pm, metric::Data};

use crate::common::{check_time, ResourceContext, ScopeContext};
use crate::limits::Limits;
use crate::outcome::Mapped;
use crate::values::attributes;

/// Maps every data point of the request, rejecting points with impossible times.
pub fn map(request: ExportMetricsServiceRequest, limits: &Limits) -> Mapped {
    let mut out = Mapped::default();
    for resource_metrics in request.resource_metrics {
        let resource = ResourceContext::new(
            resource_metrics.resource.as_ref(),
            &resource_metrics.schema_url,
            limits,
            &mut out,
        );
        for scope_metrics in resource_metrics.scope_metrics {
            let scope = resource.scope(
                scope_metrics.scope.as_ref(),
                &scope_metrics.schema_url,
                limits,
                &mut out,
            );
            for metric in scope_metrics.metrics {
                map_metric(metric, &resource, &scope, limits, &mut out);
            }
        }
    }
    out
}

fn map_metric(
    metric: pm::Metric,
    resource: &ResourceContext,
    scope: &ScopeContext,
    limits: &Limits,
    out: &mut Mapped,
) {
    let meta = Arc::new(MetricMeta {
        resource_attributes: resource.attributes.clone(),
        resource_schema_url: resource.schema_url.clone(),
        scope_name: scope.name.clone(),
        scope_version: scope.version.clone(),
        scope_attributes: scope.attributes.clone(),
        scope_dropped_attr_count: scope.dropped_attributes_count,
        scope_schema_url: scope.schema_url.clone(),
        service_name: resource.service_name.clone(),
        metric_name: metric.name.clone(),
        metric_description: metric.description,
        metric_unit: metric.unit,
    });
    let name = metric.name;
    let common = |attrs: &[KeyValue],
                  start: u64,
                  time: u64,
                  flags: u32,
                  exemplars: &[pm::Exemplar],
                  out: &mut Mapped| {
        point_common(
            &meta, &name, attrs, start, time, flags, exemplars, limits, out,
        )
    };
    match metric.data {
        None => out.reject(format!(
            "metric {name:?}: no data (gauge, sum, histogram, exponential histogram or summary)"
        )),
        Some(Data::Gauge(gauge)) => {
            for p in gauge.data_points {
                if let Some(point) = common(
                    &p.attributes,
                    p.start_time_unix_nano,
                    p.time_unix_nano,
                    p.flags,
                    &p.exemplars,
                    out,
                ) {
                    out.batch.gauges.push(GaugeRow {
                        point,
                        value: number_value(&p.value),
                    });
                }
            }
        }
        Some(Data::Sum(sum)) => {
            for p in sum.data_points {
                if let Some(point) = common(
                    &p.attributes,
                    p.start_time_unix_nano,
                    p.time_unix_nano,
                    p.flags,
                    &p.exemplars,
                    out,
                ) {
                    out.batch.sums.push(SumRow {
                        point,
                        value: number_value(&p.value),
                        aggregation_temporality: sum.aggregation_temporality,
                        is_monotonic: sum.is_monotonic,
                    });
                }
            }
        }
        Some(Data::Histogram(histogram)) => {
            for p in histogram.data_points {
                if let Some(point) = common(
                    &p.attributes,
                    p.start_time_unix_nano,
                    p.time_unix_nano,
                    p.flags,
                    &p.exemplars,
                    out,
                ) {
                    out.batch.histograms.push(HistogramRow {
                        point,
                        count: p.count,
                        sum: p.sum.unwrap_or_default(),
                        bucket_counts: p.bucket_counts,
                        explicit_bounds: p.explicit_bounds,
                        min: p.min.unwrap_or_default(),
                        max: p.max.unwrap_or_default(),
                        aggregation_temporality: histogram.aggregation_temporality,
                    });
                }
            }
        }
        Some(Data::ExponentialHistogram(histogram)) => {
            for p in histogram.data_points {
                if let Some(point) = common(
                    &p.attributes,
                    p.start_time_unix_nano,
                    p.time_unix_nano,
                    p.flags,
                    &p.exemplars,
                    out,
                ) {
                    let positive = p.positive.unwrap_or_default();
                    let negative = p.negative.unwrap_or_default();
                    out.batch.exp_histograms.push(ExpHistogramRow {
                        point,
                        count: p.count,
                        sum: p.sum.unwrap_or_default(),
                        scale: p.scale,
                        zero_count: p.zero_count,
                        positive_offset: positive.offset,
                        positive_bucket_counts: positive.bucket_counts,
                        negative_offset: negative.offset,
                        negative_bucket_counts: negative.bucket_counts,
                        min: p.min.unwrap_or_default(),
                        max: p.max.unwrap_or_default(),
                        aggregation_temporality: histogram.aggregation_temporality,
                    });
                }
            }
        }
        Some(Data::Summary(summary)) => {
            for p in summary.data_points {
                if let Some(point) = common(
                    &p.attributes,
                    p.start_time_unix_nano,
                    p.time_unix_nano,
                    p.flags,
                    &[],
                    out,
                ) {
                    out.batch.summaries.push(SummaryRow {
                        point,
                        count: p.count,
                        sum: p.sum,
                        quantiles: p.quantile_values.iter().map(|q| q.quantile).collect(),
                        values: p.quantile_values.iter().map(|q| q.value).collect(),
                    });
                }
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn point_common(
    meta: &Arc<MetricMeta>,
    name: &str,
    attrs: &[KeyValue],
    start: u64,
    time: u64,
    flags: u32,
    exemplars: &[pm::Exemplar],
    limits: &Limits,
    out: &mut Mapped,
) -> Option<PointCommon> {
    let times = check_time(start).and_then(|start| check_time(time).map(|time| (start, time)));
    let (start_time_ns, time_ns) = match times {
        Ok(times) => times,
        Err(reason) => {
            out.reject(format!("metric {name:?}: data point time {reason}"));
            return None;
        }
    };
    let (attributes, problem) = attributes(attrs, limits);
    if let Some(problem) = problem {
        out.trim(format!("metric {name:?}: {problem}"));
    }
    Some(PointCommon {
        meta: meta.clone(),
        attributes,
        start_time_ns,
        time_ns,
        flags,
        exemplars: exemplars.iter().map(|e| exemplar(e, limits)).collect(),
    })
}

fn exemplar(exemplar: &pm::Exemplar, limits: &Limits) -> Exemplar {
    let value = match exemplar.value {
        Some(pm::exemplar::Value::AsDouble(v)) => v,
        Some(pm::exemplar::Value::AsInt(v)) => v as f64,
        None => 0.0,
    };
    Exemplar {
        filtered_attributes: attributes(&exemplar.filtered_attributes, limits).0,
        time_ns: check_time(exemplar.time_unix_nano).unwrap_or(0),
        value,
        span_id: hex::encode(&exemplar.span_id),
        trace_id: hex::encode(&exemplar.trace_id),
    }
}

fn number_value(value: &Option<pm::number_data_point::Value>) -> f64 {
    match value {
        Some(pm::number_data_point::Value::AsDouble(v)) => *v,
        Some(pm::number_data_point::Value::AsInt(v)) => *v as f64,
        None => 0.0,
    }
}
