//! The demo tenant: ids, names and cell formulas of the emulator's seed, a small tenant
//! that reads like a real one (two workspaces, models with views, processes that succeed
//! and fail with dumps, exports of one to eleven chunks, imports with failing rows). The
//! README's "The demo tenant" tables list the same objects; tests name them through these
//! constants and compute expected cell values with these functions.
//!
//! Id formats follow the reference (§7): workspace ids are 32 lowercase hex,
//! model ids 32 UPPERCASE hex (both case-sensitive), modules/views `102…`,
//! lists `101…`, Time `20000000003`, Versions `20000000020`, imports `112…`,
//! files `113…`, exports (and their output files) `116…`, processes `118…`.

use std::time::Duration;

// Modules, line items and lists of the transactional API.
pub use super::model_seed::*;

/// Workspace "FP&A Planning".
pub const WS_FPA_ID: &str = "8a81b09d599f3c6e0159f605560c2630";
pub const WS_FPA_NAME: &str = "FP&A Planning";
/// Workspace "Sales Ops".
pub const WS_SALES_ID: &str = "8a81b09d599f3c6e0159f605560c2631";
pub const WS_SALES_NAME: &str = "Sales Ops";

/// Model "Revenue Plan" (in FP&A Planning).
pub const MODEL_REVENUE_ID: &str = "75A40874E6B64FA3AE0743278996850F";
pub const MODEL_REVENUE_NAME: &str = "Revenue Plan";
/// Model "Headcount Plan" (in FP&A Planning).
pub const MODEL_HEADCOUNT_ID: &str = "75A40874E6B64FA3AE0743278996850E";
pub const MODEL_HEADCOUNT_NAME: &str = "Headcount Plan";
/// Two models in Sales Ops that are both named "Forecast" (ambiguity tests).
pub const MODEL_FORECAST_1_ID: &str = "75A40874E6B64FA3AE074327899685A1";
pub const MODEL_FORECAST_2_ID: &str = "75A40874E6B64FA3AE074327899685A2";
pub const MODEL_FORECAST_NAME: &str = "Forecast";
/// Model "Locked Model" (FP&A Planning, `activeState` LOCKED): task starts answer 423.
pub const MODEL_LOCKED_ID: &str = "75A40874E6B64FA3AE07432789968510";
pub const MODEL_LOCKED_NAME: &str = "Locked Model";
/// Model "Archived Model" (FP&A Planning, `activeState` ARCHIVED): task starts answer 422.
pub const MODEL_ARCHIVED_ID: &str = "75A40874E6B64FA3AE07432789968511";
pub const MODEL_ARCHIVED_NAME: &str = "Archived Model";
/// Model "Pipeline DEV" (Sales Ops, standard mode): where the ALM revisions are created.
pub const MODEL_DEV_ID: &str = "75A40874E6B64FA3AE07432789968520";
pub const MODEL_DEV_NAME: &str = "Pipeline DEV";
/// Model "Pipeline PROD" (Sales Ops, `activeState` PRODUCTION: deployed): synced from DEV.
pub const MODEL_PROD_ID: &str = "75A40874E6B64FA3AE07432789968521";
pub const MODEL_PROD_NAME: &str = "Pipeline PROD";
/// Revision "2026.1 Launch" of Pipeline DEV, applied to Pipeline PROD (its latest).
pub const REVISION_LAUNCH_ID: &str = "A1B2C3D4E5F6A1B2C3D4E5F6A1B2C301";
pub const REVISION_LAUNCH_NAME: &str = "2026.1 Launch";
/// Revision "2026.2 Territories" of Pipeline DEV: not yet in PROD, syncable into it.
pub const REVISION_TERRITORIES_ID: &str = "A1B2C3D4E5F6A1B2C3D4E5F6A1B2C302";
pub const REVISION_TERRITORIES_NAME: &str = "2026.2 Territories";

