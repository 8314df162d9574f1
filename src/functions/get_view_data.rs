//! `get-view-data`: a view's cells as records, Anaplan's JSON grid, or CSV. Views above
//! Anaplan's direct-read limit are read through a large read request.

use axum::body::Body;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::declare::{Answer, Function, Input, Object, Operation, Param, RequestBody, Trigger};
use super::records;
use crate::anaplan::Listing;
use crate::anaplan::ids::{PageSelection, ViewId};
use crate::anaplan::views::DirectRead;
use crate::http::{AppState, Call, ModelRef, ObjectRef, Params, Problem};

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

/// Handles one call.
pub async fn handle(state: &AppState, call: Call) -> Result<Response, Problem> {
    let GetViewDataRequest { model, view, pages, format } = GetViewDataRequest::parse(&call.params()?)?;
    let client = call.client(state)?;
    let (ws, model) = state.model(&client, model).await?;
    let view = state.find(&client, &Listing::Views(model.clone()), view).await?.id;

    let too_large = |message: String| {
        Problem::bad_parameter(format!(
            "the view is above Anaplan's direct-read limit of 1,000,000 cells ({message}); {}",
            "such views are read whole through a large read request, so `pages` cannot be used and format=grid is not available"
        ))
        .with("anaplan", serde_json::json!({ "status": 400, "message": message }))
    };

    match format {
        Format::Grid => match client.view_data_json(&model, &view, &pages).await? {
            DirectRead::Data(json) => Ok(body(json.into_bytes(), "application/json")),
            DirectRead::TooLarge(message) => Err(too_large(message)),
        },
        Format::Csv => match client.view_data_csv(&model, &view, &pages).await? {
            DirectRead::Data(csv) => Ok(body(csv.into_bytes(), "text/csv; charset=utf-8")),
            DirectRead::TooLarge(message) if !pages.is_empty() => Err(too_large(message)),
            DirectRead::TooLarge(_) => {
                let read = client.large_read_csv(&ws, &model, &view).await?;
                tracing::info!(pages = read.pages, bytes = read.csv.len(), "view read through a large read request");
                Ok(body(read.csv.into_bytes(), "text/csv; charset=utf-8"))
            }
        },
        Format::Records => {
            let meta = client.view_metadata(&model, &view).await?;
            let source = match client.view_data_json(&model, &view, &pages).await? {
                DirectRead::Data(json) => records::Source::Json(json),
                DirectRead::TooLarge(message) if !pages.is_empty() => return Err(too_large(message)),
                DirectRead::TooLarge(message) if !meta.pages.is_empty() => {
                    return Err(Problem::bad_parameter(format!(
                        "the view is above Anaplan's direct-read limit of 1,000,000 cells ({message}) and has page dimensions: \
                         a large read returns every page in one grid, which cannot be turned into records reliably; use format=csv"
                    )));
                }
                DirectRead::TooLarge(_) => {
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

fn body(bytes: impl Into<Body>, content_type: &'static str) -> Response {
    let mut resp = (StatusCode::OK, bytes.into()).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}
