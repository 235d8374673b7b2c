//! Response bodies from the document's own examples (repaired where its JSON is broken).

use serde_json::json;

use super::*;
use crate::api::vendors::huawei_cbr::{CbrObjectType, CbrResourceType};

#[test]
fn vault_create_response_example() {
    let v: Vault = serde_json::from_value(json!({
        "provider_id": "0daac4c5-6707-4851-97ba-169e36266b66", "description": "vault_description",
        "tags": [{"value": "value01", "key": "key01"}], "enterprise_project_id": "0", "auto_bind": false,
        "id": "ad7627ae-5b0b-492e-b6bd-cd809b745197", "user_id": "38d65be2ecd840d19046e239e841a734",
        "name": "vault_name",
        "billing": {"status": "available", "used": 0, "protect_type": "backup", "order_id": null,
            "object_type": "server", "allocated": 40, "spec_code": "vault.backup.server.normal", "size": 100,
            "cloud_type": "public", "product_id": null, "consistent_level": "crash_consistent",
            "storage_unit": null, "charging_mode": "post_paid"},
        "created_at": "2019-05-23T12:51:10.071232", "project_id": "fc347bc64ccd4589ae52e4f44b7433c7",
        "resources": [{"name": "ecs-b977-0002", "backup_size": 0, "protect_status": "available", "backup_count": 0,
            "extra_info": {"exclude_volumes": ["1855eb9a-2b5e-4938-a9f0-aea08b6f9243"]},
            "type": "OS::Nova::Server", "id": "23a320a5-3efd-4568-b1aa-8dd9183cc64c", "size": 40}]
    }))
    .unwrap();
    assert_eq!(v.billing.size, Some(100));
    assert_eq!(v.billing.allocated, Some(40));
    assert_eq!(v.billing.status.as_deref(), Some("available"));
    assert_eq!(
        v.created_at,
        Some("2019-05-23T12:51:10.071232Z".parse().unwrap())
    );
    assert_eq!(
        v.resources[0]
            .extra_info
            .as_ref()
            .unwrap()
            .exclude_volumes
            .len(),
        1
    );
    assert_eq!(v.tag("key01"), Some("value01"));
    assert_eq!(v.bind_rules, BindRules::default());
}

#[test]
fn vault_get_example_with_null_tag_value_and_empty_bind_rules() {
    let v: Vault = serde_json::from_value(json!({
        "id": "2b076f26-391f-40fa-bf71-a798940faccf", "name": "sdk-vault1595581958", "description": null,
        "resources": [], "created_at": "2020-07-24T09:12:49.491874", "auto_bind": true, "bind_rules": {},
        "auto_expand": false, "billing": {"allocated": 0, "frozen_scene": null, "used": 0, "size": 40,
            "status": "available"},
        "tags": [{"key": "fds", "value": null}],
        "some_future_field": {"x": 1}
    }))
    .unwrap();
    assert_eq!(v.description, None);
    assert_eq!(v.tag("fds"), Some(""));
    assert_eq!(v.tag("absent"), None);
    assert_eq!(v.auto_bind, Some(true));
    assert_eq!(v.auto_expand, Some(false));
}

#[test]
fn sizes_as_strings_and_null_collections_are_tolerated() {
    let v: Vault = serde_json::from_value(json!({
        "id": "x", "name": null, "resources": [{"id": "r", "type": "OS::Nova::Server", "size": "40",
            "backup_size": "0", "backup_count": "3", "extra_info": null}],
        "tags": null, "bind_rules": null, "billing": {"size": "100", "used": null}
    }))
    .unwrap();
    assert_eq!(v.name, "");
    assert_eq!(v.resources[0].size, Some(40));
    assert_eq!(v.resources[0].backup_count, Some(3));
    assert_eq!(v.billing.size, Some(100));
    assert_eq!(v.billing.used, None);
    assert!(v.tags.is_empty());
}

fn policy_json(associated: serde_json::Value) -> serde_json::Value {
    json!({"name": "policy001", "associated_vaults": associated, "enabled": true,
        "trigger": {"properties": {"pattern": ["FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR=14;BYMINUTE=00"],
            "start_time": "2019-05-08 06:57:05"}, "type": "time", "id": "d67269a6-5369-42d7-8150-5254bd446328",
            "name": "default"},
        "operation_definition": {"retention_duration_days": 1, "year_backups": 0, "day_backups": 0,
            "month_backups": 0, "week_backups": 0, "timezone": "UTC+08:00"},
        "operation_type": "backup", "id": "cbb3ce6f-3332-4e7c-b98e-77290d8471ff"})
}

#[test]
fn policy_examples_with_null_and_empty_associated_vaults() {
    let created: Policy = serde_json::from_value(policy_json(json!(null))).unwrap();
    let got: Policy = serde_json::from_value(policy_json(json!([]))).unwrap();
    assert_eq!(created, got);
    assert!(created.associated_vaults.is_empty());
    assert_eq!(
        created.trigger.properties.start_time,
        Some("2019-05-08T06:57:05Z".parse().unwrap())
    );
    assert_eq!(
        created.operation_definition.retention_duration_days,
        Some(1)
    );
    assert_eq!(created.operation_definition.max_backups, None);
    let bound: Policy = serde_json::from_value(policy_json(
        json!([{"vault_id": "v1", "destination_vault_id": null}]),
    ))
    .unwrap();
    assert!(bound.is_applied_to("v1"));
    assert!(!bound.is_applied_to("v2"));
}

