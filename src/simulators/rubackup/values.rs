//! How the simulated server reads one field value, by the type the document's examples give it:
//! names and texts are strings, quotas and priorities integers, `*_flag`/`*_enabled` booleans,
//! intervals PostgreSQL intervals (stored and listed in PostgreSQL's spelling), validity periods
//! date-times (listed the way Python prints them), schedule fields per [`super::cron`], and the
//! names that refer to pools, strategies, user groups, users and clients must exist. A wrong
//! value is a 400 "Некорректное тело запроса" (L2198-2200, the document's only error answer).
//! GUESS: the document gives no validation rules of its own; these are what a server backed by
//! typed database columns and foreign keys would refuse.

use serde_json::Value;

use super::cron::{self, CronKey};
use super::interval::PgInterval;
use super::store::Store;

/// Lists of allowed values the server keeps (its reference endpoints, §8.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// `GET /destination_storage_types` (L2105).
    PoolType,
    MediaServer,
    /// `GET /compression_type`.
    Compression,
    /// `GET /crypto`.
    Crypto,
    /// `GET /resourse_types`.
    ResourceType,
    /// `GET /backup_types`.
    BackupType,
}

/// The type of a field, as the document's example values show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// Any string, empty included (descriptions, scripts, e-mail copies).
    Text,
    /// A non-empty string (names, resources).
    Name,
    /// A whole number of at least this much. GUESS: the document states no ranges; negative
    /// quotas, priorities and sizes are refused.
    Int(i64),
    Bool,
    Interval,
    DateTime,
    Cron(CronKey),
    /// The name of an existing pool (`pool_id` holds a name, L3781).
    Pool,
    /// The name of an existing strategy (`strategy_id` holds a name, L4064).
    Strategy,
    /// A user (notification) group (`"Nobody"`, §8.10.3).
    UserGroup,
    /// A RuBackup user who can administer a strategy.
    User,
    /// An authorised client, `hostname (HW ID)`.
    Client,
    OneOf(Choice),
    /// `wait` (the document's examples) or `run` (GUESS: the other value of
    /// `GET /status_of_rule`, L1571).
    Status,
    /// `{"parameters": {...}}` (L4072-4094).
    Extensions,
}

/// Whether `key` names a pool (what a pool rename carries over to).
pub fn is_pool_key(key: &str) -> bool {
    ["pool_id", "move_copy_pool", "meta_data_pool"]
        .iter()
        .any(|b| key == *b || key.ends_with(&format!("_{b}")))
}

/// A date-time as Python's `datetime.fromisoformat` (before 3.11) reads the document's values
/// (`"2024-08-13T14:33:31.359954"`, L3786): a date, or a date with `T` or a space and
/// `HH[:MM[:SS[.fff[fff]]]]`. GUESS: no time zone (the examples have none, the columns keep
/// none), and the fraction has 3 or 6 digits, as that `fromisoformat` requires. Returned as
/// Python's `isoformat()` prints it: microseconds only when there are some.
pub fn datetime(text: &str) -> Option<String> {
    let (date, time) = match text.find(['T', ' ']) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let digits = |s: &str, n: usize| s.len() == n && s.chars().all(|c| c.is_ascii_digit());
    let d: Vec<&str> = date.split('-').collect();
    if d.len() != 3 || !digits(d[0], 4) || !digits(d[1], 2) || !digits(d[2], 2) {
        return None;
    }
    let (y, mo, da): (i16, i8, i8) = (d[0].parse().ok()?, d[1].parse().ok()?, d[2].parse().ok()?);
    jiff::civil::Date::new(y, mo, da).ok()?;
    let (mut h, mut mi, mut s, mut micros) = (0, 0, 0, 0u32);
    if let Some(time) = time {
        let (clock, fraction) = match time.split_once('.') {
            Some((c, f)) => (c, Some(f)),
            None => (time, None),
        };
        let t: Vec<&str> = clock.split(':').collect();
        if t.len() > 3 || !t.iter().all(|p| digits(p, 2)) {
            return None;
        }
        h = t[0].parse().ok()?;
        mi = t.get(1).map_or(Some(0), |p| p.parse().ok())?;
        s = t.get(2).map_or(Some(0), |p| p.parse().ok())?;
        if let Some(f) = fraction {
            if t.len() != 3 || !(digits(f, 3) || digits(f, 6)) {
                return None;
            }
            micros = format!("{f:0<6}").parse().ok()?;
        }
        if h > 23 || mi > 59 || s > 59 {
            return None;
        }
    }
    let base = format!("{}T{h:02}:{mi:02}:{s:02}", date);
    Some(if micros == 0 {
        base
    } else {
        format!("{base}.{micros:06}")
    })
}

