//! The CBR fixture shared by the end-to-end binaries: a simulator in this process, a namespace,
//! and a Ready ProviderConfig pointing at it.
#![allow(dead_code)] // Each test binary uses a subset.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use rampart::api::{Policy, ProviderConfig, Vault};
use rampart::simulators::huawei_cbr::{CbrSim, CbrSimConfig};
use serde_json::{Value, json};

use crate::support::{env, is_ready, namespace, wait_for};

pub const PROJECT: &str = "0605767b5780d5762fc5c0118072a564";
pub const PASSWORD: &str = "rampart-password";
pub const T: Duration = Duration::from_secs(60);

/// A CBR simulator, a namespace, and a Ready ProviderConfig `cbr` pointing at it.
pub struct CbrWorld {
    pub sim: CbrSim,
    pub ns: String,
    pub client: Client,
}

impl CbrWorld {
    pub async fn new(prefix: &str, budget: Value) -> CbrWorld {
        let client = env().client().await;
        let sim = CbrSim::start(CbrSimConfig::default(), "127.0.0.1:0".parse().unwrap())
            .await
            .expect("simulator");
        let ns = namespace(&client, prefix).await;
        let secret: Secret = serde_json::from_value(json!({
            "metadata": {"name": "cbr-credentials"},
            "stringData": {"username": "rampart", "password": PASSWORD, "domainName": "rampart-domain"}
        }))
        .unwrap();
        Api::<Secret>::namespaced(client.clone(), &ns)
            .create(&PostParams::default(), &secret)
            .await
            .unwrap();
        let pc: ProviderConfig = serde_json::from_value(json!({
            "apiVersion": "rampart.dev/v1alpha1", "kind": "ProviderConfig",
            "metadata": {"name": "cbr"},
            "spec": {
                "type": "HuaweiCbr", "endpoint": sim.url(),
                "credentials": {"secretRef": {"name": "cbr-credentials"}},
                "pollIntervalSeconds": 5,
                "budget": budget,
                "huaweiCbr": {"projectId": PROJECT, "authMethod": "Password", "iamEndpoint": sim.url(), "projectName": "ru-moscow-1"}
            }
        }))
        .unwrap();
        let pcs: Api<ProviderConfig> = Api::namespaced(client.clone(), &ns);
        pcs.create(&PostParams::default(), &pc).await.unwrap();
        wait_for(&pcs, "cbr", is_ready(), T).await;
        CbrWorld { sim, ns, client }
    }

    pub fn vaults(&self) -> Api<Vault> {
        Api::namespaced(self.client.clone(), &self.ns)
    }

    pub fn policies(&self) -> Api<Policy> {
        Api::namespaced(self.client.clone(), &self.ns)
    }

    pub async fn create_vault(&self, name: &str, spec: Value) -> Vault {
        let v: Vault = serde_json::from_value(json!({
            "apiVersion": "rampart.dev/v1alpha1", "kind": "Vault", "metadata": {"name": name}, "spec": spec
        }))
        .unwrap();
        self.vaults()
            .create(&PostParams::default(), &v)
            .await
            .expect("create Vault")
    }

    pub async fn create_policy(&self, name: &str, spec: Value) -> Policy {
        let p: Policy = serde_json::from_value(json!({
            "apiVersion": "rampart.dev/v1alpha1", "kind": "Policy", "metadata": {"name": name}, "spec": spec
        }))
        .unwrap();
        self.policies()
            .create(&PostParams::default(), &p)
            .await
            .expect("create Policy")
    }

    /// Vendor writes (every non-GET request) since the last counter reset.
    pub fn writes(&self) -> BTreeMap<String, u64> {
        self.sim
            .control()
            .counters()
            .into_iter()
            .filter(|(op, _)| !op.starts_with("GET "))
            .collect()
    }

    pub fn sim_vault(&self, id: &str) -> Option<rampart::simulators::huawei_cbr::model::SimVault> {
        self.sim
            .console()
            .project(PROJECT)
            .vaults
            .iter()
            .find(|v| v.id == id)
            .cloned()
    }
}

pub fn external_name<K: kube::Resource>(obj: &K) -> String {
    obj.annotations()
        .get("rampart.dev/external-name")
        .cloned()
        .expect("external name set")
}

pub async fn patch_spec<K>(api: &Api<K>, name: &str, spec: Value) -> K
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    api.patch(
        name,
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": spec})),
    )
    .await
    .expect("patch spec")
}

pub fn vault_spec(extra: Value) -> Value {
    let mut spec = json!({
        "providerConfigRef": {"name": "cbr"},
        "huaweiCbr": {"objectType": "server", "sizeGB": 100}
    });
    if let (Some(block), Some(more)) = (spec["huaweiCbr"].as_object_mut(), extra.as_object()) {
        block.extend(more.clone());
    }
    spec
}
