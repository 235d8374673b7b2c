//! Policy = RuBackup global schedule rule (`/global_schedule`, §8.8.1): one client resource, one
//! backup type, with its schedule, pool and retention. The PATCH body lacks `client_id`,
//! `resource_type`, `resource`, `backup_type` and `crypto`: those are set at creation only
//! (and immutable at admission).

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

use super::backend::Backend;
use super::client::Item;
use super::common_fields::{FieldList, Portable};
use super::fields::{Compare, Desired};
use super::object;
use super::ownership;
use super::refs::{PoolChoice, Resolver};
use super::schedule::ServerSchedule;
use crate::api::Policy;
use crate::api::policy::PolicyObservation;
use crate::api::vendors::rubackup::{POLICY_MOVE_COPY_REF, RuBackupPolicy};
use crate::engine::external::{
    CallContext, Created, Deleted, External, ExternalError, ExternalResult, Observation,
};

const WRAPPER: Option<&str> = Some("global_schedule");

/// The Policy adapter.
pub struct ScheduleRuleAdapter {
    pub backend: Arc<Backend>,
}

fn block(cr: &Policy) -> ExternalResult<&RuBackupPolicy> {
    cr.spec.ru_backup.as_ref().ok_or_else(|| {
        ExternalError::invalid(
            "spec.ruBackup",
            "a Policy on a RuBackup provider needs the ruBackup block",
        )
    })
}

/// Pool names the spec refers to, resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pools {
    pub pool: Option<String>,
    pub move_copy: Option<String>,
}

/// The global schedule rule the Policy asks for.
pub fn rule_fields(
    policy: &Policy,
    pools: Pools,
    server: &ServerSchedule,
) -> ExternalResult<Vec<Desired>> {
    let spec = &policy.spec;
    let rb = block(policy)?;
    let base = "spec.ruBackup";
    let p = |f: &str| format!("{base}.{f}");
    let mut f = FieldList::default();
    f.push("name", p("name"), rb.name.as_str(), Compare::Exact);
    let fixed = [
        ("client_id", "client", Some(&rb.client), Compare::Client),
        (
            "resource_type",
            "resourceType",
            Some(&rb.resource_type),
            Compare::Exact,
        ),
        ("resource", "resource", Some(&rb.resource), Compare::Exact),
        (
            "backup_type",
            "backupType",
            rb.backup_type.as_ref(),
            Compare::Exact,
        ),
        ("crypto", "crypto", rb.crypto.as_ref(), Compare::Exact),
    ];
    for (key, name, value, compare) in fixed {
        if let Some(v) = value {
            f.0.push(Desired::new(key, p(name), v.as_str(), compare).fixed());
        }
    }
    if spec.vault_ref.is_some() && rb.pool.is_some() {
        return Err(ExternalError::invalid(
            p("pool"),
            "set spec.vaultRef or spec.ruBackup.pool, not both",
        ));
    }
    let pool_path = if rb.pool.is_some() {
        p("pool")
    } else {
        "spec.vaultRef".to_string()
    };
    f.opt("pool_id", &pool_path, &pools.pool);
    let portable = Portable {
        schedule: spec.schedule.as_ref(),
        schedule_path: "spec.schedule".into(),
        retention: spec.retention.as_ref(),
        retention_path: "spec.retention".into(),
    };
    f.timing("", base, &rb.timing, portable, pools.move_copy, server)?;
    f.copies(base, &rb.copies, "notify_rule_validity")?;
    f.status("spec.enabled", spec.enabled);
    f.task(
        base,
        &rb.task,
        [
            "notify_normal_script",
            "notify_exception_script",
            "restore_script",
        ],
    );
    Ok(f.0)
}

fn observation(id: &str, item: &Item) -> PolicyObservation {
    let schedule: Vec<String> = ["min", "hour", "dom", "mon", "dow"]
        .iter()
        .map(|k| object::text(item, k).unwrap_or_else(|| "?".into()))
        .collect();
    let details: BTreeMap<String, String> = [
        ("pool", "pool_id"),
        ("client", "client_id"),
        ("resourceType", "resource_type"),
        ("resource", "resource"),
        ("backupType", "backup_type"),
        ("storageDuration", "storage_duration"),
        ("validityEnd", "validity_end_period"),
    ]
    .into_iter()
    .filter_map(|(name, key)| object::text(item, key).map(|v| (name.to_string(), v)))
    .collect();
    PolicyObservation {
        id: Some(id.to_string()),
        name: object::text(item, "name"),
        enabled: object::text(item, "status").map(|s| s == "run"),
        vendor_schedule: vec![schedule.join(" ")],
        details,
        ..Default::default()
    }
}

