//! Huawei CBR end to end: the operator (a separate process) against the real API server and the
//! CBR simulator (in this process). Every assertion on vendor calls reads the simulator's
//! per-operation counters.

use std::collections::BTreeMap;
use std::time::Duration;

use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use rampart::api::Vault;
use rampart::simulators::harness::Faults;
use serde_json::{Value, json};

use crate::cbr_world::{CbrWorld, PASSWORD, PROJECT, T, external_name, patch_spec, vault_spec};
use crate::support::{condition_message, env, has_condition, is_ready, until, wait_for};

fn policy_spec() -> Value {
    json!({
        "providerConfigRef": {"name": "cbr"},
        "schedule": {"cron": "0 1 * * *"},
        "retention": {"keepLast": 7},
        "huaweiCbr": {}
    })
}

fn one(op: &str) -> BTreeMap<String, u64> {
    BTreeMap::from([(op.to_string(), 1)])
}

const PUT_VAULT: &str = "PUT /v3/{project_id}/vaults/{vault_id}";
const ADD_RESOURCES: &str = "POST /v3/{project_id}/vaults/{vault_id}/addresources";
const PUT_POLICY: &str = "PUT /v3/{project_id}/policies/{policy_id}";

#[tokio::test]
async fn vault_and_policy_go_ready_and_each_field_change_costs_exactly_its_call() {
    let w = CbrWorld::new("cbr-fields", json!({"qps": 50, "burst": 50})).await;
    w.create_policy("nightly", policy_spec()).await;
    w.create_vault(
        "app",
        vault_spec(json!({
            "policyRef": {"name": "nightly"},
            "resources": [{"id": "11111111-1111-1111-1111-111111111111", "type": "OS::Nova::Server"}],
            "tags": [{"key": "team", "value": "a"}],
            "smnNotify": true, "threshold": 70
        })),
    )
    .await;
    let policy = wait_for(&w.policies(), "nightly", is_ready(), T).await;
    let vault = wait_for(&w.vaults(), "app", is_ready(), T).await;
    let (pid, vid) = (external_name(&policy), external_name(&vault));
    let sv = w.sim_vault(&vid).expect("vault exists at the vendor");
    assert_eq!(
        sv.policy_id.as_deref(),
        Some(pid.as_str()),
        "bound to the policy"
    );
    assert_eq!(
        (sv.smn_notify, sv.threshold),
        (Some(true), Some(70)),
        "write-only fields applied after create"
    );
    assert!(
        sv.tags.iter().any(|(k, _)| k == "rampart-owner"),
        "ownership tag set"
    );
    assert!(
        sv.tags
            .iter()
            .any(|(k, v)| k == "team" && v.as_deref() == Some("a"))
    );
    assert_eq!(
        vault
            .status
            .as_ref()
            .unwrap()
            .at_provider
            .as_ref()
            .unwrap()
            .policy_id
            .as_deref(),
        Some(pid.as_str())
    );

    // Each change: reset the counters, change one field, wait until Ready at the new
    // generation, and expect exactly the one vendor write it needs.
    let cases: Vec<(&str, Value, BTreeMap<String, u64>)> = vec![
        (
            "sizeGB",
            json!({"huaweiCbr": {"sizeGB": 200}}),
            one(PUT_VAULT),
        ),
        (
            "name",
            json!({"huaweiCbr": {"name": "renamed"}}),
            one(PUT_VAULT),
        ),
        (
            "threshold (write-only)",
            json!({"huaweiCbr": {"threshold": 90}}),
            one(PUT_VAULT),
        ),
        (
            "autoExpand",
            json!({"huaweiCbr": {"autoExpand": true}}),
            one(PUT_VAULT),
        ),
        (
            "resources",
            json!({"huaweiCbr": {"resources": [
                {"id": "11111111-1111-1111-1111-111111111111", "type": "OS::Nova::Server"},
                {"id": "22222222-2222-2222-2222-222222222222", "type": "OS::Nova::Server"}
            ]}}),
            one(ADD_RESOURCES),
        ),
    ];
    for (what, change, expected) in cases {
        w.sim.control().reset_counters();
        patch_spec(&w.vaults(), "app", change).await;
        wait_for(&w.vaults(), "app", is_ready(), T).await;
        assert_eq!(w.writes(), expected, "vendor writes for a change of {what}");
    }
    let sv = w.sim_vault(&vid).unwrap();
    assert_eq!(
        (
            sv.size,
            sv.name.as_str(),
            sv.threshold,
            sv.auto_expand,
            sv.resources.len()
        ),
        (200, "renamed", Some(90), true, 2)
    );

    w.sim.control().reset_counters();
    patch_spec(
        &w.policies(),
        "nightly",
        json!({"schedule": {"cron": "0 4 * * *"}}),
    )
    .await;
    wait_for(&w.policies(), "nightly", is_ready(), T).await;
    assert_eq!(
        w.writes(),
        one(PUT_POLICY),
        "a schedule change is one full PUT of the policy"
    );
    let pattern = w
        .sim
        .console()
        .project(PROJECT)
        .policies
        .iter()
        .find(|p| p.id == pid)
        .unwrap()
        .pattern
        .clone();
    assert_eq!(
        pattern,
        vec!["FREQ=DAILY;INTERVAL=1;BYHOUR=4;BYMINUTE=00".to_string()]
    );
}

