//! Shared helpers of the client-vs-simulator tests: a client per auth method against a CBR
//! simulator, a clock the test moves, and request bodies.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use crate::api::provider_config::ApiBudget;
use crate::api::vendors::huawei_cbr::{CbrObjectType, CbrResourceType};
use crate::engine::hub::SecretString;
use crate::providers::huawei_cbr::models::*;
use crate::providers::huawei_cbr::session::{CbrAuth, Clock, PasswordLogin};
use crate::providers::huawei_cbr::{CbrClient, VENDOR};
use crate::simulators::huawei_cbr::{CbrSim, CbrSimConfig};
use crate::vendor::budget::Budget;
use crate::vendor::http::{TlsSettings, VendorHttp};

pub const PROJECT: &str = "0605767b5780d5762fc5c0118072a564";
pub const LOGIN: &str = "POST /v3/auth/tokens";
pub const LIST_VAULTS: &str = "GET /v3/{project_id}/vaults";

pub fn http(base: &str) -> VendorHttp {
    let budget = ApiBudget {
        qps: 1000.0,
        burst: 1000,
        max_in_flight: 16,
    };
    VendorHttp::new(
        VENDOR,
        base,
        &TlsSettings::default(),
        Arc::new(Budget::new(&budget)),
        Duration::from_secs(5),
    )
    .unwrap()
}

/// A clock the test moves.
pub fn test_clock() -> (Clock, Arc<AtomicI64>) {
    let offset = Arc::new(AtomicI64::new(0));
    let o = offset.clone();
    let clock: Clock = Arc::new(move || {
        jiff::Timestamp::now() + jiff::SignedDuration::from_secs(o.load(Ordering::SeqCst))
    });
    (clock, offset)
}

pub fn login(password: &str) -> PasswordLogin {
    let user = &CbrSimConfig::default().users[0];
    PasswordLogin {
        username: SecretString::new(&user.name),
        password: SecretString::new(password),
        domain_name: SecretString::new(&user.domain),
        project_name: "ru-moscow-1".into(),
    }
}

pub fn password_client(sim: &CbrSim, clock: Clock) -> CbrClient {
    let auth = CbrAuth::password(
        http(&sim.url()),
        login(&CbrSimConfig::default().users[0].password),
    )
    .with_clock(clock);
    CbrClient::new(http(&sim.url()), PROJECT, auth)
}

pub fn ak_sk_client(sim: &CbrSim, sk: &str, clock: Clock) -> CbrClient {
    let (ak, _) = &CbrSimConfig::default().access_keys[0];
    let auth = CbrAuth::ak_sk(SecretString::new(ak), SecretString::new(sk)).with_clock(clock);
    CbrClient::new(http(&sim.url()), PROJECT, auth)
}

pub fn vault_create(name: &str, resources: &[&str]) -> VaultCreate {
    VaultCreate {
        name: name.into(),
        billing: BillingCreate::new(CbrObjectType::Server, 100),
        description: Some("d".into()),
        resources: resources
            .iter()
            .map(|id| ResourceCreate {
                id: id.to_string(),
                type_: CbrResourceType::Server,
                name: None,
                extra_info: None,
            })
            .collect(),
        tags: vec![Tag {
            key: "rampart-owner".into(),
            value: Some("ns_name".into()),
        }],
        backup_policy_id: None,
        auto_bind: None,
        bind_rules: None,
        backup_name_prefix: None,
        enterprise_project_id: None,
    }
}

pub fn policy_create(name: &str) -> PolicyCreate {
    PolicyCreate {
        name: name.into(),
        operation_type: "backup".into(),
        enabled: None,
        operation_definition: OperationDefinition {
            retention_duration_days: Some(1),
            ..Default::default()
        },
        trigger: TriggerRequest::new(vec![
            "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR=14;BYMINUTE=00".into(),
        ]),
    }
}
