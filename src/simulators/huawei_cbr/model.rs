//! The simulator's state (per project: vaults, policies, tasks; IAM tokens) and how each object
//! is rendered on the wire, field for field as the document's examples show it.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Provider ids of the document's examples.
pub const SERVER_PROVIDER: &str = "0daac4c5-6707-4851-97ba-169e36266b66";
pub const DISK_PROVIDER: &str = "d1603440-187d-4516-af25-121250c7cc97";
// GUESS (L1816): the document never shows the SFS Turbo provider id; any fixed UUID will do.
pub const TURBO_PROVIDER: &str = "a3ef3df5-4eeb-4bd3-ab64-5d9d2d4b2d16";

/// A protected resource of a vault.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SimResource {
    pub id: String,
    #[serde(rename = "type")]
    pub type_: String,
    pub name: String,
    pub size: i64,
    pub exclude_volumes: Vec<String>,
    pub protect_status: String,
}

/// A vault, with the write-only fields CBR stores but never returns.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SimVault {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub object_type: String,
    pub size: i64,
    /// MB.
    pub used: i64,
    pub status: String,
    pub resources: Vec<SimResource>,
    pub tags: Vec<(String, Option<String>)>,
    pub auto_bind: bool,
    pub bind_rules: Vec<(String, String)>,
    pub auto_expand: bool,
    pub smn_notify: Option<bool>,
    pub threshold: Option<i64>,
    pub enterprise_project_id: String,
    pub backup_name_prefix: Option<String>,
    pub charging_mode: String,
    pub cloud_type: String,
    pub is_multi_az: bool,
    pub policy_id: Option<String>,
    pub user_id: String,
    pub created_at: Timestamp,
    /// Set by a deletion: how many more reads show the vault as `deleting` before it is gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleting_reads_left: Option<u32>,
}

impl SimVault {
    /// A vault as the console creates it: empty, available.
    pub fn new(id: String, name: &str, object_type: &str, size: i64, now: Timestamp) -> Self {
        SimVault {
            id,
            name: name.to_string(),
            description: None,
            object_type: object_type.to_string(),
            size,
            used: 0,
            status: "available".into(),
            resources: Vec::new(),
            tags: Vec::new(),
            auto_bind: false,
            bind_rules: Vec::new(),
            auto_expand: false,
            // GUESS (L2494-2495): the document's defaults for the write-only fields (true, 80) are
            // kept as "not set" until a PUT sets them, so tests can tell what rampart sent.
            smn_notify: None,
            threshold: None,
            enterprise_project_id: "0".into(),
            backup_name_prefix: None,
            charging_mode: "post_paid".into(),
            cloud_type: "public".into(),
            is_multi_az: false,
            policy_id: None,
            user_id: "aa2999fa5ae640f28926f8fd79188934".into(),
            created_at: now,
            deleting_reads_left: None,
        }
    }

    /// Start deleting: the next `reads` reads show the vault as `deleting`, then it is gone.
    pub fn start_deleting(&mut self, reads: u32) {
        self.status = "deleting".into();
        self.deleting_reads_left = Some(reads);
    }

    /// A GET or a list showed this vault: a deletion in progress comes one read nearer its end.
    pub fn count_read(&mut self) {
        if let Some(left) = &mut self.deleting_reads_left {
            *left = left.saturating_sub(1);
        }
    }

    /// A deletion whose reads are used up: the vault no longer exists.
    pub fn deleted(&self) -> bool {
        self.deleting_reads_left == Some(0)
    }

    /// Allocated GB: the sizes of the protected resources.
    // GUESS (L1982, L1860): the create example shows allocated 40 for one 40 GB server; the
    // document does not define allocated further.
    pub fn allocated(&self) -> i64 {
        self.resources.iter().map(|r| r.size).sum()
    }

