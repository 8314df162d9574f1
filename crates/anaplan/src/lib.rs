//! An Anaplan client that knows nothing of Azure: typed ids, access tokens (OAuth refresh
//! with rotation, legacy basic, or a caller's own token), the Integration API with retries,
//! listings and name resolution, view reads, model data, model calendars, CloudWorks, SCIM
//! and audit.
//!
//! The crate has no Azure, no HTTP server and no app settings in it: the function app
//! (`anaplan-functions`) builds a [`Client`] from its settings and maps [`AnaplanError`] to
//! its answers. [`secret::Secret`] keeps credentials out of logs and [`untrusted`] quotes
//! text from outside in errors, here and in the app.

pub mod access;
pub mod admin;
pub mod alm;
pub mod audit;
pub mod auth;
pub mod calendar;
pub mod catalog;
pub mod client;
pub mod cloudworks;
pub mod error;
pub mod files;
pub mod ids;
pub mod model_data;
pub mod model_state;
pub mod names;
pub mod optimizer;
pub mod regions;
pub mod scim;
pub mod scim_filter;
pub mod secret;
pub mod tasks;
pub mod token_file;
pub mod untrusted;
pub mod versions;
pub mod views;

pub use auth::Credentials;
pub use catalog::{Catalog, Found, Listing, Named};
pub use client::{ApiRequest, Client, RetryPolicy};
pub use error::{AnaplanError, AuthError};
