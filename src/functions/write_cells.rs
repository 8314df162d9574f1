//! `write-cells`: writes values into a module's cells, from tidy rows (dimension names and
//! line item names as keys, the shape a SQL table or a `get-view-data` record list has) or
//! from Anaplan's own cell list. The whole request is checked before the first write, then
//! cells go to Anaplan in order, in batches of at most 100,000 cells and 15 MB (read as
//! 15,000,000 bytes, the smaller reading of Anaplan's unit); only one batch body is held
//! at a time.

use std::collections::HashMap;

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::data_body;
use super::declare::{Answer, Function, Input, Object, Operation, Param, RequestBody, Trigger};
use crate::anaplan::catalog::pick;
use crate::anaplan::ids::{LineItemId, ModelId, ModuleId};
use crate::anaplan::model_data::{MAX_CELLS_PER_WRITE, MAX_WRITE_BYTES};
use crate::anaplan::{AnaplanError, Client, Listing, Named};
use crate::http::{AppState, Call, ModelRef, Problem};

const BODY: Param = Param::text(
    "body",
    "Cells",
    "A JSON object with exactly one of rows (objects keyed by dimension names and line item names, e.g. the rows \
     of a SQL query) and cells (Anaplan's own cell list).",
)
.json_body("WriteCellsBody")
.required();

/// `write-cells`.
pub const FUNCTION: Function = Function {
    name: "write-cells",
    trigger: Trigger::Http { methods: &[Method::POST], body: RequestBody::Data },
    inputs: &[
        Input::Object(Object::Workspace),
        Input::Object(Object::Model),
        Input::Object(Object::Module),
        Input::Param(BODY),
    ],
    long_running: None,
    operation: Some(Operation {
        id: "WriteCells",
        summary: "Write cells to a module",
        description: "Writes values into a module's cells. rows: one object per row, keyed by the module's dimension \
                      names (value: the item's name or code) and line item names (value: the cell's value: number, \
                      text, true/false, or a date as YYYY-MM-DD). cells: Anaplan's own cell list. The whole request is \
                      checked first, so a malformed request writes nothing; cells are then written in batches of at \
                      most 100,000 cells and 15 MB. Cells Anaplan refuses make the action fail (422) with each one \
                      named.",
        important: true,
        consumes: &[],
        produces: &["application/json", "application/problem+json"],
        ok: Answer {
            description: "How many cells were written, in how many batches.",
            schema: "CellsWritten",
            array: false,
        },
    }),
    handler: |state, call| Box::pin(handle(state, call)),
};

/// What is written: tidy rows or Anaplan's cells.
enum Cells {
    Rows(Vec<Value>),
    Cells(Vec<Value>),
}

/// A dimension of the module, with its items (loaded when a written line item needs it).
struct Dimension {
    id: String,
    name: String,
    /// Item name or code → id (names first).
    items: HashMap<String, String>,
    /// The items as id and name, for closest-name messages.
    named: Vec<Named>,
}

/// A line item of the module.
struct LineItem {
    id: String,
    name: String,
    format: Option<String>,
    /// Indexes into [`Module::dimensions`], in the line item's order.
    dims: Vec<usize>,
}

/// What a write needs to know about the module.
struct Module {
    line_items: Vec<LineItem>,
    dimensions: Vec<Dimension>,
}

/// One resolved cell.
struct Cell {
    /// Index in `rows` or `cells`.
    row: usize,
    /// Index into [`Module::line_items`].
    line_item: usize,
    /// (dimension index, item id), in the line item's order.
    items: Vec<(usize, String)>,
    value: Value,
}

