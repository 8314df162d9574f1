//! Starts the whole thing as a user would run it: the staged function app behind the host
//! harness, configured to talk to a fresh Anaplan emulator.

use std::sync::OnceLock;

use serde_json::Value;

use super::host::{FunctionsHost, StagedApp, stage_app};
use anaplan_emulator::Emulator;

/// One staged app per test process: staging copies the binary, no need to repeat it.
fn staged() -> &'static StagedApp {
    static STAGED: OnceLock<StagedApp> = OnceLock::new();
    STAGED.get_or_init(stage_app)
}

/// A running function app and the Anaplan emulator it talks to.
pub struct App {
    pub fake: Emulator,
    pub host: FunctionsHost,
    pub http: reqwest::Client,
    /// Holds ANAPLAN_TOKEN_FILE.
    pub state_dir: tempfile::TempDir,
}

/// The settings that point the app at `fake` with OAuth secrets from the environment.
pub fn oauth_env(fake: &Emulator, state_dir: &std::path::Path) -> Vec<(String, String)> {
    vec![
        ("ANAPLAN_AUTH_METHOD".into(), "oauth".into()),
        ("ANAPLAN_API_URL".into(), fake.base_url()),
        ("ANAPLAN_OAUTH_URL".into(), fake.base_url()),
        ("ANAPLAN_AUTH_URL".into(), fake.base_url()),
        ("ANAPLAN_CLOUDWORKS_URL".into(), fake.base_url()),
        ("ANAPLAN_CLIENT_ID".into(), fake.client_id()),
        ("ANAPLAN_CLIENT_SECRET".into(), fake.client_secret()),
        ("ANAPLAN_REFRESH_TOKEN".into(), fake.initial_refresh_token()),
        ("ANAPLAN_TOKEN_FILE".into(), state_dir.join("refresh-token").display().to_string()),
        // Polls every second instead of Anaplan's recommended five, to keep tests short.
        ("ANAPLAN_POLL_SECONDS".into(), "1".into()),
        // Azurite, started by scripts/test.sh (and .ci/run).
        ("AzureWebJobsStorage".into(), "UseDevelopmentStorage=true".into()),
        // The containers this test process may hand out with `azurite_container`.
        ("BLOB_CONTAINERS".into(), test_containers().join(",")),
        ("RUST_LOG".into(), "debug".into()),
        // As local.settings.json has it: the host resolves the timer's schedule from it.
        ("KEEP_SIGNED_IN_SCHEDULE".into(), "0 0 */4 * * *".into()),
    ]
}

/// Switches [`oauth_env`]'s settings to auth method `method` with `secrets` (setting, value):
/// the OAuth client and refresh token go, so the app has only what that method reads.
pub fn use_auth(env: &mut Vec<(String, String)>, method: &str, secrets: &[(&str, &str)]) {
    env.retain(|(k, _)| !k.starts_with("ANAPLAN_CLIENT") && k != "ANAPLAN_REFRESH_TOKEN" && k != "ANAPLAN_AUTH_METHOD");
    env.push(("ANAPLAN_AUTH_METHOD".into(), method.into()));
    env.extend(secrets.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
}

/// Switches [`oauth_env`]'s settings to secrets from `vault`, read with `identity` as the
/// app's managed identity: none in the environment, no token file.
pub fn use_vault(
    env: &mut Vec<(String, String)>,
    vault: &super::fake_key_vault::FakeKeyVault,
    identity: &super::fake_identity::FakeIdentity,
) {
    env.retain(|(k, _)| !k.starts_with("ANAPLAN_CLIENT") && k != "ANAPLAN_REFRESH_TOKEN" && k != "ANAPLAN_TOKEN_FILE");
    env.push(("KEY_VAULT_URI".into(), vault.uri()));
    env.push(("IDENTITY_ENDPOINT".into(), identity.endpoint()));
    env.push(("IDENTITY_HEADER".into(), identity.header()));
    env.push(("SSL_CERT_FILE".into(), vault.ca_pem_path().display().to_string()));
}

/// An app against a fresh emulator, signed in as its demo certificate user.
pub async fn certificate_app() -> App {
    let fake = Emulator::start().await;
    let pem = fake.credentials().certificate;
    App::start_against(fake, |env| use_auth(env, "certificate", &[("ANAPLAN_CERTIFICATE", &pem)])).await
}

/// How many containers one test process can hand out.
const TEST_CONTAINERS: usize = 32;

/// The containers this test process's apps allow (`BLOB_CONTAINERS`): unique to the
/// process, so that runs and test binaries never share one. The last is never created.
pub fn test_containers() -> &'static [String] {
    static NAMES: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
        let run = uuid::Uuid::new_v4().simple().to_string();
        (0..=TEST_CONTAINERS).map(|i| format!("t{}-{i}", &run[..12])).collect()
    });
    &NAMES
}

/// An allowed container of this test process that does not exist.
pub fn missing_container() -> String {
    test_containers()[TEST_CONTAINERS].clone()
}

impl App {
    /// The app with OAuth against a default fake.
    pub async fn start() -> App {
        let fake = Emulator::start().await;
        Self::start_against(fake, |_| {}).await
    }

