//! What the user declared is what Cyber Backup does (issue 22): settings removed from the spec,
//! plans switched off on one device, destinations switched under either PATCH reading, renames,
//! and target ids the vendor does not know.

use crate::cyberbackup_support::*;
use rampart::api::Policy;
use rampart::engine::external::{External, ExternalError, Readiness};
use rampart::simulators::cyberbackup::{PatchSemantics, SimConfig};
use serde_json::{Value, json};

fn plan_spec(machine: &str, cyber: Value, extra: Value) -> Policy {
    let mut spec = json!({
        "schedule": {"cron": "0 2 * * *"},
        "vaultRef": {"name": "store"},
        "cyberBackup": {"type": "policy.backup.machine", "targets": {"resourceIds": [machine]}}
    });
    rampart::providers::cyberbackup::settings::merge(&mut spec["cyberBackup"], &cyber);
    rampart::providers::cyberbackup::settings::merge(&mut spec, &extra);
    policy("nightly", spec)
}

/// Observe, record the status as the engine does, correct the drift: the writes it took.
async fn reconcile(
    env: &Env,
    a: &dyn External<Policy>,
    p: &mut Policy,
    id: &str,
) -> Vec<(String, u64)> {
    let o = env.observe_fresh(a, p, id).await;
    env.sim.control().reset_counters();
    if !o.drift.is_empty() {
        env.update(a, p, id, &o).await;
    }
    let writes = env.writes();
    let o = env.observe_fresh(a, p, id).await;
    record_status(p, o.at_provider);
    writes
}

fn patches(n: u64) -> Vec<(String, u64)> {
    vec![("PATCH /api/v1/policies/{id}".to_string(), n)]
}

#[tokio::test]
async fn removed_retention_and_delay_are_cleared_and_an_unclearable_setting_is_reported() {
    let mut env = Env::start().await;
    env.add_vault_ref(&store());
    let machine = env.resource_id("DESKTOP-JRPTA4A");
    let cyber = json!({"randomDelayMinutes": 45, "maxParallelBackups": 3});
    let mut p = plan_spec(&machine, cyber, json!({"retention": {"keepLast": 1}}));
    let rt = env.runtime().await;
    let a = policy_adapter(&rt);
    let id = env.create(a, &p).await;
    env.sim.state.settle();
    assert!(reconcile(&env, a, &mut p, &id).await.is_empty());

    // Retention keeps one backup: two runs leave one.
    for _ in 0..2 {
        env.sim.state.start_scheduled_run(&id);
        env.sim.state.settle();
        env.sim.state.advance(jiff::SignedDuration::from_secs(60));
    }
    assert_eq!(
        env.sim.state.read(|w| w.backups.len()),
        1,
        "pruned to keepLast"
    );

    // All three removed from the spec.
    let mut bare = plan_spec(&machine, json!({}), json!({}));
    bare.status = p.status.clone();
    let o = env.observe_fresh(a, &bare, &id).await;
    assert_eq!(
        drift_fields(&o),
        vec![
            "spec.cyberBackup.randomDelayMinutes",
            "spec.retention",
            "spec.cyberBackup.maxParallelBackups"
        ]
    );
    let parallel = o
        .drift
        .iter()
        .find(|d| d.field.ends_with("maxParallelBackups"))
        .unwrap();
    assert!(
        parallel.desired.contains("no documented way to clear"),
        "{parallel:?}"
    );
    assert_eq!(reconcile(&env, a, &mut bare, &id).await, patches(1));
    let settings = env.plan(&id)["settings"].clone();
    assert_eq!(settings["destination"]["retention"]["rules"], json!([]));
    assert_eq!(settings["scheduling"]["rand_max_delay"]["count"], 0);
    assert_eq!(
        settings["scheduling"]["max_parallel_backups"], 3,
        "left as it was"
    );
    // The unclearable one stays reported (remembered through the status), without a call.
    let o = env.observe_fresh(a, &bare, &id).await;
    assert_eq!(
        drift_fields(&o),
        vec!["spec.cyberBackup.maxParallelBackups"]
    );
    assert_eq!(reconcile(&env, a, &mut bare, &id).await, vec![]);

    // Pruning stopped: two more runs, three backups.
    for _ in 0..2 {
        env.sim.state.start_scheduled_run(&id);
        env.sim.state.settle();
        env.sim.state.advance(jiff::SignedDuration::from_secs(60));
    }
    assert_eq!(
        env.sim.state.read(|w| w.backups.len()),
        3,
        "nothing pruned any more"
    );

    // Cleared in the console: forgotten.
    let edit = rampart::simulators::cyberbackup::control::PlanEdit {
        settings: Some(json!({"scheduling": {"max_parallel_backups": null}})),
        ..Default::default()
    };
    assert!(env.sim.state.edit_plan(&id, &edit));
    assert_eq!(reconcile(&env, a, &mut bare, &id).await, vec![]);
    let o = env.observe_fresh(a, &bare, &id).await;
    assert!(o.drift.is_empty(), "{:?}", o.drift);
    assert!(
        !o.at_provider
            .details
            .get("managedSettings")
            .is_some_and(|m| m.contains("parallel"))
    );
}

