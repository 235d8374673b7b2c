//! Bringing a strategy's rules and administrators in line, and switching the strategy on last.
//! A strategy that runs (`status: run`) creates backup tasks on its schedule; switched on before
//! its declared rules and administrators exist, it runs half configured. So the switch to `run`
//! is the last step, and it is taken only when RuBackup lists every member the spec declares,
//! read just before. A member RuBackup refuses keeps the strategy off, and the error says so.
//! Members are touched only under the name of a strategy rampart owns (RuBackup links them by
//! the strategy's name), and a strategy already running is never switched off for a missing
//! member: that would stop backups rampart did not start.

use serde_json::json;

use super::VENDOR;
use super::backend::Cached;
use super::strategy::StrategyAdapter;
use super::strategy_members::{
    AdminPlan, RuleKey, RulePlan, create_rule_body, plan_admins, plan_rules,
};
use crate::api::vendors::rubackup::RuBackupStrategy;
use crate::engine::external::{ExternalError, ExternalResult};
use crate::vendor::error::{ErrorKind, VendorError};

/// What the spec declares that RuBackup does not list, as `rule …`/`administrator …` texts.
pub fn missing_members(rb: &RuBackupStrategy, rules: &RulePlan, admins: &AdminPlan) -> Vec<String> {
    let rules = rules.add.iter().map(|i| {
        let r = &rb.rules[*i];
        format!(
            "rule {}",
            RuleKey::new(&r.client, &r.resource_type, &r.resource).text()
        )
    });
    let admins = admins.add.iter().map(|a| format!("administrator {a}"));
    rules.chain(admins).collect()
}

/// Say that the strategy stays off because of this failure.
fn held_off(e: ExternalError, what: &str, strategy: &str) -> ExternalError {
    let tail = format!(
        "{what}; strategy '{strategy}' stays off (wait) until every declared rule and administrator is in place"
    );
    match e {
        ExternalError::Vendor(mut v) => {
            v.message = format!("{} ({tail})", v.message);
            ExternalError::Vendor(v)
        }
        ExternalError::InvalidSpec { field, message } => ExternalError::InvalidSpec {
            field,
            message: format!("{message} ({tail})"),
        },
        ExternalError::Waiting { message } => ExternalError::waiting(format!("{message} ({tail})")),
        ExternalError::AfterCreate(inner) => held_off(*inner, what, strategy).after_create(),
    }
}

impl StrategyAdapter {
    /// The rules and administrators RuBackup lists for the strategy named `name`, as plans.
    pub(super) async fn members(
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

    /// Bring rules and administrators in line: one call per rule or administrator that
    /// differs. `held` says the strategy waits for them to be switched on (the error says so).
    pub(super) async fn apply_members(
        &self,
        rb: &RuBackupStrategy,
        name: &str,
        held: bool,
    ) -> ExternalResult<()> {
        let b = &self.backend;
        let explain = |e: ExternalError, what: String| match held {
            true => held_off(e, &what, name),
            false => e,
        };
        let (rules, _, admins) = self.members(rb, name, false).await?;
        if !(rules.add.is_empty() && rules.change.is_empty() && rules.remove.is_empty()) {
            let before = self.member_ids(&b.rules, "strategy_id", name).await?;
            let written = self.write_rules(rb, name, &rules, &explain).await;
            // What went through before a refusal is in RuBackup now: the copy must say so, or
            // the next pass would send it again.
            b.refresh_children(&b.rules, "strategy_id", name, &before)
                .await?;
            written?;
        }
        if !(admins.add.is_empty() && admins.remove.is_empty()) {
            let before = self.member_ids(&b.admins, "strategy", name).await?;
            let written = self.write_admins(name, &admins, &explain).await;
            b.refresh_children(&b.admins, "strategy", name, &before)
                .await?;
            written?;
        }
        Ok(())
    }

    async fn member_ids(&self, c: &Cached, key: &str, name: &str) -> ExternalResult<Vec<String>> {
        Ok(self
            .backend
            .children(c, key, name, false)
            .await?
            .into_iter()
            .map(|(id, _)| id)
            .collect())
    }

    /// One POST, PATCH or DELETE per rule that differs.
    async fn write_rules(
        &self,
        rb: &RuBackupStrategy,
        name: &str,
        rules: &RulePlan,
        explain: &impl Fn(ExternalError, String) -> ExternalError,
    ) -> ExternalResult<()> {
        let b = &self.backend;
        for index in &rules.add {
            let rule = &rb.rules[*index];
            b.client
                .create(b.rules.kind.path, &create_rule_body(name, rule))
                .await
                .map_err(|e| {
                    let key = RuleKey::new(&rule.client, &rule.resource_type, &rule.resource);
                    explain(e.into(), format!("adding rule {}", key.text()))
                })?;
        }
        for change in &rules.change {
            b.client
                .patch(b.rules.kind.path, &change.id, &change.body)
                .await
                .map_err(|e| explain(e.into(), format!("changing rule {}", change.id)))?;
        }
        for id in &rules.remove {
            b.client
                .delete(b.rules.kind.path, id)
                .await
                .map_err(|e| explain(e.into(), format!("removing rule {id}")))?;
        }
        tracing::info!(
            strategy = name,
            added = rules.add.len(),
            changed = rules.change.len(),
            removed = rules.remove.len(),
            "strategy rules corrected"
        );
        Ok(())
    }

    /// One POST or DELETE per administrator that differs (they have no PATCH).
    async fn write_admins(
        &self,
        name: &str,
        admins: &AdminPlan,
        explain: &impl Fn(ExternalError, String) -> ExternalError,
    ) -> ExternalResult<()> {
        let b = &self.backend;
        for admin in &admins.add {
            b.client
                .create(
                    b.admins.kind.path,
                    &json!({"data": {"strategy": name, "administrator": admin}}),
                )
                .await
                .map_err(|e| explain(e.into(), format!("adding administrator {admin}")))?;
        }
        for id in &admins.remove {
            b.client
                .delete(b.admins.kind.path, id)
                .await
                .map_err(|e| explain(e.into(), format!("removing administrator {id}")))?;
        }
        Ok(())
    }

    /// Switch the strategy at `id` on, once RuBackup lists (read now) every declared member.
    pub(super) async fn enable(&self, rb: &RuBackupStrategy, id: &str) -> ExternalResult<()> {
        let b = &self.backend;
        let (rules, _, admins) = self.members(rb, &rb.name, true).await?;
        let missing = missing_members(rb, &rules, &admins);
        if !missing.is_empty() {
            return Err(ExternalError::waiting(format!(
                "strategy '{}' stays off (wait) until RuBackup lists every declared member; missing: {}",
                rb.name,
                missing.join(", ")
            )));
        }
        let number: i64 = id.parse().map_err(|_| {
            VendorError::new(
                VENDOR,
                "PATCH /backup_strategies",
                ErrorKind::Protocol,
                format!("strategy id '{id}' is not a number"),
            )
        })?;
        tracing::info!(strategy = %rb.name, id, "every declared member is in place; switching the strategy on");
        b.client
            .patch_collection(
                b.strategies.kind.path,
                &json!({"data": [{"strategy_id": number, "status": "run"}]}),
            )
            .await?;
        b.reread(&b.strategies, id).await?;
        Ok(())
    }
}
