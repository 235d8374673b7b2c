//! The vendor blocks for Ideco. PLACEHOLDER: being designed from the seed document.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Settings of a `type: Ideco` provider configuration.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IdecoProviderSettings {}

/// One Ideco firewall rule.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IdecoFirewallRule {}
