//! One listed section seen through the registry: which rule is whose, which are duplicates,
//! where the block goes, and where a new rule is created. Pure; the sync and the adapter act on
//! what it says.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::models::DeviceRule;
use super::order::{self, Anchor, Entry, Move, Slot};
use super::registry::{BlockSpec, PlacementConflict, SectionIntent};

/// A listed section, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionView {
    /// The planner's input, in section order.
    pub entries: Vec<Entry>,
    /// The rule each recorded FirewallRule owns (by marker).
    pub owned: HashMap<String, i64>,
    /// Further rules with a recorded marker: removed, keeping one rule per FirewallRule.
    pub duplicates: Vec<i64>,
}

/// Why the section cannot be ordered now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blocked {
    Conflict(PlacementConflict),
    /// No rule of people has the sentinel comment.
    SentinelMissing(String),
}

impl std::fmt::Display for Blocked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Blocked::Conflict(c) => c.fmt(f),
            Blocked::SentinelMissing(c) => {
                write!(f, "no rule of the section has the sentinel comment {c:?}")
            }
        }
    }
}

/// The markers and places of a listed section, read once (each comment is parsed for its marker).
struct TableIndex<'a> {
    markers: Vec<Option<&'a str>>,
    position: HashMap<i64, usize>,
    /// The rule ids that carry each marker, in table order.
    with_marker: HashMap<&'a str, Vec<i64>>,
}

impl<'a> TableIndex<'a> {
    fn new(table: &'a [DeviceRule]) -> Self {
        let markers: Vec<Option<&str>> = table.iter().map(DeviceRule::marker).collect();
        let position = table.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
        let mut with_marker: HashMap<&str, Vec<i64>> = HashMap::new();
        for (r, m) in table.iter().zip(&markers) {
            if let Some(m) = m {
                with_marker.entry(m).or_default().push(r.id);
            }
        }
        TableIndex {
            markers,
            position,
            with_marker,
        }
    }
}

/// Classify a section. A FirewallRule owns the rule with its known id if that rule carries its
/// marker (or no marker, when the user named the id to adopt it), else the first rule with its
/// marker; other rules with its marker
/// are duplicates. Rules with any other rampart marker are transparent, and so are the rules of
/// FirewallRules rampart may not change; the rest are people's.
pub fn classify(table: &[DeviceRule], intent: &SectionIntent) -> SectionView {
    classify_indexed(table, &TableIndex::new(table), intent)
}

fn classify_indexed(
    table: &[DeviceRule],
    index: &TableIndex,
    intent: &SectionIntent,
) -> SectionView {
    let mut slots: HashMap<i64, Slot> = HashMap::new();
    let mut owned = HashMap::new();
    let mut duplicates = Vec::new();
    for (rank, member) in intent.members.iter().enumerate() {
        let by_id = member
            .id
            .filter(|id| !slots.contains_key(id))
            .and_then(|id| index.position.get(&id))
            .filter(|i| match &index.markers[**i] {
                Some(m) => *m == member.marker,
                None => member.adopt_unmarked,
            })
            .map(|i| table[*i].id);
        let by_marker: Vec<i64> = index
            .with_marker
            .get(member.marker.as_str())
            .into_iter()
            .flatten()
            .copied()
            .filter(|id| !slots.contains_key(id))
            .collect();
        let Some(keep) = by_id.or(by_marker.first().copied()) else {
            continue;
        };
        slots.insert(
            keep,
            if member.movable {
                Slot::Owned(rank)
            } else {
                Slot::Transparent
            },
        );
        owned.insert(member.marker.clone(), keep);
        for id in by_marker.into_iter().filter(|id| *id != keep) {
            slots.insert(id, Slot::Transparent);
            if member.movable {
                duplicates.push(id);
            }
        }
    }
    let entries = table
        .iter()
        .zip(&index.markers)
        .map(|(r, m)| {
            let slot = slots.get(&r.id).copied();
            let slot = slot.unwrap_or(if m.is_some() {
                Slot::Transparent
            } else {
                Slot::Foreign
            });
            Entry { id: r.id, slot }
        })
        .collect();
    SectionView {
        entries,
        owned,
        duplicates,
    }
}

/// One listing of a section judged against one ranking of its FirewallRules: everything each of
/// them asks when observed. Built once and shared by all of them: each building it for itself
/// made a steady-state resync quadratic in the section size (found by profiling the benchmark).
#[derive(Debug)]
pub struct SectionJudgement {
    pub intent: Arc<SectionIntent>,
    pub view: SectionView,
    /// The moves that would put the section in order, or why it cannot be ordered.
    pub ordering: Result<Vec<Move>, Blocked>,
    /// Each rule id's index in the table.
    pub position: HashMap<i64, usize>,
    /// The rule ids that carry each marker, in table order.
    pub with_marker: HashMap<String, Vec<i64>>,
    rank: HashMap<String, usize>,
}

