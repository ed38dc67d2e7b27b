use sqlparser::dialect::{ClickHouseDialect, DuckDbDialect, Dialect};
use sqlparser::parser::Parser;

#[test]
fn explore() {
    let input = std::fs::read_to_string("/tmp/explore.sql").unwrap();
    for line in input.lines() {
        if line.trim().is_empty() { continue; }
        let (d, sql): (&dyn Dialect, &str) = if let Some(s) = line.strip_prefix("ch:") { (&ClickHouseDialect {}, s) } else { (&DuckDbDialect {}, line) };
        println!("=== {line}");
        match Parser::parse_sql(d, sql) {
            Ok(st) => { let d = format!("{st:?}"); let d = d.replace(", quote_style: None", "").replace("optimizer_hints: [], distinct: None, select_modifiers: None, top: None, top_before_distinct: false, ",""); let d: String = d.chars().filter(|_| true).collect(); println!("DISPLAY {}", st.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(" ;; ")); println!("{}", &d[..d.len().min(1500)]) }
            Err(e) => println!("ERR {e}"),
        }
    }
}
