//! Attribute keys EXOS reads everywhere, and the business keys extracted from them.
//!
//! Attribute values are stored as strings in a string-to-string map, as the
//! OpenTelemetry Collector's ClickHouse exporter does. The business keys are
//! also kept as plain columns, so analyses need not unpack maps row by row.

use std::sync::Arc;

/// An attribute map in insertion order: keys are unique, values are text.
pub type Attributes = Vec<(String, String)>;

/// Process-mining case id.
pub const ORDER_ID: &str = "order.id";
/// Operator (process-mining resource).
pub const OPERATOR_ID: &str = "operator.id";
/// Line of business.
pub const LOB: &str = "lob";
/// Browser session id on a span (set by browser instrumentation).
pub const RUM_SESSION_ID: &str = "rum.session_id";
/// Browser session id as the HyperDX browser SDK puts it on the resource.
pub const RUM_SESSION_ID_RESOURCE: &str = "rum.sessionId";
/// User identity.
pub const USER_ID: &str = "user.id";
/// Marks product-level events.
pub const PRODUCT_EVENT: &str = "product.event";
/// Resource attribute naming the emitting service.
pub const SERVICE_NAME: &str = "service.name";
/// Log attribute that marks an rrweb replay event; such records go to `hyperdx_sessions`.
pub const RRWEB_EVENT: &str = "rr-web.event";

/// The business keys of one record, `""` when absent (the store's convention for missing text).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BusinessKeys {
    pub order_id: String,
    pub operator_id: String,
    pub lob: String,
    pub rum_session_id: String,
    pub user_id: String,
}

impl BusinessKeys {
    /// Extracts the keys from a record's own attributes, falling back to its resource's.
    ///
    /// The session id also falls back to the HyperDX SDK's resource key `rum.sessionId`.
    pub fn extract(record: &Attributes, resource: &Arc<Attributes>) -> Self {
        let find = |key: &str| {
            lookup(record, key)
                .or_else(|| lookup(resource, key))
                .unwrap_or_default()
                .to_string()
        };
        let mut rum_session_id = find(RUM_SESSION_ID);
        if rum_session_id.is_empty() {
            rum_session_id = lookup(resource, RUM_SESSION_ID_RESOURCE)
                .or_else(|| lookup(record, RUM_SESSION_ID_RESOURCE))
                .unwrap_or_default()
                .to_string();
        }
        Self {
            order_id: key_text(find(ORDER_ID)),
            operator_id: key_text(find(OPERATOR_ID)),
            lob: key_text(find(LOB)),
            rum_session_id: key_text(rum_session_id),
            user_id: key_text(user_id(record, resource)),
        }
    }
}

/// Returns a key with each NUL character replaced by U+FFFD. A NUL cannot appear in a
/// DuckDB string literal, so a key holding one could never be named in a query.
fn key_text(key: String) -> String {
    if key.contains('\0') {
        key.replace('\0', "\u{FFFD}")
    } else {
        key
    }
}

/// The user keys in the order they are read: `user.id`, then the HyperDX browser
/// SDK's `userEmail` and `userId` (set by its `setGlobalAttributes`).
pub const USER_KEYS: [&str; 3] = [USER_ID, "userEmail", "userId"];

/// Reads the first non-empty user key, each from the record and then its resource.
fn user_id(record: &Attributes, resource: &Arc<Attributes>) -> String {
    USER_KEYS
        .iter()
        .flat_map(|key| [lookup(record, key), lookup(resource, key)])
        .flatten()
        .find(|value| !value.is_empty())
        .unwrap_or_default()
        .to_string()
}

/// Returns the value of `key` in `attributes`, if present.
pub fn lookup<'a>(attributes: &'a Attributes, key: &str) -> Option<&'a str> {
    attributes
        .iter()
        .find(|(name, _)| name == key)
        .map(|(_, value)| value.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, &str)]) -> Attributes {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn business_keys_prefer_record_over_resource() {
        let record = attrs(&[("order.id", "ORD-1"), ("lob", "Title")]);
        let resource = Arc::new(attrs(&[("order.id", "ORD-2"), ("operator.id", "op-7")]));
        let keys = BusinessKeys::extract(&record, &resource);
        assert_eq!(keys.order_id, "ORD-1");
        assert_eq!(keys.operator_id, "op-7");
        assert_eq!(keys.lob, "Title");
        assert_eq!(keys.user_id, "");
    }

    #[test]
    fn business_keys_replace_nul() {
        let record = attrs(&[("operator.id", "op\u{0}7"), ("user.id", "\u{0}")]);
        let keys = BusinessKeys::extract(&record, &Arc::new(Vec::new()));
        assert_eq!(keys.operator_id, "op\u{FFFD}7");
        assert_eq!(keys.user_id, "\u{FFFD}");
    }

    #[test]
    fn session_id_falls_back_to_sdk_resource_key() {
        let resource = Arc::new(attrs(&[("rum.sessionId", "abc")]));
        let keys = BusinessKeys::extract(&Vec::new(), &resource);
        assert_eq!(keys.rum_session_id, "abc");
    }

    #[test]
    fn user_falls_back_to_sdk_attributes() {
        let empty = Arc::new(Vec::new());
        let sdk = attrs(&[("userId", "42"), ("userEmail", "ann@example.com")]);
        assert_eq!(
            BusinessKeys::extract(&sdk, &empty).user_id,
            "ann@example.com"
        );
        let id_only = attrs(&[("userId", "42")]);
        assert_eq!(BusinessKeys::extract(&id_only, &empty).user_id, "42");
        let both = attrs(&[("user.id", "u-1"), ("userEmail", "ann@example.com")]);
        assert_eq!(BusinessKeys::extract(&both, &empty).user_id, "u-1");
    }
}
