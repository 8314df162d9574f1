//! The app's black-box tests, in one test binary (each binary links the whole app, which
//! was most of a test run's time): the staged function app driven through a stand-in for
//! the Functions host ([`support::host`]) against the Anaplan emulator, the command line as
//! a user runs it, the deployment files, and the properties of what the app parses. One
//! module per function or concern; `support` holds the stand-ins they share.
//!
//! Run one module with a filter: `cargo test --test app list_items::`.

mod support;

mod access_review;
mod anaplan_sdk;
mod audit_events;
mod auth_commands;
mod cert_auth;
mod cli;
mod cloudworks;
mod conformance;
mod connector_variants;
mod credentials;
mod demo;
mod describe;
mod dimension_items;
mod emulator_command;
mod exception_users;
mod export_file;
mod faults;
mod faults_auth;
mod get_view_data;
mod health;
mod host_contract;
mod import_file;
mod infra;
mod keep_signed_in;
mod list_items;
mod list_objects;
mod list_objects_data;
mod model_calendar;
mod model_state;
mod oauth_connector;
mod onboard;
mod onboard_browser;
mod properties_bodies;
mod properties_params;
mod properties_records;
mod refresh_cloudworks_sas;
mod request_bodies;
mod revisions;
mod run_action;
mod run_integration;
mod run_process;
mod storage_azurite;
mod sync_model;
mod tenant_users;
mod tokens;
mod transfer_budget;
mod transfers;
mod untrusted_echo;
mod users;
mod versions;
mod write_cells;
