//! Backup of a Vault = a RuBackup urgent full backup into its pool (`POST /task_queue`,
//! L4868-4912), followed in the task queue and found in the repository when it is done
//! (`GET /repository`, L3539-3604). A Strategy's resources are not taken yet; a Policy is a
//! Cyber Backup plan run.

use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;
use reqwest::Method;
use serde_json::{Value, json};
use tracing::{info, warn};

use super::backend::Backend;
use super::backup_runs::owner_of;
use super::client::Item;
use super::fields::normalize_client;
use super::interval::Interval;
use super::task_queue::{self, TaskState, newest_task, queued_task, server_zone};
use crate::api::Vault;
use crate::api::backup::RuBackupBackupOptions;
use crate::api::vendors::rubackup::RuBackupVault;
use crate::oneshot::{
    BackupOrder, BackupTaker, Progress, Refusal, SourceObject, Started, after_accept,
};
use crate::vendor::error::{ErrorKind, VendorError, VendorResult};

/// The storage duration when neither the Backup nor the pool says: the document's example
/// (L4879, "1 Years").
const DEFAULT_STORAGE: &str = "1 year";
/// The task priority when the Backup gives none: the document's example (L4878).
const DEFAULT_PRIORITY: i32 = 100;

/// The urgent backup of one client resource into one pool, as the spec asks it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Request {
    client: String,
    resource_type: String,
    resource: String,
    pool: String,
    priority: i32,
    storage_duration: String,
}

impl Request {
    fn body(&self) -> Value {
        json!({"data": {"task": {
            "resource_type": self.resource_type,
            "resource": self.resource,
            "client": self.client,
            "backup_type": "full",
            "pool": self.pool,
            "crypto": "nocrypt",
            "priority": self.priority,
            "storage_duration": self.storage_duration,
            "archiving": false,
        }}})
    }

    /// Whether a queued task is this request's: the same client (spelled either way the
    /// document writes it), resource type, resource and pool.
    fn is(&self, task: &Item) -> bool {
        let same = |key: &str, want: &str| owner_of(task, key).as_deref() == Some(want);
        owner_of(task, "client")
            .is_some_and(|c| normalize_client(&c) == normalize_client(&self.client))
            && same("resource_type", &self.resource_type)
            && same("resource", &self.resource)
            && same("pool", &self.pool)
    }
}

/// The Backup's request, or the field it cannot be taken for.
fn request(order: &BackupOrder) -> Result<Request, Refusal> {
    let spec = &order.backup.spec;
    let vault = match &order.source {
        SourceObject::Vault(v) => v,
        SourceObject::Policy(_) => {
            return Err(Refusal::new(
                "spec.source.policyRef",
                "a RuBackup global schedule rule cannot be run on demand; back up a Vault (its pool)",
            ));
        }
        SourceObject::Strategy(_) => {
            return Err(Refusal::new(
                "spec.source.strategyRef",
                "an on-demand backup of a RuBackup Strategy's resources is not supported yet; back up into a Vault (its pool) with spec.ruBackup naming the client and resource",
            ));
        }
    };
    if spec.huawei_cbr.is_some() {
        return Err(Refusal::new(
            "spec.huaweiCbr",
            "CBR options do not apply to a RuBackup backup; use spec.ruBackup",
        ));
    }
    if spec.description.is_some() {
        return Err(Refusal::new(
            "spec.description",
            "RuBackup keeps no description with an urgent backup",
        ));
    }
    let Some(rb) = &spec.ru_backup else {
        return Err(Refusal::new(
            "spec.ruBackup",
            "required for a RuBackup Vault: the client, resourceType and resource to back up",
        ));
    };
    let pool = pool_of(vault)?;
    Ok(Request {
        client: required(rb, "client", |r| &r.client)?,
        resource_type: required(rb, "resourceType", |r| &r.resource_type)?,
        resource: required(rb, "resource", |r| &r.resource)?,
        pool: pool.name.clone(),
        priority: rb.priority.unwrap_or(DEFAULT_PRIORITY),
        storage_duration: storage_duration(spec.retention_days, pool)?,
    })
}

fn required(
    rb: &RuBackupBackupOptions,
    name: &str,
    get: fn(&RuBackupBackupOptions) -> &Option<String>,
) -> Result<String, Refusal> {
    match get(rb).as_deref().map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v.to_string()),
        _ => Err(Refusal::new(
            format!("spec.ruBackup.{name}"),
            "required for an urgent backup into a RuBackup pool",
        )),
    }
}

fn pool_of(vault: &Vault) -> Result<&RuBackupVault, Refusal> {
    vault.spec.ru_backup.as_ref().ok_or_else(|| {
        Refusal::new(
            "spec.source.vaultRef",
            "the Vault has no ruBackup block: it is not a RuBackup pool",
        )
    })
}

/// `retentionDays` as an interval ("30 days"); else the pool's own retention period; else the
/// document's example.
fn storage_duration(days: Option<u32>, pool: &RuBackupVault) -> Result<String, Refusal> {
    if let Some(days) = days {
        return Ok(Interval::days(i64::from(days)).to_postgres());
    }
    match &pool.retention_period {
        Some(p) => Interval::parse(p).map(|iv| iv.to_postgres()).map_err(|e| {
            Refusal::new(
                "spec.retentionDays",
                format!("not set, and the Vault's retentionPeriod cannot stand in: {e}"),
            )
        }),
        None => Ok(DEFAULT_STORAGE.to_string()),
    }
}

