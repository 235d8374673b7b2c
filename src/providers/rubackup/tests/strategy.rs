//! Strategy = backup strategy with rules and administrators, against the simulator.

use serde_json::json;

use super::*;
use crate::api::Strategy;
use crate::api::schedule::{Retention, Schedule};
use crate::api::strategy::StrategySpec;
use crate::api::vendors::rubackup::{
    RuBackupBackupTypeSchedule, RuBackupMoveCopy, RuBackupStrategy, RuBackupStrategyRule,
    RuBackupTask, RuBackupTiming,
};
use crate::engine::external::{Deleted, Readiness};

pub(super) fn rule(resource: &str, priority: i32) -> RuBackupStrategyRule {
    RuBackupStrategyRule {
        client: "rubackup-client (525a99154f3505a2)".into(),
        resource_type: "File system".into(),
        resource: resource.into(),
        task: RuBackupTask {
            priority: Some(priority),
            ..Default::default()
        },
    }
}

pub(super) fn spec() -> RuBackupStrategy {
    RuBackupStrategy {
        name: "k8s-nightly".into(),
        vault_ref: Some(vault_ref("main")),
        description: Some("nightly backups".into()),
        full: Some(RuBackupBackupTypeSchedule {
            schedule: Some(Schedule {
                cron: "0 1 * * 0".into(),
                time_zone: None,
                grace_minutes: None,
            }),
            retention: Some(Retention {
                keep_days: Some(30),
                ..Default::default()
            }),
            ..Default::default()
        }),
        incremental: Some(RuBackupBackupTypeSchedule {
            schedule: Some(Schedule {
                cron: "0 1 * * 1-6".into(),
                time_zone: None,
                grace_minutes: None,
            }),
            timing: RuBackupTiming {
                storage_duration: Some("7 days".into()),
                move_copy: Some(RuBackupMoveCopy {
                    enabled: Some(true),
                    after: Some("3 days".into()),
                    vault_ref: Some(vault_ref("archive")),
                    pool: None,
                }),
                ..Default::default()
            },
            ..Default::default()
        }),
        rules: vec![rule("/home/", 100), rule("/etc/", 100)],
        administrators: vec!["alice".into()],
        ..Default::default()
    }
}

pub(super) fn strategy(rb: RuBackupStrategy) -> Strategy {
    let mut s = Strategy::new(
        "nightly",
        StrategySpec {
            managed: managed(),
            ru_backup: Some(rb),
        },
    );
    s.metadata.namespace = Some(NS.into());
    s
}

async fn rig() -> Rig {
    Rig::with_pools().await
}

#[tokio::test]
async fn create_waits_adds_members_then_runs() {
    let rig = rig().await;
    let rt = rig.runtime().await;
    let adapter = rt.adapters().get::<crate::api::Strategy>().unwrap();
    let s = strategy(spec());
    let id = create(adapter, &s, &rig).await;
    assert_eq!(rig.sim.count("POST /backup_strategies"), 1);
    assert_eq!(rig.sim.count("POST /strategy_rules"), 2);
    assert_eq!(rig.sim.count("POST /strategy_administrators"), 1);
    assert_eq!(
        rig.writes("POST /backup_strategies")[0]["data"]["status"],
        "wait"
    );
    assert_eq!(
        rig.writes("PATCH /backup_strategies"),
        [json!({"data": [{"strategy_id": id.parse::<i64>().unwrap(), "status": "run"}]})]
    );
    let stored = rig
        .sim
        .sim
        .get("backup_strategies", id.parse().unwrap())
        .unwrap();
    assert_eq!(stored["pool_id"], "k8s-main");
    assert_eq!(stored["inc_move_copy_pool"], "k8s-archive");
    assert_eq!(stored["full_storage_duration"], "30 days");
    assert_eq!(stored["status"], "run");

    let obs = adapter.observe(&s, Some(&id), &rig.ctx()).await.unwrap();
    assert!(obs.exists && obs.drift.is_empty(), "{:?}", obs.drift);
    assert_eq!(obs.readiness, Readiness::Available);
    assert_eq!(obs.at_provider.state.as_deref(), Some("run"));
    assert_eq!(obs.at_provider.rule_count, Some(2));
    assert!(
        obs.at_provider
            .rule_ids
            .contains_key("rubackup-client (525a99154f3505a2)/File system//home/")
    );
}

