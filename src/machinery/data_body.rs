//! Bodies that carry data besides parameters (`write-cells`' `rows` or `cells`,
//! `list-items`' `items`), read in one pass straight into compact typed entries, never into a
//! tree of `serde_json::Value`: every string goes once into one [`Text`] buffer, a row is a
//! run of 16-byte [`Field`]s whose keys are numbers into one table of the keys met, and an
//! item or cell is a small fixed struct. A body's entries take about as much memory as the
//! body itself (see BENCHMARKS.md), and the body is released as soon as it is read.
//!
//! What remains of the body is read as parameters like any other JSON body (same checks,
//! same 400s). As in [`crate::http::strict_json`], no object may repeat a key (a 400 naming
//! the key and where its object is), and the whole parse runs off the runtime threads.
//! Lists are bounded while they are read: at most [`MAX_ENTRIES`] rows, cells or items, at
//! most [`MAX_KEYS`] different row keys (or property and subset names), and at most
//! [`MAX_PARAMETERS`] parameters of [`MAX_PARAMETER_VALUE`] bytes; a cell, a cell's dimension
//! or an item that names nothing is refused as soon as it is read, so that no entry is kept
//! that the check would refuse anyway. The nesting is fixed (a value where an object or
//! array does not belong is refused at once), so no body can make the parser recurse.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::http::strict_json::{JsonError, Step, path};
use crate::http::{Call, Params, Problem, off_runtime};
use anaplan::untrusted::quote;

/// Rows, cells or items one request may carry: ten of Anaplan's largest write batches.
pub const MAX_ENTRIES: usize = 1_000_000;
/// Different keys the rows of one request may use (a module's dimensions and line items),
/// or different property and subset names its items may use.
pub const MAX_KEYS: usize = 10_000;
/// Members of a body besides its data: its parameters (a function takes a dozen at most).
pub const MAX_PARAMETERS: usize = 64;
/// Bytes of a parameter's name.
pub const MAX_PARAMETER_NAME: usize = 256;
/// Bytes of a parameter's value (a name is at most 1,024 characters).
pub const MAX_PARAMETER_VALUE: usize = 8192;

/// A data member of a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataKey {
    /// `rows`: objects of scalars.
    Rows,
    /// `cells`: Anaplan's own cell list.
    Cells,
    /// `items`: list items.
    Items,
}

impl DataKey {
    /// Its name in the body.
    pub fn name(self) -> &'static str {
        match self {
            DataKey::Rows => "rows",
            DataKey::Cells => "cells",
            DataKey::Items => "items",
        }
    }
}

/// Where a string of the body is in its [`Text`]: 8 bytes, and so is an `Option<Span>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    start: u32,
    /// One past the end, plus one (never 0, which leaves `None` a value of its own).
    stop: NonZeroU32,
}

impl Span {
    /// True for the empty string.
    pub fn is_empty(self) -> bool {
        self.stop.get() - 1 == self.start
    }

    fn range(self) -> std::ops::Range<usize> {
        self.start as usize..(self.stop.get() - 1) as usize
    }
}

/// A run of another list (its entries `start..end`): 8 bytes, and so is an `Option<Range>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    start: u32,
    /// The end plus one, as in [`Span`].
    stop: NonZeroU32,
}

impl Range {
    /// `start..end` of a list now `end` long; `None` past `u32::MAX - 1`.
    fn new(start: usize, end: usize) -> Option<Range> {
        let start = u32::try_from(start).ok()?;
        let stop = NonZeroU32::new(u32::try_from(end).ok()?.checked_add(1)?)?;
        Some(Range { start, stop })
    }

    /// The indexes of its entries.
    pub fn indexes(self) -> std::ops::Range<usize> {
        self.start as usize..(self.stop.get() - 1) as usize
    }

    /// How many entries.
    pub fn len(self) -> usize {
        self.indexes().len()
    }

    /// True when it has none.
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
}

/// The body's strings, one after the other.
#[derive(Debug, Default)]
pub struct Text(String);

impl Text {
    /// The string at `span`.
    pub fn get(&self, span: Span) -> &str {
        &self.0[span.range()]
    }

    fn push(&mut self, s: &str) -> Result<Span, Refusal> {
        let too_large = || Refusal::Bad("the body's text is too large".into());
        let start = u32::try_from(self.0.len()).map_err(|_| too_large())?;
        let len = u32::try_from(s.len()).map_err(|_| too_large())?;
        let stop = start.checked_add(len).and_then(|end| end.checked_add(1)).ok_or_else(too_large)?;
        self.0.push_str(s);
        Ok(Span { start, stop: NonZeroU32::new(stop).ok_or_else(too_large)? })
    }
}

/// A 64-bit number in two halves, so that a [`Scalar`] is 12 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bits([u32; 2]);

impl Bits {
    fn of(v: u64) -> Bits {
        Bits([(v >> 32) as u32, v as u32])
    }

    fn get(self) -> u64 {
        (u64::from(self.0[0]) << 32) | u64::from(self.0[1])
    }
}

/// A JSON scalar of the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A negative whole number (its `i64` bits).
    Int(Bits),
    /// A whole number from 0 up.
    Uint(Bits),
    /// Any other number (its `f64` bits; never NaN or infinite).
    Float(Bits),
    /// A string.
    Text(Span),
}

impl Scalar {
    /// The string, when it is one.
    pub fn text(self, text: &Text) -> Option<&str> {
        match self {
            Scalar::Text(s) => Some(text.get(s)),
            _ => None,
        }
    }

    /// True for a number.
    pub fn is_number(self) -> bool {
        matches!(self, Scalar::Int(_) | Scalar::Uint(_) | Scalar::Float(_))
    }

    /// Appends it as JSON.
    pub fn write_json(self, text: &Text, out: &mut Vec<u8>) {
        match self {
            Scalar::Null => out.extend_from_slice(b"null"),
            Scalar::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
            Scalar::Int(b) => out.extend_from_slice((b.get() as i64).to_string().as_bytes()),
            Scalar::Uint(b) => out.extend_from_slice(b.get().to_string().as_bytes()),
            Scalar::Float(b) => write_json(out, &f64::from_bits(b.get())),
            Scalar::Text(s) => write_json(out, text.get(s)),
        }
    }

    /// For a message: JSON, a string quoted and cut (see [`quote`]).
    pub fn shown(self, text: &Text) -> String {
        match self {
            Scalar::Text(s) => quote(text.get(s)),
            other => {
                let mut out = Vec::new();
                other.write_json(text, &mut out);
                String::from_utf8_lossy(&out).into_owned()
            }
        }
    }
}