/// Revenue Plan views. Each default view has the id and name of its module.
pub const VIEW_PRICE_BOOK_ID: &str = "102000000001";
pub const VIEW_PRICE_BOOK_NAME: &str = "REV01 Price Book";
/// 2001 rows × 500 columns = 1,000,500 cells: over the direct-read limit.
pub const VIEW_BIG_GRID_ID: &str = "102000000002";
pub const VIEW_BIG_GRID_NAME: &str = "REV02 Big Grid";
pub const VIEW_REGIONS_ID: &str = "102000000003";
pub const VIEW_REGIONS_NAME: &str = "REV03 Regions";
/// Two default views sharing one name (ambiguity tests).
pub const VIEW_DUPLICATE_1_ID: &str = "102000000004";
pub const VIEW_DUPLICATE_2_ID: &str = "102000000005";
pub const VIEW_DUPLICATE_NAME: &str = "REV04 Duplicate";
/// A saved (subsidiary) view of module REV01: listed by `GET /models/{m}/views`
/// only with `includesubsidiaryviews=true`, but readable by id at any time.
pub const VIEW_SAVED_NOTES_ID: &str = "102000000011";
pub const VIEW_SAVED_NOTES_NAME: &str = "REV01 Notes Review";
/// Headcount Plan's only view; it has TWO page dimensions (Versions, Departments).
pub const VIEW_STAFF_ID: &str = "102000000101";
pub const VIEW_STAFF_NAME: &str = "HC01 Staff";
/// The one view of each Forecast model (same id and name in both; values differ).
pub const VIEW_FORECAST_ID: &str = "102000000201";
pub const VIEW_FORECAST_NAME: &str = "FC01 Forecast";

/// Dimension ids and names.
pub const DIM_PRODUCTS_ID: &str = "101000000000";
pub const DIM_PRODUCTS_NAME: &str = "Products";
pub const DIM_REGIONS_ID: &str = "101000000003";
pub const DIM_REGIONS_NAME: &str = "Regions";
pub const DIM_CUSTOMERS_ID: &str = "101000000010";
pub const DIM_CUSTOMERS_NAME: &str = "Customers";
pub const DIM_EMPLOYEES_ID: &str = "101000000020";
pub const DIM_EMPLOYEES_NAME: &str = "Employees";
pub const DIM_DEPARTMENTS_ID: &str = "101000000030";
pub const DIM_DEPARTMENTS_NAME: &str = "Departments";
pub const DIM_LINE_ITEMS_ID: &str = "101999999999";
pub const DIM_LINE_ITEMS_NAME: &str = "Line items";
pub const DIM_TIME_ID: &str = "20000000003";
pub const DIM_TIME_NAME: &str = "Time";
pub const DIM_VERSIONS_ID: &str = "20000000020";
pub const DIM_VERSIONS_NAME: &str = "Versions";

/// Page items of Versions (usable in `pages=20000000020:107000000001`).
pub const VERSION_ACTUAL_ID: &str = "107000000001";
pub const VERSION_ACTUAL_NAME: &str = "Actual";
pub const VERSION_FORECAST_ID: &str = "107000000002";
pub const VERSION_FORECAST_NAME: &str = "Forecast";
/// Page items of Departments (HC01 Staff's second page dimension).
pub const DEPARTMENT_FINANCE_ID: &str = "108000000001";
pub const DEPARTMENT_FINANCE_NAME: &str = "Finance";
pub const DEPARTMENT_ENGINEERING_ID: &str = "108000000002";
pub const DEPARTMENT_ENGINEERING_NAME: &str = "Engineering";

/// Item names of the small dimensions, in view order.
pub const PRODUCTS: [&str; 3] = ["Widget", "Gadget", "Gizmo, Deluxe"];
pub const REGIONS: [&str; 2] = ["North", "South"];
pub const PRICE_BOOK_MONTHS: [&str; 2] = ["Jan 26", "Feb 26"];
pub const PRICE_BOOK_LINE_ITEMS: [&str; 2] = ["Price", "Notes"];
pub const EMPLOYEES: [&str; 3] = ["Ada Lovelace", "Grace Hopper", "Alan Turing"];

/// Size of REV02 Big Grid.
pub const BIG_GRID_ROWS: usize = 2001;
pub const BIG_GRID_COLUMNS: usize = 500;

