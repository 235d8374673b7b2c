//! The move planner: the fewest `move` calls that bring rampart's rules of one section into
//! their declared order and block, without moving any other rule.
//!
//! A section is a list of rules of three sorts. Foreign rules (people's) never move and are the
//! walls the block is placed against. Transparent rules (rampart rules this runtime does not
//! order: another cluster's, or ones whose FirewallRule has not been seen since a restart) never
//! move either, but do not break the block. Owned rules carry their rank in the declared order.
//!
//! The block's zone is where owned rules may stay: before the first foreign rule (`Top`), after
//! the last one (`Bottom`), or between the sentinel and the next foreign rule (`After`). A rule
//! outside the zone must move; of those inside, the longest run already in rank order (longest
//! increasing subsequence) stays and the rest move. No plan can do with fewer moves: a move
//! changes one rule's place, so it lengthens that run by one at most.

use std::collections::HashSet;
use std::ops::Range;

/// What one rule of a section is to the planner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// A rule people made: never moved; the block goes against these.
    Foreign,
    /// A rampart rule this runtime does not order: never moved, does not break the block.
    Transparent,
    /// A rule rampart orders, with its rank in the declared order (ranks are distinct).
    Owned(usize),
}

/// One rule of a section, in section order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub id: i64,
    pub slot: Slot,
}

/// Where the block of owned rules lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Top,
    Bottom,
    /// Right after the rule with this id (the sentinel).
    After(i64),
}

/// One call of `PATCH /firewall/rules/<section>/move`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Move {
    pub id: i64,
    pub anchor: i64,
    /// `true`: right after the anchor (L240). `false`: "на месте указанного в anchor_item_id",
    /// in the anchor's place, which rampart reads as right before it. GUESS (L240, as L158 for
    /// a create): the planner asks for `false` only to reach the top of the table, and the sync
    /// checks the next listing for where the rule landed ([`landed`]).
    pub insert_after: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("the sentinel rule {0} is not in the section")]
    SentinelMissing(i64),
}

/// The moves that order the owned rules, first to last. Apply them one at a time, in order.
pub fn plan_moves(entries: &[Entry], anchor: Anchor) -> Result<Vec<Move>, PlanError> {
    let zone = zone(entries, anchor)?;
    let kept = kept_ids(entries, &zone);
    let mut desired: Vec<(usize, i64)> = entries
        .iter()
        .filter_map(|e| match e.slot {
            Slot::Owned(rank) => Some((rank, e.id)),
            _ => None,
        })
        .collect();
    desired.sort_unstable();

    let mut working: Vec<Entry> = entries.to_vec();
    let mut moves = Vec::new();
    let mut previous: Option<i64> = None;
    for (_, id) in desired {
        if !kept.contains(&id) {
            let target = match previous {
                Some(p) => Some((p, true)),
                None => block_start(&working, anchor),
            };
            if let Some((anchor_id, insert_after)) = target {
                let mv = Move {
                    id,
                    anchor: anchor_id,
                    insert_after,
                };
                if anchor_id != id && !already_there(&working, &mv) {
                    apply_move(&mut working, &mv);
                    moves.push(mv);
                }
            }
        }
        previous = Some(id);
    }
    Ok(moves)
}

/// The number of moves a section needs: owned rules minus the longest run in order in the zone.
pub fn moves_needed(entries: &[Entry], anchor: Anchor) -> Result<usize, PlanError> {
    let zone = zone(entries, anchor)?;
    let owned = entries
        .iter()
        .filter(|e| matches!(e.slot, Slot::Owned(_)))
        .count();
    Ok(owned - kept_ids(entries, &zone).len())
}

/// Indices of `entries` where owned rules may stay.
fn zone(entries: &[Entry], anchor: Anchor) -> Result<Range<usize>, PlanError> {
    let is_foreign = |e: &Entry| e.slot == Slot::Foreign;
    Ok(match anchor {
        Anchor::Top => 0..entries.iter().position(is_foreign).unwrap_or(entries.len()),
        Anchor::Bottom => entries.iter().rposition(is_foreign).map_or(0, |i| i + 1)..entries.len(),
        Anchor::After(sentinel) => {
            let s = entries
                .iter()
                .position(|e| e.id == sentinel)
                .ok_or(PlanError::SentinelMissing(sentinel))?;
            let end = entries[s + 1..]
                .iter()
                .position(is_foreign)
                .map_or(entries.len(), |i| s + 1 + i);
            s + 1..end
        }
    })
}

