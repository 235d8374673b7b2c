//! Cyber Backup end to end: the example's destination and protection plan through the real API
//! server and the operator; an on-demand run; a Vault still referenced by a Policy waits to be
//! deleted and says why.

use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use rampart::api::{Policy, ProviderConfig, Vault};
use rampart::simulators::cyberbackup::{CyberBackupSim, SimConfig};
use serde_json::{Value, json};

use crate::cbr_world::T;
use crate::cyber_world::{CyberWorld, example_documents};
use crate::support::{env, has_condition, is_ready, namespace, until, wait_for};

/// The last on-demand run in the Policy's status reached `state`.
fn last_run_is(
    state: &'static str,
    requested: &'static str,
) -> impl kube::runtime::wait::Condition<Policy> {
    move |p: Option<&Policy>| {
        p.and_then(|p| p.status.as_ref())
            .and_then(|s| s.at_provider.as_ref())
            .and_then(|a| a.last_run.as_ref())
            .is_some_and(|r| r.state == state && r.requested_at == requested)
    }
}

#[tokio::test]
async fn the_example_converges_runs_on_demand_and_deletion_waits_for_referrers() {
    let w = CyberWorld::new("cyber").await;
    w.apply_example("Vault").await;
    w.apply_example("Policy").await;
    wait_for(&w.vaults(), "backup-share", is_ready(), T).await;
    wait_for(&w.policies(), "machines-nightly", is_ready(), T).await;
    assert_eq!(
        w.sim.state.read(|world| world.credentials.len()),
        1,
        "the destination's credentials are registered"
    );

    // The example asks for one run; it goes through and its outcome is in status.
    wait_for(
        &w.policies(),
        "machines-nightly",
        last_run_is("Succeeded", "2026-01-01T00:00:00Z"),
        Duration::from_secs(90),
    )
    .await;
    // A new request runs the plan again.
    w.policies()
        .patch(
            "machines-nightly",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": {"rampart.dev/run-requested-at": "2026-02-01T00:00:00Z"}}})),
        )
        .await
        .unwrap();
    wait_for(
        &w.policies(),
        "machines-nightly",
        last_run_is("Succeeded", "2026-02-01T00:00:00Z"),
        Duration::from_secs(90),
    )
    .await;

    // The destination is still used by the plan: its deletion waits and says why.
    w.vaults()
        .delete("backup-share", &DeleteParams::default())
        .await
        .unwrap();
    let v = wait_for(
        &w.vaults(),
        "backup-share",
        has_condition("Ready", "False", Some("Deleting")),
        T,
    )
    .await;
    let msg = crate::support::condition_message(&v, "Ready");
    assert!(
        msg.contains("still referenced by Policy/machines-nightly"),
        "{msg}"
    );
    assert_eq!(
        w.sim.state.read(|world| world.credentials.len()),
        1,
        "nothing deleted at the vendor yet"
    );
    let events = env()
        .server
        .kubectl(&["get", "events", "-n", &w.ns, "-o", "json"]);
    assert!(String::from_utf8_lossy(&events.stdout).contains("DeletionBlocked"));

    // Once the plan is gone (its applications revoked first), the destination goes too.
    w.policies()
        .delete("machines-nightly", &DeleteParams::default())
        .await
        .unwrap();
    crate::support::wait_gone(&w.policies(), "machines-nightly", T).await;
    crate::support::wait_gone(&w.vaults(), "backup-share", T).await;
    assert_eq!(
        w.sim
            .state
            .read(|world| (world.policies.len(), world.credentials.len())),
        (0, 0)
    );
}

/// Vendor writes since the last reset, without token requests and on-demand runs.
fn plan_writes(w: &CyberWorld) -> std::collections::BTreeMap<String, u64> {
    w.sim
        .control()
        .counters()
        .into_iter()
        .filter(|(op, _)| {
            !op.starts_with("GET ") && !op.contains("/idp/token") && !op.contains(":run")
        })
        .collect()
}

async fn change_policy(w: &CyberWorld, spec: Value) {
    w.sim.control().reset_counters();
    w.policies()
        .patch(
            "machines-nightly",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": spec})),
        )
        .await
        .unwrap();
    wait_for(&w.policies(), "machines-nightly", is_ready(), T).await;
}

