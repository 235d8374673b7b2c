//! The Restore kind at CBR: `POST /backups/{id}/restore` (L3571-3664). CBR answers 202 with no
//! body, so the restore is followed by its `restore` task in the operation logs, found by the
//! backup id in its `extra_info.restore` right after the POST (or, when that answer was lost,
//! by `find`).

use async_trait::async_trait;
use jiff::Timestamp;
use tracing::info;

use super::VENDOR;
use super::client::CbrClient;
use super::models::{Backup, BackupRestore, OperationLog, OperationLogFilter, RestoreMapping};
use super::task_outcome::{task_progress, with_skew};
use crate::oneshot::{
    Progress, Refusal, RestoreOrder, Restorer, SourceObject, Started, after_accept,
};
use crate::vendor::error::{ErrorKind, VendorError, VendorResult};

const RESTORE: &str = "POST /backups/{id}/restore";

/// Whether CBR can carry out this Restore as written (no call: whether the backup is in the
/// Vault is known only from CBR, and `start` asks before restoring).
pub fn check(order: &RestoreOrder) -> Result<(), Refusal> {
    let spec = &order.restore.spec;
    if spec.ru_backup.is_some() {
        return Err(Refusal::new(
            "spec.ruBackup",
            "a CBR backup takes no RuBackup options; use spec.huaweiCbr",
        ));
    }
    if !matches!(order.source, SourceObject::Vault(_)) {
        return Err(Refusal::new(
            "spec.backupRef",
            "CBR restores backups of vaults: the Backup's source must be a Vault",
        ));
    }
    Ok(())
}

/// The restore body: the spec's `huaweiCbr` block, with what the document requires for the
/// backup's kind and the block leaves out taken from the backup itself (its own server or
/// disk, and for a server its disk backups onto their own disks): no block restores to the
/// original resource.
pub fn restore_request(order: &RestoreOrder, backup: &Backup) -> BackupRestore {
    let cbr = order.restore.spec.huawei_cbr.clone().unwrap_or_default();
    let mut body = BackupRestore {
        mappings: cbr
            .mappings
            .into_iter()
            .map(|m| RestoreMapping {
                backup_id: m.backup_id,
                volume_id: m.volume_id,
            })
            .collect(),
        power_on: cbr.power_on,
        server_id: cbr.server_id,
        volume_id: cbr.volume_id,
    };
    let own = backup.resource_id.clone();
    // GUESS (L3599-3606, Table 4-198): a server backup's `children` are its disk backups, each
    // naming its disk as `resource_id`; the document does not say so outright.
    match backup.resource_type.as_deref() {
        // Table 4-197: server_id and mappings are mandatory for VM restoration.
        Some("OS::Nova::Server") => {
            body.server_id = body.server_id.or(own);
            if body.mappings.is_empty() {
                body.mappings = backup
                    .children
                    .iter()
                    .filter_map(|c| {
                        Some(RestoreMapping {
                            backup_id: c.id.clone(),
                            volume_id: c.resource_id.clone()?,
                        })
                    })
                    .collect();
            }
        }
        // volume_id is mandatory for disk restoration.
        Some("OS::Cinder::Volume") => body.volume_id = body.volume_id.or(own),
        _ => {}
    }
    body
}

/// The restore task of `backup_id` among `tasks`, created at or after `from`: the earliest
/// (`earliest`) or the newest. Only one restore of a backup runs at a time (CBR refuses a
/// second with 2010), so right after a POST the newest is the one it made.
pub fn restore_task<'a>(
    tasks: &'a [OperationLog],
    backup_id: &str,
    from: Timestamp,
    earliest: bool,
) -> Option<&'a OperationLog> {
    let mine = tasks.iter().filter(|t| {
        t.operation_type.as_deref() == Some("restore")
            && t.extra_info
                .restore
                .as_ref()
                .and_then(|r| r.backup_id.as_deref())
                == Some(backup_id)
            && t.created_at.is_none_or(|c| c >= from)
    });
    if earliest {
        mine.min_by_key(|t| t.created_at)
    } else {
        mine.max_by_key(|t| t.created_at)
    }
}

