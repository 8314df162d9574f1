//! `anaplan-functions demo`: the functions against the emulator, with nothing else needed.
//!
//! One runtime serves both: the emulator on a free port with its seeded demo tenant, and
//! the handler on `--port`, wired to it with the OAuth client and first refresh token the
//! emulator issued (rotation on; the rotated token is kept in a temporary file that is
//! removed on exit), or with `--auth certificate` with the emulator's demo certificate user
//! (a `v2` certificate login at the legacy token service). No storage account is
//! configured, so `Idempotency-Key` and Blob transfers answer a problem that says how to
//! add one.

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::config::Settings;
use anaplan_emulator::{Emulator, EmulatorConfig, Launch, seed, seed_cloudworks};

/// Why the demo could not start.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The emulator did not start.
    #[error("the emulator did not start: {0}")]
    Emulator(#[from] anaplan_emulator::LaunchError),
    /// The handler's port is taken or unusable.
    #[error("cannot listen on {addr}: {source} (is something else on that port? choose another with --port)")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The handler did not start or failed.
    #[error(transparent)]
    Serve(#[from] crate::startup::StartError),
    /// Settings or the temporary directory.
    #[error("{0}")]
    Setup(String),
}

/// How the demo's handler logs in to the emulator.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum DemoAuth {
    /// The OAuth client and first refresh token the emulator issued (rotation on).
    #[default]
    Oauth,
    /// The emulator's demo certificate user (certificate and key from `credentials.json`).
    Certificate,
}

/// The settings that wire the handler to `emulator` with `auth`: what a
/// `local.settings.json` for `func start` against the emulator holds, minus storage.
/// `token_file` keeps the rotated refresh token (OAuth only).
pub fn settings_for(
    emulator: &Emulator,
    token_file: &std::path::Path,
    auth: DemoAuth,
) -> HashMap<&'static str, String> {
    let c = emulator.credentials();
    let mut settings = HashMap::from([
        ("ANAPLAN_API_URL", emulator.base_url()),
        ("ANAPLAN_AUTH_URL", emulator.base_url()),
        ("ANAPLAN_OAUTH_URL", emulator.base_url()),
        ("ANAPLAN_CLOUDWORKS_URL", emulator.base_url()),
        ("ANAPLAN_AUDIT_URL", emulator.base_url()),
        ("ANAPLAN_POLL_SECONDS", "1".to_owned()),
    ]);
    match auth {
        DemoAuth::Oauth => settings.extend([
            ("ANAPLAN_AUTH_METHOD", "oauth".to_owned()),
            ("ANAPLAN_CLIENT_ID", c.client_id),
            ("ANAPLAN_CLIENT_SECRET", c.client_secret),
            ("ANAPLAN_REFRESH_TOKEN", c.refresh_token),
            ("ANAPLAN_TOKEN_FILE", token_file.display().to_string()),
        ]),
        DemoAuth::Certificate => {
            settings.extend([("ANAPLAN_AUTH_METHOD", "certificate".to_owned()), ("ANAPLAN_CERTIFICATE", c.certificate)])
        }
    }
    settings
}

