//! The pure pieces of CBR restores: the body sent, the refusals, which task is the restore's.

use serde_json::json;

use super::models::{Backup, OpExtraInfo, OpRestore, OperationLog};
use super::oneshot_support::{policy_source, restore_order, restore_spec};
use super::restore::{check, restore_request, restore_task};
use crate::api::restore::{CbrRestoreMapping, CbrRestoreOptions, RuBackupRestoreOptions};

fn backup(resource_type: &str, children: Vec<Backup>) -> Backup {
    Backup {
        id: "b1".into(),
        resource_id: Some("res-1".into()),
        resource_type: Some(resource_type.into()),
        children,
        ..Default::default()
    }
}

fn body(cbr: Option<CbrRestoreOptions>, backup: &Backup) -> serde_json::Value {
    let order = restore_order("v", "b1", restore_spec(cbr));
    serde_json::to_value(restore_request(&order, backup)).unwrap()
}

#[test]
fn the_block_is_sent_as_given() {
    let cbr = CbrRestoreOptions {
        server_id: Some("srv-2".into()),
        volume_id: None,
        mappings: vec![CbrRestoreMapping {
            backup_id: "disk-b".into(),
            volume_id: "vol-9".into(),
        }],
        power_on: Some(false),
    };
    assert_eq!(
        body(Some(cbr), &backup("OS::Nova::Server", vec![])),
        json!({"server_id": "srv-2", "power_on": false,
            "mappings": [{"backup_id": "disk-b", "volume_id": "vol-9"}]})
    );
}

#[test]
fn no_block_restores_to_the_original_resource() {
    let disk_backup = Backup {
        id: "disk-b".into(),
        resource_id: Some("vol-1".into()),
        ..Default::default()
    };
    assert_eq!(
        body(None, &backup("OS::Nova::Server", vec![disk_backup])),
        json!({"server_id": "res-1",
            "mappings": [{"backup_id": "disk-b", "volume_id": "vol-1"}]})
    );
    assert_eq!(
        body(None, &backup("OS::Cinder::Volume", vec![])),
        json!({"volume_id": "res-1"})
    );
    assert_eq!(body(None, &backup("OS::Sfs::Turbo", vec![])), json!({}));
}

#[test]
fn refusals_name_the_field() {
    let mut spec = restore_spec(None);
    spec.ru_backup = Some(RuBackupRestoreOptions::default());
    assert_eq!(
        check(&restore_order("v", "b1", spec)).unwrap_err().field,
        "spec.ruBackup"
    );
    let mut order = restore_order("v", "b1", restore_spec(None));
    order.source = policy_source();
    assert_eq!(check(&order).unwrap_err().field, "spec.backupRef");
    assert_eq!(check(&restore_order("v", "b1", restore_spec(None))), Ok(()));
}

fn task(id: &str, backup_id: &str, created: &str) -> OperationLog {
    OperationLog {
        id: id.into(),
        operation_type: Some("restore".into()),
        created_at: Some(created.parse().unwrap()),
        extra_info: OpExtraInfo {
            restore: Some(OpRestore {
                backup_id: Some(backup_id.into()),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    }
}

#[test]
fn the_restore_task_is_found_by_its_backup_and_time() {
    let tasks = [
        task("old", "b1", "2024-05-01T10:00:00Z"),
        task("t1", "b1", "2024-05-01T12:00:01Z"),
        task("t2", "b1", "2024-05-01T12:30:00Z"),
        task("other", "b2", "2024-05-01T12:00:00Z"),
    ];
    let from = "2024-05-01T12:00:00Z".parse().unwrap();
    let id = |earliest| restore_task(&tasks, "b1", from, earliest).map(|t| t.id.as_str());
    assert_eq!(id(true), Some("t1"));
    assert_eq!(id(false), Some("t2"));
    assert_eq!(restore_task(&tasks, "b3", from, true), None);
}
