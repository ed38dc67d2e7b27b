//! Arrow query results to JSON values for the SQL API.
//!
//! Numbers stay numbers (non-finite doubles become `null`, since JSON has no
//! NaN), timestamps become DuckDB's text form (`2026-01-02 03:04:05.123456789`),
//! maps become objects, lists arrays. Anything else goes through Arrow's
//! display formatter as text.

use duckdb::arrow::array::{Array, AsArray};
use duckdb::arrow::datatypes::*;
use duckdb::arrow::util::display::{ArrayFormatter, FormatOptions};
use serde_json::{Map, Number, Value};

/// Returns row `row` of `array` as JSON.
pub fn value(array: &dyn Array, row: usize) -> Value {
    if array.is_null(row) {
        return Value::Null;
    }
    match array.data_type() {
        DataType::Boolean => Value::Bool(array.as_boolean().value(row)),
        DataType::Int8 => array.as_primitive::<Int8Type>().value(row).into(),
        DataType::Int16 => array.as_primitive::<Int16Type>().value(row).into(),
        DataType::Int32 => array.as_primitive::<Int32Type>().value(row).into(),
        DataType::Int64 => array.as_primitive::<Int64Type>().value(row).into(),
        DataType::UInt8 => array.as_primitive::<UInt8Type>().value(row).into(),
        DataType::UInt16 => array.as_primitive::<UInt16Type>().value(row).into(),
        DataType::UInt32 => array.as_primitive::<UInt32Type>().value(row).into(),
        DataType::UInt64 => array.as_primitive::<UInt64Type>().value(row).into(),
        DataType::Float32 => float(array.as_primitive::<Float32Type>().value(row) as f64),
        DataType::Float64 => float(array.as_primitive::<Float64Type>().value(row)),
        DataType::Utf8 => Value::String(array.as_string::<i32>().value(row).to_string()),
        DataType::LargeUtf8 => Value::String(array.as_string::<i64>().value(row).to_string()),
        DataType::Utf8View => Value::String(array.as_string_view().value(row).to_string()),
        DataType::Timestamp(unit, Some(_)) => {
            let utc = without_zone(array, *unit);
            Value::String(timestamp_text(&formatted(utc.as_ref(), row)) + "+00")
        }
        DataType::Timestamp(_, None) => Value::String(timestamp_text(&formatted(array, row))),
        DataType::Decimal128(_, scale) => decimal(&formatted(array, row), *scale),
        DataType::List(_) => list(&array.as_list::<i32>().value(row)),
        DataType::LargeList(_) => list(&array.as_list::<i64>().value(row)),
        DataType::FixedSizeList(_, _) => list(&array.as_fixed_size_list().value(row)),
        DataType::Map(_, _) => map(array, row),
        DataType::Struct(fields) => {
            let structure = array.as_struct();
            let mut object = Map::new();
            for (index, field) in fields.iter().enumerate() {
                object.insert(
                    field.name().clone(),
                    value(structure.column(index).as_ref(), row),
                );
            }
            Value::Object(object)
        }
        _ => Value::String(formatted(array, row)),
    }
}

/// Returns a `TIMESTAMP WITH TIME ZONE` column as the same instants without a zone.
///
/// DuckDB names its session zone (`Etc/UTC`) on such columns, and the Arrow formatter
/// cannot read named zones without the `chrono-tz` feature. The values are UTC
/// instants either way, and the caller marks the text with `+00`.
fn without_zone(array: &dyn Array, unit: TimeUnit) -> std::sync::Arc<dyn Array> {
    match unit {
        TimeUnit::Second => zoneless::<TimestampSecondType>(array),
        TimeUnit::Millisecond => zoneless::<TimestampMillisecondType>(array),
        TimeUnit::Microsecond => zoneless::<TimestampMicrosecondType>(array),
        TimeUnit::Nanosecond => zoneless::<TimestampNanosecondType>(array),
    }
}

fn zoneless<T: ArrowTimestampType>(array: &dyn Array) -> std::sync::Arc<dyn Array> {
    std::sync::Arc::new(
        array
            .as_primitive::<T>()
            .clone()
            .with_timezone_opt(None::<String>),
    )
}

/// Rewrites Arrow's ISO text (`2026-01-02T03:04:05.500`) in DuckDB's form
/// (`2026-01-02 03:04:05.5`): a space separator and no trailing zeros in the fraction.
fn timestamp_text(iso: &str) -> String {
    let mut text = iso.replacen('T', " ", 1);
    if let Some(dot) = text.find('.') {
        let end = text[dot..]
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .map_or(text.len(), |i| dot + i);
        let fraction = text[dot + 1..end].trim_end_matches('0').to_string();
        let suffix = text[end..].to_string();
        text.truncate(dot);
        if !fraction.is_empty() {
            text.push('.');
            text.push_str(&fraction);
        }
        text.push_str(&suffix);
    }
    text
}