/// One ready-to-paste `curl` line per function, for a handler at `base`
/// (`http://127.0.0.1:7071`). Each is `# <function>: what it does` then the command.
pub fn curl_lines(base: &str) -> Vec<(&'static str, String, String)> {
    let ws = format!("workspaceName={}", query(seed::WS_FPA_NAME));
    let model = format!("modelName={}", query(seed::MODEL_REVENUE_NAME));
    let json_body = |object: (&str, &str)| {
        serde_json::json!({
            "workspaceName": seed::WS_FPA_NAME,
            "modelName": seed::MODEL_REVENUE_NAME,
            object.0: object.1,
        })
        .to_string()
    };
    vec![
        (
            "get-view-data",
            format!("the view {:?}, Actual prices, as JSON records", seed::VIEW_PRICE_BOOK_NAME),
            format!(
                "curl -sS '{base}/api/get-view-data?{ws}&{model}&viewName={}&pages={}:{}'",
                query(seed::VIEW_PRICE_BOOK_NAME),
                seed::DIM_VERSIONS_ID,
                seed::VERSION_ACTUAL_ID
            ),
        ),
        (
            "run-process",
            format!("runs the process {:?} and waits up to 30 s for its result", seed::PROCESS_NIGHTLY_NAME),
            format!(
                "curl -sS -X POST '{base}/api/run-process?wait=30' -H 'Content-Type: application/json' -d '{}'",
                json_body(("processName", seed::PROCESS_NIGHTLY_NAME))
            ),
        ),
        (
            "export-file",
            format!("runs the export {:?} and answers with the file", seed::EXPORT_PRICE_NAME),
            format!(
                "curl -sS -X POST '{base}/api/export-file?wait=30' -H 'Content-Type: application/json' -d '{}'",
                json_body(("exportName", seed::EXPORT_PRICE_NAME))
            ),
        ),
        (
            "import-file",
            format!("uploads a CSV to {:?} and runs the import", seed::IMPORT_PRODUCTS_NAME),
            format!(
                "printf 'Code,Name\\nP004,Sprocket\\nP005,Flange\\n' | curl -sS -X POST '{base}/api/import-file?{ws}&{model}&importName={}&wait=30' -H 'Content-Type: text/csv' --data-binary @-",
                query(seed::IMPORT_PRODUCTS_NAME)
            ),
        ),
        (
            "list-objects",
            "the models of the workspace (what the connector's dropdowns show)".to_owned(),
            format!("curl -sS '{base}/api/list-objects?kind=models&{ws}'"),
        ),
        (
            "write-cells",
            format!("writes Units and Active for Widget, North, Jan 26 into {:?}", seed::MODULE_SALES_INPUT_NAME),
            format!(
                "curl -sS -X POST '{base}/api/write-cells' -H 'Content-Type: application/json' -d '{}'",
                serde_json::json!({
                    "workspaceName": seed::WS_FPA_NAME,
                    "modelName": seed::MODEL_REVENUE_NAME,
                    "moduleName": seed::MODULE_SALES_INPUT_NAME,
                    "rows": [{"Products": "Widget", "Regions": "North", "Time": "Jan 26", "Versions": "Actual",
                              "Units": 120, "Active": true}],
                })
            ),
        ),
        (
            "list-items",
            format!("every item of the list {:?}", seed::LIST_COST_CENTRES_NAME),
            format!("curl -sS '{base}/api/list-items?{ws}&{model}&listName={}'", query(seed::LIST_COST_CENTRES_NAME)),
        ),
        (
            "run-integration",
            format!(
                "runs the CloudWorks integration {:?} and waits up to 30 s for its result",
                seed_cloudworks::INTEGRATION_PROCESS_NAME
            ),
            format!(
                "curl -sS -X POST '{base}/api/run-integration?wait=30' -H 'Content-Type: application/json' -d '{}'",
                serde_json::json!({"integrationName": seed_cloudworks::INTEGRATION_PROCESS_NAME})
            ),
        ),
        (
            "users",
            "a user and their workspaces (SCIM)".to_owned(),
            format!("curl -sS '{base}/api/users?userName=user001%40example.com'"),
        ),
        (
            "audit-events",
            "the last 24 hours of audit events".to_owned(),
            format!("curl -sS '{base}/api/audit-events?type=all'"),
        ),
        (
            "model-state",
            format!("whether the model {:?} is loaded, its state and whether it is online", seed::MODEL_REVENUE_NAME),
            format!("curl -sS '{base}/api/model-state?{ws}&{model}'"),
        ),
        (
            "model-calendar",
            "the model's current period, calendar and fiscal year".to_owned(),
            format!("curl -sS '{base}/api/model-calendar?{ws}&{model}'"),
        ),
        (
            "versions",
            "the model's versions and their switchover dates".to_owned(),
            format!("curl -sS '{base}/api/versions?{ws}&{model}'"),
        ),
        (
            "run-action",
            format!("runs the action {:?} and waits up to 30 s for its result", seed::ACTION_DELETE_CLOSED_NAME),
            format!(
                "curl -sS -X POST '{base}/api/run-action?wait=30' -H 'Content-Type: application/json' -d '{}'",
                json_body(("actionName", seed::ACTION_DELETE_CLOSED_NAME))
            ),
        ),
        (
            "cloudworks",
            format!("the schedule of the CloudWorks integration {:?}", seed_cloudworks::INTEGRATION_PROCESS_NAME),
            format!(
                "curl -sS '{base}/api/cloudworks?kind=schedule&integrationName={}'",
                query(seed_cloudworks::INTEGRATION_PROCESS_NAME)
            ),
        ),
        (
            "revisions",
            format!(
                "the ALM revisions of {:?} that can be synced into {:?}",
                seed::MODEL_DEV_NAME,
                seed::MODEL_PROD_NAME
            ),
            format!(
                "curl -sS '{base}/api/revisions?workspaceName={}&modelName={}&kind=syncable&sourceModelName={}'",
                query(seed::WS_SALES_NAME),
                query(seed::MODEL_PROD_NAME),
                query(seed::MODEL_DEV_NAME)
            ),
        ),
        (
            "sync-model",
            format!(
                "syncs {:?} from the latest revision of {:?} and waits up to 30 s for the result",
                seed::MODEL_PROD_NAME,
                seed::MODEL_DEV_NAME
            ),
            format!(
                "curl -sS -X POST '{base}/api/sync-model?wait=30' -H 'Content-Type: application/json' -d '{}'",
                serde_json::json!({
                    "workspaceName": seed::WS_SALES_NAME,
                    "modelName": seed::MODEL_PROD_NAME,
                    "sourceModelName": seed::MODEL_DEV_NAME,
                })
            ),
        ),
        (
            "exception-users",
            format!("the users who may bypass SSO in {:?}", seed::WS_FPA_NAME),
            format!("curl -sS '{base}/api/exception-users?{ws}'"),
        ),
        (
            "tenant-users",
            "the tenant's users as Anaplan's CSV (Administration API)".to_owned(),
            format!("curl -sS '{base}/api/tenant-users'"),
        ),
        (
            "access-review",
            format!("who administers and visits {:?}, with their last sign-in", seed::WS_SALES_NAME),
            format!("curl -sS '{base}/api/access-review?workspaceName={}'", query(seed::WS_SALES_NAME)),
        ),
        (
            "describe",
            format!(
                "the JSON schema of a row of the module {:?}: its dimensions and writable line items, typed",
                seed::MODULE_SALES_INPUT_NAME
            ),
            format!(
                "curl -sS '{base}/api/describe?{ws}&{model}&moduleName={}&schema=true'",
                query(seed::MODULE_SALES_INPUT_NAME)
            ),
        ),
        (
            "dimension-items",
            format!(
                "which of two region names and a code are items of {:?} (the rest come back as missing)",
                seed::DIM_REGIONS_NAME
            ),
            format!(
                "curl -sS -X POST '{base}/api/dimension-items?{ws}&{model}&dimensionName={}&action=lookup' -H \
                 'Content-Type: application/json' -d '{}'",
                query(seed::DIM_REGIONS_NAME),
                serde_json::json!({"names": ["north", "Atlantis"], "codes": ["R02"]})
            ),
        ),
        (
            "health",
            "the app's sign-in (when it was last refreshed, when it dies unused), Key Vault, storage and Anaplan"
                .to_owned(),
            format!("curl -sS '{base}/api/health'"),
        ),
    ]
}

