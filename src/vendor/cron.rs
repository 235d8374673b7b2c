//! The portable schedule's five-field cron (minute, hour, day of month, month, day of week),
//! read once for every vendor: each field's values, and whether it was written starting with
//! `*`, which decides cron's day rule (the days both day fields allow when either starts with
//! `*`, the days either allows when neither does). Lists, ranges, steps, `*`, and month and
//! weekday names; day of week counts from Sunday = 0, and 7 is Sunday too. Pure.

use std::collections::BTreeSet;
use std::fmt;

/// One of the five fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Minute,
    Hour,
    DayOfMonth,
    Month,
    DayOfWeek,
}

impl Field {
    pub const ALL: [Field; 5] = [
        Field::Minute,
        Field::Hour,
        Field::DayOfMonth,
        Field::Month,
        Field::DayOfWeek,
    ];

    /// Smallest and largest value a field holds (day of week 0-6: 7 is read as 0).
    pub fn range(self) -> (u8, u8) {
        match self {
            Field::Minute => (0, 59),
            Field::Hour => (0, 23),
            Field::DayOfMonth => (1, 31),
            Field::Month => (1, 12),
            Field::DayOfWeek => (0, 6),
        }
    }

    /// The field in words, for messages.
    pub fn label(self) -> &'static str {
        match self {
            Field::Minute => "minute",
            Field::Hour => "hour",
            Field::DayOfMonth => "day of month",
            Field::Month => "month",
            Field::DayOfWeek => "day of week",
        }
    }

    /// The field's name in a native `cron` block of a spec (`dayOfMonth`).
    pub fn spec_name(self) -> &'static str {
        match self {
            Field::Minute => "minute",
            Field::Hour => "hour",
            Field::DayOfMonth => "dayOfMonth",
            Field::Month => "month",
            Field::DayOfWeek => "dayOfWeek",
        }
    }

    /// Day of month or day of week, whose `*` matters.
    pub fn is_day(self) -> bool {
        matches!(self, Field::DayOfMonth | Field::DayOfWeek)
    }

    fn names(self) -> &'static [&'static str] {
        match self {
            Field::Month => &[
                "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
            ],
            Field::DayOfWeek => &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
            _ => &[],
        }
    }

    /// The largest number accepted as written (7 for Sunday).
    fn top(self) -> u8 {
        if self == Field::DayOfWeek {
            7
        } else {
            self.range().1
        }
    }

    fn value(self, text: &str) -> Result<u8, String> {
        let (lo, _) = self.range();
        if let Some(i) = self
            .names()
            .iter()
            .position(|n| n.eq_ignore_ascii_case(text))
        {
            return Ok(lo + i as u8);
        }
        let v: u8 = text.parse().map_err(|_| {
            format!(
                "'{text}' is not a number{}",
                if self.names().is_empty() {
                    ""
                } else {
                    " or a name"
                }
            )
        })?;
        if v < lo || v > self.top() {
            return Err(format!("{v} is outside {lo}-{}", self.top()));
        }
        Ok(v)
    }
}

/// The values one field matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Values {
    pub values: BTreeSet<u8>,
    /// Written starting with `*` (`*`, `*/2`).
    pub star: bool,
}

impl Values {
    /// Every value of `field`, as `*` writes it.
    pub fn every(field: Field) -> Self {
        let (lo, hi) = field.range();
        Values {
            values: (lo..=hi).collect(),
            star: true,
        }
    }

    /// Every value of `field`, however written.
    pub fn is_every(&self, field: Field) -> bool {
        let (lo, hi) = field.range();
        self.values.len() == usize::from(hi - lo) + 1
    }
}

/// Why a schedule cannot be read; names the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronError {
    /// The field, or `None` for the expression as a whole.
    pub field: Option<Field>,
    pub message: String,
}

impl CronError {
    /// The field in words, or `cron` for the whole expression.
    pub fn label(&self) -> &'static str {
        self.field.map_or("cron", Field::label)
    }
}

impl fmt::Display for CronError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.label(), self.message)
    }
}

