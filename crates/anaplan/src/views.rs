//! Reading views: metadata, cell data (JSON v1 or CSV), and large read requests for views
//! above Anaplan's direct-read limit of 1,000,000 cells.

use std::time::Duration;

use reqwest::Method;
use serde::Deserialize;

use super::catalog::Named;
use super::client::{ApiRequest, Client};
use super::error::AnaplanError;
use super::ids::{ModelId, PageSelection, TaskId, ViewId, WorkspaceId};

/// A view's name and the dimensions on each axis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewMetadata {
    /// The view's id.
    pub id: String,
    /// The view's name.
    pub name: String,
    /// Dimensions on rows, outermost first.
    pub rows: Vec<Named>,
    /// Dimensions on columns, outermost first.
    pub columns: Vec<Named>,
    /// Dimensions on pages.
    pub pages: Vec<Named>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MetadataBody {
    view_id: Option<serde_json::Value>,
    view_name: Option<String>,
    // An axis without dimensions is omitted, not empty.
    #[serde(default)]
    rows: Vec<Named>,
    #[serde(default)]
    columns: Vec<Named>,
    #[serde(default)]
    pages: Vec<Named>,
}

/// The outcome of a direct read: the data, or Anaplan's 400.
#[derive(Debug)]
pub enum DirectRead<T> {
    /// The data.
    Data(T),
    /// Anaplan refused the read with a 400; its message, which is passed on but never
    /// read. The description documents two 400s for this call: a view above 1,000,000
    /// cells, and a page selector that is not on the view's page axis. Without page
    /// selectors only the first can apply, so the caller falls back to a large read
    /// whatever the wording; with page selectors the two cannot be told apart.
    Refused(String),
}

/// What a large read produced.
#[derive(Debug)]
pub struct LargeRead {
    /// The pages' CSV, concatenated in page order.
    pub csv: String,
    /// How many pages Anaplan split it into.
    pub pages: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReadRequestBody {
    view_read_request: ReadRequest,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReadRequest {
    request_id: String,
    request_state: String,
    available_pages: Option<u32>,
    successful: Option<bool>,
}

impl Client {
    /// A view's metadata.
    pub async fn view_metadata(&self, model: &ModelId, view: &ViewId) -> Result<ViewMetadata, AnaplanError> {
        let body: MetadataBody = self.json(ApiRequest::get(["models", model.as_str(), "views", view.as_str()])).await?;
        let id = match body.view_id {
            Some(serde_json::Value::String(s)) => s,
            Some(serde_json::Value::Number(n)) => n.to_string(),
            _ => view.to_string(),
        };
        Ok(ViewMetadata {
            id,
            name: body.view_name.unwrap_or_else(|| view.to_string()),
            rows: body.rows,
            columns: body.columns,
            pages: body.pages,
        })
    }

    /// The view's cells as Anaplan's JSON (format v1), byte for byte as Anaplan sent it.
    pub async fn view_data_json(
        &self,
        model: &ModelId,
        view: &ViewId,
        pages: &PageSelection,
    ) -> Result<DirectRead<String>, AnaplanError> {
        let req = data_request(model, view, pages).query("format", "v1").accept("application/json");
        refused_or(self.text(req).await)
    }

    /// The view's cells as Anaplan's CSV grid.
    pub async fn view_data_csv(
        &self,
        model: &ModelId,
        view: &ViewId,
        pages: &PageSelection,
    ) -> Result<DirectRead<String>, AnaplanError> {
        refused_or(self.text(data_request(model, view, pages).accept("text/csv")).await)
    }

    /// Reads a whole view through a large read request (CSV, `GRID_ALL_PAGES`), page by
    /// page. The request is deleted afterwards whether the read succeeded, failed, or was
    /// abandoned (a dropped future deletes it in the background).
    pub async fn large_read_csv(
        &self,
        ws: &WorkspaceId,
        model: &ModelId,
        view: &ViewId,
    ) -> Result<LargeRead, AnaplanError> {
        let base = ["workspaces", ws.as_str(), "models", model.as_str(), "views", view.as_str(), "readRequests"];
        let started: ReadRequestBody = self
            .json(
                ApiRequest::get(base).method(Method::POST).json(serde_json::json!({ "exportType": "GRID_ALL_PAGES" })),
            )
            .await?;
        let id = TaskId::parse(&started.view_read_request.request_id)
            .map_err(|e| AnaplanError::Protocol(format!("read request id: {e}")))?;
        let guard = ReadRequestGuard::new(self, request_path(&base, &id));
        let outcome = self.finish_large_read(&base, &id, started.view_read_request).await;
        guard.delete_now().await;
        outcome
    }

    async fn finish_large_read(
        &self,
        base: &[&str],
        id: &TaskId,
        mut state: ReadRequest,
    ) -> Result<LargeRead, AnaplanError> {
        let mut wait = Duration::from_millis(250);
        loop {
            match state.request_state.as_str() {
                "COMPLETE" if state.successful == Some(false) => {
                    return Err(AnaplanError::Failed("Anaplan could not complete the large read request".into()));
                }
                "COMPLETE" => break,
                "CANCELLED" | "CANCELLING" => {
                    return Err(AnaplanError::Cancelled("the large read request was cancelled in Anaplan".into()));
                }
                _ => {}
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(5));
            let body: ReadRequestBody = self.json(ApiRequest::get(request_path(base, id))).await?;
            state = body.view_read_request;
        }
        let pages = state.available_pages.unwrap_or(0);
        let mut csv = String::new();
        // The end of page 0's text: its leading lines are the header block later pages
        // may repeat.
        let mut first_page_end = 0;
        for page in 0..pages {
            let mut segments = request_path(base, id);
            segments.extend(["pages".to_owned(), page.to_string()]);
            let text = self.text(ApiRequest::get(segments).accept("text/csv")).await?;
            if page == 0 {
                csv.push_str(&text);
                first_page_end = csv.len();
            } else {
                csv.push_str(without_repeated_header(&csv[..first_page_end], &text));
            }
        }
        Ok(LargeRead { csv, pages })
    }
}

/// `page` without the leading lines that repeat the first page's, line for line.
///
/// Anaplan does not document whether each page of a large read starts with the CSV
/// preamble (page line, one line per column dimension) or only the first page does, so
/// both are accepted. Only lines equal to the first page's lines at the same position are
/// dropped, and the comparison stops at the first difference: a data line never equals
/// the first page's line there (its row labels differ from every other row's), so data is
/// never dropped.
fn without_repeated_header<'a>(first: &str, page: &'a str) -> &'a str {
    let mut skip = 0;
    for (theirs, ours) in page.split_inclusive('\n').zip(first.split_inclusive('\n')) {
        if line_content(theirs) != line_content(ours) {
            break;
        }
        skip += theirs.len();
    }
    &page[skip..]
}

