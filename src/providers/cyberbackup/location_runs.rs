//! A destination's backups as backup health reads them, from the listings every Vault and
//! Policy of a provider configuration share (once per poll). Pure.
//!
//! * Successes: the backups (§2.10.7) held in the archives stored at the location, whatever plan
//!   made them. An archive names its location in `vault` (`id`, `name`, `storage_type`, L4378);
//!   a backup names it only by `vault_id` (L4551), so a backup is placed through its archive,
//!   else through an archive of the same vault id.
//! * Runs going and failures: a failed run leaves no backup, so the archives cannot show it.
//!   They come from the plans whose destination is the location now
//!   (`settings.destination.location.settings`, shown by the plan listing, L2880): their
//!   applications' last runs, with the failed task's message (`backup_runs`). A plan that wrote
//!   here before it moved elsewhere has its backups counted here, its later failures not.
//!
//! GUESS: the `name` of a plan's location (the `path` of a folder template) is the `vault.name`
//! of the archives written there; the document never shows a plan and an archive of one
//! location. If it differs, a Vault sees its backups (they are read by `vault.name`, as its
//! `status.atProvider` counts them) but not the failures of the plans writing to it.

use std::collections::BTreeMap;

use serde_json::Value;

use super::backup_runs::{PlanBackups, run_of_application, time};
use super::models::{Application, Archive, Backup, Plan, plan_id};
use crate::health::{BackupRun, RunResult};

/// Backups and writing plans, by location name (`vault.name`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LocationBackups {
    /// The backups held at each location.
    pub backups: BTreeMap<String, Vec<Backup>>,
    /// Lower-cased ids of the plans whose destination each location is.
    pub plans: BTreeMap<String, Vec<String>>,
}

impl LocationBackups {
    /// The plans writing to `location` now.
    pub fn writers(&self, location: &str) -> &[String] {
        self.plans
            .get(location)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }
}

/// The location a plan writes to, by the name its archives report: the location's `name`, or a
/// folder template's `path` (as `location::location_name` names a Vault).
pub fn plan_location(settings: &Value) -> Option<String> {
    let s = settings.pointer("/destination/location/settings")?;
    ["name", "path"]
        .iter()
        .filter_map(|k| s.get(*k).and_then(Value::as_str))
        .find(|v| !v.is_empty())
        .map(str::to_string)
}

/// Index the listings by location: backups through their archive, plans through their
/// destination.
pub fn index_locations(
    archives: &BTreeMap<String, Archive>,
    backups: &BTreeMap<String, Backup>,
    plans: &BTreeMap<String, Plan>,
) -> LocationBackups {
    let lower = |s: &Option<String>| s.as_deref().map(str::to_ascii_lowercase);
    let archive_of: BTreeMap<String, &Archive> = archives
        .values()
        .map(|a| (a.id.to_ascii_lowercase(), a))
        .collect();
    let by_vault: BTreeMap<String, &str> = archives
        .values()
        .filter(|a| !a.deleted)
        .filter_map(|a| a.vault.as_ref())
        .map(|v| (v.id.to_ascii_lowercase(), v.name.as_str()))
        .collect();
    // Through its archive; by its vault id when the archive says nothing of its vault or was
    // not listed (yet). A backup of a deleted archive is not held.
    let place = |b: &Backup| -> Option<&str> {
        let by_id = || by_vault.get(&lower(&b.vault_id)?).copied();
        match lower(&b.archive_id).and_then(|id| archive_of.get(&id)) {
            Some(a) if a.deleted => None,
            Some(a) => a.vault.as_ref().map(|v| v.name.as_str()).or_else(by_id),
            None => by_id(),
        }
    };
    let mut out = LocationBackups::default();
    for b in backups.values().filter(|b| !b.deleted) {
        if let Some(location) = place(b) {
            out.backups
                .entry(location.to_string())
                .or_default()
                .push(b.clone());
        }
    }
    for p in plans.values() {
        if let Some(location) = plan_location(&p.settings) {
            out.plans.entry(location).or_default().push(plan_id(&p.id));
        }
    }
    out
}

/// Every run known of `location`: its backups, and the runs going or failed of the plans
/// writing to it (`apps` by lower-cased plan id, failed tasks in `plans`); and how many
/// backups it holds.
pub fn location_runs(
    location: &str,
    index: &LocationBackups,
    apps: &BTreeMap<String, Vec<Application>>,
    plans: &PlanBackups,
) -> (Vec<BackupRun>, usize) {
    let held = index
        .backups
        .get(location)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut runs: Vec<BackupRun> = held
        .iter()
        .filter_map(|b| {
            Some(BackupRun {
                id: b.backup_id.clone(),
                at: time(b.created_at.as_deref())?,
                result: RunResult::Succeeded,
            })
        })
        .collect();
    for plan in index.writers(location) {
        let failed = plans
            .failures
            .get(plan)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let of_plan = apps.get(plan).map(Vec::as_slice).unwrap_or_default();
        runs.extend(of_plan.iter().filter_map(|a| run_of_application(a, failed)));
    }
    (runs, held.len())
}

#[cfg(test)]
#[path = "location_runs_tests.rs"]
mod tests;
