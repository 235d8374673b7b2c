//! RuBackup durations are PostgreSQL `interval` literals (`"1 day"`, `"1 Years"`, `"1mon"`,
//! `"1 year 2 mons 03:00:00"`). The server stores the value, not the spelling, so rampart
//! compares values: an interval is reduced to the three parts PostgreSQL keeps apart (months,
//! days, microseconds) and two spellings are equal when those parts are.

use std::fmt;

const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;
/// Why a number too large for PostgreSQL's 64-bit fields is refused (it would overflow).
const OUT_OF_RANGE: &str = "out of range";

/// A PostgreSQL interval value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Interval {
    pub months: i64,
    pub days: i64,
    pub micros: i64,
}

/// Why a text is not an interval.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{text}' is not an interval ({reason}); write for example '30 days', '1 year', '12 hours'"
)]
pub struct IntervalError {
    pub text: String,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Micro,
    Milli,
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
    Decade,
    Century,
    Millennium,
}

fn unit(word: &str) -> Option<Unit> {
    let w = word.to_ascii_lowercase();
    Some(match w.as_str() {
        "microsecond" | "microseconds" | "us" | "usec" | "usecs" => Unit::Micro,
        "millisecond" | "milliseconds" | "ms" | "msec" | "msecs" => Unit::Milli,
        "second" | "seconds" | "s" | "sec" | "secs" => Unit::Second,
        "minute" | "minutes" | "m" | "min" | "mins" => Unit::Minute,
        "hour" | "hours" | "h" | "hr" | "hrs" => Unit::Hour,
        "day" | "days" | "d" => Unit::Day,
        "week" | "weeks" | "w" => Unit::Week,
        "month" | "months" | "mon" | "mons" => Unit::Month,
        "year" | "years" | "y" | "yr" | "yrs" => Unit::Year,
        "decade" | "decades" | "dec" | "decs" => Unit::Decade,
        "century" | "centuries" | "c" | "cent" => Unit::Century,
        "millennium" | "millennia" | "millenniums" | "mil" | "mils" => Unit::Millennium,
        _ => return None,
    })
}

impl Interval {
    pub fn days(n: i64) -> Self {
        Interval {
            months: 0,
            days: n,
            micros: 0,
        }
    }

    /// Parse the PostgreSQL input forms RuBackup's documents and servers use: `<number> <unit>`
    /// pairs (units in any case, singular or plural, abbreviated, with or without a space),
    /// an optional `HH:MM[:SS[.ffffff]]` time, a leading `@` and a trailing `ago`.
    pub fn parse(text: &str) -> Result<Interval, IntervalError> {
        let fail = |reason: &str| IntervalError {
            text: text.to_string(),
            reason: reason.to_string(),
        };
        let mut acc = Accumulator::default();
        let mut tokens = tokenize(text.trim().trim_start_matches('@'))
            .into_iter()
            .peekable();
        let mut negate = false;
        let mut seen = false;
        while let Some(tok) = tokens.next() {
            if tok.eq_ignore_ascii_case("ago") {
                if tokens.peek().is_some() {
                    return Err(fail("'ago' must come last"));
                }
                negate = true;
                continue;
            }
            if tok.contains(':') {
                let t = parse_time(&tok).ok_or_else(|| fail("bad time of day"))?;
                acc.micros = acc
                    .micros
                    .checked_add(t)
                    .ok_or_else(|| fail(OUT_OF_RANGE))?;
                seen = true;
                continue;
            }
            let value: f64 = tok
                .parse()
                .map_err(|_| fail(&format!("'{tok}' is not a number")))?;
            let word = tokens
                .next()
                .ok_or_else(|| fail(&format!("{tok} has no unit")))?;
            let u = unit(&word).ok_or_else(|| fail(&format!("unknown unit '{word}'")))?;
            acc.add(value, u).ok_or_else(|| fail(OUT_OF_RANGE))?;
            seen = true;
        }
        if !seen {
            return Err(fail("empty"));
        }
        let iv = acc.finish().ok_or_else(|| fail(OUT_OF_RANGE))?;
        if !negate {
            return Ok(iv);
        }
        let negated = (|| {
            Some(Interval {
                months: iv.months.checked_neg()?,
                days: iv.days.checked_neg()?,
                micros: iv.micros.checked_neg()?,
            })
        })();
        negated.ok_or_else(|| fail(OUT_OF_RANGE))
    }