/// Handles one call.
pub async fn handle(state: &AppState, call: Call) -> Result<Response, Problem> {
    let (params, mut data) = data_body::split(&call, &["rows", "cells"]).await?;
    let model = ModelRef::parse(&params)?;
    let module = params.object::<ModuleId>("module")?;
    let input = match (data.remove("rows"), data.remove("cells")) {
        (Some(Value::Array(rows)), None) => Cells::Rows(rows),
        (None, Some(Value::Array(cells))) => Cells::Cells(cells),
        (Some(_), Some(_)) => return Err(Problem::bad_parameter("give exactly one of rows and cells, not both")),
        (None, None) => return Err(Problem::bad_parameter("the body needs rows or cells (a JSON array)")),
        _ => return Err(Problem::bad_parameter("rows and cells must be JSON arrays")),
    };
    let client = call.client(state)?;
    let (_, model) = state.model(&client, model).await?;
    let module = state.find(&client, &Listing::Modules(model.clone()), module).await?.id;
    let schema = Module::load(&client, &model, &module, &input).await?;

    // Everything is checked before the first write: a malformed request writes nothing.
    let count = match &input {
        Cells::Rows(rows) => rows.iter().enumerate().try_fold(0usize, |n, (i, r)| {
            let mut k = 0;
            schema.resolve_row(i, r, &mut |_| k += 1)?;
            Ok::<_, Problem>(n + k)
        })?,
        Cells::Cells(cells) => {
            for (i, c) in cells.iter().enumerate() {
                schema.resolve_cell(i, c)?;
            }
            cells.len()
        }
    };
    tracing::info!(cells = count, "write-cells checked; writing");

    let mut writer = Writer::new(&client, &model, &module, &schema);
    match &input {
        Cells::Rows(rows) => {
            for (i, r) in rows.iter().enumerate() {
                let mut out = Vec::new();
                schema.resolve_row(i, r, &mut |c| out.push(c))?;
                for c in out {
                    writer.push(c).await?;
                }
            }
        }
        Cells::Cells(cells) => {
            for (i, c) in cells.iter().enumerate() {
                if let Some(cell) = schema.resolve_cell(i, c)? {
                    writer.push(cell).await?;
                }
            }
        }
    }
    writer.flush().await?;
    let Writer { changed, batches, failures, .. } = writer;
    let mut body = Map::new();
    body.insert("cellsChanged".into(), json!(changed));
    body.insert("batches".into(), json!(batches));
    if failures.is_empty() {
        body.insert("failures".into(), json!([]));
        let mut resp = (StatusCode::OK, Value::Object(body).to_string()).into_response();
        resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        return Ok(resp);
    }
    let detail = format!(
        "Anaplan refused {} of the cells ({} written); the first: row {}, {}: {}",
        failures.len(),
        changed,
        failures[0]["row"],
        failures[0]["lineItem"].as_str().unwrap_or(""),
        failures[0]["reason"].as_str().unwrap_or("")
    );
    Err(Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "cells-refused", "Anaplan refused some cells", detail)
        .with("cellsChanged", json!(changed))
        .with("batches", json!(batches))
        .with("failures", Value::Array(failures)))
}

/// A 400 naming the closest of `candidates` to `name`.
fn unknown(what: &'static str, name: &str, candidates: &[Named], detail: String) -> Problem {
    let closest = match pick(what, candidates, name) {
        Err(AnaplanError::UnknownName { closest, .. }) => closest,
        _ => Vec::new(),
    };
    let shown = if closest.is_empty() { String::new() } else { format!("; closest names: {}", closest.join(", ")) };
    Problem::bad_parameter(format!("{detail}{shown}")).with("closestNames", json!(closest))
}

fn named(id: &str, name: &str) -> Named {
    Named { id: id.to_owned(), name: name.to_owned() }
}

