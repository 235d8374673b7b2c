//! Backup health end to end: a real kube-apiserver on loopback, the vendor simulators, and an
//! operator of its own that judges backup health ten days ahead of the wall clock (the hidden
//! `--health-clock-offset-seconds`), so that a nightly run comes due after the objects were
//! made without waiting a day. A binary apart from `e2e`: that clock would have every other
//! end-to-end test's objects miss their backups (Warning Events, status writes).

#[path = "../e2e/cbr_world.rs"]
mod cbr_world;
#[path = "../e2e/cyber_world.rs"]
mod cyber_world;
mod health;
#[path = "../e2e/rubackup_world.rs"]
mod rubackup_world;
#[path = "../e2e/support.rs"]
mod support;

use std::time::Duration;

/// How far ahead of the wall clock the operator judges backup health.
pub const HEALTH_CLOCK_AHEAD: Duration = Duration::from_secs(10 * 24 * 3600);

/// The operator's extra arguments: [`HEALTH_CLOCK_AHEAD`] in seconds.
pub const OPERATOR_ARGS: &[&str] = &["--health-clock-offset-seconds", "864000"];

#[test]
fn the_operator_is_told_the_clock_offset_the_tests_assume() {
    assert_eq!(
        OPERATOR_ARGS[1].parse::<u64>().unwrap(),
        HEALTH_CLOCK_AHEAD.as_secs()
    );
}
