//! The ProviderConfig and ClusterProviderConfig controller: `Ready` comes from a real
//! authenticated call to the vendor; `InsecureSkipVerify` is a standing warning; a change to
//! the configuration or its Secret reconnects (the hub notices the new fingerprint).

use std::sync::Arc;
use std::time::Duration;

use kube::api::Api;
use kube::runtime::controller::Action;
use kube::{Resource, ResourceExt};
use tracing::{info, warn};

use crate::api::common::{ManagedStatus, ProviderConfigKind};
use crate::api::provider_config::{
    ProviderConfigCommon, ProviderConfigStatus, ProviderObservation,
};
use crate::api::{ClusterProviderConfig, ProviderConfig};
use crate::engine::conditions::{Outcome, next_status, status_changed};
use crate::engine::errors::Error;
use crate::engine::external::{ExtraCondition, Readiness};
use crate::engine::hub::{ProviderHub, ProviderKey};
use crate::engine::patches::apply_status;

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
    let mut extra: Vec<ExtraCondition> = pc
        .common()
        .static_warnings()
        .into_iter()
        .map(|(t, m)| ExtraCondition {
            type_: t,
            status: true,
            reason: "Configured",
            message: m,
        })
        .collect();
    let checked = match ctx.hub.runtime(&key).await {
        Ok(rt) => rt.check().await.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    let outcome = match checked {
        Ok(mut obs) => {
            obs.last_authenticated = Some(
                jiff::Timestamp::now()
                    .round(jiff::Unit::Second)
                    .expect("round")
                    .to_string(),
            );
            Outcome::Observed {
                readiness: Readiness::Available,
                at_provider: obs,
                drift: vec![],
                applied_hash: None,
                extra,
            }
        }
        Err(message) => {
            warn!(provider = %key, error = %message, "provider check failed");
            extra.push(ExtraCondition {
                type_: "Reachable",
                status: false,
                reason: "CheckFailed",
                message: message.clone(),
            });
            Outcome::Observed {
                readiness: Readiness::Unavailable(message),
                at_provider: pc
                    .pc_status()
                    .and_then(|s| s.at_provider.clone())
                    .unwrap_or_default(),
                drift: vec![],
                applied_hash: None,
                extra,
            }
        }
    };
    let old: Option<&ManagedStatus<ProviderObservation>> = pc.pc_status();
    let mut new = next_status(old, &outcome, pc.meta().generation, &now());
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
    if status_changed(old, &new) {
        let api = P::api(ctx.client.clone(), pc.namespace().as_deref());
        apply_status(&api, &pc.name_any(), &new).await?;
        info!(provider = %key, "provider configuration status updated");
    }
    Ok(Action::requeue(poll))
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
