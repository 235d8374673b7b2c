//! Trigger patterns: the RRULE subset the document allows (`FREQ=WEEKLY|DAILY`, `BYDAY`,
//! `BYHOUR`, `BYMINUTE`, `INTERVAL`; at most 24 rules; never more often than hourly).

use std::collections::BTreeSet;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use super::error::{SimError, SimResult};
use super::validate::{Obj, array, object};

/// `trigger.properties.pattern`: 1–24 rules of the allowed RRULE subset, no two runs of a day
/// less than an hour apart.
pub fn trigger(o: &Obj) -> SimResult<Vec<String>> {
    let props = object(o, "properties")?
        .ok_or_else(|| SimError::invalid("trigger.properties is required"))?;
    let list = array(props, "pattern", 1, 24)?
        .ok_or_else(|| SimError::invalid("trigger.properties.pattern is required"))?;
    let patterns: Vec<String> = list
        .iter()
        .map(|p| {
            p.as_str()
                .map(str::to_string)
                .ok_or_else(|| SimError::invalid("pattern entries must be strings"))
        })
        .collect::<SimResult<_>>()?;
    let mut minutes_by_day: [BTreeSet<u32>; 7] = Default::default();
    for p in &patterns {
        let rule =
            parse_rule(p).map_err(|why| SimError::invalid(format!("pattern {p:?}: {why}")))?;
        for day in rule.days {
            minutes_by_day[day].insert(rule.hour * 60 + rule.minute);
        }
    }
    for minutes in &minutes_by_day {
        if minutes.len() > 24 {
            return Err(SimError::invalid("at most 24 time points a day"));
        }
        let list: Vec<u32> = minutes.iter().copied().collect();
        let wraps = list.len() > 1 && list[0] + 24 * 60 - list[list.len() - 1] < 60;
        if list.windows(2).any(|w| w[1] - w[0] < 60) || wraps {
            return Err(SimError::invalid(
                "the scheduling interval cannot be less than 1 hour",
            ));
        }
    }
    Ok(patterns)
}

struct Rule {
    days: Vec<usize>,
    hour: u32,
    minute: u32,
    weekly: bool,
    interval: i64,
}

const DAYS: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

/// One rule: `FREQ=WEEKLY|DAILY` with `BYDAY`, `BYHOUR`, `BYMINUTE`, `INTERVAL` only.
// GUESS (L3728): BYHOUR and BYMINUTE are required and single-valued (every example has exactly one
// of each), BYDAY is required for WEEKLY, and parts may come in any order.
fn parse_rule(rule: &str) -> Result<Rule, String> {
    let (mut freq, mut days, mut hour, mut minute) = (None, None, None, None);
    let mut interval = 1;
    for part in rule.split(';') {
        let (k, v) = part.split_once('=').ok_or("parts are KEY=VALUE")?;
        match k {
            "FREQ" if v == "WEEKLY" || v == "DAILY" => freq = Some(v),
            "FREQ" => return Err("FREQ must be WEEKLY or DAILY".into()),
            "BYDAY" => {
                let list = v.split(',').map(|d| {
                    DAYS.iter()
                        .position(|x| *x == d)
                        .ok_or(format!("bad day {d}"))
                });
                days = Some(list.collect::<Result<Vec<_>, _>>()?);
            }
            "BYHOUR" => {
                hour = Some(
                    v.parse::<u32>()
                        .ok()
                        .filter(|h| *h <= 23)
                        .ok_or("BYHOUR is 0-23")?,
                )
            }
            "BYMINUTE" => {
                minute = Some(
                    v.parse::<u32>()
                        .ok()
                        .filter(|m| *m <= 59)
                        .ok_or("BYMINUTE is 0-59")?,
                )
            }
            "INTERVAL" => {
                interval = v
                    .parse::<u32>()
                    .ok()
                    .filter(|i| *i >= 1)
                    .ok_or("INTERVAL is a positive integer")?
                    .into();
            }
            other => return Err(format!("{other} is not supported")),
        }
    }
    let freq = freq.ok_or("FREQ is required")?;
    let days = match (freq, days) {
        ("WEEKLY", None) => return Err("BYDAY is required with FREQ=WEEKLY".into()),
        (_, Some(d)) => d,
        (_, None) => (0..7).collect(),
    };
    Ok(Rule {
        days,
        hour: hour.ok_or("BYHOUR is required")?,
        minute: minute.ok_or("BYMINUTE is required")?,
        weekly: freq == "WEEKLY",
        interval,
    })
}

