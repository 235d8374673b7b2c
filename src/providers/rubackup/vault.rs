//! Vault = RuBackup pool (`/pool_list`, §8.6.1). The PATCH takes `pool_name`,
//! `compression_type`, `description`, `retention_period` and `ignore_free_space_check`; type,
//! media server and block-device parameters are set at creation only.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use super::backend::Backend;
use super::client::Item;
use super::common_fields::FieldList;
use super::fields::{Compare, Desired};
use super::object;
use super::ownership;
use crate::api::Vault;
use crate::api::vault::VaultObservation;
use crate::api::vendors::rubackup::RuBackupVault;
use crate::engine::external::{
    CallContext, Created, Deleted, External, ExternalError, ExternalResult, Observation, Readiness,
};

/// The Vault adapter.
pub struct PoolAdapter {
    pub backend: Arc<Backend>,
}

fn block(cr: &Vault) -> ExternalResult<&RuBackupVault> {
    cr.spec.ru_backup.as_ref().ok_or_else(|| {
        ExternalError::invalid(
            "spec.ruBackup",
            "a Vault on a RuBackup provider needs the ruBackup block",
        )
    })
}

/// The pool fields the spec asks for.
pub fn pool_fields(spec: &RuBackupVault) -> ExternalResult<Vec<Desired>> {
    let p = |f: &str| format!("spec.ruBackup.{f}");
    let mut f = FieldList::default();
    f.push("pool_name", p("name"), spec.name.as_str(), Compare::Exact);
    f.opt(
        "compression_type",
        &p("compressionType"),
        &spec.compression_type,
    );
    f.opt("description", &p("description"), &spec.description);
    if let Some(v) = &spec.retention_period {
        f.push(
            "retention_period",
            p("retentionPeriod"),
            object::interval(v, &p("retentionPeriod"))?,
            Compare::Interval,
        );
    }
    f.opt(
        "ignore_free_space_check",
        &p("ignoreFreeSpaceCheck"),
        &spec.ignore_free_space_check,
    );
    let b = spec.block_device.clone().unwrap_or_default();
    let fixed: [(&str, &str, Option<Value>); 6] = [
        (
            "pool_type",
            "poolType",
            Some(spec.pool_type.as_str().into()),
        ),
        (
            "media_server",
            "mediaServer",
            Some(spec.media_server.as_str().into()),
        ),
        (
            "algorithm",
            "blockDevice.algorithm",
            b.algorithm.map(Value::from),
        ),
        (
            "block_size",
            "blockDevice.blockSize",
            b.block_size.map(Value::from),
        ),
        (
            "hash_length",
            "blockDevice.hashLength",
            b.hash_length.map(Value::from),
        ),
        (
            "meta_data_pool",
            "blockDevice.metaDataPool",
            b.meta_data_pool.map(Value::from),
        ),
    ];
    for (key, name, value) in fixed {
        if let Some(v) = value {
            f.0.push(Desired::new(key, p(name), v, Compare::Exact).fixed());
        }
    }
    Ok(f.0)
}

fn observation(id: &str, item: &Item) -> VaultObservation {
    let details: BTreeMap<String, String> = [
        ("poolType", "pool_type"),
        ("mediaServer", "media_server"),
        ("compressionType", "compression_type"),
        ("retentionPeriod", "retention_period"),
    ]
    .into_iter()
    .filter_map(|(name, key)| object::text(item, key).map(|v| (name.to_string(), v)))
    .collect();
    VaultObservation {
        id: Some(id.to_string()),
        name: object::text(item, "pool_name").or_else(|| object::text(item, "poolname")),
        details,
        ..Default::default()
    }
}

#[async_trait]
impl External<Vault> for PoolAdapter {
    #[tracing::instrument(skip_all, fields(vendor = "rubackup", kind = "Vault", namespace = cr.metadata.namespace.as_deref().unwrap_or_default(), name = cr.metadata.name.as_deref().unwrap_or_default()))]
    async fn observe(
        &self,
        cr: &Vault,
        id: Option<&str>,
        ctx: &CallContext<'_>,
    ) -> ExternalResult<Observation<VaultObservation>> {
        let spec = block(cr)?;
        let desired = pool_fields(spec)?;
        let b = &self.backend;
        let Some(found) = ownership::locate(b, &b.pools, id, &spec.name, ctx).await? else {
            return Ok(Observation::default());
        };
        Ok(Observation {
            exists: true,
            external_name: Some(found.id.clone()),
            drift: object::drift(&desired, &found.item),
            at_provider: observation(&found.id, &found.item),
            readiness: Readiness::Available,
            ownership: found.ownership,
            ..Default::default()
        })
    }

