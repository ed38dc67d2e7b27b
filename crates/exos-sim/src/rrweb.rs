//! rrweb recordings of the order-work page, in rrweb's event format.
//!
//! A recording is a Meta event (type 4), then a FullSnapshot (type 2) with the
//! page's serialized DOM. IncrementalSnapshot events (type 3) follow and refer
//! to nodes of that DOM by id: mouse moves (source 1), mouse interactions
//! (source 2), scrolls (source 3), inputs (source 5) and mutations (source 0).
//! Serialized nodes follow rrweb-snapshot: `{type: 0 Document | 1 DocumentType
//! | 2 Element | 3 Text, id, tagName, attributes, childNodes}`, with ids given in
//! document order. Inputs are masked, as the HyperDX SDK records them by default.

use serde_json::{json, Map, Value};

use crate::random::Random;

/// Bytes at which the HyperDX browser SDK slices one recorded event into chunks.
pub const CHUNK_BYTES: usize = 972_800;

/// Rows of the order table on an ordinary page, and on a page large enough that
/// its full snapshot needs two or more chunks.
pub const ORDINARY_ROWS: usize = 25;
pub const LARGE_ROWS: usize = 4_000;

const VIEWPORT: (i64, i64) = (1440, 900);
/// The recorded page's stylesheet.
const PAGE_CSS: &str = "body{margin:0;font-family:system-ui,sans-serif;color:#1f2933;background:#f5f7fa}\
header{padding:12px 24px;background:#1f4e79;color:#fff}\
main{display:grid;grid-template-columns:minmax(0,2fr) minmax(0,1fr);gap:24px;padding:24px}\
#order-summary{grid-column:1/-1}\
table{width:100%;border-collapse:collapse;background:#fff}td,th{padding:6px 8px;border-bottom:1px solid #e4e7eb}\
tr.selected{background:#e3effa}input,select,textarea{display:block;margin:4px 0 12px;padding:6px;width:100%}\
button{margin-right:8px;padding:8px 14px;border:0;border-radius:4px;background:#2b7fbe;color:#fff}\
.toast{position:fixed;right:24px;bottom:24px;padding:10px 16px;background:#1f2933;color:#fff}\
.toast.hidden{display:none}";
const DOCUMENT_ID: u64 = 1;

/// Content of the recorded page.
pub struct Page<'a> {
    pub href: &'a str,
    pub order_id: &'a str,
    pub lob: &'a str,
    pub operator_email: &'a str,
    pub table_rows: usize,
}

/// Ids of the nodes the operator interacts with.
#[derive(Debug, Default)]
struct Targets {
    table_rows: Vec<u64>,
    value_input: u64,
    notes: u64,
    save: u64,
    approve: u64,
    toast: u64,
    toast_text: u64,
}

/// Builds serialized nodes and hands out ids in document order, as rrweb does.
struct Dom {
    next_id: u64,
    targets: Targets,
}

impl Dom {
    fn id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn element(
        &mut self,
        tag: &str,
        attributes: &[(&str, &str)],
        children: impl FnOnce(&mut Dom) -> Vec<Value>,
    ) -> Value {
        let id = self.id();
        let attributes: Map<String, Value> = attributes
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        json!({"type": 2, "tagName": tag, "attributes": attributes, "childNodes": children(self), "id": id})
    }

    fn text(&mut self, content: &str) -> Value {
        json!({"type": 3, "textContent": content, "id": self.id()})
    }

    /// Same as [`Dom::element`], also returning the element's id.
    fn element_with_id(
        &mut self,
        tag: &str,
        attributes: &[(&str, &str)],
        children: impl FnOnce(&mut Dom) -> Vec<Value>,
    ) -> (Value, u64) {
        let id = self.next_id;
        (self.element(tag, attributes, children), id)
    }
}