#[tokio::test]
async fn each_plan_change_is_its_one_call_drift_is_corrected_and_plans_are_adopted() {
    use rampart::simulators::cyberbackup::control::PlanEdit;
    let w = CyberWorld::new("cyber-calls").await;
    w.apply_example("Vault").await;
    w.apply_example("Policy").await;
    wait_for(&w.vaults(), "backup-share", is_ready(), T).await;
    // Let the example's on-demand run finish so it does not mix with the counted calls.
    wait_for(
        &w.policies(),
        "machines-nightly",
        last_run_is("Succeeded", "2026-01-01T00:00:00Z"),
        Duration::from_secs(90),
    )
    .await;
    let id = crate::cbr_world::external_name(&w.policies().get("machines-nightly").await.unwrap());
    let one = |op: &str| std::collections::BTreeMap::from([(op.to_string(), 1u64)]);

    change_policy(&w, json!({"cyberBackup": {"randomDelayMinutes": 45}})).await;
    assert_eq!(
        plan_writes(&w),
        one("PATCH /api/v1/policies/{id}"),
        "a settings change is one PATCH"
    );
    change_policy(&w, json!({"cyberBackup": {"targets": {"resourceNames": ["DESKTOP-JRPTA4A", "win10x64simple"]}}})).await;
    assert_eq!(
        plan_writes(&w),
        one("POST /api/v1/policy_applications"),
        "a target added is one apply"
    );
    change_policy(
        &w,
        json!({"cyberBackup": {"targets": {"resourceNames": ["DESKTOP-JRPTA4A"]}}}),
    )
    .await;
    assert_eq!(
        plan_writes(&w),
        one("DELETE /api/v1/policy_applications"),
        "a target removed is one revoke"
    );
    change_policy(&w, json!({"enabled": false})).await;
    assert_eq!(
        plan_writes(&w),
        one("PATCH /api/v1/policy_applications/enabled"),
        "disabling uses the enabled endpoint"
    );

    // Renamed by hand in the console: put back at the next poll.
    assert!(w.sim.state.edit_plan(
        &id,
        &PlanEdit {
            name: Some("renamed by hand".into()),
            ..Default::default()
        }
    ));
    until("the hand rename is corrected", || {
        !w.sim
            .state
            .read(|world| world.policies.values().any(|p| p.name == "renamed by hand"))
    })
    .await;

    // Adoption: the plan outlives its object (Orphan) and a new object claims it by id.
    change_policy(&w, json!({"deletionPolicy": "Orphan"})).await;
    w.policies()
        .delete("machines-nightly", &DeleteParams::default())
        .await
        .unwrap();
    crate::support::wait_gone(&w.policies(), "machines-nightly", T).await;
    let mut doc = example_documents()
        .into_iter()
        .find(|d| d["kind"] == "Policy")
        .unwrap();
    doc["metadata"] = json!({"name": "adopted", "annotations": {"rampart.dev/external-name": id}});
    doc["spec"]["enabled"] = json!(false);
    doc["spec"]["cyberBackup"]["randomDelayMinutes"] = json!(45);
    w.sim.control().reset_counters();
    w.policies()
        .create(
            &PostParams::default(),
            &serde_json::from_value(doc).unwrap(),
        )
        .await
        .unwrap();
    wait_for(&w.policies(), "adopted", is_ready(), T).await;
    assert_eq!(
        w.sim.control().count("POST /api/v1/policies"),
        0,
        "adoption creates no plan"
    );
    assert_eq!(w.sim.state.read(|world| world.policies.len()), 1);
}

/// Ask for a run with `value` and wait for its outcome in the Policy's status.
async fn run_and_wait(w: &CyberWorld, value: &'static str, state: &'static str) -> Policy {
    w.policies()
        .patch(
            "machines-nightly",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"metadata": {"annotations": {"rampart.dev/run-requested-at": value}}}),
            ),
        )
        .await
        .unwrap();
    wait_for(
        &w.policies(),
        "machines-nightly",
        last_run_is(state, value),
        Duration::from_secs(90),
    )
    .await
}

/// The example, converged, with its own on-demand run done.
async fn converged(prefix: &str) -> CyberWorld {
    let w = CyberWorld::new(prefix).await;
    w.apply_example("Vault").await;
    w.apply_example("Policy").await;
    wait_for(&w.vaults(), "backup-share", is_ready(), T).await;
    wait_for(
        &w.policies(),
        "machines-nightly",
        last_run_is("Succeeded", "2026-01-01T00:00:00Z"),
        Duration::from_secs(90),
    )
    .await;
    w
}

