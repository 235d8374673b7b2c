//! CbrClient against the CBR simulator, in-process: every call, paging, each auth method,
//! error bodies and injected faults.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use crate::api::provider_config::ApiBudget;
use crate::api::vendors::huawei_cbr::{CbrObjectType, CbrResourceType};
use crate::engine::hub::SecretString;
use crate::providers::budget::Budget;
use crate::providers::error::ErrorKind;
use crate::providers::http::{TlsSettings, VendorHttp};
use crate::providers::huawei_cbr::auth::{CbrAuth, Clock, PasswordLogin};
use crate::providers::huawei_cbr::models::*;
use crate::providers::huawei_cbr::{CbrClient, VENDOR};
use crate::simulators::harness::Faults;
use crate::simulators::huawei_cbr::{CbrSim, CbrSimConfig};

const PROJECT: &str = "0605767b5780d5762fc5c0118072a564";
const LOGIN: &str = "POST /v3/auth/tokens";
const LIST_VAULTS: &str = "GET /v3/{project_id}/vaults";

fn http(base: &str) -> VendorHttp {
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
fn test_clock() -> (Clock, Arc<AtomicI64>) {
    let offset = Arc::new(AtomicI64::new(0));
    let o = offset.clone();
    let clock: Clock = Arc::new(move || {
        jiff::Timestamp::now() + jiff::SignedDuration::from_secs(o.load(Ordering::SeqCst))
    });
    (clock, offset)
}

fn login(password: &str) -> PasswordLogin {
    let user = &CbrSimConfig::default().users[0];
    PasswordLogin {
        username: SecretString::new(&user.name),
        password: SecretString::new(password),
        domain_name: SecretString::new(&user.domain),
        project_name: "ru-moscow-1".into(),
    }
}

fn password_client(sim: &CbrSim, clock: Clock) -> CbrClient {
    let auth = CbrAuth::password(
        http(&sim.url()),
        login(&CbrSimConfig::default().users[0].password),
    )
    .with_clock(clock);
    CbrClient::new(http(&sim.url()), PROJECT, auth)
}

fn ak_sk_client(sim: &CbrSim, sk: &str, clock: Clock) -> CbrClient {
    let (ak, _) = &CbrSimConfig::default().access_keys[0];
    let auth = CbrAuth::ak_sk(SecretString::new(ak), SecretString::new(sk)).with_clock(clock);
    CbrClient::new(http(&sim.url()), PROJECT, auth)
}

fn vault_create(name: &str, resources: &[&str]) -> VaultCreate {
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

fn policy_create(name: &str) -> PolicyCreate {
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

#[tokio::test]
async fn vault_calls() {
    let sim = CbrSim::start_default().await.unwrap();
    let c = password_client(&sim, test_clock().0);
    let created = c
        .create_vault(&vault_create("v1", &["srv-1"]))
        .await
        .unwrap();
    assert_eq!(created.billing.status.as_deref(), Some("available"));
    assert_eq!(created.tag("rampart-owner"), Some("ns_name"));
    assert_eq!(created.resources[0].name.as_deref(), Some("ecs-srv-"));
    let got = c.get_vault(&created.id).await.unwrap();
    assert_eq!(got.name, "v1");

    let update = VaultUpdate {
        name: Some("v1b".into()),
        billing: Some(BillingUpdate { size: 200 }),
        smn_notify: Some(false),
        threshold: Some(90),
        auto_expand: Some(true),
        ..Default::default()
    };
    let updated = c.update_vault(&created.id, &update).await.unwrap();
    assert_eq!(
        (
            updated.name.as_str(),
            updated.billing.size,
            updated.auto_expand
        ),
        ("v1b", Some(200), Some(true))
    );
    let stored = sim.console().project(PROJECT).vaults[0].clone();
    assert_eq!(
        (stored.smn_notify, stored.threshold),
        (Some(false), Some(90))
    );

    assert_eq!(
        c.add_resources(&created.id, &vault_create("", &["srv-2"]).resources)
            .await
            .unwrap(),
        vec!["srv-2"]
    );
    assert_eq!(
        c.remove_resources(&created.id, &["srv-1".to_string()])
            .await
            .unwrap(),
        vec!["srv-1"]
    );
    assert_eq!(c.get_vault(&created.id).await.unwrap().resources.len(), 1);
    let filter = VaultFilter {
        resource_ids: vec!["srv-2".into()],
        ..Default::default()
    };
    assert_eq!(c.list_vaults(&filter).await.unwrap().len(), 1);

    let policy = c.create_policy(&policy_create("p1")).await.unwrap();
    let bound = c.associate_policy(&created.id, &policy.id).await.unwrap();
    assert_eq!(
        (bound.vault_id.as_str(), bound.policy_id.as_str()),
        (created.id.as_str(), policy.id.as_str())
    );
    let filter = VaultFilter {
        policy_id: Some(policy.id.clone()),
        ..Default::default()
    };
    assert_eq!(c.list_vaults(&filter).await.unwrap()[0].id, created.id);
    c.dissociate_policy(&created.id, &policy.id).await.unwrap();
    let again = c
        .dissociate_policy(&created.id, &policy.id)
        .await
        .unwrap_err();
    assert_eq!(
        (again.kind, again.code.as_deref()),
        (ErrorKind::NotFound, Some("BackupService.6002"))
    );

    c.delete_vault(&created.id).await.unwrap();
    let gone = c.get_vault(&created.id).await.unwrap_err();
    assert_eq!(
        (gone.kind, gone.code.as_deref()),
        (ErrorKind::NotFound, Some("BackupService.6105"))
    );
    let tasks = c
        .list_operation_logs(&OperationLogFilter {
            vault_id: Some(created.id.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    let kinds: Vec<_> = tasks
        .iter()
        .filter_map(|t| t.operation_type.as_deref())
        .collect();
    assert_eq!(kinds, vec!["vault_delete", "remove_resource"]);
}

#[tokio::test]
async fn policy_calls() {
    let sim = CbrSim::start_default().await.unwrap();
    let c = password_client(&sim, test_clock().0);
    let p = c.create_policy(&policy_create("p1")).await.unwrap();
    assert!(p.associated_vaults.is_empty());
    assert_eq!(p.operation_type.as_deref(), Some("backup"));
    assert!(p.trigger.properties.start_time.is_some());
    let update = PolicyUpdate {
        enabled: Some(false),
        operation_definition: Some(OperationDefinition {
            max_backups: Some(7),
            ..Default::default()
        }),
        ..Default::default()
    };
    let p2 = c.update_policy(&p.id, &update).await.unwrap();
    assert_eq!(
        p2.operation_definition,
        OperationDefinition {
            max_backups: Some(7),
            ..Default::default()
        }
    );
    assert_eq!(
        (p2.enabled, p2.trigger.id.clone(), p2.patterns()),
        (Some(false), p.trigger.id.clone(), p.patterns())
    );

    let vault = c.create_vault(&vault_create("v", &[])).await.unwrap();
    c.associate_policy(&vault.id, &p.id).await.unwrap();
    let other = c.create_policy(&policy_create("p2")).await.unwrap();
    let second = c.associate_policy(&vault.id, &other.id).await.unwrap_err();
    assert_eq!(
        (second.kind, second.code.as_deref()),
        (ErrorKind::Rejected, Some("BackupService.6127"))
    );
    let applied = c
        .list_policies(&PolicyFilter {
            vault_id: Some(vault.id.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(applied.len(), 1);
    assert!(applied[0].is_applied_to(&vault.id));
    assert_eq!(
        c.get_policy(&p.id).await.unwrap().associated_vaults.len(),
        1
    );
    assert_eq!(
        c.list_policies(&PolicyFilter::default())
            .await
            .unwrap()
            .len(),
        2
    );
    c.delete_policy(&p.id).await.unwrap();
    let gone = c.get_policy(&p.id).await.unwrap_err();
    assert_eq!(
        (gone.kind, gone.code.as_deref()),
        (ErrorKind::NotFound, Some("BackupService.6000"))
    );
}

#[tokio::test]
async fn lists_page_until_count() {
    let sim = CbrSim::start_default().await.unwrap();
    for i in 0..7 {
        sim.console()
            .insert_vault(PROJECT, &format!("v{i}"), "server", 10);
    }
    let c = password_client(&sim, test_clock().0).with_page_size(3);
    let names: Vec<String> = c
        .list_vaults(&VaultFilter::default())
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.name)
        .collect();
    assert_eq!(names, (0..7).map(|i| format!("v{i}")).collect::<Vec<_>>());
    assert_eq!(sim.control().count(LIST_VAULTS), 3);
    sim.console().insert_vault(PROJECT, "v7", "server", 10);
    sim.control().reset_counters();
    sim.console().insert_vault(PROJECT, "v8", "server", 10);
    assert_eq!(
        c.list_vaults(&VaultFilter::default()).await.unwrap().len(),
        9
    );
    assert_eq!(
        sim.control().count(LIST_VAULTS),
        3,
        "9 vaults in pages of 3 end when count is reached"
    );
    let (page, count) = c
        .list_vaults_page(&VaultFilter::default(), 4, 8)
        .await
        .unwrap();
    assert_eq!((page.len(), count), (1, Some(9)));
}

#[tokio::test]
async fn password_login_is_cached_refreshed_and_renewed_after_401() {
    let sim = CbrSim::start_default().await.unwrap();
    let (clock, offset) = test_clock();
    let c = password_client(&sim, clock);
    for _ in 0..3 {
        c.list_vaults(&VaultFilter::default()).await.unwrap();
    }
    assert_eq!(sim.control().count(LOGIN), 1, "one login for many calls");

    // Close to expiry the client replaces its token before using it: no 401 is seen.
    offset.store(24 * 3600 - 600, Ordering::SeqCst);
    sim.console()
        .advance_clock(jiff::SignedDuration::from_secs(24 * 3600 - 600));
    c.list_vaults(&VaultFilter::default()).await.unwrap();
    assert_eq!(sim.control().count(LOGIN), 2);
    assert_eq!(sim.control().count(LIST_VAULTS), 4);

    // The server expires the token while the client still trusts it: 401, login, retry.
    sim.console()
        .advance_clock(jiff::SignedDuration::from_secs(24 * 3600));
    c.list_vaults(&VaultFilter::default()).await.unwrap();
    assert_eq!(
        (sim.control().count(LOGIN), sim.control().count(LIST_VAULTS)),
        (3, 6)
    );

    // Revoked (vendor restart): same recovery.
    sim.control().revoke_tokens();
    c.list_vaults(&VaultFilter::default()).await.unwrap();
    assert_eq!(
        (sim.control().count(LOGIN), sim.control().count(LIST_VAULTS)),
        (4, 8)
    );
}

#[tokio::test]
async fn wrong_password_is_unauthorized_and_not_retried_hot() {
    let sim = CbrSim::start_default().await.unwrap();
    let auth = CbrAuth::password(http(&sim.url()), login("bad-pass-7Q"));
    let c = CbrClient::new(http(&sim.url()), PROJECT, auth);
    for _ in 0..2 {
        let e = c.list_vaults(&VaultFilter::default()).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Unauthorized);
        assert!(!e.to_string().contains("bad-pass-7Q"), "{e}");
    }
    assert_eq!(sim.control().count(LOGIN), 1);
    assert_eq!(sim.control().count(LIST_VAULTS), 0);
}

#[tokio::test]
async fn fixed_token_works_until_revoked() {
    let sim = CbrSim::start_default().await.unwrap();
    let body = login(&CbrSimConfig::default().users[0].password).body();
    let resp = reqwest::Client::new()
        .post(format!("{}/v3/auth/tokens", sim.url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let token = resp.headers()["x-subject-token"]
        .to_str()
        .unwrap()
        .to_string();
    let c = CbrClient::new(
        http(&sim.url()),
        PROJECT,
        CbrAuth::token(SecretString::new(token)),
    );
    c.list_policies(&PolicyFilter::default()).await.unwrap();
    sim.control().revoke_tokens();
    let e = c.list_policies(&PolicyFilter::default()).await.unwrap_err();
    assert_eq!(
        (e.kind, e.status, e.code.as_deref()),
        (ErrorKind::Unauthorized, Some(401), Some("APIGW.0301"))
    );
    assert_eq!(
        sim.control().count("GET /v3/{project_id}/policies"),
        2,
        "a fixed token is not retried"
    );
}

#[tokio::test]
async fn ak_sk_signatures_are_verified() {
    let sim = CbrSim::start_default().await.unwrap();
    let (_, sk) = &CbrSimConfig::default().access_keys[0];
    let (clock, offset) = test_clock();
    let c = ak_sk_client(&sim, sk, clock);
    let v = c.create_vault(&vault_create("signed", &[])).await.unwrap();
    let filter = VaultFilter {
        name: Some("sig ned:x".into()),
        object_type: Some(CbrObjectType::Server),
        ..Default::default()
    };
    assert!(c.list_vaults(&filter).await.unwrap().is_empty());
    c.delete_vault(&v.id).await.unwrap();
    assert_eq!(sim.control().count(LOGIN), 0);

    offset.store(3600, Ordering::SeqCst);
    let skewed = c.list_vaults(&VaultFilter::default()).await.unwrap_err();
    assert_eq!(skewed.kind, ErrorKind::Unauthorized);
    let wrong = ak_sk_client(&sim, "not-the-key", test_clock().0)
        .list_vaults(&VaultFilter::default())
        .await
        .unwrap_err();
    assert_eq!(
        (wrong.kind, wrong.status),
        (ErrorKind::Unauthorized, Some(401))
    );
}

#[tokio::test]
async fn simulator_error_bodies_map_to_kinds() {
    let sim = CbrSim::start_default().await.unwrap();
    let c = password_client(&sim, test_clock().0);
    let mut small = vault_create("v", &[]);
    small.billing.size = 5;
    let e = c.create_vault(&small).await.unwrap_err();
    assert_eq!(
        (e.kind, e.status, e.code.as_deref()),
        (ErrorKind::Rejected, Some(400), Some("BackupService.6101"))
    );
    let mut disk = vault_create("v", &["srv-1"]);
    disk.billing.object_type = CbrObjectType::Disk;
    assert_eq!(
        c.create_vault(&disk).await.unwrap_err().code.as_deref(),
        Some("BackupService.6102")
    );
    c.create_vault(&vault_create("a", &["srv-1"]))
        .await
        .unwrap();
    let taken = c
        .create_vault(&vault_create("b", &["srv-1"]))
        .await
        .unwrap_err();
    assert_eq!(
        (taken.kind, taken.code.as_deref()),
        (ErrorKind::Conflict, Some("BackupService.6103"))
    );
    let mut bad = policy_create("p");
    bad.trigger = TriggerRequest::new(vec!["FREQ=HOURLY;BYHOUR=1;BYMINUTE=0".into()]);
    let e = c.create_policy(&bad).await.unwrap_err();
    assert_eq!(
        (e.kind, e.code.as_deref()),
        (ErrorKind::Rejected, Some("BackupService.9900"))
    );
}

#[tokio::test]
async fn injected_faults_surface_as_retryable_kinds() {
    let sim = CbrSim::start_default().await.unwrap();
    let c = password_client(&sim, test_clock().0);
    c.list_policies(&PolicyFilter::default()).await.unwrap();
    for status in [500, 503] {
        sim.control().set_faults(Faults {
            error_rate: 1.0,
            error_status: status,
            ..Default::default()
        });
        let e = c.list_policies(&PolicyFilter::default()).await.unwrap_err();
        assert_eq!(
            (e.kind, e.status, e.code.as_deref()),
            (
                ErrorKind::Unavailable,
                Some(status),
                Some("BackupService.9910")
            )
        );
        assert!(e.is_retryable());
    }
    sim.control().set_faults(Faults {
        throttle_rate: 1.0,
        retry_after_secs: 1,
        ..Default::default()
    });
    let e = c.list_policies(&PolicyFilter::default()).await.unwrap_err();
    assert_eq!(
        (e.kind, e.retry_after),
        (ErrorKind::Throttled, Some(Duration::from_secs(1)))
    );
}

#[tokio::test]
async fn translated_schedules_and_retention_are_accepted_and_echoed() {
    use crate::api::schedule::{Retention, Schedule};
    use crate::providers::huawei_cbr::schedule::{
        normalize_patterns, retention_to_definition, schedule_to_patterns,
    };
    let sim = CbrSim::start_default().await.unwrap();
    let c = password_client(&sim, test_clock().0);
    let now = jiff::Timestamp::now();
    for (cron, zone) in [
        ("0 */6 * * 1-5", "Europe/Moscow"),
        ("0 * * * *", "Asia/Kolkata"),
        ("30 23 * * 0", "America/New_York"),
    ] {
        let schedule = Schedule {
            cron: cron.into(),
            time_zone: Some(zone.into()),
        };
        let pattern = schedule_to_patterns(&schedule, now).unwrap();
        let retention = Retention {
            keep_last: Some(10),
            daily: Some(7),
            ..Default::default()
        };
        let definition =
            retention_to_definition(&retention, schedule.time_zone.as_deref(), now).unwrap();
        let mut create = policy_create(&format!("p{}", pattern.len()));
        create.trigger = TriggerRequest::new(pattern.clone());
        create.operation_definition = definition.clone();
        let p = c
            .create_policy(&create)
            .await
            .unwrap_or_else(|e| panic!("{cron} {zone}: {e}"));
        assert_eq!(normalize_patterns(p.patterns()), pattern);
        assert_eq!(p.operation_definition, definition);
    }
}
