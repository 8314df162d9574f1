//! Object names: how long one may be, and which existing names are closest to one that
//! matches nothing. Both are bounds on work a caller controls: a name comes from outside
//! and is compared with every name of a listing (a list can have thousands of items), so a
//! long name must cost no more than a short one.
//!
//! Closeness is the edit distance (Levenshtein) between the lowercased names, computed
//! within a band and abandoned as soon as it exceeds the allowed number of edits, on at
//! most [`COMPARED_CHARS`] characters of each name, with a total budget per call: the work
//! is bounded whatever the name and the listing. A name that contains what was asked for
//! (`Sales` for `REV10 Sales Input`) counts as close too.

/// The longest object name a request may give, in characters. Anaplan's own names are at
/// most a few hundred characters; a longer one cannot match, so it is refused as a 400
/// before any listing is read.
pub const MAX_NAME_CHARS: usize = 1024;

/// At most this many closest names are suggested.
pub const SUGGESTIONS: usize = 5;

/// Names are compared on their first this many characters.
pub const COMPARED_CHARS: usize = 256;

/// The most edits a suggestion may be away from the name asked for.
const MAX_EDITS: usize = 16;

/// Table cells computed per call, across all candidates (then the rest of the listing is
/// not compared): at least 940 comparisons of the longest names in full, and in practice a
/// whole listing, since most comparisons stop after a few rows or are skipped by length.
/// Some ten milliseconds at most in a release build.
const WORK_BUDGET: usize = 8_000_000;

/// The edits allowed for a name of `len` characters: about a third of it, at least 2.
fn allowed_edits(len: usize) -> usize {
    (len / 3).clamp(2, MAX_EDITS)
}

/// Up to [`SUGGESTIONS`] of `names` closest to `wanted`, closest first (ties by name), each
/// once. Names too far from `wanted` are left out, so the answer may be empty.
pub fn closest<'a>(names: impl IntoIterator<Item = &'a str>, wanted: &str) -> Vec<String> {
    let mut wanted_text = String::new();
    lowercase_into(&mut wanted_text, wanted);
    let wanted_chars: Vec<char> = wanted_text.chars().collect();
    let edits = allowed_edits(wanted_chars.len());
    let mut work = 0usize;
    let mut scored: Vec<(usize, &str)> = Vec::new();
    let (mut text, mut chars) = (String::new(), Vec::new());
    for name in names {
        if work >= WORK_BUDGET {
            break;
        }
        lowercase_into(&mut text, name);
        let len = if text.is_ascii() { text.len() } else { text.chars().count() };
        let longer = len >= wanted_chars.len();
        let distance = if wanted_chars.len() >= 3 && longer && text.contains(wanted_text.as_str()) {
            // Insertions only: the exact distance, found without the table.
            Some(len - wanted_chars.len())
        } else if len.abs_diff(wanted_chars.len()) > edits {
            None
        } else {
            chars.clear();
            chars.extend(text.chars());
            bounded_distance(&wanted_chars, &chars, edits, &mut work)
        };
        if let Some(d) = distance {
            scored.push((d, name));
        }
    }
    scored.sort_unstable();
    let mut out: Vec<String> = Vec::new();
    for (_, name) in scored {
        if !out.iter().any(|n| n == name) {
            out.push(name.to_owned());
            if out.len() == SUGGESTIONS {
                break;
            }
        }
    }
    out
}

/// `out` becomes the first [`COMPARED_CHARS`] characters of `s`, lowercased.
fn lowercase_into(out: &mut String, s: &str) {
    out.clear();
    if s.is_ascii() {
        out.push_str(&s[..s.len().min(COMPARED_CHARS)]);
        out.make_ascii_lowercase();
    } else {
        out.extend(s.chars().flat_map(char::to_lowercase).take(COMPARED_CHARS));
    }
}

