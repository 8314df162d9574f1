//! "Sized Export.txt" ([`EXPORT_SIZED_ID`]): an export whose size each emulator sets, for
//! transfer benchmarks (64 MiB by default; `POST /_emulator/sized-export?bytes=N` or
//! [`Emulator::set_sized_export_bytes`]). Its file is rendered chunk by chunk on request and
//! never kept, so a 1 GiB export costs the emulator one 10 MiB chunk per download in flight.
//!
//! Layout: 64-byte lines, tab-separated. Line 1 is the header (`Row Number`, `Note`, padded
//! with spaces); data row `r` (1-based) is `r` as 12 digits, a tab, 50 letters that roll with
//! `r`, a newline. Every line differs, so a lost, doubled or misplaced byte changes the
//! file's digest. Chunks are 10 MiB, a whole number of lines each; the size is a multiple
//! of 64 bytes. The size applies to the chunks served from then on (set it before the run).

use super::seed::{EXPORT_CHUNK_SIZE, EXPORT_SIZED_ID};
use super::util::api_error;
use super::{Emulator, EmulatorState, Inner};
use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

/// Bytes of one line (the header's too).
pub const SIZED_EXPORT_LINE: usize = 64;
/// The header line.
pub const SIZED_EXPORT_HEADER: &str = "Row Number\tNote                                                \n";
/// A fresh emulator's size: 64 MiB.
pub const SIZED_EXPORT_DEFAULT_BYTES: u64 = 64 * 1024 * 1024;
/// Largest size the control accepts: 64 GiB.
pub const SIZED_EXPORT_MAX_BYTES: u64 = 64 * 1024 * 1024 * 1024;
/// Data rows of the default size (what the static catalog entry describes).
pub const SIZED_EXPORT_DEFAULT_ROWS: usize = SIZED_EXPORT_DEFAULT_BYTES as usize / SIZED_EXPORT_LINE - 1;
const DIGITS: usize = 12;
const LETTERS: usize = SIZED_EXPORT_LINE - DIGITS - 2;

/// The size set for one emulator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size(pub u64);

impl Default for Size {
    fn default() -> Self {
        Size(SIZED_EXPORT_DEFAULT_BYTES)
    }
}

/// Why a size is refused, or `None` when it is usable.
fn refusal(bytes: u64) -> Option<String> {
    let ok = bytes >= SIZED_EXPORT_LINE as u64
        && bytes.is_multiple_of(SIZED_EXPORT_LINE as u64)
        && bytes <= SIZED_EXPORT_MAX_BYTES;
    (!ok).then(|| {
        format!(
            "Invalid value for parameter [bytes]: {bytes}; expected a multiple of {SIZED_EXPORT_LINE} from {SIZED_EXPORT_LINE} to {SIZED_EXPORT_MAX_BYTES}"
        )
    })
}

/// Data row `r` (0-based, the second line of the file), as the static catalog entry renders it.
pub fn sized_row(r: usize, out: &mut Vec<u8>) {
    let mut n = r as u64 + 1;
    let mut digits = [b'0'; DIGITS];
    for d in digits.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
    out.extend_from_slice(&digits);
    out.push(b'\t');
    out.extend((0..LETTERS).map(|k| b'a' + ((r + 7 * k) % 26) as u8));
    out.push(b'\n');
}

/// The 26 distinct lines (letters roll with period 26), digits still zero.
static TEMPLATES: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    (0..26)
        .map(|r| {
            let mut line = Vec::with_capacity(SIZED_EXPORT_LINE);
            sized_row(r, &mut line);
            line[..DIGITS].fill(b'0');
            line
        })
        .collect()
});

/// Chunks of a file of `total` bytes.
pub fn sized_export_chunk_count(total: u64) -> usize {
    total.div_ceil(EXPORT_CHUNK_SIZE as u64) as usize
}

/// Chunk `n` of a file of `total` bytes, or `None` past the last.
pub fn sized_export_chunk(total: u64, n: usize) -> Option<Vec<u8>> {
    if n >= sized_export_chunk_count(total) {
        return None;
    }
    let start = n as u64 * EXPORT_CHUNK_SIZE as u64;
    let end = (start + EXPORT_CHUNK_SIZE as u64).min(total);
    let (first, last) = ((start / SIZED_EXPORT_LINE as u64) as usize, (end / SIZED_EXPORT_LINE as u64) as usize);
    let mut out = Vec::with_capacity((end - start) as usize);
    let mut line = first;
    if line == 0 {
        out.extend_from_slice(SIZED_EXPORT_HEADER.as_bytes());
        line = 1;
    }
    if line < last {
        // Counted up in ASCII: no division per row.
        let mut digits = [b'0'; DIGITS];
        let mut v = line as u64;
        for d in digits.iter_mut().rev() {
            *d = b'0' + (v % 10) as u8;
            v /= 10;
        }
        let templates = &*TEMPLATES;
        for r in line - 1..last - 1 {
            let at = out.len();
            out.extend_from_slice(&templates[r % 26]);
            out[at..at + DIGITS].copy_from_slice(&digits);
            for d in digits.iter_mut().rev() {
                if *d == b'9' {
                    *d = b'0';
                } else {
                    *d += 1;
                    break;
                }
            }
        }
    }
    Some(out)
}