fn last_run(p: &Policy) -> rampart::api::policy::OnDemandRun {
    p.status
        .as_ref()
        .and_then(|s| s.at_provider.as_ref())
        .and_then(|a| a.last_run.clone())
        .expect("a last run")
}

#[tokio::test]
async fn rotating_the_credentials_secret_keeps_backups_working() {
    let w = converged("cyber-rotate").await;
    let old = crate::cbr_world::external_name(&w.vaults().get("backup-share").await.unwrap());
    let secrets: Api<Secret> = Api::namespaced(w.client.clone(), &w.ns);
    secrets
        .patch(
            "backup-share-login",
            &PatchParams::default(),
            &Patch::Merge(json!({"stringData": {"secret": "rotated-Pa55"}})),
        )
        .await
        .unwrap();
    // The Vault now is a new record holding the new secret; the old one is gone, and the plan
    // names the new one.
    let v = wait_for(
        &w.vaults(),
        "backup-share",
        |v: Option<&Vault>| {
            v.and_then(|v| v.metadata.annotations.as_ref())
                .and_then(|a| a.get("rampart.dev/external-name"))
                .is_some_and(|id| *id != old)
        },
        T,
    )
    .await;
    let new = crate::cbr_world::external_name(&v);
    let (records, secret, named) = w.sim.state.read(|world| {
        (
            world.credentials.len(),
            world.credentials.get(&new).map(|c| c.secret.clone()),
            world
                .policies
                .values()
                .map(|p| p.settings["destination"]["location"]["settings"]["credentials"].clone())
                .collect::<Vec<_>>(),
        )
    });
    assert_eq!(records, 1, "the old record is deleted");
    assert_eq!(secret.as_deref(), Some("rotated-Pa55"));
    assert_eq!(named, vec![json!(new)]);
    let v = wait_for(
        &w.vaults(),
        "backup-share",
        has_condition("CredentialsReplaced", "True", Some("SecretChanged")),
        T,
    )
    .await;
    let msg = crate::support::condition_message(&v, "CredentialsReplaced");
    assert!(msg.contains(&old) && msg.contains(&new), "{msg}");
    wait_for(&w.vaults(), "backup-share", is_ready(), T).await;
    let events = env()
        .server
        .kubectl(&["get", "events", "-n", &w.ns, "-o", "json"]);
    let events = String::from_utf8_lossy(&events.stdout);
    assert!(events.contains(&new), "an event names the new record");
    assert!(!events.contains("rotated-Pa55"));
    // Backups keep working.
    wait_for(&w.policies(), "machines-nightly", is_ready(), T).await;
    run_and_wait(&w, "after-rotation", "Succeeded").await;
}

#[tokio::test]
async fn a_back_dated_run_request_runs() {
    let w = converged("cyber-backdated").await;
    let before = last_run(&w.policies().get("machines-nightly").await.unwrap());
    let calls = w
        .sim
        .control()
        .count("POST /api/v1/policy_applications:run");
    let p = run_and_wait(&w, "2020-01-01T00:00:00Z", "Succeeded").await;
    let run = last_run(&p);
    assert_eq!(
        w.sim
            .control()
            .count("POST /api/v1/policy_applications:run"),
        calls + 1,
        "exactly one run for the new value"
    );
    assert!(
        run.started_at > before.started_at,
        "its own run, not the earlier one: {run:?} after {before:?}"
    );
    assert!(run.finished_at >= run.started_at);
}

#[tokio::test]
async fn a_removed_retention_stops_pruning() {
    let w = converged("cyber-retention").await;
    let backups = || w.sim.state.read(|world| world.backups.len());
    change_policy(
        &w,
        json!({"retention": {"daily": null, "weekly": null, "monthly": null, "keepLast": 1}}),
    )
    .await;
    run_and_wait(&w, "keep-one-a", "Succeeded").await;
    run_and_wait(&w, "keep-one-b", "Succeeded").await;
    // Two machines (one by name, one through the dynamic group's application), one backup each.
    let kept = backups();
    assert_eq!(
        kept,
        w.sim.state.read(|world| world.archives.len()),
        "one backup per archive"
    );
    // Retention removed from the spec: the plan's rules go, and pruning stops.
    change_policy(&w, json!({"retention": null})).await;
    let id = crate::cbr_world::external_name(&w.policies().get("machines-nightly").await.unwrap());
    assert_eq!(
        w.sim.state.read(
            |world| world.policies[&id].settings["destination"]["retention"]["rules"].clone()
        ),
        json!([])
    );
    run_and_wait(&w, "keep-all-a", "Succeeded").await;
    run_and_wait(&w, "keep-all-b", "Succeeded").await;
    assert_eq!(backups(), kept * 3, "nothing pruned any more");
}

