//! The custom-handler contract: what the Functions host relies on (port, readiness,
//! settings checked at start, forwarding, invocation ids in logs, shutdown), and that no
//! secret ever leaves the process.

use std::process::Stdio;
use std::time::Duration;

use crate::support::app::{App, oauth_env, problem};
use anaplan_emulator::Emulator;
use anaplan_emulator::seed::*;

const BIN: &str = env!("CARGO_BIN_EXE_anaplan-functions");

fn query() -> String {
    format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&viewId={VIEW_REGIONS_ID}")
}

/// Runs `serve` with exactly `env` and returns (exit code, stderr) once it stops by itself.
async fn serve_fails_with(env: &[(&str, &str)]) -> (Option<i32>, String) {
    let child = tokio::process::Command::new(BIN)
        .arg("serve")
        .env_clear()
        .envs(env.iter().copied())
        .env("FUNCTIONS_CUSTOMHANDLER_PORT", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let out = tokio::time::timeout(Duration::from_secs(20), child.wait_with_output())
        .await
        .expect("serve with a bad setting exits at once")
        .unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[tokio::test]
async fn a_bad_setting_stops_serve_with_one_line_naming_it() {
    let fake = Emulator::start().await;
    let dir = tempfile::tempdir().unwrap();
    let good: Vec<(String, String)> = oauth_env(&fake, dir.path());
    let cases: Vec<(&str, Option<&str>)> = vec![
        ("ANAPLAN_REFRESH_TOKEN", None),
        ("ANAPLAN_CLIENT_ID", None),
        ("ANAPLAN_CLIENT_ID", Some("not-hex")),
        ("ANAPLAN_API_URL", Some("http://api.example.com")),
        ("ANAPLAN_OAUTH_URL", Some("ftp://127.0.0.1")),
        ("ANAPLAN_POLL_SECONDS", Some("soon")),
        ("ANAPLAN_AUTH_METHOD", Some("magic")),
        ("ANAPLAN_TOKEN_FILE", Some("/proc/no-such-dir/refresh-token")),
        ("FUNCTIONS_CUSTOMHANDLER_PORT", Some("seventy")),
    ];
    for (name, value) in cases {
        let mut env: Vec<(&str, &str)> =
            good.iter().filter(|(k, _)| k != name).map(|(k, v)| (k.as_str(), v.as_str())).collect();
        if let Some(v) = value {
            env.push((name, v));
        }
        let (code, stderr) = if name == "FUNCTIONS_CUSTOMHANDLER_PORT" {
            let out = tokio::process::Command::new(BIN)
                .arg("serve")
                .env_clear()
                .envs(env.iter().copied())
                .output()
                .await
                .unwrap();
            (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
        } else {
            serve_fails_with(&env).await
        };
        assert_ne!(code, Some(0), "{name}={value:?} must stop serve");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{name}: one line, got {stderr:?}");
        assert!(lines[0].contains(name), "{name}: {stderr:?}");
        for secret in [fake.client_secret(), fake.initial_refresh_token()] {
            assert!(!stderr.contains(&secret), "{name}: the error echoes a secret");
        }
    }
}

#[tokio::test]
async fn the_handler_answers_the_hosts_probe_and_stops_cleanly_on_sigterm() {
    let app = App::start().await;
    let probe = reqwest::get(format!("{}/", app.host.handler_url())).await.unwrap();
    assert_eq!(probe.status(), 200);
    let status = app.host.terminate().await.unwrap();
    assert!(status.success(), "SIGTERM ends serve with exit 0, got {status:?}");
}

#[tokio::test]
async fn sigterm_lets_short_requests_finish_and_stops_within_the_drain_bound() {
    let app = App::start().await;
    let http = reqwest::Client::new();
    // Straight to the handler: the front end's connections close when it stops.
    let url = |process: &str, wait: u32| {
        format!(
            "{}/api/run-process?workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&processId={process}&wait={wait}",
            app.host.handler_url()
        )
    };
    let short = tokio::spawn(http.post(url(PROCESS_NIGHTLY_ID, 2)).json(&serde_json::json!({})).send());
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Held far longer than the bound (first the model is busy with the short one's task).
    let long = tokio::spawn(http.post(url(PROCESS_SLOW_ID, 100)).json(&serde_json::json!({})).send());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let bound = anaplan_functions::startup::DRAIN_BOUND;
    let stopping = std::time::Instant::now();
    let (status, output) = app.host.terminate_within(bound + Duration::from_secs(10)).await.unwrap();
    let took = stopping.elapsed();
    assert!(status.success(), "serve stops by itself, with exit 0: {status:?}\n{output}");
    assert!(took < bound + Duration::from_secs(3), "stopped after {took:?}, the bound is {bound:?}");
    assert!(output.contains("drain bound"), "the cut request is logged:\n{output}");
    let short = short.await.unwrap().expect("the short request was answered");
    assert!(short.status() == 200 || short.status() == 202, "{}", short.status());
    let long = long.await.unwrap();
    assert!(long.is_err(), "the held request was cut at the bound, not answered: {:?}", long.map(|r| r.status()));
}

#[tokio::test]
async fn standalone_serve_uses_port_flag_when_the_host_sets_none() {
    let fake = Emulator::start().await;
    let dir = tempfile::tempdir().unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = tokio::process::Command::new(BIN)
        .args(["serve", "--port", &port.to_string()])
        .env_clear()
        .envs(oauth_env(&fake, dir.path()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/api/get-view-data?{}", query());
    let mut answered = None;
    for _ in 0..200 {
        if let Ok(r) = reqwest::get(&url).await {
            answered = Some(r.status());
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(answered, Some(reqwest::StatusCode::OK));
    child.kill().await.unwrap();
}

#[tokio::test]
async fn the_host_forwards_and_checks_keys_and_methods_the_handler_double_checks() {
    let app = App::start().await;
    // No key: the host refuses, the handler is not called.
    let before = app.host.invocations().len();
    let resp = reqwest::get(format!("{}?{}", app.url("get-view-data"), query())).await.unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(app.host.invocations().len(), before);

    // Key in the query string works as well as the header, and is never used as a parameter.
    let resp = reqwest::get(format!("{}?{}&code={}", app.url("get-view-data"), query(), app.host.function_key()))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    // The function name is case-insensitive at the host; the handler agrees.
    let resp = app.get("Get-View-Data", &query()).await;
    assert_eq!(resp.status(), 200);

    // A method function.json does not allow: the host's 404; straight to the handler: 405.
    let resp = app.http.delete(format!("{}?{}", app.url("get-view-data"), query())).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    let resp =
        app.http.delete(format!("{}/api/get-view-data?{}", app.host.handler_url(), query())).send().await.unwrap();
    assert_eq!(resp.headers()["allow"], "GET, POST");
    problem(resp, 405).await;
    let resp = reqwest::get(format!("{}/api/no-such-function", app.host.handler_url())).await.unwrap();
    problem(resp, 404).await;
}

#[tokio::test]
async fn each_request_is_logged_with_its_invocation_id() {
    let app = App::start().await;
    assert_eq!(app.get("get-view-data", &query()).await.status(), 200);
    problem(app.get("get-view-data", "viewId=x").await, 400).await;
    let invocations = app.host.invocations();
    assert_eq!(invocations.len(), 2);
    // Give the handler a moment to flush its log lines.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let output = app.host.output();
    for inv in &invocations {
        let lines: Vec<&str> = output.lines().filter(|l| l.contains(&inv.invocation_id)).collect();
        assert!(!lines.is_empty(), "no log line carries invocation {}", inv.invocation_id);
        for l in &lines {
            let v: serde_json::Value = serde_json::from_str(l).expect("log lines are JSON");
            assert!(v["level"].is_string());
        }
    }
}

#[tokio::test]
async fn no_secret_token_or_key_ever_appears_in_output_or_answers() {
    let app = App::start().await;
    let mut bodies = String::new();
    let queries = [
        query(),
        format!("{}&format=grid", query()),
        format!("{}&format=csv", query()),
        format!("workspaceId={WS_FPA_ID}&modelName=Nope&viewId=1"),
        "viewId=..".to_owned(),
    ];
    for q in &queries {
        bodies.push_str(&app.get("get-view-data", q).await.text().await.unwrap());
    }
    app.fake.expire_access_tokens();
    bodies.push_str(&app.get("get-view-data", &queries[0]).await.text().await.unwrap());
    app.fake.throttle_next(1, 1);
    bodies.push_str(&app.get("get-view-data", &queries[0]).await.text().await.unwrap());
    bodies.push_str(&app.get("run-process", "").await.text().await.unwrap());
    assert!(app.fake.refresh_log().len() >= 2, "the flow included a rotation");
    tokio::time::sleep(Duration::from_millis(200)).await;

    let output = app.host.output();
    assert!(output.lines().count() > 5, "the handler logged");
    let mut secrets = app.fake.issued_secrets();
    secrets.push(app.fake.client_secret());
    secrets.push(app.fake.initial_refresh_token());
    secrets.push(app.host.function_key());
    secrets.push(app.host.master_key());
    for s in &secrets {
        assert!(s.len() >= 8, "a secret too short to search for: {s:?}");
        assert!(!output.contains(s.as_str()), "a secret reached the log");
        assert!(!bodies.contains(s.as_str()), "a secret reached an answer");
    }
}

#[tokio::test]
async fn openapi_prints_the_committed_connector_definition_byte_for_byte() {
    let out = tokio::process::Command::new(BIN).arg("openapi").output().await.unwrap();
    assert!(out.status.success());
    let committed =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/infra/connector/apiDefinition.swagger.json")).unwrap();
    assert_eq!(out.stdout, committed);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["swagger"], "2.0");
}