impl Module {
    /// The module's line items, the dimensions of each, and the items of the dimensions
    /// of the line items `input` writes.
    async fn load(client: &Client, model: &ModelId, module: &ModuleId, input: &Cells) -> Result<Module, Problem> {
        let items = client.module_line_items(model, module).await?;
        let mut dimensions: Vec<Dimension> = Vec::new();
        let mut line_items = Vec::new();
        for li in items {
            let id = LineItemId::parse(&li.id).map_err(|e| Problem::from(AnaplanError::Protocol(e.to_string())))?;
            let mut dims = Vec::new();
            for d in client.line_item_dimensions(model, &id).await? {
                let at = match dimensions.iter().position(|x| x.id == d.id) {
                    Some(at) => at,
                    None => {
                        dimensions.push(Dimension { id: d.id, name: d.name, items: HashMap::new(), named: Vec::new() });
                        dimensions.len() - 1
                    }
                };
                dims.push(at);
            }
            line_items.push(LineItem { id: li.id, name: li.name, format: li.format, dims });
        }
        let mut schema = Module { line_items, dimensions };
        // Only the dimensions of the line items written need their items.
        let mut wanted: Vec<usize> = Vec::new();
        let mut mark = |li: &LineItem| wanted.extend(li.dims.iter().copied());
        match input {
            Cells::Rows(rows) => {
                for li in &schema.line_items {
                    if rows.iter().any(|r| r.get(&li.name).is_some()) {
                        mark(li);
                    }
                }
            }
            Cells::Cells(cells) => {
                for li in &schema.line_items {
                    let used = cells.iter().any(|c| {
                        c.get("lineItemId").and_then(Value::as_str) == Some(&li.id)
                            || c.get("lineItemName").and_then(Value::as_str) == Some(&li.name)
                    });
                    if used {
                        mark(li);
                    }
                }
            }
        }
        wanted.sort_unstable();
        wanted.dedup();
        for at in wanted {
            let dim = &mut schema.dimensions[at];
            let items = client.dimension_items(model, &dim.id).await?;
            for item in items.iter() {
                if let Some(code) = item.code.as_deref().filter(|c| !c.is_empty()) {
                    dim.items.entry(code.to_owned()).or_insert_with(|| item.id.clone());
                }
            }
            for item in items {
                // Names win over codes when they collide.
                dim.items.insert(item.name.clone(), item.id.clone());
                dim.named.push(Named { id: item.id, name: item.name });
            }
        }
        Ok(schema)
    }

    fn dimension_by_name(&self, name: &str) -> Option<usize> {
        self.dimensions.iter().position(|d| d.name == name)
    }

    fn key_names(&self) -> Vec<Named> {
        let dims = self.dimensions.iter().map(|d| named(&d.id, &d.name));
        dims.chain(self.line_items.iter().map(|l| named(&l.id, &l.name))).collect()
    }

    /// The item id of `value` in dimension `at`.
    fn item(&self, at: usize, value: &str, context: &str) -> Result<String, Problem> {
        let dim = &self.dimensions[at];
        dim.items.get(value).cloned().ok_or_else(|| {
            unknown("item", value, &dim.named, format!("{context}: {} has no item named or coded {value:?}", dim.name))
        })
    }

    /// The cells of one row, each passed to `emit` in the order of the row's keys.
    fn resolve_row(&self, row: usize, value: &Value, emit: &mut dyn FnMut(Cell)) -> Result<(), Problem> {
        let Some(obj) = value.as_object() else {
            return Err(Problem::bad_parameter(format!("rows[{row}] must be a JSON object")));
        };
        let mut chosen: Vec<Option<&str>> = vec![None; self.dimensions.len()];
        let mut cells: Vec<(usize, &Value)> = Vec::new();
        for (key, v) in obj {
            if let Some(at) = self.dimension_by_name(key) {
                let text = match v {
                    Value::String(s) => s.as_str(),
                    _ => {
                        return Err(Problem::bad_parameter(format!(
                            "rows[{row}].{key} must be an item's name or code (text)"
                        )));
                    }
                };
                chosen[at] = Some(text);
            } else if let Some(li) = self.line_items.iter().position(|l| l.name == *key) {
                cells.push((li, v));
            } else {
                return Err(unknown(
                    "column",
                    key,
                    &self.key_names(),
                    format!("rows[{row}] has {key:?}, which is neither a dimension nor a line item of the module"),
                ));
            }
        }
        for (li, v) in cells {
            let line = &self.line_items[li];
            if v.is_null() {
                continue; // A SQL NULL: nothing to write.
            }
            let mut items = Vec::with_capacity(line.dims.len());
            for &at in &line.dims {
                let Some(text) = chosen[at] else {
                    return Err(Problem::bad_parameter(format!(
                        "rows[{row}] lacks the dimension {:?}, which line item {:?} needs",
                        self.dimensions[at].name, line.name
                    )));
                };
                items.push((at, self.item(at, text, &format!("rows[{row}]"))?));
            }
            check_value(line, v, &format!("rows[{row}].{}", line.name))?;
            emit(Cell { row, line_item: li, items, value: v.clone() });
        }
        Ok(())
    }

