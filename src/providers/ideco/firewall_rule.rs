//! `External<FirewallRule>` for Ideco. A rule is found by its id (the external name) or by the
//! ownership marker in its comment; content drift is corrected by read-modify-write; order is a
//! section-wide sync that every create and update ends with.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::json;

use super::VENDOR;
use super::conditions::{device_conditions, placement_conditions};
use super::desired::{self, desired_fields};
use super::models::DeviceRule;
use super::order::Move;
use super::registry::{BlockSpec, Intent};
use super::runtime::IdecoDevice;
use super::section::{Blocked, SectionJudgement, SectionView, creation_anchor};
use super::sync::misread_false;
use crate::api::FirewallRule;
use crate::api::common::{Allowed, Drift};
use crate::api::firewall_rule::FirewallRuleObservation;
use crate::api::vendors::ideco::{IdecoFirewallRule, IdecoSection};
use crate::engine::external::{
    CallContext, Created, Deleted, External, ExternalError, ExternalResult, Observation, Ownership,
    Readiness,
};

fn block_of(cr: &FirewallRule) -> ExternalResult<&IdecoFirewallRule> {
    cr.spec.ideco.as_ref().ok_or_else(|| {
        ExternalError::invalid(
            "spec.ideco",
            "a FirewallRule on an Ideco provider needs the ideco block",
        )
    })
}

fn ns(cr: &FirewallRule) -> &str {
    cr.metadata.namespace.as_deref().unwrap_or_default()
}

fn name(cr: &FirewallRule) -> &str {
    cr.metadata.name.as_deref().unwrap_or_default()
}

/// `namespace/name`, for ordering ties and messages.
fn object(cr: &FirewallRule) -> String {
    format!("{}/{}", ns(cr), name(cr))
}

fn log_write(cr: &FirewallRule, operation: &str, section: IdecoSection, rule: i64, what: &str) {
    tracing::info!(
        vendor = VENDOR,
        namespace = ns(cr),
        name = name(cr),
        operation,
        section = section.as_str(),
        rule,
        "{what}"
    );
}

fn rule_id(id: &str) -> ExternalResult<i64> {
    id.trim().parse().map_err(|_| {
        ExternalError::invalid(
            "metadata.annotations[rampart.dev/external-name]",
            format!("{id:?} is not an Ideco rule id (an integer)"),
        )
    })
}

impl IdecoDevice {
    fn record(
        &self,
        cr: &FirewallRule,
        spec: &IdecoFirewallRule,
        ctx: &CallContext<'_>,
        id: Option<i64>,
    ) {
        let intent = Intent {
            section: spec.section,
            block: BlockSpec::from_placement(&spec.placement),
            priority: spec.placement.priority,
            object: object(cr),
            id,
            movable: Allowed::from_policies(&cr.spec.managed.management_policies).update,
            adopt_unmarked: ctx.trust_unmarked_id,
        };
        self.registry.record(ctx.marker, intent);
    }

    /// The section judged for one rule's observe: its own place is judged even when rampart
    /// may not move it, so the drift shows.
    fn judge_own_place(
        &self,
        section: IdecoSection,
        table: &Arc<Vec<DeviceRule>>,
        marker: &str,
    ) -> Arc<SectionJudgement> {
        let judged = self.judge(section, table);
        match judged.rank_of(marker) {
            Some(rank) if !judged.intent.members[rank].movable => {
                let mut intent = (*judged.intent).clone();
                intent.members[rank].movable = true;
                Arc::new(SectionJudgement::new(table, Arc::new(intent)))
            }
            _ => judged,
        }
    }
}

/// `spec.ideco` drift for further rules with the marker (the next update removes them).
fn duplicate_drift(judged: &SectionJudgement, kept: i64, marker: &str) -> Option<Drift> {
    let copies = judged.copies(marker, kept);
    (!copies.is_empty()).then(|| Drift {
        field: "spec.ideco".to_string(),
        desired: json!({"rulesWithMarker": 1}).to_string(),
        observed: json!({"rulesWithMarker": 1 + copies.len(), "extraRuleIds": copies}).to_string(),
    })
}

