//! Write safety end to end in process: the real reconciler, an API server in memory, the
//! RuBackup runtime and the simulator. Objects of the asked names made by others are refused,
//! not adopted; a stranger on a re-used id is left alone; a create whose answer came after the
//! timeout is found, not made again; a strategy is switched on only with all its members.

use std::time::{Duration, Instant};

use kube::ResourceExt;
use serde_json::{Value, json};

use super::policy::{policy, rule};
use super::strategy::{spec, strategy};
use super::*;
use crate::api::common::{ConditionStatus, DeletionPolicy};
use crate::api::vendors::rubackup::{RuBackupBackupTypeSchedule, RuBackupPolicy, RuBackupStrategy};
use crate::api::{Policy, Strategy};
use crate::engine::annotations::{CREATE_PENDING, EXTERNAL_NAME};
use crate::engine::backup_health::WallClock;
use crate::engine::context::EngineSettings;
use crate::engine::errors::Backoff;
use crate::engine::reconciler::Next;
use crate::engine::testkit::Engine;
use crate::simulators::harness::Faults;

struct World {
    rig: Rig,
    engine: Engine,
}

impl World {
    /// `pollIntervalSeconds: 1`, so a change at the server is seen within a second.
    async fn new(config: SimConfig, request_timeout_seconds: i32) -> World {
        let mut rig = Rig::with(config, PASSWORD, Default::default()).await;
        rig.request_timeout_seconds = request_timeout_seconds;
        rig.poll_interval_seconds = 1;
        rig.set_password(PASSWORD);
        // Backup health is judged by the server's clock, which the tests move.
        let sim = rig.sim.sim.clone();
        let clock = WallClock(std::sync::Arc::new(move || {
            jiff::Timestamp::from_second(sim.now()).expect("a valid clock")
        }));
        let engine = rig.world.engine(EngineSettings {
            cluster_id: "rb-tests".into(),
            backoff: Backoff::default(),
            pending_requeue: Duration::from_secs(1),
            clock,
        });
        World { rig, engine }
    }

    /// Reconcile as the controller would until the object is Ready and Synced: after a failure
    /// at once (rampart's own annotation and status writes wake it so), otherwise when the
    /// reconciler asks (at most a second later).
    async fn settle<K: Managed>(&self, obj: &K) -> K {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let next = self.engine.reconcile(obj).await;
            let now = self.engine.get(obj).expect("stored");
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
            if let Ok(Next::After(d)) = next {
                tokio::time::sleep(d.min(Duration::from_secs(1))).await;
            }
        }
    }

    /// The objects of `table` named `name`.
    fn named(&self, table: &str, key: &str, name: &str) -> Vec<Value> {
        self.rig
            .sim
            .sim
            .all(table)
            .into_iter()
            .filter(|o| o[key] == name)
            .collect()
    }
}

fn condition<K: Managed>(obj: &K, type_: &str) -> Option<ConditionStatus> {
    obj.managed_status()?
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
        .map(|c| c.status)
}

fn reason<K: Managed>(obj: &K, type_: &str) -> String {
    obj.managed_status()
        .and_then(|s| s.conditions.iter().find(|c| c.type_ == type_))
        .map(|c| format!("{}: {}", c.reason, c.message))
        .unwrap_or_default()
}

fn external_name<K: Managed>(obj: &K) -> Option<String> {
    obj.annotations().get(EXTERNAL_NAME).cloned()
}

/// A pool Vault that is deleted with its pool (Policies and Strategies are by default).
fn vault(name: &str, pool: &str) -> Vault {
    let mut v = vault_cr(name, pool_spec(pool));
    v.spec.managed.deletion_policy = Some(DeletionPolicy::Delete);
    v
}

/// The global schedule rule of [`rule`] on the `Default` pool.
fn schedule_rule() -> Policy {
    let mut p = policy(RuBackupPolicy {
        pool: Some("Default".into()),
        ..rule()
    });
    p.spec.vault_ref = None;
    p
}

/// The strategy of [`spec`] on the `Default` pool, with these administrators.
fn nightly(administrators: &[&str]) -> Strategy {
    strategy(RuBackupStrategy {
        vault_ref: None,
        pool: Some("Default".into()),
        incremental: None,
        administrators: administrators.iter().map(|a| a.to_string()).collect(),
        ..spec()
    })
}

