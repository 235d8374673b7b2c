//! Process-wide TLS setup: rampart uses rustls with the ring provider for both the Kubernetes
//! client and vendor clients. Also the two pure halves of vendor trust: reading a `caBundle`,
//! and saying in plain words why a vendor's certificate was refused.

use std::sync::Once;

use rustls::CertificateError;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// Install ring as the process default crypto provider (idempotent).
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// The certificates of a `caBundle`. Text without a single `CERTIFICATE` block is refused
/// rather than read as an empty bundle (which would silently trust nothing extra), and each
/// certificate must parse as X.509, so a damaged bundle is reported here and not as a
/// handshake failure later. Messages name the field, never quote its content.
pub fn ca_bundle_certificates(pem: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("caBundle is not a valid PEM bundle: {e}"))?;
    if certs.is_empty() {
        return Err("caBundle holds no PEM certificate (expected one or more \
                    '-----BEGIN CERTIFICATE-----' blocks)"
            .to_string());
    }
    let mut store = rustls::RootCertStore::empty();
    for (i, cert) in certs.iter().enumerate() {
        store.add(cert.clone()).map_err(|e| {
            format!(
                "caBundle certificate {} of {} is not a valid X.509 certificate: {e}",
                i + 1,
                certs.len()
            )
        })?;
    }
    Ok(certs)
}

/// The rustls error somewhere in an error's source chain. A handshake failure reaches us as
/// hyper's error around `io::Error`s nested in each other, and `io::Error::source()` skips the
/// error it wraps, so the walk steps into an `io::Error`'s inner error itself.
pub fn find_rustls_error<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> Option<&'a rustls::Error> {
    let mut current = Some(e);
    while let Some(err) = current {
        if let Some(r) = err.downcast_ref::<rustls::Error>() {
            return Some(r);
        }
        current = match err.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => err.source(),
        };
    }
    None
}

/// Why a TLS handshake with `endpoint` failed, and whether it is our trust configuration (the
/// certificate was refused: nothing changes until `caBundle`, the vendor's certificate or the
/// endpoint does) or the connection itself.
pub fn describe_tls_failure(endpoint: &str, e: &rustls::Error) -> (TlsFailure, String) {
    let rustls::Error::InvalidCertificate(cert) = e else {
        return (
            TlsFailure::Handshake,
            format!("TLS handshake with {endpoint} failed: {e}"),
        );
    };
    let why = match cert {
        CertificateError::UnknownIssuer => {
            "it is not signed by a trusted CA; put the CA that signs it (PEM) in spec.caBundle"
                .to_string()
        }
        CertificateError::BadSignature => {
            "its signature does not match the trusted CA of that name (a re-issued CA?); put the \
             CA that signs it (PEM) in spec.caBundle"
                .to_string()
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            "it is not valid for this host name; use the name the certificate was issued for in \
             spec.endpoint"
                .to_string()
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            "it has expired".to_string()
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "it is not valid yet".to_string()
        }
        other => other.to_string(),
    };
    (
        TlsFailure::Untrusted,
        format!("the TLS certificate of {endpoint} is not trusted: {why}"),
    )
}

/// The two kinds of handshake failure a vendor client tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsFailure {
    /// The server's certificate was refused by verification.
    Untrusted,
    /// The handshake broke for another reason (protocol, alert, closed).
    Handshake,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_without_a_certificate_block_is_refused_naming_ca_bundle() {
        for text in [
            "not a certificate",
            "",
            "-----BEGIN PRIVATE KEY-----\n-----END",
        ] {
            let err = ca_bundle_certificates(text).unwrap_err();
            assert!(err.starts_with("caBundle "), "{text:?}: {err}");
        }
    }

    #[test]
    fn a_block_that_is_not_x509_is_refused_with_its_position() {
        let pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let err = ca_bundle_certificates(pem).unwrap_err();
        assert!(err.contains("caBundle certificate 1 of 1"), "{err}");
    }

    #[test]
    fn broken_base64_inside_a_block_is_refused() {
        let pem = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        let err = ca_bundle_certificates(pem).unwrap_err();
        assert!(err.starts_with("caBundle "), "{err}");
    }

    #[test]
    fn a_refused_certificate_is_not_trusted_and_says_what_to_fix() {
        let cases = [
            // No CA in the roots or the bundle signs it.
            (CertificateError::UnknownIssuer, "spec.caBundle"),
            // A CA of the same name with another key (a re-issued CA) is in the bundle.
            (CertificateError::BadSignature, "spec.caBundle"),
            (CertificateError::NotValidForName, "spec.endpoint"),
            (CertificateError::Expired, "expired"),
        ];
        for (cert, fix) in cases {
            let (kind, msg) = describe_tls_failure(
                "https://127.0.0.1:8443",
                &rustls::Error::InvalidCertificate(cert.clone()),
            );
            assert_eq!(kind, TlsFailure::Untrusted, "{cert:?}");
            assert!(
                msg.starts_with("the TLS certificate of https://127.0.0.1:8443 is not trusted: "),
                "{msg}"
            );
            assert!(msg.contains(fix), "{cert:?}: {msg}");
        }
    }

    #[test]
    fn a_handshake_that_breaks_otherwise_is_not_a_trust_problem() {
        let (kind, msg) = describe_tls_failure(
            "https://vendor",
            &rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure),
        );
        assert_eq!(kind, TlsFailure::Handshake);
        assert!(
            msg.starts_with("TLS handshake with https://vendor failed"),
            "{msg}"
        );
    }

    #[test]
    fn the_rustls_error_is_found_inside_nested_io_errors() {
        // The shape reqwest hands us: io::Error(Other) around io::Error(InvalidData) around
        // the rustls error.
        let inner = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
        );
        let outer: Box<dyn std::error::Error + Send + Sync> =
            Box::new(std::io::Error::other(inner));
        assert_eq!(
            find_rustls_error(outer.as_ref()),
            Some(&rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer
            ))
        );
        let plain = std::io::Error::other("connection refused");
        assert_eq!(find_rustls_error(&plain), None);
    }
}
