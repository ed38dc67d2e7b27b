// The SQL editor: CodeMirror 6 with the store's SQL flavour (DuckDB or ClickHouse),
// completion of tables, columns and map keys from GET /api/schema, and Ctrl/Cmd+Enter to run.

import { EditorView, basicSetup } from "codemirror";
import { keymap } from "@codemirror/view";
import { Prec } from "@codemirror/state";
import { HighlightStyle, syntaxHighlighting } from "@codemirror/language";
import { tags } from "@lezer/highlight";
import { sql, SQLDialect } from "@codemirror/lang-sql";

const COMMON_KEYWORDS = "select from where group by order having limit offset as and or not in is null like ilike between case when then else end " +
  "join left right inner outer full cross on using union all distinct with asc desc nulls first last over partition window rows range " +
  "interval exists any cast true false filter within lateral values except intersect";
const TYPES = "varchar text string int integer bigint smallint tinyint double float real boolean bool date timestamp decimal numeric uuid json map array list struct";

// Extra words of each store's SQL; completion and highlighting use them.
const DIALECTS = {
  duckdb: SQLDialect.define({
    keywords: `${COMMON_KEYWORDS} qualify pivot unpivot asof positional semi anti sample tablesample exclude replace columns describe summarize`,
    types: `${TYPES} hugeint ubigint uinteger usmallint utinyint timestamptz blob`,
    builtin: "count sum avg min max median quantile_cont quantile_disc approx_count_distinct approx_quantile date_trunc time_bucket epoch_ms " +
      "strftime strptime now current_timestamp regexp_matches regexp_extract string_split list_value map_keys map_values element_at coalesce " +
      "round floor ceil abs greatest least length lower upper trim concat substring starts_with ends_with contains arg_max arg_min histogram",
    operatorChars: "*+-%<>!=&|~^/:",
    doubleQuotedStrings: false,
  }),
  clickhouse: SQLDialect.define({
    keywords: `${COMMON_KEYWORDS} prewhere final settings format global array sample ilike`,
    types: `${TYPES} UInt8 UInt16 UInt32 UInt64 Int8 Int16 Int32 Int64 Float32 Float64 String FixedString DateTime DateTime64 LowCardinality Nullable Map Array`,
    builtin: "count countIf sum sumIf avg avgIf min max uniq uniqExact quantile quantiles quantileExact median any anyLast argMax argMin " +
      "toStartOfInterval toStartOfMinute toStartOfHour toStartOfDay toDate toDateTime now today formatDateTime mapKeys mapValues " +
      "has hasAny arrayJoin groupArray length lower upper trim concat substring startsWith endsWith position match extract round if multiIf coalesce",
    operatorChars: "*+-%<>!=&|~^/:",
    doubleQuotedStrings: false,
  }),
};

// Highlighting that reads the page's colour variables, so it suits light and dark mode.
const highlight = HighlightStyle.define([
  { tag: tags.keyword, color: "#2B7FBE", fontWeight: "600" },
  { tag: [tags.string, tags.special(tags.string)], color: "#3BA272" },
  { tag: [tags.number, tags.bool, tags.null], color: "#E8833A" },
  { tag: tags.comment, color: "var(--muted)", fontStyle: "italic" },
  { tag: [tags.typeName, tags.standard(tags.name)], color: "#8E6BBF" },
  { tag: tags.operator, color: "var(--muted)" },
]);

const theme = EditorView.theme({
  "&": { backgroundColor: "var(--surface)", color: "var(--text)", fontSize: "13px", border: "1px solid var(--border)", borderRadius: "6px" },
  "&.cm-focused": { outline: "2px solid var(--focus)", outlineOffset: "-1px" },
  ".cm-content": { fontFamily: "var(--font-mono)", caretColor: "var(--text)" },
  ".cm-gutters": { backgroundColor: "var(--surface-2)", color: "var(--muted)", borderRight: "1px solid var(--border)" },
  ".cm-activeLine": { backgroundColor: "color-mix(in srgb, var(--brand) 6%, transparent)" },
  ".cm-activeLineGutter": { backgroundColor: "color-mix(in srgb, var(--brand) 10%, transparent)" },
  ".cm-selectionBackground, &.cm-focused .cm-selectionBackground": { backgroundColor: "color-mix(in srgb, var(--brand) 25%, transparent) !important" },
  ".cm-tooltip": { backgroundColor: "var(--surface)", border: "1px solid var(--border)", color: "var(--text)" },
  ".cm-tooltip-autocomplete ul li[aria-selected]": { backgroundColor: "var(--brand)", color: "white" },
  ".cm-scroller": { minHeight: "160px" },
});

// Completes map keys inside `Column['…` (for example SpanAttributes['order.id']).
function mapKeyCompletion(mapKeys) {
  return (context) => {
    const match = context.matchBefore(/(\w+)\[\s*['"][\w.\-:/]*/);
    if (!match) return null;
    const parsed = /(\w+)\[\s*(['"])([\w.\-:/]*)$/.exec(match.text);
    const keys = mapKeys.get(parsed[1]);
    if (!keys) return null;
    return {
      from: match.to - parsed[3].length,
      options: keys.map((key) => ({ label: key, type: "property", apply: `${key}${parsed[2]}]` })),
      validFor: /^[\w.\-:/]*$/,
    };
  };
}

// Creates an editor. `schema` is the GET /api/schema answer; `onRun` runs the query.
export function sqlEditor(parent, { doc = "", schema, onRun, onChange }) {
  const dialect = DIALECTS[schema?.dialect === "clickhouse" ? "clickhouse" : "duckdb"];
  const tables = {};
  const mapKeys = new Map();
  for (const table of schema?.tables || []) {
    tables[table.name] = (table.columns || []).map((column) => ({ label: column.name, type: "property", detail: column.type }));
    for (const [column, keys] of Object.entries(table.map_keys || {})) {
      mapKeys.set(column, [...new Set([...(mapKeys.get(column) || []), ...keys])]);
    }
  }
  const language = sql({ dialect, schema: tables, upperCaseKeywords: true });
  const run = () => { onRun?.(); return true; };
  return new EditorView({
    parent,
    doc,
    extensions: [
      Prec.highest(keymap.of([{ key: "Mod-Enter", run }, { key: "Shift-Enter", run }])),
      basicSetup,
      language,
      language.language.data.of({ autocomplete: mapKeyCompletion(mapKeys) }),
      syntaxHighlighting(highlight),
      theme,
      EditorView.lineWrapping,
      EditorView.contentAttributes.of({ "aria-label": "SQL query" }),
      EditorView.updateListener.of((update) => { if (update.docChanged) onChange?.(update.state.doc.toString()); }),
    ],
  });
}
