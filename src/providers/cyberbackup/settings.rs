//! A Policy's spec compiled into the protection plan rampart wants: its name (with the
//! ownership marker), type and `settings`; and the comparison of those settings with what the
//! vendor holds, section by section, each section named by the spec field it comes from.

use serde_json::{Map, Value, json};

use super::{retention, schedule};
use crate::api::policy::PolicySpec;
use crate::api::vendors::cyberbackup::{
    CyberBackupArchive, CyberBackupPolicy, CyberBackupScheme, CyberBackupWeekday,
};

/// A spec problem, naming the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    fn new(field: &str, message: impl Into<String>) -> Self {
        FieldError {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

/// One part of the settings rampart manages: a JSON pointer into `settings` and the spec field
/// it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub field: String,
    pub pointer: String,
}

/// The plan rampart wants.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredPlan {
    pub name: String,
    pub type_: &'static str,
    pub enabled: bool,
    pub settings: Value,
    pub sections: Vec<Section>,
}

/// What the compiler needs besides the spec.
pub struct PlanInputs<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    pub marker: &'a str,
    pub spec: &'a PolicySpec,
    pub block: &'a CyberBackupPolicy,
    /// `destination.location` from the referenced Vault.
    pub location: Option<Value>,
    /// The agents' IANA zone (provider setting).
    pub agent_time_zone: &'a str,
    /// When the compile happens (daylight-saving checks look one year ahead from here).
    pub now: jiff::Timestamp,
}

/// The suffix that marks a plan as this object's.
pub fn ownership_suffix(marker: &str) -> String {
    format!("[rampart:{marker}]")
}

/// Whether a vendor plan name carries this object's marker.
pub fn is_owned(plan_name: &str, marker: &str) -> bool {
    plan_name.trim_end().ends_with(&ownership_suffix(marker))
}

/// Compile the spec.
pub fn desired_plan(i: &PlanInputs<'_>) -> Result<DesiredPlan, FieldError> {
    let b = i.block;
    let display = b
        .name
        .clone()
        .unwrap_or_else(|| format!("{}/{}", i.namespace, i.name));
    let mut settings = Map::new();
    let mut sections = Vec::new();
    let mut section = |field: &str, pointer: &str| {
        sections.push(Section {
            field: field.into(),
            pointer: pointer.into(),
        })
    };

    let (scheduling, schedule_field) = scheduling(i)?;
    settings.insert("scheduling".into(), scheduling);
    section(schedule_field, "/scheduling/enabled");
    section(schedule_field, "/scheduling/backup_sets");
    section("spec.cyberBackup.scheme", "/scheduling/scheme");
    section(
        "spec.cyberBackup.weeklyBackupDay",
        "/scheduling/weekly_backup_day",
    );
    section(
        "spec.cyberBackup.randomDelayMinutes",
        "/scheduling/rand_max_delay",
    );
    section(
        "spec.cyberBackup.maxParallelBackups",
        "/scheduling/max_parallel_backups",
    );

    let mut destination = Map::new();
    let overrides_location = b
        .settings_overrides
        .as_ref()
        .and_then(|o| o.get("destination")?.get("location"))
        .is_some();
    match &i.location {
        Some(location) => {
            destination.insert("location".into(), location.clone());
            section("spec.vaultRef", "/destination/location");
        }
        None if overrides_location => {}
        None => {
            return Err(FieldError::new(
                "spec.vaultRef",
                "a Cyber Backup plan needs a destination: set spec.vaultRef to a Vault with a cyberBackup block",
            ));
        }
    }
    let (retention, retention_field) = retention_rules(i)?;
    if let Some(r) = retention {
        destination.insert("retention".into(), r);
        section(retention_field, "/destination/retention");
    }
    if !destination.is_empty() {
        settings.insert("destination".into(), Value::Object(destination));
    }
    if let Some(a) = b.archive.as_ref().map(archive).filter(|a| !a.is_empty()) {
        for (key, field) in [
            ("compression", "compression"),
            ("format", "format"),
            ("name", "nameTemplate"),
            ("splitting", "split"),
        ] {
            if a.contains_key(key) {
                section(
                    &format!("spec.cyberBackup.archive.{field}"),
                    &format!("/archive/{key}"),
                );
            }
        }
        settings.insert("archive".into(), Value::Object(a));
    }
    let mut settings = Value::Object(settings);
    if let Some(overrides) = &b.settings_overrides {
        let overrides = Value::Object(overrides.clone());
        for (path, _) in leaves(&overrides) {
            let dotted = path
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(".");
            section(
                &format!("spec.cyberBackup.settingsOverrides.{dotted}"),
                &pointer(&path),
            );
        }
        merge(&mut settings, &overrides);
    }
    // Sections only for what the settings hold (optional fields left unset are not managed).
    sections.retain(|s| settings.pointer(&s.pointer).is_some());
    Ok(DesiredPlan {
        name: format!("{display} {}", ownership_suffix(i.marker)),
        type_: b.type_.as_str(),
        enabled: i.spec.enabled.unwrap_or(true),
        settings,
        sections,
    })
}

