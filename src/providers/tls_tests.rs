//! Every vendor against its simulator served over HTTPS with a private chain (root →
//! intermediate → loopback leaf; the server sends leaf + intermediate), connected the way the
//! operator connects it: a ProviderConfig in a `TestWorld`, the vendor's `connect`, and the
//! runtime's authenticated `check`.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::api::common::ProviderConfigKind;
use crate::api::provider_config::{ProviderConfigCommon, ProviderObservation};
use crate::engine::hub::{HubError, ProviderKey};
use crate::simulators::cyberbackup::{CyberBackupSim, SimConfig};
use crate::simulators::harness::SimControl;
use crate::simulators::huawei_cbr::{CbrSim, CbrSimConfig};
use crate::simulators::ideco::{self, IdecoSimOptions};
use crate::simulators::loopback_pki::LoopbackPki;
use crate::simulators::rs_server::RsServerSim;
use crate::simulators::rubackup::{RuBackupSim, SimConfig as RuBackupSimConfig};
use crate::simulators::tls_listener::TlsIdentity;
use crate::vendor::error::{ErrorKind, VendorError};

/// One vendor simulator served over HTTPS, and the ProviderConfig that reaches it (without
/// trust settings; each test adds its own).
struct HttpsVendor {
    name: &'static str,
    control: Arc<SimControl>,
    spec: Value,
    credentials: Vec<(&'static str, String)>,
    /// Keeps the simulator serving until the test ends.
    _running: Box<dyn std::any::Any + Send>,
}

fn loopback() -> std::net::SocketAddr {
    "127.0.0.1:0".parse().expect("loopback")
}

fn spec(type_: &str, url: &str, block: &str, settings: Value) -> Value {
    json!({"type": type_, "endpoint": url, block: settings,
           "budget": {"qps": 1000.0, "burst": 1000, "maxInFlight": 16}})
}

/// CBR with password login, so both the CBR and the IAM client are exercised.
async fn cbr(identity: TlsIdentity) -> HttpsVendor {
    let config = CbrSimConfig::default();
    let user = config.users[0].clone();
    let (project_name, project_id) = config.projects[0].clone();
    let sim = CbrSim::start_tls(config, loopback(), identity)
        .await
        .unwrap();
    let url = sim.url();
    HttpsVendor {
        name: "HuaweiCbr",
        control: sim.server.control.clone(),
        spec: spec(
            "HuaweiCbr",
            &url,
            "huaweiCbr",
            json!({"projectId": project_id, "authMethod": "Password", "iamEndpoint": url,
                   "projectName": project_name}),
        ),
        credentials: vec![
            ("username", user.name),
            ("password", user.password),
            ("domainName", user.domain),
        ],
        _running: Box::new(sim),
    }
}

async fn ideco(identity: TlsIdentity) -> HttpsVendor {
    let options = IdecoSimOptions::default();
    let (server, sim) = ideco::start_tls(loopback(), options.clone(), identity)
        .await
        .unwrap();
    HttpsVendor {
        name: "Ideco",
        control: server.control.clone(),
        spec: spec("Ideco", &server.url(), "ideco", json!({})),
        credentials: vec![("login", options.login), ("password", options.password)],
        _running: Box::new((server, sim)),
    }
}

/// RS server with a Keystone password login, so both its clients are exercised.
async fn rs_server(identity: TlsIdentity) -> HttpsVendor {
    let sim = RsServerSim::start_tls(loopback(), identity).await.unwrap();
    sim.state.add_user("svc-backup", "s3cret-Pa55");
    let url = sim.url();
    HttpsVendor {
        name: "RsServer",
        control: sim.control().clone(),
        spec: spec(
            "RsServer",
            &url,
            "rsServer",
            json!({"authMethod": "Password", "identityEndpoint": url, "projectName": "admin"}),
        ),
        credentials: vec![
            ("username", "svc-backup".into()),
            ("password", "s3cret-Pa55".into()),
        ],
        _running: Box::new(sim),
    }
}

/// RuBackup, whose API is HTTPS only (L26-39): login, then the authenticated `server_hello`.
async fn rubackup(identity: TlsIdentity) -> HttpsVendor {
    let (user, password) = ("rubackup", "rb-tls-Pa55");
    let sim = RuBackupSim::start_tls(
        RuBackupSimConfig::new(&[(user, password)]),
        loopback(),
        identity,
    )
    .await
    .unwrap();
    HttpsVendor {
        name: "RuBackup",
        control: sim.server.control.clone(),
        spec: spec("RuBackup", &sim.url(), "ruBackup", json!({})),
        credentials: vec![("username", user.into()), ("password", password.into())],
        _running: Box::new(sim),
    }
}

async fn cyber_backup(identity: TlsIdentity) -> HttpsVendor {
    let config = SimConfig::default();
    let (username, password) = config.users.iter().next().unwrap();
    let credentials = vec![
        ("username", username.clone()),
        ("password", password.clone()),
    ];
    let sim = CyberBackupSim::start_tls(loopback(), config, identity)
        .await
        .unwrap();
    HttpsVendor {
        name: "CyberBackup",
        control: sim.control().clone(),
        spec: spec("CyberBackup", &sim.url(), "cyberBackup", json!({})),
        credentials,
        _running: Box::new(sim),
    }
}

/// Every vendor rampart has, each serving the same chain. The tests below check there are five.
async fn vendors(pki: &LoopbackPki) -> Vec<HttpsVendor> {
    vec![
        cbr(pki.identity()).await,
        ideco(pki.identity()).await,
        rs_server(pki.identity()).await,
        cyber_backup(pki.identity()).await,
        rubackup(pki.identity()).await,
    ]
}

/// Connect with `trust` (the `caBundle`/`insecureSkipVerify` fields) merged into the spec, as
/// the operator would, and make the vendor's authenticated check.
async fn connect_and_check(
    vendor: &HttpsVendor,
    trust: Value,
) -> Result<ProviderObservation, VendorError> {
    let mut spec = vendor.spec.clone();
    spec.as_object_mut()
        .unwrap()
        .extend(trust.as_object().unwrap().clone());
    let common: ProviderConfigCommon = serde_json::from_value(spec).unwrap();
    let key = ProviderKey {
        kind: ProviderConfigKind::ProviderConfig,
        namespace: Some("tls".into()),
        name: vendor.name.to_lowercase(),
    };
    let world = crate::providers::test_world();
    let credentials: Vec<(&str, &str)> = vendor
        .credentials
        .iter()
        .map(|(k, v)| (*k, v.as_str()))
        .collect();
    world.source.set(key.clone(), common, &credentials);
    let runtime = match world.hub.runtime(&key).await {
        Ok(rt) => rt,
        Err(HubError::Connect { source, .. }) => return Err(*source),
        Err(other) => panic!("{}: {other}", vendor.name),
    };
    runtime.check().await
}

fn assert_untrusted(vendor: &HttpsVendor, result: Result<ProviderObservation, VendorError>) {
    let err = result.expect_err(vendor.name);
    assert_eq!(err.kind, ErrorKind::Config, "{}: {err}", vendor.name);
    let text = err.to_string();
    assert!(
        text.contains("TLS certificate") && text.contains("is not trusted"),
        "{}: {text}",
        vendor.name
    );
    assert!(text.contains("spec.caBundle"), "{}: {text}", vendor.name);
    // The handshake failed, so not one request reached the vendor.
    assert_eq!(vendor.control.total(), 0, "{}", vendor.name);
}

#[tokio::test]
async fn without_a_ca_bundle_every_vendor_refuses_the_certificate_as_not_trusted() {
    let pki = LoopbackPki::generate().unwrap();
    let all = vendors(&pki).await;
    let names: Vec<&str> = all.iter().map(|v| v.name).collect();
    assert_eq!(
        names,
        ["HuaweiCbr", "Ideco", "RsServer", "CyberBackup", "RuBackup"],
        "every vendor rampart has is covered"
    );
    for vendor in all {
        let result = connect_and_check(&vendor, json!({})).await;
        assert_untrusted(&vendor, result);
    }
}

#[tokio::test]
async fn with_the_root_ca_as_ca_bundle_every_vendor_verifies_the_chain_and_connects() {
    let pki = LoopbackPki::generate().unwrap();
    for vendor in vendors(&pki).await {
        connect_and_check(&vendor, json!({"caBundle": pki.root_pem()}))
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", vendor.name));
        assert!(vendor.control.total() > 0, "{}", vendor.name);
    }
}

#[tokio::test]
async fn a_ca_bundle_holding_another_root_is_still_not_trusted() {
    let pki = LoopbackPki::generate().unwrap();
    let stranger = LoopbackPki::generate().unwrap();
    for vendor in vendors(&pki).await {
        let result = connect_and_check(&vendor, json!({"caBundle": stranger.root_pem()})).await;
        assert_untrusted(&vendor, result);
    }
}

#[tokio::test]
async fn insecure_skip_verify_without_a_bundle_connects_to_every_vendor() {
    let pki = LoopbackPki::generate().unwrap();
    for vendor in vendors(&pki).await {
        connect_and_check(&vendor, json!({"insecureSkipVerify": true}))
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", vendor.name));
        assert!(vendor.control.total() > 0, "{}", vendor.name);
    }
}

#[tokio::test]
async fn a_ca_bundle_that_is_not_pem_is_a_config_error_naming_ca_bundle_for_every_vendor() {
    let pki = LoopbackPki::generate().unwrap();
    for vendor in vendors(&pki).await {
        for bundle in [
            "not a certificate",
            pki.root_pem().replace("BEGIN", "BEGAN").as_str(),
        ] {
            let err = connect_and_check(&vendor, json!({"caBundle": bundle}))
                .await
                .expect_err(vendor.name);
            assert_eq!(err.kind, ErrorKind::Config, "{}: {err}", vendor.name);
            assert!(err.message.contains("caBundle"), "{}: {err}", vendor.name);
            assert!(!err.message.contains(bundle), "the bundle is not quoted");
        }
        assert_eq!(vendor.control.total(), 0, "{}", vendor.name);
    }
}
