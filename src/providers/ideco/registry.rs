//! The desired placements of the FirewallRules a runtime serves. The adapter of one rule sees
//! only its own object, but order is a property of the whole section, so every observe, create
//! and update records its rule's placement here (by ownership marker) and delete forgets it.
//! The section sync orders only the rules recorded here; other rampart rules stay where they
//! are. An entry not refreshed for a while (its object was orphaned or moved to another
//! provider) expires, so a forgotten rule is left alone rather than ordered forever.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
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
    /// Whether a rule at `id` without any marker is this object's: the user named it to adopt
    /// it (`CallContext::trust_unmarked_id`). Otherwise only a rule with the marker is.
    pub adopt_unmarked: bool,
}

/// A recorded rule of a section, in rank order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub marker: String,
    pub object: String,
    pub id: Option<i64>,
    pub movable: bool,
    pub adopt_unmarked: bool,
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
    // The objects asking for each block are listed only for a conflict: copying every name of
    // a section that agrees cost a copy per rule at each ranking (10,000 in the benchmark).
    let mut blocks: Vec<&BlockSpec> = Vec::new();
    for (_, intent) in &entries {
        if !blocks.contains(&&intent.block) {
            blocks.push(&intent.block);
        }
    }
    let block = match blocks.len() {
        0 => Ok(None),
        1 => Ok(Some(blocks[0].clone())),
        _ => {
            let mut wishes: Vec<(BlockSpec, Vec<String>)> =
                blocks.iter().map(|b| ((*b).clone(), Vec::new())).collect();
            for (_, intent) in &entries {
                if let Some((_, objects)) = wishes.iter_mut().find(|(b, _)| *b == intent.block) {
                    objects.push(intent.object.clone());
                }
            }
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
            adopt_unmarked: i.adopt_unmarked,
        })
        .collect();
    SectionIntent { members, block }
}

/// A section's ranked intent as the registry held it at one generation.
#[derive(Debug, Clone)]
pub struct Ranked {
    /// Changes whenever any recorded wish does (so whatever was judged from it is stale).
    pub generation: u64,
    pub intent: Arc<SectionIntent>,
}

/// The registry of one runtime.
pub struct Registry {
    ttl: Duration,
    state: Mutex<State>,
}

struct State {
    entries: HashMap<String, (Intent, Instant)>,
    generation: u64,
    /// Each section ranked at some generation: every FirewallRule of a resync asks for its
    /// section, and ranking it per ask made the resync quadratic (found by profiling).
    ranked: HashMap<IdecoSection, Ranked>,
    swept: Instant,
    /// Each section's block agreement as last announced (`agreement_changed`).
    announced: HashMap<IdecoSection, Agreement>,
}

/// What the FirewallRules of a section agree on: a block (or none recorded), or the blocks
/// they ask for when they conflict. Which objects ask for each is left out: a conflict that
/// gains one more object of a block already asked for changes nobody's state.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
enum Agreement {
    #[default]
    Nothing,
    Block(BlockSpec),
    Conflict(Vec<BlockSpec>),
}

impl Agreement {
    fn of(intent: &SectionIntent) -> Self {
        match &intent.block {
            Ok(None) => Agreement::Nothing,
            Ok(Some(b)) => Agreement::Block(b.clone()),
            Err(c) => Agreement::Conflict(c.wishes.iter().map(|(b, _)| b.clone()).collect()),
        }
    }
}

impl Registry {
    pub fn new(ttl: Duration) -> Self {
        Registry {
            ttl,
            state: Mutex::new(State {
                entries: HashMap::new(),
                generation: 0,
                ranked: HashMap::new(),
                swept: Instant::now(),
                announced: HashMap::new(),
            }),
        }
    }

    /// Record (or refresh) a rule's wish; the generation moves only when the wish changed.
    pub fn record(&self, marker: &str, intent: Intent) {
        let mut state = self.state.lock().unwrap();
        let now = Instant::now();
        match state.entries.get_mut(marker) {
            Some((kept, seen)) if *kept == intent => *seen = now,
            _ => {
                state.entries.insert(marker.to_string(), (intent, now));
                state.generation += 1;
            }
        }
    }

    pub fn forget(&self, marker: &str) {
        let mut state = self.state.lock().unwrap();
        if state.entries.remove(marker).is_some() {
            state.generation += 1;
        }
    }

    /// The live entries of a section, ranked.
    pub fn section(&self, section: IdecoSection) -> Ranked {
        self.rank(&mut self.state.lock().unwrap(), section)
    }

