//! Browser sessions: signed cookies, CSRF tokens and the login lockout.
//!
//! A session is a record in the store (kind `session`, id a random session id,
//! name the user), so logging out or changing a password revokes it on every
//! server that shares the store. The cookie carries the session id and its
//! expiry, signed with HMAC-SHA256 under a key kept in the store as a server
//! secret. A cookie whose signature or expiry fails is rejected before the
//! store is read. The CSRF token is an HMAC of the session id under the same
//! key, so it needs no storage and changes with every session.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use exos_store::credentials::random_text;
use exos_store::{Credential, CredentialKind, Store, StoreError};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The cookie that holds a browser session.
pub const COOKIE_NAME: &str = "exos_session";

/// The header that carries the CSRF token on state-changing requests.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Id of the server secret that signs session cookies.
const SIGNING_KEY_ID: &str = "session-signing-key";

/// How long a session lasts after login, unless configured otherwise.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);

/// Signs and checks session cookies and CSRF tokens.
pub struct CookieSigner {
    key: Vec<u8>,
}

/// What a valid cookie names: the session id and its expiry (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieClaims {
    pub session_id: String,
    pub expires_at: i64,
}

impl CookieSigner {
    /// Loads the signing key from the store, creating it on first use.
    pub fn load(store: &dyn Store) -> Result<Self, StoreError> {
        let existing = store
            .credentials()?
            .into_iter()
            .find(|c| c.kind == CredentialKind::ServerSecret && c.id == SIGNING_KEY_ID);
        let key = match existing {
            Some(credential) => credential.hash,
            None => {
                let key = random_text(64);
                store.put_credential(&Credential {
                    id: SIGNING_KEY_ID.into(),
                    kind: CredentialKind::ServerSecret,
                    name: "signs session cookies and CSRF tokens".into(),
                    hash: key.clone(),
                    role: String::new(),
                    created_at: now_seconds(),
                    revoked: false,
                })?;
                // Another server may have created one at the same moment: use whichever the store kept.
                store
                    .credentials()?
                    .into_iter()
                    .find(|c| c.kind == CredentialKind::ServerSecret && c.id == SIGNING_KEY_ID)
                    .map_or(key, |c| c.hash)
            }
        };
        Ok(Self::from_key(key.into_bytes()))
    }

    /// Builds a signer from raw key bytes.
    pub fn from_key(key: Vec<u8>) -> Self {
        Self { key }
    }

    fn mac(&self, parts: &[&str]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                mac.update(b".");
            }
            mac.update(part.as_bytes());
        }
        mac
    }

    /// Returns the cookie value for a session.
    pub fn cookie_value(&self, claims: &CookieClaims) -> String {
        let expires = claims.expires_at.to_string();
        let tag = self
            .mac(&["v1", &claims.session_id, &expires])
            .finalize()
            .into_bytes();
        format!(
            "v1.{}.{expires}.{}",
            claims.session_id,
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag)
        )
    }

    /// Checks a cookie value's signature and expiry. `None` for anything tampered or expired.
    pub fn verify(&self, value: &str, now: i64) -> Option<CookieClaims> {
        let mut parts = value.split('.');
        let (version, session_id, expires, tag) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if version != "v1" || parts.next().is_some() || session_id.is_empty() {
            return None;
        }
        let tag = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(tag)
            .ok()?;
        self.mac(&["v1", session_id, expires])
            .verify_slice(&tag)
            .ok()?;
        let expires_at: i64 = expires.parse().ok()?;
        (expires_at > now).then(|| CookieClaims {
            session_id: session_id.to_string(),
            expires_at,
        })
    }

    /// Returns the CSRF token of a session.
    pub fn csrf_token(&self, session_id: &str) -> String {
        let tag = self.mac(&["csrf", session_id]).finalize().into_bytes();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag)
    }

    /// Checks a CSRF token in constant time.
    pub fn csrf_matches(&self, session_id: &str, token: &str) -> bool {
        let Ok(tag) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token) else {
            return false;
        };
        self.mac(&["csrf", session_id]).verify_slice(&tag).is_ok()
    }
}

/// Settings of the login lockout.
#[derive(Debug, Clone)]
pub struct LockoutSettings {
    /// Failed logins for one user name within `window` that lock it.
    pub max_failures_per_user: usize,
    /// Failed logins from one address within `window` that lock it.
    pub max_failures_per_address: usize,
    pub window: Duration,
}

impl Default for LockoutSettings {
    fn default() -> Self {
        Self {
            max_failures_per_user: 5,
            max_failures_per_address: 20,
            window: Duration::from_secs(15 * 60),
        }
    }
}

/// Most keys the lockout remembers before it drops the oldest state.
const MAX_TRACKED: usize = 100_000;

/// Counts failed logins per user name and per client address.
pub struct Lockout {
    settings: LockoutSettings,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Lockout {
    pub fn new(settings: LockoutSettings) -> Self {
        Self {
            settings,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Returns how long the user or address stays locked, or `None` when a login may be tried.
    pub fn locked_for(&self, user: &str, address: &str) -> Option<Duration> {
        let now = Instant::now();
        let mut failures = self.failures.lock().expect("lockout poisoned");
        [
            (format!("user\0{user}"), self.settings.max_failures_per_user),
            (
                format!("addr\0{address}"),
                self.settings.max_failures_per_address,
            ),
        ]
        .into_iter()
        .filter_map(|(key, max)| {
            let times = failures.get_mut(&key)?;
            while times
                .front()
                .is_some_and(|t| now.duration_since(*t) >= self.settings.window)
            {
                times.pop_front();
            }
            if max == 0 || times.len() < max {
                return None;
            }
            // Locked until enough failures leave the window to allow one more try.
            let releasing = times[times.len() - max];
            Some(
                self.settings
                    .window
                    .saturating_sub(now.duration_since(releasing)),
            )
        })
        .max()
    }

    /// Records a failed login of `user` from `address`.
    pub fn record_failure(&self, user: &str, address: &str) {
        let now = Instant::now();
        let mut failures = self.failures.lock().expect("lockout poisoned");
        if failures.len() >= MAX_TRACKED {
            let window = self.settings.window;
            failures.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < window)
            });
        }
        for key in [format!("user\0{user}"), format!("addr\0{address}")] {
            failures.entry(key).or_default().push_back(now);
        }
    }

