//! `POST /api/funnels/actors`: the actors who dropped off at a step or
//! converted through it, each with what the pages link to: the trace of the
//! last step they reached, their browser session (replay) and their user.
//!
//! The engine decides each actor's level exactly as in the report. A second
//! query reads the shown actors' spans to find the trace, session and user
//! at or before the time of their last step.

use std::collections::BTreeMap;

use exos_funnels::sql::Dialect;
use exos_funnels::{FunnelQuery, FunnelReport};
use serde::{Deserialize, Serialize};

use super::request::{property, FunnelRequest};
use super::source::{dialect, for_each_actor, query_all_rows, store_name, SpanScope};
use crate::definitions::Library;
use crate::error::AnalyticsError;
use crate::sql::Sql;
use exos_store::Store;

/// Actors listed when a request names no limit.
pub const DEFAULT_ACTORS: usize = 50;
/// Most actors one request may list.
pub const MAX_ACTORS: usize = 500;
/// Most span rows read to find the listed actors' links.
const MAX_LINK_ROWS: usize = 500_000;
const NS_PER_MS: i64 = 1_000_000;

/// The group of a step's actors to list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Reached the step before `step` but not `step`.
    Dropped,
    /// Reached `step` (and maybe later steps).
    Converted,
}

/// A request of `POST /api/funnels/actors`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActorsRequest {
    pub funnel: FunnelRequest,
    /// 1-based step; `dropped` needs 2 or more.
    pub step: usize,
    pub outcome: Outcome,
    /// Only actors of this value of the funnel's breakdown.
    #[serde(default)]
    pub breakdown_value: Option<String>,
    /// Actors listed, at most 500 (default 50).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// The response body of `POST /api/funnels/actors`.
#[derive(Debug, Clone, Serialize)]
pub struct ActorsResponse {
    pub store: &'static str,
    /// Actors matching the request, of which `actors` lists the first by id.
    pub total: u64,
    pub actors: Vec<FunnelActor>,
    pub sql: Vec<String>,
}

/// One actor and where to look at it.
#[derive(Debug, Clone, Serialize)]
pub struct FunnelActor {
    pub actor: String,
    pub breakdown: String,
    /// Steps reached.
    pub level: usize,
    /// Time of the last step reached, milliseconds since the epoch.
    pub last_step_ms: i64,
    /// Trace of the actor's latest span at or before `last_step_ms`.
    pub trace_id: String,
    pub session_id: String,
    pub user_id: String,
    pub links: ActorLinks,
}

/// App paths for the actor; absent when the data has nothing to link to.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ActorLinks {
    pub trace: Option<String>,
    pub replay: Option<String>,
    pub visitor: Option<String>,
    pub events: String,
}

/// Lists the actors of a step that the request selects.
pub fn funnel_actors(
    store: &dyn Store,
    request: &ActorsRequest,
    library: &Library,
) -> Result<ActorsResponse, AnalyticsError> {
    let mut query = request.funnel.query(library)?;
    let scope = request.funnel.scope(&Sql::new(store.dialect()), library)?;
    check_step(request, query.steps.len())?;
    if request.breakdown_value.is_none() {
        query.breakdown = None;
    }
    let limit = match request.limit {
        None => DEFAULT_ACTORS,
        Some(limit) if (1..=MAX_ACTORS).contains(&limit) => limit,
        Some(limit) => {
            return Err(AnalyticsError::bad(
                "limit",
                format!("{limit} is outside 1 to {MAX_ACTORS}"),
            ))
        }
    };
    let (mut matching, funnel_sql) = matching_actors(store, &query, &scope, request)?;
    let total = matching.len() as u64;
    matching.sort_by(|a, b| (&a.actor, &a.breakdown).cmp(&(&b.actor, &b.breakdown)));
    matching.truncate(limit);
    let mut sql = vec![funnel_sql];
    if !matching.is_empty() {
        let text = links_sql(dialect(store), &query, &matching);
        let spans = read_spans(store, &text)?;
        sql.push(text);
        for actor in &mut matching {
            let found = spans.get(&actor.actor).map_or(&[][..], Vec::as_slice);
            fill_links(actor, found);
        }
    }
    Ok(ActorsResponse {
        store: store_name(store),
        total,
        actors: matching,
        sql,
    })
}

