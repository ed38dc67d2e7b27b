//! OCEL 2.0 JSON importer (`objectTypes`, `eventTypes`, `objects`,
//! `events`, with `relationships` lists on objects and events).

use std::path::Path;

use serde_json::Value;

use super::{
    drop_duplicate_ids, ObjectAttribute, Ocel, OcelEvent, OcelObject, OcelValue, PendingLinks,
    TypeDeclaration,
};
use crate::import::{
    read_file_bytes, ImportError, ImportOptions, ImportReport, IssueKind, IssueSink, Location,
    OnError,
};
use crate::log::NO_TIME;
use crate::time::parse_iso8601;

/// Reads an OCEL 2.0 JSON file (gzip allowed).
pub fn read_ocel_json(
    path: &Path,
    options: &ImportOptions,
) -> Result<(Ocel, ImportReport), ImportError> {
    parse_ocel_json(&read_file_bytes(path)?, options)
}

/// Parses an OCEL 2.0 JSON document.
///
/// NOTE: a document that is not valid JSON (a truncated file, for one) is
/// reported with its line and column and rejected under every policy,
/// because the whole-document parser cannot resume after the error.
pub fn parse_ocel_json(
    bytes: &[u8],
    options: &ImportOptions,
) -> Result<(Ocel, ImportReport), ImportError> {
    let mut sink = IssueSink::new(options);
    let document: Value = serde_json::from_slice(bytes).map_err(|error| {
        let location = Location::Text {
            line: error.line() as u64,
            column: error.column() as u64,
        };
        ImportError::Invalid(crate::Issue {
            kind: IssueKind::Malformed,
            location,
            message: format!("invalid JSON: {error}"),
        })
    })?;
    let mut reader = JsonReader {
        sink: &mut sink,
        options,
        ocel: Ocel::default(),
        links: PendingLinks::default(),
    };
    reader.ocel.event_types = reader.types(&document, "eventTypes");
    reader.ocel.object_types = reader.types(&document, "objectTypes");
    for (index, object) in array(&document, "objects").iter().enumerate() {
        reader.object(object, index)?;
    }
    for (index, event) in array(&document, "events").iter().enumerate() {
        reader.event(event, index)?;
    }
    let JsonReader {
        mut ocel, links, ..
    } = reader;
    drop_duplicate_ids(&mut ocel, &mut sink)?;
    links.resolve(&mut ocel, &mut sink)?;
    let mut report = sink.report;
    report.cases = ocel.objects.len();
    report.events = ocel.events.len();
    Ok((ocel, report))
}

fn array<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value
        .get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

struct JsonReader<'a> {
    sink: &'a mut IssueSink,
    options: &'a ImportOptions,
    ocel: Ocel,
    links: PendingLinks,
}

impl JsonReader<'_> {
    fn types(&self, document: &Value, key: &str) -> Vec<TypeDeclaration> {
        array(document, key)
            .iter()
            .map(|t| TypeDeclaration {
                name: t
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                attributes: array(t, "attributes")
                    .iter()
                    .map(|a| (text(a.get("name")), text(a.get("type"))))
                    .collect(),
            })
            .collect()
    }

    /// Reads an id that should be text. Integers are reported; they are
    /// repaired to their decimal text or the record is skipped.
    fn id(&mut self, value: Option<&Value>, path: &str) -> Result<Option<String>, ImportError> {
        match value {
            Some(Value::String(id)) => Ok(Some(id.clone())),
            Some(Value::Number(number)) => {
                let message = format!("id {number} is a number, expected a string");
                if self.sink.raise(
                    IssueKind::IntegerId,
                    Location::Json(path.to_string()),
                    message,
                )? == OnError::Repair
                {
                    self.sink.repaired();
                    return Ok(Some(number.to_string()));
                }
                self.sink.skipped();
                Ok(None)
            }
            other => {
                let message = format!(
                    "missing or invalid id {:?}",
                    other.map(Value::to_string).unwrap_or_default()
                );
                self.sink.raise(
                    IssueKind::MissingValue,
                    Location::Json(path.to_string()),
                    message,
                )?;
                self.sink.skipped();
                Ok(None)
            }
        }
    }

    fn time(&mut self, value: Option<&Value>, path: &str) -> Result<Option<i64>, ImportError> {
        let text = value.and_then(Value::as_str).unwrap_or_default();
        if let Some(time) = parse_iso8601(text, self.options.default_offset_seconds) {
            return Ok(Some(time));
        }
        let message = format!("invalid timestamp {text:?}");
        if self.sink.raise(
            IssueKind::BadTimestamp,
            Location::Json(path.to_string()),
            message,
        )? == OnError::Repair
        {
            self.sink.repaired();
            return Ok(Some(NO_TIME));
        }
        self.sink.skipped();
        Ok(None)
    }

    fn object(&mut self, object: &Value, index: usize) -> Result<(), ImportError> {
        let path = format!("objects[{index}]");
        let Some(id) = self.id(object.get("id"), &format!("{path}.id"))? else {
            return Ok(());
        };
        let object_type = self.ocel.object_type_index(
            object
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or_default(),
        );
        let mut attributes = Vec::new();
        for (a, attribute) in array(object, "attributes").iter().enumerate() {
            let attribute_path = format!("{path}.attributes[{a}].time");
            let time = match attribute.get("time") {
                None => 0,
                Some(value) => match self.time(Some(value), &attribute_path)? {
                    Some(time) => time,
                    None => continue,
                },
            };
            attributes.push(ObjectAttribute {
                name: text(attribute.get("name")),
                time,
                value: value_of(attribute.get("value")),
            });
        }
        for (r, relationship) in array(object, "relationships").iter().enumerate() {
            let link_path = format!("{path}.relationships[{r}]");
            let Some(target) = self.id(
                relationship.get("objectId"),
                &format!("{link_path}.objectId"),
            )?
            else {
                continue;
            };
            self.links.object_object.push((
                id.clone(),
                target,
                text(relationship.get("qualifier")),
                Location::Json(link_path),
            ));
        }
        self.ocel.objects.push(OcelObject {
            id,
            object_type,
            attributes,
        });
        Ok(())
    }

    fn event(&mut self, event: &Value, index: usize) -> Result<(), ImportError> {
        let path = format!("events[{index}]");
        let Some(id) = self.id(event.get("id"), &format!("{path}.id"))? else {
            return Ok(());
        };
        let Some(time) = self.time(event.get("time"), &format!("{path}.time"))? else {
            return Ok(());
        };
        let event_type = self.ocel.event_type_index(
            event
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or_default(),
        );
        let attributes = array(event, "attributes")
            .iter()
            .map(|a| (text(a.get("name")), value_of(a.get("value"))))
            .collect();
        for (r, relationship) in array(event, "relationships").iter().enumerate() {
            let link_path = format!("{path}.relationships[{r}]");
            let Some(object) = self.id(
                relationship.get("objectId"),
                &format!("{link_path}.objectId"),
            )?
            else {
                continue;
            };
            self.links.event_object.push((
                id.clone(),
                object,
                text(relationship.get("qualifier")),
                Location::Json(link_path),
            ));
        }
        self.ocel.events.push(OcelEvent {
            id,
            event_type,
            time,
            attributes,
        });
        Ok(())
    }
}

fn text(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn value_of(value: Option<&Value>) -> OcelValue {
    match value {
        Some(Value::Bool(b)) => OcelValue::Bool(*b),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(OcelValue::Int)
            .unwrap_or_else(|| OcelValue::Float(n.as_f64().unwrap_or(f64::NAN))),
        other => OcelValue::Str(text(other)),
    }
}
