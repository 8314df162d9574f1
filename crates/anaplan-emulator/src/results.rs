//! What a finished run reports (reference §4.3), in the shapes of
//! `process-task-status-complete.json` and `import-task-status-complete.json`:
//! `COMPLETE` with `successful: false` is a failure (there is no FAILED state).

use super::bulk::{self, Dump, ExportDef, ImportDef, OtherActionDef, ProcessDef, Step};
use super::util::{push_csv_field, push_csv_line};
use serde_json::{Value, json};
use std::collections::HashMap;

/// The result of one completed run and its side effects.
pub struct Outcome {
    /// The task's `result` object.
    pub result: Value,
    /// Live failure dumps (CSV) by object id: the import id for import tasks,
    /// the failing step's object id for processes. Emptied when they expire.
    pub dumps: HashMap<String, Vec<u8>>,
    /// Export files (ids) this run wrote.
    pub produced: Vec<&'static str>,
}

/// `details[0]` of an import: the flat key/value `values` list of the sample.
fn rows_detail(list: &str, ok: usize, failed: usize, ignored: usize) -> Value {
    let values: Vec<String> = [
        ("hierarchyName", list.to_string()),
        ("successRowCount", ok.to_string()),
        ("successCreateCount", "0".into()),
        ("successUpdateCount", ok.to_string()),
        ("warningsRowCount", "0".into()),
        ("warningsCreateCount", "0".into()),
        ("warningsUpdateCount", "0".into()),
        ("failedCount", failed.to_string()),
        ("ignoredCount", ignored.to_string()),
        ("totalRowCount", (ok + failed + ignored).to_string()),
        ("totalCreateCount", "0".into()),
        ("totalUpdateCount", ok.to_string()),
        ("invalidCount", failed.to_string()),
        ("updatedCount", ok.to_string()),
        ("renamedCount", ok.to_string()),
        ("createdCount", "0".into()),
    ]
    .into_iter()
    .flat_map(|(k, v)| [k.to_string(), v])
    .collect();
    json!({
        "localMessageText": format!("{list}: {ok} (0/{ok}) rows successful, {ignored} ignored "),
        "occurrences": 0,
        "type": "hierarchyRowsProcessed",
        "values": values,
    })
}

fn import_result(def: &ImportDef, (ok, failed, ignored): (usize, usize, usize), dump: bool) -> Value {
    json!({
        "details": [rows_detail(def.list, ok, failed, ignored)],
        "failureDumpAvailable": dump,
        "objectId": def.id,
        "successful": failed == 0,
    })
}

/// An import task over the file content it read when it started.
pub fn import(def: &ImportDef, content: &[u8]) -> Outcome {
    let run = run_import(def, content);
    let result = import_result(def, (run.ok, run.failed, run.ignored), run.dump.is_some());
    let dumps = run.dump.map(|d| (def.id.to_string(), d)).into_iter().collect();
    Outcome { result, dumps, produced: Vec::new() }
}

/// Export tasks always succeed and (re)write the file with the export's id.
pub fn export(def: &ExportDef) -> Outcome {
    Outcome {
        result: json!({ "failureDumpAvailable": false, "objectId": def.id, "successful": true }),
        dumps: HashMap::new(),
        produced: vec![def.id],
    }
}

/// An other action: the result of the description's example (no nested results, no
/// dump); a failed one adds one detail with its message.
pub fn other_action(def: &OtherActionDef) -> Outcome {
    let mut result = json!({ "failureDumpAvailable": false, "objectId": def.id, "successful": def.fails.is_none() });
    if let Some(message) = def.fails {
        result["details"] =
            json!([{ "localMessageText": message, "occurrences": 0, "type": "deleteFailed", "values": [] }]);
    }
    Outcome { result, dumps: HashMap::new(), produced: Vec::new() }
}

