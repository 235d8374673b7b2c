//! The Kubernetes side failing and changing under the operator: the API server restarted
//! mid-run (every watch broken and resumed), two replicas with leader election whose leader is
//! frozen past its lease with work in flight, and the CRDs uninstalled.

use std::time::{Duration, Instant, SystemTime};

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use kube::api::Api;
use rampart::api::Vault;
use rampart::simulators::harness::Faults;
use rampart::simulators::huawei_cbr::{CbrSim, CbrSimConfig};
use serde_json::json;

use crate::crash::PROJECT;
use crate::plane::{NS, Plane, all_ready, external_names, obj};

async fn cbr_plane(poll: u64) -> (Plane, CbrSim) {
    cbr_plane_with_budget(poll, json!({"qps": 200, "burst": 100})).await
}

async fn cbr_plane_with_budget(poll: u64, budget: serde_json::Value) -> (Plane, CbrSim) {
    let plane = Plane::start().await;
    let sim = CbrSim::start(CbrSimConfig::default(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    plane
        .provider(
            "cbr",
            json!({"type": "HuaweiCbr", "endpoint": sim.url(), "pollIntervalSeconds": poll, "budget": budget,
                   "huaweiCbr": {"projectId": PROJECT, "authMethod": "Password", "iamEndpoint": sim.url(), "projectName": "ru-moscow-1"}}),
            json!({"username": "rampart", "password": "rampart-password", "domainName": "rampart-domain"}),
        )
        .await;
    (plane, sim)
}

async fn create_vaults(plane: &Plane, prefix: &str, n: usize, extra: serde_json::Value) {
    let vaults = plane.api::<Vault>();
    for i in 0..n {
        let mut spec = json!({"providerConfigRef": {"name": "cbr"}, "huaweiCbr": {"objectType": "server", "sizeGB": 100}});
        if let (Some(s), Some(e)) = (spec.as_object_mut(), extra.as_object()) {
            s.extend(e.clone());
        }
        vaults
            .create(
                &Default::default(),
                &obj("Vault", &format!("{prefix}-{i:02}"), spec),
            )
            .await
            .unwrap();
    }
}

fn vendor_vaults(sim: &CbrSim) -> Vec<String> {
    let mut v: Vec<String> = sim
        .console()
        .project(PROJECT)
        .vaults
        .iter()
        .map(|v| v.id.clone())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn an_api_server_restart_mid_run_loses_no_update_and_duplicates_nothing() {
    let (mut plane, sim) = cbr_plane(5).await;
    plane.start_operator(&[]);
    create_vaults(&plane, "before", 40, json!({})).await;
    // Restart while the 40 are converging: every watch and in-flight write is cut.
    plane.server.restart().await.expect("API server restarts");
    plane.client = plane.server.client().await.unwrap();
    // Spec changes made after the restart must be seen (the watches resumed).
    create_vaults(&plane, "after", 10, json!({})).await;
    let vaults = plane.api::<Vault>();
    all_ready(&vaults, 50, Duration::from_secs(180)).await;
    vaults
        .patch(
            "before-00",
            &Default::default(),
            &kube::api::Patch::Merge(json!({"spec": {"huaweiCbr": {"sizeGB": 300}}})),
        )
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let id = external_names(&vaults).await;
    loop {
        let grown = sim
            .console()
            .project(PROJECT)
            .vaults
            .iter()
            .any(|v| v.size == 300);
        if grown {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "a change after the restart was lost"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        vendor_vaults(&sim).len(),
        50,
        "exactly one vendor vault per Vault"
    );
    assert_eq!(id, vendor_vaults(&sim), "and each belongs to its Vault");
}

async fn lease(plane: &Plane) -> Option<LeaseSpec> {
    let leases: Api<Lease> = Api::namespaced(plane.client.clone(), "default");
    leases.get_opt("rampart-leader").await.ok().flatten()?.spec
}

async fn holder(plane: &Plane) -> Option<String> {
    lease(plane).await?.holder_identity
}

async fn await_holder(plane: &Plane, who: &str, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while holder(plane).await.as_deref() != Some(who) {
        assert!(Instant::now() < deadline, "{who} never led");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Vendor writes (anything but a read) that replica `who` sent, as the simulator saw them.
fn writes_by(sim: &CbrSim, who: &str) -> Vec<rampart::simulators::harness::LoggedRequest> {
    let agent = format!("(replica {who})");
    sim.control()
        .requests()
        .into_iter()
        .filter(|r| r.is_write() && r.agent.contains(&agent))
        .collect()
}

const LEASE_SECONDS: u64 = 6;

fn replica(id: &'static str) -> [&'static str; 7] {
    [
        "--leader-elect",
        "--lease-namespace",
        "default",
        "--lease-duration-seconds",
        "6",
        "--lease-identity",
        id,
    ]
}

/// The leader is frozen (SIGSTOP) while it works through 40 Vaults behind a slow vendor budget,
/// and stays frozen past its lease; the standby takes over and finishes. Thawed (SIGCONT), the
/// old leader's reconciles resume before it has heard from the API server that it lost the
/// lease: it must send no vendor write from the moment its lease ran out (counted by replica,
/// from the User-Agent each replica sends), and it must exit. Every Vault ends with exactly one
/// vendor vault, created once.
#[tokio::test]
async fn a_leader_frozen_past_its_lease_makes_no_vendor_write_after_losing_it() {
    // 4 requests/s to the vendor: 40 creates take ten seconds, so most wait in the budget.
    let (mut plane, sim) =
        cbr_plane_with_budget(5, json!({"qps": 4, "burst": 1, "maxInFlight": 4})).await;
    sim.control().record_requests();
    sim.control().set_faults(Faults {
        latency_ms: 100,
        ..Default::default()
    });
    let a = plane.start_operator(&replica("replica-a"));
    await_holder(&plane, "replica-a", Duration::from_secs(30)).await;
    let _b = plane.start_operator(&replica("replica-b"));
    create_vaults(&plane, "work", 40, json!({})).await;
    // Freeze it in full flow: a few vaults made, the next creates waiting in its budget.
    let create = format!("POST /v3/{PROJECT}/vaults");
    let deadline = Instant::now() + Duration::from_secs(60);
    while writes_by(&sim, "replica-a")
        .iter()
        .filter(|w| w.request == create)
        .count()
        < 4
    {
        assert!(Instant::now() < deadline, "replica-a never created");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    plane.signal(a, "STOP");
    let frozen = Instant::now();
    let done_at_freeze = vendor_vaults(&sim).len();
    let spec = lease(&plane).await.expect("a lease");
    assert_eq!(spec.holder_identity.as_deref(), Some("replica-a"));
    let renewed: SystemTime = spec.renew_time.expect("renewed").0.into();
    let lost_at = renewed + Duration::from_secs(LEASE_SECONDS);
    eprintln!(
        "froze the leader with {done_at_freeze} of 40 vendor vaults made, {} to go",
        40 - done_at_freeze
    );
    assert!(
        40 - done_at_freeze >= 20,
        "the freeze must land with work in flight: {done_at_freeze} of 40 done"
    );

    await_holder(&plane, "replica-b", Duration::from_secs(60)).await;
    let takeover = frozen.elapsed();
    eprintln!("takeover after the leader was frozen: {takeover:?}");
    assert!(
        takeover <= Duration::from_secs(LEASE_SECONDS * 2),
        "takeover took {takeover:?}"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while writes_by(&sim, "replica-b").is_empty() {
        assert!(Instant::now() < deadline, "replica-b never wrote");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    plane.signal(a, "CONT");
    let exit = plane.exit_of(a, Duration::from_secs(30)).await;
    assert!(
        exit.is_some(),
        "the old leader keeps running after losing its lease"
    );
    let log = plane.log_of(a);
    let refused = log.matches("leadership lease may have lapsed").count();
    let why: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("lost leadership"))
        .collect();
    eprintln!("the thawed leader: {refused} vendor calls refused by its fence; {why:?}; {exit:?}");
    assert!(!why.is_empty(), "it says why it exits");
    all_ready(&plane.api::<Vault>(), 40, Duration::from_secs(120)).await;

    let late: Vec<_> = writes_by(&sim, "replica-a")
        .into_iter()
        .filter(|w| w.wall >= lost_at)
        .collect();
    assert!(
        late.is_empty(),
        "the old leader wrote to the vendor after its lease ran out: {late:#?}"
    );
    assert_eq!(vendor_vaults(&sim).len(), 40, "nothing created twice");
    assert_eq!(
        external_names(&plane.api::<Vault>()).await,
        vendor_vaults(&sim),
        "each vendor vault belongs to its Vault"
    );
    let creates = sim
        .control()
        .requests()
        .iter()
        .filter(|r| r.request == create)
        .count();
    assert_eq!(
        creates, 40,
        "one vendor create per Vault across both replicas"
    );
    std::fs::write(
        plane.server.data_dir.join("takeover-ms"),
        takeover.as_millis().to_string(),
    )
    .ok();
}

#[tokio::test]
async fn uninstalling_the_crds_never_deletes_vendor_objects() {
    let (mut plane, sim) = cbr_plane(5).await;
    plane.start_operator(&[]);
    create_vaults(&plane, "kept", 5, json!({"deletionPolicy": "Delete"})).await;
    all_ready(&plane.api::<Vault>(), 5, Duration::from_secs(60)).await;
    let out = plane
        .server
        .kubectl(&["delete", "crd", "vaults.rampart.dev", "--timeout=120s"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        vendor_vaults(&sim).len(),
        5,
        "uninstalling the CRD left every vendor vault in place"
    );
    let events = plane
        .server
        .kubectl(&["get", "events", "-n", NS, "-o", "json"]);
    let said = String::from_utf8_lossy(&events.stdout)
        .matches("the CustomResourceDefinition is being uninstalled")
        .count();
    assert!(
        said >= 5,
        "each Vault says why its vendor vault was left: {said} events"
    );
}
