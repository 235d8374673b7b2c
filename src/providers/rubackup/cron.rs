//! One cron field as a set of values. RuBackup stores five cron fields per schedule (`min`,
//! `hour`, `dom`, `mon`, `dow`); the document only shows single numbers. rampart sends a single
//! value as a JSON number, as the document does, and anything else as cron text (`*`, `1-5`,
//! `*/6`), and compares fields as sets, so `0-59/15` and `*/15` are the same schedule.

use std::collections::BTreeSet;

use serde_json::Value;

/// Which of the five fields: the portable cron's (`vendor::cron`).
pub use crate::vendor::cron::Field as CronField;

/// RuBackup's key suffix of a field (`full_min`, `min`, ...).
pub trait VendorSuffix {
    fn vendor_suffix(self) -> &'static str;
}

impl VendorSuffix for CronField {
    fn vendor_suffix(self) -> &'static str {
        match self {
            CronField::Minute => "min",
            CronField::Hour => "hour",
            CronField::DayOfMonth => "dom",
            CronField::Month => "mon",
            CronField::DayOfWeek => "dow",
        }
    }
}

/// The values a field matches.
#[derive(Debug, Clone, Eq)]
pub struct FieldSet {
    pub field: CronField,
    pub values: BTreeSet<u8>,
    /// Written starting with `*` (`*`, `*/2`). For the two day fields this is part of the
    /// meaning: cron runs on the days both allow when either starts with `*`, and on the days
    /// either allows when neither does.
    pub star: bool,
}

/// Equal values; for the day fields also the same `*` (see [`FieldSet::star`]).
impl PartialEq for FieldSet {
    fn eq(&self, other: &Self) -> bool {
        self.field == other.field
            && self.values == other.values
            && (!self.field.is_day() || self.star == other.star)
    }
}

impl FieldSet {
    pub fn full(field: CronField) -> Self {
        let (lo, hi) = field.range();
        FieldSet {
            field,
            values: (lo..=hi).collect(),
            star: true,
        }
    }

    /// Every value of the field, however written.
    pub fn is_full(&self) -> bool {
        let (lo, hi) = self.field.range();
        self.values.len() == usize::from(hi - lo) + 1
    }

    /// Parse cron field text: `*`, `n`, `a-b`, `*/s`, `a-b/s`, `a/s`, lists of those, month and
    /// weekday names (the portable cron's reader).
    pub fn parse(field: CronField, text: &str) -> Result<FieldSet, String> {
        let v = crate::vendor::cron::parse_field(field, text).map_err(|e| e.message)?;
        Ok(FieldSet {
            field,
            values: v.values,
            star: v.star,
        })
    }

    /// A field as RuBackup returns it: a JSON number or cron text.
    pub fn from_vendor(field: CronField, value: &Value) -> Result<FieldSet, String> {
        match value {
            Value::Number(n) => FieldSet::parse(field, &n.to_string()),
            Value::String(s) => FieldSet::parse(field, s),
            other => Err(format!("{other} is not a cron field")),
        }
    }

    /// The most compact text: `*`, a single number, `*/s`, or ranges and lists. A day field
    /// starts with `*` exactly when it was written so.
    pub fn render(&self) -> String {
        let (lo, hi) = self.field.range();
        let star = self.star || !self.field.is_day();
        if self.is_full() && star {
            return "*".to_string();
        }
        let v: Vec<u8> = self.values.iter().copied().collect();
        if star && v.len() >= 2 && v[0] == lo {
            let step = v[1] - v[0];
            let expected: Vec<u8> = (lo..=hi).step_by(step as usize).collect();
            if step > 1 && v == expected {
                return format!("*/{step}");
            }
        }
        if self.star && self.field.is_day() {
            // Still starting with `*`: `*/<width>` is the first value alone, which a field
            // written with `*` always has.
            let width = hi - lo + 1;
            let rest = ranges(&v[1..]);
            return if rest.is_empty() {
                format!("*/{width}")
            } else {
                format!("*/{width},{rest}")
            };
        }
        ranges(&v)
    }

    /// The field as RuBackup takes it: a single value as a number (the document's form),
    /// anything else as cron text.
    pub fn to_vendor(&self) -> Value {
        match (self.values.len(), self.values.first()) {
            (1, Some(v)) if !(self.star && self.field.is_day()) => Value::from(*v),
            _ => Value::from(self.render()),
        }
    }
}