/// `spec.ideco.placement` drift: rampart's rules of the section in declared and in device order,
/// and how many moves set them right.
fn order_drift(view: &SectionView, members: &[super::registry::Member], moves: usize) -> Drift {
    let declared: Vec<i64> = members
        .iter()
        .filter(|m| m.movable)
        .filter_map(|m| view.owned.get(&m.marker).copied())
        .collect();
    let on_device: Vec<i64> = view
        .entries
        .iter()
        .filter(|e| matches!(e.slot, super::order::Slot::Owned(_)))
        .map(|e| e.id)
        .collect();
    Drift {
        field: "spec.ideco.placement".to_string(),
        desired: json!({"ruleIdsInOrder": declared, "movesNeeded": 0}).to_string(),
        observed: json!({"ruleIdsInOrder": on_device, "movesNeeded": moves}).to_string(),
    }
}

fn not_placeable(blocked: Blocked) -> ExternalError {
    match blocked {
        Blocked::Conflict(c) => ExternalError::invalid("spec.ideco.placement", c.to_string()),
        missing @ Blocked::SentinelMissing(_) => {
            ExternalError::waiting(format!("{missing}; the rule is created once it exists"))
        }
    }
}

/// `External<FirewallRule>`: the device's rules, shared with the runtime.
pub struct FirewallRules(pub(super) Arc<IdecoDevice>);

#[async_trait]
impl External<FirewallRule> for FirewallRules {
    async fn observe(
        &self,
        cr: &FirewallRule,
        id: Option<&str>,
        ctx: &CallContext<'_>,
    ) -> ExternalResult<Observation<FirewallRuleObservation>> {
        let spec = block_of(cr)?;
        let desired = desired_fields(spec, ctx.marker)?;
        let known = id.map(rule_id).transpose()?;
        self.0.record(cr, spec, ctx, known);
        let table = self.0.table(spec.section, ctx.fresh).await?;
        let facts = self.0.facts(false).await?;
        let judged = self.0.judge_own_place(spec.section, &table, ctx.marker);
        let block = BlockSpec::from_placement(&spec.placement);
        let mut conditions = device_conditions(&facts);
        conditions.extend(placement_conditions(&block, judged.ordering.as_ref().err()));

        let Some((position, rule)) = judged.owned_position(ctx.marker).map(|i| (i, &table[i]))
        else {
            // A rule at the recorded id that is not this object's (another marker, or none
            // while the id was not named by the user): say so, and the engine leaves it alone.
            let stranger = known.and_then(|id| table.iter().find(|r| r.id == id));
            return Ok(Observation {
                exists: stranger.is_some(),
                ownership: match stranger.and_then(|r| r.marker()) {
                    Some(_) => Ownership::OtherMarker,
                    None => Ownership::Unmarked,
                },
                conditions,
                ..Observation::default()
            });
        };
        let mut drift = desired::drift(&desired, &rule.fields);
        drift.extend(duplicate_drift(&judged, rule.id, ctx.marker));
        if let Ok(moves) = &judged.ordering
            && !moves.is_empty()
        {
            drift.push(order_drift(
                &judged.view,
                &judged.intent.members,
                moves.len(),
            ));
        }
        let rank = judged.rank_of(ctx.marker).map_or(0, |r| r + 1);
        let details = BTreeMap::from([
            ("block".to_string(), block.to_string()),
            (
                "rankInBlock".to_string(),
                format!("{rank} of {}", judged.intent.members.len()),
            ),
            (
                "firewallLogMode".to_string(),
                facts.settings.log_mode.clone(),
            ),
        ]);
        Ok(Observation {
            exists: true,
            ownership: if rule.marker() == Some(ctx.marker) {
                Ownership::Marked
            } else {
                Ownership::Unmarked
            },
            external_name: (known != Some(rule.id)).then(|| rule.id.to_string()),
            drift,
            at_provider: FirewallRuleObservation {
                id: Some(rule.id.to_string()),
                section: Some(spec.section.as_str().to_string()),
                position: Some(position as i32 + 1),
                enabled: rule.enabled(),
                details,
            },
            readiness: match &judged.ordering {
                Err(blocked) => Readiness::Unavailable(blocked.to_string()),
                Ok(_) => Readiness::Available,
            },
            desired_hash: None,
            conditions,
        })
    }

