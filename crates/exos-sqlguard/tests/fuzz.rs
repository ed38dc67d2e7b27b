//! No input makes the guard panic, overflow its stack or fail internally.
//!
//! Feeds random text, random token soup, mutations of the corpus and deeply nested
//! expressions to `check` in both dialects. The guard catches panics to fail closed,
//! so a panic inside it would surface as `GuardError::Internal`, and these tests fail
//! on that variant. A stack overflow would abort the test binary.

mod corpus;

use exos_sqlguard::{check, Dialect, GuardError, Policy};

const DIALECTS: [Dialect; 2] = [Dialect::DuckDb, Dialect::ClickHouse];

/// Generates xorshift64* numbers, deterministic so that a failure replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const TOKENS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "WITH",
    "RECURSIVE",
    "AS",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ";",
    "'",
    "\"",
    "`",
    "$$",
    "--",
    "/*",
    "*/",
    "#",
    "\n",
    " ",
    "*",
    ".",
    "::",
    "->",
    ":",
    "=",
    "IN",
    "GLOBAL",
    "JOIN",
    "ON",
    "ARRAY",
    "UNION",
    "ALL",
    "EXPLAIN",
    "ANALYZE",
    "DESCRIBE",
    "SHOW",
    "TABLES",
    "INTO",
    "OUTFILE",
    "SETTINGS",
    "FORMAT",
    "LIMIT",
    "BY",
    "OVER",
    "PARTITION",
    "ORDER",
    "QUALIFY",
    "lambda",
    "x",
    "otel_traces",
    "system",
    "main",
    "read_csv",
    "file",
    "range",
    "numbers",
    "count",
    "quantile",
    "0.95",
    "1",
    "'x.csv'",
    "$1",
    "?",
    "COPY",
    "ATTACH",
    "PIVOT",
    "SUMMARIZE",
    "CASE",
    "WHEN",
    "THEN",
    "END",
    "NOT",
    "-",
    "\u{a0}",
    "é",
    "\u{43e}",
    "\\",
];

fn assert_no_internal_error(sql: &str, policy: &Policy) {
    if let Err(GuardError::Internal) = check(sql, policy) {
        panic!("the guard failed internally on {sql:?}");
    }
}

fn random_text(rng: &mut Rng) -> String {
    let len = rng.below(200);
    (0..len)
        .map(|_| match rng.below(10) {
            0 => char::from_u32(rng.below(0x3000) as u32).unwrap_or('?'),
            _ => (b' ' + rng.below(95) as u8) as char,
        })
        .collect()
}

fn token_soup(rng: &mut Rng) -> String {
    let len = 1 + rng.below(40);
    let words: Vec<&str> = (0..len).map(|_| *rng.pick(TOKENS)).collect();
    words.join(if rng.below(2) == 0 { " " } else { "" })
}

/// Cuts, repeats, swaps or splices part of `sql`, on character boundaries.
fn mutate(rng: &mut Rng, sql: &str) -> String {
    let chars: Vec<char> = sql.chars().collect();
    let a = rng.below(chars.len() + 1);
    let b = a + rng.below(chars.len() - a + 1);
    let (head, mid, tail) = (&chars[..a], &chars[a..b], &chars[b..]);
    let out: Vec<char> = match rng.below(4) {
        0 => head.iter().chain(tail).copied().collect(),
        1 => head
            .iter()
            .chain(mid)
            .chain(mid)
            .chain(tail)
            .copied()
            .collect(),
        2 => tail.iter().chain(mid).chain(head).copied().collect(),
        _ => {
            let token: Vec<char> = rng.pick(TOKENS).chars().collect();
            head.iter().chain(&token).chain(tail).copied().collect()
        }
    };
    out.into_iter().collect()
}

#[test]
fn random_text_never_breaks_the_guard() {
    let mut rng = Rng(0x5eed_0001);
    for _ in 0..3000 {
        let sql = random_text(&mut rng);
        DIALECTS
            .iter()
            .for_each(|d| assert_no_internal_error(&sql, &corpus::policy(*d)));
    }
}

#[test]
fn random_token_soup_never_breaks_the_guard() {
    let mut rng = Rng(0x5eed_0002);
    for _ in 0..3000 {
        let sql = token_soup(&mut rng);
        DIALECTS
            .iter()
            .for_each(|d| assert_no_internal_error(&sql, &corpus::policy(*d)));
    }
}

#[test]
fn mutated_corpus_never_breaks_the_guard() {
    let mut rng = Rng(0x5eed_0003);
    let cases = corpus::escapes().into_iter().chain(corpus::allowed());
    for case in cases {
        for _ in 0..12 {
            let sql = mutate(&mut rng, &case.sql);
            DIALECTS
                .iter()
                .for_each(|d| assert_no_internal_error(&sql, &corpus::policy(*d)));
        }
    }
}

/// Checks nesting and chains as long as the size limit allows on a thread with a
/// small stack, because the guard runs inside server tasks and must not need a big
/// one. Each shape is `head`, then `unit` repeated, then `tail`, then `closer`
/// repeated.
#[test]
fn deep_nesting_never_exhausts_the_stack() {
    const SHAPES: &[(&str, &str, &str, &str)] = &[
        ("SELECT ", "(", "1", ")"),
        ("SELECT ", "[", "1", "]"),
        ("SELECT ", "NOT ", "1", ""),
        ("SELECT ", "- ", "1", ""),
        ("SELECT ", "CASE WHEN 1 THEN ", "1", " END"),
        ("SELECT ", "(SELECT ", "1", ")"),
        ("SELECT ", "abs(", "1", ")"),
        ("SELECT ", "x -> ", "1", ""),
        ("SELECT ", "{'a': ", "1", "}"),
        ("SELECT ", "1+", "1", ""),
        ("SELECT ", "1 OR ", "1", ""),
        ("SELECT ", "1 IS NULL = ", "1", ""),
        ("SELECT 1", "::INT", "", ""),
        ("SELECT 1", "[1]", "", ""),
        ("", "SELECT 1 UNION ALL ", "SELECT 1", ""),
        (
            "SELECT 1 FROM otel_traces",
            " JOIN otel_logs USING (x)",
            "",
            "",
        ),
        (
            "SELECT 1 WHERE ",
            "x IN (SELECT x FROM otel_traces WHERE ",
            "1",
            ")",
        ),
    ];
    let worker = std::thread::Builder::new().stack_size(512 * 1024);
    let handle = worker.spawn(|| {
        for (head, unit, tail, closer) in SHAPES {
            let repeats = 95_000 / (unit.len() + closer.len());
            let sql = format!(
                "{head}{}{tail}{}",
                unit.repeat(repeats),
                closer.repeat(repeats)
            );
            DIALECTS
                .iter()
                .for_each(|d| assert_no_internal_error(&sql, &corpus::policy(*d)));
        }
    });
    handle.unwrap().join().unwrap();
}

#[test]
fn operator_chain_rejected_as_too_deep() {
    let sql = format!("SELECT {}1", "1 + ".repeat(5000));
    let err = check(&sql, &corpus::policy(Dialect::DuckDb)).unwrap_err();
    assert_eq!(err, GuardError::TooDeep);
}

#[test]
fn text_at_the_size_limit_is_checked_quickly() {
    let policy = corpus::policy(Dialect::DuckDb);
    let sql = "SELECT 1 + 1, ".repeat(policy.max_sql_bytes / 14 - 1) + "1";
    let started = std::time::Instant::now();
    assert_no_internal_error(&sql, &policy);
    assert!(
        started.elapsed().as_secs() < 10,
        "took {:?}",
        started.elapsed()
    );
}