#[tokio::test]
async fn a_plan_switched_off_on_one_device_is_drift_switched_back_there_alone() {
    let mut env = Env::start().await;
    env.add_vault_ref(&store());
    let (m1, m2) = (
        env.resource_id("DESKTOP-JRPTA4A"),
        env.resource_id("win10x64simple"),
    );
    let p = policy(
        "nightly",
        json!({"schedule": {"cron": "0 2 * * *"}, "vaultRef": {"name": "store"},
               "cyberBackup": {"type": "policy.backup.machine", "targets": {"resourceIds": [m1, m2]}}}),
    );
    let rt = env.runtime().await;
    let a = policy_adapter(&rt);
    let id = env.create(a, &p).await;
    env.sim.state.settle();
    assert!(env.observe_fresh(a, &p, &id).await.drift.is_empty());

    assert!(
        env.sim.state.set_application_enabled(&id, &m2, false),
        "as in the console"
    );
    let o = env.observe_fresh(a, &p, &id).await;
    let field = format!("spec.enabled[{m2}]");
    assert_eq!(drift_fields(&o), vec![field.as_str()]);
    assert_eq!(o.readiness, Readiness::Available, "the plan itself is fine");
    // Without Update the engine reports it; with Update, one switch on that device alone.
    env.sim.control().reset_counters();
    env.sim.control().record_requests();
    env.update(a, &p, &id, &o).await;
    assert_eq!(
        env.writes(),
        vec![("PATCH /api/v1/policy_applications/enabled".to_string(), 1)]
    );
    assert!(
        env.sim
            .state
            .read(|w| w.applications.values().all(|a| a.enabled))
    );
    assert!(env.sim.state.read(|w| w.policies[&id].enabled));
    assert!(env.observe_fresh(a, &p, &id).await.drift.is_empty());
}

/// Switch a plan from a VAULT with credentials to a folder template and back, under one PATCH
/// reading: the PATCH calls each switch took, and no key of the old destination may remain.
async fn switch_destinations(semantics: PatchSemantics) -> Vec<u64> {
    let config = SimConfig {
        patch_semantics: semantics,
        ..Default::default()
    };
    let mut env = Env::with(config, 100).await;
    env.add_secret("nas-login", &[("identity", "svc"), ("secret", "s")]);
    let rt = env.runtime().await;
    let va = vault_adapter(&rt);
    let nas = vault(
        "nas",
        json!({"name": "nas", "uri": "smb://nas/b", "displayName": "NAS", "credentialsSecretRef": {"name": "nas-login"}}),
        None,
    );
    let cred = env.create(va, &nas).await;
    env.add_vault_ref(&vault(
        "nas",
        json!({"name": "nas", "uri": "smb://nas/b", "displayName": "NAS", "credentialsSecretRef": {"name": "nas-login"}}),
        Some(&cred),
    ));
    let local = vault(
        "local",
        json!({"locationType": "LOCAL_FOLDER_TEMPLATE", "path": "F:/b/"}),
        Some("F:/b/"),
    );
    env.add_vault_ref(&local);
    let on = |v: &str| {
        policy(
            "nightly",
            json!({"vaultRef": {"name": v}, "cyberBackup": {"type": "policy.backup.files"}}),
        )
    };
    let pa = policy_adapter(&rt);
    let id = env.create(pa, &on("nas")).await;
    let mut calls = Vec::new();
    for (to, keys) in [
        (
            "local",
            json!({"type": "LOCAL_FOLDER_TEMPLATE", "settings": {"path": "F:/b/"}}),
        ),
        (
            "nas",
            env.plan(&id)["settings"]["destination"]["location"].clone(),
        ),
        (
            "local",
            json!({"type": "LOCAL_FOLDER_TEMPLATE", "settings": {"path": "F:/b/"}}),
        ),
    ] {
        let p = on(to);
        let o = env.observe_fresh(pa, &p, &id).await;
        assert_eq!(
            drift_fields(&o),
            vec!["spec.vaultRef"],
            "{semantics:?} to {to}"
        );
        env.sim.control().reset_counters();
        env.update(pa, &p, &id, &o).await;
        calls.push(env.count("PATCH /api/v1/policies/{id}"));
        assert_eq!(
            env.plan(&id)["settings"]["destination"]["location"],
            keys,
            "{semantics:?}: nothing of the old destination remains"
        );
        assert!(
            env.plan(&id)["settings"]["destination"]["retention"].is_object(),
            "the rest of the section stays"
        );
        assert!(env.observe_fresh(pa, &p, &id).await.drift.is_empty());
    }
    calls
}

