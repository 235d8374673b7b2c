//! CBR's `BackupTaker` and `Restorer` against the CBR simulator: a restore point started once
//! and found again when its answer is lost, followed to its end or to CBR's failure, its
//! backups deleted (twice: gone is fine); a restore asked once with the body given, followed by
//! its task.

use jiff::Timestamp;

use super::checkpoint::CbrCheckpoints;
use super::client::CbrClient;
use super::oneshot_support::{backup_order, backup_spec, restore_order, restore_spec};
use super::restore::CbrRestores;
use super::test_support::{PROJECT, password_client, test_clock, vault_create};
use crate::api::restore::{CbrRestoreMapping, CbrRestoreOptions};
use crate::oneshot::{BackupOrder, BackupTaker, Progress, RestoreOrder, Restorer, Started};
use crate::simulators::huawei_cbr::{CbrSim, CbrSimConfig};
use crate::vendor::error::ErrorKind;

const CHECKPOINT_POST: &str = "POST /v3/{project_id}/checkpoints";
const RESTORE_POST: &str = "POST /v3/{project_id}/backups/{backup_id}/restore";

async fn rig() -> (CbrSim, CbrClient, String) {
    rig_with_reads(CbrSimConfig::default().progress_reads).await
}

/// A simulator whose restore points and restores stay in progress for `reads` reads.
async fn rig_with_reads(reads: u32) -> (CbrSim, CbrClient, String) {
    let config = CbrSimConfig {
        progress_reads: reads,
        ..Default::default()
    };
    let sim = CbrSim::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let (clock, _) = test_clock();
    let c = password_client(&sim, clock);
    let vault = c
        .create_vault(&vault_create("oneshot", &["srv-1"]))
        .await
        .unwrap();
    (sim, c, vault.id)
}

fn posts(sim: &CbrSim, operation: &str) -> usize {
    let log = sim.control().requests();
    log.iter().filter(|r| r.operation == operation).count()
}

/// Follow a backup until it ends; the simulator finishes it within a few reads.
async fn backup_outcome(t: &CbrCheckpoints, order: &BackupOrder, s: &Started) -> Progress {
    for _ in 0..10 {
        match t.progress(order, s).await.unwrap() {
            Progress::Running => continue,
            done => return done,
        }
    }
    panic!("the restore point never ended");
}

async fn restore_outcome(r: &CbrRestores, order: &RestoreOrder, s: &Started) -> Progress {
    for _ in 0..10 {
        match r.progress(order, s).await.unwrap() {
            Progress::Running => continue,
            done => return done,
        }
    }
    panic!("the restore never ended");
}

#[tokio::test]
async fn a_lost_answer_is_found_again_and_never_started_twice() {
    let (sim, c, vault) = rig().await;
    let taker = CbrCheckpoints::new(c.clone());
    let order = backup_order(&vault, backup_spec(None));
    sim.control().record_requests();
    let claimed = Timestamp::now();
    let started = taker.start(&order).await.unwrap();
    // The answer is lost: the engine knows only when it claimed the start.
    let found = taker.find(&order, claimed).await.unwrap();
    assert_eq!(found.as_ref(), Some(&started));
    assert_eq!(started.backup_ids.len(), 1, "{started:?}");
    assert_eq!(posts(&sim, CHECKPOINT_POST), 1);
    // A claim after the restore point (another Backup of the same name later) finds nothing.
    let later = Timestamp::now() + jiff::SignedDuration::from_mins(10);
    assert_eq!(taker.find(&order, later).await.unwrap(), None);

    let Progress::Succeeded { backup_ids, .. } = backup_outcome(&taker, &order, &started).await
    else {
        panic!("the restore point succeeded");
    };
    assert_eq!(backup_ids, started.backup_ids);
}

#[tokio::test]
async fn a_failing_restore_point_fails_with_cbr_s_message() {
    let (sim, c, vault) = rig().await;
    let message = "Backup is not allowed in the current resource status.";
    assert!(
        sim.console()
            .fail_checkpoints(PROJECT, &vault, 1, "BackupService.6215", message)
    );
    let taker = CbrCheckpoints::new(c);
    let order = backup_order(&vault, backup_spec(None));
    let started = taker.start(&order).await.unwrap();
    let outcome = backup_outcome(&taker, &order, &started).await;
    let Progress::Failed { message: said, .. } = outcome else {
        panic!("the restore point failed: {outcome:?}");
    };
    assert!(said.contains(message), "{said}");
    assert!(said.contains("BackupService.6215"), "{said}");
}

#[tokio::test]
async fn deleting_backups_twice_is_fine() {
    let (_sim, c, vault) = rig().await;
    let taker = CbrCheckpoints::new(c.clone());
    let order = backup_order(&vault, backup_spec(None));
    let started = taker.start(&order).await.unwrap();
    let Progress::Succeeded { backup_ids, .. } = backup_outcome(&taker, &order, &started).await
    else {
        panic!("the restore point succeeded");
    };
    taker.delete(&backup_ids).await.unwrap();
    let gone = c.get_backup(&backup_ids[0]).await.unwrap_err();
    assert_eq!(gone.kind, ErrorKind::NotFound);
    taker.delete(&backup_ids).await.unwrap();
    // The restore point went with its last backup.
    let Progress::Failed { message, .. } = taker.progress(&order, &started).await.unwrap() else {
        panic!("a deleted restore point is no success");
    };
    assert!(message.contains("no longer has"), "{message}");
}

