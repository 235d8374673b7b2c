//! The portable schedule and retention compiled into CBR's dialect, and the normaliser that
//! makes CBR's echoed patterns comparable with ours.
//!
//! CBR runs policies on RRULE patterns in UTC ("14:00 (UTC+8) every day" is `BYHOUR=6`), with
//! only `FREQ=WEEKLY|DAILY`, `BYDAY`, `BYHOUR`, `BYMINUTE` and `INTERVAL`, at most 24 patterns,
//! never more often than hourly. A cron expression in a time zone becomes one pattern per UTC
//! time of day, listing the UTC weekdays it runs on (`FREQ=DAILY;INTERVAL=1` when all seven).
//! The zone's offset is taken at one instant (`now`): CBR has no time zones, so a zone with
//! daylight saving time shifts by an hour twice a year until the policy is translated again.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::models::OperationDefinition;
use crate::api::schedule::{Retention, Schedule};
use crate::vendor::cron::{self, Cron, Field};

/// Why a schedule or retention cannot be expressed for CBR. `field` names the cron field
/// (`minute`, `hour`, `day of month`, `month`, `day of week`), `cron` for the whole
/// expression, or `timeZone`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ScheduleError {
    pub field: &'static str,
    pub message: String,
}

impl ScheduleError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        ScheduleError {
            field,
            message: message.into(),
        }
    }

    /// The portable spec field at fault: `cron` or `timeZone`.
    pub fn spec_field(&self) -> &'static str {
        if self.field == "timeZone" {
            "timeZone"
        } else {
            "cron"
        }
    }
}

const MINUTES_PER_DAY: i64 = 24 * 60;
const MINUTES_PER_WEEK: i64 = 7 * MINUTES_PER_DAY;
/// "BYDAY" values, Monday first.
const DAYS: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];
const MAX_PATTERNS: usize = 24;

/// The offset of `time_zone` (IANA name, default UTC) at `now`, in seconds east of UTC.
pub fn utc_offset_seconds(time_zone: Option<&str>, now: Timestamp) -> Result<i32, ScheduleError> {
    let name = time_zone.unwrap_or("UTC");
    let tz = TimeZone::get(name)
        .map_err(|_| ScheduleError::new("timeZone", format!("unknown time zone '{name}'")))?;
    Ok(tz.to_offset(now).seconds())
}

/// `UTC+03:00` form of an offset (CBR's `timezone`).
pub fn offset_label(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.unsigned_abs() / 60;
    format!("UTC{sign}{:02}:{:02}", minutes / 60, minutes % 60)
}

/// Compile a portable schedule into CBR trigger patterns (UTC), at the zone offset of `now`.
pub fn schedule_to_patterns(
    schedule: &Schedule,
    now: Timestamp,
) -> Result<Vec<String>, ScheduleError> {
    let cron = cron::parse(&schedule.cron).map_err(|e| ScheduleError::new(e.label(), e.message))?;
    if !cron.day_of_month.is_every(Field::DayOfMonth) {
        return Err(ScheduleError::new(
            "day of month",
            "CBR policies run on days of the week only; use '*'",
        ));
    }
    if cron.either_day_field() && !cron.day_of_week.is_every(Field::DayOfWeek) {
        // `1-31` with `MON` runs every day in cron (either field matches), which is rarely
        // what was meant: say so rather than pick a reading.
        return Err(ScheduleError::new(
            "day of month",
            "with a day of week set, cron runs on the days either field allows, here every day; use '*' for day of month",
        ));
    }
    if !cron.month.is_every(Field::Month) {
        return Err(ScheduleError::new(
            "month",
            "CBR policies run in every month; use '*'",
        ));
    }
    let times: Vec<i64> = cron
        .hour
        .values
        .iter()
        .flat_map(|h| {
            cron.minute
                .values
                .iter()
                .map(move |m| i64::from(*h) * 60 + i64::from(*m))
        })
        .collect();
    if times.len() > MAX_PATTERNS {
        let message = format!("{} runs a day; CBR allows at most 24", times.len());
        return Err(too_often(&cron, message));
    }
    // CBR's week starts on Monday; cron counts from Sunday.
    let local: BTreeSet<i64> = cron
        .day_of_week
        .values
        .iter()
        .map(|d| i64::from((d + 6) % 7))
        .flat_map(|d| times.iter().map(move |t| d * MINUTES_PER_DAY + t))
        .collect();
    if let Some(gap) = smallest_gap(&local).filter(|g| *g < 60) {
        let message = format!("runs {gap} minutes apart; CBR schedules at most hourly");
        return Err(too_often(&cron, message));
    }
    let offset_minutes = i64::from(utc_offset_seconds(schedule.time_zone.as_deref(), now)?) / 60;
    let utc = local
        .iter()
        .map(|t| (t - offset_minutes).rem_euclid(MINUTES_PER_WEEK))
        .collect();
    Ok(emit(&utc))
}

/// A schedule that runs too often: the minute field is at fault when it lists several minutes.
fn too_often(cron: &Cron, message: String) -> ScheduleError {
    let field = if cron.minute.values.len() > 1 {
        "minute"
    } else {
        "hour"
    };
    ScheduleError::new(field, message)
}

/// The smallest distance between two runs of a weekly cycle, wrapping around the week.
fn smallest_gap(points: &BTreeSet<i64>) -> Option<i64> {
    let v: Vec<i64> = points.iter().copied().collect();
    if v.len() < 2 {
        return None;
    }
    let inner = v.windows(2).map(|w| w[1] - w[0]);
    let wrap = v[0] + MINUTES_PER_WEEK - v[v.len() - 1];
    inner.chain(std::iter::once(wrap)).min()
}

