//! Conversions between the mining models and the store's event-log rows.
//!
//! The store keeps every log object-centric ([`EventLogRows`]). An OCEL log
//! maps one to one. A classic log ([`EventLog`]) becomes an OCEL log with one
//! object type, [`CASE_TYPE`]: each case is an object whose initial attribute
//! values are the case attributes, each event is linked to its case with the
//! qualifier [`CASE_TYPE`], and the resource, lifecycle transition and start
//! time become the event attributes `org:resource`, `lifecycle:transition`
//! and `start_timestamp`, as PM4Py names them. Flattening on an object type
//! ([`flatten`]) turns any OCEL log back into a classic one, as PM4Py's
//! `ocel_flattening` does.

use exos_mining::log::{AttrValue, Attribute, EventFields, LogBuilder, NO_SYM, NO_TIME};
use exos_mining::ocel::{
    EventObjectLink, ObjectAttribute, ObjectObjectLink, Ocel, OcelEvent, OcelObject, OcelValue,
};
use exos_mining::time::{format_rfc3339, parse_iso8601};
use exos_mining::EventLog;
use exos_store::eventlogs::{LogAttributeRow, LogEventRow, LogLinkRow, LogObjectRow};
use exos_store::EventLogRows;
use rustc_hash::FxHashMap;

/// Object type of the cases of a classic log.
pub const CASE_TYPE: &str = "case";
/// Event attribute that carries a classic event's resource.
pub const RESOURCE: &str = "org:resource";
/// Event attribute that carries a classic event's lifecycle transition.
pub const LIFECYCLE: &str = "lifecycle:transition";
/// Event attribute that carries a classic event's start time.
pub const START: &str = "start_timestamp";

fn time_option(time: i64) -> Option<i64> {
    (time != NO_TIME).then_some(time)
}

/// Returns the OCEL type name and text of a value.
fn value_text(value: &OcelValue) -> (&'static str, String) {
    match value {
        OcelValue::Str(text) => ("string", text.clone()),
        OcelValue::Int(number) => ("integer", number.to_string()),
        OcelValue::Float(number) => ("float", number.to_string()),
        OcelValue::Bool(flag) => ("boolean", flag.to_string()),
        OcelValue::Time(time) => ("time", format_rfc3339(*time)),
    }
}

/// Parses a stored value back; text that does not parse as its type stays text.
fn parse_value(value_type: &str, text: &str) -> OcelValue {
    let parsed = match value_type {
        "integer" => text.parse().ok().map(OcelValue::Int),
        "float" => text.parse().ok().map(OcelValue::Float),
        "boolean" => text.parse().ok().map(OcelValue::Bool),
        "time" => parse_iso8601(text, 0).map(OcelValue::Time),
        _ => None,
    };
    parsed.unwrap_or_else(|| OcelValue::Str(text.to_string()))
}

/// Converts an OCEL log to store rows.
pub fn ocel_to_rows(ocel: &Ocel) -> EventLogRows {
    let mut rows = EventLogRows::default();
    for event in &ocel.events {
        rows.events.push(LogEventRow {
            event_id: event.id.clone(),
            event_type: ocel.event_types[event.event_type].name.clone(),
            time_us: time_option(event.time),
        });
        for (name, value) in &event.attributes {
            let (value_type, value) = value_text(value);
            rows.event_attributes.push(LogAttributeRow {
                owner_id: event.id.clone(),
                name: name.clone(),
                time_us: None,
                value_type: value_type.into(),
                value,
            });
        }
    }
    for object in &ocel.objects {
        rows.objects.push(LogObjectRow {
            object_id: object.id.clone(),
            object_type: ocel.object_types[object.object_type].name.clone(),
        });
        for attribute in &object.attributes {
            let (value_type, value) = value_text(&attribute.value);
            rows.object_attributes.push(LogAttributeRow {
                owner_id: object.id.clone(),
                name: attribute.name.clone(),
                time_us: time_option(attribute.time),
                value_type: value_type.into(),
                value,
            });
        }
    }
    rows.event_objects = ocel
        .event_object
        .iter()
        .map(|link| LogLinkRow {
            source_id: ocel.events[link.event].id.clone(),
            target_id: ocel.objects[link.object].id.clone(),
            qualifier: link.qualifier.clone(),
        })
        .collect();
    rows.object_objects = ocel
        .object_object
        .iter()
        .map(|link| LogLinkRow {
            source_id: ocel.objects[link.source].id.clone(),
            target_id: ocel.objects[link.target].id.clone(),
            qualifier: link.qualifier.clone(),
        })
        .collect();
    rows
}

