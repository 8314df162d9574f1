//! Transfers that outlive one answer: an export written to Blob storage, a blob uploaded
//! to an import's data source. Each runs in the background of the instance that claimed
//! it, and its record in the state store says who runs it, until when that claim holds
//! (renewed while it runs), how far it got, and at the end its result or its problem. Any
//! instance answers a poll from the record; a claim that lapsed (its instance stopped or
//! was lost) is taken over by the next poll, which starts the transfer again: a transfer
//! is reported done only by the instance that finished it.
//!
//! The same records serve as locks ([`DataSourceLock`]): uploads to one import data source
//! are serialised, from the first chunk until the import that reads the file has finished.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::http::idempotency::now_ms;
use crate::http::{AppState, Problem, ProblemType};
use crate::storage::{Created, Etag, Records, StorageError};
use anaplan::Client;
use anaplan::ids::{ImportId, ModelId, TaskId, WorkspaceId};
use anaplan::tasks::{Action, ActionRef};

pub use crate::storage::record_name;

fn unavailable(e: StorageError) -> Problem {
    Problem::new(
        ProblemType::StateStorageUnavailable,
        format!("the transfer's record in the app's storage account (AzureWebJobsStorage) could not be used: {e}"),
    )
    .retry_after(5)
}

/// A transfer as a poll sees it.
#[derive(Debug)]
pub enum Seen {
    /// Still running (or just claimed by this poll): its progress.
    Running(Value),
    /// Finished: its result.
    Done(Value),
    /// Failed: the problem to answer. The next poll starts the transfer again, unless the
    /// failure is final (cancelled, or a start that may have happened).
    Failed(Problem),
}

/// The work of a transfer: given a progress reporter, the result document.
pub type Work = Box<dyn FnOnce(Progress) -> BoxFuture<'static, Result<Value, Problem>> + Send>;

/// What a running transfer reports: the record's `progress` member.
#[derive(Clone, Debug)]
pub struct Progress {
    shown: Arc<watch::Sender<Value>>,
    flush: tokio::sync::mpsc::Sender<(Value, tokio::sync::oneshot::Sender<bool>)>,
}

impl Progress {
    /// Replaces the progress shown to polls (written with the next renewal, at most a
    /// second or two later).
    pub fn set(&self, progress: Value) {
        self.shown.send_replace(progress);
    }

    /// Sets the progress and waits until the record holds it: for a step that another
    /// instance taking over must know about (e.g. that an import is being started).
    pub async fn flush(&self, progress: Value) -> Result<(), Problem> {
        self.shown.send_replace(progress.clone());
        let (ack, written) = tokio::sync::oneshot::channel();
        let lost = || unavailable(StorageError::Other("the transfer's claim was lost".to_owned()));
        self.flush.send((progress, ack)).await.map_err(|_| lost())?;
        match written.await {
            Ok(true) => Ok(()),
            _ => Err(lost()),
        }
    }
}

/// A final failure: answered by every later poll, never started again.
pub fn final_failure(problem: &Problem) -> Value {
    json!({"state": "failed", "final": true, "problem": problem.stored(), "doneMs": now_ms()})
}

/// How long a running transfer's record is left unwritten at most: it is rewritten when
/// its progress changed, and at least every third of the lease.
const WRITE_EVERY: Duration = Duration::from_secs(1);

fn running_doc(owner: &str, lease: Duration, progress: &Value, kept: &Value) -> Value {
    json!({
        "state": "running",
        "owner": owner,
        "leaseUntilMs": now_ms() + lease.as_millis() as u64,
        "progress": progress,
        "kept": kept,
    })
}

/// What becomes of a transfer whose instance stopped, decided from its last progress.
#[derive(Debug)]
pub enum Lapsed {
    /// Start it again here.
    TakeOver,
    /// It had done its work (e.g. the import it was starting is found in Anaplan): this
    /// is its result.
    Done(Value),
    /// It must not be started again: this is the final answer.
    Final(Problem),
}

