//! Product-analytics event definitions, saved actions and cohorts, and their SQL.
//!
//! Events are defined one way across funnels, paths and trends: the serde types of
//! `exos-funnels` ([`EventFilter`], [`Property`], [`Column`]). An [`EventRef`] is such a
//! filter or a reference to a saved action (`{"action": "<id>"}`). A [`Library`] holds the
//! saved actions and cohorts a caller may use; the server builds it from the saved
//! items the caller can see, so visibility rules stay in the server. This module
//! renders filters and cohort restrictions as SQL through [`Sql`]: every value is a
//! literal from [`Sql::text`], every identifier a constant of [`Column`].

use std::collections::BTreeMap;

pub use exos_funnels::{Column, EventFilter, Property};
use exos_store::SavedItem;
use serde::{Deserialize, Serialize};

use crate::error::AnalyticsError;
use crate::sql::Sql;

/// The saved-item kind of a named event definition.
pub const ACTION_KIND: &str = "action";
/// The saved-item kind of a cohort.
pub const COHORT_KIND: &str = "cohort";

/// Static cohorts keep at most this many actor ids.
pub const MAX_STATIC_ACTORS: usize = 10_000;
/// Filters nest at most this deep, so a request cannot exhaust the stack.
const MAX_FILTER_DEPTH: usize = 16;

/// An event in a query: a filter on one span, or a saved action by id or name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EventRef {
    Action(ActionRef),
    Filter(EventFilter),
}

/// A reference to a saved action, by its id or, when no id matches, its name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionRef {
    pub action: String,
}

/// The body of a saved action: a named event definition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionBody {
    pub event: EventFilter,
    #[serde(default)]
    pub description: String,
}

/// The body of a saved cohort.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CohortBody {
    /// The column whose values the cohort lists or selects.
    pub actor: Column,
    #[serde(flatten)]
    pub members: CohortMembers,
    #[serde(default)]
    pub description: String,
}

/// Who belongs to a cohort.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CohortMembers {
    /// A fixed list of actor ids.
    Static(Vec<String>),
    /// Actors who did `event` at least `min_count` times in the `days` days
    /// before the end of the analysed range.
    Dynamic(DynamicCohort),
}

/// The rule of a dynamic cohort.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DynamicCohort {
    pub event: EventRef,
    #[serde(default = "one")]
    pub min_count: u64,
    pub days: u32,
}

fn one() -> u64 {
    1
}

/// The columns that can identify an actor.
pub const ACTOR_COLUMNS: [Column; 4] = [
    Column::UserId,
    Column::RumSessionId,
    Column::OperatorId,
    Column::OrderId,
];

/// Checks that `column` identifies actors (user, session, operator or order).
pub fn check_actor(column: Column) -> Result<(), AnalyticsError> {
    if ACTOR_COLUMNS.contains(&column) {
        return Ok(());
    }
    Err(AnalyticsError::bad(
        "actor",
        format!(
            "{} cannot identify actors; use UserId, RumSessionId, OperatorId or OrderId",
            column.name()
        ),
    ))
}

