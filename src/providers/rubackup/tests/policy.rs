//! Policy = global schedule rule, against the simulator.

use serde_json::{Map, json};

use super::*;
use crate::api::Policy;
use crate::api::policy::PolicySpec;
use crate::api::schedule::{Retention, Schedule};
use crate::api::vendors::rubackup::{
    RuBackupMoveCopy, RuBackupPolicy, RuBackupScripts, RuBackupTask,
};
use crate::engine::external::Readiness;

pub(super) fn rule() -> RuBackupPolicy {
    RuBackupPolicy {
        name: "k8s-db1-home".into(),
        client: "db1 (0A1B2C3D4E5F6071)".into(),
        resource_type: "File system".into(),
        resource: "/home/".into(),
        backup_type: Some("full".into()),
        task: RuBackupTask {
            priority: Some(100),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// The `ruBackup` block of a Policy, to change it.
fn rb(p: &mut Policy) -> &mut RuBackupPolicy {
    p.spec.ru_backup.as_mut().expect("a ruBackup block")
}

fn copies(p: &mut Policy) -> &mut RuBackupCopySettings {
    &mut rb(p).copies
}

pub(super) fn policy(rb: RuBackupPolicy) -> Policy {
    let mut p = Policy::new(
        "nightly",
        PolicySpec {
            managed: managed(),
            enabled: None,
            schedule: Some(Schedule {
                cron: "30 2 * * *".into(),
                time_zone: Some("Europe/Moscow".into()),
                grace_minutes: None,
            }),
            retention: Some(Retention {
                keep_days: Some(14),
                ..Default::default()
            }),
            vault_ref: Some(vault_ref("main")),
            huawei_cbr: None,
            ru_backup: Some(rb),
            cyber_backup: None,
        },
    );
    p.metadata.namespace = Some(NS.into());
    p
}

/// A rig with the pools of [`Rig::with_pools`], and the id of `k8s-main`.
async fn rig_with_pool() -> (Rig, i64) {
    let rig = Rig::with_pools().await;
    let main = rig
        .sim
        .sim
        .find("pool_list", "pool_name", "k8s-main")
        .unwrap();
    (rig, main)
}

#[tokio::test]
async fn create_translates_schedule_retention_and_pool() {
    let (rig, _) = rig_with_pool().await;
    let rt = rig.runtime().await;
    let adapter = rt.adapters().get::<crate::api::Policy>().unwrap();
    let p = policy(rule());
    let id = create(adapter, &p, &rig).await;
    assert_eq!(rig.sim.count("POST /global_schedule"), 1);
    let stored = rig
        .sim
        .sim
        .get("global_schedule", id.parse().unwrap())
        .unwrap();
    assert_eq!(stored["pool_id"], "k8s-main");
    // Sent as numbers, as the document writes them; the simulated server keeps text columns.
    let sent = &rig.writes("POST /global_schedule")[0]["data"]["global_schedule"];
    assert_eq!(
        (sent["min"].clone(), sent["hour"].clone()),
        (json!(30), json!(23)),
        "02:30 Moscow is 23:30 UTC"
    );
    assert_eq!(
        (stored["min"].clone(), stored["hour"].clone()),
        (json!("30"), json!("23"))
    );
    assert_eq!(stored["storage_duration"], "14 days");
    assert_eq!(stored["status"], "run");
    assert_eq!(stored["client_id"], "db1 (0a1b2c3d4e5f6071)");
    let obs = adapter.observe(&p, Some(&id), &rig.ctx()).await.unwrap();
    assert!(obs.exists && obs.drift.is_empty(), "{:?}", obs.drift);
    assert_eq!(obs.readiness, Readiness::Available);
    assert_eq!(obs.at_provider.vendor_schedule, ["30 23 * * *"]);
}

#[tokio::test]
async fn each_mutable_change_is_one_minimal_patch() {
    let (rig, _) = rig_with_pool().await;
    let rt = rig.runtime().await;
    let adapter = rt.adapters().get::<crate::api::Policy>().unwrap();
    let base = policy(rule());
    let id = create(adapter, &base, &rig).await;
    let data = |v: serde_json::Value| json!({"data": {"global_schedule": v}});
    let params: Map<String, serde_json::Value> = json!({"worker_parallelism": 4})
        .as_object()
        .unwrap()
        .clone();
    let mut changes = vec![
        change(
            "pool",
            |p: &mut Policy| p.spec.vault_ref = Some(vault_ref("archive")),
            data(json!({"pool_id": "k8s-archive"})),
        ),
        change(
            "schedule",
            |p: &mut Policy| {
                p.spec.schedule = Some(Schedule {
                    cron: "30 3 * * *".into(),
                    time_zone: Some("Europe/Moscow".into()),
                    grace_minutes: None,
                })
            },
            data(json!({"hour": 0})),
        ),
        change(
            "retention",
            |p: &mut Policy| {
                p.spec.retention = Some(Retention {
                    keep_days: Some(30),
                    ..Default::default()
                })
            },
            data(json!({"storage_duration": "30 days"})),
        ),
        change(
            "enabled",
            |p: &mut Policy| p.spec.enabled = Some(false),
            data(json!({"status": "wait"})),
        ),
        change(
            "priority",
            |p: &mut Policy| rb(p).task.priority = Some(50),
            data(json!({"priority": 50})),
        ),
        change(
            "periodic launch",
            |p: &mut Policy| rb(p).timing.periodic_launch = Some("5 mins".into()),
            data(json!({"periodic_launch": "00:05:00"})),
        ),
        change(
            "copy moves",
            |p: &mut Policy| {
                rb(p).timing.move_copy = Some(RuBackupMoveCopy {
                    enabled: Some(true),
                    after: Some("3 days".into()),
                    vault_ref: Some(vault_ref("archive")),
                    pool: None,
                })
            },
            data(
                json!({"move_copy_flag": true, "move_copy_while": "3 days", "move_copy_pool": "k8s-archive"}),
            ),
        ),
        change(
            "scripts",
            |p: &mut Policy| {
                rb(p).task.scripts = Some(RuBackupScripts {
                    restore: Some("/opt/after-restore.sh".into()),
                    ..Default::default()
                })
            },
            data(json!({"restore_script": "/opt/after-restore.sh"})),
        ),
        change(
            "common module parameters",
            move |p: &mut Policy| rb(p).task.common_module_parameters = Some(params.clone()),
            json!({"data": {"global_schedule": {}, "common_modules_extensions": {"parameters": {"worker_parallelism": 4}}}}),
        ),
    ];
    changes.extend(copy_changes(
        copies,
        "notify_rule_validity",
        |v| json!({"data": {"global_schedule": v}}),
    ));
    assert_minimal_patches(adapter, &rig, &id, &base, "/global_schedule", changes).await;
}

#[tokio::test]
async fn hand_edits_are_drift_unless_only_spelled_differently() {
    let (rig, _) = rig_with_pool().await;
    let rt = rig.runtime().await;
    let adapter = rt.adapters().get::<crate::api::Policy>().unwrap();
    let p = policy(rule());
    let id = create(adapter, &p, &rig).await;
    let num: i64 = id.parse().unwrap();
    rig.sim.sim.edit(
        "global_schedule",
        num,
        json!({"storage_duration": "2 weeks", "hour": "23", "mon": "1-12"}),
    );
    in_sync(adapter, &p, &id, &rig.fresh()).await;
    rig.sim.sim.edit(
        "global_schedule",
        num,
        json!({"storage_duration": "7 days", "status": "wait"}),
    );
    let obs = adapter.observe(&p, Some(&id), &rig.fresh()).await.unwrap();
    let fields: Vec<&str> = obs.drift.iter().map(|d| d.field.as_str()).collect();
    assert_eq!(fields, ["spec.retention", "spec.enabled"]);
    adapter.update(&p, &id, &obs, &rig.ctx()).await.unwrap();
    assert_eq!(
        rig.writes("PATCH"),
        [json!({"data": {"global_schedule": {"status": "run", "storage_duration": "14 days"}}})]
    );
    in_sync(adapter, &p, &id, &rig.fresh()).await;
}

#[tokio::test]
async fn a_renamed_pool_is_not_the_vaults_and_a_missing_vault_is_reported() {
    let (mut rig, pool) = rig_with_pool().await;
    let rt = rig.runtime().await;
    let p = policy(rule());
    let id = rt
        .adapters()
        .get::<crate::api::Policy>()
        .unwrap()
        .create(&p, &rig.ctx())
        .await
        .unwrap()
        .external_name;
    // The pool at the Vault's id now has another name (renamed by hand, or a stranger's pool
    // on an id handed out again): it is not the Vault's, so the rule is not pointed at it.
    rig.sim.sim.edit(
        "pool_list",
        pool,
        json!({"pool_name": "k8s-renamed", "poolname": "k8s-renamed"}),
    );
    let obs = rt
        .adapters()
        .get::<crate::api::Policy>()
        .unwrap()
        .observe(&p, Some(&id), &rig.fresh())
        .await
        .unwrap();
    assert!(obs.drift.is_empty(), "{:?}", obs.drift);
    assert!(
        matches!(obs.readiness, Readiness::Unavailable(ref m) if m.contains("named 'k8s-renamed', not 'k8s-main'")),
        "{:?}",
        obs.readiness
    );

    // A Vault without an external name is waited for at create...
    rig.add_vault_ref("main", "k8s-main", None, "spec.vaultRef");
    let waiting = rt
        .adapters()
        .get::<crate::api::Policy>()
        .unwrap()
        .create(
            &policy(RuBackupPolicy {
                name: "second".into(),
                ..rule()
            }),
            &rig.ctx(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(waiting, ExternalError::Waiting { ref message } if message.contains("no external name")),
        "{waiting}"
    );
    // ...and an existing rule stays observable, reported unavailable.
    let obs = rt
        .adapters()
        .get::<crate::api::Policy>()
        .unwrap()
        .observe(&p, Some(&id), &rig.ctx())
        .await
        .unwrap();
    assert!(
        matches!(obs.readiness, Readiness::Unavailable(ref m) if m.contains("spec.vaultRef")),
        "{:?}",
        obs.readiness
    );
}

#[tokio::test]
async fn create_only_fields_and_adoption() {
    let (rig, _) = rig_with_pool().await;
    let rt = rig.runtime().await;
    let adapter = rt.adapters().get::<crate::api::Policy>().unwrap();
    let made = rig
        .sim
        .sim
        .insert("global_schedule", json!({"name": "k8s-db1-home", "client_id": "db1 (0a1b2c3d4e5f6071)", "resource_type": "File system",
                                          "resource": "/etc/", "backup_type": "full", "pool_id": "k8s-main", "priority": 100,
                                          "min": 30, "hour": 23, "dom": "*", "mon": "*", "dow": "*", "storage_duration": "14 days", "status": "run"}))
        .unwrap();
    let p = policy(rule());
    let obs = adapter.observe(&p, None, &rig.ctx()).await.unwrap();
    assert_eq!(obs.external_name, Some(made.to_string()));
    assert_eq!(obs.drift.len(), 1);
    assert_eq!(obs.drift[0].field, "spec.ruBackup.resource");
    let err = adapter
        .update(&p, &made.to_string(), &obs, &rig.ctx())
        .await
        .unwrap_err();
    assert_eq!(invalid_field(&err), Some("spec.ruBackup.resource"));
    assert_eq!(
        rig.sim.count("PATCH /global_schedule/{id}"),
        0,
        "nothing else differed"
    );
}

#[tokio::test]
async fn delete_removes_the_rule() {
    let (rig, _) = rig_with_pool().await;
    let rt = rig.runtime().await;
    let adapter = rt.adapters().get::<crate::api::Policy>().unwrap();
    let p = policy(rule());
    let id = create(adapter, &p, &rig).await;
    adapter.delete(&p, &id, &rig.ctx()).await.unwrap();
    assert_eq!(rig.sim.count("DELETE /global_schedule/{id}"), 1);
    assert!(rig.sim.sim.all("global_schedule").is_empty());
    gone(adapter, &p, &id, &rig.ctx()).await;
}

#[tokio::test]
async fn an_inexpressible_schedule_is_an_invalid_spec() {
    let (rig, _) = rig_with_pool().await;
    let rt = rig.runtime().await;
    let mut p = policy(rule());
    p.spec.schedule = Some(Schedule {
        cron: "0 1 * * *".into(),
        time_zone: Some("Europe/Berlin".into()),
        grace_minutes: None,
    });
    let err = rt
        .adapters()
        .get::<crate::api::Policy>()
        .unwrap()
        .create(&p, &rig.ctx())
        .await
        .unwrap_err();
    assert_eq!(invalid_field(&err), Some("spec.schedule.timeZone"));
    assert_eq!(rig.sim.count("POST /global_schedule"), 0);
}

#[test]
fn the_engine_resolves_the_pool_and_the_copy_move_target() {
    use crate::api::vendors::rubackup::{RuBackupMoveCopy, RuBackupTiming};
    use crate::engine::managed::Managed;
    let move_copy = RuBackupMoveCopy {
        vault_ref: Some(vault_ref("archive")),
        ..Default::default()
    };
    let p = policy(RuBackupPolicy {
        timing: RuBackupTiming {
            move_copy: Some(move_copy),
            ..Default::default()
        },
        ..rule()
    });
    let refs: Vec<(String, &str)> = p
        .references()
        .into_iter()
        .map(|r| (r.name, r.field))
        .collect();
    assert_eq!(
        refs,
        [
            ("main".to_string(), "spec.vaultRef"),
            ("archive".to_string(), "spec.ruBackup.moveCopy.vaultRef")
        ]
    );
}
