//! Desired vendor fields and how each is compared with what RuBackup returns. A spec becomes a
//! list of `Desired` (vendor key, spec path, value, comparison); the same list yields the drift
//! report and the PATCH body, so what is reported is exactly what is sent.

use jiff::civil::DateTime;
use serde_json::{Map, Value};

use super::cron::{CronField, FieldSet};
use super::interval::Interval;
use crate::api::common::Drift;

/// How a vendor value is compared with the desired one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    /// JSON equality (numbers by value).
    Exact,
    /// PostgreSQL intervals by value (`1 Years` == `1 year`).
    Interval,
    /// Cron fields as sets (`2` == `"2"`, `*/30` == `0,30`).
    Cron(CronField),
    /// Date-times by value (`2025-01-01` == `2025-01-01T00:00:00.000000`).
    DateTime,
    /// Client references (`host (hwid)` == `host(HWID)`).
    Client,
    /// The desired object's keys only; the server may add others.
    Subset,
}

/// One vendor field the spec asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    /// Key in the vendor object (`full_min`, `pool_id`).
    pub key: String,
    /// Spec path reported in drift (`spec.ruBackup.full.schedule`).
    pub path: String,
    pub value: Value,
    pub compare: Compare,
    /// Whether RuBackup's PATCH can change it.
    pub mutable: bool,
}

impl Desired {
    pub fn new(
        key: impl Into<String>,
        path: impl Into<String>,
        value: impl Into<Value>,
        compare: Compare,
    ) -> Self {
        Desired {
            key: key.into(),
            path: path.into(),
            value: value.into(),
            compare,
            mutable: true,
        }
    }

    /// Mark a field RuBackup takes at creation only (absent from the document's PATCH).
    pub fn fixed(mut self) -> Self {
        self.mutable = false;
        self
    }

    /// Whether the vendor's value differs from this one.
    pub fn differs(&self, observed: Option<&Value>) -> bool {
        let Some(observed) = observed.filter(|v| !v.is_null()) else {
            return !self.value.is_null();
        };
        !same(self.compare, &self.value, observed)
    }
}

fn same(compare: Compare, desired: &Value, observed: &Value) -> bool {
    match (compare, desired, observed) {
        (Compare::Interval, Value::String(d), Value::String(o)) => {
            match (Interval::parse(d), Interval::parse(o)) {
                (Ok(d), Ok(o)) => d == o,
                _ => d == o,
            }
        }
        (Compare::Cron(f), d, o) => {
            match (FieldSet::from_vendor(f, d), FieldSet::from_vendor(f, o)) {
                (Ok(d), Ok(o)) => d == o,
                _ => json_equal(d, o),
            }
        }
        (Compare::DateTime, Value::String(d), Value::String(o)) => {
            match (parse_datetime(d), parse_datetime(o)) {
                (Some(d), Some(o)) => d == o,
                _ => d == o,
            }
        }
        (Compare::Client, Value::String(d), Value::String(o)) => {
            normalize_client(d) == normalize_client(o)
        }
        (Compare::Subset, d, o) => subset(d, o),
        (_, d, o) => json_equal(d, o),
    }
}

fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn subset(desired: &Value, observed: &Value) -> bool {
    match (desired, observed) {
        (Value::Object(d), Value::Object(o)) => d
            .iter()
            .all(|(k, v)| o.get(k).is_some_and(|ov| subset(v, ov))),
        _ => json_equal(desired, observed),
    }
}

/// `desired` laid over `observed`, so a PATCH keeps the keys the server added.
fn overlay(desired: &Value, observed: Option<&Value>) -> Value {
    match (desired, observed) {
        (Value::Object(d), Some(Value::Object(o))) => {
            let mut merged = o.clone();
            for (k, v) in d {
                merged.insert(k.clone(), overlay(v, o.get(k)));
            }
            Value::Object(merged)
        }
        _ => desired.clone(),
    }
}

/// A date-time as RuBackup writes them (no zone, optional fraction, `T` or space), or a date.
pub fn parse_datetime(text: &str) -> Option<DateTime> {
    let t = text.trim().replacen(' ', "T", 1);
    t.parse::<DateTime>().ok().or_else(|| {
        t.parse::<jiff::civil::Date>()
            .ok()
            .map(|d| d.to_datetime(jiff::civil::Time::midnight()))
    })
}

/// `host (hwid)` with one space and a lower-case HW ID; the document writes both
/// `rubackup-client (525a…)` and `rubackup-client(525a…)`.
pub fn normalize_client(text: &str) -> String {
    let t = text.trim();
    match (t.rfind('('), t.ends_with(')')) {
        (Some(open), true) => {
            let host = t[..open].trim();
            let hwid = t[open + 1..t.len() - 1].trim().to_ascii_lowercase();
            format!("{host} ({hwid})")
        }
        _ => t.to_string(),
    }
}

/// The desired fields whose vendor value differs.
pub fn changed<'a>(desired: &'a [Desired], observed: &Map<String, Value>) -> Vec<&'a Desired> {
    desired
        .iter()
        .filter(|d| d.differs(observed.get(&d.key)))
        .collect()
}

