//! List query parameters (L984-1004): page number, display limit (optional), sort key, sort
//! direction, and the `filterdata` filter (optional) in the forms `poolname="test"`,
//! `poolname~"te"`, `lastonline<"…"`, `lastonline>"…"`.
//!
//! GUESS (L984-993): the document lists the parameters without naming them, except `filterdata`.
//! The simulator reads `page` (1-based) and `limit` by default, the names the document gives paging
//! inside the tree bodies (`{"pools": {"limit": 50, "page": 1}}`, L2728-2731); the names are
//! configurable (`SimConfig::page_param`, `limit_param`) so tests can play a server that names
//! them otherwise. Sorting is read from `sort_by` and `order` (`asc`/`desc`), GUESS, names the
//! document does not give either. Other query parameters are ignored.

use std::cmp::Ordering;
use std::collections::HashMap;

use serde_json::{Map, Value};

pub const PAGE: &str = "page";
pub const LIMIT: &str = "limit";
const SORT: &str = "sort_by";
const ORDER: &str = "order";

/// The list parameters of one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    pub page: Option<usize>,
    pub limit: Option<usize>,
    pub sort: Option<String>,
    pub descending: bool,
    pub filterdata: Option<String>,
}

impl ListQuery {
    /// Read the query with the paging parameter names this server uses. A page or limit that is
    /// not a whole number of at least 1 is a bad request.
    pub fn read(
        query: &HashMap<String, String>,
        page_param: &str,
        limit_param: &str,
    ) -> Result<ListQuery, String> {
        let count = |name: &str| -> Result<Option<usize>, String> {
            query
                .get(name)
                .map(|v| match v.trim().parse::<usize>() {
                    Ok(n) if n >= 1 => Ok(n),
                    _ => Err(format!(
                        "{name} must be a whole number of at least 1, not '{v}'"
                    )),
                })
                .transpose()
        };
        let descending = match query.get(ORDER).map(|o| o.to_ascii_lowercase()) {
            None => false,
            Some(o) if o == "asc" => false,
            Some(o) if o == "desc" => true,
            Some(o) => return Err(format!("{ORDER} must be asc or desc, not '{o}'")),
        };
        Ok(ListQuery {
            page: count(page_param)?,
            limit: count(limit_param)?,
            sort: query.get(SORT).cloned(),
            descending,
            filterdata: query.get("filterdata").cloned(),
        })
    }
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
            .filter(|v| !v.contains('"'))
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

    /// Whether an item passes, reading the item key `key` (the filter key or what it stands for).
    /// GUESS: `~` is a case-insensitive substring test (SQL ILIKE); `<`/`>` compare date-times when
    /// both sides are ones, numbers when both are, else text.
    fn matches(&self, key: &str, item: &Map<String, Value>) -> bool {
        let Some(v) = item.get(key) else {
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

/// Filter, sort and cut one page out of `items` (already in id order). `aliases` map filter keys
/// to the item keys they stand for. A filter key that is neither an item key nor an alias is a
/// bad request. GUESS (L988, "limit (optional)"): without a limit the list is not cut, and the
/// page number alone changes nothing.
pub fn page(
    items: Vec<Map<String, Value>>,
    q: &ListQuery,
    aliases: &[(&str, &str)],
) -> Result<Vec<Map<String, Value>>, String> {
    let mut items = items;
    if let Some(text) = q.filterdata.as_deref().filter(|t| !t.trim().is_empty()) {
        let filter = Filter::parse(text)?;
        let key = aliases
            .iter()
            .find(|(alias, _)| *alias == filter.key)
            .map_or(filter.key.as_str(), |(_, key)| key);
        let known = aliases.iter().any(|(a, _)| *a == filter.key)
            || items.iter().any(|i| i.contains_key(key));
        if !items.is_empty() && !known {
            return Err(format!("unknown filter key '{}'", filter.key));
        }
        items.retain(|i| filter.matches(key, i));
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
        if q.descending {
            items.reverse();
        }
    }
    let Some(limit) = q.limit else {
        return Ok(items);
    };
    let page = q.page.unwrap_or(1);
    Ok(items
        .into_iter()
        .skip((page - 1).saturating_mul(limit))
        .take(limit)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn items(n: usize) -> Vec<Map<String, Value>> {
        (1..=n).map(|i| json!({"id": i, "pool_name": format!("pool{i}"), "lastonline": format!("2024-08-{i:02}T10:00:00")}).as_object().unwrap().clone()).collect()
    }

    const POOL_ALIASES: &[(&str, &str)] = &[("poolname", "pool_name")];

    fn query(pairs: &[(&str, &str)]) -> Result<ListQuery, String> {
        let q = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ListQuery::read(&q, PAGE, LIMIT)
    }

    #[test]
    fn the_documents_filter_forms() {
        let f = Filter::parse(r#"poolname="test""#).unwrap();
        assert_eq!(
            (f.key.as_str(), f.op, f.value.as_str()),
            ("poolname", '=', "test")
        );
        let all = items(12);
        let count = |f: &str| {
            page(
                all.clone(),
                &query(&[("filterdata", f)]).unwrap(),
                POOL_ALIASES,
            )
            .map(|p| p.len())
        };
        assert_eq!(count(r#"poolname="pool3""#), Ok(1));
        assert_eq!(count(r#"pool_name="pool3""#), Ok(1));
        assert_eq!(count(r#"poolname~"POOL1""#), Ok(4));
        assert_eq!(count(r#"lastonline<"2024-08-03T00:00:00+00:00""#), Ok(2));
        assert_eq!(count(r#"lastonline>"2024-08-10T12:00:00+03:00""#), Ok(3));
        assert!(count(r#"nosuchkey="x""#).is_err());
        assert!(count("poolname=test").is_err());
        assert!(count(r#"poolname="a"b""#).is_err());
        // Another collection has no such alias.
        assert!(
            page(
                all,
                &query(&[("filterdata", r#"poolname="pool3""#)]).unwrap(),
                &[]
            )
            .is_err()
        );
    }

    #[test]
    fn pages_limits_and_sorting() {
        let got = |pairs: &[(&str, &str)], n| page(items(n), &query(pairs).unwrap(), &[]).unwrap();
        assert_eq!(got(&[], 45).len(), 45, "no limit, no cut");
        assert_eq!(
            got(&[("page", "3")], 45).len(),
            45,
            "a page without a limit"
        );
        assert_eq!(got(&[("page", "3"), ("limit", "20")], 45).len(), 5);
        assert_eq!(got(&[("limit", "20")], 45)[0]["id"], 1);
        assert!(got(&[("page", "4"), ("limit", "20")], 45).is_empty());
        assert_eq!(
            got(&[("sort_by", "id"), ("order", "desc"), ("limit", "2")], 5)[0]["id"],
            5
        );
        for bad in [[("page", "0")], [("limit", "x")], [("order", "up")]] {
            assert!(query(&bad).is_err(), "{bad:?}");
        }
        // Other names for paging are other parameters, and ignored.
        let q: HashMap<String, String> = [("limit".to_string(), "2".to_string())].into();
        assert_eq!(
            ListQuery::read(&q, "page_number", "page_size")
                .unwrap()
                .limit,
            None
        );
    }
}
