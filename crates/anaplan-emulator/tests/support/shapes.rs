//! Expected answer shapes, written out by hand from the live-tested description of
//! Anaplan's APIs (`shared/reference/anaplan-openapi/`, never read at test time), and the
//! checker that holds a JSON answer to one, field by field.
//!
//! A shape is strict: a field it does not list is a failure (Anaplan omits what it does
//! not have, so an extra field is a field the emulator made up), `null` is a failure unless
//! the shape says [`nullable`] (the description distinguishes omitted from null), a
//! required field must be there, and an enum value must be one the description lists.
#![allow(dead_code)]

use serde_json::Value;

/// The shape of a JSON value.
#[derive(Clone, Debug)]
pub enum Shape {
    /// A string.
    Str,
    /// A string of the given form (e.g. 32 lowercase hex characters).
    StrLike(&'static str, fn(&str) -> bool),
    /// An integer.
    Int,
    /// Any number.
    Num,
    /// A boolean.
    Bool,
    /// A string out of a documented set.
    Enum(&'static [&'static str]),
    /// An array of one shape.
    Arr(Box<Shape>),
    /// An object with exactly these fields (no others).
    Obj(Vec<Field>),
    /// A free-form object whose values have one shape (`properties{*}`).
    Map(Box<Shape>),
    /// A free-form object (the description leaves its keys open).
    AnyObj,
    /// The inner shape, or `null`.
    Nullable(Box<Shape>),
    /// Any of these.
    OneOf(Vec<Shape>),
}

/// One field of an object shape.
#[derive(Clone, Debug)]
pub struct Field {
    pub key: &'static str,
    pub required: bool,
    pub shape: Shape,
}

/// A field that must be present.
pub fn req(key: &'static str, shape: Shape) -> Field {
    Field { key, required: true, shape }
}

/// A field that may be absent (but not null unless its shape is [`nullable`]).
pub fn opt(key: &'static str, shape: Shape) -> Field {
    Field { key, required: false, shape }
}

/// An object with exactly these fields.
pub fn obj(fields: Vec<Field>) -> Shape {
    Shape::Obj(fields)
}

/// An array of `s`.
pub fn arr(s: Shape) -> Shape {
    Shape::Arr(Box::new(s))
}

/// `s` or null.
pub fn nullable(s: Shape) -> Shape {
    Shape::Nullable(Box::new(s))
}

/// A free-form object of `s` values.
pub fn map(s: Shape) -> Shape {
    Shape::Map(Box::new(s))
}

/// 32 lowercase hex characters (workspace, user, CloudWorks ids).
pub fn hex32() -> Shape {
    Shape::StrLike("32 lowercase hex", |s| {
        s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// 32 uppercase hex characters (model, task and read-request ids).
pub fn upper_hex32() -> Shape {
    Shape::StrLike("32 uppercase hex", |s| {
        s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
    })
}

/// A 12- or 13-digit numeric id in a string (model objects).
pub fn numeric_id() -> Shape {
    Shape::StrLike("a numeric id", |s| (11..=13).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()))
}

/// An ISO 8601 date-time (`2026-06-19T01:30:16.000Z`, or with nanoseconds).
pub fn date_time() -> Shape {
    Shape::StrLike("an ISO 8601 date-time", |s| {
        let b = s.as_bytes();
        b.len() >= 20 && b[4] == b'-' && b[7] == b'-' && b[10] == b'T' && b[13] == b':' && s.ends_with('Z')
    })
}

/// Checks `v` against `s`; every disagreement is pushed to `errs` as `at: what`.
pub fn check(at: &str, v: &Value, s: &Shape, errs: &mut Vec<String>) {
    let mut fail = |what: String| errs.push(format!("{at}: {what}"));
    match s {
        Shape::Nullable(inner) => {
            if !v.is_null() {
                check(at, v, inner, errs);
            }
        }
        _ if v.is_null() => fail("null where the description has no null (omit the field instead)".into()),
        Shape::Str => {
            if !v.is_string() {
                fail(format!("expected a string, got {v}"));
            }
        }
        Shape::StrLike(what, ok) => match v.as_str() {
            Some(t) if ok(t) => {}
            _ => fail(format!("expected {what}, got {v}")),
        },
        Shape::Int => {
            if !(v.is_i64() || v.is_u64()) {
                fail(format!("expected an integer, got {v}"));
            }
        }
        Shape::Num => {
            if !v.is_number() {
                fail(format!("expected a number, got {v}"));
            }
        }
        Shape::Bool => {
            if !v.is_boolean() {
                fail(format!("expected a boolean, got {v}"));
            }
        }
        Shape::Enum(values) => match v.as_str() {
            Some(t) if values.contains(&t) => {}
            _ => fail(format!("expected one of {values:?}, got {v}")),
        },
        Shape::Arr(inner) => match v.as_array() {
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    check(&format!("{at}[{i}]"), item, inner, errs);
                }
            }
            None => fail(format!("expected an array, got {v}")),
        },
        Shape::Obj(fields) => match v.as_object() {
            Some(o) => {
                for f in fields {
                    match o.get(f.key) {
                        Some(x) => check(&format!("{at}.{}", f.key), x, &f.shape, errs),
                        None if f.required => errs.push(format!("{at}.{}: missing", f.key)),
                        None => {}
                    }
                }
                for k in o.keys() {
                    if !fields.iter().any(|f| f.key == k) {
                        errs.push(format!("{at}.{k}: a field the description does not have"));
                    }
                }
            }
            None => fail(format!("expected an object, got {v}")),
        },
        Shape::Map(inner) => match v.as_object() {
            Some(o) => {
                for (k, x) in o {
                    check(&format!("{at}.{k}"), x, inner, errs);
                }
            }
            None => fail(format!("expected an object, got {v}")),
        },
        Shape::AnyObj => {
            if !v.is_object() {
                fail(format!("expected an object, got {v}"));
            }
        }
        Shape::OneOf(options) => {
            let ok = options.iter().any(|o| {
                let mut e = Vec::new();
                check(at, v, o, &mut e);
                e.is_empty()
            });
            if !ok {
                fail(format!("matches none of the documented forms: {v}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(v: Value, s: &Shape) -> Vec<String> {
        let mut e = Vec::new();
        check("$", &v, s, &mut e);
        e
    }

    #[test]
    fn the_checker_refuses_extra_null_missing_and_out_of_set_values() {
        let s = obj(vec![req("a", Shape::Int), opt("b", Shape::Enum(&["X", "Y"])), opt("c", nullable(Shape::Str))]);
        assert!(errors(serde_json::json!({"a": 1, "b": "X", "c": null}), &s).is_empty());
        assert!(errors(serde_json::json!({"a": 1}), &s).is_empty());
        assert_eq!(errors(serde_json::json!({"b": "X"}), &s), ["$.a: missing"]);
        assert_eq!(errors(serde_json::json!({"a": 1, "b": null}), &s).len(), 1, "null where omitted");
        assert_eq!(errors(serde_json::json!({"a": 1, "b": "Z"}), &s).len(), 1, "outside the enum");
        assert_eq!(errors(serde_json::json!({"a": "1"}), &s).len(), 1, "a string for an integer");
        assert_eq!(errors(serde_json::json!({"a": 1, "d": 2}), &s), ["$.d: a field the description does not have"]);
    }
}
