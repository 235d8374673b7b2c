//! What a vendor supplies for the one-shot kinds: a `BackupTaker` (start a backup now, find a
//! start whose answer was lost, follow it, delete what it produced) and a `Restorer`. The
//! engine (backup.rs, restore.rs) owns the once-only guarantee; a vendor only has to make a
//! start findable again (a marker where the vendor keeps free text, or what it records about
//! the task) and say how far it got.

use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;

use crate::api::{Backup, Policy, Restore, Strategy, Vault};
use crate::vendor::error::{ErrorKind, VendorError, VendorResult};

/// The rampart object a Backup backs up, or a Restore restores from.
#[derive(Clone, Debug)]
pub enum SourceObject {
    Vault(Arc<Vault>),
    Policy(Arc<Policy>),
    Strategy(Arc<Strategy>),
}

/// A Backup, resolved: its source with the source's vendor id, and its ownership marker.
#[derive(Clone, Debug)]
pub struct BackupOrder {
    pub backup: Arc<Backup>,
    pub source: SourceObject,
    /// The source's vendor id (`rampart.dev/external-name`).
    pub source_id: String,
    /// The Backup's ownership marker (cluster, kind, namespace, name).
    pub marker: String,
}

/// A Restore, resolved: the vendor backup to restore and the Vault that holds it.
#[derive(Clone, Debug)]
pub struct RestoreOrder {
    pub restore: Arc<Restore>,
    pub source: SourceObject,
    pub source_id: String,
    /// The vendor's id of the backup to restore.
    pub backup_id: String,
    pub marker: String,
}

/// What the vendor answered to a start, or what `find` found of one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Started {
    /// The id to follow the action by: a CBR restore point, a RuBackup task, a Cyber Backup
    /// activity.
    pub vendor_id: String,
    /// The vendor's task id, where that is another id.
    pub task_id: Option<String>,
    /// Backups known already (CBR names them in the restore point's answer).
    pub backup_ids: Vec<String>,
}

/// How far a started action got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Progress {
    Running,
    Succeeded {
        backup_ids: Vec<String>,
        size_bytes: Option<i64>,
        completed_at: Option<Timestamp>,
    },
    Failed {
        message: String,
        completed_at: Option<Timestamp>,
    },
}

/// A spec the vendor cannot carry out, named by its field. Checked before any vendor call.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Refusal {
    pub field: String,
    pub message: String,
}

impl Refusal {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Refusal {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[async_trait]
pub trait BackupTaker: Send + Sync {
    /// Whether the vendor can take this backup as written (pure; no call).
    fn check(&self, order: &BackupOrder) -> Result<(), Refusal>;
    /// Ask the vendor for the backup. Called once per Backup: an error of a kind that proves
    /// nothing was started (`proves_nothing_started`) lets the engine try again; any other
    /// error makes it `find` the start instead. An error after the vendor accepted must say so
    /// (`after_accept`).
    async fn start(&self, order: &BackupOrder) -> VendorResult<Started>;
    /// The vendor's record of a start made for this Backup at or after `since`, when the
    /// answer to it was lost.
    async fn find(&self, order: &BackupOrder, since: Timestamp) -> VendorResult<Option<Started>>;
    /// How far the started backup got.
    async fn progress(&self, order: &BackupOrder, started: &Started) -> VendorResult<Progress>;
    /// Delete the backups a Backup produced (`deletionPolicy: Delete`), by their vendor ids
    /// alone: the source may be gone by then. Already gone is fine.
    async fn delete(&self, backup_ids: &[String]) -> VendorResult<()>;
}

#[async_trait]
pub trait Restorer: Send + Sync {
    /// Whether the vendor can carry out this restore as written (pure; no call).
    fn check(&self, order: &RestoreOrder) -> Result<(), Refusal>;
    /// Ask the vendor for the restore; as `BackupTaker::start`.
    async fn start(&self, order: &RestoreOrder) -> VendorResult<Started>;
    /// The vendor's record of this restore started at or after `since`.
    async fn find(&self, order: &RestoreOrder, since: Timestamp) -> VendorResult<Option<Started>>;
    /// How far the started restore got.
    async fn progress(&self, order: &RestoreOrder, started: &Started) -> VendorResult<Progress>;
}

/// Whether an error from a start proves that the vendor started nothing: a clear refusal
/// before it acted. A timeout, a dropped connection or a 5xx proves nothing.
pub fn proves_nothing_started(e: &VendorError) -> bool {
    matches!(
        e.kind,
        ErrorKind::Rejected
            | ErrorKind::Forbidden
            | ErrorKind::Unauthorized
            | ErrorKind::Config
            | ErrorKind::Conflict
            | ErrorKind::Throttled
            | ErrorKind::NotFound
    )
}

/// An error met after the vendor accepted a start (reading back the new task's id): the start
/// happened, so it must never read as a refusal.
pub fn after_accept(e: VendorError) -> VendorError {
    VendorError::new(
        e.vendor,
        e.operation,
        ErrorKind::Unavailable,
        format!("the vendor accepted the start; after it, {}", e.message),
    )
}
