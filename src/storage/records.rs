//! Small JSON documents in one container, with optimistic concurrency: every write is
//! conditional on the blob's ETag (or on its absence), so instances that race on the same
//! record cannot overwrite each other unknowingly. Used for idempotency records and the
//! metadata of locks.

use azure_core::http::{Etag, RequestContent};
use azure_storage_blob::models::{BlobClientDeleteOptions, BlobClientUploadOptions};
use sha2::Digest;

use super::names::ContainerName;
use super::{BlobAccount, StorageError};

/// A record's name in `folder`: a hash of `parts` (separated, so no two lists of parts
/// give the same name), so names stay short and carry no parameter or key text.
pub fn record_name(folder: &str, parts: &[&str]) -> String {
    let mut h = sha2::Sha256::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            h.update([0]);
        }
        h.update(part.as_bytes());
    }
    format!("{folder}/{}.json", hex::encode(h.finalize()))
}

/// The content type records are stored with.
const JSON: &str = "application/json";

/// Small JSON documents with optimistic concurrency.
#[derive(Debug, Clone)]
pub struct JsonStore {
    /// Hands out one SDK client per record, all sharing the account's connections.
    account: BlobAccount,
    container: ContainerName,
}

/// The outcome of [`JsonStore::create`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// This call created the record; its ETag.
    Created(Etag),
    /// The record already existed (another writer was first); it was left unchanged.
    Exists,
}

impl JsonStore {
    /// A store in `container`, which is created if missing.
    pub async fn open(account: &BlobAccount, container: &str) -> Result<JsonStore, StorageError> {
        let container = ContainerName::parse(container)?;
        account.ensure_container(container.as_str()).await?;
        Ok(JsonStore { account: account.clone(), container })
    }

    /// Creates record `name` unless it exists (`If-None-Match: *`): of any number of
    /// concurrent creators exactly one gets [`Created::Created`].
    pub async fn create(&self, name: &str, value: &serde_json::Value) -> Result<Created, StorageError> {
        let options = BlobClientUploadOptions { if_none_match: Some(Etag::from("*")), ..upload_options() };
        match self.upload(name, value, options).await {
            Ok(etag) => Ok(Created::Created(etag)),
            // 409 BlobAlreadyExists, or 412 from services that report the failed condition.
            Err(StorageError::Conflict) => Ok(Created::Exists),
            Err(e) => Err(e),
        }
    }

    /// Reads record `name` and its ETag; `None` when it does not exist.
    pub async fn read(&self, name: &str) -> Result<Option<(serde_json::Value, Etag)>, StorageError> {
        let what = self.what(name);
        let blob = self.blob(name)?;
        let response = match blob.download(None).await {
            Ok(r) => r,
            Err(e) => {
                return match StorageError::from_sdk(e, &what) {
                    StorageError::NotFound(_) => Ok(None),
                    other => Err(other),
                };
            }
        };
        let etag = response.properties.etag.clone().ok_or_else(|| StorageError::Other(format!("{what}: no ETag")))?;
        let body = response.body.collect().await.map_err(|e| StorageError::from_sdk(e, &what))?;
        let value =
            serde_json::from_slice(&body).map_err(|e| StorageError::Other(format!("{what} is not JSON: {e}")))?;
        Ok(Some((value, etag)))
    }

    /// Replaces record `name` if it still has `etag` (`If-Match`). Returns the new ETag, or
    /// `None` when the record changed or vanished since it was read: read it again.
    pub async fn replace(
        &self,
        name: &str,
        value: &serde_json::Value,
        etag: &Etag,
    ) -> Result<Option<Etag>, StorageError> {
        let options = BlobClientUploadOptions { if_match: Some(etag.clone()), ..upload_options() };
        match self.upload(name, value, options).await {
            Ok(etag) => Ok(Some(etag)),
            Err(StorageError::Conflict | StorageError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Deletes record `name`, only if it still has `etag` when one is given. Deleting a
    /// record that does not exist succeeds; an ETag that no longer matches is
    /// [`StorageError::Conflict`].
    pub async fn delete(&self, name: &str, etag: Option<&Etag>) -> Result<(), StorageError> {
        let what = self.what(name);
        let options = BlobClientDeleteOptions { if_match: etag.cloned(), ..Default::default() };
        match self.blob(name)?.delete(Some(options)).await {
            Ok(_) => Ok(()),
            Err(e) => match StorageError::from_sdk(e, &what) {
                StorageError::NotFound(_) if etag.is_none() => Ok(()),
                // With an ETag, a vanished record no longer matches it either.
                StorageError::NotFound(_) => Err(StorageError::Conflict),
                other => Err(other),
            },
        }
    }

    async fn upload(
        &self,
        name: &str,
        value: &serde_json::Value,
        options: BlobClientUploadOptions<'_>,
    ) -> Result<Etag, StorageError> {
        let what = self.what(name);
        let blob = self.blob(name)?;
        let body = serde_json::to_vec(value).map_err(|e| StorageError::Other(format!("{what}: {e}")))?;
        let result = blob
            .upload(RequestContent::from(body), Some(options))
            .await
            .map_err(|e| StorageError::from_sdk(e, &what))?;
        result.etag.ok_or_else(|| StorageError::Other(format!("{what}: the service returned no ETag")))
    }

    fn blob(&self, name: &str) -> Result<azure_storage_blob::BlobClient, StorageError> {
        self.account.blob(self.container.as_str(), name)
    }

    fn what(&self, name: &str) -> String {
        format!("record {}/{name}", self.container.as_str())
    }
}

fn upload_options<'a>() -> BlobClientUploadOptions<'a> {
    BlobClientUploadOptions { blob_content_type: Some(JSON.to_owned()), ..Default::default() }
}
