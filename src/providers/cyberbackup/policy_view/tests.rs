use super::*;
use crate::providers::cyberbackup::settings::{Compare, Section};
use serde_json::json;

fn app(context: &str, deployment: &str, extra: Value) -> Application {
    let mut v = json!({"context": {"id": context, "type": "resource.machine"}, "policy": {"id": "P1"}, "deployment": {"state": deployment}});
    crate::providers::cyberbackup::settings::merge(&mut v, &extra);
    serde_json::from_value(v).unwrap()
}

fn set(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn desired() -> DesiredPlan {
    DesiredPlan {
        name: "prod/a [rampart:m]".into(),
        type_: "policy.backup.machine",
        enabled: true,
        settings: json!({"archive": {"compression": "MAX"}}),
        sections: vec![Section {
            field: "spec.cyberBackup.archive.compression".into(),
            pointer: "/archive/compression".into(),
            compare: Compare::Holds,
            remembered: true,
        }],
        dropped: vec![Section {
            field: "spec.cyberBackup.maxParallelBackups".into(),
            pointer: "/scheduling/max_parallel_backups".into(),
            compare: Compare::Holds,
            remembered: true,
        }],
    }
}

fn plan(settings: Value) -> Plan {
    Plan {
        id: "P1".into(),
        name: "prod/a [rampart:m]".into(),
        type_: "policy.backup.machine".into(),
        enabled: true,
        settings,
        ..Default::default()
    }
}

#[test]
fn a_plan_in_line_has_no_drift() {
    let p = plan(json!({"archive": {"compression": "MAX", "format": "12"}}));
    let apps = [app("a", "DEPLOYED", json!({"enabled": true}))];
    assert!(plan_drift(&desired(), &p, &set(&["a"]), &apps).is_empty());
}

#[test]
fn a_device_switched_off_and_a_dropped_setting_still_held_are_drift() {
    let p =
        plan(json!({"archive": {"compression": "MAX"}, "scheduling": {"max_parallel_backups": 4}}));
    let apps = [
        app("a", "DEPLOYED", json!({"enabled": true})),
        app("B", "DEPLOYED", json!({"enabled": false})),
    ];
    let d = plan_drift(&desired(), &p, &set(&["a", "b"]), &apps);
    let fields: Vec<&str> = d.iter().map(|d| d.field.as_str()).collect();
    assert_eq!(
        fields,
        vec!["spec.cyberBackup.maxParallelBackups", "spec.enabled[b]"]
    );
    assert_eq!(d[0].desired, NOT_CLEARABLE);
    assert_eq!(d[0].observed, "4");
    assert_eq!(
        (d[1].desired.as_str(), d[1].observed.as_str()),
        ("true", "false")
    );
    assert_eq!(switched(true, &apps), vec!["b"]);
    assert_eq!(switched(false, &apps), vec!["a"]);
    assert_eq!(
        remembered_settings(&desired(), &p.settings),
        vec!["/archive/compression", "/scheduling/max_parallel_backups"],
        "a dropped setting the vendor still holds stays remembered"
    );
    assert_eq!(
        remembered_settings(&desired(), &json!({})),
        vec!["/archive/compression"],
        "and is forgotten once gone"
    );
}

#[test]
fn every_difference_is_one_drift_entry_with_json_text() {
    let mut p = plan(json!({"archive": {"compression": "NORMAL"}}));
    p.enabled = false;
    p.name = "renamed".into();
    p.type_ = "policy.backup.files".into();
    let d = plan_drift(
        &desired(),
        &p,
        &set(&["a", "b"]),
        &[app("a", "DEPLOYED", json!({}))],
    );
    let fields: Vec<&str> = d.iter().map(|d| d.field.as_str()).collect();
    assert_eq!(
        fields,
        vec![
            "spec.cyberBackup.type",
            "spec.cyberBackup.name",
            "spec.enabled",
            "spec.cyberBackup.archive.compression",
            TARGETS_FIELD
        ]
    );
    assert_eq!(d[2].desired, "true");
    assert_eq!(d[2].observed, "false");
    assert_eq!(d[3].observed, "\"NORMAL\"");
    assert_eq!(d[4].desired, r#"["a","b"]"#);
}

#[test]
fn readiness_waits_for_deployment_and_registration() {
    let wanted = set(&["m1", "m2"]);
    let deployed = [
        app("M1", "DEPLOYED", json!({})),
        app("m2", "deployed", json!({})),
    ];
    assert_eq!(readiness(&wanted, &deployed, &[]), Readiness::Available);
    let deploying = [
        app("m1", "DEPLOYED", json!({})),
        app("m2", "DEPLOYING", json!({})),
    ];
    assert_eq!(
        readiness(&wanted, &deploying, &[]),
        Readiness::Creating("deploying the plan to 1 of 2 targets".into())
    );
    assert_eq!(
        readiness(&wanted, &deployed[..1], &[]),
        Readiness::Creating("deploying the plan to 1 of 2 targets".into())
    );
    assert!(
        matches!(readiness(&wanted, &deployed, &["srv".into()]), Readiness::Creating(m) if m.contains("srv"))
    );
}

#[test]
fn the_observation_shows_applications_times_schedule_and_destination() {
    let settings = json!({
        "scheduling": {"backup_sets": [{"type": "AUTO", "schedule": {"type": "DAILY", "alarms": {"time": {"weekdays": ["MON", "TUE", "WED"], "repeat_at": [{"hour": 9, "minute": 0, "second": null}]}}, "conditions": {}}}]},
        "destination": {"location": {"type": "VAULT", "settings": {"name": "customer-dg09", "credentials": ""}}}
    });
    let mut p = plan(settings);
    p.plan_hash = Some("B84AE99C".into());
    let apps = [
        app(
            "m2",
            "DEPLOYED",
            json!({"running": {"state": "RUNNING", "progress": "20"}, "status": "running", "last_success_time": "2024-11-28T11:13:45Z", "next_run_time": "2024-11-29T10:01:14Z"}),
        ),
        app(
            "m1",
            "DEPLOYED",
            json!({"running": {"state": "IDLE"}, "status": "OK", "last_success_time": "2024-11-29T06:23:49Z", "next_run_time": "2024-11-29T20:00:00Z"}),
        ),
    ];
    let o = observation(
        &p,
        &apps,
        None,
        &["low disk".into()],
        &["/archive/name".into()],
    );
    assert_eq!(o.id.as_deref(), Some("p1"));
    assert_eq!(o.vendor_schedule, vec!["DAILY MON,TUE,WED 09:00"]);
    assert_eq!(o.associated_vaults, vec!["customer-dg09"]);
    assert_eq!(o.last_success.as_deref(), Some("2024-11-29T06:23:49Z"));
    assert_eq!(o.next_run.as_deref(), Some("2024-11-29T10:01:14Z"));
    assert_eq!(o.applications[0].target, "m1");
    assert_eq!(o.applications[1].progress.as_deref(), Some("20"));
    assert_eq!(o.details["planHash"], "B84AE99C");
    assert_eq!(o.details["vendorWarnings"], "low disk");
    assert_eq!(o.details[MANAGED_SETTINGS], r#"["/archive/name"]"#);
    assert_eq!(written_settings(Some(&o)), vec!["/archive/name"]);
}

#[test]
fn a_monthly_vendor_schedule_reads_back() {
    let s = json!({"scheduling": {"backup_sets": [{"type": "FULL", "schedule": {"type": "MONTHLY", "alarms": {"time": {"monthdays": [1, 15], "months": [1,2,3,4,5,6,7,8,9,10,11,12], "repeat_at": [{"hour": 12, "minute": 30}]}}}}, {"schedule": {"weird": true}}]}});
    assert_eq!(
        schedule_summaries(&s),
        vec!["MONTHLY days 1,15 of months 1,2,3,4,5,6,7,8,9,10,11,12 12:30"]
    );
}
