//! Security of the web UI and API port, against a real `exos serve`: sessions,
//! CSRF, lockout, roles, headers, and that nothing answers without credentials.

mod common;

use std::time::Duration;

use common::{basic, Server};
use serde_json::{json, Value};

/// An HTTP response with the headers these tests read.
#[derive(Debug)]
struct Answer {
    status: u16,
    location: Option<String>,
    set_cookie: Option<String>,
    headers: Vec<(String, String)>,
    body: Value,
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new().redirects(0).build()
}

fn send(request: ureq::Request, body: Option<Value>) -> Answer {
    let result = match body {
        Some(body) => request.send_json(body),
        None => request.call(),
    };
    let response = match result {
        Ok(response) => response,
        Err(ureq::Error::Status(_, response)) => response,
        Err(error) => panic!("request failed: {error}"),
    };
    let headers = response
        .headers_names()
        .into_iter()
        .map(|name| {
            let value = response.header(&name).unwrap_or_default().to_string();
            (name, value)
        })
        .collect();
    let status = response.status();
    let location = response.header("location").map(str::to_string);
    let set_cookie = response.header("set-cookie").map(str::to_string);
    let text = response.into_string().unwrap_or_default();
    Answer {
        status,
        location,
        set_cookie,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
    }
}

/// A browser-like client: the session cookie and its CSRF token.
#[derive(Debug)]
struct Browser {
    cookie: String,
    csrf: String,
}

fn login(server: &Server, user: &str, password: &str) -> Result<Browser, Answer> {
    let answer = send(
        agent().post(&format!("{}/api/login", server.http)),
        Some(json!({"user": user, "password": password})),
    );
    if answer.status != 200 {
        return Err(answer);
    }
    let set_cookie = answer.set_cookie.expect("login sets a cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    Ok(Browser {
        cookie,
        csrf: answer.body["csrf_token"].as_str().unwrap().to_string(),
    })
}

impl Browser {
    fn get(&self, server: &Server, path: &str) -> Answer {
        send(
            agent()
                .get(&format!("{}{path}", server.http))
                .set("cookie", &self.cookie),
            None,
        )
    }

    fn post(&self, server: &Server, path: &str, body: Value, csrf: Option<&str>) -> Answer {
        let mut request = agent()
            .post(&format!("{}{path}", server.http))
            .set("cookie", &self.cookie);
        if let Some(token) = csrf {
            request = request.set("x-csrf-token", token);
        }
        send(request, Some(body))
    }
}

fn concrete(path: &str) -> String {
    path.replace("{name}", "nobody")
        .replace("{id}", "nothing")
        .replace("{fingerprint}", "0")
        .replace("{trace_id}", "00000000000000000000000000000000")
}

fn method_request(method: &str, url: &str) -> ureq::Request {
    agent().request(&method.to_uppercase(), url)
}

#[test]
fn nothing_answers_without_credentials() {
    let server = Server::start(&[]);
    for page in exos_server::web::PAGES {
        let answer = send(agent().get(&format!("{}{page}", server.http)), None);
        assert_eq!(answer.status, 303, "{page}");
        assert!(
            answer
                .location
                .as_deref()
                .unwrap()
                .starts_with("/login?next="),
            "{page}: {:?}",
            answer.location
        );
    }
    for route in exos_server::openapi::ROUTES
        .iter()
        .filter(|r| r.role != "public")
    {
        let url = format!("{}{}", server.http, concrete(route.path));
        let answer = send(method_request(route.method, &url), None);
        assert_eq!(answer.status, 401, "{} {}", route.method, route.path);
        assert_eq!(answer.body["error"]["kind"], "unauthorized");
        assert!(
            !answer.headers.iter().any(|(n, _)| n == "www-authenticate"),
            "no Basic challenge, which would make browsers show their own password box"
        );
    }
    let unknown = send(agent().get(&format!("{}/api/nope", server.http)), None);
    assert_eq!(unknown.status, 401, "unknown routes need credentials too");
    // Public: the login page and static assets, so the sign-in form can load.
    let login_page = send(agent().get(&format!("{}/login", server.http)), None);
    assert_ne!(login_page.status, 401);
}

#[test]
fn every_documented_route_is_served() {
    let server = Server::start(&[]);
    let auth = basic("admin", &server.password);
    for route in exos_server::openapi::ROUTES {
        if route.path == "/api/logout" || route.path == "/api/me/password" {
            continue; // Their effects end the session; tested below.
        }
        let url = format!("{}{}", server.http, concrete(route.path));
        let answer = send(
            method_request(route.method, &url).set("authorization", &auth),
            route.body.map(|_| json!({})),
        );
        let message = answer.body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            !message.starts_with("no such route") && answer.status != 405,
            "{} {} is documented but not served: {} {message}",
            route.method,
            route.path,
            answer.status
        );
    }
    let document = send(
        agent()
            .get(&format!("{}/api/openapi.json", server.http))
            .set("authorization", &auth),
        None,
    );
    assert_eq!(document.body["openapi"], "3.1.0");
}