#[tokio::test]
async fn vendor_side_drift_is_corrected_or_only_reported_without_update() {
    let w = CbrWorld::new("cbr-drift", json!({"qps": 50, "burst": 50})).await;
    w.create_vault("fixed", vault_spec(json!({"name": "fixed-name"})))
        .await;
    w.create_vault("watched", {
        let mut s = vault_spec(json!({"name": "watched-name"}));
        s["managementPolicies"] = json!(["Observe", "Create", "Delete"]);
        s
    })
    .await;
    let fixed = external_name(&wait_for(&w.vaults(), "fixed", is_ready(), T).await);
    let watched = external_name(&wait_for(&w.vaults(), "watched", is_ready(), T).await);
    for id in [&fixed, &watched] {
        assert!(
            w.sim
                .console()
                .edit_vault(PROJECT, id, |v| v.name = "edited-by-hand".into())
        );
    }
    // Corrected at the next poll (5 s).
    wait_for(
        &w.vaults(),
        "fixed",
        has_condition("Synced", "True", Some("ReconcileSuccess")),
        T,
    )
    .await;
    until("drift on 'fixed' is corrected", || {
        w.sim_vault(&fixed).unwrap().name == "fixed-name"
    })
    .await;
    // Reported, not corrected.
    let v = wait_for(
        &w.vaults(),
        "watched",
        has_condition("Synced", "False", Some("DriftDetected")),
        T,
    )
    .await;
    let drift = &v.status.unwrap().drift;
    assert_eq!(drift.len(), 1, "{drift:?}");
    assert_eq!(drift[0].field, "spec.huaweiCbr.name");
    assert_eq!(drift[0].observed, "\"edited-by-hand\"");
    assert_eq!(
        w.sim_vault(&watched).unwrap().name,
        "edited-by-hand",
        "no Update: the vendor is left alone"
    );
}