    async fn create(&self, cr: &FirewallRule, ctx: &CallContext<'_>) -> ExternalResult<Created> {
        let spec = block_of(cr)?;
        let desired = desired_fields(spec, ctx.marker)?;
        let section = spec.section;
        self.0.record(cr, spec, ctx, None);
        let _writes = self.0.writes.lock().await;
        let table = self.0.table(section, true).await?;
        let judged = self.0.judge(section, &table);
        let mut anchor = None;
        let id = match judged.view.owned.get(ctx.marker) {
            // Created before a crash, or by a concurrent reconcile: adopt instead of doubling.
            Some(&existing) => existing,
            None => {
                anchor = creation_anchor(&table, &judged.view, &judged.intent, ctx.marker)
                    .map_err(not_placeable)?;
                let id = self
                    .0
                    .write(
                        section,
                        self.0.client.create_rule(section, &desired, anchor),
                    )
                    .await?;
                log_write(
                    cr,
                    "POST /firewall/rules/{section}",
                    section,
                    id,
                    "created rule",
                );
                id
            }
        };
        self.0.record(cr, spec, ctx, Some(id));
        // The rule exists now whatever happens next: an ordering failure is drift for later.
        let ordered = match self.0.table(section, true).await {
            Ok(table) => {
                if let Some(e) = anchor.and_then(|(a, after)| {
                    let asked = Move {
                        id,
                        anchor: a,
                        insert_after: after,
                    };
                    misread_false(section, &table, &asked, "POST /firewall/rules/{section}")
                }) {
                    tracing::warn!(vendor = VENDOR, namespace = ns(cr), name = name(cr), error = %e, "rule created in another place than asked");
                }
                self.0.sync_section(section, table).await.map(|_| ())
            }
            Err(e) => Err(e),
        };
        if let Err(e) = ordered {
            tracing::warn!(vendor = VENDOR, namespace = ns(cr), name = name(cr), section = section.as_str(), error = %e, "rule created, ordering left for the next pass");
        }
        Ok(Created {
            external_name: id.to_string(),
        })
    }

    async fn update(
        &self,
        cr: &FirewallRule,
        id: &str,
        _observed: &Observation<FirewallRuleObservation>,
        ctx: &CallContext<'_>,
    ) -> ExternalResult<()> {
        let spec = block_of(cr)?;
        let desired = desired_fields(spec, ctx.marker)?;
        let section = spec.section;
        self.0.record(cr, spec, ctx, Some(rule_id(id)?));
        let _writes = self.0.writes.lock().await;
        let table = self.0.table(section, true).await?;
        let judged = self.0.judge(section, &table);
        let rule = judged
            .owned_position(ctx.marker)
            .map(|i| &table[i])
            .ok_or_else(|| {
                ExternalError::waiting(format!(
                    "the rule left section {} after it was observed; the next pass creates it again",
                    section.as_str()
                ))
            })?;
        let table = if desired::drift(&desired, &rule.fields).is_empty() {
            table
        } else {
            let body = desired::overlay(&rule.fields, &desired);
            self.0
                .write(section, self.0.client.update_rule(section, rule.id, &body))
                .await?;
            log_write(
                cr,
                "PUT /firewall/rules/{section}/{id}",
                section,
                rule.id,
                "updated rule",
            );
            self.0.table(section, true).await?
        };
        self.0.sync_section(section, table).await?;
        Ok(())
    }

    async fn delete(
        &self,
        cr: &FirewallRule,
        id: &str,
        ctx: &CallContext<'_>,
    ) -> ExternalResult<Deleted> {
        let section = block_of(cr)?.section;
        let known: Option<i64> = id.trim().parse().ok();
        let _writes = self.0.writes.lock().await;
        self.0.registry.forget(ctx.marker);
        let ours = |r: &DeviceRule| {
            r.marker() == Some(ctx.marker)
                || (Some(r.id) == known && r.marker().is_none() && ctx.trust_unmarked_id)
        };
        let targets: Vec<i64> = self
            .0
            .table(section, true)
            .await?
            .iter()
            .filter(|r| ours(r))
            .map(|r| r.id)
            .collect();
        if targets.is_empty() {
            return Ok(Deleted::Gone);
        }
        for target in &targets {
            self.0
                .write(section, self.0.client.delete_rule(section, *target))
                .await?;
            log_write(
                cr,
                "DELETE /firewall/rules/{section}/{id}",
                section,
                *target,
                "deleted rule",
            );
        }
        let left = self
            .0
            .table(section, true)
            .await?
            .iter()
            .any(|r| targets.contains(&r.id));
        Ok(if left {
            Deleted::InProgress
        } else {
            Deleted::Gone
        })
    }
}
