//! Backup of a Policy = one run of its protection plan now: the same `:run` call and the same
//! following of the plan's applications as the Policy's `run-requested-at` (applications.rs,
//! run.rs). `:run` answers 202 with no handle (§2.9.1.2), so a run is named by what the
//! existing run code follows it by: the plan, and the newest run start the applications showed
//! just before the call (the run is the first to start after it). That is the Backup's
//! `vendorId`, as `RunRef` writes it.

use std::sync::Arc;

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use tracing::{info, warn};

use super::VENDOR;
use super::applications::NotRun;
use super::backup_runs::{run_of_application, time};
use super::catalog::Catalog;
use super::models::{Application, Task, plan_id};
use super::run::{self, Followed};
use crate::health::RunResult;
use crate::oneshot::{BackupOrder, BackupTaker, Progress, Refusal, SourceObject, Started};
use crate::vendor::error::{ErrorKind, VendorError, VendorResult};

/// How far before a lost start its run may show on the vendor's clock: `find` compares
/// rampart's clock with the vendor's, which the document does not keep in step.
const CLOCK_SKEW: SignedDuration = SignedDuration::from_secs(60);

/// A run of a plan, as a Backup's `vendorId`: `plan=<id>;after=<start>;called=<time>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunRef {
    pub plan: String,
    /// The run is the first to start after this (the vendor's clock); `None`: the plan's
    /// first run.
    pub after: Option<Timestamp>,
    /// When rampart asked (its own clock): an accepted run that never shows is given up after
    /// a while (run.rs).
    pub called_at: Timestamp,
}

impl RunRef {
    pub fn vendor_id(&self) -> String {
        let after = self.after.map(|t| t.to_string()).unwrap_or_default();
        format!("plan={};after={after};called={}", self.plan, self.called_at)
    }

    pub fn parse(id: &str) -> Option<RunRef> {
        let mut parts = id.split(';').map(|p| p.split_once('='));
        let (Some(("plan", plan)), Some(("after", after)), Some(("called", called)), None) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next())
        else {
            return None;
        };
        Some(RunRef {
            plan: plan.to_string(),
            after: match after {
                "" => None,
                t => Some(t.parse().ok()?),
            },
            called_at: called.parse().ok()?,
        })
    }

    fn started(&self) -> Started {
        Started {
            vendor_id: self.vendor_id(),
            ..Default::default()
        }
    }
}

/// Whether this Backup can be a run of a plan: a Policy source of Cyber Backup, and nothing
/// asked that a run cannot carry (`:run` takes the plan and devices only, §2.10.4.7).
pub fn check(order: &BackupOrder) -> Result<(), Refusal> {
    let spec = &order.backup.spec;
    let run_a_policy =
        "a Cyber Backup backup runs a Policy's plan: name the Policy in spec.source.policyRef";
    match &order.source {
        SourceObject::Vault(_) => return Err(Refusal::new("spec.source.vaultRef", run_a_policy)),
        SourceObject::Strategy(_) => {
            return Err(Refusal::new("spec.source.strategyRef", run_a_policy));
        }
        SourceObject::Policy(p) if p.spec.cyber_backup.is_none() => {
            return Err(Refusal::new(
                "spec.source.policyRef",
                "the Policy has no cyberBackup block: it is not a Cyber Backup plan",
            ));
        }
        SourceObject::Policy(_) => {}
    }
    if spec.huawei_cbr.is_some() {
        return Err(Refusal::new(
            "spec.huaweiCbr",
            "CBR options do not apply to a Cyber Backup plan run",
        ));
    }
    if spec.ru_backup.is_some() {
        return Err(Refusal::new(
            "spec.ruBackup",
            "RuBackup options do not apply to a Cyber Backup plan run",
        ));
    }
    if spec.retention_days.is_some() {
        return Err(Refusal::new(
            "spec.retentionDays",
            "a Cyber Backup run takes no retention of its own: the plan's retention applies",
        ));
    }
    if spec.description.is_some() {
        return Err(Refusal::new(
            "spec.description",
            "Cyber Backup's run call takes no description (only the plan and its devices)",
        ));
    }
    Ok(())
}

/// The first run start of plan `pid` at or after `from`, from the applications (a run going,
/// or the last one) and the tasks (finished runs, §2.10.8; how a run's task names its plan is
/// the guess `backup_runs` reads).
pub fn first_start<'a>(
    pid: &str,
    apps: &[Application],
    tasks: impl Iterator<Item = &'a Task>,
    from: Timestamp,
) -> Option<Timestamp> {
    let of_plan = |t: &&Task| {
        t.context
            .as_ref()
            .and_then(|c| c.persistent.as_ref())
            .and_then(|p| p.id.as_deref())
            .is_some_and(|id| plan_id(id) == pid)
    };
    let task_starts = tasks
        .filter(of_plan)
        .filter_map(|t| time(t.started_at.as_deref()));
    let app_starts = apps.iter().filter_map(|a| time(a.last_runtime.as_deref()));
    task_starts.chain(app_starts).filter(|t| *t >= from).min()
}

/// Takes Backups of Policies: runs of their plans.
pub struct PlanRuns {
    pub catalog: Arc<Catalog>,
}

fn error(operation: &str, kind: ErrorKind, message: String) -> VendorError {
    VendorError::new(VENDOR, operation, kind, message)
}

#[async_trait]
impl BackupTaker for PlanRuns {
    fn check(&self, order: &BackupOrder) -> Result<(), Refusal> {
        check(order)
    }

