use super::*;

fn at(ts: &str) -> Timestamp {
    ts.parse().unwrap()
}

const WINTER: &str = "2024-01-15T12:00:00Z";
const SUMMER: &str = "2024-07-15T12:00:00Z";

fn compile(cron: &str, zone: Option<&str>, now: &str) -> Result<Vec<String>, ScheduleError> {
    schedule_to_patterns(
        &Schedule {
            cron: cron.into(),
            time_zone: zone.map(str::to_string),
            grace_minutes: None,
        },
        at(now),
    )
}

fn ok(cron: &str, zone: Option<&str>, now: &str) -> Vec<String> {
    compile(cron, zone, now).unwrap_or_else(|e| panic!("{cron} {zone:?}: {e}"))
}

#[test]
fn documents_own_example_14_00_utc8_is_byhour_6() {
    assert_eq!(
        ok("0 14 * * *", Some("Asia/Shanghai"), WINTER),
        vec!["FREQ=DAILY;INTERVAL=1;BYHOUR=6;BYMINUTE=00"]
    );
}

#[test]
fn utc_is_the_default_zone() {
    assert_eq!(
        ok("30 2 * * *", None, WINTER),
        vec!["FREQ=DAILY;INTERVAL=1;BYHOUR=2;BYMINUTE=30"]
    );
    assert_eq!(
        ok("5 23 * * 6,0", Some("UTC"), WINTER),
        vec!["FREQ=WEEKLY;BYDAY=SA,SU;BYHOUR=23;BYMINUTE=05"]
    );
}

#[test]
fn crossing_midnight_shifts_the_day() {
    // Monday 01:00 in Moscow (UTC+3) is Sunday 22:00 UTC.
    assert_eq!(
        ok("0 1 * * 1", Some("Europe/Moscow"), WINTER),
        vec!["FREQ=WEEKLY;BYDAY=SU;BYHOUR=22;BYMINUTE=00"]
    );
    // Friday 22:00 in New York is Saturday 03:00 UTC in winter, 02:00 in summer.
    assert_eq!(
        ok("0 22 * * FRI", Some("America/New_York"), WINTER),
        vec!["FREQ=WEEKLY;BYDAY=SA;BYHOUR=3;BYMINUTE=00"]
    );
    assert_eq!(
        ok("0 22 * * FRI", Some("America/New_York"), SUMMER),
        vec!["FREQ=WEEKLY;BYDAY=SA;BYHOUR=2;BYMINUTE=00"]
    );
    // Sunday 23:00 at UTC-2 is Monday 01:00 UTC: the week wraps.
    assert_eq!(
        ok("0 23 * * 0", Some("Etc/GMT+2"), WINTER),
        vec!["FREQ=WEEKLY;BYDAY=MO;BYHOUR=1;BYMINUTE=00"]
    );
}

#[test]
fn each_utc_time_gets_one_pattern_with_its_days() {
    assert_eq!(
        ok("0 */6 * * 1-5", Some("Europe/Moscow"), WINTER),
        vec![
            "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=3;BYMINUTE=00",
            "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9;BYMINUTE=00",
            "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=15;BYMINUTE=00",
            "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,SU;BYHOUR=21;BYMINUTE=00",
        ]
    );
    assert_eq!(
        ok("15 8,20 * * *", None, WINTER),
        vec![
            "FREQ=DAILY;INTERVAL=1;BYHOUR=8;BYMINUTE=15",
            "FREQ=DAILY;INTERVAL=1;BYHOUR=20;BYMINUTE=15"
        ]
    );
}

#[test]
fn fractional_offsets_move_minutes() {
    assert_eq!(
        ok("0 9 * * *", Some("Asia/Kolkata"), WINTER),
        vec!["FREQ=DAILY;INTERVAL=1;BYHOUR=3;BYMINUTE=30"]
    );
    assert_eq!(
        ok("0 0 * * 2", Some("Asia/Kathmandu"), WINTER),
        vec!["FREQ=WEEKLY;BYDAY=MO;BYHOUR=18;BYMINUTE=15"]
    );
}

