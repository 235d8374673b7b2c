//! Pruning that deletes backups waits for agreement, through the real reconciler against the
//! CBR and RS server simulators: two listings a poll apart, a short listing or a failed one
//! removes nothing, a mass removal waits for a confirmation of that exact set, and status
//! carries the wait across a restart of the runtimes.

use std::time::Duration;

use serde_json::json;

use super::vault_prune::CONFIRM_PRUNE;
use super::vault_world::{REMOVE, VaultWorld};
use crate::simulators::harness::Faults;

const POLL: Duration = Duration::from_secs(1);
const WITHIN: Duration = Duration::from_secs(15);

fn pruning(w: &VaultWorld, extra: serde_json::Value) -> serde_json::Value {
    let mut block = json!({"resourcesFrom": w.selecting(), "pruneResources": true});
    if let (Some(b), Some(e)) = (block.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    block
}

fn missing_since(w: &VaultWorld, v: &crate::api::Vault, id: &str) -> Option<jiff::Timestamp> {
    w.at_provider(v)
        .pending_removals
        .into_iter()
        .find(|p| p.id == id)
        .map(|p| p.missing_since.parse().expect("an RFC 3339 time"))
}

#[tokio::test]
async fn a_resource_leaves_only_when_a_listing_a_poll_later_agrees() {
    let w = VaultWorld::new(POLL, POLL).await;
    let ids = w.servers(20);
    let v = w.vault("desktops", pruning(&w, json!({})));
    w.converge(&v).await;
    assert_eq!(w.resource_ids(&v).len(), 20);

    assert!(w.rs.state.remove_server(&ids[0]));
    w.reconcile_until(&v, WITHIN, |w| missing_since(w, &v, &ids[0]).is_some())
        .await;
    let since = missing_since(&w, &v, &ids[0]).unwrap();
    assert!(
        w.resource_ids(&v).contains(&ids[0]),
        "kept at the first listing without it"
    );
    assert!(w.says(&v, "ResourcesNotPruned", "AwaitingSecondListing"));

    w.reconcile_until(&v, WITHIN, |w| !w.resource_ids(&v).contains(&ids[0]))
        .await;
    let removed_by = jiff::Timestamp::now();
    assert!(
        removed_by.duration_since(since) >= jiff::SignedDuration::try_from(POLL).unwrap(),
        "removed {:?} after the first listing without it, sooner than a poll interval",
        removed_by.duration_since(since)
    );
    assert_eq!(w.cbr.control().count(REMOVE), 1);
    assert_eq!(w.resource_ids(&v).len(), 19);
    assert!(w.at_provider(&v).pending_removals.is_empty());
}

#[tokio::test]
async fn a_short_listing_removes_nothing() {
    let w = VaultWorld::new(POLL, POLL).await;
    let ids = w.servers(20);
    let v = w.vault("desktops", pruning(&w, json!({"maxPrunePercent": 100})));
    w.converge(&v).await;

    // One listing leaves a server out (Nova reports it gone for a moment)...
    assert!(w.rs.state.set_server_status(&ids[3], "DELETED"));
    w.reconcile_until(&v, WITHIN, |w| missing_since(w, &v, &ids[3]).is_some())
        .await;
    // ...and the next has it again: nothing was removed, and nothing is pending.
    assert!(w.rs.state.set_server_status(&ids[3], "ACTIVE"));
    w.reconcile_until(&v, WITHIN, |w| missing_since(w, &v, &ids[3]).is_none())
        .await;
    let start = std::time::Instant::now();
    w.reconcile_until(&v, WITHIN, |_| start.elapsed() > 3 * POLL)
        .await;
    assert!(w.resource_ids(&v).contains(&ids[3]));
    assert_eq!(w.cbr.control().count(REMOVE), 0);
}

#[tokio::test]
async fn a_failed_listing_removes_nothing() {
    let w = VaultWorld::new(POLL, POLL).await;
    let ids = w.servers(20);
    // No share limit: only the failed listing stands between the vault and a removal.
    let v = w.vault("desktops", pruning(&w, json!({"maxPrunePercent": 100})));
    w.converge(&v).await;
    w.rs.control().set_faults(Faults {
        error_rate: 1.0,
        only_operation: Some("GET /v1/servers/".into()),
        ..Default::default()
    });
    assert!(w.rs.state.remove_server(&ids[0]));
    let start = std::time::Instant::now();
    let mut failed = 0;
    while start.elapsed() < 3 * POLL {
        if w.engine.reconcile(&v).await.is_err() {
            failed += 1;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(failed > 0, "the inventory listing failed");
    assert_eq!(w.resource_ids(&v).len(), 20, "nothing removed");
    assert_eq!(w.cbr.control().count(REMOVE), 0);

    w.rs.control().set_faults(Faults::default());
    w.reconcile_until(&v, WITHIN, |w| !w.resource_ids(&v).contains(&ids[0]))
        .await;
}

#[tokio::test]
async fn a_mass_removal_waits_for_a_confirmation_of_that_exact_set() {
    let w = VaultWorld::new(POLL, POLL).await;
    let ids = w.servers(20);
    let v = w.vault("desktops", pruning(&w, json!({})));
    w.converge(&v).await;

    // 5 of 20 (25%) is more than the default 10%.
    for id in &ids[..5] {
        assert!(w.rs.state.remove_server(id));
    }
    w.reconcile_until(&v, WITHIN, |w| {
        w.says(&v, "ResourcesNotPruned", "ConfirmationRequired")
    })
    .await;
    let seen = w.at_provider(&v);
    let mut held = ids[..5].to_vec();
    held.sort();
    assert_eq!(seen.held_removals, held);
    let code = seen
        .prune_confirmation
        .clone()
        .expect("a confirmation code");
    let message = w.condition(&v, "ResourcesNotPruned").unwrap().message;
    assert!(
        message.contains(&format!("{CONFIRM_PRUNE}: \"{code}\"")) && message.contains(&ids[0]),
        "{message}"
    );

    // Held across polls, and a wrong value confirms nothing.
    w.annotate(&v, CONFIRM_PRUNE, Some("0000000000"));
    let start = std::time::Instant::now();
    w.reconcile_until(&v, WITHIN, |_| start.elapsed() > 3 * POLL)
        .await;
    assert_eq!(w.resource_ids(&v).len(), 20);
    assert_eq!(w.cbr.control().count(REMOVE), 0);

    // One more goes missing: the confirmation of the five does not approve the six.
    assert!(w.rs.state.remove_server(&ids[5]));
    w.reconcile_until(&v, WITHIN, |w| w.at_provider(&v).held_removals.len() == 6)
        .await;
    let new_code = w.at_provider(&v).prune_confirmation.unwrap();
    assert_ne!(new_code, code);
    w.annotate(&v, CONFIRM_PRUNE, Some(&code));
    let start = std::time::Instant::now();
    w.reconcile_until(&v, WITHIN, |_| start.elapsed() > 2 * POLL)
        .await;
    assert_eq!(
        w.resource_ids(&v).len(),
        20,
        "a stale confirmation removed nothing"
    );

    w.annotate(&v, CONFIRM_PRUNE, Some(&new_code));
    w.reconcile_until(&v, WITHIN, |w| w.resource_ids(&v).len() == 14)
        .await;
    assert_eq!(w.cbr.control().count(REMOVE), 1, "one call for the six");
    assert!(!w.says(&v, "ResourcesNotPruned", "ConfirmationRequired"));
}

#[tokio::test]
async fn the_wait_survives_a_restart_of_the_runtimes() {
    let w = VaultWorld::new(POLL, POLL).await;
    let ids = w.servers(20);
    let v = w.vault("desktops", pruning(&w, json!({})));
    w.converge(&v).await;
    assert!(w.rs.state.remove_server(&ids[0]));
    w.reconcile_until(&v, WITHIN, |w| missing_since(w, &v, &ids[0]).is_some())
        .await;
    let since = missing_since(&w, &v, &ids[0]).unwrap();

    // The operator restarts: every vendor runtime (caches, memory) is built anew.
    for name in ["cbr", "rs"] {
        w.world
            .hub
            .forget(&crate::engine::hub::ProviderKey {
                kind: crate::api::common::ProviderConfigKind::ProviderConfig,
                namespace: Some(super::vault_world::NS.into()),
                name: name.into(),
            })
            .await;
    }
    let _ = w.engine.reconcile(&v).await;
    if w.resource_ids(&v).contains(&ids[0]) {
        assert_eq!(
            missing_since(&w, &v, &ids[0]),
            Some(since),
            "the first listing without it is remembered across the restart"
        );
    }
    w.reconcile_until(&v, WITHIN, |w| !w.resource_ids(&v).contains(&ids[0]))
        .await;
}

/// The inventory is listed once a minute, the vault polled every second: every poll reads the
/// same cached listing, which is one listing however often it is read.
#[tokio::test]
async fn one_listing_read_at_every_poll_is_still_one_listing() {
    let w = VaultWorld::new(POLL, Duration::from_secs(60)).await;
    let ids = w.servers(20);
    let v = w.vault("desktops", pruning(&w, json!({"maxPrunePercent": 100})));
    w.converge(&v).await;
    assert!(w.rs.state.remove_server(&ids[0]));
    // A new runtime lists the inventory afresh (without the server), then keeps that listing.
    w.world
        .hub
        .forget(&crate::engine::hub::ProviderKey {
            kind: crate::api::common::ProviderConfigKind::ProviderConfig,
            namespace: Some(super::vault_world::NS.into()),
            name: "rs".into(),
        })
        .await;
    w.reconcile_until(&v, WITHIN, |w| missing_since(w, &v, &ids[0]).is_some())
        .await;
    let start = std::time::Instant::now();
    w.reconcile_until(&v, WITHIN, |_| start.elapsed() > 3 * POLL)
        .await;
    assert!(
        w.resource_ids(&v).contains(&ids[0]),
        "three polls of one listing removed it"
    );
    assert_eq!(w.cbr.control().count(REMOVE), 0);
}
