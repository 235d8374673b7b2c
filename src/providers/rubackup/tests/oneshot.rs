//! The urgent backup (BackupTaker) and the restore (Restorer) against the simulator: a task
//! asked once, followed New → Execution → Done/Error as the server clock moves, a lost answer
//! found again without a second POST, the record the backup made, and the refusals.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::{Value, json};

use super::{NS, PASSWORD, Rig, USER, pool_spec, vault_cr};
use crate::api::backup::{BackupSource, CbrBackupOptions, RuBackupBackupOptions};
use crate::api::common::LocalObjectRef;
use crate::api::restore::RuBackupRestoreOptions;
use crate::api::vendors::rubackup::RuBackupProviderSettings;
use crate::api::{Backup, BackupSpec, Policy, Restore, RestoreSpec, Strategy};
use crate::oneshot::{BackupOrder, Progress, RestoreOrder, SourceObject, proves_nothing_started};
use crate::simulators::harness::Faults;
use crate::simulators::rubackup::SimConfig;

const CLIENT: &str = "rubackup-client (525a99154f3505a2)";
const POOL: &str = "k8s-main";

/// A rig with the pool `k8s-main`; its id.
async fn rig_with(config: SimConfig) -> (Rig, String) {
    let rig = Rig::with(config, PASSWORD, RuBackupProviderSettings::default()).await;
    let fields =
        json!({"pool_name": POOL, "pool_type": "File system", "media_server": "rubackup-server"});
    let id = rig.sim.sim.insert("pool_list", fields).unwrap();
    (rig, id.to_string())
}

fn config() -> SimConfig {
    SimConfig::new(&[(USER, PASSWORD)])
}

fn options() -> RuBackupBackupOptions {
    RuBackupBackupOptions {
        client: Some(CLIENT.into()),
        resource_type: Some("File system".into()),
        resource: Some("/home/".into()),
        priority: None,
    }
}

fn backup(rb: Option<RuBackupBackupOptions>) -> Backup {
    let mut b = Backup::new(
        "now",
        BackupSpec {
            source: BackupSource {
                vault_ref: Some(LocalObjectRef {
                    name: "main".into(),
                }),
                policy_ref: None,
                strategy_ref: None,
            },
            description: None,
            retention_days: Some(7),
            deletion_policy: None,
            huawei_cbr: None,
            ru_backup: rb,
        },
    );
    b.metadata.namespace = Some(NS.into());
    b
}

fn order(b: Backup, pool_id: &str) -> BackupOrder {
    BackupOrder {
        backup: Arc::new(b),
        source: SourceObject::Vault(Arc::new(vault_cr("main", pool_spec(POOL)))),
        source_id: pool_id.into(),
        marker: "rampart:rb-tests/Backup/test/now".into(),
    }
}

async fn taker(rig: &Rig) -> Arc<dyn crate::engine::hub::VendorRuntime> {
    let rt = rig.runtime().await;
    assert!(rt.backup_taker().is_some() && rt.restorer().is_some());
    rt
}

/// Move the server clock past the queue wait and the run (10 s + 60 s by default).
fn finish_tasks(rig: &Rig) {
    rig.sim.sim.advance_clock(Duration::from_secs(75));
}

/// The records the simulator's repository holds.
fn records(rig: &Rig) -> Vec<Value> {
    rig.sim.sim.all("repository")
}

#[tokio::test]
async fn an_urgent_backup_is_asked_once_runs_and_succeeds_with_its_record() {
    let (rig, pool_id) = rig_with(config()).await;
    let rt = taker(&rig).await;
    let t = rt.backup_taker().unwrap();
    let o = order(backup(Some(options())), &pool_id);
    t.check(&o).expect("a complete spec passes");
    let started = t.start(&o).await.expect("start");
    assert_eq!(rig.sim.count("POST /task_queue"), 1);
    assert_eq!(
        rig.writes("POST /task_queue"),
        [json!({"data": {"task": {
            "resource_type": "File system", "resource": "/home/", "client": CLIENT,
            "backup_type": "full", "pool": POOL, "crypto": "nocrypt", "priority": 100,
            "storage_duration": "7 days", "archiving": false,
        }}})]
    );
    assert_eq!(t.progress(&o, &started).await.unwrap(), Progress::Running);
    finish_tasks(&rig);
    let Progress::Succeeded {
        backup_ids,
        size_bytes,
        completed_at,
    } = t.progress(&o, &started).await.unwrap()
    else {
        panic!("not succeeded");
    };
    let made: Vec<Value> = records(&rig)
        .into_iter()
        .filter(|r| r["task_id"].as_i64().map(|n| n.to_string()) == Some(started.vendor_id.clone()))
        .collect();
    assert_eq!(made.len(), 1, "one record of the task");
    assert_eq!(backup_ids, [made[0]["id"].to_string()]);
    assert_eq!(size_bytes, made[0]["size"].as_i64());
    assert!(completed_at.is_some());
    // deletionPolicy: Delete removes the record; already gone is fine.
    t.delete(&backup_ids).await.expect("delete");
    assert!(records(&rig).is_empty());
    t.delete(&backup_ids).await.expect("gone already is fine");
}

