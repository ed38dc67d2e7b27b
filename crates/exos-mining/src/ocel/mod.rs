//! Object-centric event logs (OCEL 2.0): model, import from the JSON, XML
//! and SQLite exchange formats, export to JSON, and basic analyses.
//!
//! An event has a type, a time and attributes, and is linked to objects
//! with a qualifier. An object has a type, attributes whose values may
//! change over time, and qualified links to other objects. One pair may be
//! linked under several qualifiers, so links are kept as a list, never a
//! map. Ids are text; an integer id in a file is reported and read as its
//! decimal text under [`OnError::Repair`](crate::OnError::Repair).

pub mod export;
pub mod json;
pub mod sqlite;
pub mod stats;
pub mod xml;

use rustc_hash::FxHashMap;

use crate::log::Timestamp;

/// An attribute value of an event or object.
#[derive(Debug, Clone, PartialEq)]
pub enum OcelValue {
    /// Text.
    Str(String),
    /// Integer.
    Int(i64),
    /// Floating point number.
    Float(f64),
    /// Boolean.
    Bool(bool),
    /// Date-time.
    Time(Timestamp),
}

/// A declared event or object type with its attribute names and types
/// (`string`, `integer`, `float`, `boolean`, `time`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TypeDeclaration {
    /// Type name.
    pub name: String,
    /// (attribute name, attribute type).
    pub attributes: Vec<(String, String)>,
}

/// One event.
#[derive(Debug, Clone, PartialEq)]
pub struct OcelEvent {
    /// Event id.
    pub id: String,
    /// Index into [`Ocel::event_types`].
    pub event_type: usize,
    /// When it happened.
    pub time: Timestamp,
    /// Attribute values by name.
    pub attributes: Vec<(String, OcelValue)>,
}

/// One value of an object attribute, valid from `time` on.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectAttribute {
    /// Attribute name.
    pub name: String,
    /// Time the value was set (the epoch for initial values).
    pub time: Timestamp,
    /// The value.
    pub value: OcelValue,
}

/// One object.
#[derive(Debug, Clone, PartialEq)]
pub struct OcelObject {
    /// Object id.
    pub id: String,
    /// Index into [`Ocel::object_types`].
    pub object_type: usize,
    /// Attribute values over time, in file order.
    pub attributes: Vec<ObjectAttribute>,
}

/// A qualified link from an event to an object (indices into the lists).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EventObjectLink {
    /// Index into [`Ocel::events`].
    pub event: usize,
    /// Index into [`Ocel::objects`].
    pub object: usize,
    /// Qualifier (may be empty).
    pub qualifier: String,
}

/// A qualified link between two objects (indices into [`Ocel::objects`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectObjectLink {
    /// Source object.
    pub source: usize,
    /// Target object.
    pub target: usize,
    /// Qualifier (may be empty).
    pub qualifier: String,
}

/// An OCEL 2.0 log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ocel {
    /// Event types.
    pub event_types: Vec<TypeDeclaration>,
    /// Object types.
    pub object_types: Vec<TypeDeclaration>,
    /// Events.
    pub events: Vec<OcelEvent>,
    /// Objects.
    pub objects: Vec<OcelObject>,
    /// Event-to-object links.
    pub event_object: Vec<EventObjectLink>,
    /// Object-to-object links.
    pub object_object: Vec<ObjectObjectLink>,
}

impl Ocel {
    /// Index of an event type, added when unknown.
    pub fn event_type_index(&mut self, name: &str) -> usize {
        type_index(&mut self.event_types, name)
    }

    /// Index of an object type, added when unknown.
    pub fn object_type_index(&mut self, name: &str) -> usize {
        type_index(&mut self.object_types, name)
    }
}

fn type_index(types: &mut Vec<TypeDeclaration>, name: &str) -> usize {
    if let Some(index) = types.iter().position(|t| t.name == name) {
        return index;
    }
    types.push(TypeDeclaration {
        name: name.to_string(),
        attributes: Vec::new(),
    });
    types.len() - 1
}