/// Looks at transfer `name` and, when no live instance runs it, claims it and starts
/// `work` in the background of this instance. `kept` is stored with the record for the
/// transfer's whole life (e.g. the fingerprint of the request that made it).
///
/// A failure that is not final is answered once, and the record is left lapsed, so the
/// next poll starts the transfer again. A lapsed claim is taken over unless `on_lapse`
/// finds, from the last progress, that it got far enough not to be ([`Lapsed`]); an error
/// of `on_lapse` is answered and leaves the record as it is, for the next poll.
/// `work` makes the work from the record's `kept` document.
pub async fn ensure<L>(
    state: &AppState,
    records: &Records,
    name: &str,
    kept: Value,
    on_lapse: impl Fn(Value) -> L,
    work: impl FnOnce(&Value) -> Work,
) -> Result<Seen, Problem>
where
    L: Future<Output = Result<Lapsed, Problem>>,
{
    let lease = state.transfers.lease;
    let owner = state.instance.to_string();
    let mut work = Some(work);
    for _ in 0..5 {
        let claimed = match records.read(name).await.map_err(unavailable)? {
            None => {
                let doc = running_doc(&owner, lease, &json!({"phase": "claimed"}), &kept);
                match records.create(name, &doc).await.map_err(unavailable)? {
                    Created::Created(etag) => Some((etag, doc)),
                    Created::Exists => None,
                }
            }
            Some((doc, etag)) => match seen(&doc) {
                Some(Seen::Failed(problem)) => {
                    if doc["final"] != json!(true) {
                        // Answered once; left lapsed, so the next poll starts it again.
                        let mut lapsed = running_doc(&owner, Duration::ZERO, &json!({"phase": "failed"}), &doc["kept"]);
                        lapsed["leaseUntilMs"] = json!(0);
                        let _ = records.replace(name, &lapsed, &etag).await;
                    }
                    return Ok(Seen::Failed(problem));
                }
                Some(other) => return Ok(other),
                None => {
                    match on_lapse(doc["progress"].clone()).await? {
                        Lapsed::Final(problem) => {
                            let mut failed = final_failure(&problem);
                            failed["kept"] = doc["kept"].clone();
                            let _ = records.replace(name, &failed, &etag).await.map_err(unavailable)?;
                            return Ok(Seen::Failed(problem));
                        }
                        Lapsed::Done(result) => {
                            tracing::info!(record = name, "a transfer whose instance stopped had done its work");
                            let done = json!({"state": "done", "owner": owner, "result": result,
                                              "kept": doc["kept"], "doneMs": now_ms()});
                            if records.replace(name, &done, &etag).await.map_err(unavailable)?.is_none() {
                                continue; // changed meanwhile: look again
                            }
                            return Ok(Seen::Done(result));
                        }
                        Lapsed::TakeOver => {}
                    }
                    // A lapsed claim: taken over.
                    tracing::warn!(record = name, "a transfer was not renewed by its instance; starting it again here");
                    let doc = running_doc(&owner, lease, &json!({"phase": "restarting"}), &doc["kept"]);
                    records.replace(name, &doc, &etag).await.map_err(unavailable)?.map(|etag| (etag, doc))
                }
            },
        };
        if let Some((etag, doc)) = claimed {
            let make = work.take().expect("claimed once");
            let (tx, rx) = watch::channel(doc["progress"].clone());
            let (flush, flushes) = tokio::sync::mpsc::channel(1);
            let work = make(&doc["kept"])(Progress { shown: Arc::new(tx), flush });
            let claim = Claim {
                records: records.clone(),
                name: name.to_owned(),
                owner,
                lease,
                etag,
                kept: doc["kept"].clone(),
            };
            tokio::spawn(drive(claim, work, rx, flushes));
            return Ok(Seen::Running(doc["progress"].clone()));
        }
    }
    Err(unavailable(StorageError::Other("the transfer's record kept changing while it was claimed".to_owned())))
}

/// What a record says, or `None` for a running transfer whose claim lapsed.
fn seen(doc: &Value) -> Option<Seen> {
    match doc["state"].as_str() {
        Some("done") => Some(Seen::Done(doc["result"].clone())),
        Some("failed") => Some(Seen::Failed(Problem::from_stored(&doc["problem"]))),
        _ if doc["leaseUntilMs"].as_u64().unwrap_or(0) > now_ms() => Some(Seen::Running(doc["progress"].clone())),
        _ => None,
    }
}

