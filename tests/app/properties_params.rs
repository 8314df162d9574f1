//! Property tests for parameters: any query string and body, with any method and content
//! type, become typed parameters or a 400, never a panic; a parameter repeated with
//! different values is always a 400 naming it, wherever the repeats are; a key repeated in
//! the body is a 400 even with the same value.

use anaplan::ids::{ModelId, ViewId, WorkspaceId};
use anaplan_functions::http::long_running::wait_param;
use anaplan_functions::http::params::{ModelRef, Param, Params};
use anaplan_functions::http::{ObjectRef, Problem};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use proptest::prelude::*;

const ALLOWED: &[&str] =
    &["workspaceId", "workspaceName", "modelId", "modelName", "viewId", "viewName", "format", "wait"];

fn collect(method: &Method, query: &str, content_type: Option<&str>, body: &[u8]) -> Result<Params, Problem> {
    let mut headers = HeaderMap::new();
    if let Some(ct) = content_type.and_then(|ct| HeaderValue::from_str(ct).ok()) {
        headers.insert(header::CONTENT_TYPE, ct);
    }
    Params::collect(method, Some(query), &headers, body, ALLOWED)
}

/// Everything a function does with its parameters first: each is a value or a 400.
fn typed(p: &Params) -> Result<(), TestCaseError> {
    let format = Param::choice("format", &["records", "grid", "csv"], "Format", "").default("records");
    let outcomes = [
        ModelRef::parse(p).map(drop),
        p.object::<WorkspaceId>("workspace").map(drop),
        p.object::<ModelId>("model").map(drop),
        p.object::<ViewId>("view").map(|v| {
            if let ObjectRef::Name(n) = v {
                assert!(n.chars().count() <= anaplan::names::MAX_NAME_CHARS);
            }
        }),
        p.choice(&format).map(drop),
        wait_param(p.get("wait")).map(drop),
    ];
    for o in outcomes {
        if let Err(e) = o {
            prop_assert_eq!(e.status(), 400, "{}", e.body());
        }
    }
    Ok(())
}

fn query_of(pairs: &[(&str, &str)]) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        q.append_pair(k, v);
    }
    q.finish()
}

fn name() -> impl Strategy<Value = &'static str> {
    prop::sample::select(ALLOWED)
}

/// Values: ids, names, numbers, junk, and now and then a very long one.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9A-F]{32}",
        "[0-9a-f]{32}",
        "[0-9]{1,14}",
        "[ -~]{0,24}",
        ".{0,24}",
        (1000usize..1100).prop_map(|n| "n".repeat(n)),
    ]
}

fn method() -> impl Strategy<Value = Method> {
    prop::sample::select(vec![Method::GET, Method::POST, Method::DELETE])
}

fn content_type() -> impl Strategy<Value = Option<&'static str>> {
    prop::sample::select(vec![
        None,
        Some("application/json"),
        Some("application/problem+json; charset=utf-8"),
        Some("text/csv"),
        Some(""),
    ])
}

/// A JSON body of parameters as text, keys and values as given (so keys may repeat).
fn json_object(members: &[(&str, serde_json::Value)]) -> String {
    let members: Vec<String> = members.iter().map(|(k, v)| format!("{}: {v}", serde_json::json!(k))).collect();
    format!("{{{}}}", members.join(", "))
}

fn scalar() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        value().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<bool>().prop_map(serde_json::Value::from),
        Just(serde_json::Value::Null),
        Just(serde_json::json!({"nested": [1, 2]})),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_query_and_body_are_typed_parameters_or_a_400(
        method in method(),
        query in prop_oneof![".{0,120}", prop::collection::vec((name(), value()), 0..6).prop_map(|p| {
            query_of(&p.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>())
        })],
        body in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..120),
            prop::collection::vec((name(), scalar()), 0..6).prop_map(|m| json_object(&m).into_bytes()),
        ],
        content_type in content_type(),
    ) {
        match collect(&method, &query, content_type, &body) {
            Ok(p) => typed(&p)?,
            Err(e) => prop_assert_eq!(e.status(), 400, "{}", e.body()),
        }
    }

    #[test]
    fn a_parameter_repeated_with_different_values_is_a_400_naming_it(
        key in name(), a in value(), b in value(), others in prop::collection::vec((name(), value()), 0..3), place in 0u8..3
    ) {
        prop_assume!(a != b);
        // Other parameters, each once, so the only repeat is `key`'s.
        let mut seen = vec![key];
        let others: Vec<(&str, &str)> = others
            .iter()
            .filter(|(k, _)| if seen.contains(k) { false } else { seen.push(k); true })
            .map(|(k, v)| (*k, v.as_str()))
            .collect();
        let (query, body) = match place {
            // Twice in the query string.
            0 => {
                let mut pairs = others.clone();
                pairs.push((key, &a));
                pairs.push((key, &b));
                (query_of(&pairs), String::new())
            }
            // Once in the query string, once in the body.
            1 => (query_of(&[(key, a.as_str())]), json_object(&[(key, b.clone().into())])),
            // Twice in the body.
            _ => (query_of(&others), json_object(&[(key, a.clone().into()), (key, b.clone().into())])),
        };
        let e = collect(&Method::POST, &query, Some("application/json"), body.as_bytes()).unwrap_err();
        prop_assert_eq!(e.status(), 400);
        prop_assert!(e.body()["detail"].as_str().unwrap().contains(key), "{}", e.body());
    }

    #[test]
    fn the_same_value_twice_is_one_parameter_but_a_key_twice_in_the_body_is_a_400(key in name(), a in value()) {
        let twice = query_of(&[(key, a.as_str()), (key, a.as_str())]);
        prop_assert!(collect(&Method::GET, &twice, None, b"").is_ok());
        let body = json_object(&[(key, a.clone().into())]);
        prop_assert!(collect(&Method::POST, &query_of(&[(key, &a)]), Some("application/json"), body.as_bytes()).is_ok());
        let body = json_object(&[(key, a.clone().into()), (key, a.clone().into())]);
        let e = collect(&Method::POST, "", Some("application/json"), body.as_bytes()).unwrap_err();
        prop_assert_eq!(e.status(), 400);
        prop_assert_eq!(&e.body()["duplicateKey"], key);
    }
}