/// Links read from a file, by id, resolved once all events and objects are
/// known (files may name an object before declaring it).
#[derive(Debug, Default)]
pub(crate) struct PendingLinks {
    /// (event id, object id, qualifier, location).
    pub(crate) event_object: Vec<(String, String, String, crate::Location)>,
    /// (source id, target id, qualifier, location).
    pub(crate) object_object: Vec<(String, String, String, crate::Location)>,
}

impl PendingLinks {
    /// Resolves ids to indices. A link naming an unknown event or object is
    /// a dangling reference and is dropped, because nothing could repair it.
    pub(crate) fn resolve(
        self,
        ocel: &mut Ocel,
        sink: &mut crate::import::IssueSink,
    ) -> Result<(), crate::ImportError> {
        let events: FxHashMap<&str, usize> = ocel
            .events
            .iter()
            .enumerate()
            .map(|(i, e)| (e.id.as_str(), i))
            .collect();
        let objects: FxHashMap<&str, usize> = ocel
            .objects
            .iter()
            .enumerate()
            .map(|(i, o)| (o.id.as_str(), i))
            .collect();
        let mut event_object = Vec::with_capacity(self.event_object.len());
        for (event_id, object_id, qualifier, location) in self.event_object {
            match (
                events.get(event_id.as_str()),
                objects.get(object_id.as_str()),
            ) {
                (Some(&event), Some(&object)) => event_object.push(EventObjectLink {
                    event,
                    object,
                    qualifier,
                }),
                (event, _) => {
                    let missing = if event.is_none() {
                        format!("event {event_id:?}")
                    } else {
                        format!("object {object_id:?}")
                    };
                    sink.raise(crate::IssueKind::DanglingReference, location, format!("link from event {event_id:?} to object {object_id:?} names unknown {missing}; the link is dropped"))?;
                    sink.skipped();
                }
            }
        }
        let mut object_object = Vec::with_capacity(self.object_object.len());
        for (source_id, target_id, qualifier, location) in self.object_object {
            match (
                objects.get(source_id.as_str()),
                objects.get(target_id.as_str()),
            ) {
                (Some(&source), Some(&target)) => object_object.push(ObjectObjectLink {
                    source,
                    target,
                    qualifier,
                }),
                (source, _) => {
                    let missing = if source.is_none() {
                        &source_id
                    } else {
                        &target_id
                    };
                    sink.raise(crate::IssueKind::DanglingReference, location, format!("link from object {source_id:?} to object {target_id:?} names unknown object {missing:?}; the link is dropped"))?;
                    sink.skipped();
                }
            }
        }
        ocel.event_object = event_object;
        ocel.object_object = object_object;
        Ok(())
    }
}

/// Drops events and objects whose id repeats an earlier one, reporting each.
pub(crate) fn drop_duplicate_ids(
    ocel: &mut Ocel,
    sink: &mut crate::import::IssueSink,
) -> Result<(), crate::ImportError> {
    let mut seen = rustc_hash::FxHashSet::default();
    let mut keep = Vec::with_capacity(ocel.events.len());
    for event in std::mem::take(&mut ocel.events) {
        if seen.insert(event.id.clone()) {
            keep.push(event);
        } else {
            sink.raise(
                crate::IssueKind::BadValue,
                crate::Location::Json(format!("event {:?}", event.id)),
                format!(
                    "duplicate event id {:?}; the later event is dropped",
                    event.id
                ),
            )?;
            sink.skipped();
        }
    }
    ocel.events = keep;
    seen.clear();
    let mut keep = Vec::with_capacity(ocel.objects.len());
    for object in std::mem::take(&mut ocel.objects) {
        if seen.insert(object.id.clone()) {
            keep.push(object);
        } else {
            sink.raise(
                crate::IssueKind::BadValue,
                crate::Location::Json(format!("object {:?}", object.id)),
                format!(
                    "duplicate object id {:?}; the later object is dropped",
                    object.id
                ),
            )?;
            sink.skipped();
        }
    }
    ocel.objects = keep;
    Ok(())
}
