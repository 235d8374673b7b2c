use jiff::{SignedDuration, Timestamp};

use super::*;

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn run(id: &str, when: &str, result: RunResult) -> BackupRun {
    BackupRun {
        id: id.into(),
        at: at(when),
        result,
    }
}

fn daily(grace_minutes: Option<i32>) -> Option<Schedule> {
    Some(Schedule {
        cron: "0 2 * * *".into(),
        time_zone: Some("Europe/Moscow".into()),
        grace_minutes,
    })
}

#[test]
fn the_status_names_the_newest_run_success_and_failure_and_the_next_run() {
    let runs = vec![
        run("b1", "2026-12-05T23:00:00Z", RunResult::Succeeded),
        run(
            "t2",
            "2026-12-06T23:00:00Z",
            RunResult::Failed("disk full".into()),
        ),
        run("b3", "2026-12-07T23:00:00Z", RunResult::Running),
    ];
    let report = BackupReport {
        facts: Facts::Runs(runs),
        held: Some(1),
        schedules: daily(None).into_iter().collect(),
    };
    let now = at("2026-12-07T23:30:00Z");
    let a = assess(&report, now, at("2026-12-01T00:00:00Z"));
    let s = a.status.expect("facts");
    assert_eq!(s.last_backup.as_ref().map(|r| r.id.as_str()), Some("b3"));
    assert_eq!(
        s.last_backup.as_ref().map(|r| r.result.as_str()),
        Some("Running")
    );
    assert_eq!(
        s.last_successful_backup_time.as_deref(),
        Some("2026-12-05T23:00:00Z")
    );
    let failure = s.last_failure.expect("a failure");
    assert_eq!(
        (failure.id.as_str(), failure.message.as_deref()),
        ("t2", Some("disk full"))
    );
    assert_eq!(s.backups_held, Some(1));
    // 02:00 in Moscow is 23:00 UTC the day before.
    assert_eq!(s.next_expected_run.as_deref(), Some("2026-12-08T23:00:00Z"));
    assert_eq!(a.health.reason, "LastBackupFailed");
}

#[test]
fn the_grace_field_moves_when_a_run_counts_as_missed() {
    let report = |grace| BackupReport {
        facts: Facts::Runs(vec![run(
            "b1",
            "2026-12-05T23:00:00Z",
            RunResult::Succeeded,
        )]),
        held: None,
        schedules: daily(grace).into_iter().collect(),
    };
    // The run of 23:00 UTC on the 6th has not come, 90 minutes later.
    let now = at("2026-12-07T00:30:00Z");
    let since = now - SignedDuration::from_hours(24 * 7);
    // By default the grace is the schedule's interval (a day): not missed yet.
    assert_eq!(
        assess(&report(None), now, since).health.reason,
        "BackupSucceeded"
    );
    assert_eq!(
        assess(&report(Some(60)), now, since).health.reason,
        "BackupMissed"
    );
    assert_eq!(
        assess(&report(Some(120)), now, since).health.reason,
        "BackupSucceeded"
    );
}

#[test]
fn an_unreadable_vendor_keeps_the_last_facts_and_says_unknown() {
    let report = BackupReport {
        facts: Facts::Unreadable("HTTP 503".into()),
        held: None,
        schedules: daily(None).into_iter().collect(),
    };
    let a = assess(
        &report,
        at("2026-12-07T00:00:00Z"),
        at("2026-12-01T00:00:00Z"),
    );
    assert_eq!(a.status, None);
    assert_eq!(a.health.reason, "VendorUnreadable");
}

#[test]
fn without_a_portable_schedule_no_run_is_expected() {
    let report = BackupReport {
        facts: Facts::Runs(vec![]),
        held: Some(0),
        schedules: Vec::new(),
    };
    let a = assess(
        &report,
        at("2026-12-07T00:00:00Z"),
        at("2026-01-01T00:00:00Z"),
    );
    assert_eq!(a.health.reason, "NoBackupsYet");
    assert_eq!(a.status.and_then(|s| s.next_expected_run), None);
}

/// A RuBackup strategy's weekly full (Sundays) and incremental (other days) backups: the run
/// due is the latest of either, and the next expected run the soonest.
#[test]
fn with_several_schedules_the_latest_run_due_of_any_counts() {
    let at_one = |dow: &str| Schedule {
        cron: format!("0 1 * * {dow}"),
        time_zone: Some("UTC".into()),
        grace_minutes: Some(60),
    };
    let report = |last_success: &str| BackupReport {
        facts: Facts::Runs(vec![run("b", last_success, RunResult::Succeeded)]),
        held: Some(1),
        schedules: vec![at_one("0"), at_one("1-6")],
    };
    // Tuesday 2026-12-08 12:00: the incremental of Tuesday 01:00 is due.
    let now = at("2026-12-08T12:00:00Z");
    let since = at("2026-11-01T00:00:00Z");
    let fresh = assess(&report("2026-12-08T01:05:00Z"), now, since);
    assert_eq!(fresh.health.reason, "BackupSucceeded");
    assert_eq!(
        fresh.status.unwrap().next_expected_run.as_deref(),
        Some("2026-12-09T01:00:00Z"),
        "the soonest next run of either schedule"
    );
    // Only Sunday's full backup: Monday's and Tuesday's incrementals were missed, although
    // the full schedule alone would expect nothing before next Sunday.
    let stale = assess(&report("2026-12-06T01:05:00Z"), now, since);
    assert_eq!(stale.health.reason, "BackupMissed");
}

#[test]
fn recent_backups_list_the_newest_successes_first_and_stop_at_the_bound() {
    let mut runs: Vec<BackupRun> = (0..15)
        .map(|d| {
            let when = format!("2026-03-{:02}T01:00:00Z", d + 1);
            run(&format!("bk-{d:02}"), &when, RunResult::Succeeded)
        })
        .collect();
    runs.push(run(
        "task-x",
        "2026-03-20T01:00:00Z",
        RunResult::Failed("no".into()),
    ));
    runs.push(run("task-y", "2026-03-21T01:00:00Z", RunResult::Running));
    let status = summarize(&runs, Some(15), None);
    let ids: Vec<&str> = status
        .recent_backups
        .iter()
        .map(|b| b.id.as_str())
        .collect();
    assert_eq!(ids.len(), crate::api::backup_status::RECENT_BACKUPS);
    assert_eq!(ids[0], "bk-14", "newest first");
    assert_eq!(ids[9], "bk-05");
    assert!(
        status
            .recent_backups
            .iter()
            .all(|b| b.result == "Succeeded")
    );
}
