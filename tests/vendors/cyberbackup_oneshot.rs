//! The Backup kind on Cyber Backup (a run of a Policy's plan) against the simulator: one `:run`
//! followed to its end with the backups it made, a lost answer found again without a second
//! call, a failure with the vendor's message, and a busy plan left alone.

use std::sync::Arc;

use crate::cyberbackup_support::*;
use jiff::{SignedDuration, Timestamp};
use rampart::api::backup::BackupSource;
use rampart::api::common::LocalObjectRef;
use rampart::api::{Backup, BackupSpec, Policy};
use rampart::engine::hub::VendorRuntime;
use rampart::oneshot::{BackupOrder, Progress, SourceObject, proves_nothing_started};
use rampart::simulators::cyberbackup::SimConfig;
use rampart::simulators::harness::Faults;
use rampart::vendor::error::ErrorKind;
use serde_json::json;

const RUN: &str = "POST /api/v1/policy_applications:run";
const RUN_SECONDS: i64 = 600;

/// A simulator whose runs take ten minutes, and a plan for one machine, deployed; its id.
async fn deployed() -> (Env, Policy, String) {
    let mut env = Env::with(
        SimConfig {
            run_seconds: RUN_SECONDS,
            ..Default::default()
        },
        100,
    )
    .await;
    let machine = env.resource_id("DESKTOP-JRPTA4A");
    env.add_vault_ref(&store());
    let p = policy(
        "nightly",
        json!({"schedule": {"cron": "0 2 * * *"}, "vaultRef": {"name": "store"},
               "cyberBackup": {"type": "policy.backup.machine", "targets": {"resourceIds": [machine]}}}),
    );
    let rt = env.runtime().await;
    let id = env.create(policy_adapter(&rt), &p).await;
    env.sim.state.settle();
    (env, p, id)
}

fn order(p: &Policy, id: &str) -> BackupOrder {
    let spec = BackupSpec {
        source: BackupSource {
            vault_ref: None,
            policy_ref: Some(LocalObjectRef {
                name: "nightly".into(),
            }),
            strategy_ref: None,
        },
        description: None,
        retention_days: None,
        deletion_policy: None,
        huawei_cbr: None,
        ru_backup: None,
    };
    BackupOrder {
        backup: Arc::new(Backup::new("now", spec)),
        source: SourceObject::Policy(Arc::new(p.clone())),
        source_id: id.into(),
        marker: "rampart:cb-tests/Backup/prod/now".into(),
    }
}

/// The backups the simulator holds in the plan's archives: (id, size).
fn plan_backups(env: &Env, id: &str) -> Vec<(String, i64)> {
    env.sim.state.read(|w| {
        w.backups
            .iter()
            .filter(|b| {
                w.archives
                    .values()
                    .any(|a| a.id == b.archive_id && a.policy_id == id)
            })
            .map(|b| (b.backup_id.clone(), b.size))
            .collect()
    })
}

/// How many `:run` calls reached the simulator since recording started.
fn run_calls(env: &Env) -> usize {
    let requests = env.sim.control().requests();
    requests.iter().filter(|r| r.operation == RUN).count()
}

async fn taker(env: &Env) -> Arc<dyn VendorRuntime> {
    let rt = env.runtime().await;
    assert!(rt.backup_taker().is_some(), "Cyber Backup takes Backups");
    rt
}

#[tokio::test]
async fn a_run_is_started_once_runs_and_succeeds_with_the_backup_it_made() {
    let (env, p, id) = deployed().await;
    let rt = taker(&env).await;
    let t = rt.backup_taker().unwrap();
    let o = order(&p, &id);
    t.check(&o)
        .expect("a Policy source with nothing more passes");
    env.sim.control().reset_counters();
    let started = t.start(&o).await.expect("start");
    assert_eq!(env.writes(), vec![(RUN.to_string(), 1)]);
    assert!(
        started.vendor_id.starts_with(&format!("plan={id};")),
        "{}",
        started.vendor_id
    );
    assert_eq!(t.progress(&o, &started).await.unwrap(), Progress::Running);
    env.sim
        .state
        .advance(SignedDuration::from_secs(RUN_SECONDS + 1));
    let Progress::Succeeded {
        backup_ids,
        size_bytes,
        completed_at,
    } = t.progress(&o, &started).await.unwrap()
    else {
        panic!("not succeeded");
    };
    let made = plan_backups(&env, &id);
    assert_eq!(made.len(), 1, "one machine, one backup");
    assert_eq!(backup_ids, [made[0].0.clone()]);
    assert_eq!(size_bytes, Some(made[0].1));
    assert!(completed_at.is_some());
    assert_eq!(env.count(RUN), 1, "following never runs the plan again");
}

