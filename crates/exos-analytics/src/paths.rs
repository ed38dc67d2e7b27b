//! `POST /api/paths` and `POST /api/paths/actors`: the sequences of events actors go through.
//!
//! An actor's path is its events in time order (ties broken by span id, then
//! label), each labelled by a span property after the cleaning rules ran, with
//! consecutive repeats collapsed. The path starts at the actor's first `start`
//! event, or ends at its first `end` event. With both, it runs from the first
//! `start` to the first `end` after it. Without either, it starts at the actor's
//! first event. Every path is cut after `depth` steps. The store does all of it in one SQL
//! statement with window functions and returns (step, event, next event, actors)
//! groups; Rust turns them into Sankey nodes and links. The statement is written
//! once and rendered per dialect, so DuckDB and ClickHouse return the same groups.
//! On DuckDB, `POST /api/paths` streams the labelled events instead and counts
//! the same groups in Rust (`path_groups`), which is several times faster.
//! The drill (`path_actors`) and `actor_paths` still run the statement.

use std::collections::BTreeMap;

use exos_store::duck::Watchdog;
use exos_store::{Store, StoreError};
use serde::{Deserialize, Serialize};

use crate::definitions::{
    actor_link, check_actor, property_sql, Column, EventRef, Library, Property,
};
use crate::error::AnalyticsError;
use crate::rows::{query_all, QUERY_TIMEOUT};
use crate::sql::Sql;

/// The condition on a span that makes it a business step (`business_steps`).
const BUSINESS_STEP: &str = "(ParentSpanId = '' AND RumSessionId = '')";
/// Steps of a path at most.
pub const MAX_DEPTH: usize = 10;
/// (step, event, next event) groups read at most; more are reported as truncated.
pub const MAX_GROUPS: usize = 50_000;
/// Cleaning rules at most.
pub const MAX_RULES: usize = 20;
/// Actors listed by a drill at most.
pub const MAX_ACTORS: usize = 1_000;

/// Half-open range of span timestamps, nanoseconds since the Unix epoch.
pub use exos_funnels::TimeRange as QueryRange;

/// A regular expression (RE2 syntax) whose matches in an event label are replaced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CleaningRule {
    pub pattern: String,
    pub replacement: String,
}

/// A paths question.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathsQuery {
    /// The column whose value identifies the actor; spans where it is `''` are ignored.
    pub actor: Column,
    pub time_range: QueryRange,
    /// The span property that names an event (default: `SpanName`).
    #[serde(default = "span_name")]
    pub event_name: Property,
    /// Spans that count as events: any of these (every span of an actor when empty).
    #[serde(default)]
    pub include: Vec<EventRef>,
    /// Spans removed from paths.
    #[serde(default)]
    pub exclude: Vec<EventRef>,
    /// Only business steps are events: root spans outside browser sessions, the
    /// spans the process log reads by default. Their HTTP and database children and
    /// the browser's page loads and clicks, which carry `order.id` too, are left out.
    #[serde(default)]
    pub business_steps: bool,
    /// Paths start at the actor's first event with this label (after cleaning).
    #[serde(default)]
    pub start: Option<String>,
    /// Paths end at the actor's first event with this label (after `start`, when both are set).
    #[serde(default)]
    pub end: Option<String>,
    /// Steps per path, 2 to 10.
    #[serde(default = "default_depth")]
    pub depth: usize,
    /// Links with fewer actors are left out.
    #[serde(default = "one")]
    pub min_edge_weight: u64,
    /// Links shown at most, the heaviest first.
    #[serde(default = "default_max_edges")]
    pub max_edges: usize,
    /// Applied in order to every label.
    #[serde(default)]
    pub cleaning: Vec<CleaningRule>,
    /// Consecutive events with the same label count once (default true).
    #[serde(default = "yes")]
    pub collapse_repeats: bool,
    /// The filter bar's filters (`Lob=Appraisal`): only spans passing all of them
    /// become path events.
    #[serde(default)]
    pub filters: Vec<String>,
    /// Only actors in this saved cohort.
    #[serde(default)]
    pub cohort: Option<String>,
    /// Only actors with at least one span in the range that matches this event, such as
    /// `{"equals": {"property": {"column": "Lob"}, "value": "Title"}}`.
    #[serde(default)]
    pub actors_with: Option<EventRef>,
}