/// Returns the page that shows one actor: a visitor, a replay, or the order's or operator's spans.
pub fn actor_link(column: Column, actor: &str) -> String {
    let value = url_encode(actor);
    match column {
        Column::UserId => format!("/visitor?user={value}"),
        Column::RumSessionId => format!("/replay?session={value}"),
        Column::OrderId => format!("/events?filter=OrderId%3D{value}"),
        Column::OperatorId => format!("/events?filter=OperatorId%3D{value}"),
        _ => String::new(),
    }
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// Renders a property of a span as a text expression, `''` when an attribute is absent.
pub fn property_sql(sql: &Sql, property: &Property) -> String {
    match property {
        Property::Column(column) => column.name().to_string(),
        Property::Attribute(key) => sql.map_value("SpanAttributes", key),
    }
}

/// Renders a filter as a boolean expression that is never NULL.
pub fn filter_sql(sql: &Sql, filter: &EventFilter) -> Result<String, AnalyticsError> {
    render_filter(sql, filter, 0)
}

fn render_filter(sql: &Sql, filter: &EventFilter, depth: usize) -> Result<String, AnalyticsError> {
    if depth > MAX_FILTER_DEPTH {
        return Err(AnalyticsError::bad(
            "event",
            format!(
                "filters nest more than {MAX_FILTER_DEPTH} levels deep; flatten the all/any lists"
            ),
        ));
    }
    let joined = |filters: &[EventFilter],
                  separator: &str,
                  empty: &str|
     -> Result<String, AnalyticsError> {
        if filters.is_empty() {
            // An empty `all` would match every event and an empty `any` none,
            // which a funnel or path step never means.
            return Err(AnalyticsError::bad(
                    "event",
                    format!(
                        "an empty {empty} list selects no particular events; give at least one filter, such as {{\"{empty}\": [{{\"span_name\": \"checkout\"}}]}}"
                    ),
                ));
        }
        let parts = filters
            .iter()
            .map(|filter| render_filter(sql, filter, depth + 1))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(format!("({})", parts.join(separator)))
    };
    match filter {
        EventFilter::SpanName(name) => Ok(format!("(SpanName = {})", sql.text(name))),
        EventFilter::Equals { property, value } => Ok(format!(
            "({} = {})",
            property_sql(sql, property),
            sql.text(value)
        )),
        EventFilter::All(filters) => joined(filters, " AND ", "all"),
        EventFilter::Any(filters) => joined(filters, " OR ", "any"),
    }
}

/// Returns a short label for a filter, for charts and tables.
pub fn filter_label(filter: &EventFilter) -> String {
    match filter {
        EventFilter::SpanName(name) => name.clone(),
        EventFilter::Equals { property, value } => {
            format!("{} = {value}", property_label(property))
        }
        EventFilter::All(filters) => join_labels(filters, " and "),
        EventFilter::Any(filters) => join_labels(filters, " or "),
    }
}

fn join_labels(filters: &[EventFilter], separator: &str) -> String {
    let labels: Vec<String> = filters.iter().map(filter_label).collect();
    format!("({})", labels.join(separator))
}

fn property_label(property: &Property) -> String {
    match property {
        Property::Column(column) => column.name().to_string(),
        Property::Attribute(key) => key.clone(),
    }
}

/// A saved cohort, ready to restrict a query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cohort {
    pub id: String,
    pub name: String,
    pub body: CohortBody,
}

/// A saved action, ready to stand for its event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Action {
    pub id: String,
    pub name: String,
    pub event: EventFilter,
}

/// The saved actions and cohorts a caller may use, by id.
#[derive(Clone, Debug, Default)]
pub struct Library {
    actions: BTreeMap<String, Action>,
    cohorts: BTreeMap<String, Cohort>,
}

impl Library {
    /// Reads the actions and cohorts among `items`; items of other kinds and unreadable bodies are skipped.
    pub fn from_items(items: &[SavedItem]) -> Self {
        let mut library = Self::default();
        for item in items.iter().filter(|item| !item.deleted) {
            match item.kind.as_str() {
                ACTION_KIND => {
                    if let Ok(body) = serde_json::from_str::<ActionBody>(&item.body) {
                        let action = Action {
                            id: item.id.clone(),
                            name: item.name.clone(),
                            event: body.event,
                        };
                        library.actions.insert(item.id.clone(), action);
                    }
                }
                COHORT_KIND => {
                    if let Ok(body) = serde_json::from_str::<CohortBody>(&item.body) {
                        let cohort = Cohort {
                            id: item.id.clone(),
                            name: item.name.clone(),
                            body,
                        };
                        library.cohorts.insert(item.id.clone(), cohort);
                    }
                }
                _ => {}
            }
        }
        library
    }

    /// Returns the filter an event stands for, looking saved actions up by id or name.
    pub fn event(&self, event: &EventRef) -> Result<EventFilter, AnalyticsError> {
        match event {
            EventRef::Filter(filter) => {
                // Rendering checks the filter: no empty `all`/`any` list, no deep nesting.
                filter_sql(&Sql::new(exos_store::Dialect::DuckDb), filter)?;
                Ok(filter.clone())
            }
            EventRef::Action(reference) => Ok(self.action(&reference.action)?.event.clone()),
        }
    }

