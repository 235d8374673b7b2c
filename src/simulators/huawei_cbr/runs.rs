//! Policy runs: when the simulator's clock passes an occurrence of an enabled backup policy's
//! trigger, every resource of every vault the policy is applied to gets a backup (section 4.5)
//! and a `backup` task (section 4.1); then the policy's retention applies (L3703-3712). Nothing
//! runs in the background: runs due since the last look are made whenever the store is read
//! (every route, console edit and clock move goes through `Store::project`).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::backups::SimBackup;
use super::model::{Project, SimPolicy, Store, new_id};
use super::operation_logs::SimTask;
use super::rrule;

/// At most this many runs of one policy are made for one jump of the clock (the newest).
pub const CATCH_UP_RUNS: usize = 500;

/// The next `runs` runs of a vault fail with this error.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct FailPlan {
    pub runs: u32,
    pub code: String,
    pub message: String,
}

impl Store {
    /// Make the runs due since the last look, oldest first, then expire backups.
    pub fn catch_up(&mut self) {
        let now = self.now();
        let after = self.runs_until.unwrap_or(now);
        self.runs_until = Some(now.max(after));
        // Triggers fire on whole minutes: without one in (after, now], nothing can be due.
        let minute = Timestamp::from_second(now.as_second().div_euclid(60) * 60).unwrap_or(now);
        let any_due = minute > after;
        for project in self.projects.values_mut() {
            if !any_due {
                project.settle(now);
                continue;
            }
            let mut due: Vec<(Timestamp, String)> = Vec::new();
            for p in project
                .policies
                .iter()
                .filter(|p| p.enabled && p.operation_type == "backup")
            {
                for t in rrule::occurrences(&p.pattern, p.start_time, after, now, CATCH_UP_RUNS) {
                    due.push((t, p.id.clone()));
                }
            }
            due.sort();
            for (at, policy_id) in due {
                project.run_policy(&policy_id, at);
            }
            project.settle(now);
        }
    }
}

/// A policy's count of retained backups, when it limits one (`-1` and absent do not).
fn limit(policy: &SimPolicy, key: &str) -> Option<i64> {
    policy
        .operation_definition
        .get(key)
        .and_then(Value::as_i64)
        .filter(|n| *n > 0)
}

impl Project {
    /// Drop what is gone: vaults whose deletion finished, their backups, expired backups.
    // GUESS (L3709): a backup is deleted when its `expired_at` (creation plus the policy's
    // retention_duration_days, as the list example's 30 and 90 days apart show) has passed, at
    // the first look after that; no `delete` task is recorded for it.
    pub fn settle(&mut self, now: Timestamp) {
        self.vaults.retain(|v| !v.deleted());
        let vaults: Vec<String> = self.vaults.iter().map(|v| v.id.clone()).collect();
        self.backups
            .retain(|b| vaults.contains(&b.vault_id) && b.expired_at.is_none_or(|e| e > now));
    }

    /// One run of a policy at `at` on every vault it is applied to; false when there is no
    /// such policy.
    // GUESS (L1846): a vault being deleted is not backed up.
    pub fn run_policy(&mut self, policy_id: &str, at: Timestamp) -> bool {
        let Some(policy) = self.policy(policy_id).cloned() else {
            return false;
        };
        let vaults: Vec<String> = self
            .applied(policy_id)
            .iter()
            .filter(|v| v.status != "deleting")
            .map(|v| v.id.clone())
            .collect();
        for vault_id in vaults {
            self.run_vault(&policy, &vault_id, at);
        }
        true
    }

