//! The `ideco` vendor blocks: Ideco NGFW firewall rules. Field names, enums and the comment limit
//! follow seeds/ideco-traffic-rules-api.txt (rule body L83-143, the 255-character comment limit
//! at L5); see research/seed-004-ideco.md. The session login is not in the document: see
//! `IdecoProviderSettings`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The id the document gives for the root group of Ideco Center (`parent_id`, L133).
pub const ROOT_GROUP_ID: &str = "f3ffde22-a562-4f43-ac04-c40fcec6a88c";

/// Longest user comment: the document allows 255 characters (L5), and rampart appends
/// ` [rampart:<16-character marker>]` (27 characters) to own the rule.
pub const MAX_USER_COMMENT: usize = 228;

/// Settings of a `type: Ideco` provider configuration. The credentials Secret holds `login`
/// (`admin`, `admin@ad_domain.ru`, `admin@radius`) and `password`.
///
/// The traffic-rules document says nothing about authentication. These defaults come from
/// Ideco's public "description of handlers" page (session login with cookies), not from the
/// document; change them when a firmware version uses other paths.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IdecoProviderSettings {
    /// Path of the login handler: rampart POSTs `{"login", "password", "rest_path"}` there and
    /// sends the cookies it gets on every later request. Default `/web/auth/login`.
    #[serde(default = "default_login_path")]
    #[schemars(length(min = 1, max = 256), regex(pattern = r"^/[^\s?#]*$"))]
    pub login_path: String,
    /// Path rampart sends `DELETE` to when it logs out (shutdown, configuration change).
    /// Defaults to `loginPath`; Ideco NGFW 19 uses `/web/admin/auth/login`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 256), regex(pattern = r"^/[^\s?#]*$"))]
    pub logout_path: Option<String>,
    /// `rest_path` of the login request: the URL prefix the device scopes its cookies to
    /// (`/` or `/rest`). Default `/`.
    #[serde(default = "default_rest_path")]
    #[schemars(length(min = 1, max = 256), regex(pattern = r"^/[^\s?#]*$"))]
    pub rest_path: String,
}

fn default_login_path() -> String {
    "/web/auth/login".to_string()
}
fn default_rest_path() -> String {
    "/".to_string()
}

impl Default for IdecoProviderSettings {
    fn default() -> Self {
        IdecoProviderSettings {
            login_path: default_login_path(),
            logout_path: None,
            rest_path: default_rest_path(),
        }
    }
}

/// A firewall section (L71-79). Each is its own ordered table with its own rule ids.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum IdecoSection {
    /// FORWARD: traffic through the device.
    Forward,
    /// INPUT: traffic to the device itself.
    Input,
    /// DNAT: destination address translation.
    Dnat,
    /// SNAT: source address translation.
    Snat,
    /// Logging (Логирование): which traffic is logged.
    Log,
}

impl IdecoSection {
    pub const ALL: [IdecoSection; 5] = [
        IdecoSection::Forward,
        IdecoSection::Input,
        IdecoSection::Dnat,
        IdecoSection::Snat,
        IdecoSection::Log,
    ];

    /// The path segment of the section: `/firewall/rules/<segment>`.
    pub fn as_str(self) -> &'static str {
        match self {
            IdecoSection::Forward => "forward",
            IdecoSection::Input => "input",
            IdecoSection::Dnat => "dnat",
            IdecoSection::Snat => "snat",
            IdecoSection::Log => "log",
        }
    }

    pub fn parse(s: &str) -> Option<IdecoSection> {
        IdecoSection::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The actions the document allows in this section (L85): `mark_log`/`mark_not_log` in the
    /// logging section, `accept`/`drop`/`dnat`/`snat` everywhere else.
    pub fn allowed_actions(self) -> &'static [IdecoAction] {
        match self {
            IdecoSection::Log => &[IdecoAction::MarkLog, IdecoAction::MarkNotLog],
            _ => &[
                IdecoAction::Accept,
                IdecoAction::Drop,
                IdecoAction::Dnat,
                IdecoAction::Snat,
            ],
        }
    }
}

/// What the rule does (L103-115).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IdecoAction {
    /// Allow.
    Accept,
    /// Deny.
    Drop,
    /// Translate the destination.
    Dnat,
    /// Translate the source.
    Snat,
    /// Log (logging section only).
    MarkLog,
    /// Do not log (logging section only).
    MarkNotLog,
}

impl IdecoAction {
    pub fn as_str(self) -> &'static str {
        match self {
            IdecoAction::Accept => "accept",
            IdecoAction::Drop => "drop",
            IdecoAction::Dnat => "dnat",
            IdecoAction::Snat => "snat",
            IdecoAction::MarkLog => "mark_log",
            IdecoAction::MarkNotLog => "mark_not_log",
        }
    }
}

/// Where the block of rampart's rules lives in a section.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
pub enum IdecoBlock {
    /// Above every rule people made.
    Top,
    /// Below every rule people made.
    Bottom,
    /// Right below the rule people made whose comment is `sentinelComment`.
    AfterSentinel,
}

