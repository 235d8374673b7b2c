//! The Vault adapter against the Cyber Backup simulator, in process.

use crate::cyberbackup_support::*;
use rampart::api::{Policy, Vault};
use rampart::engine::annotations::RUN_REQUESTED_AT;
use rampart::engine::external::{Deleted, External, ExternalError, Readiness};
use serde_json::json;

/// A simulator whose `nas-login` Secret holds the identity `backup-svc` and `secret`.
async fn with_login(secret: &str) -> Env {
    let mut env = Env::start().await;
    env.add_secret(
        "nas-login",
        &[("identity", "backup-svc"), ("secret", secret)],
    );
    env
}

/// Register as the engine does: observe (the hash it will store), then create.
async fn register(env: &Env, a: &dyn External<Vault>, v: &Vault) -> (String, Option<String>) {
    let hash = a
        .observe(v, None, &env.ctx(false, None))
        .await
        .unwrap()
        .desired_hash;
    (env.create(a, v).await, hash)
}

fn share_vault(external: Option<&str>) -> rampart::api::Vault {
    vault(
        "nas",
        json!({"name": "nas-backups", "storageType": "NETWORK_SHARE", "uri": "smb://nas/backups",
               "credentialsSecretRef": {"name": "nas-login"}, "credentialsScope": {"type": "share", "subtype": "smb"}}),
        external,
    )
}

#[tokio::test]
async fn credentials_are_registered_and_the_record_is_the_vault() {
    let env = with_login("s3cr3t").await;
    let v = share_vault(None);
    let rt = env.runtime().await;
    let a = vault_adapter(&rt);

    let before = a.observe(&v, None, &env.ctx(false, None)).await.unwrap();
    assert!(!before.exists);
    // The hash the engine stores after the create.
    let stored = before.desired_hash.clone();
    let hash = stored.as_deref();
    assert!(hash.is_some());
    let id = env.create(a, &v).await;
    {
        let w = env.sim.state.world.lock().unwrap();
        let c = &w.credentials[&id];
        assert_eq!(
            (
                c.identity.as_str(),
                c.secret.as_str(),
                c.scope_type.as_str(),
                c.subtype.as_str()
            ),
            ("backup-svc", "s3cr3t", "share", "smb")
        );
        assert!(c.description.contains(&marker()));
    }
    let o = a
        .observe(&v, Some(&id), &env.ctx(true, hash))
        .await
        .unwrap();
    assert!(o.exists);
    assert!(o.drift.is_empty(), "{:?}", o.drift);
    assert_eq!(o.readiness, Readiness::Available);
    assert_eq!(o.desired_hash.as_deref(), hash);
    assert_eq!(o.at_provider.state.as_deref(), Some("Registered"));
    assert_eq!(o.at_provider.name.as_deref(), Some("nas-backups"));
    assert_eq!(o.at_provider.backup_count, Some(0));
    let status = serde_json::to_string(&o.at_provider).unwrap();
    assert!(!status.contains("s3cr3t") && !o.desired_hash.unwrap().contains("s3cr3t"));
}

#[tokio::test]
async fn plans_name_the_registered_credentials_and_the_vault_reports_their_backups() {
    let mut env = Env::start().await;
    env.add_secret(
        "nas-login",
        &[("username", "backup-svc"), ("password", "s3cr3t")],
    );
    let rt = env.runtime().await;
    let va = vault_adapter(&rt);
    let v = share_vault(None);
    let cred = env.create(va, &v).await;
    let v = share_vault(Some(&cred));
    env.add_vault_ref(&v);
    let machine = env.resource_id("DESKTOP-JRPTA4A");
    let p = policy(
        "nightly",
        json!({"vaultRef": {"name": "nas"}, "cyberBackup": {"type": "policy.backup.machine", "targets": {"resourceIds": [machine]}}}),
    );
    let pa = policy_adapter(&rt);
    let pid = env.create(pa, &p).await;
    let location = env.plan(&pid)["settings"]["destination"]["location"].clone();
    assert_eq!(
        location,
        json!({"type": "VAULT", "display_name": "nas-backups", "settings": {"name": "nas-backups", "storage_type": "NETWORK_SHARE", "uri": "smb://nas/backups", "credentials": cred, "use_policy_credentials": false}})
    );

    // Two on-demand runs leave one archive with two backups at the destination.
    let mut p = p;
    for request in ["first", "second"] {
        env.sim.state.settle();
        p.metadata.annotations = Some([(RUN_REQUESTED_AT.to_string(), request.to_string())].into());
        let o = env.observe(pa, &p, &pid).await;
        env.update(pa, &p, &pid, &o).await;
        env.sim.state.settle();
    }
    let o = env.observe_fresh(va, &v, &cred).await;
    assert_eq!(o.at_provider.backup_count, Some(2));
    assert!(o.at_provider.last_backup.is_some());
    assert_eq!(o.at_provider.details["archiveCount"], "1");
    assert_eq!(
        o.at_provider.details["reportedStorageType"],
        "NETWORK_SHARE"
    );
    assert_eq!(
        env.observe_fresh(pa, &p, &pid)
            .await
            .at_provider
            .associated_vaults,
        vec![cred.clone()]
    );
}

