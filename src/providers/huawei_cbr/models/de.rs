//! Lenient readers for the shapes CBR actually returns: explicit `null` where a list or object
//! is expected, numbers sent as strings (`"40"`), booleans sent as strings (`"true"`), and three
//! timestamp formats (`2020-02-05T10:38:34.209782`, `2020-02-23T01:00:32Z`,
//! `2019-05-08 06:57:05`), all read as UTC.

use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serializer};
use serde_json::Value;

/// `null` or absent becomes the type's default (`[]`, `{}`, `""`, `false`).
pub fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// An integer given as a number, a numeric string or `null`.
pub fn flex_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

/// A boolean given as `true`, `"true"`, `"True"` or `null`.
pub fn flex_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Bool(b) => Some(b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    })
}

/// Parse any of CBR's timestamp forms; a time without a zone is UTC.
pub fn parse_time(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if let Ok(t) = s.parse::<Timestamp>() {
        return Some(t);
    }
    let naive = s.trim_end_matches('Z').replacen(' ', "T", 1);
    naive
        .parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(|dt| dt.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|z| z.timestamp())
}

/// A timestamp in any of CBR's forms; unreadable or `null` becomes `None` (times are
/// informational, a strange one must not make a whole list unreadable).
pub fn time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => parse_time(&s),
        _ => None,
    })
}

/// Write a timestamp back in RFC 3339 (for dumps and details).
pub fn time_out<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&t.to_string()),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Debug, Default)]
    struct Probe {
        #[serde(default, deserialize_with = "flex_i64")]
        n: Option<i64>,
        #[serde(default, deserialize_with = "flex_bool")]
        b: Option<bool>,
        #[serde(default, deserialize_with = "null_default")]
        list: Vec<String>,
        #[serde(default, deserialize_with = "time")]
        t: Option<Timestamp>,
    }

    fn probe(json: &str) -> Probe {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn numbers_as_strings_and_nulls() {
        assert_eq!(probe(r#"{"n": 40}"#).n, Some(40));
        assert_eq!(probe(r#"{"n": "40"}"#).n, Some(40));
        assert_eq!(probe(r#"{"n": 40.0}"#).n, Some(40));
        assert_eq!(probe(r#"{"n": null}"#).n, None);
        assert_eq!(probe(r#"{"n": "x"}"#).n, None);
        assert_eq!(probe(r#"{"b": "true"}"#).b, Some(true));
        assert_eq!(probe(r#"{"b": false}"#).b, Some(false));
        assert!(probe(r#"{"list": null}"#).list.is_empty());
        assert_eq!(probe(r#"{"list": ["a"]}"#).list, vec!["a"]);
    }

    #[test]
    fn three_timestamp_forms_read_as_utc() {
        let cases = [
            ("2020-02-05T10:38:34.209782", "2020-02-05T10:38:34.209782Z"),
            ("2020-02-23T01:00:32Z", "2020-02-23T01:00:32Z"),
            ("2019-05-08 06:57:05", "2019-05-08T06:57:05Z"),
            ("2019-02-13T06:52:13.855000Z", "2019-02-13T06:52:13.855Z"),
            ("2024-01-01T03:00:00+03:00", "2024-01-01T00:00:00Z"),
        ];
        for (input, want) in cases {
            assert_eq!(parse_time(input), Some(want.parse().unwrap()), "{input}");
            assert_eq!(
                probe(&format!(r#"{{"t": "{input}"}}"#)).t,
                Some(want.parse().unwrap())
            );
        }
        assert_eq!(parse_time("soon"), None);
        assert_eq!(probe(r#"{"t": null}"#).t, None);
        assert_eq!(probe(r#"{"t": "soon"}"#).t, None);
    }
}
