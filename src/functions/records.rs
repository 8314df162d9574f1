//! The `records` format of `get-view-data`: one JSON object per row, keyed by the row
//! dimension names and the column labels, numbers as JSON numbers. Built from Anaplan's
//! JSON (direct reads) or its CSV grid (large reads), and written straight into the output
//! buffer so a large view is not held twice as a tree of JSON values.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;
use serde_json::Value;

use crate::anaplan::views::ViewMetadata;

/// Joins the labels of several column dimensions.
const LABEL_SEPARATOR: &str = " | ";

/// A view's cells, in the shape both sources are reduced to.
struct Table {
    pages: Vec<(String, String)>,
    columns: Vec<String>,
    rows: Vec<Vec<Value>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GridJson {
    #[serde(default)]
    pages: Vec<Value>,
    #[serde(default)]
    column_coordinates: Vec<Value>,
    #[serde(default)]
    rows: Vec<GridRow>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GridRow {
    #[serde(default)]
    row_coordinates: Vec<Value>,
    #[serde(default)]
    cells: Vec<Value>,
}

/// Records from Anaplan's JSON (format v1) of a direct read.
pub fn from_grid_json(meta: &ViewMetadata, json: &str) -> Result<Vec<u8>, String> {
    let grid: GridJson =
        serde_json::from_str(json).map_err(|e| format!("Anaplan's view JSON could not be read: {e}"))?;
    let pages = meta.pages.iter().zip(grid.pages.iter()).map(|(d, item)| (d.name.clone(), label(item))).collect();
    let labels: Vec<String> = grid.column_coordinates.iter().map(label).collect();
    let columns = headings(meta, grid.rows.first().map(|r| r.row_coordinates.len()).unwrap_or(0), labels);
    let rows = grid
        .rows
        .into_iter()
        .map(|r| {
            let mut out: Vec<Value> = r.row_coordinates.iter().map(|c| Value::String(label(c))).collect();
            out.extend(r.cells.into_iter().map(cell));
            out
        })
        .collect();
    Ok(render(meta, &Table { pages, columns, rows }))
}

/// Records from Anaplan's CSV grid (as a large read returns it): a page-selector line when
/// the view has page dimensions, one header line per column dimension (row-dimension
/// columns left empty), then one line per row.
pub fn from_grid_csv(meta: &ViewMetadata, csv_text: &str) -> Result<Vec<u8>, String> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(csv_text.as_bytes());
    let mut records = reader.records();
    let mut next = |what: &str| -> Result<Option<csv::StringRecord>, String> {
        records.next().transpose().map_err(|e| format!("Anaplan's CSV could not be read at the {what}: {e}"))
    };
    let mut pages = Vec::new();
    if !meta.pages.is_empty()
        && let Some(line) = next("page line")?
    {
        pages = meta.pages.iter().zip(line.iter()).map(|(d, item)| (d.name.clone(), item.to_owned())).collect();
    }
    let row_dims = meta.rows.len();
    let mut header_lines: Vec<csv::StringRecord> = Vec::new();
    for _ in 0..meta.columns.len() {
        match next("column headers")? {
            Some(line) => header_lines.push(line),
            None => break,
        }
    }
    let width = header_lines.iter().map(|l| l.len().saturating_sub(row_dims)).max().unwrap_or(0);
    let labels: Vec<String> = (0..width)
        .map(|j| {
            header_lines
                .iter()
                .map(|l| l.get(row_dims + j).unwrap_or("").to_owned())
                .collect::<Vec<_>>()
                .join(LABEL_SEPARATOR)
        })
        .collect();
    let mut rows = Vec::new();
    while let Some(line) = next("data rows")? {
        let mut out: Vec<Value> = line.iter().take(row_dims).map(|s| Value::String(s.to_owned())).collect();
        out.extend(line.iter().skip(row_dims).map(|s| cell(Value::String(s.to_owned()))));
        rows.push(out);
    }
    let columns = headings(meta, row_dims, labels);
    Ok(render(meta, &Table { pages, columns, rows }))
}

/// Row-dimension names then column labels, made unique (a repeated heading gets " (2)",
/// " (3)", ...) so no value is overwritten in a row object.
fn headings(meta: &ViewMetadata, row_dims: usize, labels: Vec<String>) -> Vec<String> {
    let mut names: Vec<String> = (0..row_dims)
        .map(|i| meta.rows.get(i).map(|d| d.name.clone()).unwrap_or_else(|| format!("Row dimension {}", i + 1)))
        .collect();
    names.extend(labels);
    // Hashed, with the next suffix to try per heading: a view with thousands of columns
    // (or of equal labels) costs no more than one pass, not a scan per column.
    let mut taken: HashSet<String> = HashSet::with_capacity(names.len());
    let mut next_suffix: HashMap<String, usize> = HashMap::new();
    let mut unique: Vec<String> = Vec::with_capacity(names.len());
    for name in names {
        let candidate = if taken.contains(&name) {
            let n = next_suffix.entry(name.clone()).or_insert(2);
            loop {
                let candidate = format!("{name} ({n})");
                *n += 1;
                if !taken.contains(&candidate) {
                    break candidate;
                }
            }
        } else {
            name
        };
        taken.insert(candidate.clone());
        unique.push(candidate);
    }
    unique
}

/// A coordinate or label as text: strings as they are, a list of labels joined, an object
/// by its name.
fn label(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(label).collect::<Vec<_>>().join(LABEL_SEPARATOR),
        Value::Object(o) => o.get("name").map(label).unwrap_or_default(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A cell: text in JSON number syntax becomes a number; everything else stays text.
/// JSON's own grammar decides, so "007", "1,000", "NaN" and "" stay strings.
fn cell(v: Value) -> Value {
    match v {
        Value::String(s) => match serde_json::from_str::<serde_json::Number>(s.trim()) {
            Ok(n) if s.trim() == s && n.as_f64().is_some_and(f64::is_finite) => Value::Number(n),
            _ => Value::String(s),
        },
        Value::Number(n) => Value::Number(n),
        Value::Null => Value::String(String::new()),
        other => Value::String(other.to_string()),
    }
}

fn render(meta: &ViewMetadata, table: &Table) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::with_capacity(64 + table.rows.len() * table.columns.len() * 16);
    let head = serde_json::json!({
        "view": { "id": meta.id, "name": meta.name },
        "pages": table.pages.iter().map(|(d, i)| serde_json::json!({ "dimension": d, "item": i })).collect::<Vec<_>>(),
        "columns": table.columns,
    });
    // The head object is complete JSON; reopen it to append "rows" without building the
    // rows as values.
    let mut head = head.to_string();
    head.pop();
    out.extend_from_slice(head.as_bytes());
    out.extend_from_slice(b",\"rows\":[");
    let keys: Vec<String> = table.columns.iter().map(|c| Value::String(c.clone()).to_string()).collect();
    for (i, row) in table.rows.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'{');
        for (j, (key, value)) in keys.iter().zip(row.iter()).enumerate() {
            if j > 0 {
                out.push(b',');
            }
            out.extend_from_slice(key.as_bytes());
            out.push(b':');
            serde_json::to_writer(&mut out, value).expect("writing JSON to memory cannot fail");
        }
        out.push(b'}');
    }
    out.extend_from_slice(b"]}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anaplan::Named;

    fn meta(pages: bool) -> ViewMetadata {
        let d = |id: &str, name: &str| Named { id: id.into(), name: name.into() };
        ViewMetadata {
            id: "102000000001".into(),
            name: "REV01".into(),
            rows: vec![d("101000000000", "Products"), d("101000000003", "Regions")],
            columns: vec![d("20000000003", "Time"), d("101999999999", "Line items")],
            pages: if pages { vec![d("20000000020", "Versions")] } else { vec![] },
        }
    }

    #[test]
    fn json_rows_keep_column_order_and_types() {
        let json = r#"{"pages":["Forecast"],"columnCoordinates":[["Jan 26","Price"],["Jan 26","Notes"]],
            "rows":[{"rowCoordinates":["Widget","North"],"cells":["64.6","ok"]},
                    {"rowCoordinates":["Gizmo, Deluxe","South"],"cells":["-3.25","007"]}]}"#;
        let out: Value = serde_json::from_slice(&from_grid_json(&meta(true), json).unwrap()).unwrap();
        assert_eq!(out["view"], serde_json::json!({"id": "102000000001", "name": "REV01"}));
        assert_eq!(out["pages"], serde_json::json!([{"dimension": "Versions", "item": "Forecast"}]));
        assert_eq!(out["columns"], serde_json::json!(["Products", "Regions", "Jan 26 | Price", "Jan 26 | Notes"]));
        assert_eq!(out["rows"][0]["Jan 26 | Price"], serde_json::json!(64.6));
        assert_eq!(out["rows"][1]["Jan 26 | Price"], serde_json::json!(-3.25));
        assert_eq!(out["rows"][1]["Jan 26 | Notes"], serde_json::json!("007"));
        let keys: Vec<&String> = out["rows"][1].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["Products", "Regions", "Jan 26 | Price", "Jan 26 | Notes"]);
    }

    #[test]
    fn csv_grid_gives_the_same_records_as_json() {
        let json = r#"{"pages":[],"columnCoordinates":[["Jan 26","Price"],["Jan 26","Notes"]],
            "rows":[{"rowCoordinates":["Gizmo, Deluxe","North"],"cells":["1200","check \"A\""]}]}"#;
        let csv = ",,Jan 26,Jan 26\n,,Price,Notes\n\"Gizmo, Deluxe\",North,1200,\"check \"\"A\"\"\"\n";
        let a: Value = serde_json::from_slice(&from_grid_json(&meta(false), json).unwrap()).unwrap();
        let b: Value = serde_json::from_slice(&from_grid_csv(&meta(false), csv).unwrap()).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn only_json_number_syntax_becomes_a_number() {
        for s in ["", "NaN", "inf", "1,000", "007", " 5", "+5", "1e999", "true"] {
            assert_eq!(cell(Value::String(s.into())), Value::String(s.into()), "{s:?}");
        }
        assert_eq!(cell(Value::String("0".into())), serde_json::json!(0));
        assert_eq!(cell(Value::String("1e3".into())), serde_json::json!(1000.0));
    }

    #[test]
    fn repeated_headings_are_made_unique() {
        let h = headings(&meta(false), 2, vec!["Regions".into(), "X".into(), "X".into()]);
        assert_eq!(h, ["Products", "Regions", "Regions (2)", "X", "X (2)"]);
        let h = headings(&meta(false), 0, ["X", "X (2)", "X", "X"].map(String::from).to_vec());
        assert_eq!(h, ["X", "X (2)", "X (3)", "X (4)"], "a suffix already taken is skipped");
        let many = headings(&meta(false), 0, vec![String::new(); 50_000]);
        assert_eq!(many.len(), 50_000);
        assert_eq!(many[49_999], " (50000)");
    }
}
