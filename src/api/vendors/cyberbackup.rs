//! The vendor blocks for CyberBackup. PLACEHOLDER: being designed from the seed document.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Settings of a `type: CyberBackup` provider configuration.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CyberBackupProviderSettings {}

/// A Cyber Backup destination.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CyberBackupVault {}

/// A Cyber Backup protection plan.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CyberBackupPolicy {}
