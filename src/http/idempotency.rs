//! `Idempotency-Key` on start requests: a repeat of a key seen in the last 24 hours returns
//! the same task instead of starting a second one, on any instance. Records live as small
//! JSON blobs in the app's storage account and are claimed with a conditional create
//! (If-None-Match: *), so of two instances racing on one key exactly one starts the task;
//! the other waits for the winner's task id.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::Problem;
use crate::anaplan::ids::TaskId;
use crate::anaplan::tasks::Task;
use crate::storage::{Created, JsonStore, StorageError};

/// The header.
pub const HEADER: &str = "idempotency-key";
/// How long a key is remembered.
pub const RETENTION: Duration = Duration::from_secs(24 * 3600);
/// A claim whose owner has not recorded a task by then is taken over (the owner died
/// between claiming and starting).
const STALE_CLAIM: Duration = Duration::from_secs(120);
/// How long a request waits for another instance to finish starting the task.
const WAIT_FOR_OWNER: Duration = Duration::from_secs(15);

/// What the key led to.
#[derive(Debug)]
pub enum Outcome {
    /// This request started the task.
    Started(Task),
    /// An earlier request with the same key started this task.
    Existing(TaskId),
}

/// The key from the request, validated (1 to 255 visible ASCII characters).
pub fn key(headers: &HeaderMap) -> Result<Option<String>, Problem> {
    let Some(v) = headers.get(HEADER) else { return Ok(None) };
    let s = v.to_str().map_err(|_| Problem::bad_parameter("Idempotency-Key must be visible ASCII"))?.trim();
    if s.is_empty() || s.len() > 255 || !s.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
        return Err(Problem::bad_parameter("Idempotency-Key must be 1 to 255 visible ASCII characters"));
    }
    Ok(Some(s.to_owned()))
}

/// The blob name of a key's record: a hash, so the key (which may carry business data)
/// is not stored in a name, and keys of different callers or functions never collide.
pub fn record_name(scope: &str, key: &str) -> String {
    crate::storage::record_name("idempotency", &[scope, key])
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Milliseconds since the epoch (records are compared across instances by wall clock).
pub(crate) fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

fn unavailable(e: StorageError) -> Problem {
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "state-storage-unavailable",
        "State storage unavailable",
        format!(
            "the app's storage account (AzureWebJobsStorage) could not be used for the Idempotency-Key record: {e}"
        ),
    )
}

/// How [`run_once`] finds out what a start whose answer was lost did.
pub struct Recovery<'a, R> {
    /// Asked with the claim's time (unix ms) and the context kept with it.
    pub recover: R,
    /// What to keep with an uncertain claim, read when the start fails.
    pub context: &'a (dyn Fn() -> Value + Sync),
}

/// What a key led to, for any kind of started thing (a task, a CloudWorks run).
#[derive(Debug)]
pub enum Claimed<T> {
    /// This request started it.
    Started(T),
    /// An earlier request with the same key started the thing with this id.
    Existing(String),
}

/// Starts the task at most once per key: `start` runs only when this request owns the key.
/// `fingerprint` identifies what was asked; the same key with another request is a 409.
pub async fn start_once<F, Fut, R, RFut>(
    store: &JsonStore,
    name: &str,
    fingerprint: &str,
    start: F,
    recovery: Recovery<'_, R>,
) -> Result<Outcome, Problem>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Task, Problem>>,
    R: FnOnce(u64, Value) -> RFut,
    RFut: Future<Output = Result<Option<String>, Problem>>,
{
    match run_once(store, name, fingerprint, start, |t: &Task| t.id.as_str().to_owned(), recovery).await? {
        Claimed::Started(task) => Ok(Outcome::Started(task)),
        Claimed::Existing(id) => {
            let id = TaskId::parse(&id).map_err(|e| unavailable(StorageError::Other(e.to_string())))?;
            Ok(Outcome::Existing(id))
        }
    }
}