/// The user behind every token (`GET /2/0/users/me`, `/token/validate`).
pub const USER_ID: &str = "8a80da9a5fbe1c80015fc1d8d2f10c2f";
pub const USER_EMAIL: &str = "integration@example.com";
pub const USER_FIRST_NAME: &str = "Integration";
pub const USER_LAST_NAME: &str = "User";
/// Tenant (customer) guid reported by `/token/validate`.
pub const CUSTOMER_ID: &str = "8a80db8a5fbe1c80015fc1d8d2f10000";

/// Formats hundredths as Anaplan prints numbers: no trailing zeros
/// (`6460` → `"64.6"`, `120000` → `"1200"`, `-325` → `"-3.25"`).
pub fn format_hundredths(v: i64) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    match (a / 100, a % 100) {
        (int, 0) => format!("{sign}{int}"),
        (int, f) if f % 10 == 0 => format!("{sign}{int}.{}", f / 10),
        (int, f) => format!("{sign}{int}.{f:02}"),
    }
}

/// REV01 Price Book "Price" cell. Indexes are positions in [`PRODUCTS`],
/// [`REGIONS`], [`PRICE_BOOK_MONTHS`] and Versions (0 = Actual, 1 = Forecast).
/// Actual/Widget/North/Jan 26 is "64.6"; Gadget there is "1200"; Gizmo "-3.25".
pub fn price_book_price(version: usize, product: usize, region: usize, month: usize) -> String {
    const BASE: [i64; 3] = [6460, 120_000, -325];
    let base = BASE.get(product).copied().unwrap_or(0);
    format_hundredths(base + region as i64 * 500 + month as i64 * 150 + version as i64 * 1000)
}

/// REV01 Price Book "Notes" cell: text, some empty, some needing CSV quoting.
pub fn price_book_note(version: usize, product: usize, region: usize, month: usize) -> String {
    const NOTES: [&str; 5] = ["ok", "check \"A\"", "", "see row 2, col 3", "two\nlines"];
    NOTES[(version + product + 2 * region + month) % NOTES.len()].to_string()
}

/// REV02 Big Grid cell for customer index `row` (0-based) and month `col`.
pub fn big_grid_cell(row: usize, col: usize) -> String {
    let v = (row as i64 * 7919 + col as i64 * 104_729) % 1_000_000 - 250_000;
    format_hundredths(v)
}

/// Name of Big Grid customer `i` (0-based): "Customer 0001".."Customer 2001".
pub fn customer_name(i: usize) -> String {
    format!("Customer {:04}", i + 1)
}

/// Name of Big Grid month `i` (0-based): "M001".."M500".
pub fn month_name(i: usize) -> String {
    format!("M{:03}", i + 1)
}

// ---------------------------------------------------------------- bulk actions
// All in Revenue Plan; the locked and archived models hold only Nightly Load (and the
// other action Delete Closed Cost Centres).

/// "Nightly Load": step 1 import Load Products (3 rows), step 2 export Price
/// Export (whose file it produces); succeeds.
pub const PROCESS_NIGHTLY_ID: &str = "118000000001";
pub const PROCESS_NIGHTLY_NAME: &str = "Nightly Load";
/// "Broken Load": step 1 import Load Regions fails ([`BROKEN_LOAD_FAILED_ROWS`]
/// rows, dump [`broken_load_dump`]); step 2 export Price Export still runs and
/// succeeds (row failures are not fatal). The process is `successful: false`.
pub const PROCESS_BROKEN_ID: &str = "118000000002";
pub const PROCESS_BROKEN_NAME: &str = "Broken Load";
/// "Stale Dump": one failing import step whose result says
/// `failureDumpAvailable: true` but whose dump is already gone (404).
pub const PROCESS_STALE_DUMP_ID: &str = "118000000003";
pub const PROCESS_STALE_DUMP_NAME: &str = "Stale Dump";
/// "Slow Process": the steps of Nightly Load, running [`SLOW_PROCESS_RUN`].
pub const PROCESS_SLOW_ID: &str = "118000000004";
pub const PROCESS_SLOW_NAME: &str = "Slow Process";

