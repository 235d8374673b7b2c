use std::time::Duration;

use jiff::Timestamp;

use super::*;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn run(id: &str, at: &str, result: RunResult) -> BackupRun {
    BackupRun {
        id: id.into(),
        at: ts(at),
        result,
    }
}

fn ok(id: &str, at: &str) -> BackupRun {
    run(id, at, RunResult::Succeeded)
}

fn failed(id: &str, at: &str, message: &str) -> BackupRun {
    run(id, at, RunResult::Failed(message.into()))
}

/// A daily schedule at 02:00 with a day of grace, set up on 1 December; `due` is the run
/// whose grace has passed.
fn daily(due: Option<&str>) -> Expected {
    Expected {
        due: due.map(ts),
        grace: Duration::from_secs(24 * 3600),
        since: ts("2026-12-01T00:00:00Z"),
    }
}

fn verdict(runs: Vec<BackupRun>, due: Option<&str>) -> (ConditionStatus, &'static str) {
    let h = judge(&Facts::Runs(runs), &daily(due));
    (h.status, h.reason)
}

#[test]
fn each_reason_comes_from_its_facts() {
    use ConditionStatus::*;
    let due = Some("2026-12-06T02:00:00Z");
    type Case = (
        &'static str,
        Vec<BackupRun>,
        Option<&'static str>,
        (ConditionStatus, &'static str),
    );
    let cases: Vec<Case> = vec![
        (
            "a success after the due run",
            vec![ok("b1", "2026-12-06T02:05:00Z")],
            due,
            (True, "BackupSucceeded"),
        ),
        (
            "the latest finished run failed, an older one succeeded",
            vec![
                ok("b1", "2026-12-06T02:05:00Z"),
                failed("b2", "2026-12-07T02:05:00Z", "disk full"),
            ],
            due,
            (False, "LastBackupFailed"),
        ),
        (
            "a failure followed by a success is healthy again",
            vec![
                failed("b1", "2026-12-06T02:05:00Z", "disk full"),
                ok("b2", "2026-12-07T02:05:00Z"),
            ],
            due,
            (True, "BackupSucceeded"),
        ),
        (
            "a run still going does not hide the failure before it",
            vec![
                failed("b1", "2026-12-06T02:05:00Z", "disk full"),
                run("b2", "2026-12-07T02:00:00Z", RunResult::Running),
            ],
            due,
            (False, "LastBackupFailed"),
        ),
        (
            "the last success predates the due run",
            vec![ok("b1", "2026-12-04T02:05:00Z")],
            due,
            (False, "BackupMissed"),
        ),
        (
            "nothing at all although a run was due",
            vec![],
            due,
            (False, "BackupMissed"),
        ),
        (
            "nothing, and nothing due yet",
            vec![],
            None,
            (False, "NoBackupsYet"),
        ),
        (
            "nothing, and the only due run came before the object",
            vec![],
            Some("2026-11-30T02:00:00Z"),
            (False, "NoBackupsYet"),
        ),
        (
            "a success and nothing due yet",
            vec![ok("b1", "2026-12-01T02:05:00Z")],
            None,
            (True, "BackupSucceeded"),
        ),
    ];
    for (what, runs, due, want) in cases {
        assert_eq!(verdict(runs, due), want, "{what}");
    }
}

#[test]
fn an_unreadable_vendor_is_unknown_with_the_reason() {
    let h = judge(
        &Facts::Unreadable("HTTP 503".into()),
        &daily(Some("2026-12-06T02:00:00Z")),
    );
    assert_eq!(h.status, ConditionStatus::Unknown);
    assert_eq!(h.reason, "VendorUnreadable");
    assert!(h.message.contains("HTTP 503"), "{}", h.message);
}

#[test]
fn a_failure_names_the_vendor_s_run_and_message() {
    let h = judge(
        &Facts::Runs(vec![failed("task-42", "2026-12-07T02:05:00Z", "disk full")]),
        &daily(None),
    );
    assert_eq!(h.failed_id.as_deref(), Some("task-42"));
    assert!(h.message.contains("disk full"), "{}", h.message);
    assert!(h.message.contains("2026-12-07T02:05:00Z"), "{}", h.message);
}

#[test]
fn a_miss_says_which_run_and_the_grace() {
    let h = judge(
        &Facts::Runs(vec![ok("b1", "2026-12-04T02:05:00Z")]),
        &daily(Some("2026-12-06T02:00:00Z")),
    );
    assert!(h.message.contains("2026-12-06T02:00:00Z"), "{}", h.message);
    assert!(h.message.contains("24h"), "{}", h.message);
    assert!(h.message.contains("2026-12-04T02:05:00Z"), "{}", h.message);
}
