//! The catalogue of problem types: every kind of `application/problem+json` answer this app
//! gives, with its slug (the `type` is `urn:anaplan-functions:problem:<slug>`), its status
//! and its title, each spelled once here. [`ProblemType::ALL`] lists them in the order
//! below, for documentation (the README's error table, the connector).
//!
//! One slug is answered with two statuses and one with two titles; each of those is two
//! variants that share the slug, so every answer stays as it was:
//! - `anaplan-auth-unavailable`: 503 when the token service stayed busy for the request's
//!   retry budget ([`ProblemType::AnaplanAuthBusy`]), 502 when it could not be reached or
//!   failed ([`ProblemType::AnaplanAuthUnavailable`]).
//! - `idempotency-key-uncertain`: a task start ([`ProblemType::IdempotencyKeyUncertainTask`])
//!   and a CloudWorks run ([`ProblemType::IdempotencyKeyUncertainRun`]) have their own titles.

use axum::http::StatusCode;

/// The slug of [`ProblemType::AnaplanAuthBusy`] and [`ProblemType::AnaplanAuthUnavailable`].
const ANAPLAN_AUTH_UNAVAILABLE: &str = "anaplan-auth-unavailable";
/// The slug of [`ProblemType::IdempotencyKeyUncertainTask`] and
/// [`ProblemType::IdempotencyKeyUncertainRun`].
const IDEMPOTENCY_KEY_UNCERTAIN: &str = "idempotency-key-uncertain";

/// Defines [`ProblemType`] from its rows, so that the enum, [`ProblemType::ALL`] and every
/// accessor come from one list and no variant can be left out of one of them.
macro_rules! catalogue {
    ($($variant:ident: $status:ident, $slug:expr, $title:literal, $description:literal;)+) => {
        /// A kind of problem this app answers with (see the module for the catalogue).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ProblemType {
            $(
                #[doc = $description]
                $variant,
            )+
        }

        impl ProblemType {
            /// Every problem type, in catalogue order.
            pub const ALL: &[ProblemType] = &[$(ProblemType::$variant),+];

            /// The short stable name in the `type` URI (`urn:anaplan-functions:problem:<slug>`).
            pub const fn slug(self) -> &'static str {
                match self {
                    $(ProblemType::$variant => $slug,)+
                }
            }

            /// The HTTP status it is answered with.
            pub const fn status(self) -> StatusCode {
                match self {
                    $(ProblemType::$variant => StatusCode::$status,)+
                }
            }

            /// The `title`: a short summary, the same for every answer of this type.
            pub const fn title(self) -> &'static str {
                match self {
                    $(ProblemType::$variant => $title,)+
                }
            }

            /// When it is answered, in one sentence.
            pub fn description(self) -> &'static str {
                match self {
                    $(ProblemType::$variant => $description,)+
                }
            }
        }
    };
}

