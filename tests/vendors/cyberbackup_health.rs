//! Backup health of a Cyber Backup Policy end to end: the real reconciler (an API server in
//! memory), the runtime and the simulator, judged at the simulator's clock. The plan runs on
//! its schedule as the clock passes its starts: a success, a failure with the vendor's message,
//! a recovery, then no run once the Policy switches the plan off. A Vault (a destination) reads
//! the backups held at its location and the failures of the plans writing to it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kube::ResourceExt;
use rampart::api::common::ConditionStatus;
use rampart::api::{Policy, Vault};
use rampart::engine::annotations::EXTERNAL_NAME;
use rampart::engine::backup_health::WallClock;
use rampart::engine::context::EngineSettings;
use rampart::engine::errors::Backoff;
use rampart::engine::events::EventType;
use rampart::engine::managed::Managed;
use rampart::engine::testkit::Engine;
use rampart::simulators::cyberbackup::SimConfig;
use serde_json::json;

use crate::cyberbackup_support::*;

const DAY: jiff::SignedDuration = jiff::SignedDuration::from_hours(24);

fn reason<K: Managed>(obj: &K, type_: &str) -> String {
    obj.managed_status()
        .and_then(|s| s.conditions.iter().find(|c| c.type_ == type_))
        .map(|c| format!("{}: {}", c.reason, c.message))
        .unwrap_or_default()
}

fn condition<K: Managed>(obj: &K, type_: &str) -> Option<ConditionStatus> {
    obj.managed_status()?
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
        .map(|c| c.status)
}

/// A simulator, the provider polled every second, and an engine on the simulator's clock.
async fn world() -> (Env, Engine) {
    let env = Env::with(
        SimConfig {
            run_seconds: 60,
            ..Default::default()
        },
        100,
    )
    .await;
    let mut spec = serde_json::to_value(provider_spec(&env.sim.url(), 100)).unwrap();
    spec["pollIntervalSeconds"] = json!(1);
    env.world.source.set(
        env.key.clone(),
        serde_json::from_value(spec).unwrap(),
        &[("username", "admin"), ("password", "admin-password")],
    );
    let sim = env.sim.state.clone();
    let engine = env.world.engine(EngineSettings {
        cluster_id: CLUSTER_ID.into(),
        backoff: Backoff::default(),
        pending_requeue: Duration::from_secs(1),
        clock: WallClock(Arc::new(move || sim.now())),
    });
    engine.apply(&store());
    (env, engine)
}

/// Move the simulator's clock, then let the poll interval pass: listings made before the move
/// would be judged at the new time (a backup the clock moved past would look missed).
async fn advance(env: &Env, by: jiff::SignedDuration) {
    env.sim.state.advance(by);
    tokio::time::sleep(Duration::from_millis(1100)).await;
}