/// Patterns for a set of weekly minutes (0 = Monday 00:00 UTC): one per time of day, ordered
/// by time, listing its days.
fn emit(week_minutes: &BTreeSet<i64>) -> Vec<String> {
    let mut days_by_time: BTreeMap<i64, BTreeSet<usize>> = BTreeMap::new();
    for t in week_minutes {
        days_by_time
            .entry(t % MINUTES_PER_DAY)
            .or_default()
            .insert((t / MINUTES_PER_DAY) as usize);
    }
    days_by_time
        .into_iter()
        .map(|(time, days)| pattern(&days, time / 60, time % 60))
        .collect()
}

fn pattern(days: &BTreeSet<usize>, hour: i64, minute: i64) -> String {
    if days.len() == 7 {
        format!("FREQ=DAILY;INTERVAL=1;BYHOUR={hour};BYMINUTE={minute:02}")
    } else {
        let list: Vec<&str> = days.iter().map(|d| DAYS[*d]).collect();
        format!(
            "FREQ=WEEKLY;BYDAY={};BYHOUR={hour};BYMINUTE={minute:02}",
            list.join(",")
        )
    }
}

/// Patterns as CBR may echo them, in the form [`schedule_to_patterns`] emits, so that two lists
/// meaning the same runs compare equal: weekly runs are regrouped by time of day, weekdays and
/// numbers are written canonically, and a pattern outside the weekly subset (a `DAILY` rule with
/// `INTERVAL` above 1, or anything unreadable) is kept with its parts in canonical order.
pub fn normalize_patterns(patterns: &[String]) -> Vec<String> {
    let mut weekly = BTreeSet::new();
    let mut other = BTreeSet::new();
    for p in patterns {
        match read_rule(p) {
            Some(Rule {
                days,
                hour,
                minute,
                interval: 1,
            }) => {
                weekly.extend(
                    days.iter()
                        .map(|d| *d as i64 * MINUTES_PER_DAY + hour * 60 + minute),
                );
            }
            Some(rule) => {
                other.insert(format!(
                    "FREQ=DAILY;INTERVAL={};BYHOUR={};BYMINUTE={:02}",
                    rule.interval, rule.hour, rule.minute
                ));
            }
            None => {
                // Sorted but not deduplicated: a repeated part is what makes some rules
                // unreadable, and must stay so on the next pass. `FREQ` stays first, where
                // the grammar (and the CRD's pattern) has it: this form is also what is sent.
                let mut parts: Vec<&str> = p.split(';').map(str::trim).collect();
                parts.sort_unstable_by_key(|part| {
                    (!part.to_ascii_uppercase().starts_with("FREQ="), *part)
                });
                other.insert(parts.join(";"));
            }
        }
    }
    let mut out = emit(&weekly);
    out.extend(other);
    out
}

struct Rule {
    days: BTreeSet<usize>,
    hour: i64,
    minute: i64,
    interval: i64,
}

/// One pattern of the documented subset; `None` for anything else, including a part given
/// twice (which one wins would depend on the order, and the normaliser reorders parts).
fn read_rule(p: &str) -> Option<Rule> {
    let (mut freq, mut days, mut hour, mut minute, mut interval) = (None, None, None, None, 1);
    let mut seen = BTreeSet::new();
    for part in p.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let (k, v) = part.split_once('=')?;
        let key = k.trim().to_ascii_uppercase();
        if !seen.insert(key.clone()) {
            return None;
        }
        match key.as_str() {
            "FREQ" => freq = Some(v.trim().to_ascii_uppercase()),
            "BYDAY" => {
                days = Some(
                    v.split(',')
                        .map(|d| DAYS.iter().position(|x| x.eq_ignore_ascii_case(d.trim())))
                        .collect::<Option<BTreeSet<_>>>()?,
                )
            }
            "BYHOUR" => {
                hour = Some(
                    v.trim()
                        .parse::<i64>()
                        .ok()
                        .filter(|h| (0..24).contains(h))?,
                )
            }
            "BYMINUTE" => {
                minute = Some(
                    v.trim()
                        .parse::<i64>()
                        .ok()
                        .filter(|m| (0..60).contains(m))?,
                )
            }
            "INTERVAL" => interval = v.trim().parse::<i64>().ok().filter(|i| *i >= 1)?,
            _ => return None,
        }
    }
    let days = match freq?.as_str() {
        "WEEKLY" if interval == 1 => days?,
        "DAILY" if days.is_none() => (0..7).collect(),
        _ => return None,
    };
    Some(Rule {
        days,
        hour: hour?,
        minute: minute?,
        interval,
    })
}

/// Compile a portable retention into CBR's `operation_definition`. `timezone` (the offset of
/// the schedule's zone at `now`) is set only with the long-term counts, which require it.
pub fn retention_to_definition(
    retention: &Retention,
    time_zone: Option<&str>,
    now: Timestamp,
) -> Result<OperationDefinition, ScheduleError> {
    let long = |n: Option<i32>| n.map(i64::from);
    let long_term = [
        retention.daily,
        retention.weekly,
        retention.monthly,
        retention.yearly,
    ]
    .iter()
    .any(Option::is_some);
    let timezone = if long_term {
        Some(offset_label(utc_offset_seconds(time_zone, now)?))
    } else {
        None
    };
    Ok(OperationDefinition {
        max_backups: long(retention.keep_last),
        retention_duration_days: long(retention.keep_days),
        day_backups: long(retention.daily),
        week_backups: long(retention.weekly),
        month_backups: long(retention.monthly),
        year_backups: long(retention.yearly),
        timezone,
        full_backup_interval: None,
    })
}

#[cfg(test)]
#[path = "schedule_tests.rs"]
mod tests;
