use super::*;
use crate::api::vendors::cyberbackup::CyberBackupTimeOfDay;
use CyberBackupWeekday::*;

fn at(text: &str) -> jiff::Timestamp {
    text.parse().unwrap()
}

fn err(cron: &str) -> ScheduleError {
    compile_cron(cron).expect_err(cron)
}

#[test]
fn the_document_daily_example_compiles_from_cron() {
    // §2.10.3.6, whole-machine plan: DAILY on MON, TUE, WED at 09:00.
    let s = compile_cron("0 9 * * 1-3").unwrap();
    assert_eq!(
        s.to_json(),
        json!({"type": "DAILY", "alarms": {"time": {"weekdays": ["MON", "TUE", "WED"], "repeat_at": [{"hour": 9, "minute": 0}]}}})
    );
    assert_eq!(s.summary(), "DAILY MON,TUE,WED 09:00");
}

#[test]
fn the_document_monthly_example_compiles_from_cron() {
    // §2.10.3.6, disk plan: MONTHLY on days 1 and 15 of every month at 12:30.
    let s = compile_cron("30 12 1,15 * *").unwrap();
    assert_eq!(
        s.to_json(),
        json!({"type": "MONTHLY", "alarms": {"time": {"monthdays": [1, 15], "months": [1,2,3,4,5,6,7,8,9,10,11,12], "repeat_at": [{"hour": 12, "minute": 30}]}}})
    );
}

#[test]
fn every_day_is_daily_on_all_weekdays() {
    let s = compile_cron("30 2 * * *").unwrap();
    assert_eq!(s.kind, CyberBackupScheduleType::Daily);
    assert_eq!(s.weekdays, vec![Mon, Tue, Wed, Thu, Fri, Sat, Sun]);
    assert_eq!(s.starts, vec![150]);
}

#[test]
fn steps_and_lists_become_start_times() {
    let s = compile_cron("0 */6 * * 1-5").unwrap();
    assert_eq!(s.starts, vec![0, 360, 720, 1080]);
    assert_eq!(s.weekdays, vec![Mon, Tue, Wed, Thu, Fri]);
    let s = compile_cron("15,45 8-9 * * *").unwrap();
    assert_eq!(s.starts, vec![495, 525, 555, 585]);
    let s = compile_cron("5/20 3 * * *").unwrap();
    assert_eq!(s.starts, vec![185, 205, 225]);
    let s = compile_cron("0 1-10/3 * * *").unwrap();
    assert_eq!(s.starts, vec![60, 240, 420, 600]);
}

#[test]
fn weekday_names_and_both_sundays_are_understood() {
    assert_eq!(
        compile_cron("0 17 * * MON-FRI").unwrap().weekdays,
        vec![Mon, Tue, Wed, Thu, Fri]
    );
    assert_eq!(compile_cron("0 0 * * 0").unwrap().weekdays, vec![Sun]);
    assert_eq!(compile_cron("0 0 * * 7").unwrap().weekdays, vec![Sun]);
    assert_eq!(
        compile_cron("0 0 * * sun,mon").unwrap().weekdays,
        vec![Mon, Sun],
        "Monday first, as the vendor lists"
    );
    assert_eq!(
        compile_cron("0 0 * * */2").unwrap().weekdays,
        vec![Tue, Thu, Sat, Sun]
    );
}

#[test]
fn months_restrict_monthly_schedules() {
    let s = compile_cron("0 3 1 jan,jul *").unwrap();
    assert_eq!(
        (s.kind, s.monthdays.clone(), s.months.clone()),
        (CyberBackupScheduleType::Monthly, vec![1], vec![1, 7])
    );
    let s = compile_cron("0 3 * 6 *").unwrap();
    assert_eq!(s.kind, CyberBackupScheduleType::Monthly);
    assert_eq!(s.monthdays, (1..=31).collect::<Vec<u8>>());
    assert_eq!(s.months, vec![6]);
}

#[test]
fn inexpressible_schedules_name_the_cron_field() {
    for cron in ["0 3 1 * 1", "0 3 * 6 1-5"] {
        let e = err(cron);
        assert_eq!(e.field, "spec.schedule.cron", "{cron}");
    }
    assert!(err("0 3 1 * 1").message.contains("OR"));
    assert!(err("0 3 * 6 1").message.contains("month"));
    // A dom/dow pair where one starts with `*` means AND in cron: still both limited.
    assert!(err("0 3 1 * */2").message.contains("not both"));
    assert!(err("0 3 */2 * 1").message.contains("not both"));
}

#[test]
fn too_many_start_times_are_refused() {
    assert!(err("* * * * *").message.contains("1440 times a day"));
    assert!(err("*/15 * * * *").message.contains("96 times"));
    assert!(
        compile_cron("*/30 * * * *").is_ok(),
        "48 starts is the limit"
    );
}

