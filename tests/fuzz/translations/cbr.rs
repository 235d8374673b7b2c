//! CBR: a cron in a zone becomes at most 24 RRULE patterns in UTC (`FREQ=WEEKLY|DAILY`,
//! `BYDAY`, `BYHOUR` 0–23, `BYMINUTE` 0–59, never more often than hourly), matching the CRD's
//! pattern regex, canonical for the normaliser, deterministic, and firing exactly when the cron
//! does (checked minute by minute over a week with the oracle); what cannot be expressed is
//! refused with the field at fault. Retention becomes an `operation_definition` within the
//! document's ranges, with the zone's offset when long-term counts need it.

use std::collections::BTreeSet;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use proptest::prelude::*;
use rampart::api::Policy;
use rampart::api::schedule::{Retention, Schedule};
use rampart::engine::external::ExternalError;
use rampart::providers::huawei_cbr::policy_desired::DesiredPolicy;
use rampart::providers::huawei_cbr::schedule::{
    normalize_patterns, retention_to_definition, schedule_to_patterns,
};
use serde_json::json;

use super::oracle::{self, Cron};
use super::{
    admitted, both_day_fields_restricted, crd, cron, retention, schedule_admitted, zone_and_now,
};
use crate::support;

const CRON_FIELDS: &[&str] = &[
    "cron",
    "minute",
    "hour",
    "day of month",
    "month",
    "day of week",
];
const DAYS: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];
const WEEK: i64 = 7 * 1440;

/// The UTC minutes of the week (0 = Monday 00:00) one pattern fires at, read by the document's
/// grammar; an error says which part breaks it.
fn fires(pattern: &str) -> Result<BTreeSet<i64>, String> {
    let (mut freq, mut days, mut hour, mut minute) = (None, None, None, None);
    let mut seen = BTreeSet::new();
    for part in pattern.split(';') {
        let (k, v) = part.split_once('=').ok_or(format!("part {part:?}"))?;
        if !seen.insert(k) {
            return Err(format!("{k} twice"));
        }
        let number = |max: i64| v.parse::<i64>().ok().filter(|n| (0..=max).contains(n));
        match k {
            "FREQ" => freq = Some(v),
            "BYDAY" => {
                let list: Option<Vec<i64>> = v
                    .split(',')
                    .map(|d| DAYS.iter().position(|x| *x == d).map(|i| i as i64))
                    .collect();
                days = Some(list.ok_or(format!("BYDAY {v}"))?);
            }
            "BYHOUR" => hour = Some(number(23).ok_or(format!("BYHOUR {v}"))?),
            "BYMINUTE" => minute = Some(number(59).ok_or(format!("BYMINUTE {v}"))?),
            "INTERVAL" if v == "1" => {}
            _ => return Err(format!("part {part:?}")),
        }
    }
    let days = match (freq, days) {
        (Some("DAILY"), None) => (0..7).collect(),
        (Some("WEEKLY"), Some(d)) => d,
        _ => return Err("FREQ/BYDAY".into()),
    };
    let at = hour.ok_or("no BYHOUR")? * 60 + minute.ok_or("no BYMINUTE")?;
    Ok(days.into_iter().map(|d| d * 1440 + at).collect())
}

/// The document's constraints on a pattern list; returns the weekly UTC fire minutes.
fn documented(patterns: &[String]) -> Result<BTreeSet<i64>, TestCaseError> {
    prop_assert!(
        (1..=24).contains(&patterns.len()),
        "{} patterns",
        patterns.len()
    );
    let mut all = BTreeSet::new();
    for p in patterns {
        prop_assert!(crd().rrule.is_match(p), "the CRD's regex refuses {p}");
        all.extend(fires(p).map_err(|why| TestCaseError::fail(format!("{p}: {why}")))?);
    }
    let v: Vec<i64> = all.iter().copied().collect();
    let gaps = v.windows(2).map(|w| w[1] - w[0]);
    let wrap = v.first().map(|f| f + WEEK - v[v.len() - 1]);
    prop_assert!(
        gaps.chain(wrap).all(|g| g >= 60),
        "more often than hourly: {patterns:?}"
    );
    Ok(all)
}

