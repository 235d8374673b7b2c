//! `namePattern`: a glob over whole server names. A glob and not a regex because names such as
//! `trs-**` (the document's own `instance_name_pattern`) read naturally as globs, and because a
//! glob matches in linear time whatever a user writes. The CRD's OpenAPI pattern refuses most
//! bad globs at admission; `parse` refuses the rest (a reversed range) with the position.

/// Why a `namePattern` is not a valid glob. Positions count characters from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    #[error("the pattern is empty")]
    Empty,
    #[error("'\\' at the end escapes nothing")]
    TrailingEscape,
    #[error("'[' at character {0} is never closed with ']'")]
    UnclosedSet(usize),
    #[error("the set opened at character {0} is empty")]
    EmptySet(usize),
    #[error("']' at character {0} closes no set (write '\\]' for a literal ']')")]
    StrayClose(usize),
    #[error("the range {from}-{to} at character {at} runs backwards")]
    ReversedRange { from: char, to: char, at: usize },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(char),
    AnyOne,
    AnyRun,
    Set {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

impl Token {
    fn matches(&self, c: char) -> bool {
        match self {
            Token::Literal(l) => *l == c,
            Token::AnyOne => true,
            Token::AnyRun => unreachable!("`*` is matched by the backtracking loop"),
            Token::Set { negated, ranges } => {
                ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)) != *negated
            }
        }
    }
}

/// A parsed glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamePattern {
    tokens: Vec<Token>,
}

impl NamePattern {
    pub fn parse(pattern: &str) -> Result<Self, PatternError> {
        let chars: Vec<char> = pattern.chars().collect();
        if chars.is_empty() {
            return Err(PatternError::Empty);
        }
        let mut tokens = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let (token, next) = match chars[i] {
                '\\' => (
                    Token::Literal(*chars.get(i + 1).ok_or(PatternError::TrailingEscape)?),
                    i + 2,
                ),
                '*' => (Token::AnyRun, i + 1),
                '?' => (Token::AnyOne, i + 1),
                '[' => parse_set(&chars, i)?,
                ']' => return Err(PatternError::StrayClose(i + 1)),
                c => (Token::Literal(c), i + 1),
            };
            // `**` means the same as `*`; keeping one keeps matching linear.
            if !(token == Token::AnyRun && tokens.last() == Some(&Token::AnyRun)) {
                tokens.push(token);
            }
            i = next;
        }
        Ok(NamePattern { tokens })
    }

    /// Whether the whole `name` matches. Greedy-with-backtrack over the last `*` only, which
    /// is enough for globs (a later `*` subsumes every choice an earlier one could make).
    pub fn matches(&self, name: &str) -> bool {
        let text: Vec<char> = name.chars().collect();
        let (mut t, mut p) = (0, 0);
        let mut last_star: Option<(usize, usize)> = None;
        while t < text.len() {
            match self.tokens.get(p) {
                Some(Token::AnyRun) => {
                    last_star = Some((p, t));
                    p += 1;
                }
                Some(tok) if tok.matches(text[t]) => {
                    p += 1;
                    t += 1;
                }
                _ => match last_star {
                    Some((sp, st)) => {
                        p = sp + 1;
                        t = st + 1;
                        last_star = Some((sp, st + 1));
                    }
                    None => return false,
                },
            }
        }
        self.tokens[p..].iter().all(|tok| *tok == Token::AnyRun)
    }
}

/// One set starting at `chars[open] == '['`; returns the token and the index after its `]`.
fn parse_set(chars: &[char], open: usize) -> Result<(Token, usize), PatternError> {
    let mut i = open + 1;
    let negated = chars.get(i) == Some(&'!') && chars.get(i + 1).is_some_and(|c| *c != ']');
    if negated {
        i += 1;
    }
    let mut ranges = Vec::new();
    loop {
        let (lo, after_lo) = match chars.get(i) {
            None => return Err(PatternError::UnclosedSet(open + 1)),
            Some(']') if ranges.is_empty() => return Err(PatternError::EmptySet(open + 1)),
            Some(']') => return Ok((Token::Set { negated, ranges }, i + 1)),
            Some(_) => set_char(chars, i, open)?,
        };
        let is_range =
            chars.get(after_lo) == Some(&'-') && chars.get(after_lo + 1).is_some_and(|c| *c != ']');
        if is_range {
            let (hi, after_hi) = set_char(chars, after_lo + 1, open)?;
            if hi < lo {
                return Err(PatternError::ReversedRange {
                    from: lo,
                    to: hi,
                    at: i + 1,
                });
            }
            ranges.push((lo, hi));
            i = after_hi;
        } else {
            ranges.push((lo, lo));
            i = after_lo;
        }
    }
}

