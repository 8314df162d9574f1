//! Property tests for data bodies (`write-cells`' rows, `list-items`' items), read into
//! typed rows instead of a JSON tree: any bytes become typed rows or a 400, never a panic;
//! a body the strict JSON reader refuses for a repeated key is refused, for that key at the
//! same place unless something earlier in the body is wrong already (a typed read stops at
//! the first fault); and otherwise every row holds the keys and values the body gave, in
//! its order.

use anaplan_functions::http::strict_json::{self, JsonError};
use anaplan_functions::machinery::data_body::{self, DataKey};
use proptest::prelude::*;
use serde_json::{Value, json};

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        (-1e300f64..1e300).prop_map(|f| json!(f)),
        "[a-zA-Z0-9 \"\\\\é\n\t]{0,10}".prop_map(Value::String),
    ]
}

/// A JSON object given as pairs, so that a key may repeat.
fn object(pairs: &[(String, String)]) -> String {
    let members: Vec<String> =
        pairs.iter().map(|(k, v)| format!("{}: {v}", serde_json::to_string(k).unwrap())).collect();
    format!("{{{}}}", members.join(", "))
}

/// What the typed reader and the strict reader made of the same text agree.
fn agree(text: &str, keys: &[DataKey]) -> Result<Option<Value>, TestCaseError> {
    let typed = data_body::parse(text.as_bytes(), keys);
    match strict_json::from_slice(text.as_bytes()) {
        Err(JsonError::Duplicate { key, at }) => {
            let p = typed.err().ok_or_else(|| TestCaseError::fail(format!("accepted a repeated key: {text}")))?;
            let body = p.body();
            let at = strict_json::path(&at);
            prop_assert_eq!(p.status().as_u16(), 400);
            if body.get("duplicateKey").is_some() {
                prop_assert_eq!(body["duplicateKey"].as_str(), Some(key.as_str()), "{}", text);
                prop_assert_eq!(body["at"].as_str(), Some(at.as_str()), "{}", text);
            }
            Ok(None)
        }
        Err(JsonError::Syntax(_)) => {
            prop_assert!(typed.is_err(), "accepted what is not JSON: {}", text);
            Ok(None)
        }
        Ok(v) => {
            let (body, _) = typed.map_err(|p| TestCaseError::fail(format!("{text}: {}", p.body())))?;
            let rows = body.rows.as_ref().expect("rows");
            let want = v["rows"].as_array().expect("rows").clone();
            prop_assert_eq!(rows.len(), want.len());
            for (i, row) in want.iter().enumerate() {
                // Compared as JSON text: the same number or string is written the same way.
                let got: Vec<(String, String)> = rows
                    .row(i)
                    .iter()
                    .map(|f| {
                        let mut out = Vec::new();
                        f.value.write_json(&body.text, &mut out);
                        (body.keys[f.key as usize].to_string(), String::from_utf8(out).unwrap())
                    })
                    .collect();
                let want: Vec<(String, String)> =
                    row.as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.to_string())).collect();
                prop_assert_eq!(got, want, "{}", text);
            }
            Ok(Some(v))
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn rows_hold_what_the_body_gave_and_repeated_keys_are_refused_as_strictly(
        rows in prop::collection::vec(prop::collection::vec(("[A-D]{1,2}", scalar()), 0..6), 0..6),
        params in prop::collection::vec(("moduleName|modelId|rows|x", "[a-z]{0,4}"), 0..3),
    ) {
        let rows: Vec<String> = rows
            .iter()
            .map(|r| object(&r.iter().map(|(k, v)| (k.clone(), v.to_string())).collect::<Vec<_>>()))
            .collect();
        let mut top: Vec<(String, String)> = params.iter().map(|(k, v)| (k.clone(), json!(v).to_string())).collect();
        top.push(("rows".into(), format!("[{}]", rows.join(", "))));
        let text = object(&top);
        // A `rows` parameter repeats the data key: refused like any repeated key.
        agree(&text, &[DataKey::Rows, DataKey::Cells])?;
    }

    #[test]
    fn items_refuse_repeated_fields_and_properties_as_strictly(
        items in prop::collection::vec(
            prop::collection::vec(
                prop_oneof![
                    ("code|name|parent", "[a-z]{1,4}").prop_map(|(k, v)| (k, json!(v).to_string())),
                    prop::collection::vec(("[A-C]", "[a-z]{0,3}"), 0..4).prop_map(|p| {
                        let pairs: Vec<(String, String)> =
                            p.into_iter().map(|(k, v)| (k, json!(v).to_string())).collect();
                        ("properties".to_owned(), object(&pairs))
                    }),
                ],
                0..5,
            ),
            0..5,
        ),
    ) {
        let items: Vec<String> = items.iter().map(|i| object(i)).collect();
        let text = format!(r#"{{"items": [{}]}}"#, items.join(", "));
        let typed = data_body::parse(text.as_bytes(), &[DataKey::Items]);
        match strict_json::from_slice(text.as_bytes()) {
            Err(JsonError::Duplicate { key, at }) => {
                // Refused for the repeated key, or for an earlier item that names nothing.
                let body = typed.expect_err("refused").body();
                let at = strict_json::path(&at);
                if body.get("duplicateKey").is_some() {
                    prop_assert_eq!(body["duplicateKey"].as_str(), Some(key.as_str()));
                    prop_assert_eq!(body["at"].as_str(), Some(at.as_str()));
                } else {
                    prop_assert!(body["detail"].as_str().unwrap().contains("needs a code, an id or a name"), "{}", body);
                }
            }
            Err(JsonError::Syntax(e)) => prop_assert!(false, "the test built bad JSON: {e}"),
            Ok(v) if v["items"].as_array().unwrap().iter().any(|i| i.get("code").is_none() && i.get("name").is_none()) => {
                let body = typed.expect_err("an item that names nothing is refused").body();
                prop_assert!(body["detail"].as_str().unwrap().contains("needs a code, an id or a name"), "{}", body);
            }
            Ok(v) => {
                let (body, _) = typed.map_err(|p| TestCaseError::fail(p.body().to_string()))?;
                let got = body.items.expect("items");
                for (i, item) in v["items"].as_array().unwrap().iter().enumerate() {
                    let code = got.items[i].code.map(|c| body.text.get(c).to_owned());
                    prop_assert_eq!(code.as_deref(), item["code"].as_str());
                    let props = got.items[i].properties.map_or(0, |r| r.len());
                    prop_assert_eq!(props, item["properties"].as_object().map_or(0, |o| o.len()));
                }
            }
        }
    }

    #[test]
    fn any_bytes_are_rows_or_a_400_never_a_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        for keys in [&[DataKey::Rows, DataKey::Cells][..], &[DataKey::Items][..]] {
            if let Err(p) = data_body::parse(&bytes, keys) {
                prop_assert_eq!(p.status().as_u16(), 400);
            }
        }
    }

    #[test]
    fn json_shaped_bytes_are_rows_or_a_400_never_a_panic(
        text in r#"\{("(rows|cells|items|a)": ?(\[|\{|"[a-z]*"|[0-9.e-]+|null|true|,|\]|\}|: ?)*)?\}?"#,
    ) {
        for keys in [&[DataKey::Rows, DataKey::Cells][..], &[DataKey::Items][..]] {
            if let Err(p) = data_body::parse(text.as_bytes(), keys) {
                prop_assert_eq!(p.status().as_u16(), 400);
            }
        }
    }
}
