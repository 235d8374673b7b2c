//! The runtime of one Ideco device: its client and session, rampart's model of each section,
//! the device facts (status, state, settings), the placement registry, and the lock that keeps
//! writes to the device one at a time.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;

use super::client::IdecoClient;
use super::firewall_rule::FirewallRules;
use super::model::SectionModel;
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

pub struct IdecoDevice {
    pub(super) client: IdecoClient,
    /// rampart's model of each section, in table order: every FirewallRule reads its whole
    /// section, and every write lays its answer over it.
    models: BTreeMap<IdecoSection, SectionModel>,
    /// Each section's model judged against the registry, per model and registry generation.
    judged: BTreeMap<IdecoSection, Derived<Vec<DeviceRule>, SectionJudgement>>,
    facts: Collection<DeviceFacts>,
    pub(super) registry: Registry,
    /// The device's turn to write (`writer`): held by every create, update and delete, across
    /// the moves and the listing that follow.
    pub(super) writes: tokio::sync::Mutex<()>,
    /// Writers waiting for their turn or writing: the last one confirms the burst.
    pub(super) in_line: AtomicUsize,
    /// Section judgements built so far (`judge`): each costs a pass over the whole section,
    /// so a burst must not build one per observe (tests and diagnostics read it).
    judgements: AtomicUsize,
    /// Told whenever a writer gets in line: a writer about to confirm a burst waits a moment
    /// for it (`SectionWriter::finish`).
    pub(super) joined: tokio::sync::Notify,
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
            models: IdecoSection::ALL
                .into_iter()
                .map(|s| (s, SectionModel::new(poll_interval)))
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
            in_line: AtomicUsize::new(0),
            joined: tokio::sync::Notify::new(),
            judgements: AtomicUsize::new(0),
        }
    }

    /// A section in table order, as rampart's model holds it: listed again when the model is
    /// older than the poll interval, in doubt, or when `fresh` asks for a listing that begins
    /// now.
    pub async fn table(
        &self,
        section: IdecoSection,
        fresh: bool,
    ) -> VendorResult<Arc<Vec<DeviceRule>>> {
        self.models[&section]
            .read(fresh, || self.client.list_rules(section))
            .await
    }

    pub(super) fn model(&self, section: IdecoSection) -> &SectionModel {
        &self.models[&section]
    }

    /// A listing of `section` judged against the FirewallRules recorded for it.
    pub fn judge(
        &self,
        section: IdecoSection,
        table: &Arc<Vec<DeviceRule>>,
    ) -> Arc<SectionJudgement> {
        let ranked = self.registry.section(section);
        self.judged[&section].get_stamped(table, ranked.generation, |table| {
            self.judgements.fetch_add(1, Ordering::Relaxed);
            SectionJudgement::new(table, ranked.intent)
        })
    }

    /// How many section judgements were built (each a pass over a whole section).
    pub fn judgements_built(&self) -> usize {
        self.judgements.load(Ordering::Relaxed)
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

    /// Forget every cached copy, as if the poll interval had passed: the next read lists.
    pub fn invalidate_snapshots(&self) {
        self.models.values().for_each(SectionModel::doubt);
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
