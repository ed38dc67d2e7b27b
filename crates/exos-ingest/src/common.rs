//! Helpers shared by the trace, log and metric mappers: ids, times, resource and scope.

use std::sync::Arc;

use exos_core::Attributes;
use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
use opentelemetry_proto::tonic::resource::v1::Resource;

use crate::limits::{Limits, MAX_TIMESTAMP_NS};
use crate::outcome::Mapped;
use crate::values::attributes;

/// Byte lengths of OTLP ids.
pub struct Ids;

impl Ids {
    pub const TRACE: usize = 16;
    pub const SPAN: usize = 8;
}

/// Encodes an id as lowercase hex, checking its length.
///
/// An empty id is allowed only when `optional`; the result is then `""`.
pub fn id_hex(bytes: &[u8], expected: usize, optional: bool) -> Result<String, String> {
    if bytes.is_empty() {
        return if optional {
            Ok(String::new())
        } else {
            Err("is missing".into())
        };
    }
    if bytes.len() != expected {
        return Err(format!(
            "has {} bytes, expected {expected} ({} hex characters)",
            bytes.len(),
            expected * 2
        ));
    }
    if bytes.iter().all(|b| *b == 0) && !optional {
        return Err("is all zeros, which OTLP defines as invalid".into());
    }
    Ok(hex::encode(bytes))
}

/// Checks that a timestamp fits the store (before the year 2262) and returns it signed.
pub fn check_time(ns: u64) -> Result<i64, String> {
    if ns > MAX_TIMESTAMP_NS {
        return Err(format!(
            "{ns} is after the year 2262, the latest time the store can hold"
        ));
    }
    Ok(ns as i64)
}

/// A resource's attributes and derived service name, shared by all its records.
pub struct ResourceContext {
    pub attributes: Arc<Attributes>,
    pub service_name: Arc<str>,
    pub schema_url: Arc<str>,
}

/// A scope's name, version, attributes and schema URL, shared by all its records.
pub struct ScopeContext {
    pub name: Arc<str>,
    pub version: Arc<str>,
    pub attributes: Arc<Attributes>,
    pub schema_url: Arc<str>,
    pub dropped_attributes_count: u32,
}

impl ResourceContext {
    pub fn new(
        resource: Option<&Resource>,
        schema_url: &str,
        limits: &Limits,
        out: &mut Mapped,
    ) -> Self {
        let (attributes, problem) = resource
            .map(|r| attributes(&r.attributes, limits))
            .unwrap_or_default();
        if let Some(problem) = problem {
            out.trim(format!("resource: {problem}"));
        }
        let service_name = crate::traces::service_name(&attributes);
        Self {
            attributes: Arc::new(attributes),
            service_name,
            schema_url: schema_url.into(),
        }
    }

    pub fn scope(
        &self,
        scope: Option<&InstrumentationScope>,
        schema_url: &str,
        limits: &Limits,
        out: &mut Mapped,
    ) -> ScopeContext {
        let scope = scope.cloned().unwrap_or_default();
        let (attributes, problem) = attributes(&scope.attributes, limits);
        if let Some(problem) = problem {
            out.trim(format!("scope {:?}: {problem}", scope.name));
        }
        ScopeContext {
            name: scope.name.into(),
            version: scope.version.into(),
            attributes: Arc::new(attributes),
            schema_url: schema_url.into(),
            dropped_attributes_count: scope.dropped_attributes_count,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked_and_lowercased() {
        assert_eq!(
            id_hex(&[0xAB; 8], Ids::SPAN, false).unwrap(),
            "abababababababab"
        );
        assert!(id_hex(&[1; 7], Ids::SPAN, false)
            .unwrap_err()
            .contains("7 bytes"));
        assert!(id_hex(&[], Ids::TRACE, false)
            .unwrap_err()
            .contains("missing"));
        assert_eq!(id_hex(&[], Ids::SPAN, true).unwrap(), "");
        assert!(id_hex(&[0; 16], Ids::TRACE, false).is_err());
    }

    #[test]
    fn times_past_2262_are_rejected() {
        assert_eq!(check_time(5).unwrap(), 5);
        assert!(check_time(u64::MAX).is_err());
    }
}
