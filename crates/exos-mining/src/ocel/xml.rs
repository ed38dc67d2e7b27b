//! OCEL 2.0 XML importer, streaming with quick-xml.
//!
//! A document cut short or otherwise malformed is reported with its line
//! and column. The events and objects completed before the error are kept.
//! The record being read is kept under `Repair` when it has its id, and
//! dropped otherwise.

use std::path::Path;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::{
    drop_duplicate_ids, ObjectAttribute, Ocel, OcelEvent, OcelObject, OcelValue, PendingLinks,
};
use crate::import::{
    line_column, read_file_bytes, ImportError, ImportOptions, ImportReport, IssueKind, IssueSink,
    OnError,
};
use crate::log::NO_TIME;
use crate::time::parse_iso8601;

/// Reads an OCEL 2.0 XML file (gzip allowed).
pub fn read_ocel_xml(
    path: &Path,
    options: &ImportOptions,
) -> Result<(Ocel, ImportReport), ImportError> {
    parse_ocel_xml(&read_file_bytes(path)?, options)
}

/// The record being read.
enum Open {
    None,
    Event(OcelEvent),
    Object(OcelObject),
}

struct XmlReader<'a> {
    bytes: &'a [u8],
    options: &'a ImportOptions,
    sink: IssueSink,
    ocel: Ocel,
    links: PendingLinks,
    path: Vec<Vec<u8>>,
    open: Open,
    /// Attribute being read: (name, time, text so far).
    attribute: Option<(String, i64, String)>,
    /// Type declaration being read: (is event type, index).
    declaration: Option<(bool, usize)>,
    /// Pending link counts when the open record started, so a record
    /// dropped half-read takes its links with it.
    links_at_record_start: (usize, usize),
}

/// Parses an OCEL 2.0 XML document.
pub fn parse_ocel_xml(
    bytes: &[u8],
    options: &ImportOptions,
) -> Result<(Ocel, ImportReport), ImportError> {
    let mut reader = XmlReader {
        bytes,
        options,
        sink: IssueSink::new(options),
        ocel: Ocel::default(),
        links: PendingLinks::default(),
        path: Vec::new(),
        open: Open::None,
        attribute: None,
        declaration: None,
        links_at_record_start: (0, 0),
    };
    reader.run()?;
    let XmlReader {
        mut ocel,
        links,
        mut sink,
        ..
    } = reader;
    drop_duplicate_ids(&mut ocel, &mut sink)?;
    links.resolve(&mut ocel, &mut sink)?;
    let mut report = sink.report;
    report.cases = ocel.objects.len();
    report.events = ocel.events.len();
    Ok((ocel, report))
}

fn attribute(element: &BytesStart, name: &[u8]) -> Option<String> {
    element
        .attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name)
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

