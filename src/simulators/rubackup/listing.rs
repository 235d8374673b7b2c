//! List query parameters (§8): page number, display limit, sort key and direction, and the
//! `filterdata` filter (`poolname="test"`, `poolname~"te"`, `lastonline<"…"`, `lastonline>"…"`).

use std::cmp::Ordering;

use serde_json::{Map, Value};

/// GUESS: the document lists the parameters without their names; `page` (1-based), `limit`,
/// `sort` and `direction` (`asc`/`desc`) are the names this simulator reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct ListQuery {
    pub page: Option<usize>,
    pub limit: Option<usize>,
    pub sort: Option<String>,
    pub direction: Option<String>,
    pub filterdata: Option<String>,
}

/// One `filterdata` condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub key: String,
    pub op: char,
    pub value: String,
}

impl Filter {
    /// `<key><op>"<value>"` with op one of `=`, `~`, `<`, `>`.
    pub fn parse(text: &str) -> Result<Filter, String> {
        let at = text
            .find(['=', '~', '<', '>'])
            .ok_or_else(|| format!("no operator in filter '{text}'"))?;
        let key = text[..at].trim();
        let op = text[at..].chars().next().unwrap_or('=');
        let rest = text[at + 1..].trim();
        let value = rest
            .strip_prefix('"')
            .and_then(|r| r.strip_suffix('"'))
            .ok_or_else(|| format!("the filter value must be in double quotes: '{text}'"))?;
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("bad filter key in '{text}'"));
        }
        Ok(Filter {
            key: key.to_string(),
            op,
            value: value.to_string(),
        })
    }

    /// Whether an item passes. GUESS: `~` is a case-insensitive substring test; `<`/`>`
    /// compare date-times when both sides are ones, numbers when both are, else text.
    pub fn matches(&self, item: &Map<String, Value>) -> bool {
        let Some(v) = item.get(&self.key) else {
            return false;
        };
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        match self.op {
            '=' => text == self.value,
            '~' => text.to_lowercase().contains(&self.value.to_lowercase()),
            '<' => compare(&text, &self.value) == Ordering::Less,
            _ => compare(&text, &self.value) == Ordering::Greater,
        }
    }
}

fn compare(a: &str, b: &str) -> Ordering {
    let ts = |s: &str| {
        s.parse::<jiff::Timestamp>().ok().or_else(|| {
            s.parse::<jiff::civil::DateTime>()
                .ok()
                .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
                .map(|z| z.timestamp())
        })
    };
    if let (Some(x), Some(y)) = (ts(a), ts(b)) {
        return x.cmp(&y);
    }
    if let (Ok(x), Ok(y)) = (a.parse::<f64>(), b.parse::<f64>()) {
        return x.partial_cmp(&y).unwrap_or(Ordering::Equal);
    }
    a.cmp(b)
}

/// GUESS: without `limit` a page holds 20 items.
pub const DEFAULT_LIMIT: usize = 20;

/// Filter, sort and cut one page out of `items` (already in id order). An unknown filter key
/// is a bad request.
pub fn page(
    items: Vec<Map<String, Value>>,
    q: &ListQuery,
) -> Result<Vec<Map<String, Value>>, String> {
    let mut items = items;
    if let Some(text) = q.filterdata.as_deref().filter(|t| !t.trim().is_empty()) {
        let filter = Filter::parse(text)?;
        if !items.is_empty() && !items.iter().any(|i| i.contains_key(&filter.key)) {
            return Err(format!("unknown filter key '{}'", filter.key));
        }
        items.retain(|i| filter.matches(i));
    }
    if let Some(key) = &q.sort {
        items.sort_by(|a, b| {
            let text = |i: &Map<String, Value>| {
                i.get(key).map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string())
                })
            };
            compare(&text(a).unwrap_or_default(), &text(b).unwrap_or_default())
        });
        if q.direction
            .as_deref()
            .is_some_and(|d| d.eq_ignore_ascii_case("desc"))
        {
            items.reverse();
        }
    }
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT).max(1);
    let page = q.page.unwrap_or(1).max(1);
    Ok(items
        .into_iter()
        .skip((page - 1) * limit)
        .take(limit)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn items(n: usize) -> Vec<Map<String, Value>> {
        (1..=n).map(|i| json!({"id": i, "poolname": format!("pool{i}"), "lastonline": format!("2024-08-{i:02}T10:00:00")}).as_object().unwrap().clone()).collect()
    }

    #[test]
    fn the_documents_filter_forms() {
        let f = Filter::parse(r#"poolname="test""#).unwrap();
        assert_eq!(
            (f.key.as_str(), f.op, f.value.as_str()),
            ("poolname", '=', "test")
        );
        let all = items(12);
        let q = |f: &str| ListQuery {
            filterdata: Some(f.into()),
            limit: Some(100),
            ..Default::default()
        };
        assert_eq!(
            page(all.clone(), &q(r#"poolname="pool3""#)).unwrap().len(),
            1
        );
        assert_eq!(
            page(all.clone(), &q(r#"poolname~"POOL1""#)).unwrap().len(),
            4
        );
        assert_eq!(
            page(all.clone(), &q(r#"lastonline<"2024-08-03T00:00:00+00:00""#))
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            page(all.clone(), &q(r#"lastonline>"2024-08-10T12:00:00+03:00""#))
                .unwrap()
                .len(),
            3
        );
        assert!(page(all.clone(), &q(r#"nosuchkey="x""#)).is_err());
        assert!(page(all, &q("poolname=test")).is_err());
    }

    #[test]
    fn pages_limits_and_sorting() {
        let q = |page, limit| ListQuery {
            page,
            limit,
            ..Default::default()
        };
        assert_eq!(
            page(items(45), &q(None, None)).unwrap().len(),
            DEFAULT_LIMIT
        );
        assert_eq!(page(items(45), &q(Some(3), Some(20))).unwrap().len(), 5);
        assert!(page(items(45), &q(Some(4), Some(20))).unwrap().is_empty());
        let desc = ListQuery {
            sort: Some("id".into()),
            direction: Some("desc".into()),
            limit: Some(2),
            ..Default::default()
        };
        assert_eq!(page(items(5), &desc).unwrap()[0]["id"], 5);
    }
}