    /// The wire form; `create` adds the fields only the create response has.
    pub fn render(&self, project_id: &str, create: bool) -> Value {
        let (provider, spec) = match self.object_type.as_str() {
            "disk" => (DISK_PROVIDER, "vault.backup.volume.normal"),
            "turbo" => (TURBO_PROVIDER, "vault.backup.turbo.normal"),
            _ => (SERVER_PROVIDER, "vault.backup.server.normal"),
        };
        let bind_rules = if self.bind_rules.is_empty() {
            json!({})
        } else {
            json!({"tags": self.bind_rules.iter().map(|(k, v)| json!({"key": k, "value": v})).collect::<Vec<_>>()})
        };
        let mut v = json!({
            "id": self.id, "name": self.name, "description": self.description,
            "provider_id": provider, "project_id": project_id, "user_id": self.user_id,
            "enterprise_project_id": self.enterprise_project_id,
            "created_at": wire_time(self.created_at),
            "auto_bind": self.auto_bind, "bind_rules": bind_rules, "auto_expand": self.auto_expand,
            "tags": self.tags.iter().map(|(k, v)| json!({"key": k, "value": v})).collect::<Vec<_>>(),
            "resources": self.resources.iter().map(|r| json!({
                "id": r.id, "name": r.name, "type": r.type_, "protect_status": r.protect_status,
                "size": r.size, "backup_size": 0, "backup_count": 0,
                "extra_info": {"exclude_volumes": r.exclude_volumes}})).collect::<Vec<_>>(),
            "billing": {
                "allocated": self.allocated(), "used": self.used, "size": self.size, "status": self.status,
                "object_type": self.object_type, "protect_type": "backup", "consistent_level": "crash_consistent",
                "charging_mode": self.charging_mode, "cloud_type": self.cloud_type, "spec_code": spec,
                "order_id": null, "product_id": null, "storage_unit": null, "frozen_scene": null,
                "is_multi_az": self.is_multi_az,
            },
        });
        if create {
            let extra = json!({"backup_name_prefix": self.backup_name_prefix.clone().unwrap_or_default(),
                "demand_billing": false, "cbc_delete_count": 0, "frozen": false});
            merge(&mut v, extra);
        }
        v
    }
}

/// A policy. `operation_definition` keeps exactly the fields last sent.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SimPolicy {
    pub id: String,
    pub name: String,
    pub enabled: bool,
    pub operation_type: String,
    pub operation_definition: serde_json::Map<String, Value>,
    pub pattern: Vec<String>,
    pub trigger_id: String,
    pub start_time: Timestamp,
}

impl SimPolicy {
    /// A new enabled backup policy with its trigger, started `now`.
    pub fn new(
        name: &str,
        operation_definition: serde_json::Map<String, Value>,
        pattern: Vec<String>,
        now: Timestamp,
    ) -> Self {
        SimPolicy {
            id: new_id(),
            name: name.to_string(),
            enabled: true,
            operation_type: "backup".into(),
            operation_definition,
            pattern,
            trigger_id: new_id(),
            start_time: now,
        }
    }

    /// `associated_vaults` is `null` in a create response and a list otherwise.
    pub fn render(&self, associated: &[&SimVault], create: bool) -> Value {
        let associated = if create {
            Value::Null
        } else {
            associated
                .iter()
                .map(|v| json!({"vault_id": v.id, "destination_vault_id": null}))
                .collect()
        };
        json!({
            "id": self.id, "name": self.name, "enabled": self.enabled, "operation_type": self.operation_type,
            "operation_definition": self.operation_definition,
            "trigger": {"id": self.trigger_id, "name": "default", "type": "time",
                "properties": {"pattern": self.pattern, "start_time": self.start_time.strftime("%Y-%m-%d %H:%M:%S").to_string()}},
            "associated_vaults": associated,
        })
    }
}

pub use super::operation_logs::SimTask;

