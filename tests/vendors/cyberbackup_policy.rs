//! The Policy adapter against the Cyber Backup simulator, in process.

use crate::cyberbackup_support::*;
use rampart::engine::external::{ExternalError, Readiness};
use serde_json::{Value, json};

/// The writes of a correction that took exactly one call of `operation`.
fn once(operation: &str) -> Vec<(String, u64)> {
    vec![(operation.to_string(), 1)]
}

/// A Vault without credentials (its external name is its location name) and a nightly plan
/// for one machine.
fn setup(env: &mut Env, targets: Value) -> rampart::api::Policy {
    env.add_vault_ref(&store());
    policy(
        "nightly",
        json!({
            "schedule": {"cron": "0 9 * * 1-3"},
            "retention": {"keepLast": 7},
            "vaultRef": {"name": "store"},
            "cyberBackup": {"type": "policy.backup.machine", "archive": {"compression": "MAX"}, "targets": targets}
        }),
    )
}

/// A plan for the machine DESKTOP-JRPTA4A, created: the environment, the Policy, the plan id
/// and the machine id.
async fn created() -> (Env, rampart::api::Policy, String, String) {
    let mut env = Env::start().await;
    let machine = env.resource_id("DESKTOP-JRPTA4A");
    let p = setup(&mut env, json!({"resourceIds": [machine]}));
    let id = env.create(policy_adapter(&env.runtime().await), &p).await;
    (env, p, id, machine)
}

#[tokio::test]
async fn create_then_observe_finds_it_in_line_and_ready_once_deployed() {
    let mut env = Env::start().await;
    let machine = env.resource_id("DESKTOP-JRPTA4A");
    let p = setup(&mut env, json!({"resourceIds": [machine]}));
    let rt = env.runtime().await;
    let a = policy_adapter(&rt);

    let before = a.observe(&p, None, &env.ctx(false, None)).await.unwrap();
    assert!(!before.exists);
    let id = env.create(a, &p).await;
    let plan = env.plan(&id);
    assert_eq!(plan["name"], format!("prod/nightly [rampart:{}]", marker()));
    assert_eq!(
        plan["settings"]["destination"]["location"]["settings"]["name"],
        "customer-dg09"
    );
    assert_eq!(
        plan["settings"]["destination"]["retention"]["rules"],
        json!([{"max_count": 7}])
    );
    assert_eq!(env.contexts_of(&id), vec![machine.clone()]);

    let o = env.observe(a, &p, &id).await;
    assert!(o.exists);
    assert!(o.drift.is_empty(), "{:?}", o.drift);
    assert!(
        matches!(o.readiness, Readiness::Creating(_)),
        "deploying: {:?}",
        o.readiness
    );

    env.sim.state.settle();
    let o = env.observe(a, &p, &id).await;
    assert_eq!(o.readiness, Readiness::Available);
    assert!(o.drift.is_empty());
    let at = &o.at_provider;
    assert_eq!(at.id.as_deref(), Some(id.as_str()));
    assert_eq!(at.vendor_schedule, vec!["DAILY MON,TUE,WED 09:00"]);
    assert_eq!(at.associated_vaults, vec!["customer-dg09"]);
    assert_eq!(at.applications.len(), 1);
    assert_eq!(at.applications[0].deployment.as_deref(), Some("DEPLOYED"));
    assert_eq!(at.applications[0].running.as_deref(), Some("IDLE"));
    assert!(
        at.next_run.is_some(),
        "the simulator schedules the next run"
    );
}