fn span_name() -> Property {
    Property::Column(Column::SpanName)
}
fn default_depth() -> usize {
    5
}
fn one() -> u64 {
    1
}
fn default_max_edges() -> usize {
    100
}
fn yes() -> bool {
    true
}

/// One node of the Sankey: an event at a step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PathNode {
    /// `"{step}:{name}"`.
    pub id: String,
    /// 0-based column; with only an `end`, the end is at column `depth - 1`.
    pub step: usize,
    pub name: String,
    /// Actors at this event at this step.
    pub actors: u64,
    /// Actors whose path ends here.
    pub dropoffs: u64,
}

/// One link: actors going from one event to the next.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PathLink {
    pub source: String,
    pub target: String,
    pub actors: u64,
}

/// The response of `POST /api/paths`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PathsResponse {
    pub nodes: Vec<PathNode>,
    pub links: Vec<PathLink>,
    /// Actors with a path.
    pub actors: u64,
    /// True when more than `MAX_GROUPS` groups existed and the lightest were not read.
    pub truncated: bool,
    pub sql: String,
}

/// The node or link whose actors a drill lists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrillTarget {
    pub step: usize,
    pub name: String,
    /// With a target, the link from `name` to `target` at `step`; without, the node.
    #[serde(default)]
    pub target: Option<String>,
    /// Only actors whose path ends at the node.
    #[serde(default)]
    pub dropped: bool,
}

/// The body of `POST /api/paths/actors`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathActorsRequest {
    pub query: PathsQuery,
    pub at: DrillTarget,
    #[serde(default = "default_actor_limit")]
    pub limit: usize,
}

fn default_actor_limit() -> usize {
    100
}

/// One actor on a node or link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PathActor {
    pub actor: String,
    /// The page that shows the actor (visitor, replay, or the order's spans).
    pub link: String,
}

/// The response of `POST /api/paths/actors`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PathActorsResponse {
    /// Actors on the node or link, in id order, at most `limit`.
    pub actors: Vec<PathActor>,
    /// How many there are in all.
    pub total: u64,
    pub sql: String,
}

impl PathsQuery {
    /// Checks the bounds of every field; errors name the field and the fix.
    pub fn check(&self) -> Result<(), AnalyticsError> {
        check_actor(self.actor)?;
        if self.time_range.from_ns >= self.time_range.to_ns {
            return Err(AnalyticsError::bad(
                "time_range",
                "from_ns must be before to_ns",
            ));
        }
        let latest = crate::time::LATEST_NS;
        if self.time_range.from_ns < 0 || self.time_range.to_ns > latest {
            return Err(AnalyticsError::bad(
                "time_range",
                format!("use times from 0 (1970) up to {latest} ns (2262)"),
            ));
        }
        if !(2..=MAX_DEPTH).contains(&self.depth) {
            return Err(AnalyticsError::bad(
                "depth",
                format!("{} is out of range; use 2 to {MAX_DEPTH}", self.depth),
            ));
        }
        if self.max_edges == 0 || self.max_edges > 1000 {
            return Err(AnalyticsError::bad(
                "max_edges",
                format!("{} is out of range; use 1 to 1000", self.max_edges),
            ));
        }
        if self.cleaning.len() > MAX_RULES {
            return Err(AnalyticsError::bad(
                "cleaning",
                format!("{} rules; the limit is {MAX_RULES}", self.cleaning.len()),
            ));
        }
        self.cleaning.iter().try_for_each(check_rule)
    }
}

