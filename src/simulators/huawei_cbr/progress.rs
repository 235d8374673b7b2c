//! Operations that take time: a manual backup (restore point, section 4.3.2) and a restore
//! (section 4.5.4). The document says they are asynchronous (`protecting` at first, L1671; 202
//! Accepted, L3660) but not for how long. Nothing runs in the background here, and the clock is
//! not used either: an operation stays in progress for `CbrSimConfig::progress_reads` reads that
//! show it, then finishes, the way a deleted vault stays `deleting` for `deleting_reads` reads.
//! A test therefore knows exactly how many polls it takes, with no sleeps and no clock moves.
//!
//! "A read that shows it": `GET /checkpoints/{id}`, `GET /backups/{id}`, a `GET /backups` page or
//! a `GET /operation-logs` page holding one of its backups or tasks, `GET /operation-logs/{id}`
//! of one of its tasks. One request counts once per operation, however many of its objects it
//! shows. The read that uses up the count still shows the operation in progress; the next shows
//! it finished.

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::model::Project;
use super::runs::FailPlan;
use super::{Console, Shared};

/// An operation in progress.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Pending {
    /// `backup` (a restore point's backups) or `restore` (one backup).
    pub operation_type: String,
    pub backup_ids: Vec<String>,
    pub task_ids: Vec<String>,
    /// For a restore point: its id, so a `GET /checkpoints/{id}` counts as a read.
    pub checkpoint_id: Option<String>,
    pub reads_left: u32,
    /// The error it ends with, when a failure was ordered: (code, message).
    pub failure: Option<(String, String)>,
}

impl Pending {
    fn shown_by(&self, ids: &BTreeSet<&str>) -> bool {
        self.checkpoint_id
            .iter()
            .chain(&self.backup_ids)
            .chain(&self.task_ids)
            .any(|id| ids.contains(id.as_str()))
    }
}

impl Project {
    /// Start an operation: it finishes after `reads` reads, at once when `reads` is 0.
    // GUESS (L1671, L3660): the document says a restore point starts `protecting` and a restore
    // is accepted (202), not how long either takes; here it is a number of reads (see above).
    pub fn start(&mut self, op: Pending, now: Timestamp) {
        if op.reads_left == 0 {
            self.finish(&op, now);
        } else {
            self.pending.push(op);
        }
    }

    /// A read showed the objects with these ids (checkpoints, backups, tasks): each operation
    /// shown comes one read nearer its end, and those whose reads are used up finish.
    pub fn saw<'a>(&mut self, ids: impl IntoIterator<Item = &'a str>, now: Timestamp) {
        let ids: BTreeSet<&str> = ids.into_iter().collect();
        let mut done = Vec::new();
        for op in self.pending.iter_mut().filter(|op| op.shown_by(&ids)) {
            op.reads_left = op.reads_left.saturating_sub(1);
            if op.reads_left == 0 {
                done.push(op.clone());
            }
        }
        self.pending.retain(|op| op.reads_left > 0);
        for op in done {
            self.finish(&op, now);
        }
    }

    /// The end of an operation: backups `available` (or `error` for a failed backup; a failed
    /// restore leaves its backup `available`), tasks `success` or `failed` with the error.
    // GUESS (L434-647): a finished task's `ended_at` is the read that finished it and its
    // `extra_info.common.progress` is 100, failed or not (the example's success shows 100).
    fn finish(&mut self, op: &Pending, now: Timestamp) {
        let failed = op.failure.is_some();
        for b in self
            .backups
            .iter_mut()
            .filter(|b| op.backup_ids.contains(&b.id))
        {
            if op.operation_type == "backup" && failed {
                b.status = "error".into();
            } else {
                b.status = "available".into();
                if op.operation_type == "backup" {
                    b.protected_at = Some(now);
                }
            }
        }
        for t in self
            .tasks
            .iter_mut()
            .filter(|t| op.task_ids.contains(&t.id))
        {
            t.status = if failed { "failed" } else { "success" }.into();
            t.error = op.failure.clone().unwrap_or_default();
            t.ended_at = Some(now);
            t.extra_info["common"]["progress"] = json!(100);
        }
    }

    /// The failure ordered for the next operation under `key`, if any; uses one of the plan.
    pub fn take_planned(
        plans: &mut std::collections::BTreeMap<String, FailPlan>,
        key: &str,
    ) -> Option<(String, String)> {
        let plan = plans.get_mut(key)?;
        plan.runs = plan.runs.saturating_sub(1);
        let error = (plan.code.clone(), plan.message.clone());
        if plan.runs == 0 {
            plans.remove(key);
        }
        Some(error)
    }
}