    /// PostgreSQL's default output style (`1 year 2 mons 3 days 04:05:06`).
    pub fn to_postgres(&self) -> String {
        let mut parts = Vec::new();
        let (years, months) = (self.months / 12, self.months % 12);
        let plural = |n: i64, one: &str, many: &str| {
            format!("{n} {}", if n.abs() == 1 { one } else { many })
        };
        if years != 0 {
            parts.push(plural(years, "year", "years"));
        }
        if months != 0 {
            parts.push(plural(months, "mon", "mons"));
        }
        if self.days != 0 {
            parts.push(plural(self.days, "day", "days"));
        }
        if self.micros != 0 || parts.is_empty() {
            parts.push(format_time(self.micros));
        }
        parts.join(" ")
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_postgres())
    }
}

/// Split `1mon 2 days` into `1`, `mon`, `2`, `days`: a number glued to its unit is two tokens.
fn tokenize(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for word in text.split_whitespace() {
        if word.contains(':') {
            out.push(word.to_string());
            continue;
        }
        let numeric =
            word.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '-' | '+' | '.'));
        let split = numeric
            .then(|| word.find(|c: char| c.is_ascii_alphabetic()))
            .flatten();
        match split {
            Some(i) => {
                out.push(word[..i].to_string());
                out.push(word[i..].to_string());
            }
            None => out.push(word.to_string()),
        }
    }
    out
}

/// `[-]HH:MM[:SS[.ffffff]]` as microseconds.
fn parse_time(text: &str) -> Option<i64> {
    let (sign, body) = match text.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, text.strip_prefix('+').unwrap_or(text)),
    };
    let mut parts = body.split(':');
    let hours: i64 = parts.next()?.parse().ok()?;
    let minutes: i64 = parts.next()?.parse().ok()?;
    let seconds: f64 = match parts.next() {
        Some(s) => s.parse().ok()?,
        None => 0.0,
    };
    if parts.next().is_some() || !(0..60).contains(&minutes) || !(0.0..60.0).contains(&seconds) {
        return None;
    }
    let micros = hours
        .checked_mul(3600)?
        .checked_add(minutes * 60)?
        .checked_mul(MICROS_PER_SECOND)?
        .checked_add((seconds * 1e6).round() as i64)?;
    micros.checked_mul(sign)
}

fn format_time(micros: i64) -> String {
    let sign = if micros < 0 { "-" } else { "" };
    let m = micros.unsigned_abs();
    let secs = m / MICROS_PER_SECOND as u64;
    let frac = m % MICROS_PER_SECOND as u64;
    let base = format!(
        "{sign}{:02}:{:02}:{:02}",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    );
    if frac == 0 {
        base
    } else {
        format!("{base}.{}", format!("{frac:06}").trim_end_matches('0'))
    }
}

/// Sums the parts as PostgreSQL does: fractions of a month spill into days (30 per month), and
/// fractions of a day into time.
#[derive(Default)]
struct Accumulator {
    months: f64,
    days: f64,
    micros: i64,
}

impl Accumulator {
    /// Add `value` of unit `u`; `None` when the result no longer fits.
    fn add(&mut self, value: f64, u: Unit) -> Option<()> {
        let micros = |per: f64| -> Option<i64> {
            let v = (value * per).round();
            // `as` would saturate silently; beyond i64 the interval is not PostgreSQL's.
            (v.is_finite() && v.abs() < i64::MAX as f64).then_some(v as i64)
        };
        match u {
            Unit::Micro => self.micros = self.micros.checked_add(micros(1.0)?)?,
            Unit::Milli => self.micros = self.micros.checked_add(micros(1e3)?)?,
            Unit::Second => self.micros = self.micros.checked_add(micros(1e6)?)?,
            Unit::Minute => self.micros = self.micros.checked_add(micros(60e6)?)?,
            Unit::Hour => self.micros = self.micros.checked_add(micros(3600e6)?)?,
            Unit::Day => self.days += value,
            Unit::Week => self.days += value * 7.0,
            Unit::Month => self.months += value,
            Unit::Year => self.months += value * 12.0,
            Unit::Decade => self.months += value * 120.0,
            Unit::Century => self.months += value * 1200.0,
            Unit::Millennium => self.months += value * 12000.0,
        }
        Some(())
    }

