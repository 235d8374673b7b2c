//! Compiling the portable schedule (five-field cron + IANA time zone) and retention into
//! RuBackup's dialect: five cron fields read in the server's time zone, and a storage duration
//! interval. What RuBackup cannot express is refused with the spec field that asks for it.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

use super::cron::{CronField, FieldSet};
use super::interval::Interval;
use crate::api::schedule::{Retention, Schedule};
use crate::api::vendors::rubackup::{RuBackupCron, RuBackupCronFields};
use crate::vendor::memo::Compiled;

/// How the connected server reads schedules: the time zone of its cron fields, and whether they
/// may be text (provider settings `serverTimeZone` and `cronFields`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSchedule {
    pub time_zone: String,
    pub cron_fields: RuBackupCronFields,
}

impl ServerSchedule {
    /// A server in `time_zone` that takes cron text (the default).
    pub fn in_zone(time_zone: &str) -> Self {
        ServerSchedule {
            time_zone: time_zone.to_string(),
            cron_fields: RuBackupCronFields::Text,
        }
    }
}

/// A schedule as RuBackup's five fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronFields {
    pub minute: FieldSet,
    pub hour: FieldSet,
    pub day_of_month: FieldSet,
    pub month: FieldSet,
    pub day_of_week: FieldSet,
}

impl CronFields {
    /// The fields in RuBackup's order, with their kind.
    pub fn fields(&self) -> [&FieldSet; 5] {
        [
            &self.minute,
            &self.hour,
            &self.day_of_month,
            &self.month,
            &self.day_of_week,
        ]
    }
}

/// A spec field RuBackup cannot take as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inexpressible {
    pub field: String,
    pub message: String,
}

fn refuse(field: impl Into<String>, message: impl Into<String>) -> Inexpressible {
    Inexpressible {
        field: field.into(),
        message: message.into(),
    }
}

/// A native `cron` block, checked. `path` is its spec path.
pub fn native_cron(cron: &RuBackupCron, path: &str) -> Result<CronFields, Inexpressible> {
    let texts = [
        &cron.minute,
        &cron.hour,
        &cron.day_of_month,
        &cron.month,
        &cron.day_of_week,
    ];
    let mut sets = CronField::ALL.iter().zip(texts).map(|(f, t)| {
        FieldSet::parse(*f, t).map_err(|e| refuse(format!("{path}.{}", f.spec_name()), e))
    });
    Ok(CronFields {
        minute: sets.next().unwrap()?,
        hour: sets.next().unwrap()?,
        day_of_month: sets.next().unwrap()?,
        month: sets.next().unwrap()?,
        day_of_week: sets.next().unwrap()?,
    })
}

/// Compile a portable schedule at spec path `path` for a server in time zone `server_tz`,
/// as of `now` (time-zone rules are checked over the two years that follow); once per schedule
/// and quarter hour (`vendor::memo`).
pub fn portable_cron(
    schedule: &Schedule,
    path: &str,
    server_tz: &str,
    now: Timestamp,
) -> Result<CronFields, Inexpressible> {
    type Key = (String, Option<String>, String, String);
    static COMPILED: LazyLock<Compiled<Key, Result<CronFields, Inexpressible>>> =
        LazyLock::new(Compiled::default);
    let key = (
        schedule.cron.clone(),
        schedule.time_zone.clone(),
        path.to_string(),
        server_tz.to_string(),
    );
    COMPILED.get(key, now, || compile_cron(schedule, path, server_tz, now))
}

