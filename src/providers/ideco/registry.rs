//! The desired placements of the FirewallRules a runtime serves. The adapter of one rule sees
//! only its own object, but order is a property of the whole section, so every observe, create
//! and update records its rule's placement here (by ownership marker) and delete forgets it.
//! The section sync orders only the rules recorded here; other rampart rules stay where they
//! are. An entry not refreshed for a while (its object was orphaned or moved to another
//! provider) expires, so a forgotten rule is left alone rather than ordered forever.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::api::vendors::ideco::{IdecoBlock, IdecoPlacement, IdecoSection};

/// Where a section's block lives, as FirewallRules declare it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BlockSpec {
    Top,
    Bottom,
    AfterSentinel(String),
}

impl BlockSpec {
    pub fn from_placement(p: &IdecoPlacement) -> Self {
        match p.block {
            IdecoBlock::Top => BlockSpec::Top,
            IdecoBlock::Bottom => BlockSpec::Bottom,
            IdecoBlock::AfterSentinel => {
                BlockSpec::AfterSentinel(p.sentinel_comment.clone().unwrap_or_default())
            }
        }
    }
}

impl fmt::Display for BlockSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlockSpec::Top => f.write_str("Top"),
            BlockSpec::Bottom => f.write_str("Bottom"),
            BlockSpec::AfterSentinel(c) => write!(f, "AfterSentinel {c:?}"),
        }
    }
}

/// One FirewallRule's wish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intent {
    pub section: IdecoSection,
    pub block: BlockSpec,
    pub priority: i32,
    /// `namespace/name`, for ordering ties and messages.
    pub object: String,
    /// The rule id the engine knows (external name), if any.
    pub id: Option<i64>,
    /// Whether rampart may move the rule or remove its copies (`managementPolicies` allow
    /// `Update`). A rule that may not stays where it is, like another cluster's.
    pub movable: bool,
}

/// A recorded rule of a section, in rank order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub marker: String,
    pub object: String,
    pub id: Option<i64>,
    pub movable: bool,
}

/// FirewallRules of one section that ask for different blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacementConflict {
    /// Each block asked for, with the objects asking.
    pub wishes: Vec<(BlockSpec, Vec<String>)>,
}

impl fmt::Display for PlacementConflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .wishes
            .iter()
            .map(|(block, objects)| {
                let shown: Vec<&str> = objects.iter().take(3).map(String::as_str).collect();
                let more = objects.len().saturating_sub(shown.len());
                let more = if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                };
                format!("{block} ({}{more})", shown.join(", "))
            })
            .collect();
        write!(
            f,
            "FirewallRules of this section ask for different blocks: {}; rampart leaves the order alone until they agree",
            parts.join("; ")
        )
    }
}

/// Everything the sync needs to know about one section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionIntent {
    /// The rules to order, first to last.
    pub members: Vec<Member>,
    /// The agreed block; `None` when no rule of the section is recorded.
    pub block: Result<Option<BlockSpec>, PlacementConflict>,
}

impl SectionIntent {
    pub fn rank_of(&self, marker: &str) -> Option<usize> {
        self.members.iter().position(|m| m.marker == marker)
    }
}

/// Rank the recorded rules of one section and agree on its block.
pub fn resolve(mut entries: Vec<(String, Intent)>) -> SectionIntent {
    entries
        .sort_by(|(ma, a), (mb, b)| (a.priority, &a.object, ma).cmp(&(b.priority, &b.object, mb)));
    let mut wishes: Vec<(BlockSpec, Vec<String>)> = Vec::new();
    for (_, intent) in &entries {
        match wishes.iter_mut().find(|(b, _)| *b == intent.block) {
            Some((_, objects)) => objects.push(intent.object.clone()),
            None => wishes.push((intent.block.clone(), vec![intent.object.clone()])),
        }
    }
    let block = match wishes.len() {
        0 => Ok(None),
        1 => Ok(Some(wishes[0].0.clone())),
        _ => {
            wishes.sort();
            Err(PlacementConflict { wishes })
        }
    };
    let members = entries
        .into_iter()
        .map(|(marker, i)| Member {
            marker,
            object: i.object,
            id: i.id,
            movable: i.movable,
        })
        .collect();
    SectionIntent { members, block }
}

