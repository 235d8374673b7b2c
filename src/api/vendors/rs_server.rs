//! RS server (TRS) settings and the inventory selector a CBR Vault can use.
//! PLACEHOLDER: being designed from the seed document.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Settings of a `type: RsServer` provider configuration.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RsServerProviderSettings {}

/// Selects the servers and user volumes of one RS server project.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RsServerSelector {}