/// Days scanned back from `until` at most, whatever the jump of the clock.
const SCAN_DAYS: i64 = 3700;

/// The run times of `patterns` (stored, hence valid) in `(after, until]` and after the trigger's
/// `anchor` (its `start_time`), oldest first: at most the newest `cap`. Patterns are UTC (L3728:
/// "14:00 (UTC +8) ... BYHOUR=6").
// GUESS (L3728): INTERVAL counts days (DAILY) or Monday-based weeks (WEEKLY) from the day of the
// trigger's start_time, as RFC 2445 counts from DTSTART; the document does not say.
// GUESS: a clock jump is caught up with at most `cap` runs (the newest) within the last
// SCAN_DAYS days; older occurrences are skipped, as if the service had been down.
pub fn occurrences(
    patterns: &[String],
    anchor: Timestamp,
    after: Timestamp,
    until: Timestamp,
    cap: usize,
) -> Vec<Timestamp> {
    let rules: Vec<Rule> = patterns.iter().filter_map(|p| parse_rule(p).ok()).collect();
    let floor = after.max(anchor);
    let anchor_day = day_number(anchor.to_zoned(TimeZone::UTC).date());
    let mut day = until.to_zoned(TimeZone::UTC).date();
    let mut found: Vec<Timestamp> = Vec::new();
    for _ in 0..SCAN_DAYS {
        let n = day_number(day);
        let weekday = day.weekday().to_monday_zero_offset() as usize;
        let mut today: Vec<Timestamp> = rules
            .iter()
            .filter(|r| r.days.contains(&weekday))
            .filter(|r| {
                let step = if r.weekly {
                    (n + 3).div_euclid(7) - (anchor_day + 3).div_euclid(7)
                } else {
                    n - anchor_day
                };
                step.rem_euclid(r.interval) == 0
            })
            .filter_map(|r| {
                day.at(r.hour as i8, r.minute as i8, 0, 0)
                    .to_zoned(TimeZone::UTC)
                    .ok()
            })
            .map(|z| z.timestamp())
            .filter(|t| *t > floor && *t <= until)
            .collect();
        today.sort_unstable_by(|a, b| b.cmp(a));
        today.dedup();
        found.extend(today);
        if found.len() >= cap || day_number(day) <= day_number(floor.to_zoned(TimeZone::UTC).date())
        {
            break;
        }
        match day.yesterday() {
            Ok(d) => day = d,
            Err(_) => break,
        }
    }
    found.truncate(cap);
    found.reverse();
    found
}

