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

/// The fields every OTLP data point type has, whatever its value.
trait DataPoint {
    fn attributes(&self) -> &[KeyValue];
    fn start_time_unix_nano(&self) -> u64;
    fn time_unix_nano(&self) -> u64;
    fn flags(&self) -> u32;
    fn exemplars(&self) -> &[pm::Exemplar];
}

macro_rules! data_point {
    ($point:ty, |$this:ident| $exemplars:expr) => {
        impl DataPoint for $point {
            fn attributes(&self) -> &[KeyValue] {
                &self.attributes
            }
            fn start_time_unix_nano(&self) -> u64 {
                self.start_time_unix_nano
            }
            fn time_unix_nano(&self) -> u64 {
                self.time_unix_nano
            }
            fn flags(&self) -> u32 {
                self.flags
            }
            fn exemplars(&self) -> &[pm::Exemplar] {
                let $this = self;
                $exemplars
            }
        }
    };
}

data_point!(pm::NumberDataPoint, |point| &point.exemplars);
data_point!(pm::HistogramDataPoint, |point| &point.exemplars);
data_point!(pm::ExponentialHistogramDataPoint, |point| &point.exemplars);
// Summary points carry no exemplars in OTLP.
data_point!(pm::SummaryDataPoint, |_point| &[]);

/// The metric a point belongs to, shared by all its points.
struct MetricContext<'a> {
    meta: Arc<MetricMeta>,
    name: String,
    limits: &'a Limits,
}

impl MetricContext<'_> {
    /// Maps each valid point with `make`, rejecting points whose times the store cannot hold.
    fn rows<P: DataPoint, R>(
        &self,
        points: Vec<P>,
        out: &mut Mapped,
        make: impl Fn(PointCommon, P) -> R,
    ) -> Vec<R> {
        points
            .into_iter()
            .filter_map(|point| self.common(&point, out).map(|common| make(common, point)))
            .collect()
    }

    fn common(&self, point: &impl DataPoint, out: &mut Mapped) -> Option<PointCommon> {
        let name = &self.name;
        let start = check_time(point.start_time_unix_nano());
        let times =
            start.and_then(|start| check_time(point.time_unix_nano()).map(|time| (start, time)));
        let (start_time_ns, time_ns) = match times {
            Ok(times) => times,
            Err(reason) => {
                out.reject(format!("metric {name:?}: data point time {reason}"));
                return None;
            }
        };
        let (attributes, problem) = attributes(point.attributes(), self.limits);
        if let Some(problem) = problem {
            out.trim(format!("metric {name:?}: {problem}"));
        }
        Some(PointCommon {
            meta: self.meta.clone(),
            attributes,
            start_time_ns,
            time_ns,
            flags: point.flags(),
            exemplars: point
                .exemplars()
                .iter()
                .map(|e| exemplar(e, self.limits))
                .collect(),
        })
    }
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
    let context = MetricContext {
        meta,
        name: metric.name,
        limits,
    };
    match metric.data {
        None => out.reject(format!(
            "metric {:?}: no data (gauge, sum, histogram, exponential histogram or summary)",
            context.name
        )),
        Some(Data::Gauge(gauge)) => {
            let rows = context.rows(gauge.data_points, out, |point, p| GaugeRow {
                point,
                value: number_value(&p.value),
            });
            out.batch.gauges.extend(rows);
        }
        Some(Data::Sum(sum)) => {
            let rows = context.rows(sum.data_points, out, |point, p| SumRow {
                point,
                value: number_value(&p.value),
                aggregation_temporality: sum.aggregation_temporality,
                is_monotonic: sum.is_monotonic,
            });
            out.batch.sums.extend(rows);
        }
        Some(Data::Histogram(histogram)) => {
            let rows = context.rows(histogram.data_points, out, |point, p| HistogramRow {
                point,
                count: p.count,
                sum: p.sum.unwrap_or_default(),
                bucket_counts: p.bucket_counts,
                explicit_bounds: p.explicit_bounds,
                min: p.min.unwrap_or_default(),
                max: p.max.unwrap_or_default(),
                aggregation_temporality: histogram.aggregation_temporality,
            });
            out.batch.histograms.extend(rows);
        }
        Some(Data::ExponentialHistogram(histogram)) => {
            let rows = context.rows(histogram.data_points, out, |point, p| {
                let positive = p.positive.unwrap_or_default();
                let negative = p.negative.unwrap_or_default();
                ExpHistogramRow {
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
                }
            });
            out.batch.exp_histograms.extend(rows);
        }
        Some(Data::Summary(summary)) => {
            let rows = context.rows(summary.data_points, out, |point, p| SummaryRow {
                point,
                count: p.count,
                sum: p.sum,
                quantiles: p.quantile_values.iter().map(|q| q.quantile).collect(),
                values: p.quantile_values.iter().map(|q| q.value).collect(),
            });
            out.batch.summaries.extend(rows);
        }
    }
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
