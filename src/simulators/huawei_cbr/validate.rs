//! Request validation with the document's ranges and codes: BackupService.9900 for a bad
//! parameter unless the document has a more specific code (6101 capacity, 6102 resource type,
//! 6104 duplicates, 6117 policy type, 6600 tags).

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::error::{SimError, SimResult};
use super::model::SimResource;

pub type Obj = Map<String, Value>;

/// The JSON object under `key` of a request body (`{"vault": {…}}`).
pub fn envelope<'a>(body: &'a Value, key: &str) -> SimResult<&'a Obj> {
    body.get(key)
        .and_then(Value::as_object)
        .ok_or_else(|| SimError::invalid(format!("{key} is required")))
}

pub fn object<'a>(o: &'a Obj, key: &str) -> SimResult<Option<&'a Obj>> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(SimError::invalid(format!("{key} must be an object"))),
    }
}

/// An optional string of `min..=max` characters.
pub fn string(o: &Obj, key: &str, min: usize, max: usize) -> SimResult<Option<String>> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if (min..=max).contains(&s.chars().count()) => Ok(Some(s.clone())),
        Some(_) => Err(SimError::invalid(format!(
            "{key} must be a string of {min}-{max} characters"
        ))),
    }
}

pub fn required_string(o: &Obj, key: &str, min: usize, max: usize) -> SimResult<String> {
    string(o, key, min, max)?.ok_or_else(|| SimError::invalid(format!("{key} is required")))
}

pub fn integer(o: &Obj, key: &str) -> SimResult<Option<i64>> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| SimError::invalid(format!("{key} must be an integer"))),
    }
}

pub fn boolean(o: &Obj, key: &str) -> SimResult<Option<bool>> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_bool()
            .map(Some)
            .ok_or_else(|| SimError::invalid(format!("{key} must be a boolean"))),
    }
}

/// A string that must be one of `allowed`.
pub fn one_of(o: &Obj, key: &str, allowed: &[&str]) -> SimResult<Option<String>> {
    match string(o, key, 0, 64)? {
        Some(s) if !allowed.contains(&s.as_str()) => Err(SimError::invalid(format!(
            "{key} must be one of {allowed:?}"
        ))),
        other => Ok(other),
    }
}

pub fn array<'a>(
    o: &'a Obj,
    key: &str,
    min: usize,
    max: usize,
) -> SimResult<Option<&'a Vec<Value>>> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) if (min..=max).contains(&a.len()) => Ok(Some(a)),
        Some(_) => Err(SimError::invalid(format!(
            "{key} must be a list of {min}-{max} items"
        ))),
    }
}

/// Only letters, digits, `_` and `-` (names and tags).
pub fn charset_ok(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The resource type a vault of `object_type` accepts.
pub fn resource_type_of(object_type: &str) -> &'static str {
    match object_type {
        "disk" => "OS::Cinder::Volume",
        "turbo" => "OS::Sfs::Turbo",
        _ => "OS::Nova::Server",
    }
}

/// `resources` of a create (0–255) or addresources (1–256) for a vault of `object_type`.
pub fn resources(
    o: &Obj,
    object_type: &str,
    min: usize,
    max: usize,
) -> SimResult<Vec<SimResource>> {
    let list = array(o, "resources", min, max)?
        .ok_or_else(|| SimError::invalid("resources is required"))?;
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for item in list {
        let r = item
            .as_object()
            .ok_or_else(|| SimError::invalid("resources[] must be objects"))?;
        let id = required_string(r, "id", 1, 64)?;
        let type_ = one_of(
            r,
            "type",
            &["OS::Nova::Server", "OS::Cinder::Volume", "OS::Sfs::Turbo"],
        )?
        .ok_or_else(|| SimError::invalid("resources[].type is required"))?;
        if type_ != resource_type_of(object_type) {
            return Err(SimError::code("BackupService.6102"));
        }
        if !seen.insert(id.clone()) {
            return Err(SimError::code("BackupService.6104"));
        }
        let exclude = object(r, "extra_info")?
            .map(|e| array(e, "exclude_volumes", 0, 64))
            .transpose()?
            .flatten()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        // GUESS (L1994): CBR fills a missing name from the server/disk inventory ("ecs-b977-0002"
        // in the example); the simulator has no inventory and derives one from the id.
        let name = string(r, "name", 0, 255)?
            .unwrap_or_else(|| format!("{}-{}", short_kind(&type_), &id[..id.len().min(4)]));
        // GUESS (L2003): every resource is 40 GB, the size of every resource in the document's
        // examples.
        out.push(SimResource {
            id,
            type_,
            name,
            size: 40,
            exclude_volumes: exclude,
            protect_status: "available".into(),
        });
    }
    Ok(out)
}

