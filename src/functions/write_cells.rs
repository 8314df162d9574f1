//! `write-cells`: writes values into a module's cells, from tidy rows (dimension names and
//! line item names as keys, the shape a SQL table or a `get-view-data` record list has) or
//! from Anaplan's own cell list. The whole request is checked before the first write, then
//! cells go to Anaplan in order, in batches of at most 100,000 cells and 15 MB (read as
//! 15,000,000 bytes, the smaller reading of Anaplan's unit); only one batch body is held
//! at a time. The body is read into compact typed rows (see [`crate::machinery::data_body`]); the
//! parse, the check and the building of each batch run off the runtime threads, and every
//! lookup (a key, an item name, code or id, a line item) is a hash lookup.

use std::collections::HashMap;
use std::sync::Arc;

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::http::{AppState, Call, ModelRef, Problem, ProblemType, off_runtime};
use crate::machinery::data_body::{
    self, Body, CellIn, Cells, DataKey, Field, Rows, Scalar, Text, row_path, write_json,
};
use crate::machinery::declare::{
    Answer, Function, Group, Input as Declared, Object, Operation, Param, RequestBody, Schema, Trigger,
};
use crate::machinery::openapi::{prop, prop_with};
use anaplan::ids::{LineItemId, ModelId, ModuleId};
use anaplan::model_data::{MAX_CELLS_PER_WRITE, MAX_WRITE_BYTES};
use anaplan::untrusted::quote;
use anaplan::{AnaplanError, Client, Listing, Named, names};

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
        Declared::Object(Object::Workspace),
        Declared::Object(Object::Model),
        Declared::Object(Object::Module),
        Declared::Param(BODY),
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
    more_operations: &[],
    schemas: &[
        Schema { name: "WriteCellsBody", build: write_cells_body_schema },
        Schema { name: "CellsWritten", build: cells_written_schema },
    ],
    group: Some(Group::Integration),
    handler: |state, call| Box::pin(handle(state, call)),
};

/// What is written: tidy rows or Anaplan's cells, as read from the body.
enum Input {
    Rows(Rows),
    Cells(Cells),
}

/// The request's data, with the body's strings and keys.
struct Request {
    text: Text,
    keys: Vec<Arc<str>>,
    input: Input,
}

impl Request {
    /// Rows or cells.
    fn len(&self) -> usize {
        match &self.input {
            Input::Rows(rows) => rows.len(),
            Input::Cells(cells) => cells.cells.len(),
        }
    }
}

/// A dimension of the module, with its items (loaded when the request names it).
struct Dimension {
    id: String,
    name: String,
    /// The items as id and name, for closest-name messages.
    named: Vec<Named>,
    /// Item name or code → index into `named` (names win over codes).
    by_text: HashMap<String, u32>,
    /// Item id → index into `named`.
    by_id: HashMap<String, u32>,
}

/// A line item of the module.
struct LineItem {
    id: String,
    name: String,
    format: Option<String>,
    /// Indexes into [`Module::dimensions`], in the line item's order.
    dims: Vec<usize>,
}

/// What a row key names.
#[derive(Clone, Copy)]
enum Column {
    Dimension(usize),
    LineItem(usize),
    Unknown,
}

/// What a write needs to know about the module, with maps for every lookup a row or cell
/// makes.
struct Module {
    line_items: Vec<LineItem>,
    dimensions: Vec<Dimension>,
    line_by_id: HashMap<String, usize>,
    line_by_name: HashMap<String, usize>,
    dim_by_name: HashMap<String, usize>,
    /// What each of the request's row keys names.
    columns: Vec<Column>,
}

/// One resolved cell.
struct Cell<'a> {
    /// Index in `rows` or `cells`.
    row: usize,
    /// Index into [`Module::line_items`].
    line_item: usize,
    /// (dimension index, item id), in the line item's order.
    items: Vec<(usize, &'a str)>,
    value: Scalar,
}

/// A checked request and the module it writes to.
struct Plan {
    module: Module,
    request: Request,
}

