//! Types shared by every managed kind: the provider reference, lifecycle policies, and the status
//! block (conditions, `atProvider`, drift) that kstatus, Flux and Argo CD read.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Which kind of provider configuration a managed object points at.
#[derive(
    Serialize,
    Deserialize,
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    JsonSchema,
)]
pub enum ProviderConfigKind {
    /// A namespaced ProviderConfig in the object's own namespace.
    #[default]
    ProviderConfig,
    /// A cluster-scoped ClusterProviderConfig.
    ClusterProviderConfig,
}

/// Reference to the ProviderConfig (same namespace) or ClusterProviderConfig that says how to
/// reach the vendor system. A namespaced object can never use a ProviderConfig of another
/// namespace: there is no namespace field on purpose.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderConfigRef {
    /// `ProviderConfig` (default) or `ClusterProviderConfig`.
    #[serde(default)]
    pub kind: ProviderConfigKind,
    /// Name of the provider configuration.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
}

/// What happens to the vendor object when the Kubernetes object is deleted.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum DeletionPolicy {
    /// Delete the vendor object, then release the Kubernetes object.
    Delete,
    /// Leave the vendor object in place and only release the Kubernetes object.
    Orphan,
}

/// One management action rampart may take on the vendor object, as Crossplane users know them.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
pub enum ManagementAction {
    /// Every action below.
    #[serde(rename = "*")]
    All,
    /// Read the vendor object and report it in status.
    Observe,
    /// Create the vendor object when it does not exist.
    Create,
    /// Correct differences between the spec and the vendor object.
    Update,
    /// Delete the vendor object when the Kubernetes object is deleted with `deletionPolicy: Delete`.
    Delete,
}

/// The resolved set of actions a `managementPolicies` list allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Allowed {
    pub observe: bool,
    pub create: bool,
    pub update: bool,
    pub delete: bool,
}

impl Allowed {
    /// Resolve `managementPolicies`; an empty list means the default `["*"]`.
    pub fn from_policies(policies: &[ManagementAction]) -> Self {
        let has = |a: ManagementAction| {
            policies.is_empty()
                || policies.contains(&ManagementAction::All)
                || policies.contains(&a)
        };
        Allowed {
            observe: true,
            create: has(ManagementAction::Create),
            update: has(ManagementAction::Update),
            delete: has(ManagementAction::Delete),
        }
    }
}

/// Status of a condition, as in `metav1.Condition`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum ConditionStatus {
    True,
    False,
    Unknown,
}

/// A status condition with the shape of `metav1.Condition`, so every Kubernetes tool reads it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// Condition type: `Ready`, `Synced`, `Stalled`, or a kind-specific type.
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: ConditionStatus,
    /// A CamelCase reason, for example `Available` or `ReconcileError`.
    pub reason: String,
    /// A human-readable message. Never contains secret values.
    #[serde(default)]
    pub message: String,
    /// When the status last changed (RFC 3339).
    pub last_transition_time: String,
    /// The `metadata.generation` this condition was computed for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// One field whose vendor value differs from the spec.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Drift {
    /// Path of the field in the spec, for example `spec.huaweiCbr.sizeGB`.
    pub field: String,
    /// Value the spec asks for (JSON text).
    pub desired: String,
    /// Value the vendor reports (JSON text).
    pub observed: String,
}

/// The status block every managed kind carries. `A` is the kind's `atProvider` type.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ManagedStatus<A> {
    /// The `metadata.generation` last reconciled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready`, `Synced` and, on terminal errors, `Stalled`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,
    /// What the vendor reports about the object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_provider: Option<A>,
    /// Fields whose vendor value differs from the spec (empty when in sync).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<Drift>,
    /// Hash of write-only fields last sent to the vendor (fields the vendor never returns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_applied_hash: Option<String>,
    /// The vendor id last seen carrying this object's ownership marker. An object found at that
    /// id without the marker is someone else's (vendors re-use ids after a reset): rampart
    /// neither writes nor deletes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marked_external_name: Option<String>,
    /// What the vendor says about the object's backups (kinds and vendors that hold backups);
    /// the `BackupHealthy` condition judges it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup: Option<crate::api::backup_status::BackupStatus>,
}

/// The lifecycle fields every managed spec starts with (flattened into each kind's spec).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ManagedFields {
    /// The provider configuration that says how to reach the vendor. Immutable: moving an object
    /// to another vendor system would orphan the first one.
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "providerConfigRef is immutable"}]))]
    pub provider_config_ref: ProviderConfigRef,
    /// `Delete` removes the vendor object with the Kubernetes object; `Orphan` leaves it.
    /// Defaults to `Orphan` for Vaults (deleting a vault destroys its backups) and `Delete` for
    /// the other kinds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_policy: Option<DeletionPolicy>,
    /// Which actions rampart may take: `["*"]` (default) for all, `["Observe"]` to only observe;
    /// leaving out `Update` reports drift in `status.drift` without correcting it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 5))]
    pub management_policies: Vec<ManagementAction>,
}

/// A reference to another object of the same namespace (a Vault's `policyRef`, a Policy's
/// `vaultRef`, a credentials Secret).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocalObjectRef {
    /// Name of the object in the same namespace.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
}