    /// The app against `fake`, with the OAuth environment adjusted by `edit`.
    pub async fn start_against(fake: Emulator, edit: impl FnOnce(&mut Vec<(String, String)>)) -> App {
        let state_dir = tempfile::tempdir().unwrap();
        let mut env = oauth_env(&fake, state_dir.path());
        edit(&mut env);
        let host = FunctionsHost::start(&staged().root, env).await.expect("the function app starts");
        App { fake, host, http: reqwest::Client::new(), state_dir }
    }

    /// The public URL of a function, as a Logic App would call it.
    pub fn url(&self, function: &str) -> String {
        format!("{}/api/{function}", self.host.base_url())
    }

    /// GET with the function key in the header.
    pub async fn get(&self, function: &str, query: &str) -> reqwest::Response {
        self.http
            .get(format!("{}?{query}", self.url(function)))
            .header("x-functions-key", self.host.function_key())
            .send()
            .await
            .unwrap()
    }

    /// POST of a raw body (a file) with the function key in the header, and a
    /// `Content-Type` when one is given.
    pub async fn post_bytes(
        &self,
        function: &str,
        query: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> reqwest::Response {
        let mut req = self
            .http
            .post(format!("{}?{query}", self.url(function)))
            .header("x-functions-key", self.host.function_key());
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        req.body(body).send().await.unwrap()
    }

    /// POST of a JSON body with the function key in the header.
    pub async fn post(&self, function: &str, query: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(format!("{}?{query}", self.url(function)))
            .header("x-functions-key", self.host.function_key())
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// POST of a JSON body given as text (e.g. one that repeats a key, which `json!` cannot
    /// express), with the function key in the header.
    pub async fn post_json_text(&self, function: &str, query: &str, body: &str) -> reqwest::Response {
        self.http
            .post(format!("{}?{query}", self.url(function)))
            .header("x-functions-key", self.host.function_key())
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .unwrap()
    }
}

/// Reads a problem+json answer, checking its shape.
pub async fn problem(resp: reqwest::Response, status: u16) -> Value {
    assert_eq!(resp.status().as_u16(), status, "unexpected status");
    assert_eq!(
        resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).as_deref(),
        Some("application/problem+json")
    );
    let retry_after = resp.headers().get("retry-after").is_some();
    let body: Value = resp.json().await.unwrap();
    for key in ["type", "title", "detail"] {
        assert!(body[key].is_string(), "problem without {key}: {body}");
    }
    assert_eq!(body["status"], status, "{body}");
    if status == 429 || status == 503 {
        assert!(retry_after, "{status} without Retry-After");
    }
    body
}

/// Follows the asynchronous pattern as Logic Apps does: while the answer is 202, checks
/// its Location and Retry-After, waits that long and GETs the Location. Returns the first
/// non-202 answer and how many polls it took.
pub async fn follow(http: &reqwest::Client, mut resp: reqwest::Response) -> (reqwest::Response, usize) {
    let mut polls = 0;
    while resp.status() == 202 {
        let location = resp.headers().get("location").expect("202 without Location").to_str().unwrap().to_owned();
        let retry_after: u64 =
            resp.headers().get("retry-after").expect("202 without Retry-After").to_str().unwrap().parse().unwrap();
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["statusUrl"], location.as_str(), "statusUrl equals Location");
        // A blob import's upload has no task yet: then its progress is in `transfer`.
        assert!(
            (body["taskId"].is_string() || body["transfer"].is_object()) && body["taskState"].is_string(),
            "{body}"
        );
        assert!(location.starts_with("http://127.0.0.1:"), "Location is absolute: {location}");
        tokio::time::sleep(std::time::Duration::from_secs(retry_after)).await;
        // Logic Apps polls the Location as given: no extra headers, the key rides in `code`.
        resp = http.get(&location).send().await.unwrap();
        polls += 1;
        assert!(polls < 120, "the task never finished");
    }
    (resp, polls)
}

/// A fresh container in Azurite, created, that the app allows (see [`test_containers`]).
pub async fn azurite_container() -> (anaplan_functions::storage::BlobAccount, String) {
    let account = anaplan_functions::storage::BlobAccount::from_app_settings(|k| {
        (k == "AzureWebJobsStorage").then(|| "UseDevelopmentStorage=true".to_owned())
    })
    .unwrap()
    .expect("the development storage account");
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let i = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    assert!(i < TEST_CONTAINERS, "a test process uses at most {TEST_CONTAINERS} containers");
    let name = test_containers()[i].clone();
    account.ensure_container(&name).await.expect("Azurite must be running (scripts/test.sh starts it)");
    (account, name)
}

/// A whole blob, read through the handler's own streaming reader.
pub async fn read_blob(blob: &azure_storage_blob::BlobClient) -> Vec<u8> {
    use futures_util::StreamExt;
    let (_, mut stream) = anaplan_functions::storage::read_stream(blob).await.unwrap();
    let mut out = Vec::new();
    while let Some(piece) = stream.next().await {
        out.extend_from_slice(&piece.unwrap());
    }
    out
}

/// Writes a blob in one block.
pub async fn write_blob(blob: &azure_storage_blob::BlobClient, bytes: Vec<u8>) {
    let mut w = anaplan_functions::storage::BlockWriter::new(blob);
    w.append(bytes.into()).await.unwrap();
    w.finish("text/csv").await.unwrap();
}
