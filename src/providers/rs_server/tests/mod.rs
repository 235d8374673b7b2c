//! The runtime against the simulator, in process: authentication, resolution, caching.

mod auth;
mod resolve;

use std::sync::Arc;
use std::time::Duration;

use crate::api::common::{ProviderConfigKind, ProviderConfigRef};
use crate::api::provider_config::{ApiBudget, ProviderConfigCommon, ProviderType};
use crate::api::vendors::rs_server::{
    RsServerAuthMethod, RsServerProjectRef, RsServerProviderSettings, RsServerSelector,
};
use crate::engine::hub::{
    CredentialSet, ProviderKey, ResolvedProvider, SecretString, VendorRuntime, downcast,
};
use crate::engine::testkit::TestWorld;
use crate::simulators::rs_server::RsServerSim;

use super::RsServerRuntime;

pub const USER: &str = "svc-backup";
pub const PASSWORD: &str = "s3cret-Pa55";

/// A simulator with a service user, and the provider configuration that reaches it.
pub struct Fixture {
    pub sim: RsServerSim,
    pub world: TestWorld,
    pub key: ProviderKey,
    pub user_id: String,
}

impl Fixture {
    pub async fn new() -> Self {
        let sim = RsServerSim::start_local().await.expect("simulator starts");
        let user_id = sim.state.add_user(USER, PASSWORD);
        let key = ProviderKey {
            kind: ProviderConfigKind::ProviderConfig,
            namespace: Some("team-a".into()),
            name: "trs".into(),
        };
        Fixture {
            sim,
            world: crate::providers::test_world(),
            key,
            user_id,
        }
    }

    pub fn spec(&self, settings: RsServerProviderSettings) -> ProviderConfigCommon {
        ProviderConfigCommon {
            request_timeout_seconds: 30,
            type_: ProviderType::RsServer,
            endpoint: self.sim.url(),
            credentials: None,
            ca_bundle: None,
            insecure_skip_verify: false,
            budget: ApiBudget {
                qps: 1000.0,
                burst: 1000,
                max_in_flight: 16,
            },
            poll_interval_seconds: 60,
            huawei_cbr: None,
            ru_backup: None,
            cyber_backup: None,
            ideco: None,
            rs_server: Some(settings),
        }
    }

    /// Keystone password login scoped to the admin project.
    pub fn password_settings(&self) -> RsServerProviderSettings {
        RsServerProviderSettings {
            auth_method: RsServerAuthMethod::Password,
            identity_endpoint: Some(self.sim.url()),
            project_name: Some("admin".into()),
            ..Default::default()
        }
    }

    pub fn token_settings() -> RsServerProviderSettings {
        RsServerProviderSettings {
            auth_method: RsServerAuthMethod::Token,
            ..Default::default()
        }
    }

    /// Configure the provider (as a changed ProviderConfig or Secret would) and get its runtime.
    pub async fn runtime(
        &self,
        settings: RsServerProviderSettings,
        creds: &[(&str, &str)],
    ) -> Arc<dyn VendorRuntime> {
        self.world
            .source
            .set(self.key.clone(), self.spec(settings), creds);
        self.world
            .hub
            .runtime(&self.key)
            .await
            .expect("the provider connects")
    }

    pub async fn password_runtime(&self) -> Arc<dyn VendorRuntime> {
        self.runtime(
            self.password_settings(),
            &[("username", USER), ("password", PASSWORD)],
        )
        .await
    }

    /// A runtime outside the hub whose collections expire at once: every resolve lists again.
    pub fn uncached_runtime(&self) -> RsServerRuntime {
        let values = [("username", USER), ("password", PASSWORD)]
            .iter()
            .map(|(k, v)| (k.to_string(), SecretString::new(*v)))
            .collect();
        let p = ResolvedProvider {
            key: self.key.clone(),
            spec: self.spec(self.password_settings()),
            credentials: CredentialSet {
                source: "team-a/trs".into(),
                values,
            },
        };
        RsServerRuntime::with_ttl(&p, Duration::ZERO).expect("the provider connects")
    }

    pub fn count(&self, operation: &str) -> u64 {
        self.sim.control().count(operation)
    }
}

pub fn rs(rt: &Arc<dyn VendorRuntime>) -> &RsServerRuntime {
    downcast::<RsServerRuntime>(rt).expect("an RsServer provider gives an RsServerRuntime")
}

pub fn selector(
    project: RsServerProjectRef,
    servers: bool,
    volumes: bool,
    pattern: Option<&str>,
) -> RsServerSelector {
    RsServerSelector {
        provider_config_ref: ProviderConfigRef {
            kind: ProviderConfigKind::ProviderConfig,
            name: "trs".into(),
        },
        project,
        include_servers: servers,
        include_user_volumes: volumes,
        name_pattern: pattern.map(Into::into),
    }
}

pub fn by_id(id: &str) -> RsServerProjectRef {
    RsServerProjectRef {
        id: Some(id.into()),
        name: None,
    }
}

pub fn by_name(name: &str) -> RsServerProjectRef {
    RsServerProjectRef {
        id: None,
        name: Some(name.into()),
    }
}
