//! RuBackup end to end: the example's pools, global schedule rule and strategy through the real
//! API server and the operator; strategy rules as a managed set; an API restart and token expiry
//! invisible to the user; a wrong password tried once per backoff window and recovered from as
//! soon as the Secret is fixed.

use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Patch, PatchParams, PostParams};
use rampart::api::{Policy, ProviderConfig, Strategy, Vault};
use serde_json::{Value, json};

use crate::cbr_world::T;
use crate::rubackup_world::{PASSWORD, RbWorld, example};
use crate::support::{has_condition, is_ready, until, wait_for, wait_gone};

#[tokio::test]
async fn the_example_converges_and_strategy_rules_are_a_managed_set() {
    let w = RbWorld::new("rubackup").await;
    wait_for(&w.api::<ProviderConfig>(), "rubackup", is_ready(), T).await;
    w.apply_examples().await;
    for name in ["main", "dedup"] {
        wait_for(&w.api::<Vault>(), name, is_ready(), T).await;
    }
    wait_for(&w.api::<Policy>(), "db1-home", is_ready(), T).await;
    wait_for(&w.api::<Strategy>(), "nightly", is_ready(), T).await;

    // Add one rule, change one, remove one: exactly one POST, one PATCH and one DELETE.
    w.sim.server.control.reset_counters();
    let rules = json!([
        {"client": "db1 (0a1b2c3d4e5f6071)", "resourceType": "File system", "resource": "/var/lib/postgresql/", "priority": 50, "moduleParameters": {"use_snapshot": false}},
        {"client": "db1 (0a1b2c3d4e5f6071)", "resourceType": "File system", "resource": "/etc/"}
    ]);
    w.api::<Strategy>()
        .patch(
            "nightly",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"ruBackup": {"rules": rules}}})),
        )
        .await
        .unwrap();
    wait_for(&w.api::<Strategy>(), "nightly", is_ready(), T).await;
    let writes = w.writes();
    let count = |method: &str| {
        writes
            .iter()
            .filter(|(op, _)| op.starts_with(method) && op.contains("strategy_rules"))
            .map(|(_, n)| n)
            .sum::<u64>()
    };
    assert_eq!(
        (count("POST"), count("PATCH"), count("DELETE")),
        (1, 1, 1),
        "rule writes: {writes:?}"
    );
    assert_eq!(
        writes.values().sum::<u64>(),
        3,
        "nothing else was written: {writes:?}"
    );

    // The API restarts (every token and CSRF token dies) and tokens expire: the user sees no
    // failed reconcile, and a change made after the restart is applied.
    w.sim.sim.restart();
    w.api::<Vault>()
        .patch(
            "main",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"ruBackup": {"description": "after the restart"}}})),
        )
        .await
        .unwrap();
    wait_for(&w.api::<Vault>(), "main", is_ready(), T).await;
    assert!(
        w.warnings().is_empty(),
        "the restart was visible: {:?}",
        w.warnings()
    );
}

#[tokio::test]
async fn a_wrong_password_is_tried_once_per_window_and_a_fixed_secret_recovers_at_once() {
    let w = RbWorld::new("rubackup-pw").await;
    wait_for(&w.api::<ProviderConfig>(), "rubackup", is_ready(), T).await;
    w.apply_examples().await;
    for name in ["main", "dedup"] {
        wait_for(&w.api::<Vault>(), name, is_ready(), T).await;
    }
    wait_for(&w.api::<Policy>(), "db1-home", is_ready(), T).await;
    wait_for(&w.api::<Strategy>(), "nightly", is_ready(), T).await;

    let secrets = w.api::<Secret>();
    let set = |p: &'static str| {
        let secrets = secrets.clone();
        async move {
            secrets
                .patch(
                    "rubackup-credentials",
                    &PatchParams::default(),
                    &Patch::Merge(json!({"stringData": {"password": p}})),
                )
                .await
                .unwrap();
        }
    };
    w.sim.server.control.reset_counters();
    set("wrong-password").await;
    let pc = wait_for(
        &w.api::<ProviderConfig>(),
        "rubackup",
        has_condition("Ready", "False", None),
        T,
    )
    .await;
    let msg = crate::support::condition_message(&pc, "Ready");
    assert!(
        !msg.contains("wrong-password") && !msg.contains(PASSWORD),
        "no password in the condition: {msg}"
    );
    // Every object using the configuration reconciles (and the provider config re-checks) in
    // the next seconds; the runtime still tries the wrong password only once.
    let vaults = w.api::<Vault>();
    wait_for(&vaults, "main", has_condition("Synced", "False", None), T).await;
    assert_eq!(
        w.sim.sim.failed_logins("rubackup"),
        1,
        "one attempt with the wrong password, not one per object"
    );
    assert_eq!(w.sim.count("POST /auth/login"), 1, "and no other login");

    set(PASSWORD).await;
    let fixed = std::time::Instant::now();
    wait_for(&w.api::<ProviderConfig>(), "rubackup", is_ready(), T).await;
    wait_for(&vaults, "main", has_condition("Synced", "True", None), T).await;
    assert!(
        fixed.elapsed() < Duration::from_secs(10),
        "recovered within one poll interval (5 s) of the fix: {:?}",
        fixed.elapsed()
    );
}

