//! The document's query language (§2.6) on the server side: filters on attributes, `order`,
//! and `limit` + `after`/`before` cursor paging (§2.8.1).

use base64::Engine;
use serde_json::{Value, json};

/// A parsed filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    Eq(String),
    Ne(String),
    Gt(String),
    Ge(String),
    Lt(String),
    Le(String),
    Range(String, String),
    XRange(String, String),
    Like(String),
    HLike(String),
    TLike(String),
    Or(Vec<Cond>),
    And(Vec<Cond>),
}

/// Split `a,b(c,d),e` at top-level commas.
fn split_args(s: &str) -> Vec<String> {
    let (mut out, mut depth, mut cur) = (Vec::new(), 0i32, String::new());
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(cur.trim().to_string());
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur.trim().to_string());
    out
}

/// Parse one expression; anything that is not `op(...)` is an exact match.
pub fn parse(expr: &str) -> Result<Cond, String> {
    let expr = expr.trim();
    let Some(open) = expr.find('(') else {
        return Ok(Cond::Eq(expr.to_string()));
    };
    if !expr.ends_with(')') {
        return Ok(Cond::Eq(expr.to_string()));
    }
    let (op, inner) = (&expr[..open], &expr[open + 1..expr.len() - 1]);
    let args = split_args(inner);
    let one = || args.first().cloned().unwrap_or_default();
    let two = |name: &str| match args.as_slice() {
        [a, b] => Ok((a.clone(), b.clone())),
        _ => Err(format!("{name}() takes two values")),
    };
    Ok(match op.trim() {
        "ne" => Cond::Ne(one()),
        "gt" => Cond::Gt(one()),
        "ge" => Cond::Ge(one()),
        "lt" => Cond::Lt(one()),
        "le" => Cond::Le(one()),
        "like" => Cond::Like(one()),
        "hlike" => Cond::HLike(one()),
        "tlike" => Cond::TLike(one()),
        "range" => two("range").map(|(a, b)| Cond::Range(a, b))?,
        "xrange" => two("xrange").map(|(a, b)| Cond::XRange(a, b))?,
        "or" => Cond::Or(args.iter().map(|a| parse(a)).collect::<Result<_, _>>()?),
        "and" => Cond::And(args.iter().map(|a| parse(a)).collect::<Result<_, _>>()?),
        // Not an operator (a value with parentheses): exact match.
        _ => Cond::Eq(expr.to_string()),
    })
}

/// A comparable form: times (RFC 3339 or `<n>ns`) as nanoseconds, numbers as numbers, text as
/// lower-cased text.
#[derive(Debug, PartialEq, PartialOrd)]
enum Key {
    Num(f64),
    Text(String),
}

fn key(v: &str) -> Key {
    if let Some(ns) = v.strip_suffix("ns").and_then(|n| n.parse::<i128>().ok()) {
        return Key::Num(ns as f64);
    }
    if let Ok(t) = v.parse::<jiff::Timestamp>() {
        return Key::Num(t.as_nanosecond() as f64);
    }
    if let Ok(n) = v.parse::<f64>() {
        return Key::Num(n);
    }
    Key::Text(v.to_lowercase())
}

fn compare(a: &str, b: &str) -> Option<std::cmp::Ordering> {
    key(a).partial_cmp(&key(b))
}

