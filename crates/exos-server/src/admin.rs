//! Users: the rules for adding, changing and removing them, for the API and `exos users`.
//!
//! A user is a credential of kind `user` whose id is the user name and whose
//! role is `admin` or `viewer`. Removing a user revokes the record and every
//! session of that user.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use exos_store::credentials::hash_secret;
use exos_store::{Credential, CredentialKind, Store};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::api::{blocking, json_body, Admin, ApiError};
use crate::session::{now_seconds, revoke_sessions_of};
use crate::state::AppState;
use crate::web::MIN_PASSWORD_CHARS;

/// The roles a user or API token can have.
pub const ROLES: &[&str] = &["admin", "viewer"];

/// A user as listed (never the hash).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct UserInfo {
    pub name: String,
    pub role: String,
    pub created_at: i64,
}

/// Lists active users.
pub fn list_users(store: &dyn Store) -> Result<Vec<UserInfo>, ApiError> {
    Ok(store
        .credentials()?
        .into_iter()
        .filter(|c| c.kind == CredentialKind::User && !c.revoked)
        .map(|c| UserInfo {
            name: c.id,
            role: c.role,
            created_at: c.created_at,
        })
        .collect())
}

fn check_name(name: &str) -> Result<(), ApiError> {
    let valid = (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._@-+".contains(c));
    if valid {
        Ok(())
    } else {
        Err(ApiError::BadRequest(format!(
            "invalid user name {name:?}: use 1 to 64 letters, digits or . _ @ - +"
        )))
    }
}

fn check_password(password: &str) -> Result<(), ApiError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ApiError::BadRequest(format!(
            "the password is too short: use at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    Ok(())
}

fn check_role(role: &str) -> Result<(), ApiError> {
    if ROLES.contains(&role) {
        Ok(())
    } else {
        Err(ApiError::BadRequest(format!(
            "invalid role {role:?}: use admin or viewer"
        )))
    }
}

fn find_user(store: &dyn Store, name: &str) -> Result<Option<Credential>, ApiError> {
    Ok(store
        .credentials()?
        .into_iter()
        .find(|c| c.kind == CredentialKind::User && c.id == name && !c.revoked))
}

/// Adds a user. Fails when the name is taken.
pub fn add_user(store: &dyn Store, name: &str, password: &str, role: &str) -> Result<(), ApiError> {
    check_name(name)?;
    check_password(password)?;
    check_role(role)?;
    if find_user(store, name)?.is_some() {
        return Err(ApiError::BadRequest(format!(
            "a user named {name:?} already exists; choose another name or change their password"
        )));
    }
    store.put_credential(&Credential {
        id: name.to_string(),
        kind: CredentialKind::User,
        name: String::new(),
        hash: hash_secret(password),
        role: role.to_string(),
        created_at: now_seconds(),
        revoked: false,
    })?;
    Ok(())
}

/// Sets a user's password and ends all their sessions.
pub fn set_password(store: &dyn Store, name: &str, password: &str) -> Result<(), ApiError> {
    check_password(password)?;
    let mut user = find_user(store, name)?
        .ok_or_else(|| ApiError::NotFound(format!("no user named {name:?}")))?;
    user.hash = hash_secret(password);
    store.put_credential(&user)?;
    revoke_sessions_of(store, name)?;
    Ok(())
}

/// Removes a user and ends all their sessions.
pub fn remove_user(store: &dyn Store, name: &str) -> Result<(), ApiError> {
    if !store.revoke_credential(CredentialKind::User, name)? {
        return Err(ApiError::NotFound(format!("no user named {name:?}")));
    }
    revoke_sessions_of(store, name)?;
    Ok(())
}

/// Adds the user routes (admins only).
pub fn routes(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/api/users", get(users).post(create_user))
        .route("/api/users/{name}", delete(delete_user))
}

async fn users(State(state): State<AppState>, _admin: Admin) -> Result<Response, ApiError> {
    let store = state.store.clone();
    let users = blocking(move || list_users(store.as_ref())).await?;
    Ok(Json(json!({"users": users})).into_response())
}

/// The body of `POST /api/users`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub name: String,
    pub password: String,
    #[serde(default = "viewer")]
    pub role: String,
}

fn viewer() -> String {
    "viewer".into()
}

async fn create_user(
    State(state): State<AppState>,
    _admin: Admin,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let request: NewUser = json_body(
        &body,
        "{\"name\": \"…\", \"password\": \"…\", \"role\": \"viewer\"}",
    )?;
    let store = state.store.clone();
    let name = request.name.clone();
    blocking(move || {
        add_user(
            store.as_ref(),
            &request.name,
            &request.password,
            &request.role,
        )
    })
    .await?;
    Ok((StatusCode::CREATED, Json(json!({"name": name}))).into_response())
}

async fn delete_user(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    if admin.user == name {
        return Err(ApiError::BadRequest(
            "you cannot remove yourself; sign in as another admin to do it".into(),
        ));
    }
    let store = state.store.clone();
    blocking(move || remove_user(store.as_ref(), &name)).await?;
    state.auth.invalidate();
    Ok(StatusCode::NO_CONTENT.into_response())
}
