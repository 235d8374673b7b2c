//! Backup health's CBR groundwork against the simulator, two independent readings of the
//! document meeting: the simulator runs a vault's policy as its clock passes the trigger (and
//! fails runs when told), the client lists the vault's backups and backup tasks, and the
//! verdict follows: no backups yet, succeeded, the last run failed with CBR's message,
//! succeeded again, and missed once the policy no longer runs.

use std::sync::atomic::Ordering;
use std::time::Duration;

use jiff::SignedDuration;
use jiff::tz::TimeZone;

use super::backup_runs::vault_runs;
use super::models::{BackupFilter, OperationDefinition, OperationLogFilter};
use super::test_support::{PROJECT, password_client, policy_create, test_clock, vault_create};
use crate::health::{Expected, Facts, due_run, judge};
use crate::simulators::huawei_cbr::CbrSim;
use crate::vendor::cron;

const DAY: Duration = Duration::from_secs(24 * 3600);

#[tokio::test]
async fn the_verdict_follows_the_vault_s_runs() {
    let sim = CbrSim::start_default().await.unwrap();
    let (clock, offset) = test_clock();
    let c = password_client(&sim, clock);
    let vault = c
        .create_vault(&vault_create("health", &["srv-1"]))
        .await
        .unwrap();
    let mut daily = policy_create("daily");
    daily.operation_definition = OperationDefinition {
        retention_duration_days: Some(30),
        ..Default::default()
    };
    let policy = c.create_policy(&daily).await.unwrap();
    c.associate_policy(&vault.id, &policy.id).await.unwrap();
    // The policy's trigger (every day at 14:00 UTC) as the portable schedule says it.
    let schedule = cron::parse("0 14 * * *").unwrap();
    let since = sim.console().now();
    // The client's clock moves with the simulator's, so its IAM token expires with it.
    let advance = |days: u32| {
        let by = DAY * days;
        sim.console()
            .advance_clock(SignedDuration::try_from(by).unwrap());
        offset.fetch_add(by.as_secs() as i64, Ordering::SeqCst);
    };
    let verdict = async || {
        let backups = c
            .list_backups(&BackupFilter {
                vault_id: Some(vault.id.clone()),
                ..Default::default()
            })
            .await
            .unwrap();
        let tasks = c
            .list_operation_logs(&OperationLogFilter {
                vault_id: Some(vault.id.clone()),
                operation_type: Some("backup".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        let now = sim.console().now();
        let expected = Expected {
            due: due_run(&schedule, &TimeZone::UTC, now, DAY),
            grace: DAY,
            since,
        };
        judge(&Facts::Runs(vault_runs(&backups, &tasks)), &expected)
    };

    assert_eq!(verdict().await.reason, "NoBackupsYet");
    advance(1);
    assert_eq!(verdict().await.reason, "BackupSucceeded");

    let message = "No resource is available for backup.";
    assert!(
        sim.console()
            .fail_runs(PROJECT, &vault.id, 1, "BackupService.0001", message)
    );
    advance(1);
    let failed = verdict().await;
    assert_eq!(failed.reason, "LastBackupFailed", "{}", failed.message);
    assert!(failed.message.contains(message), "{}", failed.message);
    assert!(failed.failed_id.is_some());

    advance(1);
    assert_eq!(verdict().await.reason, "BackupSucceeded");

    c.dissociate_policy(&vault.id, &policy.id).await.unwrap();
    advance(2);
    let missed = verdict().await;
    assert_eq!(missed.reason, "BackupMissed", "{}", missed.message);
}
