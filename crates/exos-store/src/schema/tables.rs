//! The tables of the store, in the OTel ClickHouse exporter's classic layout.

use super::{Column, Fill, Table, Type};

const ZSTD: Option<&str> = Some("ZSTD(1)");
const DELTA_ZSTD: Option<&str> = Some("Delta, ZSTD(1)");

const fn col(name: &'static str, ty: Type, codec: Option<&'static str>) -> Column {
    Column {
        name,
        ty,
        codec,
        fill: Fill::Written,
    }
}

const fn derived(name: &'static str, clickhouse: &'static str) -> Column {
    Column {
        name,
        ty: Type::LowText,
        codec: ZSTD,
        fill: Fill::Derived { clickhouse },
    }
}

/// The business-key columns EXOS adds to spans and logs, with their attribute keys.
///
/// On ClickHouse they are `MATERIALIZED` from the maps, as ClickStack does for
/// hot attributes; on DuckDB ingest writes them. A record's own attribute wins
/// over its resource's.
pub const BUSINESS_COLUMNS: [(&str, &str); 5] = [
    ("OrderId", "order.id"),
    ("OperatorId", "operator.id"),
    ("Lob", "lob"),
    ("RumSessionId", "rum.session_id"),
    ("UserId", "user.id"),
];

/// The span's own `order.status` as a column of `otel_traces`, last in the table: its
/// name and its ClickHouse expression. Unlike the business keys it has no resource
/// fallback, since a status belongs to one step of an order. The order counts by
/// status read it instead of unpacking every span's attribute map.
pub const ORDER_STATUS_COLUMN: (&str, &str) = ("OrderStatus", "SpanAttributes['order.status']");

fn business_columns(record_map: &str) -> Vec<Column> {
    // The expressions are leaked once per table at start-up: the set is fixed and tiny.
    let expr = |key: &str| -> &'static str {
        Box::leak(
            format!("if({record_map}['{key}'] != '', {record_map}['{key}'], ResourceAttributes['{key}'])")
                .into_boxed_str(),
        )
    };
    let session: &'static str = Box::leak(
        format!(
            "multiIf({record_map}['rum.session_id'] != '', {record_map}['rum.session_id'], \
             ResourceAttributes['rum.session_id'] != '', ResourceAttributes['rum.session_id'], \
             ResourceAttributes['rum.sessionId'] != '', ResourceAttributes['rum.sessionId'], {record_map}['rum.sessionId'])"
        )
        .into_boxed_str(),
    );
    // The user: the first non-empty of the user keys, each from the record, then the resource.
    let branches: Vec<String> = exos_core::attributes::USER_KEYS
        .iter()
        .flat_map(|key| {
            [
                format!("{record_map}['{key}']"),
                format!("ResourceAttributes['{key}']"),
            ]
        })
        .map(|value| format!("{value} != '', {value}"))
        .collect();
    let user: &'static str =
        Box::leak(format!("multiIf({}, '')", branches.join(", ")).into_boxed_str());
    BUSINESS_COLUMNS
        .iter()
        .map(|(name, key)| {
            let clickhouse = match *key {
                "rum.session_id" => session,
                "user.id" => user,
                _ => expr(key),
            };
            derived(name, clickhouse)
        })
        .collect()
}