/// Every object of the tables people's objects live in.
fn tables(sim: &crate::simulators::rubackup::Sim) -> Vec<Vec<Value>> {
    [
        "pool_list",
        "global_schedule",
        "backup_strategies",
        "strategy_rules",
    ]
    .iter()
    .map(|t| sim.all(t))
    .collect()
}

fn refused<K: Managed>(obj: &K) -> bool {
    condition(obj, "Synced") == Some(ConditionStatus::False)
        && reason(obj, "Synced").starts_with("AdoptionRefused")
}

#[tokio::test]
async fn objects_of_the_asked_names_made_by_others_are_refused_kept_on_deletion_and_adopted_by_annotation()
 {
    let w = World::new(SimConfig::new(&[(USER, PASSWORD)]), 30).await;
    let sim = &w.rig.sim.sim;
    let pool = sim
        .insert(
            "pool_list",
            json!({"pool_name": "k8s-main", "pool_type": "File system", "media_server": "rubackup-server", "description": "team b"}),
        )
        .unwrap();
    sim.insert(
        "global_schedule",
        json!({"name": "k8s-db1-home", "client_id": "db1 (0a1b2c3d4e5f6071)", "resource_type": "File system", "resource": "/srv/", "pool_id": "Default", "status": "wait"}),
    );
    sim.insert(
        "backup_strategies",
        json!({"name": "k8s-nightly", "status": "wait", "pool_id": "Default"}),
    );
    sim.insert(
        "strategy_rules",
        json!({"strategy_id": "k8s-nightly", "client_id": "db1 (0a1b2c3d4e5f6071)", "resource_type": "File system", "resource": "/srv/"}),
    );
    w.rig.reset();
    let before = tables(sim);

    let v = w.engine.apply(&vault("main", "k8s-main"));
    let p = w.engine.apply(&schedule_rule());
    let s = w.engine.apply(&nightly(&["alice"]));
    for _ in 0..2 {
        w.engine.reconcile(&v).await.expect("reported, not failed");
        w.engine.reconcile(&p).await.expect("reported, not failed");
        w.engine.reconcile(&s).await.expect("reported, not failed");
    }
    for (now, name) in [
        (refused(&w.engine.get(&v).unwrap()), "main"),
        (refused(&w.engine.get(&p).unwrap()), "nightly policy"),
        (refused(&w.engine.get(&s).unwrap()), "nightly strategy"),
    ] {
        assert!(now, "{name} is refused");
    }
    assert_eq!(external_name(&w.engine.get(&v).unwrap()), None);
    assert!(
        reason(&w.engine.get(&v).unwrap(), "Synced")
            .contains(&format!("{EXTERNAL_NAME}: \"{pool}\"")),
        "says how to adopt on purpose: {}",
        reason(&w.engine.get(&v).unwrap(), "Synced")
    );

    // Deleting the managed objects leaves the people's objects where they are.
    w.engine.cluster.delete::<Policy>(NS, &p.name_any());
    w.engine.cluster.delete::<Strategy>(NS, &s.name_any());
    w.engine.reconcile(&p).await.expect("released");
    w.engine.reconcile(&s).await.expect("released");
    assert!(w.engine.get(&p).is_none() && w.engine.get(&s).is_none());
    assert_eq!(sim.journal(), [], "nothing was written");
    let after = tables(sim);
    assert_eq!(after, before);

    // Named in the annotation, the pool is adopted on purpose.
    let mut named = w.engine.get(&v).unwrap();
    named
        .annotations_mut()
        .insert(EXTERNAL_NAME.into(), pool.to_string());
    w.engine.apply(&named);
    let adopted = w.settle(&v).await;
    assert_eq!(external_name(&adopted), Some(pool.to_string()));
    assert_eq!(w.rig.sim.count("POST /pool_list"), 0);
}