/// Where the rule goes in its section. rampart keeps all its rules of a section together as one
/// block, ordered by `priority`; rules people made are never moved. Every FirewallRule of one
/// section must name the same block (and sentinel); otherwise rampart leaves the order alone and
/// sets `PlacementConflict` on all of them.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "self.block != 'AfterSentinel' || has(self.sentinelComment)", "message": "sentinelComment is required when block is AfterSentinel", "fieldPath": ".sentinelComment", "reason": "FieldValueRequired"},
    {"rule": "self.block == 'AfterSentinel' || !has(self.sentinelComment)", "message": "sentinelComment is only used when block is AfterSentinel", "fieldPath": ".sentinelComment", "reason": "FieldValueForbidden"}
]))]
pub struct IdecoPlacement {
    /// `Top`, `Bottom` or `AfterSentinel`.
    pub block: IdecoBlock,
    /// The full comment of the rule (made by people, not by rampart) the block follows, for
    /// example `=== managed by rampart below ===`. The first such rule of the section counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub sentinel_comment: Option<String>,
    /// Order inside the block: lower comes first; ties are broken by namespace and name.
    #[serde(default)]
    #[schemars(range(min = -1000000, max = 1000000))]
    pub priority: i32,
}

/// One rule of an Ideco firewall section (the rule body of L83-143). Every field of the
/// document is managed: a field left out is held at its empty value.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "self.section == 'log' ? self.action in ['mark_log', 'mark_not_log'] : self.action in ['accept', 'drop', 'dnat', 'snat']", "message": "action must be mark_log or mark_not_log in section log, and accept, drop, dnat or snat in the other sections", "fieldPath": ".action"}
]))]
pub struct IdecoFirewallRule {
    /// `forward`, `input`, `dnat`, `snat` or `log`. Immutable: the section is part of every
    /// path, so moving a rule to another section is delete plus create.
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "section is immutable"}]))]
    pub section: IdecoSection,
    /// `accept`, `drop`, `dnat`, `snat` (`mark_log`, `mark_not_log` in section `log`).
    pub action: IdecoAction,
    /// Whether the rule is on (`enabled`). Default true.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Comment (`comment`, at most 228 characters). rampart appends ` [rampart:<marker>]`,
    /// which is how it recognises its own rules; the device limit is 255 characters in all.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(length(max = 228))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "!self.contains('[rampart:')", "message": "comment must not contain '[rampart:': rampart appends its ownership marker itself"}]))]
    pub comment: String,
    /// Source addresses (`source_addresses`), as the device spells them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 512), extend("items" = {"type": "string", "maxLength": 255}))]
    pub source_addresses: Vec<String>,
    /// Match every source except `sourceAddresses` (`source_addresses_negate`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub source_addresses_negate: bool,
    /// Destination addresses (`destination_addresses`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 512), extend("items" = {"type": "string", "maxLength": 255}))]
    pub destination_addresses: Vec<String>,
    /// Match every destination except `destinationAddresses` (`destination_addresses_negate`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub destination_addresses_negate: bool,
    /// Destination ports (`destination_ports`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 512), extend("items" = {"type": "string", "maxLength": 255}))]
    pub destination_ports: Vec<String>,
    /// Protocol (`protocol`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(length(max = 255))]
    pub protocol: String,
    /// Source zone (`incoming_interface`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(length(max = 255))]
    pub incoming_interface: String,
    /// Destination zone (`outgoing_interface`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(length(max = 255))]
    pub outgoing_interface: String,
    /// HIP profiles (`hip_profiles`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 512), extend("items" = {"type": "string", "maxLength": 255}))]
    pub hip_profiles: Vec<String>,
    /// When the rule applies (`timetable`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 512), extend("items" = {"type": "string", "maxLength": 255}))]
    pub timetable: Vec<String>,
    /// The Ideco Center group of the device (`parent_id`); defaults to the root group
    /// `f3ffde22-a562-4f43-ac04-c40fcec6a88c`.
    #[serde(default = "root_group")]
    #[schemars(length(min = 1, max = 64))]
    pub parent_id: String,
    /// Where the rule goes in its section.
    pub placement: IdecoPlacement,
    /// Fields of the rule body the document does not describe (for example DNAT/SNAT targets),
    /// sent as they are and compared with what the device reports. They cannot replace a field
    /// above, nor `id`.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    #[schemars(schema_with = "free_form_object")]
    pub extra_fields: serde_json::Map<String, serde_json::Value>,
}

fn yes() -> bool {
    true
}
fn root_group() -> String {
    ROOT_GROUP_ID.to_string()
}

fn free_form_object(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "maxProperties": 64,
        "x-kubernetes-preserve-unknown-fields": true
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_room_matches_the_device_limit() {
        let suffix = format!(" [rampart:{}]", "0123456789abcdef");
        assert_eq!(MAX_USER_COMMENT + suffix.chars().count(), 255);
    }

    #[test]
    fn the_logging_section_has_its_own_actions() {
        assert!(
            IdecoSection::Log
                .allowed_actions()
                .contains(&IdecoAction::MarkLog)
        );
        assert!(
            !IdecoSection::Log
                .allowed_actions()
                .contains(&IdecoAction::Accept)
        );
        assert!(
            !IdecoSection::Dnat
                .allowed_actions()
                .contains(&IdecoAction::MarkNotLog)
        );
        for s in IdecoSection::ALL {
            assert_eq!(IdecoSection::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn spec_reads_with_defaults() {
        let r: IdecoFirewallRule = serde_json::from_value(serde_json::json!({
            "section": "dnat", "action": "dnat", "placement": {"block": "Top"},
            "extraFields": {"change_destination_address": "10.0.0.5"}
        }))
        .unwrap();
        assert!(r.enabled);
        assert_eq!(r.parent_id, ROOT_GROUP_ID);
        assert_eq!(r.placement.priority, 0);
        assert_eq!(r.extra_fields["change_destination_address"], "10.0.0.5");
    }
}
