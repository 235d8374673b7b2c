use super::*;
use serde_json::json;

fn spec(v: Value) -> PolicySpec {
    let mut full = json!({"providerConfigRef": {"name": "cb"}});
    merge(&mut full, &v);
    serde_json::from_value(full).unwrap()
}

fn location() -> Value {
    json!({"type": "VAULT", "settings": {"name": "customer-dg09", "storage_type": "LOCAL_FOLDER", "uri": "E:", "use_policy_credentials": true}})
}

fn compile(
    s: &PolicySpec,
    location: Option<Value>,
    agent_zone: &str,
) -> Result<DesiredPlan, FieldError> {
    desired_plan(&PlanInputs {
        namespace: "prod",
        name: "nightly",
        marker: "m1",
        spec: s,
        block: s.cyber_backup.as_ref().unwrap(),
        location,
        agent_time_zone: agent_zone,
        now: "2025-01-01T00:00:00Z".parse().unwrap(),
        written: &[],
    })
}

fn nightly() -> PolicySpec {
    spec(json!({
        "schedule": {"cron": "0 9 * * 1-3"},
        "retention": {"keepLast": 7},
        "cyberBackup": {"type": "policy.backup.machine", "scheme": "WEEKLY_FULL_DAILY_INCREMENTAL", "weeklyBackupDay": "MON",
                        "randomDelayMinutes": 30, "archive": {"compression": "MAX", "format": "12", "splitSizeBytes": 214748364800_i64}}
    }))
}

#[test]
fn the_whole_machine_example_is_what_the_spec_compiles_to() {
    let d = compile(&nightly(), Some(location()), "UTC").unwrap();
    assert_eq!(d.name, "prod/nightly [rampart:m1]");
    assert_eq!(d.type_, "policy.backup.machine");
    assert!(d.enabled);
    // The document's §2.10.3.6 machine example, restricted to what rampart manages.
    let example = json!({
        "archive": {"compression": "MAX", "format": "12", "splitting": {"size": 214748364800_i64}},
        "destination": {
            "location": location(),
            "retention": {"execution": "AFTER_BACKUP", "rules": [{"max_count": 7}]}
        },
        "scheduling": {
            "backup_sets": [{"schedule": {"alarms": {"time": {"repeat_at": [{"hour": 9, "minute": 0}], "weekdays": ["MON", "TUE", "WED"]}}, "type": "DAILY"}, "type": "AUTO"}],
            "enabled": true,
            "rand_max_delay": {"count": 30, "type": "MINUTES"},
            "scheme": "WEEKLY_FULL_DAILY_INCREMENTAL",
            "weekly_backup_day": "MON"
        }
    });
    assert_eq!(d.settings, example);
    let fields: Vec<(&str, bool)> = d
        .sections
        .iter()
        .map(|s| (s.field.as_str(), s.remembered))
        .collect();
    assert_eq!(
        fields,
        vec![
            ("spec.schedule", false),
            ("spec.schedule", false),
            ("spec.cyberBackup.scheme", false),
            ("spec.cyberBackup.weeklyBackupDay", false),
            ("spec.cyberBackup.randomDelayMinutes", false),
            ("spec.vaultRef", false),
            ("spec.retention", false),
            ("spec.cyberBackup.archive.compression", true),
            ("spec.cyberBackup.archive.format", true),
            ("spec.cyberBackup.archive.split", true)
        ]
    );
    assert!(d.dropped.is_empty());
}

