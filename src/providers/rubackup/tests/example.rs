//! The example manifests (deploy/examples/rubackup.yaml) converge against the simulator's
//! default installation: every object is created, then observed in sync and Ready.

use serde_json::Value;

use super::*;
use crate::api::{Policy, Strategy};
use crate::engine::external::Readiness;

fn example() -> Vec<Value> {
    let text = include_str!("../../../../deploy/examples/rubackup.yaml");
    serde_saphyr::from_multiple(text).expect("the example is YAML")
}

fn objects<K: serde::de::DeserializeOwned>(docs: &[Value], kind: &str) -> Vec<K> {
    docs.iter()
        .filter(|d| d["kind"] == kind)
        .map(|d| serde_json::from_value(d.clone()).expect(kind))
        .collect()
}

#[tokio::test]
async fn the_example_converges() {
    let docs = example();
    let provider = docs
        .iter()
        .find(|d| d["kind"] == "ProviderConfig")
        .expect("a ProviderConfig");
    let settings: RuBackupProviderSettings =
        serde_json::from_value(provider["spec"]["ruBackup"].clone()).unwrap();
    let mut rig = Rig::with(SimConfig::new(&[(USER, PASSWORD)]), PASSWORD, settings).await;
    let rt = rig.runtime().await;

    for mut vault in objects::<Vault>(&docs, "Vault") {
        vault.metadata.namespace = Some(NS.into());
        let adapter = rt.adapters().get::<crate::api::Vault>().unwrap();
        let id = create(adapter, &vault, &rig).await;
        assert_eq!(
            in_sync(adapter, &vault, &id, &rig.ctx()).await.readiness,
            Readiness::Available
        );
        let name = vault.metadata.name.clone().unwrap();
        vault.metadata.annotations = Some([(EXTERNAL_NAME.to_string(), id)].into());
        let key = RefKey {
            kind: "Vault",
            name,
            field: "spec.vaultRef",
        };
        rig.world
            .refs
            .insert(&key, RefTarget::object(Arc::new(vault)));
    }
    for policy in objects::<Policy>(&docs, "Policy") {
        let adapter = rt.adapters().get::<crate::api::Policy>().unwrap();
        let id = create(adapter, &policy, &rig).await;
        assert_eq!(
            in_sync(adapter, &policy, &id, &rig.ctx()).await.readiness,
            Readiness::Available
        );
    }
    for strategy in objects::<Strategy>(&docs, "Strategy") {
        let adapter = rt.adapters().get::<crate::api::Strategy>().unwrap();
        let id = create(adapter, &strategy, &rig).await;
        assert_eq!(
            in_sync(adapter, &strategy, &id, &rig.ctx()).await.readiness,
            Readiness::Available
        );
    }
    assert_eq!(
        rig.sim.sim.all("pool_list").len(),
        3,
        "Default and the two example pools"
    );
    assert_eq!(rig.sim.sim.all("strategy_rules").len(), 2);
}
