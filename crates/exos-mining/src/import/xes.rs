//! Streaming XES importer (IEEE 1849-2016), plain or gzip.
//!
//! The reader walks the document once with quick-xml's borrowing reader, so
//! no element is built as a tree. The standard event attributes go straight
//! into the log's columns: `concept:name` (activity), `time:timestamp`,
//! `org:resource` and `lifecycle:transition`. Every other attribute, nested
//! ones and `<list>`/`<container>` values included, is kept as an
//! [`Attribute`]. `<global>` defaults and `<classifier>` declarations are read
//! past: PM4Py does not apply global defaults to events either.
//!
//! Problems found (a malformed or truncated document, an event without an
//! activity, an unparseable timestamp or typed value, a trace without a case
//! id) are handled by the [`OnError`] policy and reported with their line and
//! column.

use std::path::Path;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::{
    line_column, read_file_bytes, ImportError, ImportOptions, ImportReport, IssueKind, IssueSink,
    OnError,
};
use crate::log::{AttrValue, Attribute, EventFields, EventLog, LogBuilder, Sym, NO_SYM, NO_TIME};
use crate::time::parse_iso8601;

/// Reads an XES file (gzip-compressed when it starts with the gzip magic).
pub fn read_xes(
    path: &Path,
    options: &ImportOptions,
) -> Result<(EventLog, ImportReport), ImportError> {
    let bytes = read_file_bytes(path)?;
    parse_xes(&bytes, options)
}

/// Parses an XES document held in memory.
pub fn parse_xes(
    bytes: &[u8],
    options: &ImportOptions,
) -> Result<(EventLog, ImportReport), ImportError> {
    let mut parser = XesParser::new(bytes, options);
    parser.run()?;
    Ok(parser.finish())
}

/// Position of the parser in the document's element tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Log,
    Trace,
    Event,
    /// Inside `<global>`, `<classifier>` or an unknown element: skipped.
    Ignored,
}

/// An attribute element that has children and is not closed yet.
struct OpenAttribute {
    attribute: Attribute,
    /// `value` text for the standard keys, kept to fill columns at close.
    text: Option<String>,
}

struct XesParser<'a> {
    bytes: &'a [u8],
    options: &'a ImportOptions,
    builder: LogBuilder,
    sink: IssueSink,
    scopes: Vec<Scope>,
    open_attributes: Vec<OpenAttribute>,

    trace_id: Option<String>,
    trace_attributes: Vec<Attribute>,
    trace_start: usize,
    event: EventFields,
    event_has_activity: bool,
    event_broken: bool,
    event_attributes: Vec<Attribute>,
    event_start: usize,
    next_progress: u64,
    key_names: [Sym; 4],
}

/// Standard keys stored as columns, in the order of `key_names`.
const CONCEPT_NAME: usize = 0;
const TIMESTAMP: usize = 1;
const RESOURCE: usize = 2;
const LIFECYCLE: usize = 3;

impl<'a> XesParser<'a> {
    fn new(bytes: &'a [u8], options: &'a ImportOptions) -> Self {
        let mut builder = LogBuilder::default();
        builder.sort_by_time = options.sort_by_time;
        let keys = &mut builder.log_mut().keys;
        let key_names = [
            keys.intern("concept:name"),
            keys.intern("time:timestamp"),
            keys.intern("org:resource"),
            keys.intern("lifecycle:transition"),
        ];
        XesParser {
            bytes,
            options,
            builder,
            sink: IssueSink::new(options),
            scopes: Vec::new(),
            open_attributes: Vec::new(),
            trace_id: None,
            trace_attributes: Vec::new(),
            trace_start: 0,
            event: EventFields::default(),
            event_has_activity: false,
            event_broken: false,
            event_attributes: Vec::new(),
            event_start: 0,
            next_progress: options.progress_every_bytes,
            key_names,
        }
    }

    fn run(&mut self) -> Result<(), ImportError> {
        let mut reader = Reader::from_reader(self.bytes);
        reader.config_mut().check_end_names = true;
        loop {
            let position = reader.buffer_position() as usize;
            let event = match reader.read_event() {
                Ok(event) => event,
                Err(error) => {
                    let at = reader.error_position() as usize;
                    return self.malformed(at, format!("malformed XML: {error}"));
                }
            };
            match event {
                Event::Start(element) => self.open(&element, position, false)?,
                Event::Empty(element) => self.open(&element, position, true)?,
                // `<values>` only wraps the items of a `<list>`.
                Event::End(element) if element.local_name().as_ref() == b"values" => {}
                Event::End(_) => self.close(position)?,
                Event::Eof => break,
                _ => {}
            }
            self.report_progress(reader.buffer_position());
        }
        if !self.scopes.is_empty() {
            let what = self.describe_open_scope();
            return self.malformed(
                self.bytes.len(),
                format!("document ends inside {what}; the file is truncated"),
            );
        }
        Ok(())
    }