    /// One of Anaplan's cells, checked (`None`: a null value, nothing to write).
    fn resolve_cell(&self, row: usize, value: &Value) -> Result<Option<Cell>, Problem> {
        let at = format!("cells[{row}]");
        let bad = |what: String| Problem::bad_parameter(format!("{at}: {what}"));
        let obj = value.as_object().ok_or_else(|| bad("must be a JSON object".into()))?;
        let text = |k: &str| obj.get(k).and_then(Value::as_str);
        let li = match (text("lineItemId"), text("lineItemName")) {
            (Some(id), None) => self
                .line_items
                .iter()
                .position(|l| l.id == id)
                .ok_or_else(|| bad(format!("the module has no line item with id {id}")))?,
            (None, Some(name)) => self.line_items.iter().position(|l| l.name == name).ok_or_else(|| {
                let names: Vec<Named> = self.line_items.iter().map(|l| named(&l.id, &l.name)).collect();
                unknown("line item", name, &names, format!("{at}: the module has no line item named {name:?}"))
            })?,
            _ => return Err(bad("give exactly one of lineItemId and lineItemName".into())),
        };
        let line = &self.line_items[li];
        let dims =
            obj.get("dimensions").and_then(Value::as_array).ok_or_else(|| bad("dimensions must be an array".into()))?;
        let mut items: Vec<Option<String>> = vec![None; line.dims.len()];
        for d in dims {
            let dim =
                match (d.get("dimensionId").and_then(Value::as_str), d.get("dimensionName").and_then(Value::as_str)) {
                    (Some(id), None) => line.dims.iter().position(|&x| self.dimensions[x].id == id),
                    (None, Some(name)) => line.dims.iter().position(|&x| self.dimensions[x].name == name),
                    _ => return Err(bad("each dimension needs exactly one of dimensionId and dimensionName".into())),
                }
                .ok_or_else(|| bad(format!("a dimension that line item {:?} does not have: {d}", line.name)))?;
            let keys = ["itemId", "itemName", "itemCode"];
            let given: Vec<(&str, &str)> =
                keys.iter().filter_map(|k| d.get(*k).and_then(Value::as_str).map(|v| (*k, v))).collect();
            let [(key, v)] = given.as_slice() else {
                return Err(bad("each dimension needs exactly one of itemId, itemName and itemCode".into()));
            };
            let d_at = line.dims[dim];
            let id = if *key == "itemId" {
                let known = self.dimensions[d_at].named.iter().any(|n| n.id == *v);
                if !known {
                    return Err(bad(format!("{} has no item with id {v}", self.dimensions[d_at].name)));
                }
                (*v).to_owned()
            } else {
                self.item(d_at, v, &at)?
            };
            if items[dim].replace(id).is_some() {
                return Err(bad(format!("dimension {} is given twice", self.dimensions[d_at].name)));
            }
        }
        let items = items
            .into_iter()
            .zip(&line.dims)
            .map(|(id, &d)| {
                id.map(|id| (d, id)).ok_or_else(|| {
                    bad(format!(
                        "lacks the dimension {:?}, which line item {:?} needs",
                        self.dimensions[d].name, line.name
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let value = obj.get("value").ok_or_else(|| bad("value is required".into()))?;
        if value.is_null() {
            return Ok(None);
        }
        check_value(line, value, &at)?;
        Ok(Some(Cell { row, line_item: li, items, value: value.clone() }))
    }
}

/// Checks a value against the line item's format, when Anaplan said it.
fn check_value(line: &LineItem, value: &Value, at: &str) -> Result<(), Problem> {
    let ok = match (line.format.as_deref(), value) {
        (_, Value::Array(_) | Value::Object(_)) => false,
        (Some("NUMBER"), Value::Number(_)) => true,
        (Some("NUMBER"), Value::String(s)) => s.trim().parse::<f64>().is_ok_and(f64::is_finite),
        (Some("NUMBER"), _) => false,
        (Some("BOOLEAN"), Value::Bool(_)) => true,
        (Some("BOOLEAN"), Value::String(s)) => s == "true" || s == "false",
        (Some("BOOLEAN"), _) => false,
        (Some("DATE"), Value::String(s)) => is_date(s),
        (Some("DATE"), _) => false,
        (Some("TEXT" | "LIST"), Value::String(_)) => true,
        (Some("TEXT" | "LIST"), _) => false,
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        let format = line.format.as_deref().unwrap_or("");
        let want = match format {
            "NUMBER" => "a number",
            "BOOLEAN" => "true or false",
            "DATE" => "a date as YYYY-MM-DD",
            "LIST" => "a list item's name or code",
            _ => "text",
        };
        Err(Problem::bad_parameter(format!("{at}: line item {:?} takes {want}; got {value}", line.name)))
    }
}

/// `YYYY-MM-DD` with a real month and day.
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || !digits(0..4) || !digits(5..7) || !digits(8..10) {
        return false;
    }
    let month: u32 = s[5..7].parse().unwrap_or(0);
    let day: u32 = s[8..10].parse().unwrap_or(0);
    (1..=12).contains(&month) && (1..=31).contains(&day)
}

/// Builds batch bodies cell by cell and sends each when the next cell would not fit.
struct Writer<'a> {
    client: &'a Client,
    model: &'a ModelId,
    module: &'a ModuleId,
    schema: &'a Module,
    body: Vec<u8>,
    /// (row, line item) of each cell in the batch being built.
    sources: Vec<(usize, usize)>,
    changed: usize,
    batches: usize,
    failures: Vec<Value>,
}

impl<'a> Writer<'a> {
    fn new(client: &'a Client, model: &'a ModelId, module: &'a ModuleId, schema: &'a Module) -> Self {
        Writer {
            client,
            model,
            module,
            schema,
            body: Vec::new(),
            sources: Vec::new(),
            changed: 0,
            batches: 0,
            failures: Vec::new(),
        }
    }

    async fn push(&mut self, cell: Cell) -> Result<(), Problem> {
        let line = &self.schema.line_items[cell.line_item];
        let dims: Vec<Value> = cell
            .items
            .iter()
            .map(|(d, id)| json!({ "dimensionId": self.schema.dimensions[*d].id, "itemId": id }))
            .collect();
        let one = serde_json::to_vec(&json!({ "lineItemId": line.id, "dimensions": dims, "value": cell.value }))
            .map_err(|e| Problem::from(AnaplanError::Protocol(e.to_string())))?;
        // `[` + cells joined by `,` + `]`.
        if !self.sources.is_empty()
            && (self.sources.len() >= MAX_CELLS_PER_WRITE || self.body.len() + 1 + one.len() + 1 > MAX_WRITE_BYTES)
        {
            self.flush().await?;
        }
        self.body.push(if self.sources.is_empty() { b'[' } else { b',' });
        self.body.extend_from_slice(&one);
        self.sources.push((cell.row, cell.line_item));
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), Problem> {
        if self.sources.is_empty() {
            return Ok(());
        }
        self.body.push(b']');
        let body = bytes::Bytes::from(std::mem::take(&mut self.body));
        let sources = std::mem::take(&mut self.sources);
        let answer = match self.client.write_cells(self.model, self.module, body).await {
            Ok(a) => a,
            Err(e) => {
                return Err(Problem::from(e)
                    .with("cellsChanged", json!(self.changed))
                    .with("batches", json!(self.batches)));
            }
        };
        self.batches += 1;
        self.changed += answer.number_of_cells_changed;
        for f in answer.failures {
            let (row, li) = sources.get(f.request_index).copied().unwrap_or((usize::MAX, 0));
            let row = if row == usize::MAX { Value::Null } else { json!(row) };
            self.failures.push(json!({
                "row": row,
                "lineItem": self.schema.line_items.get(li).map(|l| l.name.as_str()).unwrap_or(""),
                "reason": f.reason(),
            }));
        }
        tracing::info!(batch = self.batches, cells = sources.len(), "cells written");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_checked() {
        assert!(is_date("2026-03-31"));
        assert!(!is_date("2026-13-01"));
        assert!(!is_date("2026-3-31"));
        assert!(!is_date("31/03/2026"));
    }
}
