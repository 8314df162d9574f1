//! What the emulator's tests share: raw HTTP against a running emulator with a real token
//! ([`emulator_api`]), and the live-tested description's operations and answer shapes, by
//! hand ([`operations`], [`shapes`]). The app's tests include [`emulator_api`] and
//! [`operations`] too (by path), for their own conformance and strictness checks.
#![allow(dead_code)]

pub mod emulator_api;
pub mod operations;
pub mod shapes;