/// Reads transfer `name` without claiming it: `None` when there is no record (or its
/// claim lapsed, which the caller should treat as "start it again").
pub async fn look(records: &Records, name: &str) -> Result<Option<(Seen, Value)>, Problem> {
    Ok(records.read(name).await.map_err(unavailable)?.and_then(|(doc, _)| seen(&doc).map(|s| (s, doc["kept"].clone()))))
}

/// The record of transfer `name` as it is, with its ETag.
pub async fn raw(records: &Records, name: &str) -> Result<Option<(Value, Etag)>, Problem> {
    records.read(name).await.map_err(unavailable)
}

/// Ends transfer `name` with a final `problem` (a cancellation), unless it changed since
/// `etag` was read: `false` then. The instance running it stops at its next write.
pub async fn end(records: &Records, name: &str, doc: &Value, etag: &Etag, problem: &Problem) -> Result<bool, Problem> {
    let mut failed = final_failure(problem);
    failed["kept"] = doc["kept"].clone();
    Ok(records.replace(name, &failed, etag).await.map_err(unavailable)?.is_some())
}

/// Longest pause of a held answer between looks at a transfer's record (a small read of
/// the app's own state store, so it may look often).
const HOLD_POLL: Duration = Duration::from_millis(500);

/// Holds until the transfer is no longer running or until `until`; returns what was last
/// seen. A record that lapsed meanwhile shows as running: the next poll takes it over.
pub async fn hold(records: &Records, name: &str, seen: Seen, until: tokio::time::Instant) -> Result<Seen, Problem> {
    crate::http::long_running::hold(
        seen,
        until,
        HOLD_POLL,
        |s| !matches!(s, Seen::Running(_)),
        |_| async move {
            Ok(look(records, name).await?.map(|(s, _)| s).unwrap_or(Seen::Running(json!({"phase": "restarting"}))))
        },
    )
    .await
}

/// A claimed transfer record.
struct Claim {
    records: Records,
    name: String,
    owner: String,
    lease: Duration,
    etag: Etag,
    kept: Value,
}

