//! A stand-in for the Azure Functions host v4 in front of a custom handler, for integration
//! tests (no `func` binary needed). It behaves as the host does with
//! `customHandler.enableForwardingHttpRequest: true`; see shared/reference/azure-platform.md
//! §1 and §2 for the facts it follows:
//!
//! - reads host.json and the function.json folders directly under the app root;
//! - starts the handler with a clean environment plus the host's variables, captures its output,
//!   and waits until GET / answers;
//! - serves a public front end that routes `/<routePrefix>/<route>`, checks method and key, and
//!   forwards the request (same path, query and headers, body only with Content-Length > 0)
//!   to `http://127.0.0.1:<handler port>`, returning the handler's response unchanged.
#![allow(dead_code)]

mod config;
mod front;
mod process;
mod route;
mod timer;

use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::task::JoinHandle;

/// A function the host loaded, as declared in its function.json.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionInfo {
    /// Folder name.
    pub name: String,
    /// Lower-case methods from function.json; `None` = all methods.
    pub methods: Option<Vec<String>>,
    /// "anonymous", "function" or "admin" (lower case; "function" when omitted).
    pub auth_level: String,
    /// function.json `route`, when set.
    pub route: Option<String>,
}

/// One request the front end forwarded to the handler.
#[derive(Clone, Debug)]
pub struct Invocation {
    pub function: String,
    pub method: String,
    /// The public path, which is also the path the handler was called with.
    pub path: String,
    /// Raw query string without '?' ("" when none).
    pub query: String,
    /// Sent as `X-Azure-Functions-InvocationId`.
    pub invocation_id: String,
    /// Headers as sent to the handler (lower-case names).
    pub forwarded_headers: Vec<(String, String)>,
    /// Bytes of body forwarded (0 when the body was dropped).
    pub body_len: usize,
    /// Why the handler could not be called (unreachable, timeout); the caller got 500.
    /// `None` when the handler answered.
    pub error: Option<String>,
}

/// A running handler behind a host-like front end. Dropping it kills the handler.
pub struct FunctionsHost {
    handler: process::Handler,
    front_task: JoinHandle<()>,
    public_port: u16,
    handler_port: u16,
    function_key: String,
    master_key: String,
    functions: Vec<FunctionInfo>,
    invocations: Arc<Mutex<Vec<Invocation>>>,
    /// Timer-triggered functions ([`FunctionsHost::fire_timer`]).
    timers: Vec<config::TimerDef>,
    /// The app settings the handler got (timer schedules may name one).
    settings: Vec<(String, String)>,
}

impl FunctionsHost {
    /// Reads host.json and the function folders of `app_root`, starts the handler, waits until
    /// it is ready, and starts the public front end. `env` is added to the handler's otherwise
    /// clean environment (PATH and HOME are kept).
    pub async fn start(app_root: &Path, env: Vec<(String, String)>) -> Result<FunctionsHost> {
        let app_root = std::path::absolute(app_root)?;
        let cfg = config::load(&app_root).with_context(|| format!("loading function app {}", app_root.display()))?;

        let handler_port = free_port()?;
        let worker_id = uuid::Uuid::new_v4().to_string();
        let settings = env.clone();
        let child_env = process::child_env(&app_root, handler_port, &worker_id, env);
        let (exe, args) = process::command_line(&cfg, &child_env)?;
        let mut handler = process::spawn(&exe, &args, &cfg.working_dir, &child_env)?;
        let handler_url = format!("http://127.0.0.1:{handler_port}");
        handler.wait_ready(&format!("{handler_url}/")).await?;

        // Redirects stay unfollowed in forwarding mode (AllowAutoRedirect = false), so a 202 or
        // 302 with Location reaches the caller unchanged.
        let mut client = reqwest::Client::builder().no_proxy().redirect(reqwest::redirect::Policy::none());
        if let Some(timeout) = cfg.request_timeout {
            client = client.timeout(timeout);
        }
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let public_port = listener.local_addr()?.port();
        let invocations = Arc::new(Mutex::new(Vec::new()));
        let functions: Vec<FunctionInfo> = cfg.functions.iter().map(|f| f.info.clone()).collect();
        let timers = cfg.timers.clone();
        let front = Arc::new(front::Front {
            functions: cfg.functions,
            handler_url,
            client: client.build()?,
            function_key: random_key(),
            master_key: random_key(),
            invocations: invocations.clone(),
        });
        let (function_key, master_key) = (front.function_key.clone(), front.master_key.clone());
        let app = axum::Router::new().fallback(front::handle).with_state(front);
        let front_task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("[host] front end stopped: {e}");
            }
        });

        Ok(FunctionsHost {
            handler,
            front_task,
            public_port,
            handler_port,
            function_key,
            master_key,
            functions,
            invocations,
            timers,
            settings,
        })
    }

    /// "http://127.0.0.1:<public port>": call functions here, e.g. `{base_url}/api/<name>`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.public_port)
    }

    /// "http://127.0.0.1:<FUNCTIONS_CUSTOMHANDLER_PORT>", to call the handler directly.
    pub fn handler_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.handler_port)
    }

    /// A key accepted by `function`-level functions (random per host).
    pub fn function_key(&self) -> String {
        self.function_key.clone()
    }

    /// The master key, accepted by `function` and `admin` level functions.
    pub fn master_key(&self) -> String {
        self.master_key.clone()
    }

    /// The functions loaded, sorted by name.
    pub fn functions(&self) -> Vec<FunctionInfo> {
        self.functions.clone()
    }

    /// Every forwarded invocation so far, in completion order.
    pub fn invocations(&self) -> Vec<Invocation> {
        self.invocations.lock().unwrap().clone()
    }

    /// The handler's process id, while it runs (benchmarks read its memory from /proc).
    pub fn handler_pid(&self) -> Option<u32> {
        self.handler.child.id()
    }

    /// Everything the handler printed so far (stdout and stderr, one line each, interleaved).
    pub fn output(&self) -> String {
        self.handler.output()
    }

    /// Stops the front end, sends SIGTERM, waits up to 10 s, then SIGKILL. Returns the exit
    /// status once the handler's output has been fully captured. (The real host only ever
    /// kills; this is for tests of graceful shutdown.)
    pub async fn terminate(self) -> Result<ExitStatus> {
        Ok(self.terminate_with_output().await?.0)
    }

    /// [`terminate`](Self::terminate), also returning everything the handler printed,
    /// including its last lines (which `output()` cannot give once `self` is consumed).
    pub async fn terminate_with_output(self) -> Result<(ExitStatus, String)> {
        self.terminate_within(Duration::from_secs(10)).await
    }

    /// [`terminate_with_output`](Self::terminate_with_output) with `grace` before SIGKILL.
    pub async fn terminate_within(mut self, grace: Duration) -> Result<(ExitStatus, String)> {
        self.front_task.abort();
        let status = self.handler.terminate(grace).await?;
        Ok((status, self.handler.output()))
    }

    /// SIGKILL the handler now, as the host does on dispose. The front end keeps running, so
    /// later calls get the host's 500 for an unreachable handler.
    pub fn kill(&mut self) {
        self.handler.kill();
    }
}

