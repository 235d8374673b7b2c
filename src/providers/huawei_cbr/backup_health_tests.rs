//! Backup health end to end in process: the real reconciler (API server in memory) over the
//! CBR simulator, whose policy runs as its clock passes the trigger and fails runs when told.
//! The Vault's `BackupHealthy`, `status.backup`, Events and metrics follow the vault's runs:
//! no backups yet, succeeded, the last run failed with CBR's message, recovered, and missed
//! once the policy no longer runs.

use std::time::Duration;

use jiff::SignedDuration;
use kube::ResourceExt;
use serde_json::json;

use super::test_support::PROJECT;
use super::vault_world::{NS, VaultWorld};
use crate::api::common::ConditionStatus;
use crate::api::{Policy, Vault};
use crate::telemetry::metrics::{BackupLabels, metrics};

const DAY: SignedDuration = SignedDuration::from_hours(24);

fn daily_policy(w: &VaultWorld) -> Policy {
    let p: Policy = serde_json::from_value(json!({
        "apiVersion": "rampart.dev/v1alpha1", "kind": "Policy",
        "metadata": {"name": "daily", "namespace": NS},
        "spec": {"providerConfigRef": {"name": "cbr"}, "schedule": {"cron": "0 14 * * *"},
                 "retention": {"keepDays": 30}, "huaweiCbr": {}}
    }))
    .unwrap();
    w.engine.apply(&p)
}

/// Reconcile until the Vault's verdict is `reason` (the backup listing is cached for the one
/// second poll interval).
async fn until_reason(w: &VaultWorld, v: &Vault, reason: &str) {
    w.engine
        .until_reason(v, "BackupHealthy", reason, Duration::from_secs(10))
        .await;
}

/// The same for the Policy.
async fn policy_until_reason(w: &VaultWorld, p: &Policy, reason: &str) {
    w.engine
        .until_reason(p, "BackupHealthy", reason, Duration::from_secs(10))
        .await;
}

fn labels(v: &Vault) -> BackupLabels {
    BackupLabels {
        kind: "Vault".into(),
        namespace: NS.into(),
        name: v.name_any(),
        vendor: "HuaweiCbr".into(),
    }
}

#[tokio::test]
async fn a_vault_s_backup_health_follows_its_runs() {
    let w = VaultWorld::with_password_login(Duration::from_secs(1)).await;
    w.servers(1);
    let p = daily_policy(&w);
    w.engine.converge(&p, 5).await;
    let v = w.vault(
        "nightly",
        json!({"resourcesFrom": w.selecting(), "policyRef": {"name": "daily"}}),
    );
    w.converge(&v).await;
    // A vault no policy backs up, listed in the same collections: none of the runs are its.
    let idle = w.vault("idle", json!({}));
    w.converge(&idle).await;
    until_reason(&w, &v, "NoBackupsYet").await;
    assert!(
        w.says(&v, "Ready", "Available"),
        "health does not touch Ready"
    );
    let vault_id = w.sim_vault(&v).id;

    w.cbr.console().advance_clock(DAY);
    until_reason(&w, &v, "BackupSucceeded").await;
    // The Policy speaks for the vaults it is applied to.
    policy_until_reason(&w, &p, "BackupSucceeded").await;
    let facts = w.stored(&v).status.unwrap().backup.expect("status.backup");
    assert_eq!(facts.backups_held, Some(1));
    let last = facts.last_backup.expect("a last backup");
    assert_eq!(last.result, "Succeeded");
    assert_eq!(facts.last_successful_backup_time, Some(last.time.clone()));
    assert!(
        facts
            .next_expected_run
            .is_some_and(|t| t.ends_with("T14:00:00Z"))
    );
    let m = || metrics().backups.record(&labels(&v)).expect("series");
    assert_eq!(
        (m().healthy, m().reason, m().held),
        (Some(1), Some("BackupSucceeded"), Some(1))
    );
    assert_eq!(
        m().last_success,
        Some(last.time.parse::<jiff::Timestamp>().unwrap().as_second())
    );

    let message = "No resource is available for backup.";
    assert!(
        w.cbr
            .console()
            .fail_runs(PROJECT, &vault_id, 1, "BackupService.0001", message)
    );
    w.cbr.console().advance_clock(DAY);
    until_reason(&w, &v, "LastBackupFailed").await;
    let failed = w.condition(&v, "BackupHealthy").unwrap();
    assert_eq!(failed.status, ConditionStatus::False);
    assert!(failed.message.contains(message), "{}", failed.message);
    let facts = w.stored(&v).status.unwrap().backup.unwrap();
    let failure = facts.last_failure.expect("the failure");
    assert!(failure.message.is_some_and(|m| m.contains(message)));
    assert_eq!(
        (m().healthy, m().reason, m().last_result),
        (Some(0), Some("LastBackupFailed"), Some(0))
    );
    assert!(w.says(&v, "Ready", "Available"));
    policy_until_reason(&w, &p, "LastBackupFailed").await;

    w.cbr.console().advance_clock(DAY);
    until_reason(&w, &v, "BackupSucceeded").await;

    // Scheduled backups are switched off: two days on, the runs are missed.
    let mut off = w.engine.get(&p).expect("stored");
    off.spec.enabled = Some(false);
    let off = w.engine.apply(&off);
    w.engine.converge(&off, 5).await;
    w.cbr.console().advance_clock(DAY * 2);
    until_reason(&w, &v, "BackupMissed").await;

    until_reason(&w, &idle, "NoBackupsYet").await;
    let idle_facts = w.stored(&idle).status.unwrap().backup.unwrap();
    assert_eq!(
        (idle_facts.backups_held, idle_facts.last_backup),
        (Some(0), None)
    );

    // One Event per change of verdict, none for the passes that saw the same (nor for a new
    // object's first NoBackupsYet).
    let reasons: Vec<&str> = w
        .engine
        .cluster
        .reasons("nightly")
        .into_iter()
        .filter(|r| {
            [
                "NoBackupsYet",
                "BackupSucceeded",
                "LastBackupFailed",
                "BackupMissed",
            ]
            .contains(r)
        })
        .collect();
    assert_eq!(
        reasons,
        [
            "BackupSucceeded",
            "LastBackupFailed",
            "BackupSucceeded",
            "BackupMissed"
        ]
    );
}

#[tokio::test]
async fn a_steady_vault_writes_no_status_on_a_resync() {
    let w = VaultWorld::with_password_login(Duration::from_secs(1)).await;
    let v = w.vault("steady", json!({}));
    w.converge(&v).await;
    w.engine
        .until_reason(&v, "BackupHealthy", "NoBackupsYet", Duration::from_secs(10))
        .await;
    w.engine.cluster.clear_log();
    for _ in 0..3 {
        w.engine.reconcile(&v).await.expect("a steady pass");
    }
    assert_eq!(
        w.engine.cluster.writes("steady"),
        [],
        "a resync that learns nothing new writes nothing"
    );
}
