//! rampart's own model of one section: the last listing, in table order, with every write
//! rampart made since laid over it from the write's answer. A create's answer carries the new
//! rule's id (L178-181) and the create asked for its place explicitly (`anchor_item_id`,
//! `insert_after`, L145-158); a move, an update or a delete changes what rampart asked. So after
//! a write rampart knows the section without listing it again, and a burst of N creates costs N
//! writes, not N writes and 2N listings of a section that grows with every rule.
//!
//! A listing replaces the model: the writer lists once the burst is over, at once when an
//! answer is not what the model expects (`doubt`), and every read lists when the model is older
//! than the poll interval (people edit the same tables). A listing that was in flight during a
//! write may or may not show it, so the writes made since it began are laid over it again;
//! each edit is idempotent.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use super::models::DeviceRule;
use super::order::{Move, apply_move};
use crate::vendor::error::VendorResult;

/// One write rampart made, as the device answered it.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    /// A rule created with this id and body, where it was asked for: right after the anchor
    /// (`true`), in its place (`false`: right before it, rampart's reading of L158), or at the
    /// end of the table without one (L156-158).
    Created {
        rule: DeviceRule,
        anchor: Option<(i64, bool)>,
    },
    /// A rule's body replaced (L184-214); its place does not change.
    Updated { id: i64, fields: Map<String, Value> },
    /// A rule moved next to another (L216-240).
    Moved(Move),
    /// A rule deleted (L242-253).
    Deleted(i64),
}

impl Edit {
    /// Lay the edit over `table`. A table that already shows it stays as it is, so an edit can
    /// be laid again over a listing that may hold it. False when the table lacks what the edit
    /// rests on (its rule, or a create's anchor, which then goes to the end).
    pub fn apply(&self, table: &mut Vec<DeviceRule>) -> bool {
        let at = |table: &[DeviceRule], id: i64| table.iter().position(|r| r.id == id);
        match self {
            Edit::Created { rule, anchor } => {
                if at(table, rule.id).is_some() {
                    return true;
                }
                let place = match anchor {
                    None => Some(table.len()),
                    Some((a, after)) => at(table, *a).map(|i| if *after { i + 1 } else { i }),
                };
                table.insert(place.unwrap_or(table.len()), rule.clone());
                place.is_some()
            }
            Edit::Updated { id, fields } => match at(table, *id) {
                Some(i) => {
                    table[i].fields = fields.clone();
                    true
                }
                None => false,
            },
            Edit::Moved(mv) => apply_move(table, mv),
            Edit::Deleted(id) => {
                table.retain(|r| r.id != *id);
                true
            }
        }
    }
}

struct State {
    table: Option<Arc<Vec<DeviceRule>>>,
    /// When the listing under `table` began.
    listed_at: Option<Instant>,
    /// The edits made since that listing began, oldest first: a listing may lack them.
    edits: Vec<(Instant, Edit)>,
    /// Since when the model may be wrong (a write whose outcome is unknown, an answer it did
    /// not expect): it is not used again until a listing that began after this.
    doubt_since: Option<Instant>,
    /// How long the last listing took: a listing's cost grows with the section.
    listing_took: Duration,
}

/// The model of one section.
pub struct SectionModel {
    ttl: Duration,
    state: Mutex<State>,
    /// One listing at a time; callers that arrive during it wait for its result.
    listing: tokio::sync::Mutex<()>,
}

impl SectionModel {
    pub fn new(ttl: Duration) -> Self {
        SectionModel {
            ttl,
            state: Mutex::new(State {
                table: None,
                listed_at: None,
                edits: Vec::new(),
                doubt_since: None,
                listing_took: Duration::ZERO,
            }),
            listing: tokio::sync::Mutex::new(()),
        }
    }

