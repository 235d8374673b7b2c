//! The portable schedule (5-field cron + IANA zone) and retention compiled into each vendor's
//! dialect, over arbitrary crons (random text and structured ones with lists, ranges, steps,
//! names and out-of-range values), zones (IANA names and garbage), retentions and instants
//! (any instant, and instants around the zone's daylight-saving transitions).

mod cbr;
mod cyberbackup;
mod oracle;
mod rubackup;

use std::sync::OnceLock;

use std::collections::BTreeSet;

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Span, Timestamp};
use kube::CustomResourceExt;
use proptest::prelude::*;
use rampart::api::Policy;
use rampart::api::schedule::Retention;
use regex::Regex;
use serde_json::Value;

use crate::support::{instant, tricky_text};

/// Zones with every kind of offset and rule: none, half and quarter hours, DST of one hour, of
/// half an hour (Lord Howe), negative DST (Dublin, Casablanca), southern-hemisphere DST, +14.
pub const ZONES: &[&str] = &[
    "UTC",
    "Etc/UTC",
    "Europe/Moscow",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Berlin",
    "Europe/Chisinau",
    "America/New_York",
    "America/St_Johns",
    "America/Sao_Paulo",
    "America/Santiago",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Tehran",
    "Asia/Shanghai",
    "Asia/Gaza",
    "Australia/Lord_Howe",
    "Australia/Adelaide",
    "Pacific/Chatham",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "Africa/Casablanca",
    "Etc/GMT+12",
    "Etc/GMT-14",
];

const BAD_ZONES: &[&str] = &[
    "",
    " ",
    "Mars/Olympus",
    "UTC+3",
    "GMT+03:00",
    "+03:00",
    "../../etc/passwd",
    "Europe",
    "Europe/Moscow ",
    "\u{0}",
];

/// A zone as `spec.schedule.timeZone` may hold it: unset, an IANA name, or garbage.
pub fn zone() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        1 => Just(None),
        8 => prop::sample::select(ZONES).prop_map(|z| Some(z.to_string())),
        1 => prop::sample::select(BAD_ZONES).prop_map(|z| Some(z.to_string())),
        1 => tricky_text().prop_map(Some),
    ]
}

/// An instant within a day and a half of one of the zone's clock changes in some year.
fn near_transition(zone: Option<String>) -> impl Strategy<Value = Timestamp> {
    (1971i16..2100, 0usize..3, -2160i64..2160).prop_map(move |(year, nth, minutes)| {
        let tz = TimeZone::get(zone.as_deref().unwrap_or("UTC")).unwrap_or(TimeZone::UTC);
        let start = jiff::civil::date(year, 1, 1)
            .to_zoned(TimeZone::UTC)
            .expect("a valid date")
            .timestamp();
        let change = tz
            .following(start)
            .nth(nth)
            .map_or(start, |t| t.timestamp());
        change
            .saturating_add(SignedDuration::from_mins(minutes))
            .unwrap_or(change)
    })
}

/// A zone and the instant the translation happens at.
pub fn zone_and_now() -> impl Strategy<Value = (Option<String>, Timestamp)> {
    zone().prop_flat_map(|z| {
        let now = prop_oneof![3 => near_transition(z.clone()), 1 => instant()];
        (Just(z), now)
    })
}

/// One cron field: `*`, values, ranges and steps, now and then out of range or named.
fn field(
    (min, max): (u32, u32),
    names: &'static [&'static str],
    star: u32,
    single: u32,
) -> impl Strategy<Value = String> {
    let value = prop_oneof![
        8 => (0..=max).prop_map(|n| n.to_string()),
        1 => (max + 1..=max + 3).prop_map(|n| n.to_string()),
        1 => prop::sample::select(if names.is_empty() { &["0"][..] } else { names })
            .prop_map(str::to_string),
    ];
    let range = prop_oneof![
        1 => Just("*".to_string()),
        4 => value.clone(),
        2 => (value.clone(), value.clone()).prop_map(|(a, b)| format!("{a}-{b}")),
    ];
    let item = prop_oneof![
        5 => range.clone(),
        2 => (range, 0..=max + 2).prop_map(|(r, s)| format!("{r}/{s}")),
    ];
    prop_oneof![
        star => Just("*".to_string()),
        single => value,
        1 => Just(format!("{min}-{max}")),
        3 => prop::collection::vec(item, 1..4).prop_map(|items| items.join(",")),
    ]
}

