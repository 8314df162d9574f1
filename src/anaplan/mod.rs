//! An Anaplan client that knows nothing of Azure: typed ids, access tokens (OAuth refresh
//! with rotation, legacy basic, or a caller's own token), the Integration API with retries,
//! listings and name resolution, and view reads.

pub mod audit;
pub mod auth;
pub mod catalog;
pub mod client;
pub mod cloudworks;
pub mod error;
pub mod files;
pub mod ids;
pub mod model_data;
pub mod names;
pub mod regions;
pub mod scim;
pub mod scim_filter;
pub mod tasks;
pub mod token_file;
pub mod views;

pub use auth::Credentials;
pub use catalog::{Catalog, Found, Listing, Named};
pub use client::{ApiRequest, Client, RetryPolicy};
pub use error::{AnaplanError, AuthError};