/// Names shown in the order table. Some have letters outside ASCII, so a chunk
/// boundary can fall inside a multi-byte character as it does in real data.
const CLIENT_NAMES: [&str; 6] = [
    "José Muñoz",
    "Zoë Ødegaard",
    "Łukasz Żak",
    "Ana Conceição",
    "Mei Chen",
    "Grace Okafor",
];

fn serialize_page(page: &Page) -> (Value, Targets) {
    let mut dom = Dom {
        next_id: DOCUMENT_ID,
        targets: Targets::default(),
    };
    let document_id = dom.id();
    let doctype =
        json!({"type": 1, "name": "html", "publicId": "", "systemId": "", "id": dom.id()});
    let html = dom.element("html", &[("lang", "en")], |dom| {
        vec![head(dom, page), body(dom, page)]
    });
    let node = json!({"type": 0, "childNodes": [doctype, html], "compatMode": "CSS1Compat", "id": document_id});
    (node, dom.targets)
}

fn head(dom: &mut Dom, page: &Page) -> Value {
    let title = format!("{} · Ops", page.order_id);
    dom.element("head", &[], |dom| {
        vec![
            dom.element("meta", &[("charset", "utf-8")], |_| vec![]),
            dom.element("title", &[], |dom| vec![dom.text(&title)]),
            // rrweb records a stylesheet link with its rules inlined as `_cssText` (and
            // without `href`), so the replay never fetches the recorded site's files.
            dom.element("link", &[("_cssText", PAGE_CSS)], |_| vec![]),
        ]
    })
}

fn body(dom: &mut Dom, page: &Page) -> Value {
    dom.element("body", &[("class", "order-page")], |dom| {
        vec![
            header(dom, page),
            main(dom, page),
            dom.element("footer", &[], |dom| vec![dom.text("Operations console")]),
        ]
    })
}

fn header(dom: &mut Dom, page: &Page) -> Value {
    dom.element("header", &[("class", "top-bar")], |dom| {
        let links = ["Orders", "Queue", "Reports", "Settings"]
            .iter()
            .map(|label| {
                let href = format!("/{}", label.to_lowercase());
                dom.element("a", &[("href", &href)], |dom| vec![dom.text(label)])
            })
            .collect();
        vec![
            dom.element("h1", &[], |dom| vec![dom.text("Operations")]),
            dom.element("nav", &[], |_| links),
            dom.element("span", &[("class", "user")], |dom| {
                vec![dom.text(page.operator_email)]
            }),
        ]
    })
}

fn main(dom: &mut Dom, page: &Page) -> Value {
    dom.element("main", &[], |dom| {
        vec![summary(dom, page), table(dom, page), form(dom), toast(dom)]
    })
}

fn summary(dom: &mut Dom, page: &Page) -> Value {
    dom.element("section", &[("id", "order-summary")], |dom| {
        let heading = format!("Order {}", page.order_id);
        vec![
            dom.element("h2", &[], |dom| vec![dom.text(&heading)]),
            dom.element("dl", &[], |dom| {
                let mut items = Vec::new();
                for (term, value) in [
                    ("Line of business", page.lob),
                    ("Status", "open"),
                    ("Service level", "on track"),
                ] {
                    items.push(dom.element("dt", &[], |dom| vec![dom.text(term)]));
                    items.push(dom.element("dd", &[], |dom| vec![dom.text(value)]));
                }
                items
            }),
        ]
    })
}

fn table(dom: &mut Dom, page: &Page) -> Value {
    dom.element(
        "table",
        &[("id", "order-table"), ("class", "grid")],
        |dom| {
            let head = dom.element("thead", &[], |dom| {
                vec![dom.element("tr", &[], |dom| {
                    [
                        "Order", "Client", "Property", "Received", "Status", "Amount",
                    ]
                    .iter()
                    .map(|label| dom.element("th", &[], |dom| vec![dom.text(label)]))
                    .collect()
                })]
            });
            let rows = dom.element("tbody", &[], |dom| {
                (0..page.table_rows)
                    .map(|row| table_row(dom, row))
                    .collect()
            });
            vec![head, rows]
        },
    )
}