#[tokio::test]
async fn rules_added_changed_removed_are_one_post_patch_delete_each() {
    let rig = rig().await;
    let rt = rig.runtime().await;
    let adapter = rt.adapters().get::<crate::api::Strategy>().unwrap();
    let id = create(adapter, &strategy(spec()), &rig).await;
    rig.reset();

    // /home/ changes priority, /etc/ goes, /var/ comes.
    let s = strategy(RuBackupStrategy {
        rules: vec![rule("/home/", 50), rule("/var/", 10)],
        ..spec()
    });
    let obs = adapter.observe(&s, Some(&id), &rig.ctx()).await.unwrap();
    assert_eq!(obs.drift.len(), 3, "{:?}", obs.drift);
    adapter.update(&s, &id, &obs, &rig.ctx()).await.unwrap();
    assert_eq!(rig.sim.count("POST /strategy_rules"), 1);
    assert_eq!(rig.sim.count("PATCH /strategy_rules/{id}"), 1);
    assert_eq!(rig.sim.count("DELETE /strategy_rules/{id}"), 1);
    assert_eq!(
        rig.sim.count("PATCH /backup_strategies/{id}"),
        0,
        "the strategy itself did not change"
    );
    assert_eq!(
        rig.writes("PATCH /strategy_rules"),
        [json!({"data": {"strategy_rule": {"priority": 50}}})]
    );
    let after = adapter.observe(&s, Some(&id), &rig.ctx()).await.unwrap();
    assert!(after.drift.is_empty(), "{:?}", after.drift);
    assert_eq!(after.at_provider.rule_count, Some(2));
}

#[tokio::test]
async fn administrators_are_added_and_removed() {
    let rig = rig().await;
    let rt = rig.runtime().await;
    let adapter = rt.adapters().get::<crate::api::Strategy>().unwrap();
    let id = create(adapter, &strategy(spec()), &rig).await;
    rig.sim.server.control.reset_counters();
    let s = strategy(RuBackupStrategy {
        administrators: vec!["bob".into()],
        ..spec()
    });
    let obs = adapter.observe(&s, Some(&id), &rig.ctx()).await.unwrap();
    assert_eq!(obs.drift.len(), 1);
    assert_eq!(obs.drift[0].field, "spec.ruBackup.administrators");
    adapter.update(&s, &id, &obs, &rig.ctx()).await.unwrap();
    assert_eq!(rig.sim.count("POST /strategy_administrators"), 1);
    assert_eq!(rig.sim.count("DELETE /strategy_administrators/{id}"), 1);
    let admins: Vec<String> = rig
        .sim
        .sim
        .all("strategy_administrators")
        .iter()
        .map(|a| a["administrator"].to_string())
        .collect();
    assert_eq!(admins, ["\"bob\""]);
}

/// The `ruBackup` block of a Strategy, to change it.
fn rb(s: &mut Strategy) -> &mut RuBackupStrategy {
    s.spec.ru_backup.as_mut().expect("a ruBackup block")
}

fn copies(s: &mut Strategy) -> &mut RuBackupCopySettings {
    &mut rb(s).copies
}

fn full(s: &mut Strategy) -> &mut RuBackupBackupTypeSchedule {
    rb(s).full.as_mut().expect("a full block")
}

fn incremental(s: &mut Strategy) -> &mut RuBackupBackupTypeSchedule {
    rb(s).incremental.as_mut().expect("an incremental block")
}

