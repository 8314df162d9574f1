//! The handler child process: start it as the host does (§1.2), capture its output, wait for
//! readiness, and stop it.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;

use super::config::AppConfig;

/// The host's readiness poll interval and give-up time (`HttpWorkerOptions`).
const READY_POLL: Duration = Duration::from_millis(25);
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// A running handler and the tasks copying its stdout/stderr into `output`.
pub(super) struct Handler {
    pub child: Child,
    pub output: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
}

/// Builds the child's environment: a clean one plus what the host adds. Later entries win, so
/// the host's own variables cannot be overridden by the test (as in `DefaultWorkerProcessFactory`).
pub(super) fn child_env(
    app_root: &Path,
    port: u16,
    worker_id: &str,
    test_env: Vec<(String, String)>,
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> =
        ["PATH", "HOME"].into_iter().filter_map(|k| std::env::var(k).ok().map(|v| (k.to_owned(), v))).collect();
    let root = app_root.display().to_string();
    // Core Tools sets this in the host's environment, which the child inherits.
    env.push(("AzureWebJobsScriptRoot".into(), root.clone()));
    env.extend(test_env);
    for (k, v) in [
        ("FUNCTIONS_CUSTOMHANDLER_PORT", port.to_string()),
        ("FUNCTIONS_HTTPWORKER_PORT", port.to_string()),
        ("FUNCTIONS_CUSTOMHANDLER_WORKER_ID", worker_id.to_owned()),
        ("FUNCTIONS_HTTPWORKER_ID", worker_id.to_owned()),
        ("FUNCTIONS_APP_ROOT_PATH", root),
    ] {
        env.push((k.to_owned(), v));
    }
    // Keep the last value of each name, in first-seen order.
    let mut out: Vec<(String, String)> = Vec::new();
    for (k, v) in env {
        match out.iter_mut().find(|(ok, _)| *ok == k) {
            Some(slot) => slot.1 = v,
            None => out.push((k, v)),
        }
    }
    out
}

/// Replaces `%NAME%` with the value from `env`. Unset names become "" when `drop_unset`
/// (arguments, `SanitizeExpandedArgument`) and stay as written otherwise (the executable path).
fn expand(text: &str, env: &[(String, String)], drop_unset: bool) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find('%') {
        let after = &rest[start + 1..];
        let Some(len) = after.find('%').filter(|&l| l > 0) else {
            break;
        };
        out.push_str(&rest[..start]);
        let name = &after[..len];
        match env.iter().find(|(k, _)| k == name) {
            Some((_, v)) => out.push_str(v),
            None if drop_unset => {}
            None => out.push_str(&rest[start..start + len + 2]),
        }
        rest = &after[len + 1..];
    }
    out.push_str(rest);
    out
}

/// Resolves the executable and argv as the host does.
pub(super) fn command_line(cfg: &AppConfig, env: &[(String, String)]) -> Result<(PathBuf, Vec<String>)> {
    let exe = expand(&cfg.executable, env, false);
    let mut exe = PathBuf::from(exe);
    // A relative path is joined to the worker directory only if that file exists; otherwise
    // it is left for PATH lookup.
    if exe.is_relative() && cfg.worker_dir.join(&exe).is_file() {
        exe = cfg.worker_dir.join(&exe);
    }
    // The host joins the arguments into one command-line string which .NET splits again on
    // whitespace, so an argument that expands to "" disappears and one with a space splits.
    // Quote handling is not emulated; reject it rather than differ silently.
    let line = cfg.arguments.iter().map(|a| expand(a, env, true)).collect::<Vec<_>>().join(" ");
    ensure!(!line.contains(['"', '\\']), "harness does not emulate .NET quoting in arguments: {line:?}");
    Ok((exe, line.split_whitespace().map(str::to_owned).collect()))
}

