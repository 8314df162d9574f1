//! Secrets from the environment, with the refresh-token chain in a token file: the
//! `SecretSource` and `ChainLock` for running without a vault (locally, or one machine).

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;

use anaplan::auth::{ChainLock, LockGuard, SecretKind, SecretSource};
use anaplan::error::AuthError;
use anaplan::secret::Secret;
use anaplan::token_file::{ChainLock as FileChainLock, TokenFile};

/// Secrets given as settings. The refresh token is read from (and rotated into) the token
/// file, which starts from `ANAPLAN_REFRESH_TOKEN`; the shared access token is not kept
/// (one machine's processes each hold their own).
#[derive(Debug)]
pub struct EnvSecrets {
    values: HashMap<SecretKind, Secret>,
    chain: Option<TokenFile>,
}

impl EnvSecrets {
    /// Secrets from `values`; `chain` keeps the refresh token when there is one.
    pub fn new(values: HashMap<SecretKind, Secret>, chain: Option<TokenFile>) -> Self {
        EnvSecrets { values, chain }
    }

    fn chain(&self) -> Result<&TokenFile, AuthError> {
        self.chain.as_ref().ok_or_else(|| AuthError::Missing("no refresh token is configured".into()))
    }
}

#[async_trait]
impl SecretSource for EnvSecrets {
    async fn get(&self, kind: SecretKind) -> Result<Option<Secret>, AuthError> {
        self.get_fresh(kind).await
    }

    async fn get_fresh(&self, kind: SecretKind) -> Result<Option<Secret>, AuthError> {
        match kind {
            SecretKind::RefreshToken => {
                let chain = self.chain()?;
                chain
                    .load()
                    .map(Some)
                    .map_err(|e| AuthError::Store(format!("cannot read {}: {e}", chain.path().display())))
            }
            SecretKind::AccessToken => Ok(None),
            other => Ok(self.values.get(&other).cloned()),
        }
    }

    async fn set(&self, kind: SecretKind, value: &Secret) -> Result<(), AuthError> {
        match kind {
            SecretKind::RefreshToken => {
                let chain = self.chain()?;
                chain.save(value).map_err(|e| AuthError::Store(format!("cannot write {}: {e}", chain.path().display())))
            }
            SecretKind::AccessToken => Ok(()),
            other => Err(AuthError::Store(format!(
                "{} comes from the environment and cannot be changed here",
                crate::config::setting_name(other).unwrap_or("the secret")
            ))),
        }
    }

    async fn written_at(&self, kind: SecretKind) -> Result<Option<std::time::SystemTime>, AuthError> {
        match (kind, &self.chain) {
            (SecretKind::RefreshToken, Some(chain)) => {
                chain.saved_at().map_err(|e| AuthError::Store(format!("cannot read {}: {e}", chain.path().display())))
            }
            _ => Ok(None),
        }
    }

    fn locate(&self, kind: SecretKind) -> String {
        match crate::config::setting_name(kind) {
            Some(name) => name.to_owned(),
            None => self.describe(),
        }
    }

    fn describe(&self) -> String {
        match &self.chain {
            Some(c) => format!("the environment (refresh token chain in {})", c.path().display()),
            None => "the environment".to_owned(),
        }
    }
}

/// A lock file next to the token file: refreshes of one chain on one machine, one at a time.
#[derive(Debug)]
pub struct FileLock(pub TokenFile);

struct FileGuard(#[allow(dead_code)] FileChainLock);

#[async_trait]
impl LockGuard for FileGuard {
    async fn release(self: Box<Self>) {}
}

#[async_trait]
impl ChainLock for FileLock {
    async fn lock(&self) -> Result<Box<dyn LockGuard>, AuthError> {
        let file = self.0.clone();
        let path = file.path().display().to_string();
        let held = tokio::task::spawn_blocking(move || file.lock())
            .await
            .map_err(|e| AuthError::Store(e.to_string()))?
            .map_err(|e| AuthError::Store(format!("cannot lock {path}: {e}")))?;
        Ok(Box::new(FileGuard(held)))
    }
}

/// A lock for chains nothing else shares.
#[derive(Debug)]
pub struct NoLock;

struct NoGuard;

#[async_trait]
impl LockGuard for NoGuard {
    async fn release(self: Box<Self>) {}
}

#[async_trait]
impl ChainLock for NoLock {
    async fn lock(&self) -> Result<Box<dyn LockGuard>, AuthError> {
        Ok(Box::new(NoGuard))
    }
}

/// Shorthand for an `Arc<dyn SecretSource>`.
pub fn source(s: EnvSecrets) -> Arc<dyn SecretSource> {
    Arc::new(s)
}
