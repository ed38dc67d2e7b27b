//! `POST /api/visualize`: a user query's result shaped into chart labels and datasets.
//!
//! The SQL is the user's, so it runs through the SQL guard
//! (`exos_store::run_user_sql`) with row and time limits, unlike the rest of
//! this crate. Shaping is a pure function of the result, [`shape`].

use std::time::Duration;

use exos_store::{QueryLimits, QueryResult, Store};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::AnalyticsError;

/// Result rows read at most.
pub const MAX_ROWS: usize = 10_000;
/// Labels (x values) kept at most; more set `truncated`.
pub const MAX_LABELS: usize = 1_000;
/// Wall time after which the user's query is interrupted.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// The body of `POST /api/visualize`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct VisualizeRequest {
    pub sql: String,
    pub chart: Chart,
}

/// How to read a result as a chart.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Chart {
    #[serde(rename = "type")]
    pub kind: ChartKind,
    /// The column of the labels (x axis, pie slices, table rows).
    pub x: String,
    /// The value columns; a pie uses the first.
    pub y: Vec<String>,
    /// A column whose values split each y column into one dataset per value.
    #[serde(default)]
    pub series: Option<String>,
}

/// The chart types pages draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChartKind {
    Line,
    Bar,
    Area,
    Pie,
    Table,
}

/// The response body of `/api/visualize`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Visualization {
    pub labels: Vec<String>,
    pub datasets: Vec<Dataset>,
    /// True when the query had more rows than `MAX_ROWS` or more labels than `MAX_LABELS`.
    pub truncated: bool,
}

/// One line, bar group or pie: a value per label, `null` where the result has none.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dataset {
    pub label: String,
    pub data: Vec<Option<f64>>,
}

/// Runs the user's SQL through the guard and shapes its result for the chart.
pub fn visualize(
    store: &dyn Store,
    request: &VisualizeRequest,
) -> Result<Visualization, AnalyticsError> {
    let limits = QueryLimits {
        max_rows: MAX_ROWS,
        timeout: TIMEOUT,
    };
    let result = exos_store::run_user_sql(store, &request.sql, &limits)?;
    shape(&result, &request.chart)
}

/// Shapes a query result into labels and datasets.
///
/// Without `series`, each y column is one dataset and each row one label, in
/// row order. With `series`, labels are the distinct x values in order of first
/// appearance, and each (series value, y column) pair is a dataset, labelled
/// by the series value (followed by the column name when there are several y
/// columns). Numbers and numeric text become numbers, anything else `null`.
pub fn shape(result: &QueryResult, chart: &Chart) -> Result<Visualization, AnalyticsError> {
    let x = column_index(result, "x", &chart.x)?;
    let mut y: Vec<(usize, &str)> = Vec::new();
    for name in &chart.y {
        y.push((column_index(result, "y", name)?, name.as_str()));
    }
    if y.is_empty() {
        return Err(AnalyticsError::bad(
            "chart",
            "y names no column; list at least one value column",
        ));
    }
    if chart.kind == ChartKind::Pie {
        y.truncate(1);
    }
    let series = chart
        .series
        .as_deref()
        .map(|name| column_index(result, "series", name))
        .transpose()?;
    let mut shaped = match series {
        None => by_row(result, x, &y),
        Some(series) => by_series(result, x, &y, series),
    };
    shaped.truncated |= result.truncated;
    Ok(shaped)
}

fn column_index(result: &QueryResult, role: &str, name: &str) -> Result<usize, AnalyticsError> {
    result
        .columns
        .iter()
        .position(|column| column.name == name)
        .ok_or_else(|| {
            let names: Vec<&str> = result.columns.iter().map(|c| c.name.as_str()).collect();
            AnalyticsError::bad(
                "chart",
                format!(
                    "{role} column {name:?} is not in the result; use one of {}",
                    names.join(", ")
                ),
            )
        })
}

fn label(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse().ok(),
        Value::Bool(flag) => Some(f64::from(u8::from(*flag))),
        _ => None,
    }
}

fn by_row(result: &QueryResult, x: usize, y: &[(usize, &str)]) -> Visualization {
    let rows = &result.rows[..result.rows.len().min(MAX_LABELS)];
    Visualization {
        labels: rows.iter().map(|row| label(&row[x])).collect(),
        datasets: y
            .iter()
            .map(|(index, name)| Dataset {
                label: name.to_string(),
                data: rows.iter().map(|row| number(&row[*index])).collect(),
            })
            .collect(),
        truncated: result.rows.len() > MAX_LABELS,
    }
}