const MONTHS: &[&str] = &["JAN", "feb", "Dec"];
const WEEKDAYS: &[&str] = &["SUN", "mon", "Sat"];

/// The crons people write: one minute, some hours, every day or some weekdays, now and then
/// days of some months; what vendors can mostly express.
fn usual_cron() -> impl Strategy<Value = String> {
    let hours = prop_oneof![
        (0u32..24).prop_map(|h| h.to_string()),
        (1u32..13).prop_map(|k| format!("*/{k}")),
        (0u32..12, 12u32..24).prop_map(|(a, b)| format!("{a}-{b}")),
        prop::collection::btree_set(0u32..24, 1..5).prop_map(|h| h
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",")),
    ];
    let days = prop_oneof![
        6 => Just(("*".to_string(), "*".to_string())),
        1 => prop::collection::btree_set(1u32..32, 1..4).prop_map(|d| {
            (d.iter().map(u32::to_string).collect::<Vec<_>>().join(","), "*".to_string())
        }),
        1 => (1u32..13).prop_map(|m| ("1,15".to_string(), m.to_string())),
    ];
    let weekdays = prop::sample::select(vec!["*", "*", "1-5", "0", "7", "MON,WED,FRI", "sat-sun"]);
    (0u32..60, hours, days, weekdays)
        .prop_map(|(m, h, (dom, month), dow)| format!("{m} {h} {dom} {month} {dow}"))
}

/// A cron expression: the usual ones, five arbitrary structured fields (lists, ranges, steps,
/// names, out-of-range values), or random text.
pub fn cron() -> impl Strategy<Value = String> {
    let structured = (
        field((0, 59), &[], 1, 6),
        field((0, 23), &[], 2, 3),
        field((1, 31), &[], 8, 1),
        field((1, 12), MONTHS, 8, 1),
        field((0, 7), WEEKDAYS, 4, 2),
        prop::sample::select(vec![" ", "  ", "\t"]),
    )
        .prop_map(|(mi, h, dom, mo, dow, sep)| [mi, h, dom, mo, dow].join(sep));
    prop_oneof![
        6 => usual_cron(),
        6 => structured,
        1 => tricky_text(),
        1 => "[0-9*/, -]{0,24}",
    ]
}

fn count(lo: i32, hi: i32) -> impl Strategy<Value = Option<i32>> {
    proptest::option::of(prop_oneof![8 => lo..=hi, 1 => any::<i32>()])
}

/// A retention, mostly within what admission allows.
pub fn retention() -> impl Strategy<Value = Retention> {
    (
        count(1, 99_999),
        count(1, 99_999),
        count(0, 100),
        count(0, 100),
        count(0, 100),
        count(0, 100),
    )
        .prop_map(
            |(keep_last, keep_days, daily, weekly, monthly, yearly)| Retention {
                keep_last,
                keep_days,
                daily,
                weekly,
                monthly,
                yearly,
            },
        )
}

/// Whether the API server would accept this retention (the CRD's ranges).
pub fn admitted(r: &Retention) -> bool {
    let within = |v: Option<i32>, lo, hi| v.is_none_or(|n| (lo..=hi).contains(&n));
    within(r.keep_last, 1, 99_999)
        && within(r.keep_days, 1, 99_999)
        && [r.daily, r.weekly, r.monthly, r.yearly]
            .iter()
            .all(|v| within(*v, 0, 100))
}

