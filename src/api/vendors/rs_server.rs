//! RS server (TRS): remote-desktop projects on OpenStack. It is not a kind of its own but an
//! inventory: a CBR Vault selects the servers and user volumes of a TRS project through
//! `resourcesFrom.rsServer`. Field names follow seeds/rs-server-api.txt; authentication is an
//! OpenStack Keystone v3 token (`X-Auth-Token`), which the document leaves to "a tab with
//! additional information" that it does not include (see research/seed-002-rs-server.md).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::api::common::ProviderConfigRef;

/// How rampart obtains the `X-Auth-Token` it sends to RS server.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
pub enum RsServerAuthMethod {
    /// A Keystone token given in the Secret under `token`. Keystone tokens expire (one hour by
    /// default): rotate the Secret, or use `Password`.
    Token,
    /// A project-scoped token obtained from Keystone v3 (`POST {identityEndpoint}/v3/auth/tokens`,
    /// password method) with the Secret's `username` and `password`, renewed before it expires.
    #[default]
    Password,
}

/// Settings of a `type: RsServer` provider configuration. `endpoint` is the RS server API
/// (port 9364 in the document's examples, without `/v1`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "self.authMethod != 'Password' || has(self.identityEndpoint)", "message": "rsServer.identityEndpoint is required when authMethod is Password", "fieldPath": ".identityEndpoint", "reason": "FieldValueRequired"},
    {"rule": "self.authMethod != 'Password' || has(self.projectId) != has(self.projectName)", "message": "authMethod Password needs the token's project scope: set exactly one of projectId or projectName", "fieldPath": ".projectName"},
    {"rule": "!has(self.projectDomainName) || has(self.projectName)", "message": "projectDomainName qualifies projectName and needs it", "fieldPath": ".projectDomainName"}
]))]
pub struct RsServerProviderSettings {
    /// `Password` (default) or `Token`.
    #[serde(default)]
    pub auth_method: RsServerAuthMethod,
    /// Keystone v3 endpoint for `Password`, for example `https://controller:5000` (a trailing
    /// `/v3` is accepted). Not part of the RS server document: standard OpenStack identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 8, max = 2048),
        regex(pattern = r"^https?://[^\s/?#]+(/[^\s?#]*)?$")
    )]
    pub identity_endpoint: Option<String>,
    /// Domain of the Keystone user (`auth.identity.password.user.domain.name`).
    #[serde(default = "default_domain")]
    #[schemars(length(min = 1, max = 64))]
    pub user_domain_name: String,
    /// Id of the project the token is scoped to (`auth.scope.project.id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub project_id: Option<String>,
    /// Name of the project the token is scoped to (`auth.scope.project.name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub project_name: Option<String>,
    /// Domain of `projectName`; defaults to `userDomainName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub project_domain_name: Option<String>,
}

fn default_domain() -> String {
    "Default".to_string()
}

impl Default for RsServerProviderSettings {
    fn default() -> Self {
        RsServerProviderSettings {
            auth_method: RsServerAuthMethod::default(),
            identity_endpoint: None,
            user_domain_name: default_domain(),
            project_id: None,
            project_name: None,
            project_domain_name: None,
        }
    }
}

/// A TRS project, by id or by name (exactly one).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "has(self.id) != has(self.name)", "message": "set exactly one of project.id or project.name"}
]))]
pub struct RsServerProjectRef {
    /// The project id (a Keystone project id, 32 hex digits in the document's examples).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub id: Option<String>,
    /// The project name (Keystone `os_project.name`, unique within its domain). A name that
    /// several visible projects share is refused: use `id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub name: Option<String>,
}

/// Selects the servers and user volumes of one RS server project. rampart resolves it at every
/// poll of the Vault and merges the result with the vault's listed `resources`, so machines that
/// come and go in the project are followed without editing the Vault.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "(!has(self.includeServers) || self.includeServers) || (has(self.includeUserVolumes) && self.includeUserVolumes)", "message": "select something: includeServers or includeUserVolumes must be true"}
]))]
pub struct RsServerSelector {
    /// The `RsServer` provider configuration of the RS server to ask.
    pub provider_config_ref: ProviderConfigRef,
    /// The TRS project whose resources are selected.
    pub project: RsServerProjectRef,
    /// Select the project's TRS machines (`OS::Nova::Server`). Default true.
    #[serde(default = "default_true")]
    pub include_servers: bool,
    /// Select the user volumes assigned in the project (`/v1/volume-assignments/`,
    /// `OS::Cinder::Volume`). Default false: a vault of `objectType: server` holds servers only.
    #[serde(default)]
    pub include_user_volumes: bool,
    /// A glob matched against the whole server name (`os_server.name`, case-sensitive):
    /// `*` any run of characters, `?` one character, `[a-z0-9]` one of a set, `[!…]` one not in
    /// a set, `\` escapes the next character (an unescaped `]` outside a set is refused). Servers
    /// only: RS server gives user volumes no name, so they follow `includeUserVolumes` alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    #[schemars(extend("x-kubernetes-validations" = [{
        "rule": r"self.matches(r'^(\\.|\[!?(\\.|[^\\\]])+\]|[^\\\[\]])+$')",
        "message": r"namePattern is not a valid glob: close every '[' with ']', put at least one character in a set, and write a literal ']' or '\' as '\]' or '\\'"
    }]))]
    pub name_pattern: Option<String>,
}

fn default_true() -> bool {
    true
}
