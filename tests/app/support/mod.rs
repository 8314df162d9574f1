//! Stand-ins for what is not here (Anaplan itself is the library's emulator): test certificates, Key Vault (over real TLS) and the
//! managed-identity endpoint it trusts, the Functions host (a harness that drives the staged
//! app as the host does), and the glue that starts them.
#![allow(dead_code)]

pub mod app;
pub mod certs;
#[path = "../../../crates/anaplan-emulator/tests/support/emulator_api.rs"]
pub mod emulator_api;
pub mod fake_identity;
pub mod fake_key_vault;
pub mod host;
pub mod memory;
#[path = "../../../crates/anaplan-emulator/tests/support/operations.rs"]
pub mod operations;
#[path = "../../../crates/anaplan-emulator/tests/support/shapes.rs"]
pub mod shapes;