#[tokio::test]
async fn deletion_follows_the_policy_and_adoption_and_pause_work() {
    let w = CbrWorld::new("cbr-life", json!({"qps": 50, "burst": 50})).await;
    w.create_vault("doomed", vault_spec(json!({}))).await;
    patch_spec(&w.vaults(), "doomed", json!({"deletionPolicy": "Delete"})).await;
    w.create_vault("kept", vault_spec(json!({}))).await;
    let doomed = external_name(&wait_for(&w.vaults(), "doomed", is_ready(), T).await);
    let kept = external_name(&wait_for(&w.vaults(), "kept", is_ready(), T).await);

    // Adoption: a vault made by hand, then claimed by external name. No create call.
    let existing = w
        .sim
        .console()
        .insert_vault(PROJECT, "made-by-hand", "server", 300);
    w.sim.control().reset_counters();
    let v: Vault = serde_json::from_value(json!({
        "apiVersion": "rampart.dev/v1alpha1", "kind": "Vault",
        "metadata": {"name": "adopted", "annotations": {"rampart.dev/external-name": existing}},
        "spec": vault_spec(json!({"name": "made-by-hand", "sizeGB": 300}))
    }))
    .unwrap();
    w.vaults().create(&PostParams::default(), &v).await.unwrap();
    let adopted = wait_for(&w.vaults(), "adopted", is_ready(), T).await;
    assert_eq!(external_name(&adopted), existing);
    assert_eq!(
        w.sim.control().count("POST /v3/{project_id}/vaults"),
        0,
        "adoption creates nothing"
    );

    // Pause: spec changes are not applied while paused.
    w.vaults()
        .patch(
            "kept",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": {"rampart.dev/paused": "true"}}})),
        )
        .await
        .unwrap();
    wait_for(
        &w.vaults(),
        "kept",
        has_condition("Synced", "False", Some("ReconcilePaused")),
        T,
    )
    .await;
    w.sim.control().reset_counters();
    patch_spec(&w.vaults(), "kept", json!({"huaweiCbr": {"sizeGB": 400}})).await;
    let paused = wait_for(
        &w.vaults(),
        "kept",
        has_condition("Synced", "False", Some("ReconcilePaused")),
        T,
    )
    .await;
    assert_eq!(w.sim_vault(&kept).unwrap().size, 100);
    assert!(
        w.writes().is_empty(),
        "a paused object is left alone: {:?}",
        w.writes()
    );
    assert!(paused.metadata.generation > paused.status.and_then(|s| s.observed_generation));

    // Delete: the vendor vault goes; Orphan (the Vault default): it stays.
    w.vaults()
        .delete("doomed", &DeleteParams::default())
        .await
        .unwrap();
    w.vaults()
        .patch(
            "kept",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": {"rampart.dev/paused": null}}})),
        )
        .await
        .unwrap();
    w.vaults()
        .delete("kept", &DeleteParams::default())
        .await
        .unwrap();
    for name in ["doomed", "kept"] {
        crate::support::wait_gone(&w.vaults(), name, T).await;
    }
    assert!(
        w.sim_vault(&doomed).is_none(),
        "deletionPolicy Delete removes the vendor vault"
    );
    assert!(
        w.sim_vault(&kept).is_some(),
        "deletionPolicy Orphan leaves the vendor vault"
    );
}

#[tokio::test]
async fn a_hundred_vaults_resync_with_list_pages_not_per_object_gets() {
    let w = CbrWorld::new(
        "cbr-scale",
        json!({"qps": 200, "burst": 200, "maxInFlight": 16}),
    )
    .await;
    for i in 0..100 {
        w.create_vault(&format!("v{i:03}"), vault_spec(json!({})))
            .await;
    }
    for i in 0..100 {
        wait_for(
            &w.vaults(),
            &format!("v{i:03}"),
            is_ready(),
            Duration::from_secs(120),
        )
        .await;
    }
    // Let every object go through at least one periodic resync (poll interval 5 s ± 10%),
    // counted from the operator's own reconcile metric.
    let before = reconciles("Vault").await;
    w.sim.control().reset_counters();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while reconciles("Vault").await < before + 100.0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no resync of all vaults within a minute"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let counters = w.sim.control().counters();
    let lists = counters
        .get("GET /v3/{project_id}/vaults")
        .copied()
        .unwrap_or(0);
    let gets = counters
        .get("GET /v3/{project_id}/vaults/{vault_id}")
        .copied()
        .unwrap_or(0);
    // Other tests' vaults share the operator but not this simulator.
    assert_eq!(
        gets, 0,
        "steady state must not GET vaults one by one: {counters:?}"
    );
    assert!(
        (1..=3).contains(&lists),
        "one page of 100 vaults per poll interval, got {lists}: {counters:?}"
    );
    assert!(
        w.writes().is_empty(),
        "steady state writes nothing: {:?}",
        w.writes()
    );
}

