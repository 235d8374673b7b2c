//! Small readers for validating request bodies field by field: each names the path of the field
//! it refuses (`settings.scheduling.backup_sets[0].schedule.type`), as the simulator's 400
//! answers do. `null` counts as absent: the document's own examples send `null` for values they
//! leave unset (`'second': null`, `'devices': null`).

use serde_json::{Map, Value};

/// Why a body is refused: the field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

pub type Checked<T> = Result<T, Refusal>;

pub fn refuse<T>(path: &str, message: impl Into<String>) -> Checked<T> {
    Err(Refusal {
        path: path.to_string(),
        message: message.into(),
    })
}

/// `parent.key`, or `key` at the top.
pub fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The value at `key`, `None` when missing or null.
pub fn get<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    m.get(key).filter(|v| !v.is_null())
}

pub fn object<'a>(v: &'a Value, path: &str) -> Checked<&'a Map<String, Value>> {
    v.as_object().map_or_else(
        || refuse(path, format!("must be an object, not {}", kind(v))),
        Ok,
    )
}

pub fn array<'a>(v: &'a Value, path: &str) -> Checked<&'a Vec<Value>> {
    v.as_array().map_or_else(
        || refuse(path, format!("must be an array, not {}", kind(v))),
        Ok,
    )
}

/// A required object member.
pub fn required<'a>(m: &'a Map<String, Value>, key: &str, parent: &str) -> Checked<&'a Value> {
    get(m, key).map_or_else(|| refuse(&join(parent, key), "is required"), Ok)
}

/// An optional boolean member.
pub fn boolean(m: &Map<String, Value>, key: &str, parent: &str) -> Checked<Option<bool>> {
    match get(m, key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(v) => refuse(
            &join(parent, key),
            format!("must be true or false, not {}", kind(v)),
        ),
    }
}

/// An optional whole number within `min..=max`.
pub fn integer(
    m: &Map<String, Value>,
    key: &str,
    parent: &str,
    min: i64,
    max: i64,
) -> Checked<Option<i64>> {
    let path = join(parent, key);
    match get(m, key) {
        None => Ok(None),
        Some(v) => match v.as_i64() {
            Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
            Some(n) => refuse(&path, format!("{n} is outside {min}..{max}")),
            None => refuse(&path, format!("must be a whole number, not {v}")),
        },
    }
}

/// An optional string; `nonempty` refuses `""`.
pub fn string<'a>(
    m: &'a Map<String, Value>,
    key: &str,
    parent: &str,
    nonempty: bool,
) -> Checked<Option<&'a str>> {
    let path = join(parent, key);
    match get(m, key) {
        None => Ok(None),
        Some(Value::String(s)) if nonempty && s.trim().is_empty() => {
            refuse(&path, "must not be empty")
        }
        Some(Value::String(s)) => Ok(Some(s)),
        Some(v) => refuse(&path, format!("must be a string, not {}", kind(v))),
    }
}

/// An optional string out of `allowed`.
pub fn one_of<'a>(
    m: &'a Map<String, Value>,
    key: &str,
    parent: &str,
    allowed: &[&str],
) -> Checked<Option<&'a str>> {
    match string(m, key, parent, false)? {
        None => Ok(None),
        Some(s) if allowed.contains(&s) => Ok(Some(s)),
        Some(s) => refuse(
            &join(parent, key),
            format!("{s:?} is not one of {}", allowed.join(", ")),
        ),
    }
}

/// The documented weekday codes.
pub const WEEKDAYS: [&str; 7] = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];

/// An optional array whose items are each checked by `item` (given the item and its path).
pub fn each<'a>(
    m: &'a Map<String, Value>,
    key: &str,
    parent: &str,
    mut item: impl FnMut(&'a Value, &str) -> Checked<()>,
) -> Checked<Option<&'a Vec<Value>>> {
    let path = join(parent, key);
    let Some(v) = get(m, key) else {
        return Ok(None);
    };
    let items = array(v, &path)?;
    for (i, v) in items.iter().enumerate() {
        item(v, &format!("{path}[{i}]"))?;
    }
    Ok(Some(items))
}

/// An optional object member, checked by `inner`.
pub fn section<'a>(
    m: &'a Map<String, Value>,
    key: &str,
    parent: &str,
    inner: impl FnOnce(&'a Map<String, Value>, &str) -> Checked<()>,
) -> Checked<()> {
    let path = join(parent, key);
    match get(m, key) {
        None => Ok(()),
        Some(v) => inner(object(v, &path)?, &path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn readers_name_the_field_they_refuse() {
        let m = map(json!({"n": 24, "s": "", "b": "yes", "e": "X", "z": null}));
        assert_eq!(
            integer(&m, "n", "a.b", 0, 23).unwrap_err().to_string(),
            "a.b.n: 24 is outside 0..23"
        );
        assert_eq!(
            string(&m, "s", "", true).unwrap_err().path,
            "s",
            "empty refused"
        );
        assert!(boolean(&m, "b", "",).is_err());
        assert!(one_of(&m, "e", "", &["A", "B"]).is_err());
        assert_eq!(integer(&m, "z", "", 0, 1).unwrap(), None, "null is absent");
        assert_eq!(
            required(&m, "z", "x").unwrap_err().to_string(),
            "x.z: is required"
        );
    }
}
