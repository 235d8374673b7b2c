//! The runtime of one Ideco device: its client and session, one cached copy of each section,
//! the device facts (status, state, settings), the placement registry, and the lock that keeps
//! writes to the device one at a time.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::client::IdecoClient;
use super::firewall_rule::FirewallRules;
use super::models::{DeviceFacts, DeviceRule};
use super::registry::Registry;
use super::section::SectionJudgement;
use super::session::Session;
use super::{VENDOR, conditions};
use crate::api::FirewallRule;
use crate::api::provider_config::{ProviderObservation, ProviderType};
use crate::api::vendors::ideco::IdecoSection;
use crate::engine::adapters::Adapters;
use crate::engine::hub::{ResolvedProvider, VendorRuntime};
use crate::vendor::error::VendorResult;
use crate::vendor::http::VendorHttp;
use crate::vendor::snapshot::{Collection, Derived};

/// A listed rule and its index in the section.
#[derive(Debug, Clone)]
pub struct ListedRule {
    pub position: usize,
    pub rule: DeviceRule,
}

pub struct IdecoDevice {
    pub(super) client: IdecoClient,
    tables: BTreeMap<IdecoSection, Collection<ListedRule>>,
    /// Each section in table order, per listing: every FirewallRule reads its whole section.
    ordered: BTreeMap<IdecoSection, Derived<BTreeMap<String, ListedRule>, Vec<DeviceRule>>>,
    /// Each section's listing judged against the registry, per listing and registry generation.
    judged: BTreeMap<IdecoSection, Derived<Vec<DeviceRule>, SectionJudgement>>,
    facts: Collection<DeviceFacts>,
    pub(super) registry: Registry,
    /// Held by every create, update and delete, across the re-lists and moves that follow.
    pub(super) writes: tokio::sync::Mutex<()>,
}

/// Connect a `type: Ideco` provider configuration.
pub fn connect(p: &ResolvedProvider) -> VendorResult<Arc<dyn VendorRuntime>> {
    let settings = p.spec.ideco.clone().unwrap_or_default();
    let login = p.credentials.require(VENDOR, "login")?.clone();
    let password = p.credentials.require(VENDOR, "password")?.clone();
    let http = VendorHttp::for_provider(VENDOR, &p.spec.endpoint, &p.spec)?;
    let client = IdecoClient::new(Session::new(http, login, password, settings));
    Ok(Arc::new(IdecoRuntime::new(IdecoDevice::new(
        client,
        p.poll_interval(),
    ))))
}

impl IdecoDevice {
    pub fn new(client: IdecoClient, poll_interval: Duration) -> Self {
        IdecoDevice {
            client,
            tables: IdecoSection::ALL
                .into_iter()
                .map(|s| (s, Collection::new(poll_interval)))
                .collect(),
            ordered: IdecoSection::ALL
                .into_iter()
                .map(|s| (s, Derived::default()))
                .collect(),
            judged: IdecoSection::ALL
                .into_iter()
                .map(|s| (s, Derived::default()))
                .collect(),
            facts: Collection::new(poll_interval),
            // Every FirewallRule is observed at least once per poll interval; one missed for
            // three is gone (orphaned, or moved to another provider configuration).
            registry: Registry::new(poll_interval * 3),
            writes: tokio::sync::Mutex::new(()),
        }
    }

    /// A section in table order: the cached copy, or a new list when it is older than the poll
    /// interval or `fresh` is asked for.
    pub async fn table(
        &self,
        section: IdecoSection,
        fresh: bool,
    ) -> VendorResult<Arc<Vec<DeviceRule>>> {
        let items = self.tables[&section]
            .get(fresh, || async {
                let rules = self.client.list_rules(section).await?;
                Ok(rules
                    .into_iter()
                    .enumerate()
                    .map(|(position, rule)| (rule.id.to_string(), ListedRule { position, rule }))
                    .collect())
            })
            .await?;
        Ok(self.ordered[&section].get(&items, |items| {
            let mut listed: Vec<&ListedRule> = items.values().collect();
            listed.sort_by_key(|l| l.position);
            listed.into_iter().map(|l| l.rule.clone()).collect()
        }))
    }

    /// Run a write to `section`. Whatever its outcome (a call that failed may still have
    /// changed the device), the cached listing no longer says what the section holds: if the
    /// re-list that follows every write failed, the next observe would read the old listing,
    /// miss a rule just created and call it gone (found by the chaos suite).
    pub(super) async fn write<R>(
        &self,
        section: IdecoSection,
        call: impl Future<Output = VendorResult<R>>,
    ) -> VendorResult<R> {
        let result = call.await;
        self.tables[&section].invalidate();
        result
    }

    /// A listing of `section` judged against the FirewallRules recorded for it.
    pub fn judge(
        &self,
        section: IdecoSection,
        table: &Arc<Vec<DeviceRule>>,
    ) -> Arc<SectionJudgement> {
        let ranked = self.registry.section(section);
        self.judged[&section].get_stamped(table, ranked.generation, |table| {
            SectionJudgement::new(table, ranked.intent)
        })
    }

    /// Status, state and settings of the firewall, read once per poll interval.
    pub async fn facts(&self, fresh: bool) -> VendorResult<DeviceFacts> {
        let items = self
            .facts
            .get(fresh, || async {
                let facts = DeviceFacts {
                    services: self.client.firewall_status().await?,
                    state: self.client.firewall_state().await?,
                    settings: self.client.firewall_settings().await?,
                };
                Ok(vec![(String::new(), facts)])
            })
            .await?;
        Ok(items
            .values()
            .next()
            .cloned()
            .expect("the facts collection holds one entry"))
    }

    /// Forget every cached copy, as if the poll interval had passed.
    pub fn invalidate_snapshots(&self) {
        self.tables.values().for_each(Collection::invalidate);
        self.facts.invalidate();
    }
}

/// A connected device and the adapter of its one kind.
pub struct IdecoRuntime {
    device: Arc<IdecoDevice>,
    adapters: Adapters,
}

impl IdecoRuntime {
    pub fn new(device: IdecoDevice) -> Self {
        let device = Arc::new(device);
        IdecoRuntime {
            adapters: Adapters::new().with::<FirewallRule>(FirewallRules(device.clone())),
            device,
        }
    }

    /// The device's client, sections and registry.
    pub fn device(&self) -> &IdecoDevice {
        &self.device
    }
}

#[async_trait]
impl VendorRuntime for IdecoRuntime {
    fn provider_type(&self) -> ProviderType {
        ProviderType::Ideco
    }

    async fn check(&self) -> VendorResult<ProviderObservation> {
        let facts = self.device.facts(true).await?;
        let summary = conditions::service_summary(&facts);
        tracing::debug!(vendor = VENDOR, services = %summary, enabled = facts.state.enabled, "device checked");
        Ok(ProviderObservation {
            last_authenticated: Some(jiff::Timestamp::now().to_string()),
            ..ProviderObservation::default()
        })
    }

    fn adapters(&self) -> &Adapters {
        &self.adapters
    }

    async fn shutdown(&self) {
        self.device.client.logout().await;
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
