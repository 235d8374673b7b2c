//! The ProviderConfig and ClusterProviderConfig controller: `Ready` comes from a real
//! authenticated call to the vendor; `InsecureSkipVerify` is a standing warning; a change to
//! the configuration or its Secret reconnects (the hub notices the new fingerprint).

use std::sync::Arc;
use std::time::Duration;

use kube::api::Api;
use kube::runtime::controller::Action;
use kube::{Resource, ResourceExt};
use tracing::{debug, info, warn};

use crate::api::common::ProviderConfigKind;
use crate::api::provider_config::{
    ProviderConfigCommon, ProviderConfigStatus, ProviderObservation,
};
use crate::api::{ClusterProviderConfig, ProviderConfig};
use crate::engine::cluster::FIELD_MANAGER;
use crate::engine::conditions::{Outcome, next_status, status_changed};
use crate::engine::errors::Error;
use crate::engine::external::{ExtraCondition, Readiness};
use crate::engine::hub::{HubError, ProviderHub, ProviderKey};
use crate::vendor::error::ErrorKind;

/// How soon a configuration the hub's cache has not seen yet is checked again.
const CACHE_CATCH_UP: Duration = Duration::from_millis(200);

/// What the controller needs from either kind.
pub trait ProviderConfigResource:
    Resource<DynamicType = ()>
    + Clone
    + std::fmt::Debug
    + serde::de::DeserializeOwned
    + serde::Serialize
    + Send
    + Sync
    + 'static
{
    fn common(&self) -> &ProviderConfigCommon;
    fn pc_status(&self) -> Option<&ProviderConfigStatus>;
    fn key(&self) -> ProviderKey;
    fn api(client: kube::Client, namespace: Option<&str>) -> Api<Self>;
}

impl ProviderConfigResource for ProviderConfig {
    fn common(&self) -> &ProviderConfigCommon {
        &self.spec.common
    }
    fn pc_status(&self) -> Option<&ProviderConfigStatus> {
        self.status.as_ref()
    }
    fn key(&self) -> ProviderKey {
        ProviderKey {
            kind: ProviderConfigKind::ProviderConfig,
            namespace: self.namespace(),
            name: self.name_any(),
        }
    }
    fn api(client: kube::Client, namespace: Option<&str>) -> Api<Self> {
        Api::namespaced(client, namespace.unwrap_or_default())
    }
}

impl ProviderConfigResource for ClusterProviderConfig {
    fn common(&self) -> &ProviderConfigCommon {
        &self.spec.common
    }
    fn pc_status(&self) -> Option<&ProviderConfigStatus> {
        self.status.as_ref()
    }
    fn key(&self) -> ProviderKey {
        ProviderKey {
            kind: ProviderConfigKind::ClusterProviderConfig,
            namespace: None,
            name: self.name_any(),
        }
    }
    fn api(client: kube::Client, _namespace: Option<&str>) -> Api<Self> {
        Api::all(client)
    }
}

pub struct PcContext {
    pub client: kube::Client,
    pub hub: Arc<ProviderHub>,
    /// To wake the objects using a configuration when it becomes usable or unusable.
    pub kinds: Arc<super::kinds::Kinds>,
}

/// Whether a failed check means the configuration is unusable until a person acts, rather than
/// a passing fault the objects' own calls will meet and retry.
fn blocks_use(kind: Option<ErrorKind>) -> bool {
    matches!(
        kind,
        Some(ErrorKind::Unauthorized | ErrorKind::Forbidden | ErrorKind::Config)
    )
}

