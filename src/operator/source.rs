//! Provider configurations and their Secrets as the hub sees them: read from reflector caches
//! (no API call per reconcile), with a fingerprint of the configuration's generation and the
//! Secret's resourceVersion so a change to either rebuilds the vendor runtime.

use async_trait::async_trait;
use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use kube::core::PartialObjectMeta;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Client, ResourceExt};

use crate::api::common::ProviderConfigKind;
use crate::api::provider_config::ProviderConfigCommon;
use crate::api::{ClusterProviderConfig, ProviderConfig};
use crate::engine::context::credential_set;
use crate::engine::hub::{CredentialSet, HubError, ProviderKey, ProviderSource};

pub struct K8sProviderSource {
    pub client: Client,
    pub provider_configs: Store<ProviderConfig>,
    pub cluster_provider_configs: Store<ClusterProviderConfig>,
    pub secrets: Store<PartialObjectMeta<Secret>>,
}

/// Namespace and name of the credentials Secret of a configuration. A namespaced
/// configuration always reads its own namespace, whatever the spec says.
pub fn secret_location(key: &ProviderKey, spec: &ProviderConfigCommon) -> Option<(String, String)> {
    let r = &spec.credentials.as_ref()?.secret_ref;
    let ns = match key.kind {
        ProviderConfigKind::ProviderConfig => key.namespace.clone()?,
        ProviderConfigKind::ClusterProviderConfig => r.namespace.clone()?,
    };
    Some((ns, r.name.clone()))
}

impl K8sProviderSource {
    fn spec_and_generation(&self, key: &ProviderKey) -> Option<(ProviderConfigCommon, i64)> {
        match key.kind {
            ProviderConfigKind::ProviderConfig => {
                let ns = key.namespace.as_deref()?;
                let pc = self
                    .provider_configs
                    .get(&ObjectRef::new(&key.name).within(ns))?;
                Some((
                    pc.spec.common.clone(),
                    pc.metadata.generation.unwrap_or_default(),
                ))
            }
            ProviderConfigKind::ClusterProviderConfig => {
                let pc = self
                    .cluster_provider_configs
                    .get(&ObjectRef::new(&key.name))?;
                Some((
                    pc.spec.common.clone(),
                    pc.metadata.generation.unwrap_or_default(),
                ))
            }
        }
    }
}

#[async_trait]
impl ProviderSource for K8sProviderSource {
    fn lookup(&self, key: &ProviderKey) -> Result<(ProviderConfigCommon, String), HubError> {
        let (spec, generation) = self
            .spec_and_generation(key)
            .ok_or_else(|| HubError::NotFound(key.clone()))?;
        let secret_version = secret_location(key, &spec)
            .and_then(|(ns, name)| self.secrets.get(&ObjectRef::new(&name).within(&ns)))
            .and_then(|s| s.resource_version())
            .unwrap_or_else(|| "none".to_string());
        Ok((spec, format!("{generation}/{secret_version}")))
    }

    async fn credentials(
        &self,
        key: &ProviderKey,
        spec: &ProviderConfigCommon,
    ) -> Result<CredentialSet, HubError> {
        let Some((ns, name)) = secret_location(key, spec) else {
            return Ok(CredentialSet::default());
        };
        let api: Api<Secret> = Api::namespaced(self.client.clone(), &ns);
        match api.get_opt(&name).await {
            Ok(Some(secret)) => Ok(credential_set(&secret)),
            Ok(None) => Err(HubError::Credentials {
                key: key.clone(),
                message: format!("Secret {ns}/{name} not found"),
            }),
            Err(e) => Err(HubError::Credentials {
                key: key.clone(),
                message: format!("cannot read Secret {ns}/{name}: {e}"),
            }),
        }
    }
}
