//! What one runtime shares between its adapters: the client and the vendor collections,
//! each listed page by page once per poll interval (single flight) and updated in place after
//! rampart's own writes, so a steady-state resync costs list pages, not one GET per object.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::backup_runs::{PlanBackups, index_backups};
use super::client::Client;
use super::filter::{Filter, Query};
use super::location_runs::{LocationBackups, index_locations};
use super::models::{
    Application, Archive, Backup, Credentials, Plan, Resource, Task, meaningful_time, plan_id,
};
use super::plan_patch::Semantics;
use super::registration::Registrations;
use super::rotation::Rotations;
use super::run::StartedRun;
use crate::engine::hub::SecretString;
use crate::vendor::error::VendorResult;
use crate::vendor::snapshot::{Collection, Derived};

/// Archives of one destination, keyed by the destination's name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ArchiveSummary {
    pub vault_id: String,
    pub storage_type: Option<String>,
    pub archives: i64,
    pub bytes: i64,
    pub last_backup: Option<String>,
}

/// Backups of one vault, keyed by vault id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BackupSummary {
    pub backups: i64,
    pub last_backup: Option<String>,
}

type Shared<T> = Arc<BTreeMap<String, T>>;

/// The listings an index was built from (held, so a listing is never mistaken for another),
/// and the index.
type PlanIndex = (
    Shared<Archive>,
    Shared<Backup>,
    Shared<Task>,
    Arc<PlanBackups>,
);

/// The listings a location index was built from and the index. Held weakly, unlike `PlanIndex`:
/// the plans take write-throughs, which would copy a strongly held listing; a written listing
/// is another allocation, so the index is built again.
type LocationIndex = (
    std::sync::Weak<BTreeMap<String, Archive>>,
    std::sync::Weak<BTreeMap<String, Backup>>,
    std::sync::Weak<BTreeMap<String, Plan>>,
    Arc<LocationBackups>,
);

/// How far back the task listing goes: a week of runs and a day more.
const TASK_DAYS: i64 = 8;

/// The vendor state one runtime keeps.
pub struct Catalog {
    pub client: Client,
    pub tenant_id: String,
    pub agent_time_zone: String,
    /// Key of the write-only credentials hash (the provider's password, which readers of a
    /// Vault's status do not have), so a hash in status cannot be brute-forced offline.
    pub hash_key: SecretString,
    ttl: Duration,
    plans: Collection<Plan>,
    applications: Collection<Vec<Application>>,
    resources: Collection<Resource>,
    /// Every archive, by id; summed per destination once per listing.
    archives: Collection<Archive>,
    archive_summaries: Derived<BTreeMap<String, Archive>, BTreeMap<String, ArchiveSummary>>,
    /// Every backup, by id; counted per vault once per listing.
    backups: Collection<Backup>,
    backup_summaries: Derived<BTreeMap<String, Backup>, BTreeMap<String, BackupSummary>>,
    /// Backup tasks of the last days, by id (for the message of a failed run).
    tasks: Collection<Task>,
    /// Backups and failed tasks by plan, built once per listing.
    plan_index: Mutex<Option<PlanIndex>>,
    /// Backups and writing plans by location, built once per listing.
    location_index: Mutex<Option<LocationIndex>>,
    /// The task listing when it cannot be read (one value, so the index is kept).
    no_tasks: Shared<Task>,
    credentials: Mutex<HashMap<String, (Instant, Option<Credentials>)>>,
    /// Runs started by update, by plan id.
    pub runs: Mutex<HashMap<String, StartedRun>>,
    /// Warnings of the last 200 answer to a write, by plan id.
    pub warnings: Mutex<HashMap<String, Vec<String>>>,
    /// Credentials records registered and replaced by this runtime.
    pub rotations: Rotations,
    /// How the server combines PATCH bodies, once a PATCH has shown it.
    pub semantics: Mutex<Option<Semantics>>,
    /// How many times each (object marker, target id) was looked for and not found.
    pub unknown_targets: Mutex<HashMap<(String, String), u32>>,
    /// Credentials registrations, kept until their answers come (there is no list call).
    pub registrations: Registrations,
}

