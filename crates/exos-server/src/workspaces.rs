//! Workspaces: saved queries, dashboards, actions and cohorts, per user or shared.
//!
//! Everyone sees their own items and every shared one, admins see all. Only
//! the owner or an admin may change or delete an item. Bodies are checked for their shape
//! here, so pages can trust what they load.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use exos_store::credentials::random_text;
use exos_store::SavedItem;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::api::{blocking, json_body, ApiError, Caller};
use crate::auth::Principal;
use crate::session::now_seconds;
use crate::state::AppState;

/// The kinds of workspace items.
pub const KINDS: &[&str] = &["query", "dashboard", "action", "cohort"];

/// Largest body accepted for one item, in bytes of JSON.
const MAX_BODY_BYTES: usize = 256 * 1024;

/// An item as the API shows it (the body as JSON, not text).
#[derive(Debug, Serialize)]
pub struct Item {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub owner: String,
    pub shared: bool,
    pub body: Value,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<SavedItem> for Item {
    fn from(item: SavedItem) -> Self {
        Self {
            body: serde_json::from_str(&item.body).unwrap_or(Value::Null),
            id: item.id,
            kind: item.kind,
            name: item.name,
            owner: item.owner,
            shared: item.shared,
            created_at: item.created_at,
            updated_at: item.updated_at,
        }
    }
}

/// The body of `POST /api/workspaces` and `PUT /api/workspaces/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemRequest {
    pub kind: Option<String>,
    pub name: String,
    #[serde(default)]
    pub shared: bool,
    pub body: Value,
}

const EXPECTED: &str =
    "{\"kind\": \"query\", \"name\": \"…\", \"shared\": false, \"body\": {\"sql\": \"…\"}}";

fn check_item(kind: &str, request: &ItemRequest) -> Result<String, ApiError> {
    if !KINDS.contains(&kind) {
        return Err(ApiError::BadRequest(format!(
            "invalid kind {kind:?}: use query, dashboard, action or cohort"
        )));
    }
    let name = request.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::BadRequest(
            "the name must have 1 to 200 characters".into(),
        ));
    }
    let body = serde_json::to_string(&request.body).unwrap_or_default();
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::BadRequest(format!(
            "the body has {} bytes; the limit is {MAX_BODY_BYTES}",
            body.len()
        )));
    }
    match kind {
        "query" if !request.body.get("sql").is_some_and(Value::is_string) => {
            Err(ApiError::BadRequest(
                "a query's body needs \"sql\" as text, for example {\"sql\": \"SELECT 1\"}".into(),
            ))
        }
        "dashboard" => match request.body.get("panels").and_then(Value::as_array) {
            None => Err(ApiError::BadRequest(
                "a dashboard's body needs \"panels\" as a list, for example {\"panels\": []}"
                    .into(),
            )),
            Some(panels) => check_panels(panels).map(|()| body),
        },
        "action" => exos_analytics::definitions::check_action_body(&request.body)
            .map(|_| body)
            .map_err(ApiError::BadRequest),
        "cohort" => exos_analytics::definitions::check_cohort_body(&request.body)
            .map(|_| body)
            .map_err(ApiError::BadRequest),
        _ => Ok(body),
    }
}

/// Panel width in grid columns, and height in pixels, that a dashboard accepts.
const PANEL_WIDTHS: std::ops::RangeInclusive<f64> = 1.0..=12.0;
const PANEL_HEIGHTS: std::ops::RangeInclusive<f64> = 100.0..=2000.0;

/// Checks that each panel is an object and that its `w` and `h`, where given,
/// are numbers in range.
fn check_panels(panels: &[Value]) -> Result<(), ApiError> {
    for (index, panel) in panels.iter().enumerate() {
        let Some(fields) = panel.as_object() else {
            return Err(ApiError::BadRequest(format!(
                "panel {index} is not an object; give {{\"title\": \"…\", \"w\": 6, \"h\": 320, …}}"
            )));
        };
        for (field, range) in [("w", &PANEL_WIDTHS), ("h", &PANEL_HEIGHTS)] {
            let Some(value) = fields.get(field).filter(|value| !value.is_null()) else {
                continue;
            };
            if !value.as_f64().is_some_and(|number| range.contains(&number)) {
                return Err(ApiError::BadRequest(format!(
                    "panel {index}: invalid {field} {value}; use a number from {} to {}",
                    range.start(),
                    range.end()
                )));
            }
        }
    }
    Ok(())
}

