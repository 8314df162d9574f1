//! The bulk-action catalog (reference §4.1–4.7): processes, exports, imports
//! and import source files, which models hold them, how export files are
//! generated and what a run of each action yields.
//!
//! Export contents are generated on demand from fixed-width rows, so any
//! chunk of the 110 MiB export is computed without building the file.

use super::seed::*;
use super::util::push_csv_line;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

/// Which family of actions a task belongs to (the path segment of its URL).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Process,
    Export,
    Import,
    /// An "other action" (`117…`): a delete from a list using a selection.
    Action,
}

impl Kind {
    /// The URL segment: `processes`, `exports`, `imports`, `actions`.
    pub fn segment(self) -> &'static str {
        match self {
            Kind::Process => "processes",
            Kind::Export => "exports",
            Kind::Import => "imports",
            Kind::Action => "actions",
        }
    }

    /// The kind named by a URL segment.
    pub fn from_segment(s: &str) -> Option<Kind> {
        [Kind::Process, Kind::Export, Kind::Import, Kind::Action].into_iter().find(|k| k.segment() == s)
    }

    /// Word used in model-status tooltips ("The system is currently processing an Export").
    pub fn label(self) -> &'static str {
        match self {
            Kind::Process => "Process",
            Kind::Export => "Export",
            Kind::Import => "Import",
            Kind::Action => "Action",
        }
    }
}

/// An import source file (`113…`) with the content the model holds before any upload.
pub struct FileDef {
    pub id: &'static str,
    pub name: &'static str,
    pub initial: &'static str,
}

/// A file-sourced HIERARCHY_DATA import into one list.
pub struct ImportDef {
    pub id: &'static str,
    pub name: &'static str,
    pub file_id: &'static str,
    /// The list it loads (`hierarchyName` in results).
    pub list: &'static str,
    pub headers: &'static [&'static str],
}

/// How an export's file content is produced.
pub enum ExportBody {
    /// Small: the whole text, built on each request.
    Text(fn() -> String),
    /// Large: a header line, then `rows` lines of exactly `width` bytes each.
    Lines { header: &'static str, width: usize, rows: usize, row: fn(usize, &mut Vec<u8>) },
}

/// An export definition; its output file has the same id (§4.6).
pub struct ExportDef {
    pub id: &'static str,
    pub name: &'static str,
    pub format: &'static str,
    pub separator: &'static str,
    pub chunk_size: usize,
    pub headers: &'static [&'static str],
    pub body: ExportBody,
}

/// Whether a failing import step leaves a dump.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Dump {
    None,
    Live,
    /// The result says `failureDumpAvailable: true` but the dump is gone (404).
    Expired,
}