/// Successful reconciles of `kind` so far, from the operator's /metrics.
pub async fn reconciles(kind: &str) -> f64 {
    let url = format!("http://127.0.0.1:{}/metrics", env().metrics_port);
    let text = reqwest::get(url).await.unwrap().text().await.unwrap();
    let needle = format!("rampart_reconciles_total{{kind=\"{kind}\",result=\"success\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&needle))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn vendor_faults_and_token_expiry_still_converge_and_never_leak_the_password() {
    let w = CbrWorld::new("cbr-faults", json!({"qps": 100, "burst": 100})).await;
    w.sim.control().set_faults(Faults {
        error_rate: 0.2,
        throttle_rate: 0.1,
        retry_after_secs: 1,
        ..Default::default()
    });
    for i in 0..10 {
        w.create_vault(&format!("f{i}"), vault_spec(json!({})))
            .await;
    }
    w.sim.control().revoke_tokens();
    for i in 0..10 {
        wait_for(
            &w.vaults(),
            &format!("f{i}"),
            is_ready(),
            Duration::from_secs(120),
        )
        .await;
    }
    w.sim.control().set_faults(Faults::default());
    let vault_count = w.sim.console().project(PROJECT).vaults.len();
    assert_eq!(vault_count, 10, "faults never produce a duplicate");
    // The password appears nowhere the operator writes.
    let statuses =
        serde_json::to_string(&w.vaults().list(&Default::default()).await.unwrap()).unwrap();
    let events = env()
        .server
        .kubectl(&["get", "events", "-n", &w.ns, "-o", "json"]);
    let log = env().operator_log();
    let metrics = reqwest::get(format!("http://127.0.0.1:{}/metrics", env().metrics_port))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for (what, text) in [
        ("status", statuses),
        ("metrics", metrics),
        (
            "events",
            String::from_utf8_lossy(&events.stdout).into_owned(),
        ),
        ("operator log", log),
    ] {
        assert!(!text.contains(PASSWORD), "the password leaked into {what}");
    }
}

/// A wrong password in the Secret: the ProviderConfig says so; fixing the Secret recovers
/// without restarting anything.
#[tokio::test]
async fn a_fixed_secret_is_picked_up_without_a_restart() {
    use k8s_openapi::api::core::v1::Secret;
    use kube::api::Api;
    use rampart::api::ProviderConfig;
    let w = CbrWorld::new("cbr-secret", json!({"qps": 50, "burst": 50})).await;
    let secrets: Api<Secret> = Api::namespaced(w.client.clone(), &w.ns);
    let pcs: Api<ProviderConfig> = Api::namespaced(w.client.clone(), &w.ns);
    let set_password = |p: &'static str| {
        let secrets = secrets.clone();
        async move {
            secrets
                .patch(
                    "cbr-credentials",
                    &PatchParams::default(),
                    &Patch::Merge(json!({"stringData": {"password": p}})),
                )
                .await
                .unwrap();
        }
    };
    set_password("wrong-password").await;
    let pc = wait_for(&pcs, "cbr", has_condition("Ready", "False", None), T).await;
    let msg = crate::support::condition_message(&pc, "Ready");
    assert!(
        !msg.contains("wrong-password"),
        "no credential in the condition: {msg}"
    );
    set_password(PASSWORD).await;
    wait_for(&pcs, "cbr", is_ready(), T).await;
    w.create_vault("after-fix", vault_spec(json!({}))).await;
    wait_for(&w.vaults(), "after-fix", is_ready(), T).await;
}