    fn report_progress(&mut self, position: u64) {
        if position < self.next_progress {
            return;
        }
        self.next_progress = position + self.options.progress_every_bytes;
        if let Some(progress) = &self.options.progress {
            progress(position, Some(self.bytes.len() as u64));
        }
    }

    fn describe_open_scope(&self) -> &'static str {
        match self.scopes.iter().rev().find(|s| **s != Scope::Ignored) {
            Some(Scope::Event) => "an <event>",
            Some(Scope::Trace) => "a <trace>",
            _ => "the <log>",
        }
    }

    /// Handles a broken document: the data read so far is kept under
    /// `Repair` (the open trace is closed, the open event kept if it has an
    /// activity) and under `Skip` without the incomplete trace.
    fn malformed(&mut self, at: usize, message: String) -> Result<(), ImportError> {
        let location = line_column(self.bytes, at);
        let policy = self.sink.raise(IssueKind::Malformed, location, message)?;
        self.open_attributes.clear();
        let in_event = self.scopes.contains(&Scope::Event);
        let in_trace = self.scopes.contains(&Scope::Trace);
        if policy == OnError::Repair {
            if in_event {
                self.finish_event()?;
            }
            if in_trace {
                self.finish_trace()?;
                self.sink.repaired();
            }
        } else if in_trace {
            self.builder.discard_case();
            self.sink.skipped();
        }
        self.scopes.clear();
        Ok(())
    }

    fn open(
        &mut self,
        element: &BytesStart,
        position: usize,
        empty: bool,
    ) -> Result<(), ImportError> {
        let name = element.local_name();
        let scope = self.scopes.last().copied();
        if scope == Some(Scope::Ignored) {
            if !empty {
                self.scopes.push(Scope::Ignored);
            }
            return Ok(());
        }
        match name.as_ref() {
            b"log" if scope.is_none() => self.push_scope(Scope::Log, empty),
            b"trace" if scope == Some(Scope::Log) => {
                self.begin_trace(position);
                self.push_scope(Scope::Trace, empty);
                if empty {
                    self.finish_trace()?;
                }
            }
            b"event" if matches!(scope, Some(Scope::Trace) | Some(Scope::Log)) => {
                self.begin_event(position);
                self.push_scope(Scope::Event, empty);
                if empty {
                    self.finish_event()?;
                }
            }
            b"extension" if scope == Some(Scope::Log) => self.read_extension(element),
            b"string" | b"date" | b"int" | b"float" | b"boolean" | b"id" | b"list"
            | b"container"
                if scope.is_some() =>
            {
                self.open_attribute(element, position, empty)?
            }
            b"values" if !self.open_attributes.is_empty() => {}
            _ => {
                if !empty {
                    self.scopes.push(Scope::Ignored);
                }
            }
        }
        Ok(())
    }

    fn push_scope(&mut self, scope: Scope, empty: bool) {
        if !empty {
            self.scopes.push(scope);
        }
    }

    fn close(&mut self, position: usize) -> Result<(), ImportError> {
        if let Some(open) = self.open_attributes.pop() {
            return self.attach_attribute(open.attribute, open.text, position);
        }
        match self.scopes.pop() {
            Some(Scope::Event) => self.finish_event(),
            Some(Scope::Trace) => self.finish_trace(),
            _ => Ok(()),
        }
    }

    fn begin_trace(&mut self, position: usize) {
        self.trace_id = None;
        self.trace_attributes.clear();
        self.trace_start = position;
        self.builder.begin_case(String::new(), Vec::new());
    }

    fn finish_trace(&mut self) -> Result<(), ImportError> {
        let attributes = std::mem::take(&mut self.trace_attributes);
        let case_id = match self.trace_id.take() {
            Some(id) => id,
            None => {
                let location = line_column(self.bytes, self.trace_start);
                let message = "trace has no concept:name (case id)".to_string();
                if self
                    .sink
                    .raise(IssueKind::MissingValue, location, message)?
                    == OnError::Repair
                {
                    self.sink.repaired();
                    format!("case-{}", self.builder.log_mut().case_ids.len() - 1)
                } else {
                    self.builder.discard_case();
                    self.sink.skipped();
                    return Ok(());
                }
            }
        };
        self.builder.set_case_id(case_id);
        if let Some(slot) = self.builder.log_mut().case_attributes.last_mut() {
            *slot = attributes;
        }
        self.builder.end_case();
        Ok(())
    }

    fn begin_event(&mut self, position: usize) {
        self.event = EventFields {
            timestamp: NO_TIME,
            start: NO_TIME,
            resource: NO_SYM,
            lifecycle: NO_SYM,
            activity: 0,
        };
        self.event_has_activity = false;
        self.event_broken = false;
        self.event_attributes.clear();
        self.event_start = position;
    }

    fn finish_event(&mut self) -> Result<(), ImportError> {
        if !self.event_has_activity {
            let location = line_column(self.bytes, self.event_start);
            let message = "event has no concept:name (activity); it is skipped".into();
            self.sink
                .raise(IssueKind::MissingValue, location, message)?;
            self.sink.skipped();
            return Ok(());
        }
        // A broken event was reported where it broke; one outside any trace
        // (directly under <log>) belongs to no case.
        if !self.event_broken && self.scopes.contains(&Scope::Trace) {
            self.builder
                .push_event(&self.event, &mut self.event_attributes);
        }
        Ok(())
    }

    fn read_extension(&mut self, element: &BytesStart) {
        let mut fields = [String::new(), String::new(), String::new()];
        for attribute in element.attributes().flatten() {
            let slot = match attribute.key.as_ref() {
                b"name" => 0,
                b"prefix" => 1,
                b"uri" => 2,
                _ => continue,
            };
            fields[slot] = attribute
                .unescape_value()
                .map(|v| v.into_owned())
                .unwrap_or_default();
        }
        let [name, prefix, uri] = fields;
        self.builder.log_mut().extensions.push((name, prefix, uri));
    }

    fn open_attribute(
        &mut self,
        element: &BytesStart,
        position: usize,
        empty: bool,
    ) -> Result<(), ImportError> {
        if empty
            && self.scopes.last() == Some(&Scope::Event)
            && self.open_attributes.is_empty()
            && self.read_standard_event_attribute(element)
        {
            return Ok(());
        }
        let mut key = None;
        let mut value = None;
        for attribute in element.attributes() {
            let Ok(attribute) = attribute else {
                return self.malformed(position, "malformed XML attribute".into());
            };
            match attribute.key.as_ref() {
                b"key" => key = attribute.unescape_value().ok(),
                b"value" => value = attribute.unescape_value().ok(),
                _ => {}
            }
        }
        let Some(key) = key else {
            let location = line_column(self.bytes, position);
            self.sink.raise(
                IssueKind::MissingValue,
                location,
                "attribute element has no key; it is ignored".into(),
            )?;
            if !empty {
                self.scopes.push(Scope::Ignored);
            }
            return Ok(());
        };
        let kind = element.local_name().as_ref().to_vec();
        let text = value.map(|v| v.into_owned());
        let key_id = self.builder.log_mut().keys.intern(&key);
        let value = match self.typed_value(&kind, &key, text.as_deref(), position)? {
            Some(value) => value,
            None => {
                if !empty {
                    self.scopes.push(Scope::Ignored);
                }
                return Ok(());
            }
        };
        let attribute = Attribute {
            key: key_id,
            value,
            nested: Vec::new(),
        };
        if empty {
            self.attach_attribute(attribute, text, position)
        } else {
            self.open_attributes.push(OpenAttribute { attribute, text });
            Ok(())
        }
    }

    /// Fills an event column straight from a childless standard attribute
    /// (`concept:name`, `time:timestamp`, `org:resource`,
    /// `lifecycle:transition`) without building an [`Attribute`]: the hot
    /// path of every import. Returns false when the element needs the
    /// general path (another key, a bad value, an unexpected type).
    fn read_standard_event_attribute(&mut self, element: &BytesStart) -> bool {
        let mut key: &[u8] = &[];
        let mut raw_value: Option<std::borrow::Cow<[u8]>> = None;
        // Duplicate-attribute checks cost a scan per attribute; a duplicated
        // `key` or `value` would only make this fast path take the last one.
        for attribute in element.attributes().with_checks(false).flatten() {
            match attribute.key.as_ref() {
                b"key" => {
                    key = match attribute.value {
                        std::borrow::Cow::Borrowed(k) => k,
                        std::borrow::Cow::Owned(_) => return false,
                    }
                }
                b"value" => raw_value = Some(attribute.value),
                _ => return false,
            }
        }
        let Some(raw_value) = raw_value else {
            return false;
        };
        if raw_value.contains(&b'&') {
            return false;
        }
        let Ok(value) = std::str::from_utf8(&raw_value) else {
            return false;
        };
        let tag = element.local_name();
        match (key, tag.as_ref()) {
            (b"concept:name", b"string") => {
                self.event.activity = self.builder.intern_activity(value);
                self.event_has_activity = true;
            }
            (b"time:timestamp", b"date") => {
                match parse_iso8601(value, self.options.default_offset_seconds) {
                    Some(time) => self.event.timestamp = time,
                    None => return false,
                }
            }
            (b"org:resource", b"string") => {
                self.event.resource = self.builder.log_mut().resources.intern(value)
            }
            (b"lifecycle:transition", b"string") => {
                self.event.lifecycle = self.builder.log_mut().lifecycles.intern(value)
            }
            _ => return false,
        }
        true
    }

    /// Converts the `value` text of an attribute element to its type; `None`
    /// drops the attribute (bad value under `Skip`).
    fn typed_value(
        &mut self,
        kind: &[u8],
        key: &str,
        text: Option<&str>,
        position: usize,
    ) -> Result<Option<AttrValue>, ImportError> {
        let text_or_empty = text.unwrap_or("");
        let parsed = match kind {
            b"list" => Some(AttrValue::List(Vec::new())),
            b"container" => Some(AttrValue::Container(Vec::new())),
            b"string" => Some(AttrValue::Str(
                self.builder.log_mut().values.intern(text_or_empty),
            )),
            b"id" => Some(AttrValue::Id(
                self.builder.log_mut().values.intern(text_or_empty),
            )),
            b"int" => text_or_empty.trim().parse().ok().map(AttrValue::Int),
            b"float" => text_or_empty.trim().parse().ok().map(AttrValue::Float),
            b"boolean" => match text_or_empty.trim() {
                "true" | "TRUE" | "True" | "1" => Some(AttrValue::Bool(true)),
                "false" | "FALSE" | "False" | "0" => Some(AttrValue::Bool(false)),
                _ => None,
            },
            b"date" => parse_iso8601(text_or_empty, self.options.default_offset_seconds)
                .map(AttrValue::Time),
            _ => None,
        };
        if parsed.is_some() {
            return Ok(parsed);
        }

        let is_timestamp = kind == b"date" && key == "time:timestamp";
        let issue_kind = if kind == b"date" {
            IssueKind::BadTimestamp
        } else {
            IssueKind::BadValue
        };
        let type_name = String::from_utf8_lossy(kind).into_owned();
        let message = format!("invalid {type_name} value {text_or_empty:?} for key {key:?}");
        let location = line_column(self.bytes, position);
        let policy = self.sink.raise(issue_kind, location, message)?;
        if is_timestamp && self.scopes.last() == Some(&Scope::Event) {
            if policy == OnError::Repair {
                self.sink.repaired();
            } else {
                self.event_broken = true;
                self.sink.skipped();
            }
            return Ok(None);
        }
        if policy == OnError::Repair {
            self.sink.repaired();
            let text_id = self.builder.log_mut().values.intern(text_or_empty);
            return Ok(Some(AttrValue::Str(text_id)));
        }
        self.sink.skipped();
        Ok(None)
    }

    /// Puts a finished attribute into its parent: an open attribute, the
    /// event (columns for standard keys), the trace or the log.
    fn attach_attribute(
        &mut self,
        attribute: Attribute,
        text: Option<String>,
        _position: usize,
    ) -> Result<(), ImportError> {
        if let Some(parent) = self.open_attributes.last_mut() {
            match &mut parent.attribute.value {
                AttrValue::List(items) | AttrValue::Container(items) => items.push(attribute),
                _ => parent.attribute.nested.push(attribute),
            }
            return Ok(());
        }
        match self.scopes.last() {
            Some(Scope::Event) => self.attach_to_event(attribute, text),
            Some(Scope::Trace) => {
                if attribute.key == self.key_names[CONCEPT_NAME] && attribute.nested.is_empty() {
                    self.trace_id = Some(text.unwrap_or_default());
                } else {
                    self.trace_attributes.push(attribute);
                }
            }
            Some(Scope::Log) => self.builder.log_mut().log_attributes.push(attribute),
            _ => {}
        }
        Ok(())
    }

    fn attach_to_event(&mut self, attribute: Attribute, text: Option<String>) {
        let standard = self.key_names.iter().position(|&k| k == attribute.key);
        let simple = attribute.nested.is_empty();
        match (standard, &attribute.value) {
            (Some(CONCEPT_NAME), AttrValue::Str(_)) if simple => {
                self.event.activity = self.builder.intern_activity(text.as_deref().unwrap_or(""));
                self.event_has_activity = true;
            }
            (Some(TIMESTAMP), AttrValue::Time(time)) if simple => self.event.timestamp = *time,
            (Some(RESOURCE), AttrValue::Str(_)) if simple => {
                self.event.resource = self
                    .builder
                    .log_mut()
                    .resources
                    .intern(text.as_deref().unwrap_or(""));
            }
            (Some(LIFECYCLE), AttrValue::Str(_)) if simple => {
                self.event.lifecycle = self
                    .builder
                    .log_mut()
                    .lifecycles
                    .intern(text.as_deref().unwrap_or(""));
            }
            _ => self.event_attributes.push(attribute),
        }
    }

    fn finish(self) -> (EventLog, ImportReport) {
        let log = self.builder.finish();
        let mut report = self.sink.report;
        report.cases = log.case_count();
        report.events = log.event_count();
        (log, report)
    }
}