fn check_step(request: &ActorsRequest, steps: usize) -> Result<(), AnalyticsError> {
    let lowest = match request.outcome {
        Outcome::Dropped => 2,
        Outcome::Converted => 1,
    };
    if request.step < lowest || request.step > steps {
        return Err(AnalyticsError::bad(
            "step",
            format!(
                "{} is outside {lowest} to {steps}; dropped actors start at step 2, since step 1 is where actors enter",
                request.step
            ),
        ));
    }
    if let (Some(_), None) = (&request.breakdown_value, &request.funnel.breakdown) {
        return Err(AnalyticsError::bad(
            "breakdown_value",
            "the funnel has no breakdown; set funnel.breakdown or drop breakdown_value",
        ));
    }
    if let Some(key) = &request.funnel.breakdown {
        property(key)?;
    }
    Ok(())
}

/// Returns every actor the request selects, with its level and last step time.
fn matching_actors(
    store: &dyn Store,
    query: &FunnelQuery,
    scope: &SpanScope,
    request: &ActorsRequest,
) -> Result<(Vec<FunnelActor>, String), AnalyticsError> {
    let mut report = FunnelReport::new(query)
        .map_err(|error| AnalyticsError::bad("funnel", error.to_string()))?;
    let mut matching = Vec::new();
    let text = for_each_actor(store, query, scope, |spans| {
        if let Some(value) = &request.breakdown_value {
            if spans.breakdown != value {
                return;
            }
        }
        let outcome = report.evaluate(spans.timestamps_ns, spans.steps, spans.exclusions);
        let selected = match request.outcome {
            Outcome::Dropped => outcome.level + 1 == request.step,
            Outcome::Converted => outcome.level >= request.step,
        };
        if outcome.excluded || !selected {
            return;
        }
        matching.push(FunnelActor {
            actor: spans.actor.to_string(),
            breakdown: spans.breakdown.to_string(),
            level: outcome.level,
            last_step_ms: outcome.step_times_ns.last().copied().unwrap_or(0) / NS_PER_MS,
            trace_id: String::new(),
            session_id: String::new(),
            user_id: String::new(),
            links: ActorLinks::default(),
        });
    })?;
    Ok((matching, text))
}

/// One span of a listed actor: (timestamp ns, trace id, session id, user id).
type LinkSpan = (i64, String, String, String);

/// Renders the spans of the listed actors in the funnel's range, oldest first.
fn links_sql(dialect: Dialect, query: &FunnelQuery, actors: &[FunnelActor]) -> String {
    let column = query.actor.name();
    let mut ids: Vec<&str> = actors.iter().map(|actor| actor.actor.as_str()).collect();
    ids.dedup();
    let list: Vec<String> = ids.iter().map(|id| dialect.string_literal(id)).collect();
    format!(
        "SELECT {column} AS actor, {timestamp} AS timestamp_ns, TraceId, RumSessionId, UserId \
         FROM otel_traces WHERE {range} AND {column} IN ({list}) \
         ORDER BY actor, timestamp_ns, TraceId, SpanId",
        timestamp = dialect.timestamp_ns(),
        range = dialect.time_range(&query.time_range),
        list = list.join(", "),
    )
}

fn read_spans(
    store: &dyn Store,
    text: &str,
) -> Result<BTreeMap<String, Vec<LinkSpan>>, AnalyticsError> {
    let mut spans: BTreeMap<String, Vec<LinkSpan>> = BTreeMap::new();
    for row in query_all_rows(store, text, MAX_LINK_ROWS, "spans for the listed actors")? {
        spans.entry(row.text(0)).or_default().push((
            row.int(1)?,
            row.text(2),
            row.text(3),
            row.text(4),
        ));
    }
    Ok(spans)
}

