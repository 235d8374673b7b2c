//! `RsServerRuntime`: the connected RS server of one provider configuration. It manages no kind;
//! it answers `resolve` for CBR Vaults that select a TRS project's resources, from collections
//! shared by every Vault and refreshed once per poll interval: the project list, and per
//! project its servers and its volume assignments. A hundred Vaults on five projects cost at
//! most eleven list calls per poll, not a call per Vault.

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::VENDOR;
use super::client::RsServerClient;
use super::models::{self, TrsProject, TrsServer, UserVolume};
use super::selection::{self, SelectedResource, Selection};
use super::session::{self, Session};
use crate::api::provider_config::{ProviderObservation, ProviderType};
use crate::api::vendors::rs_server::RsServerSelector;
use crate::engine::adapters::Adapters;
use crate::engine::hub::{ResolvedProvider, VendorRuntime};
use crate::vendor::error::VendorResult;
use crate::vendor::http::VendorHttp;
use crate::vendor::snapshot::Collection;

/// What a selector selected, and when: the start of the oldest list it was read from.
#[derive(Debug, Clone)]
pub struct Listing {
    pub resources: Vec<SelectedResource>,
    pub listed_at: jiff::Timestamp,
}

/// The cached inventory of one TRS project.
struct ProjectInventory {
    servers: Collection<TrsServer>,
    volumes: Collection<UserVolume>,
}

pub struct RsServerRuntime {
    client: RsServerClient,
    ttl: Duration,
    projects: Collection<TrsProject>,
    inventories: Mutex<HashMap<String, Arc<ProjectInventory>>>,
}

impl RsServerRuntime {
    /// Connect a provider configuration; collections live for its poll interval.
    pub fn new(p: &ResolvedProvider) -> VendorResult<Self> {
        Self::with_ttl(p, p.poll_interval())
    }

    /// Connect with an explicit collection TTL (tests use zero to list on every resolve).
    pub fn with_ttl(p: &ResolvedProvider, ttl: Duration) -> VendorResult<Self> {
        let http = VendorHttp::for_provider(VENDOR, &p.spec.endpoint, &p.spec)?;
        let source = session::token_source(p, |identity| Ok(http.sibling(identity)))?;
        let session = Session::new(source, p.credentials.source.clone());
        Ok(RsServerRuntime {
            client: RsServerClient::new(http, session),
            ttl,
            projects: Collection::new(ttl),
            inventories: Mutex::new(HashMap::new()),
        })
    }

    /// The servers and user volumes `selector` selects right now, servers first, each sorted
    /// by id. Reads the shared collections (listing them when older than the poll interval).
    /// Errors about the selector itself (unknown or ambiguous project, invalid `namePattern`)
    /// name the spec field; `selection::into_external_error` turns them into `InvalidSpec`.
    pub async fn resolve(
        &self,
        selector: &RsServerSelector,
    ) -> VendorResult<Vec<SelectedResource>> {
        Ok(self.resolve_listing(selector).await?.resources)
    }