#[tokio::test]
async fn after_a_reset_the_stranger_at_the_old_id_is_left_alone_and_rampart_makes_its_own() {
    let w = World::new(SimConfig::new(&[(USER, PASSWORD)]), 30).await;
    let v = w.engine.apply(&vault("main", "k8s-main"));
    let s = w.engine.apply(&nightly(&["alice"]));
    let pool_id = external_name(&w.settle(&v).await).unwrap();
    let strategy_id = external_name(&w.settle(&s).await).unwrap();

    // The server is set up again; people's objects get the old ids.
    let sim = &w.rig.sim.sim;
    sim.reinstall();
    let (pool_n, strategy_n): (i64, i64) = (pool_id.parse().unwrap(), strategy_id.parse().unwrap());
    for n in 2..=pool_n.max(strategy_n) {
        let (table, fields) = if n == pool_n {
            (
                "pool_list",
                json!({"pool_name": "team-b-pool", "pool_type": "File system", "media_server": "rubackup-server"}),
            )
        } else if n == strategy_n {
            (
                "backup_strategies",
                json!({"name": "team-b-nightly", "status": "run", "pool_id": "Default"}),
            )
        } else {
            (
                "pool_list",
                json!({"pool_name": format!("filler-{n}"), "pool_type": "File system", "media_server": "rubackup-server"}),
            )
        };
        assert_eq!(
            sim.insert(table, fields),
            Some(n),
            "ids are handed out again"
        );
    }
    sim.insert(
        "strategy_rules",
        json!({"strategy_id": "team-b-nightly", "client_id": "db1 (0a1b2c3d4e5f6071)", "resource_type": "File system", "resource": "/srv/"}),
    );
    w.rig.reset();
    let theirs = |table: &str, id: &str| sim.get(table, id.parse().unwrap()).unwrap();
    // rampart sees the server as it is now at its next poll.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let their_pool = theirs("pool_list", &pool_id);
    let their_strategy = theirs("backup_strategies", &strategy_id);
    assert_eq!(their_pool["pool_name"], "team-b-pool");
    assert_eq!(their_strategy["name"], "team-b-nightly");

    let v = w.settle(&v).await;
    let s = w.settle(&s).await;
    assert_ne!(external_name(&v), Some(pool_id.clone()), "its own pool");
    assert_ne!(
        external_name(&s),
        Some(strategy_id.clone()),
        "its own strategy"
    );
    assert_eq!(w.named("pool_list", "pool_name", "k8s-main").len(), 1);
    assert_eq!(w.named("backup_strategies", "name", "k8s-nightly").len(), 1);
    assert_eq!(theirs("pool_list", &pool_id), their_pool, "not written");
    assert_eq!(theirs("backup_strategies", &strategy_id), their_strategy);
    assert_eq!(
        w.named("strategy_rules", "strategy_id", "team-b-nightly")
            .len(),
        1,
        "their strategy's rules untouched"
    );
    assert!(
        w.engine
            .cluster
            .reasons("main")
            .contains(&"ExternalNotOwned"),
        "{:?}",
        w.engine.cluster.reasons("main")
    );

    // Deleting deletes rampart's own, never theirs.
    w.engine.cluster.delete::<Strategy>(NS, &s.name_any());
    w.engine.cluster.delete::<Vault>(NS, &v.name_any());
    w.engine.reconcile(&s).await.expect("deleted");
    w.engine.reconcile(&v).await.expect("deleted");
    assert!(w.named("pool_list", "pool_name", "k8s-main").is_empty());
    assert!(
        w.named("backup_strategies", "name", "k8s-nightly")
            .is_empty()
    );
    assert_eq!(theirs("pool_list", &pool_id), their_pool);
    assert_eq!(theirs("backup_strategies", &strategy_id), their_strategy);
    assert_eq!(
        w.named("strategy_rules", "strategy_id", "team-b-nightly")
            .len(),
        1
    );
}

/// Answers to `POST {collection}` come 5 s late; the client gives up after 2 s.
fn late_creates(w: &World, collection: &str) {
    w.rig.sim.server.control.set_faults(Faults {
        respond_after_ms: 5000,
        only_operation: Some(format!("POST /api/v1{collection}")),
        ..Default::default()
    });
}

