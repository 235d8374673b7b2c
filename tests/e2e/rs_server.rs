//! RS server (TRS) inventory end to end: a CBR Vault that selects the servers (or user volumes)
//! of a TRS project follows them as they come and go; removal needs `pruneResources`.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, Patch, PatchParams, PostParams};
use rampart::api::{ProviderConfig, Vault};
use rampart::simulators::rs_server::RsServerSim;
use serde_json::{Value, json};

use crate::cbr_world::{CbrWorld, PROJECT, T, external_name, patch_spec};
use crate::support::{has_condition, is_ready, until, wait_for};

/// An RS server simulator and a ProviderConfig `rs` using `token`.
async fn rs_provider(w: &CbrWorld, rs: &RsServerSim, token: &str) {
    let secret: Secret = serde_json::from_value(
        json!({"metadata": {"name": "rs-token"}, "stringData": {"token": token}}),
    )
    .unwrap();
    Api::<Secret>::namespaced(w.client.clone(), &w.ns)
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();
    let pc: ProviderConfig = serde_json::from_value(json!({
        "apiVersion": "rampart.dev/v1alpha1", "kind": "ProviderConfig", "metadata": {"name": "rs"},
        "spec": {"type": "RsServer", "endpoint": rs.url(), "credentials": {"secretRef": {"name": "rs-token"}},
                 "pollIntervalSeconds": 5, "rsServer": {"authMethod": "Token"}}
    }))
    .unwrap();
    Api::<ProviderConfig>::namespaced(w.client.clone(), &w.ns)
        .create(&PostParams::default(), &pc)
        .await
        .unwrap();
}

fn selecting(object_type: &str, selector: Value) -> Value {
    json!({
        "providerConfigRef": {"name": "cbr"},
        "huaweiCbr": {"objectType": object_type, "sizeGB": 100,
                      "resourcesFrom": {"rsServer": selector}}
    })
}

/// Resource ids CBR reports in the vault.
fn vault_resources(w: &CbrWorld, id: &str) -> BTreeSet<String> {
    w.sim_vault(id)
        .map(|v| v.resources.iter().map(|r| r.id.clone()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_vault_follows_the_servers_and_volumes_of_a_project() {
    let w = CbrWorld::new("rs-follow", json!({"qps": 50, "burst": 50})).await;
    let rs = RsServerSim::start_local().await.unwrap();
    let user = rs.state.add_user("operator", "pw");
    let token = rs.state.issue_token(&user, None);
    let project = rs.state.add_project("desktops");
    let s1 = rs.state.add_server(&project, "vm-1");
    let s2 = rs.state.add_server(&project, "vm-2");
    let (_, vol) = rs.state.add_user_volume(&project, &user);
    rs_provider(&w, &rs, &token).await;
    let pc = wait_for(
        &Api::<ProviderConfig>::namespaced(w.client.clone(), &w.ns),
        "rs",
        is_ready(),
        T,
    )
    .await;
    let seen = pc.status.unwrap().at_provider.unwrap();
    assert!(
        seen.version.is_some() && seen.license.is_some(),
        "version and licence in status: {seen:?}"
    );

    let sel = json!({"providerConfigRef": {"name": "rs"}, "project": {"name": "desktops"}});
    w.create_vault("desktops", selecting("server", sel.clone()))
        .await;
    let mut vol_sel = sel.clone();
    vol_sel["includeUserVolumes"] = json!(true);
    w.create_vault("user-volumes", selecting("disk", vol_sel))
        .await;
    let servers_id = external_name(&wait_for(&w.vaults(), "desktops", is_ready(), T).await);
    let volumes_id = external_name(&wait_for(&w.vaults(), "user-volumes", is_ready(), T).await);
    assert_eq!(
        vault_resources(&w, &servers_id),
        BTreeSet::from([s1.clone(), s2.clone()])
    );
    assert_eq!(
        vault_resources(&w, &volumes_id),
        BTreeSet::from([vol.clone()])
    );

    // A machine added to the project appears in the vault within one poll.
    let s3 = rs.state.add_server(&project, "vm-3");
    until("vm-3 is in the vault", || {
        vault_resources(&w, &servers_id).contains(&s3)
    })
    .await;

    // A machine removed is reported and kept (removing it would delete its backups)...
    assert!(rs.state.remove_server(&s1));
    let v = wait_for(
        &w.vaults(),
        "desktops",
        has_condition("ResourcesNotPruned", "True", None),
        T,
    )
    .await;
    assert_eq!(
        v.status.unwrap().at_provider.unwrap().unmanaged_resources,
        vec![s1.clone()]
    );
    assert!(
        vault_resources(&w, &servers_id).contains(&s1),
        "kept without pruneResources"
    );

    // ...and with pruning allowed, removed only after two listings agree and, as one of three
    // is more than maxPrunePercent (10%), after a person confirms exactly that removal.
    patch_spec(
        &w.vaults(),
        "desktops",
        json!({"huaweiCbr": {"pruneResources": true}}),
    )
    .await;
    let v = wait_for(
        &w.vaults(),
        "desktops",
        has_condition("ResourcesNotPruned", "True", Some("ConfirmationRequired")),
        T,
    )
    .await;
    let at = v.status.unwrap().at_provider.unwrap();
    assert_eq!(at.held_removals, vec![s1.clone()]);
    assert_eq!(at.pending_removals.len(), 1, "missing since is in status");
    let code = at.prune_confirmation.expect("a confirmation code");
    assert!(
        vault_resources(&w, &servers_id).contains(&s1),
        "held until confirmed"
    );
    Api::<Vault>::namespaced(w.client.clone(), &w.ns)
        .patch(
            "desktops",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"metadata": {"annotations": {"rampart.dev/confirm-prune": code}}}),
            ),
        )
        .await
        .unwrap();
    until("vm-1 is pruned", || {
        !vault_resources(&w, &servers_id).contains(&s1)
    })
    .await;
    assert_eq!(vault_resources(&w, &servers_id), BTreeSet::from([s2, s3]));
    wait_for(
        &w.vaults(),
        "desktops",
        has_condition("ResourcesNotPruned", "False", Some("NoneExtra")),
        T,
    )
    .await;
    let _ = PROJECT;
}

