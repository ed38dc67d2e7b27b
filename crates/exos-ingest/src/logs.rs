//! Maps `ExportLogsServiceRequest` to `otel_logs` and `hyperdx_sessions` rows.
//!
//! A log record carrying the `rr-web.event` attribute is an rrweb replay event
//! from the HyperDX browser SDK. It goes to `hyperdx_sessions`, as HyperDX's
//! collector routes it, and every other record goes to `otel_logs`.

use exos_core::{attributes::RRWEB_EVENT, BusinessKeys, LogRow};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::logs::v1::LogRecord;

use crate::common::{check_time, id_hex, Ids, ResourceContext, ScopeContext};
use crate::limits::Limits;
use crate::outcome::Mapped;
use crate::values::{attributes, to_text};

/// Maps every log record of the request; `now_ns` is used when a record has no time at all.
pub fn map(request: ExportLogsServiceRequest, limits: &Limits, now_ns: i64) -> Mapped {
    let mut out = Mapped::default();
    for resource_logs in request.resource_logs {
        let resource = ResourceContext::new(
            resource_logs.resource.as_ref(),
            &resource_logs.schema_url,
            limits,
            &mut out,
        );
        for scope_logs in resource_logs.scope_logs {
            let scope = resource.scope(
                scope_logs.scope.as_ref(),
                &scope_logs.schema_url,
                limits,
                &mut out,
            );
            for record in scope_logs.log_records {
                match map_record(record, &resource, &scope, limits, now_ns, &mut out) {
                    Ok(row) if row.log_attributes.iter().any(|(key, _)| key == RRWEB_EVENT) => {
                        out.batch.sessions.push(row)
                    }
                    Ok(row) => out.batch.logs.push(row),
                    Err(reason) => out.reject(reason),
                }
            }
        }
    }
    out
}

fn map_record(
    record: LogRecord,
    resource: &ResourceContext,
    scope: &ScopeContext,
    limits: &Limits,
    now_ns: i64,
    out: &mut Mapped,
) -> Result<LogRow, String> {
    let trace_id = id_hex(&record.trace_id, Ids::TRACE, true)
        .map_err(|e| format!("log record: trace_id {e}"))?;
    let span_id =
        id_hex(&record.span_id, Ids::SPAN, true).map_err(|e| format!("log record: span_id {e}"))?;
    // The exporter's rule: a zero Timestamp falls back to ObservedTimestamp.
    let time = if record.time_unix_nano != 0 {
        record.time_unix_nano
    } else {
        record.observed_time_unix_nano
    };
    let timestamp_ns = match time {
        0 => now_ns,
        ns => check_time(ns).map_err(|e| format!("log record: time_unix_nano {e}"))?,
    };
    let (log_attributes, problem) = attributes(&record.attributes, limits);
    if let Some(problem) = problem {
        out.trim(format!("log record: {problem}"));
    }
    let keys = BusinessKeys::extract(&log_attributes, &resource.attributes);
    Ok(LogRow {
        timestamp_ns,
        trace_id,
        span_id,
        trace_flags: record.flags & 0xff,
        severity_text: record.severity_text,
        severity_number: record.severity_number,
        service_name: resource.service_name.clone(),
        body: record
            .body
            .as_ref()
            .map(|body| to_text(body, limits))
            .unwrap_or_default(),
        resource_schema_url: resource.schema_url.clone(),
        resource_attributes: resource.attributes.clone(),
        scope_schema_url: scope.schema_url.clone(),
        scope_name: scope.name.clone(),
        scope_version: scope.version.clone(),
        scope_attributes: scope.attributes.clone(),
        log_attributes,
        keys,
    })
}
