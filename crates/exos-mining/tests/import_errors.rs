//! Importers on broken copies of the shared logs (made by
//! `tests/data/make_broken_copies.py`): each problem is reported with its
//! location and handled as the `OnError` policy sets.

use std::path::PathBuf;

use exos_mining::import::csv::{read_csv, CsvMapping};
use exos_mining::import::xes::read_xes;
use exos_mining::ocel::json::read_ocel_json;
use exos_mining::ocel::sqlite::read_ocel_sqlite;
use exos_mining::ocel::xml::read_ocel_xml;
use exos_mining::time::parse_iso8601;
use exos_mining::{ImportError, ImportOptions, IssueKind, Location, OnError};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn options(on_error: OnError) -> ImportOptions {
    ImportOptions {
        on_error,
        ..ImportOptions::default()
    }
}

fn text_location(line: u64, column: u64) -> Location {
    Location::Text { line, column }
}

#[test]
fn truncated_xes_reported_at_end() {
    let path = data("running-example-truncated.xes");
    let (log, report) = read_xes(&path, &options(OnError::Skip)).unwrap();
    assert_eq!(
        log.case_count(),
        1,
        "the incomplete second trace is dropped"
    );
    assert_eq!(log.event_count(), 9);
    assert_eq!(report.skipped, 1);
    assert_eq!(report.issues[0].kind, IssueKind::Malformed);
    assert_eq!(report.issues[0].location, text_location(100, 7));

    let (log, report) = read_xes(&path, &options(OnError::Repair)).unwrap();
    assert_eq!(
        log.case_count(),
        2,
        "the incomplete trace is closed and kept"
    );
    assert_eq!(log.case_ids[1], "2");
    assert_eq!(log.event_count(), 9, "the cut event has no activity");
    assert_eq!(report.repaired, 1);

    match read_xes(&path, &options(OnError::Fail)) {
        Err(ImportError::Invalid(issue)) => assert_eq!(issue.location, text_location(100, 7)),
        other => panic!("expected an invalid-input error, got {other:?}"),
    }
}

#[test]
fn bad_xes_timestamp_skips_or_keeps_event() {
    let path = data("running-example-bad-timestamp.xes");
    let (log, report) = read_xes(&path, &options(OnError::Skip)).unwrap();
    assert_eq!((log.case_count(), log.event_count()), (6, 41));
    assert_eq!(report.issues.len(), 1);
    assert_eq!(report.issues[0].kind, IssueKind::BadTimestamp);
    assert_eq!(report.issues[0].location, text_location(102, 7));
    assert!(
        report.issues[0].message.contains("2011-13-45"),
        "{}",
        report.issues[0].message
    );

    let (log, report) = read_xes(&path, &options(OnError::Repair)).unwrap();
    assert_eq!(
        log.event_count(),
        42,
        "the event is kept without a timestamp"
    );
    assert_eq!(
        log.timestamp
            .iter()
            .filter(|&&t| t == exos_mining::log::NO_TIME)
            .count(),
        1
    );
    assert_eq!(report.repaired, 1);
}

#[test]
fn csv_mixed_zones_convert_to_utc() {
    let (log, report) = read_csv(
        &data("mixed-zones.csv"),
        &CsvMapping::default(),
        &options(OnError::Skip),
    )
    .unwrap();
    let utc = |text| parse_iso8601(text, 0).unwrap();
    assert_eq!(log.case_ids, ["c1", "c2"]);
    assert_eq!(
        log.timestamp,
        [
            utc("2011-10-11T11:45:40Z"),
            utc("2011-10-11T12:45:40Z"),
            utc("2011-10-11T13:45:40.5Z"),
            utc("2011-10-11T10:00:00Z"),
            utc("2011-10-12T15:00:00Z")
        ]
    );
    let kinds: Vec<(IssueKind, Location)> = report
        .issues
        .iter()
        .map(|i| (i.kind, i.location.clone()))
        .collect();
    let row = |row| Location::Row {
        table: "csv".into(),
        row,
    };
    assert_eq!(
        kinds,
        [
            (IssueKind::BadTimestamp, row(6)),
            (IssueKind::MissingValue, row(8))
        ]
    );
}

#[test]
fn csv_naive_times_use_default_offset() {
    let shifted = ImportOptions {
        default_offset_seconds: 3600,
        ..options(OnError::Skip)
    };
    let (log, _) = read_csv(&data("mixed-zones.csv"), &CsvMapping::default(), &shifted).unwrap();
    assert_eq!(
        log.timestamp[3],
        parse_iso8601("2011-10-11T09:00:00Z", 0).unwrap()
    );
}

#[test]
fn ocel_json_problems_reported() {
    let path = data("ocel-broken.jsonocel");
    let (ocel, report) = read_ocel_json(&path, &options(OnError::Skip)).unwrap();
    let kinds: Vec<(IssueKind, Location)> = report
        .issues
        .iter()
        .map(|i| (i.kind, i.location.clone()))
        .collect();
    let at = |path: &str| Location::Json(path.into());
    assert_eq!(
        kinds,
        [
            (IssueKind::IntegerId, at("events[1].id")),
            (IssueKind::BadTimestamp, at("events[3].time")),
            (
                IssueKind::DanglingReference,
                at("events[0].relationships[1]")
            ),
        ]
    );
    assert_eq!((ocel.events.len(), ocel.objects.len()), (11, 9));

    let (ocel, report) = read_ocel_json(&path, &options(OnError::Repair)).unwrap();
    assert_eq!(ocel.events.len(), 13);
    assert!(
        ocel.events.iter().any(|e| e.id == "42"),
        "integer id read as text"
    );
    assert_eq!(
        ocel.event_object.len(),
        21,
        "20 links, one more qualifier, the dangling one dropped"
    );
    assert_eq!(report.repaired, 2);
}

