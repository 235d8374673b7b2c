//! A Policy's spec compiled into the protection plan rampart wants: its name (with the
//! ownership marker), type and `settings`; and the comparison of those settings with what the
//! vendor holds, section by section, each section named by the spec field it comes from.
//!
//! A setting left out of the spec is a setting too. Where the document's shapes can say "none"
//! rampart always sends it: no schedule is `scheduling.enabled: false` with no backup sets, no
//! retention is an empty list of rules (keep every backup), no random delay is a delay of 0.
//! Where they cannot (`max_parallel_backups`, archive settings, `settingsOverrides` keys: the
//! document gives neither a default nor a way to clear them), rampart remembers that it wrote
//! the setting (`status.atProvider.details.managedSettings`), and once the spec drops it, a
//! value still at the vendor is reported as drift rather than silently left in force.

use serde_json::{Map, Value, json};

use super::{retention, schedule};
use crate::api::policy::PolicySpec;
use crate::api::vendors::cyberbackup::{CyberBackupArchive, CyberBackupPolicy, CyberBackupWeekday};

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

/// How a section is compared with the vendor's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    /// The vendor's value holds the desired one: objects may have more keys (the vendor adds
    /// defaults of its own).
    Holds,
    /// Equal: a key the vendor holds and rampart does not send matters (the old destination's
    /// `path` beside a new `uri`), and is removed.
    Exact,
}

/// One part of the settings rampart manages: a JSON pointer into `settings` and the spec field
/// it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub field: String,
    pub pointer: String,
    pub compare: Compare,
    /// Optional in the spec and without a documented "none": remembered once written.
    pub remembered: bool,
}

/// The plan rampart wants.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredPlan {
    pub name: String,
    pub type_: &'static str,
    pub enabled: bool,
    pub settings: Value,
    pub sections: Vec<Section>,
    /// Settings rampart wrote before that the spec no longer sets and the vendor cannot be told
    /// to forget (pointers into `settings`).
    pub dropped: Vec<Section>,
}

impl DesiredPlan {
    /// The pointers of the remembered sections the spec sets now.
    pub fn remembered(&self) -> Vec<String> {
        self.sections
            .iter()
            .filter(|s| s.remembered)
            .map(|s| s.pointer.clone())
            .collect()
    }
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
    /// Remembered settings rampart wrote (pointers, from status).
    pub written: &'a [String],
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
    let mut section = |field: &str, pointer: &str, compare: Compare, remembered: bool| {
        sections.push(Section {
            field: field.into(),
            pointer: pointer.into(),
            compare,
            remembered,
        })
    };
    use Compare::{Exact, Holds};

