//! The vendor fault matrix: for every vendor, objects converge through 10 % 5xx, 429 with
//! Retry-After, requests that hang past the timeout, dropped connections, and tokens revoked
//! (the vendor restarting and losing its sessions) every two seconds. Once the faults clear,
//! everything is Ready; the vendor never sees more than the configured budget; no object costs
//! an unbounded number of calls.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kube::api::Api;
use rampart::api::{FirewallRule, Vault};
use rampart::simulators::cyberbackup::{CyberBackupSim, SimConfig as CyberConfig};
use rampart::simulators::harness::{Faults, SimControl};
use rampart::simulators::huawei_cbr::{CbrSim, CbrSimConfig};
use rampart::simulators::ideco::{self, IdecoSimOptions};
use rampart::simulators::rs_server::RsServerSim;
use rampart::simulators::rubackup::{RuBackupSim, SimConfig as RbConfig};
use serde_json::{Value, json};

use crate::crash::PROJECT;
use crate::plane::{Plane, all_ready, obj};

const QPS: f64 = 20.0;
const BURST: u32 = 10;

fn budget() -> Value {
    json!({"qps": QPS, "burst": BURST, "maxInFlight": 4})
}

fn common(kind: &str, endpoint: String) -> Value {
    json!({"type": kind, "endpoint": endpoint, "pollIntervalSeconds": 5, "requestTimeoutSeconds": 2, "budget": budget()})
}

fn faults() -> Faults {
    Faults {
        error_rate: 0.1,
        throttle_rate: 0.1,
        retry_after_secs: 1,
        hang_rate: 0.05,
        hang_ms: 3000,
        drop_rate: 0.05,
        ..Default::default()
    }
}

/// Turn the faults on, revoke every session every two seconds for `duration`, then clear.
async fn storm(ctl: &Arc<SimControl>, duration: Duration) {
    ctl.set_faults(faults());
    let until = Instant::now() + duration;
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_secs(2)).await;
        ctl.revoke_tokens();
    }
    ctl.set_faults(Faults::default());
}

/// No one-second window holds more requests than the budget allows (rate plus burst), and
/// the calls per object stay bounded (no hot loop).
fn assert_budget_and_calls(vendor: &str, ctl: &SimControl, objects: usize) {
    let times = ctl.request_times(|_| true);
    let mut worst = 0;
    for (i, t) in times.iter().enumerate() {
        let in_window = times[i..]
            .iter()
            .take_while(|u| u.duration_since(*t) < Duration::from_secs(1))
            .count();
        worst = worst.max(in_window);
    }
    let allowed = QPS as usize + BURST as usize;
    assert!(
        worst <= allowed,
        "{vendor}: {worst} requests in one second; the budget allows {allowed}"
    );
    let per_object = times.len() as f64 / objects as f64;
    assert!(
        per_object < 40.0,
        "{vendor}: {per_object:.1} vendor calls per object: a hot loop"
    );
    eprintln!(
        "{vendor}: {} calls for {objects} objects ({per_object:.1}/object), worst second {worst}",
        times.len()
    );
}