fn compile_cron(
    schedule: &Schedule,
    path: &str,
    server_tz: &str,
    now: Timestamp,
) -> Result<CronFields, Inexpressible> {
    let cron_path = format!("{path}.cron");
    let words: Vec<&str> = schedule.cron.split_whitespace().collect();
    if words.len() != 5 {
        return Err(refuse(
            cron_path,
            "a cron expression has five fields: minute hour day-of-month month day-of-week",
        ));
    }
    let mut sets = Vec::with_capacity(5);
    for (field, word) in CronField::ALL.iter().zip(&words) {
        sets.push(
            FieldSet::parse(*field, word)
                .map_err(|e| refuse(&cron_path, format!("{:?} field: {e}", field)))?,
        );
    }
    let mut it = sets.into_iter();
    let fields = CronFields {
        minute: it.next().unwrap(),
        hour: it.next().unwrap(),
        day_of_month: it.next().unwrap(),
        month: it.next().unwrap(),
        day_of_week: it.next().unwrap(),
    };
    let tz_name = schedule.time_zone.as_deref().unwrap_or("UTC");
    let shift = offset_difference(tz_name, server_tz, now)
        .map_err(|m| refuse(format!("{path}.timeZone"), m))?;
    shift_fields(fields, shift).map_err(|m| {
        refuse(
            cron_path,
            format!(
                "in the RuBackup server's time zone {server_tz} ({} minutes from {tz_name}) {m}",
                shift
            ),
        )
    })
}

/// Minutes to add to a wall-clock time in `from` to get the same instant in `to`, if that
/// difference is the same all year round.
pub fn offset_difference(from: &str, to: &str, now: Timestamp) -> Result<i32, String> {
    if from == to {
        return Ok(0);
    }
    let zone = |name: &str| TimeZone::get(name).map_err(|_| format!("unknown time zone '{name}'"));
    let (from_tz, to_tz) = (zone(from)?, zone(to)?);
    // The difference changes only when either zone changes its clock: look at `now` and at
    // every change in the next two years (daily samples missed zones that change on the same
    // day at different hours, such as New York and Chicago).
    let end = now
        .checked_add((731 * 24).hours())
        .unwrap_or(Timestamp::MAX);
    let mut instants = vec![now];
    for tz in [&from_tz, &to_tz] {
        instants.extend(
            tz.following(now)
                .map(|t| t.timestamp())
                .take_while(|t| *t < end),
        );
    }
    let diffs: BTreeSet<i32> = instants
        .iter()
        .map(|t| to_tz.to_offset(*t).seconds() - from_tz.to_offset(*t).seconds())
        .collect();
    match (diffs.len(), diffs.first()) {
        (1, Some(d)) if d % 60 == 0 => Ok(d / 60),
        (1, Some(_)) => Err(format!(
            "'{from}' and the server's '{to}' differ by a fraction of a minute"
        )),
        _ => Err(format!(
            "'{from}' and the RuBackup server's time zone '{to}' change their clocks differently \
             (daylight saving time); RuBackup's cron fields follow only the server's clock, so write the \
             schedule in '{to}' or in a zone with the same rules"
        )),
    }
}

/// Move a schedule by `minutes`. Minute and hour must stay a product of two sets, and a move
/// into another day is only expressible when the days are every day, or weekdays (shifted
/// along); days of month and months cannot move, as months differ in length.
pub fn shift_fields(fields: CronFields, minutes: i32) -> Result<CronFields, String> {
    if minutes == 0 {
        return Ok(fields);
    }
    let mut times = BTreeSet::new();
    let mut carries = BTreeSet::new();
    for h in &fields.hour.values {
        for m in &fields.minute.values {
            let t = *h as i32 * 60 + *m as i32 + minutes;
            carries.insert(t.div_euclid(1440));
            let t = t.rem_euclid(1440);
            times.insert(((t / 60) as u8, (t % 60) as u8));
        }
    }
    let hours: BTreeSet<u8> = times.iter().map(|(h, _)| *h).collect();
    let mins: BTreeSet<u8> = times.iter().map(|(_, m)| *m).collect();
    if hours.len() * mins.len() != times.len() {
        return Err("the times no longer form one set of minutes for one set of hours".to_string());
    }
    let every_day =
        fields.day_of_month.is_full() && fields.day_of_week.is_full() && fields.month.is_full();
    let carry = match (every_day, carries.len(), carries.first()) {
        (true, _, _) => 0,
        (false, 1, Some(c)) => *c,
        _ => return Err("some runs move to another day and others do not".to_string()),
    };
    if carry != 0 && !(fields.day_of_month.is_full() && fields.month.is_full()) {
        return Err(
            "runs move to another day, and days of month or months cannot move with them"
                .to_string(),
        );
    }
    let day_of_week = FieldSet {
        field: CronField::DayOfWeek,
        values: fields
            .day_of_week
            .values
            .iter()
            .map(|d| (*d as i32 + carry).rem_euclid(7) as u8)
            .collect(),
        star: fields.day_of_week.star,
    };
    Ok(CronFields {
        minute: FieldSet {
            field: CronField::Minute,
            values: mins,
            star: false,
        },
        hour: FieldSet {
            field: CronField::Hour,
            values: hours,
            star: false,
        },
        day_of_week,
        ..fields
    })
}

