//! Property tests for names: picking by name and closest names never panic, stay within
//! their bounds, and the bounded edit distance is the textbook one whenever it answers.

use anaplan::AnaplanError;
use anaplan::Named;
use anaplan::catalog::pick;
use anaplan::names::{SUGGESTIONS, bounded_distance, closest};
use proptest::prelude::*;

/// The textbook Levenshtein distance.
fn levenshtein(a: &[char], b: &[char]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            cur[j] = (prev[j - 1] + usize::from(a[i - 1] != b[j - 1])).min(prev[j] + 1).min(cur[j - 1] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Names as Anaplan has them (and some that are not), sharing parts so some are close.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "(REV|Rev|rev)[0-9]{0,2}( (Sales|Price|Input|Plan|Ops))*",
        "[a-cA-C ]{0,12}",
        ".{0,40}",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_bounded_distance_is_exact_within_its_bound(
        a in "[abc]{0,14}", b in "[abc]{0,14}", k in 0usize..16
    ) {
        let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
        let exact = levenshtein(&a, &b);
        let mut work = 0;
        prop_assert_eq!(bounded_distance(&a, &b, k, &mut work), (exact <= k).then_some(exact));
        prop_assert!(work <= a.len() * (2 * k + 1), "only the band: {} cells", work);
    }

    #[test]
    fn picking_a_name_never_panics_and_suggests_only_existing_names(
        items in prop::collection::vec(name(), 0..40), wanted in name()
    ) {
        let listing: Vec<Named> =
            items.iter().enumerate().map(|(i, n)| Named { id: i.to_string(), name: n.clone() }).collect();
        let exact = items.iter().filter(|n| **n == wanted).count();
        match pick("list", &listing, &wanted) {
            Ok(found) => {
                prop_assert_eq!(exact, 1);
                prop_assert_eq!(found.name, wanted);
            }
            Err(AnaplanError::AmbiguousName { ids, .. }) => prop_assert_eq!(ids.len(), exact),
            Err(AnaplanError::UnknownName { closest, .. }) => {
                prop_assert_eq!(exact, 0);
                prop_assert!(closest.len() <= SUGGESTIONS);
                for (i, c) in closest.iter().enumerate() {
                    prop_assert!(items.contains(c), "{:?} is not in the listing", c);
                    prop_assert!(!closest[..i].contains(c), "{:?} twice", c);
                }
                let same_but_case = items.iter().any(|n| n.to_lowercase() == wanted.to_lowercase());
                if same_but_case && wanted.chars().count() < 200 {
                    prop_assert_eq!(closest[0].to_lowercase(), wanted.to_lowercase());
                }
            }
            Err(other) => prop_assert!(false, "{other:?}"),
        }
    }
}

proptest! {
    // Each case compares with a 2,000-name listing: few cases.
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn a_long_name_against_a_large_listing_is_answered(
        wanted in prop_oneof![".{200,400}", "[ab]{200,400}"].prop_map(|s| s.repeat(5)),
        seed in "[ab]{1,40}"
    ) {
        let listing: Vec<String> = (0..2_000).map(|i| format!("{seed}{}", "ab".repeat(i % 700))).collect();
        let found = closest(listing.iter().map(String::as_str), &wanted);
        prop_assert!(found.len() <= SUGGESTIONS);
    }
}

#[test]
fn the_band_gives_the_textbook_distance_when_within_bound() {
    let words = ["", "a", "ab", "kitten", "sitting", "Revenue Plan", "Revenue Pln", "REV10 Sales Input", "xyz"];
    for a in words {
        for b in words {
            let exact = levenshtein(&chars(a), &chars(b));
            for k in 0..8 {
                let got = bounded_distance(&chars(a), &chars(b), k, &mut 0);
                assert_eq!(got, (exact <= k).then_some(exact), "{a:?} {b:?} k={k}");
            }
        }
    }
}

fn chars(s: &str) -> Vec<char> {
    s.chars().collect()
}
