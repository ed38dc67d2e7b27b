//! OCEL 2.0 JSON export, in the layout the importer and PM4Py read.

use std::io::Write;

use serde_json::{json, Map, Value};

use super::{Ocel, OcelValue};
use crate::log::NO_TIME;
use crate::time::format_rfc3339;

/// Writes `ocel` as OCEL 2.0 JSON. Every qualified link is written, so a
/// pair linked under two qualifiers stays linked twice.
pub fn write_ocel_json(ocel: &Ocel, out: &mut impl Write) -> std::io::Result<()> {
    serde_json::to_writer(out, &to_json(ocel)).map_err(std::io::Error::other)
}

fn value(value: &OcelValue) -> Value {
    match value {
        OcelValue::Str(text) => json!(text),
        OcelValue::Int(number) => json!(number),
        OcelValue::Float(number) => json!(number),
        OcelValue::Bool(flag) => json!(flag),
        OcelValue::Time(time) => json!(time_text(*time)),
    }
}

/// NOTE: an event imported without a valid time (kept under
/// `OnError::Repair`) is written at the Unix epoch, since OCEL requires a
/// time.
fn time_text(time: i64) -> String {
    format_rfc3339(if time == NO_TIME { 0 } else { time })
}

fn to_json(ocel: &Ocel) -> Value {
    let types = |types: &[super::TypeDeclaration]| -> Vec<Value> {
        types
            .iter()
            .map(|t| json!({"name": t.name, "attributes": t.attributes.iter().map(|(n, k)| json!({"name": n, "type": k})).collect::<Vec<_>>()}))
            .collect()
    };
    let mut object_links: Vec<Vec<Value>> = vec![Vec::new(); ocel.objects.len()];
    for link in &ocel.object_object {
        object_links[link.source]
            .push(json!({"objectId": ocel.objects[link.target].id, "qualifier": link.qualifier}));
    }
    let mut event_links: Vec<Vec<Value>> = vec![Vec::new(); ocel.events.len()];
    for link in &ocel.event_object {
        event_links[link.event]
            .push(json!({"objectId": ocel.objects[link.object].id, "qualifier": link.qualifier}));
    }
    let objects: Vec<Value> = ocel
        .objects
        .iter()
        .zip(object_links)
        .map(|(object, relationships)| {
            let attributes: Vec<Value> = object.attributes.iter().map(|a| json!({"name": a.name, "time": time_text(a.time), "value": value(&a.value)})).collect();
            json!({"id": object.id, "type": ocel.object_types[object.object_type].name, "attributes": attributes, "relationships": relationships})
        })
        .collect();
    let events: Vec<Value> = ocel
        .events
        .iter()
        .zip(event_links)
        .map(|(event, relationships)| {
            let attributes: Vec<Value> = event.attributes.iter().map(|(n, v)| json!({"name": n, "value": value(v)})).collect();
            json!({"id": event.id, "type": ocel.event_types[event.event_type].name, "time": time_text(event.time), "attributes": attributes, "relationships": relationships})
        })
        .collect();
    let mut document = Map::new();
    document.insert(
        "objectTypes".into(),
        Value::Array(types(&ocel.object_types)),
    );
    document.insert("eventTypes".into(), Value::Array(types(&ocel.event_types)));
    document.insert("objects".into(), Value::Array(objects));
    document.insert("events".into(), Value::Array(events));
    Value::Object(document)
}