/// Ascending values as runs: `1-5`, `7,8`, `11`.
fn ranges(v: &[u8]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < v.len() {
        let mut j = i;
        while j + 1 < v.len() && v[j + 1] == v[j] + 1 {
            j += 1;
        }
        parts.push(match j - i {
            0 => v[i].to_string(),
            1 => format!("{},{}", v[i], v[j]),
            _ => format!("{}-{}", v[i], v[j]),
        });
        i = j + 1;
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set(field: CronField, text: &str) -> FieldSet {
        FieldSet::parse(field, text).unwrap()
    }

    #[test]
    fn forms_expand_to_their_values() {
        assert_eq!(set(CronField::Hour, "*").values.len(), 24);
        assert_eq!(
            set(CronField::Minute, "*/15").values,
            BTreeSet::from([0, 15, 30, 45])
        );
        assert_eq!(
            set(CronField::Hour, "1-5").values,
            BTreeSet::from([1, 2, 3, 4, 5])
        );
        assert_eq!(
            set(CronField::Hour, "8-18/5").values,
            BTreeSet::from([8, 13, 18])
        );
        assert_eq!(
            set(CronField::Minute, "50/5").values,
            BTreeSet::from([50, 55])
        );
        assert_eq!(
            set(CronField::DayOfMonth, "1,15").values,
            BTreeSet::from([1, 15])
        );
        assert_eq!(set(CronField::DayOfWeek, "7").values, BTreeSet::from([0]));
        assert_eq!(
            set(CronField::DayOfWeek, "mon-fri").values,
            BTreeSet::from([1, 2, 3, 4, 5])
        );
        assert_eq!(
            set(CronField::Month, "JAN,dec").values,
            BTreeSet::from([1, 12])
        );
        assert!(set(CronField::DayOfWeek, "0-7").is_full());
    }

    #[test]
    fn a_start_with_a_step_of_one_runs_to_the_end() {
        // `5/1` read as 5 alone, while `5/2` ran from 5 to the end (and the other vendors and
        // tests/fuzz's cron oracle read `a/s` as a to the end).
        assert_eq!(set(CronField::Minute, "5/1").values, (5..=59).collect());
        assert_eq!(
            set(CronField::Hour, "20/2").values,
            BTreeSet::from([20, 22])
        );
    }

    #[test]
    fn a_day_field_keeps_its_star_or_its_absence() {
        // Found by tests/fuzz: day of month `1,17` went out as `*/16`, which cron reads as
        // unrestricted, turning "the 1st, the 17th or a weekday" into "a weekday that is the
        // 1st or the 17th".
        let days = set(CronField::DayOfMonth, "1,17");
        assert_eq!(days.render(), "1,17");
        assert_eq!(set(CronField::DayOfMonth, "*/16").render(), "*/16");
        assert_eq!(set(CronField::DayOfMonth, "1-31").render(), "1-31");
        assert_eq!(set(CronField::DayOfWeek, "*").render(), "*");
        assert_ne!(days, set(CronField::DayOfMonth, "*/16"));
        assert!(set(CronField::DayOfMonth, "1-31").is_full());
        // Found by tests/fuzz: `*/2,3-4` lost its `*` when listed.
        let odd = set(CronField::DayOfMonth, "*/2,3-4");
        assert_eq!(
            odd.render(),
            "*/31,3-5,7,9,11,13,15,17,19,21,23,25,27,29,31"
        );
        assert_eq!(set(CronField::DayOfMonth, &odd.render()), odd);
        let sunday = set(CronField::DayOfWeek, "*/7");
        assert_eq!(sunday.to_vendor(), json!("*/7"));
        assert_eq!(
            FieldSet::from_vendor(CronField::DayOfWeek, &sunday.to_vendor()).unwrap(),
            sunday
        );
        // Elsewhere `*` changes nothing: the forms still compare equal.
        assert_eq!(
            set(CronField::Minute, "*/15"),
            set(CronField::Minute, "0-59/15")
        );
    }

    #[test]
    fn bad_fields_say_why() {
        for (field, text, why) in [
            (CronField::Minute, "60", "outside 0-59"),
            (CronField::DayOfMonth, "0", "outside 1-31"),
            (CronField::Hour, "5-1", "backwards"),
            (CronField::Hour, "*/0", "step of 0"),
            (CronField::Minute, "x", "not a number"),
        ] {
            let e = FieldSet::parse(field, text).unwrap_err();
            assert!(e.contains(why), "{text}: {e}");
        }
    }

    #[test]
    fn rendering_is_compact_and_reads_back() {
        for (field, text, rendered) in [
            (CronField::Minute, "0-59/15", "*/15"),
            (CronField::Hour, "0-23", "*"),
            (CronField::Hour, "1,2,3,4,5", "1-5"),
            (CronField::Hour, "1,2,5", "1,2,5"),
            (CronField::DayOfWeek, "1-5,0", "0-5"),
            (CronField::Hour, "3", "3"),
            (CronField::Hour, "1-3,7-9/2", "1-3,7,9"),
        ] {
            let s = set(field, text);
            assert_eq!(s.render(), rendered, "{text}");
            assert_eq!(set(field, &s.render()), s);
        }
    }

    #[test]
    fn single_values_go_out_as_numbers_like_the_document() {
        assert_eq!(set(CronField::Hour, "2").to_vendor(), json!(2));
        assert_eq!(set(CronField::Hour, "*").to_vendor(), json!("*"));
        assert_eq!(set(CronField::DayOfWeek, "1-5").to_vendor(), json!("1-5"));
        assert_eq!(
            FieldSet::from_vendor(CronField::Hour, &json!(2)).unwrap(),
            set(CronField::Hour, "2")
        );
        assert_eq!(
            FieldSet::from_vendor(CronField::Minute, &json!("*/30")).unwrap(),
            set(CronField::Minute, "0,30")
        );
        assert!(FieldSet::from_vendor(CronField::Minute, &json!(true)).is_err());
    }
}