/// Compile a portable retention at spec path `path`: RuBackup keeps copies for a duration, so
/// only `keepDays` has a meaning there.
pub fn portable_retention(retention: &Retention, path: &str) -> Result<Interval, Inexpressible> {
    let unsupported = [
        ("keepLast", retention.keep_last),
        ("daily", retention.daily),
        ("weekly", retention.weekly),
        ("monthly", retention.monthly),
        ("yearly", retention.yearly),
    ];
    if let Some((name, _)) = unsupported.iter().find(|(_, v)| v.is_some()) {
        return Err(refuse(
            format!("{path}.{name}"),
            "RuBackup keeps copies for a storage duration only; use keepDays",
        ));
    }
    match retention.keep_days {
        Some(days) => Ok(Interval::days(days as i64)),
        None => Err(refuse(
            format!("{path}.keepDays"),
            "RuBackup needs a storage duration: set keepDays",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn sched(cron: &str, tz: Option<&str>) -> Schedule {
        Schedule {
            cron: cron.to_string(),
            time_zone: tz.map(str::to_string),
            grace_minutes: None,
        }
    }

    fn compile(cron: &str, tz: Option<&str>, server: &str) -> Result<Vec<String>, Inexpressible> {
        let f = portable_cron(
            &sched(cron, tz),
            "spec.schedule",
            server,
            at("2025-03-01T00:00:00Z"),
        )?;
        Ok(f.fields().iter().map(|s| s.render()).collect())
    }

    #[test]
    fn same_zone_passes_fields_through() {
        assert_eq!(
            compile("30 2 * * *", None, "UTC").unwrap(),
            ["30", "2", "*", "*", "*"]
        );
        assert_eq!(
            compile("0 */6 * * 1-5", Some("Europe/Moscow"), "Europe/Moscow").unwrap(),
            ["0", "*/6", "*", "*", "1-5"]
        );
    }

    #[test]
    fn day_fields_go_out_restricted_or_not_as_written() {
        // Found by tests/fuzz: `* * 1-31 * 0` (every day: cron takes the days either field
        // allows) went out as `* * * * 0`, Sundays only.
        assert_eq!(
            compile("0 2 1-31 * 0", None, "UTC").unwrap(),
            ["0", "2", "1-31", "*", "0"]
        );
        assert_eq!(
            compile("0 2 1,15 * 1", None, "UTC").unwrap(),
            ["0", "2", "1,15", "*", "1"]
        );
        assert_eq!(
            compile("0 2 */2 * 1", None, "UTC").unwrap(),
            ["0", "2", "*/2", "*", "1"]
        );
        // Moved a day, a weekday list keeps its meaning next to a whole month of days.
        assert_eq!(
            compile("30 2 1-31 * 1", Some("Europe/Moscow"), "UTC").unwrap(),
            ["30", "23", "1-31", "*", "0"]
        );
    }

    #[test]
    fn fixed_offsets_shift_hours_and_weekdays() {
        // 02:30 Moscow (UTC+3, no DST) is 23:30 UTC the day before.
        assert_eq!(
            compile("30 2 * * *", Some("Europe/Moscow"), "UTC").unwrap(),
            ["30", "23", "*", "*", "*"]
        );
        assert_eq!(
            compile("30 2 * * 1-5", Some("Europe/Moscow"), "UTC").unwrap(),
            ["30", "23", "*", "*", "0-4"]
        );
        assert_eq!(
            compile("0 23 * * 0", Some("UTC"), "Asia/Yekaterinburg").unwrap(),
            ["0", "4", "*", "*", "1"]
        );
        // Every six hours stays every six hours, shifted.
        assert_eq!(
            compile("0 */6 * * *", Some("Europe/Moscow"), "UTC").unwrap(),
            ["0", "3,9,15,21", "*", "*", "*"]
        );
        // Half-hour zones move minutes.
        assert_eq!(
            compile("0 12 * * *", Some("Asia/Kolkata"), "UTC").unwrap(),
            ["30", "6", "*", "*", "*"]
        );
    }

    #[test]
    fn inexpressible_schedules_name_the_field() {
        let e = compile("30 2 * * *", Some("Europe/Berlin"), "UTC").unwrap_err();
        assert_eq!(e.field, "spec.schedule.timeZone");
        assert!(e.message.contains("daylight saving"), "{}", e.message);
        let e = compile("30 2 1 * *", Some("Europe/Moscow"), "UTC").unwrap_err();
        assert_eq!(e.field, "spec.schedule.cron");
        assert!(e.message.contains("days of month"), "{}", e.message);
        let e = compile("0 1,5 * * 1", Some("Europe/Moscow"), "UTC").unwrap_err();
        assert!(e.message.contains("some runs move"), "{}", e.message);
        let e = compile("0,45 2,3 * * *", Some("Asia/Kolkata"), "UTC").unwrap_err();
        assert!(e.message.contains("one set of minutes"), "{}", e.message);
        let e = compile("61 2 * * *", None, "UTC").unwrap_err();
        assert_eq!(e.field, "spec.schedule.cron");
        let e = compile("1 2 * *", None, "UTC").unwrap_err();
        assert!(e.message.contains("five fields"));
        let e = compile("1 2 * * *", Some("Mars/Olympus"), "UTC").unwrap_err();
        assert_eq!(e.field, "spec.schedule.timeZone");
    }

    #[test]
    fn zones_with_the_same_rules_shift_by_their_constant_difference() {
        assert_eq!(
            offset_difference("Europe/Berlin", "Europe/Paris", at("2025-01-01T00:00:00Z")),
            Ok(0)
        );
        assert_eq!(
            offset_difference("Europe/London", "Europe/Berlin", at("2025-01-01T00:00:00Z")),
            Ok(60)
        );
        assert_eq!(
            offset_difference("UTC", "Europe/Moscow", at("2025-01-01T00:00:00Z")),
            Ok(180)
        );
    }

    #[test]
    fn zones_that_change_on_the_same_day_at_different_hours_are_refused() {
        // Found by tests/fuzz: daily samples (taken at `now`'s time of day) missed the hours in
        // which one zone had changed its clock and the other not yet, so a schedule moved by a
        // "constant" difference started an hour off once or twice a year.
        let at = at("2025-01-01T00:00:00Z");
        assert!(offset_difference("America/Chicago", "America/New_York", at).is_err());
        assert!(offset_difference("America/Los_Angeles", "America/St_Johns", at).is_err());
        let far = "9999-06-01T00:00:00Z".parse().unwrap();
        assert_eq!(offset_difference("UTC", "Europe/Moscow", far), Ok(180));
    }

    #[test]
    fn native_cron_reports_the_bad_subfield() {
        let cron = RuBackupCron {
            minute: "0".into(),
            hour: "25".into(),
            day_of_month: "*".into(),
            month: "*".into(),
            day_of_week: "*".into(),
        };
        let e = native_cron(&cron, "spec.ruBackup.cron").unwrap_err();
        assert_eq!(e.field, "spec.ruBackup.cron.hour");
    }

    #[test]
    fn retention_is_a_storage_duration_in_days() {
        let r = Retention {
            keep_days: Some(30),
            ..Default::default()
        };
        assert_eq!(
            portable_retention(&r, "spec.retention").unwrap(),
            Interval::days(30)
        );
        let r = Retention {
            keep_days: Some(30),
            weekly: Some(4),
            ..Default::default()
        };
        assert_eq!(
            portable_retention(&r, "spec.retention").unwrap_err().field,
            "spec.retention.weekly"
        );
        let r = Retention {
            keep_last: Some(3),
            ..Default::default()
        };
        assert_eq!(
            portable_retention(&r, "spec.retention").unwrap_err().field,
            "spec.retention.keepLast"
        );
        let r = Retention::default();
        assert_eq!(
            portable_retention(&r, "spec.retention").unwrap_err().field,
            "spec.retention.keepDays"
        );
    }
}
