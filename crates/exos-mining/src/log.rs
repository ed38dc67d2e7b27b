//! The event log: cases of events, stored column by column.
//!
//! Every per-event field is its own `Vec`, so an analysis that reads only
//! activities and timestamps walks two dense arrays. Activity names,
//! resources and other repeated strings are interned once in a [`Symbols`]
//! table and referred to by `u32` ids. Events of case `c` are the index range
//! `case_offsets[c]..case_offsets[c + 1]`.
//!
//! Invariants: `case_offsets` starts at 0, never decreases and ends at the
//! number of events. Every per-event column has one entry per event. Within
//! a case, events are ordered by complete timestamp (stable, so file order
//! breaks ties), as PM4Py orders them before any analysis.

use rustc_hash::FxHashMap;

/// Microseconds since 1970-01-01T00:00:00Z.
pub type Timestamp = i64;

/// The value stored in a timestamp column for an event that has none.
pub const NO_TIME: Timestamp = i64::MIN;

/// Interned string id; index into [`Symbols`].
pub type Sym = u32;

/// The id stored in a symbol column for an absent value (no resource, …).
pub const NO_SYM: Sym = u32::MAX;

/// String interner: each distinct string is stored once and named by its id.
#[derive(Debug, Default, Clone)]
pub struct Symbols {
    names: Vec<Box<str>>,
    ids: FxHashMap<Box<str>, Sym>,
    /// The id returned last: columns repeat values (`complete`, the same
    /// resource), and one comparison is cheaper than hashing.
    last: Option<Sym>,
}

impl Symbols {
    /// Returns the id of `name`, adding it when it is new.
    pub fn intern(&mut self, name: &str) -> Sym {
        if let Some(last) = self.last.filter(|&l| &*self.names[l as usize] == name) {
            return last;
        }
        let id = match self.ids.get(name) {
            Some(&id) => id,
            None => {
                let id = self.names.len() as Sym;
                self.names.push(name.into());
                self.ids.insert(name.into(), id);
                id
            }
        };
        self.last = Some(id);
        id
    }

    /// Returns the id of `name` if it was interned.
    pub fn get(&self, name: &str) -> Option<Sym> {
        self.ids.get(name).copied()
    }

    /// Returns the string of `id`; panics on an id this table never issued.
    pub fn name(&self, id: Sym) -> &str {
        &self.names[id as usize]
    }

    /// Number of distinct strings.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when nothing was interned.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// Typed attribute value, following the XES types.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    /// `<string>`; the text is interned in the log's value symbols.
    Str(Sym),
    /// `<int>`.
    Int(i64),
    /// `<float>`.
    Float(f64),
    /// `<boolean>`.
    Bool(bool),
    /// `<date>`, microseconds since the epoch.
    Time(Timestamp),
    /// `<id>`; the text is interned in the log's value symbols.
    Id(Sym),
    /// `<list>`: ordered values, each keyed (XES lists repeat keys freely).
    List(Vec<Attribute>),
    /// `<container>`: a keyed group of attributes.
    Container(Vec<Attribute>),
}

/// One attribute: key (interned in the log's key symbols), value, and the
/// nested meta-attributes XES allows under any attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    /// Key id in [`EventLog::keys`].
    pub key: Sym,
    /// The value.
    pub value: AttrValue,
    /// Nested attributes (XES meta-attributes); empty for most.
    pub nested: Vec<Attribute>,
}

/// A columnar event log.
#[derive(Debug, Default, Clone)]
pub struct EventLog {
    /// Activity names; `activity` contains ids into this table.
    pub activities: Symbols,
    /// Resource names (`org:resource`); `resource` contains ids into this table.
    pub resources: Symbols,
    /// Lifecycle transitions (`lifecycle:transition`).
    pub lifecycles: Symbols,
    /// Attribute keys of every other attribute.
    pub keys: Symbols,
    /// String and id attribute values.
    pub values: Symbols,

