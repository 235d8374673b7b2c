//! Cyber Backup: a cron becomes one backup set (`DAILY` on weekdays or `MONTHLY` on days of
//! months, at most 48 start times) that runs on exactly the days and times the cron does
//! (checked against the oracle over four years of dates), moved into the agents' zone so that
//! it starts at the same instants (checked over a year from `now`, daylight-saving changes
//! included); retention becomes count or age rules, never both. Failures name the spec field.

use std::collections::BTreeSet;

use jiff::Span;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use proptest::prelude::*;
use rampart::api::policy::PolicySpec;
use rampart::api::schedule::Retention;
use rampart::api::vendors::cyberbackup::CyberBackupScheduleType;
use rampart::providers::cyberbackup::retention;
use rampart::providers::cyberbackup::schedule::{
    CompiledSchedule, MAX_STARTS_PER_DAY, compile_cron, fixed_shift_minutes, shift, weekday_name,
};
use rampart::providers::cyberbackup::settings::{PlanInputs, desired_plan};
use serde_json::{Value, json};

use super::oracle::{self, Cron};
use super::{
    ZONES, admitted, both_day_fields_restricted, cron, first_difference, instants,
    retention as any_retention, window_days, zone_and_now,
};
use crate::support;

const CRON_FIELD: &str = "spec.schedule.cron";
const ZONE_FIELD: &str = "spec.schedule.timeZone";
const WEEK: [&str; 7] = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];

fn day(i: i64) -> Date {
    jiff::civil::date(2024, 1, 1)
        .checked_add(Span::new().days(i))
        .expect("in range")
}

fn runs_on(s: &CompiledSchedule, d: Date) -> bool {
    match s.kind {
        CyberBackupScheduleType::Monthly => {
            s.monthdays.contains(&(d.day() as u8)) && s.months.contains(&(d.month() as u8))
        }
        _ => {
            let name = WEEK[d.weekday().to_monday_zero_offset() as usize];
            s.weekdays.iter().any(|w| weekday_name(*w) == name)
        }
    }
}

/// Whether Cyber Backup's one-set form can say this cron: it runs on some day, the days it runs
/// on are weekdays in every month, or days of some months on every weekday; and at most 48
/// start times.
fn expressible(c: &Cron) -> bool {
    let days: Vec<Date> = (0..1461).map(day).collect();
    let weekly = (7..days.len()).all(|i| c.runs_on(days[i]) == c.runs_on(days[i - 7]));
    let on: Vec<&Date> = days.iter().filter(|d| c.runs_on(**d)).collect();
    let monthdays: BTreeSet<i8> = on.iter().map(|d| d.day()).collect();
    let months: BTreeSet<i8> = on.iter().map(|d| d.month()).collect();
    let monthly = days
        .iter()
        .all(|d| c.runs_on(*d) == (monthdays.contains(&d.day()) && months.contains(&d.month())));
    // A cron that runs on none of the four years' days ("0 * */26 6 3": the 1st or 27th of
    // June that is a Wednesday, none from 2024 to 2027) is both "weekly" and "monthly" here
    // without being either; the translation may refuse it (found by this test in CI).
    !on.is_empty() && c.times_of_day().len() <= MAX_STARTS_PER_DAY && (weekly || monthly)
}

/// The documented shape of a backup set.
fn documented(s: &CompiledSchedule) -> Result<(), TestCaseError> {
    prop_assert!(!s.starts.is_empty() && s.starts.len() <= MAX_STARTS_PER_DAY);
    prop_assert!(s.starts.windows(2).all(|w| w[0] < w[1]) && s.starts.iter().all(|m| *m < 1440));
    let json = s.to_json();
    for t in json
        .pointer("/alarms/time/repeat_at")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        prop_assert!(
            t["hour"].as_u64().is_some_and(|h| h < 24)
                && t["minute"].as_u64().is_some_and(|m| m < 60)
        );
    }
    match s.kind {
        CyberBackupScheduleType::Monthly => {
            prop_assert!(
                !s.monthdays.is_empty() && s.monthdays.iter().all(|d| (1..=31).contains(d))
            );
            prop_assert!(!s.months.is_empty() && s.months.iter().all(|m| (1..=12).contains(m)));
        }
        _ => {
            let names: Vec<&str> = s.weekdays.iter().map(|w| weekday_name(*w)).collect();
            let mut sorted = names.clone();
            sorted.sort_by_key(|n| WEEK.iter().position(|w| w == n));
            sorted.dedup();
            prop_assert!(!names.is_empty() && names == sorted, "{names:?}");
        }
    }
    Ok(())
}

/// The agents' zone: often one whose offset never changes, so that schedules move by a fixed
/// amount (across midnight too) and the shifted set is compared instant by instant.
fn agent_zone() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(ZONES),
        prop::sample::select(
            &[
                "UTC",
                "Asia/Kolkata",
                "Asia/Kathmandu",
                "Etc/GMT-14",
                "Etc/GMT+12"
            ][..]
        ),
    ]
    .prop_map(str::to_string)
}

/// The agents' zone, or (`None`) the schedule's own zone.
fn agent_or_same() -> impl Strategy<Value = Option<String>> {
    prop_oneof![1 => Just(None), 2 => agent_zone().prop_map(Some)]
}

