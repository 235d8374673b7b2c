//! Vault = RuBackup pool (`/pool_list`, §8.6.1). The PATCH takes `pool_name`,
//! `compression_type`, `description`, `retention_period` and `ignore_free_space_check`; type,
//! media server and block-device parameters are set at creation only.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use super::backend::Backend;
use super::client::Item;
use super::fields::{Compare, Desired};
use super::object;
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
    let mut d = vec![
        Desired::new("pool_name", p("name"), spec.name.as_str(), Compare::Exact),
        Desired::create_only(
            "pool_type",
            p("poolType"),
            spec.pool_type.as_str(),
            Compare::Exact,
        ),
        Desired::create_only(
            "media_server",
            p("mediaServer"),
            spec.media_server.as_str(),
            Compare::Exact,
        ),
    ];
    if let Some(v) = &spec.compression_type {
        d.push(Desired::new(
            "compression_type",
            p("compressionType"),
            v.as_str(),
            Compare::Exact,
        ));
    }
    if let Some(v) = &spec.description {
        d.push(Desired::new(
            "description",
            p("description"),
            v.as_str(),
            Compare::Exact,
        ));
    }
    if let Some(v) = &spec.retention_period {
        d.push(Desired::new(
            "retention_period",
            p("retentionPeriod"),
            object::interval(v, &p("retentionPeriod"))?,
            Compare::Interval,
        ));
    }
    if let Some(v) = spec.ignore_free_space_check {
        d.push(Desired::new(
            "ignore_free_space_check",
            p("ignoreFreeSpaceCheck"),
            v,
            Compare::Exact,
        ));
    }
    if let Some(b) = &spec.block_device {
        let path = |f: &str| p(&format!("blockDevice.{f}"));
        let entries: [(&str, &str, Option<Value>); 4] = [
            (
                "algorithm",
                "algorithm",
                b.algorithm.clone().map(Value::from),
            ),
            ("block_size", "blockSize", b.block_size.map(Value::from)),
            ("hash_length", "hashLength", b.hash_length.map(Value::from)),
            (
                "meta_data_pool",
                "metaDataPool",
                b.meta_data_pool.clone().map(Value::from),
            ),
        ];
        for (key, name, value) in entries {
            if let Some(v) = value {
                d.push(Desired::create_only(key, path(name), v, Compare::Exact));
            }
        }
    }
    Ok(d)
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
        let Some((id, item)) = object::locate(b, &b.pools, id, &spec.name, ctx.fresh).await? else {
            return Ok(Observation::default());
        };
        Ok(Observation {
            exists: true,
            external_name: Some(id.clone()),
            drift: object::drift(&desired, &item),
            at_provider: observation(&id, &item),
            readiness: Readiness::Available,
            ..Default::default()
        })
    }

    #[tracing::instrument(skip_all, fields(vendor = "rubackup", kind = "Vault", namespace = cr.metadata.namespace.as_deref().unwrap_or_default(), name = cr.metadata.name.as_deref().unwrap_or_default()))]
    async fn create(&self, cr: &Vault, _ctx: &CallContext<'_>) -> ExternalResult<Created> {
        let spec = block(cr)?;
        let b = &self.backend;
        let (id, _) = object::create(b, &b.pools, &spec.name, None, &pool_fields(spec)?).await?;
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
        let b = &self.backend;
        object::update(b, &b.pools, id, None, &pool_fields(block(cr)?)?).await
    }

    #[tracing::instrument(skip_all, fields(vendor = "rubackup", kind = "Vault", namespace = cr.metadata.namespace.as_deref().unwrap_or_default(), name = cr.metadata.name.as_deref().unwrap_or_default()))]
    async fn delete(
        &self,
        cr: &Vault,
        id: &str,
        _ctx: &CallContext<'_>,
    ) -> ExternalResult<Deleted> {
        object::delete(&self.backend, &self.backend.pools, id).await
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