/// Days since 1970-01-01 (a Thursday).
fn day_number(d: Date) -> i64 {
    d.to_zoned(TimeZone::UTC)
        .map(|z| z.timestamp().as_second().div_euclid(86_400))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn obj(v: Value) -> Obj {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn document_patterns_are_accepted() {
        for p in [
            "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR=14;BYMINUTE=00",
            "FREQ=DAILY;INTERVAL=1;BYHOUR=6;BYMINUTE=00",
            "FREQ=WEEKLY;BYDAY=SU,MO,TU,WE,TH,FR,SA;BYHOUR=23;BYMINUTE=00",
        ] {
            assert!(
                trigger(&obj(json!({"properties": {"pattern": [p]}}))).is_ok(),
                "{p}"
            );
        }
    }

    #[test]
    fn bad_patterns_are_refused() {
        for patterns in [
            json!([]),
            json!(["FREQ=HOURLY;BYHOUR=1;BYMINUTE=0"]),
            json!(["FREQ=DAILY;BYHOUR=24;BYMINUTE=0"]),
            json!(["FREQ=DAILY;BYHOUR=1;BYMINUTE=60"]),
            json!(["FREQ=WEEKLY;BYHOUR=1;BYMINUTE=0"]),
            json!(["FREQ=DAILY;BYHOUR=1;BYMINUTE=0;BYSECOND=0"]),
            json!(["FREQ=WEEKLY;BYDAY=XX;BYHOUR=1;BYMINUTE=0"]),
            json!([
                "FREQ=DAILY;BYHOUR=1;BYMINUTE=0",
                "FREQ=DAILY;BYHOUR=1;BYMINUTE=30"
            ]),
            json!([
                "FREQ=DAILY;BYHOUR=0;BYMINUTE=10",
                "FREQ=DAILY;BYHOUR=23;BYMINUTE=50"
            ]),
        ] {
            let e = trigger(&obj(json!({"properties": {"pattern": patterns}}))).unwrap_err();
            assert_eq!(e.code, "BackupService.9900", "{patterns}");
        }
        let many: Vec<String> = (0..25)
            .map(|h| format!("FREQ=DAILY;BYHOUR={};BYMINUTE=0", h % 24))
            .collect();
        assert!(trigger(&obj(json!({"properties": {"pattern": many}}))).is_err());
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn occurrences_follow_days_hours_and_intervals() {
        let p = |s: &str| vec![s.to_string()];
        // 2026-12-07 is a Monday.
        let anchor = at("2026-12-07T10:00:00Z");
        let daily = occurrences(
            &p("FREQ=DAILY;INTERVAL=2;BYHOUR=6;BYMINUTE=30"),
            anchor,
            anchor,
            at("2026-12-14T06:30:00Z"),
            100,
        );
        let want: Vec<Timestamp> = ["2026-12-09", "2026-12-11", "2026-12-13"]
            .iter()
            .map(|d| at(&format!("{d}T06:30:00Z")))
            .collect();
        assert_eq!(
            daily, want,
            "every other day from the start's day, not at the start's day's 06:30 (before the start)"
        );
        let weekly = occurrences(
            &p("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR;BYHOUR=23;BYMINUTE=0"),
            anchor,
            anchor,
            at("2026-12-31T00:00:00Z"),
            100,
        );
        let want: Vec<Timestamp> = ["2026-12-07", "2026-12-11", "2026-12-21", "2026-12-25"]
            .iter()
            .map(|d| at(&format!("{d}T23:00:00Z")))
            .collect();
        assert_eq!(weekly, want);
        let capped = occurrences(
            &p("FREQ=DAILY;BYHOUR=0;BYMINUTE=0"),
            anchor,
            anchor,
            at("2036-12-07T12:00:00Z"),
            3,
        );
        assert_eq!(
            capped,
            ["2036-12-05", "2036-12-06", "2036-12-07"].map(|d| at(&format!("{d}T00:00:00Z")))
        );
        let twice = vec![
            "FREQ=DAILY;BYHOUR=0;BYMINUTE=0".to_string(),
            "FREQ=DAILY;BYHOUR=12;BYMINUTE=0".to_string(),
        ];
        let capped = occurrences(&twice, anchor, anchor, at("2036-12-07T13:00:00Z"), 3);
        let want = ["2036-12-06T12", "2036-12-07T00", "2036-12-07T12"];
        assert_eq!(capped, want.map(|t| at(&format!("{t}:00:00Z"))));
        // The bound `after` is exclusive, `until` inclusive.
        let edge = occurrences(
            &p("FREQ=DAILY;BYHOUR=0;BYMINUTE=0"),
            anchor,
            at("2026-12-08T00:00:00Z"),
            at("2026-12-09T00:00:00Z"),
            10,
        );
        assert_eq!(edge, [at("2026-12-09T00:00:00Z")]);
    }
}
