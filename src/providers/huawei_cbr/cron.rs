//! A five-field cron expression (minute, hour, day of month, month, day of week) read into the
//! set of values each field allows: lists, ranges, steps, `*`, and the usual month and weekday
//! names. Pure; used by the schedule translation.

use std::collections::BTreeSet;

use super::schedule::ScheduleError;

/// The value sets of a cron expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronSets {
    pub minutes: BTreeSet<u32>,
    pub hours: BTreeSet<u32>,
    pub days_of_month: BTreeSet<u32>,
    pub months: BTreeSet<u32>,
    /// 0 = Monday … 6 = Sunday.
    pub weekdays: BTreeSet<u32>,
    /// Both day fields are restricted (neither starts with `*`): cron then runs on the days
    /// that match either field, not both.
    pub either_day_field: bool,
}

struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
}

const MINUTE: Field = Field {
    name: "minute",
    min: 0,
    max: 59,
    names: &[],
};
const HOUR: Field = Field {
    name: "hour",
    min: 0,
    max: 23,
    names: &[],
};
const DAY_OF_MONTH: Field = Field {
    name: "day of month",
    min: 1,
    max: 31,
    names: &[],
};
const MONTH: Field = Field {
    name: "month",
    min: 1,
    max: 12,
    names: &[
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ],
};
// Cron counts weekdays from Sunday = 0 (7 is Sunday too).
const DAY_OF_WEEK: Field = Field {
    name: "day of week",
    min: 0,
    max: 7,
    names: &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
};

/// Read `expr`; the error names the offending field.
pub fn parse(expr: &str) -> Result<CronSets, ScheduleError> {
    let parts: Vec<&str> = expr.split_whitespace().collect();
    if parts.len() != 5 {
        return Err(ScheduleError::new(
            "cron",
            format!(
                "expected 5 fields (minute hour day-of-month month day-of-week), found {}",
                parts.len()
            ),
        ));
    }
    let weekdays = field(parts[4], &DAY_OF_WEEK)?
        .into_iter()
        .map(|d| (d + 6) % 7)
        .collect();
    Ok(CronSets {
        minutes: field(parts[0], &MINUTE)?,
        hours: field(parts[1], &HOUR)?,
        days_of_month: field(parts[2], &DAY_OF_MONTH)?,
        months: field(parts[3], &MONTH)?,
        weekdays,
        either_day_field: !parts[2].starts_with('*') && !parts[4].starts_with('*'),
    })
}

impl CronSets {
    pub fn every_day_of_month(&self) -> bool {
        self.days_of_month.len() == 31
    }
    pub fn every_month(&self) -> bool {
        self.months.len() == 12
    }
}

fn field(text: &str, f: &Field) -> Result<BTreeSet<u32>, ScheduleError> {
    let mut out = BTreeSet::new();
    for item in text.split(',') {
        out.extend(
            item_values(item, f)
                .map_err(|why| ScheduleError::new(f.name, format!("'{item}': {why}")))?,
        );
    }
    Ok(out)
}

fn item_values(item: &str, f: &Field) -> Result<Vec<u32>, String> {
    let (range, step) = match item.split_once('/') {
        Some((r, s)) => (
            r,
            Some(
                s.parse::<u32>()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or("the step must be a positive number")?,
            ),
        ),
        None => (item, None),
    };
    let (lo, hi) = match range {
        "*" => (f.min, f.max),
        r => match r.split_once('-') {
            Some((a, b)) => (value(a, f)?, value(b, f)?),
            // `5/15` means from 5 to the end in steps of 15.
            None if step.is_some() => (value(r, f)?, f.max),
            None => (value(r, f)?, value(r, f)?),
        },
    };
    if lo > hi {
        return Err(format!("the range {lo}-{hi} runs backwards"));
    }
    Ok((lo..=hi).step_by(step.unwrap_or(1) as usize).collect())
}

fn value(text: &str, f: &Field) -> Result<u32, String> {
    let upper = text.to_ascii_uppercase();
    if let Some(i) = f.names.iter().position(|n| *n == upper) {
        return Ok(i as u32 + if f.names.len() == 12 { 1 } else { 0 });
    }
    let n: u32 = text
        .parse()
        .map_err(|_| format!("'{text}' is not a number"))?;
    if n < f.min || n > f.max {
        return Err(format!("{n} is outside {}-{}", f.min, f.max));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(v: &[u32]) -> BTreeSet<u32> {
        v.iter().copied().collect()
    }

    #[test]
    fn lists_ranges_steps_and_names() {
        let c = parse("0,30 */6 * * 1-5").unwrap();
        assert_eq!(c.minutes, set(&[0, 30]));
        assert_eq!(c.hours, set(&[0, 6, 12, 18]));
        assert_eq!(c.weekdays, set(&[0, 1, 2, 3, 4]));
        assert!(c.every_day_of_month() && c.every_month());
        let c = parse("5/20 8-17/3 1-31 JAN-DEC sun,SAT").unwrap();
        assert_eq!(c.minutes, set(&[5, 25, 45]));
        assert_eq!(c.hours, set(&[8, 11, 14, 17]));
        assert_eq!(c.weekdays, set(&[5, 6]));
        assert!(c.every_month());
        assert_eq!(parse("0 0 * * 0,7").unwrap().weekdays, set(&[6]));
        assert_eq!(parse("0 0 1,15 FEB *").unwrap().months, set(&[2]));
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            ("0 0 * *", "cron"),
            ("60 0 * * *", "minute"),
            ("0 24 * * *", "hour"),
            ("0 0 0 * *", "day of month"),
            ("0 0 * 13 *", "month"),
            ("0 0 * * 8", "day of week"),
            ("*/0 0 * * *", "minute"),
            ("0 5-1 * * *", "hour"),
            ("0 x * * *", "hour"),
            ("0 0 * * MON-", "day of week"),
        ];
        for (expr, field) in cases {
            assert_eq!(parse(expr).unwrap_err().field, field, "{expr}");
        }
    }
}
