//! No secret anywhere it could be read: every credential and every token kind of every vendor
//! (passwords, the CBR AK/SK secret key, IAM tokens given and issued, RuBackup access, refresh
//! and CSRF tokens, Cyber Backup bearer and id tokens, Ideco session cookies, RS server tokens
//! given and issued by Keystone, a share's secret registered with Cyber Backup) is searched for
//! in the operator's log at debug level (every crate), in every Event, in every rampart object
//! (spec, annotations, status) and on `/metrics`. The run includes refused logins, sessions
//! revoked mid-run (re-logins, 401s, errors quoted in conditions), so the error paths are
//! searched too. The simulators list what they issued (`SimControl::issued_secrets`, also at
//! `/_sim/issued-secrets`), and each must have issued some, or the search proves nothing.

use std::time::Duration;

use k8s_openapi::api::core::v1::Event;
use rampart::api::{FirewallRule, ProviderConfig, Vault};
use rampart::simulators::cyberbackup::{CyberBackupSim, SimConfig as CyberConfig};
use rampart::simulators::harness::SimControl;
use rampart::simulators::huawei_cbr::{CbrSim, CbrSimConfig};
use rampart::simulators::ideco::{self, IdecoSimOptions};
use rampart::simulators::rs_server::RsServerSim;
use rampart::simulators::rubackup::{RuBackupSim, SimConfig as RbConfig};
use serde_json::json;

use crate::crash::PROJECT;
use crate::plane::{Plane, all_ready, obj};

fn loopback() -> std::net::SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

const CBR_PASSWORD: &str = "rampart-password";
const CBR_SECRET_KEY: &str = "rampartSimSecretKey0123456789";
const RB_PASSWORD: &str = "rb-secret-Pa55";
const RB_WRONG_PASSWORD: &str = "rb-wrong-Pa55-never-right";
const CYBER_PASSWORD: &str = "cyber-secret-Pa55";
const SHARE_SECRET: &str = "share-secret-Pa55";
const RS_PASSWORD: &str = "rs-secret-Pa55";

