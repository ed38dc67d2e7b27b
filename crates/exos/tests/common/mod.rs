//! A real `exos serve` process on loopback ports, for end-to-end tests.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Returns true when the tests run on ClickHouse: `EXOS_TEST_STORE=clickhouse` selects it
/// (the real engine through `tests/clickhouse/chdb_server.py`), anything else DuckDB.
pub fn clickhouse() -> bool {
    std::env::var("EXOS_TEST_STORE").is_ok_and(|store| store == "clickhouse")
}

/// Picks the DuckDB or the ClickHouse spelling of a query or value, by the store under test.
pub fn by_store<T>(duckdb: T, clickhouse_value: T) -> T {
    if clickhouse() {
        clickhouse_value
    } else {
        duckdb
    }
}

/// A ClickHouse engine served over HTTP on loopback, for one test server.
pub struct ChdbServer {
    child: Child,
    data_dir: PathBuf,
    pub url: String,
}

impl ChdbServer {
    /// Starts the chdb harness on `data_dir` with the repository's Python venv.
    pub fn start(data_dir: &Path) -> Self {
        Self::start_on(data_dir, 0)
    }

    /// Kills the harness (as a crash would) and starts it again on the same port and data.
    pub fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let port: u16 = self
            .url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("url has a port");
        *self = Self::start_on(&self.data_dir.clone(), port);
    }

    /// Kills the harness without restarting it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    #[allow(clippy::zombie_processes)]
    fn start_on(data_dir: &Path, port: u16) -> Self {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let python = std::env::var("EXOS_PYTHON")
            .map(PathBuf::from)
            .unwrap_or_else(|_| repo.join(".venv/bin/python"));
        let mut child = Command::new(python)
            .arg(repo.join("tests/clickhouse/chdb_server.py"))
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--port", &port.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("chdb harness starts (run scripts/test.sh once to create .venv)");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let line = lines
            .next()
            .expect("harness prints its address")
            .expect("utf-8");
        let addr = line
            .strip_prefix("chdb-server listening on ")
            .expect("harness address line")
            .to_string();
        std::thread::spawn(move || for _ in lines {});
        Self {
            child,
            data_dir: data_dir.to_path_buf(),
            url: format!("http://{addr}"),
        }
    }
}

impl Drop for ChdbServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running server and what a client needs to talk to it.
pub struct Server {
    pub child: Child,
    /// The ClickHouse engine behind the server, when the tests run on ClickHouse.
    pub chdb: Option<ChdbServer>,
    pub data_dir: PathBuf,
    pub http: String,
    pub otlp_http: String,
    pub otlp_grpc: String,
    pub password: String,
    pub ingest_key: String,
    _temp: Option<tempfile::TempDir>,
}

impl Server {
    /// Starts a server on a fresh data folder.
    pub fn start(extra: &[&str]) -> Self {
        let temp = tempfile::tempdir().expect("temp dir");
        let mut server = Self::start_in(temp.path(), extra, None);
        server._temp = Some(temp);
        server
    }