/// A Vault with registered credentials, the rampart plan that writes to it and a second plan
/// (another object's) naming the same record.
async fn two_plans_on(
    env: &mut Env,
    a: &dyn External<Vault>,
) -> (Vault, String, Option<String>, Policy, String) {
    let (old, stored) = register(env, a, &share_vault(None)).await;
    let v = share_vault(Some(&old));
    env.add_vault_ref(&v);
    let machine = env.resource_id("DESKTOP-JRPTA4A");
    let p = policy(
        "nightly",
        json!({"vaultRef": {"name": "nas"}, "cyberBackup": {"type": "policy.backup.machine", "targets": {"resourceIds": [machine]}}}),
    );
    let rt = env.runtime().await;
    let pa = policy_adapter(&rt);
    let pid = env.create(pa, &p).await;
    pa.create(
        &policy(
            "other",
            json!({"vaultRef": {"name": "nas"}, "cyberBackup": {"type": "policy.backup.files"}}),
        ),
        &env.world.ctx("other", false, None),
    )
    .await
    .unwrap();
    env.sim.state.settle();
    (v, old, stored, p, pid)
}

fn plans_naming(env: &Env, id: &str) -> usize {
    env.sim.state.read(|w| {
        w.policies
            .values()
            .filter(|p| p.settings["destination"]["location"]["settings"]["credentials"] == id)
            .count()
    })
}

#[tokio::test]
async fn a_changed_secret_registers_a_new_record_moves_every_plan_then_retires_the_old_one() {
    let mut env = with_login("old").await;
    let rt = env.runtime().await;
    let a = vault_adapter(&rt);
    let (v, old, stored, p, pid) = two_plans_on(&mut env, a).await;
    let applied = stored.as_deref();
    assert_eq!(plans_naming(&env, &old), 2);

    env.add_secret(
        "nas-login",
        &[("identity", "backup-svc"), ("secret", "n3w-pa55")],
    );
    let o = a
        .observe(&v, Some(&old), &env.ctx(false, applied))
        .await
        .unwrap();
    assert!(o.exists);
    assert_ne!(
        o.desired_hash.as_deref(),
        applied,
        "the engine reports this as drift"
    );
    assert!(
        matches!(&o.readiness, Readiness::Unavailable(m) if m.contains("earlier version")),
        "the record holds the old password: {:?}",
        o.readiness
    );
    env.sim.control().reset_counters();
    env.sim.control().record_requests();
    a.update(&v, &old, &o, &env.ctx(false, applied))
        .await
        .unwrap();
    assert_eq!(
        env.writes(),
        vec![
            ("DELETE /api/v1/credentials/{id}".to_string(), 1),
            ("PATCH /api/v1/policies/{id}".to_string(), 2),
            ("POST /api/v1/credentials".to_string(), 1),
        ]
    );
    // Registered first, plans moved next, the old record deleted last: no plan ever named a
    // record that did not exist.
    let when = |m: &'static str| env.sim.control().request_times(move |r| r.starts_with(m));
    let (registered, moved, deleted) = (
        when("POST /api/v1/credentials"),
        when("PATCH /api/v1/policies/"),
        when("DELETE /api/v1/credentials/"),
    );
    assert!(
        registered[0] < moved[0] && moved[1] < deleted[0],
        "{registered:?} {moved:?} {deleted:?}"
    );
    let new = env
        .sim
        .state
        .read(|w| w.credentials.keys().cloned().collect::<Vec<_>>());
    assert_eq!(new.len(), 1, "the old record is gone");
    let new = new[0].clone();
    assert_eq!(
        env.sim.state.read(|w| w.credentials[&new].secret.clone()),
        "n3w-pa55"
    );
    assert_eq!(
        plans_naming(&env, &new),
        2,
        "both plans moved, the other object's too"
    );

    // The Vault reports the new record as itself, ready, and says what was replaced.
    let o = a
        .observe(&v, Some(&old), &env.ctx(false, applied))
        .await
        .unwrap();
    assert_eq!(o.external_name.as_deref(), Some(new.as_str()));
    assert_eq!(o.readiness, Readiness::Available);
    assert!(o.drift.is_empty(), "{:?}", o.drift);
    let c = &o.conditions[0];
    assert_eq!(
        (c.type_, c.status, c.reason),
        ("CredentialsReplaced", true, "SecretChanged")
    );
    assert!(
        c.message.contains(&old) && c.message.contains(&new) && c.message.contains("2 plan(s)"),
        "{}",
        c.message
    );
    let status = serde_json::to_string(&(&o.at_provider, &o.conditions[0].message)).unwrap();
    assert!(!status.contains("n3w-pa55"), "{status}");

    // The Policy, whose Vault still has the old external name, wants the new record: no drift,
    // no PATCH back to the deleted one, and its plan runs.
    let pa = policy_adapter(&rt);
    let po = env.observe_fresh(pa, &p, &pid).await;
    assert!(po.drift.is_empty(), "{:?}", po.drift);
    assert_eq!(po.readiness, Readiness::Available);
    let mut p = p;
    p.metadata.annotations =
        Some([(RUN_REQUESTED_AT.to_string(), "after rotation".to_string())].into());
    let o = env.observe(pa, &p, &pid).await;
    env.update(pa, &p, &pid, &o).await;
    env.sim.state.settle();
    let run = env
        .observe_fresh(pa, &p, &pid)
        .await
        .at_provider
        .last_run
        .unwrap();
    assert_eq!(run.state, "Succeeded", "{run:?}");
}

