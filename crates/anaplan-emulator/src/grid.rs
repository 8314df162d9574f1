//! Rendering a view's grid: page selection, the JSON `format=v1` body and the
//! CSV document (also cut into parts for large read requests). Cells are
//! generated while writing, so only the output text is ever held in memory.

use super::data::{View, axis_len, decode};
use super::util::push_csv_line;
use serde_json::{Value, json};
use std::ops::Range;

/// Computes one cell from the item index chosen on each page, row and column dimension:
/// the view's own formula ([`View::cell`]) or, for a view of stored cells, a lookup.
pub type CellOf<'a> = &'a dyn Fn(&[usize], &[usize], &[usize]) -> String;

/// Resolves `pages=` selectors to one item index per page dimension.
///
/// Each selector is `dimId:itemId`; values may be comma-separated and the
/// parameter may repeat. Empty segments are ignored. A selector whose
/// dimension is not a page dimension of the view, whose item is not in that
/// dimension, that is malformed, or that selects a dimension twice is
/// returned as `Err(selector)` (→ 400 "Invalid page selector [..]").
/// Unselected page dimensions default to their first item.
pub fn select_pages(view: &View, raw_values: &[&str]) -> Result<Vec<usize>, String> {
    let mut chosen: Vec<Option<usize>> = vec![None; view.pages.len()];
    for selector in raw_values.iter().flat_map(|v| v.split(',')).map(str::trim) {
        if selector.is_empty() {
            continue;
        }
        let Some((dim_id, item_id)) = selector.split_once(':') else {
            return Err(selector.to_string());
        };
        let Some(pos) = view.pages.iter().position(|d| d.id == dim_id) else {
            return Err(selector.to_string());
        };
        match (chosen[pos], view.pages[pos].index_of(item_id)) {
            (None, Some(idx)) => chosen[pos] = Some(idx),
            _ => return Err(selector.to_string()),
        }
    }
    Ok(chosen.into_iter().map(|c| c.unwrap_or(0)).collect())
}

/// Names of the selected page items, in page-axis order.
fn page_names(view: &View, pages: &[usize]) -> Vec<String> {
    view.pages.iter().zip(pages).map(|(d, &i)| d.item_name(i)).collect()
}

/// All labels of one axis: for each combination, one item name per dimension.
fn axis_labels(dims: &[super::data::Dim]) -> Vec<Vec<String>> {
    let mut idx = Vec::new();
    (0..axis_len(dims))
        .map(|k| {
            decode(dims, k, &mut idx);
            dims.iter().zip(&idx).map(|(d, &i)| d.item_name(i)).collect()
        })
        .collect()
}

/// The `format=v1` JSON body: `pages`, `columnCoordinates`, `rows` (cells are strings).
pub fn json_v1(view: &View, pages: &[usize], cell: CellOf) -> Value {
    let n_cols = axis_len(&view.columns);
    let mut row_idx = Vec::new();
    let mut col_idx = Vec::new();
    let rows: Vec<Value> = (0..axis_len(&view.rows))
        .map(|r| {
            decode(&view.rows, r, &mut row_idx);
            let coords: Vec<String> = view.rows.iter().zip(&row_idx).map(|(d, &i)| d.item_name(i)).collect();
            let cells: Vec<String> = (0..n_cols)
                .map(|c| {
                    decode(&view.columns, c, &mut col_idx);
                    cell(pages, &row_idx, &col_idx)
                })
                .collect();
            json!({ "rowCoordinates": coords, "cells": cells })
        })
        .collect();
    json!({
        "pages": page_names(view, pages),
        "columnCoordinates": axis_labels(&view.columns),
        "rows": rows,
    })
}

/// CSV preamble: the page-selector line (only when the view has page
/// dimensions), then one line per column dimension whose leading
/// row-dimension fields are empty.
pub fn csv_header(view: &View, pages: &[usize]) -> String {
    let mut out = String::new();
    if !view.pages.is_empty() {
        let names = page_names(view, pages);
        push_csv_line(&mut out, names.iter().map(String::as_str));
    }
    let labels = axis_labels(&view.columns);
    for dim_pos in 0..view.columns.len() {
        let lead = std::iter::repeat_n("", view.rows.len());
        push_csv_line(&mut out, lead.chain(labels.iter().map(|l| l[dim_pos].as_str())));
    }
    out
}

/// CSV data lines for the row combinations in `range`: row item names, then cells.
pub fn csv_rows(view: &View, pages: &[usize], range: Range<usize>, cell: CellOf) -> String {
    let n_cols = axis_len(&view.columns);
    let mut out = String::new();
    let mut row_idx = Vec::new();
    let mut col_idx = Vec::new();
    let mut fields: Vec<String> = Vec::with_capacity(view.rows.len() + n_cols);
    for r in range {
        decode(&view.rows, r, &mut row_idx);
        fields.clear();
        fields.extend(view.rows.iter().zip(&row_idx).map(|(d, &i)| d.item_name(i)));
        for c in 0..n_cols {
            decode(&view.columns, c, &mut col_idx);
            fields.push(cell(pages, &row_idx, &col_idx));
        }
        push_csv_line(&mut out, fields.iter().map(String::as_str));
    }
    out
}

/// The whole direct-read CSV document for one page selection.
pub fn csv_document(view: &View, pages: &[usize], cell: CellOf) -> String {
    let mut doc = csv_header(view, pages);
    doc.push_str(&csv_rows(view, pages, 0..axis_len(&view.rows), cell));
    doc
}

/// Part `part` of `parts` of the document for a large read request: rows are
/// split into consecutive ranges. With `header_on_every_part` false only part 0
/// carries the preamble, so the parts concatenated in order equal [`csv_document`]
/// for the first page items; with it true every part starts with the preamble
/// (Anaplan's page layout is not documented, so the emulator serves both).
pub fn csv_part(view: &View, part: usize, parts: usize, header_on_every_part: bool, cell: CellOf) -> String {
    let pages = vec![0; view.pages.len()];
    let total = axis_len(&view.rows);
    let parts = parts.max(1);
    let range = (part * total / parts)..((part + 1) * total / parts);
    let mut out = if part == 0 || header_on_every_part { csv_header(view, &pages) } else { String::new() };
    out.push_str(&csv_rows(view, &pages, range, cell));
    out
}