#[tokio::test]
async fn each_mutable_change_is_one_minimal_patch() {
    let rig = rig().await;
    let rt = rig.runtime().await;
    let adapter = rt.adapters().get::<crate::api::Strategy>().unwrap();
    let base = strategy(spec());
    let id = create(adapter, &base, &rig).await;
    let data = |v: serde_json::Value| json!({ "data": v });
    let differential = RuBackupBackupTypeSchedule {
        schedule: Some(Schedule {
            cron: "0 3 * * 3".into(),
            time_zone: None,
            grace_minutes: None,
        }),
        timing: RuBackupTiming {
            storage_duration: Some("2 weeks".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    let mut changes = vec![
        change(
            "pool",
            |s: &mut Strategy| rb(s).vault_ref = Some(vault_ref("archive")),
            data(json!({"pool_id": "k8s-archive"})),
        ),
        change(
            "crypto",
            |s: &mut Strategy| rb(s).crypto = Some("Kuznyechik".into()),
            data(json!({"crypto": "Kuznyechik"})),
        ),
        change(
            "description",
            |s: &mut Strategy| rb(s).description = Some("changed".into()),
            data(json!({"description": "changed"})),
        ),
        change(
            "enabled",
            |s: &mut Strategy| rb(s).enabled = Some(false),
            data(json!({"status": "wait"})),
        ),
        change(
            "full enabled",
            |s: &mut Strategy| full(s).enabled = Some(false),
            data(json!({"full_archive_enabled": false})),
        ),
        change(
            "full schedule",
            move |s: &mut Strategy| {
                full(s).schedule = Some(Schedule {
                    cron: "30 2 * * 0".into(),
                    time_zone: None,
                    grace_minutes: None,
                })
            },
            data(json!({"full_hour": 2, "full_min": 30})),
        ),
        change(
            "full retention",
            move |s: &mut Strategy| {
                full(s).retention = Some(Retention {
                    keep_days: Some(60),
                    ..Default::default()
                })
            },
            data(json!({"full_storage_duration": "60 days"})),
        ),
        change(
            "incremental periodic launch",
            |s: &mut Strategy| incremental(s).timing.periodic_launch = Some("1 hour".into()),
            data(json!({"inc_periodic_launch": "01:00:00"})),
        ),
        change(
            "incremental copy moves",
            move |s: &mut Strategy| {
                incremental(s).timing.move_copy.as_mut().unwrap().after = Some("5 days".into())
            },
            data(json!({"inc_move_copy_while": "5 days"})),
        ),
        change(
            "differential added",
            move |s: &mut Strategy| rb(s).differential = Some(differential.clone()),
            data(
                json!({"diff_archive_enabled": true, "diff_hour": 3, "diff_dom": "*", "diff_mon": "*", "diff_dow": 3,
                        "diff_storage_duration": "14 days"}),
            ),
        ),
    ];
    changes.extend(copy_changes(
        copies,
        "notify_strategy_validity",
        |v| json!({ "data": v }),
    ));
    assert_minimal_patches(adapter, &rig, &id, &base, "/backup_strategies", changes).await;
}

#[tokio::test]
async fn hand_edits_to_the_strategy_and_its_rules_are_corrected() {
    let rig = rig().await;
    let rt = rig.runtime().await;
    let adapter = rt.adapters().get::<crate::api::Strategy>().unwrap();
    let s = strategy(spec());
    let id = create(adapter, &s, &rig).await;
    let rule_id = rig
        .sim
        .sim
        .find("strategy_rules", "resource", "/etc/")
        .unwrap();
    rig.sim
        .sim
        .edit("strategy_rules", rule_id, json!({"priority": 5}));
    rig.sim.sim.edit(
        "backup_strategies",
        id.parse().unwrap(),
        json!({"inc_storage_duration": "10 days"}),
    );
    let obs = adapter.observe(&s, Some(&id), &rig.fresh()).await.unwrap();
    let fields: Vec<&str> = obs.drift.iter().map(|d| d.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "spec.ruBackup.incremental.storageDuration",
            "spec.ruBackup.rules[rubackup-client (525a99154f3505a2)/File system//etc/].priority"
        ]
    );
    rig.sim.server.control.reset_counters();
    adapter.update(&s, &id, &obs, &rig.ctx()).await.unwrap();
    assert_eq!(rig.sim.count("PATCH /backup_strategies/{id}"), 1);
    assert_eq!(rig.sim.count("PATCH /strategy_rules/{id}"), 1);
    in_sync(adapter, &s, &id, &rig.fresh()).await;
}

#[tokio::test]
async fn delete_removes_members_first() {
    let rig = rig().await;
    let rt = rig.runtime().await;
    let adapter = rt.adapters().get::<crate::api::Strategy>().unwrap();
    let s = strategy(spec());
    let id = create(adapter, &s, &rig).await;
    assert_eq!(
        adapter.delete(&s, &id, &rig.ctx()).await.unwrap(),
        Deleted::Gone
    );
    assert_eq!(rig.sim.count("DELETE /strategy_rules"), 1);
    assert_eq!(rig.sim.count("DELETE /strategy_administrators"), 1);
    assert_eq!(rig.sim.count("DELETE /backup_strategies/{id}"), 1);
    for table in [
        "backup_strategies",
        "strategy_rules",
        "strategy_administrators",
    ] {
        assert!(rig.sim.sim.all(table).is_empty(), "{table}");
    }
    gone(adapter, &s, &id, &rig.ctx()).await;
}

#[tokio::test]
async fn a_strategy_made_by_hand_is_adopted_with_its_rules() {
    let rig = rig().await;
    let rt = rig.runtime().await;
    let adapter = rt.adapters().get::<crate::api::Strategy>().unwrap();
    let made = rig
        .sim
        .sim
        .insert(
            "backup_strategies",
            json!({"name": "k8s-nightly", "status": "run", "pool_id": "k8s-main"}),
        )
        .unwrap();
    rig.sim.sim.insert(
        "strategy_rules",
        json!({"strategy_id": "k8s-nightly", "client_id": "rubackup-client (525a99154f3505a2)", "resource_type": "File system", "resource": "/home/", "priority": 100}),
    );
    let s = strategy(spec());
    let obs = adapter
        .observe(&s, Some(&made.to_string()), &rig.ctx())
        .await
        .unwrap();
    assert!(obs.exists);
    assert_eq!(obs.at_provider.rule_count, Some(1));
    let by_name = adapter.observe(&s, None, &rig.ctx()).await.unwrap();
    assert_eq!(by_name.external_name, Some(made.to_string()));
    adapter
        .update(&s, &made.to_string(), &obs, &rig.ctx())
        .await
        .unwrap();
    assert_eq!(
        rig.sim.count("POST /strategy_rules"),
        1,
        "only /etc/ was missing"
    );
    in_sync(adapter, &s, &made.to_string(), &rig.ctx()).await;
}

#[test]
fn the_engine_resolves_every_vault_the_strategy_names() {
    use crate::engine::managed::Managed;
    let refs: Vec<(String, &str)> = strategy(spec())
        .references()
        .into_iter()
        .map(|r| (r.name, r.field))
        .collect();
    assert_eq!(
        refs,
        [
            ("main".to_string(), "spec.ruBackup.vaultRef"),
            (
                "archive".to_string(),
                "spec.ruBackup.incremental.moveCopy.vaultRef"
            )
        ]
    );
}
