//! `get-view-data`: a view's cells as records, Anaplan's JSON grid, or CSV. Views above
//! Anaplan's direct-read limit are read through a large read request: Anaplan answers a
//! direct read of such a view with a 400 whose wording it does not document, so a 400 to
//! a read without page selectors (the only 400 the description documents for it) falls
//! back to a large read whatever it says.

use axum::body::Body;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::http::{AppState, Call, ModelRef, ObjectRef, Params, Problem, ProblemType};
use crate::machinery::declare::{
    Answer, Function, Group, Input, Object, Operation, Param, RequestBody, Schema, Trigger,
};
use crate::machinery::openapi::{prop, prop_with, string_list};
use crate::machinery::records;
use anaplan::Listing;
use anaplan::ids::{PageSelection, ViewId};
use anaplan::views::DirectRead;

const PAGES: Param = Param::text(
    "pages",
    "Pages",
    "Page selection, as dimensionId:itemId pairs separated by commas; the view's default pages when empty.",
)
.advanced();

const FORMAT: Param = Param::choice(
    "format",
    &["records", "grid", "csv"],
    "Format",
    "records (the default), grid (Anaplan's JSON) or csv (Anaplan's CSV).",
)
.default("records")
.advanced();

/// `get-view-data`.
pub const FUNCTION: Function = Function {
    name: "get-view-data",
    trigger: Trigger::Http { methods: &[Method::GET, Method::POST], body: RequestBody::Parameters },
    inputs: &[
        Input::Object(Object::Workspace),
        Input::Object(Object::Model),
        Input::Object(Object::View),
        Input::Param(PAGES),
        Input::Param(FORMAT),
    ],
    long_running: None,
    operation: Some(Operation {
        id: "GetViewData",
        summary: "Read a view",
        description: "Reads an Anaplan view (saved view or module default view). records (the default) gives one \
                      object per row, keyed by the row dimensions and the column labels; grid gives Anaplan's own \
                      JSON; csv gives Anaplan's CSV. Views above 1,000,000 cells are read through a large read \
                      request.",
        important: true,
        consumes: &[],
        produces: &["application/json", "text/csv", "application/problem+json"],
        ok: Answer {
            description: "The view's data (records shown; grid and csv are Anaplan's own formats).",
            schema: "ViewRecords",
            array: false,
        },
    }),
    more_operations: &[],
    schemas: &[Schema { name: "ViewRecords", build: view_records_schema }],
    group: Some(Group::Integration),
    handler: |state, call| Box::pin(handle(state, call)),
};

/// What the view is delivered as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// One JSON object per row.
    Records,
    /// Anaplan's JSON grid.
    Grid,
    /// Anaplan's CSV.
    Csv,
}

/// A get-view-data request, checked.
struct GetViewDataRequest {
    model: ModelRef,
    view: ObjectRef<ViewId>,
    pages: PageSelection,
    format: Format,
}

impl GetViewDataRequest {
    fn parse(params: &Params) -> Result<Self, Problem> {
        let model = ModelRef::parse(params)?;
        let view = params.object("view")?;
        let pages = PageSelection::parse(params.get("pages").unwrap_or(""))
            .map_err(|e| Problem::bad_parameter(e.to_string()))?;
        let format = match params.choice(&FORMAT)? {
            Some("grid") => Format::Grid,
            Some("csv") => Format::Csv,
            _ => Format::Records,
        };
        Ok(GetViewDataRequest { model, view, pages, format })
    }
}

/// `#/definitions/ViewRecords`: the view as records.
fn view_records_schema() -> Value {
    json!({
        "type": "object",
        "description": "The view as records (format=records).",
        "properties": {
            "view": prop_with("object", "View", "The view read.", "properties", json!({
                "id": prop("string", "View ID", "The view's id."),
                "name": prop("string", "View name", "The view's name."),
            })),
            "pages": prop_with("array", "Pages", "The page selection the data is for.", "items", json!({
                "type": "object",
                "properties": {
                    "dimension": prop("string", "Page dimension", "A page dimension's name."),
                    "item": prop("string", "Page item", "The item selected on it."),
                },
            })),
            "columns": string_list(
                "Columns",
                "Row dimension names, then column labels (labels of several column dimensions joined with \
                 ' | '): the keys of each row, in order.",
            ),
            "rows": prop_with(
                "array",
                "Rows",
                "One object per row, keyed by the names in 'Columns'; numbers are JSON numbers, everything \
                 else strings.",
                "items",
                super::describe::dynamic_row(
                    "view",
                    "A record: the view's row dimensions and column labels (the designer shows them once a view is \
                     picked by id).",
                ),
            ),
        },
    })
}

