//! When a portable schedule (five-field cron in a time zone) runs: the latest run at or before
//! a moment and the first after it, so backup health can tell which run a backup should have
//! come from. Pure.
//!
//! Cron reads local wall-clock time, so daylight-saving changes need a rule: a local time the
//! clock skips (spring forward) is not a run, and a local time that happens twice (fall back)
//! runs once, at its first occurrence. (Vendors differ here and their documents do not say;
//! health only needs a consistent reading.)

use jiff::civil::{Date, DateTime};
use jiff::tz::{AmbiguousOffset, TimeZone};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp, ToSpan};

use crate::vendor::cron::Cron;

/// How far to look for a run. Eight years covers `0 0 29 2 *` (29 February) across a century
/// year without a leap day.
const HORIZON_DAYS: i64 = 8 * 366;

/// The latest run at or before `at`, if the schedule ran within the horizon.
pub fn previous_run(cron: &Cron, tz: &TimeZone, at: Timestamp) -> Option<Timestamp> {
    search(cron, tz, at, -1, |day| {
        day.iter().rev().copied().find(|t| *t <= at)
    })
}

/// The first run after `at`, if the schedule runs within the horizon.
pub fn next_run(cron: &Cron, tz: &TimeZone, at: Timestamp) -> Option<Timestamp> {
    search(cron, tz, at, 1, |day| day.iter().copied().find(|t| *t > at))
}

/// Walk the days from `at`'s local day (`step` -1 back, 1 ahead) and take the first run
/// `pick` chooses among a day's runs.
fn search(
    cron: &Cron,
    tz: &TimeZone,
    at: Timestamp,
    step: i64,
    pick: impl Fn(&[Timestamp]) -> Option<Timestamp>,
) -> Option<Timestamp> {
    let today = tz.to_datetime(at).date();
    (0..HORIZON_DAYS)
        .map_while(|n| today.checked_add((n * step).days()).ok())
        .filter(|day| runs_on(cron, *day))
        .find_map(|day| pick(&times_of(cron, tz, day)))
}

/// The latest run whose grace has passed by `now`: the run a successful backup should exist
/// for.
pub fn due_run(cron: &Cron, tz: &TimeZone, now: Timestamp, grace: Duration) -> Option<Timestamp> {
    let grace = SignedDuration::try_from(grace).ok()?;
    previous_run(cron, tz, now.checked_sub(grace).ok()?)
}

/// The grace a run has when the user sets none: the schedule's interval at `now` (from its
/// latest run to the next), so a run counts as missed once the following one is due; a day
/// when the schedule has no run around `now`. (Issue 17 suggests the interval; a shorter
/// default would flag slow backups as missed.)
pub fn default_grace(cron: &Cron, tz: &TimeZone, now: Timestamp) -> Duration {
    let day = Duration::from_secs(24 * 3600);
    let Some(previous) = previous_run(cron, tz, now) else {
        return day;
    };
    next_run(cron, tz, previous)
        .and_then(|next| Duration::try_from(next.duration_since(previous)).ok())
        .unwrap_or(day)
}

/// Whether cron's day rule allows `day`: the month must match, and then both day fields when
/// either starts with `*`, or either of them when neither does.
fn runs_on(cron: &Cron, day: Date) -> bool {
    let month = u8::try_from(day.month()).unwrap_or(0);
    if !cron.month.values.contains(&month) {
        return false;
    }
    let dom = u8::try_from(day.day()).unwrap_or(0);
    let dow = u8::try_from(day.weekday().to_sunday_zero_offset()).unwrap_or(0);
    let by_dom = cron.day_of_month.values.contains(&dom);
    let by_dow = cron.day_of_week.values.contains(&dow);
    if cron.either_day_field() {
        by_dom || by_dow
    } else {
        by_dom && by_dow
    }
}

/// The runs on `day`, earliest first, as instants (skipped local times left out).
fn times_of(cron: &Cron, tz: &TimeZone, day: Date) -> Vec<Timestamp> {
    cron.hour
        .values
        .iter()
        .flat_map(|h| cron.minute.values.iter().map(move |m| (*h, *m)))
        .filter_map(|(h, m)| instant(tz, day.at(h as i8, m as i8, 0, 0)))
        .collect()
}

fn instant(tz: &TimeZone, local: DateTime) -> Option<Timestamp> {
    let ambiguous = tz.to_ambiguous_timestamp(local);
    match ambiguous.offset() {
        AmbiguousOffset::Unambiguous { offset } | AmbiguousOffset::Fold { before: offset, .. } => {
            offset.to_timestamp(local).ok()
        }
        AmbiguousOffset::Gap { .. } => None,
    }
}

#[cfg(test)]
#[path = "runs_tests.rs"]
mod tests;
