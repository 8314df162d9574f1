//! Where credentials come from, as the token code sees it: a [`SecretSource`] (the
//! environment plus a token file, or a vault) and a [`ChainLock`] that serialises refreshes
//! of one refresh-token chain (a file lock on one machine, a blob lease across instances).
//! The Anaplan client knows these traits only; the Azure implementations live elsewhere.

use std::time::SystemTime;

use async_trait::async_trait;

use super::super::error::AuthError;
use crate::secret::Secret;

/// The credentials the handler may read (and, for tokens, write).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecretKind {
    /// OAuth client id.
    ClientId,
    /// OAuth client secret (absent for device-grant clients).
    ClientSecret,
    /// The newest refresh token of the chain.
    RefreshToken,
    /// A shared access token with its expiry (`{"accessToken", "expiresAt"}`), so
    /// instances do not each refresh.
    AccessToken,
    /// PEM with the Anaplan CA certificate and its private key.
    Certificate,
    /// Basic-auth user name.
    Username,
    /// Basic-auth password.
    Password,
    /// An Anaplan SCIM API key (optional; sent as `Bearer` to SCIM only).
    ScimApiKey,
}

/// Reads and writes credentials.
#[async_trait]
pub trait SecretSource: Send + Sync + std::fmt::Debug {
    /// The value, possibly from a short-lived cache (so an admin's rotation is picked up
    /// within minutes, and an outage is bridged by the last value read).
    async fn get(&self, kind: SecretKind) -> Result<Option<Secret>, AuthError>;
    /// The value as the store has it now (for the refresh-token chain).
    async fn get_fresh(&self, kind: SecretKind) -> Result<Option<Secret>, AuthError>;
    /// Stores a new value (a new version, for a vault).
    async fn set(&self, kind: SecretKind, value: &Secret) -> Result<(), AuthError>;
    /// Stores `next`, the successor of `spent` in a refresh-token chain: like [`set`], and a
    /// store that keeps versions may retire the one that held `spent` (it can never work
    /// again). Retiring is housekeeping: its failure is never this call's.
    ///
    /// [`set`]: SecretSource::set
    async fn rotate(&self, kind: SecretKind, spent: &Secret, next: &Secret) -> Result<(), AuthError> {
        let _ = spent;
        self.set(kind, next).await
    }
    /// Stores a value that is worthless after `expires` (a shared access token): like
    /// [`set`], and a store that can mark an expiry marks it.
    ///
    /// [`set`]: SecretSource::set
    async fn set_until(&self, kind: SecretKind, value: &Secret, expires: SystemTime) -> Result<(), AuthError> {
        let _ = expires;
        self.set(kind, value).await
    }
    /// When `kind` was last written, as the store records it (`None`: not known, or never).
    /// The refresh-token chain's last refresh is read from it: a refresh writes the
    /// successor refresh token and the shared access token.
    async fn written_at(&self, kind: SecretKind) -> Result<Option<SystemTime>, AuthError> {
        let _ = kind;
        Ok(None)
    }
    /// Where the values live, for messages ("Key Vault https://...", "the environment").
    fn describe(&self) -> String;
    /// What an admin sets to provide `kind`, for messages that say what is missing
    /// ("ANAPLAN_CLIENT_SECRET", "the secret anaplan-client-secret in Key Vault https://...").
    fn locate(&self, kind: SecretKind) -> String {
        let _ = kind;
        self.describe()
    }
}

/// Serialises refreshes of one chain across processes or instances.
#[async_trait]
pub trait ChainLock: Send + Sync + std::fmt::Debug {
    /// Waits for the lock (bounded); the guard releases it.
    async fn lock(&self) -> Result<Box<dyn LockGuard>, AuthError>;
}

/// A held [`ChainLock`].
#[async_trait]
pub trait LockGuard: Send {
    /// Releases the lock now (dropping the guard releases it too, eventually: a lease
    /// expires, a file lock ends with the process).
    async fn release(self: Box<Self>);
}
