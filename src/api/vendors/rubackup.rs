//! The vendor blocks for RuBackup. PLACEHOLDER: being designed from the seed document.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Settings of a `type: RuBackup` provider configuration.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuBackupProviderSettings {}

/// A RuBackup pool.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuBackupVault {}

/// A RuBackup global schedule rule.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuBackupPolicy {}

/// A RuBackup backup strategy.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuBackupStrategy {}
