//! Controls for views of a chosen size and for malformed large-read pages, for memory
//! benchmarks and for tests of a client's checks (no token needed; 204, or a 400 in
//! Anaplan's error shape for a malformed or out-of-range number):
//! - `POST /_emulator/big-grid?rows=R&columns=C` ([`Emulator::set_big_grid_size`]): REV02
//!   Big Grid has R customers and C months from then on (defaults `BIG_GRID_ROWS` and
//!   `BIG_GRID_COLUMNS`; at most [`MAX_BIG_GRID_CELLS`] cells). Its cells are computed
//!   as they are written, so a large grid costs the emulator only the text it is serving.
//!   A read already under way sees the change in the pages it has not fetched yet.
//! - `POST /_emulator/ragged-read-pages?count=N` ([`Emulator::make_read_pages_ragged`]):
//!   the next N large-read pages served have one field too many on their last line, as a
//!   CSV that is not a grid.

use super::control::number;
use super::data::{Items, View};
use super::seed::{BIG_GRID_COLUMNS, BIG_GRID_ROWS, MODEL_REVENUE_ID, VIEW_BIG_GRID_ID};
use super::util::api_error;
use super::{Emulator, Inner};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// The largest Big Grid the controls set: 100,000,000 cells (about 800 MB of CSV).
pub const MAX_BIG_GRID_CELLS: usize = 100_000_000;

pub(super) fn routes() -> Router<Arc<Inner>> {
    Router::new()
        .route("/_emulator/big-grid", post(http_big_grid))
        .route("/_emulator/ragged-read-pages", post(http_ragged_read_pages))
}

impl Emulator {
    /// REV02 Big Grid has `rows` customers and `columns` months from now on; `Err` (and
    /// no change) when either is 0 or the grid would be above [`MAX_BIG_GRID_CELLS`].
    pub fn set_big_grid_size(&self, rows: usize, columns: usize) -> Result<(), String> {
        set_big_grid_size(&self.inner, rows, columns)
    }

    /// The next `n` large-read pages served have one field too many on their last line.
    pub fn make_read_pages_ragged(&self, n: u32) {
        self.inner.state().ragged_read_pages = n;
    }
}

fn big_grid(inner: &Inner) -> Option<&View> {
    inner.catalog.model(MODEL_REVENUE_ID)?.view(VIEW_BIG_GRID_ID)
}

fn set_big_grid_size(inner: &Inner, rows: usize, columns: usize) -> Result<(), String> {
    if rows == 0 || columns == 0 || rows.saturating_mul(columns) > MAX_BIG_GRID_CELLS {
        return Err(format!(
            "a Big Grid of {rows} rows and {columns} columns is not between 1 and {MAX_BIG_GRID_CELLS} cells"
        ));
    }
    let view = big_grid(inner).ok_or("the Big Grid view is missing")?;
    for (dims, n) in [(&view.rows, rows), (&view.columns, columns)] {
        match dims.first().map(|d| &d.items) {
            Some(Items::Numbered { count, .. }) => count.store(n, Ordering::Relaxed),
            _ => return Err("the Big Grid's dimensions are not numbered series".into()),
        }
    }
    Ok(())
}

/// `POST /_emulator/big-grid?rows=R&columns=C`.
async fn http_big_grid(
    State(inner): State<Arc<Inner>>,
    uri: Uri,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let path = uri.path();
    let (rows, columns) = match (number(&q, "rows", BIG_GRID_ROWS, path), number(&q, "columns", BIG_GRID_COLUMNS, path))
    {
        (Ok(r), Ok(c)) => (r, c),
        (Err(resp), _) | (_, Err(resp)) => return resp,
    };
    match set_big_grid_size(&inner, rows, columns) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(message) => api_error(StatusCode::BAD_REQUEST, &message, path),
    }
}

/// `POST /_emulator/ragged-read-pages?count=N`.
async fn http_ragged_read_pages(
    State(inner): State<Arc<Inner>>,
    uri: Uri,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    super::control::set_count(&inner, &q, &uri, |st, n| st.ragged_read_pages = n)
}

/// A large-read page as served: `page`, or, while ragged pages are pending, `page` with
/// one more field on its last line.
pub(super) fn served_page(inner: &Inner, mut page: String) -> String {
    {
        let mut st = inner.state();
        if st.ragged_read_pages == 0 {
            return page;
        }
        st.ragged_read_pages -= 1;
    }
    let terminator = if page.ends_with("\r\n") {
        "\r\n"
    } else if page.ends_with('\n') {
        "\n"
    } else {
        ""
    };
    page.truncate(page.len() - terminator.len());
    page.push_str(",ragged");
    page.push_str(terminator);
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_big_grid_takes_any_size_in_range_and_refuses_the_rest() {
        let fake = Emulator::start().await;
        let cells = || big_grid(&fake.inner).unwrap().cell_count();
        assert_eq!(cells(), BIG_GRID_ROWS * BIG_GRID_COLUMNS);
        fake.set_big_grid_size(10_000, 500).unwrap();
        assert_eq!(cells(), 5_000_000);
        for (r, c) in [(0, 5), (5, 0), (MAX_BIG_GRID_CELLS, 2), (usize::MAX, usize::MAX)] {
            assert!(fake.set_big_grid_size(r, c).is_err(), "{r} x {c}");
        }
        assert_eq!(cells(), 5_000_000, "a refused size changes nothing");
    }

    #[tokio::test]
    async fn a_ragged_page_has_one_more_field_on_its_last_line_only_while_pending() {
        let fake = Emulator::start().await;
        fake.make_read_pages_ragged(2);
        assert_eq!(served_page(&fake.inner, "a,b\nc,d\n".into()), "a,b\nc,d,ragged\n");
        assert_eq!(served_page(&fake.inner, "a,b\r\n".into()), "a,b,ragged\r\n");
        assert_eq!(served_page(&fake.inner, "a,b\n".into()), "a,b\n");
    }
}
