//! The web application: embedded assets, page routes, sign-in and security headers.
//!
//! The pages are a single-page app built from `web/` by npm into `web/dist`,
//! which is embedded into release binaries (debug builds read the folder at
//! run time, so a rebuilt front end needs no Rust rebuild). `/assets/*` and
//! `/login` are public. Every page route needs a session (or Basic auth) and
//! otherwise redirects to `/login?next=…`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use exos_store::credentials::{hash_secret, verify_secret};
use exos_store::{CredentialKind, StoreError};
use rust_embed::RustEmbed;
use serde::Deserialize;
use serde_json::json;

use crate::api::{blocking, ApiError, Caller};
use crate::auth::LoginError;
use crate::session;
use crate::state::AppState;

/// The built front end (`web/dist`).
#[derive(RustEmbed)]
#[folder = "../../web/dist/"]
#[allow_missing = true]
struct Assets;

/// The page routes of the single-page app. Each serves `index.html`.
pub const PAGES: &[&str] = &[
    "/",
    "/events",
    "/funnels",
    "/retention",
    "/paths",
    "/analytics",
    "/errors",
    "/engineering",
    "/visitor",
    "/sessions",
    "/replay",
    "/processes",
    "/compare",
    "/ocpm",
    "/operators",
    "/opportunities",
    "/query",
    "/workspaces",
    "/docs",
    "/getting-started",
    "/architecture",
    "/settings",
];

/// The Content-Security-Policy of every UI/API response: no inline script, no other host.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; \
     worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; \
     form-action 'self'; object-src 'none'";

/// Adds the page and sign-in routes to the UI/API router.
pub fn routes(router: Router<AppState>) -> Router<AppState> {
    let mut router = router
        .route("/login", get(login_page))
        .route("/assets/{*path}", get(asset))
        .route("/api/login", post(login))
        .route("/api/logout", post(logout))
        .route("/api/me", get(me))
        .route("/api/me/password", post(change_password));
    for page in PAGES {
        router = router.route(page, get(app_page));
    }
    router
}

/// Sets the security headers on every response of the UI/API port.
pub async fn security_headers(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |headers: &mut HeaderMap, name: &'static str, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(headers, "content-security-policy", CONTENT_SECURITY_POLICY);
    set(headers, "x-content-type-options", "nosniff");
    set(headers, "x-frame-options", "DENY");
    set(headers, "referrer-policy", "same-origin");
    set(
        headers,
        "permissions-policy",
        "camera=(), microphone=(), geolocation=()",
    );
    if state.auth.secure_cookies {
        set(
            headers,
            "strict-transport-security",
            "max-age=31536000; includeSubDomains",
        );
    }
    response
}

fn embedded(path: &str) -> Option<Response> {
    let file = Assets::get(path)?;
    let mime = file.metadata.mimetype().to_string();
    // Hashed bundle names never change content. Other files are revalidated.
    let cache = if path.starts_with("assets/") && path.contains('-') {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    Some(
        (
            [
                (header::CONTENT_TYPE, mime),
                (header::CACHE_CONTROL, cache.to_string()),
            ],
            file.data.into_owned(),
        )
            .into_response(),
    )
}

fn missing_build() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "The web pages were not built into this binary. Run `scripts/serve.sh` \
         (or `npm ci && npm run build` in web/, then rebuild exos).",
    )
        .into_response()
}

async fn asset(Path(path): Path<String>) -> Response {
    embedded(&format!("assets/{path}")).unwrap_or_else(|| {
        (
            StatusCode::NOT_FOUND,
            format!("no asset named {path:?} in this build"),
        )
            .into_response()
    })
}

async fn login_page() -> Response {
    embedded("login.html").unwrap_or_else(missing_build)
}

async fn app_page(State(state): State<AppState>, method: Method, request: Request) -> Response {
    if state.auth.authenticate(request.headers(), &method).is_err() {
        let target = request
            .uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_string();
        let next: String = form_urlencode(&target);
        return Redirect::to(&format!("/login?next={next}")).into_response();
    }
    embedded("index.html").unwrap_or_else(missing_build)
}

fn form_urlencode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// The body of `POST /api/login`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub user: String,
    pub password: String,
}

