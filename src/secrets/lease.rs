//! The cross-instance lock on the refresh-token chain: a lease on a small blob in the
//! app's storage account. A lease expires by itself, so an instance that dies holding it
//! blocks the others for at most [`LEASE_SECONDS`].
//!
//! A refresh usually takes well under a second, but a slow vault or token service can make
//! it take longer than the lease (each call under the lock is bounded, their sum is not
//! below 20 s). So while the lock is held a background task renews the lease every
//! [`RENEW_EVERY`]: another instance never takes the chain while this one is still between
//! spending a refresh token and storing its successor. Renewing stops when the guard is
//! released or dropped, and after [`MAX_HOLD`] in any case, so a holder that hangs blocks
//! the others for at most `MAX_HOLD` plus one lease.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use azure_storage_blob::models::BlobClientAcquireLeaseResultHeaders;
use tokio::task::JoinHandle;

use crate::storage::{BlobAccount, BlockWriter};
use anaplan::AuthError;
use anaplan::auth::{ChainLock, LockGuard};

/// Lease length: longer than one refresh (a token call and two vault writes) usually takes;
/// renewed while held.
pub const LEASE_SECONDS: i32 = 20;
/// How often a held lease is renewed: a third of its length, so two renewals may fail
/// before it runs out.
pub const RENEW_EVERY: Duration = Duration::from_secs(LEASE_SECONDS as u64 / 3);
/// The longest a lease is kept renewed: well beyond the bounded work of one refresh.
pub const MAX_HOLD: Duration = Duration::from_secs(120);
/// How long an instance waits for another's refresh before answering 503.
pub const WAIT_FOR_LEASE: Duration = Duration::from_secs(45);

/// A lease-based lock on one blob.
#[derive(Debug, Clone)]
pub struct BlobLease {
    account: BlobAccount,
    container: String,
    blob: String,
}

impl BlobLease {
    /// A lock on `container/blob` of `account`.
    pub fn new(account: BlobAccount, container: &str, blob: &str) -> Self {
        BlobLease { account, container: container.to_owned(), blob: blob.to_owned() }
    }

    fn store_error(&self, what: &str, e: impl std::fmt::Display) -> AuthError {
        AuthError::Store(format!(
            "the refresh lock {}/{} in the app's storage account ({what}): {e}",
            self.container, self.blob
        ))
    }

    /// Makes sure the blob exists (a lease needs one).
    async fn ensure_blob(&self) -> Result<(), AuthError> {
        self.account.ensure_container(&self.container).await.map_err(|e| self.store_error("container", e))?;
        let client = self.account.blob(&self.container, &self.blob).map_err(|e| self.store_error("name", e))?;
        if client.exists().await.map_err(|e| self.store_error("exists", crate::storage::redact(&e.to_string())))? {
            return Ok(());
        }
        let mut w = BlockWriter::new(&client);
        // Another instance may create and lease the blob between the check and the write:
        // staging a block then conflicts (409/412), and the blob it made serves as well.
        if let Err(e) = w.append(bytes::Bytes::from_static(b"refresh-token lock\n")).await {
            if client.exists().await.unwrap_or(false) {
                return Ok(());
            }
            return Err(self.store_error("create", e));
        }
        match w.finish("text/plain").await {
            Ok(_) => Ok(()),
            // Another instance created it meanwhile, or holds a lease on it already.
            Err(_) if client.exists().await.unwrap_or(false) => Ok(()),
            Err(e) => Err(self.store_error("create", e)),
        }
    }
}

struct Held {
    client: azure_storage_blob::BlobClient,
    lease_id: String,
    renewing: JoinHandle<()>,
}

/// Renews the lease every [`RENEW_EVERY`] until [`MAX_HOLD`] has passed or a renewal is
/// refused (the lease is lost: renewing again cannot help).
async fn keep_renewed(client: azure_storage_blob::BlobClient, lease_id: String) {
    let started = Instant::now();
    while started.elapsed() + RENEW_EVERY < MAX_HOLD {
        tokio::time::sleep(RENEW_EVERY).await;
        let renewed = tokio::time::timeout(RENEW_EVERY, client.renew_lease(lease_id.clone(), None)).await;
        match renewed {
            Ok(Ok(_)) => tracing::debug!("refresh lease renewed"),
            Ok(Err(e)) if e.http_status().is_some_and(|s| u16::from(s) < 500 && u16::from(s) != 429) => {
                tracing::warn!(error = %crate::storage::redact(&e.to_string()), "the refresh lease was lost; not renewing it");
                return;
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %crate::storage::redact(&e.to_string()), "could not renew the refresh lease; trying again")
            }
            Err(_) => tracing::warn!("renewing the refresh lease timed out; trying again"),
        }
    }
    tracing::warn!(
        held_s = started.elapsed().as_secs(),
        "the refresh lease was held too long; it now expires by itself"
    );
}

impl Drop for Held {
    fn drop(&mut self) {
        // Dropped without `release` (the refresh was stopped): stop renewing, and the lease
        // runs out within LEASE_SECONDS.
        self.renewing.abort();
    }
}

#[async_trait]
impl LockGuard for Held {
    async fn release(self: Box<Self>) {
        self.renewing.abort();
        if let Err(e) = self.client.release_lease(self.lease_id.clone(), None).await {
            tracing::warn!(error = %crate::storage::redact(&e.to_string()), "could not release the refresh lease; it expires by itself");
        }
    }
}

#[async_trait]
impl ChainLock for BlobLease {
    async fn lock(&self) -> Result<Box<dyn LockGuard>, AuthError> {
        self.ensure_blob().await?;
        let client = self.account.blob(&self.container, &self.blob).map_err(|e| self.store_error("name", e))?;
        let started = Instant::now();
        let mut wait = Duration::from_millis(100);
        loop {
            match client.acquire_lease(LEASE_SECONDS, None).await {
                Ok(resp) => {
                    let lease_id = resp
                        .lease_id()
                        .map_err(|e| self.store_error("lease id", e))?
                        .ok_or_else(|| self.store_error("lease id", "missing in the answer"))?;
                    let renewer =
                        self.account.blob(&self.container, &self.blob).map_err(|e| self.store_error("name", e))?;
                    let renewing = tokio::spawn(keep_renewed(renewer, lease_id.clone()));
                    return Ok(Box::new(Held { client, lease_id, renewing }));
                }
                // 409 LeaseAlreadyPresent: another instance is refreshing.
                Err(e) if e.http_status() == Some(azure_core::http::StatusCode::Conflict) => {
                    if started.elapsed() >= WAIT_FOR_LEASE {
                        return Err(AuthError::Store(format!(
                            "another instance has held the refresh lock for {} s",
                            WAIT_FOR_LEASE.as_secs()
                        )));
                    }
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(1));
                }
                Err(e) => return Err(self.store_error("acquire", crate::storage::redact(&e.to_string()))),
            }
        }
    }
}