/// The registry of one runtime.
pub struct Registry {
    ttl: Duration,
    entries: Mutex<HashMap<String, (Intent, Instant)>>,
}

impl Registry {
    pub fn new(ttl: Duration) -> Self {
        Registry {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn record(&self, marker: &str, intent: Intent) {
        self.entries
            .lock()
            .unwrap()
            .insert(marker.to_string(), (intent, Instant::now()));
    }

    pub fn forget(&self, marker: &str) {
        self.entries.lock().unwrap().remove(marker);
    }

    /// The live entries of a section, ranked.
    pub fn section(&self, section: IdecoSection) -> SectionIntent {
        let mut entries = self.entries.lock().unwrap();
        let ttl = self.ttl;
        entries.retain(|_, (_, seen)| seen.elapsed() < ttl);
        resolve(
            entries
                .iter()
                .filter(|(_, (i, _))| i.section == section)
                .map(|(m, (i, _))| (m.clone(), i.clone()))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intent(block: BlockSpec, priority: i32, object: &str) -> Intent {
        Intent {
            section: IdecoSection::Forward,
            block,
            priority,
            object: object.to_string(),
            id: None,
            movable: true,
        }
    }

    #[test]
    fn ranks_by_priority_then_object() {
        let s = resolve(vec![
            ("m3".into(), intent(BlockSpec::Top, 5, "ns/c")),
            ("m1".into(), intent(BlockSpec::Top, 5, "ns/a")),
            ("m2".into(), intent(BlockSpec::Top, -1, "ns/z")),
        ]);
        let order: Vec<&str> = s.members.iter().map(|m| m.marker.as_str()).collect();
        assert_eq!(order, vec!["m2", "m1", "m3"]);
        assert_eq!(s.block, Ok(Some(BlockSpec::Top)));
        assert_eq!(s.rank_of("m3"), Some(2));
    }

    #[test]
    fn different_blocks_are_a_conflict_naming_everyone() {
        let s = resolve(vec![
            ("m1".into(), intent(BlockSpec::Top, 1, "ns/a")),
            (
                "m2".into(),
                intent(BlockSpec::AfterSentinel("x".into()), 1, "ns/b"),
            ),
            (
                "m3".into(),
                intent(BlockSpec::AfterSentinel("y".into()), 1, "ns/c"),
            ),
        ]);
        let conflict = s.block.unwrap_err();
        assert_eq!(conflict.wishes.len(), 3);
        let text = conflict.to_string();
        for name in ["ns/a", "ns/b", "ns/c", "\"x\"", "\"y\""] {
            assert!(text.contains(name), "{text}");
        }
    }

    #[test]
    fn an_empty_section_has_no_block() {
        assert_eq!(resolve(vec![]).block, Ok(None));
    }

    #[test]
    fn entries_expire_and_are_kept_per_section() {
        let r = Registry::new(Duration::from_secs(60));
        r.record("m1", intent(BlockSpec::Top, 1, "ns/a"));
        r.record(
            "m2",
            Intent {
                section: IdecoSection::Input,
                ..intent(BlockSpec::Bottom, 1, "ns/b")
            },
        );
        assert_eq!(r.section(IdecoSection::Forward).members.len(), 1);
        assert_eq!(
            r.section(IdecoSection::Input).block,
            Ok(Some(BlockSpec::Bottom))
        );
        r.forget("m1");
        assert!(r.section(IdecoSection::Forward).members.is_empty());
        let short = Registry::new(Duration::ZERO);
        short.record("m1", intent(BlockSpec::Top, 1, "ns/a"));
        assert!(short.section(IdecoSection::Forward).members.is_empty());
    }
}