/// An available backup of `vault`'s srv-1.
async fn available_backup(c: &CbrClient, vault: &str) -> String {
    let taker = CbrCheckpoints::new(c.clone());
    let order = backup_order(vault, backup_spec(None));
    let started = taker.start(&order).await.unwrap();
    match backup_outcome(&taker, &order, &started).await {
        Progress::Succeeded { backup_ids, .. } => backup_ids[0].clone(),
        other => panic!("no backup: {other:?}"),
    }
}

fn onto_srv_1() -> CbrRestoreOptions {
    CbrRestoreOptions {
        server_id: Some("srv-1".into()),
        volume_id: None,
        mappings: vec![CbrRestoreMapping {
            backup_id: "disk-backup-1".into(),
            volume_id: "vol-1".into(),
        }],
        power_on: Some(false),
    }
}

#[tokio::test]
async fn a_restore_is_asked_once_with_the_body_given_and_followed() {
    let (sim, c, vault) = rig().await;
    let backup_id = available_backup(&c, &vault).await;
    let restorer = CbrRestores::new(c);
    let order = restore_order(&vault, &backup_id, restore_spec(Some(onto_srv_1())));
    sim.control().record_requests();
    let claimed = Timestamp::now();
    let started = restorer.start(&order).await.unwrap();
    assert_eq!(posts(&sim, RESTORE_POST), 1);
    let asked = sim.console().restores(PROJECT);
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].backup_id, backup_id);
    assert_eq!(Some(&asked[0].task_id), started.task_id.as_ref());
    assert_eq!(
        asked[0].request,
        serde_json::json!({"server_id": "srv-1", "power_on": false,
            "mappings": [{"backup_id": "disk-backup-1", "volume_id": "vol-1"}]})
    );
    // Its answer lost, the same restore is found.
    assert_eq!(
        restorer.find(&order, claimed).await.unwrap().as_ref(),
        Some(&started)
    );
    let outcome = restore_outcome(&restorer, &order, &started).await;
    let Progress::Succeeded { backup_ids, .. } = outcome else {
        panic!("the restore succeeded: {outcome:?}");
    };
    assert_eq!(backup_ids, vec![backup_id]);
    assert_eq!(posts(&sim, RESTORE_POST), 1);
}

#[tokio::test]
async fn a_failing_restore_fails_with_cbr_s_message() {
    let (sim, c, vault) = rig().await;
    let backup_id = available_backup(&c, &vault).await;
    sim.console()
        .fail_restores(PROJECT, 1, "BackupService.9910", "Unknown error.");
    let restorer = CbrRestores::new(c);
    let order = restore_order(&vault, &backup_id, restore_spec(Some(onto_srv_1())));
    let started = restorer.start(&order).await.unwrap();
    let outcome = restore_outcome(&restorer, &order, &started).await;
    let Progress::Failed { message, .. } = outcome else {
        panic!("the restore failed: {outcome:?}");
    };
    assert_eq!(message, "BackupService.9910: Unknown error.");
}

#[tokio::test]
async fn a_backup_of_another_vault_is_not_restored() {
    let (sim, c, vault) = rig().await;
    let backup_id = available_backup(&c, &vault).await;
    let restorer = CbrRestores::new(c);
    let order = restore_order(
        "another-vault",
        &backup_id,
        restore_spec(Some(onto_srv_1())),
    );
    sim.control().record_requests();
    let refused = restorer.start(&order).await.unwrap_err();
    assert_eq!(refused.kind, ErrorKind::Rejected);
    assert!(crate::oneshot::proves_nothing_started(&refused));
    assert_eq!(posts(&sim, RESTORE_POST), 0);
    assert!(sim.console().restores(PROJECT).is_empty());
}

#[tokio::test]
async fn a_backup_being_restored_refuses_a_second_restore_as_nothing_started() {
    // The restore must still run when the second is asked (each start reads the backup).
    let (sim, c, vault) = rig_with_reads(5).await;
    let backup_id = available_backup(&c, &vault).await;
    let restorer = CbrRestores::new(c);
    let order = restore_order(&vault, &backup_id, restore_spec(Some(onto_srv_1())));
    let first = restorer.start(&order).await.unwrap();
    // Another Restore of the same backup while the first runs: CBR says 2010. It must read as
    // a refusal, or the engine would find the first restore's task and follow it as its own.
    let second = restorer.start(&order).await.unwrap_err();
    assert_eq!(second.code.as_deref(), Some("BackupService.2010"));
    assert!(crate::oneshot::proves_nothing_started(&second), "{second}");
    assert_eq!(sim.console().restores(PROJECT).len(), 1);
    assert!(first.task_id.is_some());
}
