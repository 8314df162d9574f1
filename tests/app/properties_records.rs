//! Property tests for CSV to records (`get-view-data`'s large reads): any bytes are either
//! refused with a message or become valid JSON, never a panic; and a well-formed grid CSV
//! gives exactly its rows, each with every column, its text cells unchanged.

use anaplan::Named;
use anaplan::views::ViewMetadata;
use anaplan_functions::machinery::records::{from_grid_csv, from_grid_json};
use proptest::prelude::*;
use serde_json::Value;

fn meta(pages: usize, rows: usize, columns: usize) -> ViewMetadata {
    let dims = |prefix: &str, n: usize| -> Vec<Named> {
        (0..n).map(|i| Named { id: format!("10100000000{i}"), name: format!("{prefix} {i}") }).collect()
    };
    ViewMetadata {
        id: "102000000001".into(),
        name: "View".into(),
        rows: dims("Row", rows),
        columns: dims("Column", columns),
        pages: dims("Page", pages),
    }
}

/// A cell as Anaplan may write it: numbers, text with separators, quotes and line breaks.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof!["-?[0-9]{1,6}(\\.[0-9]{1,3})?", "[a-zA-Z ,\"\\n|]{0,12}", ".{0,8}"]
}

/// A grid CSV as a large read writes it: a page line, one header line per column
/// dimension, then the rows; every line as wide as the row dimensions plus the columns.
fn grid() -> impl Strategy<Value = (usize, usize, usize, Vec<Vec<Vec<String>>>)> {
    (0usize..3, 0usize..3, 1usize..3, 0usize..6)
        .prop_filter("a line has a field", |(_, r, _, w)| r + w > 0)
        .prop_flat_map(|(p, r, c, w)| {
            let line = move |n: usize| prop::collection::vec(cell(), n);
            let pages = prop::collection::vec(line(p), usize::from(p > 0));
            let headers = prop::collection::vec(line(r + w), c);
            let rows = prop::collection::vec(line(r + w), 0..20);
            (Just(p), Just(r), Just(c), (pages, headers, rows).prop_map(|(a, b, c)| vec![a, b, c]))
        })
}

fn csv_text(lines: &[Vec<String>]) -> String {
    let mut w = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
    for l in lines {
        w.write_record(l).unwrap();
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn any_bytes_are_records_or_a_message(
        bytes in prop::collection::vec(any::<u8>(), 0..400),
        text in "[a-z0-9,\"\\n\\r ]{0,300}",
        (p, r, c) in (0usize..3, 0usize..3, 0usize..3),
    ) {
        let m = meta(p, r, c);
        for input in [String::from_utf8_lossy(&bytes).into_owned(), text] {
            if let Ok(out) = from_grid_csv(&m, &input) {
                prop_assert!(serde_json::from_slice::<Value>(&out).is_ok(), "not JSON: {}", String::from_utf8_lossy(&out));
            }
            if let Ok(out) = from_grid_json(&m, &input) {
                prop_assert!(serde_json::from_slice::<Value>(&out).is_ok());
            }
        }
    }

    #[test]
    fn a_well_formed_grid_gives_its_rows_with_every_column((p, r, c, parts) in grid()) {
        let [pages, headers, rows] = <[Vec<Vec<String>>; 3]>::try_from(parts).unwrap();
        let lines: Vec<Vec<String>> = pages.iter().chain(&headers).chain(&rows).cloned().collect();
        let text = csv_text(&lines);
        // A byte order mark opening the file is not data (the CSV reader drops it, as it
        // should for a file that starts with one); a first cell that is one is not a grid.
        prop_assume!(!text.starts_with('\u{feff}'));
        let out = from_grid_csv(&meta(p, r, c), &text).expect("a well-formed grid is read");
        let with_bom = from_grid_csv(&meta(p, r, c), &format!("\u{feff}{text}")).unwrap();
        prop_assert_eq!(&out, &with_bom, "a byte order mark changes nothing");
        let out: Value = serde_json::from_slice(&out).unwrap();
        let columns = out["columns"].as_array().unwrap();
        let records = out["rows"].as_array().unwrap();
        prop_assert_eq!(records.len(), rows.len(), "one record per row");
        prop_assert_eq!(columns.len(), headers[0].len(), "the row dimensions, then each column");
        prop_assert_eq!(out["pages"].as_array().unwrap().len(), p);
        for (record, row) in records.iter().zip(&rows) {
            let record = record.as_object().unwrap();
            prop_assert_eq!(record.len(), columns.len(), "every column, each heading once");
            for ((key, value), (column, given)) in record.iter().zip(columns.iter().zip(row)) {
                prop_assert_eq!(Some(key.as_str()), column.as_str());
                match value {
                    Value::String(s) => prop_assert_eq!(s, given),
                    Value::Number(n) => prop_assert_eq!(n.as_f64(), given.parse::<f64>().ok()),
                    other => prop_assert!(false, "{other}"),
                }
            }
        }
    }
}