impl Drop for FunctionsHost {
    fn drop(&mut self) {
        self.front_task.abort();
        self.handler.kill();
    }
}

/// A free TCP port on 127.0.0.1 for a handler, which binds it moments later. The host finds
/// one like `WorkerUtilities.GetUnusedTcpPort` (bind to 0, read the port, release it); here
/// tests run side by side in one process, and a port released that way could be handed by
/// the kernel to another test's emulator or front (they bind to 0) before the handler binds
/// it: that handler then fails to start while the other test's server answers its ready
/// check. So the port is taken below Linux's ephemeral range (32768 and up), where no bind
/// to 0 lands, and never handed out twice by this process; bound once to see it is free.
fn free_port() -> Result<u16> {
    const FIRST: u16 = 20_000;
    const COUNT: u16 = 12_000;
    static GIVEN: Mutex<std::collections::BTreeSet<u16>> = Mutex::new(std::collections::BTreeSet::new());
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    for _ in 0..COUNT {
        let random = uuid::Uuid::new_v4().as_u128();
        let port = FIRST + (random % u128::from(COUNT)) as u16;
        if given.contains(&port) {
            continue;
        }
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            given.insert(port);
            return Ok(port);
        }
    }
    anyhow::bail!("no free port between {FIRST} and {}", FIRST + COUNT)
}

fn random_key() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

/// The app under test staged by its own `package` command; the temp dir lives as long as this.
pub struct StagedApp {
    /// `<tmp>/functionapp`: host.json, function folders and the `anaplan-functions` binary.
    pub root: PathBuf,
    _dir: tempfile::TempDir,
}

/// The name of each staged app's folder under `CARGO_TARGET_TMPDIR` begins with this.
const STAGING_PREFIX: &str = "staged-app-";

/// Removes staged apps older than two hours (longer than any test run): left by runs that
/// ended.
fn remove_stale_stagings(tmp: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(tmp) else { return };
    for e in entries.flatten() {
        let stale = e.metadata().and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok())
            > Some(std::time::Duration::from_secs(2 * 3600));
        if e.file_name().to_string_lossy().starts_with(STAGING_PREFIX) && stale {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Stages the app under test: runs `<bin> package --out <tmp> --binary <bin>` where
/// bin = the crate's `anaplan-functions` binary, and returns the staged `<tmp>/functionapp`.
/// Panics with the command's output if staging fails.
pub fn stage_app() -> StagedApp {
    let bin = env!("CARGO_BIN_EXE_anaplan-functions");
    // Under target/ (not /tmp): the staged copy lives as long as the test process, which
    // never drops it, so the next run removes the copies that earlier runs left behind.
    let tmp = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    remove_stale_stagings(tmp);
    let dir = tempfile::Builder::new()
        .prefix(STAGING_PREFIX)
        .tempdir_in(tmp)
        .expect("creating a temp dir for the staged app");
    let out = std::process::Command::new(bin)
        .arg("package")
        .arg("--out")
        .arg(dir.path())
        .arg("--binary")
        .arg(bin)
        .output()
        .unwrap_or_else(|e| panic!("running {bin} package: {e}"));
    assert!(
        out.status.success(),
        "{bin} package failed ({})\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let root = dir.path().join("functionapp");
    assert!(root.join("host.json").is_file(), "{bin} package did not create {}", root.join("host.json").display());
    StagedApp { root, _dir: dir }
}
