//! The Vault adapter against the Cyber Backup simulator, in process.

use crate::cyberbackup_support::*;
use rampart::api::Vault;
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
        assert!(c.description.contains(MARKER));
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
        json!({"type": "VAULT", "settings": {"name": "nas-backups", "storage_type": "NETWORK_SHARE", "uri": "smb://nas/backups", "credentials": cred, "use_policy_credentials": false}})
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

#[tokio::test]
async fn a_changed_secret_replaces_the_record() {
    let mut env = with_login("old").await;
    let rt = env.runtime().await;
    let a = vault_adapter(&rt);
    let v = share_vault(None);
    let (old, stored) = register(&env, a, &v).await;
    let applied = stored.as_deref();

    env.add_secret(
        "nas-login",
        &[("identity", "backup-svc"), ("secret", "new")],
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
    env.sim.control().reset_counters();
    a.update(&v, &old, &o, &env.ctx(false, applied))
        .await
        .unwrap();
    assert_eq!(
        env.writes(),
        vec![("DELETE /api/v1/credentials/{id}".to_string(), 1)]
    );
    let o = a
        .observe(&v, Some(&old), &env.ctx(false, applied))
        .await
        .unwrap();
    assert!(!o.exists, "gone: the engine registers the new secret");
    let new = env.create(a, &v).await;
    assert_ne!(new, old);
    assert_eq!(
        env.sim.state.world.lock().unwrap().credentials[&new].secret,
        "new"
    );
}

#[tokio::test]
async fn vendor_side_changes_are_reported_and_corrected() {
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
    a.update(&v, &id, &o, &env.ctx(false, hash)).await.unwrap();
    assert!(
        !a.observe(&v, Some(&id), &env.ctx(false, hash))
            .await
            .unwrap()
            .exists
    );
    let id = env.create(a, &v).await;
    assert!(
        a.observe(&v, Some(&id), &env.ctx(true, hash))
            .await
            .unwrap()
            .drift
            .is_empty()
    );

    // Deleted by a human: observed as gone, so the engine registers it again.
    assert!(env.sim.state.delete_credentials(&id));
    assert!(
        !a.observe(&v, Some(&id), &env.ctx(true, hash))
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
                a2.observe(v, Some(id), &world.ctx(MARKER, false, None))
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
