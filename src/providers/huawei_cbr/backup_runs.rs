//! A vault's backups as backup health reads them: every
//! backup CBR holds for the vault (`GET /backups`, section 4.5.2) and every backup task
//! (`GET /operation-logs`, section 4.1), as runs that succeeded, failed or are still going. A
//! failed run may leave no backup at all, so failures come from the tasks, with the vendor's
//! message. Pure.

use super::models::{Backup, OperationLog};
use crate::health::{BackupRun, RunResult};

/// The run a backup records. A backup being restored or deleted was still taken; a status the
/// document does not list is not counted (a guess: better no fact than a wrong one).
pub fn run_of_backup(b: &Backup) -> Option<BackupRun> {
    let result = match b.status.as_deref()? {
        "available" | "restoring" | "deleting" | "waiting_restore" | "waiting_delete" => {
            RunResult::Succeeded
        }
        "protecting" | "waiting_protect" => RunResult::Running,
        "error" => RunResult::Failed(format!(
            "CBR holds backup {} of resource {} in status error",
            b.id,
            b.resource_id.as_deref().unwrap_or("(unnamed)")
        )),
        _ => return None,
    };
    Some(BackupRun {
        id: b.id.clone(),
        at: b.protected_at.or(b.created_at)?,
        result,
    })
}

/// The run a backup task records, when it says more than its backup: a failure (with CBR's
/// message) or a run still going. A successful task's backup speaks for it.
pub fn run_of_task(t: &OperationLog) -> Option<BackupRun> {
    if t.operation_type.as_deref() != Some("backup") {
        return None;
    }
    let result = match t.status.as_deref()? {
        "failed" | "timeout" => RunResult::Failed(task_message(t)),
        "running" | "waiting" => RunResult::Running,
        _ => return None,
    };
    Some(BackupRun {
        id: t.id.clone(),
        at: t.ended_at.or(t.started_at).or(t.created_at)?,
        result,
    })
}

/// Every run of a vault, from its backups and its backup tasks.
pub fn vault_runs(backups: &[Backup], tasks: &[OperationLog]) -> Vec<BackupRun> {
    backups
        .iter()
        .filter_map(run_of_backup)
        .chain(tasks.iter().filter_map(run_of_task))
        .collect()
}

fn task_message(t: &OperationLog) -> String {
    let status = t.status.as_deref().unwrap_or("failed");
    let info = t.error_info.as_ref();
    let text = |s: Option<&String>| s.filter(|s| !s.is_empty()).cloned();
    match (
        text(info.and_then(|i| i.code.as_ref())),
        text(info.and_then(|i| i.message.as_ref())),
    ) {
        (Some(code), Some(message)) => format!("{message} ({code})"),
        (None, Some(message)) => message,
        (Some(code), None) => format!("backup task {status} with {code}"),
        (None, None) => format!("backup task {status}, no message from CBR"),
    }
}

#[cfg(test)]
#[path = "backup_runs_tests.rs"]
mod tests;
