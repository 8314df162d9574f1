//! The emulator's catalog: workspaces, models, modules and views, with dimension
//! items and cell formulas. Cells are computed on demand from item indexes so
//! the million-cell view never sits in memory (see `grid.rs` for rendering).

use super::bulk::{self, Bulk};
use super::seed::*;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A workspace as listed by `GET /2/0/workspaces`.
pub struct Workspace {
    pub id: &'static str,
    pub name: &'static str,
    pub size_allowance: u64,
    pub current_size: u64,
}

/// A model with its modules and views.
pub struct Model {
    pub id: &'static str,
    pub name: &'static str,
    pub workspace_id: &'static str,
    pub active_state: &'static str,
    pub modules: Vec<(&'static str, &'static str)>,
    pub views: Vec<View>,
    /// Dashboards as (id, name): ids `115…` (integration README, "ID Format").
    pub dashboards: Vec<(&'static str, &'static str)>,
    /// Processes, exports, imports and files (see `bulk`).
    pub bulk: Bulk,
}

/// Computes one cell from the item index chosen on each page, row and column
/// dimension (in axis order).
pub type CellFn = fn(pages: &[usize], rows: &[usize], cols: &[usize]) -> String;

/// A module view (default or saved).
pub struct View {
    pub id: &'static str,
    pub name: &'static str,
    pub module_id: &'static str,
    /// Default views are listed always; saved ones only with `includesubsidiaryviews=true`.
    /// A module's default view has the module's id (integration README, "ID Format").
    pub is_default: bool,
    /// Cells come from what module writes stored (REV10 Sales Input), not from `cell`.
    pub stored: bool,
    pub pages: Vec<Dim>,
    pub rows: Vec<Dim>,
    pub columns: Vec<Dim>,
    pub cell: CellFn,
}

/// A dimension as it appears on one view's axis.
pub struct Dim {
    pub id: &'static str,
    pub name: &'static str,
    pub items: Items,
}

/// The items of a dimension: listed names or a generated numbered series (whose length a
/// test may change while the emulator runs, see `sized_view`).
pub enum Items {
    Named { names: &'static [&'static str], first_id: u64 },
    Numbered { count: AtomicUsize, first_id: u64, label: fn(usize) -> String },
}

impl Dim {
    fn named(id: &'static str, name: &'static str, names: &'static [&'static str], first_id: u64) -> Dim {
        Dim { id, name, items: Items::Named { names, first_id } }
    }

    /// Number of items shown on the axis.
    pub fn len(&self) -> usize {
        match &self.items {
            Items::Named { names, .. } => names.len(),
            Items::Numbered { count, .. } => count.load(Ordering::Relaxed),
        }
    }

    /// Display name of item `i` (callers keep `i < len()`).
    pub fn item_name(&self, i: usize) -> String {
        match &self.items {
            Items::Named { names, .. } => names.get(i).copied().unwrap_or_default().to_string(),
            Items::Numbered { label, .. } => label(i),
        }
    }

    /// Numeric item id of item `i`, as a string (the form used by `pages=`).
    pub fn item_id(&self, i: usize) -> String {
        let first = match &self.items {
            Items::Named { first_id, .. } | Items::Numbered { first_id, .. } => *first_id,
        };
        (first + i as u64).to_string()
    }

    /// Index of the item with that id, if it belongs to this dimension.
    pub fn index_of(&self, item_id: &str) -> Option<usize> {
        (0..self.len()).find(|&i| self.item_id(i) == item_id)
    }
}

impl View {
    /// Cells in one page: rows × columns (page dimensions do not multiply).
    pub fn cell_count(&self) -> usize {
        axis_len(&self.rows).saturating_mul(axis_len(&self.columns))
    }
}

/// Number of item combinations on an axis (1 for an empty axis).
pub fn axis_len(dims: &[Dim]) -> usize {
    dims.iter().fold(1usize, |acc, d| acc.saturating_mul(d.len()))
}

/// Decodes combination `k` of an axis into one item index per dimension; the
/// first dimension is outermost, as Anaplan nests axis dimensions.
pub fn decode(dims: &[Dim], mut k: usize, out: &mut Vec<usize>) {
    out.clear();
    out.resize(dims.len(), 0);
    for (slot, d) in out.iter_mut().zip(dims).rev() {
        let n = d.len().max(1);
        *slot = k % n;
        k /= n;
    }
}

/// The whole catalog.
pub struct Catalog {
    pub workspaces: Vec<Workspace>,
    pub models: Vec<Model>,
}

impl Catalog {
    pub fn workspace(&self, id: &str) -> Option<&Workspace> {
        self.workspaces.iter().find(|w| w.id == id)
    }