pub async fn reconcile<P: ProviderConfigResource>(
    pc: Arc<P>,
    ctx: Arc<PcContext>,
) -> Result<Action, Error> {
    let key = pc.key();
    if pc.meta().deletion_timestamp.is_some() {
        ctx.hub.forget(&key).await;
        return Ok(Action::await_change());
    }
    let poll = Duration::from_secs(pc.common().poll_interval_seconds.max(5) as u64);
    let (checked, kind) = match ctx.hub.runtime(&key).await {
        Ok(rt) => match rt.check().await {
            Ok(obs) => (Ok(obs), None),
            Err(e) => (Err(e.to_string()), Some(e.kind)),
        },
        // The hub reads its own cache of configurations, which can trail this controller's by
        // a moment after a create (an e2e test caught a status saying this very object was
        // not found). Ask again shortly rather than report it.
        Err(HubError::NotFound(_)) => {
            debug!(provider = %key, "not in the hub's cache yet");
            return Ok(Action::requeue(CACHE_CATCH_UP));
        }
        Err(HubError::Connect { source, .. }) => (Err(source.to_string()), Some(source.kind)),
        Err(e @ HubError::Credentials { .. }) => (Err(e.to_string()), Some(ErrorKind::Config)),
    };
    let blocked = match &checked {
        Err(message) if blocks_use(kind) => Some(message.clone()),
        _ => None,
    };
    if ctx.hub.set_blocked(&key, blocked) {
        let n = ctx.kinds.wake_users(&key);
        info!(provider = %key, objects = n, usable = checked.is_ok(), "provider configuration usability changed; re-reconciling its users");
    }
    if let Err(message) = &checked {
        warn!(provider = %key, error = %message, "provider check failed");
    }
    let old = pc.pc_status();
    let new = checked_status(old, pc.common(), checked, pc.meta().generation, &now());
    if status_changed(old, &new) {
        let api = P::api(ctx.client.clone(), pc.namespace().as_deref());
        apply_status(&api, &pc.name_any(), &new).await?;
        info!(provider = %key, "provider configuration status updated");
    }
    Ok(Action::requeue(poll))
}

/// The status after one check of the vendor: `Ready` from the authenticated call,
/// `Reachable=False` with the reason when it failed, and the spec's standing warnings
/// (`InsecureSkipVerify`) whatever the call said. Pure, so the controller's status logic is
/// tested without Kubernetes.
pub fn checked_status(
    old: Option<&ProviderConfigStatus>,
    common: &ProviderConfigCommon,
    checked: Result<ProviderObservation, String>,
    generation: Option<i64>,
    now: &str,
) -> ProviderConfigStatus {
    let mut extra = warning_conditions(common);
    let outcome = match checked {
        Ok(mut obs) => {
            obs.last_authenticated = Some(now.to_string());
            Outcome::Observed {
                readiness: Readiness::Available,
                at_provider: obs,
                drift: vec![],
                applied_hash: None,
                extra,
                marked_id: None,
            }
        }
        Err(message) => {
            extra.push(ExtraCondition {
                type_: "Reachable",
                status: false,
                reason: "CheckFailed",
                message: message.clone(),
            });
            Outcome::Observed {
                readiness: Readiness::Unavailable(message),
                at_provider: old.and_then(|s| s.at_provider.clone()).unwrap_or_default(),
                drift: vec![],
                applied_hash: None,
                extra,
                marked_id: None,
            }
        }
    };
    let mut new = next_status(old, &outcome, generation, now);
    // A provider config carries no drift or write-only hash; keep last_authenticated stable
    // when nothing else changed so a healthy config is not rewritten every poll.
    if let (Some(o), Some(n)) = (
        old.and_then(|s| s.at_provider.as_ref()),
        new.at_provider.as_mut(),
    ) && o.version == n.version
        && o.license == n.license
        && new.conditions == old.map(|s| s.conditions.clone()).unwrap_or_default()
    {
        n.last_authenticated = o.last_authenticated.clone();
    }
    new
}

/// Conditions the spec alone implies, as the controller writes them.
fn warning_conditions(common: &ProviderConfigCommon) -> Vec<ExtraCondition> {
    common
        .static_warnings()
        .into_iter()
        .map(|(type_, message)| ExtraCondition {
            type_,
            status: true,
            reason: "Configured",
            message,
        })
        .collect()
}

