//! The reconciler's table tests, in the manner of crossplane-runtime's: every path of the
//! managed-object lifecycle against an API server and a vendor in memory. Each test states the
//! world, runs the real reconciler, and checks what it wrote to Kubernetes, what it asked of
//! the vendor, the Events, the conditions and when it will look again.

use std::sync::Arc;
use std::time::Duration;

use kube::ResourceExt;
use serde_json::{Value, json};

use super::Next;
use crate::api::common::{ConditionStatus, ProviderConfigKind};
use crate::api::provider_config::ProviderType;
use crate::api::{Policy, Vault};
use crate::engine::adapters::Adapters;
use crate::engine::annotations::{CREATE_PENDING, EXTERNAL_NAME, FINALIZER, PAUSED};
use crate::engine::context::EngineSettings;
use crate::engine::errors::{Backoff, Class};
use crate::engine::hub::{ProviderKey, ResolvedProvider, VendorRuntime};
use crate::engine::marker::ownership_marker;
use crate::engine::testkit::{Engine, FakeRuntime, FakeVendor, TestWorld, Write, vendor_error};
use crate::vendor::error::ErrorKind;

const NS: &str = "prod";
const CLUSTER: &str = "table";
const POLL: Duration = Duration::from_secs(60);

/// A world with one CBR-typed provider configuration `cbr` whose runtime is a fake vendor.
struct Table {
    vendor: FakeVendor,
    engine: Engine,
    _world: TestWorld,
}

impl Table {
    fn new() -> Table {
        let vendor = FakeVendor::default();
        let for_connect = vendor.clone();
        let world = TestWorld::new(Arc::new(move |_: &ResolvedProvider| {
            let runtime: Arc<dyn VendorRuntime> = Arc::new(FakeRuntime {
                provider_type: ProviderType::HuaweiCbr,
                adapters: Adapters::new()
                    .with::<Vault>(for_connect.clone())
                    .with::<Policy>(for_connect.clone()),
            });
            Ok(runtime)
        }));
        let spec = serde_json::from_value(json!({
            "type": "HuaweiCbr", "endpoint": "https://cbr.example",
            "pollIntervalSeconds": POLL.as_secs()
        }))
        .unwrap();
        let key = ProviderKey {
            kind: ProviderConfigKind::ProviderConfig,
            namespace: Some(NS.into()),
            name: "cbr".into(),
        };
        world.source.set(key, spec, &[]);
        let settings = EngineSettings {
            cluster_id: CLUSTER.into(),
            backoff: Backoff::default(),
            pending_requeue: Duration::from_secs(5),
            clock: Default::default(),
        };
        let engine = world.engine(settings);
        Table {
            vendor,
            engine,
            _world: world,
        }
    }

    /// Apply a Vault with `extra` merged into its spec and `annotations` on it.
    fn vault(&self, name: &str, extra: Value, annotations: &[(&str, &str)]) -> Vault {
        let mut spec = json!({
            "providerConfigRef": {"name": "cbr"},
            "huaweiCbr": {"objectType": "server", "sizeGB": 100}
        });
        spec.as_object_mut()
            .unwrap()
            .extend(extra.as_object().cloned().unwrap_or_default());
        let annotations: serde_json::Map<String, Value> = annotations
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        let v: Vault = serde_json::from_value(json!({
            "apiVersion": "rampart.dev/v1alpha1", "kind": "Vault",
            "metadata": {"name": name, "namespace": NS, "annotations": annotations},
            "spec": spec
        }))
        .unwrap();
        self.engine.apply(&v)
    }

    fn marker(&self, name: &str) -> String {
        ownership_marker(CLUSTER, "Vault", NS, name)
    }

    fn stored(&self, v: &Vault) -> Vault {
        self.engine.get(v).expect("stored")
    }

    async fn pass(&self, v: &Vault) -> Result<Next, (crate::engine::errors::Error, Duration)> {
        self.engine.reconcile(v).await
    }

    /// The spec the fake vendor stores for this object (what the adapter would write).
    fn spec_of(v: &Vault) -> Value {
        serde_json::to_value(v).unwrap()["spec"].clone()
    }
}

fn condition(v: &Vault, type_: &str) -> Option<(ConditionStatus, String)> {
    v.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
        .map(|c| (c.status, c.reason.clone()))
}

fn is(v: &Vault, type_: &str, status: ConditionStatus, reason: &str) -> bool {
    condition(v, type_) == Some((status, reason.to_string()))
}

fn annotation(v: &Vault, key: &str) -> Option<String> {
    v.metadata.annotations.as_ref()?.get(key).cloned()
}

fn resync_window(next: Next) -> bool {
    matches!(next, Next::After(d) if d >= POLL.mul_f64(0.9) && d <= POLL.mul_f64(1.1))
}