/// Everything in one project.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Project {
    /// In creation order (the order lists return).
    pub vaults: Vec<SimVault>,
    pub policies: Vec<SimPolicy>,
    /// Newest last.
    pub tasks: Vec<SimTask>,
    /// Oldest first.
    #[serde(default)]
    pub backups: Vec<super::backups::SimBackup>,
    /// Runs told to fail, by vault id.
    #[serde(default)]
    pub failing: BTreeMap<String, super::runs::FailPlan>,
    /// Restore points told to fail, by vault id.
    #[serde(default)]
    pub failing_checkpoints: BTreeMap<String, super::runs::FailPlan>,
    /// Restores told to fail, under `progress::ANY_BACKUP`.
    #[serde(default)]
    pub failing_restores: BTreeMap<String, super::runs::FailPlan>,
    /// Restore points and restores in progress.
    #[serde(default)]
    pub pending: Vec<super::progress::Pending>,
    /// Every restore asked, oldest first, for tests to see what was sent.
    #[serde(default)]
    pub restores: Vec<super::restores::SimRestore>,
}

impl Project {
    pub fn vault(&self, id: &str) -> Option<&SimVault> {
        self.vaults.iter().find(|v| v.id == id)
    }
    pub fn vault_mut(&mut self, id: &str) -> Option<&mut SimVault> {
        self.vaults.iter_mut().find(|v| v.id == id)
    }
    pub fn policy(&self, id: &str) -> Option<&SimPolicy> {
        self.policies.iter().find(|p| p.id == id)
    }
    pub fn policy_mut(&mut self, id: &str) -> Option<&mut SimPolicy> {
        self.policies.iter_mut().find(|p| p.id == id)
    }
    /// Position of a vault, or its not-found error (404 BackupService.6105).
    pub fn vault_index(&self, id: &str) -> Result<usize, super::SimError> {
        self.vaults
            .iter()
            .position(|v| v.id == id)
            .ok_or_else(|| super::SimError::code("BackupService.6105"))
    }

    /// Position of a policy, or its not-found error (404 BackupService.6000).
    pub fn policy_index(&self, id: &str) -> Result<usize, super::SimError> {
        self.policies
            .iter()
            .position(|p| p.id == id)
            .ok_or_else(|| super::SimError::code("BackupService.6000"))
    }

    /// Remove a policy and its associations; false when there was none.
    pub fn remove_policy(&mut self, id: &str) -> bool {
        let before = self.policies.len();
        self.policies.retain(|p| p.id != id);
        for v in self
            .vaults
            .iter_mut()
            .filter(|v| v.policy_id.as_deref() == Some(id))
        {
            v.policy_id = None;
        }
        self.policies.len() != before
    }

    /// The vaults a policy is applied to.
    pub fn applied(&self, policy_id: &str) -> Vec<&SimVault> {
        self.vaults
            .iter()
            .filter(|v| v.policy_id.as_deref() == Some(policy_id))
            .collect()
    }
    /// The vault holding a resource, if any.
    pub fn holder_of(&self, resource_id: &str) -> Option<&SimVault> {
        self.vaults
            .iter()
            .find(|v| v.resources.iter().any(|r| r.id == resource_id))
    }
}

/// An IAM token the simulator issued.
#[derive(Clone, Debug)]
pub struct TokenRecord {
    /// The project the token is scoped to; `None` for a token scoped to the account.
    pub project_id: Option<String>,
    pub epoch: u64,
    pub expires_at: Timestamp,
}

/// The whole simulator state.
#[derive(Default)]
pub struct Store {
    pub projects: BTreeMap<String, Project>,
    pub tokens: HashMap<String, TokenRecord>,
    /// Added to the wall clock: tests move time forward without sleeping.
    pub clock_offset: jiff::SignedDuration,
    /// The policies' runs are made up to this time (`runs::catch_up`).
    pub runs_until: Option<Timestamp>,
    /// `GET /checkpoints/{id}` answers `"vault": null`, as the 5.1 example does (control.rs).
    pub null_checkpoint_vault: bool,
}

