//! The command line a newcomer meets: help texts that say what each command does and
//! where settings come from, `auth login` pointing at `--device`, `serve --settings`, and
//! a connection error that is not called a refusal.

use std::process::{Command, Output};

/// The binary with a clean environment (only PATH and HOME), plus `env`.
fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_anaplan-functions"));
    cmd.args(args).env_clear();
    for k in ["PATH", "HOME"] {
        if let Ok(v) = std::env::var(k) {
            cmd.env(k, v);
        }
    }
    cmd.envs(env.iter().copied()).output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn help_says_what_emulator_demo_and_serve_do() {
    let emulator = text(&run(&["emulator", "--help"], &[]));
    for needle in ["local Anaplan", "READY http://127.0.0.1:<port>", "credentials.json", "--state-dir", "SIGTERM"] {
        assert!(emulator.contains(needle), "emulator --help lacks {needle:?}:\n{emulator}");
    }
    let demo = text(&run(&["demo", "--help"], &[]));
    for needle in ["curl", "no Azurite", "Idempotency-Key", "--port", "7071", "--auth", "certificate"] {
        assert!(demo.contains(needle), "demo --help lacks {needle:?}:\n{demo}");
    }
    let serve = text(&run(&["serve", "--help"], &[]));
    for needle in ["environment", "local.settings.json", "--settings"] {
        assert!(serve.contains(needle), "serve --help lacks {needle:?}:\n{serve}");
    }
}

#[test]
fn auth_login_without_a_grant_names_both() {
    let out = run(&["auth", "login"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let said = text(&out);
    assert!(said.contains("--device") && said.contains("--redirect-uri"), "{said}");
}

#[test]
fn an_unreachable_oauth_service_is_not_called_a_refusal() {
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}");
    let out = run(&["auth", "login", "--device"], &[("ANAPLAN_OAUTH_URL", &url), ("ANAPLAN_CLIENT_ID", "c1")]);
    assert_eq!(out.status.code(), Some(1));
    let said = text(&out);
    assert!(said.contains("could not reach Anaplan"), "{said}");
    assert!(!said.contains("Anaplan refused"), "{said}");
}

#[test]
fn serve_reads_local_settings_values_and_the_environment_wins() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("local.settings.json");
    std::fs::write(&file, r#"{"IsEncrypted": false, "Values": {"ANAPLAN_POLL_SECONDS": "soon"}}"#).unwrap();
    let path = file.to_str().unwrap();

    // The file's bad value is read: serve stops at start naming it.
    let out = run(&["serve", "--port", "0", "--settings", path], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("ANAPLAN_POLL_SECONDS"), "{}", text(&out));

    // The environment's value wins over the file's: the next problem is another setting.
    let out = run(&["serve", "--port", "0", "--settings", path], &[("ANAPLAN_POLL_SECONDS", "5")]);
    assert_eq!(out.status.code(), Some(2));
    let said = text(&out);
    assert!(!said.contains("ANAPLAN_POLL_SECONDS") && said.contains("ANAPLAN_"), "{said}");

    let out = run(&["serve", "--settings", dir.path().join("missing.json").to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("missing.json"), "{}", text(&out));
}
