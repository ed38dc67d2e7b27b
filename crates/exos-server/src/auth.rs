//! Authentication of ingest and API requests: ingest keys, API tokens, users.
//!
//! Credentials live in the store (only argon2id hashes). Verifying argon2 on
//! every request would cost milliseconds each (an estimate for argon2's default
//! parameters), so a secret that has once verified is remembered in memory.
//! An entry lasts until a revocation on this server, or `CACHE_TTL` at most, so
//! servers sharing one ClickHouse learn of a revocation made on another server
//! within that time. Secrets are never logged.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use base64::Engine;
use exos_store::credentials::{hash_secret, id_of, new_secret, random_text, verify_secret};
use exos_store::{Credential, CredentialKind, Store, StoreError};
use http::{HeaderMap, Method};

use crate::session::{self, CookieClaims, CookieSigner, Lockout, LockoutSettings};

/// An authenticated API caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user: String,
    pub role: String,
    /// The browser session id when the caller signed in with a cookie.
    pub session: Option<String>,
}

impl Principal {
    /// True for the `admin` role.
    pub fn is_admin(&self) -> bool {
        self.role == "admin"
    }
}

/// Why a login attempt failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LoginError {
    #[error("too many failed logins: try again in {} s", .0.as_secs().max(1))]
    Locked(Duration),
    #[error("invalid user name or password")]
    Invalid,
    #[error("the store could not be read; try again")]
    Store,
}

/// An authentication failure, whose message states which credentials to send.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("missing credentials: send the ingest key as `authorization: <key>`, `authorization: Bearer <key>` or `x-exos-ingest-key: <key>`")]
    MissingIngestKey,
    #[error("invalid or revoked ingest key")]
    InvalidIngestKey,
    #[error("missing credentials: use HTTP Basic auth with a user's password, or `authorization: Bearer <api token>`")]
    MissingApiCredentials,
    #[error("invalid user name, password or API token")]
    InvalidApiCredentials,
    #[error("your session expired or was ended: sign in again")]
    InvalidSession,
    #[error("missing or wrong CSRF token: send the `x-csrf-token` header that /api/login and /api/me return")]
    Csrf,
}

/// Credential checks with a cache of secrets that verified.
pub struct Auth {
    store: Arc<dyn Store>,
    /// Verified secrets (the exact header value) to what they identify, and when.
    verified: RwLock<HashMap<String, (Principal, Instant)>>,
    signer: CookieSigner,
    lockout: Lockout,
    /// Marks cookies `Secure` (the server speaks TLS).
    pub secure_cookies: bool,
    /// How long a session lasts after login.
    pub session_lifetime: Duration,
}

/// How long a verified secret is trusted without reading the store again.
const CACHE_TTL: Duration = Duration::from_secs(30);

/// Entries kept in the verified-secret cache before it is cleared.
const MAX_CACHED: usize = 10_000;

impl Auth {
    /// Loads the cookie signing key from the store (creating it on first start).
    pub fn new(
        store: Arc<dyn Store>,
        lockout: LockoutSettings,
        secure_cookies: bool,
        session_lifetime: Duration,
    ) -> Result<Self, StoreError> {
        Ok(Self {
            session_lifetime,
            signer: CookieSigner::load(store.as_ref())?,
            store,
            verified: RwLock::new(HashMap::new()),
            lockout: Lockout::new(lockout),
            secure_cookies,
        })
    }