impl Cond {
    /// Whether an attribute value satisfies the condition. Ids are compared without regard to
    /// case (GUESS: the vendor prints them in both cases and must match them either way).
    pub fn matches(&self, value: &str) -> bool {
        use std::cmp::Ordering::*;
        let lower = value.to_lowercase();
        match self {
            Cond::Eq(v) => lower == v.to_lowercase(),
            Cond::Ne(v) => lower != v.to_lowercase(),
            Cond::Gt(v) => compare(value, v) == Some(Greater),
            Cond::Ge(v) => matches!(compare(value, v), Some(Greater | Equal)),
            Cond::Lt(v) => compare(value, v) == Some(Less),
            Cond::Le(v) => matches!(compare(value, v), Some(Less | Equal)),
            Cond::Range(a, b) => {
                Cond::Ge(a.clone()).matches(value) && Cond::Le(b.clone()).matches(value)
            }
            Cond::XRange(a, b) => !Cond::Range(a.clone(), b.clone()).matches(value),
            Cond::Like(v) => lower.contains(&v.to_lowercase()),
            Cond::HLike(v) => lower.starts_with(&v.to_lowercase()),
            Cond::TLike(v) => lower.ends_with(&v.to_lowercase()),
            Cond::Or(cs) => cs.iter().any(|c| c.matches(value)),
            Cond::And(cs) => cs.iter().all(|c| c.matches(value)),
        }
    }
}

/// An attribute of an item by dotted path (`policy.id`), as text.
pub fn attribute(item: &Value, path: &str) -> Option<String> {
    let v = path.split('.').try_fold(item, |v, k| v.get(k))?;
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Keep the items every filter accepts. `filters` are (attribute path, expression); an item
/// without the attribute does not match.
pub fn filter(items: Vec<Value>, filters: &[(String, String)]) -> Result<Vec<Value>, String> {
    let conds: Vec<(String, Cond)> = filters
        .iter()
        .map(|(k, v)| parse(v).map(|c| (k.clone(), c)))
        .collect::<Result<_, _>>()?;
    Ok(items
        .into_iter()
        .filter(|item| {
            conds
                .iter()
                .all(|(path, c)| attribute(item, path).is_some_and(|v| c.matches(&v)))
        })
        .collect())
}

/// Sort by `order=asc(f1),desc(f2)`.
pub fn order(items: &mut [Value], spec: &str) -> Result<(), String> {
    let mut keys = Vec::new();
    for part in split_args(spec) {
        let (desc, field) = match (part.strip_prefix("asc("), part.strip_prefix("desc(")) {
            (Some(f), _) => (false, f),
            (_, Some(f)) => (true, f),
            _ => return Err(format!("order {part:?} is not asc(field) or desc(field)")),
        };
        keys.push((desc, field.trim_end_matches(')').to_string()));
    }
    items.sort_by(|a, b| {
        for (desc, f) in &keys {
            let (x, y) = (
                attribute(a, f).unwrap_or_default(),
                attribute(b, f).unwrap_or_default(),
            );
            let o = compare(&x, &y).unwrap_or(std::cmp::Ordering::Equal);
            let o = if *desc { o.reverse() } else { o };
            if o.is_ne() {
                return o;
            }
        }
        std::cmp::Ordering::Equal
    });
    Ok(())
}

fn cursor(offset: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("offset:{offset}"))
}

