use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::*;
use crate::vendor::cron::parse;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn runs(expr: &str, zone: &str, at: &str) -> (Option<String>, Option<String>) {
    let cron = parse(expr).unwrap();
    let tz = TimeZone::get(zone).unwrap();
    let at = ts(at);
    (
        previous_run(&cron, &tz, at).map(|t| t.to_string()),
        next_run(&cron, &tz, at).map(|t| t.to_string()),
    )
}

fn some(s: &str) -> Option<String> {
    Some(s.to_string())
}

#[test]
fn a_daily_schedule_runs_once_a_day_at_its_local_time() {
    assert_eq!(
        runs("30 2 * * *", "UTC", "2026-12-07T10:00:00Z"),
        (some("2026-12-07T02:30:00Z"), some("2026-12-08T02:30:00Z"))
    );
    // Moscow is UTC+3 all year.
    assert_eq!(
        runs("30 2 * * *", "Europe/Moscow", "2026-12-07T10:00:00Z"),
        (some("2026-12-06T23:30:00Z"), some("2026-12-07T23:30:00Z"))
    );
}

#[test]
fn a_run_at_the_very_moment_is_the_previous_run_not_the_next() {
    assert_eq!(
        runs("0 * * * *", "UTC", "2026-12-07T10:00:00Z"),
        (some("2026-12-07T10:00:00Z"), some("2026-12-07T11:00:00Z"))
    );
}

#[test]
fn steps_lists_and_weekdays_are_honoured() {
    // Every six hours on weekdays: Monday 2026-12-07 18:00 is followed by Tuesday 00:00.
    assert_eq!(
        runs("0 */6 * * 1-5", "UTC", "2026-12-07T20:00:00Z"),
        (some("2026-12-07T18:00:00Z"), some("2026-12-08T00:00:00Z"))
    );
    // On Sunday 2026-12-06 the last run was Friday's 18:00 and the next is Monday's 00:00.
    assert_eq!(
        runs("0 */6 * * 1-5", "UTC", "2026-12-06T12:00:00Z"),
        (some("2026-12-04T18:00:00Z"), some("2026-12-07T00:00:00Z"))
    );
}

#[test]
fn both_day_fields_restricted_run_on_either() {
    // The 1st of the month or any Friday (cron's rule when neither field starts with `*`).
    let (prev, next) = runs("0 3 1 * 5", "UTC", "2026-12-07T00:00:00Z");
    assert_eq!(prev, some("2026-12-04T03:00:00Z"), "Friday the 4th");
    assert_eq!(next, some("2026-12-11T03:00:00Z"), "Friday the 11th");
    let (prev, _) = runs("0 3 1 * 5", "UTC", "2026-12-02T00:00:00Z");
    assert_eq!(prev, some("2026-12-01T03:00:00Z"), "the 1st, a Tuesday");
}

#[test]
fn a_leap_day_schedule_looks_back_years() {
    assert_eq!(
        runs("0 0 29 2 *", "UTC", "2026-12-07T00:00:00Z"),
        (some("2024-02-29T00:00:00Z"), some("2028-02-29T00:00:00Z"))
    );
}

#[test]
fn a_skipped_local_time_is_no_run_and_a_repeated_one_runs_once() {
    // Berlin springs forward on 2026-03-29 at 02:00 (02:30 does not exist that day).
    let (prev, _) = runs("30 2 * * *", "Europe/Berlin", "2026-03-29T12:00:00Z");
    assert_eq!(
        prev,
        some("2026-03-28T01:30:00Z"),
        "the day before, at UTC+1"
    );
    // It falls back on 2026-10-25 at 03:00 (02:30 happens twice): the first, at UTC+2.
    let (prev, next) = runs("30 2 * * *", "Europe/Berlin", "2026-10-25T12:00:00Z");
    assert_eq!(prev, some("2026-10-25T00:30:00Z"));
    assert_eq!(next, some("2026-10-26T01:30:00Z"));
}

#[test]
fn a_schedule_that_never_runs_has_no_runs() {
    // 31 February never comes.
    assert_eq!(
        runs("0 0 31 2 *", "UTC", "2026-12-07T00:00:00Z"),
        (None, None)
    );
}

#[test]
fn the_due_run_is_the_latest_whose_grace_has_passed() {
    let cron = parse("0 * * * *").unwrap();
    let now = ts("2026-12-07T10:30:00Z");
    let hour = std::time::Duration::from_secs(3600);
    // 10:00 is still within its hour of grace; 09:00 is not.
    assert_eq!(
        due_run(&cron, &TimeZone::UTC, now, hour),
        Some(ts("2026-12-07T09:00:00Z"))
    );
    assert_eq!(
        due_run(&cron, &TimeZone::UTC, now, hour / 4),
        Some(ts("2026-12-07T10:00:00Z"))
    );
}

#[test]
fn the_default_grace_is_the_schedule_s_interval() {
    let at = ts("2026-12-07T20:00:00Z");
    let grace = |expr: &str| default_grace(&parse(expr).unwrap(), &TimeZone::UTC, at).as_secs();
    assert_eq!(grace("30 2 * * *"), 24 * 3600);
    assert_eq!(grace("0 */6 * * *"), 6 * 3600);
    // Weekdays at 01:00: from Friday's run the next is Monday's, three days on.
    let friday = ts("2026-12-05T12:00:00Z");
    let weekdays = parse("0 1 * * 1-5").unwrap();
    assert_eq!(
        default_grace(&weekdays, &TimeZone::UTC, friday).as_secs(),
        3 * 24 * 3600
    );
    assert_eq!(grace("0 0 31 2 *"), 24 * 3600, "a schedule that never runs");
}