#[test]
fn hourly_is_the_limit() {
    let hourly = ok("0 * * * *", Some("Europe/Moscow"), WINTER);
    assert_eq!(hourly.len(), 24);
    assert_eq!(hourly[0], "FREQ=DAILY;INTERVAL=1;BYHOUR=0;BYMINUTE=00");
    assert_eq!(hourly[23], "FREQ=DAILY;INTERVAL=1;BYHOUR=23;BYMINUTE=00");
    assert_eq!(ok("0 0-23/2 * * *", None, WINTER).len(), 12);
}

#[test]
fn unsupported_schedules_name_the_field() {
    let cases = [
        ("*/30 * * * *", None, "minute"),
        ("0,30 1 * * *", None, "minute"),
        ("50 23 * * *", None, ""),
        ("10,50 0,23 * * *", None, "minute"),
        ("0 0 1 * *", None, "day of month"),
        ("0 0 * 1 *", None, "month"),
        ("0 0 * * *", Some("Mars/Olympus"), "timeZone"),
        ("0 0 * *", None, "cron"),
        ("61 0 * * *", None, "minute"),
    ];
    for (cron, zone, field) in cases {
        match compile(cron, zone, WINTER) {
            Ok(p) => assert!(field.is_empty(), "{cron} compiled to {p:?}"),
            Err(e) => assert_eq!(e.field, field, "{cron}: {e}"),
        }
    }
    assert_eq!(
        compile("0 0 * * *", Some("Mars/Olympus"), WINTER)
            .unwrap_err()
            .spec_field(),
        "timeZone"
    );
    assert_eq!(
        compile("0 0 1 * *", None, WINTER).unwrap_err().spec_field(),
        "cron"
    );
}

#[test]
fn a_daily_run_near_midnight_is_allowed_but_not_two_within_an_hour() {
    // 23:50 and 00:10 the next day are 20 minutes apart.
    assert_eq!(
        compile("10,50 0,23 * * *", None, WINTER).unwrap_err().field,
        "minute"
    );
    // Once a week at 23:50 and 00:10 of the same day is fine.
    assert_eq!(ok("10 0 * * 1", None, WINTER).len(), 1);
}

#[test]
fn normaliser_makes_vendor_forms_comparable() {
    let s = |v: &[&str]| v.iter().map(|p| p.to_string()).collect::<Vec<_>>();
    assert_eq!(
        normalize_patterns(&s(&[
            "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR=14;BYMINUTE=00"
        ])),
        s(&["FREQ=DAILY;INTERVAL=1;BYHOUR=14;BYMINUTE=00"])
    );
    assert_eq!(
        normalize_patterns(&s(&[
            "FREQ=WEEKLY;BYDAY=SU,MO,TU,WE,TH,FR,SA;BYHOUR=23;BYMINUTE=00"
        ])),
        s(&["FREQ=DAILY;INTERVAL=1;BYHOUR=23;BYMINUTE=00"])
    );
    assert_eq!(
        normalize_patterns(&s(&[
            "BYMINUTE=0;BYHOUR=06;FREQ=DAILY",
            "FREQ=WEEKLY;BYDAY=WE;BYHOUR=1;BYMINUTE=5",
            "FREQ=WEEKLY;BYDAY=tu,MO;BYHOUR=1;BYMINUTE=05"
        ])),
        s(&[
            "FREQ=WEEKLY;BYDAY=MO,TU,WE;BYHOUR=1;BYMINUTE=05",
            "FREQ=DAILY;INTERVAL=1;BYHOUR=6;BYMINUTE=00"
        ])
    );
    assert_eq!(
        normalize_patterns(&s(&[
            "FREQ=DAILY;INTERVAL=2;BYHOUR=6;BYMINUTE=0",
            "X=1;FREQ=YEARLY"
        ])),
        s(&[
            "FREQ=DAILY;INTERVAL=2;BYHOUR=6;BYMINUTE=00",
            "FREQ=YEARLY;X=1"
        ])
    );
    for (cron, zone) in [
        ("0 */6 * * 1-5", "Europe/Moscow"),
        ("15 8,20 * * *", "UTC"),
        ("0 23 * * 0", "Etc/GMT+2"),
        ("0 * * * *", "Asia/Kolkata"),
    ] {
        let compiled = ok(cron, Some(zone), WINTER);
        assert_eq!(normalize_patterns(&compiled), compiled, "{cron} {zone}");
        let mut reversed = compiled.clone();
        reversed.reverse();
        assert_eq!(normalize_patterns(&reversed), compiled);
    }
}