#[test]
fn what_the_spec_leaves_out_is_sent_as_none_where_the_document_can_say_none() {
    let bare = spec(json!({"cyberBackup": {"type": "policy.backup.machine"}}));
    let d = compile(&bare, Some(location()), "UTC").unwrap();
    assert_eq!(
        d.settings["scheduling"],
        json!({"enabled": false, "backup_sets": [], "scheme": "ALWAYS_INCREMENTAL",
               "weekly_backup_day": "MON", "rand_max_delay": {"count": 0, "type": "MINUTES"}}),
        "no schedule, no random delay"
    );
    assert_eq!(
        d.settings["destination"]["retention"],
        json!({"execution": "AFTER_BACKUP", "rules": []}),
        "no retention keeps every backup"
    );
    // A plan that had retention rules and a delay, now removed from the spec: drift, each
    // corrected by sending the "none".
    let mut vendor = compile(&nightly(), Some(location()), "UTC")
        .unwrap()
        .settings;
    vendor["scheduling"]["max_parallel_backups"] = json!(2);
    let fields: Vec<&str> = differing_sections(&d, &vendor)
        .iter()
        .map(|(s, _, _)| s.field.as_str())
        .collect();
    assert_eq!(
        fields,
        vec![
            "spec.schedule",
            "spec.cyberBackup.scheme",
            "spec.cyberBackup.randomDelayMinutes",
            "spec.retention"
        ]
    );
    assert!(
        dropped_but_held(&d, &vendor).is_empty(),
        "a setting rampart never wrote is the vendor's own"
    );
}

#[test]
fn a_remembered_setting_the_spec_drops_is_reported_while_the_vendor_holds_it() {
    let bare = spec(json!({"cyberBackup": {"type": "policy.backup.machine"}}));
    let written = [
        "/scheduling/max_parallel_backups".to_string(),
        "/archive/compression".to_string(),
        "/vss/provider".to_string(),
    ];
    let d = desired_plan(&PlanInputs {
        namespace: "prod",
        name: "nightly",
        marker: "m1",
        spec: &bare,
        block: bare.cyber_backup.as_ref().unwrap(),
        location: Some(location()),
        agent_time_zone: "UTC",
        now: "2025-01-01T00:00:00Z".parse().unwrap(),
        written: &written,
    })
    .unwrap();
    let fields: Vec<&str> = d.dropped.iter().map(|s| s.field.as_str()).collect();
    assert_eq!(
        fields,
        vec![
            "spec.cyberBackup.maxParallelBackups",
            "spec.cyberBackup.archive.compression",
            "spec.cyberBackup.settingsOverrides.vss.provider"
        ]
    );
    let vendor =
        json!({"scheduling": {"max_parallel_backups": 2}, "archive": {"compression": null}});
    let held: Vec<(&str, Value)> = dropped_but_held(&d, &vendor)
        .into_iter()
        .map(|(s, v)| (s.field.as_str(), v))
        .collect();
    assert_eq!(
        held,
        vec![("spec.cyberBackup.maxParallelBackups", json!(2))]
    );
}

#[test]
fn the_vendor_example_with_its_extra_keys_holds_the_desired_settings() {
    let d = compile(&nightly(), Some(location()), "UTC").unwrap();
    let mut vendor = d.settings.clone();
    // What the vendor adds: owner ids, tapes, `second: null`, `conditions: {}`.
    merge(
        &mut vendor,
        &json!({"owner_id": "32e95e91", "tapes": {"devices": null}, "vss": {"enabled": true}}),
    );
    vendor["scheduling"]["backup_sets"][0]["schedule"]["conditions"] = json!({});
    vendor["scheduling"]["backup_sets"][0]["schedule"]["alarms"]["time"]["repeat_at"][0]["second"] =
        Value::Null;
    vendor["destination"]["performance_window"] = json!({"enabled": false});
    assert!(differing_sections(&d, &vendor).is_empty());
}

#[test]
fn an_extra_key_in_the_destination_matters_and_a_null_does_not() {
    let d = compile(&nightly(), Some(location()), "UTC").unwrap();
    let mut vendor = d.settings.clone();
    vendor["destination"]["location"]["settings"]["credentials_left_over"] = Value::Null;
    assert!(
        differing_sections(&d, &vendor).is_empty(),
        "a null is no value"
    );
    vendor["destination"]["location"]["settings"]["path"] = json!("F:/old/");
    let drift = differing_sections(&d, &vendor);
    assert_eq!(drift.len(), 1);
    assert_eq!(drift[0].0.field, "spec.vaultRef");
    assert!(same(&json!({"a": 1, "b": null}), &json!({"a": 1.0})));
    assert!(!same(&json!({"a": 1, "b": 2}), &json!({"a": 1})));
}

