//! `auth check` and `auth login` as an admin runs them.

use std::process::Stdio;

use crate::support::app::{App, oauth_env};
use anaplan_emulator::Emulator;
use anaplan_emulator::seed::*;

const BIN: &str = env!("CARGO_BIN_EXE_anaplan-functions");

async fn run(args: &[&str], env: &[(String, String)], stdin: &str) -> (i32, String, String) {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new(BIN)
        .args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).await.unwrap();
    let out =
        tokio::time::timeout(std::time::Duration::from_secs(60), child.wait_with_output()).await.unwrap().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_no_secret(fake: &Emulator, text: &str) {
    for s in fake.issued_secrets() {
        assert!(!text.contains(&s), "a token or secret was printed");
    }
}

#[tokio::test]
async fn auth_check_says_who_and_until_when_and_shares_the_chain_with_serve() {
    let app = App::start().await;
    let env = oauth_env(&app.fake, app.state_dir.path());
    // serve refreshes first (spending the initial token) ...
    let q = format!("workspaceId={WS_FPA_ID}&modelId={MODEL_REVENUE_ID}&viewId={VIEW_REGIONS_ID}");
    assert_eq!(app.get("get-view-data", &q).await.status(), 200);
    // ... auth check continues the same chain from the token file ...
    let (code, stdout, stderr) = run(&["auth", "check"], &env, "").await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains(USER_EMAIL), "{stdout}");
    assert!(stdout.contains("valid until"), "{stdout}");
    // ... says when the chain dies unused, as health does (12 hours after auth check's own
    // refresh by default) ...
    let line = stdout.lines().find(|l| l.starts_with("refresh-token chain:")).expect(&stdout);
    assert!(line.contains("ANAPLAN_REFRESH_TOKEN_LIFETIME=43200 s") && line.contains("older than 10800 s"), "{line}");
    assert_no_secret(&app.fake, &format!("{stdout}{stderr}"));
    // ... and serve is not stranded: its next refresh uses the newest token.
    app.fake.expire_access_tokens();
    assert_eq!(app.get("get-view-data", &q).await.status(), 200);
    let log = app.fake.refresh_log();
    assert_eq!(log.len(), 3);
    assert!(log.iter().all(|r| r.error.is_none()), "{log:?}");
}

#[tokio::test]
async fn auth_check_fails_with_exit_1_when_anaplan_refuses() {
    let fake = Emulator::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut env = oauth_env(&fake, dir.path());
    env.retain(|(k, _)| k != "ANAPLAN_REFRESH_TOKEN");
    env.push(("ANAPLAN_REFRESH_TOKEN".into(), "rt-revoked-long-ago".into()));
    let (code, stdout, stderr) = run(&["auth", "check"], &env, "").await;
    assert_eq!(code, 1);
    assert!(stderr.contains("invalid_grant") && stderr.contains("auth login"), "{stderr}");
    assert!(!format!("{stdout}{stderr}").contains("rt-revoked-long-ago"));
}