    /// Authenticates a UI/API request: HTTP Basic, a bearer API token, or the session
    /// cookie. Cookie requests that change state must carry the session's CSRF token.
    pub fn authenticate(
        &self,
        headers: &HeaderMap,
        method: &Method,
    ) -> Result<Principal, AuthError> {
        if headers.contains_key(http::header::AUTHORIZATION) {
            return self.api(headers);
        }
        let cookie = session::cookie_from(headers).ok_or(AuthError::MissingApiCredentials)?;
        let principal = self.session(&cookie).ok_or(AuthError::InvalidSession)?;
        let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let session_id = principal.session.as_deref().unwrap_or_default();
            let token = header(headers, session::CSRF_HEADER).unwrap_or_default();
            if !self.signer.csrf_matches(session_id, &token) {
                return Err(AuthError::Csrf);
            }
        }
        Ok(principal)
    }

    /// Resolves a session cookie to its user, or `None` when tampered, expired or revoked.
    pub fn session(&self, cookie: &str) -> Option<Principal> {
        let claims = self.signer.verify(cookie, session::now_seconds())?;
        let cache_key = format!("session\0{}", claims.session_id);
        if let Some(principal) = self.cached(&cache_key) {
            return Some(principal);
        }
        let credentials = self.all_credentials()?;
        let record = credentials.iter().find(|c| {
            c.kind == CredentialKind::Session && c.id == claims.session_id && !c.revoked
        })?;
        let user = credentials
            .iter()
            .find(|c| c.kind == CredentialKind::User && c.id == record.name && !c.revoked)?;
        let principal = Principal {
            user: user.id.clone(),
            role: user.role.clone(),
            session: Some(claims.session_id),
        };
        self.remember(cache_key, principal.clone());
        Some(principal)
    }

    /// Checks a password under the lockout and opens a session. Returns the cookie claims.
    pub fn login(
        &self,
        user: &str,
        password: &str,
        address: &str,
    ) -> Result<(Principal, CookieClaims), LoginError> {
        if let Some(wait) = self.lockout.locked_for(user, address) {
            tracing::warn!(
                user,
                address,
                "login rejected: locked after repeated failures"
            );
            return Err(LoginError::Locked(wait));
        }
        let credentials = self.all_credentials().ok_or(LoginError::Store)?;
        let known = credentials
            .iter()
            .find(|c| c.kind == CredentialKind::User && c.id == user && !c.revoked);
        let Some(known) = known.filter(|c| verify_secret(password, &c.hash)) else {
            self.lockout.record_failure(user, address);
            tracing::info!(user, address, "failed login");
            return Err(LoginError::Invalid);
        };
        self.lockout.record_success(user);
        let claims = session::create_session(self.store.as_ref(), user, self.session_lifetime)
            .map_err(|error| {
                tracing::error!(%error, "cannot store a new session");
                LoginError::Store
            })?;
        let principal = Principal {
            user: user.to_string(),
            role: known.role.clone(),
            session: Some(claims.session_id.clone()),
        };
        Ok((principal, claims))
    }

    /// Returns the signed cookie value for a session.
    pub fn cookie_value(&self, claims: &CookieClaims) -> String {
        self.signer.cookie_value(claims)
    }

    /// Returns the CSRF token of a session.
    pub fn csrf_token(&self, session_id: &str) -> String {
        self.signer.csrf_token(session_id)
    }

    fn all_credentials(&self) -> Option<Vec<Credential>> {
        match self.store.credentials() {
            Ok(credentials) => Some(credentials),
            Err(error) => {
                tracing::error!(%error, "cannot read credentials from the store");
                None
            }
        }
    }

    /// Checks the ingest key of an OTLP request.
    pub fn ingest(&self, headers: &HeaderMap) -> Result<(), AuthError> {
        let key = ingest_key(headers).ok_or(AuthError::MissingIngestKey)?;
        self.verify(CredentialKind::IngestKey, &key)
            .map(|_| ())
            .ok_or(AuthError::InvalidIngestKey)
    }

    /// Checks the credentials of an `/api/*` request: HTTP Basic or a bearer API token.
    pub fn api(&self, headers: &HeaderMap) -> Result<Principal, AuthError> {
        let value = header(headers, "authorization").ok_or(AuthError::MissingApiCredentials)?;
        if let Some(token) = strip_scheme(&value, "bearer") {
            return self
                .verify(CredentialKind::ApiToken, token)
                .ok_or(AuthError::InvalidApiCredentials);
        }
        let encoded = strip_scheme(&value, "basic").ok_or(AuthError::MissingApiCredentials)?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or(AuthError::InvalidApiCredentials)?;
        let (user, password) = decoded
            .split_once(':')
            .ok_or(AuthError::InvalidApiCredentials)?;
        self.verify_user(user, password)
            .ok_or(AuthError::InvalidApiCredentials)
    }

    /// Forgets every cached verification, after a revocation or password change.
    pub fn invalidate(&self) {
        self.verified.write().expect("auth cache poisoned").clear();
    }

    fn cached(&self, key: &str) -> Option<Principal> {
        let cache = self.verified.read().expect("auth cache poisoned");
        let (principal, verified_at) = cache.get(key)?;
        (verified_at.elapsed() < CACHE_TTL).then(|| principal.clone())
    }

    fn remember(&self, key: String, principal: Principal) {
        let mut cache = self.verified.write().expect("auth cache poisoned");
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        cache.insert(key, (principal, Instant::now()));
    }

    fn verify(&self, kind: CredentialKind, secret: &str) -> Option<Principal> {
        let cache_key = format!("{}\0{secret}", kind.as_str());
        if let Some(principal) = self.cached(&cache_key) {
            return Some(principal);
        }
        let id = id_of(kind, secret)?;
        let credential = self.find(kind, id)?;
        if !verify_secret(secret, &credential.hash) {
            return None;
        }
        let principal = Principal {
            user: credential.name.clone(),
            role: credential.role.clone(),
            session: None,
        };
        self.remember(cache_key, principal.clone());
        Some(principal)
    }

    fn verify_user(&self, user: &str, password: &str) -> Option<Principal> {
        let cache_key = format!("user\0{user}\0{password}");
        if let Some(principal) = self.cached(&cache_key) {
            return Some(principal);
        }
        let credential = self.find(CredentialKind::User, user)?;
        if !verify_secret(password, &credential.hash) {
            return None;
        }
        let principal = Principal {
            user: user.to_string(),
            role: credential.role,
            session: None,
        };
        self.remember(cache_key, principal.clone());
        Some(principal)
    }

    fn find(&self, kind: CredentialKind, id: &str) -> Option<Credential> {
        self.all_credentials()?
            .into_iter()
            .find(|c| c.kind == kind && c.id == id && !c.revoked)
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)?
        .to_str()
        .ok()
        .map(|value| value.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn strip_scheme<'a>(value: &'a str, scheme: &str) -> Option<&'a str> {
    let (given, rest) = value.split_once(' ')?;
    given.eq_ignore_ascii_case(scheme).then(|| rest.trim())
}