use ConditionStatus::{False, True};

#[tokio::test]
async fn a_new_object_gets_its_finalizer_first_then_one_create_behind_the_pending_mark() {
    let t = Table::new();
    let v = t.vault("new", json!({}), &[]);
    let next = t.pass(&v).await.expect("reconciled");

    let writes = t.engine.cluster.writes("new");
    assert_eq!(
        writes,
        [
            Write::AddFinalizer,
            Write::Annotations, // create-pending, before the vendor call
            Write::Annotations, // external name in, create-pending out, in one patch
            Write::Status,
        ]
    );
    assert_eq!(t.vendor.calls(), ["observe", "create", "observe"]);
    let now = t.stored(&v);
    assert!(now.finalizers().contains(&FINALIZER.to_string()));
    assert_eq!(annotation(&now, EXTERNAL_NAME).as_deref(), Some("id-1"));
    assert_eq!(annotation(&now, CREATE_PENDING), None);
    assert!(is(&now, "Ready", True, "Available"));
    assert!(is(&now, "Synced", True, "ReconcileSuccess"));
    assert_eq!(t.engine.cluster.reasons("new"), ["Created"]);
    assert!(resync_window(next), "{next:?}");
    let vendor = t.vendor.objects();
    assert_eq!(
        vendor["id-1"].marker.as_deref(),
        Some(t.marker("new").as_str())
    );
}

#[tokio::test]
async fn a_converged_object_costs_one_observe_and_no_write() {
    let t = Table::new();
    let v = t.vault("steady", json!({}), &[]);
    t.pass(&v).await.unwrap();
    t.vendor.clear_calls();
    t.engine.cluster.clear_log();
    let next = t.pass(&v).await.unwrap();
    assert_eq!(t.vendor.calls(), ["observe"]);
    assert!(t.engine.cluster.writes("steady").is_empty());
    assert!(t.engine.cluster.events("steady").is_empty());
    assert!(resync_window(next));
}

