//! Strategy = RuBackup backup strategy (`/backup_strategies`, §8.7.1) with its rules and
//! administrators. Every strategy field is in the document's PATCH. A new strategy with rules
//! is created waiting (`status: wait`), gets its rules and administrators, and only then is
//! switched to `run` (bulk `PATCH /backup_strategies`), so it never fires half configured; an
//! update that finds it off does the same (`strategy_sync`).

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::json;

use super::backend::Backend;
use super::client::Item;
use super::fields::Desired;
use super::object;
use super::ownership;
use super::refs::{PoolChoice, Resolver};
use super::strategy_fields::{StrategyPools, TYPES, strategy_fields, type_blocks};
use super::strategy_members::RulePlan;
use super::strategy_sync::missing_members;
use crate::api::Strategy;
use crate::api::strategy::StrategyObservation;
use crate::api::vendors::rubackup::{RuBackupStrategy, STRATEGY_VAULT_REF};
use crate::engine::external::{
    CallContext, Created, Deleted, External, ExternalError, ExternalResult, Observation, Ownership,
    Readiness,
};

fn block(cr: &Strategy) -> ExternalResult<&RuBackupStrategy> {
    cr.spec.ru_backup.as_ref().ok_or_else(|| {
        ExternalError::invalid("spec.ruBackup", "a Strategy needs the ruBackup block")
    })
}

fn observation(id: &str, item: &Item, rules: &RulePlan, rule_count: usize) -> StrategyObservation {
    let details = [("pool", "pool_id"), ("validityEnd", "validity_end_period")]
        .into_iter()
        .filter_map(|(name, key)| object::text(item, key).map(|v| (name.to_string(), v)))
        .collect();
    StrategyObservation {
        id: Some(id.to_string()),
        state: object::text(item, "status"),
        rule_count: Some(rule_count as i32),
        rule_ids: rules.ids.clone(),
        details,
    }
}

/// The spec asks for a running strategy.
fn wants_run(desired: &[Desired]) -> bool {
    desired
        .iter()
        .any(|d| d.key == "status" && d.value == json!("run"))
}

fn is_running(item: &Item) -> bool {
    item.get("status") == Some(&json!("run"))
}

/// The Strategy adapter.
pub struct StrategyAdapter {
    pub backend: Arc<Backend>,
}

impl StrategyAdapter {
    async fn desired(
        &self,
        cr: &Strategy,
        ctx: &CallContext<'_>,
        refs: &mut Resolver,
    ) -> ExternalResult<Vec<Desired>> {
        let rb = block(cr)?;
        let b = &self.backend;
        let provider = &cr.spec.managed.provider_config_ref;
        let choice = PoolChoice {
            pool: rb.pool.as_ref(),
            vault_ref: rb.vault_ref.as_ref(),
            field: STRATEGY_VAULT_REF,
        };
        let mut pools = StrategyPools {
            pool: refs.pool(b, ctx, provider, choice).await?,
            ..Default::default()
        };
        for (((_, _, field), t), target) in TYPES
            .iter()
            .zip(type_blocks(rb))
            .zip(pools.move_copy.iter_mut())
        {
            let mc = t.and_then(|t| t.timing.move_copy.as_ref());
            let choice = PoolChoice {
                pool: mc.and_then(|m| m.pool.as_ref()),
                vault_ref: mc.and_then(|m| m.vault_ref.as_ref()),
                field,
            };
            *target = refs.pool(b, ctx, provider, choice).await?;
        }
        strategy_fields(rb, &pools, &b.schedule)
    }
}

#[async_trait]
impl External<Strategy> for StrategyAdapter {
    #[tracing::instrument(skip_all, fields(vendor = "rubackup", kind = "Strategy", namespace = cr.metadata.namespace.as_deref().unwrap_or_default(), name = cr.metadata.name.as_deref().unwrap_or_default()))]
    async fn observe(
        &self,
        cr: &Strategy,
        id: Option<&str>,
        ctx: &CallContext<'_>,
    ) -> ExternalResult<Observation<StrategyObservation>> {
        let rb = block(cr)?;
        let mut refs = Resolver::new(false);
        let desired = self.desired(cr, ctx, &mut refs).await?;
        let b = &self.backend;
        let Some(found) = ownership::locate(b, &b.strategies, id, &rb.name, ctx).await? else {
            return Ok(Observation::default());
        };
        let (id, item) = (&found.id, &found.item);
        let mut drift = object::drift(&desired, item);
        let mut readiness = refs.readiness(object::validity(item, &b.schedule.time_zone));
        // Members are read only under the name of a strategy that may be this object's: a
        // stranger at the recorded id has another name, and its members are not rampart's.
        let (rules, rule_count, admins) = if found.ownership == Ownership::Unmarked {
            Default::default()
        } else {
            self.members(rb, &rb.name, ctx.fresh).await?
        };
        drift.extend(rules.drift.iter().cloned());
        drift.extend(admins.drift.iter().cloned());
        let missing = missing_members(rb, &rules, &admins);
        if wants_run(&desired) && !is_running(item) && readiness == Readiness::Available {
            readiness = Readiness::Unavailable(match missing.is_empty() {
                true => format!(
                    "strategy '{}' is off (wait); rampart switches it on once its declared rules and administrators are in place",
                    rb.name
                ),
                false => format!(
                    "strategy '{}' stays off (wait) until every declared rule and administrator is in place; missing: {}",
                    rb.name,
                    missing.join(", ")
                ),
            });
        }
        Ok(Observation {
            exists: true,
            external_name: Some(id.clone()),
            drift,
            at_provider: observation(id, item, &rules, rule_count),
            readiness,
            ownership: found.ownership,
            ..Default::default()
        })
    }

