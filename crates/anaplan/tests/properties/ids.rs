//! Property tests: an id never changes a URL. Any string is either refused by an id type,
//! or becomes an id that, put into an Anaplan URL by plain formatting, is exactly one path
//! segment equal to itself: no extra segment, no `..`, no query, no fragment, no escape.

use anaplan::ids::*;
use anaplan::scim::UserId;
use proptest::prelude::*;
use url::Url;

/// Strings near the id formats (so some parse), with a character that could break a URL
/// put in somewhere, besides wholly arbitrary text.
fn candidate() -> impl Strategy<Value = String> {
    let near = prop_oneof![
        "[0-9a-f]{30,34}",
        "[0-9A-F]{30,34}",
        "[0-9]{0,22}",
        "10[0-9]{10}",
        "2[0-9]{11}",
        "[0-9a-zA-Z-]{1,66}",
    ];
    let breaker = prop::sample::select(vec![
        "", "/", "?", "#", "%", "%2F", "..", ".", " ", "\\", "&", "=", ":", "@", ";", "\n", "\u{0}", "１", "é",
        "\u{202e}",
    ]);
    prop_oneof![
        any::<String>(),
        near.clone(),
        (near, breaker, 0usize..40).prop_map(|(s, b, at)| {
            let at = s.char_indices().map(|(i, _)| i).nth(at).unwrap_or(s.len());
            format!("{}{b}{}", &s[..at], &s[at..])
        }),
    ]
}

/// `id` as one segment of an Anaplan URL built by plain formatting.
fn one_segment(id: &str) -> Result<(), TestCaseError> {
    prop_assert!(!id.is_empty());
    let text = format!("https://api.anaplan.com/2/0/workspaces/{id}/models?includeAll=true");
    let url = Url::parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
    prop_assert_eq!(url.host_str(), Some("api.anaplan.com"));
    let segments: Vec<&str> = url.path_segments().expect("a path").collect();
    prop_assert_eq!(segments, vec!["2", "0", "workspaces", id, "models"], "{}", url);
    prop_assert_eq!(url.query(), Some("includeAll=true"));
    prop_assert_eq!(url.fragment(), None);
    prop_assert_eq!(url.as_str(), text.as_str(), "nothing was escaped or normalised");
    Ok(())
}

macro_rules! ids_never_change_a_url {
    ($s:expr, $($t:ty),+) => {
        $(
            if let Ok(id) = <$t>::parse($s) {
                prop_assert_eq!(id.as_str(), $s, "an id is shown as given");
                one_segment(id.as_str())?;
            }
        )+
    };
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn an_id_never_changes_a_url(s in candidate()) {
        ids_never_change_a_url!(
            &s, WorkspaceId, ModelId, TaskId, IntegrationId, FlowId, RunId, ViewId, ProcessId, ExportId, ImportId,
            FileId, ObjectId, ChunkId, DimensionId, ItemId, ModuleId, ListId, LineItemId, UserId
        );
        if let Err(e) = ViewId::parse(&s) {
            prop_assert!(e.got.chars().count() <= 65, "an error never echoes a long value");
        }
    }

    #[test]
    fn a_page_selection_stays_one_query_value(s in prop::collection::vec((candidate(), candidate()), 0..4)) {
        let text: Vec<String> = s.iter().map(|(d, i)| format!("{d}:{i}")).collect();
        let text = text.join(",");
        if let Ok(pages) = PageSelection::parse(&text) {
            let q = pages.to_query();
            let url = Url::parse(&format!("https://api.anaplan.com/2/0/models/M/views/1/data?pages={q}&format=v1"))
                .unwrap();
            let pairs: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
            prop_assert_eq!(pairs, vec![("pages".to_owned(), q.clone()), ("format".to_owned(), "v1".to_owned())]);
            prop_assert_eq!(url.fragment(), None);
            prop_assert_eq!(url.path(), "/2/0/models/M/views/1/data");
        }
    }
}