#[test]
fn one_drift_per_spec_field() {
    let d = compile(&nightly(), Some(location()), "UTC").unwrap();
    let mut vendor = d.settings.clone();
    vendor["scheduling"]["backup_sets"][0]["schedule"]["alarms"]["time"]["weekdays"] =
        json!(["MON"]);
    vendor["scheduling"]["enabled"] = json!(false);
    vendor["archive"]["compression"] = json!("NORMAL");
    let drift = differing_sections(&d, &vendor);
    let fields: Vec<&str> = drift.iter().map(|(s, _, _)| s.field.as_str()).collect();
    assert_eq!(
        fields,
        vec!["spec.schedule", "spec.cyberBackup.archive.compression"]
    );
    assert_eq!(drift[1].1, json!("MAX"));
    assert_eq!(drift[1].2, json!("NORMAL"));
}

#[test]
fn a_removed_managed_key_is_drift() {
    let d = compile(&nightly(), Some(location()), "UTC").unwrap();
    let mut vendor = d.settings.clone();
    vendor["destination"]
        .as_object_mut()
        .unwrap()
        .remove("retention");
    let drift = differing_sections(&d, &vendor);
    assert_eq!(drift[0].0.field, "spec.retention");
    assert_eq!(drift[0].2, Value::Null);
}

#[test]
fn overrides_merge_last_and_are_managed_leaf_by_leaf() {
    let s = spec(json!({
        "schedule": {"cron": "0 1 * * *"},
        "cyberBackup": {"type": "policy.backup.mssql", "archive": {"compression": "HIGH"},
                        "settingsOverrides": {"archive": {"compression": "MAX"}, "vss": {"enabled": true, "provider": "TARGET_SYSTEM_DEFINED"}, "cbt": "DO_NOT_USE", "file_filters": {}}}
    }));
    let d = compile(&s, Some(location()), "UTC").unwrap();
    assert_eq!(d.settings["archive"]["compression"], "MAX", "overrides win");
    assert_eq!(d.settings["vss"]["provider"], "TARGET_SYSTEM_DEFINED");
    let fields: Vec<&str> = d.sections.iter().map(|s| s.field.as_str()).collect();
    for f in [
        "spec.cyberBackup.settingsOverrides.archive.compression",
        "spec.cyberBackup.settingsOverrides.vss.enabled",
        "spec.cyberBackup.settingsOverrides.cbt",
        "spec.cyberBackup.settingsOverrides.file_filters",
    ] {
        assert!(fields.contains(&f), "{f} in {fields:?}");
    }
    let mut vendor = d.settings.clone();
    vendor["vss"]["provider"] = json!("NATIVE");
    let drift = differing_sections(&d, &vendor);
    assert_eq!(drift.len(), 1);
    assert_eq!(
        drift[0].0.field,
        "spec.cyberBackup.settingsOverrides.vss.provider"
    );
}

#[test]
fn an_override_may_supply_the_destination_instead_of_a_vault() {
    let s = spec(
        json!({"cyberBackup": {"type": "policy.backup.files", "settingsOverrides": {"destination": {"location": {"type": "LOCAL_FOLDER_TEMPLATE", "settings": {"path": "F:/b/"}}}}}}),
    );
    let d = compile(&s, None, "UTC").unwrap();
    assert_eq!(
        d.settings["destination"]["location"]["settings"]["path"],
        "F:/b/"
    );
    assert_eq!(
        (
            &d.settings["scheduling"]["enabled"],
            &d.settings["scheduling"]["backup_sets"]
        ),
        (&json!(false), &json!([])),
        "no schedule: on demand only"
    );
}