#[tokio::test]
async fn updates_are_minimal_patches_drift_follows_the_policies_and_deletion_and_adoption_work() {
    let w = RbWorld::new("rubackup-life").await;
    wait_for(&w.api::<ProviderConfig>(), "rubackup", is_ready(), T).await;
    w.apply_examples().await;
    for name in ["main", "dedup"] {
        wait_for(&w.api::<Vault>(), name, is_ready(), T).await;
    }
    wait_for(&w.api::<Policy>(), "db1-home", is_ready(), T).await;
    wait_for(&w.api::<Strategy>(), "nightly", is_ready(), T).await;
    let merge = |spec: Value| Patch::Merge(json!({"spec": spec}));
    let pp = PatchParams::default();

    // One changed field per kind: exactly one PATCH each.
    let cases: [(&str, u64); 3] = [
        ("pool_list", 1),
        ("global_schedule", 1),
        ("backup_strategies", 1),
    ];
    w.sim.server.control.reset_counters();
    w.api::<Vault>()
        .patch(
            "main",
            &pp,
            &merge(json!({"ruBackup": {"description": "changed"}})),
        )
        .await
        .unwrap();
    w.api::<Policy>()
        .patch(
            "db1-home",
            &pp,
            &merge(json!({"ruBackup": {"priority": 90}})),
        )
        .await
        .unwrap();
    w.api::<Strategy>()
        .patch(
            "nightly",
            &pp,
            &merge(json!({"ruBackup": {"incremental": {"storageDuration": "21 days"}}})),
        )
        .await
        .unwrap();
    wait_for(&w.api::<Vault>(), "main", is_ready(), T).await;
    wait_for(&w.api::<Policy>(), "db1-home", is_ready(), T).await;
    wait_for(&w.api::<Strategy>(), "nightly", is_ready(), T).await;
    let writes = w.writes();
    for (table, n) in cases {
        assert_eq!(
            writes
                .get(&format!("PATCH /api/v1/{table}/{{id}}"))
                .copied()
                .unwrap_or(0),
            n,
            "{table}: {writes:?}"
        );
    }
    assert_eq!(writes.values().sum::<u64>(), 3, "nothing else: {writes:?}");

    // Drift: corrected on `main`; only reported on `dedup`, which may not update. The example's
    // `dedup` declares no description, so it gets one first, while it still may update.
    let id_of = |v: &Vault| crate::cbr_world::external_name(v).parse::<i64>().unwrap();
    let main_id = id_of(&w.api::<Vault>().get("main").await.unwrap());
    let dedup_id = id_of(&w.api::<Vault>().get("dedup").await.unwrap());
    let description_of = |id: i64| {
        w.sim
            .sim
            .store
            .lock()
            .unwrap()
            .table("pool_list")
            .get(&id)
            .and_then(|p| p.get("description").cloned())
    };
    w.api::<Vault>()
        .patch(
            "dedup",
            &pp,
            &merge(json!({"ruBackup": {"description": "dedup pool"}})),
        )
        .await
        .unwrap();
    until("dedup has its description", || {
        description_of(dedup_id) == Some(json!("dedup pool"))
    })
    .await;
    w.api::<Vault>()
        .patch(
            "dedup",
            &pp,
            &merge(json!({"managementPolicies": ["Observe", "Create", "Delete"]})),
        )
        .await
        .unwrap();
    wait_for(&w.api::<Vault>(), "dedup", is_ready(), T).await;
    assert!(w.sim.sim.edit(
        "pool_list",
        main_id,
        json!({"description": "edited by hand"})
    ));
    assert!(w.sim.sim.edit(
        "pool_list",
        dedup_id,
        json!({"description": "edited by hand"})
    ));
    wait_for(
        &w.api::<Vault>(),
        "dedup",
        has_condition("Synced", "False", Some("DriftDetected")),
        T,
    )
    .await;
    until("drift on main is corrected", || {
        description_of(main_id) == Some(json!("changed"))
    })
    .await;
    assert_eq!(
        description_of(dedup_id),
        Some(json!("edited by hand")),
        "dedup's drift is only reported"
    );

    // Deletion follows deletionPolicy (Vault defaults to Orphan); adoption by external name.
    w.api::<Policy>()
        .delete("db1-home", &Default::default())
        .await
        .unwrap();
    crate::support::wait_gone(&w.api::<Policy>(), "db1-home", T).await;
    assert!(
        w.sim
            .sim
            .store
            .lock()
            .unwrap()
            .table("global_schedule")
            .is_empty(),
        "Policy (Delete) removed the rule"
    );
    w.api::<Vault>()
        .delete("dedup", &Default::default())
        .await
        .unwrap();
    crate::support::wait_gone(&w.api::<Vault>(), "dedup", T).await;
    assert!(
        w.sim
            .sim
            .store
            .lock()
            .unwrap()
            .table("pool_list")
            .contains_key(&dedup_id),
        "Vault (Orphan) kept the pool"
    );
    let mut doc = example("Vault")
        .into_iter()
        .find(|d| d["metadata"]["name"] == "dedup")
        .unwrap();
    doc["metadata"] = json!({"name": "dedup-again", "annotations": {"rampart.dev/external-name": dedup_id.to_string()}});
    w.sim.server.control.reset_counters();
    w.api::<Vault>()
        .create(
            &PostParams::default(),
            &serde_json::from_value(doc).unwrap(),
        )
        .await
        .unwrap();
    wait_for(&w.api::<Vault>(), "dedup-again", is_ready(), T).await;
    assert_eq!(w.sim.count("POST /pool_list"), 0, "adopted, not created");
}