    /// Starts a server on `data_dir`; `known` carries credentials from an earlier start.
    // The child is waited for in `stop` or `Drop`, which clippy cannot see through the struct.
    #[allow(clippy::zombie_processes)]
    pub fn start_in(data_dir: &Path, extra: &[&str], known: Option<(&str, &str)>) -> Self {
        // Tests that bring their own ClickHouse pass its URL; the others follow EXOS_TEST_STORE.
        let own_store = extra.contains(&"--clickhouse-url");
        let chdb = (clickhouse() && !own_store).then(|| ChdbServer::start(&data_dir.join("chdb")));
        let mut store_args: Vec<String> = Vec::new();
        if let Some(chdb) = &chdb {
            store_args.extend(["--clickhouse-url".to_string(), chdb.url.clone()]);
        }
        // EXOS_BIN runs a copy of the binary, for machines where several checkouts share one
        // cargo target folder and another checkout's build can replace `target/debug/exos`.
        let binary = std::env::var_os("EXOS_BIN").map_or_else(
            || env!("CARGO_BIN_EXE_exos").into(),
            std::path::PathBuf::from,
        );
        let mut child = Command::new(binary)
            .args(["serve", "--data-dir"])
            .arg(data_dir)
            .args([
                "--http-addr",
                "127.0.0.1:0",
                "--otlp-http-addr",
                "127.0.0.1:0",
                "--otlp-grpc-addr",
                "127.0.0.1:0",
            ])
            .args(extra)
            .args(&store_args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("exos binary starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let (mut password, mut key) = known.map_or((String::new(), String::new()), |(p, k)| {
            (p.into(), k.into())
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            assert!(
                Instant::now() < deadline,
                "server did not become ready in 60 s"
            );
            let line = lines
                .next()
                .expect("server printed its ready line")
                .expect("utf-8 stdout");
            if let Some(value) = line.strip_prefix("admin password: ") {
                password = value.to_string();
            } else if let Some(value) = line.strip_prefix("ingest key: ") {
                key = value.to_string();
            } else if let Some(rest) = line.strip_prefix("exos ready: ") {
                let field = |name: &str| {
                    rest.split(' ')
                        .find_map(|part| part.strip_prefix(&format!("{name}=")))
                        .expect("ready line has every address")
                        .to_string()
                };
                // Keep draining stdout so the server never blocks on a full pipe.
                std::thread::spawn(move || for _ in lines {});
                return Self {
                    child,
                    chdb,
                    data_dir: data_dir.to_path_buf(),
                    http: format!("http://{}", field("http")),
                    otlp_http: format!("http://{}", field("otlp_http")),
                    otlp_grpc: format!("http://{}", field("otlp_grpc")),
                    password,
                    ingest_key: key,
                    _temp: None,
                };
            }
        }
    }

    /// Runs SQL through `/api/sql` as admin and returns the JSON result.
    pub fn sql(&self, sql: &str) -> Value {
        let response = ureq::post(&format!("{}/api/sql", self.http))
            .set("authorization", &basic("admin", &self.password))
            .send_json(serde_json::json!({ "sql": sql }));
        match response {
            Ok(response) => response.into_json().expect("json body"),
            Err(ureq::Error::Status(status, response)) => {
                panic!(
                    "sql {sql:?} failed with {status}: {}",
                    response.into_string().unwrap_or_default()
                )
            }
            Err(error) => panic!("sql {sql:?} failed: {error}"),
        }
    }

    /// Returns the single value of a one-row, one-column query.
    pub fn scalar(&self, sql: &str) -> Value {
        self.sql(sql)["rows"][0][0].clone()
    }

    /// Posts an OTLP body; returns status, headers of interest and body.
    pub fn post(
        &self,
        path: &str,
        content_type: &str,
        encoding: Option<&str>,
        body: &[u8],
    ) -> Reply {
        let mut request = ureq::post(&format!("{}{path}", self.otlp_http))
            .set("content-type", content_type)
            .set("authorization", &self.ingest_key);
        if let Some(encoding) = encoding {
            request = request.set("content-encoding", encoding);
        }
        Reply::from(request.send_bytes(body))
    }

    /// Returns true while `/health` responds.
    pub fn healthy(&self) -> bool {
        ureq::get(&format!("{}/health", self.http)).call().is_ok()
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn stop(mut self) -> std::process::ExitStatus {
        terminate(&self.child);
        self.child.wait().expect("wait for exos")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            terminate(&self.child);
            let _ = self.child.wait();
        }
    }
}

fn terminate(child: &Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
}

/// An HTTP response, whatever its status.
pub struct Reply {
    pub status: u16,
    pub retry_after: Option<String>,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl From<Result<ureq::Response, ureq::Error>> for Reply {
    fn from(result: Result<ureq::Response, ureq::Error>) -> Self {
        let response = match result {
            Ok(response) => response,
            Err(ureq::Error::Status(_, response)) => response,
            Err(error) => panic!("request failed: {error}"),
        };
        let status = response.status();
        let retry_after = response.header("retry-after").map(str::to_string);
        let content_type = response
            .header("content-type")
            .unwrap_or_default()
            .to_string();
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut response.into_reader(), &mut body).expect("read body");
        Self {
            status,
            retry_after,
            content_type,
            body,
        }
    }
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Returns an HTTP Basic authorization header value.
pub fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}
