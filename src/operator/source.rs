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

/// Namespace and name of the credentials Secret of a configuration (`None` without
/// credentials). A namespaced configuration always reads its own namespace, whatever the spec
/// says (admission refuses `secretRef.namespace` there; this holds even if it got through). A
/// cluster configuration must name the namespace: there is no namespace to default to, and
/// guessing one could read a Secret nobody meant to share.
pub fn secret_location(
    key: &ProviderKey,
    spec: &ProviderConfigCommon,
) -> Result<Option<(String, String)>, String> {
    let Some(credentials) = &spec.credentials else {
        return Ok(None);
    };
    let r = &credentials.secret_ref;
    let ns = match key.kind {
        ProviderConfigKind::ProviderConfig => key
            .namespace
            .clone()
            .ok_or_else(|| format!("{key} has no namespace to read its Secret from"))?,
        ProviderConfigKind::ClusterProviderConfig => r.namespace.clone().ok_or_else(|| {
            format!(
                "spec.credentials.secretRef.namespace is required for a ClusterProviderConfig; \
                 Secret {} is not read",
                r.name
            )
        })?,
    };
    Ok(Some((ns, r.name.clone())))
}

impl K8sProviderSource {
    /// `f` of a configuration's spec and generation, read in place from the cache.
    fn with_config<R>(
        &self,
        key: &ProviderKey,
        f: impl FnOnce(&ProviderConfigCommon, i64) -> R,
    ) -> Result<R, HubError> {
        let found = match key.kind {
            ProviderConfigKind::ProviderConfig => key.namespace.as_deref().and_then(|ns| {
                let pc = self
                    .provider_configs
                    .get(&ObjectRef::new(&key.name).within(ns))?;
                Some(f(
                    &pc.spec.common,
                    pc.metadata.generation.unwrap_or_default(),
                ))
            }),
            ProviderConfigKind::ClusterProviderConfig => self
                .cluster_provider_configs
                .get(&ObjectRef::new(&key.name))
                .map(|pc| f(&pc.spec.common, pc.metadata.generation.unwrap_or_default())),
        };
        found.ok_or_else(|| HubError::NotFound(key.clone()))
    }

    /// The configuration's generation and its Secret's resourceVersion.
    fn fingerprint_of(
        &self,
        key: &ProviderKey,
        spec: &ProviderConfigCommon,
        generation: i64,
    ) -> String {
        let secret_version = secret_location(key, spec)
            .ok()
            .flatten()
            .and_then(|(ns, name)| self.secrets.get(&ObjectRef::new(&name).within(&ns)))
            .and_then(|s| s.resource_version())
            .unwrap_or_else(|| "none".to_string());
        format!("{generation}/{secret_version}")
    }
}

#[async_trait]
impl ProviderSource for K8sProviderSource {
    fn lookup(&self, key: &ProviderKey) -> Result<(ProviderConfigCommon, String), HubError> {
        self.with_config(key, |spec, generation| {
            (spec.clone(), self.fingerprint_of(key, spec, generation))
        })
    }

    fn fingerprint(&self, key: &ProviderKey) -> Result<String, HubError> {
        self.with_config(key, |spec, generation| {
            self.fingerprint_of(key, spec, generation)
        })
    }

    async fn credentials(
        &self,
        key: &ProviderKey,
        spec: &ProviderConfigCommon,
    ) -> Result<CredentialSet, HubError> {
        let location = secret_location(key, spec).map_err(|message| HubError::Credentials {
            key: key.clone(),
            message,
        })?;
        let Some((ns, name)) = location else {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(secret_ref: serde_json::Value) -> ProviderConfigCommon {
        serde_json::from_value(serde_json::json!({
            "type": "Ideco", "endpoint": "https://ngfw.example",
            "credentials": {"secretRef": secret_ref}
        }))
        .unwrap()
    }

    fn key(kind: ProviderConfigKind, namespace: Option<&str>) -> ProviderKey {
        ProviderKey {
            kind,
            namespace: namespace.map(String::from),
            name: "ngfw".into(),
        }
    }

    #[test]
    fn a_namespaced_config_reads_its_own_namespace_whatever_the_spec_says() {
        let k = key(ProviderConfigKind::ProviderConfig, Some("team-a"));
        let smuggled = spec(serde_json::json!({"name": "login", "namespace": "kube-system"}));
        assert_eq!(
            secret_location(&k, &smuggled),
            Ok(Some(("team-a".into(), "login".into())))
        );
        let plain = spec(serde_json::json!({"name": "login"}));
        assert_eq!(
            secret_location(&k, &plain),
            Ok(Some(("team-a".into(), "login".into())))
        );
    }

    #[test]
    fn a_cluster_config_reads_the_namespace_it_names() {
        let k = key(ProviderConfigKind::ClusterProviderConfig, None);
        let s = spec(serde_json::json!({"name": "login", "namespace": "vendors"}));
        assert_eq!(
            secret_location(&k, &s),
            Ok(Some(("vendors".into(), "login".into())))
        );
    }

    #[test]
    fn a_cluster_config_without_a_secret_namespace_reads_no_secret_and_says_why() {
        let k = key(ProviderConfigKind::ClusterProviderConfig, None);
        let err = secret_location(&k, &spec(serde_json::json!({"name": "login"}))).unwrap_err();
        assert!(
            err.contains("spec.credentials.secretRef.namespace is required"),
            "{err}"
        );
    }

    #[test]
    fn a_config_without_credentials_has_no_secret() {
        let k = key(ProviderConfigKind::ProviderConfig, Some("team-a"));
        let s: ProviderConfigCommon = serde_json::from_value(serde_json::json!({
            "type": "Ideco", "endpoint": "https://ngfw.example"
        }))
        .unwrap();
        assert_eq!(secret_location(&k, &s), Ok(None));
    }
}