/// The days of the week (Monday first) the cron runs on, if that does not depend on the month.
fn weekly_days(c: &Cron) -> Option<Vec<bool>> {
    let monday = jiff::civil::date(2024, 1, 1);
    let runs = |i: i64| {
        c.runs_on(
            monday
                .checked_add(jiff::Span::new().days(i))
                .expect("in range"),
        )
    };
    let periodic = (7..800).all(|i| runs(i) == runs(i - 7));
    periodic.then(|| (0..7).map(runs).collect())
}

/// Whether CBR can say this cron: weekly, at most 24 times a day, never within the hour.
fn expressible(c: &Cron) -> bool {
    let Some(days) = weekly_days(c) else {
        return false;
    };
    let times = c.times_of_day();
    let week: Vec<i64> = (0..7)
        .filter(|d| days[*d as usize])
        .flat_map(|d| times.iter().map(move |t| d * 1440 + *t as i64))
        .collect();
    let gaps = week.windows(2).map(|w| w[1] - w[0]);
    let wrap = week.first().map(|f| f + WEEK - week[week.len() - 1]);
    !week.is_empty() && times.len() <= 24 && gaps.chain(wrap).all(|g| g >= 60)
}

/// Minute by minute from `now` for a week (or until the zone next changes its clocks: CBR
/// takes the offset at `now`), the patterns fire exactly when the cron does.
fn same_fire_times(c: &Cron, utc: &BTreeSet<i64>, tz: &TimeZone, now: Timestamp) -> bool {
    let start = now.as_second().div_euclid(60) * 60;
    let change = tz.following(now).next().map(|t| t.timestamp().as_second());
    (0..WEEK)
        .map(|i| start + i * 60)
        .take_while(|s| change.is_none_or(|c| *s < c))
        .filter_map(|s| Timestamp::from_second(s).ok())
        .all(|t| {
            let u = t.to_zoned(TimeZone::UTC);
            let week_minute = u.weekday().to_monday_zero_offset() as i64 * 1440
                + u.hour() as i64 * 60
                + u.minute() as i64;
            c.runs_at(t.to_zoned(tz.clone()).datetime()) == utc.contains(&week_minute)
        })
}

/// Any string the CRD's pattern regex admits (generated from the regex itself).
fn crd_pattern() -> impl Strategy<Value = String> {
    let regex = crd()
        .rrule
        .as_str()
        .trim_start_matches('^')
        .trim_end_matches('$');
    proptest::string::string_regex(regex).expect("the CRD's regex is generable")
}

fn long_term(r: &Retention) -> bool {
    [r.daily, r.weekly, r.monthly, r.yearly]
        .iter()
        .any(Option::is_some)
}

fn policy(cron: &str, zone: Option<&str>, r: &Retention) -> Policy {
    serde_json::from_value(json!({
        "apiVersion": "rampart.dev/v1alpha1", "kind": "Policy",
        "metadata": {"name": "nightly", "namespace": "team-a"},
        "spec": {"providerConfigRef": {"name": "cbr"}, "huaweiCbr": {},
            "schedule": {"cron": cron, "timeZone": zone}, "retention": r}
    }))
    .expect("a Policy")
}

