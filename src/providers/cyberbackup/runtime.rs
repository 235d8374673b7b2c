//! The connected Cyber Backup installation: one client, one login, one catalog, the Policy
//! and Vault adapters.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::VENDOR;
use super::catalog::Catalog;
use super::client::Client;
use super::filter::Query;
use super::on_demand::PlanRuns;
use super::policy::PolicyAdapter;
use super::session::Session;
use super::vault::VaultAdapter;
use crate::api::provider_config::{ProviderObservation, ProviderType};
use crate::api::{Policy, Vault};
use crate::engine::adapters::Adapters;
use crate::engine::hub::{ResolvedProvider, VendorRuntime};
use crate::vendor::error::VendorResult;
use crate::vendor::http::VendorHttp;

/// The on-premise organization the document's examples create plans in.
pub const DEFAULT_TENANT: &str = "00000000-0000-0000-0000-000000000000";
const DEFAULT_PAGE_SIZE: usize = 100;

pub struct CyberBackupRuntime {
    pub catalog: Arc<Catalog>,
    api_version: String,
    adapters: Adapters,
    plan_runs: PlanRuns,
}

/// The installation address: the document's `base_url` is `<address>/api/v1`, so a pasted
/// base URL loses its `/api/<version>` tail.
pub fn installation_address(endpoint: &str) -> &str {
    let trimmed = endpoint.trim_end_matches('/');
    match trimmed.rsplit_once("/api/") {
        Some((base, version)) if version.starts_with('v') && !version.contains('/') => base,
        _ => trimmed,
    }
}

/// Connect a `type: CyberBackup` provider configuration (no network call yet).
pub fn connect(p: &ResolvedProvider) -> VendorResult<Arc<dyn VendorRuntime>> {
    let settings = p.spec.cyber_backup.clone().unwrap_or_default();
    let username = p.credentials.require(VENDOR, "username")?.clone();
    let password = p.credentials.require(VENDOR, "password")?.clone();
    let http = VendorHttp::for_provider(VENDOR, installation_address(&p.spec.endpoint), &p.spec)?;
    let api_version = settings
        .api_version
        .clone()
        .unwrap_or_else(|| "v1".to_string());
    let page_size = settings
        .page_size
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(DEFAULT_PAGE_SIZE);
    let session = Session::new(
        &http.url(""),
        username,
        password.clone(),
        p.credentials.source.clone(),
    );
    let client = Client::new(http, session, &api_version, page_size);
    Ok(Arc::new(CyberBackupRuntime::new(
        client,
        &settings,
        password,
        p.poll_interval(),
        api_version,
    )))
}

impl CyberBackupRuntime {
    pub fn new(
        client: Client,
        settings: &crate::api::vendors::cyberbackup::CyberBackupProviderSettings,
        hash_key: crate::engine::hub::SecretString,
        poll_interval: Duration,
        api_version: String,
    ) -> Self {
        let catalog = Arc::new(Catalog::new(
            client,
            settings
                .tenant_id
                .clone()
                .unwrap_or_else(|| DEFAULT_TENANT.to_string()),
            settings
                .agent_time_zone
                .clone()
                .unwrap_or_else(|| "UTC".to_string()),
            hash_key,
            poll_interval,
        ));
        CyberBackupRuntime {
            adapters: Adapters::new()
                .with::<Policy>(PolicyAdapter {
                    catalog: catalog.clone(),
                })
                .with::<Vault>(VaultAdapter {
                    catalog: catalog.clone(),
                }),
            plan_runs: PlanRuns {
                catalog: catalog.clone(),
            },
            catalog,
            api_version,
        }
    }
}

#[async_trait]
impl VendorRuntime for CyberBackupRuntime {
    fn provider_type(&self) -> ProviderType {
        ProviderType::CyberBackup
    }

    async fn check(&self) -> VendorResult<ProviderObservation> {
        let q = Query::new().param("limit", "1");
        let _: serde_json::Value = self
            .catalog
            .client
            .get_json("GET /resources", "/resources".into(), &q)
            .await?;
        Ok(ProviderObservation {
            version: Some(format!("api {}", self.api_version)),
            last_authenticated: Some(jiff::Timestamp::now().to_string()),
            ..Default::default()
        })
    }

    fn adapters(&self) -> &Adapters {
        &self.adapters
    }

    /// A Backup of a Policy runs its plan now.
    fn backup_taker(&self) -> Option<&dyn crate::oneshot::BackupTaker> {
        Some(&self.plan_runs)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pasted_base_url_loses_its_api_tail() {
        assert_eq!(
            installation_address("https://installaddress.ru/api/v1"),
            "https://installaddress.ru"
        );
        assert_eq!(
            installation_address("https://installaddress.ru/api/v2/"),
            "https://installaddress.ru"
        );
        assert_eq!(
            installation_address("https://installaddress.ru"),
            "https://installaddress.ru"
        );
        assert_eq!(installation_address("https://host/cb/"), "https://host/cb");
    }
}
