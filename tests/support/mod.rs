//! Stand-ins for what is not here: Anaplan (a strict fake), the Functions host (a harness
//! that drives the staged app as the host does), and the glue that starts both.
#![allow(dead_code)]

pub mod app;
pub mod fake_anaplan;
pub mod host;
