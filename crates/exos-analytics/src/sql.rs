//! The dialect layer: every piece of SQL that DuckDB and ClickHouse spell differently.
//!
//! Queries in this crate are written once, with the differing pieces (literals,
//! time conversion, conditional aggregates, map and list access, regular
//! expressions) rendered by [`Sql`]. Two rules keep user input out of the SQL
//! text: every user value becomes a literal through [`Sql::text`], the one
//! escaping function, and identifiers come only from the allow-list in
//! `filter.rs` or from constants in this crate.
//!
//! Both engines use RE2 for regular expressions, so one pattern matches the
//! same text on either store.

use exos_store::Dialect;

/// Renders SQL fragments for one store's dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sql {
    dialect: Dialect,
}

/// The condition that marks an error span, in both spellings of the status code.
pub use exos_store::rollup::IS_ERROR_SQL as IS_ERROR;

impl Sql {
    /// Creates the renderer for `dialect`.
    pub fn new(dialect: Dialect) -> Self {
        Self { dialect }
    }

    /// Returns the dialect this renderer writes.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    fn pick(&self, duckdb: String, clickhouse: String) -> String {
        match self.dialect {
            Dialect::DuckDb => duckdb,
            Dialect::ClickHouse => clickhouse,
        }
    }

    /// Renders `value` as a string literal; the only way user text enters SQL.
    ///
    /// Both dialects end a literal at an undoubled single quote, so quotes are
    /// doubled. ClickHouse also treats a backslash as an escape character inside
    /// literals, so there every backslash is doubled as well; DuckDB keeps
    /// backslashes literally. The `clickhouse` client crate (0.15) reads every `?`
    /// of the SQL text as a bind parameter, literals included, so on ClickHouse a
    /// `?` is written as the escape `\x3F`. A NUL character cannot appear in a DuckDB string
    /// literal, so it becomes U+FFFD on both dialects; request parsing rejects
    /// NUL before it gets here.
    pub fn text(&self, value: &str) -> String {
        let mut out = String::with_capacity(value.len() + 2);
        out.push('\'');
        for c in value.chars() {
            match c {
                '\'' => out.push_str("''"),
                '\\' if self.dialect == Dialect::ClickHouse => out.push_str("\\\\"),
                '?' if self.dialect == Dialect::ClickHouse => out.push_str("\\x3F"),
                '\0' => out.push('\u{FFFD}'),
                other => out.push(other),
            }
        }
        out.push('\'');
        out
    }

    /// Renders a list of string literals for `IN (…)`; `('')` when empty, so the SQL stays valid.
    pub fn text_list<S: AsRef<str>>(&self, values: &[S]) -> String {
        if values.is_empty() {
            return "('')".into();
        }
        let items: Vec<String> = values.iter().map(|v| self.text(v.as_ref())).collect();
        format!("({})", items.join(", "))
    }

    /// Quotes an identifier from this crate's allow-lists (dotted names such as `Events.Name` included).
    pub fn column(&self, name: &'static str) -> String {
        match self.dialect {
            Dialect::DuckDb => format!("\"{name}\""),
            Dialect::ClickHouse => format!("`{name}`"),
        }
    }

    /// Renders a nanosecond timestamp as a constant of the `Timestamp` columns' type.
    ///
    /// DuckDB gets a cast text literal: its planner folds that into a constant
    /// and skips row groups by their min/max statistics. `make_timestamp_ns(n)`
    /// is not folded and was evaluated row by row (13 to 75 ms instead of 0.4 ms
    /// for a count over ten million spans, DuckDB 1.5.6).
    pub fn time(&self, epoch_ns: i64) -> String {
        self.pick(
            format!("'{}'::TIMESTAMP_NS", crate::time::format_ns(epoch_ns)),
            format!("fromUnixTimestamp64Nano(toInt64({epoch_ns}))"),
        )
    }

    /// Renders a whole-second constant of ClickHouse's `DateTime` type (`TimestampTime`).
    fn seconds_time(&self, epoch_s: i64) -> String {
        format!("toDateTime({epoch_s})")
    }

    /// Renders a timestamp column as nanoseconds since the epoch (a signed 64-bit integer).
    ///
    /// Responses carry times as integers and Rust formats them, so both stores print the
    /// same text whatever ClickHouse's server time zone is.
    pub fn epoch_ns(&self, column: &str) -> String {
        self.pick(
            format!("epoch_ns({column})"),
            format!("toUnixTimestamp64Nano({column})"),
        )
    }

    /// Renders a list of timestamps as a list of nanoseconds since the epoch.
    pub fn epoch_ns_list(&self, column: &str) -> String {
        self.pick(
            format!("list_transform({column}, x -> epoch_ns(x))"),
            format!("arrayMap(x -> toUnixTimestamp64Nano(x), {column})"),
        )
    }

    /// Renders the start of the `width_ns` bucket that `column` falls in, as epoch nanoseconds.
    ///
    /// Buckets start at multiples of the width since the Unix epoch. Integer division is
    /// used instead of DuckDB's `time_bucket` and ClickHouse's `toStartOfInterval`, because
    /// those align to different origins (2000-01-03 and the server's local day) for some widths.
    pub fn bucket_ns(&self, column: &str, width_ns: i64) -> String {
        let epoch = self.epoch_ns(column);
        self.pick(
            format!("({epoch} // {width_ns}) * {width_ns}"),
            format!("intDiv({epoch}, {width_ns}) * {width_ns}"),
        )
    }

    /// Renders `Timestamp >= from AND Timestamp < to` for spans and metrics' own time column.
    pub fn time_range(&self, column: &str, from_ns: i64, to_ns: i64) -> String {
        format!(
            "{column} >= {} AND {column} < {}",
            self.time(from_ns),
            self.time(to_ns)
        )
    }

    /// Renders the time range for a logs-layout table.
    ///
    /// ClickHouse partitions and sorts those tables by the whole-second `TimestampTime`,
    /// so the range is repeated on it there to prune parts; DuckDB has only `Timestamp`.
    pub fn log_time_range(&self, from_ns: i64, to_ns: i64) -> String {
        let exact = self.time_range("Timestamp", from_ns, to_ns);
        match self.dialect {
            Dialect::DuckDb => exact,
            Dialect::ClickHouse => format!(
                "TimestampTime >= {} AND TimestampTime <= {} AND {exact}",
                self.seconds_time(from_ns.div_euclid(1_000_000_000)),
                self.seconds_time(to_ns.div_euclid(1_000_000_000))
            ),
        }
    }

    /// Renders `count(*)` of the rows where `condition` holds.
    pub fn count_if(&self, condition: &str) -> String {
        self.pick(
            format!("count(*) FILTER (WHERE {condition})"),
            format!("countIf({condition})"),
        )
    }

    /// Renders the sum of an unsigned count column as a signed 64-bit integer (0 when no rows).
    pub fn sum_count(&self, column: &str) -> String {
        self.pick(
            format!("CAST(coalesce(sum({column}), 0) AS BIGINT)"),
            format!("toInt64(sum({column}))"),
        )
    }

    /// Renders the sum of an aggregate over every group of the query, before its `LIMIT`.
    pub fn sum_over_groups(&self, aggregate: &str) -> String {
        self.pick(
            format!("CAST(sum({aggregate}) OVER () AS BIGINT)"),
            format!("toInt64(sum({aggregate}) OVER ())"),
        )
    }

    /// Renders the sum of a count column over the rows that meet `condition`.
    pub fn sum_count_if(&self, column: &str, condition: &str) -> String {
        self.pick(
            format!("CAST(coalesce(sum({column}) FILTER (WHERE {condition}), 0) AS BIGINT)"),
            format!("toInt64(sumIf({column}, {condition}))"),
        )
    }

    /// Renders the start of the `width_ns` bucket holding an integer nanosecond column.
    pub fn int_bucket(&self, column: &str, width_ns: i64) -> String {
        self.pick(
            format!("({column} // {width_ns}) * {width_ns}"),
            format!("intDiv({column}, {width_ns}) * {width_ns}"),
        )
    }

    /// Renders the number of distinct non-empty values of a text expression.
    pub fn count_distinct_nonempty(&self, expr: &str) -> String {
        self.pick(
            format!("count(DISTINCT nullif({expr}, ''))"),
            format!("uniqExactIf({expr}, {expr} != '')"),
        )
    }

    /// Renders the value of `value` on the row with the greatest `order`, among rows where
    /// `condition` holds; `''` when none does.
    ///
    /// Ties on `order` are broken by the greater `value`, so both stores pick the same row.
    pub fn last_value_if(&self, value: &str, order: &str, condition: &str) -> String {
        self.pick(
            format!(
                "coalesce(arg_max({value}, ({order}, {value})) FILTER (WHERE {condition}), '')"
            ),
            format!("argMaxIf({value}, ({order}, {value}), {condition})"),
        )
    }

    /// Renders the value of `value` on the row with the greatest `order`; ties take the greatest value.
    pub fn last_value(&self, value: &str, order: &str) -> String {
        self.pick(
            format!("arg_max({value}, ({order}, {value}))"),
            format!("argMax({value}, ({order}, {value}))"),
        )
    }

    /// Renders the list of distinct values of `expr` in a group (unordered: sort in Rust).
    pub fn distinct_list(&self, expr: &str) -> String {
        self.pick(
            format!("list(DISTINCT {expr})"),
            format!("groupUniqArray({expr})"),
        )
    }

    /// Renders a map lookup that yields `''` for a missing key, as ClickHouse does.
    pub fn map_value(&self, map: &str, key: &str) -> String {
        let key = self.text(key);
        self.pick(
            format!("coalesce({map}[{key}], '')"),
            format!("{map}[{key}]"),
        )
    }

    /// Renders the list of a map's keys.
    pub fn map_keys(&self, map: &str) -> String {
        self.pick(format!("map_keys({map})"), format!("mapKeys({map})"))
    }

    /// Renders a map's keys, each prefixed with `prefix` (a constant of this crate).
    pub fn prefixed_map_keys(&self, map: &str, prefix: &str) -> String {
        let prefix = self.text(prefix);
        self.pick(
            format!("list_transform(map_keys({map}), k -> {prefix} || k)"),
            format!("arrayMap(k -> concat({prefix}, k), mapKeys({map}))"),
        )
    }

    /// Renders the concatenation of list expressions.
    pub fn concat_lists(&self, lists: &[String]) -> String {
        self.pick(
            format!("flatten([{}])", lists.join(", ")),
            format!("arrayConcat({})", lists.join(", ")),
        )
    }

    /// Renders a count of each non-empty item of the list `list` over the rows of `rows_sql`,
    /// as rows `(item, count)`, most frequent first, then by item.
    pub fn count_list_items(&self, list: &str, rows_sql: &str, limit: usize) -> String {
        match self.dialect {
            Dialect::DuckDb => format!(
                "SELECT item, count(*) AS n FROM (SELECT unnest({list}) AS item FROM ({rows_sql}) AS sampled) AS items \
                 WHERE item != '' GROUP BY item ORDER BY n DESC, item LIMIT {limit}"
            ),
            Dialect::ClickHouse => format!(
                "SELECT item, count() AS n FROM ({rows_sql}) AS sampled ARRAY JOIN {list} AS item \
                 WHERE item != '' GROUP BY item ORDER BY n DESC, item LIMIT {limit}"
            ),
        }
    }

    /// Renders whether any value of a map contains `needle`, ignoring case: the
    /// store lower-cases both sides with its own function.
    ///
    /// On DuckDB, lower-casing each of a map's values is the main cost (4 s over
    /// 10M spans of 20 attributes, measured). So a case-insensitive RE2 search
    /// over the values joined into one text first rules out most rows, about
    /// twice as fast. The exact test then runs on the remaining rows. The first
    /// test keeps every row the second would: see [`case_insensitive_literal`].
    pub fn map_values_contain(&self, map: &str, needle: &str) -> String {
        let pattern = self.text(&case_insensitive_literal(needle));
        let needle = self.text(needle);
        self.pick(
            format!(
                "(regexp_matches(array_to_string(map_values({map}), chr(1)), {pattern}) \
                 AND len(list_filter(map_values({map}), v -> contains(lower(v), lower({needle})))) > 0)"
            ),
            format!(
                "arrayExists(v -> positionUTF8(lowerUTF8(v), lowerUTF8({needle})) > 0, mapValues({map}))"
            ),
        )
    }

    /// Renders whether a text expression contains `needle`, ignoring case: the store
    /// lower-cases both sides with its own function.
    pub fn contains(&self, expr: &str, needle: &str) -> String {
        let needle = self.text(needle);
        self.pick(
            format!("contains(lower({expr}), lower({needle}))"),
            format!("positionUTF8(lowerUTF8({expr}), lowerUTF8({needle})) > 0"),
        )
    }

    /// Renders whether a text expression starts with `prefix` (case-sensitive).
    pub fn starts_with(&self, expr: &str, prefix: &str) -> String {
        let prefix = self.text(prefix);
        self.pick(
            format!("starts_with({expr}, {prefix})"),
            format!("startsWith({expr}, {prefix})"),
        )
    }

    /// Renders the first non-empty value of `key` among a span's event attribute maps, else `''`.
    ///
    /// Used for the `exception.*` attributes of a span's exception event.
    pub fn first_event_attribute(&self, key: &str) -> String {
        let key = self.text(key);
        let events = self.column("Events.Attributes");
        self.pick(
            format!(
                "coalesce(list_filter(list_transform({events}, a -> a[{key}]), x -> x IS NOT NULL AND x != '')[1], '')"
            ),
            format!("arrayFirst(x -> x != '', arrayMap(a -> a[{key}], {events}))"),
        )
    }

    /// Renders `expr` with every match of the RE2 `pattern` replaced by `replacement` (no back-references).
    pub fn regexp_replace_all(&self, expr: &str, pattern: &str, replacement: &str) -> String {
        let (pattern, replacement) = (self.text(pattern), self.text(replacement));
        self.pick(
            format!("regexp_replace({expr}, {pattern}, {replacement}, 'g')"),
            format!("replaceRegexpAll({expr}, {pattern}, {replacement})"),
        )
    }

    /// Renders the first capture group of the RE2 `pattern`'s first match in `expr`, else `''`.
    pub fn regexp_first_group(&self, expr: &str, pattern: &str) -> String {
        let pattern = self.text(pattern);
        self.pick(
            format!("regexp_extract({expr}, {pattern}, 1)"),
            format!("extract({expr}, {pattern})"),
        )
    }

    /// Renders the MD5 digest of a text expression as 32 lowercase hex digits.
    pub fn md5_hex(&self, expr: &str) -> String {
        self.pick(format!("md5({expr})"), format!("lower(hex(MD5({expr})))"))
    }

    /// Renders a one-character newline string, written as a function call so the SQL
    /// text stays on one line in logs.
    pub fn newline(&self) -> String {
        self.pick("chr(10)".into(), "char(10)".into())
    }

    /// Renders the first `count` characters of a text expression.
    pub fn left(&self, expr: &str, count: usize) -> String {
        self.pick(
            format!("left({expr}, {count})"),
            format!("leftUTF8({expr}, {count})"),
        )
    }

    /// Renders a log record's severity text, derived from its number when the text is empty.
    ///
    /// The same derivation as the `logs` view, so filters and responses agree with it.
    pub fn severity_text(&self) -> String {
        let ladder = "WHEN SeverityNumber >= 21 THEN 'FATAL' WHEN SeverityNumber >= 17 THEN 'ERROR' \
                      WHEN SeverityNumber >= 13 THEN 'WARN' WHEN SeverityNumber >= 9 THEN 'INFO' \
                      WHEN SeverityNumber >= 5 THEN 'DEBUG' WHEN SeverityNumber >= 1 THEN 'TRACE' ELSE '' END";
        format!("(CASE WHEN SeverityText != '' THEN SeverityText {ladder})")
    }

    /// Renders the latency-histogram bin of a duration in nanoseconds.
    ///
    /// Bin `b` contains durations in [2^(b/8), 2^((b+1)/8)) ns: the OpenTelemetry
    /// exponential histogram mapping at scale 3. The small offset keeps exact powers
    /// of two from landing on either side of a boundary depending on the last bit of
    /// each engine's `log2`.
    pub fn duration_bin(&self, column: &str) -> String {
        // The rollups count spans with the same expression.
        exos_store::rollup::duration_bin_sql(self.dialect, column)
    }

    /// Renders the value of `expr` on the previous row of the window, `default` on the first.
    ///
    /// ClickHouse's `lagInFrame` reads only inside the frame, so the frame is spelled out.
    pub fn lag(&self, expr: &str, default: &str, partition: &str, order: &str) -> String {
        self.pick(
            format!(
                "coalesce(lag({expr}) OVER (PARTITION BY {partition} ORDER BY {order}), {default})"
            ),
            format!(
                "lagInFrame({expr}, 1, {default}) OVER (PARTITION BY {partition} ORDER BY {order} \
                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
            ),
        )
    }

    /// Renders the value of `expr` on the next row of the window, `default` on the last.
    pub fn lead(&self, expr: &str, default: &str, partition: &str, order: &str) -> String {
        self.pick(
            format!("coalesce(lead({expr}) OVER (PARTITION BY {partition} ORDER BY {order}), {default})"),
            format!(
                "leadInFrame({expr}, 1, {default}) OVER (PARTITION BY {partition} ORDER BY {order} \
                 ROWS BETWEEN CURRENT ROW AND 1 FOLLOWING)"
            ),
        )
    }

    /// Renders the 1-based row number in the window, as a signed 64-bit integer.
    pub fn row_number(&self, partition: &str, order: &str) -> String {
        self.int64(&format!(
            "row_number() OVER (PARTITION BY {partition} ORDER BY {order})"
        ))
    }

    /// Renders a text expression as plain text (ClickHouse: not `LowCardinality`), so window
    /// functions can mix it with literal defaults.
    pub fn plain_text(&self, expr: &str) -> String {
        self.pick(expr.to_string(), format!("CAST({expr} AS String)"))
    }

    /// Renders the integer quotient of two integer expressions (the floor for non-negative ones).
    pub fn int_div(&self, dividend: &str, divisor: &str) -> String {
        self.pick(
            format!("({dividend} // {divisor})"),
            format!("intDiv({dividend}, {divisor})"),
        )
    }

    /// Renders a cast to a signed 64-bit integer, so differences of counters never wrap.
    pub fn int64(&self, expr: &str) -> String {
        self.pick(
            format!("CAST({expr} AS BIGINT)"),
            format!("toInt64({expr})"),
        )
    }

    /// Renders a cast to a 64-bit float; `NULL` when the text is no number.
    pub fn try_float(&self, expr: &str) -> String {
        self.pick(
            format!("TRY_CAST({expr} AS DOUBLE)"),
            format!("toFloat64OrNull({expr})"),
        )
    }

    /// Renders the `q` quantile of `expr` with linear interpolation between the closest
    /// ranks (type 7 of Hyndman and Fan, as numpy's default), the same on both stores.
    pub fn quantile(&self, expr: &str, q: f64) -> String {
        self.pick(
            format!("quantile_cont({expr}, {q})"),
            format!("quantileExactInclusive({q})({expr})"),
        )
    }

    /// Renders the number of distinct values of `expr`.
    pub fn count_distinct(&self, expr: &str) -> String {
        self.pick(
            format!("count(DISTINCT {expr})"),
            format!("uniqExact({expr})"),
        )
    }

    /// Renders a `LIMIT` clause.
    pub fn limit(&self, rows: usize) -> String {
        format!("LIMIT {rows}")
    }
}