    // GUESS (L434-647): one task per backed-up resource (an OperationLog has one `resource` and
    // one `backup`), all of a vault's run sharing one checkpoint (restore point); a vault without
    // resources makes nothing. A run takes no time: created_at = started_at = ended_at =
    // protected_at = the occurrence. A failed run leaves an `error` backup without protected_at
    // and a `failed` task with the error's code and message.
    fn run_vault(&mut self, policy: &SimPolicy, vault_id: &str, at: Timestamp) {
        let Some(vault) = self.vault(vault_id).cloned() else {
            return;
        };
        if vault.resources.is_empty() {
            return;
        }
        let failure = Project::take_planned(&mut self.failing, vault_id);
        let checkpoint_id = new_id();
        let expired_at = limit(policy, "retention_duration_days").and_then(|d| {
            at.checked_add(jiff::SignedDuration::from_hours(24 * d))
                .ok()
        });
        for r in &vault.resources {
            let id = new_id();
            // GUESS (L3500): automatic backups are named `autobk_` and four hex digits, as the
            // examples' `autobk_b629`; the vault's backup_name_prefix is not used.
            let backup = SimBackup {
                name: format!("autobk_{}", &id[..4]),
                id,
                checkpoint_id: checkpoint_id.clone(),
                vault_id: vault.id.clone(),
                policy_id: Some(policy.id.clone()),
                resource_id: r.id.clone(),
                resource_name: r.name.clone(),
                resource_type: r.type_.clone(),
                resource_size: r.size,
                status: if failure.is_some() {
                    "error"
                } else {
                    "available"
                }
                .into(),
                created_at: at,
                protected_at: failure.is_none().then_some(at),
                expired_at,
                auto_trigger: true,
                description: String::new(),
            };
            let mut task = backup_task(&backup, &vault.name);
            if let Some(error) = &failure {
                task.status = "failed".into();
                task.error = error.clone();
            }
            self.tasks.push(task);
            self.backups.push(backup);
        }
        if let Some(keep) = limit(policy, "max_backups") {
            self.keep_newest(&vault.id, &policy.id, keep as usize);
        }
    }

    /// max_backups: each resource of the vault keeps its newest `keep` available backups of the
    /// policy.
    // GUESS (L3704): max_backups counts a resource's `available` backups made by the policy;
    // failed (`error`) backups are not counted and not pruned by it (only by expiry), so failures
    // never push out the last good backup. day/week/month/year_backups (long-term retention) are
    // stored but not applied. Pruning records no `delete` task.
    fn keep_newest(&mut self, vault_id: &str, policy_id: &str, keep: usize) {
        let mut counted: Vec<(Timestamp, String, String)> = self
            .backups
            .iter()
            .filter(|b| b.vault_id == vault_id && b.status == "available")
            .filter(|b| b.policy_id.as_deref() == Some(policy_id))
            .map(|b| (b.created_at, b.resource_id.clone(), b.id.clone()))
            .collect();
        counted.sort_by(|a, b| b.cmp(a));
        let mut seen: std::collections::BTreeMap<String, usize> = Default::default();
        let mut drop = Vec::new();
        for (_, resource, id) in counted {
            let n = seen.entry(resource).or_default();
            *n += 1;
            if *n > keep {
                drop.push(id);
            }
        }
        self.backups.retain(|b| !drop.contains(&b.id));
    }
}

/// The `backup` task of a backup just made: `success`, ended when it began, progress 100, with
/// the vault and the policy of a policy run (a restore point's caller changes what differs).
pub fn backup_task(backup: &SimBackup, vault_name: &str) -> SimTask {
    let extra_info = json!({
        "backup": {"backup_id": backup.id, "backup_name": backup.name},
        "common": {"progress": 100, "request_id": format!("req-{}", new_id())},
        "resource": {"id": backup.resource_id, "name": backup.resource_name, "type": backup.resource_type},
    });
    SimTask {
        id: new_id(),
        operation_type: "backup".into(),
        status: "success".into(),
        vault_id: Some(backup.vault_id.clone()),
        vault_name: Some(vault_name.to_string()),
        provider_id: backup.provider_id().into(),
        resource_ids: vec![backup.resource_id.clone()],
        policy_id: backup.policy_id.clone(),
        checkpoint_id: Some(backup.checkpoint_id.clone()),
        error: Default::default(),
        created_at: backup.created_at,
        ended_at: Some(backup.created_at),
        extra_info,
    }
}