#[tokio::test]
async fn a_refused_create_clears_the_pending_mark_and_stalls_until_the_spec_changes() {
    let t = Table::new();
    let v = t.vault("refused", json!({}), &[]);
    t.vendor.fail_next(
        "create",
        vendor_error(ErrorKind::Rejected, "size too small"),
    );
    let (e, delay) = t.pass(&v).await.expect_err("refused");
    assert_eq!(e.class(), Class::Terminal);
    assert_eq!(delay, Backoff::default().terminal);
    let now = t.stored(&v);
    assert_eq!(
        annotation(&now, CREATE_PENDING),
        None,
        "a refusal proves nothing was made"
    );
    assert!(is(&now, "Stalled", True, "TerminalError"));
    assert!(is(&now, "Synced", False, "ReconcileError"));
    assert_eq!(t.engine.cluster.reasons("refused"), ["TerminalError"]);
    assert!(t.vendor.objects().is_empty());

    // The next attempt creates; Stalled goes away.
    t.pass(&v).await.expect("created");
    let now = t.stored(&v);
    assert_eq!(condition(&now, "Stalled"), None);
    assert!(is(&now, "Ready", True, "Available"));
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_is_found_by_its_marker_not_made_again() {
    let t = Table::new();
    let v = t.vault("lost", json!({}), &[]);
    t.vendor.lose_next_create_answer();
    let (e, _) = t.pass(&v).await.expect_err("timed out");
    assert!(matches!(e.class(), Class::Retry { .. }));
    let now = t.stored(&v);
    assert!(annotation(&now, CREATE_PENDING).is_some(), "the mark stays");

    t.vendor.clear_calls();
    t.pass(&v).await.expect("adopted");
    // The pending mark makes the observe read the vendor itself.
    assert_eq!(t.vendor.calls(), ["observe-fresh"]);
    let now = t.stored(&v);
    assert_eq!(annotation(&now, EXTERNAL_NAME).as_deref(), Some("id-1"));
    assert_eq!(annotation(&now, CREATE_PENDING), None);
    assert_eq!(t.vendor.objects().len(), 1);
    assert_eq!(t.engine.cluster.reasons("lost").last(), Some(&"Adopted"));
}

#[tokio::test]
async fn an_object_carrying_the_marker_is_adopted_without_a_create() {
    let t = Table::new();
    let v = t.vault("found", json!({}), &[]);
    t.vendor
        .seed("theirs-7", Some(&t.marker("found")), Table::spec_of(&v));
    t.pass(&v).await.unwrap();
    assert_eq!(t.vendor.count("create"), 0);
    let now = t.stored(&v);
    assert_eq!(annotation(&now, EXTERNAL_NAME).as_deref(), Some("theirs-7"));
    assert_eq!(t.engine.cluster.reasons("found"), ["Adopted"]);
}

#[tokio::test]
async fn an_object_named_in_the_annotation_is_observed_and_corrected() {
    let t = Table::new();
    let v = t.vault("named", json!({}), &[(EXTERNAL_NAME, "vault-42")]);
    t.vendor.seed("vault-42", None, json!({"old": true}));
    t.pass(&v).await.unwrap();
    assert_eq!(t.vendor.calls(), ["observe", "update", "observe"]);
    assert_eq!(t.vendor.objects()["vault-42"].spec, Table::spec_of(&v));
    assert!(is(&t.stored(&v), "Synced", True, "ReconcileSuccess"));
    assert_eq!(t.engine.cluster.reasons("named"), ["Updated"]);
}

#[tokio::test]
async fn an_annotation_naming_nothing_is_a_terminal_error_naming_the_annotation() {
    let t = Table::new();
    let v = t.vault("ghost", json!({}), &[(EXTERNAL_NAME, "nope")]);
    let (e, _) = t.pass(&v).await.expect_err("refused");
    assert_eq!(e.class(), Class::Terminal);
    assert!(e.to_string().contains(EXTERNAL_NAME), "{e}");
    assert_eq!(t.vendor.count("create"), 0);
    // Read twice: the second listing starts after the first said no.
    assert_eq!(t.vendor.calls(), ["observe", "observe-fresh"]);
}

#[tokio::test]
async fn drift_is_corrected_with_one_update_and_an_event() {
    let t = Table::new();
    let v = t.vault("drifty", json!({}), &[]);
    t.pass(&v).await.unwrap();
    t.vendor
        .edit("id-1", |o| o.spec = json!({"changed": "in the console"}));
    t.vendor.clear_calls();
    t.pass(&v).await.unwrap();
    assert_eq!(t.vendor.calls(), ["observe", "update", "observe"]);
    let now = t.stored(&v);
    assert!(is(&now, "Synced", True, "ReconcileSuccess"));
    assert!(now.status.unwrap().drift.is_empty());
    assert_eq!(t.engine.cluster.reasons("drifty"), ["Created", "Updated"]);
}

#[tokio::test]
async fn without_update_drift_is_reported_once_and_never_written() {
    let t = Table::new();
    let v = t.vault(
        "watched",
        json!({"managementPolicies": ["Observe", "Create", "Delete"]}),
        &[],
    );
    t.pass(&v).await.unwrap();
    t.vendor.edit("id-1", |o| o.spec = json!({"changed": true}));
    t.pass(&v).await.unwrap();
    t.pass(&v).await.unwrap();
    assert_eq!(t.vendor.count("update"), 0);
    let now = t.stored(&v);
    assert!(is(&now, "Synced", False, "DriftDetected"));
    assert_eq!(now.status.unwrap().drift.len(), 1);
    // One event for the drift, not one per pass.
    assert_eq!(
        t.engine.cluster.reasons("watched"),
        ["Created", "DriftDetected"]
    );
}

#[tokio::test]
async fn observe_only_never_creates_and_reports_what_it_sees() {
    let t = Table::new();
    let v = t.vault("look", json!({"managementPolicies": ["Observe"]}), &[]);
    t.pass(&v).await.unwrap();
    assert_eq!(t.vendor.count("create"), 0);
    let now = t.stored(&v);
    assert!(is(&now, "Ready", False, "Unavailable"));
    assert!(is(&now, "Synced", True, "ReconcileSuccess"));

    t.vendor
        .seed("there", Some(&t.marker("look")), Table::spec_of(&v));
    t.pass(&v).await.unwrap();
    let now = t.stored(&v);
    assert!(is(&now, "Ready", True, "Available"));
    assert_eq!(annotation(&now, EXTERNAL_NAME).as_deref(), Some("there"));
}

#[tokio::test]
async fn a_paused_object_touches_no_vendor_and_waits_for_a_change() {
    let t = Table::new();
    let v = t.vault("still", json!({}), &[(PAUSED, "true")]);
    let next = t.pass(&v).await.unwrap();
    assert_eq!(next, Next::Await);
    assert!(t.vendor.calls().is_empty());
    let now = t.stored(&v);
    assert!(is(&now, "Synced", False, "ReconcilePaused"));
    assert!(is(&now, "Ready", False, "Unavailable"));
    assert_eq!(
        t.engine.cluster.writes("still"),
        [Write::Status],
        "not even a finalizer"
    );
}

async fn created(t: &Table, name: &str, extra: Value) -> Vault {
    let v = t.vault(name, extra, &[]);
    t.pass(&v).await.expect("created");
    t.vendor.clear_calls();
    t.engine.cluster.clear_log();
    t.stored(&v)
}

#[tokio::test]
async fn deletion_with_delete_removes_the_vendor_object_then_the_finalizer() {
    let t = Table::new();
    let v = created(&t, "bye", json!({"deletionPolicy": "Delete"})).await;
    t.engine.cluster.delete::<Vault>(NS, "bye");
    let next = t.pass(&v).await.unwrap();
    assert_eq!(next, Next::Await);
    assert_eq!(t.vendor.calls(), ["observe", "delete"]);
    assert!(t.vendor.objects().is_empty());
    assert!(t.engine.get(&v).is_none(), "released");
    assert_eq!(t.engine.cluster.reasons("bye"), ["Deleted"]);
}

#[tokio::test]
async fn deletion_orphans_by_policy_by_missing_delete_and_on_uninstall() {
    for (name, extra, uninstall, why) in [
        ("orphan", json!({}), false, "deletionPolicy is Orphan"),
        (
            "nodelete",
            json!({"deletionPolicy": "Delete", "managementPolicies": ["Observe", "Create", "Update"]}),
            false,
            "managementPolicies exclude Delete",
        ),
        (
            "uninstall",
            json!({"deletionPolicy": "Delete"}),
            true,
            "CustomResourceDefinition is being uninstalled",
        ),
    ] {
        let t = Table::new();
        let v = created(&t, name, extra).await;
        t.engine.cluster.set_uninstalling(uninstall);
        t.engine.cluster.delete::<Vault>(NS, name);
        t.pass(&v).await.unwrap();
        assert_eq!(t.vendor.count("delete"), 0, "{name}");
        assert_eq!(
            t.vendor.objects().len(),
            1,
            "{name}: the vendor object stays"
        );
        assert!(t.engine.get(&v).is_none(), "{name}: released");
        let events = t.engine.cluster.events(name);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].reason, "Orphaned");
        assert!(events[0].note.contains(why), "{name}: {}", events[0].note);
    }
}