#[tokio::test]
async fn a_settings_change_is_one_patch() {
    let mut env = Env::start().await;
    let p = setup(&mut env, json!({}));
    let rt = env.runtime().await;
    let a = policy_adapter(&rt);
    let id = env.create(a, &p).await;

    let mut changed = p.clone();
    let block = changed.spec.cyber_backup.as_mut().unwrap();
    block.archive.as_mut().unwrap().compression =
        Some(rampart::api::vendors::cyberbackup::CyberBackupCompression::Normal);
    changed.spec.schedule.as_mut().unwrap().cron = "30 22 * * *".into();
    let o = env.observe(a, &changed, &id).await;
    assert_eq!(
        drift_fields(&o),
        vec!["spec.schedule", "spec.cyberBackup.archive.compression"]
    );

    env.sim.control().reset_counters();
    env.update(a, &changed, &id, &o).await;
    assert_eq!(
        env.writes(),
        vec![("PATCH /api/v1/policies/{id}".to_string(), 1)]
    );
    let plan = env.plan(&id);
    assert_eq!(plan["settings"]["archive"]["compression"], "NORMAL");
    assert_eq!(
        plan["settings"]["scheduling"]["backup_sets"][0]["schedule"]["alarms"]["time"]["repeat_at"],
        json!([{"hour": 22, "minute": 30}])
    );
    let o = env.observe_fresh(a, &changed, &id).await;
    assert!(o.drift.is_empty(), "{:?}", o.drift);
}

#[tokio::test]
async fn a_target_added_is_one_apply_and_one_removed_is_one_revoke() {
    let mut env = Env::start().await;
    let (m1, m2) = (
        env.resource_id("DESKTOP-JRPTA4A"),
        env.resource_id("win10x64simple"),
    );
    let p = setup(&mut env, json!({"resourceIds": [m1]}));
    let rt = env.runtime().await;
    let a = policy_adapter(&rt);
    let id = env.create(a, &p).await;

    let mut two = p.clone();
    two.spec.cyber_backup.as_mut().unwrap().targets.resource_ids = vec![m1.clone(), m2.clone()];
    assert_eq!(
        env.correct(a, &two, &id, &["spec.cyberBackup.targets"])
            .await,
        once("POST /api/v1/policy_applications")
    );
    let mut both = vec![m1.clone(), m2.clone()];
    both.sort();
    assert_eq!(env.contexts_of(&id), both);

    let mut one = p.clone();
    one.spec.cyber_backup.as_mut().unwrap().targets.resource_ids = vec![m2.clone()];
    assert_eq!(
        env.correct(a, &one, &id, &["spec.cyberBackup.targets"])
            .await,
        once("DELETE /api/v1/policy_applications")
    );
    assert_eq!(env.contexts_of(&id), vec![m2]);
    assert!(env.observe(a, &one, &id).await.drift.is_empty());
}

#[tokio::test]
async fn enabling_and_disabling_use_the_enabled_endpoint() {
    let (env, p, id, _) = created().await;
    let rt = env.runtime().await;
    let a = policy_adapter(&rt);

    let mut off = p.clone();
    off.spec.enabled = Some(false);
    assert_eq!(
        env.correct(a, &off, &id, &["spec.enabled"]).await,
        once("PATCH /api/v1/policy_applications/enabled")
    );
    assert_eq!(env.plan(&id)["enabled"], false);
    let o = env.observe_fresh(a, &off, &id).await;
    assert!(o.drift.is_empty());
    assert_eq!(o.at_provider.enabled, Some(false));
    assert_eq!(o.at_provider.applications[0].enabled, Some(false));

    let o = env.observe(a, &p, &id).await;
    env.update(a, &p, &id, &o).await;
    assert_eq!(env.plan(&id)["enabled"], true);
}

