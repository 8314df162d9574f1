//! The demo tenant's CloudWorks: integrations (import, export, process), integration
//! flows and Azure Blob connections, with 32-lowercase-hex ids as CloudWorks uses. They sit
//! in workspace FP&A Planning, model Revenue Plan (see [`super::seed`]).

use std::time::Duration;

/// Import integration "Load Sales from Blob" (Azure Blob to Anaplan): succeeds.
pub const INTEGRATION_IMPORT_ID: &str = "c10d0000000000000000000000000001";
pub const INTEGRATION_IMPORT_NAME: &str = "Load Sales from Blob";
/// Export integration "Publish Revenue to Blob" (Anaplan to Azure Blob): succeeds.
pub const INTEGRATION_EXPORT_ID: &str = "c10d0000000000000000000000000002";
pub const INTEGRATION_EXPORT_NAME: &str = "Publish Revenue to Blob";
/// Process integration "Nightly Blob Process" (process Nightly Load): succeeds.
pub const INTEGRATION_PROCESS_ID: &str = "c10d0000000000000000000000000003";
pub const INTEGRATION_PROCESS_NAME: &str = "Nightly Blob Process";
/// Process integration "Broken Blob Load" (process Broken Load): ends without success,
/// its import step [`BROKEN_ACTION_ID`] failing with a dump ([`broken_dump`]).
pub const INTEGRATION_BROKEN_ID: &str = "c10d0000000000000000000000000004";
pub const INTEGRATION_BROKEN_NAME: &str = "Broken Blob Load";
/// Two integrations both named "Duplicate Blob Job" (ambiguity tests).
pub const INTEGRATION_DUPLICATE_1_ID: &str = "c10d0000000000000000000000000005";
pub const INTEGRATION_DUPLICATE_2_ID: &str = "c10d0000000000000000000000000006";
pub const INTEGRATION_DUPLICATE_NAME: &str = "Duplicate Blob Job";

/// The failing step of Broken Blob Load: import "Load Regions".
pub const BROKEN_ACTION_ID: &str = "112000000002";
pub const BROKEN_ACTION_NAME: &str = "Load Regions";
/// The message of each failed row of Broken Blob Load.
pub const BROKEN_MESSAGE: &str = "Invalid Region code in row 3: 'Atlantis' is not in list Regions";

/// The integration with a schedule in the seed: Nightly Blob Process, weekly on weekdays
/// at 02:00 Europe/London, Active. Every other integration has none.
pub const SCHEDULED_INTEGRATION_ID: &str = INTEGRATION_PROCESS_ID;
/// The name of that schedule.
pub const SCHEDULE_NIGHTLY_NAME: &str = "Weeknights at 02:00";

/// Integration flow "Nightly Flow": Load Sales from Blob, then Nightly Blob Process.
pub const FLOW_NIGHTLY_ID: &str = "f10e0000000000000000000000000001";
pub const FLOW_NIGHTLY_NAME: &str = "Nightly Flow";
/// Integration flow "Broken Flow": Load Sales from Blob, then Broken Blob Load (fails).
pub const FLOW_BROKEN_ID: &str = "f10e0000000000000000000000000002";
pub const FLOW_BROKEN_NAME: &str = "Broken Flow";

/// Azure Blob connection "Sales Blob": account `devstoreaccount1` (Azurite's, so the
/// emulator checks SAS signatures with Azurite's published key), container `cloudworks-sales`.
pub const CONNECTION_SALES_ID: &str = "c0aa0000000000000000000000000001";
pub const CONNECTION_SALES_NAME: &str = "Sales Blob";
/// Azure Blob connection "Finance Blob": account `devstoreaccount1`, container `cloudworks-finance`.
pub const CONNECTION_FINANCE_ID: &str = "c0aa0000000000000000000000000002";
pub const CONNECTION_FINANCE_NAME: &str = "Finance Blob";
/// Azure Blob connection "Partner Blob": account `partnerstorage`, whose key nobody here
/// has, so renewing its SAS locally fails.
pub const CONNECTION_PARTNER_ID: &str = "c0aa0000000000000000000000000003";
pub const CONNECTION_PARTNER_NAME: &str = "Partner Blob";
/// The storage account of Sales Blob and Finance Blob.
pub const CONNECTION_ACCOUNT: &str = "devstoreaccount1";
/// The storage account of Partner Blob.
pub const PARTNER_ACCOUNT: &str = "partnerstorage";

/// Azurite's (and the storage emulator's) published account key, with which the
/// emulator verifies account-SAS signatures for [`CONNECTION_ACCOUNT`].
pub const DEV_ACCOUNT_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// How long a CloudWorks run takes by default (`set_cloudworks_run_time` changes it).
pub const CLOUDWORKS_RUN_TIME: Duration = Duration::from_secs(2);

/// The whole failure dump of Broken Blob Load's failing step.
pub fn broken_dump() -> String {
    format!(
        "Region Code,Region Name,_Line_,_Error_1_\nEMEA,Europe,2,\nATL,Atlantis,3,\"{BROKEN_MESSAGE}\"\nMARS,Mars,4,\"Invalid Region code in row 4: 'Mars' is not in list Regions\"\n"
    )
}
