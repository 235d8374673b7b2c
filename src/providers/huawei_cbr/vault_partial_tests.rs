//! Partial progress instead of all-or-nothing, through the real reconciler against the CBR
//! and RS server simulators: more than 255 resources, resources another vault holds (seen in
//! the listing or only in CBR's refusal), a long object name, and a refusal that names no
//! field.

use std::time::Duration;

use kube::ResourceExt;
use serde_json::json;

use super::vault_world::{ADD, CREATE, VaultWorld};

const LONG: Duration = Duration::from_secs(60);

#[tokio::test]
async fn a_vault_of_300_servers_is_a_create_and_one_addresources() {
    let w = VaultWorld::new(LONG, LONG).await;
    let ids = w.servers(300);
    let v = w.vault("big", json!({"resourcesFrom": w.selecting()}));
    w.converge(&v).await;
    let mut want = ids.clone();
    want.sort();
    assert_eq!(w.resource_ids(&v), want);
    assert_eq!(
        (w.cbr.control().count(CREATE), w.cbr.control().count(ADD)),
        (1, 1)
    );
    assert!(w.says(&v, "Ready", "Available"));
    assert!(!w.says(&v, "ResourcesInOtherVaults", "HeldByAnotherVault"));
}

#[tokio::test]
async fn servers_another_vault_holds_are_left_out_and_named_and_the_rest_protected() {
    let w = VaultWorld::new(LONG, LONG).await;
    let ids = w.servers(10);
    let team_b = w.foreign_vault("team-b", &[ids[3].clone(), ids[7].clone()]);
    let v = w.vault("desktops", json!({"resourcesFrom": w.selecting()}));
    w.converge(&v).await;
    let mut rest: Vec<String> = ids
        .iter()
        .filter(|id| **id != ids[3] && **id != ids[7])
        .cloned()
        .collect();
    rest.sort();
    assert_eq!(w.resource_ids(&v), rest, "the other eight are protected");
    let elsewhere = w.at_provider(&v).resources_in_other_vaults;
    let mut named: Vec<(&str, Option<&str>, Option<&str>)> = elsewhere
        .iter()
        .map(|r| {
            (
                r.id.as_str(),
                r.vault_id.as_deref(),
                r.vault_name.as_deref(),
            )
        })
        .collect();
    named.sort();
    let mut expected = vec![
        (ids[3].as_str(), Some(team_b.as_str()), Some("team-b")),
        (ids[7].as_str(), Some(team_b.as_str()), Some("team-b")),
    ];
    expected.sort();
    assert_eq!(named, expected);
    assert!(w.says(&v, "ResourcesInOtherVaults", "HeldByAnotherVault"));
    let message = w.condition(&v, "ResourcesInOtherVaults").unwrap().message;
    assert!(
        message.contains(&ids[3]) && message.contains("team-b"),
        "{message}"
    );
    assert!(
        w.says(&v, "Synced", "ReconcileSuccess"),
        "not drift: nothing to do"
    );

    // Known from the listing: never sent, so nothing is refused or retried.
    for _ in 0..3 {
        w.engine.reconcile(&v).await.unwrap();
    }
    assert_eq!(
        (w.cbr.control().count(CREATE), w.cbr.control().count(ADD)),
        (1, 0)
    );
}

/// The holder is not in the listing rampart has (it appeared after it): CBR's 6103 refuses a
/// whole call, and the refused server is isolated so the others still go in.
#[tokio::test]
async fn a_holder_the_listing_missed_costs_a_few_calls_not_the_other_servers() {
    // The CBR listing is kept for a minute; the inventory is read every second.
    let w = VaultWorld::new(LONG, Duration::from_secs(1)).await;
    let first = w.servers(5);
    let v = w.vault("desktops", json!({"resourcesFrom": w.selecting()}));
    w.converge(&v).await;
    assert_eq!(w.resource_ids(&v).len(), 5);

    // Three new servers; someone puts one of them in their vault first.
    let new: Vec<String> = (0..3)
        .map(|i| w.rs.state.add_server(&w.project, &format!("new-{i}")))
        .collect();
    let team_b = w.foreign_vault("team-b", &[new[1].clone()]);
    w.reconcile_until(&v, Duration::from_secs(15), |w| {
        w.resource_ids(&v).len() == 7
    })
    .await;
    let ids = w.resource_ids(&v);
    assert!(ids.contains(&new[0]) && ids.contains(&new[2]) && !ids.contains(&new[1]));
    assert!(ids.iter().filter(|id| first.contains(id)).count() == 5);
    let elsewhere = w.at_provider(&v).resources_in_other_vaults;
    assert_eq!(elsewhere.len(), 1);
    assert_eq!(elsewhere[0].id, new[1]);
    assert_eq!(
        elsewhere[0].vault_id.as_deref(),
        Some(team_b.as_str()),
        "the listing after the refusal names the holder"
    );
    // The batch of three is refused, then split: [x] and [y, z], then [y] and [z]; five calls
    // at most (three when the held one comes first), never one per server per poll.
    let adds = w.cbr.control().count(ADD);
    assert!((3..=5).contains(&adds), "{adds} addresources calls");
    for _ in 0..3 {
        w.engine.reconcile(&v).await.unwrap();
    }
    assert_eq!(
        w.cbr.control().count(ADD),
        adds,
        "the held one is not asked for again"
    );
}

