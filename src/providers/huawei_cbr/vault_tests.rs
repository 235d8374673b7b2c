//! The vault adapter against the CBR simulator, through the provider hub as the engine uses it:
//! a deletion CBR finishes asynchronously (the vault reads `deleting` for a while) is reported
//! in progress, without a second DELETE, until the vault is gone.

use serde_json::json;

use super::test_support::PROJECT;
use crate::api::common::{ManagedFields, ProviderConfigKind, ProviderConfigRef};
use crate::api::provider_config::{ApiBudget, ProviderConfigCommon, ProviderType};
use crate::api::vendors::huawei_cbr::{CbrAuthMethod, CbrProviderSettings};
use crate::api::{Vault, VaultSpec};
use crate::engine::external::{Deleted, Readiness};
use crate::engine::hub::ProviderKey;
use crate::simulators::huawei_cbr::{CbrSim, CbrSimConfig};

const NS: &str = "team";
const DELETE: &str = "DELETE /v3/{project_id}/vaults/{vault_id}";

fn provider(url: &str) -> ProviderConfigCommon {
    ProviderConfigCommon {
        request_timeout_seconds: 30,
        type_: ProviderType::HuaweiCbr,
        endpoint: url.into(),
        credentials: None,
        ca_bundle: None,
        insecure_skip_verify: false,
        budget: ApiBudget {
            qps: 1000.0,
            burst: 1000,
            max_in_flight: 16,
        },
        poll_interval_seconds: 300,
        huawei_cbr: Some(CbrProviderSettings {
            project_id: PROJECT.into(),
            region: None,
            auth_method: CbrAuthMethod::AkSk,
            iam_endpoint: None,
            project_name: None,
        }),
        ru_backup: None,
        cyber_backup: None,
        ideco: None,
        rs_server: None,
    }
}

fn vault_cr() -> Vault {
    let managed = ManagedFields {
        provider_config_ref: ProviderConfigRef {
            kind: ProviderConfigKind::ProviderConfig,
            name: "cbr".into(),
        },
        ..Default::default()
    };
    let cbr = serde_json::from_value(json!({"objectType": "server", "sizeGB": 100})).unwrap();
    let mut v = Vault::new(
        "doomed",
        VaultSpec {
            managed,
            huawei_cbr: Some(cbr),
            ru_backup: None,
            cyber_backup: None,
        },
    );
    v.metadata.namespace = Some(NS.into());
    v
}

#[tokio::test]
async fn deletion_is_in_progress_until_the_vault_is_gone() {
    let config = CbrSimConfig {
        deleting_reads: 3,
        ..CbrSimConfig::default()
    };
    let (ak, sk) = config.access_keys[0].clone();
    let sim = CbrSim::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let world = crate::providers::test_world();
    let key = ProviderKey {
        kind: ProviderConfigKind::ProviderConfig,
        namespace: Some(NS.into()),
        name: "cbr".into(),
    };
    world.source.set(
        key.clone(),
        provider(&sim.url()),
        &[("accessKey", &ak), ("secretKey", &sk)],
    );
    let runtime = world.hub.runtime(&key).await.unwrap();
    let vaults = runtime.adapters().get::<crate::api::Vault>().unwrap();
    let cr = vault_cr();
    let ctx = world.ctx("marker", false, None);
    let id = vaults.create(&cr, &ctx).await.unwrap().external_name;

    let mut in_progress = 0;
    loop {
        match vaults.delete(&cr, &id, &ctx).await.unwrap() {
            Deleted::Gone => break,
            Deleted::InProgress => {
                in_progress += 1;
                assert!(in_progress < 10, "the vault never went away");
                let seen = vaults.observe(&cr, Some(&id), &ctx).await.unwrap();
                assert!(
                    !seen.exists
                        || matches!(&seen.readiness, Readiness::Unavailable(m) if m.contains("being deleted")),
                    "a deleting vault is not ready: {:?}",
                    seen.readiness
                );
            }
        }
    }
    assert!(in_progress >= 1, "the deletion was reported in progress");
    assert_eq!(sim.control().count(DELETE), 1, "one DELETE, then waiting");
    assert!(sim.console().project(PROJECT).vaults.is_empty());
}
