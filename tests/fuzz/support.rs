//! What every fuzz module shares: the case budget, generators of arbitrary JSON and of broken
//! versions of a realistic document, and the checks an error must pass.

use std::collections::BTreeSet;

use jiff::Timestamp;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError};
use rampart::vendor::error::{MAX_MESSAGE_CHARS, VendorError};
use rampart::vendor::http::HttpResponse;
use serde_json::{Map, Number, Value};

/// Cases per property: `default`, or `RAMPART_FUZZ_CASES` for a longer local run.
pub fn config(default: u32) -> Config {
    let cases = std::env::var("RAMPART_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    Config {
        cases,
        // Failures become regression unit tests next to the code, not files in tests/.
        failure_persistence: None,
        // Properties that only look at admitted specs skip about half of what they draw.
        max_global_rejects: cases.saturating_mul(4).max(1024),
        ..Config::default()
    }
}

/// A response with `status` and `body` and no headers.
pub fn response(status: u16, body: impl Into<Vec<u8>>) -> HttpResponse {
    HttpResponse {
        status,
        headers: Default::default(),
        body: bytes::Bytes::from(body.into()),
    }
}

/// A failed call's error must say what went wrong and where: a message with text in it, and
/// the operation in the error's text (what a condition or event shows).
pub fn names_the_problem(e: &VendorError, operation: &str) -> Result<(), TestCaseError> {
    prop_assert!(!e.message.trim().is_empty(), "empty message: {e:?}");
    prop_assert!(e.message.chars().count() <= MAX_MESSAGE_CHARS + 1);
    prop_assert!(
        e.to_string().contains(operation),
        "{e} does not name {operation}"
    );
    Ok(())
}

/// Any instant jiff can hold, biased to the ends of its range and to today.
pub fn instant() -> impl Strategy<Value = Timestamp> {
    let (min, max) = (Timestamp::MIN.as_second(), Timestamp::MAX.as_second());
    prop_oneof![
        (min..=max).prop_map(|s| Timestamp::from_second(s).expect("in range")),
        prop_oneof![Just(Timestamp::MIN), Just(Timestamp::MAX)],
        (1_600_000_000i64..1_900_000_000)
            .prop_map(|s| Timestamp::from_second(s).expect("in range")),
    ]
}

/// Strings that parsers trip over: numbers, booleans and timestamps as text, odd unicode,
/// control characters, very long text.
pub fn tricky_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => any::<String>(),
        2 => "[a-zA-Z0-9_.:+ -]{0,12}",
        1 => prop::sample::select(vec![
            "", " ", "null", "true", "True", "false", "40", "-1", "1e400", "0x10", "NaN",
            "9223372036854775808", "-9223372036854775809", "2020-02-05T10:38:34.209782",
            "2019-05-08 06:57:05", "2020-02-23T01:00:32Z", "0001-01-01T00:00:00Z",
            "-009999-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "\u{0}", "\u{feff}",
            "ÿ\u{301}", "правило", "🦀", "[rampart:", "[rampart:abc]", "a@b", "@", "%s%n",
        ])
        .prop_map(str::to_string),
        1 => "[a-z]{1,4}".prop_map(|s| s.repeat(2000)),
    ]
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        prop::sample::select(vec![0i64, -1, 1, 40, 100, 99_999, i64::MIN, i64::MAX])
            .prop_map(Value::from),
        Just(Value::from(u64::MAX)),
        Just(Value::from(1e308)),
        Just(Value::from(0.5)),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        tricky_text().prop_map(Value::String),
    ]
}

/// An arbitrary JSON tree whose object keys are mostly `keys` (a vendor's field names, so that
/// random documents reach real fields) and sometimes anything.
fn json_with_keys(keys: Vec<String>) -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        4 => prop::sample::select(keys),
        1 => tricky_text(),
    ];
    leaf().prop_recursive(5, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// One way to break a field of a realistic document.
#[derive(Debug, Clone)]
pub enum Mutation {
    Null,
    Remove,
    Replace(Value),
    /// A number becomes its text, a string its JSON value if it has one, anything else text.
    Retype,
    /// Wrapped in `depth` arrays (past serde_json's recursion limit when deep).
    Nest(usize),
    /// Wrapped in a one-item list, or taken out of one.
    Listify,
    /// Every object of the document also gets this key (a duplicate-looking field).
    AddKey(String, Value),
}

fn mutation(keys: Vec<String>) -> impl Strategy<Value = Mutation> {
    prop_oneof![
        2 => Just(Mutation::Null),
        2 => Just(Mutation::Remove),
        3 => leaf().prop_map(Mutation::Replace),
        1 => json_with_keys(keys.clone()).prop_map(Mutation::Replace),
        2 => Just(Mutation::Retype),
        1 => prop_oneof![1usize..8, 120usize..200].prop_map(Mutation::Nest),
        1 => Just(Mutation::Listify),
        1 => (prop::sample::select(keys), leaf())
            .prop_map(|(k, v)| Mutation::AddKey(k, v)),
    ]
}

/// A byte-level edit of the serialised document.
#[derive(Debug, Clone)]
pub enum ByteEdit {
    None,
    Truncate(Index),
    Overwrite(Index, u8),
    Insert(Index, Vec<u8>),
}

fn byte_edit() -> impl Strategy<Value = ByteEdit> {
    prop_oneof![
        6 => Just(ByteEdit::None),
        1 => any::<Index>().prop_map(ByteEdit::Truncate),
        1 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| ByteEdit::Overwrite(i, b)),
        1 => (any::<Index>(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(i, b)| ByteEdit::Insert(i, b)),
    ]
}

/// `doc` with one to four of its fields broken and perhaps its bytes edited.
fn mutated(doc: Value, keys: Vec<String>) -> impl Strategy<Value = Vec<u8>> {
    (
        prop::collection::vec((any::<Index>(), mutation(keys)), 1..5),
        byte_edit(),
    )
        .prop_map(move |(edits, bytes)| {
            let mut v = doc.clone();
            for (at, m) in edits {
                apply(&mut v, &at, m);
            }
            edit_bytes(serde_json::to_vec(&v).expect("a Value serialises"), bytes)
        })
}

/// Bodies of every kind: arbitrary bytes, arbitrary JSON, and broken versions of the example
/// bodies in `examples` (tests/fuzz/examples/<vendor>.json: an object of named bodies, from the
/// document and the simulators). Random objects mostly use the examples' own keys.
pub fn bodies(examples: &str) -> impl Strategy<Value = Vec<u8>> {
    let named: Map<String, Value> = serde_json::from_str(examples).expect("the examples are JSON");
    let examples: Vec<Value> = named.into_values().collect();
    let mut keys = BTreeSet::new();
    examples.iter().for_each(|e| collect_keys(e, &mut keys));
    let keys: Vec<String> = keys.into_iter().collect();
    let for_mutations = keys.clone();
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..256),
        2 => json_with_keys(keys).prop_map(|v| serde_json::to_vec(&v).expect("serialises")),
        5 => prop::sample::select(examples)
            .prop_flat_map(move |doc| mutated(doc, for_mutations.clone())),
    ]
}

