//! `tenant-users`: the tenant's users through Anaplan's Administration API (Tenant
//! Administrator only). GET answers Anaplan's CSV export as Anaplan gives it
//! (`username,first_name,last_name,licenses`). POST takes a CSV in Anaplan's import layout
//! (the same four columns), checks it whole before Anaplan is called (the header, a value in
//! every cell, no username twice, at least one row), and imports it in files of at most 500
//! rows, Anaplan's limit. The answer counts the rows, the users created and updated; rows
//! Anaplan refused make it a 422 `users-refused` with `failures: [{row, email, reason}]`
//! (rows numbered from 1 after the header), never a 200.

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::http::json_answer;
use crate::http::{AppState, Call, Params, Problem, ProblemType, off_runtime};
use crate::machinery::declare::{
    Answer, Function, Group, Input, MethodOperation, Operation, Param, RequestBody, Schema, Trigger,
};
use crate::machinery::openapi::{prop, prop_with};
use anaplan::admin::{MAX_IMPORT_ROWS, USER_CSV_COLUMNS};
use anaplan::untrusted::quote;

const FILE: Param = Param::text(
    "file",
    "Users (CSV)",
    "The users to create or update, as CSV in Anaplan's import layout: a header username,first_name,last_name,licenses \
     and one row per user (several licenses quoted and comma-separated in one cell, e.g. \"Standard,Workflow\"). Sent \
     to Anaplan 500 rows at a time.",
)
.body()
.required();

/// `tenant-users`.
pub const FUNCTION: Function = Function {
    name: "tenant-users",
    trigger: Trigger::Http { methods: &[Method::GET, Method::POST], body: RequestBody::File },
    inputs: &[],
    long_running: None,
    operation: Some(Operation {
        id: "ExportTenantUsers",
        summary: "Export the tenant's users (CSV)",
        description: "Answers every user of the tenant as Anaplan's Administration API exports them: CSV with \
                      username, first_name, last_name and licenses. Needs the Tenant Administrator role in Anaplan.",
        important: false,
        consumes: &[],
        produces: &["text/csv", "application/problem+json"],
        ok: Answer { description: "The tenant's users as CSV.", schema: "TenantUsersCsv", array: false },
    }),
    more_operations: &[IMPORT_OPERATION],
    schemas: &[
        Schema { name: "TenantUsersCsv", build: csv_schema },
        Schema { name: "TenantUsersImport", build: import_schema },
    ],
    group: Some(Group::Users),
    handler: |state, call| Box::pin(handle(state, call)),
};

/// `tenant-users`' POST in the connector: import.
pub const IMPORT_OPERATION: MethodOperation = MethodOperation {
    method: Method::POST,
    inputs: &[Input::Param(FILE)],
    body: None,
    operation: Operation {
        id: "ImportTenantUsers",
        summary: "Create or update tenant users (CSV)",
        description: "Creates or updates the tenant's users from CSV in Anaplan's import layout (username, \
                      first_name, last_name, licenses), 500 rows per call to Anaplan. The whole file is checked \
                      first; rows Anaplan refuses make the answer a 422 listing them. Needs the Tenant Administrator \
                      role in Anaplan.",
        important: false,
        consumes: &["text/csv"],
        produces: &["application/json", "application/problem+json"],
        ok: Answer { description: "Every row was imported.", schema: "TenantUsersImport", array: false },
    },
    accepted: None,
};

/// `#/definitions/TenantUsersCsv`.
fn csv_schema() -> Value {
    json!({ "type": "string", "description": "CSV: username,first_name,last_name,licenses, one row per user." })
}

/// `#/definitions/TenantUsersImport`.
fn import_schema() -> Value {
    json!({
        "type": "object",
        "description": "What the import did.",
        "properties": {
            "rows": prop("integer", "Rows", "Data rows in the CSV."),
            "created": prop("integer", "Created", "Users created."),
            "updated": prop("integer", "Updated", "Users updated."),
            "failures": prop_with("array", "Failures", "Always empty in a 200: refused rows make the answer a 422.", "items", json!({
                "type": "object",
                "properties": {
                    "row": prop("integer", "Row", "The row, counted from 1 after the header."),
                    "email": prop("string", "Email", "Its username."),
                    "reason": prop("string", "Reason", "Anaplan's message."),
                },
            })),
        },
    })
}

/// Handles one call.
pub async fn handle(state: &AppState, call: Call) -> Result<Response, Problem> {
    // The body is the CSV: parameters come from the query string alone (none but the key).
    let _: Params = call.params()?;
    let client = call.client(state)?;
    let admin = state.admin.client(&client);
    if call.method != Method::POST {
        let csv = admin.export_users().await?;
        let mut resp = (StatusCode::OK, csv).into_response();
        resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
        return Ok(resp);
    }
    check_media_type(&call)?;
    let body = call.body.clone();
    let rows = off_runtime(move || parse(&body)).await??;
    let (mut created, mut updated, mut failures) = (0u64, 0u64, Vec::new());
    for (batch_index, batch) in rows.chunks(MAX_IMPORT_ROWS).enumerate() {
        let first = batch_index * MAX_IMPORT_ROWS;
        let file = write_csv(batch)?;
        let outcome = admin.import_users(&file).await.map_err(|e| {
            // Earlier files were imported: say how far it got (repeating the request is safe:
            // users are matched by username).
            let p = Problem::from(e);
            if first > 0 { p.with("rowsSent", json!(first)) } else { p }
        })?;
        created += outcome.created;
        updated += outcome.updated;
        for (line, reason) in outcome.errors {
            let email = line.checked_sub(1).and_then(|i| batch.get(i)).map(|r| r[0].clone());
            failures.push(json!({ "row": first + line, "email": email, "reason": reason }));
        }
    }
    tracing::info!(rows = rows.len(), created, updated, failures = failures.len(), "tenant users imported");
    if !failures.is_empty() {
        return Err(Problem::new(
            ProblemType::UsersRefused,
            format!("Anaplan refused {} of the {} rows; the others were imported", failures.len(), rows.len()),
        )
        .with("rows", json!(rows.len()))
        .with("created", json!(created))
        .with("updated", json!(updated))
        .with("failures", Value::Array(failures)));
    }
    Ok(json_answer(
        StatusCode::OK,
        &json!({ "rows": rows.len(), "created": created, "updated": updated, "failures": [] }),
    ))
}

