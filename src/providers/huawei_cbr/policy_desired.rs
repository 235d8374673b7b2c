//! The CBR policy a Policy spec asks for (portable schedule and retention compiled, or the
//! native form), and how an observed policy differs from it. Pure; `now` is a parameter
//! because a time zone's offset (and so the UTC patterns) depends on the date.

use jiff::Timestamp;

use super::models::{
    OperationDefinition, Policy, PolicyCreate, PolicyUpdate, TriggerPatterns, TriggerRequest,
};
use super::schedule::{
    ScheduleError, normalize_patterns, retention_to_definition, schedule_to_patterns,
};
use crate::api::common::Drift;
use crate::api::policy::PolicyObservation;
use crate::api::vendors::huawei_cbr::{CbrOperationDefinition, CbrOperationType};
use crate::api::{Policy as PolicyCr, PolicySpec};
use crate::engine::external::{ExternalError, ExternalResult};

/// CBR's name limit and alphabet (`[A-Za-z0-9_-]{1,64}`).
const NAME_MAX: usize = 64;

/// The deterministic name rampart gives a policy it creates: namespace and name (sanitised),
/// then the ownership marker, so it is readable and unique per cluster.
pub fn default_policy_name(namespace: &str, name: &str, marker: &str) -> String {
    let suffix = format!("-{}", &marker[..marker.len().min(8)]);
    let base: String = format!("{namespace}-{name}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(NAME_MAX - suffix.len())
        .collect();
    format!("{base}{suffix}")
}

/// The whole policy as rampart sends it.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredPolicy {
    pub name: String,
    /// The name is the one rampart derives from the ownership marker (the user chose none).
    pub name_carries_marker: bool,
    pub enabled: bool,
    pub operation_type: CbrOperationType,
    pub patterns: Vec<String>,
    pub definition: OperationDefinition,
}

fn schedule_error(e: ScheduleError) -> ExternalError {
    ExternalError::invalid(format!("spec.schedule.{}", e.spec_field()), e.to_string())
}

fn native_definition(d: &CbrOperationDefinition) -> OperationDefinition {
    OperationDefinition {
        max_backups: d.max_backups.map(i64::from),
        retention_duration_days: d.retention_duration_days.map(i64::from),
        day_backups: d.day_backups.map(i64::from),
        week_backups: d.week_backups.map(i64::from),
        month_backups: d.month_backups.map(i64::from),
        year_backups: d.year_backups.map(i64::from),
        timezone: d.timezone.clone(),
        full_backup_interval: None,
    }
}

impl DesiredPolicy {
    pub fn from_spec(cr: &PolicyCr, marker: &str, now: Timestamp) -> ExternalResult<Self> {
        let spec: &PolicySpec = &cr.spec;
        let cbr = spec.huawei_cbr.as_ref().ok_or_else(|| {
            ExternalError::invalid("spec.huaweiCbr", "required for a HuaweiCbr provider")
        })?;
        let patterns = match (&cbr.pattern, &spec.schedule) {
            (Some(native), _) => native.clone(),
            (None, Some(schedule)) => {
                schedule_to_patterns(schedule, now).map_err(schedule_error)?
            }
            (None, None) => {
                return Err(ExternalError::invalid(
                    "spec.schedule",
                    "a huaweiCbr policy needs spec.schedule or spec.huaweiCbr.pattern",
                ));
            }
        };
        let mut definition = match (&cbr.operation_definition, &spec.retention) {
            (Some(native), _) => native_definition(native),
            (None, Some(retention)) => {
                let zone = spec.schedule.as_ref().and_then(|s| s.time_zone.as_deref());
                retention_to_definition(retention, zone, now)
                    .map_err(|e| ExternalError::invalid("spec.retention", e.to_string()))?
            }
            (None, None) => {
                return Err(ExternalError::invalid(
                    "spec.retention",
                    "a huaweiCbr policy needs spec.retention or spec.huaweiCbr.operationDefinition",
                ));
            }
        };
        definition.full_backup_interval = cbr.full_backup_interval.map(i64::from);
        let namespace = cr.metadata.namespace.as_deref().unwrap_or_default();
        let name = cr.metadata.name.as_deref().unwrap_or_default();
        Ok(DesiredPolicy {
            name_carries_marker: cbr.name.is_none(),
            name: cbr
                .name
                .clone()
                .unwrap_or_else(|| default_policy_name(namespace, name, marker)),
            enabled: spec.enabled.unwrap_or(true),
            operation_type: cbr.operation_type,
            patterns: normalize_patterns(&patterns),
            definition,
        })
    }

    fn trigger(&self) -> TriggerRequest {
        TriggerRequest {
            properties: TriggerPatterns {
                pattern: self.patterns.clone(),
            },
        }
    }

    pub fn create_request(&self) -> PolicyCreate {
        PolicyCreate {
            name: self.name.clone(),
            operation_type: super::models::enum_text(&self.operation_type),
            enabled: Some(self.enabled),
            operation_definition: self.definition.clone(),
            trigger: self.trigger(),
        }
    }

    /// The full object: CBR replaces `operation_definition` wholesale on update.
    pub fn update_request(&self) -> PolicyUpdate {
        PolicyUpdate {
            name: Some(self.name.clone()),
            enabled: Some(self.enabled),
            operation_definition: Some(self.definition.clone()),
            trigger: Some(self.trigger()),
        }
    }

