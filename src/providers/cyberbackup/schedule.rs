//! The portable schedule (five-field cron in an IANA time zone) compiled into a Cyber Backup
//! backup set (`scheduling.backup_sets[].schedule`): `DAILY` on weekdays or `MONTHLY` on days
//! of months, each with a list of start times (`alarms.time.repeat_at`) on the agent's clock.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::api::vendors::cyberbackup::{
    CyberBackupScheduleType, CyberBackupSet, CyberBackupWeekday,
};

const CRON_FIELD: &str = "spec.schedule.cron";
const ZONE_FIELD: &str = "spec.schedule.timeZone";

/// GUESS: the document gives no limit on `repeat_at`; a plan starting more often than every
/// half hour is more likely a mistake than a backup schedule, and keeps plans small.
pub const MAX_STARTS_PER_DAY: usize = 48;

/// Why a schedule cannot be compiled, naming the spec field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleError {
    pub field: &'static str,
    pub message: String,
}

fn cron_error(message: impl Into<String>) -> ScheduleError {
    ScheduleError {
        field: CRON_FIELD,
        message: message.into(),
    }
}

fn zone_error(message: impl Into<String>) -> ScheduleError {
    ScheduleError {
        field: ZONE_FIELD,
        message: message.into(),
    }
}

/// A backup set's schedule in Cyber Backup terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompiledSchedule {
    pub kind: CyberBackupScheduleType,
    /// `DAILY`/`WEEKLY`: days of the week, Monday first.
    pub weekdays: Vec<CyberBackupWeekday>,
    /// `MONTHLY`: days of the month.
    pub monthdays: Vec<u8>,
    /// `MONTHLY`: months.
    pub months: Vec<u8>,
    /// Start times as minutes after midnight, ascending.
    pub starts: Vec<u16>,
}

impl CompiledSchedule {
    /// The `schedule` object of a backup set.
    pub fn to_json(&self) -> Value {
        let repeat_at: Vec<Value> = self
            .starts
            .iter()
            .map(|m| json!({"hour": m / 60, "minute": m % 60}))
            .collect();
        let kind = serde_json::to_value(self.kind).expect("enum serializes");
        let time = match self.kind {
            CyberBackupScheduleType::Monthly => {
                json!({"monthdays": self.monthdays, "months": self.months, "repeat_at": repeat_at})
            }
            _ => json!({"weekdays": self.weekdays, "repeat_at": repeat_at}),
        };
        json!({"type": kind, "alarms": {"time": time}})
    }

    /// A short human form for status, for example `DAILY MON,TUE 09:00`.
    pub fn summary(&self) -> String {
        let days = match self.kind {
            CyberBackupScheduleType::Monthly => format!(
                "days {} of months {}",
                join(self.monthdays.iter()),
                join(self.months.iter())
            ),
            _ => self
                .weekdays
                .iter()
                .map(|d| weekday_name(*d))
                .collect::<Vec<_>>()
                .join(","),
        };
        let times: Vec<String> = self
            .starts
            .iter()
            .map(|m| format!("{:02}:{:02}", m / 60, m % 60))
            .collect();
        format!(
            "{} {} {}",
            serde_json::to_value(self.kind)
                .unwrap()
                .as_str()
                .unwrap_or(""),
            days,
            times.join(",")
        )
    }
}

fn join<T: ToString>(it: impl Iterator<Item = T>) -> String {
    it.map(|v| v.to_string()).collect::<Vec<_>>().join(",")
}

const WEEK: [CyberBackupWeekday; 7] = [
    CyberBackupWeekday::Mon,
    CyberBackupWeekday::Tue,
    CyberBackupWeekday::Wed,
    CyberBackupWeekday::Thu,
    CyberBackupWeekday::Fri,
    CyberBackupWeekday::Sat,
    CyberBackupWeekday::Sun,
];

pub fn weekday_name(d: CyberBackupWeekday) -> &'static str {
    ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"][weekday_index(d)]
}

fn weekday_index(d: CyberBackupWeekday) -> usize {
    WEEK.iter()
        .position(|w| *w == d)
        .expect("every weekday is in WEEK")
}

/// Compile a cron expression (on the clock of the schedule's own time zone).
pub fn compile_cron(cron: &str) -> Result<CompiledSchedule, ScheduleError> {
    if cron.split_whitespace().any(|f| {
        f.contains(['#', '?'])
            || f.split(',').any(|p| {
                p == "L" || p.ends_with(['W', 'L']) && p.starts_with(|c: char| c.is_ascii_digit())
            })
    }) {
        return Err(cron_error(format!(
            "{cron:?} uses L, W, # or ?, which Cyber Backup schedules cannot express"
        )));
    }
    let parsed = crate::vendor::cron::parse(cron).map_err(|e| cron_error(e.to_string()))?;
    let minutes = parsed.minute;
    let hours = parsed.hour;
    let dom = parsed.day_of_month;
    let month = parsed.month;
    let dow = parsed.day_of_week;
    let starts: Vec<u16> = hours
        .values
        .iter()
        .flat_map(|h| {
            minutes
                .values
                .iter()
                .map(move |m| *h as u16 * 60 + *m as u16)
        })
        .collect();
    if starts.len() > MAX_STARTS_PER_DAY {
        return Err(cron_error(format!(
            "starts {} times a day; a Cyber Backup plan takes at most {MAX_STARTS_PER_DAY} start times",
            starts.len()
        )));
    }
    let dom_every = dom.values.len() == 31;
    let dow_every = dow.values.len() == 7;
    let month_every = month.values.len() == 12;
    // Both day fields restricted: cron's either-day rule, unless both allow every day.
    let either_day = !dom.star && !dow.star;
    if either_day && !(dom_every && dow_every) {
        return Err(cron_error(
            "cron runs when the day of month OR the day of week matches; Cyber Backup schedules take one or the other: restrict only one",
        ));
    }
    if dom_every && month_every {
        return Ok(CompiledSchedule {
            kind: CyberBackupScheduleType::Daily,
            // Cron counts Sunday as 0; Cyber Backup lists Monday first.
            weekdays: WEEK
                .iter()
                .copied()
                .filter(|d| dow.values.contains(&((weekday_index(*d) as u8 + 1) % 7)))
                .collect(),
            monthdays: Vec::new(),
            months: Vec::new(),
            starts,
        });
    }
    if dow_every {
        return Ok(CompiledSchedule {
            kind: CyberBackupScheduleType::Monthly,
            weekdays: Vec::new(),
            monthdays: dom.values.into_iter().collect(),
            months: month.values.into_iter().collect(),
            starts,
        });
    }
    Err(cron_error(if dom_every {
        "Cyber Backup daily/weekly schedules have no month filter: restrict the months only with days of the month"
    } else {
        "Cyber Backup schedules take days of the week or days of the month, not both"
    }))
}

