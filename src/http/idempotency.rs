//! `Idempotency-Key` on start requests: a repeat of a key seen in the last 24 hours returns
//! the same task instead of starting a second one, on any instance. Records live as small
//! JSON blobs in the app's storage account and are claimed with a conditional create
//! (If-None-Match: *), so of two instances racing on one key exactly one starts the task;
//! the other waits for the winner's task id. A record says when its owner answers at the
//! latest and, once the start is sent, what the start knew before (see [`Sending`]), so a
//! start whose owner died, was recycled or stalled is looked for in Anaplan before anything
//! starts again: one key, one task.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::HeaderMap;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{Problem, ProblemType};
use crate::storage::{Created, Etag, JsonStore, StorageError};
use anaplan::ids::TaskId;
use anaplan::tasks::Task;

/// The header.
pub const HEADER: &str = "idempotency-key";
/// How long a key is remembered.
pub const RETENTION: Duration = Duration::from_secs(24 * 3600);
/// A claim of a record written before claims said when their owner answers counts as
/// abandoned after this long.
const STALE_CLAIM: Duration = Duration::from_secs(120);
/// How long a request waits for another instance to finish starting the task.
const WAIT_FOR_OWNER: Duration = Duration::from_secs(15);
/// Waiting for another instance ends this long before the waiting request's deadline.
const WAIT_MARGIN: Duration = Duration::from_secs(5);

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
        ProblemType::StateStorageUnavailable,
        format!(
            "the app's storage account (AzureWebJobsStorage) could not be used for the Idempotency-Key record: {e}"
        ),
    )
}

/// How long past its owner's answer deadline a claim without a task counts as abandoned
/// (clocks of two instances may differ a little).
const OWNER_GRACE_MS: u64 = 5_000;
/// How long the record writes around a start may take before the answer goes on without
/// them (a stalled storage account must not turn a started task into a 504).
const RECORD_WRITE: Duration = Duration::from_secs(5);

/// How [`run_once`] finds out what a start whose answer was lost did.
pub struct Recovery<R> {
    /// Asked with the time the start was sent (unix ms) and the context [`Sending::mark`]
    /// kept with it: `Some(id)` when that start made something, `None` when it surely did
    /// not (then this request starts it), an error when it cannot tell.
    pub recover: R,
}

/// What a key led to, for any kind of started thing (a task, a CloudWorks run).
#[derive(Debug)]
pub enum Claimed<T> {
    /// This request started it.
    Started(T),
    /// An earlier request with the same key started the thing with this id.
    Existing(String),
}

/// Handed to the start of a keyed request: [`Sending::mark`] must be called right before
/// the request that may start something is sent, so that the key's record says so even if
/// this instance dies while it is in flight.
#[derive(Clone)]
pub struct Sending {
    inner: Option<Arc<SendingInner>>,
}

struct SendingInner {
    store: JsonStore,
    name: String,
    /// The record as last written, and its ETag.
    record: std::sync::Mutex<(Value, Etag)>,
    deadline: tokio::time::Instant,
}