proptest! {
    #![proptest_config(support::config(1024))]

    #[test]
    fn a_schedule_compiles_to_the_documented_patterns_or_names_its_field(
        cron in cron(),
        (zone, now) in zone_and_now(),
    ) {
        let schedule = Schedule { cron: cron.clone(), time_zone: zone.clone(), grace_minutes: None };
        let tz = TimeZone::get(zone.as_deref().unwrap_or("UTC"));
        let oracle = oracle::parse(&cron);
        let can = oracle.as_ref().is_some_and(expressible) && !both_day_fields_restricted(&cron);
        match schedule_to_patterns(&schedule, now) {
            Err(e) => {
                prop_assert!(!e.message.trim().is_empty());
                if e.field == "timeZone" {
                    prop_assert!(tz.is_err(), "{} refused: {}", zone.unwrap_or_default(), e);
                } else {
                    prop_assert!(CRON_FIELDS.contains(&e.field), "{}", e.field);
                    prop_assert!(!can, "{cron:?} can be expressed but was refused: {e}");
                }
            }
            Ok(patterns) => {
                let Some(c) = oracle else {
                    return Err(TestCaseError::fail(format!("{cron:?} is not cron, yet compiled")));
                };
                prop_assert!(
                    expressible(&c),
                    "{cron:?} compiled to {patterns:?}, yet CBR cannot say it"
                );
                let tz = tz.expect("a compiled schedule has a zone");
                let utc = documented(&patterns)?;
                prop_assert_eq!(schedule_to_patterns(&schedule, now).ok(), Some(patterns.clone()));
                prop_assert_eq!(normalize_patterns(&patterns), patterns.clone());
                if tz.to_offset(now).seconds() % 60 == 0 {
                    prop_assert!(
                        same_fire_times(&c, &utc, &tz, now),
                        "{cron} in {tz:?} at {now}: {patterns:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_native_pattern_the_crd_admits_normalises_to_one_it_admits(
        patterns in prop::collection::vec(crd_pattern(), 1..6),
    ) {
        let once = normalize_patterns(&patterns);
        prop_assert_eq!(normalize_patterns(&once), once.clone());
        for p in &once {
            prop_assert!(crd().rrule.is_match(p), "{p} (from {patterns:?})");
        }
    }

    #[test]
    fn a_retention_compiles_within_the_documented_ranges(
        r in retention(),
        (zone, now) in zone_and_now(),
    ) {
        match retention_to_definition(&r, zone.as_deref(), now) {
            Err(e) => {
                prop_assert_eq!(e.field, "timeZone");
                let known = TimeZone::get(zone.as_deref().unwrap_or("UTC")).is_ok();
                prop_assert!(long_term(&r) && !known);
            }
            Ok(d) if admitted(&r) => {
                let keep = |v: Option<i64>| v.is_none_or(|n| n == -1 || (1..=99_999).contains(&n));
                let count = |v: Option<i64>| v.is_none_or(|n| (0..=100).contains(&n));
                prop_assert!(keep(d.max_backups) && keep(d.retention_duration_days));
                let counts = [d.day_backups, d.week_backups, d.month_backups, d.year_backups];
                prop_assert!(counts.into_iter().all(count));
                prop_assert_eq!(d.timezone.is_some(), long_term(&r));
                if let Some(label) = &d.timezone {
                    prop_assert!(crd().cbr_timezone.is_match(label), "{label}");
                }
            }
            Ok(_) => {}
        }
    }

    #[test]
    fn a_policy_spec_fails_only_on_the_field_at_fault(
        cron in cron(),
        (zone, now) in zone_and_now(),
        r in retention(),
    ) {
        prop_assume!(schedule_admitted(&cron, zone.as_deref()) && admitted(&r));
        let cr = policy(&cron, zone.as_deref(), &r);
        match DesiredPolicy::from_spec(&cr, "0123456789abcdef", now) {
            Ok(d) => {
                let _ = d.create_request();
                prop_assert!(!d.patterns.is_empty());
            }
            Err(ExternalError::InvalidSpec { field, message }) => {
                let ok = ["spec.schedule.cron", "spec.schedule.timeZone", "spec.retention"];
                prop_assert!(ok.contains(&field.as_str()), "{field}");
                let names_part = CRON_FIELDS
                    .iter()
                    .chain(&["timeZone"])
                    .any(|f| message.starts_with(f));
                prop_assert!(names_part, "{message}");
            }
            Err(other) => return Err(TestCaseError::fail(format!("{other}"))),
        }
    }
}
