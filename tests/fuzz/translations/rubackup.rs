//! RuBackup: a cron in a zone becomes five cron fields on the server's clock that, read as
//! cron (by the oracle), start at the same instants as the original over a year from `now`;
//! every cron the oracle reads is accepted when the zones agree; each field survives the trip
//! to the vendor and back; failures name `cron` or `timeZone`. Retention is `keepDays` only.

use jiff::tz::TimeZone;
use proptest::prelude::*;
use rampart::api::schedule::Schedule;
use rampart::providers::rubackup::cron::FieldSet;
use rampart::providers::rubackup::interval::Interval;
use rampart::providers::rubackup::schedule::{portable_cron, portable_retention};

use super::oracle;
use super::{ZONES, cron, first_difference, instants, retention, window_days, zone_and_now};
use crate::support;

const PATH: &str = "spec.schedule";

/// The server's zone, or (`None`) the schedule's own.
fn server_zone() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        1 => Just(None),
        2 => prop::sample::select(ZONES).prop_map(|z| Some(z.to_string())),
    ]
}

proptest! {
    #![proptest_config(support::config(768))]

    #[test]
    fn a_cron_becomes_server_fields_that_start_when_cron_does(
        cron in cron(),
        (zone, now) in zone_and_now(),
        server in server_zone(),
    ) {
        let from = zone.clone().unwrap_or_else(|| "UTC".to_string());
        let server = server.unwrap_or_else(|| from.clone());
        let schedule = Schedule { cron: cron.clone(), time_zone: zone, grace_minutes: None };
        let original = oracle::parse(&cron);
        let fields = match portable_cron(&schedule, PATH, &server, now) {
            Err(e) => {
                let ok = [format!("{PATH}.cron"), format!("{PATH}.timeZone")];
                prop_assert!(ok.contains(&e.field), "{}", e.field);
                prop_assert!(!e.message.trim().is_empty());
                // RuBackup's fields are cron: on the server's own clock every cron fits.
                let refused = format!("{cron:?} refused: {}", e.message);
                prop_assert!(server != from || original.is_none(), "{refused}");
                return Ok(());
            }
            Ok(fields) => fields,
        };
        let Some(c) = original else {
            return Err(TestCaseError::fail(format!("{cron:?} is not cron, yet compiled")));
        };
        for f in fields.fields() {
            let back = FieldSet::from_vendor(f.field, &f.to_vendor());
            prop_assert_eq!(back.as_ref(), Ok(f));
        }
        let rendered: Vec<String> = fields.fields().iter().map(|f| f.render()).collect();
        let sent = oracle::parse(&rendered.join(" "));
        let Some(sent) = sent else {
            return Err(TestCaseError::fail(format!("{rendered:?} is not cron")));
        };
        let (Ok(from_tz), Ok(server_tz)) = (TimeZone::get(&from), TimeZone::get(&server)) else {
            return Ok(());
        };
        let days = window_days(c.times_of_day().len());
        let wanted = instants(|d| c.runs_on(d), &c.times_of_day(), &from_tz, now, days);
        let got = instants(|d| sent.runs_on(d), &sent.times_of_day(), &server_tz, now, days);
        let offsets = server_tz.to_offset(now).seconds() - from_tz.to_offset(now).seconds();
        if let (true, Some(wanted), Some(got)) = (offsets % 60 == 0, wanted, got) {
            let diff = first_difference(&wanted, &got);
            prop_assert!(diff.is_none(), "{cron} in {from} → {rendered:?} in {server}: {diff:?}");
        }
    }

    #[test]
    fn a_retention_is_a_storage_duration_or_names_its_field(r in retention()) {
        let others = [r.keep_last, r.daily, r.weekly, r.monthly, r.yearly];
        match portable_retention(&r, "spec.retention") {
            Ok(iv) => {
                prop_assert!(others.iter().all(Option::is_none));
                prop_assert_eq!(Some(iv), r.keep_days.map(|d| Interval::days(d.into())));
                prop_assert_eq!(Interval::parse(&iv.to_postgres()), Ok(iv));
            }
            Err(e) => {
                prop_assert!(e.field.starts_with("spec.retention."), "{}", e.field);
                prop_assert!(others.iter().any(Option::is_some) || r.keep_days.is_none());
            }
        }
    }
}
