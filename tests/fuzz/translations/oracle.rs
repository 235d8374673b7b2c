//! An independent reading of a five-field cron expression, written from the usual (Vixie) cron
//! rules rather than from either vendor's parser, used as the oracle the translations are
//! checked against: lists, ranges, steps, `N/S` meaning `N-max/S`, month and weekday names,
//! weekday 7 = Sunday, and "day of month OR day of week" when both are restricted (a field is
//! unrestricted when it starts with `*`).

use jiff::civil::{Date, DateTime};

/// The minutes, hours, days, months and weekdays (0 = Sunday) a cron expression allows.
#[derive(Debug, Clone)]
pub struct Cron {
    pub minutes: Vec<bool>,
    pub hours: Vec<bool>,
    days: Vec<bool>,
    months: Vec<bool>,
    weekdays: Vec<bool>,
    day_star: bool,
    weekday_star: bool,
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// Read `expr`; `None` when it is not a valid five-field expression.
pub fn parse(expr: &str) -> Option<Cron> {
    let fields: Vec<&str> = expr.split_whitespace().collect();
    if fields.len() != 5 {
        return None;
    }
    let mut weekdays = field(fields[4], 0, 7, &WEEKDAYS, 0)?;
    if weekdays[7] {
        weekdays[0] = true;
    }
    weekdays.truncate(7);
    Some(Cron {
        minutes: field(fields[0], 0, 59, &[], 0)?,
        hours: field(fields[1], 0, 23, &[], 0)?,
        days: field(fields[2], 1, 31, &[], 0)?,
        months: field(fields[3], 1, 12, &MONTHS, 1)?,
        weekdays,
        day_star: fields[2].starts_with('*'),
        weekday_star: fields[4].starts_with('*'),
    })
}

/// A table indexed by value (0..=max) of the values `text` allows.
fn field(text: &str, min: usize, max: usize, names: &[&str], first: usize) -> Option<Vec<bool>> {
    let mut allowed = vec![false; max + 1];
    for item in text.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => (r, number(s).filter(|s| *s > 0)?),
            None => (item, 1),
        };
        let (lo, hi) = if range == "*" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            (value(a, names, first)?, value(b, names, first)?)
        } else if item.contains('/') {
            (value(range, names, first)?, max)
        } else {
            let v = value(range, names, first)?;
            (v, v)
        };
        if lo < min || hi > max || lo > hi {
            return None;
        }
        for v in (lo..=hi).step_by(step) {
            allowed[v] = true;
        }
    }
    Some(allowed)
}

fn number(text: &str) -> Option<usize> {
    if text.is_empty() || text.len() > 6 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn value(text: &str, names: &[&str], first: usize) -> Option<usize> {
    number(text).or_else(|| {
        names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(text))
            .map(|i| i + first)
    })
}

impl Cron {
    /// Whether the expression runs on `date` at all.
    pub fn runs_on(&self, date: Date) -> bool {
        let day = self.days[date.day() as usize];
        let weekday = self.weekdays[date.weekday().to_sunday_zero_offset() as usize];
        let on_day = if self.day_star || self.weekday_star {
            day && weekday
        } else {
            day || weekday
        };
        on_day && self.months[date.month() as usize]
    }

    /// Whether the expression runs at the civil minute `t`.
    pub fn runs_at(&self, t: DateTime) -> bool {
        self.runs_on(t.date()) && self.hours[t.hour() as usize] && self.minutes[t.minute() as usize]
    }

    /// Minutes after midnight the expression runs at, ascending.
    pub fn times_of_day(&self) -> Vec<i32> {
        let mut out = Vec::new();
        for (h, _) in self.hours.iter().enumerate().filter(|(_, on)| **on) {
            for (m, _) in self.minutes.iter().enumerate().filter(|(_, on)| **on) {
                out.push((h * 60 + m) as i32);
            }
        }
        out
    }
}

#[test]
fn the_oracle_reads_cron_as_cron_does() {
    let at = |s: &str| s.parse::<DateTime>().unwrap();
    let c = parse("30 2 * * 1-5").unwrap();
    assert!(c.runs_at(at("2024-01-15T02:30"))); // a Monday
    assert!(!c.runs_at(at("2024-01-14T02:30"))); // a Sunday
    // Both day fields restricted: either matches.
    let c = parse("0 0 1 * SUN").unwrap();
    assert!(c.runs_on("2024-01-14".parse().unwrap())); // Sunday the 14th
    assert!(c.runs_on("2024-02-01".parse().unwrap())); // Thursday the 1st
    assert!(!c.runs_on("2024-01-15".parse().unwrap()));
    // `*/2` in a day field is still unrestricted: both must match.
    let c = parse("0 0 */2 * 0").unwrap();
    assert!(!c.runs_on("2024-01-14".parse().unwrap())); // Sunday the 14th (even)
    assert!(c.runs_on("2024-01-21".parse().unwrap())); // Sunday the 21st (odd)
    assert_eq!(
        parse("5/20 * * * *").unwrap().times_of_day()[..3],
        [5, 25, 45]
    );
    assert!(
        parse("0 0 * * 7")
            .unwrap()
            .runs_on("2024-01-14".parse().unwrap())
    );
    for bad in [
        "",
        "* * * *",
        "60 * * * *",
        "* 24 * * *",
        "* * 0 * *",
        "* * * 13 *",
    ] {
        assert!(parse(bad).is_none(), "{bad}");
    }
    for bad in [
        "* * * * 8",
        "*/0 * * * *",
        "5-1 * * * *",
        "+5 * * * *",
        "x * * * *",
    ] {
        assert!(parse(bad).is_none(), "{bad}");
    }
}
