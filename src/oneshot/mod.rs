//! The one-shot kinds, Backup and Restore: a vendor action taken once, followed to its end by
//! phase, never repeated by a resync (as Velero's are). Not the managed-resource engine: there
//! is no desired state to keep in line, only a start to make exactly once. Vendors supply a
//! `BackupTaker` and a `Restorer` (vendor.rs) through their runtime.

pub mod backup;
mod drive;
pub mod restore;
pub mod source;
pub mod status;
pub mod vendor;

pub use vendor::{
    BackupOrder, BackupTaker, Progress, Refusal, RestoreOrder, Restorer, SourceObject, Started,
    after_accept, proves_nothing_started,
};

#[cfg(test)]
mod tests;