impl Store {
    pub fn now(&self) -> Timestamp {
        Timestamp::now()
            .saturating_add(self.clock_offset)
            .unwrap_or(Timestamp::MAX)
    }
    /// Record a new token valid for `lifetime` from now; returns it with its issue time.
    pub fn issue_token(
        &mut self,
        project_id: Option<String>,
        epoch: u64,
        lifetime: std::time::Duration,
    ) -> (String, Timestamp, Timestamp) {
        let token = format!("MIIsim{}", new_id().replace('-', ""));
        let now = self.now();
        let lifetime = jiff::SignedDuration::try_from(lifetime).unwrap_or_default();
        let expires_at = now.saturating_add(lifetime).unwrap_or(now);
        let record = TokenRecord {
            project_id,
            epoch,
            expires_at,
        };
        self.tokens.insert(token.clone(), record);
        (token, now, expires_at)
    }

    /// Every project's state, with the runs due made and without the vaults whose deletion
    /// has finished.
    pub fn settled(&mut self) -> &BTreeMap<String, Project> {
        self.catch_up();
        &self.projects
    }

    /// A project's state, with the runs due made and without the vaults whose deletion has
    /// finished.
    pub fn project(&mut self, id: &str) -> &mut Project {
        self.catch_up();
        let now = self.now();
        let project = self.projects.entry(id.to_string()).or_default();
        project.settle(now);
        project
    }
}

/// A fresh UUID (v4 layout).
pub fn new_id() -> String {
    let b: [u8; 16] = rand::rng().random();
    let h = hex::encode(b);
    format!(
        "{}-{}-4{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[16..20],
        &h[20..32]
    )
}

/// CBR's response time form: naive, microseconds, UTC (`2020-07-24T09:12:49.491874`).
pub fn wire_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

/// JSON merge patch (RFC 7386), for console-like edits through the control routes.
pub fn merge(target: &mut Value, patch: Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(&k);
                } else {
                    merge(t.entry(k).or_insert(Value::Null), v);
                }
            }
        }
        (t, p) => *t = p,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_forms_follow_the_examples() {
        let now: Timestamp = "2020-07-24T09:12:49.491874Z".parse().unwrap();
        assert_eq!(wire_time(now), "2020-07-24T09:12:49.491874");
        let v = SimVault::new("v1".into(), "vault", "disk", 40, now);
        let get = v.render("p", false);
        assert_eq!(get["bind_rules"], json!({}));
        assert_eq!(get["description"], Value::Null);
        assert_eq!(get["billing"]["spec_code"], "vault.backup.volume.normal");
        assert!(get.get("smn_notify").is_none() && get.get("threshold").is_none());
        assert!(get.get("frozen").is_none());
        assert_eq!(v.render("p", true)["frozen"], false);
        let p = SimPolicy {
            id: "p1".into(),
            name: "n".into(),
            enabled: true,
            operation_type: "backup".into(),
            operation_definition: Default::default(),
            pattern: vec![],
            trigger_id: "t".into(),
            start_time: "2019-05-08T06:57:05Z".parse().unwrap(),
        };
        assert_eq!(p.render(&[], true)["associated_vaults"], Value::Null);
        assert_eq!(p.render(&[], false)["associated_vaults"], json!([]));
        assert_eq!(
            p.render(&[], false)["trigger"]["properties"]["start_time"],
            "2019-05-08 06:57:05"
        );
        assert_eq!(new_id().len(), 36);
    }

    #[test]
    fn merge_patch_replaces_removes_and_adds() {
        let mut v = json!({"a": 1, "b": {"c": 2, "d": 3}});
        merge(&mut v, json!({"a": null, "b": {"c": 5}, "e": [1]}));
        assert_eq!(v, json!({"b": {"c": 5, "d": 3}, "e": [1]}));
    }
}