    /// Returns the saved action whose id is `key` or, failing that, the one action named `key`.
    pub fn action(&self, key: &str) -> Result<&Action, AnalyticsError> {
        if let Some(action) = self.actions.get(key) {
            return Ok(action);
        }
        let named: Vec<&Action> = self
            .actions
            .values()
            .filter(|action| action.name == key)
            .collect();
        match named.as_slice() {
            [action] => Ok(action),
            [] => Err(AnalyticsError::bad(
                "action",
                format!(
                    "no saved action has the id or name {key:?}; list them with GET /api/workspaces"
                ),
            )),
            several => Err(AnalyticsError::bad(
                "action",
                format!(
                    "{} saved actions are named {key:?}; name one by its id ({})",
                    several.len(),
                    several
                        .iter()
                        .map(|action| action.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }

    /// Returns a short label for an event: the action's name, or the filter's label.
    pub fn event_label(&self, event: &EventRef) -> String {
        match event {
            EventRef::Filter(filter) => filter_label(filter),
            EventRef::Action(reference) => self
                .action(&reference.action)
                .map_or_else(|_| reference.action.clone(), |action| action.name.clone()),
        }
    }

    /// Renders the SQL condition of an event (an action is expanded).
    pub fn event_sql(&self, sql: &Sql, event: &EventRef) -> Result<String, AnalyticsError> {
        filter_sql(sql, &self.event(event)?)
    }

    /// Returns the cohort with `id`.
    pub fn cohort(&self, id: &str) -> Result<&Cohort, AnalyticsError> {
        self.cohorts.get(id).ok_or_else(|| {
            AnalyticsError::bad(
                "cohort",
                format!("no saved cohort with id {id:?}; list them with GET /api/workspaces"),
            )
        })
    }

    /// Renders the condition that a span's `actor` belongs to cohort `id`.
    ///
    /// A dynamic cohort is evaluated over the `days` days before `end_ns`, the end
    /// of the analysed range, so a question about last month sees last month's members.
    pub fn cohort_sql(
        &self,
        sql: &Sql,
        id: &str,
        actor: Column,
        end_ns: i64,
    ) -> Result<String, AnalyticsError> {
        let cohort = self.cohort(id)?;
        if cohort.body.actor != actor {
            return Err(AnalyticsError::bad(
                "cohort",
                format!(
                    "cohort {:?} lists {} values but the query's actor is {}; choose a cohort of the same actor",
                    cohort.name,
                    cohort.body.actor.name(),
                    actor.name()
                ),
            ));
        }
        let column = actor.name();
        match &cohort.body.members {
            CohortMembers::Static(ids) => Ok(format!("{column} IN {}", sql.text_list(ids))),
            CohortMembers::Dynamic(rule) => {
                let event = self.event_sql(sql, &rule.event)?;
                let from_ns = end_ns.saturating_sub(i64::from(rule.days) * 86_400_000_000_000);
                Ok(format!(
                    "{column} IN (SELECT {column} FROM otel_traces WHERE {} AND {column} != '' AND {event} \
                     GROUP BY {column} HAVING count(*) >= {})",
                    sql.time_range("Timestamp", from_ns, end_ns),
                    rule.min_count
                ))
            }
        }
    }
}

/// Checks a saved action's body; returns a message naming the fix.
pub fn check_action_body(body: &serde_json::Value) -> Result<ActionBody, String> {
    let action: ActionBody = serde_json::from_value(body.clone()).map_err(|e| {
        format!("an action's body needs \"event\", for example {{\"event\": {{\"span_name\": \"Approve\"}}}}: {e}")
    })?;
    filter_sql(&Sql::new(exos_store::Dialect::DuckDb), &action.event).map_err(|e| e.to_string())?;
    Ok(action)
}

/// Checks a saved cohort's body; returns a message naming the fix.
pub fn check_cohort_body(body: &serde_json::Value) -> Result<CohortBody, String> {
    let cohort: CohortBody = serde_json::from_value(body.clone()).map_err(|e| {
        format!(
            "a cohort's body needs \"actor\" and \"static\" (a list of ids) or \"dynamic\" \
             ({{\"event\": …, \"min_count\": 1, \"days\": 30}}): {e}"
        )
    })?;
    check_actor(cohort.actor).map_err(|e| e.to_string())?;
    match &cohort.members {
        CohortMembers::Static(ids) if ids.len() > MAX_STATIC_ACTORS => Err(format!(
            "a static cohort lists {} ids; the limit is {MAX_STATIC_ACTORS}",
            ids.len()
        )),
        CohortMembers::Dynamic(rule) if rule.days == 0 || rule.days > 3650 => Err(format!(
            "a dynamic cohort's days is {}; use 1 to 3650",
            rule.days
        )),
        _ => Ok(cohort),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use exos_store::Dialect;

    fn item(id: &str, kind: &str, body: &str) -> SavedItem {
        SavedItem {
            id: id.into(),
            kind: kind.into(),
            name: format!("{kind} {id}"),
            owner: "ann".into(),
            shared: true,
            body: body.into(),
            created_at: 0,
            updated_at: 0,
            deleted: false,
        }
    }

    fn library() -> Library {
        Library::from_items(&[
            item("a1", "action", r#"{"event": {"span_name": "Approve"}}"#),
            item(
                "c1",
                "cohort",
                r#"{"actor": "OrderId", "static": ["ORD-1", "it's"]}"#,
            ),
            item(
                "c2",
                "cohort",
                r#"{"actor": "UserId", "dynamic": {"event": {"action": "a1"}, "min_count": 2, "days": 7}}"#,
            ),
            item("q1", "query", r#"{"sql": "SELECT 1"}"#),
        ])
    }

    #[test]
    fn event_refs_read_filters_and_actions() {
        let filter: EventRef = serde_json::from_str(r#"{"span_name": "x"}"#).unwrap();
        assert_eq!(filter, EventRef::Filter(EventFilter::SpanName("x".into())));
        let action: EventRef = serde_json::from_str(r#"{"action": "a1"}"#).unwrap();
        assert_eq!(
            library().event(&action).unwrap(),
            EventFilter::SpanName("Approve".into())
        );
        let missing = EventRef::Action(ActionRef {
            action: "nope".into(),
        });
        assert!(library()
            .event(&missing)
            .unwrap_err()
            .to_string()
            .contains("nope"));
    }

    #[test]
    fn filters_quote_values() {
        let sql = Sql::new(Dialect::ClickHouse);
        let filter = EventFilter::All(vec![
            EventFilter::SpanName("it's".into()),
            EventFilter::Equals {
                property: Property::Attribute("page".into()),
                value: "a?b".into(),
            },
        ]);
        assert_eq!(
            filter_sql(&sql, &filter).unwrap(),
            r"((SpanName = 'it''s') AND (SpanAttributes['page'] = 'a\x3Fb'))"
        );
        for empty in [EventFilter::Any(vec![]), EventFilter::All(vec![])] {
            let error = filter_sql(&sql, &empty).unwrap_err().to_string();
            assert!(error.contains("selects no particular events"), "{error}");
        }
        let nested = EventFilter::All(vec![
            EventFilter::SpanName("a".into()),
            EventFilter::Any(vec![]),
        ]);
        assert!(filter_sql(&sql, &nested).is_err());
    }

    #[test]
    fn cohorts_render_static_and_dynamic_members() {
        let sql = Sql::new(Dialect::DuckDb);
        let library = library();
        assert_eq!(
            library.cohort_sql(&sql, "c1", Column::OrderId, 0).unwrap(),
            "OrderId IN ('ORD-1', 'it''s')"
        );
        let dynamic = library
            .cohort_sql(&sql, "c2", Column::UserId, 7 * 86_400_000_000_000)
            .unwrap();
        assert!(dynamic.contains("HAVING count(*) >= 2"), "{dynamic}");
        assert!(dynamic.contains("(SpanName = 'Approve')"), "{dynamic}");
        let wrong_actor = library
            .cohort_sql(&sql, "c1", Column::UserId, 0)
            .unwrap_err();
        assert!(
            wrong_actor.to_string().contains("same actor"),
            "{wrong_actor}"
        );
    }

    #[test]
    fn cohort_bodies_are_checked() {
        let bad = serde_json::json!({"actor": "Lob", "static": []});
        assert!(check_cohort_body(&bad)
            .unwrap_err()
            .contains("cannot identify actors"));
        let good = serde_json::json!({"actor": "UserId", "dynamic": {"event": {"span_name": "x"}, "days": 30}});
        assert_eq!(check_cohort_body(&good).unwrap().actor, Column::UserId);
    }

    #[test]
    fn links_encode_ids() {
        assert_eq!(
            actor_link(Column::OrderId, "ORD 1&x"),
            "/events?filter=OrderId%3DORD%201%26x"
        );
    }
}
