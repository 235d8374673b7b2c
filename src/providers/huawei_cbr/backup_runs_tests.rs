use serde_json::json;

use super::*;
use crate::health::RunResult;

fn backup(status: &str) -> Backup {
    // Shaped as the document's example response (section 4.5.2).
    serde_json::from_value(json!({
        "checkpoint_id": "1fced58b-2a31-4851-bcbb-96216f83ce99",
        "updated_at": "2020-02-21T07:07:25.113761",
        "vault_id": "cca85ea5-00a4-418d-9222-bd83985bc515",
        "id": "b1c4afd9-e7a6-4888-9010-c2bac3aa7910",
        "resource_id": "1a503932-ee8f-4dd5-8248-8dfb57e584c5",
        "resource_size": 40,
        "children": [],
        "extend_info": {"auto_trigger": true, "supported_restore_mode": "backup"},
        "status": status,
        "name": "autobk_b629",
        "protected_at": "2020-02-21T07:00:34.877896",
        "created_at": "2020-02-21T07:00:54.065135",
        "resource_type": "OS::Nova::Server"
    }))
    .unwrap()
}

fn task(status: &str, error_info: serde_json::Value) -> OperationLog {
    serde_json::from_value(json!({
        "id": "4827f2da-b008-4507-ab7d-42d0df5ed912",
        "operation_type": "backup",
        "status": status,
        "vault_id": "cca85ea5-00a4-418d-9222-bd83985bc515",
        "started_at": "2020-02-21T07:00:00.000000",
        "ended_at": "2020-02-21T07:03:00.000000",
        "error_info": error_info
    }))
    .unwrap()
}

#[test]
fn a_backup_s_status_says_how_its_run_ended() {
    let result = |status: &str| run_of_backup(&backup(status)).map(|r| r.result);
    assert_eq!(result("available"), Some(RunResult::Succeeded));
    assert_eq!(result("restoring"), Some(RunResult::Succeeded));
    assert_eq!(result("protecting"), Some(RunResult::Running));
    assert!(matches!(result("error"), Some(RunResult::Failed(m)) if m.contains("1a503932")));
    assert_eq!(result("something-new"), None);
}

#[test]
fn a_backup_s_run_is_dated_by_its_backup_time() {
    let run = run_of_backup(&backup("available")).unwrap();
    assert_eq!(run.at.to_string(), "2020-02-21T07:00:34.877896Z");
    assert_eq!(run.id, "b1c4afd9-e7a6-4888-9010-c2bac3aa7910");
}

#[test]
fn a_failed_task_carries_cbr_s_message_and_code() {
    let failed = task(
        "failed",
        json!({"code": "BackupService.0001", "message": "No resource is available for backup."}),
    );
    let run = run_of_task(&failed).unwrap();
    assert_eq!(run.id, "4827f2da-b008-4507-ab7d-42d0df5ed912");
    assert_eq!(run.at.to_string(), "2020-02-21T07:03:00Z");
    assert_eq!(
        run.result,
        RunResult::Failed("No resource is available for backup. (BackupService.0001)".into())
    );
    let silent = run_of_task(&task("timeout", json!({"code": "", "message": ""}))).unwrap();
    assert_eq!(
        silent.result,
        RunResult::Failed("backup task timeout, no message from CBR".into())
    );
}

#[test]
fn successful_and_other_tasks_leave_the_word_to_backups() {
    assert_eq!(run_of_task(&task("success", json!({}))), None);
    let mut delete = task("failed", json!({}));
    delete.operation_type = Some("delete".into());
    assert_eq!(run_of_task(&delete), None);
    let runs = vault_runs(
        &[backup("available")],
        &[task("success", json!({})), task("failed", json!({}))],
    );
    assert_eq!(runs.len(), 2, "{runs:?}");
}
