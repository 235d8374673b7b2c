//! When a global schedule rule runs: the simulator's own reading of the rule's five schedule
//! fields (`min hour dom mon dow`, L4320-4324) and `periodic_launch` (L4319), bounded by the
//! rule's validity period (`validity_start_period`, `validity_end_period`, L4317-4318).
//!
//! GUESS (L4319-4324): the document gives a rule both the five fields and `periodic_launch` and
//! never says how they combine. The simulator plays either server (`SimConfig::launch`):
//! - `Launch::Cron` (the default): the rule runs at every minute its fields match, read as
//!   crontab (Vixie cron: when both day fields are restricted, either may match; a field
//!   starting with `*` is unrestricted; day of week 7 is Sunday), in the server's time zone
//!   (`SimConfig::time_zone`, GUESS: UTC). `periodic_launch` is kept and not acted on.
//! - `Launch::Periodic`: the rule runs every `periodic_launch` from the moment it was created,
//!   and the five fields are kept and not acted on. GUESS: months count as 30 days, as
//!   PostgreSQL's `interval` to seconds does.
//!
//! GUESS (L4317-4318): a rule runs only inside its validity period, read in the server's zone.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use serde_json::Value;

use super::interval::PgInterval;
use super::store::Item;

/// Which field of a rule says when it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Launch {
    #[default]
    Cron,
    Periodic,
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.trim().to_string(),
        other => other.to_string(),
    }
}

/// The values one crontab field allows, as a bit set (`cron::read` has checked the text).
fn field_set(text: &str, lo: u32, hi: u32) -> Option<u64> {
    let mut set = 0u64;
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, s.parse::<u32>().ok().filter(|s| *s > 0)?),
            None => (part, 1),
        };
        let (a, b) = match range.split_once('-') {
            _ if range == "*" => (lo, hi),
            Some((a, b)) => (a.parse().ok()?, b.parse().ok()?),
            // `5/15` is `5-hi/15`.
            None if part.contains('/') => (range.parse().ok()?, hi),
            None => {
                let n = range.parse().ok()?;
                (n, n)
            }
        };
        if a < lo || b > hi || a > b {
            return None;
        }
        let mut n = a;
        while n <= b {
            set |= 1 << n;
            n += step;
        }
    }
    Some(set)
}

/// A rule's five fields, read.
struct Crontab {
    min: u64,
    hour: u64,
    dom: u64,
    mon: u64,
    dow: u64,
    either_day: bool,
}

impl Crontab {
    fn of(rule: &Item) -> Option<Crontab> {
        let field = |k: &str, lo, hi| {
            let t = text(rule.get(k)?);
            Some((field_set(&t, lo, hi)?, t.starts_with('*')))
        };
        let (min, _) = field("min", 0, 59)?;
        let (hour, _) = field("hour", 0, 23)?;
        let (dom, dom_any) = field("dom", 1, 31)?;
        let (mon, _) = field("mon", 1, 12)?;
        let (mut dow, dow_any) = field("dow", 0, 7)?;
        if dow & (1 << 7) != 0 {
            dow |= 1;
        }
        Some(Crontab {
            min,
            hour,
            dom,
            mon,
            dow,
            either_day: !dom_any && !dow_any,
        })
    }

    fn day(&self, d: Date) -> bool {
        let bit = |set: u64, n: i8| set & (1 << n) != 0;
        let dom = bit(self.dom, d.day());
        let dow = bit(self.dow, d.weekday().to_sunday_zero_offset());
        bit(self.mon, d.month())
            && if self.either_day {
                dom || dow
            } else {
                dom && dow
            }
    }

