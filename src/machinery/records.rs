//! The `records` format of `get-view-data`: one JSON object per row, keyed by the row
//! dimension names and the column labels, numbers as JSON numbers. Built from Anaplan's
//! JSON (direct reads) or its CSV grid (large reads).
//!
//! Memory: no cell is ever held as a JSON value. The source is read twice: a first pass
//! checks it whole and finds the answer's opening (view, pages, columns), so a malformed
//! source is a clean error before any 200; a second pass writes each row as it is parsed.
//! [`stream`] runs both on a blocking thread and hands the output to the response in
//! pieces of [`PIECE`] bytes through a bounded channel, so beyond the source only a few
//! pieces exist at a time (the output is larger than the source: its keys repeat per row).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::{self, Write};

use axum::body::Body;
use bytes::Bytes;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use serde_json::value::RawValue;
use tokio::sync::{mpsc, oneshot};

use crate::http::{Problem, ProblemType};
use anaplan::AnaplanError;
use anaplan::views::ViewMetadata;

/// Joins the labels of several column dimensions.
const LABEL_SEPARATOR: &str = " | ";

/// Size of the pieces [`stream`] hands to the response.
pub const PIECE: usize = 1024 * 1024;

/// Pieces waiting for the response at most; the writer waits when they are all taken.
const PIECES_IN_FLIGHT: usize = 4;

/// A view read, as Anaplan sent it.
pub enum Source {
    /// Anaplan's JSON (format v1) of a direct read.
    Json(String),
    /// Anaplan's CSV grid of a large read.
    Csv(String),
}