fn check_rule(rule: &CleaningRule) -> Result<(), AnalyticsError> {
    if let Err(error) = regex::Regex::new(&rule.pattern) {
        return Err(AnalyticsError::bad(
            "cleaning",
            format!(
                "pattern {:?} is not a valid regular expression: {error}",
                rule.pattern
            ),
        ));
    }
    if rule.replacement.contains('\\') {
        return Err(AnalyticsError::bad(
            "cleaning",
            format!(
                "replacement {:?} contains a backslash; back-references are not supported, write plain text such as \":id\"",
                rule.replacement
            ),
        ));
    }
    Ok(())
}

/// Renders the statement whose rows are `(actor, position, label, next_label)`: one
/// per actor and step of its path, `next_label` `''` where the path ends.
pub fn steps_sql(
    sql: &Sql,
    query: &PathsQuery,
    library: &Library,
) -> Result<String, AnalyticsError> {
    query.check()?;
    let events = events_sql(sql, query, library)?;
    let order = "ts, sid, label";
    let previous = if query.collapse_repeats {
        sql.lag("label", "''", "actor", order)
    } else {
        "''".to_string()
    };
    let step = sql.row_number("actor", order);
    let positioned = positioned_sql(sql, query);
    let next = sql.lead("label", "''", "actor", "position");
    Ok(format!(
        "WITH events AS ({events}), \
         marked AS (SELECT actor, label, ts, sid, {previous} AS previous FROM events), \
         kept AS (SELECT actor, label, {step} AS step FROM marked WHERE previous != label), \
         positioned AS ({positioned}) \
         SELECT actor, position, label, {next} AS next_label FROM positioned"
    ))
}

/// Renders the labelled event spans: `actor, label, ts, sid`.
fn events_sql(sql: &Sql, query: &PathsQuery, library: &Library) -> Result<String, AnalyticsError> {
    let actor = query.actor.name();
    let mut label = sql.plain_text(&property_sql(sql, &query.event_name));
    for rule in &query.cleaning {
        label = sql.regexp_replace_all(&label, &rule.pattern, &rule.replacement);
    }
    let mut conditions = vec![
        sql.time_range(
            "Timestamp",
            query.time_range.from_ns,
            query.time_range.to_ns,
        ),
        format!("{actor} != ''"),
    ];
    if !query.include.is_empty() {
        conditions.push(any_of(sql, &query.include, library)?);
    }
    if !query.exclude.is_empty() {
        conditions.push(format!("NOT {}", any_of(sql, &query.exclude, library)?));
    }
    if query.business_steps {
        conditions.push(BUSINESS_STEP.to_string());
    }
    if let Some(cohort) = &query.cohort {
        conditions.push(library.cohort_sql(sql, cohort, query.actor, query.time_range.to_ns)?);
    }
    if let Some(filters) = crate::trends::span_filters(sql, &query.filters)? {
        conditions.push(format!("({filters})"));
    }
    if let Some(event) = &query.actors_with {
        conditions.push(format!(
            "{actor} IN (SELECT {actor} FROM otel_traces WHERE {} AND {})",
            sql.time_range(
                "Timestamp",
                query.time_range.from_ns,
                query.time_range.to_ns
            ),
            library.event_sql(sql, event)?
        ));
    }
    Ok(format!(
        "SELECT actor, label, ts, sid FROM (SELECT {actor} AS actor, {label} AS label, \
         Timestamp AS ts, SpanId AS sid FROM otel_traces WHERE {}) AS spans WHERE label != ''",
        conditions.join(" AND ")
    ))
}

fn any_of(sql: &Sql, events: &[EventRef], library: &Library) -> Result<String, AnalyticsError> {
    let parts = events
        .iter()
        .map(|event| library.event_sql(sql, event))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(format!("({})", parts.join(" OR ")))
}