fn map_indexes(maps: &[&'static str]) -> Vec<&'static str> {
    let mut out = Vec::new();
    for map in maps {
        let short = match *map {
            "ResourceAttributes" => "res_attr",
            "ScopeAttributes" => "scope_attr",
            "SpanAttributes" => "span_attr",
            "LogAttributes" => "log_attr",
            _ => "attr",
        };
        out.push(&*Box::leak(
            format!("idx_{short}_key mapKeys({map}) TYPE bloom_filter(0.01) GRANULARITY 1")
                .into_boxed_str(),
        ));
        out.push(&*Box::leak(
            format!("idx_{short}_value mapValues({map}) TYPE bloom_filter(0.01) GRANULARITY 1")
                .into_boxed_str(),
        ));
    }
    out
}

fn traces() -> Table {
    let mut columns = vec![
        col("Timestamp", Type::Time9, Some("Delta(8), ZSTD(1)")),
        col("TraceId", Type::Text, ZSTD),
        col("SpanId", Type::Text, ZSTD),
        col("ParentSpanId", Type::Text, ZSTD),
        col("TraceState", Type::Text, ZSTD),
        col("SpanName", Type::LowText, ZSTD),
        col("SpanKind", Type::LowText, ZSTD),
        col("ServiceName", Type::LowText, ZSTD),
        col("ResourceAttributes", Type::Map, ZSTD),
        col("ScopeName", Type::Text, ZSTD),
        col("ScopeVersion", Type::Text, ZSTD),
        col("SpanAttributes", Type::Map, ZSTD),
        col("Duration", Type::U64, Some("T64, ZSTD(1)")),
        col("StatusCode", Type::LowText, ZSTD),
        col("StatusMessage", Type::Text, ZSTD),
        col("Events.Timestamp", Type::ListTime9, ZSTD),
        col("Events.Name", Type::ListLowText, ZSTD),
        col("Events.Attributes", Type::ListMap, ZSTD),
        col("Links.TraceId", Type::ListText, ZSTD),
        col("Links.SpanId", Type::ListText, ZSTD),
        col("Links.TraceState", Type::ListText, ZSTD),
        col("Links.Attributes", Type::ListMap, ZSTD),
    ];
    columns.extend(attribute_items(
        "ResourceAttributeItems",
        "ResourceAttributes",
    ));
    columns.extend(attribute_items("SpanAttributeItems", "SpanAttributes"));
    columns.extend(business_columns("SpanAttributes"));
    columns.push(derived(ORDER_STATUS_COLUMN.0, ORDER_STATUS_COLUMN.1));
    let mut indexes = vec!["idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1"];
    indexes.extend(map_indexes(&["ResourceAttributes", "SpanAttributes"]));
    indexes.push("idx_duration Duration TYPE minmax GRANULARITY 1");
    indexes.push("idx_lower_span_name lower(SpanName) TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 8");
    indexes.extend(business_indexes());
    Table {
        name: "otel_traces",
        columns,
        clickhouse_indexes: indexes,
        clickhouse_partition_by: "toDate(Timestamp)",
        clickhouse_primary_key: Some("(ServiceName, SpanName, toDateTime(Timestamp))"),
        clickhouse_order_by: "(ServiceName, SpanName, toDateTime(Timestamp), Timestamp)",
        clickhouse_ttl_column: "toDateTime(Timestamp)",
        duckdb_indexes: vec![],
        duckdb_zstd_columns: vec![],
    }
}

/// Returns the exporter's `ALIAS` column that lists a map's entries as `key=value` text, for token indexes.
fn attribute_items(name: &'static str, map: &str) -> Option<Column> {
    let expr: &'static str = Box::leak(
        format!(
            "arrayMap(kv -> concat(kv.1, '=', kv.2), CAST({map}, 'Array(Tuple(String, String))'))"
        )
        .into_boxed_str(),
    );
    Some(Column {
        name,
        ty: Type::ListText,
        codec: None,
        fill: Fill::Alias { clickhouse: expr },
    })
}

fn business_indexes() -> Vec<&'static str> {
    vec![
        "idx_order_id OrderId TYPE bloom_filter(0.001) GRANULARITY 1",
        "idx_rum_session_id RumSessionId TYPE bloom_filter(0.001) GRANULARITY 1",
    ]
}

fn logs(name: &'static str) -> Table {
    let mut columns = vec![
        col("Timestamp", Type::Time9, Some("Delta(8), ZSTD(1)")),
        col("TimestampTime", Type::DateTime, None),
        col("TraceId", Type::Text, ZSTD),
        col("SpanId", Type::Text, ZSTD),
        col("TraceFlags", Type::U8, None),
        col("SeverityText", Type::LowText, ZSTD),
        col("SeverityNumber", Type::U8, None),
        col("ServiceName", Type::LowText, ZSTD),
        col("Body", Type::Text, ZSTD),
        col("ResourceSchemaUrl", Type::LowText, ZSTD),
        col("ResourceAttributes", Type::Map, ZSTD),
        col("ScopeSchemaUrl", Type::LowText, ZSTD),
        col("ScopeName", Type::Text, ZSTD),
        col("ScopeVersion", Type::LowText, ZSTD),
        col("ScopeAttributes", Type::Map, ZSTD),
        col("LogAttributes", Type::Map, ZSTD),
    ];
    columns.extend(business_columns("LogAttributes"));
    let mut indexes = vec!["idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1"];
    indexes.extend(map_indexes(&[
        "ResourceAttributes",
        "ScopeAttributes",
        "LogAttributes",
    ]));
    indexes.push("idx_body Body TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 8");
    indexes.push("idx_body_ngrambf Body TYPE ngrambf_v1(4, 32768, 3, 0) GRANULARITY 1");
    indexes.extend(business_indexes());
    Table {
        name,
        columns,
        clickhouse_indexes: indexes,
        clickhouse_partition_by: "toDate(TimestampTime)",
        clickhouse_primary_key: Some("(ServiceName, TimestampTime)"),
        clickhouse_order_by: "(ServiceName, TimestampTime, Timestamp)",
        clickhouse_ttl_column: "TimestampTime",
        duckdb_indexes: vec![],
        // Replay bodies are JSON of DOM snapshots and events: ZSTD keeps about
        // a ninth of their size (docs/BENCHMARKS.md, replay storage).
        duckdb_zstd_columns: if name == "hyperdx_sessions" {
            vec!["Body"]
        } else {
            vec![]
        },
    }
}