/// Wait until `ctl` has issued more than `before` secrets (a login after a revocation).
async fn issued_more(what: &str, ctl: &SimControl, before: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    while ctl.issued_secrets().len() <= before {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} issued nothing new after its sessions were revoked"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Wait until a Warning Event gives `reason` (a refusal, quoted).
async fn warning_event(plane: &Plane, reason: &str) {
    let events = plane.api::<Event>();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let list = events.list(&Default::default()).await.unwrap();
        if list
            .items
            .iter()
            .any(|e| e.type_.as_deref() == Some("Warning") && e.reason.as_deref() == Some(reason))
        {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no Warning Event {reason}: {:#?}",
            list.items
                .iter()
                .map(|e| (&e.type_, &e.involved_object.name, &e.reason, &e.message))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
async fn no_credential_or_token_of_any_vendor_appears_in_logs_events_objects_or_metrics() {
    let mut plane = Plane::start().await;
    let op = plane.start_operator(&[]);
    let cbr = CbrSim::start(CbrSimConfig::default(), loopback())
        .await
        .unwrap();
    let ideco_opts = IdecoSimOptions::default();
    let (ideco_server, _ideco) = ideco::start(loopback(), ideco_opts.clone()).await.unwrap();
    let cyber = CyberBackupSim::start(
        loopback(),
        CyberConfig {
            users: [("admin".to_string(), CYBER_PASSWORD.to_string())].into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let rb = RuBackupSim::start(RbConfig::new(&[("rubackup", RB_PASSWORD)]), loopback())
        .await
        .unwrap();
    let rs = RsServerSim::start_local().await.unwrap();
    let rs_user = rs.state.add_user("reader", RS_PASSWORD);
    let rs_project = rs.state.add_project("desktops");
    rs.state.add_server(&rs_project, "desk-0");
    rs.state.add_server(&rs_project, "desk-1");
    let rs_given_token = rs.state.issue_token(&rs_user, Some(&rs_project));
    let cbr_given_token = cbr.console().issue_token(PROJECT);

    let cbr_common = |auth: &str| {
        json!({"type": "HuaweiCbr", "endpoint": cbr.url(), "pollIntervalSeconds": 5,
               "huaweiCbr": {"projectId": PROJECT, "authMethod": auth, "iamEndpoint": cbr.url(), "projectName": "ru-moscow-1"}})
    };
    plane
        .provider(
            "cbr-pw",
            cbr_common("Password"),
            json!({"username": "rampart", "password": CBR_PASSWORD, "domainName": "rampart-domain"}),
        )
        .await;
    plane
        .provider(
            "cbr-aksk",
            cbr_common("AkSk"),
            json!({"accessKey": "RAMPARTSIMACCESSKEY0", "secretKey": CBR_SECRET_KEY}),
        )
        .await;
    plane
        .provider(
            "cbr-token",
            cbr_common("Token"),
            json!({"token": cbr_given_token}),
        )
        .await;
    plane
        .provider("rb", json!({"type": "RuBackup", "endpoint": rb.url(), "pollIntervalSeconds": 5, "ruBackup": {"database": "rubackup", "authType": "Database"}}), json!({"username": "rubackup", "password": RB_PASSWORD}))
        .await;
    plane
        .provider("rb-wrong", json!({"type": "RuBackup", "endpoint": rb.url(), "pollIntervalSeconds": 5, "ruBackup": {"database": "rubackup", "authType": "Database"}}), json!({"username": "rubackup", "password": RB_WRONG_PASSWORD}))
        .await;
    plane
        .provider("cyber", json!({"type": "CyberBackup", "endpoint": cyber.url(), "pollIntervalSeconds": 5, "cyberBackup": {}}), json!({"username": "admin", "password": CYBER_PASSWORD}))
        .await;
    plane
        .provider("ngfw", json!({"type": "Ideco", "endpoint": ideco_server.url(), "pollIntervalSeconds": 5, "ideco": {}}), json!({"login": ideco_opts.login, "password": ideco_opts.password}))
        .await;
    plane
        .provider("rs-pw", json!({"type": "RsServer", "endpoint": rs.url(), "pollIntervalSeconds": 5, "rsServer": {"authMethod": "Password", "identityEndpoint": rs.url(), "projectName": "desktops"}}), json!({"username": "reader", "password": RS_PASSWORD}))
        .await;
    plane
        .provider("rs-token", json!({"type": "RsServer", "endpoint": rs.url(), "pollIntervalSeconds": 5, "rsServer": {"authMethod": "Token"}}), json!({"token": rs_given_token}))
        .await;
    plane
        .secret("share", json!({"identity": "svc", "secret": SHARE_SECRET}))
        .await;

    let vaults = plane.api::<Vault>();
    // Each RS configuration selects its own server: a server can be in one vault only.
    let cbr_vault = |pc: &str, rs: Option<(&str, &str)>| {
        let mut block = json!({"objectType": "server", "sizeGB": 100});
        if let Some((rs_pc, server)) = rs {
            block["resourcesFrom"] = json!({"rsServer": {"providerConfigRef": {"name": rs_pc}, "project": {"name": "desktops"}, "namePattern": server}});
        }
        json!({"providerConfigRef": {"name": pc}, "huaweiCbr": block})
    };
    let specs = [
        ("cbr-pw", cbr_vault("cbr-pw", Some(("rs-pw", "desk-0")))),
        (
            "cbr-aksk",
            cbr_vault("cbr-aksk", Some(("rs-token", "desk-1"))),
        ),
        ("cbr-token", cbr_vault("cbr-token", None)),
        (
            "rb",
            json!({"providerConfigRef": {"name": "rb"}, "ruBackup": {"name": "pool-s", "poolType": "File system", "mediaServer": "rubackup-server"}}),
        ),
        (
            "cyber",
            json!({"providerConfigRef": {"name": "cyber"}, "cyberBackup": {
            "locationType": "VAULT", "name": "share-s", "storageType": "LOCAL_FOLDER", "uri": "E:/s/",
            "credentialsSecretRef": {"name": "share"}, "credentialsScope": {"type": "folder"}}}),
        ),
    ];
    for (name, spec) in &specs {
        vaults
            .create(&Default::default(), &obj("Vault", name, spec.clone()))
            .await
            .unwrap();
    }
    let rules = plane.api::<FirewallRule>();
    rules
        .create(&Default::default(), &obj("FirewallRule", "fw", json!({"providerConfigRef": {"name": "ngfw"}, "ideco": {"section": "forward", "action": "accept", "comment": "secrets test", "placement": {"block": "Bottom", "priority": 0}}})))
        .await
        .unwrap();
    all_ready(&vaults, specs.len(), Duration::from_secs(120)).await;
    all_ready(&rules, 1, Duration::from_secs(120)).await;

    // Every session revoked: the Password configurations log in again, the given tokens fail
    // (401s quoted in conditions and Events) until the Secrets get new ones.
    let sims: [(&str, &SimControl); 5] = [
        ("huawei-cbr", cbr.control()),
        ("rubackup", &rb.server.control),
        ("cyberbackup", cyber.control()),
        ("ideco", &ideco_server.control),
        ("rs-server", rs.control()),
    ];
    let before: Vec<usize> = sims.iter().map(|(_, c)| c.issued_secrets().len()).collect();
    for (_, ctl) in &sims {
        ctl.revoke_tokens();
    }
    for ((what, ctl), n) in sims.iter().zip(&before) {
        issued_more(what, ctl, *n).await;
    }
    // The given tokens are refused now: wait until their objects say so.
    let pcs = plane.api::<ProviderConfig>();
    for name in ["cbr-token", "rs-token", "rb-wrong"] {
        crate::plane::until_condition(&pcs, name, "Ready", "False").await;
    }
    // The refusals reach Events too: a Vault whose inventory's given token was revoked says so.
    warning_event(&plane, "CredentialsRefused").await;

    let mut secrets: Vec<(String, String)> = [
        ("CBR password", CBR_PASSWORD),
        ("CBR AK/SK secret key", CBR_SECRET_KEY),
        ("CBR IAM token given", cbr_given_token.as_str()),
        ("RuBackup password", RB_PASSWORD),
        ("RuBackup refused password", RB_WRONG_PASSWORD),
        ("Cyber Backup password", CYBER_PASSWORD),
        ("share secret registered with Cyber Backup", SHARE_SECRET),
        ("Ideco password", ideco_opts.password.as_str()),
        ("RS server Keystone password", RS_PASSWORD),
        ("RS server token given", rs_given_token.as_str()),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (what, ctl) in &sims {
        let issued = ctl.issued_secrets();
        eprintln!("{what}: {} secrets issued", issued.len());
        assert!(
            !issued.is_empty(),
            "{what} issued nothing: the search would prove nothing"
        );
        secrets.extend(
            issued
                .into_iter()
                .map(|s| (format!("{what} issued token or cookie"), s)),
        );
    }

    let kubectl_json = |args: &[&str]| {
        let out = plane.server.kubectl(args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let places = [
        ("the operator log (debug)", plane.logs()),
        (
            "Events",
            kubectl_json(&["get", "events", "-A", "-o", "json"]),
        ),
        (
            "rampart objects (spec, annotations, status)",
            kubectl_json(&[
                "get",
                "vaults.rampart.dev,policies.rampart.dev,strategies.rampart.dev,firewallrules.rampart.dev,\
                 providerconfigs.rampart.dev,clusterproviderconfigs.rampart.dev",
                "-A",
                "-o",
                "json",
            ]),
        ),
        ("/metrics", plane.metrics(op).await),
    ];
    for (place, text) in &places {
        assert!(text.len() > 1000, "{place} is nearly empty: {text}");
    }
    let mut found = Vec::new();
    for (what, secret) in &secrets {
        for (place, text) in &places {
            if text.contains(secret.as_str()) {
                found.push(format!("{what} in {place}"));
            }
        }
    }
    eprintln!(
        "searched {} secrets in {} places",
        secrets.len(),
        places.len()
    );
    assert!(found.is_empty(), "secrets found: {found:#?}");
}