/// A Strategy's Vault references are references like any other: the Strategy is woken as soon
/// as its Vault gets an external name (not at its next backoff retry), and the Vault waits to be
/// deleted while the Strategy uses it.
#[tokio::test]
async fn a_strategy_is_woken_by_its_vault_and_holds_its_deletion() {
    let w = RbWorld::new("rubackup-refs").await;
    wait_for(&w.api::<ProviderConfig>(), "rubackup", is_ready(), T).await;
    let pp = PostParams::default();
    for doc in example("Strategy") {
        w.api::<Strategy>()
            .create(&pp, &serde_json::from_value(doc).unwrap())
            .await
            .unwrap();
    }
    // The Strategy waits for its Vaults, retrying with a backoff that doubles (5, 10, 20, 40 s).
    // Once it has waited 35 s, its next retry is at least 30 s away: a Strategy that becomes
    // Ready sooner than that after its Vaults was woken by them.
    let waiting = wait_for(
        &w.api::<Strategy>(),
        "nightly",
        has_condition("Synced", "False", Some("ReconcileError")),
        T,
    )
    .await;
    let since = |s: &Strategy| {
        let t = s
            .status
            .as_ref()
            .unwrap()
            .conditions
            .iter()
            .find(|c| c.type_ == "Synced");
        let t: jiff::Timestamp = t.unwrap().last_transition_time.parse().unwrap();
        jiff::Timestamp::now().duration_since(t).as_secs_f64()
    };
    assert!(since(&waiting) < 30.0, "the first wait was just now");
    let api = w.api::<Strategy>();
    while since(&api.get("nightly").await.unwrap()) < 35.0 {
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    for mut doc in example("Vault") {
        doc["spec"]["deletionPolicy"] = json!("Delete");
        w.api::<Vault>()
            .create(&pp, &serde_json::from_value(doc).unwrap())
            .await
            .unwrap();
    }
    for name in ["main", "dedup"] {
        wait_for(&w.api::<Vault>(), name, is_ready(), T).await;
    }
    wait_for(
        &w.api::<Strategy>(),
        "nightly",
        is_ready(),
        Duration::from_secs(20),
    )
    .await;

    // Deleting the Vault waits while the Strategy uses it; its pool stays.
    let main_id = crate::cbr_world::external_name(&w.api::<Vault>().get("main").await.unwrap())
        .parse::<i64>()
        .unwrap();
    let pool_exists = || {
        w.sim
            .sim
            .store
            .lock()
            .unwrap()
            .table("pool_list")
            .get(&main_id)
            .is_some()
    };
    w.api::<Vault>()
        .delete("main", &Default::default())
        .await
        .unwrap();
    let held = wait_for(
        &w.api::<Vault>(),
        "main",
        has_condition("Ready", "False", Some("Deleting")),
        T,
    )
    .await;
    let message = &held.status.unwrap().conditions[0].message;
    assert!(message.contains("Strategy/nightly"), "{message}");
    assert!(
        pool_exists(),
        "the pool is not deleted while the Strategy uses it"
    );

    // Once the Strategy is gone, the Vault and its pool go.
    w.api::<Strategy>()
        .delete("nightly", &Default::default())
        .await
        .unwrap();
    wait_gone(&w.api::<Vault>(), "main", T).await;
    assert!(!pool_exists());
}
