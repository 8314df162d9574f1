//! anaplan-functions: an Azure Functions custom handler that gives Logic Apps (and anything
//! else that speaks HTTP) a typed, safe set of Anaplan actions.
//!
//! How the pieces fit:
//! - [`config`]: settings from the environment, validated once at start; a bad one stops
//!   `serve` with one line naming it.
//! - [`anaplan`]: an Anaplan client that knows nothing of Azure: typed ids, tokens (OAuth
//!   refresh with rotation, legacy basic, the caller's own), retries, listings, views.
//! - [`http`]: what every function shares: the request ([`http::Call`]), parameters and
//!   their declared shape, problem+json errors (the one mapping of Anaplan and storage
//!   errors to statuses), the asynchronous pattern and idempotency. It knows no function.
//! - [`functions`]: one file per function folder (`get-view-data`, ...), each with its
//!   declaration, from which come the router, `function.json`, the parameter checks and
//!   the connector's Swagger (`openapi`); the long-running ones share `task_call`.
//! - [`local_settings`]: `serve --settings local.settings.json`.
//! - [`listener`]: connections whose malformed-request answers (e.g. 414) are problem+json.
//! - [`startup`], [`shutdown`], [`telemetry`]: serving, stopping, logging.
//! - [`auth_commands`]: `auth login` (device or authorization-code grant) and `auth check`.
//! - [`demo`]: `anaplan-functions demo`, the functions against the emulator.
//! - [`emulator`]: a strict local Anaplan with a seeded demo tenant (`emulator`, `demo`,
//!   and the project's own tests).
//! - [`package`]: stages `dist/functionapp/` for `func start` and deployment.
//! - [`secret`]: the type that keeps secrets out of logs; [`untrusted`]: outside text is
//!   quoted, cut short, in problems and logs.
//! - [`secrets`]: Anaplan credentials in Key Vault, and the blob lease that serialises
//!   refresh-token rotation across instances.
//! - [`storage`]: Azure Blob storage for exports, imports and state shared between
//!   instances (idempotency records, locks): accounts from the settings, JSON records with
//!   ETags, block-by-block writes and streamed reads.

pub mod auth_commands;
pub mod config;
#[cfg(feature = "emulator")]
pub mod demo;
pub mod functions;
pub mod http;
pub mod listener;
pub mod local_settings;
pub mod loopback;
pub mod machinery;
pub mod onboard;
pub mod package;
pub mod secrets;
pub mod shutdown;
pub mod sign_in;
pub mod startup;
pub mod storage;
pub mod telemetry;
