//! What `--state-dir` keeps between runs: the OAuth clients, the demo user's password, the
//! demo certificate and its key, and every live token (`state.json`), plus
//! `credentials.json` for the user. Both files are private (mode 0600): they hold secrets.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::{AccessToken, DemoCredentials, EmulatorState, Inner, LaunchError};

const STATE_FILE: &str = "state.json";
/// The file the contract names: the demo tenant's credentials.
pub const CREDENTIALS_FILE: &str = "credentials.json";

/// The persisted part of the emulator.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stored {
    pub client_id: String,
    pub client_secret: String,
    pub device_client_id: String,
    pub initial_refresh_token: String,
    pub password: String,
    /// Refresh tokens that may still be presented → their client.
    #[serde(default)]
    pub live_refresh_tokens: HashMap<String, String>,
    /// When each live refresh token was issued or last used (Unix milliseconds).
    #[serde(default)]
    pub refresh_token_used: HashMap<String, u64>,
    /// Access tokens → (expiry in Unix milliseconds, token id, refresh token id).
    #[serde(default)]
    pub access_tokens: HashMap<String, (u64, String, String)>,
    /// The tenant's SCIM API key (a fresh one when absent).
    #[serde(default)]
    pub scim_api_key: Option<String>,
    /// The demo certificate user's certificate and key (a fresh one when absent or about to
    /// expire).
    #[serde(default)]
    pub demo_certificate: Option<super::demo_cert::DemoCertificate>,
    /// True when read from disk.
    #[serde(skip)]
    pub restored: bool,
}

impl Stored {
    /// New random clients, password and first refresh token.
    pub fn fresh() -> Stored {
        Stored {
            client_id: uuid::Uuid::new_v4().simple().to_string(),
            client_secret: format!("cs-{}", uuid::Uuid::new_v4().simple()),
            device_client_id: uuid::Uuid::new_v4().simple().to_string(),
            initial_refresh_token: super::auth::new_refresh_token(),
            password: format!("pw-{}", uuid::Uuid::new_v4().simple()),
            live_refresh_tokens: HashMap::new(),
            refresh_token_used: HashMap::new(),
            access_tokens: HashMap::new(),
            scim_api_key: None,
            demo_certificate: None,
            restored: false,
        }
    }
}

/// `state.json` of `dir` when it exists.
pub fn load(dir: &Path) -> Result<Option<Stored>, LaunchError> {
    let path = dir.join(STATE_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(LaunchError::State(format!("cannot read {}: {e}", path.display()))),
    };
    let mut stored: Stored = serde_json::from_str(&text).map_err(|e| {
        LaunchError::State(format!("{} is not the emulator's state ({e}); delete it to start over", path.display()))
    })?;
    stored.restored = true;
    Ok(Some(stored))
}

fn unix_millis(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// The instant of `ms` Unix milliseconds.
pub fn from_unix_millis(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

/// Puts the stored access tokens that have not expired back into `state`.
pub fn restore_access_tokens(state: &mut EmulatorState, stored: &Stored) {
    let now_ms = unix_millis(SystemTime::now());
    let now = Instant::now();
    for (token, (expires_ms, token_id, refresh_token_id)) in &stored.access_tokens {
        if *expires_ms > now_ms {
            let expires_at = now + Duration::from_millis(expires_ms - now_ms);
            let access = AccessToken {
                expires_at,
                token_id: token_id.clone(),
                refresh_token_id: refresh_token_id.clone(),
                user: 0,
            };
            state.access_tokens.insert(token.clone(), access);
            state.issued_secrets.push(token.clone());
        }
    }
}

/// Writes `state.json` into `dir` (created when missing).
pub fn save(inner: &Inner, dir: &Path) -> Result<(), LaunchError> {
    // One writer at a time: concurrent token answers share the temporary file.
    static SAVING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _saving = SAVING.lock().unwrap_or_else(|e| e.into_inner());
    let (live_refresh_tokens, refresh_token_used, access_tokens, scim_api_key) = {
        let st = inner.state();
        let now = Instant::now();
        let wall = SystemTime::now();
        let access = st
            .access_tokens
            .iter()
            // Tokens of other users exist only through test controls: not kept.
            .filter(|(_, t)| t.expires_at > now && t.user == 0)
            .map(|(k, t)| {
                let expires = unix_millis(wall + (t.expires_at - now));
                (k.clone(), (expires, t.token_id.clone(), t.refresh_token_id.clone()))
            })
            .collect();
        let used = st.refresh_token_used.iter().map(|(k, t)| (k.clone(), unix_millis(*t))).collect();
        (st.live_refresh_tokens.clone(), used, access, Some(st.scim.api_key.clone()))
    };
    let stored = Stored {
        client_id: inner.client_id.clone(),
        client_secret: inner.client_secret.clone(),
        device_client_id: inner.device_client_id.clone(),
        initial_refresh_token: inner.initial_refresh_token.clone(),
        password: inner.password.clone(),
        live_refresh_tokens,
        refresh_token_used,
        scim_api_key,
        access_tokens,
        demo_certificate: Some(inner.demo_certificate.clone()),
        restored: false,
    };
    let text = serde_json::to_string_pretty(&stored).map_err(|e| LaunchError::State(e.to_string()))?;
    write_private(dir, STATE_FILE, text.as_bytes())
}

/// Writes `credentials.json` into `dir`.
pub fn write_credentials(dir: &Path, credentials: &DemoCredentials) -> Result<(), LaunchError> {
    let text = serde_json::to_string_pretty(credentials).map_err(|e| LaunchError::State(e.to_string()))?;
    write_private(dir, CREDENTIALS_FILE, format!("{text}\n").as_bytes())
}

/// Writes `dir/name` with mode 0600 through a temporary file and a rename, so a reader
/// never sees half a file.
fn write_private(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), LaunchError> {
    let fail = |e: std::io::Error| LaunchError::State(format!("cannot write {}: {e}", dir.join(name).display()));
    std::fs::create_dir_all(dir).map_err(fail)?;
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut options = std::fs::OpenOptions::new();
    options.create(true).write(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp).map_err(fail)?;
    file.write_all(bytes).and_then(|_| file.sync_all()).map_err(fail)?;
    std::fs::rename(&tmp, dir.join(name)).map_err(fail)
}