    /// The interval; `None` when a part is too large to be held exactly (months and days are
    /// summed as floating point, exact up to 2^53).
    fn finish(self) -> Option<Interval> {
        const EXACT: f64 = 9_007_199_254_740_992.0;
        let whole = |v: f64| (v.is_finite() && v.abs() <= EXACT).then_some(v as i64);
        let months = self.months.trunc();
        let days = self.days + (self.months - months) * 30.0;
        let whole_days = days.trunc();
        let spill = whole(((days - whole_days) * MICROS_PER_DAY as f64).round())?;
        Some(Interval {
            months: whole(months)?,
            days: whole(whole_days)?,
            micros: self.micros.checked_add(spill)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iv(text: &str) -> Interval {
        Interval::parse(text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_documents_spellings_parse_to_their_values() {
        assert_eq!(iv("1 day"), Interval::days(1));
        assert_eq!(
            iv("1 min"),
            Interval {
                micros: 60 * MICROS_PER_SECOND,
                ..Default::default()
            }
        );
        assert_eq!(
            iv("1 Years"),
            Interval {
                months: 12,
                ..Default::default()
            }
        );
        assert_eq!(iv("1 year"), iv("1 Years"));
        assert_eq!(
            iv("1mon"),
            Interval {
                months: 1,
                ..Default::default()
            }
        );
        assert_eq!(iv("1mon"), iv("1 mons"));
    }

    #[test]
    fn postgres_output_reads_back_to_the_same_value() {
        for text in [
            "1 year 2 mons 3 days 04:05:06",
            "30 days",
            "1 mon",
            "-1 days",
            "00:00:00.25",
            "2 years",
        ] {
            let v = iv(text);
            assert_eq!(iv(&v.to_postgres()), v, "{text} -> {}", v.to_postgres());
        }
        assert_eq!(iv("1 Years").to_postgres(), "1 year");
        assert_eq!(iv("14 mons").to_postgres(), "1 year 2 mons");
        assert_eq!(iv("36 hours").to_postgres(), "36:00:00");
        assert_eq!(iv("0 days").to_postgres(), "00:00:00");
    }

    #[test]
    fn weeks_and_fractions_spill_like_postgres() {
        assert_eq!(iv("2 weeks"), Interval::days(14));
        assert_eq!(
            iv("1.5 years"),
            Interval {
                months: 18,
                ..Default::default()
            }
        );
        assert_eq!(
            iv("1.5 mons"),
            Interval {
                months: 1,
                days: 15,
                micros: 0
            }
        );
        assert_eq!(
            iv("1.5 days"),
            Interval {
                months: 0,
                days: 1,
                micros: 12 * 3600 * MICROS_PER_SECOND
            }
        );
    }

    #[test]
    fn months_days_and_hours_stay_distinct() {
        // PostgreSQL keeps '1 mon' and '30 days' apart: they add differently to dates.
        assert_ne!(iv("1 mon"), iv("30 days"));
        assert_ne!(iv("1 day"), iv("24 hours"));
    }

    #[test]
    fn time_parts_signs_and_ago() {
        assert_eq!(
            iv("01:30"),
            Interval {
                micros: 90 * 60 * MICROS_PER_SECOND,
                ..Default::default()
            }
        );
        assert_eq!(
            iv("1 day 01:00:00"),
            Interval {
                months: 0,
                days: 1,
                micros: 3600 * MICROS_PER_SECOND
            }
        );
        assert_eq!(iv("@ 3 days ago"), Interval::days(-3));
        assert_eq!(iv("-01:00:00").micros, -3600 * MICROS_PER_SECOND);
    }

    #[test]
    fn numbers_beyond_64_bits_are_refused_not_wrapped() {
        // Found by tests/fuzz: `-9223372036854775808 days ago` overflowed the negation, and
        // `104139456229407145 mon` printed as another number; huge times of day and unit sums
        // overflowed too, and `as` saturated others silently.
        for (text, reason) in [
            ("-9223372036854775808 days ago", OUT_OF_RANGE),
            ("9223372036854775807:00:00", "bad time of day"),
            ("9223372036854775807 hours", OUT_OF_RANGE),
            ("1000000000000000000000 days", OUT_OF_RANGE),
            ("5000000000000 hours 5000000000000 hours", OUT_OF_RANGE),
            // Months and days beyond 2^53 no longer read back as printed.
            ("104139456229407145 mon", OUT_OF_RANGE),
        ] {
            let e = Interval::parse(text).unwrap_err();
            assert_eq!(e.reason, reason, "{text}");
        }
        let most = Interval {
            micros: i64::MIN,
            ..Default::default()
        };
        assert!(most.to_postgres().starts_with("-2562047788:"));
    }

    #[test]
    fn nonsense_is_refused_with_the_reason() {
        for (text, reason) in [
            ("", "empty"),
            ("forever", "not a number"),
            ("3", "has no unit"),
            ("3 fortnights", "unknown unit"),
            ("1 day ago 2", "'ago' must come last"),
            ("25:61", "bad time"),
        ] {
            let e = Interval::parse(text).unwrap_err();
            assert!(e.reason.contains(reason), "{text}: {}", e.reason);
        }
    }
}
