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
        schedule: daily(None),
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
        schedule: daily(grace),
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
        schedule: daily(None),
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
        schedule: None,
    };
    let a = assess(
        &report,
        at("2026-12-07T00:00:00Z"),
        at("2026-01-01T00:00:00Z"),
    );
    assert_eq!(a.health.reason, "NoBackupsYet");
    assert_eq!(a.status.and_then(|s| s.next_expected_run), None);
}