fn by_series(result: &QueryResult, x: usize, y: &[(usize, &str)], series: usize) -> Visualization {
    let mut labels: Vec<String> = Vec::new();
    let mut series_names: Vec<String> = Vec::new();
    let mut truncated = false;
    // (series, y column, label position) → value; the last row wins for repeated cells.
    let mut cells = std::collections::HashMap::new();
    for row in &result.rows {
        let x_label = label(&row[x]);
        let position = match labels.iter().position(|l| *l == x_label) {
            Some(position) => position,
            None if labels.len() == MAX_LABELS => {
                truncated = true;
                continue;
            }
            None => {
                labels.push(x_label);
                labels.len() - 1
            }
        };
        let name = label(&row[series]);
        let series_position = match series_names.iter().position(|s| *s == name) {
            Some(found) => found,
            None => {
                series_names.push(name);
                series_names.len() - 1
            }
        };
        for (column, (index, _)) in y.iter().enumerate() {
            cells.insert((series_position, column, position), number(&row[*index]));
        }
    }
    let mut datasets = Vec::new();
    for (series_position, name) in series_names.iter().enumerate() {
        for (column, (_, y_name)) in y.iter().enumerate() {
            datasets.push(Dataset {
                label: if y.len() == 1 {
                    name.clone()
                } else {
                    format!("{name} {y_name}")
                },
                data: (0..labels.len())
                    .map(|position| {
                        cells
                            .get(&(series_position, column, position))
                            .copied()
                            .flatten()
                    })
                    .collect(),
            });
        }
    }
    Visualization {
        labels,
        datasets,
        truncated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use exos_store::ColumnInfo;
    use serde_json::json;

    fn result(columns: &[&str], rows: Vec<Vec<Value>>) -> QueryResult {
        QueryResult {
            columns: columns
                .iter()
                .map(|name| ColumnInfo {
                    name: name.to_string(),
                    type_name: "VARCHAR".into(),
                })
                .collect(),
            row_count: rows.len(),
            rows,
            truncated: false,
            elapsed_ms: 0.0,
        }
    }

    fn chart(kind: ChartKind, x: &str, y: &[&str], series: Option<&str>) -> Chart {
        Chart {
            kind,
            x: x.into(),
            y: y.iter().map(|s| s.to_string()).collect(),
            series: series.map(str::to_string),
        }
    }

    #[test]
    fn rows_become_one_dataset_per_column() {
        let data = result(
            &["day", "spans", "errors"],
            vec![
                vec![json!("2026-12-01"), json!(10), json!("2")],
                vec![json!("2026-12-02"), json!(7), json!(null)],
            ],
        );
        let shaped = shape(
            &data,
            &chart(ChartKind::Bar, "day", &["spans", "errors"], None),
        )
        .unwrap();
        assert_eq!(shaped.labels, vec!["2026-12-01", "2026-12-02"]);
        assert_eq!(shaped.datasets[0].label, "spans");
        assert_eq!(shaped.datasets[0].data, vec![Some(10.0), Some(7.0)]);
        assert_eq!(shaped.datasets[1].data, vec![Some(2.0), None]);
        assert!(!shaped.truncated);
    }

    #[test]
    fn series_split_and_align_values() {
        let data = result(
            &["day", "service", "spans"],
            vec![
                vec![json!("d1"), json!("api"), json!(1)],
                vec![json!("d1"), json!("web"), json!(2)],
                vec![json!("d2"), json!("web"), json!(3)],
            ],
        );
        let shaped = shape(
            &data,
            &chart(ChartKind::Line, "day", &["spans"], Some("service")),
        )
        .unwrap();
        assert_eq!(shaped.labels, vec!["d1", "d2"]);
        let datasets: Vec<(&str, Vec<Option<f64>>)> = shaped
            .datasets
            .iter()
            .map(|d| (d.label.as_str(), d.data.clone()))
            .collect();
        assert_eq!(
            datasets,
            vec![
                ("api", vec![Some(1.0), None]),
                ("web", vec![Some(2.0), Some(3.0)])
            ]
        );
    }

    #[test]
    fn pie_uses_first_value_column() {
        let data = result(
            &["lob", "n", "m"],
            vec![vec![json!("Title"), json!(4), json!(5)]],
        );
        let shaped = shape(&data, &chart(ChartKind::Pie, "lob", &["n", "m"], None)).unwrap();
        assert_eq!(shaped.datasets.len(), 1);
        assert_eq!(shaped.datasets[0].data, vec![Some(4.0)]);
    }

    #[test]
    fn unknown_column_names_the_choices() {
        let data = result(&["a", "b"], vec![]);
        let error = shape(&data, &chart(ChartKind::Line, "a", &["c"], None)).unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("y column \"c\" is not in the result"),
            "{text}"
        );
        assert!(text.contains("use one of a, b"), "{text}");
    }

    #[test]
    fn long_results_are_cut() {
        let rows = (0..MAX_LABELS + 5)
            .map(|i| vec![json!(i), json!(i)])
            .collect();
        let shaped = shape(
            &result(&["x", "y"], rows),
            &chart(ChartKind::Table, "x", &["y"], None),
        )
        .unwrap();
        assert_eq!(shaped.labels.len(), MAX_LABELS);
        assert!(shaped.truncated);
    }

    #[test]
    fn chart_body_parses() {
        let body = r#"{"sql": "SELECT 1", "chart": {"type": "bar", "x": "a", "y": ["b"], "series": null}}"#;
        let request: VisualizeRequest = serde_json::from_str(body).unwrap();
        assert_eq!(request.chart.kind, ChartKind::Bar);
        assert_eq!(request.chart.series, None);
    }
}
