//! Bodies that carry data besides parameters (`write-cells`' `rows` or `cells`,
//! `list-items`' `items`): the data arrays are taken out, and what remains is read as
//! parameters like any other JSON body (same checks, same 400s). No object in the body may
//! repeat a key.

use serde_json::{Map, Value};

use crate::http::{Call, Params, Problem, off_runtime, strict_json};

/// The parameters (query and body) and the body's data members named in `data_keys`.
pub async fn split(call: &Call, data_keys: &[&str]) -> Result<(Params, Map<String, Value>), Problem> {
    let mut data = Map::new();
    let mut rest: Vec<u8> = Vec::new();
    if !call.body.iter().all(u8::is_ascii_whitespace) {
        // Params::collect checks the method and the Content-Type; it must see a body.
        // Strict: a key given twice anywhere (a parameter, a row's line item, an item's
        // property) is a 400 naming it, not whichever value the parser kept.
        // Up to the host's 100 MiB: parsed on a blocking thread.
        let body = call.body.clone();
        let value = off_runtime(move || strict_json::from_slice(&body)).await??;
        let Value::Object(mut map) = value else {
            return Err(Problem::bad_parameter(format!(
                "the body must be a JSON object with {} and parameters",
                data_keys.join(" or ")
            )));
        };
        for key in data_keys {
            if let Some(v) = map.remove(*key) {
                data.insert((*key).to_owned(), v);
            }
        }
        // Even `{}` is a body: Params::collect still checks the method and Content-Type.
        rest = serde_json::to_vec(&Value::Object(map)).unwrap_or_default();
    }
    let params = Params::collect(&call.method, call.query.as_deref(), &call.headers, &rest, &call.accepted)?;
    Ok((params, data))
}
