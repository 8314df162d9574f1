//! The records of work that outlives one answer (transfers, locks): in the app's storage
//! account, shared by every instance, or, without one, in this process's memory with the
//! same conditional writes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::{Created, Etag, JsonStore, StorageError};

/// Where transfer records live: the app's storage account (shared by every instance),
/// or, without one, this process's memory (one instance only).
#[derive(Clone, Debug)]
pub enum Records {
    /// The state container of the app's storage account.
    Shared(JsonStore),
    /// This process only.
    Local(Arc<LocalRecords>),
}

/// Records in memory, with the same conditional writes as the shared store.
#[derive(Debug, Default)]
pub struct LocalRecords {
    map: Mutex<HashMap<String, (Value, u64)>>,
    next: std::sync::atomic::AtomicU64,
}

impl LocalRecords {
    fn etag(&self) -> (u64, Etag) {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        (n, Etag::from(n.to_string()))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Value, u64)>> {
        self.map.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Records {
    /// Creates `name` unless it exists.
    pub async fn create(&self, name: &str, value: &Value) -> Result<Created, StorageError> {
        match self {
            Records::Shared(s) => s.create(name, value).await,
            Records::Local(l) => {
                let (n, etag) = l.etag();
                let mut map = l.lock();
                if map.contains_key(name) {
                    return Ok(Created::Exists);
                }
                map.insert(name.to_owned(), (value.clone(), n));
                Ok(Created::Created(etag))
            }
        }
    }

    /// Reads `name` and its ETag.
    pub async fn read(&self, name: &str) -> Result<Option<(Value, Etag)>, StorageError> {
        match self {
            Records::Shared(s) => s.read(name).await,
            Records::Local(l) => Ok(l.lock().get(name).map(|(v, n)| (v.clone(), Etag::from(n.to_string())))),
        }
    }

    /// Replaces `name` if it still has `etag`; `None` when it changed or vanished.
    pub async fn replace(&self, name: &str, value: &Value, etag: &Etag) -> Result<Option<Etag>, StorageError> {
        match self {
            Records::Shared(s) => s.replace(name, value, etag).await,
            Records::Local(l) => {
                let (n, new) = l.etag();
                let mut map = l.lock();
                match map.get_mut(name) {
                    Some(entry) if entry.1.to_string() == etag.to_string() => {
                        *entry = (value.clone(), n);
                        Ok(Some(new))
                    }
                    _ => Ok(None),
                }
            }
        }
    }

    /// Deletes `name` if it still has `etag`.
    pub async fn delete(&self, name: &str, etag: &Etag) -> Result<(), StorageError> {
        match self {
            Records::Shared(s) => s.delete(name, Some(etag)).await,
            Records::Local(l) => {
                let mut map = l.lock();
                match map.get(name) {
                    Some(entry) if entry.1.to_string() == etag.to_string() => {
                        map.remove(name);
                        Ok(())
                    }
                    _ => Err(StorageError::Conflict),
                }
            }
        }
    }
}