async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let request: LoginRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::BadRequest(format!(
            "invalid login body: {e}; send {{\"user\": \"…\", \"password\": \"…\"}}"
        ))
    })?;
    // A cookie from before the login is ended, so a planted session id cannot be reused.
    let previous = session::cookie_from(&headers).and_then(|c| state.auth.session(&c));
    let auth = state.auth.clone();
    let address = peer.ip().to_string();
    let outcome =
        blocking(move || Ok(auth.login(&request.user, &request.password, &address))).await?;
    let (principal, claims) = match outcome {
        Ok(done) => done,
        Err(LoginError::Locked(wait)) => {
            let seconds = wait.as_secs().max(1);
            let message = LoginError::Locked(wait).to_string();
            return Ok((
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, seconds.to_string())],
                Json(json!({"error": {"kind": "locked", "message": message, "retry_after_s": seconds}})),
            )
                .into_response());
        }
        Err(LoginError::Invalid) => {
            return Err(ApiError::Unauthorized(
                crate::auth::AuthError::InvalidApiCredentials,
            ))
        }
        Err(LoginError::Store) => {
            return Err(ApiError::Store(StoreError::Other(
                "cannot read or write sessions".into(),
            )))
        }
    };
    if let Some(old) = previous.and_then(|p| p.session) {
        revoke_session(&state, old).await?;
    }
    let cookie = session::set_cookie(
        &state.auth.cookie_value(&claims),
        state.auth.session_lifetime,
        state.auth.secure_cookies,
    );
    let csrf = state.auth.csrf_token(&claims.session_id);
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(json!({"user": principal.user, "role": principal.role, "csrf_token": csrf})),
    )
        .into_response())
}

async fn revoke_session(state: &AppState, session_id: String) -> Result<(), ApiError> {
    let store = state.store.clone();
    blocking(move || {
        store.revoke_credential(CredentialKind::Session, &session_id)?;
        Ok(())
    })
    .await?;
    state.auth.invalidate();
    Ok(())
}

async fn logout(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    if let Some(session_id) = caller.0.session {
        revoke_session(&state, session_id).await?;
    }
    Ok((
        [(
            header::SET_COOKIE,
            session::clear_cookie(state.auth.secure_cookies),
        )],
        StatusCode::NO_CONTENT,
    )
        .into_response())
}

async fn me(State(state): State<AppState>, caller: Caller) -> Response {
    let principal = caller.0;
    let csrf = principal
        .session
        .as_deref()
        .map(|id| state.auth.csrf_token(id));
    let store = match state.store.dialect() {
        exos_store::Dialect::DuckDb => "duckdb",
        exos_store::Dialect::ClickHouse => "clickhouse",
    };
    Json(json!({
        "user": principal.user,
        "role": principal.role,
        "csrf_token": csrf,
        "store": store,
        "version": env!("CARGO_PKG_VERSION"),
        "otlp_http": format!("http://{}", state.bound.otlp_http),
        "otlp_grpc": state.bound.otlp_grpc.to_string(),
    }))
    .into_response()
}

/// The body of `POST /api/me/password`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current: String,
    pub new: String,
}

/// Shortest password accepted for users.
pub const MIN_PASSWORD_CHARS: usize = 12;

async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let request: PasswordChange = serde_json::from_slice(&body).map_err(|e| {
        ApiError::BadRequest(format!(
            "invalid body: {e}; send {{\"current\": \"…\", \"new\": \"…\"}}"
        ))
    })?;
    if request.new.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ApiError::BadRequest(format!(
            "the new password is too short: use at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    let store = state.store.clone();
    let user = caller.0.user.clone();
    blocking(move || {
        let Some(mut record) = store
            .credentials()?
            .into_iter()
            .find(|c| c.kind == CredentialKind::User && c.id == user && !c.revoked)
        else {
            return Err(ApiError::NotFound(format!("no user named {user:?}")));
        };
        if !verify_secret(&request.current, &record.hash) {
            return Err(ApiError::BadRequest("the current password is wrong".into()));
        }
        record.hash = hash_secret(&request.new);
        store.put_credential(&record)?;
        session::revoke_sessions_of(store.as_ref(), &user)?;
        Ok(())
    })
    .await?;
    state.auth.invalidate();
    Ok((
        [(
            header::SET_COOKIE,
            session::clear_cookie(state.auth.secure_cookies),
        )],
        StatusCode::NO_CONTENT,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_parameter_is_encoded() {
        assert_eq!(
            form_urlencode("/events?from=1&filter=Lob=Title"),
            "/events%3Ffrom%3D1%26filter%3DLob%3DTitle"
        );
    }
}
