//! One table entry wires a kind: a `Dummy` kind that exists only in this test, added with one
//! `add::<Dummy>()` beside the real table, blocks the deletion of the Vault it refers to, is
//! woken when that Vault changes and when its provider configuration changes, resolves as a
//! reference, and finds its adapter in a vendor runtime. The same holds for every real kind
//! (a Strategy's Vault reference was once forgotten by a hand-written list).

use futures::{FutureExt, StreamExt};
use kube::CustomResource;
use kube::runtime::watcher;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::*;
use crate::api::common::{LocalObjectRef, ManagedFields, ManagedStatus, ProviderConfigKind};
use crate::api::provider_config::ProviderType;
use crate::engine::adapters::Adapters;
use crate::engine::refs::RefKey;
use crate::engine::testkit::{FakeRuntime, FakeVendor};

/// A kind of the test build only.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "test.rampart.dev",
    version = "v1",
    kind = "Dummy",
    namespaced,
    status = "ManagedStatus<DummyObservation>"
)]
#[serde(rename_all = "camelCase")]
pub struct DummySpec {
    #[serde(flatten)]
    managed: ManagedFields,
    vault_ref: LocalObjectRef,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct DummyObservation {}

impl Managed for Dummy {
    type Observation = DummyObservation;
    const KIND: &'static str = "Dummy";

    fn managed(&self) -> &ManagedFields {
        &self.spec.managed
    }
    fn managed_status(&self) -> Option<&ManagedStatus<DummyObservation>> {
        self.status.as_ref()
    }
    fn vendor_block(&self) -> Option<ProviderType> {
        Some(ProviderType::Ideco)
    }
    fn references(&self) -> Vec<RefKey> {
        vec![RefKey {
            kind: "Vault",
            name: self.spec.vault_ref.name.clone(),
            field: "spec.vaultRef",
        }]
    }
}

fn object<K: serde::de::DeserializeOwned>(kind: &str, name: &str, spec: serde_json::Value) -> K {
    serde_json::from_value(json!({
        "apiVersion": "rampart.dev/v1alpha1", "kind": kind,
        "metadata": {"name": name, "namespace": "prod", "uid": format!("uid-{name}"), "generation": 1},
        "spec": spec
    }))
    .unwrap()
}

fn feed<K: Managed>(b: &mut KindsBuilder, objects: Vec<K>) {
    let pending = b.pending::<K>();
    pending.writer.apply_watcher_event(&watcher::Event::Init);
    for o in objects {
        pending
            .writer
            .apply_watcher_event(&watcher::Event::InitApply(o));
    }
    pending
        .writer
        .apply_watcher_event(&watcher::Event::InitDone);
}

/// Every object queued for `K` so far.
fn queued<K: Managed>(b: &mut KindsBuilder) -> Vec<String> {
    let mut names = Vec::new();
    while let Some(Some(r)) = b.pending::<K>().queue.next().now_or_never() {
        names.push(r.name);
    }
    names
}

#[tokio::test]
async fn one_table_entry_wires_a_kind_into_references_deletion_and_wake_ups() {
    let mut b = KindsBuilder::default();
    managed_kinds(&mut b);
    b.add::<Dummy>();
    let pcref = json!({"name": "ngfw"});
    feed(
        &mut b,
        vec![object::<Vault>(
            "Vault",
            "store",
            json!({"providerConfigRef": {"name": "cbr"}, "huaweiCbr": {"objectType": "server", "sizeGB": 10}}),
        )],
    );
    feed(
        &mut b,
        vec![object::<Dummy>(
            "Dummy",
            "d",
            json!({"providerConfigRef": pcref, "vaultRef": {"name": "store"}}),
        )],
    );
    feed(
        &mut b,
        vec![object::<Strategy>(
            "Strategy",
            "nightly",
            json!({"providerConfigRef": {"name": "rb"},
                   "ruBackup": {"name": "nightly", "vaultRef": {"name": "store"},
                                "validity": {"start": "2025-01-01T00:00:00", "end": "2035-01-01T00:00:00"}}}),
        )],
    );
    feed::<Policy>(&mut b, vec![]);
    feed::<FirewallRule>(&mut b, vec![]);

    // Deletion blocking: the Vault waits for both objects that use it.
    let mut referrers = b.kinds.referrers("prod", "Vault", "store");
    referrers.sort();
    assert_eq!(referrers, ["Dummy/d", "Strategy/nightly"]);

    // A change to the Vault wakes both.
    b.kinds.wake_referrers("prod", "Vault", "store");
    assert_eq!(queued::<Dummy>(&mut b), ["d"]);
    assert_eq!(queued::<Strategy>(&mut b), ["nightly"]);
    assert!(queued::<Vault>(&mut b).is_empty());

    // A change to its provider configuration wakes it.
    let key = ProviderKey {
        kind: ProviderConfigKind::ProviderConfig,
        namespace: Some("prod".into()),
        name: "ngfw".into(),
    };
    assert_eq!(b.kinds.wake_users(&key), 1);
    assert_eq!(queued::<Dummy>(&mut b), ["d"]);

    // It resolves as a reference target.
    assert!(b.kinds.target("Dummy", "prod", "d").is_some());
    assert!(b.kinds.target("Dummy", "prod", "nope").is_none());

    // Its adapter is found in a vendor runtime by its type.
    let runtime = FakeRuntime {
        provider_type: ProviderType::Ideco,
        adapters: Adapters::new().with::<Dummy>(FakeVendor::default()),
    };
    assert!(Dummy::external(&runtime).is_some());
    assert!(Vault::external(&runtime).is_none());
}

#[test]
fn the_shared_watch_wakes_a_controller_only_for_what_it_reconciles() {
    let v: Vault = object(
        "Vault",
        "a",
        json!({"providerConfigRef": {"name": "cbr"}, "huaweiCbr": {"objectType": "server", "sizeGB": 10}}),
    );
    let mut status_only = v.clone();
    status_only.status = Some(ManagedStatus::default());
    let mut pending = v.clone();
    pending.metadata.annotations = Some(
        [(
            crate::engine::annotations::CREATE_PENDING.to_string(),
            "now".to_string(),
        )]
        .into(),
    );
    let mut finalized = v.clone();
    finalized.metadata.finalizers = Some(vec![crate::engine::annotations::FINALIZER.into()]);
    let mut respec = v.clone();
    respec.metadata.generation = Some(2);
    let mut deleting = finalized.clone();
    deleting.metadata.deletion_timestamp =
        serde_json::from_value(json!("2026-01-01T00:00:00Z")).ok();
    let mut requested = v.clone();
    requested.metadata.annotations = Some(
        [(
            crate::engine::annotations::RECONCILE_REQUESTED_AT.to_string(),
            "now".to_string(),
        )]
        .into(),
    );
    // rampart's own writes wake nothing (issue 15, item 9: a refused create was sent again
    // within 100 ms because the finalizer write woke its object).
    assert_eq!(wake_up_hash(&v), wake_up_hash(&status_only));
    assert_eq!(wake_up_hash(&v), wake_up_hash(&pending));
    assert_eq!(wake_up_hash(&v), wake_up_hash(&finalized));
    // What people change does.
    assert_ne!(wake_up_hash(&v), wake_up_hash(&respec));
    assert_ne!(wake_up_hash(&finalized), wake_up_hash(&deleting));
    assert_ne!(wake_up_hash(&v), wake_up_hash(&requested));
}