/// One step of a process. Process steps are scripted: they do not read uploads,
/// so each process always ends the way the data set promises.
/// `Optimizer` is an other action of `actionType` `OPTIMIZER` ([`OTHER_ACTIONS`]): it ends
/// as its definition says, without a failure dump; the process's task keeps its solver log.
pub enum Step {
    Import { id: &'static str, ok: usize, failed: usize, dump: Dump },
    Export { id: &'static str },
    Optimizer { id: &'static str },
}

/// An other action (a delete from a list using a selection, an Optimizer action):
/// scripted, it always ends as the data set promises (`fails`: `successful: false` with one message).
pub struct OtherActionDef {
    pub id: &'static str,
    pub name: &'static str,
    /// `actionType` in the listing.
    pub action_type: &'static str,
    /// The message of a failed run, `None` when it succeeds.
    pub fails: Option<&'static str>,
}

pub static OTHER_ACTIONS: [OtherActionDef; 3] = [
    OtherActionDef {
        id: ACTION_DELETE_CLOSED_ID,
        name: ACTION_DELETE_CLOSED_NAME,
        action_type: "DELETE_BY_SELECTION",
        fails: None,
    },
    OtherActionDef {
        id: ACTION_DELETE_LOCKED_ID,
        name: ACTION_DELETE_LOCKED_NAME,
        action_type: "DELETE_BY_SELECTION",
        fails: Some(ACTION_DELETE_LOCKED_MESSAGE),
    },
    OtherActionDef {
        id: ACTION_OPTIMIZER_ID,
        name: ACTION_OPTIMIZER_NAME,
        action_type: "OPTIMIZER",
        fails: Some(ACTION_OPTIMIZER_MESSAGE),
    },
];

/// A process: its steps in run order and its default run time.
pub struct ProcessDef {
    pub id: &'static str,
    pub name: &'static str,
    pub steps: &'static [Step],
    pub run: Duration,
}

pub static FILES: [FileDef; 2] = [
    FileDef { id: FILE_PRODUCTS_ID, name: FILE_PRODUCTS_NAME, initial: PRODUCTS_FILE_INITIAL },
    FileDef { id: FILE_REGIONS_ID, name: FILE_REGIONS_NAME, initial: REGIONS_FILE_INITIAL },
];

pub static IMPORTS: [ImportDef; 2] = [
    ImportDef {
        id: IMPORT_PRODUCTS_ID,
        name: IMPORT_PRODUCTS_NAME,
        file_id: FILE_PRODUCTS_ID,
        list: DIM_PRODUCTS_NAME,
        headers: &["Code", "Name"],
    },
    ImportDef {
        id: IMPORT_REGIONS_ID,
        name: IMPORT_REGIONS_NAME,
        file_id: FILE_REGIONS_ID,
        list: DIM_REGIONS_NAME,
        headers: &["Code", "Name"],
    },
];

pub static EXPORTS: [ExportDef; 5] = [
    ExportDef {
        id: EXPORT_PRICE_ID,
        name: EXPORT_PRICE_NAME,
        format: "text/csv",
        separator: ",",
        chunk_size: EXPORT_CHUNK_SIZE,
        headers: &PRICE_EXPORT_HEADERS,
        body: ExportBody::Text(price_export),
    },
    ExportDef {
        id: EXPORT_EMPTY_ID,
        name: EXPORT_EMPTY_NAME,
        format: "text/csv",
        separator: ",",
        chunk_size: EXPORT_CHUNK_SIZE,
        headers: &PRICE_EXPORT_HEADERS,
        body: ExportBody::Text(String::new),
    },
    ExportDef {
        id: EXPORT_BIG_ID,
        name: EXPORT_BIG_NAME,
        format: "text/csv",
        separator: ",",
        chunk_size: BIG_EXPORT_CHUNK_SIZE,
        headers: &["Row", "Customer", "Month", "Amount"],
        body: ExportBody::Lines { header: "Row,Customer,Month,Amount\n", width: 38, rows: 2801, row: big_row },
    },
    ExportDef {
        id: EXPORT_HUGE_ID,
        name: EXPORT_HUGE_NAME,
        format: "text/plain",
        separator: "\t",
        chunk_size: HUGE_EXPORT_CHUNK_SIZE,
        headers: &["Row Number", "Customer Name", "Month", "Amount (hundredths)", "Rolling Note"],
        body: ExportBody::Lines {
            header: "Row Number\tCustomer Name\tMonth\tAmount (hundredths)\tRolling Note\n",
            width: 64,
            rows: 1_802_239,
            row: huge_row,
        },
    },
    // Served by `sized_export.rs` at the size each emulator sets; this is the default size.
    ExportDef {
        id: EXPORT_SIZED_ID,
        name: EXPORT_SIZED_NAME,
        format: "text/plain",
        separator: "\t",
        chunk_size: EXPORT_CHUNK_SIZE,
        headers: &["Row Number", "Note"],
        body: ExportBody::Lines {
            header: super::sized_export::SIZED_EXPORT_HEADER,
            width: super::sized_export::SIZED_EXPORT_LINE,
            rows: super::sized_export::SIZED_EXPORT_DEFAULT_ROWS,
            row: super::sized_export::sized_row,
        },
    },
];

const NIGHTLY_STEPS: [Step; 2] =
    [Step::Import { id: IMPORT_PRODUCTS_ID, ok: 3, failed: 0, dump: Dump::None }, Step::Export { id: EXPORT_PRICE_ID }];

pub static PROCESSES: [ProcessDef; 5] = [
    ProcessDef { id: PROCESS_NIGHTLY_ID, name: PROCESS_NIGHTLY_NAME, steps: &NIGHTLY_STEPS, run: DEFAULT_RUN },
    ProcessDef {
        id: PROCESS_BROKEN_ID,
        name: PROCESS_BROKEN_NAME,
        // Row failures are not fatal in Anaplan: step 2 still runs and succeeds.
        steps: &[
            Step::Import {
                id: IMPORT_REGIONS_ID,
                ok: BROKEN_LOAD_OK_ROWS,
                failed: BROKEN_LOAD_FAILED_ROWS,
                dump: Dump::Live,
            },
            Step::Export { id: EXPORT_PRICE_ID },
        ],
        run: DEFAULT_RUN,
    },
    ProcessDef {
        id: PROCESS_STALE_DUMP_ID,
        name: PROCESS_STALE_DUMP_NAME,
        steps: &[Step::Import {
            id: IMPORT_REGIONS_ID,
            ok: BROKEN_LOAD_OK_ROWS,
            failed: STALE_DUMP_FAILED_ROWS,
            dump: Dump::Expired,
        }],
        run: DEFAULT_RUN,
    },
    ProcessDef { id: PROCESS_SLOW_ID, name: PROCESS_SLOW_NAME, steps: &NIGHTLY_STEPS, run: SLOW_PROCESS_RUN },
    ProcessDef {
        id: PROCESS_OPTIMIZE_ID,
        name: PROCESS_OPTIMIZE_NAME,
        steps: &[
            Step::Import { id: IMPORT_PRODUCTS_ID, ok: 3, failed: 0, dump: Dump::None },
            Step::Optimizer { id: ACTION_OPTIMIZER_ID },
        ],
        run: DEFAULT_RUN,
    },
];

/// The bulk objects one model holds.
#[derive(Default)]
pub struct Bulk {
    pub processes: Vec<&'static ProcessDef>,
    pub exports: Vec<&'static ExportDef>,
    pub imports: Vec<&'static ImportDef>,
    pub files: Vec<&'static FileDef>,
    pub actions: Vec<&'static OtherActionDef>,
}

impl Bulk {
    /// True when this model has an action of `kind` with that id.
    pub fn has(&self, kind: Kind, id: &str) -> bool {
        match kind {
            Kind::Process => self.processes.iter().any(|p| p.id == id),
            Kind::Export => self.exports.iter().any(|e| e.id == id),
            Kind::Import => self.imports.iter().any(|i| i.id == id),
            Kind::Action => self.actions.iter().any(|a| a.id == id),
        }
    }
}

/// Revenue Plan holds everything; the locked and archived models only Nightly Load and
/// Delete Closed Cost Centres.
pub fn for_model(model_id: &str) -> Bulk {
    match model_id {
        MODEL_REVENUE_ID => Bulk {
            processes: PROCESSES.iter().collect(),
            exports: EXPORTS.iter().collect(),
            imports: IMPORTS.iter().collect(),
            files: FILES.iter().collect(),
            actions: OTHER_ACTIONS.iter().collect(),
        },
        MODEL_LOCKED_ID | MODEL_ARCHIVED_ID => {
            Bulk { processes: vec![&PROCESSES[0]], actions: vec![&OTHER_ACTIONS[0]], ..Bulk::default() }
        }
        _ => Bulk::default(),
    }
}

/// Definition by id, whatever model holds it.
pub fn process(id: &str) -> Option<&'static ProcessDef> {
    PROCESSES.iter().find(|p| p.id == id)
}
/// Definition by id, whatever model holds it.
pub fn other_action(id: &str) -> Option<&'static OtherActionDef> {
    OTHER_ACTIONS.iter().find(|a| a.id == id)
}
/// Definition by id, whatever model holds it.
pub fn export(id: &str) -> Option<&'static ExportDef> {
    EXPORTS.iter().find(|e| e.id == id)
}
/// Definition by id, whatever model holds it.
pub fn import(id: &str) -> Option<&'static ImportDef> {
    IMPORTS.iter().find(|i| i.id == id)
}