/// Picks the trace, session and user of the latest span at or before the
/// last step. When no span before it has one, the first later span's is used.
fn fill_links(actor: &mut FunnelActor, spans: &[LinkSpan]) {
    let stop_ns = actor.last_step_ms.saturating_mul(NS_PER_MS) + NS_PER_MS - 1;
    let latest = |pick: fn(&LinkSpan) -> &String| -> String {
        let before = spans
            .iter()
            .rev()
            .filter(|span| span.0 <= stop_ns)
            .map(pick)
            .find(|value| !value.is_empty());
        let any = || spans.iter().map(pick).find(|value| !value.is_empty());
        before.or_else(any).cloned().unwrap_or_default()
    };
    actor.trace_id = latest(|span| &span.1);
    actor.session_id = latest(|span| &span.2);
    actor.user_id = latest(|span| &span.3);
    actor.links = ActorLinks {
        trace: (!actor.trace_id.is_empty())
            .then(|| format!("/engineering?trace={}", actor.trace_id)),
        replay: (!actor.session_id.is_empty()).then(|| {
            format!(
                "/replay?session={}&t={}",
                encode(&actor.session_id),
                actor.last_step_ms
            )
        }),
        visitor: if !actor.user_id.is_empty() {
            Some(format!("/visitor?user={}", encode(&actor.user_id)))
        } else if !actor.session_id.is_empty() {
            Some(format!("/visitor?session={}", encode(&actor.session_id)))
        } else {
            None
        },
        events: format!("/events?q={}", encode(&actor.actor)),
    };
}

/// Percent-encodes a query parameter value (RFC 3986 unreserved characters kept).
fn encode(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                encoded.push(byte as char)
            }
            _ => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(last_step_ms: i64) -> FunnelActor {
        FunnelActor {
            actor: "ORD-1".into(),
            breakdown: String::new(),
            level: 2,
            last_step_ms,
            trace_id: String::new(),
            session_id: String::new(),
            user_id: String::new(),
            links: ActorLinks::default(),
        }
    }

    fn span(ms: i64, trace: &str, session: &str, user: &str) -> LinkSpan {
        (ms * NS_PER_MS, trace.into(), session.into(), user.into())
    }

    #[test]
    fn links_use_latest_span_before_stop() {
        let mut found = actor(20);
        let spans = [
            span(10, "t1", "", ""),
            span(20, "t2", "s1", "ann@example.com"),
            span(30, "t3", "s2", ""),
        ];
        fill_links(&mut found, &spans);
        assert_eq!(found.trace_id, "t2");
        assert_eq!(found.session_id, "s1");
        assert_eq!(
            found.links.replay.as_deref(),
            Some("/replay?session=s1&t=20")
        );
        assert_eq!(
            found.links.visitor.as_deref(),
            Some("/visitor?user=ann%40example.com")
        );
        assert_eq!(found.links.trace.as_deref(), Some("/engineering?trace=t2"));
        assert_eq!(found.links.events, "/events?q=ORD-1");
    }

    #[test]
    fn later_session_is_used_when_none_before() {
        let mut found = actor(10);
        fill_links(
            &mut found,
            &[span(10, "t1", "", ""), span(50, "t2", "s9", "")],
        );
        assert_eq!(found.session_id, "s9");
        assert_eq!(found.links.visitor.as_deref(), Some("/visitor?session=s9"));
    }

    #[test]
    fn actor_without_spans_has_no_links() {
        let mut found = actor(10);
        fill_links(&mut found, &[]);
        assert!(found.links.trace.is_none());
        assert!(found.links.replay.is_none());
        assert!(found.links.visitor.is_none());
    }
}
