//! The documentation pages (`docs/*.md` and the README), embedded and served as Markdown.

use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use rust_embed::RustEmbed;
use serde_json::json;

use crate::api::{ApiError, Caller};
use crate::state::AppState;

#[derive(RustEmbed)]
#[folder = "../../docs/"]
struct Docs;

/// The README, shown first as the "README" page.
const README: &str = include_str!("../../../README.md");

/// Returns every page as (name, Markdown), the README first.
pub fn pages() -> Vec<(String, String)> {
    let mut pages = vec![("README".to_string(), README.to_string())];
    let mut names: Vec<String> = Docs::iter()
        .map(|n| n.to_string())
        .filter(|n| n.ends_with(".md") && !n.contains('/'))
        .collect();
    names.sort();
    for file in names {
        if let Some(content) = Docs::get(&file) {
            let name = file.trim_end_matches(".md").to_string();
            pages.push((name, String::from_utf8_lossy(&content.data).into_owned()));
        }
    }
    pages
}

fn title_of(markdown: &str, name: &str) -> String {
    markdown
        .lines()
        .find_map(|line| line.strip_prefix("# "))
        .map_or_else(|| name.to_string(), |t| t.trim().to_string())
}

/// Adds the docs routes.
pub fn routes(router: axum::Router<AppState>) -> axum::Router<AppState> {
    router
        .route("/api/docs", get(list))
        .route("/api/docs/{name}", get(page))
}

async fn list(_caller: Caller) -> Response {
    let docs: Vec<_> = pages()
        .iter()
        .map(|(name, markdown)| json!({"name": name, "title": title_of(markdown, name)}))
        .collect();
    Json(json!({"docs": docs})).into_response()
}

async fn page(_caller: Caller, Path(name): Path<String>) -> Result<Response, ApiError> {
    let (name, markdown) = pages()
        .into_iter()
        .find(|(n, _)| *n == name)
        .ok_or_else(|| ApiError::NotFound(format!("no documentation page named {name:?}")))?;
    let title = title_of(&markdown, &name);
    Ok(Json(json!({"name": name, "title": title, "markdown": markdown})).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_doc_has_a_title() {
        let pages = pages();
        assert!(pages.iter().any(|(n, _)| n == "ARCHITECTURE"));
        for (name, markdown) in pages {
            assert_ne!(title_of(&markdown, &name), "", "{name}");
        }
    }
}