/// "Optimize Supply Plan": step 1 import Load Products (3 rows), step 2 the Optimizer action
/// Supply Plan Optimizer, which finds no feasible solution; the process is
/// `successful: false`, without a failure dump, and Anaplan keeps the solver's log
/// ([`SUPPLY_PLAN_SOLVER_LOG`]) for its task.
pub const PROCESS_OPTIMIZE_ID: &str = "118000000005";
pub const PROCESS_OPTIMIZE_NAME: &str = "Optimize Supply Plan";

/// "Delete Closed Cost Centres": an other action (delete from a list using a selection)
/// that succeeds.
pub const ACTION_DELETE_CLOSED_ID: &str = "117000000001";
pub const ACTION_DELETE_CLOSED_NAME: &str = "Delete Closed Cost Centres";
/// "Delete Locked Regions": an other action that fails (`successful: false`, one detail).
pub const ACTION_DELETE_LOCKED_ID: &str = "117000000002";
pub const ACTION_DELETE_LOCKED_NAME: &str = "Delete Locked Regions";
/// What Delete Locked Regions' result says.
pub const ACTION_DELETE_LOCKED_MESSAGE: &str =
    "Regions selected for deletion are used by other lists and cannot be deleted";

/// "Supply Plan Optimizer": an other action of `actionType` `OPTIMIZER`, a step of
/// Optimize Supply Plan; every run finds no feasible solution (`successful: false`, one detail).
pub const ACTION_OPTIMIZER_ID: &str = "117000000003";
pub const ACTION_OPTIMIZER_NAME: &str = "Supply Plan Optimizer";
/// What Supply Plan Optimizer's result says.
pub const ACTION_OPTIMIZER_MESSAGE: &str = "Optimizer found no feasible solution: the model is infeasible";
/// The solver log of a run of Optimize Supply Plan (`GET …/optimizeActions/{actionId}/tasks/{correlationId}/solutionLogs`).
pub const SUPPLY_PLAN_SOLVER_LOG: &str = "\
Non-default parameters:
TimeLimit  299
MemLimit  105
LogToConsole  0
Threads  4

Optimize a model with 6 rows, 9 columns and 18 nonzeros (Min)
Model fingerprint: 0x5be2a1c4
Variable types: 0 continuous, 9 integer (0 binary)
Coefficient statistics:
  Matrix range     [1e+00, 5e+01]
  Objective range  [1e+02, 5e+03]
  Bounds range     [0e+00, 0e+00]
  RHS range        [1e+02, 2e+03]
Presolve time: 0.00s
Presolve: All rows and columns removed

Explored 0 nodes (0 simplex iterations) in 0.00 seconds (0.00 work units)
Thread count was 1 (of 4 available processors)

Solution count 0

Model is infeasible
Best objective -, best bound -, gap -
";

/// Rows of Broken Load's import step: successful, failed (in the dump).
pub const BROKEN_LOAD_OK_ROWS: usize = 12;
pub const BROKEN_LOAD_FAILED_ROWS: usize = 40;
/// Failed rows Stale Dump reports.
pub const STALE_DUMP_FAILED_ROWS: usize = 7;

/// Export "Price Export.csv" (text/csv, one chunk): Actual prices of REV01.
pub const EXPORT_PRICE_ID: &str = "116000000001";
pub const EXPORT_PRICE_NAME: &str = "Price Export.csv";
pub const PRICE_EXPORT_HEADERS: [&str; 4] = ["Product", "Region", "Month", "Price"];
/// Export "Empty Export.csv": its file has 0 chunks.
pub const EXPORT_EMPTY_ID: &str = "116000000002";
pub const EXPORT_EMPTY_NAME: &str = "Empty Export.csv";
/// Export "Big Export.csv": 13 chunks of 8 KiB (the last one shorter), rows cut mid-line.
pub const EXPORT_BIG_ID: &str = "116000000003";
pub const EXPORT_BIG_NAME: &str = "Big Export.csv";
pub const BIG_EXPORT_CHUNK_SIZE: usize = 8 * 1024;
pub const BIG_EXPORT_CHUNKS: usize = 13;
/// Export "Huge Export.txt" (text/plain, tab-separated): exactly 11 chunks of 10 MiB.
pub const EXPORT_HUGE_ID: &str = "116000000004";
pub const EXPORT_HUGE_NAME: &str = "Huge Export.txt";
pub const HUGE_EXPORT_CHUNK_SIZE: usize = 10 * 1024 * 1024;
pub const HUGE_EXPORT_CHUNKS: usize = 11;
/// Export "Sized Export.txt" (text/plain, tab-separated, 64-byte lines, 10 MiB chunks): its
/// size is set per emulator (`Emulator::set_sized_export_bytes`, default 64 MiB), for
/// transfer benchmarks; see `sized_export.rs`.
pub const EXPORT_SIZED_ID: &str = "116000000005";
pub const EXPORT_SIZED_NAME: &str = "Sized Export.txt";
/// Chunk size of the other exports (Anaplan's 10 MB).
pub const EXPORT_CHUNK_SIZE: usize = 10 * 1024 * 1024;