impl SectionJudgement {
    pub fn new(table: &[DeviceRule], intent: Arc<SectionIntent>) -> Self {
        let index = TableIndex::new(table);
        let view = classify_indexed(table, &index, &intent);
        let ordering = pending_moves(table, &view, &intent);
        let rank = intent
            .members
            .iter()
            .enumerate()
            .map(|(i, m)| (m.marker.clone(), i))
            .collect();
        SectionJudgement {
            view,
            ordering,
            position: index.position,
            with_marker: index
                .with_marker
                .into_iter()
                .map(|(m, ids)| (m.to_string(), ids))
                .collect(),
            rank,
            intent,
        }
    }

    /// The 0-based rank of a recorded FirewallRule among those of the section.
    pub fn rank_of(&self, marker: &str) -> Option<usize> {
        self.rank.get(marker).copied()
    }

    /// The index in the table of the rule the FirewallRule with `marker` owns.
    pub fn owned_position(&self, marker: &str) -> Option<usize> {
        self.view
            .owned
            .get(marker)
            .and_then(|id| self.position.get(id))
            .copied()
    }

    /// The rules with `marker` other than `kept`.
    pub fn copies(&self, marker: &str, kept: i64) -> Vec<i64> {
        self.with_marker
            .get(marker)
            .into_iter()
            .flatten()
            .copied()
            .filter(|id| *id != kept)
            .collect()
    }
}

/// The first rule of people whose comment is `comment` (surrounding spaces ignored).
pub fn find_sentinel(table: &[DeviceRule], view: &SectionView, comment: &str) -> Option<i64> {
    let owned: HashSet<i64> = view.owned.values().copied().collect();
    table
        .iter()
        .find(|r| {
            !owned.contains(&r.id) && r.marker().is_none() && r.comment().trim() == comment.trim()
        })
        .map(|r| r.id)
}

/// The planner's anchor for the agreed block, or why there is none. `Ok(None)`: nothing to order.
pub fn anchor(
    table: &[DeviceRule],
    view: &SectionView,
    intent: &SectionIntent,
) -> Result<Option<Anchor>, Blocked> {
    match &intent.block {
        Err(conflict) => Err(Blocked::Conflict(conflict.clone())),
        Ok(None) => Ok(None),
        Ok(Some(BlockSpec::Top)) => Ok(Some(Anchor::Top)),
        Ok(Some(BlockSpec::Bottom)) => Ok(Some(Anchor::Bottom)),
        Ok(Some(BlockSpec::AfterSentinel(c))) => find_sentinel(table, view, c)
            .map(|id| Some(Anchor::After(id)))
            .ok_or_else(|| Blocked::SentinelMissing(c.clone())),
    }
}

/// The moves that would put the section in order.
pub fn pending_moves(
    table: &[DeviceRule],
    view: &SectionView,
    intent: &SectionIntent,
) -> Result<Vec<Move>, Blocked> {
    match anchor(table, view, intent)? {
        None => Ok(Vec::new()),
        Some(a) => {
            order::plan_moves(&view.entries, a).map_err(|e| Blocked::SentinelMissing(e.to_string()))
        }
    }
}

/// Where to create the rule of `marker` (`anchor_item_id`, `insert_after`): right after the
/// nearest rule ranked before it, else right before the nearest one ranked after it, else at the
/// start of its block. `None` appends to the end of the table.
///
/// "Right before X" is asked as "right after the rule above X" whenever X has one: `true` means
/// "right after the anchor" without doubt (L158), while `false` ("на месте указанного", in the
/// anchor's place) is read as "right before the anchor" only by GUESS (L158). Only the very top
/// of the table needs `false`.
pub fn creation_anchor(
    table: &[DeviceRule],
    view: &SectionView,
    intent: &SectionIntent,
    marker: &str,
) -> Result<Option<(i64, bool)>, Blocked> {
    let block = anchor(table, view, intent)?;
    let me = intent.rank_of(marker).unwrap_or(intent.members.len());
    let present = |m: &super::registry::Member| view.owned.get(&m.marker).copied();
    if let Some(before) = intent.members[..me].iter().rev().find_map(present) {
        return Ok(Some((before, true)));
    }
    if let Some(after) = intent.members.iter().skip(me + 1).find_map(present) {
        return Ok(Some(right_before(table, after)));
    }
    Ok(match block {
        Some(Anchor::Top) => table.first().map(|r| (r.id, false)),
        Some(Anchor::After(sentinel)) => Some((sentinel, true)),
        Some(Anchor::Bottom) | None => None,
    })
}

/// The anchor for "right before rule `id`": after the rule above it when there is one, else in
/// its place.
fn right_before(table: &[DeviceRule], id: i64) -> (i64, bool) {
    match table.iter().position(|r| r.id == id) {
        Some(i) if i > 0 => (table[i - 1].id, true),
        _ => (id, false),
    }
}

#[cfg(test)]
#[path = "section_tests.rs"]
mod tests;
