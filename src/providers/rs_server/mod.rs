//! RS server (TRS), the remote-desktop module on OpenStack (seeds/rs-server-api.txt): an
//! inventory, not a managed kind. A CBR Vault's `resourcesFrom.rsServer` asks this runtime for
//! the servers and user volumes of a TRS project.
//!
//! The CBR adapter gets the runtime of the selector's provider configuration and resolves:
//!
//! ```ignore
//! let rt = ctx.hub.runtime_for(namespace, &selector.provider_config_ref).await?; // HubError
//! let rs = engine::hub::downcast::<RsServerRuntime>(&rt)
//!     .ok_or_else(|| ExternalError::invalid(".../rsServer.providerConfigRef", "not an RsServer provider"))?;
//! let selected: Vec<SelectedResource> = rs.resolve(&selector).await.map_err(into_external_error)?;
//! let resources: Vec<CbrResource> = selected.iter().map(SelectedResource::to_cbr_resource).collect();
//! ```

mod client;
mod errors;
mod keystone;
mod models;
mod name_pattern;
mod runtime;
mod selection;
mod session;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use crate::engine::hub::{ResolvedProvider, VendorRuntime};
use crate::vendor::error::VendorResult;

pub use name_pattern::{NamePattern, PatternError};
pub use runtime::{Listing, RsServerRuntime};
pub use selection::{NAME_PATTERN_FIELD, PROJECT_FIELD, SelectedResource, into_external_error};

/// The client's response readers, public only for the property tests in tests/fuzz.
pub mod readers {
    pub use super::errors::from_response as error_from_response;
    pub use super::keystone::{error_from_response as keystone_error_from_response, parse_issued};
    pub use super::models::{
        License, describe_license, parse_info, parse_projects, parse_servers,
        parse_volume_assignments,
    };
}

/// Vendor label in metrics, logs and errors.
pub const VENDOR: &str = "rs-server";

/// Connect an `RsServer` provider configuration.
pub fn connect(p: &ResolvedProvider) -> VendorResult<Arc<dyn VendorRuntime>> {
    Ok(Arc::new(RsServerRuntime::new(p)?))
}
