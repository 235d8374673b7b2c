//! The portable retention compiled into Cyber Backup retention rules
//! (`destination.retention = {"execution": "AFTER_BACKUP", "rules": [...]}`). The document shows
//! two kinds of rule: by count (`{"max_count": 7}`) and by age per backup set
//! (`{"backup_set": "DAILY", "max_age": {"count": 7, "type": "DAYS"}}`), never mixed in one plan.

use serde_json::{Value, json};

use crate::api::schedule::Retention;
use crate::api::vendors::cyberbackup::CyberBackupRetentionRule;

/// Why a retention cannot be compiled, naming the spec field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionError {
    pub field: &'static str,
    pub message: String,
}

fn age_rule(backup_set: Option<&str>, count: i32, unit: &str) -> Value {
    let max_age = json!({"count": count, "type": unit});
    match backup_set {
        Some(set) => json!({"backup_set": set, "max_age": max_age}),
        // GUESS: an age rule without `backup_set` applies to every backup; the document only
        // shows age rules per backup set.
        None => json!({"max_age": max_age}),
    }
}

/// A retention that keeps every backup: no rules (GUESS, L1685: the document shows rules only
/// as a list, and an empty list prunes nothing). Sent when the spec sets no retention, so that
/// rules written before stop pruning.
pub fn keep_everything() -> Value {
    json!({"execution": "AFTER_BACKUP", "rules": []})
}

fn wrap(rules: Vec<Value>) -> Option<Value> {
    (!rules.is_empty()).then(|| json!({"execution": "AFTER_BACKUP", "rules": rules}))
}

/// Compile the portable retention. `None` when it keeps everything (no rule set, or only zero
/// counts).
pub fn compile(r: &Retention) -> Result<Option<Value>, RetentionError> {
    let positive = |v: Option<i32>| v.filter(|n| *n > 0);
    if let Some(n) = positive(r.yearly) {
        return Err(RetentionError {
            field: "spec.retention.yearly",
            message: format!(
                "Cyber Backup 18.5 keeps daily, weekly and monthly backup sets but has no yearly one (asked for {n})"
            ),
        });
    }
    let mut age_rules = Vec::new();
    if let Some(days) = positive(r.keep_days) {
        age_rules.push(age_rule(None, days, "DAYS"));
    }
    for (set, count, unit) in [
        ("DAILY", r.daily, "DAYS"),
        ("WEEKLY", r.weekly, "WEEKS"),
        ("MONTHLY", r.monthly, "MONTHS"),
    ] {
        if let Some(n) = positive(count) {
            age_rules.push(age_rule(Some(set), n, unit));
        }
    }
    match positive(r.keep_last) {
        Some(_) if !age_rules.is_empty() => Err(RetentionError {
            field: "spec.retention.keepLast",
            message: "Cyber Backup retention is either by count (keepLast) or by age (keepDays, daily, weekly, monthly), not both".into(),
        }),
        Some(n) => Ok(wrap(vec![json!({"max_count": n})])),
        None => Ok(wrap(age_rules)),
    }
}

/// The native rules, in the same shape.
pub fn from_native(rules: &[CyberBackupRetentionRule]) -> Option<Value> {
    let out = rules
        .iter()
        .filter_map(|r| match (r.max_count, r.max_age_count, r.max_age_unit) {
            (Some(n), _, _) => Some(json!({"max_count": n})),
            (None, Some(count), Some(unit)) => {
                let set = r.backup_set.map(wire_name);
                Some(age_rule(set.as_deref(), count, &wire_name(unit)))
            }
            _ => None,
        })
        .collect();
    wrap(out)
}

/// The wire spelling of a unit enum (`WEEKLY`, `HOURS`).
fn wire_name<T: serde::Serialize>(v: T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::vendors::cyberbackup::{CyberBackupAgeUnit, CyberBackupRetentionSet};

    fn ret(f: impl FnOnce(&mut Retention)) -> Retention {
        let mut r = Retention::default();
        f(&mut r);
        r
    }

    #[test]
    fn keep_last_is_the_machine_example_count_rule() {
        // §2.10.3.6: {"execution": "AFTER_BACKUP", "rules": [{"max_count": 7}]}
        let v = compile(&ret(|r| r.keep_last = Some(7))).unwrap().unwrap();
        assert_eq!(
            v,
            json!({"execution": "AFTER_BACKUP", "rules": [{"max_count": 7}]})
        );
    }

    #[test]
    fn daily_weekly_monthly_are_the_disk_example_age_rules() {
        // §2.10.3.6, disk plan: DAILY 7 DAYS, WEEKLY 4 WEEKS, MONTHLY 6 MONTHS.
        let v = compile(&ret(|r| {
            r.daily = Some(7);
            r.weekly = Some(4);
            r.monthly = Some(6);
        }))
        .unwrap()
        .unwrap();
        assert_eq!(
            v["rules"],
            json!([
                {"backup_set": "DAILY", "max_age": {"count": 7, "type": "DAYS"}},
                {"backup_set": "WEEKLY", "max_age": {"count": 4, "type": "WEEKS"}},
                {"backup_set": "MONTHLY", "max_age": {"count": 6, "type": "MONTHS"}}
            ])
        );
    }

    #[test]
    fn keep_days_is_an_age_rule_for_every_backup() {
        let v = compile(&ret(|r| {
            r.keep_days = Some(30);
            r.weekly = Some(2);
        }))
        .unwrap()
        .unwrap();
        assert_eq!(
            v["rules"][0],
            json!({"max_age": {"count": 30, "type": "DAYS"}})
        );
        assert_eq!(v["rules"][1]["backup_set"], "WEEKLY");
    }

    #[test]
    fn nothing_or_zero_counts_keep_everything() {
        assert_eq!(compile(&Retention::default()).unwrap(), None);
        assert_eq!(
            compile(&ret(|r| {
                r.daily = Some(0);
                r.yearly = Some(0);
            }))
            .unwrap(),
            None
        );
    }

    #[test]
    fn yearly_and_mixed_count_and_age_are_refused_by_field() {
        assert_eq!(
            compile(&ret(|r| r.yearly = Some(3))).unwrap_err().field,
            "spec.retention.yearly"
        );
        let e = compile(&ret(|r| {
            r.keep_last = Some(5);
            r.daily = Some(7);
        }))
        .unwrap_err();
        assert_eq!(e.field, "spec.retention.keepLast");
    }

    #[test]
    fn native_rules_keep_their_order_and_units() {
        let rules = vec![
            CyberBackupRetentionRule {
                backup_set: Some(CyberBackupRetentionSet::Weekly),
                max_age_count: Some(4),
                max_age_unit: Some(CyberBackupAgeUnit::Hours),
                ..Default::default()
            },
            CyberBackupRetentionRule {
                max_count: Some(3),
                ..Default::default()
            },
        ];
        let v = from_native(&rules).unwrap();
        assert_eq!(
            v["rules"],
            json!([{"backup_set": "WEEKLY", "max_age": {"count": 4, "type": "HOURS"}}, {"max_count": 3}])
        );
        assert_eq!(from_native(&[]), None);
    }
}