#[tokio::test]
async fn deletion_waits_while_another_object_refers_to_it() {
    let t = Table::new();
    let v = created(&t, "used", json!({"deletionPolicy": "Delete"})).await;
    let p: Policy = serde_json::from_value(json!({
        "apiVersion": "rampart.dev/v1alpha1", "kind": "Policy",
        "metadata": {"name": "user", "namespace": NS},
        "spec": {"providerConfigRef": {"name": "cbr"}, "vaultRef": {"name": "used"},
                 "huaweiCbr": {}}
    }))
    .unwrap();
    t.engine.apply(&p);
    t.engine.cluster.delete::<Vault>(NS, "used");
    let next = t.pass(&v).await.unwrap();
    assert_eq!(next, Next::After(Duration::from_secs(10)));
    assert!(t.vendor.calls().is_empty());
    let now = t.stored(&v);
    assert!(is(&now, "Ready", False, "Deleting"));
    let events = t.engine.cluster.events("used");
    assert_eq!(events[0].reason, "DeletionBlocked");
    assert!(events[0].note.contains("Policy/user"), "{}", events[0].note);

    t.engine.cluster.delete::<Policy>(NS, "user");
    t.pass(&v).await.unwrap();
    assert!(t.engine.get(&v).is_none());
}

#[tokio::test]
async fn a_vendor_still_deleting_keeps_the_finalizer_and_looks_again_soon() {
    let t = Table::new();
    let v = created(&t, "slow", json!({"deletionPolicy": "Delete"})).await;
    t.vendor.set_deletion_observes(1);
    t.engine.cluster.delete::<Vault>(NS, "slow");
    let next = t.pass(&v).await.unwrap();
    assert_eq!(next, Next::After(Duration::from_secs(5)));
    assert!(is(&t.stored(&v), "Ready", False, "Deleting"));
    t.pass(&v).await.unwrap(); // still deleting for one more read
    assert!(t.engine.get(&v).is_some());
    t.pass(&v).await.unwrap();
    assert!(
        t.engine.get(&v).is_none(),
        "released once the vendor finished"
    );
    assert_eq!(t.engine.cluster.reasons("slow"), ["Deleted"]);
}