/// Renders the steps of each actor's path with their 0-based column: `actor, position, label`.
fn positioned_sql(sql: &Sql, query: &PathsQuery) -> String {
    let depth = query.depth;
    let first_with = |label: &str| {
        format!(
            "SELECT actor AS anchor_actor, min(step) AS anchor FROM kept WHERE label = {} GROUP BY actor",
            sql.text(label)
        )
    };
    match (&query.start, &query.end) {
        (None, None) => format!(
            "SELECT actor, step - 1 AS position, label FROM kept WHERE step <= {depth}"
        ),
        (Some(start), None) => format!(
            "SELECT k.actor AS actor, k.step - a.anchor AS position, k.label AS label \
             FROM kept AS k INNER JOIN ({}) AS a ON k.actor = a.anchor_actor \
             WHERE k.step >= a.anchor AND k.step < a.anchor + {depth}",
            first_with(start)
        ),
        (None, Some(end)) => format!(
            "SELECT k.actor AS actor, {last} - (a.anchor - k.step) AS position, k.label AS label \
             FROM kept AS k INNER JOIN ({}) AS a ON k.actor = a.anchor_actor \
             WHERE k.step <= a.anchor AND k.step > a.anchor - {depth}",
            first_with(end),
            last = depth - 1
        ),
        (Some(start), Some(end)) => format!(
            "SELECT k.actor AS actor, k.step - b.first_step AS position, k.label AS label \
             FROM kept AS k INNER JOIN (\
             SELECT e.actor AS bounded_actor, min(s.anchor) AS first_step, min(e.step) AS last_step \
             FROM kept AS e INNER JOIN ({starts}) AS s ON e.actor = s.anchor_actor \
             WHERE e.label = {end} AND e.step > s.anchor GROUP BY e.actor) AS b \
             ON k.actor = b.bounded_actor \
             WHERE b.last_step - b.first_step < {depth} AND k.step >= b.first_step AND k.step <= b.last_step",
            starts = first_with(start),
            end = sql.text(end),
        ),
    }
}

/// Renders the (position, label, next_label, actors) groups of the paths.
pub fn groups_sql(steps: &str) -> String {
    format!(
        "SELECT position, label, next_label, count(*) AS actors FROM ({steps}) AS steps \
         GROUP BY position, label, next_label \
         ORDER BY actors DESC, position, label, next_label LIMIT {}",
        MAX_GROUPS + 1
    )
}

/// One (step, event, next event) group as the store returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub position: usize,
    pub label: String,
    pub next: String,
    pub actors: u64,
}

/// Answers a paths question.
pub fn paths(
    store: &dyn Store,
    query: &PathsQuery,
    library: &Library,
) -> Result<PathsResponse, AnalyticsError> {
    let sql = Sql::new(store.dialect());
    let (mut groups, text) = match store.duckdb_connection() {
        Some(connection) => {
            query.check()?;
            let events = events_sql(&sql, query, library)?;
            let connection = connection?;
            // The count streams from its own statement, so it gets its own watchdog,
            // with the time limit of `Store::query`.
            let watchdog = Watchdog::start(&connection, QUERY_TIMEOUT);
            let counted =
                crate::path_groups::count_groups(&connection, query, &events, MAX_GROUPS + 1);
            if watchdog.stop() {
                return Err(StoreError::Timeout(QUERY_TIMEOUT).into());
            }
            (counted?, crate::path_groups::input_sql(&events))
        }
        None => store_groups(store, &groups_sql(&steps_sql(&sql, query, library)?))?,
    };
    let truncated = groups.len() > MAX_GROUPS;
    groups.truncate(MAX_GROUPS);
    let mut response = sankey(query, &groups);
    response.truncated = truncated;
    response.sql = text;
    Ok(response)
}

/// Returns every (step, event, next event) group of the paths from the SQL
/// statement, on either store, for tests of the Rust count on DuckDB.
pub fn statement_groups(
    store: &dyn Store,
    query: &PathsQuery,
    library: &Library,
) -> Result<Vec<Group>, AnalyticsError> {
    let sql = Sql::new(store.dialect());
    Ok(store_groups(store, &groups_sql(&steps_sql(&sql, query, library)?))?.0)
}