impl Catalog {
    pub fn new(
        client: Client,
        tenant_id: String,
        agent_time_zone: String,
        hash_key: SecretString,
        ttl: Duration,
    ) -> Self {
        Catalog {
            client,
            tenant_id,
            agent_time_zone,
            hash_key,
            ttl,
            plans: Collection::new(ttl),
            applications: Collection::new(ttl),
            resources: Collection::new(ttl),
            archives: Collection::new(ttl),
            archive_summaries: Derived::default(),
            backups: Collection::new(ttl),
            backup_summaries: Derived::default(),
            tasks: Collection::new(ttl),
            plan_index: Mutex::new(None),
            location_index: Mutex::new(None),
            no_tasks: Arc::new(BTreeMap::new()),
            credentials: Mutex::new(HashMap::new()),
            runs: Mutex::new(HashMap::new()),
            warnings: Mutex::new(HashMap::new()),
            rotations: Rotations::default(),
            semantics: Mutex::new(None),
            unknown_targets: Mutex::new(HashMap::new()),
            registrations: Registrations::default(),
        }
    }

    /// Every plan, by lower-cased id. Soft-deleted plans (`deleted_at` set) are gone.
    pub async fn plans(&self, fresh: bool) -> VendorResult<Shared<Plan>> {
        self.plans
            .get(fresh, || async {
                let all: Vec<Plan> = self
                    .client
                    .list_all("GET /policies", "/policies", &Query::new(), Some("policy"))
                    .await?;
                Ok(all
                    .into_iter()
                    .filter(|p| p.deleted_at.is_none())
                    .map(|p| (plan_id(&p.id), p))
                    .collect())
            })
            .await
    }

    /// One plan with its settings, read now (`GET /policies/{id}?include_settings=true`, a
    /// one-item list, §2.10.3.9), and recorded in the shared collection; `None` when gone.
    pub async fn read_plan(&self, id: &str) -> VendorResult<Option<Plan>> {
        let q = Query::new().param("include_settings", "true");
        let plans: Vec<Plan> = match self
            .client
            .list_all(
                "GET /policies/{id}",
                &format!("/policies/{id}"),
                &q,
                Some("policy"),
            )
            .await
        {
            Ok(p) => p,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        let plan = plans.into_iter().find(|p| plan_id(&p.id) == id);
        if let Some(p) = &plan {
            self.upsert_plan(p.clone());
        }
        Ok(plan)
    }

    pub fn upsert_plan(&self, plan: Plan) {
        self.plans.upsert(plan_id(&plan.id), plan);
    }

    pub fn remove_plan(&self, id: &str) {
        self.plans.remove(id);
        self.applications.remove(id);
    }

    /// Every policy application, grouped by lower-cased plan id.
    pub async fn applications(&self, fresh: bool) -> VendorResult<Shared<Vec<Application>>> {
        self.applications
            .get(fresh, || async {
                let all: Vec<Application> = self
                    .client
                    .list_all(
                        "GET /policy_applications",
                        "/policy_applications",
                        &Query::new(),
                        None,
                    )
                    .await?;
                Ok(group_by_plan(all).into_iter().collect())
            })
            .await
    }

    /// The applications of one plan, from the shared collection.
    pub async fn applications_of(&self, id: &str, fresh: bool) -> VendorResult<Vec<Application>> {
        Ok(self
            .applications(fresh)
            .await?
            .get(id)
            .cloned()
            .unwrap_or_default())
    }

    /// The applications of one plan, read now (the document's polling call, §2.9.2.1), and
    /// recorded in the shared collection.
    pub async fn plan_applications(&self, id: &str) -> VendorResult<Vec<Application>> {
        let q = Query::new().filter("policy_id", Filter::Eq(id.to_string()));
        let apps: Vec<Application> = self
            .client
            .list_all("GET /policy_applications", "/policy_applications", &q, None)
            .await?;
        let apps = group_by_plan(apps).remove(id).unwrap_or_default();
        self.applications.upsert(id.to_string(), apps.clone());
        Ok(apps)
    }

    /// Every resource, by lower-cased id.
    pub async fn resources(&self, fresh: bool) -> VendorResult<Shared<Resource>> {
        self.resources
            .get(fresh, || async {
                let all: Vec<Resource> = self
                    .client
                    .list_all("GET /resources", "/resources", &Query::new(), None)
                    .await?;
                Ok(all
                    .into_iter()
                    .map(|r| (r.id.to_ascii_lowercase(), r))
                    .collect())
            })
            .await
    }

    /// Every archive, by id.
    pub async fn archive_list(&self, fresh: bool) -> VendorResult<Shared<Archive>> {
        self.archives
            .get(fresh, || async {
                let all: Vec<Archive> = self
                    .client
                    .list_all("GET /archives", "/archives", &Query::new(), None)
                    .await?;
                Ok(all.into_iter().map(|a| (a.id.clone(), a)).collect())
            })
            .await
    }

    /// Archives summed per destination name.
    pub async fn archives(&self, fresh: bool) -> VendorResult<Shared<ArchiveSummary>> {
        let all = self.archive_list(fresh).await?;
        Ok(self.archive_summaries.get(&all, |m| {
            summarize_archives(&m.values().cloned().collect::<Vec<_>>())
        }))
    }

    /// Every backup, by id.
    pub async fn backup_list(&self, fresh: bool) -> VendorResult<Shared<Backup>> {
        self.backups
            .get(fresh, || async {
                let all: Vec<Backup> = self
                    .client
                    .list_all("GET /backups", "/backups", &Query::new(), None)
                    .await?;
                Ok(all.into_iter().map(|b| (b.backup_id.clone(), b)).collect())
            })
            .await
    }

    /// Backups counted per vault id.
    pub async fn backups(&self, fresh: bool) -> VendorResult<Shared<BackupSummary>> {
        let all = self.backup_list(fresh).await?;
        Ok(self.backup_summaries.get(&all, |m| {
            summarize_backups(&m.values().cloned().collect::<Vec<_>>())
        }))
    }

    /// Tasks started in the last `TASK_DAYS` days, by id (`GET /tasks?started_at=ge(…)`,
    /// §2.6 filters; the document's reference of task parameters is a dead link).
    pub async fn tasks(&self, fresh: bool) -> VendorResult<Shared<Task>> {
        self.tasks
            .get(fresh, || async {
                let since =
                    jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * TASK_DAYS);
                let q = Query::new().filter("started_at", Filter::Ge(since.to_string()));
                let all: Vec<Task> = self
                    .client
                    .list_all("GET /tasks", "/tasks", &q, None)
                    .await?;
                Ok(all.into_iter().map(|t| (t.id.clone(), t)).collect())
            })
            .await
    }

