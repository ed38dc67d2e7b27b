//! Ingest keys, API tokens and users: how secrets are made, hashed and checked.
//!
//! Only argon2id hashes are stored. A key or token has the form
//! `exos_<kind>_<id>_<secret>`: the id finds the stored record without
//! hashing, so a wrong key costs one lookup, not one argon2 run.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use rand::distributions::Alphanumeric;
use rand::Rng;

/// The kind of a credential, which decides what its holder may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    /// Sends telemetry to the OTLP receivers.
    IngestKey,
    /// Calls `/api/*` as the user who created it.
    ApiToken,
    /// A person who signs in with a password.
    User,
    /// A signed-in browser session; `name` holds the user, `hash` is unused.
    Session,
    /// A server secret, such as the key that signs session cookies; `hash` holds it.
    ServerSecret,
}

impl CredentialKind {
    /// Returns the name stored in the `Kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::IngestKey => "ingest_key",
            CredentialKind::ApiToken => "api_token",
            CredentialKind::User => "user",
            CredentialKind::Session => "session",
            CredentialKind::ServerSecret => "server_secret",
        }
    }

    /// Parses a stored `Kind` value.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "ingest_key" => Some(CredentialKind::IngestKey),
            "api_token" => Some(CredentialKind::ApiToken),
            "user" => Some(CredentialKind::User),
            "session" => Some(CredentialKind::Session),
            "server_secret" => Some(CredentialKind::ServerSecret),
            _ => None,
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            CredentialKind::IngestKey => "exos_ik_",
            CredentialKind::ApiToken => "exos_at_",
            CredentialKind::User | CredentialKind::Session | CredentialKind::ServerSecret => "",
        }
    }
}

/// One stored credential; `hash` is an argon2id PHC string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// Key or token id, or the user name for users.
    pub id: String,
    pub kind: CredentialKind,
    /// A label chosen by its creator (empty for users).
    pub name: String,
    pub hash: String,
    /// `admin` or `viewer` for users and tokens; empty for ingest keys.
    pub role: String,
    /// Creation time, seconds since the Unix epoch.
    pub created_at: i64,
    pub revoked: bool,
}

/// Returns `len` random alphanumeric characters from the OS generator.
pub fn random_text(len: usize) -> String {
    rand::rngs::OsRng
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// Creates a new key or token: returns its id and the full secret to hand out once.
pub fn new_secret(kind: CredentialKind) -> (String, String) {
    let id = random_text(12).to_lowercase();
    let secret = format!("{}{id}_{}", kind.prefix(), random_text(32));
    (id, secret)
}

/// Extracts the id from a key or token, if it has the expected form.
pub fn id_of(kind: CredentialKind, secret: &str) -> Option<&str> {
    let rest = secret.strip_prefix(kind.prefix())?;
    let (id, _) = rest.split_once('_')?;
    Some(id)
}

/// Hashes a secret with argon2id and a random salt.
pub fn hash_secret(secret: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .expect("argon2 with default parameters accepts any input")
        .to_string()
}

/// Checks a secret against a stored argon2 hash; a malformed hash never matches.
pub fn verify_secret(secret: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(secret.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_round_trip_through_hash() {
        let (id, secret) = new_secret(CredentialKind::IngestKey);
        assert_eq!(id_of(CredentialKind::IngestKey, &secret), Some(id.as_str()));
        let hash = hash_secret(&secret);
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_secret(&secret, &hash));
        assert!(!verify_secret("wrong", &hash));
        assert!(!verify_secret(&secret, "not a hash"));
    }

    #[test]
    fn token_id_needs_its_prefix() {
        let (_, secret) = new_secret(CredentialKind::ApiToken);
        assert_eq!(id_of(CredentialKind::IngestKey, &secret), None);
    }
}