/// Percent-encodes a query value (spaces as `%20`, `&` as `%26`...).
fn query(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>().replace('+', "%20")
}

/// A temporary directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir, DemoError> {
        let name = format!("anaplan-functions-demo-{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
        let dir = std::env::temp_dir().join(name);
        std::fs::create_dir(&dir).map_err(|e| DemoError::Setup(format!("cannot create {}: {e}", dir.display())))?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the demo until SIGINT or SIGTERM: prints where both servers are and the curl
/// lines to `out`, then serves, logging in with `auth`.
pub async fn run(port: u16, auth: DemoAuth, out: &mut (dyn Write + Send)) -> Result<(), DemoError> {
    let emulator = Emulator::launch(EmulatorConfig::default(), &Launch::default()).await?;
    let temp = TempDir::new()?;
    let values = settings_for(&emulator, &temp.0.join("refresh-token"), auth);
    let settings = Settings::from_lookup(|k| values.get(k).cloned()).map_err(|e| DemoError::Setup(e.to_string()))?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|source| DemoError::Bind { addr, source })?;
    let addr = listener.local_addr().map_err(|source| DemoError::Bind { addr, source })?;
    let base = format!("http://{addr}");
    if auth == DemoAuth::Oauth {
        // Anaplan refuses loopback callbacks; the demo's emulator is told to accept onboard's
        // (under both names a browser may use for this machine).
        emulator.allow_loopback_redirect_uri(&format!("{base}{}", crate::onboard::CALLBACK_PATH));
        let named = format!("http://localhost:{}{}", addr.port(), crate::onboard::CALLBACK_PATH);
        emulator.allow_loopback_redirect_uri(&named);
    }
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let mut server = tokio::spawn(crate::startup::serve_on(settings, listener, async {
        let _ = stop_rx.await;
    }));
    // Listening before READY: a caller may send SIGTERM as soon as it reads the line.
    let stop = crate::shutdown::listen();
    print_intro(out, &emulator, &base, auth).map_err(|e| DemoError::Setup(format!("cannot write to stdout: {e}")))?;
    let ended = tokio::select! {
        () = stop => {
            let _ = stop_tx.send(());
            server.await
        }
        ended = &mut server => ended,
    };
    ended.map_err(|e| DemoError::Setup(format!("the handler stopped: {e}")))??;
    drop(temp);
    Ok(())
}

fn print_intro(out: &mut (dyn Write + Send), emulator: &Emulator, base: &str, auth: DemoAuth) -> std::io::Result<()> {
    let login = match auth {
        DemoAuth::Oauth => "OAuth, rotating refresh tokens",
        DemoAuth::Certificate => "certificate login (v2) as the demo certificate user",
    };
    writeln!(out, "READY {base}")?;
    writeln!(out, "  functions  {base}/api/<function>  (no function key needed: there is no Functions host)")?;
    writeln!(out, "  emulator   {}  (a local Anaplan with the demo tenant; {login})", emulator.base_url())?;
    let onboard = match auth {
        DemoAuth::Oauth => "sign the app in to Anaplan in a browser",
        DemoAuth::Certificate => "the app's Anaplan sign-in; signing in from a browser is for OAuth",
    };
    writeln!(out, "  onboard    {base}/api/onboard  ({onboard})")?;
    writeln!(out, "  no storage account: Idempotency-Key and Blob transfers answer a problem saying how to add one")?;
    writeln!(out)?;
    writeln!(out, "Try each function (paste a line):")?;
    for (function, what, line) in curl_lines(base) {
        writeln!(out)?;
        writeln!(out, "# {function}: {what}")?;
        writeln!(out, "{line}")?;
    }
    writeln!(out)?;
    writeln!(out, "Ctrl-C stops both.")?;
    out.flush()
}