/// Adds `name: value_type` to a type declaration unless it is there already.
fn declare(attributes: &mut Vec<(String, String)>, name: &str, value_type: &str) {
    if !attributes.iter().any(|(known, _)| known == name) {
        attributes.push((name.to_string(), value_type.to_string()));
    }
}

/// Rebuilds an OCEL log from store rows. Links naming an unknown id are dropped
/// (the importer already dropped them, so none are expected).
pub fn rows_to_ocel(rows: &EventLogRows) -> Ocel {
    let mut ocel = Ocel::default();
    let mut event_index: FxHashMap<&str, usize> = FxHashMap::default();
    for row in &rows.events {
        let event_type = ocel.event_type_index(&row.event_type);
        event_index.insert(&row.event_id, ocel.events.len());
        ocel.events.push(OcelEvent {
            id: row.event_id.clone(),
            event_type,
            time: row.time_us.unwrap_or(NO_TIME),
            attributes: Vec::new(),
        });
    }
    let mut object_index: FxHashMap<&str, usize> = FxHashMap::default();
    for row in &rows.objects {
        let object_type = ocel.object_type_index(&row.object_type);
        object_index.insert(&row.object_id, ocel.objects.len());
        ocel.objects.push(OcelObject {
            id: row.object_id.clone(),
            object_type,
            attributes: Vec::new(),
        });
    }
    for row in &rows.event_attributes {
        let Some(&index) = event_index.get(row.owner_id.as_str()) else {
            continue;
        };
        let event = &mut ocel.events[index];
        event
            .attributes
            .push((row.name.clone(), parse_value(&row.value_type, &row.value)));
        declare(
            &mut ocel.event_types[event.event_type].attributes,
            &row.name,
            &row.value_type,
        );
    }
    for row in &rows.object_attributes {
        let Some(&index) = object_index.get(row.owner_id.as_str()) else {
            continue;
        };
        let object = &mut ocel.objects[index];
        object.attributes.push(ObjectAttribute {
            name: row.name.clone(),
            time: row.time_us.unwrap_or(0),
            value: parse_value(&row.value_type, &row.value),
        });
        declare(
            &mut ocel.object_types[object.object_type].attributes,
            &row.name,
            &row.value_type,
        );
    }
    for row in &rows.event_objects {
        if let (Some(&event), Some(&object)) = (
            event_index.get(row.source_id.as_str()),
            object_index.get(row.target_id.as_str()),
        ) {
            ocel.event_object.push(EventObjectLink {
                event,
                object,
                qualifier: row.qualifier.clone(),
            });
        }
    }
    for row in &rows.object_objects {
        if let (Some(&source), Some(&target)) = (
            object_index.get(row.source_id.as_str()),
            object_index.get(row.target_id.as_str()),
        ) {
            ocel.object_object.push(ObjectObjectLink {
                source,
                target,
                qualifier: row.qualifier.clone(),
            });
        }
    }
    ocel
}

/// Converts a classic attribute value; lists and containers become their
/// values joined as text, since OCEL attributes are flat.
fn attribute_value(log: &EventLog, value: &AttrValue) -> OcelValue {
    match value {
        AttrValue::Str(symbol) | AttrValue::Id(symbol) => {
            OcelValue::Str(log.values.name(*symbol).to_string())
        }
        AttrValue::Int(number) => OcelValue::Int(*number),
        AttrValue::Float(number) => OcelValue::Float(*number),
        AttrValue::Bool(flag) => OcelValue::Bool(*flag),
        AttrValue::Time(time) => OcelValue::Time(*time),
        AttrValue::List(items) | AttrValue::Container(items) => {
            let parts: Vec<String> = items
                .iter()
                .map(|item| {
                    let (_, text) = value_text(&attribute_value(log, &item.value));
                    format!("{}={text}", log.keys.name(item.key))
                })
                .collect();
            OcelValue::Str(parts.join(";"))
        }
    }
}