#[tokio::test]
async fn a_create_refused_for_one_server_still_creates_the_vault_with_the_rest() {
    let w = VaultWorld::new(LONG, LONG).await;
    let ids = w.servers(6);
    // Another Vault is reconciled first, so the CBR listing is already cached...
    let primer = w.vault("primer", json!({}));
    w.converge(&primer).await;
    // ...when someone else takes a server: the listing does not show it.
    let team_b = w.foreign_vault("team-b", &[ids[2].clone()]);
    let v = w.vault("desktops", json!({"resourcesFrom": w.selecting()}));
    w.converge(&v).await;
    let got = w.resource_ids(&v);
    assert_eq!(got.len(), 5, "{got:?}");
    assert!(!got.contains(&ids[2]));
    assert_eq!(
        w.cbr.control().count(CREATE),
        3,
        "the primer, the refused create, the create without resources"
    );
    let elsewhere = w.at_provider(&v).resources_in_other_vaults;
    assert_eq!(elsewhere.len(), 1);
    assert_eq!(elsewhere[0].vault_id.as_deref(), Some(team_b.as_str()));
    assert_eq!(
        w.cbr
            .console()
            .project(super::test_support::PROJECT)
            .vaults
            .len(),
        3,
        "no duplicate vault"
    );
}

#[tokio::test]
async fn a_long_object_name_gives_a_vault_name_cbr_accepts() {
    let w = VaultWorld::new(LONG, LONG).await;
    let name = format!("{}-nightly", "a".repeat(62));
    let v = w.vault(&name, json!({}));
    w.converge(&v).await;
    let vault_name = w.sim_vault(&v).name;
    assert_eq!(vault_name.chars().count(), 64);
    assert!(vault_name.starts_with(&"a".repeat(55)), "{vault_name}");
    // Stable: the next pass sees no drift and renames nothing.
    w.engine.reconcile(&v).await.unwrap();
    assert!(w.says(&v, "Synced", "ReconcileSuccess"));
    assert_eq!(w.sim_vault(&v).name, vault_name);
}

#[tokio::test]
async fn a_refusal_that_names_no_field_says_what_rampart_checked_and_sent() {
    let w = VaultWorld::new(LONG, LONG).await;
    // Admission would refuse this name; in memory nothing does, so CBR answers 9900.
    let v = w.vault("named", json!({"name": "n".repeat(70)}));
    let (e, _) = w.engine.reconcile(&v).await.unwrap_err();
    let text = e.to_string();
    for needle in [
        "BackupService.9900",
        "Parameter verification failed.",
        "CBR names no field",
        "name 1-64 characters",
        "vault.name (70 characters)",
        "vault.billing.size",
    ] {
        assert!(text.contains(needle), "{needle}: {text}");
    }
    assert!(!text.contains(&"n".repeat(70)), "no values: {text}");
    let synced = w.condition(&v, "Synced").unwrap();
    assert!(synced.message.contains("vault.name (70 characters)"));
    assert!(w.says(&v, "Stalled", "TerminalError"));
}

#[tokio::test]
async fn a_vault_whose_follow_up_update_is_refused_is_found_not_made_again() {
    use crate::engine::annotations::{CREATE_PENDING, EXTERNAL_NAME};
    use crate::simulators::harness::Faults;
    let w = VaultWorld::new(LONG, LONG).await;
    // autoExpand is set by an update after the create; CBR throttles that update.
    w.cbr.control().set_faults(Faults {
        throttle_rate: 1.0,
        retry_after_secs: 1,
        only_operation: Some("PUT /v3/{project_id}/vaults/{vault_id}".into()),
        ..Default::default()
    });
    let v = w.vault("expanding", json!({"autoExpand": true}));
    let failed = w.engine.converge_err(&v, 3).await;
    assert!(failed.contains("accepted the create"), "{failed}");
    assert_eq!(w.cbr.control().count(CREATE), 1);
    assert!(
        w.stored(&v).annotations().contains_key(CREATE_PENDING),
        "the mark stays for the vault CBR made"
    );
    w.cbr.control().set_faults(Faults::default());
    // A listing may rule on the create at once (the mark says when it was sent).
    w.annotate(&v, CREATE_PENDING, Some("2000-01-01T00:00:00Z"));
    let v = w.converge(&v).await;
    assert!(v.annotations().contains_key(EXTERNAL_NAME));
    assert_eq!(w.cbr.control().count(CREATE), 1, "never made twice");
    assert_eq!(
        w.cbr
            .console()
            .project(super::test_support::PROJECT)
            .vaults
            .len(),
        1
    );
    assert!(
        w.sim_vault(&v).auto_expand,
        "the update came after the adoption"
    );
}
