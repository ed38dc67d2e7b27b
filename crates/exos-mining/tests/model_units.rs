//! Log model, XES attribute kinds, CSV timestamp patterns and case
//! statistics on small hand-written inputs.

use exos_mining::analysis::{terminal_activities, throughput, throughput_ending, Bucket};
use exos_mining::export::write_xes;
use exos_mining::import::csv::{parse_csv, parse_timestamp, CsvMapping, TimestampFormat};
use exos_mining::import::xes::parse_xes;
use exos_mining::log::{AttrValue, NO_TIME};
use exos_mining::time::parse_iso8601;
use exos_mining::{ImportOptions, OnError};

const NESTED_XES: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1849-2016">
  <trace>
    <string key="concept:name" value="case &amp; 1"/>
    <event>
      <string key="concept:name" value="start"/>
      <string key="lifecycle:transition" value="start"/>
      <date key="time:timestamp" value="2024-01-01T10:00:00+01:00"/>
    </event>
    <event>
      <string key="concept:name" value="start"/>
      <string key="lifecycle:transition" value="complete"/>
      <date key="time:timestamp" value="2024-01-01T09:30:00Z"/>
      <list key="items">
        <values>
          <int key="qty" value="3"/>
          <string key="sku" value="A-1"/>
        </values>
      </list>
      <container key="address"><string key="city" value="Delft"/></container>
      <float key="amount" value="12.5"><string key="currency" value="EUR"/></float>
      <boolean key="urgent" value="true"/>
    </event>
    <event>
      <string key="concept:name" value="later"/>
    </event>
  </trace>
</log>"#;

fn strict() -> ImportOptions {
    ImportOptions {
        on_error: OnError::Fail,
        ..ImportOptions::default()
    }
}

#[test]
fn xes_nested_list_container_attributes() {
    let (log, _) = parse_xes(NESTED_XES.as_bytes(), &strict()).unwrap();
    assert_eq!(log.case_ids, ["case & 1"]);
    assert_eq!(log.event_count(), 3);
    assert_eq!(
        log.timestamp[2], NO_TIME,
        "an event without a timestamp is kept"
    );
    let attributes = log.attributes_of(1);
    let key = |name: &str| log.keys.get(name).unwrap();
    let items = attributes.iter().find(|a| a.key == key("items")).unwrap();
    let AttrValue::List(values) = &items.value else {
        panic!("items is a list: {items:?}")
    };
    assert_eq!(values.len(), 2);
    assert_eq!(values[0].value, AttrValue::Int(3));
    let amount = attributes.iter().find(|a| a.key == key("amount")).unwrap();
    assert_eq!(amount.value, AttrValue::Float(12.5));
    assert_eq!(amount.nested.len(), 1, "meta-attribute kept");
    assert!(attributes
        .iter()
        .any(|a| a.key == key("address") && matches!(a.value, AttrValue::Container(_))));
    assert!(attributes.iter().any(|a| a.value == AttrValue::Bool(true)));

    let mut written = Vec::new();
    write_xes(&log, &mut written).unwrap();
    let (back, _) = parse_xes(&written, &strict()).unwrap();
    let names = |l: &exos_mining::EventLog, e: usize| {
        l.attributes_of(e)
            .iter()
            .map(|a| l.keys.name(a.key).to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&back, 1), names(&log, 1), "attributes survive export");
    assert_eq!(back.case_ids, log.case_ids);
}

#[test]
fn lifecycle_pairing_sets_start_times() {
    let (log, _) = parse_xes(NESTED_XES.as_bytes(), &strict()).unwrap();
    let paired = log.pair_lifecycles();
    assert_eq!(
        paired.event_count(),
        2,
        "the start event is folded into its completion"
    );
    assert_eq!(
        paired.start[0],
        parse_iso8601("2024-01-01T09:00:00Z", 0).unwrap()
    );
    assert_eq!(
        paired.timestamp[0],
        parse_iso8601("2024-01-01T09:30:00Z", 0).unwrap()
    );
}