#[tokio::test]
async fn each_error_class_backs_off_its_own_way() {
    let b = Backoff::default();
    let cases: Vec<(
        &str,
        crate::engine::external::ExternalError,
        Class,
        Vec<Duration>,
    )> = vec![
        (
            "transport",
            vendor_error(ErrorKind::Transport, "reset"),
            Class::Retry { min: None },
            vec![b.base, b.base * 2, b.base * 4],
        ),
        (
            "unauthorized",
            vendor_error(ErrorKind::Unauthorized, "bad password"),
            Class::Credentials,
            vec![b.credentials; 3],
        ),
        (
            "forbidden",
            vendor_error(ErrorKind::Forbidden, "no"),
            Class::Terminal,
            vec![b.terminal; 3],
        ),
        (
            "waiting",
            crate::engine::external::ExternalError::waiting("Policy p has no external name yet"),
            Class::Waiting,
            vec![b.waiting, b.waiting * 2, b.waiting * 4],
        ),
    ];
    for (name, error, class, delays) in cases {
        let t = Table::new();
        let v = t.vault(name, json!({}), &[]);
        let mut seen = Vec::new();
        for _ in 0..3 {
            t.vendor.fail_next("observe", error.clone());
            let (e, delay) = t.pass(&v).await.expect_err("fails");
            assert_eq!(e.class(), class, "{name}");
            seen.push(delay);
        }
        assert_eq!(seen, delays, "{name}");
        let now = t.stored(&v);
        let reasons = t.engine.cluster.reasons(name);
        if class == Class::Waiting {
            // Waiting is quiet: no event, and Ready says Creating rather than failed.
            assert!(reasons.is_empty(), "{name}: {reasons:?}");
            assert!(is(&now, "Ready", False, "Creating"));
        } else {
            assert_eq!(reasons.len(), 3, "{name}");
            assert!(is(&now, "Synced", False, "ReconcileError"));
        }
        assert_eq!(
            condition(&now, "Stalled").is_some(),
            class == Class::Terminal,
            "{name}"
        );
        // A success resets the count.
        t.pass(&v).await.expect("recovers");
        t.vendor.fail_next("observe", error.clone());
        let (_, delay) = t.pass(&v).await.expect_err("fails");
        assert_eq!(delay, delays[0], "{name}: the count starts again");
    }
}

#[tokio::test]
async fn a_vendor_block_that_does_not_match_the_provider_is_terminal_and_names_the_field() {
    let t = Table::new();
    let mut v = t.vault("wrong", json!({}), &[]);
    v.spec.huawei_cbr = None;
    v.spec.cyber_backup = Some(serde_json::from_value(json!({"name": "d", "uri": "E:"})).unwrap());
    let v = t.engine.apply(&v);
    let (e, _) = t.pass(&v).await.expect_err("refused");
    assert_eq!(e.class(), Class::Terminal);
    assert!(e.to_string().contains("spec.cyberBackup"), "{e}");
    assert!(t.vendor.calls().is_empty());
}

#[tokio::test]
async fn a_missing_provider_configuration_is_waiting_not_failed() {
    let t = Table::new();
    let v = t.vault(
        "orphaned",
        json!({"providerConfigRef": {"name": "absent"}}),
        &[],
    );
    let (e, _) = t.pass(&v).await.expect_err("waits");
    assert_eq!(e.class(), Class::Waiting);
    assert!(e.to_string().contains("ProviderConfig prod/absent"), "{e}");
    assert!(t.vendor.calls().is_empty());
}

#[tokio::test]
async fn a_refused_finalizer_write_makes_no_vendor_call_and_is_retried() {
    let t = Table::new();
    let v = t.vault("raced", json!({}), &[]);
    t.engine.cluster.fail_next(Write::AddFinalizer, 422);
    let (e, _) = t.pass(&v).await.expect_err("refused");
    assert!(matches!(e.class(), Class::Retry { .. }), "{e}");
    assert!(t.vendor.calls().is_empty());
    t.pass(&v).await.expect("the next pass goes through");
    assert_eq!(t.vendor.count("create"), 1);
}

#[tokio::test]
async fn a_failed_status_write_is_retried_and_creates_nothing_twice() {
    let t = Table::new();
    let v = t.vault("unsaved", json!({}), &[]);
    t.engine.cluster.fail_next(Write::Status, 500);
    let (e, _) = t.pass(&v).await.expect_err("status refused");
    assert!(matches!(e.class(), Class::Retry { .. }));
    t.pass(&v).await.expect("retried");
    assert_eq!(t.vendor.count("create"), 1);
    assert!(is(&t.stored(&v), "Ready", True, "Available"));
}

// Write safety: rampart writes to, moves or deletes only what is its own, and never creates
// twice.

fn stalled_for_adoption(v: &Vault) -> bool {
    is(v, "Ready", False, "NotOwned")
        && is(v, "Synced", False, "AdoptionRefused")
        && is(v, "Stalled", True, "AdoptionRefused")
}