    /// Forgets the failures of a user after a successful login.
    pub fn record_success(&self, user: &str) {
        self.failures
            .lock()
            .expect("lockout poisoned")
            .remove(&format!("user\0{user}"));
    }
}

/// Creates a session record for `user`, valid for `lifetime`, and returns its cookie claims.
pub fn create_session(
    store: &dyn Store,
    user: &str,
    lifetime: Duration,
) -> Result<CookieClaims, StoreError> {
    let session_id = random_text(32);
    let now = now_seconds();
    store.put_credential(&Credential {
        id: session_id.clone(),
        kind: CredentialKind::Session,
        name: user.to_string(),
        hash: String::new(),
        role: String::new(),
        created_at: now,
        revoked: false,
    })?;
    Ok(CookieClaims {
        session_id,
        expires_at: now + lifetime.as_secs() as i64,
    })
}

/// Revokes every session of `user`. Returns how many were active.
pub fn revoke_sessions_of(store: &dyn Store, user: &str) -> Result<usize, StoreError> {
    let sessions: Vec<Credential> = store
        .credentials()?
        .into_iter()
        .filter(|c| c.kind == CredentialKind::Session && c.name == user && !c.revoked)
        .collect();
    for session in &sessions {
        store.revoke_credential(CredentialKind::Session, &session.id)?;
    }
    Ok(sessions.len())
}

/// Returns the `Set-Cookie` value that stores a session in the browser for `lifetime`.
pub fn set_cookie(value: &str, lifetime: Duration, secure: bool) -> String {
    format!(
        "{COOKIE_NAME}={value}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax{}",
        lifetime.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

/// Returns the `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(secure: bool) -> String {
    format!(
        "{COOKIE_NAME}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    )
}

/// Reads the session cookie from a request's `Cookie` headers.
pub fn cookie_from(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.to_string())
}

pub(crate) fn now_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> CookieSigner {
        CookieSigner::from_key(b"test key".to_vec())
    }

    fn claims() -> CookieClaims {
        CookieClaims {
            session_id: "abc123".into(),
            expires_at: 2_000,
        }
    }

    #[test]
    fn cookie_round_trips_until_expiry() {
        let value = signer().cookie_value(&claims());
        assert_eq!(signer().verify(&value, 1_000), Some(claims()));
        assert_eq!(signer().verify(&value, 2_000), None, "expired");
    }

    #[test]
    fn tampered_cookies_are_rejected() {
        let value = signer().cookie_value(&claims());
        let longer = value.replace(".2000.", ".9999.");
        assert_eq!(signer().verify(&longer, 1_000), None);
        let other_session = value.replace("abc123", "abc124");
        assert_eq!(signer().verify(&other_session, 1_000), None);
        let other_key = CookieSigner::from_key(b"another key".to_vec());
        assert_eq!(other_key.verify(&value, 1_000), None);
        for junk in [
            "",
            "v1",
            "v1.a.b",
            "v2.abc123.2000.x",
            &format!("{value}.x"),
        ] {
            assert_eq!(signer().verify(junk, 1_000), None, "{junk}");
        }
    }

    #[test]
    fn csrf_token_is_bound_to_its_session() {
        let token = signer().csrf_token("abc123");
        assert!(signer().csrf_matches("abc123", &token));
        assert!(!signer().csrf_matches("abc124", &token));
        assert!(!signer().csrf_matches("abc123", "not base64!"));
        assert!(!signer().csrf_matches("abc123", ""));
    }

    #[test]
    fn lockout_counts_per_user_and_per_address() {
        let lockout = Lockout::new(LockoutSettings {
            max_failures_per_user: 3,
            max_failures_per_address: 5,
            window: Duration::from_secs(60),
        });
        for _ in 0..3 {
            assert_eq!(lockout.locked_for("ann", "10.0.0.1"), None);
            lockout.record_failure("ann", "10.0.0.1");
        }
        let locked = lockout.locked_for("ann", "10.0.0.2").expect("user locked");
        assert!(locked > Duration::from_secs(50));
        assert_eq!(lockout.locked_for("bob", "10.0.0.2"), None);
        lockout.record_failure("bob", "10.0.0.1");
        lockout.record_failure("cid", "10.0.0.1");
        assert!(
            lockout.locked_for("dan", "10.0.0.1").is_some(),
            "address locked"
        );
        lockout.record_success("ann");
        assert_eq!(lockout.locked_for("ann", "10.0.0.2"), None);
    }

    #[test]
    fn cookie_header_parsing_finds_the_session() {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::COOKIE,
            "theme=dark; exos_session=v1.a.1.b; other=x"
                .parse()
                .unwrap(),
        );
        assert_eq!(cookie_from(&headers).as_deref(), Some("v1.a.1.b"));
    }
}
