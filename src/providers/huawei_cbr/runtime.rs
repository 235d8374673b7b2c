//! The CBR vendor runtime: one client (session, budget) and one shared snapshot of the vault
//! and policy collections per provider configuration, used by both adapters.

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::backup_runs;
use super::checkpoint::CbrCheckpoints;
use super::client::CbrClient;
use super::models::{
    Backup, BackupFilter, OperationLog, OperationLogFilter, Policy, PolicyFilter, Vault,
    VaultFilter,
};
use super::policy::CbrPolicies;
use super::restore::CbrRestores;
use super::vault::CbrVaults;
use crate::api::provider_config::{ProviderObservation, ProviderType};
use crate::api::{Policy as PolicyCr, Vault as VaultCr};
use crate::engine::adapters::Adapters;
use crate::engine::hub::{ResolvedProvider, VendorRuntime};
use crate::health::BackupRun;
use crate::vendor::error::VendorResult;
use crate::vendor::snapshot::{Collection, Derived};

/// What both adapters share.
pub struct CbrShared {
    pub client: CbrClient,
    pub vaults: Collection<Vault>,
    pub policies: Collection<Policy>,
    /// Vault id -> the policy applied to it, per policy listing.
    bindings: Derived<BTreeMap<String, Policy>, HashMap<String, String>>,
    /// Resource id -> the vault holding it, per vault listing.
    holders: Derived<BTreeMap<String, Vault>, HashMap<String, Holder>>,
    /// Resources CBR refused to add to a vault because some vault holds them (6103) although
    /// the listing showed none: vault id -> resource id -> when. Not asked again for a while.
    refused: Mutex<HashMap<String, HashMap<String, Instant>>>,
    /// The provider's poll interval.
    pub poll_interval: Duration,
    /// Every backup of the project and the backup tasks of the last `TASK_WINDOW`: listed
    /// once per poll interval for the backup health of every Vault.
    pub backups: Collection<Backup>,
    pub backup_tasks: Collection<OperationLog>,
    /// Vault id -> its backups, and its backup tasks, per listing.
    backups_by_vault: Derived<BTreeMap<String, Backup>, HashMap<String, Vec<Backup>>>,
    tasks_by_vault: Derived<BTreeMap<String, OperationLog>, HashMap<String, Vec<OperationLog>>>,
}

/// How far back backup tasks are listed. A failure older than a week is not the newest run of
/// any schedule rampart can express that still matters; the backups themselves are all listed.
const TASK_WINDOW: jiff::SignedDuration = jiff::SignedDuration::from_hours(7 * 24);

/// The vault a resource sits in, by a vault listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub vault_id: String,
    pub vault_name: String,
}

/// How many poll intervals a refusal without a visible holder is remembered before rampart
/// tries that resource again.
const REFUSAL_MEMORY_POLLS: u32 = 10;

impl CbrShared {
    /// All vaults of the project (paged list; cached for the poll interval).
    pub async fn vaults(&self, fresh: bool) -> VendorResult<Arc<BTreeMap<String, Vault>>> {
        self.vaults
            .get(fresh, || async {
                let all = self.client.list_vaults(&VaultFilter::default()).await?;
                Ok(all.into_iter().map(|v| (v.id.clone(), v)).collect())
            })
            .await
    }

    /// All policies of the project (one unpaged call; cached for the poll interval).
    pub async fn policies(&self, fresh: bool) -> VendorResult<Arc<BTreeMap<String, Policy>>> {
        self.policies
            .get(fresh, || async {
                let all = self.client.list_policies(&PolicyFilter::default()).await?;
                Ok(all.into_iter().map(|p| (p.id.clone(), p)).collect())
            })
            .await
    }

    /// Vault id -> the policy applied to it, built once per policy listing (every Vault of a
    /// resync asks; a scan of every policy per Vault made the resync quadratic).
    pub async fn bindings(&self) -> VendorResult<Arc<HashMap<String, String>>> {
        let policies = self.policies(false).await?;
        Ok(self.bindings.get(&policies, bindings))
    }

