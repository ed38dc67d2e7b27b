//! The sampled service map counts exactly the sampled traces, scaled up.

mod common;

use common::{span, SpanSpec, TestStore, MS, T0};
use exos_analytics::services::service_edges;
use exos_core::Batch;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[test]
fn sampled_edges_scale_counts() {
    let test = TestStore::empty();
    let mut rng = StdRng::seed_from_u64(3);
    let traces: Vec<String> = (0..6000)
        .map(|_| format!("{:032x}", rng.gen::<u128>()))
        .collect();
    let mut spans = Vec::new();
    for (index, trace) in traces.iter().enumerate() {
        let client = format!("{:016x}", index * 2 + 1);
        let server = format!("{:016x}", index * 2 + 2);
        let start_ns = T0 + index as i64 * MS;
        spans.push(span(SpanSpec {
            trace,
            id: &client,
            service: "gateway",
            kind: "Client",
            start_ns,
            ..SpanSpec::default()
        }));
        spans.push(span(SpanSpec {
            trace,
            id: &server,
            parent: &client,
            service: "order-api",
            kind: "Server",
            start_ns: start_ns + MS / 2,
            error: index % 5 == 0,
            ..SpanSpec::default()
        }));
    }
    test.get()
        .write(&Batch {
            spans,
            ..Batch::default()
        })
        .unwrap();
    for (one_in, suffix) in [(1u32, ""), (16, "0"), (256, "00")] {
        let edges = service_edges(test.get(), &common::scope(), None, one_in).unwrap();
        let sampled: Vec<usize> = (0..traces.len())
            .filter(|i| traces[*i].ends_with(suffix))
            .collect();
        let calls = sampled.len() as u64 * u64::from(one_in);
        let errors = sampled.iter().filter(|i| *i % 5 == 0).count() as u64 * u64::from(one_in);
        assert_eq!(
            edges.len(),
            usize::from(!sampled.is_empty()),
            "1 in {one_in}"
        );
        if let Some(edge) = edges.first() {
            assert_eq!(
                (edge.source.as_str(), edge.target.as_str()),
                ("gateway", "order-api")
            );
            assert_eq!((edge.calls, edge.errors), (calls, errors), "1 in {one_in}");
        }
    }
}