/// Reconcile until Ready and Synced.
async fn settle<K: Managed>(engine: &Engine, obj: &K) -> K {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let next = engine.reconcile(obj).await;
        let now = engine.get(obj).expect("stored");
        if condition(&now, "Ready") == Some(ConditionStatus::True)
            && condition(&now, "Synced") == Some(ConditionStatus::True)
        {
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "{} did not settle: {next:?} {:?}",
            obj.name_any(),
            now.managed_status()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Reconcile until `BackupHealthy` has `reason` (the listings are cached for the one-second
/// poll interval); the object then.
async fn until_backup_reason<K: Managed>(engine: &Engine, obj: &K, reason: &str) -> K {
    engine
        .until_reason(obj, "BackupHealthy", reason, Duration::from_secs(20))
        .await
}

fn nightly(machine: &str, enabled: bool) -> Policy {
    policy(
        "nightly",
        json!({"enabled": enabled, "schedule": {"cron": "0 2 * * *"}, "vaultRef": {"name": "store"},
               "cyberBackup": {"type": "policy.backup.machine", "targets": {"resourceIds": [machine]}}}),
    )
}

#[tokio::test]
async fn a_plan_s_backup_health_follows_its_scheduled_runs() {
    let (env, engine) = world().await;
    let machine = env.resource_id("DESKTOP-JRPTA4A");
    let p = settle(&engine, &engine.apply(&nightly(&machine, true))).await;
    let plan = rampart::providers::cyberbackup::models::plan_id(&p.annotations()[EXTERNAL_NAME]);
    until_backup_reason(&engine, &p, "NoBackupsYet").await;

    // Daily at 02:00 UTC: a day on, the plan ran and made a backup.
    advance(&env, DAY).await;
    let p = until_backup_reason(&engine, &p, "BackupSucceeded").await;
    assert_eq!(condition(&p, "BackupHealthy"), Some(ConditionStatus::True));
    let facts = p.status.clone().unwrap().backup.expect("status.backup");
    assert_eq!(facts.backups_held, Some(1));
    let last = facts.last_backup.expect("a last backup");
    assert_eq!(last.result, "Succeeded");
    let backups = env.sim.state.read(|w| {
        w.backups
            .iter()
            .map(|b| b.backup_id.clone())
            .collect::<Vec<_>>()
    });
    assert_eq!(backups, vec![last.id.clone()], "the backup's own id");
    assert!(
        last.time.contains("T02:01:00"),
        "the run ended a minute after 02:00: {last:?}"
    );
    assert!(
        facts
            .next_expected_run
            .is_some_and(|t| t.ends_with("T02:00:00Z"))
    );
    assert!(facts.last_successful_backup_time.is_some());

    // The next run fails with the vendor's message.
    let message = "The backup location has no free space.";
    assert!(env.sim.state.fail_runs(&plan, 1, message));
    advance(&env, DAY).await;
    let p = until_backup_reason(&engine, &p, "LastBackupFailed").await;
    assert_eq!(condition(&p, "BackupHealthy"), Some(ConditionStatus::False));
    assert!(
        reason(&p, "BackupHealthy").contains(message),
        "{}",
        reason(&p, "BackupHealthy")
    );
    let facts = p.status.clone().unwrap().backup.unwrap();
    let failure = facts.last_failure.expect("the failure");
    assert!(failure.id.starts_with("application "), "{failure:?}");
    assert_eq!(facts.backups_held, Some(1), "a failed run keeps nothing");
    let warnings: Vec<_> = engine
        .cluster
        .events("nightly")
        .into_iter()
        .filter(|e| e.type_ == EventType::Warning && e.reason == "LastBackupFailed")
        .collect();
    assert_eq!(warnings.len(), 1, "one Warning for the change of verdict");
    assert!(warnings[0].note.contains(message), "{:?}", warnings[0]);
    assert_eq!(condition(&p, "Ready"), Some(ConditionStatus::True));

    // The run after succeeds again.
    advance(&env, DAY).await;
    let p = until_backup_reason(&engine, &p, "BackupSucceeded").await;
    assert_eq!(
        p.status.clone().unwrap().backup.unwrap().backups_held,
        Some(2)
    );

    // Switched off through the Policy: no run, and past the grace the backup is missed.
    let p = settle(&engine, &engine.apply(&nightly(&machine, false))).await;
    assert!(!env.plan(&plan)["enabled"].as_bool().unwrap());
    let runs = env.sim.state.read(|w| w.tasks.len());
    assert_eq!(runs, 3);
    advance(&env, DAY * 3).await;
    let p = until_backup_reason(&engine, &p, "BackupMissed").await;
    assert_eq!(condition(&p, "BackupHealthy"), Some(ConditionStatus::False));
    assert_eq!(
        p.status.clone().unwrap().backup.unwrap().backups_held,
        Some(2),
        "no run while off"
    );
    assert_eq!(
        env.sim.state.read(|w| w.tasks.len()),
        runs,
        "no run while off"
    );
}

#[tokio::test]
async fn every_policy_s_health_is_read_from_one_listing_per_poll() {
    let mut env = Env::start().await;
    env.add_vault_ref(&store());
    let machine = env.resource_id("DESKTOP-JRPTA4A");
    let p = nightly(&machine, true);
    let rt = env.runtime().await;
    let a = policy_adapter(&rt);
    let id = env.create(a, &p).await;
    env.sim.state.settle();
    let plan = rampart::providers::cyberbackup::models::plan_id(&id);
    assert_eq!(env.sim.state.start_scheduled_run(&plan), 1);
    env.sim.state.settle();
    env.sim.control().reset_counters();
    let others = [
        "5ea704d9-a214-4e81-97d9-d228098f8431",
        "53b86e12-3c65-4721-bf31-92ddebfa769f",
    ];
    for plan in others.iter().copied().chain([id.as_str()]) {
        let report = a.backups(&p, plan, &env.ctx(false, None)).await.unwrap();
        assert!(
            matches!(report.facts, rampart::health::Facts::Runs(_)),
            "{report:?}"
        );
    }
    for op in [
        "GET /api/v1/policy_applications",
        "GET /api/v1/archives",
        "GET /api/v1/backups",
        "GET /api/v1/tasks",
    ] {
        assert_eq!(env.count(op), 1, "{op}: {:?}", env.sim.control().counters());
    }
    let report = a.backups(&p, &id, &env.ctx(false, None)).await.unwrap();
    let rampart::health::Facts::Runs(runs) = report.facts else {
        panic!("readable")
    };
    assert_eq!((runs.len(), report.held), (1, Some(1)), "{runs:?}");
}

/// A second destination no plan writes to.
fn spare() -> Vault {
    vault(
        "spare",
        json!({"name": "spare-dg10", "uri": "F:"}),
        Some("spare-dg10"),
    )
}

fn backup_ids(env: &Env) -> Vec<String> {
    env.sim
        .state
        .read(|w| w.backups.iter().map(|b| b.backup_id.clone()).collect())
}

#[tokio::test]
async fn a_destination_s_backup_health_reads_its_backups_and_the_plans_writing_to_it() {
    let (env, engine) = world().await;
    let store = settle(&engine, &store()).await;
    let spare = settle(&engine, &engine.apply(&spare())).await;
    let machine = env.resource_id("DESKTOP-JRPTA4A");
    let p = settle(&engine, &engine.apply(&nightly(&machine, true))).await;
    let plan = rampart::providers::cyberbackup::models::plan_id(&p.annotations()[EXTERNAL_NAME]);
    until_backup_reason(&engine, &store, "NoBackupsYet").await;

    advance(&env, DAY).await;
    let store = until_backup_reason(&engine, &store, "BackupSucceeded").await;
    assert_eq!(
        condition(&store, "BackupHealthy"),
        Some(ConditionStatus::True)
    );
    let facts = store.status.clone().unwrap().backup.expect("status.backup");
    assert_eq!(facts.backups_held, Some(1));
    assert_eq!(
        vec![facts.last_backup.expect("a last backup").id],
        backup_ids(&env),
        "the simulator's backup"
    );
    assert_eq!(
        facts.next_expected_run, None,
        "a destination has no schedule of its own"
    );

    // The plan writing here fails: the destination's newest run is that failure.
    let message = "The backup location has no free space.";
    assert!(env.sim.state.fail_runs(&plan, 1, message));
    advance(&env, DAY).await;
    let store = until_backup_reason(&engine, &store, "LastBackupFailed").await;
    assert_eq!(
        condition(&store, "BackupHealthy"),
        Some(ConditionStatus::False)
    );
    assert!(
        reason(&store, "BackupHealthy").contains(message),
        "{}",
        reason(&store, "BackupHealthy")
    );
    let facts = store.status.clone().unwrap().backup.unwrap();
    assert!(
        facts
            .last_failure
            .unwrap()
            .message
            .unwrap()
            .contains(message)
    );
    assert_eq!(facts.backups_held, Some(1), "a failed run keeps nothing");
    let warnings = engine
        .cluster
        .events("store")
        .into_iter()
        .filter(|e| e.type_ == EventType::Warning && e.reason == "LastBackupFailed")
        .count();
    assert_eq!(warnings, 1);
    assert_eq!(condition(&store, "Ready"), Some(ConditionStatus::True));

    // The other destination holds nothing and no plan writes to it.
    let spare = until_backup_reason(&engine, &spare, "NoBackupsYet").await;
    let facts = spare.status.clone().unwrap().backup.unwrap();
    assert_eq!((facts.backups_held, facts.last_backup), (Some(0), None));
}

#[tokio::test]
async fn every_vault_s_health_is_read_from_the_listings_the_policies_read() {
    let mut env = Env::start().await;
    env.add_vault_ref(&store());
    let machine = env.resource_id("DESKTOP-JRPTA4A");
    let p = nightly(&machine, true);
    let rt = env.runtime().await;
    let (pa, va) = (policy_adapter(&rt), vault_adapter(&rt));
    let id = env.create(pa, &p).await;
    env.sim.state.settle();
    let plan = rampart::providers::cyberbackup::models::plan_id(&id);
    assert_eq!(env.sim.state.start_scheduled_run(&plan), 1);
    env.sim.state.settle();
    let vaults = [(store(), "customer-dg09"), (spare(), "spare-dg10")];
    // A resync: the Policy's backups, then each Vault as the reconciler reads it (observe,
    // then backup health), counting the calls after each Vault.
    let resync = || async {
        pa.backups(&p, &id, &env.ctx(false, None)).await.unwrap();
        let mut counted = Vec::new();
        let mut reports = Vec::new();
        for (v, name) in &vaults {
            env.observe(va, v, name).await;
            reports.push(va.backups(v, name, &env.ctx(false, None)).await.unwrap());
            counted.push(env.sim.control().counters());
        }
        (counted, reports)
    };
    env.sim.control().reset_counters();
    let (counted, reports) = resync().await;
    assert_eq!(counted[0], counted[1], "the second Vault cost a call");
    for op in [
        "GET /api/v1/archives",
        "GET /api/v1/backups",
        "GET /api/v1/policies",
        "GET /api/v1/policy_applications",
        "GET /api/v1/tasks",
    ] {
        assert_eq!(env.count(op), 1, "{op}: {:?}", counted[1]);
    }
    let held: Vec<_> = reports.iter().map(|r| r.held).collect();
    assert_eq!(held, [Some(1), Some(0)]);
    // Within the poll interval the next resync costs nothing.
    env.sim.control().reset_counters();
    resync().await;
    assert_eq!(
        env.sim.control().total(),
        0,
        "{:?}",
        env.sim.control().counters()
    );
}