#[tokio::test]
async fn an_object_found_only_by_its_name_is_neither_adopted_nor_changed_nor_deleted() {
    let t = Table::new();
    let v = t.vault("shared", json!({"deletionPolicy": "Delete"}), &[]);
    t.vendor
        .seed_named("team-b-1", "shared", json!({"theirs": true}));
    for _ in 0..2 {
        t.pass(&v).await.expect("reported, not failed");
    }
    assert_eq!(t.vendor.count("create"), 0);
    assert_eq!(t.vendor.count("update"), 0);
    let now = t.stored(&v);
    assert!(stalled_for_adoption(&now), "{:?}", now.status);
    assert_eq!(annotation(&now, EXTERNAL_NAME), None);
    let events = t.engine.cluster.events("shared");
    assert_eq!(events.len(), 1, "one event, not one per pass: {events:?}");
    assert_eq!(events[0].reason, "AdoptionRefused");
    assert!(events[0].note.contains("team-b-1"), "{}", events[0].note);
    assert!(
        events[0].note.contains(EXTERNAL_NAME),
        "says how to adopt on purpose"
    );

    // Deleting the managed object leaves their object alone.
    t.engine.cluster.delete::<Vault>(NS, "shared");
    t.pass(&v).await.unwrap();
    assert_eq!(t.vendor.count("delete"), 0);
    assert_eq!(t.vendor.objects()["team-b-1"].spec, json!({"theirs": true}));
    assert!(t.engine.get(&v).is_none(), "released");
    assert_eq!(t.engine.cluster.reasons("shared").last(), Some(&"Orphaned"));
}

#[tokio::test]
async fn naming_an_unmarked_object_in_the_annotation_adopts_it_on_purpose() {
    let t = Table::new();
    t.vendor
        .seed_named("team-b-1", "shared", json!({"theirs": true}));
    let v = t.vault("shared", json!({}), &[(EXTERNAL_NAME, "team-b-1")]);
    t.pass(&v).await.unwrap();
    assert_eq!(t.vendor.count("update"), 1);
    assert_eq!(t.vendor.objects()["team-b-1"].spec, Table::spec_of(&v));
    assert!(is(&t.stored(&v), "Ready", True, "Available"));
}

#[tokio::test]
async fn finishing_an_interrupted_create_adopts_the_object_by_its_name() {
    let t = Table::new();
    // rampart's own create of a vendor that keeps no marker landed, its answer did not.
    t.vendor.seed_named("made-1", "mine", json!({}));
    let old = (jiff::Timestamp::now() - jiff::SignedDuration::from_mins(5)).to_string();
    let v = t.vault("mine", json!({}), &[(CREATE_PENDING, &old)]);
    t.pass(&v).await.unwrap();
    assert_eq!(t.vendor.count("create"), 0);
    let now = t.stored(&v);
    assert_eq!(annotation(&now, EXTERNAL_NAME).as_deref(), Some("made-1"));
    assert_eq!(annotation(&now, CREATE_PENDING), None);
}

#[tokio::test]
async fn a_reused_id_without_the_marker_is_left_alone_and_rampart_makes_its_own_again() {
    let t = Table::new();
    let v = created(&t, "reset", json!({"deletionPolicy": "Delete"})).await;
    assert_eq!(
        v.status.as_ref().unwrap().marked_external_name.as_deref(),
        Some("id-1"),
        "the marker was seen on the recorded id"
    );
    // The vendor was reset and gave id-1 to a person's object.
    t.vendor.remove("id-1");
    t.vendor.seed("id-1", None, json!({"a person's": "rule"}));
    t.pass(&v).await.unwrap();
    let objects = t.vendor.objects();
    assert_eq!(
        objects["id-1"].spec,
        json!({"a person's": "rule"}),
        "not written"
    );
    assert_eq!(t.vendor.count("update"), 0);
    assert_eq!(t.vendor.count("create"), 1, "its own object again");
    let now = t.stored(&v);
    assert_eq!(annotation(&now, EXTERNAL_NAME).as_deref(), Some("id-2"));
    assert_eq!(
        now.status.unwrap().marked_external_name.as_deref(),
        Some("id-2")
    );
    assert!(
        t.engine
            .cluster
            .reasons("reset")
            .contains(&"ExternalNotOwned")
    );

    // And deleting never touches the person's object.
    t.engine.cluster.delete::<Vault>(NS, "reset");
    t.pass(&v).await.unwrap();
    let objects = t.vendor.objects();
    assert!(objects.contains_key("id-1"));
    assert!(!objects.contains_key("id-2"));
}

