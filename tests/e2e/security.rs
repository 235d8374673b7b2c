//! Trust boundaries on a real API server: a namespaced object can only use its own namespace's
//! ProviderConfig and Secrets; `insecureSkipVerify` shows a warning condition; a conflicting
//! write to an object's finalizers is refused rather than overwriting.

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, PostParams};
use rampart::api::{ProviderConfig, Vault};
use rampart::engine::cluster::Cluster as _;
use serde_json::json;

use crate::cbr_world::{CbrWorld, T, vault_spec};
use crate::support::{env, has_condition, namespace, wait_for};

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

#[tokio::test]
async fn a_stale_finalizer_write_is_refused_not_applied_over_a_newer_object() {
    let client = env().client().await;
    let ns = namespace(&client, "sec-conflict").await;
    let vaults: Api<Vault> = Api::namespaced(client.clone(), &ns);
    // No provider configuration: the operator adds its finalizer and waits.
    let v: Vault = serde_json::from_value(json!({
        "apiVersion": "rampart.dev/v1alpha1", "kind": "Vault", "metadata": {"name": "contested", "finalizers": ["example.com/keep"]},
        "spec": vault_spec(json!({}))
    }))
    .unwrap();
    let stale = vaults.create(&PostParams::default(), &v).await.unwrap();
    wait_for(
        &vaults,
        "contested",
        |o: Option<&Vault>| {
            o.is_some_and(|v| v.metadata.finalizers.as_ref().is_some_and(|f| f.len() == 2))
        },
        T,
    )
    .await;
    // Writing the finalizer from the stale copy must fail (the resourceVersion moved on).
    let cluster = rampart::engine::cluster::KubeCluster::new(
        client.clone(),
        std::sync::Arc::new(rampart::engine::events::EventPublisher::new(
            client.clone(),
            "rampart-test",
            None,
        )),
    );
    let err = cluster
        .add_finalizer(
            &rampart::engine::cluster::ObjectAt::of(&stale),
            stale.metadata.finalizers.as_deref().unwrap_or_default(),
            stale
                .metadata
                .resource_version
                .as_deref()
                .unwrap_or_default(),
        )
        .await
        .expect_err("a stale write is refused");
    let class = rampart::engine::errors::Error::from(err).class();
    assert_eq!(
        class,
        rampart::engine::errors::Class::Retry { min: None },
        "a conflict is retried, not fatal"
    );
    let now = vaults.get("contested").await.unwrap();
    assert_eq!(
        now.metadata.finalizers.unwrap(),
        vec![
            "example.com/keep".to_string(),
            "rampart.dev/finalizer".to_string()
        ]
    );
}
