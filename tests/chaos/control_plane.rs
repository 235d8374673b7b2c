//! The Kubernetes side failing and changing under the operator: the API server restarted
//! mid-run (every watch broken and resumed), two replicas with leader election losing their
//! leader, and the CRDs uninstalled.

use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::Lease;
use kube::api::Api;
use rampart::api::Vault;
use rampart::simulators::huawei_cbr::{CbrSim, CbrSimConfig};
use serde_json::json;

use crate::crash::PROJECT;
use crate::plane::{NS, Plane, all_ready, external_names, obj};

async fn cbr_plane(poll: u64) -> (Plane, CbrSim) {
    let plane = Plane::start().await;
    let sim = CbrSim::start(CbrSimConfig::default(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    plane
        .provider(
            "cbr",
            json!({"type": "HuaweiCbr", "endpoint": sim.url(), "pollIntervalSeconds": poll, "budget": {"qps": 200, "burst": 100},
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

async fn holder(plane: &Plane) -> Option<String> {
    let leases: Api<Lease> = Api::namespaced(plane.client.clone(), "default");
    leases
        .get_opt("rampart-leader")
        .await
        .ok()
        .flatten()?
        .spec?
        .holder_identity
}

#[tokio::test]
async fn a_standby_takes_over_within_the_lease_and_nothing_is_done_twice() {
    let (mut plane, sim) = cbr_plane(5).await;
    let duration = 6u64;
    let flags = |id: &'static str| {
        [
            "--leader-elect",
            "--lease-namespace",
            "default",
            "--lease-duration-seconds",
            "6",
            "--lease-identity",
            id,
        ]
    };
    let a = plane.start_operator(&flags("replica-a"));
    let deadline = Instant::now() + Duration::from_secs(30);
    while holder(&plane).await.as_deref() != Some("replica-a") {
        assert!(Instant::now() < deadline, "replica-a never led");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _b = plane.start_operator(&flags("replica-b"));
    create_vaults(&plane, "first", 20, json!({})).await;
    all_ready(&plane.api::<Vault>(), 20, Duration::from_secs(60)).await;

    plane.kill(a);
    let killed = Instant::now();
    let deadline = killed + Duration::from_secs(60);
    while holder(&plane).await.as_deref() != Some("replica-b") {
        assert!(Instant::now() < deadline, "replica-b never took over");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let takeover = killed.elapsed();
    // The lease expires `duration` after the last renewal; allow the renewal interval on top.
    assert!(
        takeover <= Duration::from_secs(duration * 2),
        "takeover took {takeover:?}"
    );
    eprintln!("takeover after the leader was killed: {takeover:?}");
    create_vaults(&plane, "second", 20, json!({})).await;
    all_ready(&plane.api::<Vault>(), 40, Duration::from_secs(60)).await;
    assert_eq!(vendor_vaults(&sim).len(), 40, "nothing created twice");
    let writes: u64 = sim
        .control()
        .counters()
        .iter()
        .filter(|(op, _)| op.starts_with("POST /v3/{project_id}/vaults"))
        .map(|(_, n)| n)
        .sum();
    assert_eq!(
        writes, 40,
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
