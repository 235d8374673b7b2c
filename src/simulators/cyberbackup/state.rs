//! The simulated installation's data: resources, plans, applications (with their deployment
//! and run state machine), credentials, archives and backups, on a clock tests can move.

use std::collections::BTreeMap;
use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::patch::PatchSemantics;
use super::plan_settings::Known;

/// Behaviour knobs, settable through `/_sim/cyberbackup/config`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct SimConfig {
    /// Seconds (on the simulated clock) from apply to `DEPLOYED`.
    pub deploy_seconds: i64,
    /// Seconds a run takes.
    pub run_seconds: i64,
    /// How long a token is accepted. The document says two hours (§2.4).
    pub token_lifetime_seconds: i64,
    /// What `/idp/token` answers as `expires_in`. The document's example says 86399 (§2.5.2),
    /// contradicting the two hours it enforces.
    pub advertised_expires_in: i64,
    /// Answer applications with §2.9's upper-case keys and lower-case values.
    pub legacy_casing: bool,
    /// Page size when a list call sends no `limit` (GUESS: the default is in the missing
    /// reference).
    pub default_limit: usize,
    /// Runs end with status `ERROR` instead of `OK` (every run; see `SimState::fail_runs` for
    /// the next runs of one plan).
    pub fail_runs: bool,
    /// The administrator accounts: username → password.
    pub users: BTreeMap<String, String>,
    /// How `PATCH /policies/{id}` combines settings (the document does not say).
    pub patch_semantics: PatchSemantics,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            deploy_seconds: 2,
            run_seconds: 5,
            token_lifetime_seconds: 2 * 60 * 60,
            advertised_expires_in: 86399,
            legacy_casing: false,
            default_limit: 100,
            fail_runs: false,
            users: [("admin".to_string(), "admin-password".to_string())]
                .into_iter()
                .collect(),
            patch_semantics: PatchSemantics::default(),
        }
    }
}