    /// Model by exact (case-sensitive) id.
    pub fn model(&self, id: &str) -> Option<&Model> {
        self.models.iter().find(|m| m.id == id)
    }
}

impl Model {
    pub fn view(&self, id: &str) -> Option<&View> {
        self.views.iter().find(|v| v.id == id)
    }
}

// Dimension builders. Item id ranges are internal except Versions/Departments,
// whose ids are published in `seed` for page selectors.
fn versions() -> Dim {
    Dim::named(DIM_VERSIONS_ID, DIM_VERSIONS_NAME, &[VERSION_ACTUAL_NAME, VERSION_FORECAST_NAME], 107_000_000_001)
}
fn departments() -> Dim {
    Dim::named(
        DIM_DEPARTMENTS_ID,
        DIM_DEPARTMENTS_NAME,
        &[DEPARTMENT_FINANCE_NAME, DEPARTMENT_ENGINEERING_NAME],
        108_000_000_001,
    )
}
fn products() -> Dim {
    Dim::named(DIM_PRODUCTS_ID, DIM_PRODUCTS_NAME, &PRODUCTS, 201_000_000_001)
}
fn regions() -> Dim {
    Dim::named(DIM_REGIONS_ID, DIM_REGIONS_NAME, &REGIONS, 203_000_000_001)
}
fn months() -> Dim {
    Dim::named(DIM_TIME_ID, DIM_TIME_NAME, &PRICE_BOOK_MONTHS, 300_000_000_001)
}
fn line_items(names: &'static [&'static str], first_id: u64) -> Dim {
    Dim::named(DIM_LINE_ITEMS_ID, DIM_LINE_ITEMS_NAME, names, first_id)
}

fn view(
    id: &'static str,
    name: &'static str,
    pages: Vec<Dim>,
    rows: Vec<Dim>,
    columns: Vec<Dim>,
    cell: CellFn,
) -> View {
    View { id, name, module_id: id, is_default: true, stored: false, pages, rows, columns, cell }
}

/// The default view of REV10 Sales Input, the writable module (`model_data`): Versions on
/// pages, Products × Regions on rows, the twelve months × the module's line items on
/// columns, the cells being what module writes stored (a line item with fewer dimensions
/// shows its value on every cell of the dimensions it lacks). Items added to the lists
/// later are not on its axes: it shows the seeded items.
fn sales_input() -> View {
    let mut v = view(
        MODULE_SALES_INPUT_ID,
        MODULE_SALES_INPUT_NAME,
        vec![versions()],
        vec![products(), regions()],
        vec![
            Dim::named(DIM_TIME_ID, DIM_TIME_NAME, &MONTHS_26, 300_000_000_001),
            line_items(&SALES_INPUT_LINE_ITEMS, 206_000_000_001),
        ],
        |_, _, _| String::new(),
    );
    v.stored = true;
    v
}

