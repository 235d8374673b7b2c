//! The simulated server's own reading of interval fields (`retention_period`, `*_storage_duration`,
//! `verify_interval`, ...). The document's examples (`"1 min"`, `"1 day"`, `"1 year"`,
//! `"1 Years"` L916, `"1mon"` L4529) are PostgreSQL interval literals, and RuBackup keeps its data
//! in PostgreSQL, so the simulator reads them as PostgreSQL's interval input does and answers
//! them the way PostgreSQL prints them (IntervalStyle `postgres`: `1 year 2 mons 3 days
//! 04:05:06`). GUESS: the REST layer passes the column's text through unchanged; the document
//! shows no response body with an interval in it.

/// An interval as PostgreSQL keeps it: months, days and microseconds, each with its own sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PgInterval {
    pub months: i32,
    pub days: i32,
    pub micros: i64,
}

const MICROS_PER_SECOND: f64 = 1_000_000.0;
const MICROS_PER_DAY: f64 = 86_400.0 * MICROS_PER_SECOND;

/// What one unit word adds, per unit of quantity.
#[derive(Clone, Copy)]
enum Unit {
    Micros(f64),
    Days(f64),
    Months(f64),
}

fn unit(word: &str) -> Option<Unit> {
    let w = word.to_ascii_lowercase();
    Some(match w.as_str() {
        "microsecond" | "microseconds" | "us" | "usec" | "usecs" | "useconds" => Unit::Micros(1.0),
        "millisecond" | "milliseconds" | "ms" | "msec" | "msecs" | "mseconds" => {
            Unit::Micros(1000.0)
        }
        "second" | "seconds" | "s" | "sec" | "secs" => Unit::Micros(MICROS_PER_SECOND),
        "minute" | "minutes" | "m" | "min" | "mins" => Unit::Micros(60.0 * MICROS_PER_SECOND),
        "hour" | "hours" | "h" | "hr" | "hrs" => Unit::Micros(3600.0 * MICROS_PER_SECOND),
        "day" | "days" | "d" => Unit::Days(1.0),
        "week" | "weeks" | "w" => Unit::Days(7.0),
        "month" | "months" | "mon" | "mons" => Unit::Months(1.0),
        "year" | "years" | "y" | "yr" | "yrs" => Unit::Months(12.0),
        "decade" | "decades" | "dec" | "decs" => Unit::Months(120.0),
        "century" | "centuries" | "c" | "cent" => Unit::Months(1200.0),
        "millennium" | "millennia" | "mil" | "mils" => Unit::Months(12000.0),
        _ => return None,
    })
}

/// Sums in floating point, cascaded the way PostgreSQL does: a fraction of a month becomes
/// days (30 per month), a fraction of a day becomes time.
#[derive(Default)]
struct Sum {
    months: f64,
    days: f64,
    micros: f64,
}

impl Sum {
    fn add(&mut self, quantity: f64, unit: Unit) {
        match unit {
            Unit::Micros(m) => self.micros += quantity * m,
            Unit::Days(d) => self.days += quantity * d,
            Unit::Months(m) => self.months += quantity * m,
        }
    }

    fn finish(self, negate: bool) -> Result<PgInterval, String> {
        let sign = if negate { -1.0 } else { 1.0 };
        let months = self.months.trunc();
        let days_total = self.days + (self.months - months) * 30.0;
        let days = days_total.trunc();
        let micros = (self.micros + (days_total - days) * MICROS_PER_DAY).round();
        let fits = |v: f64, max: f64| v.is_finite() && v.abs() <= max;
        if !fits(months, i32::MAX as f64) || !fits(days, i32::MAX as f64) || !fits(micros, 9.2e18) {
            return Err("interval out of range".to_string());
        }
        Ok(PgInterval {
            months: (sign * months) as i32,
            days: (sign * days) as i32,
            micros: (sign * micros) as i64,
        })
    }
}

/// `[-]HH:MM[:SS[.ffffff]]` in microseconds.
fn clock(text: &str) -> Option<f64> {
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let parts: Vec<&str> = body.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return None;
    }
    let whole = |p: &str| -> Option<f64> {
        (!p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
            .then(|| p.parse().ok())
            .flatten()
    };
    let hours = whole(parts[0])?;
    let minutes = whole(parts[1])?;
    let seconds: f64 = match parts.get(2) {
        None => 0.0,
        Some(s) => {
            let valid = !s.is_empty()
                && s.chars().all(|c| c.is_ascii_digit() || c == '.')
                && s.matches('.').count() <= 1;
            if !valid {
                return None;
            }
            s.parse().ok()?
        }
    };
    if minutes >= 60.0 || seconds >= 60.0 {
        return None;
    }
    let micros = ((hours * 60.0 + minutes) * 60.0 + seconds) * MICROS_PER_SECOND;
    Some(if negative { -micros } else { micros })
}