#[test]
fn malformed_and_unsupported_fields_are_refused() {
    for cron in [
        "0 3 * *",
        "0 3 * * * *",
        "61 3 * * *",
        "0 24 * * *",
        "0 3 0 * *",
        "0 3 * 13 *",
        "0 5-1 * * *",
        "*/0 3 * * *",
        "a 3 * * *",
        "0 3 L * *",
        "0 3 15W * *",
        "0 3 * * 5#2",
        "0 3 ? * *",
        "0 3 * FOO *",
    ] {
        assert_eq!(err(cron).field, "spec.schedule.cron", "{cron}");
    }
}

#[test]
fn native_backup_sets_take_the_same_shape() {
    let set = CyberBackupSet {
        set_type: "FULL".into(),
        schedule_type: CyberBackupScheduleType::Weekly,
        weekdays: Some(vec![Fri, Mon, Mon]),
        monthdays: None,
        months: None,
        repeat_at: vec![
            CyberBackupTimeOfDay {
                hour: 10,
                minute: 15,
            },
            CyberBackupTimeOfDay { hour: 1, minute: 0 },
        ],
    };
    let s = from_native(&set);
    assert_eq!(s.weekdays, vec![Mon, Fri]);
    assert_eq!(s.starts, vec![60, 615]);
    assert_eq!(s.to_json()["type"], "WEEKLY");
    let monthly = CyberBackupSet {
        schedule_type: CyberBackupScheduleType::Monthly,
        monthdays: Some(vec![15, 1]),
        repeat_at: vec![CyberBackupTimeOfDay {
            hour: 12,
            minute: 30,
        }],
        ..Default::default()
    };
    let s = from_native(&monthly);
    assert_eq!((s.monthdays.clone(), s.months.len()), (vec![1, 15], 12));
    assert!(s.weekdays.is_empty());
}

#[test]
fn zones_with_a_fixed_difference_shift_by_it() {
    let t = at("2025-01-01T00:00:00Z");
    assert_eq!(fixed_shift_minutes("UTC", "UTC", t).unwrap(), 0);
    assert_eq!(
        fixed_shift_minutes("Europe/Moscow", "UTC", t).unwrap(),
        -180
    );
    assert_eq!(
        fixed_shift_minutes("Asia/Tokyo", "Europe/Moscow", t).unwrap(),
        -360
    );
    // Same daylight-saving rules: the difference never changes.
    assert_eq!(
        fixed_shift_minutes("Europe/Berlin", "Europe/Paris", t).unwrap(),
        0
    );
    assert_eq!(
        fixed_shift_minutes("Europe/London", "Europe/Berlin", t).unwrap(),
        60
    );
}

#[test]
fn zones_with_different_daylight_saving_are_refused() {
    let t = at("2025-01-01T00:00:00Z");
    let e = fixed_shift_minutes("America/New_York", "UTC", t).unwrap_err();
    assert_eq!(e.field, "spec.schedule.timeZone");
    assert!(
        fixed_shift_minutes("Europe/Berlin", "America/New_York", t).is_err(),
        "both change, on different dates"
    );
    assert!(
        fixed_shift_minutes("Mars/Olympus", "UTC", t)
            .unwrap_err()
            .message
            .contains("unknown time zone")
    );
}

#[test]
fn a_clock_at_the_end_of_time_does_not_panic() {
    // Found by tests/fuzz: "a year ahead" of 9999-12-30 overflowed the timestamp.
    let t = at("9999-12-30T22:00:00Z");
    assert_eq!(fixed_shift_minutes("UTC", "Etc/UTC", t).unwrap(), 0);
    assert_eq!(
        fixed_shift_minutes("Europe/Moscow", "UTC", t).unwrap(),
        -180
    );
}

#[test]
fn shifting_across_midnight_moves_the_weekdays() {
    // 02:30 Monday in Moscow is 23:30 Sunday in UTC.
    let s = shift(compile_cron("30 2 * * 1").unwrap(), -180).unwrap();
    assert_eq!(
        (s.weekdays.clone(), s.starts.clone()),
        (vec![Sun], vec![1410])
    );
    // 22:00 Sunday in UTC is 01:00 Monday in Moscow.
    let s = shift(compile_cron("0 22 * * 0,6").unwrap(), 180).unwrap();
    assert_eq!(
        (s.weekdays.clone(), s.starts.clone()),
        (vec![Mon, Sun], vec![60])
    );
    let s = shift(compile_cron("0 12 * * 1").unwrap(), -180).unwrap();
    assert_eq!(
        (s.weekdays.clone(), s.starts.clone()),
        (vec![Mon], vec![540])
    );
}

#[test]
fn a_shift_that_splits_the_day_is_refused() {
    let e = shift(compile_cron("0 1,12 * * *").unwrap(), -180).unwrap_err();
    assert_eq!(e.field, "spec.schedule.timeZone");
}

#[test]
fn monthly_schedules_cannot_cross_midnight_unless_they_run_every_day() {
    assert!(shift(compile_cron("30 1 1 * *").unwrap(), -180).is_err());
    assert_eq!(
        shift(compile_cron("30 1 1 * *").unwrap(), 60)
            .unwrap()
            .starts,
        vec![150]
    );
    let every_day = shift(compile_cron("0 2 * * *").unwrap(), -180).unwrap();
    assert_eq!(every_day.weekdays.len(), 7);
}