catalogue! {
    // The request itself.
    BadParameter: BAD_REQUEST, "bad-parameter", "Bad parameter",
        "A parameter or the request body is missing, malformed, or conflicts with another.";
    ContainerNotAllowed: BAD_REQUEST, "container-not-allowed", "Container not allowed",
        "A transfer names a Blob container that BLOB_CONTAINERS does not allow.";
    BadRequest: BAD_REQUEST, "bad-request", "Bad request",
        "The request line or a header does not parse as HTTP/1.1 (answered before any function runs).";
    NoSuchFunction: NOT_FOUND, "no-such-function", "No such function",
        "The request's path names no function of this app.";
    MethodNotAllowed: METHOD_NOT_ALLOWED, "method-not-allowed", "Method not allowed",
        "The function does not take the request's method (the answer's Allow header lists those it takes).";
    BodyTooLarge: PAYLOAD_TOO_LARGE, "body-too-large", "Body too large",
        "The request body is larger than the function reads.";
    UriTooLong: URI_TOO_LONG, "uri-too-long", "URI too long",
        "The request target is over 64 KB (answered before any function runs).";
    UnsupportedMediaType: UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type", "Unsupported media type",
        "A file to import is sent with a media type other than text/* or application/octet-stream.";
    HeadersTooLarge: REQUEST_HEADER_FIELDS_TOO_LARGE, "headers-too-large", "Request headers too large",
        "The request headers are too large (answered before any function runs).";
    AnswerDeadline: GATEWAY_TIMEOUT, "answer-deadline", "Took too long",
        "The function did not finish within the longest time a single answer may take.";
    InternalError: INTERNAL_SERVER_ERROR, "internal-error", "Internal error",
        "Work inside this app failed unexpectedly, or a stored outcome could not be read.";

    // What Anaplan answered.
    AnaplanBadRequest: BAD_REQUEST, "anaplan-bad-request", "Anaplan rejected the request",
        "Anaplan answered 400 to the request (for a view read with pages: a page selector or the view's size).";
    DimensionTooLarge: BAD_REQUEST, "dimension-too-large", "Too many items to read in one call",
        "A dimension above 1,000,000 items, or a view above 1,000,000 cells, whose items Anaplan does not read in one call (use list-items).";
    AnaplanUnauthorized: UNAUTHORIZED, "anaplan-unauthorized", "Anaplan refused the credentials",
        "Anaplan answered 401 to a request made with a token.";
    AnaplanForbidden: FORBIDDEN, "anaplan-forbidden", "Anaplan refused access",
        "Anaplan answered 403: the identity may not use the object.";
    NotFound: NOT_FOUND, "not-found", "Not found in Anaplan",
        "Anaplan answered 404 or 410: the object named by id does not exist (or is not visible).";
    AnaplanConflict: CONFLICT, "anaplan-conflict", "Anaplan reported a conflict",
        "Anaplan answered 409 to the request.";
    ModelArchived: UNPROCESSABLE_ENTITY, "model-archived", "The model is archived",
        "Anaplan answered 422: the model is archived.";
    ModelLocked: LOCKED, "model-locked", "The model is locked",
        "Anaplan answered 423: the model is locked.";
    Throttled: TOO_MANY_REQUESTS, "throttled", "Anaplan is throttling requests",
        "Anaplan still answered 429 after this app's retries (Retry-After is Anaplan's).";
    AnaplanUnavailable: BAD_GATEWAY, "anaplan-unavailable", "Anaplan failed",
        "Anaplan still answered 5xx after this app's retries.";
    AnaplanUnexpected: BAD_GATEWAY, "anaplan-unexpected", "Anaplan answered unexpectedly",
        "Anaplan answered with a status or a body this app does not understand.";
    AnaplanUnreachable: BAD_GATEWAY, "anaplan-unreachable", "Anaplan could not be reached",
        "Anaplan could not be reached (connection refused, DNS, TLS) after this app's retries.";
    AnaplanTimeout: GATEWAY_TIMEOUT, "anaplan-timeout", "Anaplan did not answer in time",
        "Anaplan did not answer in time.";
    ModelBusy: SERVICE_UNAVAILABLE, "model-busy", "The model is busy",
        "The model stayed busy with other work for the request's whole retry budget.";
    AnaplanFailed: UNPROCESSABLE_ENTITY, "anaplan-failed", "Anaplan ran it and it failed",
        "Anaplan ran a job of the request and it failed.";
    Cancelled: CONFLICT, "cancelled", "Cancelled",
        "A job Anaplan ran for the request was cancelled.";
    UnknownName: NOT_FOUND, "unknown-name", "No object with that name",
        "No object of that kind has the name asked for (closestNames lists the nearest ones).";
    AmbiguousName: NOT_FOUND, "ambiguous-name", "More than one object has that name",
        "More than one object of that kind has the name asked for (matchingIds lists them).";
    UnknownUser: NOT_FOUND, "unknown-user", "No such user",
        "No Anaplan user has the user name asked for.";
    CellsRefused: UNPROCESSABLE_ENTITY, "cells-refused", "Anaplan refused some cells",
        "Anaplan refused some of the cells to write (failures lists them).";
    ItemsRefused: UNPROCESSABLE_ENTITY, "items-refused", "Anaplan refused some list items",
        "Anaplan refused some of the list items to add, update or delete (failures lists them).";
    UsersRefused: UNPROCESSABLE_ENTITY, "users-refused", "Anaplan refused some users",
        "Anaplan's Administration API refused some rows of a user import (failures lists them; the others were imported).";
    ChangeUnconfirmed: CONFLICT, "change-unconfirmed", "The change may have been made",
        "Anaplan's answer to a list change was lost and the list could not be read to find out what happened.";
    ChangeIncomplete: CONFLICT, "change-incomplete", "Part of the change was made",
        "Anaplan failed twice on some list items while earlier items of the request were changed.";
    ListNotEmpty: CONFLICT, "list-not-empty", "The list holds items",
        "A list index reset of a list that still holds items (Anaplan resets empty lists only; items says how many).";

    // Anaplan's credentials.
    AnaplanCredentialsRejected: UNAUTHORIZED, "anaplan-credentials-rejected", "Anaplan refused the credentials",
        "Anaplan's token service refused the configured credentials: an admin must renew them.";
    AnaplanAuthThrottled: TOO_MANY_REQUESTS, "anaplan-auth-throttled", "Anaplan's token service is throttling requests",
        "Anaplan's token service still answered 429 after this app's retries.";
    AnaplanAuthBusy: SERVICE_UNAVAILABLE, ANAPLAN_AUTH_UNAVAILABLE, "Anaplan's token service is unavailable",
        "Anaplan's token service stayed briefly unavailable (408 or 5xx) for the request's whole retry budget.";
    AnaplanAuthUnavailable: BAD_GATEWAY, ANAPLAN_AUTH_UNAVAILABLE, "Anaplan's token service is unavailable",
        "Anaplan's token service could not be reached or failed.";
    CallerTokenRequired: UNAUTHORIZED, "caller-token-required", "Anaplan token required",
        "The app acts with the caller's own Anaplan token and the request sent none.";
    CredentialStoreUnavailable: SERVICE_UNAVAILABLE, "credential-store-unavailable", "The credential store is unavailable",
        "The credential store (token file or vault) could not be read or written.";
    KeyVaultUnavailable: SERVICE_UNAVAILABLE, "key-vault-unavailable", "Key Vault is unavailable",
        "Key Vault could not be reached and no earlier value of the credential can stand in.";
    CredentialMissing: SERVICE_UNAVAILABLE, "credential-missing", "A credential is missing",
        "A credential the configuration needs is not in its store: an admin must add it.";

    // Tasks, runs and their starts.
    TaskNotFound: NOT_FOUND, "task-not-found", "No such task of this action",
        "A status URL's task is not a task of its action.";
    TaskCancelled: CONFLICT, "task-cancelled", "Task cancelled",
        "The Anaplan task was cancelled.";
    TaskFinished: CONFLICT, "task-finished", "Task already finished",
        "A cancellation came after the Anaplan task had finished.";
    TaskNotCancellable: CONFLICT, "task-not-cancellable", "Anaplan cannot cancel this task",
        "A cancellation of a task Anaplan documents no cancel for (an other action's): it runs to its end.";
    TaskFailed: UNPROCESSABLE_ENTITY, "task-failed", "Anaplan ran the task and it failed",
        "The Anaplan task completed without success (failures lists the failed steps and their dumps).";
    RevisionRefused: CONFLICT, "revision-refused", "Anaplan adds no revision tag here",
        "A revision tag for a model in deployed mode, or one without structural changes since its last revision.";
    DumpExpired: NOT_FOUND, "dump-expired", "Failure dump expired",
        "Anaplan no longer has the failure dump asked for.";
    SolutionLogNotFound: NOT_FOUND, "solution-log-not-found", "No solution log",
        "Anaplan has no Optimizer solution log for the step asked for, or that step is not an Optimizer action of the process.";
    RunNotFound: NOT_FOUND, "run-not-found", "No such run of this integration",
        "A status URL's run is not a run of its integration or flow.";
    RunCancelled: CONFLICT, "run-cancelled", "Run cancelled",
        "The CloudWorks run was cancelled.";
    RunFinished: CONFLICT, "run-finished", "Run already finished",
        "A cancellation came after the CloudWorks run had finished.";
    RunNotCancellable: CONFLICT, "run-not-cancellable", "Run cannot be cancelled yet",
        "CloudWorks cannot cancel the run yet because it is still queued.";
    RunFailed: UNPROCESSABLE_ENTITY, "run-failed", "CloudWorks ran it and it failed",
        "The CloudWorks run ended without success (errors lists the failed actions).";
    DumpNotFound: NOT_FOUND, "dump-not-found", "No failure dump",
        "CloudWorks has no failure dump for the action of the run asked for.";
    StartUncertain: CONFLICT, "start-uncertain", "The start may have happened",
        "A start was sent but its answer was lost, and the tasks or runs cannot tell whether it started.";
    NoTimeToStart: SERVICE_UNAVAILABLE, "no-time-to-start", "No time left to start",
        "What had to happen before a start took the answer's time, so nothing was started.";

    // Idempotency-Key.
    IdempotencyKeyReused: CONFLICT, "idempotency-key-reused", "Idempotency-Key reused",
        "The Idempotency-Key was used for a different request.";
    IdempotencyKeyUncertainTask: CONFLICT, IDEMPOTENCY_KEY_UNCERTAIN, "Cannot tell which task this key started",
        "A start with the Idempotency-Key may have reached Anaplan and several tasks of the action began around then.";
    IdempotencyKeyUncertainRun: CONFLICT, IDEMPOTENCY_KEY_UNCERTAIN, "Cannot tell whether this key started a run",
        "A start with the Idempotency-Key may have reached CloudWorks and its run history cannot tell which run it made.";
    StartInProgress: SERVICE_UNAVAILABLE, "start-in-progress", "Start in progress",
        "Another request with the same Idempotency-Key is still starting the task.";

    // Exports, imports and storage.
    ExportReplaced: CONFLICT, "export-replaced", "A later run of the export replaced its file",
        "A later run of the same export started after this one and may have written over its file.";
    ExportTooSlow: PAYLOAD_TOO_LARGE, "export-too-slow", "Export too slow for a response",
        "The exported file cannot arrive within one answer at the rate Anaplan sends it (use destination=blob).";
    ExportTooLarge: PAYLOAD_TOO_LARGE, "export-too-large", "Export too large for a response",
        "The exported file is larger than one answer may carry (use destination=blob).";
    ImportStarting: CONFLICT, "import-starting", "The import is being started",
        "A cancellation came while the uploaded file's import was being started.";
    UploadCancelled: CONFLICT, "upload-cancelled", "Upload cancelled",
        "The upload was cancelled before its import started.";
    UploadBusy: SERVICE_UNAVAILABLE, "upload-busy", "Upload busy",
        "The upload changed again and again while it was being cancelled.";
    UploadNotFound: NOT_FOUND, "upload-not-found", "No such upload",
        "The import has no record of the upload asked for.";
    DataSourceBusy: TOO_MANY_REQUESTS, "data-source-busy", "Another import is using the data source",
        "Another upload to the import's data source file, or the import that reads it, is still in progress.";
    BlobContainerNotFound: NOT_FOUND, "blob-container-not-found", "Blob container not found",
        "The Blob container of a transfer does not exist (it is never created implicitly).";
    BlobNotFound: NOT_FOUND, "blob-not-found", "Blob not found",
        "The blob to import does not exist.";
    BlobStorageUnavailable: SERVICE_UNAVAILABLE, "blob-storage-unavailable", "Blob storage unavailable",
        "The Blob storage of exports and imports could not be used.";
    StateStorageUnavailable: SERVICE_UNAVAILABLE, "state-storage-unavailable", "State storage unavailable",
        "The app's own storage account (AzureWebJobsStorage) is not configured or could not be used for shared state.";
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// The variants that share a slug, and why (see the module).
    const SHARED: &[(ProblemType, ProblemType)] = &[
        // 503 when busy for the retry budget, 502 when unreachable or failed.
        (ProblemType::AnaplanAuthBusy, ProblemType::AnaplanAuthUnavailable),
        // A task start's title and a CloudWorks run's.
        (ProblemType::IdempotencyKeyUncertainTask, ProblemType::IdempotencyKeyUncertainRun),
    ];

    /// `ALL` comes from the same rows as the enum, so it cannot leave one out; this checks
    /// that it lists each once, as the connector's documentation will.
    #[test]
    fn all_lists_each_variant_once() {
        for (i, t) in ProblemType::ALL.iter().enumerate() {
            assert!(!ProblemType::ALL[..i].contains(t), "{t:?} is listed twice");
        }
        assert!(ProblemType::ALL.contains(&ProblemType::BadParameter));
        assert!(ProblemType::ALL.contains(&ProblemType::StateStorageUnavailable));
    }

    #[test]
    fn slugs_are_lowercase_hyphenated_and_unique_but_for_the_shared_ones() {
        let mut by_slug: HashMap<&str, Vec<ProblemType>> = HashMap::new();
        for t in ProblemType::ALL {
            let slug = t.slug();
            let well_formed =
                !slug.is_empty() && slug.split('-').all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()));
            assert!(well_formed, "{t:?}: {slug:?} is not lowercase-hyphenated");
            by_slug.entry(slug).or_default().push(*t);
        }
        for (slug, types) in by_slug {
            match types.as_slice() {
                [_] => {}
                [a, b] => {
                    assert!(SHARED.contains(&(*a, *b)), "{slug} is spelled by {a:?} and {b:?}");
                    assert_ne!((a.status(), a.title()), (b.status(), b.title()), "{slug}: {a:?} is {b:?}");
                }
                more => panic!("{slug} is spelled by {more:?}"),
            }
        }
    }

    #[test]
    fn titles_and_descriptions_are_given() {
        for t in ProblemType::ALL {
            assert!(!t.title().is_empty() && !t.title().ends_with('.'), "{t:?}");
            let d = t.description();
            assert!(d.ends_with('.') && d.starts_with(|c: char| c.is_ascii_uppercase()), "{t:?}: {d}");
            assert!(t.status().is_client_error() || t.status().is_server_error(), "{t:?}");
        }
    }

    /// The README's error table names every slug (in backquotes) in the row of its status,
    /// so the documented list cannot fall behind the catalogue.
    #[test]
    fn the_readme_names_every_slug_under_its_status() {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
        let start = readme.find("\n### Errors\n").expect("the README has an Errors section");
        let section = &readme[start + 1..];
        let section = &section[..section[1..].find("\n#").map_or(section.len(), |end| end + 1)];
        // `| 401 / 403 | meaning |`: the statuses of a row, and its meaning.
        let rows: Vec<(Vec<u16>, &str)> = section
            .lines()
            .filter_map(|line| {
                let (statuses, meaning) = line.strip_prefix("| ")?.split_once(" | ")?;
                let statuses = statuses.split(" / ").map(|s| s.trim().parse().ok()).collect::<Option<Vec<u16>>>()?;
                Some((statuses, meaning))
            })
            .collect();
        assert!(rows.len() > 10, "the README's Errors section has no status table");
        for t in ProblemType::ALL {
            let named = format!("`{}`", t.slug());
            let status = t.status().as_u16();
            assert!(
                rows.iter().any(|(statuses, meaning)| statuses.contains(&status) && meaning.contains(&named)),
                "the README's Errors table does not name {named} in its {status} row"
            );
        }
    }
}