/// Appends `v` as JSON (strings escaped).
pub fn write_json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, v: &T) {
    // Writing a string or a finite number into a Vec cannot fail.
    let _ = serde_json::to_writer(out, v);
}

/// One key and value of a row.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// Index into [`Body::keys`].
    pub key: u32,
    /// Its value.
    pub value: Scalar,
}

/// `rows`: objects of scalars.
#[derive(Debug, Default)]
pub struct Rows {
    fields: Vec<Field>,
    ends: Vec<u32>,
}

impl Rows {
    /// How many rows.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Row `i`'s fields, in the body's order.
    pub fn row(&self, i: usize) -> &[Field] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.fields[start..self.ends[i] as usize]
    }
}

/// One of Anaplan's cells; `null` is read as absent everywhere but in `value`.
#[derive(Debug, Clone, Copy)]
pub struct CellIn {
    /// `lineItemId`.
    pub line_item_id: Option<Span>,
    /// `lineItemName`.
    pub line_item_name: Option<Span>,
    /// `dimensions`, in [`Cells::dimensions`].
    pub dimensions: Option<Range>,
    /// `value` (`None`: not given; `Some(Scalar::Null)`: nothing to write).
    pub value: Option<Scalar>,
}

/// One entry of a cell's `dimensions`.
#[derive(Debug, Clone, Copy, Default)]
pub struct DimensionIn {
    /// `dimensionId`.
    pub dimension_id: Option<Span>,
    /// `dimensionName`.
    pub dimension_name: Option<Span>,
    /// `itemId`.
    pub item_id: Option<Span>,
    /// `itemName`.
    pub item_name: Option<Span>,
    /// `itemCode`.
    pub item_code: Option<Span>,
}

/// `cells`: Anaplan's own cell list.
#[derive(Debug, Default)]
pub struct Cells {
    /// The cells.
    pub cells: Vec<CellIn>,
    /// Their `dimensions` entries, one cell's after another.
    pub dimensions: Vec<DimensionIn>,
}

/// A list item's id: text, or a whole number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdIn {
    /// Given as text.
    Text(Span),
    /// Given as a number.
    Number(Bits),
}

impl IdIn {
    /// As text (a number in decimal).
    pub fn to_text(self, text: &Text) -> Cow<'_, str> {
        match self {
            IdIn::Text(s) => Cow::Borrowed(text.get(s)),
            IdIn::Number(n) => Cow::Owned(n.get().to_string()),
        }
    }

    /// Appends it as JSON, as it was given.
    pub fn write_json(self, text: &Text, out: &mut Vec<u8>) {
        match self {
            IdIn::Text(s) => write_json(out, text.get(s)),
            IdIn::Number(n) => out.extend_from_slice(n.get().to_string().as_bytes()),
        }
    }
}

/// One list item; `null` is read as absent everywhere (`"id": null` is no id).
#[derive(Debug, Clone, Copy, Default)]
pub struct ItemIn {
    /// `id`.
    pub id: Option<IdIn>,
    /// `code` (never empty).
    pub code: Option<Span>,
    /// `name` (never empty).
    pub name: Option<Span>,
    /// `parent` (may be empty).
    pub parent: Option<Span>,
    /// `properties`, in [`Items::properties`].
    pub properties: Option<Range>,
    /// `subsets`, in [`Items::subsets`].
    pub subsets: Option<Range>,
}

/// `items`: list items.
#[derive(Debug, Default)]
pub struct Items {
    /// The items.
    pub items: Vec<ItemIn>,
    /// Their properties (name: index into [`Body::keys`]), one item's after another.
    pub properties: Vec<(u32, Scalar)>,
    /// Their subsets (name: index into [`Body::keys`]), one item's after another.
    pub subsets: Vec<(u32, bool)>,
}

/// A data body, read.
#[derive(Debug, Default)]
pub struct Body {
    /// Its strings.
    pub text: Text,
    /// The keys of `rows`, or the property and subset names of `items`.
    pub keys: Vec<Arc<str>>,
    /// `rows`, when given (and not `null`).
    pub rows: Option<Rows>,
    /// `cells`, when given (and not `null`).
    pub cells: Option<Cells>,
    /// `items`, when given (and not `null`).
    pub items: Option<Items>,
}

/// The parameters (query and body) and the body's data members among `data_keys`. The
/// call's body is released once read.
pub async fn split(call: &mut Call, data_keys: &'static [DataKey]) -> Result<(Params, Body), Problem> {
    let mut data = Body::default();
    let mut rest: Vec<u8> = Vec::new();
    let bytes = std::mem::take(&mut call.body);
    if !bytes.iter().all(u8::is_ascii_whitespace) {
        // Params::collect checks the method and the Content-Type; it must see a body. It
        // sees an empty one first, so that a wrong method or type is refused before the
        // body is parsed.
        Params::collect(&call.method, None, &call.headers, b"{}", &call.accepted)?;
        // Up to the host's 100 MiB: parsed on a blocking thread.
        let (body, params) = off_runtime(move || parse(&bytes, data_keys)).await??;
        data = body;
        // Even `{}` is a body: Params::collect still checks the method and Content-Type.
        rest = serde_json::to_vec(&Value::Object(params)).unwrap_or_default();
    }
    let params = Params::collect(&call.method, call.query.as_deref(), &call.headers, &rest, &call.accepted)?;
    Ok((params, data))
}

/// Reads `bytes`: the data members among `data_keys`, and the other members (parameters,
/// which must be scalars).
pub fn parse(bytes: &[u8], data_keys: &[DataKey]) -> Result<(Body, Map<String, Value>), Problem> {
    let refused: Refused = RefCell::new(None);
    let mut b = Builder { len: bytes.len(), ..Builder::default() };
    // The strings of a body are never longer than the body (escapes only shorten them).
    let _ = b.body.text.0.try_reserve_exact(bytes.len());
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = Seed { b: &mut b, r: &refused, shape: Top { data_keys } }.deserialize(&mut de).and_then(|()| de.end());
    match (parsed, refused.into_inner()) {
        (_, Some(Refusal::Duplicate { key, at })) => Err(JsonError::Duplicate { key, at }.into()),
        (_, Some(Refusal::Bad(detail))) => Err(Problem::bad_parameter(detail)),
        (Err(e), None) => Err(JsonError::Syntax(e).into()),
        (Ok(()), None) => {
            let Builder { mut body, keys, params, .. } = b;
            body.keys = keys.names;
            Ok((body, params))
        }
    }
}