/// [`start_once`] for anything with an id: `start` runs only when this request owns the
/// key, and `id_of` says what to record of what it started.
///
/// A start that failed in a way that may have reached Anaplan ([`Problem::not_repeated`])
/// keeps the key, marked uncertain with the time of the claim and `recovery.context()`
/// (what the start knew before it was sent, e.g. the tasks that existed already). The next
/// request with the key asks `recovery.recover(claim time in unix ms, context)` what that
/// start made: `Some(id)` is recorded and answered, `None` (nothing was started) lets
/// this request start it.
pub async fn run_once<T, F, Fut, R, RFut>(
    store: &JsonStore,
    name: &str,
    fingerprint: &str,
    start: F,
    id_of: impl Fn(&T) -> String,
    recovery: Recovery<'_, R>,
) -> Result<Claimed<T>, Problem>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, Problem>>,
    R: FnOnce(u64, Value) -> RFut,
    RFut: Future<Output = Result<Option<String>, Problem>>,
{
    let waited = Instant::now();
    let fresh = || json!({ "fingerprint": fingerprint, "createdAt": now(), "taskId": Value::Null });
    let Recovery { recover, context } = recovery;
    let mut recover = Some(recover);
    loop {
        let claimed_ms = now_ms();
        let owned_etag = match store.create(name, &fresh()).await.map_err(unavailable)? {
            Created::Created(etag) => Some(etag),
            Created::Exists => {
                let Some((record, etag)) = store.read(name).await.map_err(unavailable)? else {
                    continue; // deleted meanwhile (a failed start released it): claim again
                };
                let age = now().saturating_sub(record["createdAt"].as_u64().unwrap_or(0));
                let task_id = record["taskId"].as_str().map(str::to_owned);
                if age >= RETENTION.as_secs() {
                    // Expired: the key is free again.
                    store.replace(name, &fresh(), &etag).await.map_err(unavailable)?
                } else if record["fingerprint"].as_str() != Some(fingerprint) {
                    return Err(Problem::new(
                        StatusCode::CONFLICT,
                        "idempotency-key-reused",
                        "Idempotency-Key reused",
                        "this Idempotency-Key was used in the last 24 hours for a different request; use a new key",
                    ));
                } else if let Some(id) = task_id {
                    return Ok(Claimed::Existing(id));
                } else if let Some(since) = record["uncertainSince"].as_u64()
                    && let Some(recover) = recover.take()
                {
                    match recover(since, record["context"].clone()).await? {
                        Some(id) => {
                            tracing::info!(task = %id, "Idempotency-Key: the start whose answer was lost did start; recording it");
                            let done = json!({ "fingerprint": fingerprint, "createdAt": now(), "taskId": id });
                            if let Err(e) = store.replace(name, &done, &etag).await {
                                tracing::warn!(error = %e, "the Idempotency-Key record could not be completed");
                            }
                            return Ok(Claimed::Existing(id));
                        }
                        None => {
                            tracing::info!(
                                "Idempotency-Key: the start whose answer was lost did not start; starting it"
                            );
                            store.replace(name, &fresh(), &etag).await.map_err(unavailable)?
                        }
                    }
                } else if age >= STALE_CLAIM.as_secs() {
                    tracing::warn!("taking over an Idempotency-Key claim whose owner never recorded a task");
                    store.replace(name, &fresh(), &etag).await.map_err(unavailable)?
                } else if waited.elapsed() < WAIT_FOR_OWNER {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                } else {
                    return Err(Problem::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "start-in-progress",
                        "Start in progress",
                        "another request with this Idempotency-Key is still starting the task; retry shortly",
                    )
                    .retry_after(5));
                }
            }
        };
        let Some(etag) = owned_etag else { continue };
        return match start().await {
            Ok(task) => {
                let record = json!({ "fingerprint": fingerprint, "createdAt": now(), "taskId": id_of(&task) });
                match store.replace(name, &record, &etag).await {
                    Ok(Some(_)) => {}
                    Ok(None) => tracing::warn!("the Idempotency-Key record changed while the task started"),
                    Err(e) => tracing::warn!(error = %e, "the Idempotency-Key record could not be completed"),
                }
                Ok(Claimed::Started(task))
            }
            Err(problem) if problem.not_repeated() => {
                // It may have started: keep the key, so a retry finds out instead of
                // starting a second one.
                let uncertain = json!({
                    "fingerprint": fingerprint, "createdAt": now(), "taskId": Value::Null,
                    "uncertainSince": claimed_ms, "context": context(),
                });
                if let Err(e) = store.replace(name, &uncertain, &etag).await {
                    tracing::warn!(error = %e, "could not mark an Idempotency-Key claim as uncertain");
                }
                Err(problem)
            }
            Err(problem) => {
                // Release the key so a retry can start the task.
                if let Err(e) = store.delete(name, Some(&etag)).await {
                    tracing::warn!(error = %e, "could not release an Idempotency-Key claim after a failed start");
                }
                Err(problem)
            }
        };
    }
}

/// A stable fingerprint of what a start request asked for.
pub fn fingerprint(parts: &[(&str, &str)]) -> String {
    let mut h = Sha256::new();
    for (k, v) in parts {
        h.update(k.as_bytes());
        h.update([0]);
        h.update(v.as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_validated() {
        let mut h = HeaderMap::new();
        assert_eq!(key(&h).unwrap(), None);
        h.insert(HEADER, "order-42".parse().unwrap());
        assert_eq!(key(&h).unwrap().as_deref(), Some("order-42"));
        h.insert(HEADER, "x".repeat(256).parse().unwrap());
        assert!(key(&h).is_err());
    }

    #[test]
    fn record_names_depend_on_scope_and_key_and_hide_the_key() {
        let a = record_name("oauth|run-process", "k1");
        assert_ne!(a, record_name("oauth|export-file", "k1"));
        assert_ne!(a, record_name("oauth|run-process", "k2"));
        assert!(!a.contains("k1"));
        assert_eq!(a, record_name("oauth|run-process", "k1"));
    }
}
