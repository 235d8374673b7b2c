//! Which resources may leave a vault now (`pruneResources`). Removing a resource from a CBR
//! vault deletes its backups, so thin evidence must never do it:
//!
//! - a resource leaves only when two complete listings, at least one poll interval apart,
//!   agree it is no longer listed or selected (a short or glitching inventory answer, or a
//!   cached listing read twice, is one listing, not two);
//! - a removal of more than `maxPrunePercent` of the vault in one poll is held until a person
//!   confirms that exact set with the annotation `rampart.dev/confirm-prune`.
//!
//! Pure: the adapter hands in what it listed, when, and what status remembered of earlier
//! listings. Status (not the operator's memory) keeps "missing since", so a restart neither
//! forgets a pending removal nor counts the listing after it as the first.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;
use sha2::{Digest, Sha256};

use crate::api::vault::PendingRemoval;
use crate::engine::external::ExtraCondition;

/// The annotation that confirms a held removal; its value must be the one status shows.
pub const CONFIRM_PRUNE: &str = "rampart.dev/confirm-prune";
/// `maxPrunePercent` when the spec leaves it out.
pub const DEFAULT_MAX_PRUNE_PERCENT: i32 = 10;
/// Resource ids named in a condition message; status lists them all.
const NAMED_IN_MESSAGE: usize = 20;

/// What one decision rests on.
#[derive(Debug, Clone)]
pub struct PruneInput<'a> {
    /// How many resources the vault holds now.
    pub in_vault: usize,
    /// Resources in the vault that the spec neither lists nor selects, by this listing.
    pub unwanted: &'a [String],
    /// What status remembered of earlier listings.
    pub remembered: &'a [PendingRemoval],
    /// When the listing behind `unwanted` was taken.
    pub listed_at: Timestamp,
    /// The provider's poll interval: the least time between two listings that agree.
    pub poll_interval: Duration,
    /// `maxPrunePercent`.
    pub max_percent: i32,
    /// The value of the `rampart.dev/confirm-prune` annotation, if set.
    pub confirmation: Option<&'a str>,
}

/// The decision.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrunePlan {
    /// Every unwanted resource with when a listing first showed it gone (for status).
    pub pending: Vec<PendingRemoval>,
    /// Not yet confirmed by a second listing a poll interval later.
    pub waiting: Vec<String>,
    /// Agreed and allowed: remove now.
    pub remove: Vec<String>,
    /// Agreed, but more than `maxPrunePercent` of the vault and not confirmed.
    pub held: Vec<String>,
    /// The annotation value that confirms `held` (names the set and when each went missing).
    pub confirmation: Option<String>,
}

/// Decide. A remembered time that does not parse counts as this listing's (the wait starts
/// over, never shortens).
pub fn plan(input: &PruneInput<'_>) -> PrunePlan {
    let remembered: BTreeMap<&str, Timestamp> = input
        .remembered
        .iter()
        .filter_map(|p| Some((p.id.as_str(), p.missing_since.parse().ok()?)))
        .collect();
    let agree_after = jiff::SignedDuration::try_from(input.poll_interval).unwrap_or_default();
    let mut out = PrunePlan::default();
    let mut agreed: Vec<PendingRemoval> = Vec::new();
    let mut unwanted: Vec<&String> = input.unwanted.iter().collect();
    unwanted.sort();
    unwanted.dedup();
    for id in unwanted {
        let since = remembered
            .get(id.as_str())
            .copied()
            .filter(|t| *t <= input.listed_at)
            .unwrap_or(input.listed_at);
        let entry = PendingRemoval {
            id: id.clone(),
            missing_since: since.to_string(),
        };
        if input.listed_at.duration_since(since) >= agree_after && since < input.listed_at {
            agreed.push(entry.clone());
        } else {
            out.waiting.push(id.clone());
        }
        out.pending.push(entry);
    }
    if agreed.is_empty() {
        return out;
    }
    let ids: Vec<String> = agreed.iter().map(|p| p.id.clone()).collect();
    let within_share = (ids.len() as u128) * 100
        <= (input.max_percent.clamp(0, 100) as u128) * (input.in_vault as u128);
    let code = confirmation_code(&agreed);
    if within_share || input.confirmation == Some(code.as_str()) {
        out.remove = ids;
    } else {
        out.held = ids;
        out.confirmation = Some(code);
    }
    out
}

/// A short hash of the agreed set and when each of its resources went missing: a confirmation
/// approves that set only, not a later one (nor the same ids gone missing again later).
pub fn confirmation_code(agreed: &[PendingRemoval]) -> String {
    let mut h = Sha256::new();
    for p in agreed {
        h.update(p.id.as_bytes());
        h.update(b"@");
        h.update(p.missing_since.as_bytes());
        h.update(b"\n");
    }
    hex::encode(&h.finalize()[..5])
}

/// The `ResourcesNotPruned` condition while pruning is on.
pub fn condition(
    plan: &PrunePlan,
    in_vault: usize,
    max_percent: i32,
    poll: Duration,
) -> ExtraCondition {
    let mut parts = Vec::new();
    if !plan.held.is_empty() {
        let share = plan.held.len() * 100 / in_vault.max(1);
        parts.push(format!(
            "{} resource(s), {share}% of the vault's {in_vault}, are no longer listed or selected, more than maxPrunePercent ({max_percent}%) at once; removing them deletes their backups, so they are held: {}. To remove them, set the annotation {CONFIRM_PRUNE}: \"{}\"; to keep them, list or select them again",
            plan.held.len(),
            named(&plan.held),
            plan.confirmation.as_deref().unwrap_or_default(),
        ));
    }
    if !plan.waiting.is_empty() {
        parts.push(format!(
            "{} resource(s) are no longer listed or selected and stay until a listing at least one poll interval ({}s) later agrees: {}",
            plan.waiting.len(),
            poll.as_secs(),
            named(&plan.waiting)
        ));
    }
    let reason = match (plan.held.is_empty(), plan.waiting.is_empty()) {
        (false, _) => "ConfirmationRequired",
        (true, false) => "AwaitingSecondListing",
        (true, true) => "NoneExtra",
    };
    ExtraCondition {
        type_: "ResourcesNotPruned",
        status: !parts.is_empty(),
        reason,
        message: if parts.is_empty() {
            "every resource in the vault is listed or selected".into()
        } else {
            parts.join("; ")
        },
    }
}

/// The first ids, and how many more (status lists every one).
fn named(ids: &[String]) -> String {
    let shown = ids
        .iter()
        .take(NAMED_IN_MESSAGE)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    match ids.len().saturating_sub(NAMED_IN_MESSAGE) {
        0 => shown,
        more => format!("{shown} and {more} more (see status.atProvider)"),
    }
}

#[cfg(test)]
#[path = "vault_prune_tests.rs"]
mod tests;
