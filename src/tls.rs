//! Process-wide TLS setup: rampart uses rustls with the ring provider for both the Kubernetes
//! client and vendor clients.

use std::sync::Once;

/// Install ring as the process default crypto provider (idempotent).
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
