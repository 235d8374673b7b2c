//! From what an adapter read (runs, backups held, the portable schedule) to the `BackupHealthy`
//! verdict and `status.backup`, at a given moment. Pure: the reconciler supplies the clock.

use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::runs::{default_grace, due_run, next_run};
use super::verdict::{BackupRun, Expected, Facts, Health, RunResult, judge};
use crate::api::backup_status::{BackupRunStatus, BackupStatus};
use crate::api::schedule::Schedule;
use crate::vendor::cron::{self, Cron};

/// What an adapter knows of one object's backups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    pub facts: Facts,
    /// Backups the vendor holds for the object, when it says.
    pub held: Option<usize>,
    /// The portable schedules the backups follow (a RuBackup strategy has one per backup
    /// type; most objects one or none). With none (a vendor-native schedule rampart cannot
    /// read) no run is expected, only results judged.
    pub schedules: Vec<Schedule>,
}

impl BackupReport {
    /// What a listing of the object's runs gave (runs and backups held), or why it failed
    /// (the message is a vendor error's, which never holds a credential).
    pub fn from_listing<E: std::fmt::Display>(
        listed: Result<(Vec<BackupRun>, usize), E>,
        schedules: impl IntoIterator<Item = Schedule>,
    ) -> Self {
        let (facts, held) = match listed {
            Ok((runs, held)) => (Facts::Runs(runs), Some(held)),
            Err(e) => (Facts::Unreadable(e.to_string()), None),
        };
        BackupReport {
            facts,
            held,
            schedules: schedules.into_iter().collect(),
        }
    }
}

/// The verdict and the facts for status. `status` is `None` when the vendor could not be read
/// (the last facts stay).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessed {
    pub health: Health,
    pub status: Option<BackupStatus>,
}

/// Judge `report` at `now`; `since` is when the object began to be backed up (a run due
/// before it is no one's fault).
pub fn assess(report: &BackupReport, now: Timestamp, since: Timestamp) -> Assessed {
    // Per schedule: the run due by now (past its grace), that grace, and the next run.
    let per_schedule: Vec<(Option<Timestamp>, Duration, Option<Timestamp>)> = report
        .schedules
        .iter()
        .filter_map(compiled)
        .map(|(cron, tz, grace)| {
            let grace = grace.unwrap_or_else(|| default_grace(&cron, &tz, now));
            (
                due_run(&cron, &tz, now, grace),
                grace,
                next_run(&cron, &tz, now),
            )
        })
        .collect();
    // The latest run due of any schedule: a backup of any of them since then will do.
    let (due, grace) = per_schedule
        .iter()
        .filter_map(|(due, grace, _)| due.map(|d| (d, *grace)))
        .max_by_key(|(d, _)| *d)
        .map_or((None, Duration::ZERO), |(d, g)| (Some(d), g));
    let next = per_schedule.iter().filter_map(|(_, _, next)| *next).min();
    let health = judge(&report.facts, &Expected { due, grace, since });
    let status = match &report.facts {
        Facts::Unreadable(_) => None,
        Facts::Runs(runs) => Some(summarize(runs, report.held, next)),
    };
    Assessed { health, status }
}

/// The schedule as cron, zone and grace; `None` when it does not parse (the Policy reports
/// that itself).
fn compiled(s: &Schedule) -> Option<(Cron, TimeZone, Option<Duration>)> {
    let cron = cron::parse(&s.cron).ok()?;
    let tz = TimeZone::get(s.time_zone.as_deref().unwrap_or("UTC")).ok()?;
    let grace = s
        .grace_minutes
        .map(|m| Duration::from_secs(u64::try_from(m).unwrap_or(1).max(1) * 60));
    Some((cron, tz, grace))
}

/// `status.backup` from the runs.
pub fn summarize(runs: &[BackupRun], held: Option<usize>, next: Option<Timestamp>) -> BackupStatus {
    let newest = |keep: &dyn Fn(&BackupRun) -> bool| {
        runs.iter()
            .filter(|r| keep(r))
            .max_by_key(|r| r.at)
            .map(run_status)
    };
    BackupStatus {
        last_backup: newest(&|_| true),
        last_successful_backup_time: newest(&|r| r.result == RunResult::Succeeded).map(|r| r.time),
        backups_held: held.and_then(|n| i64::try_from(n).ok()),
        next_expected_run: next.map(|t| t.to_string()),
        last_failure: newest(&|r| matches!(r.result, RunResult::Failed(_))),
        recent_backups: recent_successes(runs),
    }
}

/// The newest successful runs, newest first, at most `RECENT_BACKUPS`.
fn recent_successes(runs: &[BackupRun]) -> Vec<BackupRunStatus> {
    let mut ok: Vec<&BackupRun> = runs
        .iter()
        .filter(|r| r.result == RunResult::Succeeded)
        .collect();
    ok.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| a.id.cmp(&b.id)));
    ok.into_iter()
        .take(crate::api::backup_status::RECENT_BACKUPS)
        .map(run_status)
        .collect()
}

fn run_status(r: &BackupRun) -> BackupRunStatus {
    let (result, message) = match &r.result {
        RunResult::Succeeded => ("Succeeded", None),
        RunResult::Failed(m) => ("Failed", Some(m.clone())),
        RunResult::Running => ("Running", None),
    };
    BackupRunStatus {
        id: r.id.clone(),
        time: r.at.to_string(),
        result: result.into(),
        message,
    }
}

#[cfg(test)]
#[path = "assess_tests.rs"]
mod tests;