/// Records from Anaplan's JSON (format v1) of a direct read, whole.
pub fn from_grid_json(meta: &ViewMetadata, json: &str) -> Result<Vec<u8>, String> {
    let opening = check_json(meta, json)?;
    let mut out = Vec::with_capacity(json.len() * 2);
    write_json(&opening, json, &mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

/// Records from Anaplan's CSV grid (as a large read returns it), whole: a page-selector
/// line when the view has page dimensions, one header line per column dimension
/// (row-dimension columns left empty), then one line per row, each as wide as the headers.
pub fn from_grid_csv(meta: &ViewMetadata, csv_text: &str) -> Result<Vec<u8>, String> {
    let layout = check_csv(meta, csv_text)?;
    let mut out = Vec::with_capacity(csv_text.len() * 2);
    write_csv(&layout, csv_text, &mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

/// The records of `source` as a response body streamed in pieces, once the whole source
/// was checked: a malformed source is a 502 problem and nothing is sent. Should writing
/// fail after that (it is not expected to), the body ends with an error, so the answer is
/// a broken one and never a well-formed truncated 200.
pub async fn stream(meta: ViewMetadata, source: Source) -> Result<Body, Problem> {
    let (checked_tx, checked_rx) = oneshot::channel::<Result<(), String>>();
    let (tx, rx) = mpsc::channel::<Piece>(PIECES_IN_FLIGHT);
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(|| produce(&meta, &source, checked_tx, tx)));
    match checked_rx.await {
        Ok(Ok(())) => Ok(Body::from_stream(pieces(rx))),
        Ok(Err(message)) => Err(Problem::from(AnaplanError::Protocol(message))),
        Err(_) => {
            tracing::error!("the records writer stopped before checking the view's data");
            Err(Problem::new(ProblemType::InternalError, "the request could not be processed"))
        }
    }
}

/// What the writer hands the response.
enum Piece {
    /// The next bytes.
    Data(Bytes),
    /// Everything was written.
    End,
    /// Writing failed midway.
    Failed(String),
}

/// The body: the pieces until `End`. A failure, or a writer gone without `End`, is an
/// error of the body.
fn pieces(rx: mpsc::Receiver<Piece>) -> impl futures_util::Stream<Item = Result<Bytes, io::Error>> {
    futures_util::stream::unfold(Some(rx), |rx| async move {
        let mut rx = rx?;
        match rx.recv().await {
            Some(Piece::Data(bytes)) => Some((Ok(bytes), Some(rx))),
            Some(Piece::End) => None,
            Some(Piece::Failed(message)) => Some((Err(io::Error::other(message)), None)),
            None => Some((Err(io::Error::other("the records writer stopped midway")), None)),
        }
    })
}

/// Checks `source`, says so on `checked`, then writes the records into `tx`.
fn produce(
    meta: &ViewMetadata,
    source: &Source,
    checked: oneshot::Sender<Result<(), String>>,
    tx: mpsc::Sender<Piece>,
) {
    let layout = match source {
        Source::Json(json) => check_json(meta, json).map(Layout::Json),
        Source::Csv(csv_text) => check_csv(meta, csv_text).map(Layout::Csv),
    };
    let layout = match layout {
        Ok(layout) => layout,
        Err(message) => {
            let _ = checked.send(Err(message));
            return;
        }
    };
    if checked.send(Ok(())).is_err() {
        return; // The call was abandoned.
    }
    let mut out = PieceWriter { buf: Vec::with_capacity(PIECE + PIECE / 16), tx, sent: 0 };
    let written = match (&layout, source) {
        (Layout::Json(opening), Source::Json(json)) => write_json(opening, json, &mut out),
        (Layout::Csv(layout), Source::Csv(csv_text)) => write_csv(layout, csv_text, &mut out),
        _ => Err(io::Error::other("the source changed kind")),
    };
    match written.and_then(|()| out.send_buffer()) {
        Ok(()) => {
            tracing::debug!(bytes = out.sent, "records written");
            let _ = out.tx.blocking_send(Piece::End);
        }
        // The caller went away; nobody is left to tell.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => tracing::info!("records abandoned by the caller"),
        Err(e) => {
            tracing::error!(error = %e, bytes = out.sent, "writing records failed midway");
            let _ = out.tx.blocking_send(Piece::Failed(e.to_string()));
        }
    }
}

enum Layout {
    Json(Opening),
    Csv(CsvLayout),
}

/// Collects the output and sends it on in pieces of [`PIECE`] bytes.
struct PieceWriter {
    buf: Vec<u8>,
    tx: mpsc::Sender<Piece>,
    sent: usize,
}

impl PieceWriter {
    fn send_buffer(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let piece = std::mem::replace(&mut self.buf, Vec::with_capacity(PIECE + PIECE / 16));
        self.sent += piece.len();
        self.tx
            .blocking_send(Piece::Data(Bytes::from(piece)))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the response was dropped"))
    }
}

impl Write for PieceWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= PIECE {
            self.send_buffer()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The answer up to its rows, and each heading as a JSON key.
struct Opening {
    /// `{"view":…,"pages":…,"columns":…,"rows":[`
    head: Vec<u8>,
    /// `"<heading>":` for each column, in order.
    keys: Vec<Vec<u8>>,
}

impl Opening {
    fn new(meta: &ViewMetadata, pages: &[(String, String)], columns: &[String]) -> Opening {
        let head = serde_json::json!({
            "view": { "id": meta.id, "name": meta.name },
            "pages": pages.iter().map(|(d, i)| serde_json::json!({ "dimension": d, "item": i })).collect::<Vec<_>>(),
            "columns": columns,
        });
        // The head object is complete JSON; reopen it to append "rows".
        let mut head = head.to_string().into_bytes();
        head.pop();
        head.extend_from_slice(b",\"rows\":[");
        let keys = columns
            .iter()
            .map(|c| {
                let mut key = Value::String(c.clone()).to_string().into_bytes();
                key.push(b':');
                key
            })
            .collect();
        Opening { head, keys }
    }

    /// Writes one row: each key with its value, as many as both have.
    fn write_row<W: Write, T>(
        &self,
        out: &mut W,
        first: &mut bool,
        values: impl Iterator<Item = T>,
        mut write_value: impl FnMut(&mut W, T) -> io::Result<()>,
    ) -> io::Result<()> {
        out.write_all(if *first { b"{" } else { b",{" })?;
        *first = false;
        for (j, (key, value)) in self.keys.iter().zip(values).enumerate() {
            if j > 0 {
                out.write_all(b",")?;
            }
            out.write_all(key)?;
            write_value(out, value)?;
        }
        out.write_all(b"}")
    }
}

// ------------------------------------------------------------------- JSON (direct reads)

/// One row of the JSON grid, its values left as they are in the text.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GridRow<'a> {
    #[serde(default, borrow)]
    row_coordinates: Vec<&'a RawValue>,
    #[serde(default, borrow)]
    cells: Vec<&'a RawValue>,
}

/// The JSON grid without its rows.
struct GridHead {
    pages: Vec<Value>,
    column_coordinates: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "camelCase")]
enum GridField {
    Pages,
    ColumnCoordinates,
    Rows,
    #[serde(other)]
    Other,
}

/// Why a walk of the JSON grid stopped.
enum Stop {
    Json(serde_json::Error),
    Write(io::Error),
}

/// Reads the JSON grid, handing each row to `on_row` as it is read: only one row is
/// held at a time.
fn walk<'a>(json: &'a str, on_row: &mut dyn FnMut(GridRow<'a>) -> io::Result<()>) -> Result<GridHead, Stop> {
    let mut failed = None;
    let mut de = serde_json::Deserializer::from_str(json);
    match (GridSeed { on_row, failed: &mut failed }).deserialize(&mut de) {
        Ok(head) => de.end().map(|()| head).map_err(Stop::Json),
        Err(e) => Err(failed.map(Stop::Write).unwrap_or(Stop::Json(e))),
    }
}

struct GridSeed<'f, 'a> {
    on_row: &'f mut dyn FnMut(GridRow<'a>) -> io::Result<()>,
    failed: &'f mut Option<io::Error>,
}

impl<'de> DeserializeSeed<'de> for GridSeed<'_, 'de> {
    type Value = GridHead;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<GridHead, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for GridSeed<'_, 'de> {
    type Value = GridHead;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a view's grid (an object with pages, columnCoordinates and rows)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<GridHead, A::Error> {
        let (mut pages, mut column_coordinates, mut rows) = (None, None, false);
        while let Some(field) = map.next_key::<GridField>()? {
            match field {
                GridField::Pages if pages.is_some() => return Err(de::Error::duplicate_field("pages")),
                GridField::Pages => pages = Some(map.next_value()?),
                GridField::ColumnCoordinates if column_coordinates.is_some() => {
                    return Err(de::Error::duplicate_field("columnCoordinates"));
                }
                GridField::ColumnCoordinates => column_coordinates = Some(map.next_value()?),
                GridField::Rows if rows => return Err(de::Error::duplicate_field("rows")),
                GridField::Rows => {
                    rows = true;
                    map.next_value_seed(RowsSeed { on_row: &mut *self.on_row, failed: &mut *self.failed })?;
                }
                GridField::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(GridHead { pages: pages.unwrap_or_default(), column_coordinates: column_coordinates.unwrap_or_default() })
    }
}

struct RowsSeed<'f, 'a> {
    on_row: &'f mut dyn FnMut(GridRow<'a>) -> io::Result<()>,
    failed: &'f mut Option<io::Error>,
}

impl<'de> DeserializeSeed<'de> for RowsSeed<'_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RowsSeed<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of rows")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(row) = seq.next_element::<GridRow<'de>>()? {
            if let Err(e) = (self.on_row)(row) {
                *self.failed = Some(e);
                return Err(de::Error::custom("the records could not be written"));
            }
        }
        Ok(())
    }
}