    /// Case identifiers (`case:concept:name` / `order.id`), one per case.
    pub case_ids: Vec<String>,
    /// Event index range of each case; length is cases + 1.
    pub case_offsets: Vec<u32>,
    /// Case attributes other than the case id, one list per case.
    pub case_attributes: Vec<Vec<Attribute>>,

    /// Activity id of each event.
    pub activity: Vec<Sym>,
    /// Complete timestamp of each event, or [`NO_TIME`].
    pub timestamp: Vec<Timestamp>,
    /// Start timestamp of each event, or [`NO_TIME`] (filled by
    /// [`EventLog::pair_lifecycles`] or a CSV start column).
    pub start: Vec<Timestamp>,
    /// Resource id of each event, or [`NO_SYM`].
    pub resource: Vec<Sym>,
    /// Lifecycle transition id of each event, or [`NO_SYM`].
    pub lifecycle: Vec<Sym>,
    /// Range of each event's other attributes in `event_attributes`; length
    /// is events + 1.
    pub attribute_offsets: Vec<u32>,
    /// Other event attributes, flattened.
    pub event_attributes: Vec<Attribute>,

    /// Log-level attributes (XES `<log>` children other than traces).
    pub log_attributes: Vec<Attribute>,
    /// XES extensions declared in the source file: (name, prefix, uri).
    pub extensions: Vec<(String, String, String)>,
}

impl EventLog {
    /// Number of cases.
    pub fn case_count(&self) -> usize {
        self.case_ids.len()
    }

    /// Number of events.
    pub fn event_count(&self) -> usize {
        self.activity.len()
    }

    /// Event index range of case `case`.
    pub fn case_range(&self, case: usize) -> std::ops::Range<usize> {
        self.case_offsets[case] as usize..self.case_offsets[case + 1] as usize
    }

    /// Activity ids of case `case`, in order.
    pub fn trace(&self, case: usize) -> &[Sym] {
        &self.activity[self.case_range(case)]
    }