/// Returns an RE2 pattern that finds `needle` in any text that contains it once
/// both are lower-cased by DuckDB's `lower()`.
///
/// RE2's `(?i)` matches a character against its case-folding class, which also
/// contains the character's lower-case form, with one exception among the
/// characters DuckDB lower-cases: `lower('İ')` (U+0130) is `i`, but `İ` is not
/// in the class of `i`. So `i`, `I` and `İ` become `[iİ]`. `tests/search.rs`
/// checks this against every pair of characters with the same lower-case form.
/// ASCII punctuation is escaped, which RE2 reads as the character itself.
pub fn case_insensitive_literal(needle: &str) -> String {
    let mut pattern = String::from("(?i)");
    for c in needle.chars() {
        match c {
            'i' | 'I' | '\u{130}' => pattern.push_str("[i\u{130}]"),
            c if c.is_ascii_punctuation() => {
                pattern.push('\\');
                pattern.push(c);
            }
            c => pattern.push(c),
        }
    }
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_patterns_escape_punctuation() {
        assert_eq!(case_insensitive_literal("a.b*"), "(?i)a\\.b\\*");
        assert_eq!(case_insensitive_literal("If"), "(?i)[i\u{130}]f");
    }

    const DUCK: Sql = Sql {
        dialect: Dialect::DuckDb,
    };
    const CLICK: Sql = Sql {
        dialect: Dialect::ClickHouse,
    };

    #[test]
    fn quotes_are_doubled_on_both() {
        assert_eq!(DUCK.text("it's"), "'it''s'");
        assert_eq!(CLICK.text("it's"), "'it''s'");
    }

    #[test]
    fn backslashes_are_escaped_on_clickhouse_only() {
        assert_eq!(DUCK.text(r"a\b"), r"'a\b'");
        assert_eq!(CLICK.text(r"a\b"), r"'a\\b'");
    }

    #[test]
    fn injection_attempts_stay_inside_the_literal() {
        let attempts = [
            "x' OR '1'='1",
            r"x\' OR 1=1 --",
            r"\\'; DROP TABLE otel_traces; --",
            "'); SELECT * FROM system.users; --",
        ];
        for sql in [DUCK, CLICK] {
            for attempt in attempts {
                let literal = sql.text(attempt);
                // Inside the quotes no quote may stand alone: quotes come in doubled pairs,
                // and on ClickHouse no backslash escapes the closing quote.
                let inner = &literal[1..literal.len() - 1];
                let unescaped = match sql.dialect {
                    Dialect::DuckDb => inner.replace("''", ""),
                    Dialect::ClickHouse => inner.replace("\\\\", "").replace("''", ""),
                };
                assert!(!unescaped.contains('\''), "{literal}");
                if sql.dialect == Dialect::ClickHouse {
                    assert!(!unescaped.contains('\\'), "{literal}");
                }
            }
        }
    }

    #[test]
    fn question_marks_are_escaped_on_clickhouse_only() {
        assert_eq!(DUCK.text("(?m)"), "'(?m)'");
        assert_eq!(CLICK.text("(?m)"), r"'(\x3Fm)'");
    }

    #[test]
    fn nul_is_replaced() {
        assert_eq!(DUCK.text("a\0b"), "'a\u{FFFD}b'");
    }

    #[test]
    fn empty_lists_stay_valid() {
        assert_eq!(DUCK.text_list::<&str>(&[]), "('')");
        assert_eq!(CLICK.text_list(&["a", "b'"]), "('a', 'b''')");
    }

    #[test]
    fn buckets_use_integer_division() {
        assert_eq!(
            DUCK.bucket_ns("Timestamp", 60_000_000_000),
            "(epoch_ns(Timestamp) // 60000000000) * 60000000000"
        );
        assert_eq!(
            CLICK.bucket_ns("Timestamp", 60_000_000_000),
            "intDiv(toUnixTimestamp64Nano(Timestamp), 60000000000) * 60000000000"
        );
    }

    #[test]
    fn log_ranges_prune_by_second_on_clickhouse() {
        let range = CLICK.log_time_range(1_500_000_000, 3_500_000_000);
        assert!(
            range.starts_with("TimestampTime >= toDateTime(1) AND TimestampTime <= toDateTime(3)")
        );
        assert!(!DUCK.log_time_range(0, 1).contains("TimestampTime"));
    }
}