#[test]
fn a_whole_month_of_days_with_a_weekday_is_refused_not_read_as_the_weekday() {
    // Found by tests/fuzz: `0 * 1-31 * 0` runs every hour of every day in cron (day of month
    // OR day of week), but compiled to Sundays only.
    let e = compile("0 * 1-31 * 0", None, WINTER).unwrap_err();
    assert_eq!(e.field, "day of month");
    assert!(e.message.contains("either field"), "{e}");
    assert_eq!(ok("0 2 1-31 * *", None, WINTER).len(), 1);
    assert_eq!(
        ok("0 2 * * 0", None, WINTER),
        ["FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;BYMINUTE=00"]
    );
    assert_eq!(
        ok("0 2 1-31 * 0-6", None, WINTER).len(),
        1,
        "every day either way"
    );
}

#[test]
fn a_rule_with_a_repeated_part_normalises_the_same_twice() {
    // Found by tests/fuzz: with the last FREQ winning, sorting the parts of an unreadable rule
    // made it readable on the next pass, so the observed schedule never settled.
    let echoed = vec!["BYMINUTE=00;freq=daily;BYHOUR=0;FREQ=HOURLY".to_string()];
    let once = normalize_patterns(&echoed);
    assert_eq!(once, vec!["FREQ=HOURLY;freq=daily;BYHOUR=0;BYMINUTE=00"]);
    assert_eq!(normalize_patterns(&once), once);
    let repeated =
        vec!["BYMINUTE=00;FREQ=DAILY; INTERVAL = 3 ;BYHOUR=0; INTERVAL = 3 ".to_string()];
    let once = normalize_patterns(&repeated);
    assert_eq!(normalize_patterns(&once), once);
}

#[test]
fn an_unreadable_rule_keeps_freq_first() {
    // Found by tests/fuzz: `FREQ=WEEKLY;BYDAY=MO` (the CRD admits it) came out as
    // `BYDAY=MO;FREQ=WEEKLY`, which the CRD's pattern refuses, and that form is what is sent.
    let native = vec!["FREQ=WEEKLY;BYDAY=MO".to_string()];
    assert_eq!(normalize_patterns(&native), native);
}

#[test]
fn retention_maps_field_by_field() {
    let now = at(WINTER);
    let r = Retention {
        keep_last: Some(7),
        keep_days: Some(30),
        ..Default::default()
    };
    assert_eq!(
        retention_to_definition(&r, Some("Mars/Olympus"), now).unwrap(),
        OperationDefinition {
            max_backups: Some(7),
            retention_duration_days: Some(30),
            ..Default::default()
        }
    );
    let r = Retention {
        daily: Some(7),
        weekly: Some(4),
        monthly: Some(12),
        yearly: Some(0),
        ..Default::default()
    };
    assert_eq!(
        retention_to_definition(&r, Some("Europe/Moscow"), now).unwrap(),
        OperationDefinition {
            day_backups: Some(7),
            week_backups: Some(4),
            month_backups: Some(12),
            year_backups: Some(0),
            timezone: Some("UTC+03:00".into()),
            ..Default::default()
        }
    );
    let weekly = Retention {
        weekly: Some(1),
        ..Default::default()
    };
    let tz = |zone: Option<&str>, when: &str| {
        retention_to_definition(&weekly, zone, at(when))
            .unwrap()
            .timezone
            .unwrap()
    };
    assert_eq!(tz(None, WINTER), "UTC+00:00");
    assert_eq!(tz(Some("America/New_York"), WINTER), "UTC-05:00");
    assert_eq!(tz(Some("America/New_York"), SUMMER), "UTC-04:00");
    assert_eq!(tz(Some("Asia/Kolkata"), WINTER), "UTC+05:30");
    assert_eq!(
        retention_to_definition(&weekly, Some("Nowhere/Zone"), now)
            .unwrap_err()
            .field,
        "timeZone"
    );
    assert_eq!(
        retention_to_definition(&Retention::default(), None, now).unwrap(),
        OperationDefinition::default()
    );
}

#[test]
fn offset_labels() {
    assert_eq!(offset_label(0), "UTC+00:00");
    assert_eq!(offset_label(8 * 3600), "UTC+08:00");
    assert_eq!(offset_label(-(3 * 3600 + 30 * 60)), "UTC-03:30");
}
