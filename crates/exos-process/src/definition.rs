//! The log definition: which spans become events, and which attributes give
//! the case, the activity, the resource and the case attributes.
//!
//! A definition is plain JSON, written once on the page and sent with every
//! process request, so every analysis reads the same log. Attribute names
//! become SQL only through [`Attribute::expr`]: the business keys map to
//! their plain columns, anything else to a map lookup whose key is an
//! escaped literal.

use exos_analytics::sql::Sql;
use serde::{Deserialize, Serialize};

use crate::error::ProcessError;

/// Longest attribute name accepted.
const MAX_ATTRIBUTE_LEN: usize = 200;
/// Most case attributes a log carries.
const MAX_CASE_ATTRIBUTES: usize = 16;

/// How spans become an event log.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogDefinition {
    /// Attribute whose value names the case; `order.id` by default.
    pub case: String,
    /// Attribute giving the activity; `span.name` (the span's name) by default.
    pub activity: String,
    /// Attribute giving the resource; `operator.id` by default.
    pub resource: String,
    /// Attributes carried per case (value of the case's first event); `lob` by default.
    pub case_attributes: Vec<String>,
    /// Which spans are events.
    pub spans: SpanSelection,
}

impl Default for LogDefinition {
    fn default() -> Self {
        LogDefinition {
            case: "order.id".into(),
            activity: "span.name".into(),
            resource: "operator.id".into(),
            case_attributes: vec!["lob".into()],
            spans: SpanSelection::default(),
        }
    }
}

/// The spans that are events. The default, root spans outside browser
/// sessions, keeps the business spans (one per activity, each the root of its
/// trace) and leaves out their HTTP and database children and the browser's
/// page-load and click spans, which carry `order.id` too.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpanSelection {
    /// Only spans without a parent.
    pub root_only: bool,
    /// Leave out spans of browser sessions (those with `rum.session_id`).
    pub exclude_browser: bool,
    /// Only spans of this service, when set.
    pub service: Option<String>,
    /// Only spans of this instrumentation scope, when set.
    pub scope: Option<String>,
    /// Only spans with one of these names, when not empty.
    pub names: Vec<String>,
}

impl Default for SpanSelection {
    fn default() -> Self {
        SpanSelection {
            root_only: true,
            exclude_browser: true,
            service: None,
            scope: None,
            names: Vec::new(),
        }
    }
}

/// An attribute of a span, resolved to the SQL that reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attribute<'a> {
    /// A plain column: the span name, the service or a business key.
    Column(&'static str),
    /// A key of the `SpanAttributes` map.
    Map(&'a str),
}

impl<'a> Attribute<'a> {
    /// Resolves `name`, checking it is usable; `field` names the request field on error.
    pub fn parse(field: &str, name: &'a str) -> Result<Self, ProcessError> {
        if name.is_empty() || name.len() > MAX_ATTRIBUTE_LEN || name.contains('\0') {
            return Err(ProcessError::bad(
                field,
                format!(
                    "{name:?} is not an attribute name; give 1 to {MAX_ATTRIBUTE_LEN} characters such as `order.id`"
                ),
            ));
        }
        Ok(match name {
            "span.name" => Attribute::Column("SpanName"),
            "service.name" => Attribute::Column("ServiceName"),
            "order.id" => Attribute::Column("OrderId"),
            "operator.id" => Attribute::Column("OperatorId"),
            "lob" => Attribute::Column("Lob"),
            "user.id" => Attribute::Column("UserId"),
            "rum.session_id" => Attribute::Column("RumSessionId"),
            other => Attribute::Map(other),
        })
    }

    /// The SQL expression of the attribute's text ('' when absent).
    pub fn expr(self, sql: &Sql) -> String {
        match self {
            Attribute::Column(column) => column.to_string(),
            Attribute::Map(key) => sql.map_value("SpanAttributes", key),
        }
    }
}

impl LogDefinition {
    /// Checks every field, so a bad definition fails before any query runs.
    pub fn validate(&self) -> Result<(), ProcessError> {
        Attribute::parse("log.case", &self.case)?;
        Attribute::parse("log.activity", &self.activity)?;
        Attribute::parse("log.resource", &self.resource)?;
        if self.case_attributes.len() > MAX_CASE_ATTRIBUTES {
            return Err(ProcessError::bad(
                "log.case_attributes",
                format!(
                    "{} attributes given; carry at most {MAX_CASE_ATTRIBUTES}",
                    self.case_attributes.len()
                ),
            ));
        }
        for name in &self.case_attributes {
            Attribute::parse("log.case_attributes", name)?;
        }
        Ok(())
    }

    /// The SQL condition selecting the event spans.
    pub fn span_condition(&self, sql: &Sql) -> String {
        let selection = &self.spans;
        let mut parts = Vec::new();
        if selection.root_only {
            parts.push("ParentSpanId = ''".to_string());
        }
        if selection.exclude_browser {
            parts.push("RumSessionId = ''".to_string());
        }
        if let Some(service) = &selection.service {
            parts.push(format!("ServiceName = {}", sql.text(service)));
        }
        if let Some(scope) = &selection.scope {
            parts.push(format!("ScopeName = {}", sql.text(scope)));
        }
        if !selection.names.is_empty() {
            parts.push(format!("SpanName IN {}", sql.text_list(&selection.names)));
        }
        if parts.is_empty() {
            return "TRUE".into();
        }
        parts.join(" AND ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use exos_store::Dialect;

    #[test]
    fn business_keys_read_plain_columns_and_others_the_map() {
        let sql = Sql::new(Dialect::DuckDb);
        assert_eq!(
            Attribute::parse("f", "order.id").unwrap().expr(&sql),
            "OrderId"
        );
        let custom = Attribute::parse("f", "ticket's id").unwrap().expr(&sql);
        assert_eq!(custom, "coalesce(SpanAttributes['ticket''s id'], '')");
    }

    #[test]
    fn empty_attribute_names_are_refused_with_the_field() {
        let definition = LogDefinition {
            case: String::new(),
            ..LogDefinition::default()
        };
        let message = definition.validate().unwrap_err().to_string();
        assert!(message.contains("log.case"), "{message}");
    }

    #[test]
    fn default_selection_keeps_root_spans_outside_browsers() {
        let sql = Sql::new(Dialect::ClickHouse);
        let condition = LogDefinition::default().span_condition(&sql);
        assert_eq!(condition, "ParentSpanId = '' AND RumSessionId = ''");
    }
}
