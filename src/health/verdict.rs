//! Whether backups are happening: the `BackupHealthy` condition as a pure function of what the
//! vendor holds for an object (its backups, newest first) and when its schedule says backups
//! should have run. `Ready` says the configuration matches; this says the configuration works.

use std::time::Duration;

use jiff::Timestamp;

use crate::api::common::ConditionStatus;

/// How one backup run ended, as the vendor reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunResult {
    Succeeded,
    /// With the vendor's message.
    Failed(String),
    /// Not finished yet: neither success nor failure.
    Running,
}

/// One backup (or backup task) at the vendor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupRun {
    /// The vendor's id of the backup, or of the task when the run produced none.
    pub id: String,
    pub at: Timestamp,
    pub result: RunResult,
}

/// What the vendor says about an object's backups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Facts {
    /// The vendor could not be read (`why`): health is Unknown, not a guess.
    Unreadable(String),
    /// The object's runs, in any order.
    Runs(Vec<BackupRun>),
}

/// When a backup was last due: the schedule's latest run whose grace has passed (see
/// [`crate::health::runs::due_run`]), the grace itself (for the message), and when the object
/// began to be backed up (a run before that is no one's fault).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected {
    pub due: Option<Timestamp>,
    pub grace: Duration,
    pub since: Timestamp,
}

/// The `BackupHealthy` condition's status, reason and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    pub status: ConditionStatus,
    pub reason: &'static str,
    pub message: String,
    /// The vendor id of the failed run, when the reason is a failure.
    pub failed_id: Option<String>,
}

impl Health {
    fn new(status: ConditionStatus, reason: &'static str, message: String) -> Self {
        Health {
            status,
            reason,
            message,
            failed_id: None,
        }
    }
}

/// The verdict, most specific first: an unreadable vendor is Unknown; a last finished run that
/// failed is `LastBackupFailed`; a run due (past its grace) since the object was set up with no
/// success after it is `BackupMissed`; no backup at all, and none due yet, is `NoBackupsYet`;
/// otherwise healthy.
pub fn judge(facts: &Facts, expected: &Expected) -> Health {
    let runs = match facts {
        Facts::Unreadable(why) => {
            return Health::new(
                ConditionStatus::Unknown,
                "VendorUnreadable",
                format!("cannot read the vendor's backups: {why}"),
            );
        }
        Facts::Runs(runs) => runs,
    };
    let latest_finished = runs
        .iter()
        .filter(|r| r.result != RunResult::Running)
        .max_by_key(|r| r.at);
    if let Some(
        run @ BackupRun {
            result: RunResult::Failed(message),
            ..
        },
    ) = latest_finished
    {
        return Health {
            failed_id: Some(run.id.clone()),
            ..Health::new(
                ConditionStatus::False,
                "LastBackupFailed",
                format!("the backup of {} failed: {message}", run.at),
            )
        };
    }
    let last_success = runs
        .iter()
        .filter(|r| r.result == RunResult::Succeeded)
        .map(|r| r.at)
        .max();
    if let Some(due) = due_run(expected)
        && last_success.is_none_or(|at| at < due)
    {
        let since = last_success.map_or_else(
            || "no successful backup yet".to_string(),
            |at| format!("the last successful backup was at {at}"),
        );
        return Health::new(
            ConditionStatus::False,
            "BackupMissed",
            format!(
                "the run due at {due} produced no successful backup within {}; {since}",
                human(expected.grace)
            ),
        );
    }
    match last_success {
        Some(at) => Health::new(
            ConditionStatus::True,
            "BackupSucceeded",
            format!("the last successful backup was at {at}"),
        ),
        None => Health::new(
            ConditionStatus::False,
            "NoBackupsYet",
            "no backup has been made yet, and none was due".to_string(),
        ),
    }
}

/// The due run, if it came after the object was set up.
fn due_run(expected: &Expected) -> Option<Timestamp> {
    expected.due.filter(|run| *run >= expected.since)
}

fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

#[cfg(test)]
#[path = "verdict_tests.rs"]
mod tests;