#[tokio::test]
async fn vendor_side_edits_are_reported_and_corrected() {
    let (env, p, id, m1) = created().await;
    let rt = env.runtime().await;
    let a = policy_adapter(&rt);

    env.sim.state.settle();
    assert_eq!(
        env.observe(a, &p, &id).await.readiness,
        Readiness::Available
    );
    // A human renames the plan, changes compression, disables it and revokes it.
    let edit = rampart::simulators::cyberbackup::control::PlanEdit {
        name: Some("someone's plan".into()),
        enabled: Some(false),
        settings: Some(json!({"archive": {"compression": "NORMAL"}, "vss": {"enabled": false}})),
    };
    assert!(env.sim.state.edit_plan(&id, &edit));
    assert!(env.sim.state.revoke_application(&id, &m1));
    let stale = env.observe(a, &p, &id).await;
    assert!(
        stale.drift.is_empty(),
        "within the poll interval the snapshot is used"
    );
    let o = env.observe_fresh(a, &p, &id).await;
    assert_eq!(
        drift_fields(&o),
        vec![
            "spec.cyberBackup.name",
            "spec.enabled",
            "spec.cyberBackup.archive.compression",
            "spec.cyberBackup.targets"
        ]
    );
    let compression = o
        .drift
        .iter()
        .find(|d| d.field.ends_with("compression"))
        .unwrap();
    assert_eq!(
        (compression.desired.as_str(), compression.observed.as_str()),
        ("\"MAX\"", "\"NORMAL\"")
    );

    env.sim.control().reset_counters();
    env.update(a, &p, &id, &o).await;
    let writes = env.writes();
    assert_eq!(writes.len(), 3, "{writes:?}");
    let o = env.observe_fresh(a, &p, &id).await;
    assert!(o.drift.is_empty(), "{:?}", o.drift);
    assert_eq!(
        env.plan(&id)["settings"]["vss"]["enabled"],
        false,
        "settings rampart does not manage are left alone"
    );
}

#[tokio::test]
async fn deletion_revokes_the_applications_before_deleting_the_plan() {
    let mut env = Env::start().await;
    let (m1, m2) = (
        env.resource_id("DESKTOP-JRPTA4A"),
        env.resource_id("win10x64simple"),
    );
    let p = setup(&mut env, json!({"resourceIds": [m1, m2]}));
    let rt = env.runtime().await;
    let a = policy_adapter(&rt);
    let id = env.create(a, &p).await;
    env.sim.control().reset_counters();
    // The simulator refuses to delete an applied plan (409), so success proves the order.
    let gone = a.delete(&p, &id, &env.ctx(false, None)).await.unwrap();
    assert_eq!(gone, rampart::engine::external::Deleted::Gone);
    assert_eq!(env.count("DELETE /api/v1/policy_applications"), 1);
    assert_eq!(env.count("DELETE /api/v1/policies/{id}"), 1);
    assert!(env.sim.state.world.lock().unwrap().policies.is_empty());
    assert!(!env.observe(a, &p, &id).await.exists);
    // Deleting again is not an error.
    assert_eq!(
        a.delete(&p, &id, &env.ctx(false, None)).await.unwrap(),
        rampart::engine::external::Deleted::Gone
    );
}

#[tokio::test]
async fn adoption_by_external_name_and_rediscovery_by_marker() {
    let mut env = Env::start().await;
    let p = setup(&mut env, json!({}));
    let rt = env.runtime().await;
    let a = policy_adapter(&rt);

    // A plan made by hand in the console, adopted by setting its id (with the @type suffix the
    // create response carries).
    let handmade = rampart::simulators::cyberbackup::state::SimPolicy {
        id: "5ea704d9-a214-4e81-97d9-d228098f8431".into(),
        name: "Новый план защиты".into(),
        type_: "policy.backup.machine".into(),
        enabled: true,
        settings: json!({"archive": {"compression": "NORMAL"}}),
        tenant_id: "00000000-0000-0000-0000-000000000000".into(),
        created_at: String::new(),
        updated_at: String::new(),
    };
    env.sim
        .state
        .world
        .lock()
        .unwrap()
        .policies
        .insert(handmade.id.clone(), handmade);
    let adopted = "5EA704D9-A214-4E81-97D9-D228098F8431@policy.backup.machine";
    let o = a
        .observe(&p, Some(adopted), &env.ctx(true, None))
        .await
        .unwrap();
    assert!(o.exists);
    assert!(drift_fields(&o).contains(&"spec.cyberBackup.name".to_string()));
    a.update(&p, adopted, &o, &env.ctx(false, None))
        .await
        .unwrap();
    let o = a
        .observe(&p, Some(adopted), &env.ctx(true, None))
        .await
        .unwrap();
    assert!(o.drift.is_empty(), "{:?}", o.drift);

    // After a crash between create and recording the id, the marker finds the plan again.
    let other = policy(
        "weekly",
        json!({"vaultRef": {"name": "store"}, "cyberBackup": {"type": "policy.backup.files"}}),
    );
    let ctx2 = env.world.ctx("feedbeef", false, None);
    let id = a.create(&other, &ctx2).await.unwrap().external_name;
    let fresh = env.world.ctx("feedbeef", true, None);
    let found = a.observe(&other, None, &fresh).await.unwrap();
    assert_eq!(found.external_name.as_deref(), Some(id.as_str()));
}