    /// Iterates over the activity sequence of every case.
    pub fn traces(&self) -> impl Iterator<Item = &[Sym]> + '_ {
        (0..self.case_count()).map(|case| self.trace(case))
    }

    /// Other attributes of event `event`.
    pub fn attributes_of(&self, event: usize) -> &[Attribute] {
        let range =
            self.attribute_offsets[event] as usize..self.attribute_offsets[event + 1] as usize;
        &self.event_attributes[range]
    }

    /// Activity name of an id.
    pub fn activity_name(&self, id: Sym) -> &str {
        self.activities.name(id)
    }

    /// Keeps the cases whose flag in `keep` is true; symbol tables are kept
    /// whole so ids stay valid across the filtered and the original log.
    pub fn select_cases(&self, keep: &[bool]) -> EventLog {
        let mut out = self.empty_like();
        for (case, _) in keep.iter().enumerate().filter(|(_, k)| **k) {
            out.copy_case_from(self, case, self.case_range(case));
        }
        out
    }

    /// Keeps, in every case, the events whose flag in `keep` is true; cases
    /// left without events are dropped, as PM4Py does.
    pub fn select_events(&self, keep: &[bool]) -> EventLog {
        let mut out = self.empty_like();
        for case in 0..self.case_count() {
            let events: Vec<usize> = self.case_range(case).filter(|&e| keep[e]).collect();
            if events.is_empty() {
                continue;
            }
            out.case_ids.push(self.case_ids[case].clone());
            out.case_attributes.push(self.case_attributes[case].clone());
            for event in events {
                out.copy_event_from(self, event);
            }
            out.case_offsets.push(out.activity.len() as u32);
        }
        out
    }

    /// Returns a log with the same symbol tables and log attributes and no
    /// cases.
    pub fn empty_like(&self) -> EventLog {
        EventLog {
            activities: self.activities.clone(),
            resources: self.resources.clone(),
            lifecycles: self.lifecycles.clone(),
            keys: self.keys.clone(),
            values: self.values.clone(),
            case_offsets: vec![0],
            attribute_offsets: vec![0],
            log_attributes: self.log_attributes.clone(),
            extensions: self.extensions.clone(),
            ..EventLog::default()
        }
    }

    fn copy_case_from(&mut self, other: &EventLog, case: usize, events: std::ops::Range<usize>) {
        self.case_ids.push(other.case_ids[case].clone());
        self.case_attributes
            .push(other.case_attributes[case].clone());
        for event in events {
            self.copy_event_from(other, event);
        }
        self.case_offsets.push(self.activity.len() as u32);
    }

    fn copy_event_from(&mut self, other: &EventLog, event: usize) {
        self.activity.push(other.activity[event]);
        self.timestamp.push(other.timestamp[event]);
        self.start.push(other.start[event]);
        self.resource.push(other.resource[event]);
        self.lifecycle.push(other.lifecycle[event]);
        self.event_attributes
            .extend_from_slice(other.attributes_of(event));
        self.attribute_offsets
            .push(self.event_attributes.len() as u32);
    }

    /// Sets the start timestamp of each `complete` event from the latest
    /// unmatched `start` event of the same activity in its case, then drops
    /// the `start` events; events of other transitions are kept unchanged.
    /// Returns the paired log.
    pub fn pair_lifecycles(&self) -> EventLog {
        let start_id = self.lifecycles.get("start");
        let complete_id = self.lifecycles.get("complete");
        let mut start = self.start.clone();
        let mut keep = vec![true; self.event_count()];
        for case in 0..self.case_count() {
            let mut open: FxHashMap<Sym, Vec<usize>> = FxHashMap::default();
            for event in self.case_range(case) {
                let transition = Some(self.lifecycle[event]);
                if transition == start_id {
                    open.entry(self.activity[event]).or_default().push(event);
                    keep[event] = false;
                } else if transition == complete_id {
                    if let Some(started) = open.get_mut(&self.activity[event]).and_then(Vec::pop) {
                        start[event] = self.timestamp[started];
                    }
                }
            }
        }
        let mut with_starts = self.clone();
        with_starts.start = start;
        with_starts.select_events(&keep)
    }
}

/// Appends cases to an [`EventLog`] one event at a time; importers use it.
#[derive(Debug)]
pub struct LogBuilder {
    log: EventLog,
    case_open: bool,
    /// Stable-sort each case's events by complete timestamp when it ends.
    pub sort_by_time: bool,
}

/// One event handed to [`LogBuilder::push_event`].
#[derive(Debug, Clone, Default)]
pub struct EventFields {
    /// Activity id (from [`LogBuilder::intern_activity`]).
    pub activity: Sym,
    /// Complete timestamp or [`NO_TIME`].
    pub timestamp: Timestamp,
    /// Start timestamp or [`NO_TIME`].
    pub start: Timestamp,
    /// Resource id or [`NO_SYM`].
    pub resource: Sym,
    /// Lifecycle transition id or [`NO_SYM`].
    pub lifecycle: Sym,
}

impl Default for LogBuilder {
    fn default() -> Self {
        LogBuilder {
            log: EventLog::default().empty_like(),
            case_open: false,
            sort_by_time: true,
        }
    }
}

impl LogBuilder {
    /// Mutable access to the log under construction (symbol tables, log
    /// attributes).
    pub fn log_mut(&mut self) -> &mut EventLog {
        &mut self.log
    }

    /// Interns an activity name.
    pub fn intern_activity(&mut self, name: &str) -> Sym {
        self.log.activities.intern(name)
    }

    /// Opens a case; a case still open is closed first.
    pub fn begin_case(&mut self, case_id: String, attributes: Vec<Attribute>) {
        if self.case_open {
            self.end_case();
        }
        self.log.case_ids.push(case_id);
        self.log.case_attributes.push(attributes);
        self.case_open = true;
    }

