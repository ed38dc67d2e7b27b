//! Runs funnel and retention questions end to end on an in-memory DuckDB
//! with the `otel_traces` columns they read.

use duckdb::Connection;
use exos_funnels::{
    duck, Column, EventFilter, FunnelKind, FunnelQuery, Period, Property, RetentionKind,
    RetentionQuery, TimeRange,
};

const DAY_NS: i64 = 86_400_000_000_000;
/// 2026-01-05T00:00:00Z, a Monday.
const START_NS: i64 = 1_767_571_200_000_000_000;

fn spans(rows: &[(i64, &str, &str, &str)]) -> Connection {
    let connection = Connection::open_in_memory().unwrap();
    connection
        .execute_batch(
            "CREATE TABLE otel_traces (Timestamp TIMESTAMP_NS, SpanName VARCHAR, UserId VARCHAR, \
             Lob VARCHAR, SpanAttributes MAP(VARCHAR, VARCHAR))",
        )
        .unwrap();
    for (offset_ns, name, user, lob) in rows {
        connection
            .execute(
                "INSERT INTO otel_traces VALUES (make_timestamp_ns(?), ?, ?, ?, MAP {'page': ?})",
                duckdb::params![START_NS + offset_ns, name, user, lob, name],
            )
            .unwrap();
    }
    connection
}

fn funnel(kind: FunnelKind) -> FunnelQuery {
    FunnelQuery {
        actor: Column::UserId,
        steps: vec![
            EventFilter::SpanName("view".into()),
            EventFilter::Equals {
                property: Property::Attribute("page".into()),
                value: "cart".into(),
            },
            EventFilter::SpanName("pay".into()),
        ],
        kind,
        window_ns: DAY_NS as u64,
        modes: Default::default(),
        exclusions: Vec::new(),
        breakdown: Some(Property::Column(Column::Lob)),
        time_range: TimeRange {
            from_ns: START_NS,
            to_ns: START_NS + 30 * DAY_NS,
        },
        trend_period: Some(Period::Day),
    }
}

#[test]
fn funnel_counts_per_breakdown() {
    let connection = spans(&[
        (0, "view", "u1", "Title"),
        (10, "cart", "u1", "Title"),
        (20, "pay", "u1", "Title"),
        (0, "view", "u2", "Title"),
        (5, "other", "u2", "Title"),
        (10, "cart", "u2", "Title"),
        (0, "view", "u3", "Flood"),
        (2 * DAY_NS, "cart", "u3", "Flood"),
        (0, "view", "", "Flood"),
    ]);
    let result = duck::run_funnel(&connection, &funnel(FunnelKind::Sequential)).unwrap();
    let counts: Vec<(String, Vec<u64>)> = result
        .series
        .iter()
        .map(|series| {
            (
                series.breakdown.clone(),
                series.steps.iter().map(|step| step.actors).collect(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        [
            ("Flood".to_string(), vec![1, 0, 0]),
            ("Title".to_string(), vec![2, 2, 1])
        ]
    );
    assert_eq!(result.series[1].time_to_convert.median_ns, Some(20));

    // Strict: u2's "other" span between view and cart breaks its chain.
    let strict = duck::run_funnel(&connection, &funnel(FunnelKind::Strict)).unwrap();
    let title: Vec<u64> = strict.series[1]
        .steps
        .iter()
        .map(|step| step.actors)
        .collect();
    assert_eq!(title, [2, 1, 1]);
}

#[test]
fn funnel_levels_per_actor() {
    let connection = spans(&[
        (0, "cart", "u1", "Title"),
        (1, "view", "u1", "Title"),
        (2, "cart", "u1", "Title"),
    ]);
    let levels = duck::funnel_actor_levels(&connection, &funnel(FunnelKind::Sequential)).unwrap();
    assert_eq!(levels.len(), 1);
    assert_eq!(levels[0].actor, "u1");
    assert_eq!(levels[0].level, 2);
}

#[test]
fn retention_by_week() {
    let connection = spans(&[
        (0, "view", "u1", "Title"),
        (8 * DAY_NS, "pay", "u1", "Title"),
        (DAY_NS, "view", "u2", "Title"),
        (9 * DAY_NS, "view", "u2", "Title"),
        (15 * DAY_NS, "pay", "u2", "Title"),
    ]);
    let mut query = RetentionQuery {
        actor: Column::UserId,
        start_event: EventFilter::SpanName("view".into()),
        return_event: EventFilter::SpanName("pay".into()),
        kind: RetentionKind::FirstTime,
        period: Period::Week,
        periods: 4,
        from_ns: START_NS,
    };
    let first_time = duck::run_retention(&connection, &query).unwrap();
    assert_eq!(first_time.cohorts.len(), 1);
    assert_eq!(first_time.cohorts[0].returned, [2, 1, 1, 0]);

    query.kind = RetentionKind::Recurring;
    let recurring = duck::run_retention(&connection, &query).unwrap();
    let rows: Vec<(usize, Vec<u64>)> = recurring
        .cohorts
        .iter()
        .map(|cohort| (cohort.period, cohort.returned.clone()))
        .collect();
    assert_eq!(rows, [(0, vec![2, 1, 1, 0]), (1, vec![1, 1, 0, 0])]);
}

/// Random spans: 150 actors, some with two Lob values, ties in time.
fn random_spans(seed: u64) -> Connection {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let names = ["view", "cart", "pay", "other"];
    let lobs = ["Title", "Flood", "Appraisal"];
    let rows: Vec<(i64, String, String, String)> = (0..3_000)
        .map(|_| {
            let actor = rng.gen_range(0..150);
            let lob = if actor % 5 == 0 {
                lobs[rng.gen_range(0..2)]
            } else {
                lobs[actor % 3]
            };
            (
                rng.gen_range(0..40) * DAY_NS / 4,
                names[rng.gen_range(0..4)].to_string(),
                format!("actor-{actor}"),
                lob.to_string(),
            )
        })
        .collect();
    let borrowed: Vec<(i64, &str, &str, &str)> = rows
        .iter()
        .map(|(offset, name, user, lob)| (*offset, name.as_str(), user.as_str(), lob.as_str()))
        .collect();
    spans(&borrowed)
}

#[test]
fn one_partitioned_pass_equals_two_sorted_runs() {
    use exos_funnels::partitioned::run_funnel_split;
    for (seed, kind) in [
        (1, FunnelKind::Sequential),
        (2, FunnelKind::Strict),
        (3, FunnelKind::AnyOrder),
    ] {
        let connection = random_spans(seed);
        let mut query = funnel(kind);
        query.exclusions = vec![exos_funnels::Exclusion {
            event: EventFilter::SpanName("other".into()),
            from_step: 1,
            to_step: 2,
        }];
        let total_query = FunnelQuery {
            breakdown: None,
            ..query.clone()
        };
        let split = run_funnel_split(&connection, &query).unwrap();
        assert_eq!(
            split.breakdown.as_ref(),
            Some(&duck::run_funnel(&connection, &query).unwrap())
        );
        assert_eq!(
            split.total,
            duck::run_funnel(&connection, &total_query).unwrap()
        );
        let series = &split.total.series[0];
        assert!(
            series.steps[0].actors + series.excluded_actors > 100,
            "{kind:?}"
        );
        let alone = run_funnel_split(&connection, &total_query).unwrap();
        assert_eq!((alone.total, alone.breakdown), (split.total, None));
    }
}