fn offset_of(cursor: &str) -> Result<usize, String> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(cursor)
        .map_err(|_| "malformed page token".to_string())?;
    String::from_utf8(raw)
        .ok()
        .and_then(|s| s.strip_prefix("offset:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| "malformed page token".to_string())
}

/// One page of `items`, and the `cursors` object: `after` (empty on the last page, as the
/// document's lists print it) and `before` once past the first page.
pub fn page(
    items: Vec<Value>,
    limit: usize,
    after: Option<&str>,
    before: Option<&str>,
) -> Result<(Vec<Value>, Value), String> {
    let limit = limit.max(1);
    let start = match (after, before) {
        (Some(a), _) => offset_of(a)?,
        (None, Some(b)) => offset_of(b)?.saturating_sub(limit),
        (None, None) => 0,
    };
    let end = (start + limit).min(items.len());
    let mut cursors = json!({"after": if end < items.len() { cursor(end) } else { String::new() }});
    if start > 0 {
        cursors["before"] = json!(cursor(start));
    }
    let slice = items.into_iter().skip(start).take(limit).collect();
    Ok((slice, cursors))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_filter_examples_select_what_it_says() {
        let like = parse("like(lap)").unwrap();
        assert!(like.matches("laptop") && like.matches("thunderclap") && !like.matches("desk"));
        assert!(parse("hlike(CEO)").unwrap().matches("CEO laptop"));
        assert!(parse("tlike(top)").unwrap().matches("tabletop"));
        let or = parse("or(Critical data,CEO laptop)").unwrap();
        assert!(or.matches("CEO laptop") && or.matches("Critical data") && !or.matches("CEO"));
        let and = parse("and(hlike(hit), like(jar))").unwrap();
        assert!(and.matches("hitjar") && !and.matches("hit"));
        assert!(parse("ne(43ddaaef)").unwrap().matches("1aaahd"));
        assert!(
            parse("1aaahd").unwrap().matches("1AAAHD"),
            "ids match in any case"
        );
    }

    #[test]
    fn times_compare_as_rfc3339_or_nanoseconds() {
        assert!(
            parse("ge(2009-11-10T23:00:00Z)")
                .unwrap()
                .matches("2009-11-11T00:00:00Z")
        );
        // The document's `lt(1568822944000000ns)` is 18 days after the epoch (it reads like
        // microseconds); nanoseconds are taken as written.
        assert!(
            parse("lt(1568822944000000ns)")
                .unwrap()
                .matches("1970-01-01T00:00:00Z")
        );
        assert!(
            parse("lt(1568822944000000000ns)")
                .unwrap()
                .matches("2009-11-10T23:00:00Z")
        );
        let r = parse("range(2009-11-10T23:00:00Z,2009-11-11T23:00:00Z)").unwrap();
        assert!(r.matches("2009-11-11T00:00:00Z") && !r.matches("2009-11-12T00:00:00Z"));
        assert!(
            parse("xrange(2009-11-10T23:00:00Z,2009-11-11T23:00:00Z)")
                .unwrap()
                .matches("2009-11-12T00:00:00Z")
        );
        assert!(parse("range(1)").is_err());
    }

    #[test]
    fn filters_and_order_apply_to_attribute_paths() {
        let items = vec![
            json!({"policy": {"id": "P1"}, "context": {"id": "b"}, "n": 2}),
            json!({"policy": {"id": "p2"}, "context": {"id": "a"}, "n": 10}),
            json!({"policy": {"id": "p1"}, "context": {"id": "c"}, "n": 1}),
        ];
        let kept = filter(
            items.clone(),
            &[
                ("policy.id".into(), "p1".into()),
                ("context.id".into(), "or(b,c)".into()),
            ],
        )
        .unwrap();
        assert_eq!(kept.len(), 2);
        let mut sorted = items;
        order(&mut sorted, "desc(n)").unwrap();
        assert_eq!(
            sorted
                .iter()
                .map(|i| i["n"].as_i64().unwrap())
                .collect::<Vec<_>>(),
            vec![10, 2, 1]
        );
        order(&mut sorted, "asc(context.id)").unwrap();
        assert_eq!(sorted[0]["context"]["id"], "a");
        assert!(order(&mut sorted, "up(n)").is_err());
    }

    #[test]
    fn pages_follow_after_and_before_cursors() {
        // The document's example: 99 results, limit 50 → 50 then 49.
        let items: Vec<Value> = (0..99).map(|i| json!(i)).collect();
        let (first, c) = page(items.clone(), 50, None, None).unwrap();
        assert_eq!(first.len(), 50);
        assert!(c.get("before").is_none());
        let after = c["after"].as_str().unwrap().to_string();
        let (second, c2) = page(items.clone(), 50, Some(&after), None).unwrap();
        assert_eq!((second.len(), second[0].clone()), (49, json!(50)));
        assert_eq!(c2["after"], "");
        let before = c2["before"].as_str().unwrap().to_string();
        let (back, _) = page(items.clone(), 50, None, Some(&before)).unwrap();
        assert_eq!(back[0], json!(0));
        assert!(page(items, 50, Some("!!"), None).is_err());
    }
}
