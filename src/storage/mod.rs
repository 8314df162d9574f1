//! Azure Blob storage: where exports are written, imports are read from, and state shared
//! between instances (idempotency records, lock metadata) is kept.
//!
//! - [`BlobAccount`]: which account and how to authenticate, from `AzureWebJobsStorage`
//!   (or its identity-based `__` settings) and `EXPORT_STORAGE_URL`; it hands out the
//!   official SDK's clients. An account key is never sent: the handler signs short-lived
//!   account SASs with it, because `azure_storage_blob` speaks only Entra ID and SAS.
//! - [`ContainerName`], [`BlobName`]: names checked against Azure's rules before they are
//!   put into a URL.
//! - [`JsonStore`]: small JSON documents with optimistic concurrency (ETags).
//! - [`BlockWriter`], [`read_stream`]: large blobs written block by block and read as a
//!   stream, never whole in memory.
//!
//! Every failure is a [`StorageError`], whose text never carries a key or a SAS.

mod account;
pub mod containers;
pub mod grant;
mod names;
mod records;
mod sas;
mod settings;
mod state_records;
mod transfer;

pub use account::BlobAccount;
pub use azure_core::http::Etag;
pub use containers::AllowedContainers;
pub use names::{BlobName, ContainerName};
pub use records::{Created, JsonStore, record_name};
pub use state_records::{LocalRecords, Records};
pub use transfer::{BlockWriter, read_stream};

use azure_core::error::ErrorKind;

/// What went wrong with blob storage, in terms a caller can act on. Never includes an
/// account key, a SAS or a URL's query string.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StorageError {
    /// A storage setting is missing or malformed; `serve` stops at start with this line.
    #[error("setting {name}: {problem}")]
    Setting {
        /// The setting's name, e.g. `AzureWebJobsStorage`.
        name: &'static str,
        /// What is wrong with it (never its value: it may hold a key or a SAS).
        problem: String,
    },
    /// A container or blob name breaks Azure's naming rules (the caller's fault).
    #[error("{0}")]
    InvalidName(String),
    /// Storage refused the credentials or the SAS (wrong key, expired or too narrow SAS,
    /// identity without a role): an admin must act, retrying will not help.
    #[error("storage refused the request: {0}")]
    Denied(String),
    /// Storage could not be reached, or was busy or failing, after retries.
    #[error("storage is unavailable: {0}")]
    Unavailable(String),
    /// A condition did not hold: the blob exists, its ETag changed, or a lease is held.
    #[error("storage conflict: the blob changed or exists")]
    Conflict,
    /// The container or blob does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The container written to does not exist (it is never created implicitly).
    #[error("not found: {0}")]
    NoContainer(String),
    /// Anything else.
    #[error("storage error: {0}")]
    Other(String),
}

impl StorageError {
    /// Classifies an SDK error. `what` names the object ("blob records/x.json") for the
    /// message. Status codes decide the variant; the message comes from the service's
    /// error body, and everything is scrubbed of query strings, because transport errors
    /// quote the request URL and that URL carries the SAS.
    pub(crate) fn from_sdk(err: azure_core::Error, what: &str) -> StorageError {
        match err.kind() {
            ErrorKind::HttpResponse { status, error_code, .. } => {
                let status = u16::from(*status);
                let code = error_code.clone().unwrap_or_default();
                let message = azure_storage_blob::StorageError::try_from(err)
                    .ok()
                    .and_then(|e| {
                        let detail = e.authentication_error_detail.map(|d| format!(" ({d})")).unwrap_or_default();
                        e.message.map(|m| format!("{m}{detail}"))
                    })
                    .unwrap_or_default();
                let text = redact(&format!("{what}: {status} {code} {}", one_line(&message)));
                let text = text.trim_end().to_owned();
                match status {
                    404 => StorageError::NotFound(text),
                    409 | 412 => StorageError::Conflict,
                    401 | 403 => StorageError::Denied(format!(
                        "{text} (check the account key or SAS, its permissions and expiry, or the identity's role on the account)"
                    )),
                    408 | 429 | 500..=599 => StorageError::Unavailable(text),
                    _ => StorageError::Other(text),
                }
            }
            ErrorKind::Io | ErrorKind::Connection => StorageError::Unavailable(format!("{what}: {}", chain(&err))),
            ErrorKind::Credential => {
                StorageError::Denied(format!("{what}: no access token for storage: {}", chain(&err)))
            }
            _ => StorageError::Other(format!("{what}: {}", chain(&err))),
        }
    }
}

/// The error and its sources on one line, scrubbed of query strings.
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = one_line(&e.to_string());
        // Wrappers often repeat their source's text; say it once.
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    redact(&parts.join(": "))
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Removes the query string of every URL in `text`, and any `sig=` value left elsewhere:
/// a SAS must never reach a log line or a response body through an error message.
/// Removes query strings (SAS tokens) from URLs in an error text.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        // Copy up to the end of the URL's host and path, then skip its query.
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail.find(|c: char| c.is_whitespace() || matches!(c, ')' | '"' | '\'' | '>')).unwrap_or(tail.len());
        let url = &tail[..end];
        match url.find('?') {
            Some(q) => {
                out.push_str(&url[..q]);
                out.push_str("?[redacted]");
            }
            None => out.push_str(url),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    // A bare SAS outside any URL (e.g. quoted from a connection string). ASCII lowercasing
    // keeps byte offsets, so positions found in `lower` are valid in `out`.
    let lower = out.to_ascii_lowercase();
    let mut scrubbed = String::with_capacity(out.len());
    let mut pos = 0;
    while let Some(i) = lower[pos..].find("sig=") {
        let start = pos + i + 4;
        let end =
            out[start..].find(|c: char| c == '&' || c == ';' || c.is_whitespace()).map_or(out.len(), |e| start + e);
        scrubbed.push_str(&out[pos..start]);
        scrubbed.push_str("[redacted]");
        pos = end;
    }
    scrubbed.push_str(&out[pos..]);
    scrubbed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_removes_queries_and_signatures() {
        let t = redact(
            "error sending request for url (http://127.0.0.1:10000/devstoreaccount1/c/b?comp=block&sv=2026-04-06&sig=abc%2B) then https://x.blob.core.windows.net/ ok",
        );
        assert_eq!(
            t,
            "error sending request for url (http://127.0.0.1:10000/devstoreaccount1/c/b?[redacted]) then https://x.blob.core.windows.net/ ok"
        );
        assert_eq!(redact("SharedAccessSignature=sv=1&sig=AbC/+=;x"), "SharedAccessSignature=sv=1&sig=[redacted];x");
        assert_eq!(redact("nothing here"), "nothing here");
    }

    #[test]
    fn redact_handles_several_bare_signatures() {
        let t = redact("a sig=one b SIG=two");
        assert!(!t.contains("one") && !t.contains("two"), "{t}");
    }
}