    #[tracing::instrument(skip_all, fields(vendor = VENDOR, backup = %order.marker))]
    async fn start(&self, order: &BackupOrder) -> VendorResult<Started> {
        check(order).map_err(|r| error("run plan", ErrorKind::Config, r.to_string()))?;
        let pid = plan_id(&order.source_id);
        // A plan deploying or running starts nothing on `:run`: not called, so nothing
        // started, and asked again later (Conflict proves nothing started).
        let call = match self.catalog.run_plan(&pid).await? {
            Ok(call) => call,
            Err(why) => {
                let what = match why {
                    NotRun::Deploying => "is still being deployed to its devices",
                    NotRun::Busy => "is running already and the vendor starts no run beside it",
                };
                return Err(error(
                    "POST /policy_applications:run",
                    ErrorKind::Conflict,
                    format!("plan {pid} {what}; it will be run when it can"),
                ));
            }
        };
        // Nothing is read after the 202: the mark was read before the call, so no error can
        // follow the vendor's acceptance here (`after_accept` has nothing to wrap).
        let r = RunRef {
            plan: pid,
            after: call.after,
            called_at: call.called_at,
        };
        info!(run = %r.vendor_id(), "plan run started for a Backup");
        Ok(r.started())
    }

    /// The lost answer of a `:run`: the first run of the plan that started at or after `since`
    /// (less the clock skew). Never runs the plan. The best the document allows: `:run` takes
    /// no free text (state, plan and devices only, §2.10.4.7) and neither applications nor
    /// tasks (§2.10.8) nor activities (§2.10.9) say who asked for a run, so a scheduled run or
    /// a Policy's `run-requested-at` run starting in the same minute cannot be told from ours.
    async fn find(&self, order: &BackupOrder, since: Timestamp) -> VendorResult<Option<Started>> {
        let pid = plan_id(&order.source_id);
        let apps = self.catalog.plan_applications(&pid).await?;
        let tasks = self.catalog.tasks(true).await?;
        let Some(start) = first_start(&pid, &apps, tasks.values(), since - CLOCK_SKEW) else {
            return Ok(None);
        };
        // The run that started at `start` is the first to start after the instant before it.
        let r = RunRef {
            plan: pid,
            after: Some(start - SignedDuration::from_nanos(1)),
            called_at: since,
        };
        info!(run = %r.vendor_id(), %start, "found the plan run of a lost start");
        Ok(Some(r.started()))
    }

    async fn progress(&self, _order: &BackupOrder, s: &Started) -> VendorResult<Progress> {
        let Some(r) = RunRef::parse(&s.vendor_id) else {
            return Err(error(
                "follow plan run",
                ErrorKind::Config,
                format!("{:?} does not name a Cyber Backup plan run", s.vendor_id),
            ));
        };
        // Followed as the Policy's run is: through the applications, which show only a plan's
        // last run. A later run (scheduled) starting before a poll sees this one end is read
        // as this one; the engine stops following at the first outcome it sees.
        let apps = self.catalog.plan_applications(&r.plan).await?;
        let followed = Followed {
            requested_at: String::new(),
            called_at: Some(r.called_at),
            after: r.after,
            outcome: None,
        };
        let report = followed.report(&apps, Timestamp::now());
        let completed_at = time(report.finished_at.as_deref());
        match report.state.as_str() {
            run::SUCCEEDED => {
                let index = self.catalog.plan_backups(true).await?;
                let made: Vec<_> = index
                    .backups
                    .get(&r.plan)
                    .into_iter()
                    .flatten()
                    .filter(|b| {
                        // The document ties no backup to its run: one created within the
                        // run's span is the run's.
                        let at = time(b.created_at.as_deref());
                        at >= time(report.started_at.as_deref()) && at <= completed_at
                    })
                    .collect();
                if made.is_empty() {
                    warn!(run = %s.vendor_id, "the run succeeded but the backup listing shows no backup of it");
                }
                let sizes: Vec<i64> = made.iter().filter_map(|b| b.size).collect();
                Ok(Progress::Succeeded {
                    size_bytes: (!made.is_empty() && sizes.len() == made.len())
                        .then(|| sizes.iter().sum()),
                    backup_ids: made.into_iter().map(|b| b.backup_id.clone()).collect(),
                    completed_at,
                })
            }
            run::FAILED => {
                let message = self
                    .failure(&r, &apps)
                    .await?
                    .or(report.message)
                    .unwrap_or_else(|| "the plan's run failed".into());
                Ok(Progress::Failed {
                    message,
                    completed_at,
                })
            }
            _ => Ok(Progress::Running),
        }
    }

    async fn delete(&self, backup_ids: &[String]) -> VendorResult<()> {
        self.catalog.delete_backups(backup_ids).await
    }
}

impl PlanRuns {
    /// The vendor's word on a failed run: the failed tasks of the applications that ran, as
    /// backup health reads them; `None` when no application ran (never started).
    async fn failure(&self, r: &RunRef, apps: &[Application]) -> VendorResult<Option<String>> {
        let ran: Vec<&Application> = apps
            .iter()
            .filter(|a| {
                time(a.last_runtime.as_deref()).is_some_and(|t| r.after.is_none_or(|m| t > m))
            })
            .collect();
        if ran.is_empty() {
            return Ok(None);
        }
        let index = self.catalog.plan_backups(true).await?;
        let failed = index.failures.get(&r.plan).map(Vec::as_slice);
        let messages: Vec<String> = ran
            .into_iter()
            .filter_map(|a| run_of_application(a, failed.unwrap_or_default()))
            .filter_map(|run| match run.result {
                RunResult::Failed(m) => Some(m),
                _ => None,
            })
            .collect();
        Ok((!messages.is_empty()).then(|| messages.join("; ")))
    }
}

#[cfg(test)]
mod tests;