#[tokio::test]
async fn a_create_answered_after_the_timeout_is_found_not_made_again() {
    let mut config = SimConfig::new(&[(USER, PASSWORD)]);
    // The worst server: a second create of a rule would make a second rule.
    config.unique_schedule_names = false;
    let w = World::new(config, 2).await;

    late_creates(&w, "/pool_list");
    let v = w.settle(&w.engine.apply(&vault("main", "k8s-main"))).await;
    late_creates(&w, "/global_schedule");
    let p = w.settle(&w.engine.apply(&schedule_rule())).await;
    late_creates(&w, "/backup_strategies");
    let s = w.settle(&w.engine.apply(&nightly(&["alice"]))).await;
    w.rig.sim.server.control.set_faults(Faults::default());

    for (collection, key, name, obj) in [
        ("/pool_list", "pool_name", "k8s-main", external_name(&v)),
        (
            "/global_schedule",
            "name",
            "k8s-db1-home",
            external_name(&p),
        ),
        (
            "/backup_strategies",
            "name",
            "k8s-nightly",
            external_name(&s),
        ),
    ] {
        assert_eq!(
            w.rig.sim.count(&format!("POST {collection}")),
            1,
            "{collection}"
        );
        let found = w.named(&collection[1..], key, name);
        assert_eq!(found.len(), 1, "{collection}: {found:?}");
        assert_eq!(obj, Some(found[0]["id"].to_string()), "{collection}");
    }
    // The strategy found after the lost answer was finished: members, then switched on.
    let strategy = &w.named("backup_strategies", "name", "k8s-nightly")[0];
    assert_eq!(strategy["status"], "run");
    assert_eq!(
        w.named("strategy_rules", "strategy_id", "k8s-nightly")
            .len(),
        2
    );
    assert_eq!(
        w.named("strategy_administrators", "strategy", "k8s-nightly")
            .len(),
        1
    );
}