// ---------------------------------------------------------------- export content

impl ExportDef {
    /// Total bytes of the output file.
    pub fn len(&self) -> usize {
        match &self.body {
            ExportBody::Text(f) => f().len(),
            ExportBody::Lines { header, width, rows, .. } => header.len() + width * rows,
        }
    }

    /// Chunks of `chunk_size` bytes (0 for an empty file).
    pub fn chunk_count(&self) -> usize {
        self.len().div_ceil(self.chunk_size.max(1))
    }

    /// Data rows (the header line excluded).
    pub fn row_count(&self) -> usize {
        match &self.body {
            ExportBody::Text(f) => f().lines().count().saturating_sub(1),
            ExportBody::Lines { rows, .. } => *rows,
        }
    }

    /// Bytes of chunk `n`, or `None` past the last chunk.
    pub fn chunk(&self, n: usize) -> Option<Vec<u8>> {
        if n >= self.chunk_count() {
            return None;
        }
        let start = n * self.chunk_size.max(1);
        let end = (start + self.chunk_size.max(1)).min(self.len());
        Some(self.range(start, end))
    }

    /// [`ExportDef::chunk`], rendered once per process and then served from memory: the
    /// emulator must not be what limits an export benchmark (a 10 MiB chunk of generated
    /// rows takes a while to render, and the seed's exports are fixed).
    pub fn chunk_bytes(&self, n: usize) -> Option<bytes::Bytes> {
        type Rendered = Mutex<HashMap<(&'static str, usize), bytes::Bytes>>;
        static RENDERED: LazyLock<Rendered> = LazyLock::new(Rendered::default);
        let key = (self.id, n);
        if let Some(b) = RENDERED.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Some(b.clone());
        }
        // Rendered outside the lock: other chunks are served meanwhile.
        let bytes = bytes::Bytes::from(self.chunk(n)?);
        RENDERED.lock().unwrap_or_else(|e| e.into_inner()).insert(key, bytes.clone());
        Some(bytes)
    }