fn started(task: &OperationLog, backup_id: &str) -> Started {
    Started {
        vendor_id: task.id.clone(),
        task_id: Some(task.id.clone()),
        backup_ids: vec![backup_id.to_string()],
    }
}

/// BackupService.2010 ("The resource is being restored.", L5063) is "try later" to the client,
/// but for a start it proves CBR restored nothing for this call: left as Unavailable, the
/// engine would look for the start and take the other restore's task for its own.
fn busy_is_a_conflict(mut e: VendorError) -> VendorError {
    if e.code.as_deref() == Some("BackupService.2010") {
        e.kind = ErrorKind::Conflict;
    }
    e
}

/// CBR's `Restorer`.
pub struct CbrRestores {
    client: CbrClient,
}

impl CbrRestores {
    pub fn new(client: CbrClient) -> Self {
        CbrRestores { client }
    }

    async fn restore_tasks(&self, from: Timestamp) -> VendorResult<Vec<OperationLog>> {
        let filter = OperationLogFilter {
            operation_type: Some("restore".into()),
            start_time: Some(from),
            ..Default::default()
        };
        self.client.list_operation_logs(&filter).await
    }
}

#[async_trait]
impl Restorer for CbrRestores {
    fn check(&self, order: &RestoreOrder) -> Result<(), Refusal> {
        check(order)
    }

    async fn start(&self, order: &RestoreOrder) -> VendorResult<Started> {
        let backup = self.client.get_backup(&order.backup_id).await?;
        // A backup id from another vault of the project is refused before anything is
        // restored: a Restore restores only what its Vault holds.
        if backup.vault_id.as_deref() != Some(order.source_id.as_str()) {
            let message = format!(
                "spec.backupId: backup {} is not in the Vault's CBR vault {}",
                order.backup_id, order.source_id
            );
            return Err(VendorError::new(
                VENDOR,
                RESTORE,
                ErrorKind::Rejected,
                message,
            ));
        }
        let body = restore_request(order, &backup);
        let asked_at = Timestamp::now();
        info!(vendor = VENDOR, operation = RESTORE, backup = %order.backup_id, target = ?body.server_id.as_ref().or(body.volume_id.as_ref()), "asking for a restore");
        self.client
            .restore_backup(&order.backup_id, &body)
            .await
            .map_err(busy_is_a_conflict)?;
        // Accepted: from here on an error must not read as a refusal.
        let tasks = self
            .restore_tasks(with_skew(asked_at))
            .await
            .map_err(after_accept)?;
        match restore_task(&tasks, &order.backup_id, with_skew(asked_at), false) {
            Some(task) => Ok(started(task, &order.backup_id)),
            None => Err(after_accept(VendorError::new(
                VENDOR,
                "GET /operation-logs",
                ErrorKind::NotFound,
                format!("no restore task of backup {} listed yet", order.backup_id),
            ))),
        }
    }

    async fn find(&self, order: &RestoreOrder, since: Timestamp) -> VendorResult<Option<Started>> {
        info!(vendor = VENDOR, operation = "GET /operation-logs", backup = %order.backup_id, "looking for a restore whose answer was lost");
        let from = with_skew(since);
        let tasks = self.restore_tasks(from).await?;
        Ok(
            restore_task(&tasks, &order.backup_id, from, true)
                .map(|t| started(t, &order.backup_id)),
        )
    }

    async fn progress(&self, order: &RestoreOrder, started: &Started) -> VendorResult<Progress> {
        match self.client.get_operation_log(&started.vendor_id).await {
            Ok(task) => Ok(task_progress(&task, vec![order.backup_id.clone()])),
            Err(e) if e.kind == ErrorKind::NotFound => Ok(Progress::Failed {
                message: format!("CBR no longer has restore task {} ({e})", started.vendor_id),
                completed_at: None,
            }),
            Err(e) => Err(e),
        }
    }
}
