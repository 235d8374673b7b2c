//! Query parameters in the document's filter language (§2.6): `attr=value`, `attr=ne(v)`,
//! `attr=or(a,b)`, `like`/`hlike`/`tlike`, comparisons, and `order=asc(f),desc(f)`.

/// A filter on one attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// Exact match (no operator).
    Eq(String),
    /// `ne(v)`.
    Ne(String),
    /// `or(v1,v2,…)`: any of the values. A single value is sent as an exact match.
    Or(Vec<String>),
    /// `like(v)`: contains.
    Like(String),
    /// `hlike(v)`: starts with.
    HLike(String),
    /// `tlike(v)`: ends with.
    TLike(String),
    /// `ge(v)`.
    Ge(String),
    /// `lt(v)`.
    Lt(String),
}

impl Filter {
    /// The query value, for example `or(a,b)`.
    pub fn render(&self) -> String {
        let op = |name: &str, v: &str| format!("{name}({v})");
        match self {
            Filter::Eq(v) => v.clone(),
            Filter::Ne(v) => op("ne", v),
            Filter::Or(vs) if vs.len() == 1 => vs[0].clone(),
            Filter::Or(vs) => op("or", &vs.join(",")),
            Filter::Like(v) => op("like", v),
            Filter::HLike(v) => op("hlike", v),
            Filter::TLike(v) => op("tlike", v),
            Filter::Ge(v) => op("ge", v),
            Filter::Lt(v) => op("lt", v),
        }
    }
}

/// Sort direction of one `order` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Asc,
    Desc,
}

/// The `order` value, for example `asc(date_of_birth),desc(zip_code)`.
pub fn order(fields: &[(&str, Direction)]) -> String {
    fields
        .iter()
        .map(|(f, d)| match d {
            Direction::Asc => format!("asc({f})"),
            Direction::Desc => format!("desc({f})"),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// A list query: filters by attribute and an optional order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    pub fn new() -> Self {
        Query::default()
    }

    pub fn filter(mut self, attribute: &str, f: Filter) -> Self {
        self.pairs.push((attribute.to_string(), f.render()));
        self
    }

    pub fn order(mut self, fields: &[(&str, Direction)]) -> Self {
        self.pairs.push(("order".to_string(), order(fields)));
        self
    }

    /// A parameter outside the filter language (`include_settings=true`, `count=true`).
    pub fn param(mut self, name: &str, value: &str) -> Self {
        self.pairs.push((name.to_string(), value.to_string()));
        self
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_document_examples() {
        assert_eq!(Filter::Eq("1aaahd".into()).render(), "1aaahd");
        assert_eq!(Filter::Ne("43ddaaef".into()).render(), "ne(43ddaaef)");
        assert_eq!(
            Filter::Or(vec!["Critical data".into(), "CEO laptop".into()]).render(),
            "or(Critical data,CEO laptop)"
        );
        assert_eq!(Filter::Like("lap".into()).render(), "like(lap)");
        assert_eq!(Filter::HLike("CEO".into()).render(), "hlike(CEO)");
        assert_eq!(Filter::TLike("top".into()).render(), "tlike(top)");
        assert_eq!(
            Filter::Ge("2009-11-10T23:00:00Z".into()).render(),
            "ge(2009-11-10T23:00:00Z)"
        );
        assert_eq!(
            Filter::Lt("1568822944000000ns".into()).render(),
            "lt(1568822944000000ns)"
        );
        assert_eq!(
            order(&[
                ("date_of_birth", Direction::Asc),
                ("zip_code", Direction::Desc)
            ]),
            "asc(date_of_birth),desc(zip_code)"
        );
    }

    #[test]
    fn a_one_value_or_is_an_exact_match() {
        assert_eq!(Filter::Or(vec!["a".into()]).render(), "a");
    }

    #[test]
    fn a_query_keeps_its_parameters_in_order() {
        let q = Query::new()
            .filter("policy_id", Filter::Eq("p".into()))
            .filter("context_id", Filter::Or(vec!["a".into(), "b".into()]))
            .param("include_settings", "true");
        assert_eq!(
            q.pairs(),
            &[
                ("policy_id".to_string(), "p".to_string()),
                ("context_id".to_string(), "or(a,b)".to_string()),
                ("include_settings".to_string(), "true".to_string())
            ]
        );
    }
}