/// Drift entries for changed fields, one per spec path: a path that stands for several vendor
/// keys (a schedule) shows them together.
pub fn drift(changed: &[&Desired], observed: &Map<String, Value>) -> Vec<Drift> {
    let mut paths: Vec<&str> = Vec::new();
    for d in changed {
        if !paths.contains(&d.path.as_str()) {
            paths.push(&d.path);
        }
    }
    paths
        .into_iter()
        .map(|path| {
            let group: Vec<&&Desired> = changed.iter().filter(|d| d.path == path).collect();
            let seen = |d: &Desired| observed.get(&d.key).cloned().unwrap_or(Value::Null);
            let (desired, observed) = match group.as_slice() {
                [one] => (one.value.clone(), seen(one)),
                many => (
                    Value::Object(
                        many.iter()
                            .map(|d| (d.key.clone(), d.value.clone()))
                            .collect(),
                    ),
                    Value::Object(many.iter().map(|d| (d.key.clone(), seen(d))).collect()),
                ),
            };
            Drift {
                field: path.to_string(),
                desired: desired.to_string(),
                observed: observed.to_string(),
            }
        })
        .collect()
}

/// The PATCH fields for changed, mutable fields.
pub fn patch(changed: &[&Desired], observed: &Map<String, Value>) -> Map<String, Value> {
    changed
        .iter()
        .filter(|d| d.mutable)
        .map(|d| (d.key.clone(), overlay(&d.value, observed.get(&d.key))))
        .collect()
}

/// The POST fields: every desired field.
pub fn create_body(desired: &[Desired]) -> Map<String, Value> {
    desired
        .iter()
        .map(|d| (d.key.clone(), d.value.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn spellings_of_one_value_are_not_drift() {
        let cases = [
            (Compare::Interval, json!("1 Years"), json!("1 year")),
            (Compare::Interval, json!("1mon"), json!("1 mon")),
            (Compare::Cron(CronField::Hour), json!(2), json!("2")),
            (
                Compare::Cron(CronField::Minute),
                json!("*/30"),
                json!("0,30"),
            ),
            (
                Compare::DateTime,
                json!("2025-01-01"),
                json!("2025-01-01T00:00:00.000000"),
            ),
            (
                Compare::DateTime,
                json!("2025-01-01 10:00"),
                json!("2025-01-01T10:00:00"),
            ),
            (
                Compare::Client,
                json!("db1 (525A99154F3505A2)"),
                json!("db1(525a99154f3505a2)"),
            ),
            (Compare::Exact, json!(8), json!(8.0)),
            (
                Compare::Subset,
                json!({"parameters": {"a": 1}}),
                json!({"parameters": {"a": 1, "b": 2}}),
            ),
        ];
        for (compare, d, o) in cases {
            let f = Desired::new("k", "spec.k", d.clone(), compare);
            assert!(!f.differs(Some(&o)), "{compare:?}: {d} vs {o}");
        }
    }

    #[test]
    fn real_differences_are_drift() {
        let cases = [
            (Compare::Interval, json!("1 mon"), json!("30 days")),
            (Compare::Cron(CronField::Hour), json!(2), json!(3)),
            (
                Compare::DateTime,
                json!("2025-01-01"),
                json!("2025-01-02T00:00:00"),
            ),
            (Compare::Client, json!("db1 (aa)"), json!("db2 (aa)")),
            (Compare::Exact, json!("run"), json!("wait")),
            (
                Compare::Subset,
                json!({"parameters": {"a": 1}}),
                json!({"parameters": {"a": 2}}),
            ),
            (
                Compare::Subset,
                json!({"parameters": {"a": 1}}),
                json!({"parameters": {}}),
            ),
        ];
        for (compare, d, o) in cases {
            let f = Desired::new("k", "spec.k", d.clone(), compare);
            assert!(f.differs(Some(&o)), "{compare:?}: {d} vs {o}");
        }
        // Missing on the vendor side is drift; a desired null is not.
        assert!(Desired::new("k", "p", json!(1), Compare::Exact).differs(None));
        assert!(!Desired::new("k", "p", Value::Null, Compare::Exact).differs(None));
    }

    #[test]
    fn drift_groups_keys_of_one_path_and_patch_sends_only_mutable_changes() {
        let desired = vec![
            Desired::new(
                "full_min",
                "spec.x.full.schedule",
                json!(30),
                Compare::Cron(CronField::Minute),
            ),
            Desired::new(
                "full_hour",
                "spec.x.full.schedule",
                json!(2),
                Compare::Cron(CronField::Hour),
            ),
            Desired::new(
                "description",
                "spec.x.description",
                json!("new"),
                Compare::Exact,
            ),
            Desired::new("crypto", "spec.x.crypto", json!("gost"), Compare::Exact).fixed(),
            Desired::new(
                "module_extensions",
                "spec.x.moduleParameters",
                json!({"parameters": {"a": 2}}),
                Compare::Subset,
            ),
        ];
        let observed = obj(json!({
            "full_min": 0, "full_hour": 1, "description": "new", "crypto": "nocrypt",
            "module_extensions": {"parameters": {"a": 1, "b": true}}
        }));
        let ch = changed(&desired, &observed);
        assert_eq!(ch.len(), 4);
        let d = drift(&ch, &observed);
        assert_eq!(d.len(), 3);
        assert_eq!(d[0].field, "spec.x.full.schedule");
        assert_eq!(d[0].desired, r#"{"full_hour":2,"full_min":30}"#);
        assert_eq!(d[0].observed, r#"{"full_hour":1,"full_min":0}"#);
        assert_eq!(d[1].field, "spec.x.crypto");
        let p = patch(&ch, &observed);
        assert_eq!(
            Value::Object(p),
            json!({"full_min": 30, "full_hour": 2, "module_extensions": {"parameters": {"a": 2, "b": true}}})
        );
    }

    #[test]
    fn client_references_normalise() {
        assert_eq!(
            normalize_client(" rubackup-client(525A99154F3505A2) "),
            "rubackup-client (525a99154f3505a2)"
        );
        assert_eq!(normalize_client("no-hwid"), "no-hwid");
    }
}