/// The key of `Project::failing_restores`: restores are ordered to fail project-wide.
pub const ANY_BACKUP: &str = "*";

impl Console {
    /// The next `count` restore points of a vault fail with this error code and message: their
    /// backups end `error`, their tasks `failed`. 0 clears. False when the vault does not exist.
    pub fn fail_checkpoints(
        &self,
        project_id: &str,
        vault_id: &str,
        count: u32,
        code: &str,
        message: &str,
    ) -> bool {
        self.with_project(project_id, |p, _| {
            if p.vault(vault_id).is_none() {
                return false;
            }
            set_plan(&mut p.failing_checkpoints, vault_id, count, code, message);
            true
        })
    }

    /// The next `count` restores of the project (any backup) fail with this error: their tasks
    /// end `failed`, their backups `available` again. 0 clears.
    pub fn fail_restores(&self, project_id: &str, count: u32, code: &str, message: &str) {
        self.with_project(project_id, |p, _| {
            set_plan(&mut p.failing_restores, ANY_BACKUP, count, code, message)
        })
    }

    /// `GET /checkpoints/{id}` answers `"vault": null` (the 5.1 example) or the vault (4.3.1).
    pub fn null_checkpoint_vault(&self, enabled: bool) {
        self.0.store.lock().unwrap().null_checkpoint_vault = enabled;
    }

    /// Every restore asked of the project, oldest first.
    pub fn restores(&self, project_id: &str) -> Vec<super::restores::SimRestore> {
        self.project(project_id).restores
    }
}

fn set_plan(
    plans: &mut std::collections::BTreeMap<String, FailPlan>,
    key: &str,
    count: u32,
    code: &str,
    message: &str,
) {
    if count == 0 {
        plans.remove(key);
        return;
    }
    let plan = FailPlan {
        runs: count,
        code: code.into(),
        message: message.into(),
    };
    plans.insert(key.into(), plan);
}

/// The configured number of reads an operation stays in progress.
pub fn reads(sim: &Shared) -> u32 {
    sim.config.progress_reads
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulators::huawei_cbr::SimTask;

    fn task(id: &str) -> SimTask {
        SimTask {
            id: id.into(),
            operation_type: "restore".into(),
            status: "running".into(),
            vault_id: None,
            vault_name: None,
            provider_id: String::new(),
            resource_ids: vec![],
            policy_id: None,
            checkpoint_id: None,
            error: Default::default(),
            created_at: Timestamp::UNIX_EPOCH,
            ended_at: None,
            extra_info: json!({"common": {"progress": 0}}),
        }
    }

    #[test]
    fn an_operation_finishes_after_its_reads_once_per_request() {
        let mut p = Project::default();
        p.tasks.push(task("t1"));
        let op = Pending {
            operation_type: "restore".into(),
            backup_ids: vec!["b1".into()],
            task_ids: vec!["t1".into()],
            checkpoint_id: None,
            reads_left: 2,
            failure: Some(("BackupService.9910".into(), "Unknown error.".into())),
        };
        p.start(op, Timestamp::UNIX_EPOCH);
        p.saw(["elsewhere"], Timestamp::UNIX_EPOCH);
        // One request showing the backup and its task is one read.
        p.saw(["b1", "t1"], Timestamp::UNIX_EPOCH);
        assert_eq!(p.tasks[0].status, "running");
        p.saw(["t1"], Timestamp::UNIX_EPOCH);
        assert_eq!(p.tasks[0].status, "failed");
        assert_eq!(p.tasks[0].error.0, "BackupService.9910");
        assert_eq!(p.tasks[0].extra_info["common"]["progress"], 100);
        assert!(p.pending.is_empty());
    }
}
