//! The pure pieces of CBR's restore points: the name, the request body, the refusals and the
//! reading of a restore point's status.

use serde_json::json;

use super::checkpoint::{
    check, checkpoint_name, checkpoint_progress, checkpoint_request, found_checkpoint,
};
use super::models::{Backup, Checkpoint, OpErrorInfo, OperationLog};
use super::oneshot_support::{MARKER, backup_order, backup_spec, policy_source};
use crate::api::backup::{CbrBackupOptions, RuBackupBackupOptions};
use crate::oneshot::{Progress, Started};

#[test]
fn the_name_carries_the_marker_in_cbr_s_charset() {
    assert_eq!(checkpoint_name(MARKER), format!("rampart-{MARKER}"));
    let odd = checkpoint_name(&format!("a/b.c{}", "x".repeat(100)));
    assert!(odd.starts_with("rampart-abc"), "{odd}");
    assert_eq!(odd.len(), 64);
    assert!(
        odd.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    );
}

#[test]
fn the_request_is_the_vault_the_marker_name_and_the_cbr_block() {
    let cbr = CbrBackupOptions {
        resources: vec!["srv-1".into()],
        incremental: Some(false),
    };
    let body = checkpoint_request(&backup_order("vault-1", backup_spec(Some(cbr))));
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        json!({"vault_id": "vault-1", "parameters": {
            "name": format!("rampart-{MARKER}"), "description": "before the upgrade",
            "incremental": false, "resources": ["srv-1"]}})
    );
    // Without the block the vendor's defaults apply: nothing else is sent.
    let mut spec = backup_spec(None);
    spec.description = None;
    let body = checkpoint_request(&backup_order("vault-1", spec));
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        json!({"vault_id": "vault-1", "parameters": {"name": format!("rampart-{MARKER}")}})
    );
}

#[test]
fn refusals_name_the_field() {
    let field = |order| check(&order).unwrap_err().field;
    let mut policy = backup_order("v", backup_spec(None));
    policy.source = policy_source();
    assert_eq!(field(policy), "spec.source.policyRef");
    let mut spec = backup_spec(None);
    spec.ru_backup = Some(RuBackupBackupOptions::default());
    assert_eq!(field(backup_order("v", spec)), "spec.ruBackup");
    let mut spec = backup_spec(None);
    spec.retention_days = Some(7);
    let refusal = check(&backup_order("v", spec)).unwrap_err();
    assert_eq!(refusal.field, "spec.retentionDays");
    assert!(refusal.message.contains("policy"), "{}", refusal.message);
    assert_eq!(check(&backup_order("v", backup_spec(None))), Ok(()));
}

fn backup(id: &str, name: &str, checkpoint: &str, created: &str) -> Backup {
    Backup {
        id: id.into(),
        name: Some(name.into()),
        checkpoint_id: Some(checkpoint.into()),
        created_at: Some(created.parse().unwrap()),
        ..Default::default()
    }
}

#[test]
fn find_takes_the_first_restore_point_of_the_name_since_the_claim() {
    let name = checkpoint_name(MARKER);
    let since = "2024-05-01T12:00:00Z".parse().unwrap();
    let listed = [
        // Before the claim, beyond the skew margin: an earlier Backup of the same name.
        backup("old", &name, "cp-old", "2024-05-01T11:00:00Z"),
        // Within the margin: CBR's clock may be behind.
        backup("b1", &name, "cp-1", "2024-05-01T11:58:00Z"),
        backup("b2", &name, "cp-1", "2024-05-01T11:58:01Z"),
        backup("other", "manualbk_1234", "cp-9", "2024-05-01T12:01:00Z"),
        backup("b3", &name, "cp-2", "2024-05-01T12:05:00Z"),
    ];
    assert_eq!(
        found_checkpoint(&listed, &name, since),
        Some(Started {
            vendor_id: "cp-1".into(),
            task_id: None,
            backup_ids: vec!["b1".into(), "b2".into()],
        })
    );
    assert_eq!(found_checkpoint(&listed[..1], &name, since), None);
}

fn cp(status: &str) -> Checkpoint {
    Checkpoint {
        id: "cp-1".into(),
        status: Some(status.into()),
        ..Default::default()
    }
}

#[test]
fn a_restore_point_s_status_is_progress() {
    assert_eq!(
        checkpoint_progress(&cp("protecting"), &[], &[]),
        Progress::Running
    );
    let mut b = backup("b1", "n", "cp-1", "2024-05-01T12:00:00Z");
    b.protected_at = Some("2024-05-01T12:03:00Z".parse().unwrap());
    assert_eq!(
        checkpoint_progress(&cp("available"), &[b], &[]),
        Progress::Succeeded {
            backup_ids: vec!["b1".into()],
            size_bytes: None,
            completed_at: Some("2024-05-01T12:03:00Z".parse().unwrap()),
        }
    );
    let task = OperationLog {
        id: "t1".into(),
        status: Some("failed".into()),
        error_info: Some(OpErrorInfo {
            code: Some("BackupService.6215".into()),
            message: Some("Backup is not allowed in the current resource status.".into()),
        }),
        ..Default::default()
    };
    let Progress::Failed { message, .. } = checkpoint_progress(&cp("error"), &[], &[task]) else {
        panic!("an error restore point failed");
    };
    assert!(
        message.contains("BackupService.6215: Backup is not allowed"),
        "{message}"
    );
    let Progress::Failed { message, .. } = checkpoint_progress(&cp("error"), &[], &[]) else {
        panic!("an error restore point failed");
    };
    assert_eq!(message, "CBR reports restore point cp-1 as error");
}
