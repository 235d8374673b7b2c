//! The simulated server's own reading of the five schedule fields (`min`, `hour`, `dom`, `mon`,
//! `dow`, also under `full_`, `inc_`, `diff_`). Every example in the document is a JSON integer
//! (`"min": 0, "hour": 0, "dom": 1, "mon": 1, "dow": 1`, L3796-3800, L4320-4324); it never shows
//! "every hour" or "weekdays".
//!
//! GUESS (L3796-3800, L4320-4324): two servers are plausible, and the simulator plays either.
//! - `CronFields::Text` (the default): the fields are crontab text columns, as RuBackup's manager
//!   writes schedules in crontab form. A JSON integer or crontab text (`*`, `5`, `1-5`, `*/15`,
//!   `1-10/2`, lists of these; numbers only, no month or day names) is accepted, and read back
//!   as the text stored (`0` comes back as `"0"`).
//! - `CronFields::IntegersOnly`: the fields are integer columns; only JSON integers in range are
//!   accepted and they come back as integers.

use serde_json::Value;

/// Which of the two servers the simulator plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CronFields {
    #[default]
    Text,
    IntegersOnly,
}

/// The five fields, by the key suffix the document uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CronKey {
    Min,
    Hour,
    Dom,
    Mon,
    Dow,
}

impl CronKey {
    /// The field of a key without its backup-type prefix (`min`, `dow`), if it is one.
    pub fn of(key: &str) -> Option<CronKey> {
        Some(match key {
            "min" => CronKey::Min,
            "hour" => CronKey::Hour,
            "dom" => CronKey::Dom,
            "mon" => CronKey::Mon,
            "dow" => CronKey::Dow,
            _ => return None,
        })
    }

    /// Allowed values. GUESS: crontab's ranges; day of week 0-7 with both 0 and 7 Sunday.
    fn bounds(self) -> (u32, u32) {
        match self {
            CronKey::Min => (0, 59),
            CronKey::Hour => (0, 23),
            CronKey::Dom => (1, 31),
            CronKey::Mon => (1, 12),
            CronKey::Dow => (0, 7),
        }
    }
}

fn number(key: CronKey, text: &str) -> Result<u32, String> {
    let (lo, hi) = key.bounds();
    if text.is_empty() || !text.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("'{text}' is not a number"));
    }
    let n: u32 = text.parse().map_err(|_| format!("'{text}' is too large"))?;
    if n < lo || n > hi {
        return Err(format!("{n} is not in {lo}-{hi}"));
    }
    Ok(n)
}

/// One list item: `*`, `n` or `a-b`, with an optional `/step`.
fn item(key: CronKey, text: &str) -> Result<(), String> {
    let (range, step) = match text.split_once('/') {
        Some((r, s)) => (r, Some(s)),
        None => (text, None),
    };
    if let Some(s) = step {
        let s: u32 = s
            .parse()
            .map_err(|_| format!("step '{s}' is not a number"))?;
        if s == 0 {
            return Err("a step must be at least 1".to_string());
        }
    }
    if range == "*" {
        return Ok(());
    }
    match range.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (number(key, a)?, number(key, b)?);
            if a > b {
                return Err(format!("the range {a}-{b} runs backwards"));
            }
            Ok(())
        }
        None => number(key, range).map(drop),
    }
}

/// Check one field and return what the server stores and lists for it.
pub fn read(key: CronKey, value: &Value, mode: CronFields) -> Result<Value, String> {
    match (value, mode) {
        (Value::Number(n), _) => {
            let v = n
                .as_u64()
                .filter(|v| *v <= u32::MAX as u64)
                .ok_or_else(|| format!("{n} is not a whole number"))?;
            number(key, &v.to_string())?;
            Ok(match mode {
                CronFields::Text => Value::from(v.to_string()),
                CronFields::IntegersOnly => Value::from(v),
            })
        }
        (Value::String(s), CronFields::Text) => {
            let text = s.trim();
            if text.is_empty() {
                return Err("an empty schedule field".to_string());
            }
            for part in text.split(',') {
                item(key, part)?;
            }
            Ok(Value::from(text))
        }
        (Value::String(s), CronFields::IntegersOnly) => Err(format!(
            "'{s}' is not an integer (this server takes integers only)"
        )),
        (other, _) => Err(format!("{other} is not a schedule field")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_columns_take_numbers_and_crontab_text_and_return_text() {
        let t = CronFields::Text;
        assert_eq!(read(CronKey::Min, &json!(0), t).unwrap(), json!("0"));
        for ok in ["*", "*/15", "0,30", "1-5", "8-18/2", " 7 "] {
            assert!(read(CronKey::Min, &json!(ok), t).is_ok(), "{ok}");
        }
        assert_eq!(read(CronKey::Dow, &json!(" 7 "), t).unwrap(), json!("7"));
        for bad in [
            json!(60),
            json!("60"),
            json!("5-1"),
            json!("*/0"),
            json!("mon"),
            json!(""),
            json!(1.5),
            json!(-1),
            json!(true),
        ] {
            assert!(read(CronKey::Min, &bad, t).is_err(), "{bad}");
        }
        assert!(read(CronKey::Dom, &json!(0), t).is_err());
        assert!(read(CronKey::Mon, &json!("13"), t).is_err());
    }

    #[test]
    fn integer_columns_take_integers_only() {
        let i = CronFields::IntegersOnly;
        assert_eq!(read(CronKey::Hour, &json!(23), i).unwrap(), json!(23));
        assert!(read(CronKey::Hour, &json!("23"), i).is_err());
        assert!(read(CronKey::Hour, &json!("*"), i).is_err());
        assert!(read(CronKey::Hour, &json!(24), i).is_err());
    }

    #[test]
    fn keys_are_the_documents() {
        assert_eq!(CronKey::of("dow"), Some(CronKey::Dow));
        assert_eq!(CronKey::of("min"), Some(CronKey::Min));
        assert_eq!(CronKey::of("full_dow"), None);
        assert_eq!(CronKey::of("minute"), None);
    }
}