#[tokio::test]
async fn another_objects_vendor_object_is_taken_over_only_when_named_and_its_old_owner_makes_no_other()
 {
    let t = Table::new();
    // The old owner created and marked it; then it was named by a second object's annotation.
    let old = created(&t, "old-owner", json!({})).await;
    let id = annotation(&t.stored(&old), EXTERNAL_NAME).expect("recorded");
    let v = t.vault(
        "new-owner",
        json!({"deletionPolicy": "Delete"}),
        &[(EXTERNAL_NAME, &id)],
    );
    t.vendor.clear_calls();
    t.pass(&v).await.unwrap();
    assert_eq!(
        t.vendor.count("update"),
        1,
        "the named object is taken over"
    );
    assert!(
        t.engine
            .cluster
            .reasons("new-owner")
            .contains(&"AdoptedFromAnotherObject")
    );

    // The old owner sees another object's marker at its id: it says so and creates nothing.
    t.pass(&old).await.unwrap();
    let now = t.stored(&old);
    assert!(stalled_for_adoption(&now));
    let why = &now.status.as_ref().unwrap().conditions[0].message;
    assert!(why.contains("another rampart object"), "{why}");
    assert!(
        !t.engine
            .cluster
            .reasons("old-owner")
            .contains(&"ExternalNotOwned"),
        "a takeover is not a re-used id: the old owner does not look for another object"
    );
    assert_eq!(t.vendor.count("create"), 0, "no second vendor object");
    assert_eq!(t.vendor.objects().len(), 1);
}

#[tokio::test]
async fn an_unanswered_create_is_not_repeated_before_one_request_timeout() {
    let t = Table::new();
    let v = t.vault("patient", json!({}), &[]);
    // The create went out and no answer came (nothing landed, as far as anyone can tell yet).
    t.vendor
        .fail_next("create", vendor_error(ErrorKind::Transport, "timed out"));
    t.pass(&v).await.expect_err("timed out");
    let next = t.pass(&v).await.expect("waits");
    assert!(
        matches!(next, Next::After(d) if d > Duration::from_secs(25) && d <= Duration::from_secs(31)),
        "looks again when the lost create can no longer land: {next:?}"
    );
    assert_eq!(t.vendor.count("create"), 1, "no second create yet");
    let now = t.stored(&v);
    assert!(annotation(&now, CREATE_PENDING).is_some());

    // One request timeout (30 s by default) after the lost create, a fresh listing decides.
    let stale = (jiff::Timestamp::now() - jiff::SignedDuration::from_secs(40)).to_string();
    let mut late = t.stored(&v);
    late.metadata
        .annotations
        .get_or_insert_default()
        .insert(CREATE_PENDING.into(), stale);
    t.engine.apply(&late);
    t.vendor.clear_calls();
    t.pass(&v).await.expect("created");
    assert_eq!(t.vendor.calls(), ["observe-fresh", "create", "observe"]);
}

#[tokio::test]
async fn a_refused_create_after_a_lost_one_keeps_the_pending_mark() {
    let t = Table::new();
    let v = t.vault("unlucky", json!({}), &[]);
    // A create whose answer never came, long enough ago that rampart may create again.
    t.vendor
        .fail_next("create", vendor_error(ErrorKind::Transport, "timed out"));
    t.pass(&v).await.expect_err("timed out");
    let stale = (jiff::Timestamp::now() - jiff::SignedDuration::from_secs(40)).to_string();
    let mut late = t.stored(&v);
    late.metadata
        .annotations
        .get_or_insert_default()
        .insert(CREATE_PENDING.into(), stale);
    t.engine.apply(&late);
    // The next create is refused outright (a 429): that proves nothing of the first, whose
    // object may still land and must then be found as rampart's.
    t.vendor
        .fail_next("create", vendor_error(ErrorKind::Throttled, "slow down"));
    t.pass(&v).await.expect_err("throttled");
    assert!(
        annotation(&t.stored(&v), CREATE_PENDING).is_some(),
        "the mark stays for the create still unresolved"
    );

    // Without a lost create before it, a refusal clears the mark.
    let w = t.vault("plain", json!({}), &[]);
    t.vendor
        .fail_next("create", vendor_error(ErrorKind::Throttled, "slow down"));
    t.pass(&w).await.expect_err("throttled");
    assert!(annotation(&t.stored(&w), CREATE_PENDING).is_none());
}

