//! The simulator's own reading of the document's five rule tables (L68-79) and the actions each
//! takes (L85, L103-115), and of where `anchor_item_id` with `insert_after` puts a rule (L156-158
//! for a create, L238-240 for a move).

/// One ordered rule table, by its path segment (`/firewall/rules/<segment>`, L71-79).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Section {
    Forward,
    Input,
    Dnat,
    Snat,
    Log,
}

/// The constant `parent_id` of the root group (L133).
pub const ROOT_GROUP: &str = "f3ffde22-a562-4f43-ac04-c40fcec6a88c";

impl Section {
    pub const ALL: [Section; 5] = [
        Section::Forward,
        Section::Input,
        Section::Dnat,
        Section::Snat,
        Section::Log,
    ];

    pub fn segment(self) -> &'static str {
        match self {
            Section::Forward => "forward",
            Section::Input => "input",
            Section::Dnat => "dnat",
            Section::Snat => "snat",
            Section::Log => "log",
        }
    }

    pub fn from_segment(segment: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|s| s.segment() == segment)
    }

    /// L85: `"accept" | "drop" | "dnat" | "snat" ("mark_log" | "mark_not_log" для раздела
    /// Логирование)`: the logging table has its own two, every other table the first four.
    pub fn actions(self) -> &'static [&'static str] {
        match self {
            Section::Log => &["mark_log", "mark_not_log"],
            _ => &["accept", "drop", "dnat", "snat"],
        }
    }
}

/// Tests name sections with the API's enum; only its path segment is read.
impl From<crate::api::vendors::ideco::IdecoSection> for Section {
    fn from(s: crate::api::vendors::ideco::IdecoSection) -> Self {
        Section::from_segment(s.as_str()).expect("the API names the document's five sections")
    }
}

/// How the device reads `insert_after=false`. The document says (L158, create): "Если false - на
/// месте указанного в anchor_item_id" ("if false, in the place of the rule in
/// anchor_item_id"), and the same for a move (L240), while `anchor_item_id` is the rule "ниже или
/// выше которого" ("below or above which") the new one goes (L156, L238).
///
/// GUESS (L156-158, L238-240): the new rule takes the anchor's place and the anchor moves down
/// one, so `false` is "right before the anchor" (`AnchorsPlace`, the default). `AfterAnchor` plays
/// a device that reads the query text `false` as true (as a naive `bool("false")` would) and puts
/// the rule right after the anchor; tests use it to check that rampart notices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InsertAfterFalse {
    #[default]
    AnchorsPlace,
    AfterAnchor,
}

/// The index a rule goes to in a table where the anchor is at `anchor_index` (the moving rule
/// already taken out).
pub fn place(anchor_index: usize, insert_after: bool, reading: InsertAfterFalse) -> usize {
    match (insert_after, reading) {
        (true, _) | (false, InsertAfterFalse::AfterAnchor) => anchor_index + 1,
        (false, InsertAfterFalse::AnchorsPlace) => anchor_index,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn false_is_the_anchors_place_unless_the_device_reads_it_as_true() {
        assert_eq!(place(3, true, InsertAfterFalse::AnchorsPlace), 4);
        assert_eq!(place(3, false, InsertAfterFalse::AnchorsPlace), 3);
        assert_eq!(place(3, false, InsertAfterFalse::AfterAnchor), 4);
    }

    #[test]
    fn sections_and_their_actions() {
        for s in Section::ALL {
            assert_eq!(Section::from_segment(s.segment()), Some(s));
        }
        assert!(Section::Log.actions().contains(&"mark_log"));
        assert!(!Section::Log.actions().contains(&"accept"));
        assert!(Section::Dnat.actions().contains(&"snat"));
        assert_eq!(Section::from_segment("nat"), None);
    }
}
