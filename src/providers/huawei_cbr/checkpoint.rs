//! The Backup kind at CBR: a restore point of a Vault (`POST /checkpoints`, L1525-1704). The
//! restore point's name carries the Backup's marker, and CBR gives that name to every backup it
//! makes, so a start whose answer was lost is found again by listing the vault's backups by
//! name. Progress is the restore point's status; a failure's words come from its backup tasks.

use async_trait::async_trait;
use jiff::Timestamp;
use tracing::{info, warn};

use super::client::CbrClient;
use super::models::{Backup, BackupFilter, Checkpoint, CheckpointCreate, CheckpointParam};
use super::models::{OperationLog, OperationLogFilter};
use super::task_outcome::{failure_message, with_skew};
use super::{VENDOR, vault_name::NAME_MAX};
use crate::oneshot::{BackupOrder, BackupTaker, Progress, Refusal, SourceObject, Started};
use crate::vendor::error::{ErrorKind, VendorResult};

/// What every restore point rampart asks for is named with, before the marker.
pub const NAME_PREFIX: &str = "rampart-";

/// The restore point's name: the prefix and the marker, in CBR's charset (`[A-Za-z0-9_-]`,
/// 1-64, Table 4-79). The marker is hex already; anything else is dropped rather than sent
/// for CBR to refuse.
pub fn checkpoint_name(marker: &str) -> String {
    let clean: String = marker
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(NAME_MAX - NAME_PREFIX.len())
        .collect();
    format!("{NAME_PREFIX}{clean}")
}

/// Whether CBR can take this Backup as written: a Vault source, no RuBackup block, no
/// retention of its own.
pub fn check(order: &BackupOrder) -> Result<(), Refusal> {
    let spec = &order.backup.spec;
    match order.source {
        SourceObject::Vault(_) => {}
        SourceObject::Policy(_) => {
            return Err(Refusal::new(
                "spec.source.policyRef",
                "CBR backs up vaults: name the Vault with spec.source.vaultRef",
            ));
        }
        SourceObject::Strategy(_) => {
            return Err(Refusal::new(
                "spec.source.strategyRef",
                "CBR backs up vaults: name the Vault with spec.source.vaultRef",
            ));
        }
    }
    if spec.ru_backup.is_some() {
        return Err(Refusal::new(
            "spec.ruBackup",
            "a CBR Vault takes no RuBackup options; use spec.huaweiCbr",
        ));
    }
    if spec.retention_days.is_some() {
        return Err(Refusal::new(
            "spec.retentionDays",
            "CBR's restore point takes no retention: the retention of the policy applied to the vault applies; remove retentionDays",
        ));
    }
    Ok(())
}

/// The `POST /checkpoints` body of a Backup.
pub fn checkpoint_request(order: &BackupOrder) -> CheckpointCreate {
    let spec = &order.backup.spec;
    let cbr = spec.huawei_cbr.clone().unwrap_or_default();
    CheckpointCreate {
        vault_id: order.source_id.clone(),
        parameters: CheckpointParam {
            name: Some(checkpoint_name(&order.marker)),
            description: spec.description.clone(),
            incremental: cbr.incremental,
            resources: cbr.resources,
        },
    }
}

/// The restore point a name listing shows, made at or after `since` (less the skew margin):
/// the earliest, should there be more than one (the first is the start being looked for).
pub fn found_checkpoint(backups: &[Backup], name: &str, since: Timestamp) -> Option<Started> {
    let from = with_skew(since);
    let ours = backups.iter().filter(|b| {
        b.name.as_deref() == Some(name)
            && b.checkpoint_id.is_some()
            && b.created_at.is_none_or(|t| t >= from)
    });
    let first = ours.clone().min_by_key(|b| b.created_at)?;
    let id = first.checkpoint_id.clone()?;
    Some(Started {
        backup_ids: ours
            .filter(|b| b.checkpoint_id.as_deref() == Some(&id))
            .map(|b| b.id.clone())
            .collect(),
        vendor_id: id,
        task_id: None,
    })
}

/// A restore point's status as progress. `backups` are its backups (read only once it is
/// `available`); `tasks` its backup tasks (read only once it is `error`).
pub fn checkpoint_progress(
    cp: &Checkpoint,
    backups: &[Backup],
    tasks: &[OperationLog],
) -> Progress {
    match cp.status.as_deref() {
        Some("available") => Progress::Succeeded {
            backup_ids: backups.iter().map(|b| b.id.clone()).collect(),
            // GUESS: CBR gives no backup size in bytes (`resource_size` is the resource's
            // capacity in GB, the restore point's `backup_size` has no unit), so none is said.
            size_bytes: None,
            completed_at: backups.iter().filter_map(|b| b.protected_at).max(),
        },
        Some(status @ ("error" | "deleting" | "deleted" | "error-deleting")) => {
            let said: Vec<String> = tasks.iter().filter_map(failure_message).collect();
            let message = if said.is_empty() {
                format!("CBR reports restore point {} as {status}", cp.id)
            } else {
                format!("CBR restore point {} failed: {}", cp.id, said.join("; "))
            };
            Progress::Failed {
                message,
                completed_at: tasks.iter().filter_map(|t| t.ended_at).max(),
            }
        }
        _ => Progress::Running,
    }
}