fn short_kind(type_: &str) -> &'static str {
    match type_ {
        "OS::Cinder::Volume" => "volume",
        "OS::Sfs::Turbo" => "sfs-turbo",
        _ => "ecs",
    }
}

/// `tags` of a vault create: not an empty list, at most 10, unique keys, key 1–36 and value
/// 0–43 characters of letters, digits, `_` and `-`.
pub fn tags(o: &Obj) -> SimResult<Vec<(String, Option<String>)>> {
    let Some(list) = array(o, "tags", 1, usize::MAX)? else {
        return Ok(Vec::new());
    };
    if list.len() > 10 {
        return Err(SimError::code("BackupService.6600"));
    }
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    for item in list {
        let t = item
            .as_object()
            .ok_or_else(|| SimError::invalid("tags[] must be objects"))?;
        let key = required_string(t, "key", 1, 36)?.trim().to_string();
        let value = required_string(t, "value", 0, 43)?.trim().to_string();
        if !charset_ok(&key) || !charset_ok(&value) || key.is_empty() {
            return Err(SimError::invalid(
                "tags may contain only letters, digits, '-' and '_'",
            ));
        }
        if out.iter().any(|(k, _)| *k == key) {
            return Err(SimError::invalid(format!("tag key {key} is repeated")));
        }
        out.push((key, Some(value)));
    }
    Ok(out)
}

/// `bind_rules`: at most 5 tags.
pub fn bind_rules(o: &Obj) -> SimResult<Option<Vec<(String, String)>>> {
    let Some(rules) = object(o, "bind_rules")? else {
        return Ok(None);
    };
    let list = array(rules, "tags", 0, 5)?.cloned().unwrap_or_default();
    let mut out = Vec::new();
    for item in &list {
        let t = item
            .as_object()
            .ok_or_else(|| SimError::invalid("bind_rules.tags[] must be objects"))?;
        let key = required_string(t, "key", 1, 36)?;
        let value = required_string(t, "value", 0, 43)?;
        if !charset_ok(&key) || !charset_ok(&value) {
            return Err(SimError::invalid(
                "bind_rules tags may contain only letters, digits, '-' and '_'",
            ));
        }
        out.push((key, value));
    }
    Ok(Some(out))
}

/// `billing.size` on create (10–10485760) or update (1–10485760): 6101 outside.
pub fn size(o: &Obj, min: i64) -> SimResult<Option<i64>> {
    match integer(o, "size") {
        Ok(Some(s)) if (min..=10_485_760).contains(&s) => Ok(Some(s)),
        Ok(None) => Ok(None),
        _ => Err(SimError::code("BackupService.6101")),
    }
}

/// A policy name: 1–64 letters, digits, `_` and `-`.
pub fn policy_name(o: &Obj) -> SimResult<Option<String>> {
    match string(o, "name", 1, 64)? {
        Some(n) if !charset_ok(&n) => Err(SimError::invalid(
            "name may contain only letters, digits, '-' and '_'",
        )),
        other => Ok(other),
    }
}

