//! One listed section seen through the registry: which rule is whose, which are duplicates,
//! where the block goes, and where a new rule is created. Pure; the sync and the adapter act on
//! what it says.

use std::collections::{HashMap, HashSet};

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

/// Classify a section. A FirewallRule owns the rule with its known id (unless that rule carries
/// another object's marker), else the first rule with its marker; other rules with its marker
/// are duplicates. Rules with any other rampart marker are transparent, and so are the rules of
/// FirewallRules rampart may not change; the rest are people's.
pub fn classify(table: &[DeviceRule], intent: &SectionIntent) -> SectionView {
    // Index the table once: every observe classifies the whole section, so a per-member scan
    // of every comment made a resync cubic in the section size (found by the benchmark).
    let markers: Vec<Option<&str>> = table.iter().map(DeviceRule::marker).collect();
    let position: HashMap<i64, usize> = table.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
    let mut with_marker: HashMap<&str, Vec<i64>> = HashMap::new();
    for (r, m) in table.iter().zip(&markers) {
        if let Some(m) = m {
            with_marker.entry(m).or_default().push(r.id);
        }
    }
    let mut slots: HashMap<i64, Slot> = HashMap::new();
    let mut owned = HashMap::new();
    let mut duplicates = Vec::new();
    for (rank, member) in intent.members.iter().enumerate() {
        let by_id = member
            .id
            .filter(|id| !slots.contains_key(id))
            .and_then(|id| position.get(&id))
            .filter(|i| markers[**i].is_none_or(|m| m == member.marker))
            .map(|i| table[*i].id);
        let by_marker: Vec<i64> = with_marker
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
        .zip(&markers)
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
        return Ok(Some((after, false)));
    }
    Ok(match block {
        Some(Anchor::Top) => table.first().map(|r| (r.id, false)),
        Some(Anchor::After(sentinel)) => Some((sentinel, true)),
        Some(Anchor::Bottom) | None => None,
    })
}

#[cfg(test)]
#[path = "section_tests.rs"]
mod tests;