/// Whether an export is this one.
pub(super) fn is_sized(export_id: &str) -> bool {
    export_id == EXPORT_SIZED_ID
}

/// The size this emulator serves.
pub(super) fn size(st: &EmulatorState) -> u64 {
    st.sized_export.0
}

impl Emulator {
    /// Sets the size of "Sized Export.txt" for the chunks served from now on. Panics on a
    /// size the control would refuse (not a multiple of 64 from 64 bytes to 64 GiB).
    pub fn set_sized_export_bytes(&self, bytes: u64) {
        if let Some(why) = refusal(bytes) {
            panic!("set_sized_export_bytes: {why}");
        }
        self.inner.state().sized_export = Size(bytes);
    }

    /// The size of "Sized Export.txt" in this emulator.
    pub fn sized_export_bytes(&self) -> u64 {
        self.inner.state().sized_export.0
    }
}

/// `POST /_emulator/sized-export?bytes=N` → 204; a missing, malformed or unusable size → 400.
pub async fn http_sized_export(
    State(inner): State<Arc<Inner>>,
    uri: Uri,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let path = uri.path();
    let bytes = match q.get("bytes").map(|v| (v, v.parse::<u64>())) {
        Some((_, Ok(n))) => n,
        Some((v, Err(_))) => {
            return api_error(StatusCode::BAD_REQUEST, &format!("Invalid value for parameter [bytes]: {v}"), path);
        }
        None => return api_error(StatusCode::BAD_REQUEST, "Missing parameter [bytes]", path),
    };
    if let Some(why) = refusal(bytes) {
        return api_error(StatusCode::BAD_REQUEST, &why, path);
    }
    inner.state().sized_export = Size(bytes);
    StatusCode::NO_CONTENT.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_64_bytes() {
        assert_eq!(SIZED_EXPORT_HEADER.len(), SIZED_EXPORT_LINE);
        let mut row = Vec::new();
        sized_row(1_234_566, &mut row);
        assert_eq!(row.len(), SIZED_EXPORT_LINE);
        assert!(row.starts_with(b"000001234567\t"), "{}", String::from_utf8_lossy(&row));
        assert_eq!(EXPORT_CHUNK_SIZE % SIZED_EXPORT_LINE, 0, "chunks hold whole lines");
    }

    #[test]
    fn fast_chunks_equal_the_catalog_entrys_rendering() {
        let def = super::super::bulk::export(EXPORT_SIZED_ID).expect("in the catalog");
        assert_eq!(def.len() as u64, SIZED_EXPORT_DEFAULT_BYTES);
        assert_eq!(def.chunk_count(), sized_export_chunk_count(SIZED_EXPORT_DEFAULT_BYTES));
        for n in [0, 1, def.chunk_count() - 1] {
            assert_eq!(def.chunk(n), sized_export_chunk(SIZED_EXPORT_DEFAULT_BYTES, n), "chunk {n}");
        }
    }

    #[test]
    fn any_size_ends_where_it_should() {
        let total = 3 * EXPORT_CHUNK_SIZE as u64 + 640;
        assert_eq!(sized_export_chunk_count(total), 4);
        let last = sized_export_chunk(total, 3).unwrap();
        assert_eq!(last.len(), 640);
        let rows_before = 3 * EXPORT_CHUNK_SIZE / SIZED_EXPORT_LINE - 1;
        let mut expect = Vec::new();
        sized_row(rows_before, &mut expect);
        assert_eq!(&last[..SIZED_EXPORT_LINE], &expect[..]);
        assert!(sized_export_chunk(total, 4).is_none());
        assert_eq!(sized_export_chunk(64, 0).unwrap(), SIZED_EXPORT_HEADER.as_bytes());
    }

    #[test]
    fn sizes_must_be_whole_lines() {
        assert!(refusal(0).is_some());
        assert!(refusal(100).is_some());
        assert!(refusal(SIZED_EXPORT_MAX_BYTES + 64).is_some());
        assert!(refusal(1 << 30).is_none());
    }
}
