//! ProviderConfig (namespaced) and ClusterProviderConfig (cluster-scoped): how to reach one vendor
//! system: its type, endpoint, credentials Secret, CA bundle and API budget.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::ManagedStatus;
use super::vendors::{
    cyberbackup::CyberBackupProviderSettings, huawei_cbr::CbrProviderSettings,
    ideco::IdecoProviderSettings, rs_server::RsServerProviderSettings,
    rubackup::RuBackupProviderSettings,
};

/// The vendor system a provider configuration points at.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
pub enum ProviderType {
    /// Huawei Cloud Backup and Recovery (CBR), SberCloud edition.
    HuaweiCbr,
    /// RuBackup REST API.
    RuBackup,
    /// Cyber Backup 18.5.
    CyberBackup,
    /// Ideco NGFW / Ideco Center firewall.
    Ideco,
    /// RS server (TRS) remote-desktop inventory.
    RsServer,
}

impl ProviderType {
    pub const ALL: [ProviderType; 5] = [
        ProviderType::HuaweiCbr,
        ProviderType::RuBackup,
        ProviderType::CyberBackup,
        ProviderType::Ideco,
        ProviderType::RsServer,
    ];
}

impl ProviderType {
    /// The spec field of the vendor block that belongs to this type.
    pub fn block_name(self) -> &'static str {
        match self {
            ProviderType::HuaweiCbr => "huaweiCbr",
            ProviderType::RuBackup => "ruBackup",
            ProviderType::CyberBackup => "cyberBackup",
            ProviderType::Ideco => "ideco",
            ProviderType::RsServer => "rsServer",
        }
    }
}

/// Where the credentials live. A namespaced ProviderConfig reads only Secrets of its own
/// namespace, so `namespace` is refused there (see the CEL rule on ProviderConfigSpec).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretReference {
    /// Name of the Secret.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Namespace of the Secret. Required for a ClusterProviderConfig, forbidden for a
    /// ProviderConfig (which always reads its own namespace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub namespace: Option<String>,
}

/// Limits on how hard rampart drives the vendor. Vendors are appliances: rampart never floods one.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiBudget {
    /// Sustained requests per second (token bucket refill rate).
    #[serde(default = "default_qps")]
    #[schemars(range(min = 0.1, max = 10000.0))]
    // The API server checks an integer value against a fractional minimum after truncating it
    // (0 >= int(0.1)), so `qps: 0` would pass the schema alone.
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self >= 0.1", "message": "qps must be at least 0.1 requests per second"}]))]
    pub qps: f64,
    /// Requests allowed in a burst above the sustained rate (token bucket size).
    #[serde(default = "default_burst")]
    #[schemars(range(min = 1, max = 10000))]
    pub burst: i32,
    /// Requests in flight at once.
    #[serde(default = "default_max_in_flight")]
    #[schemars(range(min = 1, max = 1000))]
    pub max_in_flight: i32,
}

fn default_qps() -> f64 {
    10.0
}
fn default_burst() -> i32 {
    20
}
fn default_max_in_flight() -> i32 {
    8
}

impl Default for ApiBudget {
    fn default() -> Self {
        ApiBudget {
            qps: default_qps(),
            burst: default_burst(),
            max_in_flight: default_max_in_flight(),
        }
    }
}

/// How to reach one vendor system. Exactly one vendor block, matching `type`, may be set.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "rampart.dev",
    version = "v1alpha1",
    kind = "ProviderConfig",
    namespaced,
    status = "ProviderConfigStatus",
    shortname = "rpc",
    category = "rampart",
    doc = "How rampart reaches one vendor system from this namespace: type, endpoint, credentials Secret (same namespace), CA bundle and API budget.",
    printcolumn(name = "TYPE", type_ = "string", json_path = ".spec.type"),
    printcolumn(name = "ENDPOINT", type_ = "string", json_path = ".spec.endpoint"),
    printcolumn(name = "READY", type_ = "string", json_path = ".status.conditions[?(@.type=='Ready')].status"),
    printcolumn(name = "AGE", type_ = "date", json_path = ".metadata.creationTimestamp"),
    validation = Rule::new("!has(self.spec.credentials) || !has(self.spec.credentials.secretRef.__namespace__)").message("spec.credentials.secretRef.namespace: a namespaced ProviderConfig reads Secrets only from its own namespace; remove the field or use a ClusterProviderConfig").reason(Reason::FieldValueForbidden),
)]
#[kube(derive = "PartialEq")]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = PROVIDER_BLOCK_RULES))]
pub struct ProviderConfigSpec {
    #[serde(flatten)]
    pub common: ProviderConfigCommon,
}

/// Same as ProviderConfig, cluster-scoped, usable from every namespace.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "rampart.dev",
    version = "v1alpha1",
    kind = "ClusterProviderConfig",
    status = "ProviderConfigStatus",
    shortname = "rcpc",
    category = "rampart",
    doc = "How rampart reaches one vendor system from any namespace: type, endpoint, credentials Secret (with its namespace), CA bundle and API budget.",
    printcolumn(name = "TYPE", type_ = "string", json_path = ".spec.type"),
    printcolumn(name = "ENDPOINT", type_ = "string", json_path = ".spec.endpoint"),
    printcolumn(name = "READY", type_ = "string", json_path = ".status.conditions[?(@.type=='Ready')].status"),
    printcolumn(name = "AGE", type_ = "date", json_path = ".metadata.creationTimestamp"),
    validation = Rule::new("!has(self.spec.credentials) || has(self.spec.credentials.secretRef.__namespace__)").message("spec.credentials.secretRef.namespace is required for a ClusterProviderConfig").reason(Reason::FieldValueRequired),
)]
#[kube(derive = "PartialEq")]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = PROVIDER_BLOCK_RULES))]
pub struct ClusterProviderConfigSpec {
    #[serde(flatten)]
    pub common: ProviderConfigCommon,
}