#[tokio::test]
async fn resource_names_resolve_wait_and_refuse_ambiguity() {
    let mut env = Env::start().await;
    let p = setup(
        &mut env,
        json!({"resourceNames": ["DESKTOP-JRPTA4A", "not-registered-yet"]}),
    );
    let rt = env.runtime().await;
    let a = policy_adapter(&rt);
    let id = env.create(a, &p).await;
    assert_eq!(
        env.contexts_of(&id),
        vec![env.resource_id("DESKTOP-JRPTA4A")]
    );
    env.sim.state.settle();
    let o = env.observe(a, &p, &id).await;
    assert!(
        matches!(&o.readiness, Readiness::Creating(m) if m.contains("not-registered-yet")),
        "{:?}",
        o.readiness
    );

    env.sim
        .state
        .add_resource("not-registered-yet", "resource.machine");
    let o = env.observe_fresh(a, &p, &id).await;
    assert_eq!(drift_fields(&o), vec!["spec.cyberBackup.targets"]);

    env.sim
        .state
        .add_resource("DESKTOP-JRPTA4A", "resource.machine");
    let e = a
        .observe(&p, Some(&id), &env.ctx(true, None))
        .await
        .unwrap_err();
    assert!(
        matches!(e, ExternalError::InvalidSpec { ref field, .. } if field == "spec.cyberBackup.targets.resourceNames"),
        "{e}"
    );
}

#[tokio::test]
async fn an_inexpressible_schedule_is_an_invalid_spec_naming_the_field() {
    let mut env = Env::start().await;
    let mut p = setup(&mut env, json!({}));
    p.spec.schedule.as_mut().unwrap().cron = "0 3 1 * 1".into();
    let rt = env.runtime().await;
    let e = policy_adapter(&rt)
        .create(&p, &env.ctx(false, None))
        .await
        .unwrap_err();
    assert!(
        matches!(e, ExternalError::InvalidSpec { ref field, .. } if field == "spec.schedule.cron"),
        "{e}"
    );
    assert!(
        env.sim.state.world.lock().unwrap().policies.is_empty(),
        "nothing is created"
    );
}

#[tokio::test]
async fn a_vault_without_an_external_name_makes_the_policy_wait() {
    let mut env = Env::start().await;
    let v = vault("store", json!({"name": "customer-dg09", "uri": "E:"}), None);
    env.add_vault_ref(&v);
    let p = policy(
        "nightly",
        json!({"vaultRef": {"name": "store"}, "cyberBackup": {"type": "policy.backup.machine"}}),
    );
    let rt = env.runtime().await;
    let e = policy_adapter(&rt)
        .create(&p, &env.ctx(false, None))
        .await
        .unwrap_err();
    assert!(matches!(e, ExternalError::Waiting { .. }), "{e}");
}

#[tokio::test]
async fn applications_in_the_legacy_casing_read_the_same() {
    let (env, p, id, _) = created().await;
    let rt = env.runtime().await;
    let a = policy_adapter(&rt);
    env.sim.state.config.lock().unwrap().legacy_casing = true;
    env.sim.state.settle();
    let o = env.observe_fresh(a, &p, &id).await;
    assert_eq!(o.readiness, Readiness::Available);
    assert_eq!(
        o.at_provider.applications[0].deployment.as_deref(),
        Some("DEPLOYED")
    );
    assert_eq!(o.at_provider.applications[0].status.as_deref(), Some("OK"));
}