    #[tracing::instrument(skip_all, fields(vendor = "rubackup", kind = "Vault", namespace = cr.metadata.namespace.as_deref().unwrap_or_default(), name = cr.metadata.name.as_deref().unwrap_or_default()))]
    async fn create(&self, cr: &Vault, _ctx: &CallContext<'_>) -> ExternalResult<Created> {
        let spec = block(cr)?;
        let b = &self.backend;
        let after_lost = object::follows_lost_create(cr);
        let desired = pool_fields(spec)?;
        let (id, _) = object::create(b, &b.pools, &spec.name, None, &desired, after_lost).await?;
        Ok(Created { external_name: id })
    }

    #[tracing::instrument(skip_all, fields(vendor = "rubackup", kind = "Vault", namespace = cr.metadata.namespace.as_deref().unwrap_or_default(), name = cr.metadata.name.as_deref().unwrap_or_default()))]
    async fn update(
        &self,
        cr: &Vault,
        id: &str,
        _observed: &Observation<VaultObservation>,
        _ctx: &CallContext<'_>,
    ) -> ExternalResult<()> {
        let spec = block(cr)?;
        let desired = pool_fields(spec)?;
        let b = &self.backend;
        let item = ownership::owned(b, &b.pools, id, &spec.name).await?;
        object::update(b, &b.pools, id, None, &desired, &item).await
    }

    #[tracing::instrument(skip_all, fields(vendor = "rubackup", kind = "Vault", namespace = cr.metadata.namespace.as_deref().unwrap_or_default(), name = cr.metadata.name.as_deref().unwrap_or_default()))]
    async fn delete(
        &self,
        cr: &Vault,
        id: &str,
        _ctx: &CallContext<'_>,
    ) -> ExternalResult<Deleted> {
        let b = &self.backend;
        object::delete(b, &b.pools, id, &block(cr)?.name).await
    }

    /// The backups in the pool and the runs writing to it, whatever rule or strategy made
    /// them (tasks and records name their pool, by name as the document's `pool_id` fields
    /// do), from the listings every object of the provider configuration shares. A pool has no
    /// schedule of its own: it is judged on what happened, and a missed run is its rule's or
    /// strategy's to report.
    async fn backups(
        &self,
        cr: &Vault,
        id: &str,
        _ctx: &CallContext<'_>,
    ) -> Option<crate::health::BackupReport> {
        let b = &self.backend;
        let tz = jiff::tz::TimeZone::get(&b.schedule.time_zone).ok()?;
        let name = block(cr).ok()?.name.as_str();
        let listed = b.runs_of(&b.by_pool, &[name, id], &tz).await;
        Some(crate::health::BackupReport::from_listing(listed, None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::vendors::rubackup::RuBackupBlockDevice;
    use serde_json::json;

    fn spec() -> RuBackupVault {
        RuBackupVault {
            name: "k8s-main".into(),
            pool_type: "Block device".into(),
            media_server: "rubackup-server".into(),
            retention_period: Some("1 Years".into()),
            block_device: Some(RuBackupBlockDevice {
                block_size: Some(131072),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn fields_follow_the_documents_post_body() {
        let body = super::super::fields::create_body(&pool_fields(&spec()).unwrap());
        assert_eq!(
            Value::Object(body),
            json!({"pool_name": "k8s-main", "pool_type": "Block device", "media_server": "rubackup-server",
                   "retention_period": "1 year", "block_size": 131072})
        );
    }

    #[test]
    fn only_patchable_fields_are_mutable() {
        let mutable: Vec<String> = pool_fields(&spec())
            .unwrap()
            .into_iter()
            .filter(|d| d.mutable)
            .map(|d| d.key)
            .collect();
        assert_eq!(mutable, ["pool_name", "retention_period"]);
        let fixed: Vec<String> = pool_fields(&spec())
            .unwrap()
            .into_iter()
            .filter(|d| !d.mutable)
            .map(|d| d.key)
            .collect();
        assert_eq!(fixed, ["pool_type", "media_server", "block_size"]);
    }

    #[test]
    fn a_bad_interval_names_its_field() {
        let s = RuBackupVault {
            retention_period: Some("a while".into()),
            ..spec()
        };
        let e = pool_fields(&s).unwrap_err();
        assert!(
            matches!(e, ExternalError::InvalidSpec { ref field, .. } if field == "spec.ruBackup.retentionPeriod"),
            "{e}"
        );
    }
}