/// A process: one nested result per step, in order. Export steps have no
/// `details` (as in the sample); a failing import step does not stop the process, and an
/// Optimizer step answers as its other action does on its own.
pub fn process(def: &ProcessDef) -> Outcome {
    let mut out = Outcome { result: Value::Null, dumps: HashMap::new(), produced: Vec::new() };
    let mut nested = Vec::new();
    for step in def.steps {
        match step {
            Step::Import { id, ok, failed, dump } => {
                let Some(idef) = bulk::import(id) else { continue };
                let available = *failed > 0 && *dump != Dump::None;
                if *failed > 0 && *dump == Dump::Live {
                    out.dumps.insert(id.to_string(), scripted_dump(idef, *ok, *failed));
                }
                nested.push(import_result(idef, (*ok, *failed, 0), available));
            }
            Step::Export { id } => {
                out.produced.push(id);
                nested.push(json!({ "failureDumpAvailable": false, "objectId": id, "successful": true }));
            }
            // The other action's own result (no dump); its log is the task's, not a dump.
            Step::Optimizer { id } => {
                let Some(odef) = bulk::other_action(id) else { continue };
                nested.push(other_action(odef).result);
            }
        }
    }
    let any_dump = nested.iter().any(|n| n["failureDumpAvailable"] == json!(true));
    let all_ok = nested.iter().all(|n| n["successful"] == json!(true));
    out.result = json!({
        "failureDumpAvailable": any_dump,
        "nestedResults": nested,
        "objectId": def.id,
        "successful": all_ok,
    });
    out
}

// ---------------------------------------------------------------- import runs

/// Counts of one import run and its failure dump (CSV), if any row failed.
struct ImportRun {
    pub ok: usize,
    pub failed: usize,
    pub ignored: usize,
    pub dump: Option<Vec<u8>>,
}

/// The dump's header: `_Line_`, the import's columns, `_Error_1_` (Anaplan's layout).
fn dump_header(def: &ImportDef) -> String {
    let mut out = String::new();
    push_csv_line(&mut out, std::iter::once("_Line_").chain(def.headers.iter().copied()).chain(["_Error_1_"]));
    out
}

/// One dump line: the file line number, the row as sent (its own separators
/// give the columns) and the error.
fn push_dump_row(out: &mut String, line_no: usize, raw: &str, error: &str) {
    out.push_str(&line_no.to_string());
    out.push(',');
    out.push_str(raw);
    out.push(',');
    push_csv_field(out, error);
    out.push('\n');
}

/// Runs an import over `content`: line 1 is the header, later lines are rows
/// (split on `\n`, a trailing `\r` dropped; quoted line breaks are not CSV-parsed).
/// An empty row is ignored, a row containing `FAIL` fails, any other succeeds.
fn run_import(def: &ImportDef, content: &[u8]) -> ImportRun {
    let text = String::from_utf8_lossy(content);
    let body = text.strip_suffix('\n').unwrap_or(&text);
    let mut run = ImportRun { ok: 0, failed: 0, ignored: 0, dump: None };
    let mut dump = dump_header(def);
    if !body.is_empty() {
        for (i, raw) in body.split('\n').enumerate().skip(1) {
            let raw = raw.strip_suffix('\r').unwrap_or(raw);
            if raw.trim().is_empty() {
                run.ignored += 1;
            } else if raw.contains("FAIL") {
                run.failed += 1;
                let code = raw.split(',').next().unwrap_or_default();
                push_dump_row(&mut dump, i + 1, raw, &format!("Item not located in {} list: {code}", def.list));
            } else {
                run.ok += 1;
            }
        }
    }
    if run.failed > 0 {
        run.dump = Some(dump.into_bytes());
    }
    run
}

/// The scripted dump of a failing process import step: `failed` rows after `ok` good ones.
pub fn scripted_dump(def: &ImportDef, ok: usize, failed: usize) -> Vec<u8> {
    let mut dump = dump_header(def);
    for i in 0..failed {
        let raw = format!("X{i:03},FAIL Region {i:03}");
        let error = format!("Item not located in {} list: X{i:03}", def.list);
        push_dump_row(&mut dump, ok + i + 2, &raw, &error);
    }
    dump.into_bytes()
}
