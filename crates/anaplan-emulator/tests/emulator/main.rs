//! The emulator's own tests: it refuses what Anaplan refuses, in Anaplan's error shapes
//! ([`api`], one module per API family), and it answers every operation as the
//! live-tested description of Anaplan's APIs documents it ([`conformance`]). Raw HTTP with
//! a real token, no client of ours in between.

#[path = "../support/mod.rs"]
mod support;

mod admin;
mod alm;
mod api;
mod calendar;
mod cloudworks;
mod conformance;
mod model_data;
mod model_state;
mod other_actions;
mod scim_audit;
mod transfers;
mod versions;
mod workspace_access;