/// A line without its terminator (`\n` or `\r\n`).
fn line_content(line: &str) -> &str {
    line.strip_suffix('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).unwrap_or(line)
}

fn data_request(model: &ModelId, view: &ViewId, pages: &PageSelection) -> ApiRequest {
    let req = ApiRequest::get(["models", model.as_str(), "views", view.as_str(), "data"]);
    if pages.is_empty() { req } else { req.query("pages", pages.to_query()) }
}

/// A 400 to a direct read is [`DirectRead::Refused`]; its wording is not documented, so it
/// is not looked at.
fn refused_or<T>(r: Result<T, AnaplanError>) -> Result<DirectRead<T>, AnaplanError> {
    match r {
        Ok(v) => Ok(DirectRead::Data(v)),
        Err(AnaplanError::Api { status: 400, message, .. }) => Ok(DirectRead::Refused(message)),
        Err(e) => Err(e),
    }
}

fn request_path(base: &[&str], id: &TaskId) -> Vec<String> {
    base.iter().map(|s| (*s).to_owned()).chain([id.to_string()]).collect()
}

async fn delete_read_request(client: &Client, path: Vec<String>) {
    match client.send(ApiRequest::get(path).method(Method::DELETE)).await {
        Ok(_) => tracing::debug!("large read request deleted"),
        Err(e) => {
            tracing::warn!(error = %e, "could not delete a large read request; Anaplan reclaims it after 30 minutes idle")
        }
    }
}

/// A large read request (of a view or a list) that is deleted whatever happens: by
/// [`ReadRequestGuard::delete_now`] once the read is over, so that the answer follows the
/// deletion, or in the background if the read is abandoned midway (its request dropped).
pub(crate) struct ReadRequestGuard {
    client: Option<Client>,
    path: Vec<String>,
}

impl ReadRequestGuard {
    /// Guards the read request at `path`.
    pub(crate) fn new(client: &Client, path: Vec<String>) -> Self {
        ReadRequestGuard { client: Some(client.clone()), path }
    }

    /// Deletes it now.
    pub(crate) async fn delete_now(mut self) {
        if let Some(client) = self.client.take() {
            delete_read_request(&client, std::mem::take(&mut self.path)).await;
        }
    }
}

impl Drop for ReadRequestGuard {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let path = std::mem::take(&mut self.path);
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move { delete_read_request(&client, path).await });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::without_repeated_header;

    const FIRST: &str = "Jan,Jan,Feb\n,,Price,Notes\nWidget,1,ok\n";

    #[test]
    fn a_repeated_header_block_is_dropped_and_data_kept() {
        assert_eq!(without_repeated_header(FIRST, "Jan,Jan,Feb\n,,Price,Notes\nGizmo,2,ok\n"), "Gizmo,2,ok\n");
        assert_eq!(without_repeated_header(FIRST, "Gizmo,2,ok\n"), "Gizmo,2,ok\n", "no header on later pages");
        assert_eq!(without_repeated_header(FIRST, "Jan,Jan,Feb\r\n,,Price,Notes\r\n"), "", "only the header");
        assert_eq!(without_repeated_header(FIRST, ""), "");
    }

    #[test]
    fn only_exact_lines_at_the_same_place_count() {
        let page = "Jan,Jan,Feb \nGizmo,2,ok\n";
        assert_eq!(without_repeated_header(FIRST, page), page, "a line that differs in one byte is data");
        let shifted = ",,Price,Notes\nGizmo,2,ok\n";
        assert_eq!(without_repeated_header(FIRST, shifted), shifted);
    }
}