/// Runs `work`, renewing the claim and writing progress; at the end writes the result or
/// the problem. A claim found taken over (the record changed under it) stops the work.
async fn drive(
    claim: Claim,
    work: BoxFuture<'static, Result<Value, Problem>>,
    mut rx: watch::Receiver<Value>,
    mut flushes: tokio::sync::mpsc::Receiver<(Value, tokio::sync::oneshot::Sender<bool>)>,
) {
    let Claim { records, name, owner, lease, mut etag, kept } = claim;
    let mut work = std::pin::pin!(work);
    let renew_every = (lease / 3).max(WRITE_EVERY);
    let mut last_write = tokio::time::Instant::now();
    let mut tick = tokio::time::interval(WRITE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let outcome = loop {
        tokio::select! {
            out = &mut work => break out,
            Some((progress, ack)) = flushes.recv() => {
                match records.replace(&name, &running_doc(&owner, lease, &progress, &kept), &etag).await {
                    Ok(Some(next)) => {
                        etag = next;
                        last_write = tokio::time::Instant::now();
                        let _ = ack.send(true);
                    }
                    Ok(None) => {
                        tracing::warn!(record = %name, "the transfer was taken over or cancelled; stopping it here");
                        return;
                    }
                    Err(e) => {
                        tracing::warn!(record = %name, error = %e, "could not write the transfer's progress");
                        let _ = ack.send(false);
                    }
                }
            }
            _ = tick.tick() => {
                let changed = rx.has_changed().unwrap_or(false);
                if !changed && last_write.elapsed() < renew_every {
                    continue;
                }
                let progress = rx.borrow_and_update().clone();
                match records.replace(&name, &running_doc(&owner, lease, &progress, &kept), &etag).await {
                    Ok(Some(next)) => {
                        etag = next;
                        last_write = tokio::time::Instant::now();
                    }
                    Ok(None) => {
                        tracing::warn!(record = %name, "the transfer was taken over or cancelled; stopping it here");
                        return;
                    }
                    Err(e) if last_write.elapsed() >= lease => {
                        tracing::warn!(record = %name, error = %e, "the transfer's claim could not be renewed in time; stopping it here");
                        return;
                    }
                    Err(e) => tracing::warn!(record = %name, error = %e, "could not renew the transfer's claim; trying again"),
                }
            }
        }
    };
    let doc = match outcome {
        Ok(result) => {
            tracing::info!(record = %name, "transfer done");
            json!({"state": "done", "owner": owner, "result": result, "kept": kept, "doneMs": now_ms()})
        }
        Err(problem) => {
            tracing::warn!(record = %name, status = problem.status().as_u16(), detail = %problem.body()["detail"], "transfer failed");
            // A start that may have reached Anaplan is not made again.
            let is_final = problem.not_repeated();
            json!({"state": "failed", "final": is_final, "owner": owner, "problem": problem.stored(), "kept": kept, "doneMs": now_ms()})
        }
    };
    for attempt in 0..5u32 {
        match records.replace(&name, &doc, &etag).await {
            Ok(_) => return,
            Err(e) => {
                tracing::warn!(record = %name, error = %e, attempt, "could not write the transfer's outcome; trying again");
                tokio::time::sleep(Duration::from_millis(500) * 2u32.pow(attempt)).await;
            }
        }
    }
    tracing::error!(record = %name, "the transfer's outcome could not be written; its claim lapses and the next poll starts it again");
}

/// The lock that serialises uploads to one import data source, across instances. Held
/// (and renewed) while the file is uploaded, then handed to the import task that reads
/// it: until that task has finished, no other upload to the file begins.
pub struct DataSourceLock {
    records: Records,
    name: String,
    etag: Arc<tokio::sync::Mutex<Etag>>,
    renewing: JoinHandle<()>,
    /// Tells the renewer to stop between two renewals.
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    owner: String,
    /// Handed to a task: dropping it then frees nothing.
    handed: bool,
}

/// How often a waiting upload looks at the lock again.
const LOCK_POLL: Duration = Duration::from_millis(500);

impl DataSourceLock {
    /// Takes the lock on the data source `file` of model `model`, waiting until `until`
    /// for an upload or import in progress to finish. `on_wait` is told once when it has
    /// to wait.
    pub async fn acquire(
        state: &AppState,
        client: &Client,
        records: &Records,
        (ws, model, file): (&WorkspaceId, &ModelId, &str),
        until: tokio::time::Instant,
        on_wait: impl Fn(&str),
    ) -> Result<DataSourceLock, Problem> {
        let name = record_name("locks/data-source", &[ws.as_str(), model.as_str(), file]);
        let owner = format!("{}/{}", state.instance, azure_core::Uuid::new_v4());
        let lease = state.transfers.lease;
        let mine = || json!({"owner": owner, "leaseUntilMs": now_ms() + lease.as_millis() as u64});
        let mut told = false;
        loop {
            let got = match records.read(&name).await.map_err(unavailable)? {
                None => match records.create(&name, &mine()).await.map_err(unavailable)? {
                    Created::Created(etag) => Some(etag),
                    Created::Exists => None,
                },
                Some((doc, etag)) => {
                    let free = if doc["leaseUntilMs"].as_u64().unwrap_or(0) > now_ms() {
                        false
                    } else {
                        match (doc["importId"].as_str(), doc["taskId"].as_str()) {
                            (Some(import), Some(task)) => !task_running(client, ws, model, import, task).await?,
                            _ => true,
                        }
                    };
                    if free { records.replace(&name, &mine(), &etag).await.map_err(unavailable)? } else { None }
                }
            };
            if let Some(etag) = got {
                let etag = Arc::new(tokio::sync::Mutex::new(etag));
                let (stop, stopped) = tokio::sync::oneshot::channel();
                let renewing = tokio::spawn(renew_lock(
                    records.clone(),
                    name.clone(),
                    owner.clone(),
                    lease,
                    etag.clone(),
                    stopped,
                ));
                return Ok(DataSourceLock {
                    records: records.clone(),
                    name,
                    etag,
                    renewing,
                    stop: Some(stop),
                    owner,
                    handed: false,
                });
            }
            if !told {
                on_wait("waiting for another upload or import of this data source to finish");
                told = true;
            }
            if tokio::time::Instant::now() + LOCK_POLL >= until {
                return Err(Problem::new(ProblemType::DataSourceBusy, format!(
                        "another upload to the import's data source file {file}, or the import that reads it, is still in progress; uploads to one file are made one at a time so they cannot mix: try again later"
                    ),
                )
                .retry_after(state.poll_seconds));
            }
            tokio::time::sleep(LOCK_POLL).await;
        }
    }

    /// Hands the lock to the import task that reads the uploaded file: it stays taken
    /// until that task has finished (checked by the next upload), even if this instance
    /// stops.
    pub async fn hand_to_task(mut self, import: &ImportId, task: &TaskId) {
        // Stopped between renewals, so the ETag below is the record's latest.
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.renewing).await;
        self.handed = true;
        let etag = self.etag.lock().await.clone();
        let doc = json!({"owner": self.owner, "leaseUntilMs": 0, "importId": import.as_str(), "taskId": task.as_str()});
        match self.records.replace(&self.name, &doc, &etag).await {
            Ok(Some(_)) => {}
            Ok(None) => tracing::warn!("the data source lock was lost before it could be handed to the import task"),
            Err(e) => {
                tracing::warn!(error = %e, "could not hand the data source lock to the import task; it lapses by itself")
            }
        }
    }
}