impl SendingInner {
    fn current(&self) -> (Value, Etag) {
        self.record.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

/// `fut`, a write of the key's record, given at most [`RECORD_WRITE`] and never past
/// `deadline`.
async fn bounded<T>(
    deadline: tokio::time::Instant,
    fut: impl Future<Output = Result<T, StorageError>>,
) -> Result<T, StorageError> {
    let by = (tokio::time::Instant::now() + RECORD_WRITE).min(deadline);
    tokio::time::timeout_at(by, fut)
        .await
        .unwrap_or_else(|_| Err(StorageError::Other("the record write timed out".to_owned())))
}

impl Sending {
    /// For a start without a key: marking does nothing.
    pub fn none() -> Sending {
        Sending { inner: None }
    }

    /// Records that the start is being sent now, with `context`: what the start knew
    /// before it was sent (e.g. the tasks that existed already), for whoever has to find
    /// out later what it did. When the record cannot be written the start must not be sent.
    pub async fn mark(&self, context: Value) -> Result<(), Problem> {
        let Some(inner) = &self.inner else { return Ok(()) };
        let (mut doc, etag) = inner.current();
        doc["uncertainSince"] = json!(now_ms());
        doc["context"] = context;
        let written =
            bounded(inner.deadline, inner.store.replace(&inner.name, &doc, &etag)).await.map_err(unavailable)?;
        match written {
            Some(next) => {
                *inner.record.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = (doc, next);
                Ok(())
            }
            None => Err(unavailable(StorageError::Other("the Idempotency-Key record changed meanwhile".to_owned()))),
        }
    }
}

/// Starts the task at most once per key: `start` runs only when this request owns the key.
/// `fingerprint` identifies what was asked; the same key with another request is a 409.
pub async fn start_once<F, Fut, R, RFut>(
    store: &JsonStore,
    name: &str,
    fingerprint: &str,
    deadline: tokio::time::Instant,
    start: F,
    recovery: Recovery<R>,
) -> Result<Outcome, Problem>
where
    F: FnOnce(Sending) -> Fut,
    Fut: Future<Output = Result<Task, Problem>>,
    R: FnOnce(u64, Value) -> RFut,
    RFut: Future<Output = Result<Option<String>, Problem>>,
{
    match run_once(store, name, fingerprint, deadline, start, |t: &Task| t.id.as_str().to_owned(), recovery).await? {
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
/// The record goes through three states: claimed (by a request that answers by
/// `deadline`), sent ([`Sending::mark`]: the start may have reached Anaplan from then on),
/// and done (the id of what it started). A start refused for sure releases the key. A start
/// whose answer was lost ([`Problem::not_repeated`]) leaves the record sent. A request
/// that finds a record without an id whose owner is gone (it answered, or its deadline
/// passed: it died, was recycled or stalled) does not start anything before it has asked
/// `recovery.recover(time sent, context)` what that start made: `Some(id)` is recorded and
/// answered, `None` (nothing was started) lets this request start it. A claim that was
/// never sent is simply taken over. One key, one task.
pub async fn run_once<T, F, Fut, R, RFut>(
    store: &JsonStore,
    name: &str,
    fingerprint: &str,
    deadline: tokio::time::Instant,
    start: F,
    id_of: impl Fn(&T) -> String,
    recovery: Recovery<R>,
) -> Result<Claimed<T>, Problem>
where
    F: FnOnce(Sending) -> Fut,
    Fut: Future<Output = Result<T, Problem>>,
    R: FnOnce(u64, Value) -> RFut,
    RFut: Future<Output = Result<Option<String>, Problem>>,
{
    // Waiting for another owner ends in time for this request's own answer.
    let wait_until =
        (tokio::time::Instant::now() + WAIT_FOR_OWNER).min(deadline.checked_sub(WAIT_MARGIN).unwrap_or(deadline));
    // The owner's answer deadline, on the wall clock other instances read.
    let owner_until = now_ms() + deadline.saturating_duration_since(tokio::time::Instant::now()).as_millis() as u64;
    let fresh = || json!({ "fingerprint": fingerprint, "createdAt": now(), "taskId": Value::Null, "ownerUntilMs": owner_until });
    let mut recover = Some(recovery.recover);
    loop {
        let owned_etag = match store.create(name, &fresh()).await.map_err(unavailable)? {
            Created::Created(etag) => Some(etag),
            Created::Exists => {
                let Some((record, etag)) = store.read(name).await.map_err(unavailable)? else {
                    continue; // deleted meanwhile (a failed start released it): claim again
                };
                let age = now().saturating_sub(record["createdAt"].as_u64().unwrap_or(0));
                let task_id = record["taskId"].as_str().map(str::to_owned);
                // Records written before owners said when they answer: two minutes.
                let gone_at = record["ownerUntilMs"]
                    .as_u64()
                    .map(|until| until + OWNER_GRACE_MS)
                    .unwrap_or_else(|| (record["createdAt"].as_u64().unwrap_or(0) + STALE_CLAIM.as_secs()) * 1000);
                if age >= RETENTION.as_secs() {
                    // Expired: the key is free again.
                    store.replace(name, &fresh(), &etag).await.map_err(unavailable)?
                } else if record["fingerprint"].as_str() != Some(fingerprint) {
                    return Err(Problem::new(
                        ProblemType::IdempotencyKeyReused,
                        "this Idempotency-Key was used in the last 24 hours for a different request; use a new key",
                    ));
                } else if let Some(id) = task_id {
                    return Ok(Claimed::Existing(id));
                } else if now_ms() < gone_at {
                    // Its owner is still at work: wait for its task id.
                    if tokio::time::Instant::now() + Duration::from_millis(200) < wait_until {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        continue;
                    }
                    return Err(in_progress());
                } else if let Some(since) = record["uncertainSince"].as_u64() {
                    // Its owner sent the start and did not record what it made.
                    let Some(recover) = recover.take() else { return Err(in_progress()) };
                    match recover(since, record["context"].clone()).await? {
                        Some(id) => {
                            tracing::info!(task = %id, "Idempotency-Key: the start whose answer was lost did start; recording it");
                            let done = json!({ "fingerprint": fingerprint, "createdAt": now(), "taskId": id });
                            match store.replace(name, &done, &etag).await {
                                Ok(Some(_)) => {}
                                Ok(None) => continue, // someone else recorded it meanwhile: read it
                                Err(e) => {
                                    tracing::warn!(error = %e, "the Idempotency-Key record could not be completed")
                                }
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
                } else {
                    tracing::warn!("taking over an Idempotency-Key claim whose owner never sent its start");
                    store.replace(name, &fresh(), &etag).await.map_err(unavailable)?
                }
            }
        };
        let Some(etag) = owned_etag else { continue };
        let inner = Arc::new(SendingInner {
            store: store.clone(),
            name: name.to_owned(),
            record: std::sync::Mutex::new((fresh(), etag)),
            deadline,
        });
        let outcome = start(Sending { inner: Some(inner.clone()) }).await;
        let (mut record, etag) = inner.current();
        return match outcome {
            Ok(task) => {
                let done = json!({ "fingerprint": fingerprint, "createdAt": now(), "taskId": id_of(&task) });
                match bounded(deadline, store.replace(name, &done, &etag)).await {
                    Ok(Some(_)) => {}
                    Ok(None) => tracing::warn!("the Idempotency-Key record changed while the task started"),
                    // Left as sent: the next request with the key finds the task in Anaplan.
                    Err(e) => tracing::warn!(error = %e, "the Idempotency-Key record could not be completed"),
                }
                Ok(Claimed::Started(task))
            }
            Err(problem) if problem.not_repeated() => {
                // It may have started: the record stays sent, and says its owner is done,
                // so the next request with the key finds out at once instead of waiting.
                if record.get("uncertainSince").is_none() {
                    record["uncertainSince"] = json!(now_ms());
                }
                record["ownerUntilMs"] = json!(0);
                if let Err(e) = bounded(deadline, store.replace(name, &record, &etag)).await {
                    tracing::warn!(error = %e, "could not mark an Idempotency-Key claim as uncertain");
                }
                Err(problem)
            }
            Err(problem) => {
                // Nothing started: release the key so a retry can start the task.
                if let Err(e) = bounded(deadline, store.delete(name, Some(&etag))).await {
                    tracing::warn!(error = %e, "could not release an Idempotency-Key claim after a failed start");
                }
                Err(problem)
            }
        };
    }
}

fn in_progress() -> Problem {
    Problem::new(
        ProblemType::StartInProgress,
        "another request with this Idempotency-Key is still starting the task; retry shortly",
    )
    .retry_after(5)
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