/// Runs the groups statement on the store; returns the groups and the statement.
fn store_groups(store: &dyn Store, text: &str) -> Result<(Vec<Group>, String), AnalyticsError> {
    let rows = query_all(store, &[(text.to_string(), MAX_GROUPS + 1)])?
        .pop()
        .unwrap_or_default();
    let groups = rows
        .iter()
        .map(|row| {
            Ok(Group {
                position: row.count(0)? as usize,
                label: row.text(1),
                next: row.text(2),
                actors: row.count(3)?,
            })
        })
        .collect::<Result<Vec<_>, AnalyticsError>>()?;
    Ok((groups, text.to_string()))
}

/// Builds the Sankey from the groups: node totals, the heaviest links above the minimum
/// weight, and the nodes those links touch (or the first column's nodes when none is left).
pub fn sankey(query: &PathsQuery, groups: &[Group]) -> PathsResponse {
    let node_id = |position: usize, label: &str| format!("{position}:{label}");
    let mut nodes: BTreeMap<(usize, String), (u64, u64)> = BTreeMap::new();
    let mut links = Vec::new();
    for group in groups {
        let totals = nodes
            .entry((group.position, group.label.clone()))
            .or_default();
        totals.0 += group.actors;
        if group.next.is_empty() {
            totals.1 += group.actors;
        } else if group.actors >= query.min_edge_weight {
            links.push(PathLink {
                source: node_id(group.position, &group.label),
                target: node_id(group.position + 1, &group.next),
                actors: group.actors,
            });
        }
    }
    links.sort_by(|a, b| (b.actors, &a.source, &a.target).cmp(&(a.actors, &b.source, &b.target)));
    links.truncate(query.max_edges);
    let anchor = anchor_column(query);
    let actors = nodes
        .iter()
        .filter(|((position, _), _)| *position == anchor)
        .map(|(_, totals)| totals.0)
        .sum();
    let touched: std::collections::BTreeSet<&str> = links
        .iter()
        .flat_map(|link| [link.source.as_str(), link.target.as_str()])
        .collect();
    let nodes = nodes
        .iter()
        .map(|((position, label), (count, dropoffs))| PathNode {
            id: node_id(*position, label),
            step: *position,
            name: label.clone(),
            actors: *count,
            dropoffs: *dropoffs,
        })
        .filter(|node| {
            touched.contains(node.id.as_str()) || (touched.is_empty() && node.step == anchor)
        })
        .collect();
    PathsResponse {
        nodes,
        links,
        actors,
        truncated: false,
        sql: String::new(),
    }
}

/// Returns the column every path passes: the end with only an `end`, else the first.
fn anchor_column(query: &PathsQuery) -> usize {
    match (&query.start, &query.end) {
        (None, Some(_)) => query.depth - 1,
        _ => 0,
    }
}

/// Lists the actors on a node or a link of the paths.
pub fn path_actors(
    store: &dyn Store,
    request: &PathActorsRequest,
    library: &Library,
) -> Result<PathActorsResponse, AnalyticsError> {
    if request.limit == 0 || request.limit > MAX_ACTORS {
        return Err(AnalyticsError::bad(
            "limit",
            format!("{} is out of range; use 1 to {MAX_ACTORS}", request.limit),
        ));
    }
    let sql = Sql::new(store.dialect());
    let steps = steps_sql(&sql, &request.query, library)?;

    let at = &request.at;
    let mut condition = format!("position = {} AND label = {}", at.step, sql.text(&at.name));
    if let Some(target) = &at.target {
        condition.push_str(&format!(" AND next_label = {}", sql.text(target)));
    } else if at.dropped {
        condition.push_str(" AND next_label = ''");
    }
    let on_target = format!("SELECT DISTINCT actor FROM ({steps}) AS steps WHERE {condition}");
    let list = format!("{on_target} ORDER BY actor LIMIT {}", request.limit);
    let count = format!("SELECT count(*) AS n FROM ({on_target}) AS found");

    let results = query_all(store, &[(list.clone(), request.limit), (count, 1)])?;
    let column = request.query.actor;
    let actors = results[0]
        .iter()
        .map(|row| {
            let actor = row.text(0);
            PathActor {
                link: actor_link(column, &actor),
                actor,
            }
        })
        .collect();
    let total = match results[1].first() {
        Some(row) => row.count(0)?,
        None => 0,
    };
    Ok(PathActorsResponse {
        actors,
        total,
        sql: list,
    })
}