/// Issue 15: a plan that is not rampart's (a person's, named in the console) is never written.
/// While it names the replaced record, the record stays and the condition names the plan.
#[tokio::test]
async fn a_rotation_never_writes_a_persons_plan_and_keeps_the_record_it_names() {
    let mut env = with_login("old").await;
    let rt = env.runtime().await;
    let a = vault_adapter(&rt);
    let (v, old, stored, _, pid) = two_plans_on(&mut env, a).await;
    let persons = env.sim.state.read(|w| {
        w.policies
            .keys()
            .find(|id| **id != pid)
            .cloned()
            .expect("the second plan")
    });
    let edit = rampart::simulators::cyberbackup::control::PlanEdit {
        name: Some("ops: file server, by hand".into()),
        ..Default::default()
    };
    assert!(env.sim.state.edit_plan(&persons, &edit));
    let before = env.plan(&persons);

    env.add_secret(
        "nas-login",
        &[("identity", "backup-svc"), ("secret", "n3w-pa55")],
    );
    let applied = stored.as_deref();
    let o = a
        .observe(&v, Some(&old), &env.ctx(true, applied))
        .await
        .unwrap();
    env.sim.control().reset_counters();
    a.update(&v, &old, &o, &env.ctx(false, applied))
        .await
        .unwrap();
    assert_eq!(env.plan(&persons), before, "the person's plan is untouched");
    assert_eq!(
        env.writes(),
        vec![
            ("PATCH /api/v1/policies/{id}".to_string(), 1),
            ("POST /api/v1/credentials".to_string(), 1),
        ],
        "rampart's plan moved, the old record not deleted"
    );
    assert!(env.sim.state.read(|w| w.credentials.contains_key(&old)));
    let o = a
        .observe(&v, Some(&old), &env.ctx(false, applied))
        .await
        .unwrap();
    let c = &o.conditions[0];
    assert!(
        c.message.contains("kept")
            && c.message
                .contains(&rampart::providers::cyberbackup::models::plan_id(&persons)),
        "{}",
        c.message
    );
}

#[tokio::test]
async fn a_plan_naming_a_record_that_is_gone_is_not_ready() {
    let mut env = with_login("s").await;
    let rt = env.runtime().await;
    let a = vault_adapter(&rt);
    let (_, old, _, p, pid) = two_plans_on(&mut env, a).await;
    let pa = policy_adapter(&rt);
    assert_eq!(
        env.observe_fresh(pa, &p, &pid).await.readiness,
        Readiness::Available
    );
    assert!(
        env.sim.state.delete_credentials(&old),
        "deleted in the console"
    );
    let o = pa
        .observe(&p, Some(&pid), &env.ctx(true, None))
        .await
        .unwrap();
    assert!(
        matches!(&o.readiness, Readiness::Unavailable(m) if m.contains(&old) && m.contains("does not exist")),
        "{:?}",
        o.readiness
    );
}

