//! A protection plan and its applications as the Policy's status shows them: drift field by
//! field, readiness from the deployment states, and `atProvider`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::models::{Application, Plan, meaningful_time, plan_id};
use super::schedule;
use super::settings::{DesiredPlan, differing_sections, dropped_but_held};
use crate::api::common::Drift;
use crate::api::policy::{OnDemandRun, PolicyApplication, PolicyObservation};
use crate::api::vendors::cyberbackup::{
    CyberBackupScheduleType, CyberBackupSet, CyberBackupTimeOfDay, CyberBackupWeekday,
};
use crate::engine::external::Readiness;

pub const TARGETS_FIELD: &str = "spec.cyberBackup.targets";

/// The details key that lists the settings rampart wrote and remembers (a JSON array of
/// pointers into `settings`).
pub const MANAGED_SETTINGS: &str = "managedSettings";

/// What a dropped setting is reported as wanting.
pub const NOT_CLEARABLE: &str = "unset (Cyber Backup has no documented way to clear this setting: set it again, or clear it in the console)";

/// The drift field of a plan switched on or off on one target.
pub fn target_enabled_field(context: &str) -> String {
    format!("spec.enabled[{context}]")
}

fn text(v: &Value) -> String {
    v.to_string()
}

fn drift(field: &str, desired: Value, observed: Value) -> Drift {
    Drift {
        field: field.to_string(),
        desired: text(&desired),
        observed: text(&observed),
    }
}

/// Every difference between the plan rampart wants and the one the vendor holds.
pub fn plan_drift(
    desired: &DesiredPlan,
    plan: &Plan,
    wanted: &BTreeSet<String>,
    apps: &[Application],
) -> Vec<Drift> {
    let applied = super::targets::applied(apps);
    let mut out = Vec::new();
    if plan.type_ != desired.type_ {
        out.push(drift(
            "spec.cyberBackup.type",
            json!(desired.type_),
            json!(plan.type_),
        ));
    }
    if plan.name != desired.name {
        out.push(drift(
            "spec.cyberBackup.name",
            json!(desired.name),
            json!(plan.name),
        ));
    }
    if plan.enabled != desired.enabled {
        out.push(drift(
            "spec.enabled",
            json!(desired.enabled),
            json!(plan.enabled),
        ));
    }
    for (section, want, have) in differing_sections(desired, &plan.settings) {
        out.push(drift(&section.field, want, have));
    }
    for (section, have) in dropped_but_held(desired, &plan.settings) {
        out.push(Drift {
            field: section.field.clone(),
            desired: NOT_CLEARABLE.to_string(),
            observed: text(&have),
        });
    }
    if *wanted != applied {
        out.push(drift(TARGETS_FIELD, json!(wanted), json!(applied)));
    }
    // Every application runs when the plan does: one switched off on a device (in the
    // console, `context_ids` of L3661) leaves that device unprotected. While the plan itself
    // is switched the wrong way, that one difference says it all.
    let devices = if plan.enabled == desired.enabled {
        switched(desired.enabled, apps)
    } else {
        Vec::new()
    };
    for c in devices {
        out.push(drift(
            &target_enabled_field(&c),
            json!(desired.enabled),
            json!(!desired.enabled),
        ));
    }
    out
}