fn table_row(dom: &mut Dom, row: usize) -> Value {
    let cells = [
        format!("ORD-2026-{:06}", 900_000 + row),
        CLIENT_NAMES[row % CLIENT_NAMES.len()].to_string(),
        format!("{} Harbor View Rd, Unit {}", 100 + row % 900, row % 40),
        format!("2026-02-{:02}", 1 + row % 28),
        ["open", "waiting", "closed"][row % 3].to_string(),
        format!("${},{:03}.00", 150 + row % 700, row % 1000),
    ];
    let class = if row.is_multiple_of(2) { "even" } else { "odd" };
    let (node, id) = dom.element_with_id("tr", &[("class", class)], |dom| {
        cells
            .iter()
            .map(|cell| dom.element("td", &[], |dom| vec![dom.text(cell)]))
            .collect()
    });
    if row < 8 {
        dom.targets.table_rows.push(id);
    }
    node
}

fn form(dom: &mut Dom) -> Value {
    dom.element("form", &[("id", "order-form")], |dom| {
        let value_label = dom.element("label", &[("for", "appraised-value")], |dom| {
            vec![dom.text("Appraised value")]
        });
        let (value_input, value_id) = dom.element_with_id(
            "input",
            &[
                ("id", "appraised-value"),
                ("type", "text"),
                ("value", "*******"),
            ],
            |_| vec![],
        );
        let status = dom.element("select", &[("id", "status")], |dom| {
            ["open", "waiting", "closed"]
                .iter()
                .map(|option| {
                    dom.element("option", &[("value", option)], |dom| vec![dom.text(option)])
                })
                .collect()
        });
        let (notes, notes_id) =
            dom.element_with_id("textarea", &[("id", "notes"), ("rows", "4")], |dom| {
                vec![dom.text("****")]
            });
        let (save, save_id) =
            dom.element_with_id("button", &[("id", "save"), ("type", "submit")], |dom| {
                vec![dom.text("Save")]
            });
        let (approve, approve_id) =
            dom.element_with_id("button", &[("id", "approve"), ("type", "button")], |dom| {
                vec![dom.text("Approve")]
            });
        let request = dom.element(
            "button",
            &[("id", "request-info"), ("type", "button")],
            |dom| vec![dom.text("Request information")],
        );
        dom.targets.value_input = value_id;
        dom.targets.notes = notes_id;
        dom.targets.save = save_id;
        dom.targets.approve = approve_id;
        vec![
            value_label,
            value_input,
            status,
            notes,
            save,
            approve,
            request,
        ]
    })
}

fn toast(dom: &mut Dom) -> Value {
    let (node, id) = dom.element_with_id(
        "div",
        &[("id", "toast"), ("class", "toast hidden")],
        |dom| {
            let text_id = dom.next_id;
            let text = dom.text(" ");
            dom.targets.toast_text = text_id;
            vec![text]
        },
    );
    dom.targets.toast = id;
    node
}

/// Times of the operator's actions in one session, in epoch ms. The session's
/// spans and its recording are both made from one schedule, so the player, the
/// timeline and the event list agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// The page load; the recording starts here, as the SDK starts recording then.
    pub start_ms: i64,
    pub row_click_ms: i64,
    pub value_typing_ms: i64,
    pub notes_typing_ms: i64,
    /// The Save clicks: one, or four in a rage burst.
    pub save_clicks_ms: [Option<i64>; 4],
    pub approve_click_ms: i64,
}

impl Schedule {
    /// Returns the Save click times from the first one at `first_ms`. With
    /// `rage`, the operator clicks three more times, 800, 1,000 and 1,200 ms
    /// later, at nearly the same spot.
    pub fn save_clicks(first_ms: i64, rage: bool) -> [Option<i64>; 4] {
        if rage {
            [0, 800, 1_000, 1_200].map(|after| Some(first_ms + after))
        } else {
            [Some(first_ms), None, None, None]
        }
    }