    /// The model if it can be used: listed after `newer_than`, or within the poll interval.
    fn usable(&self, newer_than: Option<Instant>) -> Option<Arc<Vec<DeviceRule>>> {
        let st = self.state.lock().unwrap();
        if st.doubt_since.is_some() {
            return None;
        }
        let listed_at = st.listed_at?;
        let recent = match newer_than {
            Some(t) => listed_at >= t,
            None => listed_at.elapsed() < self.ttl,
        };
        recent.then(|| st.table.clone()).flatten()
    }

    /// The section: the model, or a new listing (`list`) when the model is older than the poll
    /// interval, in doubt, or when `fresh` asks for a listing that begins after this call.
    pub async fn read<F, Fut>(&self, fresh: bool, list: F) -> VendorResult<Arc<Vec<DeviceRule>>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = VendorResult<Vec<DeviceRule>>>,
    {
        let asked_at = Instant::now();
        let newer_than = fresh.then_some(asked_at);
        if let Some(table) = self.usable(newer_than) {
            return Ok(table);
        }
        let _listing = self.listing.lock().await;
        if let Some(table) = self.usable(newer_than) {
            return Ok(table);
        }
        let began = Instant::now();
        let mut table = list().await?;
        let mut st = self.state.lock().unwrap();
        st.listing_took = began.elapsed();
        // Edits older than the listing are in it; newer ones may not be: lay them over it.
        st.edits.retain(|(at, _)| *at >= began);
        for (_, edit) in &st.edits {
            edit.apply(&mut table);
        }
        let table = Arc::new(table);
        // A listing that began before the doubt serves its caller but is not kept.
        if st.doubt_since.is_none_or(|d| began >= d) {
            st.doubt_since = None;
            st.table = Some(table.clone());
            st.listed_at = Some(began);
        }
        Ok(table)
    }

    /// The model, unless it is in doubt or was never listed.
    pub fn current(&self) -> Option<Arc<Vec<DeviceRule>>> {
        let st = self.state.lock().unwrap();
        if st.doubt_since.is_some() {
            return None;
        }
        st.table.clone()
    }

    /// Whether the model rests on a listing that began at or after `t` and is not in doubt.
    pub fn listed_since(&self, t: Instant) -> bool {
        let st = self.state.lock().unwrap();
        st.doubt_since.is_none() && st.table.is_some() && st.listed_at.is_some_and(|l| l >= t)
    }

    /// Lay an answered write over the model. False (and the model in doubt) when the model
    /// lacked what the write rested on: the section is not what rampart thought.
    pub fn apply(&self, edit: Edit) -> bool {
        let mut st = self.state.lock().unwrap();
        let expected = match st.table.as_mut() {
            // Changed in place unless a reader still holds this copy.
            Some(table) => edit.apply(Arc::make_mut(table)),
            None => true,
        };
        st.edits.push((Instant::now(), edit));
        if !expected {
            st.doubt_since = Some(Instant::now());
        }
        expected
    }

    /// The model may be wrong from now on (a write failed, or the device answered what the
    /// model did not expect): the next read lists.
    pub fn doubt(&self) {
        self.state.lock().unwrap().doubt_since = Some(Instant::now());
    }

    /// Whether the model holds a rule with this id.
    pub fn holds(&self, id: i64) -> bool {
        let st = self.state.lock().unwrap();
        st.table
            .as_ref()
            .is_some_and(|t| t.iter().any(|r| r.id == id))
    }

    /// How long the last writer of a burst waits for another before it lists the section to
    /// confirm the burst: four listings' time, so that confirmations in the gaps of a burst
    /// that goes on take at most about a fifth of the device's time, whatever the section's
    /// size; at least 20 ms, at most 2 s.
    pub fn confirm_grace(&self) -> Duration {
        let took = self.state.lock().unwrap().listing_took;
        (took * 4).clamp(Duration::from_millis(20), Duration::from_secs(2))
    }

    /// Whether writes were made since the last listing began (the model is not yet confirmed).
    pub fn unconfirmed(&self) -> bool {
        !self.state.lock().unwrap().edits.is_empty()
    }
}

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