#[tokio::test]
async fn a_scope_changed_in_the_console_replaces_the_record_and_a_deleted_one_is_gone() {
    let env = with_login("s").await;
    let rt = env.runtime().await;
    let a = vault_adapter(&rt);
    let v = share_vault(None);
    let (id, stored) = register(&env, a, &v).await;
    let hash = stored.as_deref();

    let edit = rampart::simulators::cyberbackup::control::CredentialsEdit {
        scope_type: Some("folder".into()),
        subtype: Some(String::new()),
    };
    assert!(env.sim.state.edit_credentials(&id, &edit));
    let o = a
        .observe(&v, Some(&id), &env.ctx(true, hash))
        .await
        .unwrap();
    assert_eq!(drift_fields(&o), vec!["spec.cyberBackup.credentialsScope"]);
    assert!(matches!(&o.readiness, Readiness::Unavailable(m) if m.contains("scope")));
    a.update(&v, &id, &o, &env.ctx(false, hash)).await.unwrap();
    let o = a
        .observe(&v, Some(&id), &env.ctx(false, hash))
        .await
        .unwrap();
    let new = o
        .external_name
        .clone()
        .expect("the replacement is the Vault now");
    assert_ne!(new, id);
    assert!(o.drift.is_empty(), "{:?}", o.drift);
    assert_eq!(o.conditions[0].reason, "ScopeChanged");
    assert_eq!(
        env.sim
            .state
            .read(|w| (w.credentials.len(), w.credentials[&new].subtype.clone())),
        (1, "smb".to_string())
    );

    // Deleted by a human: observed as gone, so the engine registers it again.
    assert!(env.sim.state.delete_credentials(&new));
    assert!(
        !a.observe(&v, Some(&new), &env.ctx(true, hash))
            .await
            .unwrap()
            .exists
    );
}

#[tokio::test]
async fn adoption_by_external_name_keeps_the_existing_record() {
    let env = with_login("s").await;
    let rt = env.runtime().await;
    let a = vault_adapter(&rt);
    let existing = a
        .create(&share_vault(None), &env.ctx(false, None))
        .await
        .unwrap()
        .external_name;
    let v = share_vault(Some(&existing));
    let o = env.observe_fresh(a, &v, &existing).await;
    assert!(o.exists && o.drift.is_empty());
    env.sim.control().reset_counters();
    env.update(a, &v, &existing, &o).await;
    assert!(
        env.writes().is_empty(),
        "nothing to send: the secret cannot be read back"
    );
}

#[tokio::test]
async fn deletion_removes_the_record_and_tolerates_its_absence() {
    let env = with_login("s").await;
    let rt = env.runtime().await;
    let a = vault_adapter(&rt);
    let v = share_vault(None);
    let id = env.create(a, &v).await;
    assert_eq!(
        a.delete(&v, &id, &env.ctx(false, None)).await.unwrap(),
        Deleted::Gone
    );
    assert!(env.sim.state.world.lock().unwrap().credentials.is_empty());
    assert_eq!(
        a.delete(&v, &id, &env.ctx(false, None)).await.unwrap(),
        Deleted::Gone
    );
    assert_eq!(env.count("DELETE /api/v1/credentials/{id}"), 2);
}

#[tokio::test]
async fn a_vault_without_credentials_has_nothing_at_the_vendor() {
    let env = Env::start().await;
    let rt = env.runtime().await;
    let a = vault_adapter(&rt);
    let v = vault(
        "local",
        json!({"locationType": "LOCAL_FOLDER_TEMPLATE", "path": "F:/local_auto_backups/"}),
        None,
    );
    env.sim.control().reset_counters();
    let id = env.create(a, &v).await;
    assert_eq!(id, "F:/local_auto_backups/");
    let o = env.observe(a, &v, &id).await;
    assert!(o.exists && o.drift.is_empty());
    assert_eq!(o.desired_hash, None);
    assert_eq!(
        a.delete(&v, &id, &env.ctx(false, None)).await.unwrap(),
        Deleted::Gone
    );
    assert!(env.writes().is_empty());
}