    #[tracing::instrument(skip_all, fields(vendor = "rubackup", kind = "Strategy", namespace = cr.metadata.namespace.as_deref().unwrap_or_default(), name = cr.metadata.name.as_deref().unwrap_or_default()))]
    async fn create(&self, cr: &Strategy, ctx: &CallContext<'_>) -> ExternalResult<Created> {
        let rb = block(cr)?;
        let mut desired = self.desired(cr, ctx, &mut Resolver::new(true)).await?;
        let b = &self.backend;
        let held = wants_run(&desired) && !(rb.rules.is_empty() && rb.administrators.is_empty());
        if held && let Some(status) = desired.iter_mut().find(|d| d.key == "status") {
            status.value = json!("wait");
        }
        let after_lost = object::follows_lost_create(cr);
        let (id, _) =
            object::create(b, &b.strategies, &rb.name, None, &desired, after_lost).await?;
        // The strategy exists now: its id must reach the engine whatever happens to its
        // members, or the next pass would find it by its name alone and leave it be. A member
        // that fails here is drift the update that follows retries and reports.
        let finished = match self.apply_members(rb, &rb.name, held).await {
            Ok(()) if held => self.enable(rb, &id).await,
            other => other,
        };
        if let Err(e) = finished {
            tracing::warn!(strategy = %rb.name, id, error = %e, "strategy created; its members or its switch-on are left to the update");
        }
        Ok(Created { external_name: id })
    }

    #[tracing::instrument(skip_all, fields(vendor = "rubackup", kind = "Strategy", namespace = cr.metadata.namespace.as_deref().unwrap_or_default(), name = cr.metadata.name.as_deref().unwrap_or_default()))]
    async fn update(
        &self,
        cr: &Strategy,
        id: &str,
        _observed: &Observation<StrategyObservation>,
        ctx: &CallContext<'_>,
    ) -> ExternalResult<()> {
        let rb = block(cr)?;
        let mut desired = self.desired(cr, ctx, &mut Resolver::new(false)).await?;
        let b = &self.backend;
        let item = ownership::owned(b, &b.strategies, id, &rb.name).await?;
        // Switching on is the last step: the status waits until the members are in place.
        let held = wants_run(&desired) && !is_running(&item);
        if held {
            desired.retain(|d| d.key != "status");
        }
        object::update(b, &b.strategies, id, None, &desired, &item).await?;
        self.apply_members(rb, &rb.name, held).await?;
        if held {
            self.enable(rb, id).await?;
        }
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(vendor = "rubackup", kind = "Strategy", namespace = cr.metadata.namespace.as_deref().unwrap_or_default(), name = cr.metadata.name.as_deref().unwrap_or_default()))]
    async fn delete(
        &self,
        cr: &Strategy,
        id: &str,
        _ctx: &CallContext<'_>,
    ) -> ExternalResult<Deleted> {
        let b = &self.backend;
        let name = &block(cr)?.name;
        // Members go with the strategy only when the strategy at the id is this object's.
        if ownership::deletable(b, &b.strategies, id, name)
            .await?
            .is_none()
        {
            return Ok(Deleted::Gone);
        }
        // Children first: RuBackup may refuse to delete a strategy that still has rules.
        for (members, key) in [(&b.rules, "strategy_id"), (&b.admins, "strategy")] {
            let children = b.children(members, key, name, true).await?;
            let ids: Vec<i64> = children
                .iter()
                .filter_map(|(id, _)| id.parse().ok())
                .collect();
            if !ids.is_empty() {
                b.client.delete_many(members.kind.path, &ids).await?;
                children.iter().for_each(|(id, _)| members.copy.remove(id));
            }
        }
        tracing::info!(operation = "DELETE /backup_strategies/{id}", id, "deleting");
        b.delete(&b.strategies, id).await?;
        Ok(Deleted::Gone)
    }

    /// The tasks and backups of the strategy's rules, from the task queue and the repository
    /// listed once per poll for every object of the provider configuration, against the
    /// schedules of its backup types.
    async fn backups(
        &self,
        cr: &Strategy,
        id: &str,
        _ctx: &CallContext<'_>,
    ) -> Option<crate::health::BackupReport> {
        let b = &self.backend;
        let rb = block(cr).ok()?;
        let tz = jiff::tz::TimeZone::get(&b.schedule.time_zone).ok()?;
        // By id or by name (see `backup_runs::made_by`).
        let listed = b
            .runs_of(&b.by_strategy, &[id, rb.name.as_str()], &tz)
            .await;
        Some(crate::health::BackupReport::from_listing(
            listed,
            super::backup_runs::strategy_schedules(rb, &b.schedule.time_zone),
        ))
    }
}