/// Read one field's text.
pub fn parse_field(field: Field, text: &str) -> Result<Values, CronError> {
    let fail = |message: String| CronError {
        field: Some(field),
        message,
    };
    let text = text.trim();
    let mut values = BTreeSet::new();
    for item in text.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => {
                let s: u8 = s
                    .parse()
                    .map_err(|_| fail(format!("step '{s}' is not a number")))?;
                if s == 0 {
                    return Err(fail("a step of 0 never matches".into()));
                }
                (r, s)
            }
            None => (item, 1),
        };
        let (start, end) = match range {
            "*" => (field.range().0, field.top()),
            r => match r.split_once('-') {
                Some((a, b)) => (field.value(a).map_err(fail)?, field.value(b).map_err(fail)?),
                // `a/s` runs from a to the end (`5/1` included).
                None if item.contains('/') => (field.value(r).map_err(fail)?, field.top()),
                None => {
                    let v = field.value(r).map_err(fail)?;
                    (v, v)
                }
            },
        };
        if start > end {
            return Err(fail(format!("the range {start}-{end} runs backwards")));
        }
        let week = field == Field::DayOfWeek;
        values.extend(
            (start..=end)
                .step_by(step as usize)
                .map(|v| if week && v == 7 { 0 } else { v }),
        );
    }
    Ok(Values {
        values,
        star: text.starts_with('*'),
    })
}

/// A whole five-field expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    pub minute: Values,
    pub hour: Values,
    pub day_of_month: Values,
    pub month: Values,
    /// 0 = Sunday … 6 = Saturday.
    pub day_of_week: Values,
}

impl Cron {
    pub fn field(&self, f: Field) -> &Values {
        match f {
            Field::Minute => &self.minute,
            Field::Hour => &self.hour,
            Field::DayOfMonth => &self.day_of_month,
            Field::Month => &self.month,
            Field::DayOfWeek => &self.day_of_week,
        }
    }

    /// Both day fields are restricted (neither starts with `*`): cron runs on the days that
    /// match either field, not both.
    pub fn either_day_field(&self) -> bool {
        !self.day_of_month.star && !self.day_of_week.star
    }
}

/// Read a five-field expression; the error names the field.
pub fn parse(expr: &str) -> Result<Cron, CronError> {
    let parts: Vec<&str> = expr.split_whitespace().collect();
    let [minute, hour, dom, month, dow] = parts[..] else {
        return Err(CronError {
            field: None,
            message: format!(
                "expected 5 fields (minute hour day-of-month month day-of-week), found {}",
                parts.len()
            ),
        });
    };
    Ok(Cron {
        minute: parse_field(Field::Minute, minute)?,
        hour: parse_field(Field::Hour, hour)?,
        day_of_month: parse_field(Field::DayOfMonth, dom)?,
        month: parse_field(Field::Month, month)?,
        day_of_week: parse_field(Field::DayOfWeek, dow)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(v: &[u8]) -> BTreeSet<u8> {
        v.iter().copied().collect()
    }

    #[test]
    fn lists_ranges_steps_and_names() {
        let c = parse("0,30 */6 * * 1-5").unwrap();
        assert_eq!(c.minute.values, set(&[0, 30]));
        assert_eq!(c.hour.values, set(&[0, 6, 12, 18]));
        assert_eq!(c.day_of_week.values, set(&[1, 2, 3, 4, 5]));
        assert!(c.day_of_month.is_every(Field::DayOfMonth) && c.month.is_every(Field::Month));
        let c = parse("5/20 8-17/3 1-31 JAN-DEC sun,SAT").unwrap();
        assert_eq!(c.minute.values, set(&[5, 25, 45]));
        assert_eq!(c.hour.values, set(&[8, 11, 14, 17]));
        assert_eq!(c.day_of_week.values, set(&[0, 6]));
        assert!(c.month.is_every(Field::Month) && !c.month.star);
        assert_eq!(parse("0 0 * * 0,7").unwrap().day_of_week.values, set(&[0]));
        assert_eq!(parse("0 0 1,15 FEB *").unwrap().month.values, set(&[2]));
        assert_eq!(parse("5/1 * * * *").unwrap().minute.values.len(), 55);
    }

    #[test]
    fn the_day_rule_follows_the_stars() {
        assert!(parse("0 0 1 * MON").unwrap().either_day_field());
        assert!(!parse("0 0 */2 * MON").unwrap().either_day_field());
        assert!(!parse("0 0 1 * *").unwrap().either_day_field());
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
            ("0 0 L * *", "day of month"),
            ("0 0 * * 1#2", "day of week"),
            ("0 0 ? * *", "day of month"),
        ];
        for (expr, field) in cases {
            assert_eq!(parse(expr).unwrap_err().label(), field, "{expr}");
        }
    }
}