    /// Whether every FirewallRule recorded for `section` asks for the same block (or none is
    /// recorded): one pass without ranking, for an observe that needs nothing else.
    pub fn agrees(&self, section: IdecoSection) -> bool {
        let state = self.state.lock().unwrap();
        let mut first: Option<&BlockSpec> = None;
        state
            .entries
            .values()
            .filter(|(i, _)| i.section == section)
            .all(|(i, _)| *first.get_or_insert(&i.block) == &i.block)
    }

    /// Whether a FirewallRule recorded for `section` adopts the unmarked rule `id` (the user
    /// named it): such a rule is rampart's, never the sentinel.
    pub fn adopts_unmarked(&self, section: IdecoSection, id: i64) -> bool {
        let state = self.state.lock().unwrap();
        state
            .entries
            .values()
            .any(|(i, _)| i.section == section && i.adopt_unmarked && i.id == Some(id))
    }

    /// The objects (`namespace/name`) of a section to wake because its FirewallRules started
    /// or stopped agreeing on the block since this was last asked (a conflict appeared, changed
    /// its blocks, or went away): every recorded one. Empty when nothing changed.
    pub fn agreement_changed(&self, section: IdecoSection) -> Vec<String> {
        let mut state = self.state.lock().unwrap();
        let ranked = self.rank(&mut state, section);
        let now = Agreement::of(&ranked.intent);
        if state.announced.get(&section).cloned().unwrap_or_default() == now {
            return Vec::new();
        }
        state.announced.insert(section, now);
        ranked
            .intent
            .members
            .iter()
            .map(|m| m.object.clone())
            .collect()
    }

    fn rank(&self, state: &mut State, section: IdecoSection) -> Ranked {
        // Expiry is coarse (an entry lives up to an eighth longer than the TTL), so a resync
        // does not walk every entry once per rule.
        if state.swept.elapsed() >= self.ttl / 8 {
            let ttl = self.ttl;
            let before = state.entries.len();
            state.entries.retain(|_, (_, seen)| seen.elapsed() < ttl);
            if state.entries.len() != before {
                state.generation += 1;
            }
            state.swept = Instant::now();
        }
        let generation = state.generation;
        if let Some(kept) = state.ranked.get(&section)
            && kept.generation == generation
        {
            return kept.clone();
        }
        let ranked = Ranked {
            generation,
            intent: Arc::new(resolve(
                state
                    .entries
                    .iter()
                    .filter(|(_, (i, _))| i.section == section)
                    .map(|(m, (i, _))| (m.clone(), i.clone()))
                    .collect(),
            )),
        };
        state.ranked.insert(section, ranked.clone());
        ranked
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
            adopt_unmarked: true,
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
        assert_eq!(r.section(IdecoSection::Forward).intent.members.len(), 1);
        assert_eq!(
            r.section(IdecoSection::Input).intent.block,
            Ok(Some(BlockSpec::Bottom))
        );
        r.forget("m1");
        assert!(r.section(IdecoSection::Forward).intent.members.is_empty());
        let short = Registry::new(Duration::ZERO);
        short.record("m1", intent(BlockSpec::Top, 1, "ns/a"));
        assert!(
            short
                .section(IdecoSection::Forward)
                .intent
                .members
                .is_empty()
        );
    }

    #[test]
    fn a_ranking_is_shared_until_a_wish_changes() {
        let r = Registry::new(Duration::from_secs(60));
        r.record("m1", intent(BlockSpec::Top, 1, "ns/a"));
        let first = r.section(IdecoSection::Forward);
        // Refreshing the same wish (every observe does) keeps the ranking.
        r.record("m1", intent(BlockSpec::Top, 1, "ns/a"));
        let again = r.section(IdecoSection::Forward);
        assert_eq!(again.generation, first.generation);
        assert!(Arc::ptr_eq(&again.intent, &first.intent));
        // A changed wish, a new one and a forgotten one each rank again.
        r.record("m1", intent(BlockSpec::Top, 2, "ns/a"));
        let changed = r.section(IdecoSection::Forward);
        assert_ne!(changed.generation, first.generation);
        r.record("m2", intent(BlockSpec::Top, 0, "ns/b"));
        let added = r.section(IdecoSection::Forward);
        assert_eq!(added.intent.members[0].marker, "m2");
        r.forget("m2");
        let forgotten = r.section(IdecoSection::Forward);
        assert_ne!(forgotten.generation, added.generation);
        assert_eq!(forgotten.intent.members.len(), 1);
    }
}
