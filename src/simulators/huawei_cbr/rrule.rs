//! Trigger patterns: the RRULE subset the document allows (`FREQ=WEEKLY|DAILY`, `BYDAY`,
//! `BYHOUR`, `BYMINUTE`, `INTERVAL`; at most 24 rules; never more often than hourly).

use std::collections::BTreeSet;

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
}

const DAYS: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

/// One rule: `FREQ=WEEKLY|DAILY` with `BYDAY`, `BYHOUR`, `BYMINUTE`, `INTERVAL` only.
// GUESS (L3728): BYHOUR and BYMINUTE are required and single-valued (every example has exactly one
// of each), BYDAY is required for WEEKLY, and parts may come in any order.
fn parse_rule(rule: &str) -> Result<Rule, String> {
    let (mut freq, mut days, mut hour, mut minute) = (None, None, None, None);
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
                v.parse::<u32>()
                    .ok()
                    .filter(|i| *i >= 1)
                    .ok_or("INTERVAL is a positive integer")?;
            }
            other => return Err(format!("{other} is not supported")),
        }
    }
    let days = match (freq.ok_or("FREQ is required")?, days) {
        ("WEEKLY", None) => return Err("BYDAY is required with FREQ=WEEKLY".into()),
        (_, Some(d)) => d,
        (_, None) => (0..7).collect(),
    };
    Ok(Rule {
        days,
        hour: hour.ok_or("BYHOUR is required")?,
        minute: minute.ok_or("BYMINUTE is required")?,
    })
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
}