/// CBR's `BackupTaker`.
pub struct CbrCheckpoints {
    client: CbrClient,
}

impl CbrCheckpoints {
    pub fn new(client: CbrClient) -> Self {
        CbrCheckpoints { client }
    }

    async fn backups_of(&self, checkpoint_id: &str) -> VendorResult<Vec<Backup>> {
        let filter = BackupFilter {
            checkpoint_id: Some(checkpoint_id.to_string()),
            ..Default::default()
        };
        let all = self.client.list_backups(&filter).await?;
        // Filtered again here: a vendor that ignored the filter must not lend us its others.
        Ok(all
            .into_iter()
            .filter(|b| b.checkpoint_id.as_deref() == Some(checkpoint_id))
            .collect())
    }

    /// The failed backup tasks of a restore point. The task list has no restore point
    /// filter: it is narrowed by type and time, then by the task's `checkpoint_id`.
    async fn failed_tasks(&self, cp: &Checkpoint) -> VendorResult<Vec<OperationLog>> {
        let filter = OperationLogFilter {
            operation_type: Some("backup".into()),
            start_time: cp.created_at.map(with_skew),
            ..Default::default()
        };
        let all = self.client.list_operation_logs(&filter).await?;
        Ok(all
            .into_iter()
            .filter(|t| t.checkpoint_id.as_deref() == Some(cp.id.as_str()))
            .filter(|t| t.status.as_deref() != Some("success"))
            .collect())
    }
}

#[async_trait]
impl BackupTaker for CbrCheckpoints {
    fn check(&self, order: &BackupOrder) -> Result<(), Refusal> {
        check(order)
    }

    async fn start(&self, order: &BackupOrder) -> VendorResult<Started> {
        let body = checkpoint_request(order);
        let name = body.parameters.name.clone().unwrap_or_default();
        info!(vendor = VENDOR, operation = "POST /checkpoints", vault = %order.source_id, %name, "asking for a restore point");
        let cp = self.client.create_checkpoint(&body).await?;
        if let Some(skipped) = cp.vault.as_ref().map(|v| &v.skipped_resources)
            && !skipped.is_empty()
        {
            let ids: Vec<&str> = skipped.iter().map(|s| s.id.as_str()).collect();
            warn!(vendor = VENDOR, checkpoint = %cp.id, skipped = ?ids, "CBR skipped resources of the restore point");
        }
        // The backups are known at once; a failed listing only delays them to `progress`,
        // the restore point itself is accepted.
        let backup_ids = match self.backups_of(&cp.id).await {
            Ok(b) => b.into_iter().map(|b| b.id).collect(),
            Err(e) => {
                warn!(vendor = VENDOR, checkpoint = %cp.id, error = %e, "backups of the new restore point not listed yet");
                Vec::new()
            }
        };
        Ok(Started {
            vendor_id: cp.id,
            task_id: None,
            backup_ids,
        })
    }

    async fn find(&self, order: &BackupOrder, since: Timestamp) -> VendorResult<Option<Started>> {
        let name = checkpoint_name(&order.marker);
        let filter = BackupFilter {
            vault_id: Some(order.source_id.clone()),
            name: Some(name.clone()),
            start_time: Some(with_skew(since)),
            ..Default::default()
        };
        info!(vendor = VENDOR, operation = "GET /backups", vault = %order.source_id, %name, "looking for a restore point whose answer was lost");
        let backups = self.client.list_backups(&filter).await?;
        Ok(found_checkpoint(&backups, &name, since))
    }

    async fn progress(&self, _order: &BackupOrder, started: &Started) -> VendorResult<Progress> {
        let cp = match self.client.get_checkpoint(&started.vendor_id).await {
            Ok(cp) => cp,
            Err(e) if e.kind == ErrorKind::NotFound => {
                return Ok(Progress::Failed {
                    message: format!(
                        "CBR no longer has restore point {} ({e}): its backups were deleted",
                        started.vendor_id
                    ),
                    completed_at: None,
                });
            }
            Err(e) => return Err(e),
        };
        let (backups, tasks) = match cp.status.as_deref() {
            Some("available") => (self.backups_of(&cp.id).await?, Vec::new()),
            Some("error") => (Vec::new(), self.failed_tasks(&cp).await?),
            _ => (Vec::new(), Vec::new()),
        };
        Ok(checkpoint_progress(&cp, &backups, &tasks))
    }

    async fn delete(&self, backup_ids: &[String]) -> VendorResult<()> {
        for id in backup_ids {
            info!(vendor = VENDOR, operation = "DELETE /backups/{id}", backup = %id, "deleting a Backup's backup");
            match self.client.delete_backup(id).await {
                Ok(()) => {}
                Err(e) if e.kind == ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}