/// A create CBR keeps failing (an injected 503 on every vault create) is retried with
/// backoff: the condition quotes CBR, and the create is not hammered.
#[tokio::test]
async fn a_create_the_vendor_keeps_failing_quotes_it_and_backs_off() {
    let w = CbrWorld::new("cbr-refused", json!({"qps": 50, "burst": 50})).await;
    w.sim.control().set_faults(Faults {
        error_rate: 1.0,
        only_operation: Some("POST /v3/{project_id}/vaults".into()),
        ..Default::default()
    });
    w.create_vault("second", vault_spec(json!({}))).await;
    let v = wait_for(
        &w.vaults(),
        "second",
        has_condition("Synced", "False", Some("ReconcileError")),
        T,
    )
    .await;
    let synced = condition_message(&v, "Synced");
    assert!(
        synced.contains("BackupService.9910"),
        "the condition quotes CBR: {synced}"
    );
    // Over two polls of this provider (about ten seconds), a backoff starting at half a second
    // and doubling allows a handful of attempts; the hot loop this test found made hundreds.
    let creates = || w.sim.control().count("POST /v3/{project_id}/vaults");
    let lists = || w.sim.control().count("GET /v3/{project_id}/vaults");
    let (tried, listed) = (creates(), lists());
    until("two more polls", || lists() >= listed + 2).await;
    let retries = creates() - tried;
    assert!(
        retries <= 6,
        "{retries} creates in two polls: a retry storm"
    );
    assert!(w.sim.console().project(PROJECT).vaults.is_empty());
}

/// A server another vault already protects (CBR would refuse the whole create with
/// BackupService.6103) is left out and named; the vault is created with the rest, once.
#[tokio::test]
async fn a_server_in_another_vault_is_left_out_and_named_and_the_rest_protected() {
    let w = CbrWorld::new("cbr-elsewhere", json!({"qps": 50, "burst": 50})).await;
    let shared = json!({"id": "22222222-2222-2222-2222-222222222222", "type": "OS::Nova::Server"});
    let own = json!({"id": "33333333-3333-3333-3333-333333333333", "type": "OS::Nova::Server"});
    w.create_vault("first", vault_spec(json!({"resources": [shared.clone()]})))
        .await;
    let first = external_name(&wait_for(&w.vaults(), "first", is_ready(), T).await);
    w.create_vault("second", vault_spec(json!({"resources": [shared, own]})))
        .await;
    wait_for(
        &w.vaults(),
        "second",
        has_condition("ResourcesInOtherVaults", "True", Some("HeldByAnotherVault")),
        T,
    )
    .await;
    let v = wait_for(&w.vaults(), "second", is_ready(), T).await;
    let message = condition_message(&v, "ResourcesInOtherVaults");
    assert!(
        message.contains("22222222-2222-2222-2222-222222222222") && message.contains(&first),
        "the condition names the server and its vault: {message}"
    );
    let at = v.status.as_ref().unwrap().at_provider.as_ref().unwrap();
    assert_eq!(at.resources_in_other_vaults.len(), 1);
    assert_eq!(
        at.resources_in_other_vaults[0].vault_id.as_deref(),
        Some(first.as_str())
    );
    let second = w.sim_vault(&external_name(&v)).unwrap();
    let held: Vec<&str> = second.resources.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(held, ["33333333-3333-3333-3333-333333333333"]);
    // Never sent, so never refused: one create each, and no retries over two polls.
    let lists = || w.sim.control().count("GET /v3/{project_id}/vaults");
    let listed = lists();
    until("two more polls", || lists() >= listed + 2).await;
    assert_eq!(w.sim.control().count("POST /v3/{project_id}/vaults"), 2);
    assert_eq!(w.sim.control().count(ADD_RESOURCES), 0);
}
