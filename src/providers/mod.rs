//! Vendor clients and the adapters that connect them to the engine, one folder per vendor.

pub mod cyberbackup;
pub mod huawei_cbr;
pub mod ideco;
#[cfg(test)]
mod login_gate_tests;
#[cfg(test)]
mod refusal_tests;
pub mod rs_server;
pub mod rubackup;
#[cfg(test)]
mod tls_tests;

use std::sync::Arc;

use crate::api::provider_config::ProviderType;
use crate::engine::hub::{ResolvedProvider, VendorRuntime};
use crate::vendor::error::VendorResult;

/// Connect a provider configuration to its vendor: the one place that knows every vendor.
pub fn connect(p: &ResolvedProvider) -> VendorResult<Arc<dyn VendorRuntime>> {
    match p.spec.type_ {
        ProviderType::CyberBackup => cyberbackup::connect(p),
        ProviderType::HuaweiCbr => huawei_cbr::connect(p),
        ProviderType::Ideco => ideco::connect(p),
        ProviderType::RsServer => rs_server::connect(p),
        ProviderType::RuBackup => rubackup::connect(p),
    }
}

/// A test world whose provider configurations connect to the real vendor clients.
pub fn test_world() -> crate::engine::testkit::TestWorld {
    crate::engine::testkit::TestWorld::new(Arc::new(connect))
}