/// The owned rules that stay: the longest run in rank order inside the zone.
fn kept_ids(entries: &[Entry], zone: &Range<usize>) -> HashSet<i64> {
    let in_zone: Vec<(usize, i64)> = entries[zone.clone()]
        .iter()
        .filter_map(|e| match e.slot {
            Slot::Owned(rank) => Some((rank, e.id)),
            _ => None,
        })
        .collect();
    let ranks: Vec<usize> = in_zone.iter().map(|(r, _)| *r).collect();
    longest_increasing(&ranks)
        .into_iter()
        .map(|i| in_zone[i].1)
        .collect()
}

/// Indices of one longest strictly increasing subsequence (patience sorting, O(n log n)).
pub fn longest_increasing(values: &[usize]) -> Vec<usize> {
    // tails[k]: index of the smallest value that ends an increasing run of length k + 1.
    let mut tails: Vec<usize> = Vec::new();
    let mut parent: Vec<Option<usize>> = vec![None; values.len()];
    for (i, v) in values.iter().enumerate() {
        let k = tails.partition_point(|&t| values[t] < *v);
        parent[i] = k.checked_sub(1).map(|p| tails[p]);
        if k == tails.len() {
            tails.push(i);
        } else {
            tails[k] = i;
        }
    }
    let mut run = Vec::with_capacity(tails.len());
    let mut cursor = tails.last().copied();
    while let Some(i) = cursor {
        run.push(i);
        cursor = parent[i];
    }
    run.reverse();
    run
}

/// Where the first rule of the block goes. `None` when the section is empty.
fn block_start(working: &[Entry], anchor: Anchor) -> Option<(i64, bool)> {
    let before_first = working.first().map(|e| (e.id, false));
    match anchor {
        Anchor::Top => before_first,
        Anchor::Bottom => working
            .iter()
            .rev()
            .find(|e| e.slot == Slot::Foreign)
            .map(|e| (e.id, true))
            .or(before_first),
        Anchor::After(sentinel) => Some((sentinel, true)),
    }
}

fn already_there(working: &[Entry], mv: &Move) -> bool {
    !working.iter().any(|e| e.id == mv.id) || landed(working, mv)
}

/// Whether `table` shows the rule where the move (or a create with the same anchor) asked for
/// it: right after the anchor, or for `false` right before it (the GUESS on [`Move`]).
pub fn landed<T: HasId>(table: &[T], mv: &Move) -> bool {
    let Some(i) = table.iter().position(|e| e.id() == mv.id) else {
        return false;
    };
    let neighbour = if mv.insert_after {
        i.checked_sub(1).map(|p| table[p].id())
    } else {
        table.get(i + 1).map(|e| e.id())
    };
    neighbour == Some(mv.anchor)
}

/// Apply a move the way the device does: take the rule out, then put it right after the anchor
/// (`insert_after`) or in the anchor's place. Returns false when either id is missing.
pub fn apply_move<T: HasId>(list: &mut Vec<T>, mv: &Move) -> bool {
    if mv.id == mv.anchor || !list.iter().any(|e| e.id() == mv.anchor) {
        return false;
    }
    let Some(from) = list.iter().position(|e| e.id() == mv.id) else {
        return false;
    };
    let item = list.remove(from);
    let at = list
        .iter()
        .position(|e| e.id() == mv.anchor)
        .expect("anchor checked above");
    list.insert(if mv.insert_after { at + 1 } else { at }, item);
    true
}

/// Anything with a rule id, so `apply_move` serves plans and tables alike.
pub trait HasId {
    fn id(&self) -> i64;
}

impl HasId for Entry {
    fn id(&self) -> i64 {
        self.id
    }
}

impl HasId for super::models::DeviceRule {
    fn id(&self) -> i64 {
        self.id
    }
}

impl HasId for i64 {
    fn id(&self) -> i64 {
        *self
    }
}

#[cfg(test)]
#[path = "order_tests.rs"]
mod tests;