fn scheduling(i: &PlanInputs<'_>) -> Result<(Value, &'static str), FieldError> {
    let b = i.block;
    let (compiled, field) = match (&i.spec.schedule, &b.backup_sets) {
        (Some(_), Some(_)) => {
            return Err(FieldError::new(
                "spec.cyberBackup.backupSets",
                "set spec.schedule or spec.cyberBackup.backupSets, not both",
            ));
        }
        (Some(s), None) => {
            let compiled =
                schedule::compile_cron(&s.cron).map_err(|e| FieldError::new(e.field, e.message))?;
            let from = s.time_zone.as_deref().unwrap_or("UTC");
            let compiled = if from == i.agent_time_zone {
                compiled
            } else {
                let minutes = schedule::fixed_shift_minutes(from, i.agent_time_zone, i.now)
                    .map_err(|e| FieldError::new(e.field, e.message))?;
                schedule::shift(compiled, minutes)
                    .map_err(|e| FieldError::new(e.field, e.message))?
            };
            (
                vec![json!({"type": "AUTO", "schedule": compiled.to_json()})],
                "spec.schedule",
            )
        }
        (None, Some(sets)) => (
            sets.iter()
                .map(
                    |s| json!({"type": s.set_type, "schedule": schedule::from_native(s).to_json()}),
                )
                .collect(),
            "spec.cyberBackup.backupSets",
        ),
        (None, None) => (Vec::new(), "spec.schedule"),
    };
    let mut out = Map::new();
    // A plan without a schedule runs only on demand.
    out.insert("enabled".into(), json!(!compiled.is_empty()));
    if !compiled.is_empty() {
        out.insert("backup_sets".into(), Value::Array(compiled));
    }
    out.insert(
        "scheme".into(),
        serde_json::to_value(b.scheme).expect("enum serializes"),
    );
    if b.scheme == CyberBackupScheme::WeeklyFullDailyIncremental {
        let day = b.weekly_backup_day.unwrap_or(CyberBackupWeekday::Mon);
        out.insert(
            "weekly_backup_day".into(),
            serde_json::to_value(day).expect("enum serializes"),
        );
    }
    if let Some(m) = b.random_delay_minutes {
        out.insert(
            "rand_max_delay".into(),
            json!({"count": m, "type": "MINUTES"}),
        );
    }
    if let Some(n) = b.max_parallel_backups {
        out.insert("max_parallel_backups".into(), json!(n));
    }
    Ok((Value::Object(out), field))
}

fn retention_rules(i: &PlanInputs<'_>) -> Result<(Option<Value>, &'static str), FieldError> {
    match (&i.spec.retention, &i.block.retention_rules) {
        (Some(_), Some(_)) => Err(FieldError::new(
            "spec.cyberBackup.retentionRules",
            "set spec.retention or spec.cyberBackup.retentionRules, not both",
        )),
        (Some(r), None) => {
            let v = retention::compile(r).map_err(|e| FieldError::new(e.field, e.message))?;
            Ok((v, "spec.retention"))
        }
        (None, Some(rules)) => Ok((
            retention::from_native(rules),
            "spec.cyberBackup.retentionRules",
        )),
        (None, None) => Ok((None, "spec.retention")),
    }
}