/// Takes urgent backups for one provider configuration.
pub struct UrgentBackups {
    pub backend: Arc<Backend>,
}

/// A refusal met after the check (it cannot be: `check` runs first), as a vendor error.
fn refused(r: Refusal) -> VendorError {
    VendorError::new(
        super::VENDOR,
        "urgent backup",
        ErrorKind::Config,
        r.to_string(),
    )
}

fn started(task: String) -> Started {
    Started {
        vendor_id: task.clone(),
        task_id: Some(task),
        backup_ids: Vec::new(),
    }
}

#[async_trait]
impl BackupTaker for UrgentBackups {
    fn check(&self, order: &BackupOrder) -> Result<(), Refusal> {
        request(order).map(drop)
    }

    #[tracing::instrument(skip_all, fields(vendor = "rubackup", backup = %order.marker))]
    async fn start(&self, order: &BackupOrder) -> VendorResult<Started> {
        let req = request(order).map_err(refused)?;
        let asked_at = Timestamp::now();
        let b = &self.backend;
        let env = b
            .client
            .send(
                "POST /task_queue",
                Method::POST,
                "/task_queue",
                &[],
                Some(&req.body()),
            )
            .await?;
        if let Some(task) = queued_task(&env.message) {
            info!(task, pool = %req.pool, "urgent backup queued");
            return Ok(started(task));
        }
        // 201 without the task number: the newest matching task asked since is ours.
        match newest_task(b, asked_at, |t| req.is(t))
            .await
            .map_err(after_accept)?
        {
            Some((task, _)) => {
                info!(task, pool = %req.pool, "urgent backup queued (found in the queue)");
                Ok(started(task))
            }
            None => Err(after_accept(VendorError::new(
                super::VENDOR,
                "POST /task_queue",
                ErrorKind::Unavailable,
                "the answer named no task and the queue shows none for this client resource yet",
            ))),
        }
    }

    async fn find(&self, order: &BackupOrder, since: Timestamp) -> VendorResult<Option<Started>> {
        let req = request(order).map_err(refused)?;
        let found = newest_task(&self.backend, since, |t| req.is(t)).await?;
        Ok(found.map(|(task, _)| started(task)))
    }

    async fn progress(&self, _order: &BackupOrder, s: &Started) -> VendorResult<Progress> {
        let b = &self.backend;
        let tz = server_zone(b);
        let id = s.task_id.as_deref().unwrap_or(&s.vendor_id);
        let Some(task) = task_queue::task(b, id).await? else {
            // Done tasks may be cleared from the queue (DELETE /task_queue/obsoleted, L4953):
            // the repository still says what the task made.
            let records = records_of(b, id, None).await?;
            if records.is_empty() {
                return Ok(Progress::Failed {
                    message: format!(
                        "RuBackup task {id} is gone from the queue and the repository holds no backup it made"
                    ),
                    completed_at: None,
                });
            }
            return Ok(succeeded(&records, None, &tz));
        };
        match task_queue::state(id, &task) {
            TaskState::Running => Ok(Progress::Running),
            TaskState::Failed(message) => Ok(task_queue::failed(message, &task, &tz)),
            TaskState::Done => {
                let named = owner_of(&task, "repository_id");
                let records = records_of(b, id, named.as_deref()).await?;
                if records.is_empty() {
                    warn!(task = id, "task Done but no repository record names it yet");
                    return Ok(Progress::Running);
                }
                Ok(succeeded(&records, Some(&task), &tz))
            }
        }
    }

    async fn delete(&self, backup_ids: &[String]) -> VendorResult<()> {
        let b = &self.backend;
        for id in backup_ids {
            let existed = b.client.delete(b.repository.kind.path, id).await?;
            info!(record = %id, existed, "deleted a RuBackup repository record");
        }
        Ok(())
    }
}

/// The repository records task `id` made, read afresh: those naming it (`task_id`) and the one
/// the task names (`repository_id`), GUESS both, as `backup_runs` reads them.
async fn records_of(
    b: &Backend,
    id: &str,
    named: Option<&str>,
) -> VendorResult<Vec<(String, Item)>> {
    let records = b.all(&b.repository, true).await?;
    Ok(records
        .iter()
        .filter(|(rid, r)| {
            owner_of(r, "task_id").as_deref() == Some(id) || Some(rid.as_str()) == named
        })
        .map(|(rid, r)| (rid.clone(), r.clone()))
        .collect())
}

fn succeeded(records: &[(String, Item)], task: Option<&Item>, tz: &jiff::tz::TimeZone) -> Progress {
    let sizes: Vec<i64> = records
        .iter()
        .filter_map(|(_, r)| r.get("size").and_then(Value::as_i64))
        .collect();
    let finished = task
        .and_then(|t| task_queue::time(t, "finished", tz))
        .or_else(|| {
            records
                .iter()
                .find_map(|(_, r)| task_queue::time(r, "finished", tz))
        });
    Progress::Succeeded {
        backup_ids: records.iter().map(|(id, _)| id.clone()).collect(),
        size_bytes: (sizes.len() == records.len()).then(|| sizes.iter().sum()),
        completed_at: finished,
    }
}
