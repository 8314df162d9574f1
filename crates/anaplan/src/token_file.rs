//! Where a rotated refresh token is kept when secrets come from the environment.
//!
//! `ANAPLAN_REFRESH_TOKEN` is the first token of a chain; with a rotating OAuth client each
//! refresh spends the previous token, so the newest one is written to a file together with
//! a hash of the `ANAPLAN_REFRESH_TOKEN` it descends from. The file is used while that hash
//! matches; a new `ANAPLAN_REFRESH_TOKEN` starts a new chain. An exclusive lock on a
//! sidecar file serialises refreshes between processes on the machine (`serve` and
//! `auth check`), so two of them never spend the same token.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::secret::Secret;

/// The token file of one chain.
#[derive(Debug, Clone)]
pub struct TokenFile {
    path: PathBuf,
    origin: Secret,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    /// SHA-256 of the `ANAPLAN_REFRESH_TOKEN` this chain started from.
    origin_sha256: String,
    refresh_token: String,
    /// When it was written (Unix seconds); absent in files of older versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    saved_at: Option<u64>,
}

/// An exclusive lock on the chain, released on drop.
#[derive(Debug)]
pub struct ChainLock {
    _file: File,
}

impl TokenFile {
    /// A token file at `path` for the chain that starts at `origin`.
    pub fn new(path: PathBuf, origin: Secret) -> Self {
        TokenFile { path, origin }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Creates the directory if needed and checks that the file can be written, so a
    /// read-only location is reported at start and not after a token was spent.
    pub fn check_writable(&self) -> io::Result<()> {
        self.ensure_dir()?;
        let _lock = self.open_lock_file()?;
        Ok(())
    }

    /// Takes the cross-process lock (blocking; call from a blocking thread).
    pub fn lock(&self) -> io::Result<ChainLock> {
        self.ensure_dir()?;
        let file = self.open_lock_file()?;
        file.lock()?;
        Ok(ChainLock { _file: file })
    }

    /// The newest refresh token of the chain: the stored one while it descends from the
    /// configured origin, else the origin itself.
    pub fn load(&self) -> io::Result<Secret> {
        match fs::read(&self.path) {
            Ok(bytes) => match serde_json::from_slice::<Stored>(&bytes) {
                Ok(s) if s.origin_sha256 == self.origin.fingerprint() => Ok(Secret::new(s.refresh_token)),
                // Another chain (ANAPLAN_REFRESH_TOKEN was replaced), or an unreadable file:
                // start from the configured token.
                _ => Ok(self.origin.clone()),
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(self.origin.clone()),
            Err(e) => Err(e),
        }
    }

    /// When the chain's newest token was saved here: `None` while the chain is still at its
    /// origin (nothing saved for it), or for a file that does not say.
    pub fn saved_at(&self) -> io::Result<Option<std::time::SystemTime>> {
        match fs::read(&self.path) {
            Ok(bytes) => Ok(serde_json::from_slice::<Stored>(&bytes)
                .ok()
                .filter(|s| s.origin_sha256 == self.origin.fingerprint())
                .and_then(|s| s.saved_at)
                .map(|secs| std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Saves `token` as the newest of the chain: written to a temporary file with mode 0600,
    /// flushed, then renamed over the old one, so a crash leaves the old or the new token,
    /// never half of one.
    pub fn save(&self, token: &Secret) -> io::Result<()> {
        self.ensure_dir()?;
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).ok();
        let stored = Stored {
            origin_sha256: self.origin.fingerprint(),
            refresh_token: token.expose().to_owned(),
            saved_at: now,
        };
        let body = serde_json::to_vec(&stored).map_err(io::Error::other)?;
        let tmp = self.path.with_extension(format!("tmp-{}", std::process::id()));
        {
            let mut f = private_options().open(&tmp)?;
            f.write_all(&body)?;
            f.sync_all()?;
        }
        fs::rename(&tmp, &self.path)?;
        Ok(())
    }

    fn ensure_dir(&self) -> io::Result<()> {
        match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => fs::create_dir_all(dir),
            _ => Ok(()),
        }
    }

    fn open_lock_file(&self) -> io::Result<File> {
        let mut name = self.path.as_os_str().to_owned();
        name.push(".lock");
        private_options().open(PathBuf::from(name))
    }
}

fn private_options() -> OpenOptions {
    let mut o = OpenOptions::new();
    o.create(true).write(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o
}

/// The default location: `anaplan-functions/refresh-token` under the user's config
/// directory (`$XDG_CONFIG_HOME`, else `$HOME/.config`).
pub fn default_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").filter(|v| !v.is_empty()).map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("anaplan-functions").join("refresh-token"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_starts_at_origin_and_follows_saves() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/refresh-token");
        let tf = TokenFile::new(path.clone(), Secret::new("rt-origin"));
        assert_eq!(tf.load().unwrap().expose(), "rt-origin");
        assert_eq!(tf.saved_at().unwrap(), None, "nothing saved: the origin's age is unknown");
        tf.save(&Secret::new("rt-2")).unwrap();
        assert_eq!(tf.load().unwrap().expose(), "rt-2");
        let saved = tf.saved_at().unwrap().expect("a save is dated");
        assert!(saved.elapsed().unwrap_or_default() < std::time::Duration::from_secs(60));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        // The file never stores the origin itself, only its hash.
        let text = fs::read_to_string(&path).unwrap();
        assert!(!text.contains("rt-origin"));
    }

    #[test]
    fn a_new_origin_starts_a_new_chain() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("refresh-token");
        TokenFile::new(path.clone(), Secret::new("rt-old")).save(&Secret::new("rt-old-2")).unwrap();
        let fresh = TokenFile::new(path, Secret::new("rt-new"));
        assert_eq!(fresh.load().unwrap().expose(), "rt-new");
        assert_eq!(fresh.saved_at().unwrap(), None, "the old chain's date is not the new one's");
    }

    #[test]
    fn lock_is_exclusive_between_handles() {
        let dir = tempfile::tempdir().unwrap();
        let tf = TokenFile::new(dir.path().join("t"), Secret::new("x"));
        let held = tf.lock().unwrap();
        let mut name = tf.path().as_os_str().to_owned();
        name.push(".lock");
        let other = OpenOptions::new().write(true).open(PathBuf::from(name)).unwrap();
        assert!(other.try_lock().is_err());
        drop(held);
        assert!(other.try_lock().is_ok());
    }
}