/// `#/definitions/WriteCellsBody`: the body.
fn write_cells_body_schema() -> Value {
    json!({
        "type": "object",
        "description": "Exactly one of rows and cells.",
        "properties": {
            "rows": prop_with(
                "array",
                "Rows",
                "One object per row: the module's dimension names (value: an item's name or code) and line item \
                 names (value: the cell's value), e.g. the rows of a SQL query.",
                "items",
                super::describe::dynamic_row(
                    "module",
                    "A row: the module's dimensions and writable line items (the designer shows them once a module \
                     is picked by id).",
                ),
            ),
            "cells": prop_with(
                "array",
                "Cells",
                "Anaplan's own cells: lineItemId or lineItemName, dimensions [{dimensionId or dimensionName, \
                 itemId, itemName or itemCode}], value.",
                "items",
                json!({ "type": "object", "additionalProperties": true }),
            ),
        },
    })
}

/// `#/definitions/CellsWritten`: what was written.
fn cells_written_schema() -> Value {
    json!({
        "type": "object",
        "description": "Every cell was written.",
        "properties": {
            "cellsChanged": prop("integer", "Cells changed", "Cells Anaplan changed."),
            "batches": prop("integer", "Batches", "Calls to Anaplan (at most 100,000 cells and 15 MB each)."),
            "failures": prop_with("array", "Failures", "Always empty here; refused cells are a 422 problem.", "items",
                json!({ "type": "object", "additionalProperties": true })),
        },
    })
}

/// Handles one call.
pub async fn handle(state: &AppState, mut call: Call) -> Result<Response, Problem> {
    let (params, body) = data_body::split(&mut call, &[DataKey::Rows, DataKey::Cells]).await?;
    let model = ModelRef::parse(&params)?;
    let module = params.object::<ModuleId>("module")?;
    let Body { text, keys, rows, cells, .. } = body;
    let input = match (rows, cells) {
        (Some(rows), None) => Input::Rows(rows),
        (None, Some(cells)) => Input::Cells(cells),
        (Some(_), Some(_)) => return Err(Problem::bad_parameter("give exactly one of rows and cells, not both")),
        (None, None) => return Err(Problem::bad_parameter("the body needs rows or cells (a JSON array)")),
    };
    let request = Request { text, keys, input };
    let client = call.client(state)?;
    let (_, model) = state.model(&client, model).await?;
    let module = state.find(&client, &Listing::Modules(model.clone()), module).await?.id;
    let plan = Arc::new(Module::load(&client, &model, &module, request).await?);

    // Everything is checked before the first write, off the runtime threads: a malformed
    // request writes nothing.
    let count = off_runtime({
        let plan = plan.clone();
        move || plan.check()
    })
    .await??;
    tracing::info!(cells = count, "write-cells checked; writing");

    let mut writer = Writer::new(&client, &model, &module, &plan.module);
    let mut cursor = Cursor::default();
    loop {
        let p = plan.clone();
        let (batch, next) = off_runtime(move || {
            let mut c = cursor;
            (p.next_batch(&mut c), c)
        })
        .await?;
        cursor = next;
        match batch? {
            Some(batch) => writer.send(batch).await?,
            None => break,
        }
    }
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
        quote(failures[0]["lineItem"].as_str().unwrap_or("")),
        quote(failures[0]["reason"].as_str().unwrap_or(""))
    );
    Err(Problem::new(ProblemType::CellsRefused, detail)
        .with("cellsChanged", json!(changed))
        .with("batches", json!(batches))
        .with("failures", Value::Array(failures)))
}

/// A 400 naming the closest of `candidates` to `name`.
fn unknown<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>, detail: String) -> Problem {
    let closest = names::closest(candidates, name);
    let shown = if closest.is_empty() { String::new() } else { format!("; closest names: {}", closest.join(", ")) };
    Problem::bad_parameter(format!("{detail}{shown}")).with("closestNames", json!(closest))
}

