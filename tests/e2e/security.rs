//! Trust boundaries on a real API server: a namespaced object can only use its own namespace's
//! ProviderConfig and Secrets; `insecureSkipVerify` shows a warning condition. Conflicting
//! writes: a finalizer write from a stale copy is refused (422, the guard's `test` failing) and
//! the newer object stays; a user's spec edit made while a status write is in flight is kept,
//! and the status never claims a generation the vendor has not been given.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use rampart::api::{ProviderConfig, Vault};
use rampart::engine::cluster::{Cluster as _, KubeCluster, ObjectAt, add_finalizer_patch};
use rampart::engine::errors::{Class, Error};
use rampart::engine::events::EventPublisher;
use rampart::simulators::harness::Faults;
use serde_json::json;

use crate::cbr_world::{CbrWorld, T, external_name, patch_spec, vault_spec};
use crate::support::{env, has_condition, is_ready, namespace, until, wait_for};

#[tokio::test]
async fn a_vault_cannot_use_a_provider_config_of_another_namespace() {
    // `cbr` exists (and is Ready) in the world's namespace only.
    let w = CbrWorld::new("sec-owner", json!({"qps": 50, "burst": 50})).await;
    let client = env().client().await;
    let other = namespace(&client, "sec-other").await;
    let vaults: Api<Vault> = Api::namespaced(client.clone(), &other);
    let v: Vault = serde_json::from_value(json!({
        "apiVersion": "rampart.dev/v1alpha1", "kind": "Vault", "metadata": {"name": "intruder"}, "spec": vault_spec(json!({}))
    }))
    .unwrap();
    vaults.create(&PostParams::default(), &v).await.unwrap();
    let v = wait_for(
        &vaults,
        "intruder",
        has_condition("Synced", "False", None),
        T,
    )
    .await;
    let msg = crate::support::condition_message(&v, "Synced");
    assert!(
        msg.contains(&format!("ProviderConfig {other}/cbr not found")),
        "{msg}"
    );
    assert!(
        w.sim
            .console()
            .project(crate::cbr_world::PROJECT)
            .vaults
            .is_empty(),
        "nothing reached the vendor"
    );
}

#[tokio::test]
async fn a_provider_config_cannot_read_another_namespace_s_secret_and_skip_verify_warns() {
    let client = env().client().await;
    let ns = namespace(&client, "sec-secret").await;
    let elsewhere = namespace(&client, "sec-elsewhere").await;
    let secret: Secret = serde_json::from_value(
        json!({"metadata": {"name": "creds"}, "stringData": {"token": "t0ken-elsewhere"}}),
    )
    .unwrap();
    Api::<Secret>::namespaced(client.clone(), &elsewhere)
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();
    let pcs: Api<ProviderConfig> = Api::namespaced(client.clone(), &ns);
    // Admission refuses a namespace on the reference...
    let pc: ProviderConfig = serde_json::from_value(json!({
        "apiVersion": "rampart.dev/v1alpha1", "kind": "ProviderConfig", "metadata": {"name": "cbr"},
        "spec": {"type": "HuaweiCbr", "endpoint": "https://127.0.0.1:1", "insecureSkipVerify": true,
                 "credentials": {"secretRef": {"name": "creds", "namespace": elsewhere}},
                 "huaweiCbr": {"projectId": "p", "authMethod": "Token"}}
    }))
    .unwrap();
    let err = pcs
        .create(&PostParams::default(), &pc)
        .await
        .expect_err("refused at admission");
    assert!(err.to_string().contains("own namespace"), "{err}");
    // ...and without it, the Secret is looked up in the ProviderConfig's own namespace only.
    let mut pc = pc;
    pc.spec
        .common
        .credentials
        .as_mut()
        .unwrap()
        .secret_ref
        .namespace = None;
    pcs.create(&PostParams::default(), &pc).await.unwrap();
    let pc = wait_for(&pcs, "cbr", has_condition("Ready", "False", None), T).await;
    let conditions = pc.status.unwrap().conditions;
    let ready = conditions.iter().find(|c| c.type_ == "Ready").unwrap();
    assert!(
        ready
            .message
            .contains(&format!("Secret {ns}/creds not found")),
        "{}",
        ready.message
    );
    let warning = conditions
        .iter()
        .find(|c| c.type_ == "InsecureSkipVerify")
        .expect("a warning condition");
    assert!(
        warning.message.contains("insecureSkipVerify"),
        "{}",
        warning.message
    );
}

/// The operator's own Kubernetes side (the reconciler's writes), for writing as it would.
fn rampart_cluster(client: &kube::Client) -> KubeCluster {
    KubeCluster::new(
        client.clone(),
        Arc::new(EventPublisher::new(client.clone(), "rampart-test", None)),
    )
}