    /// Every backup of the project (paged; cached for the poll interval).
    pub async fn backups(&self) -> VendorResult<Arc<BTreeMap<String, Backup>>> {
        self.backups
            .get(false, || async {
                let all = self.client.list_backups(&BackupFilter::default()).await?;
                Ok(all.into_iter().map(|b| (b.id.clone(), b)).collect())
            })
            .await
    }

    /// The backup tasks of the last `TASK_WINDOW` (paged, filtered by CBR; cached for the
    /// poll interval).
    pub async fn backup_tasks(&self) -> VendorResult<Arc<BTreeMap<String, OperationLog>>> {
        self.backup_tasks
            .get(false, || async {
                let filter = OperationLogFilter {
                    operation_type: Some("backup".into()),
                    start_time: jiff::Timestamp::now().checked_sub(TASK_WINDOW).ok(),
                    ..Default::default()
                };
                let all = self.client.list_operation_logs(&filter).await?;
                Ok(all.into_iter().map(|t| (t.id.clone(), t)).collect())
            })
            .await
    }

    /// One vault's backup runs and the number of backups it holds, from the shared listings
    /// (grouped once per listing: every Vault of a resync asks).
    pub async fn vault_runs(&self, vault_id: &str) -> VendorResult<(Vec<BackupRun>, usize)> {
        let (backups, tasks) = tokio::try_join!(self.backups(), self.backup_tasks())?;
        let backups = self.backups_by_vault.get(&backups, |b| {
            by_vault(b.values(), |b: &Backup| b.vault_id.clone())
        });
        let tasks = self.tasks_by_vault.get(&tasks, |t| {
            by_vault(t.values(), |t: &OperationLog| t.vault_id.clone())
        });
        let held = backups.get(vault_id).map_or(&[][..], Vec::as_slice);
        let ran = tasks.get(vault_id).map_or(&[][..], Vec::as_slice);
        Ok((backup_runs::vault_runs(held, ran), held.len()))
    }

    /// Resource id -> the vault that holds it, built once per vault listing.
    pub async fn holders(&self) -> VendorResult<Arc<HashMap<String, Holder>>> {
        let vaults = self.vaults(false).await?;
        Ok(self.holders.get(&vaults, holders))
    }

    /// Remember that CBR refused `resources` for `vault_id` (6103).
    pub fn record_refused(&self, vault_id: &str, resources: &[String]) {
        if resources.is_empty() {
            return;
        }
        let now = Instant::now();
        let mut refused = self.refused.lock().unwrap();
        let entry = refused.entry(vault_id.to_string()).or_default();
        for id in resources {
            entry.insert(id.clone(), now);
        }
    }

    /// Resources CBR refused for `vault_id` recently (see `record_refused`).
    pub fn recently_refused(&self, vault_id: &str) -> Vec<String> {
        let memory = self.poll_interval * REFUSAL_MEMORY_POLLS;
        let mut refused = self.refused.lock().unwrap();
        let Some(entry) = refused.get_mut(vault_id) else {
            return Vec::new();
        };
        entry.retain(|_, at| at.elapsed() < memory);
        let mut ids: Vec<String> = entry.keys().cloned().collect();
        ids.sort();
        ids
    }

    /// Record a binding change in the cached policies, so the next observe sees it.
    pub fn record_binding(
        &self,
        policies: &BTreeMap<String, Policy>,
        vault_id: &str,
        policy_id: &str,
        bound: bool,
    ) {
        if let Some(p) = policies.get(policy_id) {
            let mut p = p.clone();
            p.associated_vaults.retain(|a| a.vault_id != vault_id);
            if bound {
                p.associated_vaults.push(super::models::AssociatedVault {
                    vault_id: vault_id.to_string(),
                    destination_vault_id: None,
                });
            }
            self.policies.upsert(policy_id.to_string(), p);
        }
    }
}

