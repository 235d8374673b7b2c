//! Strategy = RuBackup backup strategy (`/backup_strategies`, §8.7.1) with its rules and
//! administrators. Every strategy field is in the document's PATCH. A new strategy with rules
//! is created waiting (`status: wait`), gets its rules and administrators, and only then is
//! switched to `run` (bulk `PATCH /backup_strategies`), so it never fires half configured.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::json;

use super::VENDOR;
use super::backend::{Backend, item_name};
use super::client::Item;
use super::fields::Desired;
use super::object;
use super::refs::{PoolChoice, Resolver};
use super::strategy_fields::{StrategyPools, TYPES, strategy_fields, type_blocks};
use super::strategy_members::{AdminPlan, RulePlan, create_rule_body, plan_admins, plan_rules};
use crate::api::Strategy;
use crate::api::strategy::StrategyObservation;
use crate::api::vendors::rubackup::{RuBackupStrategy, STRATEGY_VAULT_REF};
use crate::engine::external::{
    CallContext, Created, Deleted, External, ExternalError, ExternalResult, Observation,
};
use crate::vendor::error::{ErrorKind, VendorError};

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

    /// The rules and administrators RuBackup lists for the strategy named `name`, as plans.
    async fn members(
        &self,
        rb: &RuBackupStrategy,
        name: &str,
        fresh: bool,
    ) -> ExternalResult<(RulePlan, usize, AdminPlan)> {
        let b = &self.backend;
        let rules = b.children(&b.rules, "strategy_id", name, fresh).await?;
        let admins = b.children(&b.admins, "strategy", name, fresh).await?;
        Ok((
            plan_rules(&rb.rules, &rules),
            rules.len(),
            plan_admins(&rb.administrators, &admins),
        ))
    }

    /// Bring rules and administrators in line: one call per rule or administrator that differs.
    async fn apply_members(&self, rb: &RuBackupStrategy, name: &str) -> ExternalResult<()> {
        let b = &self.backend;
        let (rules, _, admins) = self.members(rb, name, false).await?;
        if !(rules.add.is_empty() && rules.change.is_empty() && rules.remove.is_empty()) {
            let before: Vec<String> = b
                .children(&b.rules, "strategy_id", name, false)
                .await?
                .into_iter()
                .map(|(id, _)| id)
                .collect();
            for index in &rules.add {
                b.client
                    .create(
                        b.rules.kind.path,
                        &create_rule_body(name, &rb.rules[*index]),
                    )
                    .await?;
            }
            for change in &rules.change {
                b.client
                    .patch(b.rules.kind.path, &change.id, &change.body)
                    .await?;
            }
            for id in &rules.remove {
                b.client.delete(b.rules.kind.path, id).await?;
            }
            tracing::info!(
                strategy = name,
                added = rules.add.len(),
                changed = rules.change.len(),
                removed = rules.remove.len(),
                "strategy rules corrected"
            );
            b.refresh_children(&b.rules, "strategy_id", name, &before)
                .await?;
        }
        if !(admins.add.is_empty() && admins.remove.is_empty()) {
            let before: Vec<String> = b
                .children(&b.admins, "strategy", name, false)
                .await?
                .into_iter()
                .map(|(id, _)| id)
                .collect();
            for admin in &admins.add {
                b.client
                    .create(
                        b.admins.kind.path,
                        &json!({"data": {"strategy": name, "administrator": admin}}),
                    )
                    .await?;
            }
            for id in &admins.remove {
                b.client.delete(b.admins.kind.path, id).await?;
            }
            b.refresh_children(&b.admins, "strategy", name, &before)
                .await?;
        }
        Ok(())
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
        let Some((id, item)) = object::locate(b, &b.strategies, id, &rb.name, ctx.fresh).await?
        else {
            return Ok(Observation::default());
        };
        let name = item_name(b.strategies.kind, &item)
            .unwrap_or(&rb.name)
            .to_string();
        let (rules, rule_count, admins) = self.members(rb, &name, ctx.fresh).await?;
        let mut drift = object::drift(&desired, &item);
        drift.extend(rules.drift.iter().cloned());
        drift.extend(admins.drift.iter().cloned());
        Ok(Observation {
            exists: true,
            external_name: Some(id.clone()),
            drift,
            at_provider: observation(&id, &item, &rules, rule_count),
            readiness: refs.readiness(object::validity(&item, &b.schedule.time_zone)),
            ..Default::default()
        })
    }

    #[tracing::instrument(skip_all, fields(vendor = "rubackup", kind = "Strategy", namespace = cr.metadata.namespace.as_deref().unwrap_or_default(), name = cr.metadata.name.as_deref().unwrap_or_default()))]
    async fn create(&self, cr: &Strategy, ctx: &CallContext<'_>) -> ExternalResult<Created> {
        let rb = block(cr)?;
        let mut desired = self.desired(cr, ctx, &mut Resolver::new(true)).await?;
        let b = &self.backend;
        let run_after_members =
            rb.enabled.unwrap_or(true) && !(rb.rules.is_empty() && rb.administrators.is_empty());
        if run_after_members && let Some(status) = desired.iter_mut().find(|d| d.key == "status") {
            status.value = json!("wait");
        }
        let (id, _) = object::create(b, &b.strategies, &rb.name, None, &desired).await?;
        self.apply_members(rb, &rb.name).await?;
        if run_after_members {
            let number: i64 = id.parse().map_err(|_| {
                VendorError::new(
                    VENDOR,
                    "PATCH /backup_strategies",
                    ErrorKind::Protocol,
                    format!("strategy id '{id}' is not a number"),
                )
            })?;
            b.client
                .patch_collection(
                    b.strategies.kind.path,
                    &json!({"data": [{"strategy_id": number, "status": "run"}]}),
                )
                .await?;
            b.reread(&b.strategies, &id).await?;
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
        let desired = self.desired(cr, ctx, &mut Resolver::new(false)).await?;
        let b = &self.backend;
        object::update(b, &b.strategies, id, None, &desired).await?;
        self.apply_members(rb, &rb.name).await
    }

    #[tracing::instrument(skip_all, fields(vendor = "rubackup", kind = "Strategy", namespace = cr.metadata.namespace.as_deref().unwrap_or_default(), name = cr.metadata.name.as_deref().unwrap_or_default()))]
    async fn delete(
        &self,
        cr: &Strategy,
        id: &str,
        _ctx: &CallContext<'_>,
    ) -> ExternalResult<Deleted> {
        let b = &self.backend;
        let name = match b.by_id(&b.strategies, id, false).await? {
            Some(item) => item_name(b.strategies.kind, &item)
                .map(str::to_string)
                .unwrap_or_else(|| block(cr).map(|r| r.name.clone()).unwrap_or_default()),
            None => return Ok(Deleted::Gone),
        };
        // Children first: RuBackup may refuse to delete a strategy that still has rules.
        for (members, key) in [(&b.rules, "strategy_id"), (&b.admins, "strategy")] {
            let children = b.children(members, key, &name, true).await?;
            let ids: Vec<i64> = children
                .iter()
                .filter_map(|(id, _)| id.parse().ok())
                .collect();
            if !ids.is_empty() {
                b.client.delete_many(members.kind.path, &ids).await?;
                children.iter().for_each(|(id, _)| members.copy.remove(id));
            }
        }
        object::delete(b, &b.strategies, id).await
    }
}