/// The native form of one backup set, as the same compiled shape.
pub fn from_native(set: &CyberBackupSet) -> CompiledSchedule {
    let mut starts: Vec<u16> = set
        .repeat_at
        .iter()
        .map(|t| (t.hour.clamp(0, 23) * 60 + t.minute.clamp(0, 59)) as u16)
        .collect();
    starts.sort_unstable();
    starts.dedup();
    let mut weekdays: Vec<CyberBackupWeekday> = set.weekdays.clone().unwrap_or_default();
    weekdays.sort_by_key(|d| weekday_index(*d));
    weekdays.dedup();
    let sorted = |v: &Option<Vec<i32>>, all: std::ops::RangeInclusive<u8>| -> Vec<u8> {
        let set: BTreeSet<u8> = match v {
            Some(v) => v.iter().map(|n| (*n).clamp(0, 255) as u8).collect(),
            None => all.collect(),
        };
        set.into_iter().collect()
    };
    let monthly = set.schedule_type == CyberBackupScheduleType::Monthly;
    CompiledSchedule {
        kind: set.schedule_type,
        weekdays: if monthly { Vec::new() } else { weekdays },
        monthdays: if monthly {
            sorted(&set.monthdays, 1..=31)
        } else {
            Vec::new()
        },
        months: if monthly {
            sorted(&set.months, 1..=12)
        } else {
            Vec::new()
        },
        starts,
    }
}

/// Minutes to add to a wall-clock time in `from` to get the same instant in `to`, when that
/// difference is the same all year from `at` on (no daylight-saving change in one zone only).
pub fn fixed_shift_minutes(
    from: &str,
    to: &str,
    at: jiff::Timestamp,
) -> Result<i32, ScheduleError> {
    let zone = |name: &str| {
        jiff::tz::TimeZone::get(name).map_err(|_| zone_error(format!("unknown time zone {name:?}")))
    };
    let (from_tz, to_tz) = (zone(from)?, zone(to)?);
    // A year ahead, or to the end of time (a clock set far ahead must not panic).
    let end = at
        .checked_add(jiff::SignedDuration::from_hours(24 * 366))
        .unwrap_or(jiff::Timestamp::MAX);
    let mut instants = vec![at];
    for tz in [&from_tz, &to_tz] {
        instants.extend(
            tz.following(at)
                .map(|t| t.timestamp())
                .take_while(|t| *t < end),
        );
    }
    let diff = |t: jiff::Timestamp| to_tz.to_offset(t).seconds() - from_tz.to_offset(t).seconds();
    let first = diff(at);
    if instants.iter().any(|t| diff(*t) != first) {
        return Err(zone_error(format!(
            "{from} and the agents' zone {to} change their clocks on different dates, so no fixed start time in {to} matches; use a zone with the same daylight-saving rules as {to}"
        )));
    }
    Ok(first / 60)
}

/// Move a compiled schedule by `shift` minutes (into the agents' zone). Start times that cross
/// midnight move the days with them; a mix of crossing and non-crossing times, or a monthly
/// schedule crossing a month boundary, cannot be expressed.
pub fn shift(mut s: CompiledSchedule, shift: i32) -> Result<CompiledSchedule, ScheduleError> {
    if shift == 0 {
        return Ok(s);
    }
    let moved: Vec<(i32, u16)> = s
        .starts
        .iter()
        .map(|m| {
            let t = *m as i32 + shift;
            (t.div_euclid(1440), t.rem_euclid(1440) as u16)
        })
        .collect();
    let day = moved[0].0;
    if moved.iter().any(|(d, _)| *d != day) {
        return Err(zone_error(
            "in the agents' time zone some start times fall on the next or previous day and others do not; split the schedule or use the agents' zone",
        ));
    }
    s.starts = moved.into_iter().map(|(_, t)| t).collect();
    s.starts.sort_unstable();
    if day == 0 {
        return Ok(s);
    }
    match s.kind {
        CyberBackupScheduleType::Monthly => {
            let every_day = s.monthdays.len() == 31 && s.months.len() == 12;
            if !every_day {
                return Err(zone_error(
                    "in the agents' time zone the start times move to another day, which a monthly schedule cannot follow",
                ));
            }
        }
        _ => {
            let mut days: Vec<CyberBackupWeekday> = s
                .weekdays
                .iter()
                .map(|d| WEEK[(weekday_index(*d) as i32 + day).rem_euclid(7) as usize])
                .collect();
            days.sort_by_key(|d| weekday_index(*d));
            s.weekdays = days;
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests;