fn metric_head() -> Vec<Column> {
    vec![
        col("ResourceAttributes", Type::Map, ZSTD),
        col("ResourceSchemaUrl", Type::Text, ZSTD),
        col("ScopeName", Type::Text, ZSTD),
        col("ScopeVersion", Type::Text, ZSTD),
        col("ScopeAttributes", Type::Map, ZSTD),
        col("ScopeDroppedAttrCount", Type::U32, ZSTD),
        col("ScopeSchemaUrl", Type::Text, ZSTD),
        col("ServiceName", Type::LowText, ZSTD),
        col("MetricName", Type::Text, ZSTD),
        col("MetricDescription", Type::Text, ZSTD),
        col("MetricUnit", Type::Text, ZSTD),
        col("Attributes", Type::Map, ZSTD),
        col("StartTimeUnix", Type::Time9, DELTA_ZSTD),
        col("TimeUnix", Type::Time9, DELTA_ZSTD),
    ]
}

fn exemplar_columns() -> Vec<Column> {
    vec![
        col("Exemplars.FilteredAttributes", Type::ListMap, ZSTD),
        col("Exemplars.TimeUnix", Type::ListTime9, ZSTD),
        col("Exemplars.Value", Type::ListF64, ZSTD),
        col("Exemplars.SpanId", Type::ListText, ZSTD),
        col("Exemplars.TraceId", Type::ListText, ZSTD),
    ]
}

fn metric_table(name: &'static str, body: Vec<Column>) -> Table {
    let mut columns = metric_head();
    columns.extend(body);
    Table {
        name,
        columns,
        clickhouse_indexes: map_indexes(&["ResourceAttributes", "ScopeAttributes", "Attributes"]),
        clickhouse_partition_by: "toDate(TimeUnix)",
        clickhouse_primary_key: None,
        clickhouse_order_by:
            "(ServiceName, MetricName, Attributes, toUnixTimestamp64Nano(TimeUnix))",
        clickhouse_ttl_column: "toDateTime(TimeUnix)",
        duckdb_indexes: vec![],
        duckdb_zstd_columns: vec![],
    }
}

fn metrics() -> Vec<Table> {
    let flags = || col("Flags", Type::U32, ZSTD);
    let temporality = || col("AggregationTemporality", Type::I32, ZSTD);
    let mut gauge = vec![col("Value", Type::F64, ZSTD), flags()];
    gauge.extend(exemplar_columns());
    let mut sum = vec![col("Value", Type::F64, ZSTD), flags()];
    sum.extend(exemplar_columns());
    sum.extend([
        temporality(),
        col("IsMonotonic", Type::Bool, Some("Delta(1), ZSTD(1)")),
    ]);
    let mut histogram = vec![
        col("Count", Type::U64, DELTA_ZSTD),
        col("Sum", Type::F64, ZSTD),
        col("BucketCounts", Type::ListU64, ZSTD),
        col("ExplicitBounds", Type::ListF64, ZSTD),
    ];
    histogram.extend(exemplar_columns());
    histogram.extend([
        flags(),
        col("Min", Type::F64, ZSTD),
        col("Max", Type::F64, ZSTD),
        temporality(),
    ]);
    let mut exponential = vec![
        col("Count", Type::U64, DELTA_ZSTD),
        col("Sum", Type::F64, ZSTD),
        col("Scale", Type::I32, ZSTD),
        col("ZeroCount", Type::U64, ZSTD),
        col("PositiveOffset", Type::I32, ZSTD),
        col("PositiveBucketCounts", Type::ListU64, ZSTD),
        col("NegativeOffset", Type::I32, ZSTD),
        col("NegativeBucketCounts", Type::ListU64, ZSTD),
    ];
    exponential.extend(exemplar_columns());
    exponential.extend([
        flags(),
        col("Min", Type::F64, ZSTD),
        col("Max", Type::F64, ZSTD),
        temporality(),
    ]);
    let summary = vec![
        col("Count", Type::U64, DELTA_ZSTD),
        col("Sum", Type::F64, ZSTD),
        col("ValueAtQuantiles.Quantile", Type::ListF64, ZSTD),
        col("ValueAtQuantiles.Value", Type::ListF64, ZSTD),
        flags(),
    ];
    vec![
        metric_table("otel_metrics_gauge", gauge),
        metric_table("otel_metrics_sum", sum),
        metric_table("otel_metrics_histogram", histogram),
        metric_table("otel_metrics_exponential_histogram", exponential),
        metric_table("otel_metrics_summary", summary),
    ]
}

/// Returns every table of the store, built once.
pub fn all_tables() -> &'static [Table] {
    static TABLES: std::sync::OnceLock<Vec<Table>> = std::sync::OnceLock::new();
    TABLES.get_or_init(|| {
        let mut tables = vec![traces(), logs("otel_logs"), logs("hyperdx_sessions")];
        tables.extend(metrics());
        tables
    })
}

/// Returns the table called `name`.
///
/// # Panics
/// When no such table exists: callers pass the fixed names above.
pub fn table(name: &str) -> &'static Table {
    all_tables()
        .iter()
        .find(|table| table.name == name)
        .unwrap_or_else(|| panic!("no table named {name}"))
}