#[tokio::test]
async fn a_destination_switch_leaves_no_old_key_whichever_way_the_server_patches() {
    // A merging server: the first switch shows it (the old keys stay), and a second PATCH of
    // nulls removes them; from then on the nulls go in the first PATCH.
    assert_eq!(
        switch_destinations(PatchSemantics::DeepMerge).await,
        vec![2, 1, 1]
    );
    // A replacing server: the section sent replaces the old one, one PATCH each time.
    assert_eq!(
        switch_destinations(PatchSemantics::ReplaceSections).await,
        vec![1, 1, 1]
    );
}

#[tokio::test]
async fn a_rename_is_one_patch_of_the_name_and_nothing_after() {
    let mut env = Env::start().await;
    env.add_vault_ref(&store());
    let machine = env.resource_id("DESKTOP-JRPTA4A");
    let p = plan_spec(
        &machine,
        json!({"archive": {"compression": "MAX"}}),
        json!({}),
    );
    let rt = env.runtime().await;
    let a = policy_adapter(&rt);
    let id = env.create(a, &p).await;
    env.sim.state.settle();
    let edit = rampart::simulators::cyberbackup::control::PlanEdit {
        name: Some("renamed by hand".into()),
        ..Default::default()
    };
    assert!(env.sim.state.edit_plan(&id, &edit));
    let o = env.observe_fresh(a, &p, &id).await;
    assert_eq!(drift_fields(&o), vec!["spec.cyberBackup.name"]);
    env.sim.control().reset_counters();
    env.update(a, &p, &id, &o).await;
    assert_eq!(env.writes(), patches(1));
    assert_eq!(
        env.plan(&id)["name"],
        format!("prod/nightly [rampart:{}]", marker())
    );
    // Observed from rampart's copy, as the engine does right after an update: in line, so no
    // further PATCH.
    let o = env.observe(a, &p, &id).await;
    assert!(o.drift.is_empty(), "{:?}", o.drift);
    env.sim.control().reset_counters();
    env.update(a, &p, &id, &o).await;
    assert_eq!(env.writes(), vec![]);
}

#[tokio::test]
async fn an_unknown_target_id_stalls_after_five_looks_and_recovers_when_its_agent_registers() {
    let mut env = Env::start().await;
    env.add_vault_ref(&store());
    let unknown = "5afcbcf6-6070-4d1f-a1a2-000000000042";
    let p = plan_spec(unknown, json!({}), json!({}));
    let rt = env.runtime().await;
    let a = policy_adapter(&rt);
    let id = env.create(a, &p).await;
    assert!(
        env.contexts_of(&id).is_empty(),
        "not applied to what does not exist"
    );
    for look in 1..=5 {
        let o = a
            .observe(&p, Some(&id), &env.ctx(false, None))
            .await
            .unwrap();
        assert!(
            matches!(&o.readiness, Readiness::Creating(m) if m.contains(unknown) && m.contains(&format!("{look} of 5"))),
            "{:?}",
            o.readiness
        );
    }
    let e = a
        .observe(&p, Some(&id), &env.ctx(false, None))
        .await
        .unwrap_err();
    let ExternalError::InvalidSpec { field, message } = &e else {
        panic!("{e}")
    };
    assert_eq!(field, "spec.cyberBackup.targets.resourceIds");
    assert!(message.contains(unknown), "{message}");
    // The agent registers the machine: the next look applies the plan.
    env.sim
        .state
        .add_resource_with_id(unknown, "late-machine", "resource.machine");
    let o = a
        .observe(&p, Some(&id), &env.ctx(false, None))
        .await
        .unwrap();
    assert_eq!(drift_fields(&o), vec!["spec.cyberBackup.targets"]);
    env.update(a, &p, &id, &o).await;
    assert_eq!(env.contexts_of(&id), vec![unknown.to_string()]);
    env.sim.state.settle();
    assert_eq!(
        env.observe_fresh(a, &p, &id).await.readiness,
        Readiness::Available
    );
}