/// Reads the ingest key from `x-exos-ingest-key`, `authorization: Bearer <key>` or a bare `authorization: <key>`.
pub fn ingest_key(headers: &HeaderMap) -> Option<String> {
    if let Some(key) = header(headers, "x-exos-ingest-key") {
        return Some(key);
    }
    let value = header(headers, "authorization")?;
    Some(
        strip_scheme(&value, "bearer")
            .map(str::to_string)
            .unwrap_or(value),
    )
}

/// The secrets made on first start, to print once.
pub struct FirstStart {
    pub admin_password: String,
    pub ingest_key: String,
}

fn now_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// Creates the admin user and one ingest key when the store has no credentials at all.
pub fn bootstrap(store: &dyn Store) -> Result<Option<FirstStart>, StoreError> {
    if !store.credentials()?.is_empty() {
        return Ok(None);
    }
    let admin_password = random_text(24);
    store.put_credential(&Credential {
        id: "admin".into(),
        kind: CredentialKind::User,
        name: String::new(),
        hash: hash_secret(&admin_password),
        role: "admin".into(),
        created_at: now_seconds(),
        revoked: false,
    })?;
    let (_, ingest_key) = create_secret(store, CredentialKind::IngestKey, "default", "")?;
    Ok(Some(FirstStart {
        admin_password,
        ingest_key,
    }))
}

/// Creates and stores a new ingest key or API token. Returns its id and the secret.
pub fn create_secret(
    store: &dyn Store,
    kind: CredentialKind,
    name: &str,
    role: &str,
) -> Result<(String, String), StoreError> {
    let (id, secret) = new_secret(kind);
    store.put_credential(&Credential {
        id: id.clone(),
        kind,
        name: name.to_string(),
        hash: hash_secret(&secret),
        role: role.to_string(),
        created_at: now_seconds(),
        revoked: false,
    })?;
    Ok((id, secret))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn ingest_key_forms_are_accepted() {
        for (name, value) in [
            ("authorization", "exos_ik_a_b"),
            ("authorization", "Bearer exos_ik_a_b"),
            ("x-exos-ingest-key", "exos_ik_a_b"),
        ] {
            let mut headers = HeaderMap::new();
            headers.insert(name, HeaderValue::from_static(value));
            assert_eq!(
                ingest_key(&headers).as_deref(),
                Some("exos_ik_a_b"),
                "{name}: {value}"
            );
        }
        assert_eq!(ingest_key(&HeaderMap::new()), None);
    }
}