pub fn error_policy<P: ProviderConfigResource>(
    _pc: Arc<P>,
    _e: &Error,
    _ctx: Arc<PcContext>,
) -> Action {
    Action::requeue(Duration::from_secs(15))
}

fn now() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .expect("round")
        .to_string()
}

/// Write a provider configuration's whole status with server-side apply.
async fn apply_status<P: ProviderConfigResource>(
    api: &kube::Api<P>,
    name: &str,
    status: &ProviderConfigStatus,
) -> kube::Result<()> {
    use kube::api::{Patch, PatchParams};
    let body = serde_json::json!({
        "apiVersion": P::api_version(&()),
        "kind": P::kind(&()),
        "status": status,
    });
    let pp = PatchParams::apply(FIELD_MANAGER).force();
    api.patch_status(name, &pp, &Patch::Apply(body))
        .await
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::common::{Condition, ConditionStatus};

    fn common(insecure: bool) -> ProviderConfigCommon {
        serde_json::from_value(serde_json::json!({
            "type": "Ideco", "endpoint": "https://ngfw.example", "insecureSkipVerify": insecure
        }))
        .unwrap()
    }

    fn condition<'a>(s: &'a ProviderConfigStatus, type_: &str) -> Option<&'a Condition> {
        s.conditions.iter().find(|c| c.type_ == type_)
    }

    fn reachable() -> Result<ProviderObservation, String> {
        Ok(ProviderObservation::default())
    }

    #[test]
    fn insecure_skip_verify_is_the_only_static_warning_and_names_the_field() {
        assert!(common(false).static_warnings().is_empty());
        let warnings = common(true).static_warnings();
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].0, "InsecureSkipVerify");
        assert!(warnings[0].1.contains("spec.insecureSkipVerify"));
    }

    #[test]
    fn a_reachable_config_that_skips_verification_is_ready_with_a_standing_warning() {
        let s = checked_status(None, &common(true), reachable(), Some(2), "t1");
        let ready = condition(&s, "Ready").unwrap();
        assert_eq!(ready.status, ConditionStatus::True);
        let warning = condition(&s, "InsecureSkipVerify").expect("the warning condition");
        assert_eq!(warning.status, ConditionStatus::True);
        assert_eq!(warning.reason, "Configured");
        assert!(warning.message.contains("TLS verification"));
        assert_eq!(warning.observed_generation, Some(2));
    }

    #[test]
    fn the_warning_stands_when_the_check_fails() {
        let failed = Err("ideco GET /health: could not connect".to_string());
        let s = checked_status(None, &common(true), failed, Some(1), "t1");
        assert_eq!(
            condition(&s, "Ready").unwrap().status,
            ConditionStatus::False
        );
        assert_eq!(
            condition(&s, "Reachable").unwrap().status,
            ConditionStatus::False
        );
        assert_eq!(
            condition(&s, "InsecureSkipVerify").unwrap().status,
            ConditionStatus::True
        );
    }

    #[test]
    fn turning_verification_back_on_removes_the_warning() {
        let warned = checked_status(None, &common(true), reachable(), Some(1), "t1");
        assert!(condition(&warned, "InsecureSkipVerify").is_some());
        let s = checked_status(Some(&warned), &common(false), reachable(), Some(2), "t2");
        assert!(condition(&s, "InsecureSkipVerify").is_none());
        assert_eq!(
            condition(&s, "Ready").unwrap().status,
            ConditionStatus::True
        );
    }

    #[test]
    fn an_unchanged_healthy_config_keeps_its_status_so_nothing_is_rewritten() {
        let first = checked_status(None, &common(true), reachable(), Some(1), "t1");
        let again = checked_status(Some(&first), &common(true), reachable(), Some(1), "t2");
        assert!(!status_changed(Some(&first), &again));
    }
}
