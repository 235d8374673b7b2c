//! How the simulated server reads field values, by key: intervals are PostgreSQL intervals
//! (stored and returned in PostgreSQL's output style, as a database would), cron fields are
//! numbers or cron text, validity periods are date-times, `*_flag` keys are booleans, and names
//! that refer to pools, user groups and clients must exist. GUESS: the document gives no
//! validation rules; a wrong value is a 400 "Некорректное тело запроса".

use serde_json::{Map, Value};

use super::store::Store;
use crate::providers::rubackup::cron::{CronField, FieldSet};
use crate::providers::rubackup::fields::{normalize_client, parse_datetime};
use crate::providers::rubackup::interval::Interval;

const INTERVAL_KEYS: [&str; 5] = [
    "retention_period",
    "verify_interval",
    "storage_duration",
    "periodic_launch",
    "move_copy_while",
];
const POOL_KEYS: [&str; 3] = ["pool_id", "move_copy_pool", "meta_data_pool"];
const GROUP_KEYS: [&str; 7] = [
    "inform_when_obsoleted_copy",
    "notify_normal",
    "notify_exception",
    "notify_verify",
    "notify_strategy_validity",
    "notify_rule_validity",
    "notify_end_storage_capacity",
];
const TYPE_PREFIXES: [&str; 4] = ["", "full_", "inc_", "diff_"];

/// `key` is `base` or a backup-type prefixed `base` (`full_storage_duration`).
fn is(key: &str, base: &str) -> bool {
    TYPE_PREFIXES
        .iter()
        .any(|p| key.strip_prefix(p) == Some(base))
}

fn cron_field(key: &str) -> Option<CronField> {
    CronField::ALL
        .into_iter()
        .find(|f| is(key, f.vendor_suffix()))
}

/// Whether `key` holds a pool name.
pub fn is_pool_key(key: &str) -> bool {
    POOL_KEYS.iter().any(|b| is(key, b))
}

/// A date-time the way the API's Python writes it: microseconds only when there are some.
fn iso(text: &str) -> Option<String> {
    let dt = parse_datetime(text)?;
    let base = dt.strftime("%Y-%m-%dT%H:%M:%S").to_string();
    let micros = dt.subsec_nanosecond() / 1000;
    Some(if micros == 0 {
        base
    } else {
        format!("{base}.{micros:06}")
    })
}

/// Check and normalise every field of `item`.
pub fn normalize(store: &Store, item: &mut Map<String, Value>) -> Result<(), String> {
    for (key, value) in item.iter_mut() {
        let bad = |what: &str| format!("{key}: {value} is not {what}");
        if INTERVAL_KEYS.iter().any(|b| is(key, b)) {
            let text = value.as_str().ok_or_else(|| bad("an interval"))?;
            let iv = Interval::parse(text).map_err(|e| format!("{key}: {e}"))?;
            *value = Value::from(iv.to_postgres());
        } else if let Some(field) = cron_field(key) {
            FieldSet::from_vendor(field, value).map_err(|e| format!("{key}: {e}"))?;
        } else if key.starts_with("validity_") && key.ends_with("_period") {
            *value = Value::from(
                value
                    .as_str()
                    .and_then(iso)
                    .ok_or_else(|| bad("a date-time"))?,
            );
        } else if key.ends_with("_flag")
            || key.ends_with("_enabled")
            || key == "ignore_free_space_check"
        {
            if !value.is_boolean() {
                return Err(bad("true or false"));
            }
        } else if ["priority", "storage_capacity", "block_size", "hash_length"]
            .contains(&key.as_str())
        {
            if !value.is_i64() {
                return Err(bad("an integer"));
            }
        } else if is_pool_key(key) {
            let name = value.as_str().ok_or_else(|| bad("a pool name"))?;
            if !store.pool_exists(name) {
                return Err(format!("{key}: pool '{name}' does not exist"));
            }
        } else if GROUP_KEYS.contains(&key.as_str()) {
            let name = value.as_str().ok_or_else(|| bad("a user group"))?;
            if !store.config.user_groups.iter().any(|g| g == name) {
                return Err(format!("{key}: user group '{name}' does not exist"));
            }
        } else if key == "status" {
            if !matches!(value.as_str(), Some("run" | "wait")) {
                return Err(bad("run or wait"));
            }
        } else if key == "crypto" {
            let known = value
                .as_str()
                .is_some_and(|c| store.config.crypto.iter().any(|k| k == c));
            if !known {
                return Err(bad("a known crypto algorithm"));
            }
        } else if key == "resource_type" {
            let known = value
                .as_str()
                .is_some_and(|t| store.config.resource_types.iter().any(|k| k == t));
            if !known {
                return Err(bad("a known resource type"));
            }
        } else if key == "client_id" {
            let wanted = normalize_client(value.as_str().ok_or_else(|| bad("a client"))?);
            let client = store
                .config
                .clients
                .iter()
                .find(|c| normalize_client(c) == wanted);
            *value = Value::from(
                client
                    .ok_or_else(|| format!("client '{wanted}' is not an authorised client"))?
                    .clone(),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulators::rubackup::SimConfig;
    use serde_json::json;

    fn check(v: Value) -> Result<Value, String> {
        let store = Store::new(SimConfig::new(&[("u", "p")]));
        let mut item = v.as_object().unwrap().clone();
        normalize(&store, &mut item).map(|_| Value::Object(item))
    }

    #[test]
    fn values_are_stored_the_way_a_database_returns_them() {
        let out = check(json!({
            "full_storage_duration": "1 Years", "verify_interval": "1mon", "validity_end_period": "2025-08-13 14:33:31.360035",
            "validity_start_period": "2025-01-01", "client_id": "rubackup-client(525A99154F3505A2)", "full_min": "*/5", "hour": 3
        }))
        .unwrap();
        assert_eq!(out["full_storage_duration"], "1 year");
        assert_eq!(out["verify_interval"], "1 mon");
        assert_eq!(out["validity_end_period"], "2025-08-13T14:33:31.360035");
        assert_eq!(out["validity_start_period"], "2025-01-01T00:00:00");
        assert_eq!(out["client_id"], "rubackup-client (525a99154f3505a2)");
        assert_eq!(out["full_min"], "*/5");
    }

    #[test]
    fn bad_values_and_unknown_names_are_refused() {
        for v in [
            json!({"storage_duration": "forever"}),
            json!({"dow": 9}),
            json!({"verify_flag": "yes"}),
            json!({"pool_id": "Nope"}),
            json!({"notify_normal": "Nobody2"}),
            json!({"status": "running"}),
            json!({"client_id": "ghost (00)"}),
            json!({"priority": "high"}),
        ] {
            assert!(check(v.clone()).is_err(), "{v}");
        }
        assert!(
            check(json!({"pool_id": "Default", "notify_normal": "Nobody", "status": "run"}))
                .is_ok()
        );
    }
}
