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
use super::writer::SectionWriter;
use crate::api::FirewallRule;
use crate::api::common::{Allowed, Drift};
use crate::api::firewall_rule::FirewallRuleObservation;
use crate::api::vendors::ideco::{IdecoFirewallRule, IdecoSection};
use crate::engine::external::{
    CallContext, Created, Deleted, External, ExternalError, ExternalResult, Observation, Ownership,
    Readiness,
};
use crate::engine::waker::ObjectName;
use crate::vendor::error::ErrorKind;

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
        self.announce(spec.section, cr, ctx);
    }

    /// When the FirewallRules of a section stop or start agreeing on its block, the others
    /// learn it now, not at their next poll: each shows the `PlacementConflict` condition, and
    /// a create held back by the conflict goes ahead once it is gone.
    fn announce(&self, section: IdecoSection, cr: &FirewallRule, ctx: &CallContext<'_>) {
        let me = object(cr);
        let others: Vec<ObjectName> = self
            .registry
            .agreement_changed(section)
            .iter()
            .filter(|o| **o != me)
            .filter_map(|o| ObjectName::parse(o))
            .collect();
        ctx.wake.others(&others);
    }

    /// What an observe of a FirewallRule that has no rule in `table` yet (before its create)
    /// needs to know of the section, found without judging it: `Some(None)` when the section
    /// can take the rule, `Some(Some(why))` when it cannot (the sentinel is missing). `None`
    /// when only the whole judgement can tell (the FirewallRules of the section disagree on
    /// the block, or the sentinel candidate is an adopted rule). In a burst every new
    /// FirewallRule is observed once before its create and changes the ranking: judging the
    /// whole section each time made the burst quadratic in its size (issue 21).
    fn blocked_before_create(
        &self,
        section: IdecoSection,
        table: &[DeviceRule],
        block: &BlockSpec,
    ) -> Option<Option<Blocked>> {
        if !self.registry.agrees(section) {
            return None;
        }
        let BlockSpec::AfterSentinel(comment) = block else {
            return Some(None);
        };
        match table
            .iter()
            .find(|r| r.marker().is_none() && r.comment().trim() == comment.trim())
        {
            Some(r) if self.registry.adopts_unmarked(section, r.id) => None,
            Some(_) => Some(None),
            None => Some(Some(Blocked::SentinelMissing(comment.clone()))),
        }
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
        let block = BlockSpec::from_placement(&spec.placement);
        if known.is_none()
            && !table.iter().any(|r| r.marker() == Some(ctx.marker))
            && let Some(blocked) = self.0.blocked_before_create(spec.section, &table, &block)
        {
            let mut conditions = device_conditions(&facts);
            conditions.extend(placement_conditions(&block, blocked.as_ref()));
            return Ok(Observation {
                exists: false,
                ownership: Ownership::Unmarked,
                conditions,
                ..Observation::default()
            });
        }
        let judged = self.0.judge_own_place(spec.section, &table, ctx.marker);
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
        // The rank alone, not "k of n": n changes with every FirewallRule added to the section,
        // so every rule's status changed at its next resync, and a burst of 10,000 creates
        // rewrote the status of every rule already Ready every poll interval (issue 21: about
        // 30 API writes per rule, the API server the bottleneck).
        let details = BTreeMap::from([
            ("block".to_string(), block.to_string()),
            ("rankInBlock".to_string(), rank.to_string()),
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
        let w = self.0.writer(section).await;
        let mut placed_again = false;
        let (id, anchor, placed_in_order) = loop {
            let (placed, in_order) = {
                let table = w.model().await?;
                let judged = self.0.judge(section, &table);
                // A section in order, without copies, stays in order when a rule is created
                // where `creation_anchor` places it: the sync after it has nothing to do.
                let in_order = judged.view.duplicates.is_empty()
                    && judged.ordering.as_ref().is_ok_and(Vec::is_empty);
                let placed = match judged.view.owned.get(ctx.marker) {
                    // Created before a crash, or by a concurrent reconcile: adopt, not double.
                    Some(&id) => Ok(Err(id)),
                    None => {
                        creation_anchor(&table, &judged.view, &judged.intent, ctx.marker).map(Ok)
                    }
                };
                (placed, in_order)
                // The model is let go before the write, so the answer is laid over it in place.
            };
            let anchor = match placed {
                Ok(Ok(anchor)) => anchor,
                Ok(Err(id)) => break (id, None, false),
                // The sentinel may have come since the model was listed: look once more.
                Err(Blocked::SentinelMissing(_)) if !placed_again && !w.listed_in_turn() => {
                    placed_again = true;
                    w.listed().await?;
                    continue;
                }
                Err(blocked) => return Err(not_placeable(blocked)),
            };
            match w.create(&desired, anchor).await {
                Ok(id) => {
                    log_write(cr, CREATE, section, id, "created rule");
                    break (id, anchor, in_order);
                }
                // The device refused the place the model gave (its anchor may be gone): place
                // the rule again from a listing, once. A refused create made nothing.
                Err(e) if refused(&e) && !placed_again && !w.listed_in_turn() => {
                    tracing::info!(vendor = VENDOR, namespace = ns(cr), name = name(cr), error = %e, "create refused; placing the rule again from a new listing");
                    placed_again = true;
                    w.listed().await?;
                }
                Err(e) => return Err(e.into()),
            }
        };
        self.0.record(cr, spec, ctx, Some(id));
        // The rule exists now whatever happens next: an ordering failure is drift for later.
        let ordered = match order_after_create(&w, id, anchor, placed_in_order).await {
            Ok(()) => w.finish().await,
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
        let w = self.0.writer(section).await;
        // Read-modify-write of a rule that must still be rampart's: on a listing of this turn.
        let (rule, body) = {
            let table = w.listed().await?;
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
            let body = (!desired::drift(&desired, &rule.fields).is_empty())
                .then(|| desired::overlay(&rule.fields, &desired));
            (rule.id, body)
        };
        if let Some(body) = body {
            w.update(rule, body).await?;
            log_write(cr, UPDATE, section, rule, "updated rule");
        }
        w.sync().await?;
        w.finish().await?;
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
        let w = self.0.writer(section).await;
        self.0.registry.forget(ctx.marker);
        self.0.announce(section, cr, ctx);
        let ours = |r: &DeviceRule| {
            r.marker() == Some(ctx.marker)
                || (Some(r.id) == known && r.marker().is_none() && ctx.trust_unmarked_id)
        };
        // Whose rule is whose, on a listing of this turn: never a rule that is not rampart's.
        let targets: Vec<i64> = w
            .listed()
            .await?
            .iter()
            .filter(|r| ours(r))
            .map(|r| r.id)
            .collect();
        for target in &targets {
            w.delete(*target).await?;
            log_write(cr, DELETE, section, *target, "deleted rule");
        }
        if !targets.is_empty() {
            w.finish().await?;
        }
        let left = self
            .0
            .table(section, false)
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

const CREATE: &str = "POST /firewall/rules/{section}";
const UPDATE: &str = "PUT /firewall/rules/{section}/{id}";
const DELETE: &str = "DELETE /firewall/rules/{section}/{id}";

/// A create the device refused outright: nothing was made, and the place may be what it
/// refused (an anchor that is gone).
fn refused(e: &crate::vendor::error::VendorError) -> bool {
    matches!(e.kind, ErrorKind::Rejected | ErrorKind::NotFound)
}

/// After a create: where the device put a rule asked for with `insert_after=false` is checked
/// on a listing (GUESS, L158), then the section is put in order. A rule placed from a model in
/// order, that the model took as asked, needs no sync: judging the whole section again after
/// every create made a burst quadratic in the section's size (issue 21). The confirming
/// listing at the end of the burst (`finish`) still checks the model and orders what it shows.
async fn order_after_create(
    w: &SectionWriter<'_>,
    id: i64,
    anchor: Option<(i64, bool)>,
    placed_in_order: bool,
) -> crate::vendor::error::VendorResult<()> {
    let asked_after = anchor.is_none_or(|(_, after)| after);
    if placed_in_order && asked_after && w.model_trusted() {
        return Ok(());
    }
    if let Some((a, false)) = anchor {
        let table = w.list_now().await?;
        let asked = Move {
            id,
            anchor: a,
            insert_after: false,
        };
        if let Some(e) = misread_false(w.section(), &table, &asked, CREATE) {
            tracing::warn!(vendor = VENDOR, rule = id, error = %e, "rule created in another place than asked");
        }
    }
    w.sync().await
}