/// The edit distance of `a` and `b` when it is at most `k`, else `None`. Only the band of
/// the table within `k` of its diagonal is computed, row by row, and the computation stops
/// at the first row whose every cell exceeds `k`; `work` counts the cells computed.
pub fn bounded_distance(a: &[char], b: &[char], k: usize, work: &mut usize) -> Option<usize> {
    let (n, m) = (a.len(), b.len());
    if n.abs_diff(m) > k {
        return None;
    }
    let over = k + 1;
    // Row 0: the distance from the empty prefix of `a` to each prefix of `b`.
    let mut prev: Vec<usize> = (0..=m).map(|j| if j <= k { j } else { over }).collect();
    let mut cur: Vec<usize> = vec![over; m + 1];
    for i in 1..=n {
        let lo = i.saturating_sub(k).max(1);
        let hi = (i + k).min(m);
        // The cell left of the band is outside it.
        cur[lo - 1] = if lo == 1 && i <= k { i } else { over };
        let mut row_min = cur[lo - 1];
        for j in lo..=hi {
            let substitution = prev[j - 1] + usize::from(a[i - 1] != b[j - 1]);
            let v = substitution.min(prev[j] + 1).min(cur[j - 1] + 1).min(over);
            cur[j] = v;
            row_min = row_min.min(v);
        }
        if hi < m {
            // The next row reads this cell as its upper neighbour: outside the band.
            cur[hi + 1] = over;
        }
        *work += hi + 1 - lo.min(hi + 1);
        if row_min > k {
            return None;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    (prev[m] <= k).then_some(prev[m])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    #[test]
    fn names_are_compared_lowercased_on_their_first_characters() {
        let mut out = String::new();
        lowercase_into(&mut out, &"AbC".repeat(200));
        assert_eq!(out, "abc".repeat(200)[..COMPARED_CHARS]);
        lowercase_into(&mut out, &"ÉÉ".repeat(200));
        assert_eq!(out.chars().count(), COMPARED_CHARS);
        assert!(out.chars().all(|c| c == 'é'));
    }

    #[test]
    fn closest_names_first_case_insensitive_and_far_ones_left_out() {
        let names = ["Headcount", "Revenue Plan", "Capex", "Revenue Plan v2", "REV10 Sales Input"];
        assert_eq!(closest(names, "revenue plan"), ["Revenue Plan", "Revenue Plan v2"]);
        assert_eq!(closest(names, "Revenue Pln")[0], "Revenue Plan");
        assert_eq!(closest(names, "REV10 Sales"), ["REV10 Sales Input"]);
        assert_eq!(closest(names, "sales"), ["REV10 Sales Input"], "containing the name counts");
        assert!(closest(names, "Zebra crossing").is_empty());
        assert_eq!(closest(["B", "A", "A"], "C"), ["A", "B"], "ties by name, each once");
        assert!(closest(names, "").len() <= SUGGESTIONS);
    }

    #[test]
    fn a_long_name_against_a_large_listing_costs_little() {
        let listing: Vec<String> = (0..10_000).map(|i| format!("Cost Centre {i:05} {}", "x".repeat(i % 300))).collect();
        let near = format!("cost centre 09999 {}", "x".repeat(240));
        for wanted in ["y".repeat(MAX_NAME_CHARS), near, "z".repeat(200), "Cost Centre 0999".into()] {
            // The cost is bounded by WORK_BUDGET (next test), not by a clock.
            let found = closest(listing.iter().map(String::as_str), &wanted);
            assert!(found.len() <= SUGGESTIONS);
        }
        let typo = format!("Cost Center 09999 {}", "x".repeat(99));
        assert_eq!(closest(listing.iter().map(String::as_str), &typo)[0], listing[9999]);
    }

    #[test]
    fn one_comparison_stays_in_its_band_and_a_call_within_its_budget() {
        let a = chars(&"q".repeat(COMPARED_CHARS));
        let b = chars(&"0".repeat(COMPARED_CHARS));
        let mut work = 0;
        assert_eq!(bounded_distance(&a, &b, MAX_EDITS, &mut work), None);
        assert!(work <= (MAX_EDITS + 1) * (2 * MAX_EDITS + 1), "stopped at the first row over the bound: {work}");
        let c = chars(&"q".repeat(COMPARED_CHARS - 1));
        let mut work = 0;
        assert_eq!(bounded_distance(&a, &c, MAX_EDITS, &mut work), Some(1));
        assert!(work <= COMPARED_CHARS * (2 * MAX_EDITS + 1), "{work}");
        // Every name as long as the wanted one and none close: the worst listing.
        let listing: Vec<String> = (0..10_000).map(|i| format!("{i:0>256}")).collect();
        assert!(closest(listing.iter().map(String::as_str), &"q".repeat(256)).is_empty());
    }
}