/// The contexts whose application is switched the other way from `enabled`.
pub fn switched(enabled: bool, apps: &[Application]) -> Vec<String> {
    let mut out: Vec<String> = apps
        .iter()
        .filter(|a| a.enabled == Some(!enabled))
        .map(|a| a.context.id.to_ascii_lowercase())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The pointers to keep remembering: the remembered settings the spec sets, and the dropped
/// ones the vendor still holds.
pub fn remembered_settings(desired: &DesiredPlan, settings: &Value) -> Vec<String> {
    let mut out = desired.remembered();
    out.extend(
        dropped_but_held(desired, settings)
            .into_iter()
            .map(|(s, _)| s.pointer.clone()),
    );
    out.sort();
    out.dedup();
    out
}

/// The remembered pointers a Policy's status lists.
pub fn written_settings(at: Option<&PolicyObservation>) -> Vec<String> {
    at.and_then(|a| a.details.get(MANAGED_SETTINGS))
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_default()
}

/// Ready when every wanted target's applications are deployed and every named resource exists.
pub fn readiness(
    wanted: &BTreeSet<String>,
    apps: &[Application],
    unresolved: &[String],
) -> Readiness {
    if !unresolved.is_empty() {
        return Readiness::Creating(format!(
            "waiting for resources to register with Cyber Backup: {}",
            unresolved.join(", ")
        ));
    }
    let deploying: BTreeSet<String> = apps
        .iter()
        .filter(|a| a.deployment_state().as_deref() != Some("DEPLOYED"))
        .flat_map(Application::applied_contexts)
        .filter(|c| wanted.contains(c))
        .collect();
    let missing = wanted
        .iter()
        .filter(|w| !apps.iter().any(|a| a.applied_contexts().contains(w)))
        .count();
    if deploying.is_empty() && missing == 0 {
        Readiness::Available
    } else {
        Readiness::Creating(format!(
            "deploying the plan to {} of {} targets",
            deploying.len() + missing,
            wanted.len()
        ))
    }
}

/// The backup sets the vendor holds, in the short form `DAILY MON,TUE 09:00`.
pub fn schedule_summaries(settings: &Value) -> Vec<String> {
    let sets = settings
        .pointer("/scheduling/backup_sets")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    sets.iter()
        .filter_map(|set| parse_backup_set(set).map(|c| schedule::from_native(&c).summary()))
        .collect()
}

/// Read a vendor backup set back into the native form (unknown shapes are skipped).
fn parse_backup_set(set: &Value) -> Option<CyberBackupSet> {
    let s = set.get("schedule")?;
    let time = s.pointer("/alarms/time")?;
    let schedule_type: CyberBackupScheduleType =
        serde_json::from_value(s.get("type")?.clone()).ok()?;
    let ints = |key: &str| -> Option<Vec<i32>> {
        time.get(key)?.as_array().map(|a| {
            a.iter()
                .filter_map(Value::as_i64)
                .map(|n| n as i32)
                .collect()
        })
    };
    let weekdays: Option<Vec<CyberBackupWeekday>> = time
        .get("weekdays")
        .and_then(|w| serde_json::from_value(w.clone()).ok());
    let repeat_at = time
        .get("repeat_at")?
        .as_array()?
        .iter()
        .map(|t| CyberBackupTimeOfDay {
            hour: t.get("hour").and_then(Value::as_i64).unwrap_or(0) as i32,
            minute: t.get("minute").and_then(Value::as_i64).unwrap_or(0) as i32,
        })
        .collect();
    Some(CyberBackupSet {
        set_type: set
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("AUTO")
            .to_string(),
        schedule_type,
        weekdays,
        monthdays: ints("monthdays"),
        months: ints("months"),
        repeat_at,
    })
}

/// Where the plan writes: the registered credentials id when it names one, else the location
/// name or path (the Vault's external name in both cases).
fn destination_id(settings: &Value) -> Option<String> {
    let s = settings.pointer("/destination/location/settings")?;
    let field = |k: &str| {
        s.get(k)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    field("credentials")
        .or_else(|| field("name"))
        .or_else(|| field("path"))
}

fn application(a: &Application) -> PolicyApplication {
    PolicyApplication {
        target: a.context.id.to_ascii_lowercase(),
        target_type: a.context.type_.clone(),
        enabled: a.enabled,
        deployment: a.deployment_state(),
        running: a.running_state(),
        progress: a.progress(),
        status: a.status_text(),
        last_success: meaningful_time(a.last_success_time.as_deref()),
        next_run: meaningful_time(a.next_run_time.as_deref()),
    }
}

fn latest<'a>(times: impl Iterator<Item = &'a str>, pick_max: bool) -> Option<String> {
    let parsed = times
        .filter_map(|t| meaningful_time(Some(t)))
        .filter_map(|t| t.parse::<jiff::Timestamp>().ok().map(|ts| (ts, t)));
    let best = if pick_max {
        parsed.max_by_key(|(ts, _)| *ts)
    } else {
        parsed.min_by_key(|(ts, _)| *ts)
    };
    best.map(|(_, t)| t)
}

/// `status.atProvider` of a Policy.
pub fn observation(
    plan: &Plan,
    apps: &[Application],
    last_run: Option<OnDemandRun>,
    warnings: &[String],
    remembered: &[String],
) -> PolicyObservation {
    let mut details = BTreeMap::new();
    if !remembered.is_empty() {
        details.insert(MANAGED_SETTINGS.to_string(), json!(remembered).to_string());
    }
    details.insert("type".to_string(), plan.type_.clone());
    for (key, value) in [
        ("planHash", &plan.plan_hash),
        ("features", &plan.is_features),
        ("updatedAt", &plan.updated_at),
    ] {
        if let Some(v) = value.as_ref().filter(|v| !v.is_empty()) {
            details.insert(key.to_string(), v.clone());
        }
    }
    if !warnings.is_empty() {
        details.insert("vendorWarnings".to_string(), warnings.join("; "));
    }
    let mut applications: Vec<PolicyApplication> = apps.iter().map(application).collect();
    applications.sort_by(|a, b| a.target.cmp(&b.target));
    PolicyObservation {
        id: Some(plan_id(&plan.id)),
        name: Some(plan.name.clone()),
        enabled: Some(plan.enabled),
        vendor_schedule: schedule_summaries(&plan.settings),
        associated_vaults: destination_id(&plan.settings).into_iter().collect(),
        last_success: latest(
            apps.iter().filter_map(|a| a.last_success_time.as_deref()),
            true,
        ),
        next_run: latest(
            apps.iter().filter_map(|a| a.next_run_time.as_deref()),
            false,
        ),
        details,
        applications,
        last_run,
    }
}

#[cfg(test)]
mod tests;