/// A CEL validation rule, serialized into `x-kubernetes-validations`.
#[derive(Serialize, Clone, Copy, Debug)]
#[serde(rename_all = "camelCase")]
pub struct CelRule {
    pub rule: &'static str,
    pub message: &'static str,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub field_path: &'static str,
}

/// The CEL rules that tie the vendor block to `type`: a block of another vendor is refused.
const PROVIDER_BLOCK_RULES: [CelRule; 5] = [
    CelRule {
        rule: "!has(self.huaweiCbr) || self.type == 'HuaweiCbr'",
        message: "spec.huaweiCbr is only allowed when spec.type is HuaweiCbr",
        field_path: ".huaweiCbr",
    },
    CelRule {
        rule: "!has(self.ruBackup) || self.type == 'RuBackup'",
        message: "spec.ruBackup is only allowed when spec.type is RuBackup",
        field_path: ".ruBackup",
    },
    CelRule {
        rule: "!has(self.cyberBackup) || self.type == 'CyberBackup'",
        message: "spec.cyberBackup is only allowed when spec.type is CyberBackup",
        field_path: ".cyberBackup",
    },
    CelRule {
        rule: "!has(self.ideco) || self.type == 'Ideco'",
        message: "spec.ideco is only allowed when spec.type is Ideco",
        field_path: ".ideco",
    },
    CelRule {
        rule: "!has(self.rsServer) || self.type == 'RsServer'",
        message: "spec.rsServer is only allowed when spec.type is RsServer",
        field_path: ".rsServer",
    },
];

/// Credentials for the vendor, always from a Secret. Which keys the Secret holds depends on the
/// vendor and auth method (see each vendor block).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Credentials {
    /// The Secret with the credentials.
    pub secret_ref: SecretReference,
}

/// Fields shared by ProviderConfig and ClusterProviderConfig.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderConfigCommon {
    /// The vendor system. Immutable.
    #[serde(rename = "type")]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "type is immutable"}]))]
    pub type_: ProviderType,
    /// Base URL of the vendor API, for example `https://cbr.ru-moscow-1.hc.sbercloud.ru`.
    #[schemars(
        length(min = 8, max = 2048),
        regex(pattern = r"^https?://[^\s/?#]+(/[^\s?#]*)?$")
    )]
    pub endpoint: String,
    /// The Secret holding the credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<Credentials>,
    /// PEM CA bundle that signs the vendor's certificate, added to the system roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 262144))]
    pub ca_bundle: Option<String>,
    /// Skip TLS verification. Never use this in production; the ProviderConfig shows an
    /// `InsecureSkipVerify` warning condition while it is set.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure_skip_verify: bool,
    /// Rate limit and concurrency cap for calls to this vendor.
    #[serde(default)]
    pub budget: ApiBudget,
    /// How long one vendor request may take before it counts as timed out (seconds).
    #[serde(default = "default_request_timeout")]
    #[schemars(range(min = 1, max = 300))]
    pub request_timeout_seconds: i32,
    /// How often the vendor collections are re-listed to detect drift (seconds).
    #[serde(default = "default_poll_interval")]
    #[schemars(range(min = 5, max = 86400))]
    pub poll_interval_seconds: i32,
    /// Settings for `type: HuaweiCbr`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub huawei_cbr: Option<CbrProviderSettings>,
    /// Settings for `type: RuBackup`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ru_backup: Option<RuBackupProviderSettings>,
    /// Settings for `type: CyberBackup`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cyber_backup: Option<CyberBackupProviderSettings>,
    /// Settings for `type: Ideco`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ideco: Option<IdecoProviderSettings>,
    /// Settings for `type: RsServer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rs_server: Option<RsServerProviderSettings>,
}

fn default_request_timeout() -> i32 {
    30
}

fn default_poll_interval() -> i32 {
    60
}

/// What rampart observed about the vendor endpoint.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderObservation {
    /// Version the vendor reports, where it reports one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Licence or edition the vendor reports, where it reports one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// Time of the last successful authenticated call (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_authenticated: Option<String>,
    /// Number of managed objects that use this configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<i32>,
}

/// Status of a provider configuration: `Ready` comes from a real authenticated call.
pub type ProviderConfigStatus = ManagedStatus<ProviderObservation>;

impl ProviderConfigCommon {
    /// Conditions that do not need the vendor, computed from the spec alone.
    pub fn static_warnings(&self) -> Vec<(&'static str, String)> {
        let mut w = Vec::new();
        if self.insecure_skip_verify {
            w.push((
                "InsecureSkipVerify",
                "TLS verification of the vendor endpoint is disabled (spec.insecureSkipVerify)"
                    .to_string(),
            ));
        }
        w
    }
}