// ------------------------------------------------------------------ the parser

/// Why a body is refused (besides not being JSON).
enum Refusal {
    /// An object gives `key` twice; `at` is where the object is.
    Duplicate { key: String, at: Vec<Step> },
    /// Anything else: the 400's detail.
    Bad(String),
}

type Refused = RefCell<Option<Refusal>>;

/// Notes why the body is refused, and stops the parser.
fn fail<E: de::Error>(refused: &Refused, r: Refusal) -> E {
    *refused.borrow_mut() = Some(r);
    E::custom("refused")
}

#[derive(Default)]
struct Builder {
    body: Body,
    keys: Interner,
    params: Map<String, Value>,
    /// The body's length.
    len: usize,
}

/// A list with room reserved for as many entries as a body of `body_len` bytes can hold,
/// given that each takes at least `min_bytes` of it (at most [`MAX_ENTRIES`] when `capped`).
/// Reserved, not touched: the pages of a large reservation become resident only as entries
/// are written, and the list never grows by copying itself (which would hold it twice).
/// A reservation the allocator refuses is skipped.
fn reserved<T>(body_len: usize, min_bytes: usize, capped: bool) -> Vec<T> {
    let mut n = body_len / min_bytes + 1;
    if capped {
        n = n.min(MAX_ENTRIES + 1);
    }
    let mut v = Vec::new();
    let _ = v.try_reserve_exact(n);
    v
}

/// Keys met, numbered; and which of them the object being read has given already.
#[derive(Default)]
struct Interner {
    index: HashMap<Arc<str>, u32>,
    /// Each key once, shared with `index`.
    names: Vec<Arc<str>>,
    /// For each key, the object that gave it last.
    stamps: Vec<u32>,
    object: u32,
}

impl Interner {
    /// A new object begins.
    fn begin(&mut self) {
        self.object += 1;
    }

    /// `key`'s number, `None` past [`MAX_KEYS`] keys; `Ok(false)` when the object being read
    /// gave it already.
    fn mark(&mut self, key: &str) -> Option<(u32, bool)> {
        let n = match self.index.get(key) {
            Some(&n) => n,
            None if self.names.len() >= MAX_KEYS => return None,
            None => {
                let n = self.names.len() as u32;
                let key: Arc<str> = key.into();
                self.index.insert(key.clone(), n);
                self.names.push(key);
                self.stamps.push(0);
                n
            }
        };
        let first = self.stamps[n as usize] != self.object;
        self.stamps[n as usize] = self.object;
        Some((n, first))
    }
}

/// A JSON scalar as the parser gives it.
enum Raw<'de> {
    Null,
    Bool(bool),
    I64(i64),
    U64(u64),
    F64(f64),
    Str(Cow<'de, str>),
}

impl Raw<'_> {
    fn shown(&self) -> String {
        match self {
            Raw::Null => "null".into(),
            Raw::Bool(b) => b.to_string(),
            Raw::I64(n) => n.to_string(),
            Raw::U64(n) => n.to_string(),
            Raw::F64(n) => n.to_string(),
            Raw::Str(s) => quote(s),
        }
    }

    fn scalar(self, text: &mut Text) -> Result<Scalar, Refusal> {
        Ok(match self {
            Raw::Null => Scalar::Null,
            Raw::Bool(b) => Scalar::Bool(b),
            Raw::I64(n) if n >= 0 => Scalar::Uint(Bits::of(n as u64)),
            Raw::I64(n) => Scalar::Int(Bits::of(n as u64)),
            Raw::U64(n) => Scalar::Uint(Bits::of(n)),
            Raw::F64(n) => Scalar::Float(Bits::of(n.to_bits())),
            Raw::Str(s) => Scalar::Text(text.push(&s)?),
        })
    }
}

/// What a value must be, and what to make of it.
trait Shape<'de>: Sized {
    type Out;

    /// The 400's detail when the value is of another JSON type.
    fn wrong(&self) -> String;

    fn scalar(self, _b: &mut Builder, _v: Raw<'de>) -> Result<Self::Out, Refusal> {
        Err(Refusal::Bad(self.wrong()))
    }

    fn seq<A: SeqAccess<'de>>(self, _b: &mut Builder, r: &Refused, _seq: A) -> Result<Self::Out, A::Error> {
        Err(fail(r, Refusal::Bad(self.wrong())))
    }

    fn map<A: MapAccess<'de>>(self, _b: &mut Builder, r: &Refused, _map: A) -> Result<Self::Out, A::Error> {
        Err(fail(r, Refusal::Bad(self.wrong())))
    }
}

/// Reads one value as `shape` says.
struct Seed<'a, S> {
    b: &'a mut Builder,
    r: &'a Refused,
    shape: S,
}

impl<'de, S: Shape<'de>> Seed<'_, S> {
    fn raw<E: de::Error>(self, v: Raw<'de>) -> Result<S::Out, E> {
        let r = self.r;
        self.shape.scalar(self.b, v).map_err(|refusal| fail(r, refusal))
    }
}