    /// `resolve`, with when the listings it rests on were taken. A resource missing from one
    /// listing may be back in the next (a short answer, a server mid-migration); a caller that
    /// deletes on absence compares the times of two listings, and a cached listing read twice
    /// is one listing, not two.
    pub async fn resolve_listing(&self, selector: &RsServerSelector) -> VendorResult<Listing> {
        let filter = Selection::from_selector(selector)?;
        let (projects, projects_at) = self
            .projects
            .get_listed(false, || self.list_projects())
            .await?;
        let project = selection::find_project(projects.values(), &selector.project)?;
        let inventory = self.inventory(&project.id);
        let servers = read_if(filter.include_servers, &inventory.servers, || {
            self.list_servers(&project.id)
        })
        .await?;
        let volumes = read_if(filter.include_user_volumes, &inventory.volumes, || {
            self.list_user_volumes(&project.id)
        })
        .await?;
        // Every list the selection read is whole (an error otherwise); the selection is as
        // old as the oldest of them.
        let oldest = [
            Some(projects_at),
            servers.as_ref().map(|s| s.1),
            volumes.as_ref().map(|v| v.1),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(projects_at);
        let selected = selection::select(
            &project.id,
            servers.iter().flat_map(|s| s.0.values()),
            volumes.iter().flat_map(|v| v.0.values()),
            &filter,
        );
        tracing::debug!(vendor = VENDOR, project = %project.id, selected = selected.len(), "resolved resourcesFrom.rsServer");
        Ok(Listing {
            resources: selected,
            listed_at: wall_clock(oldest),
        })
    }

    /// Forget every cached list: the next `resolve` lists again (for a caller that must see
    /// the vendor as it is now, such as an observe with `ctx.fresh`).
    pub fn invalidate(&self) {
        self.projects.invalidate();
        for inventory in self.inventories.lock().unwrap().values() {
            inventory.servers.invalidate();
            inventory.volumes.invalidate();
        }
    }

    fn inventory(&self, project_id: &str) -> Arc<ProjectInventory> {
        let mut all = self.inventories.lock().unwrap();
        all.entry(project_id.to_string())
            .or_insert_with(|| {
                Arc::new(ProjectInventory {
                    servers: Collection::new(self.ttl),
                    volumes: Collection::new(self.ttl),
                })
            })
            .clone()
    }

    async fn list_projects(&self) -> VendorResult<Vec<(String, TrsProject)>> {
        Ok(keyed(self.client.projects().await?, |p| &p.id))
    }

    async fn list_servers(&self, project_id: &str) -> VendorResult<Vec<(String, TrsServer)>> {
        Ok(keyed(self.client.servers(project_id).await?, |s| &s.id))
    }

    async fn list_user_volumes(&self, project_id: &str) -> VendorResult<Vec<(String, UserVolume)>> {
        Ok(keyed(self.client.user_volumes(project_id).await?, |v| {
            &v.assignment_id
        }))
    }
}

/// A collection the selection needs and when it was listed (`None`, without a vendor call,
/// when it does not).
async fn read_if<T: Clone, Fut>(
    wanted: bool,
    collection: &Collection<T>,
    load: impl FnOnce() -> Fut,
) -> VendorResult<Option<(Arc<BTreeMap<String, T>>, Instant)>>
where
    Fut: Future<Output = VendorResult<Vec<(String, T)>>>,
{
    match wanted {
        true => collection.get_listed(false, load).await.map(Some),
        false => Ok(None),
    }
}

/// The wall-clock time of a monotonic instant in the past (status keeps wall-clock times, so
/// they survive a restart of the operator).
fn wall_clock(at: Instant) -> jiff::Timestamp {
    let ago = jiff::SignedDuration::try_from(at.elapsed()).unwrap_or_default();
    jiff::Timestamp::now() - ago
}

/// A listed collection as `Collection` stores it: each item under its vendor id.
fn keyed<T>(items: Vec<T>, id: impl Fn(&T) -> &String) -> Vec<(String, T)> {
    items.into_iter().map(|x| (id(&x).clone(), x)).collect()
}

#[async_trait]
impl VendorRuntime for RsServerRuntime {
    fn provider_type(&self) -> ProviderType {
        ProviderType::RsServer
    }

    /// `GET /v1/info` with the session's token: proves endpoint and credentials, and reports the
    /// module version and licence.
    async fn check(&self) -> VendorResult<ProviderObservation> {
        let info = self.client.info().await?;
        let now = jiff::Timestamp::now();
        Ok(ProviderObservation {
            version: info.version,
            license: info
                .license
                .map(|l| models::describe_license(&l, now.as_second())),
            last_authenticated: Some(now.to_string()),
            users: None,
        })
    }

    /// An inventory: no managed kind of its own.
    fn adapters(&self) -> &Adapters {
        static NONE: std::sync::OnceLock<Adapters> = std::sync::OnceLock::new();
        NONE.get_or_init(Adapters::new)
    }

    async fn shutdown(&self) {
        self.client.session().logout().await;
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