/// First pass over the JSON: checks it whole and finds the opening.
fn check_json(meta: &ViewMetadata, json: &str) -> Result<Opening, String> {
    let mut first_row_coordinates = None;
    let mut on_row = |row: GridRow| {
        first_row_coordinates.get_or_insert(row.row_coordinates.len());
        Ok(())
    };
    let head = walk(json, &mut on_row).map_err(|stop| {
        let e = match stop {
            Stop::Json(e) => e.to_string(),
            Stop::Write(e) => e.to_string(),
        };
        format!("Anaplan's view JSON could not be read: {e}")
    })?;
    let pages: Vec<(String, String)> =
        meta.pages.iter().zip(head.pages.iter()).map(|(d, item)| (d.name.clone(), label(item))).collect();
    let labels = head.column_coordinates.iter().map(label).collect();
    let columns = headings(meta, first_row_coordinates.unwrap_or(0), labels);
    Ok(Opening::new(meta, &pages, &columns))
}

/// Second pass over JSON that [`check_json`] accepted: writes the records.
fn write_json<W: Write>(opening: &Opening, json: &str, out: &mut W) -> io::Result<()> {
    out.write_all(&opening.head)?;
    let mut first = true;
    let mut on_row = |row: GridRow| -> io::Result<()> {
        let coordinates = row.row_coordinates.iter().copied().map(RawCell::Coordinate);
        let cells = row.cells.iter().copied().map(RawCell::Cell);
        opening.write_row(out, &mut first, coordinates.chain(cells), |out, raw| match raw {
            RawCell::Coordinate(c) => write_str(out, &raw_label(c)?),
            RawCell::Cell(c) => write_raw_cell(out, c),
        })
    };
    walk(json, &mut on_row).map_err(|stop| match stop {
        Stop::Write(e) => e,
        Stop::Json(e) => io::Error::other(format!("Anaplan's view JSON could not be read a second time: {e}")),
    })?;
    out.write_all(b"]}")
}