/// Whether `caller` may see `item`: shared items, their own, and every item for admins.
pub(crate) fn visible(item: &SavedItem, caller: &Principal) -> bool {
    KINDS.contains(&item.kind.as_str())
        && (item.shared || item.owner == caller.user || caller.is_admin())
}

fn may_change(item: &SavedItem, caller: &Principal) -> bool {
    item.owner == caller.user || caller.is_admin()
}

/// Adds the workspace routes.
pub fn routes(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/api/workspaces", get(list).post(create))
        .route("/api/workspaces/{id}", get(read).put(update).delete(remove))
}

async fn list(State(state): State<AppState>, Caller(caller): Caller) -> Result<Response, ApiError> {
    let store = state.store.clone();
    let items: Vec<Item> = blocking(move || Ok(store.saved_items()?))
        .await?
        .into_iter()
        .filter(|item| visible(item, &caller))
        .map(Item::from)
        .collect();
    Ok(Json(json!({"items": items})).into_response())
}

async fn find(state: &AppState, id: String) -> Result<SavedItem, ApiError> {
    let store = state.store.clone();
    let lookup = id.clone();
    blocking(move || Ok(store.saved_items()?))
        .await?
        .into_iter()
        .find(|item| item.id == lookup)
        .ok_or_else(|| ApiError::NotFound(format!("no workspace item with id {id:?}")))
}

/// Finds an item the caller may change: their own, or any for admins.
async fn find_changeable(
    state: &AppState,
    id: String,
    caller: &Principal,
) -> Result<SavedItem, ApiError> {
    let item = find(state, id.clone()).await?;
    if !visible(&item, caller) {
        return Err(ApiError::NotFound(format!(
            "no workspace item with id {id:?}"
        )));
    }
    if !may_change(&item, caller) {
        return Err(ApiError::Forbidden);
    }
    Ok(item)
}

async fn read(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let item = find(&state, id.clone()).await?;
    if !visible(&item, &caller) {
        return Err(ApiError::NotFound(format!(
            "no workspace item with id {id:?}"
        )));
    }
    Ok(Json(Item::from(item)).into_response())
}

async fn create(
    State(state): State<AppState>,
    Caller(caller): Caller,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let request: ItemRequest = json_body(&body, EXPECTED)?;
    let kind = request.kind.clone().unwrap_or_else(|| "query".into());
    let body = check_item(&kind, &request)?;
    let now = now_seconds();
    let item = SavedItem {
        id: random_text(16).to_lowercase(),
        kind,
        name: request.name.trim().to_string(),
        owner: caller.user.clone(),
        shared: request.shared,
        body,
        created_at: now,
        updated_at: now,
        deleted: false,
    };
    let store = state.store.clone();
    let saved = item.clone();
    blocking(move || Ok(store.put_saved_item(&saved)?)).await?;
    Ok((StatusCode::CREATED, Json(Item::from(item))).into_response())
}

async fn update(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let request: ItemRequest = json_body(&body, EXPECTED)?;
    let mut item = find_changeable(&state, id, &caller).await?;
    let kind = request.kind.clone().unwrap_or_else(|| item.kind.clone());
    if kind != item.kind {
        return Err(ApiError::BadRequest(format!(
            "item {:?} is a {}; its kind cannot change to {kind:?}, so save a new item instead",
            item.id, item.kind
        )));
    }
    item.body = check_item(&kind, &request)?;
    item.name = request.name.trim().to_string();
    item.shared = request.shared;
    item.updated_at = now_seconds();
    let store = state.store.clone();
    let saved = item.clone();
    blocking(move || Ok(store.put_saved_item(&saved)?)).await?;
    Ok(Json(Item::from(item)).into_response())
}

async fn remove(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let mut item = find_changeable(&state, id, &caller).await?;
    item.deleted = true;
    item.updated_at = now_seconds();
    let store = state.store.clone();
    blocking(move || Ok(store.put_saved_item(&item)?)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