fn api_status(e: &kube::Error) -> &kube::core::Status {
    match e {
        kube::Error::Api(s) => s,
        other => panic!("not an API server answer: {other}"),
    }
}

/// A Vault with someone else's finalizer and no provider configuration, so the operator adds
/// its finalizer, then only waits. Returns the copy as first created (soon stale).
async fn contested_vault(vaults: &Api<Vault>, name: &str) -> Vault {
    let v: Vault = serde_json::from_value(json!({
        "apiVersion": "rampart.dev/v1alpha1", "kind": "Vault",
        "metadata": {"name": name, "finalizers": ["example.com/keep"]},
        "spec": vault_spec(json!({}))
    }))
    .unwrap();
    let stale = vaults.create(&PostParams::default(), &v).await.unwrap();
    wait_for(
        vaults,
        name,
        |o: Option<&Vault>| {
            o.is_some_and(|v| v.metadata.finalizers.as_ref().is_some_and(|f| f.len() == 2))
        },
        T,
    )
    .await;
    stale
}

#[tokio::test]
async fn a_stale_finalizer_write_is_refused_with_422_and_the_newer_object_wins() {
    let client = env().client().await;
    let ns = namespace(&client, "sec-conflict").await;
    let vaults: Api<Vault> = Api::namespaced(client.clone(), &ns);
    let stale = contested_vault(&vaults, "contested").await;
    // A user edits the object after the operator's finalizer went on: the newest version.
    let newer = vaults
        .patch(
            "contested",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"edited-by": "a-user"}}})),
        )
        .await
        .unwrap();
    let stale_finalizers = stale.metadata.finalizers.clone().unwrap_or_default();
    let stale_version = stale.metadata.resource_version.clone().unwrap_or_default();

    // What the API server answers the guarded patch built from the stale copy: its `test` of
    // the resourceVersion fails, which kube-apiserver reports as 422 Invalid (not 409).
    let raw: json_patch::Patch =
        serde_json::from_value(add_finalizer_patch(&stale_finalizers, &stale_version)).unwrap();
    let err = vaults
        .patch(
            "contested",
            &PatchParams::default(),
            &Patch::<()>::Json(raw),
        )
        .await
        .expect_err("a write from a stale copy is refused");
    let status = api_status(&err);
    eprintln!("stale finalizer write answered: {status:?}");
    assert_eq!(status.code, 422, "{status:?}");
    assert_eq!(status.reason, "Invalid", "{status:?}");
    // The whole message is the generic one, with no causes (a schema violation names them).
    assert_eq!(
        status.message,
        rampart::engine::errors::PATCH_NOT_APPLICABLE,
        "{status:?}"
    );
    assert!(
        status.details.as_ref().is_none_or(|d| d.causes.is_empty()),
        "{status:?}"
    );

    // The reconciler's own write of the same thing is refused the same way and retried.
    let at = ObjectAt::of(&stale);
    let err = rampart_cluster(&client)
        .add_finalizer(&at, &stale_finalizers, &stale_version)
        .await
        .expect_err("a stale write is refused");
    assert_eq!(api_status(&err).code, 422);
    assert_eq!(
        Error::from(err).class(),
        Class::Retry { min: None },
        "a stale copy is read again, not reported as a terminal error"
    );

    // Nothing of the stale write landed: the newer object is exactly as the user left it.
    let now = vaults.get("contested").await.unwrap();
    assert_eq!(
        now.metadata.finalizers.unwrap(),
        ["example.com/keep", "rampart.dev/finalizer"],
        "rampart's finalizer once, the other owner's kept"
    );
    assert_eq!(
        now.metadata.labels.unwrap_or_default().get("edited-by"),
        Some(&"a-user".to_string())
    );
    assert_eq!(
        now.metadata.resource_version, newer.metadata.resource_version,
        "the refused writes changed nothing"
    );
}

#[tokio::test]
async fn kubernetes_refusals_are_retried_or_terminal_by_what_a_retry_would_do() {
    let client = env().client().await;
    let ns = namespace(&client, "sec-classes").await;
    let vaults: Api<Vault> = Api::namespaced(client.clone(), &ns);
    let stale = contested_vault(&vaults, "classed").await;
    let cluster = rampart_cluster(&client);
    let at = ObjectAt::of(&stale);

    // A replace from a stale copy: 409 Conflict, retried.
    let mut replaced = stale.clone();
    replaced.metadata.labels = Some([("x".to_string(), "y".to_string())].into());
    let err = vaults
        .replace("classed", &PostParams::default(), &replaced)
        .await
        .expect_err("stale resourceVersion");
    assert_eq!(api_status(&err).code, 409);
    assert_eq!(Error::from(err).class(), Class::Retry { min: None });

    // A status the schema refuses (a condition without its required fields): 422 too, but the
    // same write would fail every time, so it is terminal (not retried hot).
    let err = cluster
        .apply_status(&at, json!({"conditions": [{"type": "Ready"}]}))
        .await
        .expect_err("the schema refuses it");
    let status = api_status(&err).clone();
    eprintln!("schema violation answered: {status:?}");
    assert_eq!(status.code, 422, "{status:?}");
    assert_eq!(Error::from(err).class(), Class::Terminal, "{status:?}");
}