/// Seen in the chaos suite: RuBackup made the pool, the listing that finds its id (the create
/// answers without one) was throttled, and the 429 read as a refusal of the create: the
/// create-pending mark went, and the pool, known by its name alone, was refused for good.
#[tokio::test]
async fn a_pool_made_whose_id_listing_failed_is_adopted_by_the_next_pass() {
    let w = World::new(SimConfig::new(&[(USER, PASSWORD)]), 2).await;
    let control = w.rig.sim.server.control.clone();
    // The create's answer waits 300 ms: long enough to throttle every pool listing after it.
    control.set_faults(Faults {
        respond_after_ms: 300,
        only_operation: Some("POST /api/v1/pool_list".into()),
        ..Default::default()
    });
    let sim = w.rig.sim.sim.clone();
    let faults = control.clone();
    tokio::spawn(async move {
        while !sim.journal().iter().any(|(r, _)| r == "POST /pool_list") {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        faults.set_faults(Faults {
            throttle_rate: 1.0,
            retry_after_secs: 1,
            only_operation: Some("GET /api/v1/pool_list".into()),
            ..Default::default()
        });
    });
    let v = w.engine.apply(&vault("main", "k8s-main"));
    let mut passes = 0;
    let failed = loop {
        match w.engine.reconcile(&v).await {
            Err((e, _)) => break e,
            Ok(next) => {
                passes += 1;
                assert!(passes < 3, "no pass met the throttled listing: {next:?}");
            }
        }
    };
    assert!(
        failed.to_string().contains("accepted the create"),
        "{failed}"
    );
    let stored = w.engine.get(&v).expect("stored");
    assert!(
        stored.annotations().contains_key(CREATE_PENDING),
        "the mark stays for the pool RuBackup made"
    );
    assert_eq!(external_name(&stored), None);
    control.set_faults(Faults::default());

    let v = w.settle(&v).await;
    let pools = w.named("pool_list", "pool_name", "k8s-main");
    assert_eq!(pools.len(), 1, "{pools:?}");
    assert_eq!(external_name(&v), Some(pools[0]["id"].to_string()));
    assert_eq!(w.rig.sim.count("POST /pool_list"), 1);
}

/// Where in the journal the strategy was switched on, and the last member write before it.
fn switched_on_after_members(journal: &[(String, Value)]) -> (Option<usize>, Option<usize>) {
    let on = journal.iter().position(|(r, b)| {
        r == "PATCH /backup_strategies" && b["data"][0]["status"] == "run"
            || r.starts_with("PATCH /backup_strategies/") && b["data"]["status"] == "run"
    });
    let members = journal.iter().rposition(|(r, _)| {
        r.contains("/strategy_rules") || r.contains("/strategy_administrators")
    });
    (on, members)
}

#[tokio::test]
async fn a_strategy_with_a_refused_administrator_stays_off_says_why_and_runs_once_complete() {
    let w = World::new(SimConfig::new(&[(USER, PASSWORD)]), 30).await;
    // mallory is no RuBackup user: RuBackup refuses her as an administrator.
    let s = w.engine.apply(&nightly(&["alice", "mallory"]));
    for _ in 0..3 {
        w.engine
            .reconcile(&s)
            .await
            .expect_err("mallory is refused");
    }
    let now = w.engine.get(&s).unwrap();
    assert_eq!(
        external_name(&now),
        w.named("backup_strategies", "name", "k8s-nightly")
            .first()
            .map(|s| s["id"].to_string()),
        "the strategy made is recorded, not left to be found by name"
    );
    let strategy = &w.named("backup_strategies", "name", "k8s-nightly");
    assert_eq!(strategy.len(), 1);
    assert_eq!(
        strategy[0]["status"], "wait",
        "never switched on half configured"
    );
    assert_eq!(
        w.named("strategy_rules", "strategy_id", "k8s-nightly")
            .len(),
        2
    );
    let journal = w.rig.sim.sim.journal();
    assert_eq!(switched_on_after_members(&journal).0, None, "{journal:?}");
    let why = reason(&now, "Synced");
    assert!(
        why.contains("mallory") && why.contains("stays off (wait)"),
        "{why}"
    );

    // Without mallory every declared member is in place: the strategy runs, switched on last.
    let mut fixed = w.engine.get(&s).unwrap();
    fixed.spec = nightly(&["alice"]).spec;
    w.engine.apply(&fixed);
    w.settle(&s).await;
    let strategy = &w.named("backup_strategies", "name", "k8s-nightly")[0];
    assert_eq!(strategy["status"], "run");
    let journal = w.rig.sim.sim.journal();
    let (on, members) = switched_on_after_members(&journal);
    assert!(
        on > members,
        "switched on after the last member write: {journal:?}"
    );
}

/// Reconcile until the object's `BackupHealthy` reason is `reason` (the task queue and the
/// repository are cached for the one-second poll interval); the object then.
async fn until_backup_reason<K: Managed>(w: &World, obj: &K, reason: &str) -> K {
    w.engine
        .until_reason(obj, "BackupHealthy", reason, Duration::from_secs(15))
        .await
}

#[tokio::test]
async fn a_rule_s_backup_health_follows_its_tasks_and_repository() {
    let w = World::new(SimConfig::new(&[(USER, PASSWORD)]), 2).await;
    let p = w.settle(&w.engine.apply(&schedule_rule())).await;
    until_backup_reason(&w, &p, "NoBackupsYet").await;
    let rule: i64 = external_name(&p).unwrap().parse().unwrap();
    let day = Duration::from_secs(24 * 3600);

    // The rule runs daily at 02:30 Moscow time: a day on, its run made a backup.
    w.rig.sim.sim.advance_clock(day);
    let p = until_backup_reason(&w, &p, "BackupSucceeded").await;
    let facts = p
        .status
        .as_ref()
        .unwrap()
        .backup
        .clone()
        .expect("status.backup");
    assert_eq!(facts.backups_held, Some(1));
    assert_eq!(
        facts.last_backup.map(|r| r.result),
        Some("Succeeded".to_string())
    );
    assert!(
        facts
            .next_expected_run
            .is_some_and(|t| t.ends_with("T23:30:00Z")),
        "02:30 in Moscow"
    );

    let message = "the pool has no free space";
    assert!(w.rig.sim.sim.fail_runs(rule, 1, message));
    w.rig.sim.sim.advance_clock(day);
    let p = until_backup_reason(&w, &p, "LastBackupFailed").await;
    assert!(reason(&p, "BackupHealthy").contains(message));
    let failure = p
        .status
        .clone()
        .unwrap()
        .backup
        .unwrap()
        .last_failure
        .expect("the failure");
    assert!(failure.id.starts_with("task "), "{failure:?}");
    assert_eq!(condition(&p, "Ready"), Some(ConditionStatus::True));

    w.rig.sim.sim.advance_clock(day);
    until_backup_reason(&w, &p, "BackupSucceeded").await;
}

/// A strategy's health follows its rules' tasks: weekly full and daily-but-Sunday incremental
/// schedules together expect a backup every day.
#[tokio::test]
async fn a_strategy_s_backup_health_follows_the_tasks_of_its_rules() {
    let w = World::new(SimConfig::new(&[(USER, PASSWORD)]), 2).await;
    let daily = strategy(RuBackupStrategy {
        vault_ref: None,
        pool: Some("Default".into()),
        incremental: Some(RuBackupBackupTypeSchedule {
            schedule: spec().incremental.unwrap().schedule,
            ..Default::default()
        }),
        administrators: vec![],
        ..spec()
    });
    let s = w.settle(&w.engine.apply(&daily)).await;
    until_backup_reason(&w, &s, "NoBackupsYet").await;
    let id: i64 = external_name(&s).unwrap().parse().unwrap();
    let day = Duration::from_secs(24 * 3600);

    // Whichever day it is, one of the two types ran at 01:00: a backup per rule.
    w.rig.sim.sim.advance_clock(day);
    let s = until_backup_reason(&w, &s, "BackupSucceeded").await;
    let facts = s.status.clone().unwrap().backup.expect("status.backup");
    assert_eq!(facts.backups_held, Some(2), "one backup per rule");
    assert!(
        facts
            .next_expected_run
            .is_some_and(|t| t.ends_with("T01:00:00Z")),
        "the next run of either type"
    );

    let message = "Client is offline";
    assert!(w.rig.sim.sim.fail_strategy_runs(id, 1, message));
    w.rig.sim.sim.advance_clock(day);
    let s = until_backup_reason(&w, &s, "LastBackupFailed").await;
    assert!(reason(&s, "BackupHealthy").contains(message));
    assert_eq!(condition(&s, "Ready"), Some(ConditionStatus::True));

    w.rig.sim.sim.advance_clock(day);
    let s = until_backup_reason(&w, &s, "BackupSucceeded").await;
    assert_eq!(s.status.unwrap().backup.unwrap().backups_held, Some(4));
}

/// A pool's health: the backups in it and the runs writing to it, whatever rule made them; a
/// pool nothing writes to has none, and neither expects a run (a pool has no schedule).
#[tokio::test]
async fn a_pool_s_backup_health_follows_the_runs_writing_to_it() {
    let w = World::new(SimConfig::new(&[(USER, PASSWORD)]), 2).await;
    let main = w.settle(&w.engine.apply(&vault("main", "k8s-main"))).await;
    let spare = w
        .settle(&w.engine.apply(&vault("spare", "k8s-spare")))
        .await;
    let mut writer = schedule_rule();
    writer.spec.ru_backup.as_mut().unwrap().pool = Some("k8s-main".into());
    let p = w.settle(&w.engine.apply(&writer)).await;
    let rule: i64 = external_name(&p).unwrap().parse().unwrap();
    let day = Duration::from_secs(24 * 3600);

    w.rig.sim.sim.advance_clock(day);
    let main = until_backup_reason(&w, &main, "BackupSucceeded").await;
    let facts = main.status.clone().unwrap().backup.expect("status.backup");
    assert_eq!(facts.backups_held, Some(1));
    assert_eq!(facts.next_expected_run, None, "a pool has no schedule");
    let spare = until_backup_reason(&w, &spare, "NoBackupsYet").await;
    assert_eq!(spare.status.unwrap().backup.unwrap().backups_held, Some(0));

    let message = "the pool has no free space";
    assert!(w.rig.sim.sim.fail_runs(rule, 1, message));
    w.rig.sim.sim.advance_clock(day);
    let main = until_backup_reason(&w, &main, "LastBackupFailed").await;
    assert!(reason(&main, "BackupHealthy").contains(message));
}