#[test]
fn spec_problems_name_their_field() {
    let no_destination = spec(json!({"cyberBackup": {"type": "policy.backup.machine"}}));
    assert_eq!(
        compile(&no_destination, None, "UTC").unwrap_err().field,
        "spec.vaultRef"
    );
    let both = spec(
        json!({"schedule": {"cron": "0 1 * * *"}, "cyberBackup": {"type": "policy.backup.machine", "backupSets": [{"scheduleType": "DAILY", "weekdays": ["MON"], "repeatAt": [{"hour": 1, "minute": 0}]}]}}),
    );
    assert_eq!(
        compile(&both, Some(location()), "UTC").unwrap_err().field,
        "spec.cyberBackup.backupSets"
    );
    let bad_cron = spec(
        json!({"schedule": {"cron": "0 3 1 * 1"}, "cyberBackup": {"type": "policy.backup.machine"}}),
    );
    assert_eq!(
        compile(&bad_cron, Some(location()), "UTC")
            .unwrap_err()
            .field,
        "spec.schedule.cron"
    );
    let yearly =
        spec(json!({"retention": {"yearly": 2}, "cyberBackup": {"type": "policy.backup.machine"}}));
    assert_eq!(
        compile(&yearly, Some(location()), "UTC").unwrap_err().field,
        "spec.retention.yearly"
    );
    let both_ret = spec(
        json!({"retention": {"keepLast": 2}, "cyberBackup": {"type": "policy.backup.machine", "retentionRules": [{"maxCount": 3}]}}),
    );
    assert_eq!(
        compile(&both_ret, Some(location()), "UTC")
            .unwrap_err()
            .field,
        "spec.cyberBackup.retentionRules"
    );
    let dst = spec(
        json!({"schedule": {"cron": "0 3 * * *", "timeZone": "America/New_York"}, "cyberBackup": {"type": "policy.backup.machine"}}),
    );
    assert_eq!(
        compile(&dst, Some(location()), "UTC").unwrap_err().field,
        "spec.schedule.timeZone"
    );
}

#[test]
fn the_schedule_is_moved_into_the_agents_zone() {
    let s = spec(
        json!({"schedule": {"cron": "30 2 * * 1", "timeZone": "Europe/Moscow"}, "cyberBackup": {"type": "policy.backup.machine"}}),
    );
    let d = compile(&s, Some(location()), "UTC").unwrap();
    let time = &d.settings["scheduling"]["backup_sets"][0]["schedule"]["alarms"]["time"];
    assert_eq!(time["weekdays"], json!(["SUN"]));
    assert_eq!(time["repeat_at"], json!([{"hour": 23, "minute": 30}]));
    let same = compile(&s, Some(location()), "Europe/Moscow").unwrap();
    assert_eq!(
        same.settings["scheduling"]["backup_sets"][0]["schedule"]["alarms"]["time"]["repeat_at"],
        json!([{"hour": 2, "minute": 30}])
    );
}

#[test]
fn native_schedule_and_retention_name_their_own_fields() {
    let s = spec(
        json!({"enabled": false, "cyberBackup": {"type": "policy.backup.msexchange.doc", "name": "Mailboxes",
        "backupSets": [{"setType": "FULL", "scheduleType": "WEEKLY", "weekdays": ["MON", "FRI"], "repeatAt": [{"hour": 10, "minute": 15}]}],
        "retentionRules": [{"backupSet": "WEEKLY", "maxAgeCount": 4, "maxAgeUnit": "WEEKS"}]}}),
    );
    let d = compile(&s, Some(location()), "UTC").unwrap();
    assert_eq!(d.name, "Mailboxes [rampart:m1]");
    assert!(!d.enabled);
    assert_eq!(d.settings["scheduling"]["backup_sets"][0]["type"], "FULL");
    let fields: Vec<&str> = d.sections.iter().map(|s| s.field.as_str()).collect();
    assert!(
        fields.contains(&"spec.cyberBackup.backupSets")
            && fields.contains(&"spec.cyberBackup.retentionRules")
    );
}

#[test]
fn ownership_is_read_from_the_name_suffix() {
    assert!(is_owned("prod/nightly [rampart:m1]", "m1"));
    assert!(!is_owned("prod/nightly [rampart:m12]", "m1"));
    assert!(!is_owned("prod/nightly", "m1"));
}

#[test]
fn holds_compares_numbers_by_value_and_arrays_by_length() {
    assert!(holds(&json!(1.0), &json!(1)));
    assert!(!holds(&json!([1, 2]), &json!([1])));
    assert!(holds(&json!({"a": 1, "b": 2}), &json!({"a": 1})));
    assert!(!holds(&json!({"b": 2}), &json!({"a": 1})));
    assert!(holds(&json!({}), &json!({})));
}

#[test]
fn override_keys_with_slashes_get_escaped_pointers() {
    assert_eq!(
        pointer(&["a/b".to_string(), "c~d".to_string()]),
        "/a~1b/c~0d"
    );
}