/// `hostname (HW ID)` as (hostname, lower-case HW ID). The document writes it with a space
/// (L4063) and without one (L3974); GUESS: the server looks the client up by both parts, HW ID in
/// any case.
pub fn client_parts(text: &str) -> Option<(String, String)> {
    let t = text.trim();
    let open = t.rfind('(')?;
    let hwid = t[open + 1..].strip_suffix(')')?.trim();
    let host = t[..open].trim();
    if host.is_empty() || hwid.is_empty() || !hwid.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    Some((host.to_string(), hwid.to_ascii_lowercase()))
}

fn choices(store: &Store, choice: Choice) -> &[String] {
    let c = &store.config;
    match choice {
        Choice::PoolType => &c.pool_types,
        Choice::MediaServer => &c.media_servers,
        Choice::Compression => &c.compression_types,
        Choice::Crypto => &c.crypto,
        Choice::ResourceType => &c.resource_types,
        Choice::BackupType => &c.backup_types,
    }
}

/// Check one field of a create or PATCH body and return the value the server keeps for it.
pub fn read(store: &Store, key: &str, ty: FieldType, value: &Value) -> Result<Value, String> {
    let bad = |what: &str| format!("{key}: {value} is not {what}");
    let text = || value.as_str().ok_or_else(|| bad("a string"));
    match ty {
        FieldType::Text => text().map(Value::from),
        FieldType::Name => match text()? {
            "" => Err(format!("{key} must not be empty")),
            s => Ok(Value::from(s)),
        },
        FieldType::Int(min) => match value.as_i64() {
            Some(n) if n >= min => Ok(Value::from(n)),
            Some(n) => Err(format!("{key}: {n} is less than {min}")),
            None => Err(bad("a whole number")),
        },
        FieldType::Bool => value
            .as_bool()
            .map(Value::from)
            .ok_or_else(|| bad("true or false")),
        FieldType::Interval => PgInterval::parse(text()?)
            .map(|iv| Value::from(iv.to_text()))
            .map_err(|e| format!("{key}: {e}")),
        FieldType::DateTime => datetime(text()?)
            .map(Value::from)
            .ok_or_else(|| bad("a date-time such as 2024-08-13T14:33:31.359954")),
        FieldType::Cron(k) => {
            cron::read(k, value, store.config.cron_fields).map_err(|e| format!("{key}: {e}"))
        }
        FieldType::Pool => {
            let name = text()?;
            if store.pool_exists(name) {
                Ok(Value::from(name))
            } else {
                Err(format!("{key}: pool '{name}' does not exist"))
            }
        }
        FieldType::Strategy => {
            let name = text()?;
            if store.strategy_exists(name) {
                Ok(Value::from(name))
            } else {
                Err(format!("{key}: strategy '{name}' does not exist"))
            }
        }
        FieldType::UserGroup => {
            let name = text()?;
            if store.config.user_groups.iter().any(|g| g == name) {
                Ok(Value::from(name))
            } else {
                Err(format!("{key}: user group '{name}' does not exist"))
            }
        }
        FieldType::User => {
            let name = text()?;
            if store.config.administrators.iter().any(|u| u == name) {
                Ok(Value::from(name))
            } else {
                Err(format!("{key}: user '{name}' does not exist"))
            }
        }
        FieldType::Client => {
            let wanted = client_parts(text()?)
                .ok_or_else(|| bad("a client such as 'host (525a99154f3505a2)'"))?;
            store
                .config
                .clients
                .iter()
                .find(|c| client_parts(c).as_ref() == Some(&wanted))
                .map(|c| Value::from(c.as_str()))
                .ok_or_else(|| {
                    format!(
                        "{key}: '{}' is not an authorised client",
                        text().unwrap_or_default()
                    )
                })
        }
        FieldType::OneOf(choice) => {
            let v = text()?;
            let allowed = choices(store, choice);
            if allowed.iter().any(|a| a == v) {
                Ok(Value::from(v))
            } else {
                Err(format!("{key}: '{v}' is not one of {allowed:?}"))
            }
        }
        FieldType::Status => match text()? {
            s @ ("run" | "wait") => Ok(Value::from(s)),
            _ => Err(bad("run or wait")),
        },
        FieldType::Extensions => match value.get("parameters") {
            Some(Value::Object(_)) if value.as_object().is_some_and(|o| o.len() == 1) => {
                Ok(value.clone())
            }
            _ => Err(format!("{key}: must be {{\"parameters\": {{...}}}}")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulators::rubackup::SimConfig;
    use serde_json::json;

    fn store() -> Store {
        Store::new(SimConfig::new(&[("u", "p")]))
    }

    #[test]
    fn values_are_kept_the_way_the_database_returns_them() {
        let s = store();
        let r = |ty, v: Value| read(&s, "k", ty, &v).unwrap();
        assert_eq!(r(FieldType::Interval, json!("1 Years")), "1 year");
        assert_eq!(r(FieldType::Interval, json!("1mon")), "1 mon");
        assert_eq!(
            r(FieldType::DateTime, json!("2025-08-13 14:33:31.360035")),
            "2025-08-13T14:33:31.360035"
        );
        assert_eq!(
            r(FieldType::DateTime, json!("2025-01-01")),
            "2025-01-01T00:00:00"
        );
        assert_eq!(
            r(FieldType::DateTime, json!("2025-01-01T10:00")),
            "2025-01-01T10:00:00"
        );
        assert_eq!(
            r(FieldType::DateTime, json!("2025-01-01T10:00:00.500")),
            "2025-01-01T10:00:00.500000"
        );
        assert_eq!(
            r(FieldType::DateTime, json!("2025-01-01T10")),
            "2025-01-01T10:00:00"
        );
        assert_eq!(
            r(
                FieldType::Client,
                json!("rubackup-client(525A99154F3505A2)")
            ),
            "rubackup-client (525a99154f3505a2)"
        );
        assert_eq!(r(FieldType::Cron(CronKey::Min), json!("*/5")), "*/5");
        assert_eq!(r(FieldType::Cron(CronKey::Hour), json!(3)), "3");
    }

    #[test]
    fn wrong_types_and_unknown_names_are_refused() {
        let s = store();
        for (ty, v) in [
            (FieldType::Interval, json!("forever")),
            (FieldType::Interval, json!(5)),
            (FieldType::Cron(CronKey::Dow), json!(9)),
            (FieldType::Bool, json!("yes")),
            (FieldType::Pool, json!("Nope")),
            (FieldType::UserGroup, json!("Nobody2")),
            (FieldType::Status, json!("running")),
            (FieldType::Client, json!("ghost (00)")),
            (FieldType::Client, json!("no hwid")),
            (FieldType::Int(0), json!("high")),
            (FieldType::Int(0), json!(-1)),
            (FieldType::Int(0), json!(1.5)),
            (FieldType::Name, json!("")),
            (FieldType::Text, json!(null)),
            (FieldType::DateTime, json!("2025-02-30")),
            (FieldType::DateTime, json!("2025-01-01T10:00:00+03:00")),
            (FieldType::DateTime, json!("2025-01-01T24:00")),
            (FieldType::DateTime, json!("2025-01-01T10:00:00.5")),
            (FieldType::DateTime, json!("2025-01-01T10:00:00.123456789")),
            (FieldType::OneOf(Choice::Crypto), json!("rot13")),
            (FieldType::Extensions, json!({"file_list": true})),
        ] {
            assert!(read(&s, "k", ty, &v).is_err(), "{ty:?} {v}");
        }
        for (ty, v) in [
            (FieldType::Pool, json!("Default")),
            (FieldType::UserGroup, json!("Nobody")),
            (FieldType::Status, json!("run")),
            (FieldType::Extensions, json!({"parameters": {}})),
        ] {
            assert!(read(&s, "k", ty, &v).is_ok(), "{ty:?} {v}");
        }
    }
}
