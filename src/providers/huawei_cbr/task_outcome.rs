//! What the one-shot actions read from CBR tasks (operation logs, section 4.1): how far a task
//! got, and the vendor's own words when it failed.

use jiff::{SignedDuration, Timestamp};

use super::models::OperationLog;
use crate::oneshot::Progress;

/// How far before a start rampart looks for its task or restore point: CBR stamps them with
/// its own clock, which may be behind the operator's.
pub const CLOCK_SKEW: SignedDuration = SignedDuration::from_mins(5);

/// `at` less the clock-skew margin.
pub fn with_skew(at: Timestamp) -> Timestamp {
    at.checked_sub(CLOCK_SKEW).unwrap_or(at)
}

/// The vendor's error of a task (`error_info`), as "code: message", when it gave one.
pub fn failure_message(task: &OperationLog) -> Option<String> {
    let info = task.error_info.as_ref()?;
    let code = info.code.as_deref().filter(|c| !c.is_empty());
    let message = info.message.as_deref().filter(|m| !m.is_empty());
    match (code, message) {
        (Some(c), Some(m)) => Some(format!("{c}: {m}")),
        (None, Some(m)) => Some(m.to_string()),
        (Some(c), None) => Some(c.to_string()),
        (None, None) => None,
    }
}

/// A task's status as one-shot progress (`success`, `skipped`, `failed`, `running`, `timeout`,
/// `waiting`, L466-485). `succeeded` says what a success produced.
pub fn task_progress(task: &OperationLog, succeeded: Vec<String>) -> Progress {
    match task.status.as_deref() {
        Some("success") => Progress::Succeeded {
            backup_ids: succeeded,
            size_bytes: None,
            completed_at: task.ended_at,
        },
        // A skipped task did nothing: for a one-shot action that is not a success.
        Some(status @ ("failed" | "timeout" | "skipped")) => Progress::Failed {
            message: failure_message(task)
                .unwrap_or_else(|| format!("CBR reports task {} as {status}", task.id)),
            completed_at: task.ended_at,
        },
        _ => Progress::Running,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::huawei_cbr::models::OpErrorInfo;

    fn task(status: &str, code: &str, message: &str) -> OperationLog {
        OperationLog {
            id: "t1".into(),
            status: Some(status.into()),
            error_info: Some(OpErrorInfo {
                code: Some(code.into()),
                message: Some(message.into()),
            }),
            ..Default::default()
        }
    }

    #[test]
    fn statuses_map_to_progress() {
        for running in ["running", "waiting"] {
            assert_eq!(
                task_progress(&task(running, "", ""), vec![]),
                Progress::Running
            );
        }
        let done = task_progress(&task("success", "", ""), vec!["b1".into()]);
        assert!(
            matches!(done, Progress::Succeeded { ref backup_ids, .. } if backup_ids == &["b1"]),
            "{done:?}"
        );
        let failed = task_progress(
            &task("failed", "BackupService.9910", "Unknown error."),
            vec![],
        );
        assert_eq!(
            failed,
            Progress::Failed {
                message: "BackupService.9910: Unknown error.".into(),
                completed_at: None
            }
        );
        let Progress::Failed { message, .. } = task_progress(&task("timeout", "", ""), vec![])
        else {
            panic!("a timed-out task failed");
        };
        assert_eq!(message, "CBR reports task t1 as timeout");
    }
}