impl Module {
    /// The module's line items and the dimensions of each; then, off the runtime threads,
    /// which dimensions the request names (as a row key, or through a line item it
    /// writes); then the items of those dimensions.
    async fn load(client: &Client, model: &ModelId, module: &ModuleId, request: Request) -> Result<Plan, Problem> {
        let items = client.module_line_items(model, module).await?;
        let mut dimensions: Vec<Dimension> = Vec::new();
        let mut dim_by_id: HashMap<String, usize> = HashMap::new();
        let mut line_items = Vec::new();
        for li in items {
            let id = LineItemId::parse(&li.id).map_err(|e| Problem::from(AnaplanError::Protocol(e.to_string())))?;
            let mut dims = Vec::new();
            for d in client.line_item_dimensions(model, &id).await? {
                let at = *dim_by_id.entry(d.id.clone()).or_insert_with(|| {
                    dimensions.push(Dimension {
                        id: d.id,
                        name: d.name,
                        named: Vec::new(),
                        by_text: HashMap::new(),
                        by_id: HashMap::new(),
                    });
                    dimensions.len() - 1
                });
                dims.push(at);
            }
            line_items.push(LineItem { id: li.id, name: li.name, format: li.format, dims });
        }
        let index = |names: &mut dyn Iterator<Item = String>| -> HashMap<String, usize> {
            let mut map = HashMap::new();
            for (i, n) in names.enumerate() {
                map.entry(n).or_insert(i);
            }
            map
        };
        let line_by_id = index(&mut line_items.iter().map(|l| l.id.clone()));
        let line_by_name = index(&mut line_items.iter().map(|l| l.name.clone()));
        let dim_by_name = index(&mut dimensions.iter().map(|d| d.name.clone()));
        let module = Module { line_items, dimensions, line_by_id, line_by_name, dim_by_name, columns: Vec::new() };

        let (mut plan, wanted) = off_runtime(move || {
            let mut plan = Plan { module, request };
            let wanted = plan.wanted();
            (plan, wanted)
        })
        .await?;
        for at in wanted {
            // Through a line item that has the dimension: Anaplan's model-level call refuses
            // Time (and serves only lists), the line item one takes any dimension.
            let via = plan
                .module
                .line_items
                .iter()
                .find(|l| l.dims.contains(&at))
                .map(|l| l.id.clone())
                .ok_or_else(|| Problem::from(AnaplanError::Protocol("a dimension of no line item".into())))?;
            let via = LineItemId::parse(&via).map_err(|e| Problem::from(AnaplanError::Protocol(e.to_string())))?;
            let dim = &mut plan.module.dimensions[at];
            for (i, item) in client.line_item_dimension_items(model, &via, &dim.id).await?.into_iter().enumerate() {
                let i = i as u32;
                if let Some(code) = item.code.as_deref().filter(|c| !c.is_empty()) {
                    dim.by_text.entry(code.to_owned()).or_insert(i);
                }
                dim.by_id.entry(item.id.clone()).or_insert(i);
                dim.named.push(Named { id: item.id, name: item.name });
            }
            // Names win over codes when they collide.
            for (i, n) in dim.named.iter().enumerate() {
                dim.by_text.insert(n.name.clone(), i as u32);
            }
        }
        Ok(plan)
    }

    fn key_names(&self) -> impl Iterator<Item = &str> {
        self.dimensions.iter().map(|d| d.name.as_str()).chain(self.line_items.iter().map(|l| l.name.as_str()))
    }

    /// The item id of `value` in dimension `at`.
    fn item(&self, at: usize, value: &str, context: &str) -> Result<&str, Problem> {
        let dim = &self.dimensions[at];
        match dim.by_text.get(value) {
            Some(&i) => Ok(&dim.named[i as usize].id),
            None => Err(unknown(
                value,
                dim.named.iter().map(|n| n.name.as_str()),
                format!("{context}: {} has no item named or coded {}", dim.name, quote(value)),
            )),
        }
    }
}