/// `operation_definition`: ranges of PolicyODCreate; only known fields are kept.
pub fn operation_definition(od: &Obj) -> SimResult<Map<String, Value>> {
    let mut out = Map::new();
    let mut long_term = false;
    for key in [
        "day_backups",
        "week_backups",
        "month_backups",
        "year_backups",
    ] {
        if let Some(n) = integer(od, key)? {
            if !(0..=100).contains(&n) {
                return Err(SimError::invalid(format!("{key} must be 0-100")));
            }
            long_term = true;
            out.insert(key.into(), n.into());
        }
    }
    for key in ["max_backups", "retention_duration_days"] {
        if let Some(n) = integer(od, key)? {
            // GUESS (L3708-3712): the table says minimum 1 and default -1, the text "-1 or
            // 0-99999"; 0 is refused because "keep zero backups" has no meaning.
            if n != -1 && !(1..=99_999).contains(&n) {
                return Err(SimError::invalid(format!("{key} must be -1 or 1-99999")));
            }
            out.insert(key.into(), n.into());
        }
    }
    if let Some(n) = integer(od, "full_backup_interval")? {
        if !(-1..=100).contains(&n) {
            return Err(SimError::invalid("full_backup_interval must be -1-100"));
        }
        out.insert("full_backup_interval".into(), n.into());
    }
    match string(od, "timezone", 1, 16)? {
        Some(tz) if !timezone_ok(&tz) => {
            return Err(SimError::invalid("timezone must look like UTC+08:00"));
        }
        Some(tz) => {
            out.insert("timezone".into(), tz.into());
        }
        None if long_term => {
            return Err(SimError::invalid(
                "timezone is required with day/week/month/year_backups",
            ));
        }
        None => {}
    }
    Ok(out)
}

/// `UTC+08:00`, also written `UTC +08:00` in the document.
fn timezone_ok(tz: &str) -> bool {
    let Some(rest) = tz.strip_prefix("UTC") else {
        return false;
    };
    let b = rest.trim_start().as_bytes();
    b.len() == 6
        && (b[0] == b'+' || b[0] == b'-')
        && b[1].is_ascii_digit()
        && b[2].is_ascii_digit()
        && b[3] == b':'
        && b[4].is_ascii_digit()
        && b[5].is_ascii_digit()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn obj(v: Value) -> Obj {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn operation_definition_ranges() {
        let ok = operation_definition(&obj(
            json!({"max_backups": -1, "day_backups": 5, "timezone": "UTC +03:00", "x": 1}),
        ))
        .unwrap();
        assert_eq!(
            Value::Object(ok),
            json!({"max_backups": -1, "day_backups": 5, "timezone": "UTC +03:00"})
        );
        for bad in [
            json!({"max_backups": 0}),
            json!({"retention_duration_days": 100000}),
            json!({"week_backups": 101, "timezone": "UTC+00:00"}),
            json!({"day_backups": 1}),
            json!({"full_backup_interval": -2}),
            json!({"timezone": "GMT+3"}),
        ] {
            assert!(operation_definition(&obj(bad.clone())).is_err(), "{bad}");
        }
    }

    #[test]
    fn vault_fields() {
        assert_eq!(
            size(&obj(json!({"size": 9})), 10).unwrap_err().code,
            "BackupService.6101"
        );
        assert_eq!(size(&obj(json!({"size": 9})), 1).unwrap(), Some(9));
        let r = json!({"resources": [{"id": "abcdef", "type": "OS::Cinder::Volume"}]});
        assert_eq!(
            resources(&obj(r.clone()), "server", 0, 255)
                .unwrap_err()
                .code,
            "BackupService.6102"
        );
        assert_eq!(
            resources(&obj(r), "disk", 0, 255).unwrap()[0].name,
            "volume-abcd"
        );
        let dup = json!({"resources": [{"id": "a", "type": "OS::Nova::Server"}, {"id": "a", "type": "OS::Nova::Server"}]});
        assert_eq!(
            resources(&obj(dup), "server", 0, 255).unwrap_err().code,
            "BackupService.6104"
        );
        assert!(tags(&obj(json!({"tags": []}))).is_err());
        assert!(tags(&obj(json!({"tags": [{"key": "a b", "value": "x"}]}))).is_err());
        let eleven: Vec<Value> = (0..11)
            .map(|i| json!({"key": format!("k{i}"), "value": ""}))
            .collect();
        assert_eq!(
            tags(&obj(json!({ "tags": eleven }))).unwrap_err().code,
            "BackupService.6600"
        );
        let six = vec![json!({"key": "a", "value": "b"}); 6];
        assert!(bind_rules(&obj(json!({"bind_rules": {"tags": six}}))).is_err());
        assert!(policy_name(&obj(json!({"name": "a.b"}))).is_err());
    }
}