/// Import "Load Products" (HIERARCHY_DATA into Products) from [`FILE_PRODUCTS_ID`].
pub const IMPORT_PRODUCTS_ID: &str = "112000000001";
pub const IMPORT_PRODUCTS_NAME: &str = "Load Products";
/// Import "Load Regions" (HIERARCHY_DATA into Regions) from [`FILE_REGIONS_ID`].
pub const IMPORT_REGIONS_ID: &str = "112000000002";
pub const IMPORT_REGIONS_NAME: &str = "Load Regions";
/// Import source files and the content they hold before any upload.
pub const FILE_PRODUCTS_ID: &str = "113000000001";
pub const FILE_PRODUCTS_NAME: &str = "Products.csv";
pub const PRODUCTS_FILE_INITIAL: &str = "Code,Name\nP001,Widget\nP002,Gadget\nP003,\"Gizmo, Deluxe\"\n";
pub const FILE_REGIONS_ID: &str = "113000000002";
pub const FILE_REGIONS_NAME: &str = "Regions.csv";
pub const REGIONS_FILE_INITIAL: &str = "Code,Name\nR01,North\nR02,South\n";

/// Default time a new task stays NOT_STARTED, then IN_PROGRESS (see
/// `Emulator::set_action_timing`).
pub const DEFAULT_QUEUE: Duration = Duration::from_millis(300);
pub const DEFAULT_RUN: Duration = Duration::from_millis(1500);
/// Run time of Slow Process.
pub const SLOW_PROCESS_RUN: Duration = Duration::from_secs(30);

/// Number of chunks of an export's output file (`None` for an unknown export).
pub fn export_chunk_count(export_id: &str) -> Option<usize> {
    super::bulk::export(export_id).map(|e| e.chunk_count())
}

/// Total size in bytes of an export's output file.
pub fn export_len(export_id: &str) -> Option<usize> {
    super::bulk::export(export_id).map(|e| e.len())
}

/// Exact bytes of chunk `n` of an export's output file, as the emulator serves
/// them (`None` past the last chunk or for an unknown export).
pub fn export_chunk(export_id: &str, n: usize) -> Option<Vec<u8>> {
    super::bulk::export(export_id)?.chunk(n)
}

/// The whole dump of Broken Load's failing step (object [`IMPORT_REGIONS_ID`]):
/// header `_Line_,Code,Name,_Error_1_`, then one line per failed row.
pub fn broken_load_dump() -> String {
    let def = super::bulk::import(IMPORT_REGIONS_ID).expect("Load Regions is in the data set");
    String::from_utf8_lossy(&super::results::scripted_dump(def, BROKEN_LOAD_OK_ROWS, BROKEN_LOAD_FAILED_ROWS))
        .into_owned()
}

/// The sized export's lines and chunks, for checking what a transfer delivered.
pub use super::sized_export::{
    SIZED_EXPORT_DEFAULT_BYTES, SIZED_EXPORT_HEADER, SIZED_EXPORT_LINE, sized_export_chunk, sized_export_chunk_count,
    sized_row,
};

// SCIM users and audit events: see `seed_users.rs`.
/// The administration APIs' seed and limits (`admin.rs`).
pub use super::admin::{EXCEPTION_USER_SEED, LICENSES, USER_IMPORT_MAX_ROWS};
pub use super::seed_users::*;