impl ScheduleRuleAdapter {
    async fn desired(
        &self,
        cr: &Policy,
        ctx: &CallContext<'_>,
        refs: &mut Resolver,
    ) -> ExternalResult<Vec<Desired>> {
        let rb = block(cr)?;
        let provider = &cr.spec.managed.provider_config_ref;
        let b = &self.backend;
        let pool = PoolChoice {
            pool: rb.pool.as_ref(),
            vault_ref: cr.spec.vault_ref.as_ref(),
            field: "spec.vaultRef",
        };
        let mc = rb.timing.move_copy.as_ref();
        let move_copy = PoolChoice {
            pool: mc.and_then(|m| m.pool.as_ref()),
            vault_ref: mc.and_then(|m| m.vault_ref.as_ref()),
            field: POLICY_MOVE_COPY_REF,
        };
        let pools = Pools {
            pool: refs.pool(b, ctx, provider, pool).await?,
            move_copy: refs.pool(b, ctx, provider, move_copy).await?,
        };
        rule_fields(cr, pools, &b.schedule)
    }
}

#[async_trait]
impl External<Policy> for ScheduleRuleAdapter {
    #[tracing::instrument(skip_all, fields(vendor = "rubackup", kind = "Policy", namespace = cr.metadata.namespace.as_deref().unwrap_or_default(), name = cr.metadata.name.as_deref().unwrap_or_default()))]
    async fn observe(
        &self,
        cr: &Policy,
        id: Option<&str>,
        ctx: &CallContext<'_>,
    ) -> ExternalResult<Observation<PolicyObservation>> {
        let mut refs = Resolver::new(false);
        let desired = self.desired(cr, ctx, &mut refs).await?;
        let b = &self.backend;
        let Some(found) = ownership::locate(b, &b.schedules, id, &block(cr)?.name, ctx).await?
        else {
            return Ok(Observation::default());
        };
        Ok(Observation {
            exists: true,
            external_name: Some(found.id.clone()),
            drift: object::drift(&desired, &found.item),
            at_provider: observation(&found.id, &found.item),
            readiness: refs.readiness(object::validity(&found.item, &b.schedule.time_zone)),
            ownership: found.ownership,
            ..Default::default()
        })
    }

    #[tracing::instrument(skip_all, fields(vendor = "rubackup", kind = "Policy", namespace = cr.metadata.namespace.as_deref().unwrap_or_default(), name = cr.metadata.name.as_deref().unwrap_or_default()))]
    async fn create(&self, cr: &Policy, ctx: &CallContext<'_>) -> ExternalResult<Created> {
        let desired = self.desired(cr, ctx, &mut Resolver::new(true)).await?;
        let b = &self.backend;
        let after_lost = object::follows_lost_create(cr);
        let name = &block(cr)?.name;
        let (id, _) = object::create(b, &b.schedules, name, WRAPPER, &desired, after_lost).await?;
        Ok(Created { external_name: id })
    }

    #[tracing::instrument(skip_all, fields(vendor = "rubackup", kind = "Policy", namespace = cr.metadata.namespace.as_deref().unwrap_or_default(), name = cr.metadata.name.as_deref().unwrap_or_default()))]
    async fn update(
        &self,
        cr: &Policy,
        id: &str,
        _observed: &Observation<PolicyObservation>,
        ctx: &CallContext<'_>,
    ) -> ExternalResult<()> {
        let desired = self.desired(cr, ctx, &mut Resolver::new(false)).await?;
        let b = &self.backend;
        let item = ownership::owned(b, &b.schedules, id, &block(cr)?.name).await?;
        object::update(b, &b.schedules, id, WRAPPER, &desired, &item).await
    }

    #[tracing::instrument(skip_all, fields(vendor = "rubackup", kind = "Policy", namespace = cr.metadata.namespace.as_deref().unwrap_or_default(), name = cr.metadata.name.as_deref().unwrap_or_default()))]
    async fn delete(
        &self,
        cr: &Policy,
        id: &str,
        _ctx: &CallContext<'_>,
    ) -> ExternalResult<Deleted> {
        let b = &self.backend;
        object::delete(b, &b.schedules, id, &block(cr)?.name).await
    }