#[tokio::test]
async fn a_lost_answer_is_found_again_with_exactly_one_run_call() {
    let (env, p, id) = deployed().await;
    let rt = taker(&env).await;
    let t = rt.backup_taker().unwrap();
    let o = order(&p, &id);
    // A scheduled run, long enough before the start to be outside the clock-skew margin.
    assert_eq!(env.sim.state.start_scheduled_run(&id), 1);
    env.sim
        .state
        .advance(SignedDuration::from_secs(RUN_SECONDS + 120));
    let since: Timestamp = env.sim.state.now();
    assert_eq!(
        t.find(&o, since).await.unwrap(),
        None,
        "the scheduled run is not this start"
    );
    env.sim.control().record_requests();
    env.sim.control().set_faults(Faults {
        drop_rate: 1.0,
        only_operation: Some(RUN.into()),
        ..Faults::default()
    });
    let e = t.start(&o).await.expect_err("the answer is cut");
    assert!(
        !proves_nothing_started(&e),
        "a cut answer proves nothing: {e}"
    );
    env.sim.control().set_faults(Faults::default());
    let found = t.find(&o, since).await.unwrap().expect("found");
    assert_eq!(t.progress(&o, &found).await.unwrap(), Progress::Running);
    env.sim
        .state
        .advance(SignedDuration::from_secs(RUN_SECONDS + 1));
    let progress = t.progress(&o, &found).await.unwrap();
    let Progress::Succeeded { backup_ids, .. } = progress else {
        panic!("{progress:?}");
    };
    let made = plan_backups(&env, &id);
    assert_eq!((made.len(), backup_ids.len()), (2, 1));
    assert_eq!(
        backup_ids[0], made[1].0,
        "the newer backup, not the scheduled run's"
    );
    assert_eq!(run_calls(&env), 1, "exactly one run call");
}

#[tokio::test]
async fn an_ordered_failure_fails_with_the_vendor_s_message() {
    let (env, p, id) = deployed().await;
    assert!(
        env.sim
            .state
            .fail_runs(&id, 1, "no space left on the device")
    );
    let rt = taker(&env).await;
    let t = rt.backup_taker().unwrap();
    let o = order(&p, &id);
    let started = t.start(&o).await.expect("start");
    env.sim
        .state
        .advance(SignedDuration::from_secs(RUN_SECONDS + 1));
    match t.progress(&o, &started).await.unwrap() {
        Progress::Failed {
            message,
            completed_at,
        } => {
            assert!(message.contains("no space left on the device"), "{message}");
            assert!(completed_at.is_some());
        }
        other => panic!("{other:?}"),
    }
    assert!(plan_backups(&env, &id).is_empty());
}

#[tokio::test]
async fn a_running_plan_is_not_run_beside_itself_and_that_proves_nothing_started() {
    let (env, p, id) = deployed().await;
    assert_eq!(env.sim.state.start_scheduled_run(&id), 1);
    let rt = taker(&env).await;
    let t = rt.backup_taker().unwrap();
    env.sim.control().reset_counters();
    let e = t.start(&order(&p, &id)).await.expect_err("busy");
    assert_eq!(e.kind, ErrorKind::Conflict, "{e}");
    assert!(proves_nothing_started(&e));
    assert_eq!(env.count(RUN), 0);
}

#[tokio::test]
async fn delete_calls_for_a_listed_backup_and_not_for_one_gone() {
    let (env, p, id) = deployed().await;
    let rt = taker(&env).await;
    let t = rt.backup_taker().unwrap();
    let o = order(&p, &id);
    let started = t.start(&o).await.unwrap();
    env.sim
        .state
        .advance(SignedDuration::from_secs(RUN_SECONDS + 1));
    let Progress::Succeeded { backup_ids, .. } = t.progress(&o, &started).await.unwrap() else {
        panic!("not succeeded");
    };
    // Gone already (not listed): nothing to call.
    env.sim.control().record_requests();
    t.delete(&["4f0c1d8e-0000-0000-0000-000000000000".into()])
        .await
        .expect("gone is fine");
    let deletes = || {
        let requests = env.sim.control().requests();
        requests
            .iter()
            .filter(|r| r.request == "DELETE /api/v1/backups")
            .count()
    };
    assert_eq!(deletes(), 0);
    // The simulator serves no DELETE /backups (§2.10.7.5 documents it; reported): only that
    // the call is made is checked here, not its outcome. Its query: backup_delete's tests.
    let _ = t.delete(&backup_ids).await;
    assert_eq!(deletes(), 1);
}
