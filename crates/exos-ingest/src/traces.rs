//! Maps `ExportTraceServiceRequest` to `otel_traces` rows.

use std::sync::Arc;

use exos_core::{attributes::SERVICE_NAME, Attributes, BusinessKeys, SpanEvent, SpanLink, SpanRow};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::Span;

use crate::common::{check_time, id_hex, Ids, ResourceContext};
use crate::limits::Limits;
use crate::outcome::Mapped;
use crate::values::attributes;

/// Span kinds in the exporter's current spelling, indexed by the OTLP enum value.
const SPAN_KINDS: [&str; 6] = [
    "Unspecified",
    "Internal",
    "Server",
    "Client",
    "Producer",
    "Consumer",
];
/// Status codes in the exporter's current spelling, indexed by the OTLP enum value.
const STATUS_CODES: [&str; 3] = ["Unset", "Ok", "Error"];

/// Maps every span of the request, rejecting the invalid ones.
pub fn map(request: ExportTraceServiceRequest, limits: &Limits) -> Mapped {
    let mut out = Mapped::default();
    for resource_spans in request.resource_spans {
        let resource = ResourceContext::new(
            resource_spans.resource.as_ref(),
            &resource_spans.schema_url,
            limits,
            &mut out,
        );
        for scope_spans in resource_spans.scope_spans {
            let scope = resource.scope(
                scope_spans.scope.as_ref(),
                &scope_spans.schema_url,
                limits,
                &mut out,
            );
            for span in scope_spans.spans {
                match map_span(span, &resource, &scope, limits, &mut out) {
                    Ok(row) => out.batch.spans.push(row),
                    Err(reason) => out.reject(reason),
                }
            }
        }
    }
    out
}

fn map_span(
    span: Span,
    resource: &ResourceContext,
    scope: &crate::common::ScopeContext,
    limits: &Limits,
    out: &mut Mapped,
) -> Result<SpanRow, String> {
    let trace_id = id_hex(&span.trace_id, Ids::TRACE, false)
        .map_err(|e| format!("span {:?}: trace_id {e}", span.name))?;
    let span_id = id_hex(&span.span_id, Ids::SPAN, false)
        .map_err(|e| format!("span {:?}: span_id {e}", span.name))?;
    let parent_span_id = id_hex(&span.parent_span_id, Ids::SPAN, true)
        .map_err(|e| format!("span {:?}: parent_span_id {e}", span.name))?;
    if span.start_time_unix_nano == 0 {
        return Err(format!(
            "span {:?}: start_time_unix_nano is 0; set the span's start time",
            span.name
        ));
    }
    let start = check_time(span.start_time_unix_nano)
        .map_err(|e| format!("span {:?}: start_time_unix_nano {e}", span.name))?;
    let end = check_time(span.end_time_unix_nano)
        .map_err(|e| format!("span {:?}: end_time_unix_nano {e}", span.name))?;
    let duration_ns = if end >= start {
        (end - start) as u64
    } else {
        out.trim(format!(
            "span {:?}: end time before start time, Duration stored as 0",
            span.name
        ));
        0
    };

    let (span_attributes, problem) = attributes(&span.attributes, limits);
    if let Some(problem) = problem {
        out.trim(format!("span {:?}: {problem}", span.name));
    }
    let keys = BusinessKeys::extract(&span_attributes, &resource.attributes);
    let events = span
        .events
        .into_iter()
        .map(|event| SpanEvent {
            timestamp_ns: check_time(event.time_unix_nano).unwrap_or(0),
            name: event.name,
            attributes: attributes(&event.attributes, limits).0,
        })
        .collect();
    let links = span
        .links
        .into_iter()
        .map(|link| SpanLink {
            trace_id: hex::encode(&link.trace_id),
            span_id: hex::encode(&link.span_id),
            trace_state: link.trace_state,
            attributes: attributes(&link.attributes, limits).0,
        })
        .collect();
    let status = span.status.unwrap_or_default();
    Ok(SpanRow {
        timestamp_ns: start,
        trace_id,
        span_id,
        parent_span_id,
        trace_state: span.trace_state,
        span_name: span.name,
        span_kind: SPAN_KINDS
            .get(span.kind as usize)
            .copied()
            .unwrap_or("Unspecified"),
        service_name: resource.service_name.clone(),
        resource_attributes: resource.attributes.clone(),
        scope_name: scope.name.clone(),
        scope_version: scope.version.clone(),
        span_attributes,
        duration_ns,
        status_code: STATUS_CODES
            .get(status.code as usize)
            .copied()
            .unwrap_or("Unset"),
        status_message: status.message,
        events,
        links,
        keys,
    })
}

/// Returns the value of `service.name` in resource attributes, `""` when absent.
pub fn service_name(resource: &Attributes) -> Arc<str> {
    exos_core::attributes::lookup(resource, SERVICE_NAME)
        .unwrap_or_default()
        .into()
}
