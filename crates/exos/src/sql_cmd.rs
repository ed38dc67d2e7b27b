//! `exos sql`: one guarded, read-only query, printed as a table, CSV or JSON.
//!
//! With `--url` the query goes to a running server's `/api/sql`; without, the
//! data folder is opened read-only (which works only while no server has it open).

use std::io::Write;
use std::path::PathBuf;

use clap::ValueEnum;
use exos_store::{run_user_sql, DuckOptions, DuckStore, QueryLimits, QueryResult};
use serde_json::Value;

/// Flags of `exos sql`.
#[derive(Debug, clap::Args)]
pub struct SqlArgs {
    /// The query: one SELECT, WITH … SELECT, EXPLAIN, DESCRIBE or SHOW statement.
    pub sql: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    #[command(flatten)]
    pub target: Target,
    /// Rows returned at most.
    #[arg(long, default_value_t = 10_000)]
    pub max_rows: usize,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
}

/// Runs the query and prints the result.
pub fn run(args: SqlArgs) -> anyhow::Result<()> {
    let result = match &args.target.url {
        Some(url) => remote(&args, url)?,
        None => {
            let options = DuckOptions {
                read_only: true,
                ..DuckOptions::default()
            };
            let store = DuckStore::open(&args.target.data_dir, &options)?;
            let limits = QueryLimits {
                max_rows: args.max_rows,
                ..QueryLimits::default()
            };
            run_user_sql(&store, &args.sql, &limits)?
        }
    };
    print(&result, args.format)?;
    if result.truncated {
        eprintln!(
            "note: output cut at {} rows; raise --max-rows or add LIMIT",
            result.row_count
        );
    }
    Ok(())
}

/// The store to use: the data folder, or a running server.
#[derive(Debug, clap::Args)]
pub struct Target {
    /// Folder of the embedded store, used when --url is not given.
    #[arg(long, env = "EXOS_DATA_DIR", default_value = "./exos-data")]
    pub data_dir: PathBuf,
    /// Base URL of a running server's API, e.g. http://127.0.0.1:8080.
    #[arg(long, env = "EXOS_URL")]
    pub url: Option<String>,
    /// User name for --url.
    #[arg(long, env = "EXOS_USER", default_value = "admin")]
    pub user: String,
    /// Password for --url (or set EXOS_PASSWORD).
    #[arg(long, env = "EXOS_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// API token for --url, instead of user and password.
    #[arg(long, env = "EXOS_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

/// Builds the `authorization` header for --url: the API token, or user and password.
pub fn authorization(target: &Target) -> anyhow::Result<String> {
    match (&target.token, &target.password) {
        (Some(token), _) => Ok(format!("Bearer {token}")),
        (None, Some(password)) => Ok(basic_header(&target.user, password)),
        (None, None) => {
            anyhow::bail!("--url needs --password (or EXOS_PASSWORD) or --token (or EXOS_TOKEN)")
        }
    }
}

/// Returns an HTTP Basic `authorization` header value.
pub fn basic_header(user: &str, password: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

fn remote(args: &SqlArgs, url: &str) -> anyhow::Result<QueryResult> {
    let endpoint = format!("{}/api/sql", url.trim_end_matches('/'));
    let authorization = authorization(&args.target)?;
    let body = serde_json::json!({"sql": args.sql, "max_rows": args.max_rows});
    let response = ureq::post(&endpoint)
        .set("authorization", &authorization)
        .send_json(body);
    let value: Value = match response {
        Ok(response) => response.into_json()?,
        Err(ureq::Error::Status(status, response)) => {
            let error: Value = response.into_json().unwrap_or(Value::Null);
            let message = error["error"]["message"]
                .as_str()
                .unwrap_or("no message")
                .to_string();
            anyhow::bail!("{endpoint} returned {status}: {message}");
        }
        Err(error) => anyhow::bail!("cannot reach {endpoint}: {error}"),
    };
    Ok(serde_json::from_value(value)?)
}

fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Prints the result; a reader that stops early (`exos sql … | head`) ends the output quietly.
fn print(result: &QueryResult, format: Format) -> anyhow::Result<()> {
    match write_result(&mut std::io::stdout().lock(), result, format) {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

fn write_result(out: &mut impl Write, result: &QueryResult, format: Format) -> std::io::Result<()> {
    match format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(result)?)?,
        Format::Csv => {
            let escape = |field: String| {
                if field.contains([',', '"', '\n', '\r']) {
                    format!("\"{}\"", field.replace('"', "\"\""))
                } else {
                    field
                }
            };
            writeln!(
                out,
                "{}",
                result
                    .columns
                    .iter()
                    .map(|c| escape(c.name.clone()))
                    .collect::<Vec<_>>()
                    .join(",")
            )?;
            for row in &result.rows {
                writeln!(
                    out,
                    "{}",
                    row.iter()
                        .map(|v| escape(text(v)))
                        .collect::<Vec<_>>()
                        .join(",")
                )?;
            }
        }
        Format::Table => {
            let mut table = comfy_table::Table::new();
            table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
            table.set_header(result.columns.iter().map(|c| c.name.clone()));
            for row in &result.rows {
                table.add_row(row.iter().map(text));
            }
            writeln!(out, "{table}")?;
            writeln!(
                out,
                "{} row(s) in {:.1} ms",
                result.row_count, result.elapsed_ms
            )?;
        }
    }
    Ok(())
}