impl XmlReader<'_> {
    fn run(&mut self) -> Result<(), ImportError> {
        let mut reader = Reader::from_reader(self.bytes);
        reader.config_mut().check_end_names = true;
        loop {
            let position = reader.buffer_position() as usize;
            match reader.read_event() {
                Err(error) => {
                    return self.malformed(
                        reader.error_position() as usize,
                        format!("malformed XML: {error}"),
                    )
                }
                Ok(Event::Eof) => break,
                Ok(Event::Start(element)) => {
                    self.start(&element, position)?;
                    self.path.push(element.local_name().as_ref().to_vec());
                }
                Ok(Event::Empty(element)) => {
                    self.start(&element, position)?;
                    self.path.push(element.local_name().as_ref().to_vec());
                    self.end()?;
                }
                Ok(Event::End(_)) => self.end()?,
                Ok(Event::Text(text)) => {
                    if let Some((_, _, value)) = &mut self.attribute {
                        value.push_str(&text.decode().map(|t| t.into_owned()).unwrap_or_default());
                    }
                }
                Ok(Event::GeneralRef(reference)) => {
                    if let Some((_, _, value)) = &mut self.attribute {
                        let name = String::from_utf8_lossy(reference.as_ref()).into_owned();
                        value.push_str(
                            &quick_xml::escape::unescape(&format!("&{name};"))
                                .map(|v| v.into_owned())
                                .unwrap_or_default(),
                        );
                    }
                }
                Ok(_) => {}
            }
        }
        if !self.path.is_empty() {
            return self.malformed(
                self.bytes.len(),
                "document ends before </log>; the file is truncated".into(),
            );
        }
        Ok(())
    }

    fn malformed(&mut self, at: usize, message: String) -> Result<(), ImportError> {
        let policy = self
            .sink
            .raise(IssueKind::Malformed, line_column(self.bytes, at), message)?;
        match std::mem::replace(&mut self.open, Open::None) {
            Open::None => {}
            Open::Event(event) if policy == OnError::Repair && event.time != NO_TIME => {
                self.ocel.events.push(event);
                self.sink.repaired();
            }
            Open::Object(object) if policy == OnError::Repair => {
                self.ocel.objects.push(object);
                self.sink.repaired();
            }
            Open::Event(_) | Open::Object(_) => {
                let (event_links, object_links) = self.links_at_record_start;
                self.links.event_object.truncate(event_links);
                self.links.object_object.truncate(object_links);
                self.sink.skipped();
            }
        }
        self.path.clear();
        Ok(())
    }

    fn parent(&self) -> &[u8] {
        self.path.last().map_or(&[], Vec::as_slice)
    }

    fn start(&mut self, element: &BytesStart, position: usize) -> Result<(), ImportError> {
        let name = element.local_name();
        match name.as_ref() {
            b"object-type" | b"event-type" => {
                let declaration = super::TypeDeclaration {
                    name: attribute(element, b"name").unwrap_or_default(),
                    attributes: Vec::new(),
                };
                let is_event = name.as_ref() == b"event-type";
                let types = if is_event {
                    &mut self.ocel.event_types
                } else {
                    &mut self.ocel.object_types
                };
                types.push(declaration);
                self.declaration = Some((is_event, types.len() - 1));
            }
            b"attribute" if self.declaration.is_some() && matches!(self.open, Open::None) => {
                let (is_event, index) = self.declaration.unwrap_or_default();
                let types = if is_event {
                    &mut self.ocel.event_types
                } else {
                    &mut self.ocel.object_types
                };
                types[index].attributes.push((
                    attribute(element, b"name").unwrap_or_default(),
                    attribute(element, b"type").unwrap_or_default(),
                ));
            }
            b"object" if self.parent() == b"objects" && matches!(self.open, Open::None) => {
                self.begin_record();
                let id = attribute(element, b"id").unwrap_or_default();
                let object_type = self
                    .ocel
                    .object_type_index(&attribute(element, b"type").unwrap_or_default());
                if id.is_empty() {
                    self.sink.raise(
                        IssueKind::MissingValue,
                        line_column(self.bytes, position),
                        "object has no id; it is skipped".into(),
                    )?;
                    self.sink.skipped();
                    return Ok(());
                }
                self.open = Open::Object(OcelObject {
                    id,
                    object_type,
                    attributes: Vec::new(),
                });
            }
            b"event" if self.parent() == b"events" => {
                self.begin_record();
                self.open_event(element, position)?;
            }
            b"attribute" => {
                let time = match attribute(element, b"time") {
                    None => 0,
                    Some(text) => {
                        parse_iso8601(&text, self.options.default_offset_seconds).unwrap_or(0)
                    }
                };
                self.attribute = Some((
                    attribute(element, b"name").unwrap_or_default(),
                    time,
                    String::new(),
                ));
            }
            b"relationship" => self.relationship(element, position),
            _ => {}
        }
        Ok(())
    }

    fn begin_record(&mut self) {
        self.links_at_record_start = (
            self.links.event_object.len(),
            self.links.object_object.len(),
        );
    }

    fn open_event(&mut self, element: &BytesStart, position: usize) -> Result<(), ImportError> {
        let id = attribute(element, b"id").unwrap_or_default();
        let event_type = self
            .ocel
            .event_type_index(&attribute(element, b"type").unwrap_or_default());
        let time_text = attribute(element, b"time").unwrap_or_default();
        let location = line_column(self.bytes, position);
        if id.is_empty() {
            self.sink.raise(
                IssueKind::MissingValue,
                location,
                "event has no id; it is skipped".into(),
            )?;
            self.sink.skipped();
            return Ok(());
        }
        let time = match parse_iso8601(&time_text, self.options.default_offset_seconds) {
            Some(time) => time,
            None => {
                let message = format!("invalid timestamp {time_text:?} of event {id:?}");
                if self
                    .sink
                    .raise(IssueKind::BadTimestamp, location, message)?
                    != OnError::Repair
                {
                    self.sink.skipped();
                    return Ok(());
                }
                self.sink.repaired();
                NO_TIME
            }
        };
        self.open = Open::Event(OcelEvent {
            id,
            event_type,
            time,
            attributes: Vec::new(),
        });
        Ok(())
    }

    fn relationship(&mut self, element: &BytesStart, position: usize) {
        let target = attribute(element, b"object-id").unwrap_or_default();
        let qualifier = attribute(element, b"qualifier").unwrap_or_default();
        let location = line_column(self.bytes, position);
        match &self.open {
            Open::Event(event) => {
                self.links
                    .event_object
                    .push((event.id.clone(), target, qualifier, location))
            }
            Open::Object(object) => {
                self.links
                    .object_object
                    .push((object.id.clone(), target, qualifier, location))
            }
            Open::None => {}
        }
    }

    fn end(&mut self) -> Result<(), ImportError> {
        let Some(name) = self.path.pop() else {
            return Ok(());
        };
        match name.as_slice() {
            b"object-type" | b"event-type" => self.declaration = None,
            b"attribute" => {
                if let Some((name, time, text)) = self.attribute.take() {
                    match &mut self.open {
                        Open::Event(event) => event.attributes.push((name, OcelValue::Str(text))),
                        Open::Object(object) => object.attributes.push(ObjectAttribute {
                            name,
                            time,
                            value: OcelValue::Str(text),
                        }),
                        Open::None => {}
                    }
                }
            }
            b"event" | b"object" if self.parent_is_list(&name) => {
                match std::mem::replace(&mut self.open, Open::None) {
                    Open::Event(event) => self.ocel.events.push(event),
                    Open::Object(object) => self.ocel.objects.push(object),
                    Open::None => {}
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn parent_is_list(&self, name: &[u8]) -> bool {
        let list: &[u8] = if name == b"event" {
            b"events"
        } else {
            b"objects"
        };
        self.parent() == list
    }
}