fn classic_event_attributes(log: &EventLog, event: usize) -> Vec<(String, OcelValue)> {
    let mut attributes = Vec::new();
    if log.resource[event] != NO_SYM {
        let resource = log.resources.name(log.resource[event]);
        attributes.push((RESOURCE.to_string(), OcelValue::Str(resource.to_string())));
    }
    if log.lifecycle[event] != NO_SYM {
        let lifecycle = log.lifecycles.name(log.lifecycle[event]);
        attributes.push((LIFECYCLE.to_string(), OcelValue::Str(lifecycle.to_string())));
    }
    if log.start[event] != NO_TIME {
        attributes.push((START.to_string(), OcelValue::Time(log.start[event])));
    }
    for attribute in log.attributes_of(event) {
        let name = log.keys.name(attribute.key).to_string();
        attributes.push((name, attribute_value(log, &attribute.value)));
    }
    attributes
}

/// Converts a classic log: one `case` object per case, events linked to it.
/// Event ids are `e1`, `e2`, … in log order, since XES and CSV events have none.
pub fn event_log_to_ocel(log: &EventLog) -> Ocel {
    let mut ocel = Ocel::default();
    let case_type = ocel.object_type_index(CASE_TYPE);
    for case in 0..log.case_count() {
        let object = ocel.objects.len();
        let attributes = log.case_attributes[case]
            .iter()
            .map(|attribute| ObjectAttribute {
                name: log.keys.name(attribute.key).to_string(),
                time: 0,
                value: attribute_value(log, &attribute.value),
            })
            .collect();
        ocel.objects.push(OcelObject {
            id: log.case_ids[case].clone(),
            object_type: case_type,
            attributes,
        });
        for event in log.case_range(case) {
            let event_type = ocel.event_type_index(log.activity_name(log.activity[event]));
            ocel.event_object.push(EventObjectLink {
                event: ocel.events.len(),
                object,
                qualifier: CASE_TYPE.to_string(),
            });
            ocel.events.push(OcelEvent {
                id: format!("e{}", ocel.events.len() + 1),
                event_type,
                time: log.timestamp[event],
                attributes: classic_event_attributes(log, event),
            });
        }
    }
    ocel
}

fn text_of(value: &OcelValue) -> String {
    value_text(value).1
}

fn to_attribute(builder: &mut LogBuilder, name: &str, value: &OcelValue) -> Attribute {
    let log = builder.log_mut();
    let key = log.keys.intern(name);
    let value = match value {
        OcelValue::Str(text) => AttrValue::Str(log.values.intern(text)),
        OcelValue::Int(number) => AttrValue::Int(*number),
        OcelValue::Float(number) => AttrValue::Float(*number),
        OcelValue::Bool(flag) => AttrValue::Bool(*flag),
        OcelValue::Time(time) => AttrValue::Time(*time),
    };
    Attribute {
        key,
        value,
        nested: Vec::new(),
    }
}

/// Splits an OCEL event's attributes into classic fields and other attributes.
fn event_fields(
    builder: &mut LogBuilder,
    ocel: &Ocel,
    event: &OcelEvent,
) -> (EventFields, Vec<Attribute>) {
    let mut fields = EventFields {
        activity: builder.intern_activity(&ocel.event_types[event.event_type].name),
        timestamp: event.time,
        start: NO_TIME,
        resource: NO_SYM,
        lifecycle: NO_SYM,
    };
    let mut attributes = Vec::new();
    for (name, value) in &event.attributes {
        match (name.as_str(), value) {
            (RESOURCE, _) => fields.resource = builder.log_mut().resources.intern(&text_of(value)),
            (LIFECYCLE, _) => {
                fields.lifecycle = builder.log_mut().lifecycles.intern(&text_of(value))
            }
            (START, OcelValue::Time(time)) => fields.start = *time,
            _ => attributes.push(to_attribute(builder, name, value)),
        }
    }
    (fields, attributes)
}