/// Builds the fixed data set described in `seed`.
pub fn catalog() -> Catalog {
    let workspaces = vec![
        Workspace { id: WS_FPA_ID, name: WS_FPA_NAME, size_allowance: 10_737_418_240, current_size: 1_288_490_188 },
        Workspace { id: WS_SALES_ID, name: WS_SALES_NAME, size_allowance: 5_368_709_120, current_size: 536_870_912 },
    ];

    let mut saved = view(
        VIEW_SAVED_NOTES_ID,
        VIEW_SAVED_NOTES_NAME,
        vec![versions()],
        vec![products()],
        vec![line_items(&["Notes"], 401_000_000_002)],
        |p, r, _| price_book_note(p[0], r[0], 0, 0),
    );
    saved.module_id = VIEW_PRICE_BOOK_ID;
    saved.is_default = false;

    let revenue_views = vec![
        view(
            VIEW_PRICE_BOOK_ID,
            VIEW_PRICE_BOOK_NAME,
            vec![versions()],
            vec![products(), regions()],
            vec![months(), line_items(&PRICE_BOOK_LINE_ITEMS, 401_000_000_001)],
            |p, r, c| match c[1] {
                0 => price_book_price(p[0], r[0], r[1], c[0]),
                _ => price_book_note(p[0], r[0], r[1], c[0]),
            },
        ),
        view(
            VIEW_BIG_GRID_ID,
            VIEW_BIG_GRID_NAME,
            vec![],
            vec![Dim {
                id: DIM_CUSTOMERS_ID,
                name: DIM_CUSTOMERS_NAME,
                items: Items::Numbered {
                    count: AtomicUsize::new(BIG_GRID_ROWS),
                    first_id: 210_000_000_001,
                    label: customer_name,
                },
            }],
            vec![Dim {
                id: DIM_TIME_ID,
                name: DIM_TIME_NAME,
                items: Items::Numbered {
                    count: AtomicUsize::new(BIG_GRID_COLUMNS),
                    first_id: 300_000_100_001,
                    label: month_name,
                },
            }],
            |_, r, c| big_grid_cell(r[0], c[0]),
        ),
        view(
            VIEW_REGIONS_ID,
            VIEW_REGIONS_NAME,
            vec![],
            vec![regions()],
            vec![line_items(&["Units", "Revenue"], 401_000_000_010)],
            |_, r, c| match c[0] {
                0 => (120 + 35 * r[0]).to_string(),
                _ => format_hundredths(1_234_550 + 98_765 * r[0] as i64),
            },
        ),
        view(
            VIEW_DUPLICATE_1_ID,
            VIEW_DUPLICATE_NAME,
            vec![],
            vec![products()],
            vec![line_items(&["Amount"], 401_000_000_020)],
            |_, r, _| (r[0] + 1).to_string(),
        ),
        view(
            VIEW_DUPLICATE_2_ID,
            VIEW_DUPLICATE_NAME,
            vec![],
            vec![regions()],
            vec![line_items(&["Amount"], 401_000_000_021)],
            |_, r, _| ((r[0] + 1) * 100).to_string(),
        ),
        saved,
        sales_input(),
    ];

    let staff = view(
        VIEW_STAFF_ID,
        VIEW_STAFF_NAME,
        vec![versions(), departments()],
        vec![Dim::named(DIM_EMPLOYEES_ID, DIM_EMPLOYEES_NAME, &EMPLOYEES, 220_000_000_001)],
        vec![line_items(&["FTE", "Salary"], 401_000_000_101)],
        |p, r, c| match c[0] {
            0 => format_hundredths(100 - 25 * ((r[0] + p[1]) % 3) as i64),
            _ => format_hundredths(8_500_000 + 250_000 * r[0] as i64 + 100_000 * p[0] as i64 + 50_000 * p[1] as i64),
        },
    );

    let forecast =
        |cell: CellFn| vec![view(VIEW_FORECAST_ID, VIEW_FORECAST_NAME, vec![], vec![regions()], vec![months()], cell)];

    let modules_of = |views: &[View]| -> Vec<(&'static str, &'static str)> {
        views.iter().filter(|v| v.is_default).map(|v| (v.module_id, v.name)).collect()
    };

    let mut models = vec![
        (MODEL_REVENUE_ID, MODEL_REVENUE_NAME, WS_FPA_ID, "UNLOCKED", revenue_views),
        (MODEL_HEADCOUNT_ID, MODEL_HEADCOUNT_NAME, WS_FPA_ID, "PRODUCTION", vec![staff]),
        (
            MODEL_FORECAST_1_ID,
            MODEL_FORECAST_NAME,
            WS_SALES_ID,
            "UNLOCKED",
            forecast(|_, r, c| (10 * (r[0] + 1) + c[0]).to_string()),
        ),
        (
            MODEL_FORECAST_2_ID,
            MODEL_FORECAST_NAME,
            WS_SALES_ID,
            "UNLOCKED",
            forecast(|_, r, c| (20 * (r[0] + 1) + c[0]).to_string()),
        ),
        (MODEL_LOCKED_ID, MODEL_LOCKED_NAME, WS_FPA_ID, "LOCKED", vec![]),
        (MODEL_ARCHIVED_ID, MODEL_ARCHIVED_NAME, WS_FPA_ID, "ARCHIVED", vec![]),
        (MODEL_DEV_ID, MODEL_DEV_NAME, WS_SALES_ID, "UNLOCKED", vec![]),
        (MODEL_PROD_ID, MODEL_PROD_NAME, WS_SALES_ID, "PRODUCTION", vec![]),
    ];
    let models = models
        .drain(..)
        .map(|(id, name, workspace_id, active_state, views)| Model {
            id,
            name,
            workspace_id,
            active_state,
            modules: modules_of(&views),
            views,
            dashboards: dashboards_of(id),
            bulk: bulk::for_model(id),
        })
        .collect();

    Catalog { workspaces, models }
}

/// The seeded dashboards: Revenue Plan's two, the month-end pages of the demo story; the
/// other models have none (Anaplan then omits the `dashboards` key).
fn dashboards_of(model_id: &str) -> Vec<(&'static str, &'static str)> {
    match model_id {
        MODEL_REVENUE_ID => vec![("115000000001", "Revenue Overview"), ("115000000002", "Month-End Close")],
        _ => vec![],
    }
}