fn archive(a: &CyberBackupArchive) -> Map<String, Value> {
    let mut m = Map::new();
    if let Some(c) = a.compression {
        m.insert(
            "compression".into(),
            serde_json::to_value(c).expect("enum serializes"),
        );
    }
    if let Some(f) = &a.format {
        m.insert("format".into(), json!(f));
    }
    if let Some(n) = &a.name_template {
        m.insert("name".into(), json!(n));
    }
    match (a.split_size_bytes, a.auto_split) {
        (Some(size), _) => m.insert("splitting".into(), json!({"size": size})),
        (None, Some(true)) => m.insert("splitting".into(), json!({"auto": true})),
        _ => None,
    };
    m
}

/// Deep-merge `patch` into `base`: objects merge key by key, anything else replaces.
pub fn merge(base: &mut Value, patch: &Value) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                merge(b.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (b, p) => *b = p.clone(),
    }
}

/// Every leaf of an object (non-object values and empty objects) with its key path.
fn leaves(v: &Value) -> Vec<(Vec<String>, &Value)> {
    fn walk<'v>(v: &'v Value, path: &mut Vec<String>, out: &mut Vec<(Vec<String>, &'v Value)>) {
        match v {
            Value::Object(m) if !m.is_empty() => {
                for (k, child) in m {
                    path.push(k.clone());
                    walk(child, path, out);
                    path.pop();
                }
            }
            leaf => out.push((path.clone(), leaf)),
        }
    }
    let mut out = Vec::new();
    walk(v, &mut Vec::new(), &mut out);
    out
}

/// A JSON pointer (RFC 6901) for a key path.
fn pointer(path: &[String]) -> String {
    path.iter()
        .map(|k| format!("/{}", k.replace('~', "~0").replace('/', "~1")))
        .collect()
}

/// Whether `observed` holds everything `desired` says: objects may have more keys, arrays must
/// have the same length with each element holding its desired element, scalars are equal.
pub fn holds(observed: &Value, desired: &Value) -> bool {
    match (desired, observed) {
        (Value::Object(d), Value::Object(o)) => d
            .iter()
            .all(|(k, dv)| o.get(k).is_some_and(|ov| holds(ov, dv))),
        (Value::Array(d), Value::Array(o)) => {
            d.len() == o.len() && d.iter().zip(o).all(|(dv, ov)| holds(ov, dv))
        }
        (Value::Number(d), Value::Number(o)) => d.as_f64() == o.as_f64(),
        (d, o) => d == o,
    }
}

/// A section whose vendor value differs: (spec field, desired JSON, observed JSON). One entry
/// per spec field, in section order.
pub fn differing_sections<'d>(
    desired: &'d DesiredPlan,
    observed: &Value,
) -> Vec<(&'d Section, Value, Value)> {
    let mut out: Vec<(&Section, Value, Value)> = Vec::new();
    for s in &desired.sections {
        let want = desired
            .settings
            .pointer(&s.pointer)
            .cloned()
            .unwrap_or(Value::Null);
        let have = observed.pointer(&s.pointer).cloned().unwrap_or(Value::Null);
        if !holds(&have, &want) && !out.iter().any(|(o, _, _)| o.field == s.field) {
            out.push((s, want, have));
        }
    }
    out
}

/// The body of one `PATCH /policies/{id}` that brings the plan in line: the new name, if it
/// differs, and every top-level settings key holding a differing section, whole (so deep-merge
/// and replace semantics on the vendor side both converge). `None` when nothing differs.
pub fn patch_body(
    desired: &DesiredPlan,
    observed_name: &str,
    observed_settings: &Value,
) -> Option<Value> {
    let mut element = Map::new();
    if observed_name != desired.name {
        element.insert("name".into(), json!(desired.name));
    }
    let mut settings = Map::new();
    for (section, _, _) in differing_sections(desired, observed_settings) {
        let top = section
            .pointer
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or_default()
            .replace("~1", "/")
            .replace("~0", "~");
        if let Some(v) = desired.settings.get(&top) {
            settings.insert(top, v.clone());
        }
    }
    if !settings.is_empty() {
        element.insert("settings".into(), Value::Object(settings));
    }
    // The document's PATCH example sends `policy` as an array of partial policies.
    (!element.is_empty()).then(|| json!({"subject": {"policy": [Value::Object(element)]}}))
}

#[cfg(test)]
mod tests;