#[tokio::test]
async fn a_lost_answer_is_found_again_without_a_second_post() {
    let (rig, pool_id) = rig_with(config()).await;
    let rt = taker(&rig).await;
    let t = rt.backup_taker().unwrap();
    let o = order(backup(Some(options())), &pool_id);
    // An older task of the same resource, asked before this Backup's start: never ours.
    let earlier = t.start(&o).await.expect("earlier start");
    rig.sim.sim.advance_clock(Duration::from_secs(2));
    rig.reset();
    let since = Timestamp::from_second(rig.sim.sim.now()).unwrap();
    assert_eq!(
        t.find(&o, since).await.unwrap(),
        None,
        "the earlier task is not this start"
    );
    rig.sim.server.control.set_faults(Faults {
        drop_rate: 1.0,
        only_operation: Some("POST /api/v1/task_queue".into()),
        ..Faults::default()
    });
    let e = t.start(&o).await.expect_err("the answer is cut");
    assert!(
        !proves_nothing_started(&e),
        "a cut answer proves nothing: {e}"
    );
    rig.sim.server.control.set_faults(Faults::default());
    let found = t.find(&o, since).await.unwrap().expect("found");
    assert_ne!(found.vendor_id, earlier.vendor_id);
    let newest = rig
        .sim
        .sim
        .all("task_queue")
        .iter()
        .filter_map(|t| t["id"].as_i64())
        .max();
    assert_eq!(Some(found.vendor_id.clone()), newest.map(|n| n.to_string()));
    assert_eq!(rig.sim.count("POST /task_queue"), 1, "exactly one POST");
}