/// One (possibly escaped) character inside a set.
fn set_char(chars: &[char], i: usize, open: usize) -> Result<(char, usize), PatternError> {
    match chars.get(i) {
        Some('\\') => chars
            .get(i + 1)
            .map(|c| (*c, i + 2))
            .ok_or(PatternError::UnclosedSet(open + 1)),
        Some(c) => Ok((*c, i + 1)),
        None => Err(PatternError::UnclosedSet(open + 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, name: &str) -> bool {
        NamePattern::parse(pattern).unwrap().matches(name)
    }

    #[test]
    fn star_and_question_mark_match_whole_names() {
        assert!(m("trs-*", "trs-01"));
        assert!(m("trs-*", "trs-"));
        assert!(!m("trs-*", "xtrs-01"), "a glob is anchored at the start");
        assert!(!m("trs-0?", "trs-012"), "and at the end");
        assert!(m("trs-0?", "trs-01"));
        assert!(m("*-gpu-*", "office-gpu-7"));
        assert!(!m("*-gpu-*", "office-gpu"));
        assert!(m("a*b*c", "aXXbYYbZc"), "backtracking past an early match");
        assert!(!m("a*b*c", "aXXbYYbZ"));
        assert!(
            m("trs-**", "trs-anything"),
            "the document's own template form"
        );
    }

    #[test]
    fn matching_is_case_sensitive_and_counts_characters_not_bytes() {
        assert!(!m("TRS-*", "trs-01"));
        assert!(m("пк-?", "пк-1"));
        assert!(m("?", "ж"));
    }

    #[test]
    fn sets_ranges_negation_and_escapes() {
        assert!(m("trs-[0-4]*", "trs-3x"));
        assert!(!m("trs-[0-4]*", "trs-5x"));
        assert!(m("trs-[!0-4]*", "trs-5x"));
        assert!(!m("trs-[!0-4]*", "trs-3x"));
        assert!(m("[ab-]", "-"), "a dash before ']' is literal");
        assert!(m("[!]", "!"), "[!] is a set holding '!'");
        assert!(m(r"vm\*", "vm*"));
        assert!(!m(r"vm\*", "vm1"));
        assert!(m(r"[\]]", "]"));
    }

    #[test]
    fn invalid_globs_say_where() {
        assert_eq!(NamePattern::parse(""), Err(PatternError::Empty));
        assert_eq!(
            NamePattern::parse("trs-[0-9"),
            Err(PatternError::UnclosedSet(5))
        );
        assert_eq!(NamePattern::parse("trs-[]"), Err(PatternError::EmptySet(5)));
        assert_eq!(
            NamePattern::parse("trs-0-9]"),
            Err(PatternError::StrayClose(8))
        );
        assert_eq!(
            NamePattern::parse(r"trs\"),
            Err(PatternError::TrailingEscape)
        );
        assert_eq!(
            NamePattern::parse("[z-a]"),
            Err(PatternError::ReversedRange {
                from: 'z',
                to: 'a',
                at: 2
            })
        );
        assert_eq!(
            PatternError::StrayClose(8).to_string(),
            "']' at character 8 closes no set (write '\\]' for a literal ']')"
        );
    }

    #[test]
    fn many_stars_stay_fast() {
        let p = NamePattern::parse(&"*a".repeat(100)).unwrap();
        assert!(!p.matches(&"a".repeat(99)));
        assert!(p.matches(&"a".repeat(100)));
    }
}