    /// Builds the schedule of an operator who works without pauses, about 10 s
    /// from the page load to Approve, for recordings made without spans.
    pub fn brisk(random: &mut Random, start_ms: i64, rage: bool) -> Schedule {
        let row_click_ms = start_ms + random.below(1_500, 3_000) as i64;
        let value_typing_ms = row_click_ms + random.below(600, 1_200) as i64;
        let notes_typing_ms = value_typing_ms + random.below(1_200, 1_800) as i64;
        let save_ms = notes_typing_ms + random.below(3_500, 4_500) as i64;
        let approve_click_ms = save_ms + 1_200 + random.below(2_000, 3_500) as i64;
        Schedule {
            start_ms,
            row_click_ms,
            value_typing_ms,
            notes_typing_ms,
            save_clicks_ms: Schedule::save_clicks(save_ms, rage),
            approve_click_ms,
        }
    }

    /// Returns the click times of the session in time order.
    pub fn clicks_ms(&self) -> Vec<i64> {
        let mut clicks = vec![self.row_click_ms];
        clicks.extend(self.save_clicks_ms.iter().flatten());
        clicks.push(self.approve_click_ms);
        clicks
    }
}

/// Records one session on the order page: returns the rrweb events in time
/// order, each with its timestamp in ms.
///
/// Every click of `schedule` is recorded at its time. The page reacts to the
/// row click, to the last Save click and to Approve, so only a rage burst on
/// Save goes unanswered, which is what rage-click detection looks for.
pub fn record(random: &mut Random, page: &Page, schedule: &Schedule) -> Vec<Value> {
    let (node, targets) = serialize_page(page);
    let start = schedule.start_ms;
    let mut events = vec![
        json!({"type": 4, "data": {"href": page.href, "width": VIEWPORT.0, "height": VIEWPORT.1}, "timestamp": start}),
        json!({"type": 2, "data": {"node": node, "initialOffset": {"left": 0, "top": 0}}, "timestamp": start + 12}),
    ];
    let row = *random.pick(&targets.table_rows);
    let scroll_ms = (start + 400).min(schedule.row_click_ms - 1);
    events.push(incremental(
        scroll_ms,
        json!({"source": 3, "id": DOCUMENT_ID, "x": 0, "y": random.below(200, 900)}),
    ));
    events.extend(mouse_path(random, schedule.row_click_ms, row));
    events.extend(click(random, schedule.row_click_ms, row, (420, 380)));
    events.push(row_selected(schedule.row_click_ms + 120, row));
    events.extend(typing(
        random,
        schedule.value_typing_ms,
        targets.value_input,
        7,
    ));
    events.extend(typing(random, schedule.notes_typing_ms, targets.notes, 24));
    let saves: Vec<i64> = schedule.save_clicks_ms.iter().flatten().copied().collect();
    if let Some(first) = saves.first() {
        events.extend(mouse_path(random, *first, targets.save));
    }
    for at in &saves {
        events.extend(click(random, *at, targets.save, (610, 720)));
    }
    if let Some(last) = saves.last() {
        events.push(saved_mutation(last + 150, &targets, random.id::<4>()));
    }
    events.extend(mouse_path(
        random,
        schedule.approve_click_ms,
        targets.approve,
    ));
    events.extend(click(
        random,
        schedule.approve_click_ms,
        targets.approve,
        (700, 720),
    ));
    events.push(approved_mutation(schedule.approve_click_ms + 150, &targets));
    // The snapshot stays second; the rest is sorted, since typing can run into
    // the next step when the operator is quick.
    events[2..].sort_by_key(|event| event["timestamp"].as_i64().unwrap_or(start));
    events
}

fn incremental(timestamp: i64, data: Value) -> Value {
    json!({"type": 3, "data": data, "timestamp": timestamp})
}

