//! The RuBackup vendor runtime: one per provider configuration, holding the client (with its
//! login gate), the shared collection copies and the three adapters.

use std::any::Any;
use std::sync::Arc;

use async_trait::async_trait;
use reqwest::Method;
use serde_json::Value;

use super::VENDOR;
use super::backend::Backend;
use super::client::{Paging, RuBackupClient};
use super::policy::ScheduleRuleAdapter;
use super::restore::Restores;
use super::schedule::ServerSchedule;
use super::session::{Endpoint, LoginSettings};
use super::strategy::StrategyAdapter;
use super::urgent_backup::UrgentBackups;
use super::vault::PoolAdapter;
use crate::api::provider_config::{ProviderObservation, ProviderType};
use crate::api::vendors::rubackup::RuBackupProviderSettings;
use crate::api::{Policy, Strategy, Vault};
use crate::engine::adapters::Adapters;
use crate::engine::hub::{ResolvedProvider, VendorRuntime};
use crate::vendor::error::{ErrorKind, VendorError, VendorResult};
use crate::vendor::http::VendorHttp;
use crate::vendor::login_gate::LoginGate;

/// A connected RuBackup server.
pub struct RuBackupRuntime {
    pub backend: Arc<Backend>,
    adapters: Adapters,
    urgent: UrgentBackups,
    restores: Restores,
}

impl RuBackupRuntime {
    /// Build the runtime of a provider configuration. Nothing is sent until the first call.
    pub fn connect(p: &ResolvedProvider) -> VendorResult<Self> {
        let settings: RuBackupProviderSettings = p.spec.ru_backup.clone().unwrap_or_default();
        let config_error = |m: String| VendorError::new(VENDOR, "connect", ErrorKind::Config, m);
        let server_tz = settings
            .server_time_zone
            .clone()
            .unwrap_or_else(|| "UTC".to_string());
        jiff::tz::TimeZone::get(&server_tz).map_err(|_| {
            config_error(format!(
                "spec.ruBackup.serverTimeZone: unknown time zone '{server_tz}'"
            ))
        })?;
        let http = VendorHttp::for_provider(VENDOR, &p.spec.endpoint, &p.spec)?;
        let api = settings
            .api_path
            .clone()
            .unwrap_or_else(|| "/api/v1".to_string())
            .trim_end_matches('/')
            .to_string();
        let database = settings
            .database
            .clone()
            .unwrap_or_else(|| "rubackup".to_string());
        let login = LoginSettings {
            user: p.credentials.require(VENDOR, "username")?.clone(),
            password: p.credentials.require(VENDOR, "password")?.clone(),
            domain: settings.domain.clone().unwrap_or_else(|| database.clone()),
            database,
            auth_type: settings.auth_type.unwrap_or_default(),
            format: settings.login_format.unwrap_or_default(),
            source: if p.credentials.source.is_empty() {
                "(none)".to_string()
            } else {
                p.credentials.source.clone()
            },
        };
        let defaults = Paging::default();
        let paging = Paging {
            page_parameter: settings
                .page_parameter
                .clone()
                .unwrap_or(defaults.page_parameter),
            limit_parameter: settings
                .limit_parameter
                .clone()
                .unwrap_or(defaults.limit_parameter),
            page_size: settings
                .page_size
                .map_or(defaults.page_size, |n| n.clamp(1, 1000) as usize),
        };
        let endpoint = Endpoint { http, api };
        let gate = LoginGate::for_login(
            VENDOR,
            &endpoint.url(""),
            &[
                &login.database,
                &login.domain,
                login.user.expose(),
                login.password.expose(),
            ],
        );
        let client = RuBackupClient::new(endpoint, login, gate, paging);
        let schedule = ServerSchedule {
            time_zone: server_tz,
            cron_fields: settings.cron_fields.unwrap_or_default(),
        };
        let backend = Arc::new(Backend::new(client, p.poll_interval(), schedule));
        Ok(RuBackupRuntime {
            adapters: Adapters::new()
                .with::<Vault>(PoolAdapter {
                    backend: backend.clone(),
                })
                .with::<Policy>(ScheduleRuleAdapter {
                    backend: backend.clone(),
                })
                .with::<Strategy>(StrategyAdapter {
                    backend: backend.clone(),
                }),
            urgent: UrgentBackups {
                backend: backend.clone(),
            },
            restores: Restores {
                backend: backend.clone(),
            },
            backend,
        })
    }
}

#[async_trait]
impl VendorRuntime for RuBackupRuntime {
    fn provider_type(&self) -> ProviderType {
        ProviderType::RuBackup
    }

    /// `GET /server_hello` (§8.3.2): authenticated, and it names the server version.
    async fn check(&self) -> VendorResult<ProviderObservation> {
        let client = &self.backend.client;
        let env = client
            .send("GET /server_hello", Method::GET, "/server_hello", &[], None)
            .await?;
        let reported = match &env.data {
            Value::String(s) => Some(s.clone()),
            Value::Object(o) => o.get("version").and_then(Value::as_str).map(str::to_string),
            _ => None,
        };
        Ok(ProviderObservation {
            version: reported.or(client.session.version().await),
            last_authenticated: Some(
                jiff::Timestamp::now()
                    .strftime("%Y-%m-%dT%H:%M:%SZ")
                    .to_string(),
            ),
            ..Default::default()
        })
    }

    fn adapters(&self) -> &Adapters {
        &self.adapters
    }

    fn backup_taker(&self) -> Option<&dyn crate::oneshot::BackupTaker> {
        Some(&self.urgent)
    }

    fn restorer(&self) -> Option<&dyn crate::oneshot::Restorer> {
        Some(&self.restores)
    }

    /// Log out when this runtime held the last reference to its session.
    async fn shutdown(&self) {
        let client = &self.backend.client;
        if Arc::strong_count(&client.session) == 1 {
            client.session.logout(&client.endpoint).await;
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