#[tokio::test]
async fn a_missing_secret_waits_and_a_secret_without_keys_is_refused() {
    let mut env = Env::start().await;
    let rt = env.runtime().await;
    let a = vault_adapter(&rt);
    let v = share_vault(None);
    assert!(matches!(
        a.create(&v, &env.ctx(false, None)).await.unwrap_err(),
        ExternalError::Waiting { .. }
    ));
    env.add_secret("nas-login", &[("token", "tok-value-123")]);
    let e = a.create(&v, &env.ctx(false, None)).await.unwrap_err();
    assert!(
        matches!(&e, ExternalError::InvalidSpec { field, .. } if field == "spec.cyberBackup.credentialsSecretRef"),
        "{e}"
    );
    assert!(!e.to_string().contains("tok-value-123"));
}

#[tokio::test]
async fn steady_state_vaults_cost_list_pages_and_one_credentials_read_per_poll_interval() {
    let env = with_login("s").await;
    let rt = env.runtime().await;
    let a = vault_adapter(&rt);
    let mut vaults = Vec::new();
    for i in 0..5 {
        let mut v = share_vault(None);
        v.metadata.name = Some(format!("nas-{i}"));
        v.spec.cyber_backup.as_mut().unwrap().name = Some(format!("nas-{i}"));
        let id = env.create(a, &v).await;
        vaults.push((v, id));
    }
    let mut world = env.restarted(100);
    put_secret(
        &mut world,
        "nas-login",
        &[("identity", "u"), ("secret", "s")],
    );
    let rt2 = world.hub.runtime(&env.key).await.unwrap();
    let a2 = vault_adapter(&rt2);
    env.sim.control().reset_counters();
    for round in 0..3 {
        for (v, id) in &vaults {
            assert!(
                a2.observe(v, Some(id), &world.ctx(&marker(), false, None))
                    .await
                    .unwrap()
                    .exists
            );
        }
        if round == 0 {
            assert_eq!(env.count("GET /api/v1/credentials/{id}"), 5);
            assert_eq!(env.count("GET /api/v1/archives"), 1);
            assert_eq!(
                env.sim.control().total(),
                5 + 1 + 1,
                "plus one login: {:?}",
                env.sim.control().counters()
            );
            env.sim.control().reset_counters();
        }
    }
    // Cyber Backup has no credentials list: each record is read once per poll interval, and
    // archives are one list for every Vault. Later rounds cost nothing.
    assert_eq!(
        env.sim.control().total(),
        0,
        "{:?}",
        env.sim.control().counters()
    );
}

/// A credentials registration answered after the request timeout: Cyber Backup cannot list
/// credentials records, so a second registration would leave one nobody can find. rampart keeps
/// listening for the first answer, sends no second registration meanwhile, and the Vault (driven
/// by the real reconciler) takes the one record there is.
#[tokio::test]
async fn a_registration_answered_after_the_timeout_makes_one_record_which_the_vault_takes() {
    use rampart::engine::annotations::EXTERNAL_NAME;
    use rampart::engine::context::EngineSettings;
    use rampart::engine::errors::Backoff;
    use rampart::simulators::harness::Faults;
    use std::time::{Duration, Instant};

    let env = Env::start().await;
    let mut spec = provider_spec(&env.sim.url(), 100);
    spec.request_timeout_seconds = 1;
    env.world.source.set(
        env.key.clone(),
        spec,
        &[("username", "admin"), ("password", "admin-password")],
    );
    env.sim.control().set_faults(Faults {
        respond_after_ms: 2_500,
        only_operation: Some("POST /api/v1/credentials".into()),
        ..Default::default()
    });
    let engine = env.world.engine(EngineSettings {
        cluster_id: "cb-tests".into(),
        backoff: Backoff::default(),
        pending_requeue: Duration::from_millis(200),
        clock: Default::default(),
    });
    engine.cluster.put_secret(
        "prod",
        "nas-login",
        &[("identity", "backup-svc"), ("secret", "s3cr3t")],
    );
    let v = engine.apply(&share_vault(None));
    let deadline = Instant::now() + Duration::from_secs(30);
    let recorded = loop {
        let _ = engine.reconcile(&v).await;
        let now = engine.get(&v).unwrap();
        let ready = now.status.as_ref().is_some_and(|s| {
            s.conditions.iter().any(|c| {
                c.type_ == "Ready" && c.status == rampart::api::common::ConditionStatus::True
            })
        });
        if ready {
            break now.metadata.annotations.unwrap()[EXTERNAL_NAME].clone();
        }
        assert!(Instant::now() < deadline, "not Ready: {:?}", now.status);
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        env.sim.control().count("POST /api/v1/credentials"),
        1,
        "one registration"
    );
    let records: Vec<String> = env
        .sim
        .state
        .read(|w| w.credentials.keys().cloned().collect());
    assert_eq!(records, [recorded], "the one record is the Vault's");
}