    pub fn drift(&self, observed: &Policy) -> Vec<Drift> {
        let mut d = Vec::new();
        let mut push = |field: &str, desired: String, seen: String| {
            d.push(Drift {
                field: field.into(),
                desired,
                observed: seen,
            })
        };
        if observed.name != self.name {
            push(
                "spec.huaweiCbr.name",
                json(&self.name),
                json(&observed.name),
            );
        }
        let enabled = observed.enabled.unwrap_or(true);
        if enabled != self.enabled {
            push(
                "spec.enabled",
                self.enabled.to_string(),
                enabled.to_string(),
            );
        }
        let seen = normalize_patterns(observed.patterns());
        if seen != self.patterns {
            push("spec.schedule", json(&self.patterns), json(&seen));
        }
        if observed.operation_definition != self.definition {
            push(
                "spec.retention",
                json(&self.definition),
                json(&observed.operation_definition),
            );
        }
        d
    }
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// `status.atProvider` of a policy.
pub fn observation(p: &Policy) -> PolicyObservation {
    let mut details = std::collections::BTreeMap::new();
    if let Ok(def) = serde_json::to_string(&p.operation_definition) {
        details.insert("operationDefinition".to_string(), def);
    }
    if let Some(t) = &p.operation_type {
        details.insert("operationType".to_string(), t.clone());
    }
    PolicyObservation {
        id: Some(p.id.clone()),
        name: Some(p.name.clone()),
        enabled: p.enabled,
        vendor_schedule: p.patterns().to_vec(),
        associated_vaults: p
            .associated_vaults
            .iter()
            .map(|a| a.vault_id.clone())
            .collect(),
        details,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cr(spec: serde_json::Value) -> PolicyCr {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "rampart.dev/v1alpha1", "kind": "Policy",
            "metadata": {"name": "nightly", "namespace": "team-a"},
            "spec": spec
        }))
        .unwrap()
    }

    fn now() -> Timestamp {
        "2026-01-15T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn default_name_is_readable_valid_and_bounded() {
        let n = default_policy_name("team-a", "nightly.backup", "0123456789abcdef");
        assert_eq!(n, "team-a-nightly_backup-01234567");
        let long = default_policy_name(&"n".repeat(63), &"x".repeat(63), "0123456789abcdef");
        assert_eq!(long.len(), 64);
        assert!(long.ends_with("-01234567"));
        assert!(
            long.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        );
    }

    #[test]
    fn portable_schedule_and_retention_compile_in_the_zone() {
        let p = cr(serde_json::json!({
            "providerConfigRef": {"name": "cbr"},
            "schedule": {"cron": "30 2 * * *", "timeZone": "Europe/Moscow"},
            "retention": {"keepDays": 30, "weekly": 4},
            "huaweiCbr": {}
        }));
        let d = DesiredPolicy::from_spec(&p, "0123456789abcdef", now()).unwrap();
        // 02:30 in Moscow (UTC+3) is 23:30 UTC the day before: every day either way.
        assert_eq!(
            d.patterns,
            vec!["FREQ=DAILY;INTERVAL=1;BYHOUR=23;BYMINUTE=30"]
        );
        assert_eq!(d.definition.retention_duration_days, Some(30));
        assert_eq!(d.definition.week_backups, Some(4));
        assert_eq!(d.definition.timezone.as_deref(), Some("UTC+03:00"));
        assert!(d.enabled);
    }

    #[test]
    fn native_form_is_used_as_given() {
        let p = cr(serde_json::json!({
            "providerConfigRef": {"name": "cbr"}, "enabled": false,
            "huaweiCbr": {"name": "mine", "pattern": ["FREQ=WEEKLY;BYDAY=MO;BYHOUR=1;BYMINUTE=0"], "operationDefinition": {"maxBackups": 7}, "fullBackupInterval": 5}
        }));
        let d = DesiredPolicy::from_spec(&p, "m", now()).unwrap();
        assert_eq!(d.name, "mine");
        assert!(!d.enabled);
        assert_eq!(d.definition.max_backups, Some(7));
        assert_eq!(d.definition.full_backup_interval, Some(5));
        let c = d.create_request();
        assert_eq!(c.operation_type, "backup");
        assert_eq!(c.trigger.properties.pattern.len(), 1);
    }

    #[test]
    fn an_inexpressible_schedule_names_the_field() {
        let p = cr(serde_json::json!({
            "providerConfigRef": {"name": "cbr"},
            "schedule": {"cron": "0 3 1 * *"}, "retention": {"keepLast": 3}, "huaweiCbr": {}
        }));
        match DesiredPolicy::from_spec(&p, "m", now()) {
            Err(ExternalError::InvalidSpec { field, message }) => {
                assert_eq!(field, "spec.schedule.cron");
                assert!(message.contains("day of month"), "{message}");
            }
            other => panic!("expected InvalidSpec, got {other:?}"),
        }
    }

    #[test]
    fn drift_is_reported_per_field() {
        let p = cr(serde_json::json!({
            "providerConfigRef": {"name": "cbr"},
            "schedule": {"cron": "0 1 * * *"}, "retention": {"keepLast": 3}, "huaweiCbr": {"name": "pol"}
        }));
        let d = DesiredPolicy::from_spec(&p, "m", now()).unwrap();
        let mut seen = Policy {
            id: "p1".into(),
            name: "pol".into(),
            enabled: Some(true),
            operation_definition: d.definition.clone(),
            ..Default::default()
        };
        seen.trigger.properties.pattern = d.patterns.clone();
        assert!(d.drift(&seen).is_empty());
        seen.enabled = Some(false);
        seen.operation_definition.max_backups = Some(9);
        seen.trigger.properties.pattern = vec!["FREQ=DAILY;INTERVAL=1;BYHOUR=5;BYMINUTE=0".into()];
        let fields: Vec<String> = d.drift(&seen).into_iter().map(|x| x.field).collect();
        assert_eq!(fields, ["spec.enabled", "spec.schedule", "spec.retention"]);
    }
}