/// Mouse moves towards `target` during the 0.5 to 2 s before `until_ms`.
fn mouse_path(random: &mut Random, until_ms: i64, target: u64) -> Vec<Value> {
    let moves = random.below(2, 5) as i64;
    (0..moves)
        .map(|number| {
            let positions: Vec<Value> = (0..5)
                .map(|step| {
                    json!({"x": random.below(100, 1300), "y": random.below(80, 860), "id": target, "timeOffset": -450 + step * 90})
                })
                .collect();
            incremental(
                until_ms - (moves - number) * 500,
                json!({"source": 1, "positions": positions}),
            )
        })
        .collect()
}

/// MouseDown (1), MouseUp (0) and Click (2), as rrweb records one click: the
/// Click at `at_ms`, the span's time, and the press just before it.
fn click(random: &mut Random, at_ms: i64, target: u64, around: (i64, i64)) -> Vec<Value> {
    let x = around.0 + random.below(0, 10) as i64;
    let y = around.1 + random.below(0, 10) as i64;
    [(1, 60), (0, 30), (2, 0)]
        .iter()
        .map(|(kind, before)| {
            incremental(
                at_ms - before,
                json!({"source": 2, "type": kind, "id": target, "x": x, "y": y}),
            )
        })
        .collect()
}

/// Input events while the operator types, from `from_ms` on; masked inputs
/// record one `*` per character.
fn typing(random: &mut Random, from_ms: i64, target: u64, characters: usize) -> Vec<Value> {
    let mut clock = from_ms;
    (1..=characters)
        .step_by(3)
        .map(|typed| {
            let event = incremental(
                clock,
                json!({"source": 5, "text": "*".repeat(typed), "isChecked": false, "id": target}),
            );
            clock += 150 + random.below(0, 250) as i64;
            event
        })
        .collect()
}

/// Builds the page's mutation after a click on an order's row: the row gets the
/// `selected` class, as the page marks the order it opened.
fn row_selected(timestamp: i64, row: u64) -> Value {
    json!({"type": 3, "timestamp": timestamp, "data": {
        "source": 0,
        "texts": [],
        "attributes": [{"id": row, "attributes": {"class": "selected"}}],
        "removes": [],
        "adds": []
    }})
}

/// Builds the page's mutation after Approve: the toast shows "Approved".
fn approved_mutation(timestamp: i64, targets: &Targets) -> Value {
    json!({"type": 3, "timestamp": timestamp, "data": {
        "source": 0,
        "texts": [{"id": targets.toast_text, "value": "Approved"}],
        "attributes": [{"id": targets.toast, "attributes": {"class": "toast visible"}}],
        "removes": [],
        "adds": []
    }})
}

/// Builds the page's mutation after Save: the toast shows a message and gains a new node.
fn saved_mutation(timestamp: i64, targets: &Targets, suffix: [u8; 4]) -> Value {
    let added_id = 100_000_000 + u64::from(u32::from_be_bytes(suffix) % 1_000_000);
    json!({"type": 3, "timestamp": timestamp, "data": {
        "source": 0,
        "texts": [{"id": targets.toast_text, "value": "Saved"}],
        "attributes": [{"id": targets.toast, "attributes": {"class": "toast visible"}}],
        "removes": [],
        "adds": [{"parentId": targets.toast, "nextId": null, "node": {
            "type": 2, "tagName": "span", "attributes": {"class": "check"}, "childNodes": [], "id": added_id}}]
    }})
}