/// Split `1mon` into `1` and `mon`.
fn split_number(token: &str) -> (&str, &str) {
    let end = token
        .char_indices()
        .find(|(i, c)| !(c.is_ascii_digit() || *c == '.' || ((*c == '-' || *c == '+') && *i == 0)))
        .map_or(token.len(), |(i, _)| i);
    token.split_at(end)
}

impl PgInterval {
    /// Read interval input text: `@`, `<number> <unit>` pairs (the space may be left out),
    /// a clock time, a bare number (seconds), and a trailing `ago`.
    pub fn parse(text: &str) -> Result<PgInterval, String> {
        let bad = || format!("invalid input syntax for type interval: \"{text}\"");
        let mut tokens: Vec<&str> = text.split_whitespace().collect();
        if tokens.first() == Some(&"@") {
            tokens.remove(0);
        }
        let ago = tokens.last().is_some_and(|t| t.eq_ignore_ascii_case("ago"));
        if ago {
            tokens.pop();
        }
        if tokens.is_empty() {
            return Err(bad());
        }
        let mut sum = Sum::default();
        let mut i = 0;
        while i < tokens.len() {
            let token = tokens[i];
            if token.contains(':') {
                sum.micros += clock(token).ok_or_else(bad)?;
                i += 1;
                continue;
            }
            let (number, rest) = split_number(token);
            let quantity: f64 = number.parse().map_err(|_| bad())?;
            let word = if !rest.is_empty() {
                Some(rest)
            } else {
                tokens.get(i + 1).copied().filter(|w| unit(w).is_some())
            };
            match word {
                Some(w) => {
                    sum.add(quantity, unit(w).ok_or_else(bad)?);
                    i += if rest.is_empty() { 2 } else { 1 };
                }
                // A number alone is seconds.
                None => {
                    sum.add(quantity, Unit::Micros(MICROS_PER_SECOND));
                    i += 1;
                }
            }
        }
        sum.finish(ago)
    }

    /// The interval as PostgreSQL prints it (IntervalStyle `postgres`).
    pub fn to_text(self) -> String {
        let mut parts = Vec::new();
        let plural =
            |n: i64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let (years, months) = (self.months / 12, self.months % 12);
        if years != 0 {
            parts.push(plural(years.into(), "year", "years"));
        }
        if months != 0 {
            parts.push(plural(months.into(), "mon", "mons"));
        }
        if self.days != 0 {
            parts.push(plural(self.days.into(), "day", "days"));
        }
        if self.micros != 0 || parts.is_empty() {
            let sign = if self.micros < 0 { "-" } else { "" };
            let total = self.micros.unsigned_abs();
            let seconds = total / 1_000_000;
            let fraction = total % 1_000_000;
            let mut time = format!(
                "{sign}{:02}:{:02}:{:02}",
                seconds / 3600,
                seconds / 60 % 60,
                seconds % 60
            );
            if fraction != 0 {
                time.push_str(format!(".{fraction:06}").trim_end_matches('0'));
            }
            parts.push(time);
        }
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(input: &str) -> String {
        PgInterval::parse(input).unwrap().to_text()
    }

    #[test]
    fn the_documents_examples_read_as_postgresql_prints_them() {
        assert_eq!(text("1 min"), "00:01:00");
        assert_eq!(text("1 day"), "1 day");
        assert_eq!(text("1 year"), "1 year");
        assert_eq!(text("1 Years"), "1 year");
        assert_eq!(text("1mon"), "1 mon");
        assert_eq!(text("1 week"), "7 days");
        assert_eq!(
            text("2 years 3 mons 4 days 05:06:07.5"),
            "2 years 3 mons 4 days 05:06:07.5"
        );
        assert_eq!(text("@ 1 hour ago"), "-01:00:00");
        assert_eq!(text("36 hours"), "36:00:00");
        assert_eq!(text("90"), "00:01:30");
        assert_eq!(text("0 days"), "00:00:00");
    }

    #[test]
    fn fractions_cascade_into_smaller_units() {
        assert_eq!(text("1.5 years"), "1 year 6 mons");
        assert_eq!(text("1.5 mons"), "1 mon 15 days");
        assert_eq!(text("1.5 days"), "1 day 12:00:00");
        assert_eq!(text("0.5 weeks"), "3 days 12:00:00");
    }

    #[test]
    fn what_postgresql_refuses_is_refused() {
        for bad in [
            "",
            "forever",
            "1 fortnight",
            "1 day 25:61",
            "1e999 years",
            "ago",
            "1..2 days",
        ] {
            assert!(PgInterval::parse(bad).is_err(), "{bad:?}");
        }
    }
}