    /// Bytes `start..end` of the file; rows are rendered only where they overlap.
    fn range(&self, start: usize, end: usize) -> Vec<u8> {
        match &self.body {
            ExportBody::Text(f) => f().as_bytes()[start..end].to_vec(),
            ExportBody::Lines { header, width, row, .. } => {
                let head = header.as_bytes();
                let mut out = Vec::with_capacity(end - start);
                let mut pos = start;
                if pos < head.len() {
                    let stop = end.min(head.len());
                    out.extend_from_slice(&head[pos..stop]);
                    pos = stop;
                }
                let mut line = Vec::with_capacity(*width);
                while pos < end {
                    let (r, off) = ((pos - head.len()) / width, (pos - head.len()) % width);
                    line.clear();
                    row(r, &mut line);
                    debug_assert_eq!(line.len(), *width, "fixed-width row");
                    let take = (width - off).min(end - pos);
                    out.extend_from_slice(&line[off..off + take]);
                    pos += take;
                }
                out
            }
        }
    }
}

/// Price Export: every Actual price of REV01 Price Book, one row per product/region/month.
fn price_export() -> String {
    let mut out = String::new();
    push_csv_line(&mut out, PRICE_EXPORT_HEADERS);
    for (p, product) in PRODUCTS.iter().enumerate() {
        for (r, region) in REGIONS.iter().enumerate() {
            for (m, month) in PRICE_BOOK_MONTHS.iter().enumerate() {
                let price = price_book_price(0, p, r, m);
                push_csv_line(&mut out, [*product, *region, *month, price.as_str()]);
            }
        }
    }
    out
}

/// Appends `n` as exactly `width` zero-padded digits (rows must stay fixed-width).
fn push_digits(out: &mut Vec<u8>, n: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut v = n;
    for slot in buf[..width].iter_mut().rev() {
        *slot = b'0' + (v % 10) as u8;
        v /= 10;
    }
    out.extend_from_slice(&buf[..width]);
}

/// Big Export row `r` (38 bytes): `0000001,Customer 0001,M001,0000012345\n`.
fn big_row(r: usize, out: &mut Vec<u8>) {
    push_digits(out, r as u64 + 1, 7);
    out.extend_from_slice(b",Customer ");
    push_digits(out, (r % 2001) as u64 + 1, 4);
    out.extend_from_slice(b",M");
    push_digits(out, (r % 500) as u64 + 1, 3);
    out.push(b',');
    push_digits(out, (r as u64 * 7919 + 104_729) % 10_000_000_000, 10);
    out.push(b'\n');
}

/// Huge Export row `r` (64 bytes), tab-separated, ending in a 20-letter rolling note.
fn huge_row(r: usize, out: &mut Vec<u8>) {
    push_digits(out, r as u64 + 1, 10);
    out.extend_from_slice(b"\tCustomer ");
    push_digits(out, (r % 2001) as u64 + 1, 4);
    out.extend_from_slice(b"\tM");
    push_digits(out, (r % 500) as u64 + 1, 3);
    out.push(b'\t');
    push_digits(out, (r as u64 * 104_729 + 7919) % 1_000_000_000_000, 12);
    out.push(b'\t');
    out.extend((0..20).map(|k| b'a' + ((r + k) % 26) as u8));
    out.push(b'\n');
}