proptest! {
    #![proptest_config(support::config(768))]

    #[test]
    fn a_cron_becomes_a_backup_set_that_starts_when_cron_does(
        cron in cron(),
        (zone, now) in zone_and_now(),
        agent in agent_or_same(),
    ) {
        let oracle = oracle::parse(&cron);
        let compiled = match compile_cron(&cron) {
            Err(e) => {
                prop_assert_eq!(e.field, CRON_FIELD);
                prop_assert!(!e.message.trim().is_empty());
                let can = oracle.as_ref().is_some_and(expressible)
                    && !both_day_fields_restricted(&cron);
                prop_assert!(!can, "{cron:?} can be expressed but was refused: {}", e.message);
                return Ok(());
            }
            Ok(c) => c,
        };
        let Some(c) = oracle else {
            return Err(TestCaseError::fail(format!("{cron:?} is not cron, yet compiled")));
        };
        documented(&compiled)?;
        let starts: Vec<i32> = compiled.starts.iter().map(|m| *m as i32).collect();
        prop_assert_eq!(&c.times_of_day(), &starts);
        let same_days = (0..1461).map(day).all(|d| c.runs_on(d) == runs_on(&compiled, d));
        prop_assert!(same_days, "{cron} as {compiled:?}");

        let from = zone.unwrap_or_else(|| "UTC".to_string());
        let agent = agent.unwrap_or_else(|| from.clone());
        let (Ok(from_tz), Ok(agent_tz)) = (TimeZone::get(&from), TimeZone::get(&agent)) else {
            return Ok(());
        };
        let moved =
            fixed_shift_minutes(&from, &agent, now).and_then(|m| shift(compiled.clone(), m));
        match moved {
            Err(e) => prop_assert_eq!(e.field, ZONE_FIELD),
            Ok(moved) => {
                documented(&moved)?;
                let diff = agent_tz.to_offset(now).seconds() - from_tz.to_offset(now).seconds();
                let days = window_days(starts.len());
                let wanted = instants(|d| c.runs_on(d), &c.times_of_day(), &from_tz, now, days);
                let got =
                    instants(|d| runs_on(&moved, d), &starts_of(&moved), &agent_tz, now, days);
                if let (true, Some(wanted), Some(got)) = (diff % 60 == 0, wanted, got) {
                    let diff = first_difference(&wanted, &got);
                    let at = format!("{cron} in {from} → {moved:?} in {agent}");
                    prop_assert!(diff.is_none(), "{at}: {diff:?}");
                }
            }
        }
    }

    #[test]
    fn a_retention_becomes_count_or_age_rules(r in any_retention()) {
        let positive = |v: Option<i32>| v.is_some_and(|n| n > 0);
        let ages = [r.keep_days, r.daily, r.weekly, r.monthly].into_iter().any(positive);
        match retention::compile(&r) {
            Err(e) => {
                prop_assert!(!e.message.trim().is_empty());
                match e.field {
                    "spec.retention.yearly" => prop_assert!(positive(r.yearly)),
                    "spec.retention.keepLast" => prop_assert!(positive(r.keep_last) && ages),
                    other => return Err(TestCaseError::fail(format!("field {other}"))),
                }
            }
            Ok(None) => prop_assert!(!positive(r.keep_last) && !ages),
            Ok(Some(v)) => {
                prop_assert_eq!(&v["execution"], "AFTER_BACKUP");
                let rules = v["rules"].as_array().cloned().unwrap_or_default();
                prop_assert!(!rules.is_empty());
                let counts = rules.iter().filter(|r| r.get("max_count").is_some()).count();
                prop_assert!(counts == 0 || counts == rules.len(), "mixed: {v}");
                for rule in &rules {
                    let n = rule.get("max_count").or_else(|| rule.pointer("/max_age/count"));
                    prop_assert!(n.and_then(Value::as_i64).is_some_and(|n| n >= 1), "{rule}");
                }
            }
        }
    }

    #[test]
    fn a_plan_spec_fails_only_on_the_field_at_fault(
        cron in cron(),
        (zone, now) in zone_and_now(),
        agent in agent_zone(),
        r in any_retention(),
    ) {
        prop_assume!(admitted(&r));
        let spec = plan_spec(&cron, zone.as_deref(), &r);
        let inputs = PlanInputs {
            namespace: "prod",
            name: "nightly",
            marker: "m1",
            spec: &spec,
            block: spec.cyber_backup.as_ref().expect("a cyberBackup block"),
            location: Some(json!({"type": "local_folder", "settings": {"path": "/backups"}})),
            agent_time_zone: &agent,
            now,
            written: &[],
        };
        if let Err(e) = desired_plan(&inputs) {
            let ok = e.field == CRON_FIELD
                || e.field == ZONE_FIELD
                || e.field.starts_with("spec.retention.");
            prop_assert!(ok, "{}: {}", e.field, e.message);
            prop_assert!(!e.message.trim().is_empty());
        }
    }
}

fn starts_of(s: &CompiledSchedule) -> Vec<i32> {
    s.starts.iter().map(|m| *m as i32).collect()
}

fn plan_spec(cron: &str, zone: Option<&str>, r: &Retention) -> PolicySpec {
    serde_json::from_value(json!({
        "providerConfigRef": {"name": "cb"},
        "schedule": {"cron": cron, "timeZone": zone},
        "retention": r,
        "cyberBackup": {"type": "policy.backup.machine"}
    }))
    .expect("a Policy spec")
}