/// Returns a decimal as a JSON number, exactly when it is integral and fits in 64 bits.
///
/// `sum()` of integers is HUGEINT, which Arrow carries as DECIMAL(38,0). Other decimals
/// become the nearest double, and integers beyond 64 bits stay text.
fn decimal(text: &str, scale: i8) -> Value {
    if scale == 0 {
        if let Ok(number) = text.parse::<i64>() {
            return number.into();
        }
        if let Ok(number) = text.parse::<u64>() {
            return number.into();
        }
    }
    match text.parse::<f64>() {
        Ok(number) if scale != 0 => float(number),
        _ => Value::String(text.to_string()),
    }
}

fn float(number: f64) -> Value {
    Number::from_f64(number).map_or(Value::Null, Value::Number)
}

fn list(items: &dyn Array) -> Value {
    Value::Array((0..items.len()).map(|index| value(items, index)).collect())
}

fn map(array: &dyn Array, row: usize) -> Value {
    let entries = array.as_map().value(row);
    let keys = entries.column(0);
    let values = entries.column(1);
    let mut object = Map::new();
    for index in 0..entries.len() {
        let key = match value(keys.as_ref(), index) {
            Value::String(text) => text,
            other => other.to_string(),
        };
        object.insert(key, value(values.as_ref(), index));
    }
    Value::Object(object)
}

fn formatted(array: &dyn Array, row: usize) -> String {
    let options = FormatOptions::default();
    match ArrayFormatter::try_new(array, &options) {
        Ok(formatter) => formatter.value(row).to_string(),
        Err(error) => format!("<unprintable: {error}>"),
    }
}

/// Names an Arrow type with the DuckDB type name users see in DuckDB itself.
pub fn type_name(data_type: &DataType) -> String {
    match data_type {
        DataType::Null => "NULL".into(),
        DataType::Boolean => "BOOLEAN".into(),
        DataType::Int8 => "TINYINT".into(),
        DataType::Int16 => "SMALLINT".into(),
        DataType::Int32 => "INTEGER".into(),
        DataType::Int64 => "BIGINT".into(),
        DataType::UInt8 => "UTINYINT".into(),
        DataType::UInt16 => "USMALLINT".into(),
        DataType::UInt32 => "UINTEGER".into(),
        DataType::UInt64 => "UBIGINT".into(),
        DataType::Float32 => "FLOAT".into(),
        DataType::Float64 => "DOUBLE".into(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "VARCHAR".into(),
        DataType::Timestamp(TimeUnit::Nanosecond, None) => "TIMESTAMP_NS".into(),
        DataType::Timestamp(TimeUnit::Millisecond, None) => "TIMESTAMP_MS".into(),
        DataType::Timestamp(TimeUnit::Second, None) => "TIMESTAMP_S".into(),
        DataType::Timestamp(_, None) => "TIMESTAMP".into(),
        DataType::Timestamp(_, Some(_)) => "TIMESTAMP WITH TIME ZONE".into(),
        DataType::Date32 | DataType::Date64 => "DATE".into(),
        DataType::List(field) | DataType::LargeList(field) | DataType::FixedSizeList(field, _) => {
            format!("{}[]", type_name(field.data_type()))
        }
        DataType::Map(field, _) => match field.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => format!(
                "MAP({}, {})",
                type_name(kv[0].data_type()),
                type_name(kv[1].data_type())
            ),
            other => format!("MAP({other})"),
        },
        DataType::Struct(fields) => {
            let inner: Vec<String> = fields
                .iter()
                .map(|f| format!("{} {}", f.name(), type_name(f.data_type())))
                .collect();
            format!("STRUCT({})", inner.join(", "))
        }
        DataType::Decimal128(38, 0) => "HUGEINT".into(),
        DataType::Decimal128(precision, scale) => format!("DECIMAL({precision},{scale})"),
        other => other.to_string().to_uppercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_use_duckdb_text_form() {
        assert_eq!(
            timestamp_text("2026-01-02T03:04:05.500"),
            "2026-01-02 03:04:05.5"
        );
        assert_eq!(
            timestamp_text("2026-01-02T03:04:05.123456789"),
            "2026-01-02 03:04:05.123456789"
        );
        assert_eq!(
            timestamp_text("2026-01-02T03:04:05.000"),
            "2026-01-02 03:04:05"
        );
        assert_eq!(timestamp_text("2026-01-02T03:04:05"), "2026-01-02 03:04:05");
    }

    #[test]
    fn decimals_become_numbers() {
        assert_eq!(decimal("3", 0), serde_json::json!(3));
        assert_eq!(
            decimal("18446744073709551615", 0),
            serde_json::json!(u64::MAX)
        );
        assert_eq!(decimal("1.5", 1), serde_json::json!(1.5));
        assert_eq!(
            decimal("170141183460469231731687303715884105727", 0),
            serde_json::json!("170141183460469231731687303715884105727")
        );
    }
}