    /// The rule's tasks and backups, from the task queue and the repository listed once per
    /// poll for every Policy of the provider configuration.
    async fn backups(
        &self,
        cr: &Policy,
        id: &str,
        _ctx: &CallContext<'_>,
    ) -> Option<crate::health::BackupReport> {
        let b = &self.backend;
        let tz = jiff::tz::TimeZone::get(&b.schedule.time_zone).ok()?;
        let listed = b.runs_of(&b.by_rule, &[id], &tz).await;
        Some(crate::health::BackupReport::from_listing(
            listed,
            cr.spec.schedule.clone(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::policy::PolicySpec;
    use crate::api::schedule::{Retention, Schedule};
    use crate::api::vendors::rubackup::RuBackupTiming;
    use serde_json::{Value, json};

    fn policy(rb: RuBackupPolicy) -> Policy {
        Policy::new(
            "nightly",
            PolicySpec {
                managed: Default::default(),
                enabled: None,
                schedule: Some(Schedule {
                    cron: "30 2 * * 1-5".into(),
                    time_zone: Some("Europe/Moscow".into()),
                    grace_minutes: None,
                }),
                retention: Some(Retention {
                    keep_days: Some(14),
                    ..Default::default()
                }),
                vault_ref: None,
                huawei_cbr: None,
                ru_backup: Some(rb),
                cyber_backup: None,
            },
        )
    }

    fn rb() -> RuBackupPolicy {
        RuBackupPolicy {
            name: "k8s-nightly".into(),
            client: "db1 (525a99154f3505a2)".into(),
            resource_type: "File system".into(),
            resource: "/var/lib/data".into(),
            backup_type: Some("full".into()),
            ..Default::default()
        }
    }

    #[test]
    fn the_create_body_has_the_documents_shape() {
        let desired = rule_fields(
            &policy(rb()),
            Pools {
                pool: Some("Default".into()),
                move_copy: None,
            },
            &ServerSchedule::in_zone("UTC"),
        )
        .unwrap();
        let body = object::body(WRAPPER, super::super::fields::create_body(&desired));
        assert_eq!(
            body,
            json!({"data": {"global_schedule": {
                "name": "k8s-nightly", "client_id": "db1 (525a99154f3505a2)", "resource_type": "File system",
                "resource": "/var/lib/data", "backup_type": "full", "pool_id": "Default",
                "min": 30, "hour": 23, "dom": "*", "mon": "*", "dow": "0-4",
                "storage_duration": "14 days", "status": "run"
            }}})
        );
    }

    #[test]
    fn fields_missing_from_the_documents_patch_are_create_only() {
        let desired = rule_fields(
            &policy(rb()),
            Pools::default(),
            &ServerSchedule::in_zone("Europe/Moscow"),
        )
        .unwrap();
        let fixed: Vec<&str> = desired
            .iter()
            .filter(|d| !d.mutable)
            .map(|d| d.key.as_str())
            .collect();
        assert_eq!(
            fixed,
            ["client_id", "resource_type", "resource", "backup_type"]
        );
    }

    #[test]
    fn both_pool_forms_or_both_schedules_are_refused() {
        let mut p = policy(RuBackupPolicy {
            pool: Some("Default".into()),
            ..rb()
        });
        p.spec.vault_ref = Some(crate::api::common::LocalObjectRef { name: "v".into() });
        assert!(
            matches!(rule_fields(&p, Pools::default(), &ServerSchedule::in_zone("UTC")), Err(ExternalError::InvalidSpec { field, .. }) if field == "spec.ruBackup.pool")
        );
        let native = crate::api::vendors::rubackup::RuBackupCron {
            minute: "0".into(),
            hour: "1".into(),
            day_of_month: "*".into(),
            month: "*".into(),
            day_of_week: "*".into(),
        };
        let p = policy(RuBackupPolicy {
            timing: RuBackupTiming {
                cron: Some(native),
                ..Default::default()
            },
            ..rb()
        });
        assert!(
            matches!(rule_fields(&p, Pools::default(), &ServerSchedule::in_zone("UTC")), Err(ExternalError::InvalidSpec { field, .. }) if field == "spec.schedule")
        );
    }

    #[test]
    fn disabled_policies_wait() {
        let mut p = policy(rb());
        p.spec.enabled = Some(false);
        let desired = rule_fields(
            &p,
            Pools::default(),
            &ServerSchedule::in_zone("Europe/Moscow"),
        )
        .unwrap();
        let status = desired.iter().find(|d| d.key == "status").unwrap();
        assert_eq!(status.value, Value::from("wait"));
    }
}