#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct SimResource {
    pub id: String,
    pub name: String,
    pub user_defined_name: String,
    #[serde(rename = "type")]
    pub type_: String,
    pub agent_id: String,
    pub tenant_id: String,
    pub created_at: String,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct SimPolicy {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub type_: String,
    pub enabled: bool,
    pub settings: Value,
    pub tenant_id: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct SimRun {
    pub started: Timestamp,
    pub ends: Timestamp,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct SimApplication {
    pub id: String,
    pub policy_id: String,
    pub context_id: String,
    pub context_type: String,
    pub agent_id: String,
    pub enabled: bool,
    pub deployed_at: Timestamp,
    pub run: Option<SimRun>,
    pub status: String,
    pub last_runtime: Option<Timestamp>,
    pub last_success_time: Option<Timestamp>,
    pub created_at: String,
    pub updated_at: String,
    /// The plan's schedule has been run up to here (scheduled starts after it are still due).
    pub schedule_checked: Timestamp,
    /// The next scheduled start after `schedule_checked`, and the plan's `updated_at` it was
    /// computed for (so a read of many applications does not walk every schedule).
    #[serde(skip)]
    pub next_start: Option<(String, Option<Timestamp>)>,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct SimCredentials {
    pub id: String,
    pub scope_type: String,
    pub subtype: String,
    pub description: String,
    pub identity: String,
    /// Kept to prove what was registered; never answered.
    #[serde(skip)]
    pub secret: String,
    pub created_at: String,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct SimArchive {
    pub id: String,
    pub name: String,
    pub vault_id: String,
    pub vault_name: String,
    pub storage_type: String,
    pub size: i64,
    pub policy_id: String,
    pub context_id: String,
    pub last_backup_created_at: String,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct SimBackup {
    pub backup_id: String,
    pub vault_id: String,
    pub archive_id: String,
    pub created_at: String,
    pub size: i64,
    pub resource_id: String,
    #[serde(rename = "type")]
    pub type_: String,
}

/// Everything the installation holds.
#[derive(Serialize, Default, Debug)]
pub struct World {
    pub resources: BTreeMap<String, SimResource>,
    pub policies: BTreeMap<String, SimPolicy>,
    pub applications: BTreeMap<String, SimApplication>,
    pub credentials: BTreeMap<String, SimCredentials>,
    pub archives: BTreeMap<String, SimArchive>,
    pub backups: Vec<SimBackup>,
    /// Finished runs as tasks (§2.10.8), oldest first.
    pub tasks: Vec<super::runs::SimTask>,
    /// Plans told to fail their next runs: plan id → (runs left, message).
    pub failing: BTreeMap<String, (u32, String)>,
    /// Issued tokens: token → (epoch, expires at).
    #[serde(skip)]
    pub tokens: BTreeMap<String, (u64, Timestamp)>,
}

impl Known for World {
    fn credentials(&self, id: &str) -> bool {
        self.credentials.contains_key(&id.to_ascii_lowercase())
    }
}

/// The installation: its data, its knobs and its clock.
pub struct SimState {
    pub world: Mutex<World>,
    pub config: Mutex<SimConfig>,
    offset: Mutex<SignedDuration>,
}

/// A new id in the vendor's form (a lower-case UUID).
pub fn new_id() -> String {
    let b: [u8; 16] = rand::rng().random();
    let h = hex::encode(b);
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

/// A stable UUID-shaped id derived from a name (vault ids, which the document shows as UUIDs
/// the client never chooses).
pub fn id_for(name: &str) -> String {
    use sha2::Digest;
    let h = hex::encode(sha2::Sha256::digest(name.as_bytes()));
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// RFC 3339 with nanoseconds, as the vendor prints `created_at`.
pub fn stamp(t: Timestamp) -> String {
    t.to_string()
}

impl SimState {
    pub fn new(config: SimConfig) -> Self {
        SimState {
            world: Mutex::new(World::default()),
            config: Mutex::new(config),
            offset: Mutex::new(SignedDuration::ZERO),
        }
    }

    /// The simulated time.
    pub fn now(&self) -> Timestamp {
        Timestamp::now() + *self.offset.lock().unwrap()
    }

    /// Move the clock forward: deployments finish, runs end, tokens expire.
    pub fn advance(&self, by: SignedDuration) {
        *self.offset.lock().unwrap() += by;
    }

    /// Read the world as it is now (what the clock says happened applied first).
    pub fn read<T>(&self, f: impl FnOnce(&World) -> T) -> T {
        self.tick();
        f(&self.world.lock().unwrap())
    }

    pub fn config(&self) -> SimConfig {
        self.config.lock().unwrap().clone()
    }

    /// Finish every deployment and run now.
    pub fn settle(&self) {
        let now = self.now();
        let mut w = self.world.lock().unwrap();
        for a in w.applications.values_mut() {
            a.deployed_at = a.deployed_at.min(now);
            if let Some(r) = a.run.as_mut() {
                r.ends = r.ends.min(now);
            }
        }
        drop(w);
        self.tick();
    }

    /// Apply what the clock says happened, in order: scheduled runs start (§2.10.3 schedules,
    /// see `runs`), runs that ended get their outcome, task, archive and backups. Called before
    /// every read.
    pub fn tick(&self) {
        let now = self.now();
        let config = self.config();
        let mut w = self.world.lock().unwrap();
        super::runs::catch_up(&mut w, now, &config);
    }

    /// Register a resource as an agent would; its new id.
    pub fn add_resource(&self, name: &str, type_: &str) -> String {
        self.add_resource_with_id(&new_id(), name, type_)
    }

    /// Register a resource under a known id (the document's example ids, for fixtures).
    pub fn add_resource_with_id(&self, id: &str, name: &str, type_: &str) -> String {
        let id = id.to_ascii_lowercase();
        let r = SimResource {
            id: id.clone(),
            name: name.to_string(),
            user_defined_name: name.to_string(),
            type_: type_.to_string(),
            agent_id: new_id(),
            tenant_id: "00000000-0000-0000-0000-000000000000".into(),
            created_at: stamp(self.now()),
        };
        self.world.lock().unwrap().resources.insert(id.clone(), r);
        id
    }
}

/// GUESS: a run whose destination names a credentials record that no longer exists cannot
/// write, and fails (the document does not say what happens to plans when a record is deleted).
pub(super) fn destination_reachable(w: &World, policy_id: &str) -> bool {
    let credentials = w
        .policies
        .get(policy_id)
        .and_then(|p| {
            p.settings
                .pointer("/destination/location/settings/credentials")
        })
        .and_then(Value::as_str)
        .unwrap_or_default();
    credentials.is_empty()
        || w.credentials
            .contains_key(&credentials.to_ascii_lowercase())
}

/// The plan's retention rules, from `destination.retention` (or beside `destination`, as the
/// create example has it).
fn retention_rules(settings: &Value) -> Vec<Value> {
    settings
        .pointer("/destination/retention/rules")
        .or_else(|| settings.pointer("/retention/rules"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// GUESS: how retention prunes (`execution: AFTER_BACKUP`): after each backup, an archive keeps
/// its newest `max_count` backups, and drops backups older than the longest `max_age`. The
/// simulator does not sort backups into daily, weekly and monthly sets, so a `backup_set` only
/// names which rule it is. Without rules, every backup is kept.
fn prune(w: &mut World, archive_id: &str, rules: &[Value], now: Timestamp) {
    let count = rules
        .iter()
        .filter_map(|r| r.get("max_count")?.as_u64())
        .max();
    let age = rules
        .iter()
        .filter_map(|r| {
            let a = r.get("max_age")?;
            let n = a.get("count")?.as_i64()?;
            let hours = match a.get("type")?.as_str()? {
                "HOURS" => 1,
                "DAYS" => 24,
                "WEEKS" => 24 * 7,
                _ => 24 * 31,
            };
            Some(SignedDuration::from_hours(n.saturating_mul(hours)))
        })
        .max();
    if count.is_none() && age.is_none() {
        return;
    }
    let mut kept: Vec<&SimBackup> = w
        .backups
        .iter()
        .filter(|b| b.archive_id == archive_id)
        .collect();
    kept.sort_by(|a, b| b.created_at.cmp(&a.created_at));
    let drop: Vec<String> = kept
        .iter()
        .enumerate()
        .filter(|(i, b)| {
            count.is_some_and(|n| *i as u64 >= n)
                || age.is_some_and(|a| b.created_at.parse::<Timestamp>().is_ok_and(|t| t < now - a))
        })
        .map(|(_, b)| b.backup_id.clone())
        .collect();
    w.backups.retain(|b| !drop.contains(&b.backup_id));
}

/// A completed run leaves a backup in the archive of (plan, resource) at the plan's destination:
/// the archive reports that location as its `vault` (`id`, `name`, `storage_type`, L4378) and
/// the backup the same `vault_id` (L4551). GUESS: an archive is a file in one location
/// (§2.10.6), so a plan moved to another destination starts a new archive there.
pub(super) fn record_backup(w: &mut World, policy_id: &str, context_id: &str, at: Timestamp) {
    let Some(policy) = w.policies.get(policy_id) else {
        return;
    };
    let location = policy
        .settings
        .pointer("/destination/location/settings")
        .cloned()
        .unwrap_or(Value::Null);
    let text = |k: &str| location.get(k).and_then(Value::as_str).map(str::to_string);
    // GUESS: the location's `name` (a folder template's `path`) is what its archives report as
    // `vault.name`; the document never shows a plan and an archive of the same location.
    let vault_name = text("name")
        .or_else(|| text("path"))
        .unwrap_or_else(|| "default".into());
    // GUESS: archives report the location's storage type as their vault's.
    let storage_type = text("storage_type").unwrap_or_else(|| "LOCAL_FOLDER".into());
    let vault_id = id_for(&vault_name);
    let archive_key = format!("{policy_id}/{context_id}/{vault_id}");
    let first = !w.archives.contains_key(&archive_key);
    let archive = w.archives.entry(archive_key).or_insert_with(|| SimArchive {
        id: new_id(),
        name: format!("{context_id}-{policy_id}A"),
        vault_id: vault_id.clone(),
        vault_name: vault_name.clone(),
        storage_type,
        size: 0,
        policy_id: policy_id.to_string(),
        context_id: context_id.to_string(),
        last_backup_created_at: String::new(),
    });
    let size = if first { 24576 } else { 4096 };
    archive.size += size;
    archive.last_backup_created_at = at.to_string();
    let archive_id = archive.id.clone();
    w.backups.push(SimBackup {
        backup_id: new_id(),
        vault_id,
        archive_id: archive_id.clone(),
        created_at: at.to_string(),
        size,
        // The document prints resource ids of backups in upper case.
        resource_id: context_id.to_ascii_uppercase(),
        type_: if first { "FULL" } else { "INCREMENTAL" }.into(),
    });
    let rules = retention_rules(&w.policies[policy_id].settings);
    prune(w, &archive_id, &rules, at);
}