    /// The last `limit` run times in `(after, until]`, in order.
    fn times(&self, tz: &TimeZone, after: i64, until: i64, limit: usize) -> Vec<i64> {
        let date = |s: i64| {
            Timestamp::from_second(s)
                .map(|t| t.to_zoned(tz.clone()).date())
                .ok()
        };
        let (Some(first), Some(mut day)) = (date(after), date(until)) else {
            return Vec::new();
        };
        // Newest first, so that a long window stops at `limit` runs and a short one at `after`.
        // Minutes of the last day past `until` are skipped without reading them in the zone,
        // with an hour's margin where the zone's offset changes.
        let last = day;
        let margin = if tz.to_fixed_offset().is_ok() { 0 } else { 60 };
        let last_minute = Timestamp::from_second(until).map_or(24 * 60, |t| {
            let z = t.to_zoned(tz.clone());
            i32::from(z.hour()) * 60 + i32::from(z.minute()) + margin
        });
        let mut out = Vec::new();
        'days: while day >= first {
            if self.day(day) {
                for h in (0..24).rev().filter(|h| self.hour & (1 << h) != 0) {
                    let minutes = (0..60).rev().filter(|m| self.min & (1 << m) != 0);
                    let past =
                        |m: &i8| day == last && i32::from(h) * 60 + i32::from(*m) > last_minute;
                    for m in minutes.filter(|m| !past(m)) {
                        let Ok(z) = day.at(h, m, 0, 0).to_zoned(tz.clone()) else {
                            continue;
                        };
                        let t = z.timestamp().as_second();
                        if t > until {
                            continue;
                        }
                        if t <= after || out.len() >= limit {
                            break 'days;
                        }
                        out.push(t);
                    }
                }
            }
            let Ok(prev) = day.yesterday() else { break };
            day = prev;
        }
        out.reverse();
        out
    }
}

/// A rule's `periodic_launch` in seconds, if it is positive.
fn period(rule: &Item) -> Option<i64> {
    let iv = PgInterval::parse(rule.get("periodic_launch")?.as_str()?).ok()?;
    let secs = (iv.months as i64 * 30 + iv.days as i64) * 86_400 + iv.micros.div_euclid(1_000_000);
    (secs > 0).then_some(secs)
}

/// A date-time field of the rule (no zone) as Unix seconds in `tz`.
pub fn instant(text: &str, tz: &TimeZone) -> Option<i64> {
    let dt: DateTime = text.parse().ok()?;
    Some(dt.to_zoned(tz.clone()).ok()?.timestamp().as_second())
}

/// Unix seconds as the server lists date-times (`2024-08-13T14:33:31`, no zone).
pub fn listed(secs: i64, tz: &TimeZone) -> String {
    Timestamp::from_second(secs)
        .map(|t| {
            t.to_zoned(tz.clone())
                .datetime()
                .strftime("%Y-%m-%dT%H:%M:%S")
                .to_string()
        })
        .unwrap_or_default()
}