#[test]
fn csv_pattern_timestamps() {
    let pattern = TimestampFormat::Pattern("%d-%m-%Y %H:%M".into());
    assert_eq!(
        parse_timestamp("31-12-2023 23:15", &pattern, 0),
        parse_iso8601("2023-12-31T23:15:00Z", 0)
    );
    assert_eq!(
        parse_timestamp("31-12-2023 23:15", &pattern, 3600),
        parse_iso8601("2023-12-31T22:15:00Z", 0)
    );
    let zoned = TimestampFormat::Pattern("%Y/%m/%d %H:%M:%S %z".into());
    assert_eq!(
        parse_timestamp("2023/12/31 23:15:00 +0200", &zoned, 0),
        parse_iso8601("2023-12-31T21:15:00Z", 0)
    );
    assert_eq!(parse_timestamp("yesterday", &pattern, 0), None);

    let csv =
        "order;step;when;started\no1;a;01-01-2024 10:00;01-01-2024 09:00\no1;b;01-01-2024 11:00;\n";
    let mapping = CsvMapping {
        case: "order".into(),
        activity: "step".into(),
        timestamp: "when".into(),
        start_timestamp: Some("started".into()),
        resource: None,
        lifecycle: None,
        delimiter: b';',
        format: pattern,
    };
    let (log, report) = parse_csv(csv.as_bytes(), &mapping, &strict()).unwrap();
    assert_eq!(report.issue_count, 0);
    assert_eq!(log.event_count(), 2);
    assert_eq!(
        log.start[0],
        parse_iso8601("2024-01-01T09:00:00Z", 0).unwrap()
    );
    assert_eq!(log.start[1], NO_TIME);
}

#[test]
fn running_cases_are_not_completed() {
    // a and b end at `close`, which no case goes on after. c stops at `check`,
    // which a went on after, so c is still running. d ends at `cancel`.
    let csv = "case:concept:name,concept:name,time:timestamp\n\
               a,open,2024-01-01T10:00:00Z\na,check,2024-01-01T11:00:00Z\na,close,2024-01-02T10:00:00Z\n\
               b,open,2024-01-01T12:00:00Z\nb,close,2024-01-01T13:00:00Z\n\
               c,open,2024-01-02T09:00:00Z\nc,check,2024-01-02T11:00:00Z\n\
               d,open,2024-01-02T12:00:00Z\nd,cancel,2024-01-02T13:00:00Z\n";
    let (log, _) = parse_csv(csv.as_bytes(), &CsvMapping::default(), &strict()).unwrap();

    let ends = terminal_activities(&log);
    let mut names: Vec<&str> = (0..ends.len())
        .filter(|&id| ends[id])
        .map(|id| log.activity_name(id as u32))
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["cancel", "close"]);

    let days = throughput_ending(&log, Bucket::Day, Some(&ends));
    let completed: Vec<(u64, u64)> = days
        .iter()
        .map(|day| (day.cases_started, day.cases_completed))
        .collect();
    assert_eq!(completed, [(2, 1), (2, 2)]);
    let all_ends: Vec<(u64, u64)> = throughput(&log, Bucket::Day)
        .iter()
        .map(|day| (day.cases_started, day.cases_completed))
        .collect();
    assert_eq!(
        all_ends,
        [(2, 1), (2, 3)],
        "without end activities, c completes at its last event"
    );
}

#[test]
fn throughput_counts_per_day() {
    let csv = "case:concept:name,concept:name,time:timestamp\n\
               a,x,2024-01-01T10:00:00Z\na,y,2024-01-02T10:00:00Z\n\
               b,x,2024-01-01T23:00:00Z\nb,y,2024-01-01T23:30:00Z\n";
    let (log, _) = parse_csv(csv.as_bytes(), &CsvMapping::default(), &strict()).unwrap();
    let days = throughput(&log, Bucket::Day);
    assert_eq!(days.len(), 2);
    assert_eq!(
        (
            days[0].cases_started,
            days[0].cases_completed,
            days[0].events
        ),
        (2, 1, 3)
    );
    assert_eq!(
        (
            days[1].cases_started,
            days[1].cases_completed,
            days[1].events
        ),
        (0, 1, 1)
    );
    let weeks = throughput(&log, Bucket::Week);
    assert_eq!(
        weeks.len(),
        1,
        "2024-01-01 is a Monday, both days fall in its week"
    );
    assert_eq!(
        weeks[0].start,
        parse_iso8601("2024-01-01T00:00:00Z", 0).unwrap()
    );
}