/// A selection of 260 servers (CBR creates take at most 255), one of them already in another
/// vault (CBR refuses a whole call for it), by a Vault whose name is longer than CBR's 64: the
/// vault is created once, under a shortened name, with the other 259.
#[tokio::test]
async fn a_large_selection_with_a_server_elsewhere_and_a_long_name_is_protected() {
    let w = CbrWorld::new("rs-large", json!({"qps": 50, "burst": 50})).await;
    let rs = RsServerSim::start_local().await.unwrap();
    let user = rs.state.add_user("operator", "pw");
    let token = rs.state.issue_token(&user, None);
    let project = rs.state.add_project("desktops");
    let servers: Vec<String> = (0..260)
        .map(|i| rs.state.add_server(&project, &format!("vm-{i:03}")))
        .collect();
    let console = w.sim.console();
    let other = console.insert_vault(PROJECT, "team-b", "server", 100);
    console.edit_vault(PROJECT, &other, |v| {
        v.resources
            .push(rampart::simulators::huawei_cbr::model::SimResource {
                id: servers[100].clone(),
                type_: "OS::Nova::Server".into(),
                name: "vm-100".into(),
                size: 40,
                exclude_volumes: vec![],
                protect_status: "available".into(),
            })
    });
    rs_provider(&w, &rs, &token).await;
    let name = format!("{}-desktops", "a".repeat(62));
    w.create_vault(
        &name,
        selecting(
            "server",
            json!({"providerConfigRef": {"name": "rs"}, "project": {"name": "desktops"}}),
        ),
    )
    .await;
    wait_for(&w.vaults(), &name, is_ready(), T).await;
    let v = wait_for(
        &w.vaults(),
        &name,
        has_condition("ResourcesInOtherVaults", "True", Some("HeldByAnotherVault")),
        T,
    )
    .await;
    let id = external_name(&v);
    let vault = w.sim_vault(&id).unwrap();
    assert_eq!(vault.name.chars().count(), 64, "{}", vault.name);
    let held = vault_resources(&w, &id);
    assert_eq!(held.len(), 259);
    assert!(!held.contains(&servers[100]));
    let at = v.status.unwrap().at_provider.unwrap();
    assert_eq!(at.resources_in_other_vaults.len(), 1);
    assert_eq!(at.resources_in_other_vaults[0].id, servers[100]);
    assert_eq!(
        at.resources_in_other_vaults[0].vault_name.as_deref(),
        Some("team-b")
    );
    let counters = w.sim.control().counters();
    assert_eq!(
        (
            counters.get("POST /v3/{project_id}/vaults").copied(),
            counters
                .get("POST /v3/{project_id}/vaults/{vault_id}/addresources")
                .copied()
        ),
        (Some(1), Some(1)),
        "one create of 255, one addresources of 4: {counters:?}"
    );
}

#[tokio::test]
async fn a_bad_rs_server_token_shows_on_the_provider_config_and_the_vault() {
    let w = CbrWorld::new("rs-badtoken", json!({"qps": 50, "burst": 50})).await;
    let rs = RsServerSim::start_local().await.unwrap();
    rs.state.add_project("desktops");
    rs_provider(&w, &rs, "not-a-valid-token").await;
    let pcs = Api::<ProviderConfig>::namespaced(w.client.clone(), &w.ns);
    let pc = wait_for(
        &pcs,
        "rs",
        has_condition("Ready", "False", Some("Unavailable")),
        T,
    )
    .await;
    let msg = crate::support::condition_message(&pc, "Ready");
    assert!(
        msg.to_lowercase().contains("token"),
        "the condition says the token was refused: {msg}"
    );
    assert!(
        !msg.contains("not-a-valid-token"),
        "the token value never appears: {msg}"
    );

    w.create_vault(
        "desktops",
        selecting(
            "server",
            json!({"providerConfigRef": {"name": "rs"}, "project": {"name": "desktops"}}),
        ),
    )
    .await;
    let v = wait_for(
        &w.vaults(),
        "desktops",
        has_condition("Synced", "False", Some("ReconcileError")),
        T,
    )
    .await;
    let msg = crate::support::condition_message(&v, "Synced");
    assert!(
        msg.contains("rs-server") && msg.to_lowercase().contains("token"),
        "the Vault says why: {msg}"
    );
    assert!(!msg.contains("not-a-valid-token"));
}