    /// Appends an event with its other attributes to the open case.
    pub fn push_event(&mut self, fields: &EventFields, attributes: &mut Vec<Attribute>) {
        self.log.activity.push(fields.activity);
        self.log.timestamp.push(fields.timestamp);
        self.log.start.push(fields.start);
        self.log.resource.push(fields.resource);
        self.log.lifecycle.push(fields.lifecycle);
        self.log.event_attributes.append(attributes);
        self.log
            .attribute_offsets
            .push(self.log.event_attributes.len() as u32);
    }

    /// Replaces the case id of the open case (XES gives it after the trace
    /// starts).
    pub fn set_case_id(&mut self, case_id: String) {
        if let Some(last) = self.log.case_ids.last_mut() {
            *last = case_id;
        }
    }

    /// Closes the open case, ordering its events by time if asked.
    pub fn end_case(&mut self) {
        if !self.case_open {
            return;
        }
        self.case_open = false;
        let first = *self.log.case_offsets.last().unwrap_or(&0) as usize;
        let end = self.log.activity.len();
        if self.sort_by_time {
            sort_case_by_time(&mut self.log, first, end);
        }
        self.log.case_offsets.push(end as u32);
    }

    /// Drops the open case and its events (an importer skipping a bad case).
    pub fn discard_case(&mut self) {
        if !self.case_open {
            return;
        }
        self.case_open = false;
        let first = *self.log.case_offsets.last().unwrap_or(&0) as usize;
        let log = &mut self.log;
        let attribute_first = log.attribute_offsets[first] as usize;
        log.activity.truncate(first);
        log.timestamp.truncate(first);
        log.start.truncate(first);
        log.resource.truncate(first);
        log.lifecycle.truncate(first);
        log.attribute_offsets.truncate(first + 1);
        log.event_attributes.truncate(attribute_first);
        log.case_ids.pop();
        log.case_attributes.pop();
    }

    /// Number of events in the open case.
    pub fn open_case_len(&self) -> usize {
        if !self.case_open {
            return 0;
        }
        self.log.activity.len() - *self.log.case_offsets.last().unwrap_or(&0) as usize
    }

    /// Closes any open case and returns the log.
    pub fn finish(mut self) -> EventLog {
        self.end_case();
        self.log
    }
}

/// Stable-sorts events `first..end` by complete timestamp. A case with any
/// event lacking a timestamp keeps its file order, because there is no
/// position to give such an event.
fn sort_case_by_time(log: &mut EventLog, first: usize, end: usize) {
    let times = &log.timestamp[first..end];
    if times.contains(&NO_TIME) || times.windows(2).all(|w| w[0] <= w[1]) {
        return;
    }
    let mut order: Vec<usize> = (first..end).collect();
    order.sort_by_key(|&e| log.timestamp[e]);
    permute(&mut log.activity[first..end], &order, first);
    permute(&mut log.timestamp[first..end], &order, first);
    permute(&mut log.start[first..end], &order, first);
    permute(&mut log.resource[first..end], &order, first);
    permute(&mut log.lifecycle[first..end], &order, first);

    let attribute_first = log.attribute_offsets[first] as usize;
    let mut attributes = Vec::new();
    let mut offsets = Vec::with_capacity(end - first);
    for &e in &order {
        let range = log.attribute_offsets[e] as usize..log.attribute_offsets[e + 1] as usize;
        attributes.extend_from_slice(&log.event_attributes[range]);
        offsets.push((attribute_first + attributes.len()) as u32);
    }
    log.event_attributes.truncate(attribute_first);
    log.event_attributes.append(&mut attributes);
    log.attribute_offsets.truncate(first + 1);
    log.attribute_offsets.extend(offsets);
}

fn permute<T: Copy>(column: &mut [T], order: &[usize], first: usize) {
    let sorted: Vec<T> = order.iter().map(|&e| column[e - first]).collect();
    column.copy_from_slice(&sorted);
}