/// The last `limit` times in `(after, until]` at which `rule`, created at `born`, runs.
pub fn run_times(
    rule: &Item,
    launch: Launch,
    tz: &TimeZone,
    born: i64,
    (after, until): (i64, i64),
    limit: usize,
) -> Vec<i64> {
    // Crontab runs fall on whole minutes (zones are whole minutes off UTC): a window inside
    // one minute holds none, whatever the rule, which keeps frequent catch-ups cheap.
    if launch == Launch::Cron && after.div_euclid(60) == until.div_euclid(60) {
        return Vec::new();
    }
    let bound = |k: &str| {
        rule.get(k)
            .and_then(Value::as_str)
            .and_then(|t| instant(t, tz))
    };
    let after = after.max(bound("validity_start_period").map_or(after, |s| s - 1));
    let until = until.min(bound("validity_end_period").unwrap_or(until));
    if until <= after {
        return Vec::new();
    }
    match launch {
        Launch::Cron => {
            Crontab::of(rule).map_or_else(Vec::new, |c| c.times(tz, after, until, limit))
        }
        Launch::Periodic => {
            let Some(p) = period(rule) else {
                return Vec::new();
            };
            // The last period boundary at or before `until`, and the first after `after`.
            let last = born + (until - born).div_euclid(p) * p;
            let first = born + ((after - born).div_euclid(p) + 1) * p;
            let first = first.max(last - (limit as i64 - 1).max(0) * p);
            (0..)
                .map(|k| first + k * p)
                .take_while(|t| *t <= last)
                .take(limit)
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule(fields: Value) -> Item {
        fields.as_object().unwrap().clone()
    }

    fn at(text: &str) -> i64 {
        instant(text, &TimeZone::UTC).unwrap()
    }

    fn cron(min: &str, hour: &str, dom: &str, mon: &str, dow: &str) -> Item {
        rule(json!({"min": min, "hour": hour, "dom": dom, "mon": mon, "dow": dow}))
    }

    fn times(r: &Item, from: &str, to: &str) -> Vec<String> {
        run_times(r, Launch::Cron, &TimeZone::UTC, 0, (at(from), at(to)), 100)
            .into_iter()
            .map(|t| listed(t, &TimeZone::UTC))
            .collect()
    }

    #[test]
    fn crontab_fields_give_the_run_minutes() {
        let nightly = cron("30", "2", "*", "*", "*");
        assert_eq!(
            times(&nightly, "2026-01-01T00:00:00", "2026-01-03T02:30:00"),
            [
                "2026-01-01T02:30:00",
                "2026-01-02T02:30:00",
                "2026-01-03T02:30:00"
            ]
        );
        assert!(times(&nightly, "2026-01-03T02:30:00", "2026-01-04T02:29:59").is_empty());
        let quarter = cron("*/15", "8-9", "*", "*", "1-5");
        // 2026-01-03 is a Saturday.
        assert_eq!(
            times(&quarter, "2026-01-03T00:00:00", "2026-01-05T00:00:00").len(),
            0
        );
        assert_eq!(
            times(&quarter, "2026-01-05T00:00:00", "2026-01-06T00:00:00").len(),
            8
        );
        // The document's example, `0 0 1 1 1`: 1 January or a Monday in January (Vixie).
        let example = rule(json!({"min": 0, "hour": 0, "dom": 1, "mon": 1, "dow": 1}));
        assert_eq!(
            times(&example, "2025-12-31T00:00:00", "2026-01-13T00:00:00"),
            [
                "2026-01-01T00:00:00",
                "2026-01-05T00:00:00",
                "2026-01-12T00:00:00"
            ]
        );
        let sunday = cron("0", "0", "*", "*", "7");
        assert_eq!(
            times(&sunday, "2026-01-01T00:00:00", "2026-01-08T00:00:00"),
            ["2026-01-04T00:00:00"]
        );
    }

    #[test]
    fn validity_and_the_limit_bound_the_runs() {
        let mut hourly = cron("0", "*", "*", "*", "*");
        hourly.insert("validity_end_period".into(), json!("2026-01-01T05:00:00"));
        assert_eq!(
            times(&hourly, "2026-01-01T00:00:00", "2026-01-02T00:00:00").len(),
            5
        );
        hourly.insert("validity_start_period".into(), json!("2026-01-01T03:00:00"));
        assert_eq!(
            times(&hourly, "2026-01-01T00:00:00", "2026-01-02T00:00:00"),
            [
                "2026-01-01T03:00:00",
                "2026-01-01T04:00:00",
                "2026-01-01T05:00:00"
            ]
        );
        let every = cron("*", "*", "*", "*", "*");
        let last = run_times(
            &every,
            Launch::Cron,
            &TimeZone::UTC,
            0,
            (0, at("2026-01-01T00:00:00")),
            3,
        );
        assert_eq!(last.len(), 3);
        assert_eq!(last[2], at("2026-01-01T00:00:00"));
    }

    #[test]
    fn periodic_launch_counts_from_the_rules_creation() {
        let r = rule(
            json!({"periodic_launch": "01:00:00", "min": 0, "hour": 0, "dom": 1, "mon": 1, "dow": 1}),
        );
        let born = at("2026-01-01T00:10:00");
        let got = |a: &str, b: &str, limit| {
            run_times(
                &r,
                Launch::Periodic,
                &TimeZone::UTC,
                born,
                (at(a), at(b)),
                limit,
            )
            .into_iter()
            .map(|t| listed(t, &TimeZone::UTC))
            .collect::<Vec<_>>()
        };
        assert_eq!(
            got("2026-01-01T00:10:00", "2026-01-01T03:10:00", 10),
            [
                "2026-01-01T01:10:00",
                "2026-01-01T02:10:00",
                "2026-01-01T03:10:00"
            ]
        );
        assert_eq!(
            got("2026-01-01T00:10:00", "2026-01-02T00:00:00", 2),
            ["2026-01-01T22:10:00", "2026-01-01T23:10:00"]
        );
        assert!(got("2026-01-01T00:10:00", "2026-01-01T01:09:59", 10).is_empty());
    }
}