fn collect_keys(v: &Value, keys: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => m.iter().for_each(|(k, child)| {
            keys.insert(k.clone());
            collect_keys(child, keys);
        }),
        Value::Array(a) => a.iter().for_each(|child| collect_keys(child, keys)),
        _ => {}
    }
}

fn edit_bytes(mut b: Vec<u8>, edit: ByteEdit) -> Vec<u8> {
    match edit {
        ByteEdit::None => {}
        ByteEdit::Truncate(i) if !b.is_empty() => b.truncate(i.index(b.len())),
        ByteEdit::Overwrite(i, byte) if !b.is_empty() => {
            let at = i.index(b.len());
            b[at] = byte;
        }
        ByteEdit::Insert(i, bytes) => {
            let at = i.index(b.len() + 1);
            b.splice(at..at, bytes);
        }
        _ => {}
    }
    b
}

/// Every value's path in `v`, root first.
fn paths(v: &Value) -> Vec<Vec<PathStep>> {
    fn walk(v: &Value, here: &mut Vec<PathStep>, out: &mut Vec<Vec<PathStep>>) {
        out.push(here.clone());
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    here.push(PathStep::Key(k.clone()));
                    walk(child, here, out);
                    here.pop();
                }
            }
            Value::Array(a) => {
                for (i, child) in a.iter().enumerate() {
                    here.push(PathStep::Item(i));
                    walk(child, here, out);
                    here.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, &mut Vec::new(), &mut out);
    out
}

#[derive(Debug, Clone)]
enum PathStep {
    Key(String),
    Item(usize),
}

fn apply(doc: &mut Value, at: &Index, m: Mutation) {
    if let Mutation::AddKey(k, v) = &m {
        add_everywhere(doc, k, v);
        return;
    }
    let all = paths(doc);
    let path = &all[at.index(all.len())];
    let Some((last, parent_path)) = path.split_last() else {
        // The root itself.
        *doc = mutate_value(std::mem::take(doc), m);
        return;
    };
    let Some(parent) = parent_path.iter().try_fold(&mut *doc, step) else {
        return;
    };
    match (parent, last, m) {
        (Value::Object(o), PathStep::Key(k), Mutation::Remove) => {
            o.remove(k);
        }
        (Value::Array(a), PathStep::Item(i), Mutation::Remove) => {
            a.remove(*i);
        }
        (parent, last, m) => {
            if let Some(slot) = step(parent, last) {
                *slot = mutate_value(std::mem::take(slot), m);
            }
        }
    }
}

fn step<'a>(v: &'a mut Value, s: &PathStep) -> Option<&'a mut Value> {
    match (v, s) {
        (Value::Object(o), PathStep::Key(k)) => o.get_mut(k),
        (Value::Array(a), PathStep::Item(i)) => a.get_mut(*i),
        _ => None,
    }
}

fn mutate_value(v: Value, m: Mutation) -> Value {
    match m {
        Mutation::Null | Mutation::Remove => Value::Null,
        Mutation::Replace(new) => new,
        Mutation::Retype => match v {
            Value::String(s) => serde_json::from_str(&s).unwrap_or(Value::Number(0.into())),
            Value::Array(mut a) if a.len() == 1 => a.remove(0),
            other => Value::String(other.to_string()),
        },
        Mutation::Nest(depth) => (0..depth).fold(v, |inner, _| Value::Array(vec![inner])),
        Mutation::Listify => match v {
            Value::Array(mut a) if a.len() == 1 => a.remove(0),
            other => Value::Array(vec![other]),
        },
        Mutation::AddKey(..) => v,
    }
}

fn add_everywhere(v: &mut Value, key: &str, value: &Value) {
    match v {
        Value::Object(o) => {
            for child in o.values_mut() {
                add_everywhere(child, key, value);
            }
            o.insert(key.to_string(), value.clone());
        }
        Value::Array(a) => a.iter_mut().for_each(|c| add_everywhere(c, key, value)),
        _ => {}
    }
}