/// Handles one call.
pub async fn handle(state: &AppState, call: Call) -> Result<Response, Problem> {
    let GetViewDataRequest { model, view, pages, format } = GetViewDataRequest::parse(&call.params()?)?;
    let client = call.client(state)?;
    let (ws, model) = state.model(&client, model).await?;
    let view = state.find(&client, &Listing::Views(model.clone()), view).await?.id;

    match format {
        Format::Grid => match client.view_data_json(&model, &view, &pages).await? {
            DirectRead::Data(json) => Ok(body(json.into_bytes(), "application/json")),
            DirectRead::Refused(message) if !pages.is_empty() => Err(refused_with_pages(message)),
            DirectRead::Refused(message) => Err(too_large_for_grid(message)),
        },
        Format::Csv => match client.view_data_csv(&model, &view, &pages).await? {
            DirectRead::Data(csv) => Ok(body(csv.into_bytes(), "text/csv; charset=utf-8")),
            DirectRead::Refused(message) if !pages.is_empty() => Err(refused_with_pages(message)),
            DirectRead::Refused(_) => {
                let read = client.large_read_csv(&ws, &model, &view).await?;
                tracing::info!(pages = read.pages, bytes = read.csv.len(), "view read through a large read request");
                Ok(body(read.csv.into_bytes(), "text/csv; charset=utf-8"))
            }
        },
        Format::Records => {
            let meta = client.view_metadata(&model, &view).await?;
            let source = match client.view_data_json(&model, &view, &pages).await? {
                DirectRead::Data(json) => records::Source::Json(json),
                DirectRead::Refused(message) if !pages.is_empty() => return Err(refused_with_pages(message)),
                DirectRead::Refused(message) if !meta.pages.is_empty() => {
                    return Err(Problem::bad_parameter(format!(
                        "Anaplan refused a direct read of the view ({message}), which it does for views above \
                         1,000,000 cells, and the view has page dimensions: a large read returns every page in one \
                         grid, which cannot be turned into records reliably; use format=csv"
                    ))
                    .with("anaplan", json!({ "status": 400, "message": message })));
                }
                DirectRead::Refused(_) => {
                    let read = client.large_read_csv(&ws, &model, &view).await?;
                    tracing::info!(
                        pages = read.pages,
                        bytes = read.csv.len(),
                        "view read through a large read request"
                    );
                    records::Source::Csv(read.csv)
                }
            };
            // Checked whole, then streamed: the records are never held whole.
            Ok(body(records::stream(meta, source).await?, "application/json"))
        }
    }
}

/// Anaplan's 400 to a read with page selectors: the description documents it both for a
/// selector that is not on the view's page axis and for a view above 1,000,000 cells, and
/// its wording is not documented, so both are named and Anaplan's message passed on.
fn refused_with_pages(message: String) -> Problem {
    Problem::new(
        ProblemType::AnaplanBadRequest,
        format!(
            "Anaplan refused to read the view with these pages ({message}): either a page selector is not on the \
             view's page axis, or the view is above Anaplan's direct-read limit of 1,000,000 cells, in which case it \
             can only be read whole, without pages (format=csv or records)"
        ),
    )
    .with("anaplan", json!({ "status": 400, "message": message }))
}

/// Anaplan's 400 to a grid read without page selectors: documented for views above
/// 1,000,000 cells, which are only read through a large read, and that gives no grid.
fn too_large_for_grid(message: String) -> Problem {
    Problem::bad_parameter(format!(
        "Anaplan refused a direct read of the view ({message}), which it does for views above its direct-read limit \
         of 1,000,000 cells; such views are read whole through a large read request, so format=grid is not \
         available (use format=csv or records)"
    ))
    .with("anaplan", json!({ "status": 400, "message": message }))
}

fn body(bytes: impl Into<Body>, content_type: &'static str) -> Response {
    let mut resp = (StatusCode::OK, bytes.into()).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}