#[test]
fn ocel_json_syntax_error_has_position() {
    let truncated = br#"{"objectTypes": [], "events": [ {"id": "e1""#;
    match exos_mining::ocel::json::parse_ocel_json(truncated, &options(OnError::Repair)) {
        Err(ImportError::Invalid(issue)) => {
            assert_eq!(issue.kind, IssueKind::Malformed);
            assert_eq!(issue.location, text_location(1, 43), "the last byte read");
        }
        other => panic!("expected an invalid-input error, got {other:?}"),
    }
}

#[test]
fn truncated_ocel_xml_keeps_complete_records() {
    let path = data("ocel-truncated.xmlocel");
    let (ocel, report) = read_ocel_xml(&path, &options(OnError::Skip)).unwrap();
    assert_eq!((ocel.events.len(), ocel.objects.len()), (2, 9));
    assert_eq!(
        report.issue_count, 1,
        "no dangling link from the dropped event: {:?}",
        report.issues
    );
    assert_eq!(report.issues[0].kind, IssueKind::Malformed);
    assert_eq!(report.issues[0].location, text_location(156, 9));

    let (ocel, _) = read_ocel_xml(&path, &options(OnError::Repair)).unwrap();
    assert_eq!(ocel.events.len(), 3, "the event being read is kept");
}

#[test]
fn sqlite_integer_ids_repaired() {
    let path = data("ocel-integer-ids.sqlite");
    let (ocel, report) = read_ocel_sqlite(&path, &options(OnError::Repair)).unwrap();
    assert_eq!(
        (
            ocel.events.len(),
            ocel.objects.len(),
            ocel.event_object.len(),
            ocel.object_object.len()
        ),
        (13, 9, 20, 7)
    );
    assert!(ocel.objects.iter().any(|o| o.id == "101"));
    assert!(ocel.events.iter().any(|e| e.id == "1"));
    let integer_ids = report
        .issues
        .iter()
        .filter(|i| i.kind == IssueKind::IntegerId)
        .count();
    assert_eq!(integer_ids, 7);
    let dangling = report
        .issues
        .iter()
        .find(|i| i.kind == IssueKind::DanglingReference)
        .expect("dangling link reported");
    assert_eq!(
        dangling.location,
        Location::Row {
            table: "object_object".into(),
            row: 8
        }
    );

    let (ocel, _) = read_ocel_sqlite(&path, &options(OnError::Skip)).unwrap();
    assert_eq!(
        (
            ocel.events.len(),
            ocel.objects.len(),
            ocel.event_object.len(),
            ocel.object_object.len()
        ),
        (12, 8, 18, 6)
    );
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.xes");
    std::fs::write(&path, b"\x1f\x8bnot gzip at all").unwrap();
    assert!(read_xes(&path, &options(OnError::Skip)).is_err());
    std::fs::write(&path, b"<log><trace><event><<<").unwrap();
    assert!(read_xes(&path, &options(OnError::Skip)).is_ok());
    let sqlite = dir.path().join("garbage.sqlite");
    std::fs::write(&sqlite, b"plain text").unwrap();
    assert!(matches!(
        read_ocel_sqlite(&sqlite, &options(OnError::Skip)),
        Err(ImportError::Unsupported(_))
    ));
}

#[test]
fn xes_import_reports_progress() {
    use std::sync::{Arc, Mutex};
    type Calls = Arc<Mutex<Vec<(u64, Option<u64>)>>>;
    let seen: Calls = Arc::default();
    let recorder = seen.clone();
    let options = ImportOptions {
        progress: Some(Arc::new(move |read, total| {
            recorder.lock().unwrap().push((read, total))
        })),
        progress_every_bytes: 4096,
        ..ImportOptions::default()
    };
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/event-logs/running-example.xes");
    let path = std::env::var("EXOS_EVENT_LOGS")
        .map(|d| PathBuf::from(d).join("running-example.xes"))
        .unwrap_or(path);
    read_xes(&path, &options).unwrap();
    let calls = seen.lock().unwrap().clone();
    assert!(
        calls.len() >= 3,
        "progress called every 4 KiB of 15.9 KiB: {calls:?}"
    );
    assert!(
        calls.windows(2).all(|w| w[0].0 < w[1].0),
        "bytes read only grow"
    );
    assert!(
        calls.iter().all(|(read, total)| Some(*read) <= *total),
        "total is the file size"
    );
}

#[test]
fn xes_missing_case_id_policies() {
    let xes = br#"<log><trace><event><string key="concept:name" value="a"/></event></trace>
<trace><string key="concept:name" value="c2"/><event><date key="time:timestamp" value="2024-01-01T00:00:00Z"/></event></trace></log>"#;
    let (log, report) = exos_mining::import::xes::parse_xes(xes, &options(OnError::Skip)).unwrap();
    assert_eq!(log.case_ids, ["c2"], "the trace without an id is dropped");
    assert_eq!(
        log.event_count(),
        0,
        "the event without an activity is dropped"
    );
    assert_eq!(
        report.issues.iter().map(|i| i.kind).collect::<Vec<_>>(),
        [IssueKind::MissingValue, IssueKind::MissingValue]
    );

    let (log, _) = exos_mining::import::xes::parse_xes(xes, &options(OnError::Repair)).unwrap();
    assert_eq!(
        log.case_ids,
        ["case-0", "c2"],
        "a missing case id is generated"
    );

    match exos_mining::import::xes::parse_xes(xes, &options(OnError::Fail)) {
        Err(ImportError::Invalid(issue)) => assert_eq!(issue.location, text_location(1, 6)),
        other => panic!("expected an invalid-input error, got {other:?}"),
    }
}