    /// Backups, archives and tasks of every plan, listed once per poll and indexed once per
    /// listing: what backup health reads for each Policy.
    pub async fn plan_backups(&self, fresh: bool) -> VendorResult<Arc<PlanBackups>> {
        let archives = self.archive_list(fresh).await?;
        let backups = self.backup_list(fresh).await?;
        // The tasks only lend a failure its message: without them, health is still judged.
        let tasks = match self.tasks(fresh).await {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(vendor = super::VENDOR, error = %e, "cannot list Cyber Backup tasks; failures are reported without their message");
                self.no_tasks.clone()
            }
        };
        let mut memo = self.plan_index.lock().unwrap();
        if let Some((a, b, t, index)) = memo.as_ref()
            && Arc::ptr_eq(a, &archives)
            && Arc::ptr_eq(b, &backups)
            && Arc::ptr_eq(t, &tasks)
        {
            return Ok(index.clone());
        }
        let index = Arc::new(index_backups(&archives, &backups, &tasks));
        *memo = Some((archives, backups, tasks, index.clone()));
        Ok(index)
    }

    /// Backups by the location their archive is stored at, and the plans writing to each
    /// location, from the archive, backup and plan listings (once per poll) and indexed once
    /// per listing: what backup health reads for each Vault.
    pub async fn location_backups(&self, fresh: bool) -> VendorResult<Arc<LocationBackups>> {
        let archives = self.archive_list(fresh).await?;
        let backups = self.backup_list(fresh).await?;
        let plans = self.plans(fresh).await?;
        let mut memo = self.location_index.lock().unwrap();
        if let Some((a, b, p, index)) = memo.as_ref()
            && same(a, &archives)
            && same(b, &backups)
            && same(p, &plans)
        {
            return Ok(index.clone());
        }
        let index = Arc::new(index_locations(&archives, &backups, &plans));
        *memo = Some((
            Arc::downgrade(&archives),
            Arc::downgrade(&backups),
            Arc::downgrade(&plans),
            index.clone(),
        ));
        Ok(index)
    }

    /// A credentials record, or `None` when it does not exist. The document has no list call
    /// for credentials, so each record is read by id, at most once per poll interval.
    pub async fn credentials(&self, id: &str, fresh: bool) -> VendorResult<Option<Credentials>> {
        let cached = self
            .credentials
            .lock()
            .unwrap()
            .get(id)
            .filter(|(at, _)| !fresh && at.elapsed() < self.ttl)
            .cloned();
        if let Some((_, c)) = cached {
            return Ok(c);
        }
        let found = match self
            .client
            .get_json::<Credentials>(
                "GET /credentials/{id}",
                format!("/credentials/{id}"),
                &Query::new(),
            )
            .await
        {
            Ok(c) => Some(c),
            Err(e) if e.is_not_found() => None,
            Err(e) => return Err(e),
        };
        self.remember_credentials(id, found.clone());
        Ok(found)
    }

    pub fn remember_credentials(&self, id: &str, c: Option<Credentials>) {
        self.credentials
            .lock()
            .unwrap()
            .insert(id.to_string(), (Instant::now(), c));
    }
}