impl DataSourceLock {
    /// Hands the lock on data source `file` to import task `task` when nobody holds it
    /// (its holder stopped): for an import found started by a transfer whose instance was
    /// lost, so no other upload changes the file while it runs.
    pub async fn assign_lapsed(
        records: &Records,
        (ws, model, file): (&WorkspaceId, &ModelId, &str),
        import: &ImportId,
        task: &TaskId,
    ) -> Result<(), Problem> {
        let name = record_name("locks/data-source", &[ws.as_str(), model.as_str(), file]);
        let doc =
            json!({"owner": "recovered", "leaseUntilMs": 0, "importId": import.as_str(), "taskId": task.as_str()});
        match records.read(&name).await.map_err(unavailable)? {
            None => {
                records.create(&name, &doc).await.map_err(unavailable)?;
            }
            Some((held, etag)) => {
                let lapsed = held["leaseUntilMs"].as_u64().unwrap_or(0) <= now_ms() && held["taskId"].is_null();
                if lapsed {
                    records.replace(&name, &doc, &etag).await.map_err(unavailable)?;
                }
            }
        }
        Ok(())
    }

    /// Stops renewing the lock without freeing it: it lapses after its lease. For an
    /// upload whose import may or may not have started (its start's answer was lost): the
    /// file is left alone for a while in case that import is reading it.
    pub fn keep_until_lapsed(mut self) {
        self.renewing.abort();
        self.handed = true;
    }
}

impl Drop for DataSourceLock {
    /// Released without a task (the upload failed): freed at once when possible, else it
    /// lapses after its lease.
    fn drop(&mut self) {
        self.renewing.abort();
        if self.handed {
            return;
        }
        let (records, name, etag) = (self.records.clone(), self.name.clone(), self.etag.clone());
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                let etag = etag.lock().await.clone();
                let _ = records.delete(&name, &etag).await;
            });
        }
    }
}

async fn renew_lock(
    records: Records,
    name: String,
    owner: String,
    lease: Duration,
    etag: Arc<tokio::sync::Mutex<Etag>>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(lease / 3) => {}
            _ = &mut stop => return,
        }
        let mut held = etag.lock().await;
        let doc = json!({"owner": owner, "leaseUntilMs": now_ms() + lease.as_millis() as u64});
        match records.replace(&name, &doc, &held).await {
            Ok(Some(next)) => *held = next,
            Ok(None) => {
                tracing::warn!("the data source lock was lost");
                return;
            }
            Err(e) => tracing::warn!(error = %e, "could not renew the data source lock; trying again"),
        }
    }
}

/// Whether import task `task` is still queued or running (so its file must not change).
async fn task_running(
    client: &Client,
    ws: &WorkspaceId,
    model: &ModelId,
    import: &str,
    task: &str,
) -> Result<bool, Problem> {
    let (Ok(import), Ok(task)) = (ImportId::parse(import), TaskId::parse(task)) else { return Ok(false) };
    let action = ActionRef { workspace: ws.clone(), model: model.clone(), action: Action::Import(import) };
    match client.task(&action, &task).await {
        Ok(t) => Ok(!t.state.is_terminal()),
        // A task Anaplan no longer knows holds nothing.
        Err(anaplan::AnaplanError::Api { status: 404, .. }) => Ok(false),
        Err(e) => Err(Problem::from(e)),
    }
}
