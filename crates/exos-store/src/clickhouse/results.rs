//! Conversions from ClickHouse responses to EXOS types: JSONCompact results, errors, credential rows.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::credentials::{Credential, CredentialKind};
use crate::replay::{ReplayAnalysis, SignalRecord};
use crate::saved::SavedItem;
use crate::{ColumnInfo, QueryResult, StoreError};

/// The parts of a `JSONCompact` result EXOS reads.
#[derive(Deserialize)]
struct Compact {
    meta: Vec<Meta>,
    data: Vec<Vec<Value>>,
}

#[derive(Deserialize)]
struct Meta {
    name: String,
    #[serde(rename = "type")]
    type_name: String,
}

/// Parses a `JSONCompact` body, keeping at most `max_rows` rows.
pub fn parse(bytes: &[u8], max_rows: usize) -> Result<QueryResult, StoreError> {
    let compact: Compact = serde_json::from_slice(bytes)
        .map_err(|e| StoreError::Query(format!("unreadable ClickHouse result: {e}")))?;
    let truncated = compact.data.len() > max_rows;
    let time_columns: Vec<bool> = compact
        .meta
        .iter()
        .map(|m| m.type_name.contains("DateTime"))
        .collect();
    let rows: Vec<Vec<Value>> = compact
        .data
        .into_iter()
        .take(max_rows)
        .map(|row| {
            row.into_iter()
                .zip(&time_columns)
                .map(|(v, is_time)| if *is_time { trim_time(v) } else { v })
                .collect()
        })
        .collect();
    Ok(QueryResult {
        columns: compact
            .meta
            .into_iter()
            .map(|m| ColumnInfo {
                name: m.name,
                type_name: m.type_name,
            })
            .collect(),
        row_count: rows.len(),
        rows,
        truncated,
        elapsed_ms: 0.0,
    })
}

/// Drops trailing zeros of a time's fraction, so both stores print `10:00:00.5`, not `.500000000`.
///
/// Lists of times (`Events.Timestamp`) are trimmed element by element.
fn trim_time(value: Value) -> Value {
    if let Value::Array(items) = value {
        return Value::Array(items.into_iter().map(trim_time).collect());
    }
    let Value::String(text) = value else {
        return value;
    };
    let Some(dot) = text.rfind('.') else {
        return Value::String(text);
    };
    let fraction = text[dot + 1..].trim_end_matches('0');
    if fraction.is_empty() {
        Value::String(text[..dot].to_string())
    } else {
        Value::String(format!("{}.{fraction}", &text[..dot]))
    }
}

/// Returns ClickHouse's own message for an error (`Code: 60. DB::Exception: …`) when there is one.
pub fn server_message(error: &clickhouse::error::Error) -> String {
    match error {
        clickhouse::error::Error::BadResponse(text) => text.trim().to_string(),
        other => other.to_string(),
    }
}

/// Maps a query failure to a store error; ClickHouse's TIMEOUT_EXCEEDED (code 159) is a timeout.
pub fn query_error(error: clickhouse::error::Error, timeout: Duration) -> StoreError {
    let message = server_message(&error);
    if message.contains("Code: 159.") || matches!(error, clickhouse::error::Error::TimedOut) {
        return StoreError::Timeout(timeout);
    }
    StoreError::Query(message)
}

/// One row of `exos_credentials`.
#[derive(clickhouse::Row, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CredentialRow {
    pub kind: String,
    pub id: String,
    pub name: String,
    pub hash: String,
    pub role: String,
    pub created_at: i64,
    pub revoked: bool,
    /// The `ReplacingMergeTree` version: the latest write of a credential wins.
    pub version: u64,
}

impl CredentialRow {
    pub fn from_credential(credential: &Credential, version: u64) -> Self {
        Self {
            kind: credential.kind.as_str().into(),
            id: credential.id.clone(),
            name: credential.name.clone(),
            hash: credential.hash.clone(),
            role: credential.role.clone(),
            created_at: credential.created_at,
            revoked: credential.revoked,
            version,
        }
    }