impl Plan {
    /// Notes what each row key names, and returns the dimensions whose items are needed:
    /// every dimension a row key names (its items are resolved in every row, whether or
    /// not a line item written uses it), and the dimensions of every line item written.
    fn wanted(&mut self) -> Vec<usize> {
        let m = &mut self.module;
        let mut wanted = vec![false; m.dimensions.len()];
        let mark = |li: usize, wanted: &mut [bool]| {
            for &d in &m.line_items[li].dims {
                wanted[d] = true;
            }
        };
        match &self.request.input {
            Input::Rows(_) => {
                let columns: Vec<Column> = self
                    .request
                    .keys
                    .iter()
                    .map(|k| match (m.dim_by_name.get(&**k), m.line_by_name.get(&**k)) {
                        (Some(&d), _) => Column::Dimension(d),
                        (None, Some(&li)) => Column::LineItem(li),
                        (None, None) => Column::Unknown,
                    })
                    .collect();
                for c in &columns {
                    match *c {
                        Column::Dimension(d) => wanted[d] = true,
                        Column::LineItem(li) => mark(li, &mut wanted),
                        Column::Unknown => {}
                    }
                }
                m.columns = columns;
            }
            Input::Cells(cells) => {
                let text = &self.request.text;
                let mut used = vec![false; m.line_items.len()];
                for c in &cells.cells {
                    let li = match (c.line_item_id, c.line_item_name) {
                        (Some(id), None) => m.line_by_id.get(text.get(id)),
                        (None, Some(name)) => m.line_by_name.get(text.get(name)),
                        _ => None,
                    };
                    if let Some(&li) = li {
                        used[li] = true;
                    }
                }
                for (li, _) in used.iter().enumerate().filter(|(_, u)| **u) {
                    mark(li, &mut wanted);
                }
            }
        }
        wanted.iter().enumerate().filter(|(_, w)| **w).map(|(d, _)| d).collect()
    }

    /// Checks every row or cell; the number of cells to write.
    fn check(&self) -> Result<usize, Problem> {
        let mut count = 0;
        for i in 0..self.request.len() {
            count += self.cells_of(i)?.len();
        }
        Ok(count)
    }