/// Flattens an OCEL log on one object type: each object of that type is a
/// case of the events linked to it (once, whatever the number of qualifiers),
/// ordered by time then file order. Objects without events are left out, as
/// PM4Py's flattening leaves them out. The object's latest value of each
/// attribute becomes a case attribute.
pub fn flatten(ocel: &Ocel, object_type: &str) -> EventLog {
    let mut builder = LogBuilder::default();
    let Some(type_index) = ocel.object_types.iter().position(|t| t.name == object_type) else {
        return builder.finish();
    };
    let mut events_of: Vec<Vec<usize>> = vec![Vec::new(); ocel.objects.len()];
    for link in &ocel.event_object {
        events_of[link.object].push(link.event);
    }
    for (index, object) in ocel.objects.iter().enumerate() {
        if object.object_type != type_index || events_of[index].is_empty() {
            continue;
        }
        let mut events = std::mem::take(&mut events_of[index]);
        events.sort_by_key(|&e| (ocel.events[e].time, e));
        events.dedup();
        let mut latest: Vec<&ObjectAttribute> = Vec::new();
        for attribute in &object.attributes {
            match latest.iter_mut().find(|known| known.name == attribute.name) {
                Some(known) if known.time <= attribute.time => *known = attribute,
                Some(_) => {}
                None => latest.push(attribute),
            }
        }
        let case_attributes = latest
            .iter()
            .map(|a| to_attribute(&mut builder, &a.name, &a.value))
            .collect();
        builder.begin_case(object.id.clone(), case_attributes);
        for event in events {
            let (fields, mut attributes) = event_fields(&mut builder, ocel, &ocel.events[event]);
            builder.push_event(&fields, &mut attributes);
        }
        builder.end_case();
    }
    builder.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Ocel {
        let mut ocel = Ocel::default();
        let order = ocel.object_type_index("order");
        let item = ocel.object_type_index("item");
        let place = ocel.event_type_index("place");
        let pick = ocel.event_type_index("pick");
        ocel.objects = vec![
            OcelObject {
                id: "o1".into(),
                object_type: order,
                attributes: vec![ObjectAttribute {
                    name: "price".into(),
                    time: 0,
                    value: OcelValue::Float(9.5),
                }],
            },
            OcelObject {
                id: "i1".into(),
                object_type: item,
                attributes: Vec::new(),
            },
        ];
        ocel.events = vec![
            OcelEvent {
                id: "e1".into(),
                event_type: place,
                time: 1_000_000,
                attributes: vec![("clerk".into(), OcelValue::Str("ann".into()))],
            },
            OcelEvent {
                id: "e2".into(),
                event_type: pick,
                time: 2_000_000,
                attributes: Vec::new(),
            },
        ];
        ocel.event_object = vec![
            EventObjectLink {
                event: 0,
                object: 0,
                qualifier: "placed".into(),
            },
            EventObjectLink {
                event: 0,
                object: 1,
                qualifier: "contains".into(),
            },
            EventObjectLink {
                event: 0,
                object: 1,
                qualifier: "reserved".into(),
            },
            EventObjectLink {
                event: 1,
                object: 1,
                qualifier: "picked".into(),
            },
        ];
        ocel.object_object = vec![
            ObjectObjectLink {
                source: 0,
                target: 1,
                qualifier: "has".into(),
            },
            ObjectObjectLink {
                source: 0,
                target: 1,
                qualifier: "ships".into(),
            },
        ];
        ocel
    }

    #[test]
    fn rows_round_trip_keeps_every_link() {
        let ocel = sample();
        let back = rows_to_ocel(&ocel_to_rows(&ocel));
        assert_eq!(back.events, ocel.events);
        assert_eq!(back.objects, ocel.objects);
        assert_eq!(back.event_object, ocel.event_object);
        assert_eq!(back.object_object, ocel.object_object);
    }

    #[test]
    fn flatten_counts_multi_qualifier_event_once() {
        let log = flatten(&sample(), "item");
        assert_eq!(log.case_ids, vec!["i1".to_string()]);
        let trace: Vec<&str> = log.trace(0).iter().map(|&a| log.activity_name(a)).collect();
        assert_eq!(trace, vec!["place", "pick"]);
    }

    #[test]
    fn classic_log_round_trips_through_case_objects() {
        let ocel = sample();
        let flat = flatten(&ocel, "order");
        let back = event_log_to_ocel(&flat);
        assert_eq!(back.objects.len(), 1);
        assert_eq!(back.objects[0].attributes[0].value, OcelValue::Float(9.5));
        assert_eq!(
            back.events[0].attributes,
            vec![("clerk".to_string(), OcelValue::Str("ann".into()))]
        );
        let again = flatten(&back, CASE_TYPE);
        assert_eq!(again.case_ids, flat.case_ids);
        assert_eq!(again.timestamp, flat.timestamp);
    }
}