    pub fn into_credential(self) -> Option<Credential> {
        Some(Credential {
            kind: CredentialKind::parse(&self.kind)?,
            id: self.id,
            name: self.name,
            hash: self.hash,
            role: self.role,
            created_at: self.created_at,
            revoked: self.revoked,
        })
    }
}

/// A row of `exos_saved_items`, as RowBinary reads and writes it.
#[derive(Debug, clickhouse::Row, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SavedItemRow {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub owner: String,
    pub shared: bool,
    pub body: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted: bool,
    /// The `ReplacingMergeTree` version: the latest write of an item wins.
    pub version: u64,
}

impl SavedItemRow {
    pub fn from_item(item: &SavedItem, version: u64) -> Self {
        Self {
            id: item.id.clone(),
            kind: item.kind.clone(),
            name: item.name.clone(),
            owner: item.owner.clone(),
            shared: item.shared,
            body: item.body.clone(),
            created_at: item.created_at,
            updated_at: item.updated_at,
            deleted: item.deleted,
            version,
        }
    }

    pub fn into_item(self) -> SavedItem {
        SavedItem {
            id: self.id,
            kind: self.kind,
            name: self.name,
            owner: self.owner,
            shared: self.shared,
            body: self.body,
            created_at: self.created_at,
            updated_at: self.updated_at,
            deleted: self.deleted,
        }
    }
}

/// A row of `exos_replay_sessions`.
#[derive(Debug, clickhouse::Row, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplaySessionRow {
    pub session_id: String,
    /// DateTime64(3): milliseconds.
    pub start_time: i64,
    pub end_time: i64,
    pub active_ms: i64,
    pub clicks: u64,
    pub rage_clicks: u64,
    pub dead_clicks: u64,
    pub error_clicks: u64,
    pub replay_events: u64,
    pub gaps: u64,
    pub analysed_at: i64,
}

impl ReplaySessionRow {
    pub fn from_analysis(analysis: &ReplayAnalysis) -> Self {
        Self {
            session_id: analysis.session_id.clone(),
            start_time: analysis.start_ms,
            end_time: analysis.end_ms,
            active_ms: analysis.active_ms,
            clicks: analysis.clicks,
            rage_clicks: analysis.count("rage_click"),
            dead_clicks: analysis.count("dead_click"),
            error_clicks: analysis.count("error_click"),
            replay_events: analysis.events,
            gaps: analysis.gaps,
            analysed_at: analysis.analysed_ms,
        }
    }
}

/// A row of `exos_session_signals`.
#[derive(Debug, clickhouse::Row, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SignalRow {
    pub session_id: String,
    pub time: i64,
    pub kind: String,
    pub x: f64,
    pub y: f64,
    pub node: i64,
    pub clicks: u64,
    pub analysed_at: i64,
}

impl SignalRow {
    pub fn from_signal(analysis: &ReplayAnalysis, signal: &SignalRecord) -> Self {
        Self {
            session_id: analysis.session_id.clone(),
            time: signal.time_ms,
            kind: signal.kind.clone(),
            x: signal.x,
            y: signal.y,
            node: signal.node,
            clicks: signal.clicks,
            analysed_at: analysis.analysed_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_results_parse_and_truncate() {
        let body = br#"{"meta":[{"name":"t","type":"DateTime64(9)"},{"name":"n","type":"UInt64"}],
            "data":[["2026-06-01 10:00:00.500000000",1],["2026-06-01 10:00:01.000000000",2]],"rows":2}"#;
        let result = parse(body, 1).unwrap();
        assert!(result.truncated);
        assert_eq!(
            result.rows,
            vec![vec![
                serde_json::json!("2026-06-01 10:00:00.5"),
                serde_json::json!(1)
            ]]
        );
        assert_eq!(result.columns[1].type_name, "UInt64");
    }

    #[test]
    fn whole_seconds_lose_the_fraction() {
        assert_eq!(
            trim_time(serde_json::json!("2026-06-01 10:00:01.000000000")),
            serde_json::json!("2026-06-01 10:00:01")
        );
    }
}