    /// The cells of row or cell `i`.
    fn cells_of(&self, i: usize) -> Result<Vec<Cell<'_>>, Problem> {
        match &self.request.input {
            Input::Rows(rows) => self.resolve_row(i, rows.row(i)),
            Input::Cells(cells) => Ok(self.resolve_cell(i, &cells.cells[i], cells)?.into_iter().collect()),
        }
    }

    /// The cells of one row, in the order of the row's keys. Every key that names a
    /// dimension is resolved, whether or not a line item of the row uses it.
    fn resolve_row(&self, row: usize, fields: &[Field]) -> Result<Vec<Cell<'_>>, Problem> {
        let (m, text) = (&self.module, &self.request.text);
        let mut chosen: Vec<Option<&str>> = vec![None; m.dimensions.len()];
        let mut line_cells: Vec<(usize, Scalar)> = Vec::new();
        let at = format!("rows[{row}]");
        for f in fields {
            let key = &*self.request.keys[f.key as usize];
            match m.columns[f.key as usize] {
                Column::Dimension(d) => {
                    let Some(value) = f.value.text(text) else {
                        return Err(Problem::bad_parameter(format!(
                            "{} must be an item's name or code (text); got {}",
                            row_path(row, key),
                            f.value.shown(text)
                        )));
                    };
                    chosen[d] = Some(m.item(d, value, &at)?);
                }
                Column::LineItem(li) => line_cells.push((li, f.value)),
                Column::Unknown => {
                    return Err(unknown(
                        key,
                        m.key_names(),
                        format!("{at} has {}, which is neither a dimension nor a line item of the module", quote(key)),
                    ));
                }
            }
        }
        let mut out = Vec::with_capacity(line_cells.len());
        for (li, v) in line_cells {
            let line = &m.line_items[li];
            if v == Scalar::Null {
                continue; // A SQL NULL: nothing to write.
            }
            let mut items = Vec::with_capacity(line.dims.len());
            for &d in &line.dims {
                let Some(id) = chosen[d] else {
                    return Err(Problem::bad_parameter(format!(
                        "{at} lacks the dimension {}, which line item {} needs",
                        quote(&m.dimensions[d].name),
                        quote(&line.name)
                    )));
                };
                items.push((d, id));
            }
            check_value(line, v, text, &row_path(row, &line.name))?;
            out.push(Cell { row, line_item: li, items, value: v });
        }
        Ok(out)
    }

    /// One of Anaplan's cells, checked (`None`: a null value, nothing to write).
    fn resolve_cell(&self, row: usize, cell: &CellIn, cells: &Cells) -> Result<Option<Cell<'_>>, Problem> {
        let (m, text) = (&self.module, &self.request.text);
        let at = format!("cells[{row}]");
        let bad = |what: String| Problem::bad_parameter(format!("{at}: {what}"));
        let li = match (cell.line_item_id, cell.line_item_name) {
            (Some(id), None) => {
                let id = text.get(id);
                *m.line_by_id
                    .get(id)
                    .ok_or_else(|| bad(format!("the module has no line item with id {}", quote(id))))?
            }
            (None, Some(name)) => {
                let name = text.get(name);
                *m.line_by_name.get(name).ok_or_else(|| {
                    unknown(
                        name,
                        m.line_items.iter().map(|l| l.name.as_str()),
                        format!("{at}: the module has no line item named {}", quote(name)),
                    )
                })?
            }
            _ => return Err(bad("give exactly one of lineItemId and lineItemName".into())),
        };
        let line = &m.line_items[li];
        let given = cell.dimensions.ok_or_else(|| bad("dimensions must be an array".into()))?;
        let mut items: Vec<Option<&str>> = vec![None; line.dims.len()];
        for d in &cells.dimensions[given.indexes()] {
            let slot = match (d.dimension_id, d.dimension_name) {
                (Some(id), None) => line.dims.iter().position(|&x| m.dimensions[x].id == text.get(id)),
                (None, Some(name)) => line.dims.iter().position(|&x| m.dimensions[x].name == text.get(name)),
                _ => return Err(bad("each dimension needs exactly one of dimensionId and dimensionName".into())),
            }
            .ok_or_else(|| {
                let named = d.dimension_id.or(d.dimension_name).map(|s| text.get(s)).unwrap_or("");
                bad(format!("{} is not a dimension of line item {}", quote(named), quote(&line.name)))
            })?;
            let dim_at = line.dims[slot];
            let dim = &m.dimensions[dim_at];
            let id = match (d.item_id, d.item_name, d.item_code) {
                (Some(id), None, None) => {
                    let id = text.get(id);
                    match dim.by_id.get(id) {
                        Some(&i) => dim.named[i as usize].id.as_str(),
                        None => return Err(bad(format!("{} has no item with id {}", dim.name, quote(id)))),
                    }
                }
                (None, Some(v), None) | (None, None, Some(v)) => m.item(dim_at, text.get(v), &at)?,
                _ => return Err(bad("each dimension needs exactly one of itemId, itemName and itemCode".into())),
            };
            if items[slot].replace(id).is_some() {
                return Err(bad(format!("dimension {} is given twice", dim.name)));
            }
        }
        let items = items
            .into_iter()
            .zip(&line.dims)
            .map(|(id, &d)| {
                id.map(|id| (d, id)).ok_or_else(|| {
                    bad(format!(
                        "lacks the dimension {}, which line item {} needs",
                        quote(&m.dimensions[d].name),
                        quote(&line.name)
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let value = cell.value.ok_or_else(|| bad("value is required".into()))?;
        if value == Scalar::Null {
            return Ok(None);
        }
        check_value(line, value, text, &at)?;
        Ok(Some(Cell { row, line_item: li, items, value }))
    }

    /// The next batch from `cursor` on (`None`: every cell is written), within Anaplan's
    /// limits; `cursor` moves past its cells.
    fn next_batch(&self, cursor: &mut Cursor) -> Result<Option<Batch>, Problem> {
        let m = &self.module;
        let mut batch = Batch { body: Vec::new(), sources: Vec::new() };
        // Room for a whole batch, reserved (resident only as written), so that the body
        // never grows by copying itself.
        let _ = batch.body.try_reserve_exact(MAX_WRITE_BYTES);
        let mut one = Vec::new();
        while cursor.entry < self.request.len() {
            for cell in self.cells_of(cursor.entry)?.into_iter().skip(cursor.done) {
                one.clear();
                let line = &m.line_items[cell.line_item];
                one.extend_from_slice(b"{\"lineItemId\":");
                write_json(&mut one, &line.id);
                one.extend_from_slice(b",\"dimensions\":[");
                for (k, (d, id)) in cell.items.iter().enumerate() {
                    if k > 0 {
                        one.push(b',');
                    }
                    one.extend_from_slice(b"{\"dimensionId\":");
                    write_json(&mut one, &m.dimensions[*d].id);
                    one.extend_from_slice(b",\"itemId\":");
                    write_json(&mut one, id);
                    one.push(b'}');
                }
                one.extend_from_slice(b"],\"value\":");
                cell.value.write_json(&self.request.text, &mut one);
                one.push(b'}');
                // `[` + cells joined by `,` + `]`.
                let full = batch.sources.len() >= MAX_CELLS_PER_WRITE
                    || batch.body.len() + 1 + one.len() + 1 > MAX_WRITE_BYTES;
                if !batch.sources.is_empty() && full {
                    batch.body.push(b']');
                    return Ok(Some(batch));
                }
                batch.body.push(if batch.sources.is_empty() { b'[' } else { b',' });
                batch.body.extend_from_slice(&one);
                batch.sources.push((cell.row, cell.line_item));
                cursor.done += 1;
            }
            cursor.entry += 1;
            cursor.done = 0;
        }
        if batch.sources.is_empty() {
            return Ok(None);
        }
        batch.body.push(b']');
        Ok(Some(batch))
    }
}

/// Where the next batch starts: a row or cell, and how many of its cells are written.
#[derive(Debug, Clone, Copy, Default)]
struct Cursor {
    entry: usize,
    done: usize,
}

/// One write call's body, and the (row, line item) of each of its cells.
struct Batch {
    body: Vec<u8>,
    sources: Vec<(usize, usize)>,
}

/// Checks a value against the line item's format, when Anaplan said it.
fn check_value(line: &LineItem, value: Scalar, text: &Text, at: &str) -> Result<(), Problem> {
    let s = value.text(text);
    let ok = match (line.format.as_deref(), s) {
        (Some("NUMBER"), Some(s)) => s.trim().parse::<f64>().is_ok_and(f64::is_finite),
        (Some("NUMBER"), None) => value.is_number(),
        (Some("BOOLEAN"), Some(s)) => s == "true" || s == "false",
        (Some("BOOLEAN"), None) => matches!(value, Scalar::Bool(_)),
        (Some("DATE"), Some(s)) => is_date(s),
        (Some("DATE"), None) => false,
        (Some("TEXT" | "LIST"), s) => s.is_some(),
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
        Err(Problem::bad_parameter(format!(
            "{at}: line item {} takes {want}; got {}",
            quote(&line.name),
            value.shown(text)
        )))
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

/// Sends batches and adds up Anaplan's answers.
struct Writer<'a> {
    client: &'a Client,
    model: &'a ModelId,
    module: &'a ModuleId,
    schema: &'a Module,
    changed: usize,
    batches: usize,
    failures: Vec<Value>,
}

impl<'a> Writer<'a> {
    fn new(client: &'a Client, model: &'a ModelId, module: &'a ModuleId, schema: &'a Module) -> Self {
        Writer { client, model, module, schema, changed: 0, batches: 0, failures: Vec::new() }
    }

    async fn send(&mut self, batch: Batch) -> Result<(), Problem> {
        let Batch { body, sources } = batch;
        let answer = match self.client.write_cells(self.model, self.module, bytes::Bytes::from(body)).await {
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