#[tokio::test]
async fn a_device_switched_off_in_the_console_is_noticed_and_switched_back() {
    let w = converged("cyber-device").await;
    let id = crate::cbr_world::external_name(&w.policies().get("machines-nightly").await.unwrap());
    let machine = w.sim.state.read(|world| {
        world
            .resources
            .values()
            .find(|r| r.name == "DESKTOP-JRPTA4A")
            .unwrap()
            .id
            .clone()
    });
    // Observe only: reported, not corrected.
    change_policy(
        &w,
        json!({"managementPolicies": ["Observe", "Create", "Delete"]}),
    )
    .await;
    assert!(w.sim.state.set_application_enabled(&id, &machine, false));
    let field = format!("spec.enabled[{machine}]");
    let p = wait_for(
        &w.policies(),
        "machines-nightly",
        has_condition("Synced", "False", Some("DriftDetected")),
        T,
    )
    .await;
    let drift = &p.status.as_ref().unwrap().drift;
    assert!(drift.iter().any(|d| d.field == field), "{drift:?}");
    assert!(!w.sim.state.read(|world| {
        world
            .applications
            .values()
            .find(|a| a.context_id == machine)
            .unwrap()
            .enabled
    }));
    // Update allowed again: switched back on that device.
    w.policies()
        .patch(
            "machines-nightly",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"managementPolicies": ["*"]}})),
        )
        .await
        .unwrap();
    crate::support::until("the device is switched back on", || {
        w.sim
            .state
            .read(|world| world.applications.values().all(|a| a.enabled))
    })
    .await;
    wait_for(
        &w.policies(),
        "machines-nightly",
        has_condition("Synced", "True", None),
        T,
    )
    .await;
}

#[tokio::test]
async fn a_wrong_password_is_tried_once_per_backoff_and_the_provider_config_says_when() {
    let client = env().client().await;
    let config = SimConfig {
        users: [("backup-admin".to_string(), "change-me".to_string())].into(),
        ..Default::default()
    };
    let sim = CyberBackupSim::start("127.0.0.1:0".parse().unwrap(), config)
        .await
        .unwrap();
    let ns = namespace(&client, "cyber-lockout").await;
    crate::support::create_secret(
        &client,
        &ns,
        "admin",
        json!({"username": "backup-admin", "password": "wrong-Pa55"}),
    )
    .await;
    let pc: ProviderConfig = serde_json::from_value(json!({
        "metadata": {"name": "cyberbackup"},
        "spec": {"type": "CyberBackup", "endpoint": sim.url(), "credentials": {"secretRef": {"name": "admin"}},
                 "pollIntervalSeconds": 5, "cyberBackup": {}}
    }))
    .unwrap();
    let pcs = Api::<ProviderConfig>::namespaced(client.clone(), &ns);
    pcs.create(&PostParams::default(), &pc).await.unwrap();
    let pc = wait_for(
        &pcs,
        "cyberbackup",
        has_condition("Ready", "False", None),
        T,
    )
    .await;
    let msg = crate::support::condition_message(&pc, "Ready");
    assert!(
        msg.contains("the next login attempt will be made at"),
        "{msg}"
    );
    assert!(!msg.contains("wrong-Pa55"), "{msg}");
    // Several polls go by (each one logs its failed check) with one login only.
    let failures = || {
        env()
            .operator_log()
            .lines()
            .filter(|l| l.contains("provider check failed") && l.contains(&ns))
            .count()
    };
    crate::support::until("three polls failed", || failures() >= 3).await;
    assert_eq!(
        sim.control().count("POST /idp/token"),
        1,
        "one login per backoff"
    );
    // A corrected Secret is tried at once.
    Api::<Secret>::namespaced(client.clone(), &ns)
        .patch(
            "admin",
            &PatchParams::default(),
            &Patch::Merge(json!({"stringData": {"password": "change-me"}})),
        )
        .await
        .unwrap();
    wait_for(&pcs, "cyberbackup", is_ready(), T).await;
    assert_eq!(sim.control().count("POST /idp/token"), 2);
}