enum RawCell<'r> {
    Coordinate(&'r RawValue),
    Cell(&'r RawValue),
}

/// The text of a JSON string as it is in the source, or unescaped.
fn raw_str(raw: &RawValue) -> Option<Cow<'_, str>> {
    let text = raw.get();
    if !text.starts_with('"') {
        return None;
    }
    match serde_json::from_str::<&str>(text) {
        Ok(s) => Some(Cow::Borrowed(s)),
        Err(_) => serde_json::from_str::<String>(text).ok().map(Cow::Owned),
    }
}

/// [`label`] of a coordinate left as text.
fn raw_label(raw: &RawValue) -> io::Result<Cow<'_, str>> {
    match raw_str(raw) {
        Some(s) => Ok(s),
        None => Ok(Cow::Owned(label(&serde_json::from_str::<Value>(raw.get())?))),
    }
}

/// [`cell`] of a cell left as text.
fn write_raw_cell<W: Write>(out: &mut W, raw: &RawValue) -> io::Result<()> {
    match raw_str(raw) {
        Some(s) => write_text_cell(out, &s),
        None => Ok(serde_json::to_writer(out, &cell(serde_json::from_str::<Value>(raw.get())?))?),
    }
}

// --------------------------------------------------------------------- CSV (large reads)

/// Where a checked CSV grid's rows start and how to write them.
struct CsvLayout {
    opening: Opening,
    /// Records before the first row: the page line and the column headers.
    preamble: usize,
    /// Leading fields of a row that are row-dimension items (always text).
    row_dims: usize,
}

fn csv_reader(csv_text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(csv_text.as_bytes())
}

/// First pass over the CSV: the page line and column headers, then every row checked to
/// be as wide as the headers (a wider row would lose cells, a narrower one columns).
fn check_csv(meta: &ViewMetadata, csv_text: &str) -> Result<CsvLayout, String> {
    let mut reader = csv_reader(csv_text);
    let mut record = csv::StringRecord::new();
    let mut next = |record: &mut csv::StringRecord, what: &str| -> Result<bool, String> {
        reader.read_record(record).map_err(|e| format!("Anaplan's CSV could not be read at the {what}: {e}"))
    };
    let mut preamble = 0;
    let mut pages = Vec::new();
    if !meta.pages.is_empty() && next(&mut record, "page line")? {
        preamble += 1;
        pages = meta.pages.iter().zip(record.iter()).map(|(d, item)| (d.name.clone(), item.to_owned())).collect();
    }
    let row_dims = meta.rows.len();
    let mut header_lines: Vec<csv::StringRecord> = Vec::new();
    for _ in 0..meta.columns.len() {
        if !next(&mut record, "column headers")? {
            break;
        }
        preamble += 1;
        header_lines.push(record.clone());
    }
    let width = header_lines.iter().map(|l| l.len().saturating_sub(row_dims)).max().unwrap_or(0);
    let labels: Vec<String> = (0..width)
        .map(|j| {
            header_lines.iter().map(|l| l.get(row_dims + j).unwrap_or("")).collect::<Vec<_>>().join(LABEL_SEPARATOR)
        })
        .collect();
    let fields = row_dims + width;
    while next(&mut record, "data rows")? {
        if record.len() != fields {
            let line = record.position().map(|p| p.line()).unwrap_or(0);
            return Err(format!(
                "Anaplan's CSV has {} fields on line {line} where the view has {fields} ({row_dims} row \
                 dimensions and {width} columns)",
                record.len()
            ));
        }
    }
    let columns = headings(meta, row_dims, labels);
    Ok(CsvLayout { opening: Opening::new(meta, &pages, &columns), preamble, row_dims })
}