#[test]
fn sessions_are_signed_rotated_and_revoked() {
    let server = Server::start(&[]);
    let browser = login(&server, "admin", &server.password).expect("login");
    let me = browser.get(&server, "/api/me");
    assert_eq!(me.status, 200);
    assert_eq!(me.body["user"], "admin");
    assert_eq!(me.body["csrf_token"], browser.csrf.as_str());

    // Tampering with any part of the cookie is rejected.
    let value = browser.cookie.trim_start_matches("exos_session=");
    let parts: Vec<&str> = value.split('.').collect();
    let later = (parts[2].parse::<i64>().unwrap() + 1000).to_string();
    let mut flipped = parts[3].to_string();
    let last = flipped.pop().unwrap();
    flipped.push(if last == 'A' { 'B' } else { 'A' });
    for forged in [
        format!("v1.{}.{later}.{}", parts[1], parts[3]),
        format!("v1.{}x.{}.{}", parts[1], parts[2], parts[3]),
        format!("v1.{}.{}.{flipped}", parts[1], parts[2]),
        "v1.a.99999999999.AAAA".to_string(),
    ] {
        let forged = Browser {
            cookie: format!("exos_session={forged}"),
            csrf: String::new(),
        };
        assert_eq!(
            forged.get(&server, "/api/me").status,
            401,
            "{}",
            forged.cookie
        );
        assert_eq!(forged.get(&server, "/").status, 303);
    }

    // Logging in again from the same browser ends the old session (rotation).
    let answer = send(
        agent()
            .post(&format!("{}/api/login", server.http))
            .set("cookie", &browser.cookie),
        Some(json!({"user": "admin", "password": server.password})),
    );
    assert_eq!(answer.status, 200);
    assert_eq!(browser.get(&server, "/api/me").status, 401);
    let rotated = Browser {
        cookie: answer
            .set_cookie
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string(),
        csrf: answer.body["csrf_token"].as_str().unwrap().to_string(),
    };
    assert_ne!(rotated.cookie, browser.cookie);
    assert_eq!(rotated.get(&server, "/api/me").status, 200);

    // Logout revokes the session on the server, not only in the browser.
    let out = rotated.post(&server, "/api/logout", json!({}), Some(&rotated.csrf));
    assert_eq!(out.status, 204);
    assert_eq!(rotated.get(&server, "/api/me").status, 401);
}

#[test]
fn password_change_ends_every_session() {
    let server = Server::start(&[]);
    let first = login(&server, "admin", &server.password).expect("login");
    let second = login(&server, "admin", &server.password).expect("login");
    let changed = first.post(
        &server,
        "/api/me/password",
        json!({"current": server.password, "new": "a new long password"}),
        Some(&first.csrf),
    );
    assert_eq!(changed.status, 204, "{:?}", changed.body);
    assert_eq!(first.get(&server, "/api/me").status, 401);
    assert_eq!(second.get(&server, "/api/me").status, 401);
    assert!(login(&server, "admin", &server.password).is_err());
    assert!(login(&server, "admin", "a new long password").is_ok());
}

#[test]
fn sessions_expire() {
    let server = Server::start(&["--session-lifetime-secs", "2"]);
    let browser = login(&server, "admin", &server.password).expect("login");
    assert_eq!(browser.get(&server, "/api/me").status, 200);
    std::thread::sleep(Duration::from_millis(3100));
    assert_eq!(browser.get(&server, "/api/me").status, 401);
}

#[test]
fn cookie_requests_need_the_csrf_token() {
    let server = Server::start(&[]);
    let browser = login(&server, "admin", &server.password).expect("login");
    let item = json!({"kind": "query", "name": "q", "body": {"sql": "SELECT 1"}});
    let missing = browser.post(&server, "/api/workspaces", item.clone(), None);
    assert_eq!(missing.status, 403);
    assert_eq!(missing.body["error"]["kind"], "csrf");
    let wrong = browser.post(&server, "/api/workspaces", item.clone(), Some("AAAA"));
    assert_eq!(wrong.status, 403);
    let other = login(&server, "admin", &server.password).expect("login");
    let foreign = browser.post(&server, "/api/workspaces", item.clone(), Some(&other.csrf));
    assert_eq!(foreign.status, 403, "a token of another session");
    let sql = browser.post(&server, "/api/sql", json!({"sql": "SELECT 1"}), None);
    assert_eq!(sql.status, 403, "SQL over a cookie needs the token too");
    let good = browser.post(&server, "/api/workspaces", item, Some(&browser.csrf));
    assert_eq!(good.status, 201, "{:?}", good.body);
    // API clients with Basic auth send no token.
    let api = send(
        agent()
            .post(&format!("{}/api/sql", server.http))
            .set("authorization", &basic("admin", &server.password)),
        Some(json!({"sql": "SELECT 1"})),
    );
    assert_eq!(api.status, 200);
}

