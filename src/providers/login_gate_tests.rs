//! Refused credentials are lockout-safe for every vendor: the provider configuration's health
//! check (what the ProviderConfig controller calls at every poll) sends a wrong password once,
//! then waits, saying until when; a runtime rebuilt with the same Secret waits too; a corrected
//! Secret is tried at once. Logins are counted at each vendor's simulator.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::api::common::ProviderConfigKind;
use crate::api::provider_config::ProviderConfigCommon;
use crate::engine::hub::ProviderKey;
use crate::simulators::cyberbackup::{CyberBackupSim, SimConfig};
use crate::simulators::harness::SimControl;
use crate::simulators::huawei_cbr::{CbrSim, CbrSimConfig};
use crate::simulators::ideco::{self, IdecoSimOptions};
use crate::simulators::rs_server::RsServerSim;
use crate::simulators::rubackup::{RuBackupSim, SimConfig as RuBackupSimConfig};
use crate::vendor::error::ErrorKind;

/// One vendor simulator, the configuration that reaches it, its right credentials (the
/// password under `password`), and the operation its simulator counts logins under.
struct Vendor {
    name: &'static str,
    control: Arc<SimControl>,
    spec: Value,
    credentials: Vec<(&'static str, String)>,
    login: String,
    _running: Box<dyn std::any::Any + Send>,
}

fn loopback() -> std::net::SocketAddr {
    "127.0.0.1:0".parse().expect("loopback")
}

fn spec(type_: &str, url: &str, block: &str, settings: Value) -> Value {
    json!({"type": type_, "endpoint": url, block: settings, "pollIntervalSeconds": 5,
           "budget": {"qps": 1000.0, "burst": 1000, "maxInFlight": 16}})
}

async fn vendors() -> Vec<Vendor> {
    let mut out = Vec::new();

    let config = CbrSimConfig::default();
    let user = config.users[0].clone();
    let (project_name, project_id) = config.projects[0].clone();
    let sim = CbrSim::start(config, loopback()).await.unwrap();
    let url = sim.url();
    out.push(Vendor {
        name: "HuaweiCbr",
        control: sim.server.control.clone(),
        spec: spec(
            "HuaweiCbr",
            &url,
            "huaweiCbr",
            json!({"projectId": project_id, "authMethod": "Password", "iamEndpoint": url, "projectName": project_name}),
        ),
        credentials: vec![
            ("username", user.name),
            ("password", user.password),
            ("domainName", user.domain),
        ],
        login: "POST /v3/auth/tokens".into(),
        _running: Box::new(sim),
    });

    let options = IdecoSimOptions::default();
    let login = format!("POST {}", options.login_path);
    let (server, sim) = ideco::start(loopback(), options.clone()).await.unwrap();
    out.push(Vendor {
        name: "Ideco",
        control: server.control.clone(),
        spec: spec("Ideco", &server.url(), "ideco", json!({})),
        credentials: vec![("login", options.login), ("password", options.password)],
        login,
        _running: Box::new((server, sim)),
    });

    let sim = RsServerSim::start(loopback()).await.unwrap();
    sim.state.add_user("svc-backup", "s3cret-Pa55");
    let url = sim.url();
    out.push(Vendor {
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
        login: "POST /v3/auth/tokens".into(),
        _running: Box::new(sim),
    });

    let config = SimConfig::default();
    let (username, password) = config.users.iter().next().unwrap();
    let credentials = vec![
        ("username", username.clone()),
        ("password", password.clone()),
    ];
    let sim = CyberBackupSim::start(loopback(), config).await.unwrap();
    out.push(Vendor {
        name: "CyberBackup",
        control: sim.control().clone(),
        spec: spec("CyberBackup", &sim.url(), "cyberBackup", json!({})),
        credentials,
        login: "POST /idp/token".into(),
        _running: Box::new(sim),
    });

    let sim = RuBackupSim::start(RuBackupSimConfig::new(&[("rubackup", "12345")]), loopback())
        .await
        .unwrap();
    out.push(Vendor {
        name: "RuBackup",
        control: sim.server.control.clone(),
        spec: spec("RuBackup", &sim.url(), "ruBackup", json!({})),
        credentials: vec![
            ("username", "rubackup".into()),
            ("password", "12345".into()),
        ],
        login: "POST /api/v1/auth/login".into(),
        _running: Box::new(sim),
    });
    out
}

/// A new runtime (a new world: nothing cached) with `password`, and its health check.
async fn check(v: &Vendor, password: &str) -> Result<(), crate::vendor::error::VendorError> {
    let common: ProviderConfigCommon = serde_json::from_value(v.spec.clone()).unwrap();
    let key = ProviderKey {
        kind: ProviderConfigKind::ProviderConfig,
        namespace: Some("gate".into()),
        name: v.name.to_lowercase(),
    };
    let world = crate::providers::test_world();
    let credentials: Vec<(&str, &str)> = v
        .credentials
        .iter()
        .map(|(k, value)| {
            (
                *k,
                if *k == "password" {
                    password
                } else {
                    value.as_str()
                },
            )
        })
        .collect();
    world.source.set(key.clone(), common, &credentials);
    let rt = world
        .hub
        .runtime(&key)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", v.name));
    for _ in 0..3 {
        rt.check().await?;
    }
    Ok(())
}

#[tokio::test]
async fn a_wrong_password_is_tried_once_per_backoff_by_every_vendors_health_check() {
    for v in vendors().await {
        let wrong = format!("wrong-{}", v.name);
        // Three checks of one runtime, then a rebuilt runtime (a new poll interval, a restart of
        // the hub's entry) with the same Secret.
        for _ in 0..2 {
            let e = check(&v, &wrong).await.expect_err(v.name);
            assert_eq!(e.kind, ErrorKind::Unauthorized, "{}: {e}", v.name);
            let text = e.to_string();
            assert!(
                text.contains("the next login attempt will be made at"),
                "{}: says when it tries again: {text}",
                v.name
            );
            assert!(
                !text.contains(&wrong),
                "{}: the password leaked: {text}",
                v.name
            );
        }
        assert_eq!(
            v.control.count(&v.login),
            1,
            "{}: one login with the wrong password",
            v.name
        );
        // The corrected Secret is tried at once.
        let right = v
            .credentials
            .iter()
            .find(|(k, _)| *k == "password")
            .unwrap()
            .1
            .clone();
        check(&v, &right)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", v.name));
        assert_eq!(v.control.count(&v.login), 2, "{}", v.name);
    }
}