/// Items grouped by the vault they name (CBR often leaves a task's vault empty: such a task
/// is no one's).
fn by_vault<'a, T: Clone + 'a>(
    items: impl Iterator<Item = &'a T>,
    vault: impl Fn(&T) -> Option<String>,
) -> HashMap<String, Vec<T>> {
    let mut grouped: HashMap<String, Vec<T>> = HashMap::new();
    for item in items {
        if let Some(v) = vault(item) {
            grouped.entry(v).or_default().push(item.clone());
        }
    }
    grouped
}

/// Resource id -> the vault a listing shows it in.
pub fn holders(vaults: &BTreeMap<String, Vault>) -> HashMap<String, Holder> {
    let mut held = HashMap::new();
    for v in vaults.values() {
        for r in &v.resources {
            held.entry(r.id.clone()).or_insert_with(|| Holder {
                vault_id: v.id.clone(),
                vault_name: v.name.clone(),
            });
        }
    }
    held
}

/// Vault id -> the policy CBR reports as applied to it (the first by policy id, should CBR
/// report more than one).
pub fn bindings(policies: &BTreeMap<String, Policy>) -> HashMap<String, String> {
    let mut bound = HashMap::new();
    for p in policies.values() {
        for a in &p.associated_vaults {
            bound
                .entry(a.vault_id.clone())
                .or_insert_with(|| p.id.clone());
        }
    }
    bound
}

pub struct CbrRuntime {
    shared: Arc<CbrShared>,
    adapters: Adapters,
    /// The one-shot kinds: restore points (Backup) and restores (Restore).
    checkpoints: CbrCheckpoints,
    restores: CbrRestores,
}

impl CbrRuntime {
    pub fn new(client: CbrClient, p: &ResolvedProvider) -> Self {
        let ttl = p.poll_interval();
        let shared = Arc::new(CbrShared {
            client,
            vaults: Collection::new(ttl),
            policies: Collection::new(ttl),
            bindings: Derived::default(),
            holders: Derived::default(),
            refused: Mutex::new(HashMap::new()),
            poll_interval: ttl,
            backups: Collection::new(ttl),
            backup_tasks: Collection::new(ttl),
            backups_by_vault: Derived::default(),
            tasks_by_vault: Derived::default(),
        });
        CbrRuntime {
            checkpoints: CbrCheckpoints::new(shared.client.clone()),
            restores: CbrRestores::new(shared.client.clone()),
            adapters: Adapters::new()
                .with::<VaultCr>(CbrVaults::new(shared.clone()))
                .with::<PolicyCr>(CbrPolicies::new(shared.clone())),
            shared,
        }
    }

    pub fn shared(&self) -> &Arc<CbrShared> {
        &self.shared
    }
}

#[async_trait]
impl VendorRuntime for CbrRuntime {
    fn provider_type(&self) -> ProviderType {
        ProviderType::HuaweiCbr
    }

    /// One authenticated page of vaults: proves endpoint, credentials and project.
    async fn check(&self) -> VendorResult<ProviderObservation> {
        self.shared
            .client
            .list_vaults_page(&VaultFilter::default(), 1, 0)
            .await?;
        Ok(ProviderObservation {
            version: Some("CBR v3".into()),
            ..Default::default()
        })
    }

    fn adapters(&self) -> &Adapters {
        &self.adapters
    }

    fn backup_taker(&self) -> Option<&dyn crate::oneshot::BackupTaker> {
        Some(&self.checkpoints)
    }

    fn restorer(&self) -> Option<&dyn crate::oneshot::Restorer> {
        Some(&self.restores)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Connect a `type: HuaweiCbr` provider configuration.
pub fn connect(p: &ResolvedProvider) -> VendorResult<Arc<dyn VendorRuntime>> {
    let client = CbrClient::connect(p)?;
    Ok(Arc::new(CbrRuntime::new(client, p)))
}