#[tokio::test]
async fn an_ordered_failure_fails_with_the_vendor_s_message() {
    let (rig, pool_id) = rig_with(config()).await;
    rig.sim
        .sim
        .fail_urgent_backups(Some(POOL), 1, "no space left on the pool");
    let rt = taker(&rig).await;
    let t = rt.backup_taker().unwrap();
    let o = order(backup(Some(options())), &pool_id);
    let started = t.start(&o).await.expect("start");
    finish_tasks(&rig);
    match t.progress(&o, &started).await.unwrap() {
        Progress::Failed { message, .. } => {
            assert!(message.contains("no space left on the pool"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert!(records(&rig).is_empty());
}

fn any_spec<T: serde::de::DeserializeOwned>() -> T {
    serde_json::from_value(json!({"providerConfigRef": {"kind": "ProviderConfig", "name": "rb"}}))
        .unwrap()
}

#[tokio::test]
async fn a_backup_the_pool_cannot_take_is_refused_naming_the_field() {
    let (rig, pool_id) = rig_with(config()).await;
    let rt = taker(&rig).await;
    let t = rt.backup_taker().unwrap();
    let refused = |o: BackupOrder| t.check(&o).expect_err("refused").field;
    let without = |f: fn(&mut RuBackupBackupOptions)| {
        let mut rb = options();
        f(&mut rb);
        order(backup(Some(rb)), &pool_id)
    };
    assert_eq!(refused(order(backup(None), &pool_id)), "spec.ruBackup");
    assert_eq!(
        refused(without(|r| r.client = None)),
        "spec.ruBackup.client"
    );
    assert_eq!(
        refused(without(|r| r.resource_type = None)),
        "spec.ruBackup.resourceType"
    );
    assert_eq!(
        refused(without(|r| r.resource = Some(" ".into()))),
        "spec.ruBackup.resource"
    );
    let mut cbr = backup(Some(options()));
    cbr.spec.huawei_cbr = Some(CbrBackupOptions::default());
    assert_eq!(refused(order(cbr, &pool_id)), "spec.huaweiCbr");
    let mut o = order(backup(Some(options())), &pool_id);
    o.source = SourceObject::Policy(Arc::new(Policy::new("p", any_spec())));
    assert_eq!(refused(o.clone()), "spec.source.policyRef");
    o.source = SourceObject::Strategy(Arc::new(Strategy::new("s", any_spec())));
    let r = t.check(&o).expect_err("refused");
    assert_eq!(r.field, "spec.source.strategyRef");
    assert!(r.message.contains("not supported yet"), "{}", r.message);
    assert_eq!(rig.sim.count("POST /task_queue"), 0);
}

fn restore(rb: Option<RuBackupRestoreOptions>) -> Restore {
    let mut r = Restore::new(
        "back",
        RestoreSpec {
            backup_ref: None,
            vault_ref: Some(LocalObjectRef {
                name: "main".into(),
            }),
            backup_id: None,
            huawei_cbr: None,
            ru_backup: rb,
            cyber_backup: None,
        },
    );
    r.metadata.namespace = Some(NS.into());
    r
}

fn restore_options() -> RuBackupRestoreOptions {
    RuBackupRestoreOptions {
        target_client: "db1 (0a1b2c3d4e5f6071)".into(),
        destination_path: "/for_restore/".into(),
        files: vec!["/home/a.txt".into()],
        data_deployment: Some(false),
    }
}

fn restore_order(r: Restore, pool_id: &str, record: &str) -> RestoreOrder {
    RestoreOrder {
        restore: Arc::new(r),
        source: SourceObject::Vault(Arc::new(vault_cr("main", pool_spec(POOL)))),
        source_id: pool_id.into(),
        backup_id: record.into(),
        marker: "rampart:rb-tests/Restore/test/back".into(),
    }
}

/// A record of the pool, made by an urgent backup.
async fn a_record(rig: &Rig, pool_id: &str) -> String {
    let rt = rig.runtime().await;
    let t = rt.backup_taker().unwrap();
    let o = order(backup(Some(options())), pool_id);
    let s = t.start(&o).await.unwrap();
    finish_tasks(rig);
    match t.progress(&o, &s).await.unwrap() {
        Progress::Succeeded { backup_ids, .. } => backup_ids[0].clone(),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_restore_is_asked_once_onto_the_target_and_followed_to_its_end() {
    // The documented 201 names no task (L3686): the restore is found in the queue.
    let quiet = SimConfig {
        restore_message_names_task: false,
        ..config()
    };
    let (rig, pool_id) = rig_with(quiet).await;
    let record = a_record(&rig, &pool_id).await;
    rig.reset();
    let rt = rig.runtime().await;
    let r = rt.restorer().unwrap();
    let o = restore_order(restore(Some(restore_options())), &pool_id, &record);
    r.check(&o).expect("complete");
    let s = r.start(&o).await.expect("start");
    assert_eq!(rig.sim.count("POST /repository/{id}/restoring"), 1);
    let asked = rig.sim.sim.restores();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0]["task"].to_string(), s.vendor_id);
    assert_eq!(
        asked[0]["body"],
        json!({"data": {"restore_task": {
            "target_client": "db1 (0a1b2c3d4e5f6071)", "destination_path": "/for_restore/",
            "data_deployment": false, "granular_restore_files": ["/home/a.txt"],
        }}})
    );
    assert_eq!(r.progress(&o, &s).await.unwrap(), Progress::Running);
    let since = Timestamp::from_second(rig.sim.sim.now() - 5).unwrap();
    assert_eq!(r.find(&o, since).await.unwrap(), Some(s.clone()));
    finish_tasks(&rig);
    assert!(matches!(
        r.progress(&o, &s).await.unwrap(),
        Progress::Succeeded { .. }
    ));
    assert_eq!(rig.sim.count("POST /repository/{id}/restoring"), 1);
}

#[tokio::test]
async fn a_failed_restore_carries_the_vendor_s_message_and_refusals_name_the_field() {
    let (rig, pool_id) = rig_with(config()).await;
    let record = a_record(&rig, &pool_id).await;
    let rt = rig.runtime().await;
    let r = rt.restorer().unwrap();
    let refused = |o: RestoreOrder| r.check(&o).expect_err("refused").field;
    assert_eq!(
        refused(restore_order(restore(None), &pool_id, &record)),
        "spec.ruBackup"
    );
    let mut empty = restore_options();
    empty.target_client = String::new();
    assert_eq!(
        refused(restore_order(restore(Some(empty)), &pool_id, &record)),
        "spec.ruBackup.targetClient"
    );
    let mut cbr = restore(Some(restore_options()));
    cbr.spec.huawei_cbr = Some(Default::default());
    assert_eq!(
        refused(restore_order(cbr, &pool_id, &record)),
        "spec.huaweiCbr"
    );
    rig.sim.sim.fail_restores(1, "the client is offline");
    let o = restore_order(restore(Some(restore_options())), &pool_id, &record);
    let s = r.start(&o).await.expect("start");
    finish_tasks(&rig);
    match r.progress(&o, &s).await.unwrap() {
        Progress::Failed { message, .. } => {
            assert!(message.contains("the client is offline"), "{message}")
        }
        other => panic!("{other:?}"),
    }
}