#[test]
fn repeated_failures_lock_the_login() {
    let server = Server::start(&[
        "--login-max-failures-per-user",
        "3",
        "--login-max-failures-per-address",
        "6",
    ]);
    for _ in 0..3 {
        let failed = login(&server, "admin", "wrong password").err().unwrap();
        assert_eq!(failed.status, 401);
    }
    let locked = login(&server, "admin", &server.password).err().unwrap();
    assert_eq!(locked.status, 429, "even the right password waits");
    assert_eq!(locked.body["error"]["kind"], "locked");
    let wait = locked.body["error"]["retry_after_s"].as_u64().unwrap();
    assert!(wait > 800, "{wait}");
    assert!(wait <= 900, "{wait}");
    assert!(locked
        .headers
        .iter()
        .any(|(name, value)| name == "retry-after" && value == &wait.to_string()));
    // Other users from the same address still get in until the address limit.
    for i in 0..3 {
        let failed = login(&server, &format!("user{i}"), "wrong").err().unwrap();
        assert_eq!(failed.status, 401);
    }
    let address_locked = login(&server, "someone", "x").err().unwrap();
    assert_eq!(address_locked.status, 429, "the address is locked");
}

#[test]
fn viewers_cannot_use_admin_routes() {
    let server = Server::start(&[]);
    let admin = login(&server, "admin", &server.password).expect("login");
    let created = admin.post(
        &server,
        "/api/users",
        json!({"name": "vic", "password": "viewer password 1", "role": "viewer"}),
        Some(&admin.csrf),
    );
    assert_eq!(created.status, 201, "{:?}", created.body);
    let shared = admin.post(
        &server,
        "/api/workspaces",
        json!({"kind": "query", "name": "shared", "shared": true, "body": {"sql": "SELECT 1"}}),
        Some(&admin.csrf),
    );
    let shared_id = shared.body["id"].as_str().unwrap().to_string();

    let viewer = login(&server, "vic", "viewer password 1").expect("viewer login");
    assert_eq!(viewer.get(&server, "/api/me").body["role"], "viewer");
    assert_eq!(viewer.get(&server, "/api/users").status, 403);
    assert_eq!(viewer.get(&server, "/api/keys").status, 403);
    let key = viewer.post(
        &server,
        "/api/keys",
        json!({"name": "x"}),
        Some(&viewer.csrf),
    );
    assert_eq!(key.status, 403);
    let user = viewer.post(
        &server,
        "/api/users",
        json!({"name": "eve", "password": "some long password", "role": "admin"}),
        Some(&viewer.csrf),
    );
    assert_eq!(user.status, 403);
    let delete = send(
        agent()
            .delete(&format!("{}/api/workspaces/{shared_id}", server.http))
            .set("cookie", &viewer.cookie)
            .set("x-csrf-token", &viewer.csrf),
        None,
    );
    assert_eq!(delete.status, 403, "a viewer cannot delete an admin's item");
    let listed = viewer.get(&server, "/api/workspaces");
    assert_eq!(
        listed.body["items"].as_array().unwrap().len(),
        1,
        "sees the shared item"
    );
    // Viewers still read data.
    let sql = viewer.post(
        &server,
        "/api/sql",
        json!({"sql": "SELECT 1 AS one"}),
        Some(&viewer.csrf),
    );
    assert_eq!(sql.status, 200);
}

#[test]
fn security_headers_are_set() {
    let server = Server::start(&[]);
    for path in ["/login", "/api/me", "/"] {
        let answer = send(agent().get(&format!("{}{path}", server.http)), None);
        let header = |name: &str| {
            answer
                .headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let csp = header("content-security-policy");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        let script = csp
            .split(';')
            .map(str::trim)
            .find(|d| d.starts_with("script-src"))
            .unwrap_or_default();
        assert!(script.starts_with("script-src 'self'"), "{path}: {csp}");
        assert!(
            !script.contains("unsafe-inline") && !script.contains("'unsafe-eval'"),
            "no inline script: {script}"
        );
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
    }
}

#[test]
fn tls_serves_https_with_secure_cookies() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "1",
        ])
        .args([
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let server = Server::start(&[
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    let https = server.http.replace("http://", "https://");
    let output = std::process::Command::new("curl")
        .args(["-s", "-i", "--cacert"])
        .arg(&cert)
        .args(["-H", "content-type: application/json", "-d"])
        .arg(json!({"user": "admin", "password": server.password}).to_string())
        .arg(format!("{https}/api/login"))
        .output()
        .expect("curl runs");
    let text = String::from_utf8_lossy(&output.stdout).to_lowercase();
    assert!(text.starts_with("http/"), "{text}");
    assert!(text.contains(" 200"), "{text}");
    assert!(
        text.contains("set-cookie: exos_session=") && text.contains("; secure"),
        "{text}"
    );
    assert!(text.contains("strict-transport-security"), "{text}");
    // Plain HTTP on the TLS port gets no response.
    let plain = ureq::get(&format!("{}/health", server.http)).call();
    assert!(plain.is_err());
}