    let (scheduling, schedule_field) = scheduling(i)?;
    settings.insert("scheduling".into(), scheduling);
    section(schedule_field, "/scheduling/enabled", Holds, false);
    section(schedule_field, "/scheduling/backup_sets", Holds, false);
    section(
        "spec.cyberBackup.scheme",
        "/scheduling/scheme",
        Holds,
        false,
    );
    section(
        "spec.cyberBackup.weeklyBackupDay",
        "/scheduling/weekly_backup_day",
        Holds,
        false,
    );
    section(
        "spec.cyberBackup.randomDelayMinutes",
        "/scheduling/rand_max_delay",
        Exact,
        false,
    );
    section(
        "spec.cyberBackup.maxParallelBackups",
        "/scheduling/max_parallel_backups",
        Holds,
        true,
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
            section("spec.vaultRef", "/destination/location", Exact, false);
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
    destination.insert(
        "retention".into(),
        retention.unwrap_or_else(retention::keep_everything),
    );
    section(retention_field, "/destination/retention", Holds, false);
    settings.insert("destination".into(), Value::Object(destination));
    if let Some(a) = b.archive.as_ref().map(archive).filter(|a| !a.is_empty()) {
        settings.insert("archive".into(), Value::Object(a));
    }
    for (key, field, compare) in ARCHIVE_FIELDS {
        section(
            &format!("spec.cyberBackup.archive.{field}"),
            &format!("/archive/{key}"),
            compare,
            true,
        );
    }
    let mut settings = Value::Object(settings);
    if let Some(overrides) = &b.settings_overrides {
        let overrides = Value::Object(overrides.clone());
        for (path, _) in leaves(&overrides) {
            section(&override_field(&path), &pointer(&path), Holds, true);
        }
        merge(&mut settings, &overrides);
    }
    // Sections only for what the settings hold (optional fields left unset are not managed).
    sections.retain(|s| settings.pointer(&s.pointer).is_some());
    let dropped = i
        .written
        .iter()
        .filter(|w| !sections.iter().any(|s| &s.pointer == *w))
        .map(|w| Section {
            field: field_of(w),
            pointer: w.clone(),
            compare: Holds,
            remembered: true,
        })
        .collect();
    Ok(DesiredPlan {
        name: format!("{display} {}", ownership_suffix(i.marker)),
        type_: b.type_.as_str(),
        enabled: i.spec.enabled.unwrap_or(true),
        settings,
        sections,
        dropped,
    })
}

/// `settings.archive` keys, the spec fields they come from, and how they compare.
const ARCHIVE_FIELDS: [(&str, &str, Compare); 4] = [
    ("compression", "compression", Compare::Holds),
    ("format", "format", Compare::Holds),
    ("name", "nameTemplate", Compare::Holds),
    ("splitting", "split", Compare::Exact),
];

fn override_field(path: &[String]) -> String {
    format!("spec.cyberBackup.settingsOverrides.{}", path.join("."))
}

/// The spec field a remembered pointer came from.
pub fn field_of(pointer: &str) -> String {
    if pointer == "/scheduling/max_parallel_backups" {
        return "spec.cyberBackup.maxParallelBackups".into();
    }
    if let Some((_, field, _)) = ARCHIVE_FIELDS
        .iter()
        .find(|(key, _, _)| pointer == format!("/archive/{key}"))
    {
        return format!("spec.cyberBackup.archive.{field}");
    }
    let path: Vec<String> = pointer
        .trim_start_matches('/')
        .split('/')
        .map(|k| k.replace("~1", "/").replace("~0", "~"))
        .collect();
    override_field(&path)
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
    // A plan without a schedule runs only on demand: its schedule is off and has no sets (an
    // empty list, so that sets written before are gone under either PATCH reading).
    out.insert("enabled".into(), json!(!compiled.is_empty()));
    out.insert("backup_sets".into(), Value::Array(compiled));
    out.insert(
        "scheme".into(),
        serde_json::to_value(b.scheme).expect("enum serializes"),
    );
    // Every example carries a weekly day, whatever its scheme; MON is theirs.
    let day = b.weekly_backup_day.unwrap_or(CyberBackupWeekday::Mon);
    out.insert(
        "weekly_backup_day".into(),
        serde_json::to_value(day).expect("enum serializes"),
    );
    // No random delay is a delay of 0 (the shape the document shows, with nothing to spread).
    out.insert(
        "rand_max_delay".into(),
        json!({"count": b.random_delay_minutes.unwrap_or(0), "type": "MINUTES"}),
    );
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
/// have the same length with each element holding its desired element, scalars are equal. A
/// `null` at the vendor is no value.
pub fn holds(observed: &Value, desired: &Value) -> bool {
    match (desired, observed) {
        (Value::Object(d), Value::Object(o)) => d.iter().all(|(k, dv)| {
            let ov = o.get(k).unwrap_or(&Value::Null);
            holds(ov, dv)
        }),
        (Value::Array(d), Value::Array(o)) => {
            d.len() == o.len() && d.iter().zip(o).all(|(dv, ov)| holds(ov, dv))
        }
        (Value::Number(d), Value::Number(o)) => d.as_f64() == o.as_f64(),
        (d, o) => d == o,
    }
}

/// Whether `observed` is `desired` with nothing more (a `null` is no value).
pub fn same(observed: &Value, desired: &Value) -> bool {
    match (desired, observed) {
        (Value::Object(d), Value::Object(o)) => {
            let keys = |m: &Map<String, Value>| -> Vec<String> {
                m.iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, _)| k.clone())
                    .collect()
            };
            keys(d) == keys(o)
                && d.iter()
                    .filter(|(_, v)| !v.is_null())
                    .all(|(k, dv)| same(&o[k], dv))
        }
        (Value::Array(d), Value::Array(o)) => {
            d.len() == o.len() && d.iter().zip(o).all(|(dv, ov)| same(ov, dv))
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
        let matches = match s.compare {
            Compare::Holds => holds(&have, &want),
            Compare::Exact => same(&have, &want),
        };
        if !matches && !out.iter().any(|(o, _, _)| o.field == s.field) {
            out.push((s, want, have));
        }
    }
    out
}

/// Dropped settings the vendor still holds: (section, the vendor's value). rampart cannot
/// clear them; they are reported.
pub fn dropped_but_held<'d>(
    desired: &'d DesiredPlan,
    observed: &Value,
) -> Vec<(&'d Section, Value)> {
    desired
        .dropped
        .iter()
        .filter_map(|s| {
            observed
                .pointer(&s.pointer)
                .filter(|v| !v.is_null())
                .map(|v| (s, v.clone()))
        })
        .collect()
}

#[cfg(test)]
mod tests;
