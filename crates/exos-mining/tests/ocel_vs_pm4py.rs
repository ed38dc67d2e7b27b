//! OCEL 2.0 import of the shared example in all three formats and the
//! object-centric analyses, compared with PM4Py 2.7.23.11
//! (`tests/reference/ocel_reference.py`), plus the JSON export round trip.

mod common;

use std::collections::BTreeMap;

use exos_mining::ocel::export::write_ocel_json;
use exos_mining::ocel::json::{parse_ocel_json, read_ocel_json};
use exos_mining::ocel::sqlite::read_ocel_sqlite;
use exos_mining::ocel::stats::{object_lifecycles, object_type_dfg, statistics};
use exos_mining::ocel::xml::read_ocel_xml;
use exos_mining::ocel::Ocel;
use exos_mining::{ImportOptions, OnError};
use serde_json::Value;

fn load(format: &str) -> Ocel {
    let dir = common::logs_dir();
    let options = ImportOptions::default();
    let (ocel, report) = match format {
        "json" => read_ocel_json(&dir.join("ocel20_example.jsonocel"), &options).unwrap(),
        "xml" => read_ocel_xml(&dir.join("ocel20_example.xmlocel"), &options).unwrap(),
        "sqlite" => read_ocel_sqlite(&dir.join("ocel20_example.sqlite"), &options).unwrap(),
        other => panic!("unknown format {other}"),
    };
    assert_eq!(
        report.issue_count, 0,
        "{format} imports cleanly: {:?}",
        report.issues
    );
    ocel
}

fn links(ocel: &Ocel) -> (Vec<[String; 3]>, Vec<[String; 3]>) {
    let mut event_object: Vec<[String; 3]> = ocel
        .event_object
        .iter()
        .map(|l| {
            [
                ocel.events[l.event].id.clone(),
                ocel.objects[l.object].id.clone(),
                l.qualifier.clone(),
            ]
        })
        .collect();
    let mut object_object: Vec<[String; 3]> = ocel
        .object_object
        .iter()
        .map(|l| {
            [
                ocel.objects[l.source].id.clone(),
                ocel.objects[l.target].id.clone(),
                l.qualifier.clone(),
            ]
        })
        .collect();
    event_object.sort();
    object_object.sort();
    (event_object, object_object)
}

fn as_links(value: &Value) -> Vec<[String; 3]> {
    serde_json::from_value(value.clone()).unwrap()
}

fn counts(value: &Value) -> Vec<(String, usize)> {
    let map: BTreeMap<String, usize> = serde_json::from_value(value.clone()).unwrap();
    map.into_iter().collect()
}

fn check(format: &str, ocel: &Ocel, expected: &Value) {
    let stats = statistics(ocel);
    assert_eq!(
        stats.events as u64,
        expected["events"].as_u64().unwrap(),
        "{format} events"
    );
    assert_eq!(
        stats.objects as u64,
        expected["objects"].as_u64().unwrap(),
        "{format} objects"
    );
    assert_eq!(
        stats.event_object_links as u64,
        expected["event_object_links"].as_u64().unwrap(),
        "{format} e2o links"
    );
    assert_eq!(
        stats.object_object_links as u64,
        expected["object_object_links"].as_u64().unwrap(),
        "{format} o2o links"
    );
    assert_eq!(
        stats.events_per_type,
        counts(&expected["events_per_type"]),
        "{format} events per type"
    );
    assert_eq!(
        stats.objects_per_type,
        counts(&expected["objects_per_type"]),
        "{format} objects per type"
    );
    let (event_object, object_object) = links(ocel);
    assert_eq!(
        event_object,
        as_links(&expected["event_object"]),
        "{format} e2o links with qualifiers"
    );
    assert_eq!(
        object_object,
        as_links(&expected["object_object"]),
        "{format} o2o links with qualifiers"
    );

    for (object_type, dfg) in expected["object_type_dfgs"].as_object().unwrap() {
        let ours = object_type_dfg(ocel, object_type);
        let mut edges: Vec<(String, String, u64)> = ours
            .edges
            .iter()
            .map(|((a, b), c)| (a.clone(), b.clone(), *c))
            .collect();
        edges.sort();
        let theirs: Vec<(String, String, u64)> =
            serde_json::from_value(dfg["edges"].clone()).unwrap();
        assert_eq!(
            edges, theirs,
            "{format} {object_type} directly-follows edges"
        );
        let starts: BTreeMap<String, u64> = ours.start_activities.into_iter().collect();
        let ends: BTreeMap<String, u64> = ours.end_activities.into_iter().collect();
        assert_eq!(
            starts,
            serde_json::from_value::<BTreeMap<String, u64>>(dfg["start"].clone()).unwrap(),
            "{format} {object_type} starts"
        );
        assert_eq!(
            ends,
            serde_json::from_value::<BTreeMap<String, u64>>(dfg["end"].clone()).unwrap(),
            "{format} {object_type} ends"
        );
    }
}

#[test]
fn ocel_formats_match_pm4py() {
    let reference = common::reference("ocel20");
    for format in ["json", "xml", "sqlite"] {
        check(format, &load(format), &reference[format]);
    }
}

#[test]
fn lifecycles_follow_time_order() {
    let ocel = load("json");
    let lifecycles = object_lifecycles(&ocel, "Invoice");
    assert_eq!(lifecycles.len(), 3);
    for lifecycle in &lifecycles {
        let times: Vec<i64> = lifecycle
            .events
            .iter()
            .map(|&e| ocel.events[e].time)
            .collect();
        assert!(
            times.windows(2).all(|w| w[0] <= w[1]),
            "events in time order"
        );
        assert!(lifecycle.duration_seconds >= 0.0);
    }
}

#[test]
fn json_export_round_trips_with_qualifiers() {
    let path = common::logs_dir().join("ocel20_example.jsonocel");
    let (mut ocel, _) = read_ocel_json(&path, &ImportOptions::default()).unwrap();
    // A second qualifier on an existing pair must survive the round trip.
    let mut extra = ocel.event_object[0].clone();
    extra.qualifier = "second qualifier".into();
    ocel.event_object.push(extra);

    let mut bytes = Vec::new();
    write_ocel_json(&ocel, &mut bytes).unwrap();
    let options = ImportOptions {
        on_error: OnError::Fail,
        ..ImportOptions::default()
    };
    let (back, _) = parse_ocel_json(&bytes, &options).unwrap();
    assert_eq!(links(&back), links(&ocel));
    assert_eq!(back.events, ocel.events);
    assert_eq!(back.objects, ocel.objects);
}
