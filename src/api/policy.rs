//! Policy: when backups run and how long they are kept. A CBR policy, a RuBackup global schedule
//! rule, or a Cyber Backup protection plan.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{LocalObjectRef, ManagedFields, ManagedStatus};
use super::schedule::{Retention, Schedule};
use super::vendors::{
    cyberbackup::CyberBackupPolicy, huawei_cbr::CbrPolicy, rubackup::RuBackupPolicy,
};

/// A backup policy on one vendor system. Set exactly one vendor block, matching the provider type.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "rampart.dev",
    version = "v1alpha1",
    kind = "Policy",
    namespaced,
    status = "PolicyStatus",
    shortname = "rpol",
    category = "rampart",
    doc = "A backup policy: a Huawei CBR policy, a RuBackup global schedule rule or a Cyber Backup protection plan, with a portable schedule and retention.",
    printcolumn(
        name = "READY",
        type_ = "string",
        json_path = ".status.conditions[?(@.type=='Ready')].status"
    ),
    printcolumn(
        name = "SYNCED",
        type_ = "string",
        json_path = ".status.conditions[?(@.type=='Synced')].status"
    ),
    printcolumn(
        name = "EXTERNAL-NAME",
        type_ = "string",
        json_path = ".metadata.annotations.rampart\\.dev/external-name"
    ),
    printcolumn(name = "SCHEDULE", type_ = "string", json_path = ".spec.schedule.cron"),
    printcolumn(
        name = "BACKUP",
        type_ = "string",
        json_path = ".status.conditions[?(@.type=='BackupHealthy')].reason"
    ),
    printcolumn(
        name = "NEXT-RUN",
        type_ = "string",
        json_path = ".status.atProvider.nextRun",
        priority = 1
    ),
    printcolumn(
        name = "AGE",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[kube(derive = "PartialEq")]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "[has(self.huaweiCbr), has(self.ruBackup), has(self.cyberBackup)].filter(x, x).size() == 1", "message": "set exactly one vendor block: huaweiCbr, ruBackup or cyberBackup"},
    {"rule": "!has(self.huaweiCbr) || has(self.schedule) || has(self.huaweiCbr.pattern)", "message": "a huaweiCbr policy needs spec.schedule or spec.huaweiCbr.pattern", "fieldPath": ".schedule", "reason": "FieldValueRequired"},
    {"rule": "!has(self.huaweiCbr) || !(has(self.schedule) && has(self.huaweiCbr.pattern))", "message": "set spec.schedule or spec.huaweiCbr.pattern, not both", "fieldPath": ".schedule"},
    {"rule": "!has(self.huaweiCbr) || has(self.retention) || has(self.huaweiCbr.operationDefinition)", "message": "a huaweiCbr policy needs spec.retention or spec.huaweiCbr.operationDefinition", "fieldPath": ".retention", "reason": "FieldValueRequired"},
    {"rule": "!has(self.huaweiCbr) || !(has(self.retention) && has(self.huaweiCbr.operationDefinition))", "message": "set spec.retention or spec.huaweiCbr.operationDefinition, not both", "fieldPath": ".retention"}
]))]
pub struct PolicySpec {
    #[serde(flatten)]
    pub managed: ManagedFields,
    /// Whether scheduled backups run. Defaults to true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// When backups run (portable form, compiled into the vendor's dialect).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Schedule>,
    /// How long backups are kept (portable form, compiled into the vendor's dialect).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<Retention>,
    /// The Vault (same namespace) this policy writes to, for vendors whose policies name their
    /// destination (RuBackup pool, Cyber Backup destination).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault_ref: Option<LocalObjectRef>,
    /// A Huawei CBR policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub huawei_cbr: Option<CbrPolicy>,
    /// A RuBackup global schedule rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ru_backup: Option<RuBackupPolicy>,
    /// A Cyber Backup protection plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cyber_backup: Option<CyberBackupPolicy>,
}

/// What the vendor reports about a policy.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyObservation {
    /// Vendor id of the policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Vendor name of the policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Whether the vendor runs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// The schedule in the vendor's own dialect, as sent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vendor_schedule: Vec<String>,
    /// Vendor ids of the vaults the policy is bound to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub associated_vaults: Vec<String>,
    /// Time of the last successful run (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_success: Option<String>,
    /// Time of the next scheduled run (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_run: Option<String>,
    /// Other vendor-specific facts, as key/value text.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub details: std::collections::BTreeMap<String, String>,
    /// Where the policy is applied and how each application is doing (vendors that apply
    /// policies to resources, such as Cyber Backup).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applications: Vec<PolicyApplication>,
    /// The last on-demand run asked for with `rampart.dev/run-requested-at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<OnDemandRun>,
}

/// One application of a policy to a resource or group, as the vendor reports it.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyApplication {
    /// Id of the resource or group the policy is applied to.
    pub target: String,
    /// Type of the target, for example `resource.machine`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_type: Option<String>,
    /// Whether the application is enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Deployment state, for example `DEPLOYED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<String>,
    /// Run state, for example `IDLE` or `RUNNING`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running: Option<String>,
    /// Progress of a running backup, in percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<String>,
    /// Outcome the vendor reports, for example `OK`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Time of the last successful run (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_success: Option<String>,
    /// Time of the next scheduled run (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_run: Option<String>,
}

/// An on-demand run and its outcome.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OnDemandRun {
    /// The `rampart.dev/run-requested-at` value this run answers.
    pub requested_at: String,
    /// `Started`, `Running`, `Succeeded` or `Failed`.
    pub state: String,
    /// When rampart asked the vendor to run (the operator's clock, RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub called_at: Option<String>,
    /// The newest run start the vendor showed just before that call (the vendor's clock): the
    /// run this request started is the one that starts after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// When the run started, as the vendor reports it (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// When the run ended, as the vendor reports it (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// What the vendor said about the outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Status of a Policy.
pub type PolicyStatus = ManagedStatus<PolicyObservation>;
