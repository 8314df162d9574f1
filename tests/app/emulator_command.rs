//! The `emulator` command does what the contract says: a READY line, then credentials
//! that work, state kept in `--state-dir`, a speed cap, a clean stop on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anaplan_emulator::DemoCredentials;
use anaplan_emulator::seed::USER_EMAIL;

use crate::support::emulator_api::refresh_at as refresh;

/// A child process killed when the test ends, passed or not.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl std::ops::Deref for Running {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Running {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

/// `anaplan-functions emulator` with `args`; returns the child and its stdout lines.
fn spawn(args: &[&str]) -> (Running, std::io::Lines<BufReader<std::process::ChildStdout>>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_anaplan-functions"))
        .arg("emulator")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    (Running(child), lines)
}

fn ready_url(lines: &mut impl Iterator<Item = std::io::Result<String>>) -> String {
    let line = lines.next().expect("a READY line").unwrap();
    let url = line.strip_prefix("READY ").unwrap_or_else(|| panic!("not a READY line: {line}"));
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    url.to_owned()
}

fn sigterm_and_wait(child: &mut Child) {
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    for _ in 0..100 {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "the emulator exits cleanly on SIGTERM: {status}");
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    panic!("the emulator did not stop within 5 s of SIGTERM");
}

fn port_of(url: &str) -> u16 {
    url.rsplit(':').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn the_command_prints_ready_then_credentials_that_work_and_stops_on_sigterm() {
    let (mut child, mut lines) = spawn(&[]);
    let base = ready_url(&mut lines);
    let creds: DemoCredentials = serde_json::from_str(&lines.next().unwrap().unwrap()).expect("credentials JSON");
    assert_eq!(creds.username, USER_EMAIL);
    let (status, body) = refresh(&reqwest::Client::new(), &base, &creds, &creds.refresh_token).await;
    assert_eq!(status, 200, "{body}");
    sigterm_and_wait(&mut child);
    assert!(std::net::TcpStream::connect(("127.0.0.1", port_of(&base))).is_err(), "nothing listens any more");
}

#[tokio::test]
async fn a_state_dir_keeps_the_client_and_the_token_chain_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let state_dir = dir.path().to_str().unwrap();
    let (mut child, mut lines) = spawn(&["--state-dir", state_dir]);
    let base = ready_url(&mut lines);
    let read = || -> DemoCredentials {
        serde_json::from_slice(&std::fs::read(dir.path().join("credentials.json")).unwrap()).unwrap()
    };
    let creds = read();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("credentials.json")).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "credentials.json is private");
    }
    let http = reqwest::Client::new();
    let (status, body) = refresh(&http, &base, &creds, &creds.refresh_token).await;
    assert_eq!(status, 200, "{body}");
    let next = body["refresh_token"].as_str().unwrap().to_owned();
    let access = body["access_token"].as_str().unwrap().to_owned();
    sigterm_and_wait(&mut child);

    // Same port is not promised; same client, same live tokens are.
    let (mut child, mut lines) = spawn(&["--state-dir", state_dir]);
    let base = ready_url(&mut lines);
    assert_eq!(read(), creds, "the same client and first refresh token");
    let me = http
        .get(format!("{base}/2/0/users/me"))
        .header("Authorization", format!("AnaplanAuthToken {access}"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200, "an access token issued before the restart still works");
    let (status, body) = refresh(&http, &base, &creds, &creds.refresh_token).await;
    assert_eq!((status.as_u16(), body["error"].as_str()), (400, Some("invalid_grant")), "spent before the restart");
    let (status, body) = refresh(&http, &base, &creds, &next).await;
    assert_eq!(status, 200, "the chain continues after the restart: {body}");
    sigterm_and_wait(&mut child);
}

#[test]
fn the_emulator_command_takes_a_speed_cap() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_anaplan-functions"))
        .args(["emulator", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("--speed-cap <BYTES_PER_SEC>"), "{help}");
}