/// Runs the steps statement and returns every actor's path as (actor, labels), for tests.
pub fn actor_paths(
    store: &dyn Store,
    query: &PathsQuery,
    library: &Library,
) -> Result<BTreeMap<String, Vec<(usize, String)>>, AnalyticsError> {
    let sql = Sql::new(store.dialect());
    let text = format!(
        "SELECT actor, position, label FROM ({}) AS steps ORDER BY actor, position",
        steps_sql(&sql, query, library)?
    );
    let mut paths: BTreeMap<String, Vec<(usize, String)>> = BTreeMap::new();
    for row in crate::rows::query(store, &text, 1_000_000)? {
        let step = (row.count(1)? as usize, row.text(2));
        paths.entry(row.text(0)).or_default().push(step);
    }
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths_query() -> PathsQuery {
        serde_json::from_str(
            r#"{"actor": "OrderId", "time_range": {"from_ns": 0, "to_ns": 10}, "depth": 3, "min_edge_weight": 2}"#,
        )
        .unwrap()
    }

    fn group(position: usize, label: &str, next: &str, actors: u64) -> Group {
        Group {
            position,
            label: label.into(),
            next: next.into(),
            actors,
        }
    }

    #[test]
    fn times_outside_1970_to_2262_are_rejected() {
        for (from_ns, to_ns) in [(-1, 10), (0, i64::MAX), (i64::MIN, i64::MAX)] {
            let mut query = paths_query();
            query.time_range = QueryRange { from_ns, to_ns };
            let error = query.check().unwrap_err().to_string();
            assert!(error.contains("2262"), "{from_ns}..{to_ns}: {error}");
        }
        assert!(paths_query().check().is_ok());
    }

    #[test]
    fn sankey_keeps_heavy_links_and_their_nodes() {
        let groups = [
            group(0, "A", "B", 5),
            group(0, "A", "C", 1),
            group(0, "A", "", 2),
            group(1, "B", "D", 3),
            group(1, "C", "", 1),
            group(2, "D", "", 3),
        ];
        let response = sankey(&paths_query(), &groups);
        assert_eq!(response.actors, 8);
        let links: Vec<(&str, &str, u64)> = response
            .links
            .iter()
            .map(|l| (l.source.as_str(), l.target.as_str(), l.actors))
            .collect();
        assert_eq!(links, [("0:A", "1:B", 5), ("1:B", "2:D", 3)]);
        let nodes: Vec<(&str, u64, u64)> = response
            .nodes
            .iter()
            .map(|n| (n.id.as_str(), n.actors, n.dropoffs))
            .collect();
        assert_eq!(nodes, [("0:A", 8, 2), ("1:B", 3, 0), ("2:D", 3, 3)]);
    }

    #[test]
    fn bad_bounds_name_the_field() {
        let mut query = paths_query();
        query.depth = 11;
        assert!(query.check().unwrap_err().to_string().contains("depth"));
        query.depth = 3;
        query.cleaning.push(CleaningRule {
            pattern: "(".into(),
            replacement: "x".into(),
        });
        assert!(query
            .check()
            .unwrap_err()
            .to_string()
            .contains("not a valid regular expression"));
        query.cleaning[0] = CleaningRule {
            pattern: "[0-9]+".into(),
            replacement: r"\1".into(),
        };
        assert!(query
            .check()
            .unwrap_err()
            .to_string()
            .contains("back-references"));
        query.cleaning.clear();
        query.actor = Column::Lob;
        assert!(query
            .check()
            .unwrap_err()
            .to_string()
            .contains("cannot identify actors"));
    }

    #[test]
    fn unknown_fields_are_refused() {
        let error = serde_json::from_str::<PathsQuery>(
            r#"{"actor": "OrderId", "time_range": {"from_ns": 0, "to_ns": 10}, "dept": 3}"#,
        )
        .unwrap_err();
        assert!(error.to_string().contains("dept"), "{error}");
    }
}
