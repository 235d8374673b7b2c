//! CbrClient against the CBR simulator, in-process: every call, paging, error bodies of the
//! simulator and injected faults.

use std::time::Duration;

use super::test_support::*;
use crate::api::vendors::huawei_cbr::CbrObjectType;
use crate::providers::huawei_cbr::models::*;
use crate::simulators::harness::Faults;
use crate::simulators::huawei_cbr::CbrSim;
use crate::vendor::error::ErrorKind;

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
    // Deletion is asynchronous at CBR: the vault reads as `deleting` until it is gone.
    let mut deleting = 0;
    let gone = loop {
        match c.get_vault(&created.id).await {
            Ok(v) if deleting < 10 => {
                assert_eq!(v.billing.status.as_deref(), Some("deleting"));
                deleting += 1;
            }
            Ok(v) => panic!("vault {} never went away", v.id),
            Err(e) => break e,
        }
    };
    assert!(deleting > 0, "the vault passed through deleting");
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
            grace_minutes: None,
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
