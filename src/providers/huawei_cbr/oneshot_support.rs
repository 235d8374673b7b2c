//! Orders for the one-shot tests: a Backup of a Vault and a Restore of one of its backups, as
//! the engine resolves them.

use std::sync::Arc;

use serde_json::json;

use crate::api::backup::{BackupSource, BackupSpec, CbrBackupOptions};
use crate::api::common::LocalObjectRef;
use crate::api::restore::{CbrRestoreOptions, RestoreSpec};
use crate::api::vault::VaultSpec;
use crate::api::{Backup, Policy, Restore, Vault};
use crate::oneshot::{BackupOrder, RestoreOrder, SourceObject};

pub const MARKER: &str = "0123456789abcdef";

pub fn vault_source() -> SourceObject {
    let spec = VaultSpec {
        managed: Default::default(),
        huawei_cbr: None,
        ru_backup: None,
        cyber_backup: None,
    };
    SourceObject::Vault(Arc::new(Vault::new("v", spec)))
}

pub fn policy_source() -> SourceObject {
    let spec = serde_json::from_value(json!({"providerConfigRef": {"name": "cbr"}})).unwrap();
    SourceObject::Policy(Arc::new(Policy::new("p", spec)))
}

pub fn backup_spec(cbr: Option<CbrBackupOptions>) -> BackupSpec {
    BackupSpec {
        source: BackupSource {
            vault_ref: Some(LocalObjectRef { name: "v".into() }),
            policy_ref: None,
            strategy_ref: None,
        },
        description: Some("before the upgrade".into()),
        retention_days: None,
        deletion_policy: None,
        huawei_cbr: cbr,
        ru_backup: None,
    }
}

pub fn backup_order(vault_id: &str, spec: BackupSpec) -> BackupOrder {
    BackupOrder {
        backup: Arc::new(Backup::new("b", spec)),
        source: vault_source(),
        source_id: vault_id.into(),
        marker: MARKER.into(),
    }
}

pub fn restore_spec(cbr: Option<CbrRestoreOptions>) -> RestoreSpec {
    RestoreSpec {
        backup_ref: None,
        vault_ref: Some(LocalObjectRef { name: "v".into() }),
        backup_id: None,
        huawei_cbr: cbr,
        ru_backup: None,
        cyber_backup: None,
    }
}

pub fn restore_order(vault_id: &str, backup_id: &str, spec: RestoreSpec) -> RestoreOrder {
    RestoreOrder {
        restore: Arc::new(Restore::new("r", spec)),
        source: vault_source(),
        source_id: vault_id.into(),
        backup_id: backup_id.into(),
        marker: MARKER.into(),
    }
}