/// Second pass over a CSV that [`check_csv`] accepted: writes the records.
fn write_csv<W: Write>(layout: &CsvLayout, csv_text: &str, out: &mut W) -> io::Result<()> {
    out.write_all(&layout.opening.head)?;
    let mut reader = csv_reader(csv_text);
    let mut record = csv::StringRecord::new();
    for _ in 0..layout.preamble {
        reader.read_record(&mut record).map_err(io::Error::other)?;
    }
    let mut first = true;
    while reader.read_record(&mut record).map_err(io::Error::other)? {
        layout.opening.write_row(out, &mut first, record.iter().enumerate(), |out, (j, field)| {
            if j < layout.row_dims { write_str(out, field) } else { write_text_cell(out, field) }
        })?;
    }
    out.write_all(b"]}")
}

// ------------------------------------------------------------------------------ shared

/// Row-dimension names then column labels, made unique (a repeated heading gets " (2)",
/// " (3)", ...) so no value is overwritten in a row object.
pub(crate) fn headings(meta: &ViewMetadata, row_dims: usize, labels: Vec<String>) -> Vec<String> {
    let mut names: Vec<String> = (0..row_dims)
        .map(|i| meta.rows.get(i).map(|d| d.name.clone()).unwrap_or_else(|| format!("Row dimension {}", i + 1)))
        .collect();
    names.extend(labels);
    // Hashed, with the next suffix to try per heading: a view with thousands of columns
    // (or of equal labels) costs no more than one pass, not a scan per column.
    let mut taken: HashSet<String> = HashSet::with_capacity(names.len());
    let mut next_suffix: HashMap<String, usize> = HashMap::new();
    let mut unique: Vec<String> = Vec::with_capacity(names.len());
    for name in names {
        let candidate = if taken.contains(&name) {
            let n = next_suffix.entry(name.clone()).or_insert(2);
            loop {
                let candidate = format!("{name} ({n})");
                *n += 1;
                if !taken.contains(&candidate) {
                    break candidate;
                }
            }
        } else {
            name
        };
        taken.insert(candidate.clone());
        unique.push(candidate);
    }
    unique
}