/// The body must be CSV (text/csv, any text/*, or octet-stream).
fn check_media_type(call: &Call) -> Result<(), Problem> {
    if let Some(ct) = call.headers.get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
        let essence = ct.split(';').next().unwrap_or("").trim().to_owned();
        if !(essence.starts_with("text/") || essence == "application/octet-stream") {
            return Err(Problem::new(
                ProblemType::UnsupportedMediaType,
                format!("the body is the users' CSV: send it as text/csv (got {})", quote(&essence)),
            ));
        }
    }
    Ok(())
}

/// The data rows of the CSV, checked as Anaplan would refuse the whole file: the header,
/// four values in every row, none empty, no username twice (case-insensitive), one row at
/// least.
fn parse(body: &[u8]) -> Result<Vec<[String; 4]>, Problem> {
    let layout = "the CSV's header must be username,first_name,last_name,licenses (Anaplan's import layout)";
    let body = body.strip_prefix(b"\xef\xbb\xbf").unwrap_or(body);
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(body);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| Problem::bad_parameter(format!("the CSV cannot be read: {e}")))?
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    if header != USER_CSV_COLUMNS {
        return Err(Problem::bad_parameter(format!("{layout}; got {}", quote(&header.join(",")))));
    }
    let mut rows: Vec<[String; 4]> = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for (i, record) in reader.records().enumerate() {
        let n = i + 1;
        let record = record.map_err(|e| Problem::bad_parameter(format!("row {n} cannot be read: {e}")))?;
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if record.len() != USER_CSV_COLUMNS.len() {
            return Err(Problem::bad_parameter(format!("row {n} has {} values; {layout}", record.len())));
        }
        let cells: Vec<String> = record.iter().map(|c| c.trim().to_owned()).collect();
        if let Some(col) = cells.iter().position(String::is_empty) {
            return Err(Problem::bad_parameter(format!(
                "row {n} has no {}: Anaplan refuses a file with an empty cell",
                USER_CSV_COLUMNS[col]
            )));
        }
        if let Some(earlier) = seen.insert(cells[0].to_ascii_lowercase(), n) {
            return Err(Problem::bad_parameter(format!(
                "rows {earlier} and {n} both have the username {}: Anaplan refuses duplicates",
                quote(&cells[0])
            )));
        }
        let [a, b, c, d]: [String; 4] = cells.try_into().unwrap_or_default();
        rows.push([a, b, c, d]);
    }
    if rows.is_empty() {
        return Err(Problem::bad_parameter("the CSV has no user: a header and at least one row are needed"));
    }
    Ok(rows)
}

/// One import file: the header and `rows`.
fn write_csv(rows: &[[String; 4]]) -> Result<Vec<u8>, Problem> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| {
        tracing::error!(error = %e, "the import file could not be written");
        Problem::new(ProblemType::InternalError, "the import file could not be written")
    };
    w.write_record(USER_CSV_COLUMNS).map_err(fail)?;
    for r in rows {
        w.write_record(r).map_err(fail)?;
    }
    w.into_inner().map_err(|e| fail(e.into_error().into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csv_is_checked_whole() {
        let ok = parse(
            b"username,first_name,last_name,licenses\r\na@x.com,A,B,\"Standard,Workflow\"\n\nb@x.com,B,C,Standard\n",
        )
        .unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[0][3], "Standard,Workflow");
        for (bad, says) in [
            (&b"email,first_name,last_name,licenses\na@x.com,A,B,S\n"[..], "header"),
            (b"username,first_name,last_name,licenses\n", "no user"),
            (b"username,first_name,last_name,licenses\na@x.com,A,,S\n", "no last_name"),
            (b"username,first_name,last_name,licenses\na@x.com,A,B\n", "3 values"),
            (b"username,first_name,last_name,licenses\na@x.com,A,B,S\nA@X.com,A,B,S\n", "rows 1 and 2"),
        ] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.status(), 400);
            assert!(e.body()["detail"].as_str().unwrap().contains(says), "{says}: {}", e.body());
        }
    }

    #[test]
    fn batches_are_written_back_with_their_header_and_quoting() {
        let rows = parse(b"username,first_name,last_name,licenses\na@x.com,A,B,\"Standard,Workflow\"\n").unwrap();
        let file = write_csv(&rows).unwrap();
        assert_eq!(
            String::from_utf8(file).unwrap(),
            "username,first_name,last_name,licenses\na@x.com,A,B,\"Standard,Workflow\"\n"
        );
    }
}