/// One version of the watched object, as the test saw it go by.
#[derive(Debug, Clone)]
struct Seen {
    at: Instant,
    generation: i64,
    observed: Option<i64>,
    size_gb: i64,
}

/// Every version of `name` the API server publishes, in order, until the test ends.
fn record_versions(vaults: &Api<Vault>, name: &str) -> Arc<Mutex<Vec<Seen>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let stream = watcher(
        vaults.clone(),
        watcher::Config::default().fields(&format!("metadata.name={name}")),
    )
    .default_backoff()
    .applied_objects();
    tokio::spawn(async move {
        futures::pin_mut!(stream);
        while let Some(Ok(v)) = stream.next().await {
            sink.lock().unwrap().push(Seen {
                at: Instant::now(),
                generation: v.metadata.generation.unwrap_or_default(),
                observed: v.status.as_ref().and_then(|s| s.observed_generation),
                size_gb: v.spec.huawei_cbr.as_ref().map_or(0, |c| c.size_gb),
            });
        }
    });
    seen
}

/// Status writes are forced server-side applies of the status subresource: they cannot touch
/// the spec, and they carry the generation the reconcile read. The vendor's answer to the
/// update of generation 2 is held; the user edits the spec again (generation 3) meanwhile; the
/// status write of generation 2 then lands on generation 3. The edit must survive it, that
/// status must say generation 2 (not 3: the vendor has not been given generation 3 yet), and the
/// next reconcile must take generation 3 to the vendor.
#[tokio::test]
async fn a_spec_edit_during_a_status_write_is_kept_and_reconciled_next() {
    let w = CbrWorld::new("sec-status", json!({"qps": 50, "burst": 50})).await;
    let vaults = w.vaults();
    w.create_vault("edited", vault_spec(json!({"sizeGB": 100})))
        .await;
    let v = wait_for(&vaults, "edited", is_ready(), T).await;
    assert_eq!(v.metadata.generation, Some(1));
    let put = format!(
        "PUT /v3/{}/vaults/{}",
        crate::cbr_world::PROJECT,
        external_name(&v)
    );
    let ctl = w.sim.control().clone();
    ctl.record_requests();
    let versions = record_versions(&vaults, "edited");
    ctl.set_faults(Faults {
        respond_after_ms: 3000,
        only_operation: Some("PUT /v3/{project_id}/vaults/{vault_id}".into()),
        ..Default::default()
    });

    let edit2 = Instant::now();
    patch_spec(&vaults, "edited", json!({"huaweiCbr": {"sizeGB": 200}})).await;
    until("the update of generation 2 reaches the vendor", || {
        ctl.first_request_after(edit2, |r| r == put).is_some()
    })
    .await;
    // That reconcile now waits for the vendor's answer, then writes its status. The hold was
    // taken when the call arrived; later calls are answered at once.
    ctl.set_faults(Faults::default());
    let edit3 = Instant::now();
    let edited = patch_spec(&vaults, "edited", json!({"huaweiCbr": {"sizeGB": 300}})).await;
    assert_eq!(edited.metadata.generation, Some(3));

    let done = wait_for(&vaults, "edited", is_ready(), T).await;
    assert_eq!(done.metadata.generation, Some(3));
    assert_eq!(
        done.spec.huawei_cbr.as_ref().unwrap().size_gb,
        300,
        "the edit is kept"
    );
    assert_eq!(
        w.sim_vault(&external_name(&done)).unwrap().size,
        300,
        "the next reconcile took generation 3 to the vendor"
    );
    let put3 = ctl
        .first_request_after(edit3, |r| r == put)
        .expect("generation 3's update reached the vendor");

    let versions = versions.lock().unwrap().clone();
    let landed_late: Vec<&Seen> = versions
        .iter()
        .filter(|s| s.generation == 3 && s.observed == Some(2))
        .collect();
    assert!(
        !landed_late.is_empty(),
        "generation 2's status write landed after the edit to generation 3: {versions:#?}"
    );
    assert!(
        landed_late.iter().all(|s| s.size_gb == 300),
        "and left the user's spec as it was: {versions:#?}"
    );
    let premature: Vec<&Seen> = versions
        .iter()
        .filter(|s| s.observed >= Some(3) && s.at < put3)
        .collect();
    assert!(
        premature.is_empty(),
        "a status claimed generation 3 before the vendor was given it: {premature:#?}"
    );
}
