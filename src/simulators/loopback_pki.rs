//! A private certificate chain made at start-up, so the simulators can serve HTTPS the way a
//! vendor appliance with a corporate CA does: a self-signed root CA, an intermediate CA it
//! signs, and a leaf for the loopback names signed by the intermediate. The server sends leaf +
//! intermediate; a client trusts it only with the root in its `caBundle`.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

use super::tls_listener::TlsIdentity;

/// Names the leaf is valid for: what a test or the demo puts in `spec.endpoint`.
pub const LOOPBACK_NAMES: [&str; 3] = ["127.0.0.1", "::1", "localhost"];

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("generating a certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("building the server TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
}

/// Root → intermediate → loopback leaf, with the leaf's server identity.
pub struct LoopbackPki {
    root_pem: String,
    intermediate_pem: String,
    identity: TlsIdentity,
}

impl LoopbackPki {
    /// A fresh chain (new keys every call).
    pub fn generate() -> Result<Self, PkiError> {
        let root_key = KeyPair::generate()?;
        let root_params = ca_params("rampart simulator root CA", BasicConstraints::Unconstrained);
        let root = root_params.self_signed(&root_key)?;
        let root_issuer = Issuer::new(root_params, root_key);

        let intermediate_key = KeyPair::generate()?;
        // pathlen 0: the intermediate may sign leaves only, as real issuing CAs are set up.
        let intermediate_params = ca_params(
            "rampart simulator intermediate CA",
            BasicConstraints::Constrained(0),
        );
        let intermediate = intermediate_params.signed_by(&intermediate_key, &root_issuer)?;
        let intermediate_issuer = Issuer::new(intermediate_params, intermediate_key);

        let leaf_key = KeyPair::generate()?;
        let mut leaf_params = CertificateParams::new(LOOPBACK_NAMES.map(String::from).to_vec())?;
        leaf_params
            .distinguished_name
            .push(DnType::CommonName, "rampart simulator");
        leaf_params.is_ca = IsCa::ExplicitNoCa;
        leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        leaf_params.use_authority_key_identifier_extension = true;
        let leaf = leaf_params.signed_by(&leaf_key, &intermediate_issuer)?;

        let identity = TlsIdentity::new(
            vec![leaf.der().clone(), intermediate.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        )?;
        Ok(LoopbackPki {
            root_pem: root.pem(),
            intermediate_pem: intermediate.pem(),
            identity,
        })
    }

    /// The root CA certificate (PEM): what a ProviderConfig's `caBundle` holds.
    pub fn root_pem(&self) -> &str {
        &self.root_pem
    }

    /// The intermediate CA certificate (PEM), which the server already sends.
    pub fn intermediate_pem(&self) -> &str {
        &self.intermediate_pem
    }

    /// The identity to serve with (`SimServer::start_tls`).
    pub fn identity(&self) -> TlsIdentity {
        self.identity.clone()
    }
}

fn ca_params(common_name: &str, constraints: BasicConstraints) -> CertificateParams {
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.is_ca = IsCa::Ca(constraints);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.use_authority_key_identifier_extension = true;
    params
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendor::tls::ca_bundle_certificates;

    #[test]
    fn root_and_intermediate_are_distinct_single_pem_certificates() {
        let pki = LoopbackPki::generate().unwrap();
        assert_eq!(ca_bundle_certificates(pki.root_pem()).unwrap().len(), 1);
        assert_eq!(
            ca_bundle_certificates(pki.intermediate_pem())
                .unwrap()
                .len(),
            1
        );
        assert_ne!(pki.root_pem(), pki.intermediate_pem());
    }

    #[test]
    fn every_call_makes_a_new_root() {
        let a = LoopbackPki::generate().unwrap();
        let b = LoopbackPki::generate().unwrap();
        assert_ne!(a.root_pem(), b.root_pem());
    }
}