async fn cbr_case(plane: &mut Plane) {
    let sim = CbrSim::start(CbrSimConfig::default(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let mut spec = common("HuaweiCbr", sim.url());
    spec["huaweiCbr"] = json!({"projectId": PROJECT, "authMethod": "Password", "iamEndpoint": sim.url(), "projectName": "ru-moscow-1"});
    plane.provider("cbr", spec, json!({"username": "rampart", "password": "rampart-password", "domainName": "rampart-domain"})).await;
    sim.control().record_requests();
    let vaults: Api<Vault> = plane.api();
    for i in 0..8 {
        vaults.create(&Default::default(), &obj("Vault", &format!("cbr-{i}"), json!({"providerConfigRef": {"name": "cbr"}, "huaweiCbr": {"objectType": "server", "sizeGB": 100}}))).await.unwrap();
    }
    storm(sim.control(), Duration::from_secs(12)).await;
    all_ready(&vaults, 8, Duration::from_secs(180)).await;
    assert_eq!(
        sim.console().project(PROJECT).vaults.len(),
        8,
        "CBR: no duplicate under faults"
    );
    assert_budget_and_calls("huawei-cbr", sim.control(), 8);
}

async fn ideco_case(plane: &mut Plane) {
    let opts = IdecoSimOptions::default();
    let (server, sim) = ideco::start("127.0.0.1:0".parse().unwrap(), opts.clone())
        .await
        .unwrap();
    let mut spec = common("Ideco", server.url());
    spec["ideco"] = json!({});
    plane
        .provider(
            "ngfw",
            spec,
            json!({"login": opts.login, "password": opts.password}),
        )
        .await;
    server.control.record_requests();
    let rules: Api<FirewallRule> = plane.api();
    for i in 0..8 {
        rules
            .create(&Default::default(), &obj("FirewallRule", &format!("fw-{i}"), json!({"providerConfigRef": {"name": "ngfw"}, "ideco": {"section": "input", "action": "accept", "comment": format!("fw-{i}"), "placement": {"block": "Top", "priority": i}}})))
            .await
            .unwrap();
    }
    storm(&server.control, Duration::from_secs(12)).await;
    all_ready(&rules, 8, Duration::from_secs(180)).await;
    let owned = sim
        .rules(rampart::api::vendors::ideco::IdecoSection::Input)
        .iter()
        .filter(|r| r["comment"].as_str().unwrap_or("").contains("[rampart:"))
        .count();
    assert_eq!(owned, 8, "Ideco: no duplicate under faults");
    assert_budget_and_calls("ideco", &server.control, 8);
}

async fn cyber_case(plane: &mut Plane) {
    let sim = CyberBackupSim::start(
        "127.0.0.1:0".parse().unwrap(),
        CyberConfig {
            users: [("admin".to_string(), "cyber-s3cret-pw".to_string())].into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let mut spec = common("CyberBackup", sim.url());
    spec["cyberBackup"] = json!({});
    plane
        .provider(
            "cyber",
            spec,
            json!({"username": "admin", "password": "cyber-s3cret-pw"}),
        )
        .await;
    let share: k8s_openapi::api::core::v1::Secret = serde_json::from_value(
        json!({"metadata": {"name": "share"}, "stringData": {"identity": "svc", "secret": "x"}}),
    )
    .unwrap();
    plane
        .api::<k8s_openapi::api::core::v1::Secret>()
        .create(&Default::default(), &share)
        .await
        .unwrap();
    sim.control().record_requests();
    let vaults: Api<Vault> = plane.api();
    for i in 0..4 {
        vaults
            .create(&Default::default(), &obj("Vault", &format!("cyber-{i}"), json!({"providerConfigRef": {"name": "cyber"}, "cyberBackup": {
                "locationType": "VAULT", "name": format!("share-{i}"), "storageType": "LOCAL_FOLDER", "uri": format!("E:/b/{i}/"),
                "credentialsSecretRef": {"name": "share"}, "credentialsScope": {"type": "folder"}}})))
            .await
            .unwrap();
    }
    storm(sim.control(), Duration::from_secs(12)).await;
    all_ready(&vaults, 4, Duration::from_secs(180)).await;
    assert_budget_and_calls("cyberbackup", sim.control(), 4);
}

async fn rubackup_case(plane: &mut Plane) {
    let sim = RuBackupSim::start(
        RbConfig::new(&[("rubackup", "rb-s3cret-pw")]),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let mut spec = common("RuBackup", sim.url());
    spec["ruBackup"] = json!({"database": "rubackup", "authType": "Database"});
    plane
        .provider(
            "rb",
            spec,
            json!({"username": "rubackup", "password": "rb-s3cret-pw"}),
        )
        .await;
    sim.server.control.record_requests();
    let vaults: Api<Vault> = plane.api();
    for i in 0..4 {
        vaults
            .create(&Default::default(), &obj("Vault", &format!("rb-{i}"), json!({"providerConfigRef": {"name": "rb"}, "ruBackup": {"name": format!("pool-{i}"), "poolType": "File system", "mediaServer": "rubackup-server"}})))
            .await
            .unwrap();
    }
    storm(&sim.server.control, Duration::from_secs(12)).await;
    all_ready(&vaults, 4, Duration::from_secs(180)).await;
    assert!(
        sim.sim.failed_logins("rubackup") == 0,
        "faults never turned into wrong-password attempts"
    );
    assert_budget_and_calls("rubackup", &sim.server.control, 4);
}

async fn rs_case(plane: &mut Plane) {
    let rs = RsServerSim::start_local().await.unwrap();
    let user = rs.state.add_user("reader", "pw");
    let token = rs.state.issue_token(&user, None);
    let project = rs.state.add_project("desktops");
    for i in 0..3 {
        rs.state.add_server(&project, &format!("desk-{i}"));
    }
    let mut spec = common("RsServer", rs.url());
    spec["rsServer"] = json!({"authMethod": "Token"});
    plane.provider("rs", spec, json!({"token": token})).await;
    rs.control().record_requests();
    let vaults: Api<Vault> = plane.api();
    vaults
        .create(&Default::default(), &obj("Vault", "desktops", json!({"providerConfigRef": {"name": "cbr"}, "huaweiCbr": {"objectType": "server", "sizeGB": 100, "resourcesFrom": {"rsServer": {"providerConfigRef": {"name": "rs"}, "project": {"name": "desktops"}}}}})))
        .await
        .unwrap();
    // Revoking every token here would need a new one from the Secret; RS tokens come from the
    // Secret, so only the transport faults apply.
    rs.control().set_faults(faults());
    tokio::time::sleep(Duration::from_secs(12)).await;
    rs.control().set_faults(Faults::default());
    all_ready(&vaults, 1, Duration::from_secs(180)).await;
    assert_budget_and_calls("rs-server", rs.control(), 1);
}

/// Every credential used in this file; none may reach the operator's log.
const SECRETS: [&str; 3] = ["rampart-password", "cyber-s3cret-pw", "rb-s3cret-pw"];

async fn run(case: impl AsyncFnOnce(&mut Plane)) {
    let mut plane = Plane::start().await;
    plane.start_operator(&[]);
    case(&mut plane).await;
    for secret in SECRETS {
        assert!(
            !plane.logs().contains(secret),
            "a credential leaked into the operator log"
        );
    }
}

#[tokio::test]
async fn huawei_cbr_converges_through_faults_within_its_budget() {
    run(cbr_case).await;
}

#[tokio::test]
async fn ideco_converges_through_faults_within_its_budget() {
    run(ideco_case).await;
}

#[tokio::test]
async fn cyber_backup_converges_through_faults_within_its_budget() {
    run(cyber_case).await;
}

#[tokio::test]
async fn rubackup_converges_through_faults_within_its_budget() {
    run(rubackup_case).await;
}

#[tokio::test]
async fn rs_server_inventory_converges_through_faults_within_its_budget() {
    run(async |plane: &mut Plane| {
        let sim = CbrSim::start(CbrSimConfig::default(), "127.0.0.1:0".parse().unwrap()).await.unwrap();
        let mut spec = common("HuaweiCbr", sim.url());
        spec["huaweiCbr"] = json!({"projectId": PROJECT, "authMethod": "Password", "iamEndpoint": sim.url(), "projectName": "ru-moscow-1"});
        plane.provider("cbr", spec, json!({"username": "rampart", "password": "rampart-password", "domainName": "rampart-domain"})).await;
        rs_case(plane).await;
    })
    .await;
}