#[test]
fn requests_send_only_what_is_set() {
    let create = VaultCreate {
        name: "vault_name".into(),
        billing: BillingCreate::new(CbrObjectType::Server, 100),
        description: None,
        resources: vec![ResourceCreate {
            id: "r1".into(),
            type_: CbrResourceType::Server,
            name: None,
            extra_info: Some(ResourceExtraInfo {
                exclude_volumes: vec!["d1".into()],
            }),
        }],
        tags: vec![],
        backup_policy_id: None,
        auto_bind: None,
        bind_rules: None,
        backup_name_prefix: None,
        enterprise_project_id: None,
    };
    assert_eq!(
        serde_json::to_value(&create).unwrap(),
        json!({"name": "vault_name", "billing": {"object_type": "server", "size": 100,
            "consistent_level": "crash_consistent", "protect_type": "backup"},
            "resources": [{"id": "r1", "type": "OS::Nova::Server", "extra_info": {"exclude_volumes": ["d1"]}}]})
    );
    let update = VaultUpdate {
        billing: Some(BillingUpdate { size: 200 }),
        threshold: Some(80),
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_value(&update).unwrap(),
        json!({"billing": {"size": 200}, "threshold": 80})
    );
    assert!(VaultUpdate::default().is_empty());
    let od = OperationDefinition {
        max_backups: Some(1),
        timezone: Some("UTC+08:00".into()),
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_value(&od).unwrap(),
        json!({"max_backups": 1, "timezone": "UTC+08:00"})
    );
}

#[test]
fn filters_become_query_parameters() {
    let f = VaultFilter {
        object_type: Some(CbrObjectType::Disk),
        resource_ids: vec!["a".into(), "b".into()],
        ..Default::default()
    };
    assert_eq!(
        f.query(),
        vec![
            ("object_type".into(), "disk".into()),
            ("resource_ids".into(), "a,b".into())
        ]
    );
    let f = OperationLogFilter {
        operation_type: Some("vault_delete".into()),
        start_time: Some("2018-02-01T12:00:00.5Z".parse().unwrap()),
        ..Default::default()
    };
    assert_eq!(
        f.query(),
        vec![
            ("operation_type".into(), "vault_delete".into()),
            ("start_time".into(), "2018-02-01T12:00:00Z".into())
        ]
    );
    assert_eq!(
        PolicyFilter {
            vault_id: Some("v".into()),
            ..Default::default()
        }
        .query(),
        vec![("vault_id".into(), "v".into())]
    );
    // `status` repeats, as the document allows (`status=available&status=error`).
    let f = BackupFilter {
        vault_id: Some("v".into()),
        status: vec!["available".into(), "error".into()],
        start_time: Some("2018-02-01T12:00:00.5Z".parse().unwrap()),
        ..Default::default()
    };
    let pairs: Vec<(String, String)> = [
        ("vault_id", "v"),
        ("start_time", "2018-02-01T12:00:00Z"),
        ("status", "available"),
        ("status", "error"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(f.query(), pairs);
}

#[test]
fn operation_log_example() {
    let op: OperationLog = serde_json::from_value(json!({
        "status": "success", "provider_id": "0daac4c5-6707-4851-97ba-169e36266b66",
        "checkpoint_id": "b432511f-d889-428f-8b0e-5f47c524c6b6", "updated_at": "2019-05-23T14:35:23.584418",
        "error_info": {"message": "", "code": ""}, "vault_id": null, "started_at": "2019-05-23T14:31:36.007230",
        "id": "4827f2da-b008-4507-ab7d-42d0df5ed912",
        "extra_info": {"resource": {"type": "OS::Nova::Server", "id": "1dab32fa", "name": "ECS-0001"},
            "backup": {"backup_name": "manualbk_1234", "backup_id": "0e5d0ef6", "incremental": "false"},
            "common": {"progress": 100, "request_id": "req-cdb98cc4"}},
        "ended_at": "2023-05-23T14:35:23Z", "created_at": "2019-05-23T14:31:36.039365",
        "operation_type": "backup", "vault_name": null, "project_id": "04f1829c788037ac2fb8c01eb2b04b95",
        "policy_id": null
    }))
    .unwrap();
    assert_eq!(op.extra_info.common.unwrap().progress, Some(100));
    assert_eq!(op.extra_info.backup.unwrap().incremental, Some(false));
    assert_eq!(op.ended_at, Some("2023-05-23T14:35:23Z".parse().unwrap()));
    assert_eq!(op.vault_id, None);
}

#[test]
fn backup_lazy_load_flag_under_each_spelling() {
    for key in ["support_lld", "support_llid", "support_ll"] {
        let b: Backup = serde_json::from_value(json!({"id": "b", "resource_size": 40,
            "extend_info": {key: true, "supported_restoration_mode": "backup", "os_images_data": null},
            "children": null}))
        .unwrap();
        assert_eq!(b.extend_info.support_lld, Some(true), "{key}");
        assert_eq!(
            b.extend_info.supported_restore_mode.as_deref(),
            Some("backup")
        );
    }
}
