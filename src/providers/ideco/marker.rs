//! The ownership marker in a rule comment. Firewall rules have no name (the comment is their only
//! free text), so rampart appends ` [rampart:<marker>]` to the comment of every rule it owns;
//! `<marker>` is the engine's stable hash of cluster, kind, namespace and name, so a re-created
//! FirewallRule finds its rule again.

const OPEN: &str = "[rampart:";

/// The comment rampart writes: the user's comment followed by the marker.
pub fn compose(user_comment: &str, marker: &str) -> String {
    let user = user_comment.trim_end();
    if user.is_empty() {
        format!("{OPEN}{marker}]")
    } else {
        format!("{user} {OPEN}{marker}]")
    }
}

/// The marker in a device comment, wherever it is (people sometimes append text after it).
/// The last well-formed marker wins.
pub fn parse(comment: &str) -> Option<&str> {
    let mut rest = comment;
    let mut found = None;
    while let Some(start) = rest.find(OPEN) {
        let after = &rest[start + OPEN.len()..];
        match after.find(']') {
            Some(end)
                if end > 0
                    && !after[..end].contains(char::is_whitespace)
                    && !after[..end].contains('[') =>
            {
                found = Some(&after[..end]);
                rest = &after[end + 1..];
            }
            _ => rest = after,
        }
    }
    found
}

/// Whether the comment carries any rampart marker (this cluster's or another's).
pub fn is_marked(comment: &str) -> bool {
    parse(comment).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composes_with_and_without_a_user_comment() {
        assert_eq!(
            compose("web to db", "0123456789abcdef"),
            "web to db [rampart:0123456789abcdef]"
        );
        assert_eq!(
            compose("", "0123456789abcdef"),
            "[rampart:0123456789abcdef]"
        );
        assert_eq!(compose("trailing  ", "m"), "trailing [rampart:m]");
    }

    #[test]
    fn parses_what_it_composes() {
        for user in ["", "a", "правило для бэкапа", "x [y] z"] {
            assert_eq!(
                parse(&compose(user, "0123456789abcdef")),
                Some("0123456789abcdef")
            );
        }
    }

    #[test]
    fn finds_a_marker_people_appended_text_to() {
        assert_eq!(parse("web [rampart:abc] edited by Ivan"), Some("abc"));
        assert_eq!(parse("[rampart:old] moved [rampart:new]"), Some("new"));
    }

    #[test]
    fn rejects_malformed_markers() {
        assert_eq!(parse("no marker"), None);
        assert_eq!(parse("[rampart:]"), None);
        assert_eq!(parse("[rampart:abc"), None);
        assert_eq!(parse("[rampart:a b]"), None);
        assert_eq!(parse("[rampart:[rampart:abc]"), Some("abc"));
        assert!(!is_marked("=== managed below ==="));
        assert!(is_marked("x [rampart:abc]"));
    }
}