/// Splits a serialized event into the chunks the SDK sends: slices of at most
/// [`CHUNK_BYTES`] bytes, each decoded leniently, so a multi-byte character cut
/// by a boundary becomes U+FFFD replacement characters as it does in the SDK.
pub fn chunks(event: &str) -> Vec<String> {
    event
        .as_bytes()
        .chunks(CHUNK_BYTES)
        .map(|slice| String::from_utf8_lossy(slice).into_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::Purpose;
    use std::collections::HashSet;

    fn page(rows: usize) -> Page<'static> {
        Page {
            href: "https://ops.example.com/orders/ORD-2026-000001",
            order_id: "ORD-2026-000001",
            lob: "Title",
            operator_email: "maria.garcia7@ops.example.com",
            table_rows: rows,
        }
    }

    /// Builds a schedule like the simulator's, starting at `start_ms`.
    fn schedule(start_ms: i64, rage: bool) -> Schedule {
        Schedule {
            start_ms,
            row_click_ms: start_ms + 9_000,
            value_typing_ms: start_ms + 15_000,
            notes_typing_ms: start_ms + 16_000,
            save_clicks_ms: Schedule::save_clicks(start_ms + 18_000, rage),
            approve_click_ms: start_ms + 23_000,
        }
    }

    fn collect_ids(node: &Value, ids: &mut HashSet<u64>) {
        if let Some(id) = node["id"].as_u64() {
            assert!(ids.insert(id), "node id {id} appears twice");
        }
        for child in node["childNodes"].as_array().into_iter().flatten() {
            collect_ids(child, ids);
        }
    }

    fn referenced_ids(event: &Value) -> Vec<u64> {
        let data = &event["data"];
        let mut ids = Vec::new();
        ids.extend(data["id"].as_u64());
        for list in ["positions", "texts", "attributes"] {
            for item in data[list].as_array().into_iter().flatten() {
                ids.extend(item["id"].as_u64());
            }
        }
        for add in data["adds"].as_array().into_iter().flatten() {
            ids.extend(add["parentId"].as_u64());
        }
        ids
    }

    #[test]
    fn incremental_ids_exist_in_snapshot() {
        let mut random = Random::stream(3, Purpose::Session, 0);
        let events = record(
            &mut random,
            &page(ORDINARY_ROWS),
            &schedule(1_770_000_000_000, true),
        );
        let text = serde_json::to_string(&events[1]).expect("snapshot serializes");
        let snapshot: Value = serde_json::from_str(&text).expect("snapshot is valid JSON");
        assert_eq!(snapshot["type"], 2);
        let mut ids = HashSet::new();
        collect_ids(&snapshot["data"]["node"], &mut ids);
        assert!(ids.len() > 100, "snapshot has {} nodes", ids.len());
        for event in events.iter().filter(|event| event["type"] == 3) {
            for id in referenced_ids(event) {
                assert!(
                    ids.contains(&id),
                    "event refers to node {id} missing from the snapshot: {event}"
                );
            }
        }
    }

    #[test]
    fn recording_has_every_source() {
        let mut random = Random::stream(3, Purpose::Session, 1);
        let events = record(&mut random, &page(ORDINARY_ROWS), &schedule(0, false));
        assert_eq!(events[0]["type"], 4);
        let sources: HashSet<u64> = events
            .iter()
            .filter_map(|event| event["data"]["source"].as_u64())
            .collect();
        for source in [0, 1, 2, 3, 5] {
            assert!(sources.contains(&source), "no event of source {source}");
        }
        let masked = events.iter().filter(|e| e["data"]["source"] == 5).all(|e| {
            e["data"]["text"]
                .as_str()
                .is_some_and(|t| t.chars().all(|c| c == '*'))
        });
        assert!(masked, "input text is not masked");
    }

    #[test]
    fn rage_clicks_close_together() {
        let mut random = Random::stream(3, Purpose::Session, 2);
        let events = record(&mut random, &page(ORDINARY_ROWS), &schedule(0, true));
        let clicks: Vec<&Value> = events
            .iter()
            .filter(|e| e["data"]["source"] == 2 && e["data"]["type"] == 2)
            .collect();
        let save = clicks
            .iter()
            .map(|e| e["data"]["id"].as_u64())
            .max_by_key(|id| {
                clicks
                    .iter()
                    .filter(|e| e["data"]["id"].as_u64() == *id)
                    .count()
            })
            .flatten();
        let on_save: Vec<&&Value> = clicks
            .iter()
            .filter(|e| e["data"]["id"].as_u64() == save)
            .collect();
        assert!(on_save.len() >= 3, "{} clicks on one target", on_save.len());
        let first = on_save[0]["timestamp"].as_i64().unwrap_or(0);
        let third = on_save[2]["timestamp"].as_i64().unwrap_or(0);
        assert!(
            third - first <= 1000,
            "three clicks took {} ms",
            third - first
        );
        let xs: Vec<i64> = on_save
            .iter()
            .filter_map(|e| e["data"]["x"].as_i64())
            .collect();
        assert!(xs.iter().max().unwrap_or(&0) - xs.iter().min().unwrap_or(&0) <= 30);
    }

    #[test]
    fn clicks_recorded_at_the_schedule_times() {
        for rage in [false, true] {
            let mut random = Random::stream(3, Purpose::Session, 4);
            let plan = schedule(1_770_000_000_000, rage);
            let events = record(&mut random, &page(ORDINARY_ROWS), &plan);
            let clicks: Vec<i64> = events
                .iter()
                .filter(|e| e["data"]["source"] == 2 && e["data"]["type"] == 2)
                .filter_map(|e| e["timestamp"].as_i64())
                .collect();
            assert_eq!(clicks, plan.clicks_ms(), "rage {rage}");
            let times: Vec<i64> = events
                .iter()
                .filter_map(|e| e["timestamp"].as_i64())
                .collect();
            assert!(
                times.windows(2).all(|pair| pair[0] <= pair[1]),
                "events out of order"
            );
            assert_eq!(times[0], plan.start_ms);
        }
    }

    /// Collects the attributes of every `tag` element under `node`.
    fn attributes_of(node: &Value, tag: &str, found: &mut Vec<Value>) {
        if node["tagName"] == tag {
            found.push(node["attributes"].clone());
        }
        for child in node["childNodes"].as_array().into_iter().flatten() {
            attributes_of(child, tag, found);
        }
    }

    #[test]
    fn snapshot_loads_no_file() {
        let mut random = Random::stream(3, Purpose::Session, 3);
        let events = record(&mut random, &page(ORDINARY_ROWS), &schedule(0, false));
        let root = &events[1]["data"]["node"];
        let mut links = Vec::new();
        attributes_of(root, "link", &mut links);
        assert_eq!(links.len(), 1);
        assert_eq!(links[0]["href"], Value::Null);
        assert!(links[0]["_cssText"]
            .as_str()
            .is_some_and(|css| css.contains("body{")));
        for tag in ["img", "script", "iframe"] {
            let mut found = Vec::new();
            attributes_of(root, tag, &mut found);
            assert!(
                found.iter().all(|a| a["src"] == Value::Null),
                "{tag}: {found:?}"
            );
        }
    }

    #[test]
    fn chunks_split_at_byte_limit() {
        let text = "a".repeat(CHUNK_BYTES * 2 + 5);
        let parts = chunks(&text);
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0].len(), CHUNK_BYTES);
        assert_eq!(parts[1].len(), CHUNK_BYTES);
        assert_eq!(parts[2].len(), 5);
        assert_eq!(parts.concat(), text);
    }

    #[test]
    fn chunk_boundary_inside_character() {
        let text = format!("{}é", "a".repeat(CHUNK_BYTES - 1));
        let parts = chunks(&text);
        assert_eq!(parts.len(), 2);
        assert!(parts[0].ends_with('\u{FFFD}'));
        assert_eq!(parts[1], "\u{FFFD}");
    }

    #[test]
    fn large_page_needs_two_chunks() {
        let mut random = Random::stream(3, Purpose::Session, 4);
        let events = record(&mut random, &page(LARGE_ROWS), &schedule(0, false));
        let snapshot = serde_json::to_string(&events[1]).expect("snapshot serializes");
        assert!(
            chunks(&snapshot).len() >= 2,
            "snapshot of {} bytes",
            snapshot.len()
        );
    }
}