/// Whether `listing` is the very listing `kept` was taken of.
fn same<T>(kept: &std::sync::Weak<T>, listing: &Arc<T>) -> bool {
    std::ptr::eq(kept.as_ptr(), Arc::as_ptr(listing))
}

fn group_by_plan(apps: Vec<Application>) -> BTreeMap<String, Vec<Application>> {
    let mut out: BTreeMap<String, Vec<Application>> = BTreeMap::new();
    for a in apps {
        out.entry(plan_id(&a.policy.id)).or_default().push(a);
    }
    out
}

pub fn summarize_archives(all: &[Archive]) -> BTreeMap<String, ArchiveSummary> {
    let mut out: BTreeMap<String, ArchiveSummary> = BTreeMap::new();
    for a in all.iter().filter(|a| !a.deleted) {
        let Some(vault) = &a.vault else { continue };
        let s = out.entry(vault.name.clone()).or_default();
        s.vault_id = vault.id.to_ascii_lowercase();
        s.storage_type = vault.storage_type.clone();
        s.archives += 1;
        s.bytes += a.size.unwrap_or(0);
        s.last_backup = later(
            s.last_backup.take(),
            meaningful_time(a.last_backup_created_at.as_deref()),
        );
    }
    out
}

pub fn summarize_backups(all: &[Backup]) -> BTreeMap<String, BackupSummary> {
    let mut out: BTreeMap<String, BackupSummary> = BTreeMap::new();
    for b in all.iter().filter(|b| !b.deleted) {
        let Some(vault) = &b.vault_id else { continue };
        let s = out.entry(vault.to_ascii_lowercase()).or_default();
        s.backups += 1;
        s.last_backup = later(
            s.last_backup.take(),
            meaningful_time(b.created_at.as_deref()),
        );
    }
    out
}

fn later(a: Option<String>, b: Option<String>) -> Option<String> {
    let ts = |s: &Option<String>| s.as_deref().and_then(|t| t.parse::<jiff::Timestamp>().ok());
    match (ts(&a), ts(&b)) {
        (Some(x), Some(y)) if y > x => b,
        (None, Some(_)) => b,
        _ => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn archives_and_backups_are_summed_per_vault() {
        let archives: Vec<Archive> = serde_json::from_value(json!([
            {"id": "a1", "size": 20480, "last_backup_created_at": "1970-01-01T00:00:00Z", "vault": {"id": "V1", "name": "pk-customer", "storage_type": "ONLINE"}},
            {"id": "a2", "size": 100, "last_backup_created_at": "2025-09-29T16:02:45Z", "vault": {"id": "V1", "name": "pk-customer"}},
            {"id": "a3", "size": 7, "deleted": true, "vault": {"id": "V1", "name": "pk-customer"}},
            {"id": "a4", "size": 1}
        ]))
        .unwrap();
        let s = &summarize_archives(&archives)["pk-customer"];
        assert_eq!((s.archives, s.bytes, s.vault_id.as_str()), (2, 20580, "v1"));
        assert_eq!(s.last_backup.as_deref(), Some("2025-09-29T16:02:45Z"));
        let backups: Vec<Backup> = serde_json::from_value(json!([
            {"backup_id": "b1", "vault_id": "V1", "created_at": "2025-09-29T16:02:45Z"},
            {"backup_id": "b2", "vault_id": "v1", "created_at": "2025-09-30T16:02:45Z"},
            {"backup_id": "b3", "vault_id": "v2", "created_at": "2025-09-30T16:02:45Z", "deleted": true}
        ]))
        .unwrap();
        let b = summarize_backups(&backups);
        assert_eq!(
            b["v1"],
            BackupSummary {
                backups: 2,
                last_backup: Some("2025-09-30T16:02:45Z".into())
            }
        );
        assert!(!b.contains_key("v2"));
    }
}
