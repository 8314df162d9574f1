//! A well-known third-party client against the emulator: the Python `anaplan-sdk` lists
//! workspaces and models, runs an export and downloads it, runs a process, and logs in
//! again after its token expired (`tests/sdk/anaplan_sdk_check.py` says how it is pointed
//! at the emulator).
//!
//! Needs a Python with anaplan-sdk: `scripts/test.sh` makes one in `.venv-sdk/` and sets
//! `ANAPLAN_SDK_PYTHON`; without that variable this test says it was skipped.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn the_python_anaplan_sdk_works_against_the_emulator() {
    let Some(python) = std::env::var_os("ANAPLAN_SDK_PYTHON") else {
        eprintln!("skipped: ANAPLAN_SDK_PYTHON is not set (scripts/test.sh sets it up)");
        return;
    };
    let state = tempfile::tempdir().unwrap();
    let mut emulator = Command::new(env!("CARGO_BIN_EXE_anaplan-functions"))
        .args(["emulator", "--state-dir"])
        .arg(state.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(emulator.stdout.take().unwrap()).lines();
    let ready = lines.next().expect("a READY line").unwrap();
    let base = ready.strip_prefix("READY ").expect("READY <url>").to_owned();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/anaplan_sdk_check.py");
    let out = Command::new(python).arg(script).arg(&base).arg(state.path().join("credentials.json")).output();
    let _ = emulator.kill();
    let _ = emulator.wait();
    let out = out.expect("python runs");
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the SDK checks failed:\n{said}");
    for check in ["workspaces", "models", "exports", "export", "process", "re-login after expiry"] {
        assert!(said.lines().any(|l| l.starts_with(&format!("ok   {check}:"))), "no passing {check:?} check:\n{said}");
    }
}