impl<'de, S: Shape<'de>> DeserializeSeed<'de> for Seed<'_, S> {
    type Value = S::Out;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<S::Out, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, S: Shape<'de>> Visitor<'de> for Seed<'_, S> {
    type Value = S::Out;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shape.wrong())
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<S::Out, E> {
        self.raw(Raw::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<S::Out, E> {
        self.raw(Raw::I64(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<S::Out, E> {
        self.raw(Raw::U64(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<S::Out, E> {
        self.raw(Raw::F64(v))
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<S::Out, E> {
        self.raw(Raw::Str(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<S::Out, E> {
        self.raw(Raw::Str(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<S::Out, E> {
        self.raw(Raw::Str(Cow::Owned(v)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<S::Out, E> {
        self.raw(Raw::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<S::Out, E> {
        self.raw(Raw::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<S::Out, A::Error> {
        self.shape.seq(self.b, self.r, seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<S::Out, A::Error> {
        self.shape.map(self.b, self.r, map)
    }
}

/// An object key, borrowed from the body when it has no escapes.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Cow<'de, str>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v))
    }
}

/// `at` and then `key`, in the user's words (`rows[3].Units`).
fn at_key(at: &[Step], key: &str) -> String {
    let mut steps = at.to_vec();
    steps.push(Step::Key(key.to_owned()));
    path(&steps)
}

/// Where `key` of row `i` is, in the user's words: `rows[3].Units`, `rows[3]["Launch Date"]`
/// (a long key cut).
pub fn row_path(i: usize, key: &str) -> String {
    at_key(&steps(DataKey::Rows, i), key)
}

fn steps(data: DataKey, i: usize) -> Vec<Step> {
    vec![Step::Key(data.name().to_owned()), Step::Index(i)]
}

/// The body: an object of data members and parameters.
struct Top<'k> {
    data_keys: &'k [DataKey],
}

impl<'de> Shape<'de> for Top<'_> {
    type Out = ();

    fn wrong(&self) -> String {
        let names: Vec<&str> = self.data_keys.iter().map(|k| k.name()).collect();
        format!("the body must be a JSON object with {} and parameters", names.join(" or "))
    }

    fn map<A: MapAccess<'de>>(self, b: &mut Builder, r: &Refused, mut map: A) -> Result<(), A::Error> {
        let mut seen: HashSet<String> = HashSet::new();
        while let Some(key) = map.next_key_seed(Key)? {
            if !seen.insert(key.to_string()) {
                return Err(fail(r, Refusal::Duplicate { key: key.into_owned(), at: Vec::new() }));
            }
            match self.data_keys.iter().copied().find(|k| k.name() == key) {
                Some(data) => map.next_value_seed(Seed { b: &mut *b, r, shape: List { data } })?,
                None if key.len() > MAX_PARAMETER_NAME => {
                    return Err(fail(r, Refusal::Bad(format!("the body has {}, which is no parameter", quote(&key)))));
                }
                None if b.params.len() >= MAX_PARAMETERS => {
                    return Err(fail(r, Refusal::Bad(format!("the body has more than {MAX_PARAMETERS} parameters"))));
                }
                None => {
                    let v = map.next_value_seed(Seed { b: &mut *b, r, shape: Parameter { name: &key } })?;
                    b.params.insert(key.into_owned(), v);
                }
            }
        }
        Ok(())
    }
}

/// A parameter in the body: a string, number, boolean or null.
struct Parameter<'k> {
    name: &'k str,
}

impl<'de> Shape<'de> for Parameter<'_> {
    type Out = Value;

    fn wrong(&self) -> String {
        format!("parameter {} must be a string, number or boolean", quote(self.name))
    }

    fn scalar(self, _b: &mut Builder, v: Raw<'de>) -> Result<Value, Refusal> {
        Ok(match v {
            Raw::Null => Value::Null,
            Raw::Bool(b) => Value::Bool(b),
            Raw::I64(n) => Value::from(n),
            Raw::U64(n) => Value::from(n),
            Raw::F64(n) => Value::from(n),
            Raw::Str(s) if s.len() > MAX_PARAMETER_VALUE => {
                return Err(Refusal::Bad(format!(
                    "parameter {} is {} bytes long; a parameter is at most {MAX_PARAMETER_VALUE}",
                    quote(self.name),
                    s.len()
                )));
            }
            Raw::Str(s) => Value::String(s.into_owned()),
        })
    }
}

/// `rows`, `cells` or `items`: an array (`null`: not given).
struct List {
    data: DataKey,
}

impl<'de> Shape<'de> for List {
    type Out = ();

    fn wrong(&self) -> String {
        format!("{} must be a JSON array", self.data.name())
    }

    fn scalar(self, _b: &mut Builder, v: Raw<'de>) -> Result<(), Refusal> {
        match v {
            Raw::Null => Ok(()),
            _ => Err(Refusal::Bad(self.wrong())),
        }
    }

    fn seq<A: SeqAccess<'de>>(self, b: &mut Builder, r: &Refused, mut seq: A) -> Result<(), A::Error> {
        let data = self.data;
        // Room for as many entries as the body can hold, from the smallest JSON of each: a
        // row `{},`, a row field `"":0,`, a cell (it names a line item and has dimensions
        // and a value) 44 bytes, a cell's dimension 30, an item `{"id":0},`, a property
        // `"":0,`, a subset `"":true,`.
        let len = b.len;
        match data {
            DataKey::Rows => {
                b.body.rows = Some(Rows { fields: reserved(len, 5, false), ends: reserved(len, 3, true) });
            }
            DataKey::Cells => {
                b.body.cells = Some(Cells { cells: reserved(len, 44, true), dimensions: reserved(len, 30, false) });
            }
            DataKey::Items => {
                b.body.items = Some(Items {
                    items: reserved(len, 9, true),
                    properties: reserved(len, 5, false),
                    subsets: reserved(len, 8, false),
                });
            }
        }
        for i in 0.. {
            let more = match data {
                DataKey::Rows => seq.next_element_seed(Seed { b: &mut *b, r, shape: Row { i } })?,
                DataKey::Cells => seq.next_element_seed(Seed { b: &mut *b, r, shape: Cell { i } })?,
                DataKey::Items => seq.next_element_seed(Seed { b: &mut *b, r, shape: Item { i } })?,
            };
            if more.is_none() {
                break;
            }
            if i >= MAX_ENTRIES {
                return Err(fail(
                    r,
                    Refusal::Bad(format!(
                        "{} has more than {MAX_ENTRIES} entries, the most one request may carry; split it into \
                         several requests",
                        data.name()
                    )),
                ));
            }
        }
        Ok(())
    }
}

fn too_many_keys(what: &str) -> Refusal {
    Refusal::Bad(format!(
        "{what} use more than {MAX_KEYS} different names, the most one request may carry; a key that is not a \
         dimension or line item of the module, or not a property or subset of the list, is refused anyway"
    ))
}

/// One of `rows`: an object of scalars.
struct Row {
    i: usize,
}

impl<'de> Shape<'de> for Row {
    type Out = ();

    fn wrong(&self) -> String {
        format!("rows[{}] must be a JSON object", self.i)
    }

    fn map<A: MapAccess<'de>>(self, b: &mut Builder, r: &Refused, mut map: A) -> Result<(), A::Error> {
        b.keys.begin();
        while let Some(key) = map.next_key_seed(Key)? {
            let Some((n, first)) = b.keys.mark(&key) else {
                return Err(fail(r, too_many_keys("rows")));
            };
            if !first {
                let at = steps(DataKey::Rows, self.i);
                return Err(fail(r, Refusal::Duplicate { key: key.into_owned(), at }));
            }
            let value = map.next_value_seed(Seed { b: &mut *b, r, shape: RowValue { i: self.i, key: &key } })?;
            let rows = b.body.rows.as_mut().expect("rows are being read");
            rows.fields.push(Field { key: n, value });
        }
        let rows = b.body.rows.as_mut().expect("rows are being read");
        let end = u32::try_from(rows.fields.len()).map_err(|_| fail(r, Refusal::Bad("rows are too large".into())))?;
        rows.ends.push(end);
        Ok(())
    }
}

/// A value in a row: a scalar.
struct RowValue<'k> {
    i: usize,
    key: &'k str,
}

impl<'de> Shape<'de> for RowValue<'_> {
    type Out = Scalar;

    fn wrong(&self) -> String {
        format!(
            "{} must be a number, text, true, false or null (a cell's value, or an item's name or code)",
            at_key(&steps(DataKey::Rows, self.i), self.key)
        )
    }

    fn scalar(self, b: &mut Builder, v: Raw<'de>) -> Result<Scalar, Refusal> {
        v.scalar(&mut b.body.text)
    }
}

/// Text (`null`: not given).
struct TextField {
    at: Vec<Step>,
    key: &'static str,
}

impl<'de> Shape<'de> for TextField {
    type Out = Option<Span>;

    fn wrong(&self) -> String {
        format!("{} must be text", at_key(&self.at, self.key))
    }

    fn scalar(self, b: &mut Builder, v: Raw<'de>) -> Result<Option<Span>, Refusal> {
        match v {
            Raw::Null => Ok(None),
            Raw::Str(s) => Ok(Some(b.body.text.push(&s)?)),
            other => Err(Refusal::Bad(format!("{}; got {}", self.wrong(), other.shown()))),
        }
    }
}

/// Which known keys an object gave, for the duplicate check.
struct Given<const N: usize> {
    keys: [&'static str; N],
    seen: [bool; N],
}

impl<const N: usize> Given<N> {
    fn new(keys: [&'static str; N]) -> Self {
        Given { keys, seen: [false; N] }
    }

    /// The index of `key` among the known keys: `Err` for an unknown one (the 400's detail)
    /// or one given twice.
    fn take(&mut self, key: &str, at: &[Step], what: &str) -> Result<usize, Refusal> {
        let Some(k) = self.keys.iter().position(|k| *k == key) else {
            return Err(Refusal::Bad(format!(
                "{}: unknown field {}; {what} has {}",
                path(at),
                quote(key),
                self.keys.join(", ")
            )));
        };
        if std::mem::replace(&mut self.seen[k], true) {
            return Err(Refusal::Duplicate { key: key.to_owned(), at: at.to_vec() });
        }
        Ok(k)
    }
}

/// One of `cells`.
struct Cell {
    i: usize,
}

impl<'de> Shape<'de> for Cell {
    type Out = ();

    fn wrong(&self) -> String {
        format!("cells[{}] must be a JSON object", self.i)
    }

    fn map<A: MapAccess<'de>>(self, b: &mut Builder, r: &Refused, mut map: A) -> Result<(), A::Error> {
        let at = steps(DataKey::Cells, self.i);
        let mut given = Given::new(["lineItemId", "lineItemName", "dimensions", "value"]);
        let mut cell = CellIn { line_item_id: None, line_item_name: None, dimensions: None, value: None };
        while let Some(key) = map.next_key_seed(Key)? {
            let k = given.take(&key, &at, "a cell").map_err(|e| fail(r, e))?;
            let b = &mut *b;
            match k {
                0 | 1 => {
                    let shape = TextField { at: at.clone(), key: given.keys[k] };
                    let v = map.next_value_seed(Seed { b, r, shape })?;
                    if k == 0 {
                        cell.line_item_id = v;
                    } else {
                        cell.line_item_name = v;
                    }
                }
                2 => cell.dimensions = map.next_value_seed(Seed { b, r, shape: CellDimensions { i: self.i } })?,
                _ => cell.value = Some(map.next_value_seed(Seed { b, r, shape: CellValue { i: self.i } })?),
            }
        }
        // Checked here, so that no entry is kept that is not a cell.
        let bad = |what: &str| Err(fail(r, Refusal::Bad(format!("cells[{}]: {what}", self.i))));
        if cell.line_item_id.is_some() == cell.line_item_name.is_some() {
            return bad("give exactly one of lineItemId and lineItemName");
        }
        if cell.dimensions.is_none() {
            return bad("dimensions must be an array");
        }
        if cell.value.is_none() {
            return bad("value is required");
        }
        b.body.cells.as_mut().expect("cells are being read").cells.push(cell);
        Ok(())
    }
}

/// A cell's `value`: a scalar.
struct CellValue {
    i: usize,
}

impl<'de> Shape<'de> for CellValue {
    type Out = Scalar;

    fn wrong(&self) -> String {
        format!("cells[{}].value must be a number, text, true, false or null", self.i)
    }

    fn scalar(self, b: &mut Builder, v: Raw<'de>) -> Result<Scalar, Refusal> {
        v.scalar(&mut b.body.text)
    }
}

/// A cell's `dimensions` (`null`: not given).
struct CellDimensions {
    i: usize,
}

impl<'de> Shape<'de> for CellDimensions {
    type Out = Option<Range>;

    fn wrong(&self) -> String {
        format!("cells[{}].dimensions must be an array", self.i)
    }

    fn scalar(self, _b: &mut Builder, v: Raw<'de>) -> Result<Option<Range>, Refusal> {
        match v {
            Raw::Null => Ok(None),
            _ => Err(Refusal::Bad(self.wrong())),
        }
    }

    fn seq<A: SeqAccess<'de>>(self, b: &mut Builder, r: &Refused, mut seq: A) -> Result<Option<Range>, A::Error> {
        let len = |b: &Builder| b.body.cells.as_ref().map_or(0, |c| c.dimensions.len());
        let start = len(b);
        for j in 0.. {
            if seq.next_element_seed(Seed { b: &mut *b, r, shape: CellDimension { i: self.i, j } })?.is_none() {
                break;
            }
        }
        let range = Range::new(start, len(b)).ok_or_else(|| fail(r, Refusal::Bad("cells are too large".into())))?;
        Ok(Some(range))
    }
}

/// One entry of a cell's `dimensions`.
struct CellDimension {
    i: usize,
    j: usize,
}

impl<'de> Shape<'de> for CellDimension {
    type Out = ();

    fn wrong(&self) -> String {
        format!("cells[{}].dimensions[{}] must be a JSON object", self.i, self.j)
    }

    fn map<A: MapAccess<'de>>(self, b: &mut Builder, r: &Refused, mut map: A) -> Result<(), A::Error> {
        let mut at = steps(DataKey::Cells, self.i);
        at.extend([Step::Key("dimensions".into()), Step::Index(self.j)]);
        let mut given = Given::new(["dimensionId", "dimensionName", "itemId", "itemName", "itemCode"]);
        let mut d = DimensionIn::default();
        while let Some(key) = map.next_key_seed(Key)? {
            let k = given.take(&key, &at, "a cell's dimension").map_err(|e| fail(r, e))?;
            let shape = TextField { at: at.clone(), key: given.keys[k] };
            let v = map.next_value_seed(Seed { b: &mut *b, r, shape })?;
            match k {
                0 => d.dimension_id = v,
                1 => d.dimension_name = v,
                2 => d.item_id = v,
                3 => d.item_name = v,
                _ => d.item_code = v,
            }
        }
        let bad = |what: &str| Err(fail(r, Refusal::Bad(format!("cells[{}]: {what}", self.i))));
        if d.dimension_id.is_some() == d.dimension_name.is_some() {
            return bad("each dimension needs exactly one of dimensionId and dimensionName");
        }
        if [d.item_id, d.item_name, d.item_code].iter().filter(|v| v.is_some()).count() != 1 {
            return bad("each dimension needs exactly one of itemId, itemName and itemCode");
        }
        b.body.cells.as_mut().expect("cells are being read").dimensions.push(d);
        Ok(())
    }
}

/// The fields of a list item.
pub const ITEM_FIELDS: [&str; 6] = ["id", "code", "name", "parent", "properties", "subsets"];

/// One of `items`.
struct Item {
    i: usize,
}

impl<'de> Shape<'de> for Item {
    type Out = ();

    fn wrong(&self) -> String {
        format!("items[{}]: must be a JSON object", self.i)
    }

    fn map<A: MapAccess<'de>>(self, b: &mut Builder, r: &Refused, mut map: A) -> Result<(), A::Error> {
        let i = self.i;
        let at = steps(DataKey::Items, i);
        let mut given = Given::new(ITEM_FIELDS);
        let mut item = ItemIn::default();
        while let Some(key) = map.next_key_seed(Key)? {
            let k = given.take(&key, &at, "an item").map_err(|e| fail(r, e))?;
            let b = &mut *b;
            match k {
                0 => item.id = map.next_value_seed(Seed { b, r, shape: ItemId { i } })?,
                1 => item.code = map.next_value_seed(Seed { b, r, shape: ItemText { i, key: "code" } })?,
                2 => item.name = map.next_value_seed(Seed { b, r, shape: ItemText { i, key: "name" } })?,
                3 => item.parent = map.next_value_seed(Seed { b, r, shape: ItemText { i, key: "parent" } })?,
                4 => item.properties = map.next_value_seed(Seed { b, r, shape: ItemMap { i, subsets: false } })?,
                _ => item.subsets = map.next_value_seed(Seed { b, r, shape: ItemMap { i, subsets: true } })?,
            }
        }
        // Every action needs one of these; an item without any is refused here, so that no
        // entry is kept that names nothing.
        if item.id.is_none() && item.code.is_none() && item.name.is_none() {
            return Err(fail(r, Refusal::Bad(format!("items[{i}]: an item needs a code, an id or a name"))));
        }
        b.body.items.as_mut().expect("items are being read").items.push(item);
        Ok(())
    }
}

/// An item's `code`, `name` (non-empty text) or `parent` (text, may be empty).
struct ItemText {
    i: usize,
    key: &'static str,
}

impl<'de> Shape<'de> for ItemText {
    type Out = Option<Span>;

    fn wrong(&self) -> String {
        let what = if self.key == "parent" { "text" } else { "non-empty text" };
        format!("items[{}]: {} must be {what}", self.i, self.key)
    }

    fn scalar(self, b: &mut Builder, v: Raw<'de>) -> Result<Option<Span>, Refusal> {
        match v {
            Raw::Null => Ok(None),
            Raw::Str(s) if !s.is_empty() || self.key == "parent" => Ok(Some(b.body.text.push(&s)?)),
            other => Err(Refusal::Bad(format!("{}; got {}", self.wrong(), other.shown()))),
        }
    }
}

/// An item's `id`: non-empty text or a whole number.
struct ItemId {
    i: usize,
}

impl<'de> Shape<'de> for ItemId {
    type Out = Option<IdIn>;

    fn wrong(&self) -> String {
        format!("items[{}]: id must be non-empty text or a whole number", self.i)
    }

    fn scalar(self, b: &mut Builder, v: Raw<'de>) -> Result<Option<IdIn>, Refusal> {
        match v {
            Raw::Null => Ok(None),
            Raw::Str(s) if !s.is_empty() => Ok(Some(IdIn::Text(b.body.text.push(&s)?))),
            Raw::U64(n) => Ok(Some(IdIn::Number(Bits::of(n)))),
            Raw::I64(n) if n >= 0 => Ok(Some(IdIn::Number(Bits::of(n as u64)))),
            other => Err(Refusal::Bad(format!("{}; got {}", self.wrong(), other.shown()))),
        }
    }
}

/// An item's `properties` (name to scalar) or `subsets` (name to true or false).
struct ItemMap {
    i: usize,
    subsets: bool,
}

impl<'de> Shape<'de> for ItemMap {
    type Out = Option<Range>;

    fn wrong(&self) -> String {
        if self.subsets {
            format!("items[{}]: subsets must be an object of subset names to true or false", self.i)
        } else {
            format!("items[{}]: properties must be an object of property names to values", self.i)
        }
    }

    fn scalar(self, _b: &mut Builder, v: Raw<'de>) -> Result<Option<Range>, Refusal> {
        match v {
            Raw::Null => Ok(None),
            _ => Err(Refusal::Bad(self.wrong())),
        }
    }

    fn map<A: MapAccess<'de>>(self, b: &mut Builder, r: &Refused, mut map: A) -> Result<Option<Range>, A::Error> {
        let which = if self.subsets { "subsets" } else { "properties" };
        let len = |b: &Builder| {
            let items = b.body.items.as_ref().expect("items are being read");
            if self.subsets { items.subsets.len() } else { items.properties.len() }
        };
        let start = len(b);
        b.keys.begin();
        while let Some(key) = map.next_key_seed(Key)? {
            let Some((n, first)) = b.keys.mark(&key) else {
                return Err(fail(r, too_many_keys("items' properties and subsets")));
            };
            if !first {
                let mut at = steps(DataKey::Items, self.i);
                at.push(Step::Key(which.into()));
                return Err(fail(r, Refusal::Duplicate { key: key.into_owned(), at }));
            }
            let value = map.next_value_seed(Seed { b: &mut *b, r, shape: ItemMapValue { of: &self } })?;
            let items = b.body.items.as_mut().expect("items are being read");
            match value {
                Scalar::Bool(v) if self.subsets => items.subsets.push((n, v)),
                _ if self.subsets => return Err(fail(r, Refusal::Bad(self.wrong()))),
                v => items.properties.push((n, v)),
            }
        }
        let range = Range::new(start, len(b)).ok_or_else(|| fail(r, Refusal::Bad("items are too large".into())))?;
        Ok(Some(range))
    }
}

/// A value in `properties` or `subsets`: a scalar (checked further by [`ItemMap`]).
struct ItemMapValue<'a> {
    of: &'a ItemMap,
}

impl<'de> Shape<'de> for ItemMapValue<'_> {
    type Out = Scalar;

    fn wrong(&self) -> String {
        self.of.wrong()
    }

    fn scalar(self, b: &mut Builder, v: Raw<'de>) -> Result<Scalar, Refusal> {
        v.scalar(&mut b.body.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str, keys: &[DataKey]) -> (Body, Map<String, Value>) {
        parse(text.as_bytes(), keys).unwrap_or_else(|p| panic!("{}: {}", quote(text), p.body()))
    }

    fn refused(text: &str, keys: &[DataKey]) -> Value {
        let p = parse(text.as_bytes(), keys).err().unwrap_or_else(|| panic!("{} was accepted", quote(text)));
        assert_eq!(p.status(), 400);
        p.body()
    }

    const WC: &[DataKey] = &[DataKey::Rows, DataKey::Cells];
    const LI: &[DataKey] = &[DataKey::Items];

    #[test]
    fn entries_are_small() {
        use std::mem::size_of;
        assert_eq!(size_of::<Option<Span>>(), 8);
        assert_eq!(size_of::<Option<Range>>(), 8);
        assert_eq!(size_of::<Field>(), 16);
        assert_eq!(size_of::<DimensionIn>(), 40);
        assert!(size_of::<CellIn>() <= 40, "{}", size_of::<CellIn>());
        assert!(size_of::<ItemIn>() <= 56, "{}", size_of::<ItemIn>());
    }

    #[test]
    fn rows_keep_their_keys_and_values_in_order() {
        let (body, params) = parse_ok(
            r#"{"moduleName": "M", "rows": [{"P": "Widget", "U": 1, "N": -2, "F": 9.5, "A": true, "X": null},
                {"U": 18446744073709551615, "P": "Ga\"dget\u00e9"}, {}], "limit": 3}"#,
            WC,
        );
        assert_eq!(params["moduleName"], "M");
        assert_eq!(params["limit"], 3);
        let rows = body.rows.unwrap();
        assert_eq!(rows.len(), 3);
        let shown: Vec<Vec<(String, String)>> = (0..rows.len())
            .map(|i| {
                rows.row(i)
                    .iter()
                    .map(|f| {
                        let mut v = Vec::new();
                        f.value.write_json(&body.text, &mut v);
                        (body.keys[f.key as usize].to_string(), String::from_utf8(v).unwrap())
                    })
                    .collect()
            })
            .collect();
        let pairs = |p: &[(&str, &str)]| p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>();
        assert_eq!(
            shown,
            [
                pairs(&[("P", "\"Widget\""), ("U", "1"), ("N", "-2"), ("F", "9.5"), ("A", "true"), ("X", "null")]),
                pairs(&[("U", "18446744073709551615"), ("P", "\"Ga\\\"dgeté\"")]),
                pairs(&[]),
            ]
        );
        assert_eq!(body.keys.len(), 6, "each key once");
        assert!(body.cells.is_none() && body.items.is_none());
    }

    #[test]
    fn a_key_twice_is_named_with_its_place_as_strict_json_does() {
        for (text, keys, key, at) in [
            (r#"{"rows": [{"U": 1}, {"T": "Jan", "U": 1, "U": 2}]}"#, WC, "U", "rows[1]"),
            (r#"{"rows": [], "rows": []}"#, WC, "rows", ""),
            (r#"{"m": 1, "m": 1}"#, WC, "m", ""),
            (r#"{"cells": [{"value": 1, "value": 2}]}"#, WC, "value", "cells[0]"),
            (
                r#"{"cells": [{"dimensions": [{"dimensionId": "1", "itemId": "2"}, {"itemId": "1", "itemId": "1"}]}]}"#,
                WC,
                "itemId",
                "cells[0].dimensions[1]",
            ),
            (r#"{"items": [{"code": "a"}, {"name": "b", "name": "c"}]}"#, LI, "name", "items[1]"),
            (r#"{"items": [{"properties": {"O": "a", "O": "b"}}]}"#, LI, "O", "items[0].properties"),
            (r#"{"items": [{"subsets": {"A": true, "A": true}}]}"#, LI, "A", "items[0].subsets"),
        ] {
            let p = refused(text, keys);
            assert_eq!((p["duplicateKey"].as_str(), p["at"].as_str()), (Some(key), Some(at)), "{text}: {p}");
        }
        // The same key in different objects is fine.
        let (body, _) = parse_ok(r#"{"items": [{"code": "c", "properties": {"O": 1}, "subsets": {"O": true}}]}"#, LI);
        assert_eq!(body.items.unwrap().properties.len(), 1);
    }

    #[test]
    fn null_is_absent_and_shapes_are_checked() {
        let (body, _) = parse_ok(r#"{"items": [{"id": null, "code": "C1", "name": null, "properties": null}]}"#, LI);
        let item = body.items.unwrap().items[0];
        assert!(item.id.is_none() && item.name.is_none() && item.properties.is_none());
        assert_eq!(body.text.get(item.code.unwrap()), "C1");
        let (body, _) = parse_ok(
            r#"{"rows": null, "cells": [{"lineItemId": null, "lineItemName": "U", "dimensions": [], "value": null}]}"#,
            WC,
        );
        assert!(body.rows.is_none());
        let cell = body.cells.unwrap().cells[0];
        assert!(cell.line_item_id.is_none() && cell.value == Some(Scalar::Null));
        assert_eq!(cell.dimensions.map(Range::len), Some(0));

        for (text, keys, says) in [
            ("[1]", WC, "must be a JSON object"),
            (r#"{"rows": {}}"#, WC, "rows must be a JSON array"),
            (r#"{"rows": [[]]}"#, WC, "rows[0] must be a JSON object"),
            (r#"{"rows": [{"U": [1]}]}"#, WC, "rows[0].U must be a number"),
            (r#"{"modelName": {"a": 1}}"#, WC, "parameter \"modelName\" must be"),
            (r#"{"cells": [{"lineItemId": 7}]}"#, WC, "cells[0].lineItemId must be text"),
            (r#"{"cells": [{"colour": 7}]}"#, WC, "unknown field \"colour\""),
            (r#"{"cells": [{"value": {}}]}"#, WC, "cells[0].value must be"),
            (r#"{"items": [{"code": ""}]}"#, LI, "code must be non-empty text"),
            (r#"{"items": [{"id": -1}]}"#, LI, "id must be non-empty text or a whole number"),
            (r#"{"items": [{"colour": "red"}]}"#, LI, "unknown field"),
            (r#"{"items": [{"parent": "p"}]}"#, LI, "an item needs a code, an id or a name"),
            (r#"{"items": [{"id": null, "code": null}]}"#, LI, "an item needs a code, an id or a name"),
            (r#"{"cells": [{"dimensions": [], "value": 1}]}"#, WC, "exactly one of lineItemId and lineItemName"),
            (r#"{"cells": [{"lineItemId": "1", "lineItemName": "U"}]}"#, WC, "exactly one of lineItemId"),
            (r#"{"cells": [{"lineItemId": "1", "value": 1}]}"#, WC, "dimensions must be an array"),
            (r#"{"cells": [{"lineItemId": "1", "dimensions": []}]}"#, WC, "value is required"),
            (r#"{"cells": [{"lineItemId": "1", "dimensions": [{}]}]}"#, WC, "exactly one of dimensionId and"),
            (r#"{"cells": [{"lineItemId": "1", "dimensions": [{"dimensionId": "1"}]}]}"#, WC, "exactly one of itemId"),
            (
                r#"{"cells": [{"lineItemId": "1", "dimensions": [{"dimensionId": "1", "itemId": "1", "itemCode": "c"}]}]}"#,
                WC,
                "exactly one of itemId",
            ),
            (r#"{"items": [{"properties": {"O": [1]}}]}"#, LI, "properties must be an object"),
            (r#"{"items": [{"subsets": {"A": "yes"}}]}"#, LI, "subsets must be an object"),
        ] {
            let p = refused(text, keys);
            assert!(p["detail"].as_str().unwrap().contains(says), "{text}: {p}");
        }
        let p = refused("{\"rows\": [", WC);
        assert!(p["detail"].as_str().unwrap().starts_with("the body is not valid JSON"), "{p}");
        assert!(parse(b"{} {}", WC).is_err(), "one value only");
    }

    #[test]
    fn lists_and_keys_are_bounded_while_read() {
        let rows = format!(r#"{{"rows": [{}{{}}]}}"#, "{},".repeat(MAX_ENTRIES));
        let p = refused(&rows, WC);
        assert!(p["detail"].as_str().unwrap().contains("more than 1000000 entries"), "{p}");
        let at_bound = format!(r#"{{"rows": [{}{{}}]}}"#, "{},".repeat(MAX_ENTRIES - 1));
        assert_eq!(parse_ok(&at_bound, WC).0.rows.unwrap().len(), MAX_ENTRIES);
        let items = format!(r#"{{"items": [{}{{"code": "a"}}]}}"#, r#"{"code": "a"},"#.repeat(MAX_ENTRIES));
        let p = refused(&items, LI);
        assert!(p["detail"].as_str().unwrap().contains("items has more than 1000000 entries"), "{p}");

        let keys: Vec<String> = (0..=MAX_KEYS).map(|k| format!(r#"{{"k{k}": 1}}"#)).collect();
        let p = refused(&format!(r#"{{"rows": [{}]}}"#, keys.join(",")), WC);
        assert!(p["detail"].as_str().unwrap().contains("more than 10000 different names"), "{p}");
    }

    #[test]
    fn parameters_are_bounded_in_number_and_length() {
        let long_value = format!(r#"{{"modelName": "{}", "rows": []}}"#, "m".repeat(MAX_PARAMETER_VALUE + 1));
        let p = refused(&long_value, WC);
        assert!(p["detail"].as_str().unwrap().contains("at most 8192"), "{p}");
        let many: Vec<String> = (0..=MAX_PARAMETERS).map(|k| format!(r#""p{k}": 1"#)).collect();
        let p = refused(&format!("{{{}}}", many.join(",")), WC);
        assert!(p["detail"].as_str().unwrap().contains("more than 64 parameters"), "{p}");
        let p = refused(&format!(r#"{{"{}": 1}}"#, "k".repeat(MAX_PARAMETER_NAME + 1)), LI);
        assert!(p["detail"].as_str().unwrap().contains("no parameter"), "{p}");
        let (_, params) = parse_ok(&format!(r#"{{"modelName": "{}"}}"#, "m".repeat(MAX_PARAMETER_VALUE)), WC);
        assert_eq!(params["modelName"].as_str().unwrap().len(), MAX_PARAMETER_VALUE);
    }

    #[test]
    fn deep_nesting_is_a_400_not_a_stack_overflow() {
        let deep = |open: &str, close: &str| format!("{}{}", open.repeat(200_000), close.repeat(200_000));
        for text in [
            format!(r#"{{"rows": {}}}"#, deep("[", "]")),
            format!(r#"{{"rows": [{{"a": {}}}]}}"#, deep("[", "]")),
            format!(r#"{{"modelName": {}}}"#, deep(r#"{"a":"#, "}")),
            format!(r#"{{"items": [{{"properties": {{"a": {}}}}}]}}"#, deep("[", "]")),
            deep("[", "]"),
        ] {
            let keys = if text.contains("items") { LI } else { WC };
            assert_eq!(parse(text.as_bytes(), keys).err().map(|p| p.status().as_u16()), Some(400));
        }
    }

    #[test]
    fn long_text_in_a_refusal_is_cut() {
        let long = "x".repeat(100_000);
        for (text, keys) in [
            (format!(r#"{{"items": [{{"{long}": 1}}]}}"#), LI),
            (format!(r#"{{"{long}": [1]}}"#), WC),
            (format!(r#"{{"rows": [{{"{long}": 1, "{long}": 2}}]}}"#), WC),
            (format!(r#"{{"rows": [{{"{long}": {{}}}}]}}"#), WC),
        ] {
            let p = refused(&text, keys);
            assert!(p.to_string().len() < 1000, "{p}");
        }
    }
}
