//! XES writer (IEEE 1849-2016) that PM4Py and the importer of this crate
//! read back with the same content.

use std::io::{self, Write};

use quick_xml::escape::escape;

use crate::log::{AttrValue, Attribute, EventLog, NO_SYM, NO_TIME};
use crate::time::format_rfc3339;

/// Writes `log` as XES: every case with its id and attributes, every event
/// with its activity, timestamp, resource, lifecycle transition and other
/// attributes (nested, list and container values included).
pub fn write_xes(log: &EventLog, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
    writeln!(
        out,
        "<log xes.version=\"1849-2016\" xes.features=\"nested-attributes\">"
    )?;
    for (name, prefix, uri) in &log.extensions {
        writeln!(
            out,
            "  <extension name=\"{}\" prefix=\"{}\" uri=\"{}\"/>",
            escape(name),
            escape(prefix),
            escape(uri)
        )?;
    }
    for attribute in &log.log_attributes {
        write_attribute(log, attribute, 1, out)?;
    }
    for case in 0..log.case_count() {
        writeln!(out, "  <trace>")?;
        writeln!(
            out,
            "    <string key=\"concept:name\" value=\"{}\"/>",
            escape(&log.case_ids[case])
        )?;
        for attribute in &log.case_attributes[case] {
            write_attribute(log, attribute, 2, out)?;
        }
        for event in log.case_range(case) {
            write_event(log, event, out)?;
        }
        writeln!(out, "  </trace>")?;
    }
    writeln!(out, "</log>")
}

fn write_event(log: &EventLog, event: usize, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "    <event>")?;
    writeln!(
        out,
        "      <string key=\"concept:name\" value=\"{}\"/>",
        escape(log.activity_name(log.activity[event]))
    )?;
    if log.timestamp[event] != NO_TIME {
        writeln!(
            out,
            "      <date key=\"time:timestamp\" value=\"{}\"/>",
            format_rfc3339(log.timestamp[event])
        )?;
    }
    if log.start[event] != NO_TIME {
        writeln!(
            out,
            "      <date key=\"start_timestamp\" value=\"{}\"/>",
            format_rfc3339(log.start[event])
        )?;
    }
    if log.resource[event] != NO_SYM {
        writeln!(
            out,
            "      <string key=\"org:resource\" value=\"{}\"/>",
            escape(log.resources.name(log.resource[event]))
        )?;
    }
    if log.lifecycle[event] != NO_SYM {
        writeln!(
            out,
            "      <string key=\"lifecycle:transition\" value=\"{}\"/>",
            escape(log.lifecycles.name(log.lifecycle[event]))
        )?;
    }
    for attribute in log.attributes_of(event) {
        write_attribute(log, attribute, 3, out)?;
    }
    writeln!(out, "    </event>")
}

fn write_attribute(
    log: &EventLog,
    attribute: &Attribute,
    depth: usize,
    out: &mut impl Write,
) -> io::Result<()> {
    let indent = "  ".repeat(depth);
    let key = escape(log.keys.name(attribute.key));
    let (tag, value) = match &attribute.value {
        AttrValue::Str(id) => ("string", Some(log.values.name(*id).to_string())),
        AttrValue::Id(id) => ("id", Some(log.values.name(*id).to_string())),
        AttrValue::Int(number) => ("int", Some(number.to_string())),
        AttrValue::Float(number) => ("float", Some(number.to_string())),
        AttrValue::Bool(flag) => ("boolean", Some(flag.to_string())),
        AttrValue::Time(time) => ("date", Some(format_rfc3339(*time))),
        AttrValue::List(_) => ("list", None),
        AttrValue::Container(_) => ("container", None),
    };
    let value_text = value
        .map(|v| format!(" value=\"{}\"", escape(&v)))
        .unwrap_or_default();
    let items = match &attribute.value {
        AttrValue::List(items) | AttrValue::Container(items) => items.as_slice(),
        _ => &[],
    };
    if items.is_empty() && attribute.nested.is_empty() {
        return writeln!(out, "{indent}<{tag} key=\"{key}\"{value_text}/>");
    }
    writeln!(out, "{indent}<{tag} key=\"{key}\"{value_text}>")?;
    if matches!(attribute.value, AttrValue::List(_)) {
        writeln!(out, "{indent}  <values>")?;
        for item in items {
            write_attribute(log, item, depth + 2, out)?;
        }
        writeln!(out, "{indent}  </values>")?;
    } else {
        for item in items {
            write_attribute(log, item, depth + 1, out)?;
        }
    }
    for nested in &attribute.nested {
        write_attribute(log, nested, depth + 1, out)?;
    }
    writeln!(out, "{indent}</{tag}>")
}