/// Starts the handler with a clean environment and pipes its output into a shared buffer.
pub(super) fn spawn(exe: &Path, args: &[String], working_dir: &Path, env: &[(String, String)]) -> Result<Handler> {
    let mut cmd = Command::new(exe);
    cmd.args(args)
        .current_dir(working_dir)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut attempts = 0;
    let mut child = loop {
        match cmd.spawn() {
            Ok(child) => break child,
            // ETXTBSY: a freshly copied executable can still be open for writing in a child
            // forked concurrently by another test thread. It clears within milliseconds.
            Err(e) if e.raw_os_error() == Some(26) && attempts < 50 => {
                attempts += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => {
                return Err(e).with_context(|| {
                    format!("starting handler {} {args:?} in {}", exe.display(), working_dir.display())
                });
            }
        }
    };
    let output = Arc::new(Mutex::new(String::new()));
    let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout pipe"))?;
    let stderr = child.stderr.take().ok_or_else(|| anyhow!("no stderr pipe"))?;
    let readers = vec![tokio::spawn(pump(stdout, output.clone())), tokio::spawn(pump(stderr, output.clone()))];
    Ok(Handler { child, output, readers })
}

/// Copies lines into the buffer and echoes them so a failing test shows what the handler said.
async fn pump(stream: impl AsyncRead + Unpin, output: Arc<Mutex<String>>) {
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                let text = String::from_utf8_lossy(&line);
                let text = text.trim_end_matches(['\n', '\r']);
                eprintln!("[handler] {text}");
                let mut out = output.lock().unwrap();
                out.push_str(text);
                out.push('\n');
            }
        }
    }
}

impl Handler {
    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Waits (briefly) for the output pipes to reach EOF so `output()` holds everything the
    /// exited child wrote. A grandchild holding the pipes open must not hang the test.
    pub async fn drain_output(&mut self) {
        for reader in self.readers.drain(..) {
            let _ = tokio::time::timeout(Duration::from_secs(2), reader).await;
        }
    }

    /// Polls GET / like `IsWorkerReady`: any HTTP response, or any error other than failing to
    /// connect, means ready.
    pub async fn wait_ready(&mut self, url: &str) -> Result<()> {
        let client = reqwest::Client::builder().no_proxy().redirect(reqwest::redirect::Policy::none()).build()?;
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                self.drain_output().await;
                bail!("handler exited before it was ready ({status})\n--- handler output ---\n{}", self.output());
            }
            // The per-ping timeout is a harness choice: a handler that accepts but never
            // answers would otherwise block the loop past the 30 s budget.
            match client.get(url).timeout(Duration::from_secs(2)).send().await {
                Ok(_) => return Ok(()),
                Err(e) if e.is_connect() || e.is_timeout() => {}
                Err(_) => return Ok(()),
            }
            if Instant::now() >= deadline {
                let _ = self.child.start_kill();
                let _ = self.child.wait().await;
                self.drain_output().await;
                bail!(
                    "handler did not answer GET {url} within {READY_TIMEOUT:?}\n\
                     --- handler output ---\n{}",
                    self.output()
                );
            }
            tokio::time::sleep(READY_POLL).await;
        }
    }

    /// SIGTERM via the `kill` command, up to `grace` to exit, then SIGKILL.
    pub async fn terminate(&mut self, grace: Duration) -> Result<ExitStatus> {
        if let Some(status) = self.child.try_wait()? {
            self.drain_output().await;
            return Ok(status);
        }
        if let Some(pid) = self.child.id() {
            let sent = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await
                .context("running `kill -TERM`")?;
            ensure!(sent.success(), "`kill -TERM {pid}` failed: {sent}");
        }
        let status = match tokio::time::timeout(grace, self.child.wait()).await {
            Ok(status) => status?,
            Err(_) => {
                self.child.start_kill()?;
                self.child.wait().await?
            }
        };
        self.drain_output().await;
        Ok(status)
    }

    /// SIGKILL now, then reap for up to 1 s (the host's `Process.Kill()` + wait on dispose).
    /// Synchronous so that it can run from `Drop` and from non-async test code.
    pub fn kill(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        let _ = self.child.start_kill();
        let deadline = Instant::now() + Duration::from_secs(1);
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}
