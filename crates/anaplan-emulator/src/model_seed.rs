//! The seed of the transactional API (modules, line items, lists): ids, names and item
//! sets of Revenue Plan's writable module and its lists, re-exported by `seed`.
//!
//! Id formats follow the reference: lists `101…`, modules `102…`, line items `206…`,
//! list items (and Time periods) other 12-digit numbers. All in Revenue Plan.

/// Module "REV10 Sales Input": the writable module (see `LINE_*`).
pub const MODULE_SALES_INPUT_ID: &str = "102000000020";
pub const MODULE_SALES_INPUT_NAME: &str = "REV10 Sales Input";

/// Line items of REV10 Sales Input, with their format and dimensions:
/// Units (number; Products, Regions, Time, Versions).
pub const LINE_UNITS_ID: &str = "206000000001";
pub const LINE_UNITS_NAME: &str = "Units";
/// Price (number; Products, Time, Versions).
pub const LINE_PRICE_ID: &str = "206000000002";
pub const LINE_PRICE_NAME: &str = "Price";
/// Comment (text; Products, Regions).
pub const LINE_COMMENT_ID: &str = "206000000003";
pub const LINE_COMMENT_NAME: &str = "Comment";
/// Active (boolean; Products).
pub const LINE_ACTIVE_ID: &str = "206000000004";
pub const LINE_ACTIVE_NAME: &str = "Active";
/// Launch Date (date; Products).
pub const LINE_LAUNCH_DATE_ID: &str = "206000000005";
pub const LINE_LAUNCH_DATE_NAME: &str = "Launch Date";
/// Lead Region (list-formatted: Regions; Products).
pub const LINE_LEAD_REGION_ID: &str = "206000000006";
pub const LINE_LEAD_REGION_NAME: &str = "Lead Region";
/// Total Units (number; Products): calculated by a formula, so never writable.
pub const LINE_TOTAL_UNITS_ID: &str = "206000000007";
pub const LINE_TOTAL_UNITS_NAME: &str = "Total Units";

/// The line items of REV10 Sales Input in module order: the columns of its default view.
pub const SALES_INPUT_LINE_ITEMS: [&str; 7] = [
    LINE_UNITS_NAME,
    LINE_PRICE_NAME,
    LINE_COMMENT_NAME,
    LINE_ACTIVE_NAME,
    LINE_LAUNCH_DATE_NAME,
    LINE_LEAD_REGION_NAME,
    LINE_TOTAL_UNITS_NAME,
];

/// List "Cost Centres": starts with [`COST_CENTRES`], has property `Owner` and subset
/// `Active`; the list the list-items tests change.
pub const LIST_COST_CENTRES_ID: &str = "101000000050";
pub const LIST_COST_CENTRES_NAME: &str = "Cost Centres";
/// (code, name, owner) of the seeded Cost Centres items; ids from 209000000001.
pub const COST_CENTRES: [(&str, &str, &str); 3] =
    [("CC100", "Finance Ops", "Ada"), ("CC200", "Engineering", "Grace"), ("CC300", "Sales", "Alan")];
/// Parent item of every seeded Cost Centre (code `TOTAL`, id 209000000000).
pub const COST_CENTRES_TOP_NAME: &str = "All Cost Centres";

/// List "Retired Codes": no items, only its top level item [`RETIRED_CODES_TOP_NAME`] (id
/// 211000000000), so its metadata reports `itemCount` 1 and its index can be reset
/// (`POST …/lists/{l}/resetIndex`); the next item added after a reset gets id 211000000001.
pub const LIST_RETIRED_CODES_ID: &str = "101000000070";
pub const LIST_RETIRED_CODES_NAME: &str = "Retired Codes";
pub const RETIRED_CODES_TOP_NAME: &str = "All Retired Codes";

/// List "Transactions": [`TRANSACTIONS_COUNT`] items generated on demand (never held in
/// memory), above the direct-read limit, so it is read through a large list read.
/// Item `i` (0-based) has id `250000000001 + i`, name and code [`transaction_code`].
/// Read-only in the emulator.
pub const LIST_TRANSACTIONS_ID: &str = "101000000060";
pub const LIST_TRANSACTIONS_NAME: &str = "Transactions";
pub const TRANSACTIONS_COUNT: usize = 1_000_050;
/// Items per page of a large list read.
pub const LIST_READ_PAGE_ITEMS: usize = 250_000;

/// Codes of the Products list items (names are `PRODUCTS`), ids 201000000001…; the
/// list's top level is "All Products" (id 201000000000), an aggregate.
pub const PRODUCT_CODES: [&str; 3] = ["P001", "P002", "P003"];
/// Codes of the Regions list items (names are `REGIONS`), ids 203000000001…; top level
/// "All Regions" (id 203000000000).
pub const REGION_CODES: [&str; 2] = ["R01", "R02"];

/// Time periods of the writable module: "Jan 26".."Dec 26" (ids 300000000001…), and the
/// aggregate "FY26" (id 300000000100), which refuses writes.
pub const MONTHS_26: [&str; 12] = [
    "Jan 26", "Feb 26", "Mar 26", "Apr 26", "May 26", "Jun 26", "Jul 26", "Aug 26", "Sep 26", "Oct 26", "Nov 26",
    "Dec 26",
];
pub const FY26_ID: &str = "300000000100";
pub const FY26_NAME: &str = "FY26";

/// The code (and name) of Transactions item `i` (0-based): "T0000001"…
pub fn transaction_code(i: usize) -> String {
    format!("T{:07}", i + 1)
}