/// A coordinate or label as text: strings as they are, a list of labels joined, an object
/// by its name.
fn label(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(label).collect::<Vec<_>>().join(LABEL_SEPARATOR),
        Value::Object(o) => o.get("name").map(label).unwrap_or_default(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Text in JSON number syntax (nothing around it, finite) as that number. JSON's own
/// grammar decides, so "007", "1,000", "NaN" and "" are not numbers.
fn number(s: &str) -> Option<serde_json::Number> {
    // A JSON number starts with a minus or a digit: anything else is text, unparsed.
    if !matches!(s.as_bytes().first(), Some(b'-' | b'0'..=b'9')) || s.trim() != s {
        return None;
    }
    serde_json::from_str::<serde_json::Number>(s).ok().filter(|n| n.as_f64().is_some_and(f64::is_finite))
}

/// A cell: text in JSON number syntax becomes a number; everything else stays text.
fn cell(v: Value) -> Value {
    match v {
        Value::String(s) => match number(&s) {
            Some(n) => Value::Number(n),
            None => Value::String(s),
        },
        Value::Number(n) => Value::Number(n),
        Value::Null => Value::String(String::new()),
        other => Value::String(other.to_string()),
    }
}

/// Writes a text cell as [`cell`] makes it.
fn write_text_cell<W: Write>(out: &mut W, s: &str) -> io::Result<()> {
    match number(s) {
        Some(n) => Ok(serde_json::to_writer(out, &n)?),
        None => write_str(out, s),
    }
}

fn write_str<W: Write>(out: &mut W, s: &str) -> io::Result<()> {
    Ok(serde_json::to_writer(out, s)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use anaplan::Named;
    use axum::http::StatusCode;

    fn meta(pages: bool) -> ViewMetadata {
        let d = |id: &str, name: &str| Named { id: id.into(), name: name.into() };
        ViewMetadata {
            id: "102000000001".into(),
            name: "REV01".into(),
            rows: vec![d("101000000000", "Products"), d("101000000003", "Regions")],
            columns: vec![d("20000000003", "Time"), d("101999999999", "Line items")],
            pages: if pages { vec![d("20000000020", "Versions")] } else { vec![] },
        }
    }

    #[test]
    fn json_rows_keep_column_order_and_types() {
        let json = r#"{"pages":["Forecast"],"columnCoordinates":[["Jan 26","Price"],["Jan 26","Notes"]],
            "rows":[{"rowCoordinates":["Widget","North"],"cells":["64.6","ok"]},
                    {"rowCoordinates":["Gizmo, Deluxe","South"],"cells":["-3.25","007"]}]}"#;
        let out: Value = serde_json::from_slice(&from_grid_json(&meta(true), json).unwrap()).unwrap();
        assert_eq!(out["view"], serde_json::json!({"id": "102000000001", "name": "REV01"}));
        assert_eq!(out["pages"], serde_json::json!([{"dimension": "Versions", "item": "Forecast"}]));
        assert_eq!(out["columns"], serde_json::json!(["Products", "Regions", "Jan 26 | Price", "Jan 26 | Notes"]));
        assert_eq!(out["rows"][0]["Jan 26 | Price"], serde_json::json!(64.6));
        assert_eq!(out["rows"][1]["Jan 26 | Price"], serde_json::json!(-3.25));
        assert_eq!(out["rows"][1]["Jan 26 | Notes"], serde_json::json!("007"));
        let keys: Vec<&String> = out["rows"][1].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["Products", "Regions", "Jan 26 | Price", "Jan 26 | Notes"]);
    }

    #[test]
    fn csv_grid_gives_the_same_records_as_json() {
        let json = r#"{"pages":[],"columnCoordinates":[["Jan 26","Price"],["Jan 26","Notes"]],
            "rows":[{"rowCoordinates":["Gizmo, Deluxe","North"],"cells":["1200","check \"A\""]}]}"#;
        let csv = ",,Jan 26,Jan 26\n,,Price,Notes\n\"Gizmo, Deluxe\",North,1200,\"check \"\"A\"\"\"\n";
        let a = from_grid_json(&meta(false), json).unwrap();
        let b = from_grid_csv(&meta(false), csv).unwrap();
        assert_eq!(String::from_utf8(a).unwrap(), String::from_utf8(b).unwrap(), "byte for byte");
    }

    #[test]
    fn the_output_is_exactly_this_text() {
        // Keys and text escaped as serde_json writes them, numbers as serde_json prints
        // the parsed number, row coordinates always text.
        let json = r#"{"rows":[{"cells":["1e3","-0.50","a\u00e9\"b",null,7,true,{"x":1}],
            "rowCoordinates":["12",{"name":"Named"}]}],"columnCoordinates":[["M","x"],"y","y","z","n","b","o"],
            "extra":{"ignored":[1,2]},"pages":["P"]}"#;
        let out = String::from_utf8(from_grid_json(&meta(true), json).unwrap()).unwrap();
        assert_eq!(
            out,
            r#"{"view":{"id":"102000000001","name":"REV01"},"pages":[{"dimension":"Versions","item":"P"}],"columns":["Products","Regions","M | x","y","y (2)","z","n","b","o"],"rows":[{"Products":"12","Regions":"Named","M | x":1000.0,"y":-0.5,"y (2)":"aé\"b","z":"","n":7,"b":"true","o":"{\"x\":1}"}]}"#
        );
    }

    #[test]
    fn only_json_number_syntax_becomes_a_number() {
        for s in ["", "NaN", "inf", "1,000", "007", " 5", "5 ", "+5", "1e999", "true", "-", ".5"] {
            assert_eq!(cell(Value::String(s.into())), Value::String(s.into()), "{s:?}");
        }
        assert_eq!(cell(Value::String("0".into())), serde_json::json!(0));
        assert_eq!(cell(Value::String("1e3".into())), serde_json::json!(1000.0));
        assert_eq!(cell(Value::String("-12.5".into())), serde_json::json!(-12.5));
    }

    #[test]
    fn repeated_headings_are_made_unique() {
        let h = headings(&meta(false), 2, vec!["Regions".into(), "X".into(), "X".into()]);
        assert_eq!(h, ["Products", "Regions", "Regions (2)", "X", "X (2)"]);
        let h = headings(&meta(false), 0, ["X", "X (2)", "X", "X"].map(String::from).to_vec());
        assert_eq!(h, ["X", "X (2)", "X (3)", "X (4)"], "a suffix already taken is skipped");
        let many = headings(&meta(false), 0, vec![String::new(); 50_000]);
        assert_eq!(many.len(), 50_000);
        assert_eq!(many[49_999], " (50000)");
    }

    #[test]
    fn a_row_wider_or_narrower_than_the_headers_is_refused_with_its_line() {
        let head = ",,Jan 26,Jan 26\n,,Price,Notes\nWidget,North,1,ok\n";
        for (row, fields) in [("Gizmo,South,2,ok,extra\n", 5), ("Gizmo,South,2\n", 3)] {
            let e = from_grid_csv(&meta(false), &format!("{head}{row}")).unwrap_err();
            assert!(e.contains(&format!("{fields} fields on line 4 where the view has 4")), "{e}");
        }
        assert!(from_grid_csv(&meta(false), head).is_ok());
    }

    #[test]
    fn malformed_json_is_refused_and_duplicate_fields_too() {
        for json in [r#"{"rows":[{"cells":["1"]}"#, r#"{"rows":[],"rows":[]}"#, r#"{"rows":[]} x"#, "[]", "null"] {
            let e = from_grid_json(&meta(false), json).unwrap_err();
            assert!(e.starts_with("Anaplan's view JSON could not be read"), "{json}: {e}");
        }
        assert!(from_grid_json(&meta(false), "{}").is_ok(), "every field may be missing");
    }

    fn pieces_of(meta: ViewMetadata, source: Source) -> Vec<Result<Bytes, String>> {
        use futures_util::StreamExt;
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        rt.block_on(async {
            let body = stream(meta, source).await.map_err(|p| p.status()).unwrap();
            body.into_data_stream().map(|r| r.map_err(|e| e.to_string())).collect().await
        })
    }

    #[test]
    fn a_stream_gives_the_same_bytes_in_pieces() {
        let mut csv = String::from(",,Jan 26,Jan 26\n,,Price,Notes\n");
        for i in 0..60_000 {
            csv.push_str(&format!("Product {i},Region {},{i}.5,\"note, {i}\"\n", i % 7));
        }
        let whole = from_grid_csv(&meta(false), &csv).unwrap();
        assert!(whole.len() > 3 * PIECE, "several pieces: {}", whole.len());
        let pieces = pieces_of(meta(false), Source::Csv(csv));
        assert!(pieces.len() >= 3);
        let joined: Vec<u8> = pieces.into_iter().flat_map(|p| p.unwrap().to_vec()).collect();
        assert!(joined == whole, "the pieces joined are the whole answer");
    }

    #[test]
    fn a_malformed_source_is_a_502_before_anything_is_streamed() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let csv = ",,Jan 26\n,,Price\nWidget,North,1,2\n".to_owned();
        let p = rt.block_on(stream(meta(false), Source::Csv(csv))).unwrap_err();
        assert_eq!(p.status(), StatusCode::BAD_GATEWAY);
        let p = rt.block_on(stream(meta(false), Source::Json("{\"rows\":".into()))).unwrap_err();
        assert_eq!(p.status(), StatusCode::BAD_GATEWAY);
    }

    #[test]
    fn a_writer_that_stops_midway_ends_the_body_with_an_error() {
        use futures_util::StreamExt;
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let got: Vec<Result<Bytes, String>> = rt.block_on(async {
            let (tx, rx) = mpsc::channel(4);
            tx.send(Piece::Data(Bytes::from_static(b"{\"rows\":["))).await.unwrap();
            drop(tx); // gone without End, as after a panic
            pieces(rx).map(|r| r.map_err(|e| e.to_string())).collect().await
        });
        assert_eq!(got.len(), 2);
        assert!(got[1].is_err(), "{got:?}");
        let got: Vec<Result<Bytes, String>> = rt.block_on(async {
            let (tx, rx) = mpsc::channel(4);
            tx.send(Piece::Failed("bad".into())).await.unwrap();
            tx.send(Piece::End).await.unwrap();
            pieces(rx).map(|r| r.map_err(|e| e.to_string())).collect().await
        });
        assert_eq!(got, vec![Err("bad".to_owned())], "nothing after a failure");
    }
}