#[tokio::test]
async fn a_create_the_vendor_accepted_keeps_its_mark_whatever_fails_after_it() {
    // Seen in the chaos suite: RuBackup made the pool, the listing that finds its id was
    // throttled, and the 429 read as a refusal of the create cleared the mark; the pool, known
    // by its name alone, was then refused as someone else's for good.
    let t = Table::new();
    let v = t.vault("accepted", json!({}), &[]);
    t.vendor
        .fail_after_next_create(vendor_error(ErrorKind::Throttled, "slow down"));
    t.pass(&v).await.expect_err("throttled after the create");
    let stored = t.stored(&v);
    assert!(
        annotation(&stored, CREATE_PENDING).is_some(),
        "the mark stays for the object the vendor made"
    );
    assert!(annotation(&stored, EXTERNAL_NAME).is_none());
    // Once a listing may rule on it, the object is found by its name and adopted as rampart's.
    let stale = (jiff::Timestamp::now() - jiff::SignedDuration::from_secs(40)).to_string();
    let mut later = stored;
    later
        .metadata
        .annotations
        .get_or_insert_default()
        .insert(CREATE_PENDING.into(), stale);
    t.engine.apply(&later);
    t.pass(&v).await.expect("adopted");
    let done = t.stored(&v);
    assert_eq!(annotation(&done, EXTERNAL_NAME).as_deref(), Some("id-1"));
    assert!(annotation(&done, CREATE_PENDING).is_none());
    assert_eq!(t.vendor.count("create"), 1, "{:?}", t.vendor.calls());
    assert_eq!(t.vendor.objects().len(), 1);
}

#[tokio::test]
async fn deleting_an_object_whose_spec_the_adapter_refuses_still_deletes_its_vendor_object() {
    let t = Table::new();
    let v = created(&t, "broken", json!({"deletionPolicy": "Delete"})).await;
    t.engine.cluster.delete::<Vault>(NS, "broken");
    t.vendor.fail_next(
        "observe",
        crate::engine::external::ExternalError::invalid("spec.schedule.timeZone", "no such zone"),
    );
    t.pass(&v).await.expect("deleted");
    assert_eq!(t.vendor.calls(), ["observe", "delete"]);
    assert!(t.vendor.objects().is_empty());
    assert!(
        t.engine.get(&v).is_none(),
        "the finalizer went: nothing hangs"
    );
}

#[tokio::test]
async fn objects_an_adapter_names_are_woken_and_a_refused_create_keeps_its_observed_conditions() {
    use crate::engine::external::{ExternalError, ExtraCondition};
    use crate::engine::waker::ObjectName;
    let t = Table::new();
    let v = t.vault("second", json!({}), &[]);
    let other = ObjectName {
        namespace: NS.into(),
        name: "first".into(),
    };
    t.vendor.report(
        vec![ExtraCondition {
            type_: "PlacementConflict",
            status: true,
            reason: "ConflictingBlocks",
            message: "prod/first asks for Top, prod/second for Bottom".into(),
        }],
        vec![other.clone()],
    );
    t.vendor.fail_next(
        "create",
        ExternalError::invalid("spec.ideco.placement", "conflicting blocks"),
    );
    let (e, _) = t.pass(&v).await.expect_err("refused");
    assert_eq!(e.class(), Class::Terminal);
    assert_eq!(t.engine.woken.take(), [("Vault", other)]);
    let now = t.stored(&v);
    assert!(is(&now, "Stalled", True, "TerminalError"));
    assert!(is(&now, "PlacementConflict", True, "ConflictingBlocks"));

    // Once the adapter reports no conflict, nobody is woken and the object is created.
    t.vendor.report(Vec::new(), Vec::new());
    t.pass(&v).await.expect("created");
    assert!(t.engine.woken.take().is_empty());
    let now = t.stored(&v);
    assert_eq!(condition(&now, "PlacementConflict"), None);
    assert!(is(&now, "Ready", True, "Available"));
}

#[tokio::test]
async fn a_provider_configuration_that_cannot_log_in_is_what_its_objects_say() {
    let t = Table::new();
    let v = created(&t, "told", json!({})).await;
    let key = ProviderKey {
        kind: ProviderConfigKind::ProviderConfig,
        namespace: Some(NS.into()),
        name: "cbr".into(),
    };
    assert!(
        t.engine
            .ctx
            .hub
            .set_blocked(&key, Some("credentials refused (HTTP 401)".into()))
    );
    let (e, _) = t.pass(&v).await.expect_err("not usable");
    assert_eq!(e.class(), Class::Waiting);
    assert!(
        t.vendor.calls().is_empty(),
        "nothing is asked of the vendor"
    );
    let now = t.stored(&v);
    let synced = now
        .status
        .as_ref()
        .unwrap()
        .conditions
        .iter()
        .find(|c| c.type_ == "Synced")
        .unwrap()
        .clone();
    assert_eq!(synced.status, False, "not \"matches the spec\"");
    assert!(
        synced
            .message
            .contains("ProviderConfig prod/cbr is not Ready")
            && synced.message.contains("credentials refused"),
        "{}",
        synced.message
    );
    assert!(t.engine.ctx.hub.set_blocked(&key, None));
    t.pass(&v).await.expect("usable again");
    assert!(is(&t.stored(&v), "Synced", True, "ReconcileSuccess"));
}
