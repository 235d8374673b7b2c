//! Vendor clients and the adapters that connect them to the engine, one folder per vendor.

pub mod budget;
pub mod error;
pub mod http;
pub mod rubackup;

use std::sync::Arc;

use crate::api::provider_config::ProviderType;
use crate::engine::hub::{ResolvedProvider, VendorRuntime};
use error::{ErrorKind, VendorError, VendorResult};

/// Connect a provider configuration to its vendor: the one place that knows every vendor.
pub fn connect(p: &ResolvedProvider) -> VendorResult<Arc<dyn VendorRuntime>> {
    let t = p.spec.type_;
    if t == ProviderType::RuBackup {
        return rubackup::connect(p);
    }
    Err(VendorError::new(
        "rampart",
        "connect",
        ErrorKind::Config,
        format!("provider type {t:?} is not supported by this build"),
    ))
    .map(|r: Arc<dyn VendorRuntime>| {
        let _: ProviderType = t;
        r
    })
}