/// The `pattern` regexes of the installed Policy CRD.
pub struct CrdPatterns {
    /// `spec.huaweiCbr.pattern[]`.
    pub rrule: Regex,
    /// `spec.huaweiCbr.operationDefinition.timezone`.
    pub cbr_timezone: Regex,
    /// `spec.schedule.cron`.
    pub cron: Regex,
}

/// Read from the generated CRD, so the check follows the CRD as it changes.
pub fn crd() -> &'static CrdPatterns {
    static PATTERNS: OnceLock<CrdPatterns> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let crd = serde_json::to_value(Policy::crd()).expect("the CRD serialises");
        let spec = crd
            .pointer("/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties")
            .expect("the CRD has a spec schema");
        let pattern = |pointer: &str| {
            let p = spec
                .pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("the CRD has no pattern at {pointer}"));
            Regex::new(p).expect("the CRD's pattern is a regex")
        };
        CrdPatterns {
            rrule: pattern("/huaweiCbr/properties/pattern/items/pattern"),
            cbr_timezone: pattern(
                "/huaweiCbr/properties/operationDefinition/properties/timezone/pattern",
            ),
            cron: pattern("/schedule/properties/cron/pattern"),
        }
    })
}

/// The instants from two days after `start` to `days` after it at which a schedule of civil
/// days and times runs in `tz`.
pub fn instants(
    runs: impl Fn(Date) -> bool,
    times: &[i32],
    tz: &TimeZone,
    start: Timestamp,
    days: i64,
) -> Option<BTreeSet<Timestamp>> {
    let first = start
        .to_zoned(tz.clone())
        .date()
        .checked_sub(Span::new().days(2))
        .ok()?;
    let from = start.checked_add(Span::new().hours(48)).ok()?;
    let to = start.checked_add(Span::new().hours(24 * (days - 2))).ok()?;
    let mut out = BTreeSet::new();
    for i in 0..days + 8 {
        let d = first.checked_add(Span::new().days(i)).ok()?;
        if !runs(d) {
            continue;
        }
        for t in times {
            let at =
                DateTime::from_parts(d, jiff::civil::time((t / 60) as i8, (t % 60) as i8, 0, 0));
            let ts = at.to_zoned(tz.clone()).ok()?.timestamp();
            if (from..to).contains(&ts) {
                out.insert(ts);
            }
        }
    }
    Some(out)
}

/// How many days of instants to compare: most of a year, or five weeks for a schedule that
/// starts every few minutes (the comparison would be slow).
pub fn window_days(times_per_day: usize) -> i64 {
    if times_per_day > 48 { 37 } else { 362 }
}

/// Where two sets of instants first differ, for a failure message short enough to read.
pub fn first_difference(wanted: &BTreeSet<Timestamp>, got: &BTreeSet<Timestamp>) -> Option<String> {
    let missing = wanted.difference(got).next();
    let extra = got.difference(wanted).next();
    (missing.is_some() || extra.is_some()).then(|| {
        format!(
            "{} wanted, {} sent; first missing {missing:?}, first extra {extra:?}",
            wanted.len(),
            got.len()
        )
    })
}

/// Whether both day fields are restricted (neither starts with `*`), so that cron runs on the
/// days either allows. Translations may refuse these even where the union is expressible.
pub fn both_day_fields_restricted(cron: &str) -> bool {
    let restricted = |i| {
        cron.split_whitespace()
            .nth(i)
            .is_some_and(|f: &str| !f.starts_with('*'))
    };
    restricted(2) && restricted(4)
}

/// Whether the API server would accept this cron and zone (the CRD's pattern and lengths).
pub fn schedule_admitted(cron: &str, zone: Option<&str>) -> bool {
    (9..=128).contains(&cron.chars().count())
        && crd().cron.is_match(cron)
        && zone.is_none_or(|z| (1..=64).contains(&z.chars().count()))
}
