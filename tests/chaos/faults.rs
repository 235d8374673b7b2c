//! The vendor fault matrix: for every vendor, objects are created, then updated and deleted,
//! through 10 % 5xx, 429 with Retry-After, requests that hang past the timeout, dropped
//! connections, and tokens revoked (the vendor restarting and losing its sessions) every two
//! seconds; every other second the writes alone meet a heavier mix, so that creates, updates
//! and deletes are each faulted. Once the faults clear, everything is Ready, updates are at the
//! vendor and deleted objects gone from it; each vendor holds exactly one object per object; the
//! vendor never sees more than the configured budget; the calls per object stay under a bound.
//!
//! Each case counts the writes that met an injected fault, by kind, and requires at least one
//! faulted create, update and delete (where the vendor's kind has them): a storm that missed
//! them proves nothing about them. Each case prints its tally and calls per object.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kube::api::{Api, DeleteParams, Patch, PatchParams};
use rampart::api::{FirewallRule, Vault};
use rampart::simulators::cyberbackup::{CyberBackupSim, SimConfig as CyberConfig};
use rampart::simulators::harness::{Faults, SimControl};
use rampart::simulators::huawei_cbr::{CbrSim, CbrSimConfig};
use rampart::simulators::ideco::{self, IdecoSimOptions};
use rampart::simulators::rs_server::RsServerSim;
use rampart::simulators::rubackup::{RuBackupSim, SimConfig as RbConfig};
use serde_json::{Value, json};

use crate::crash::PROJECT;
use crate::inflight::{Writes, faulted, writes};
use crate::plane::{NS, Plane, all_ready, external_names, gone, obj};

const QPS: f64 = 20.0;
const BURST: u32 = 10;

fn budget() -> Value {
    json!({"qps": QPS, "burst": BURST, "maxInFlight": 4})
}

fn common(kind: &str, endpoint: String) -> Value {
    json!({"type": kind, "endpoint": endpoint, "pollIntervalSeconds": 5, "requestTimeoutSeconds": 2, "budget": budget()})
}

/// The mix every request meets during a storm.
fn faults() -> Faults {
    Faults {
        error_rate: 0.1,
        throttle_rate: 0.1,
        retry_after_secs: 1,
        hang_rate: 0.05,
        hang_ms: 3000,
        drop_rate: 0.05,
        // Every second write the vendor carries out is answered after the 2 s timeout.
        late_every: 2,
        late_ms: 3000,
        ..Default::default()
    }
}

/// The heavier mix writes alone meet every other second (reads go through): seven in ten
/// writes fail one way or another, and half of those the vendor carries out are answered only
/// after the client's 2 s timeout (the vendor acted; rampart must find what it did rather than
/// do it again).
fn write_faults() -> Faults {
    Faults {
        error_rate: 0.25,
        throttle_rate: 0.25,
        hang_rate: 0.1,
        drop_rate: 0.1,
        writes_only: true,
        ..faults()
    }
}

/// Faults for `duration`: the two mixes alternate every second (from the writes' mix when
/// `writes_first`), and every session is revoked every two seconds. Then clear.
async fn storm(ctl: &Arc<SimControl>, duration: Duration, writes_first: bool) {
    let until = Instant::now() + duration;
    let mut second = u32::from(writes_first);
    while Instant::now() < until {
        ctl.set_faults(if second % 2 == 0 {
            faults()
        } else {
            write_faults()
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
        second += 1;
        if second % 2 == 0 {
            ctl.revoke_tokens();
        }
    }
    ctl.set_faults(Faults::default());
}

/// No one-second window holds more requests than the budget allows (rate plus burst), and
/// the calls per object stay under `bound`.
fn assert_budget_and_calls(vendor: &str, ctl: &SimControl, objects: usize, bound: f64) {
    let times = ctl.request_times(|_| true);
    let mut worst = 0;
    for (i, t) in times.iter().enumerate() {
        let in_window = times[i..]
            .iter()
            // A window 20 ms short of a second: arrivals carry the scheduling jitter of a
            // loaded 2-core machine, so two requests the token bucket released a full second
            // apart may arrive a little less than a second apart.
            .take_while(|u| u.duration_since(*t) < Duration::from_millis(980))
            .count();
        worst = worst.max(in_window);
    }
    let allowed = QPS as usize + BURST as usize;
    let per_object = times.len() as f64 / objects as f64;
    eprintln!(
        "{vendor}: {} calls for {objects} objects ({per_object:.1}/object, bound {bound:.1}), worst second {worst}",
        times.len()
    );
    assert!(
        worst <= allowed,
        "{vendor}: {worst} requests in one second; the budget allows {allowed}"
    );
    assert!(
        per_object <= bound,
        "{vendor}: {per_object:.1} vendor calls per object, above the bound of {bound}"
    );
}

/// The writes that met a fault: at least one of each kind in `want`.
fn assert_faulted(vendor: &str, ctl: &SimControl, want: Writes) {
    let got = faulted(&ctl.requests());
    let late = ctl
        .requests()
        .iter()
        .filter(|r| r.is_write() && r.faults.contains(&"late"))
        .count();
    eprintln!(
        "{vendor}: faults met {got} (of {}), {late} writes answered after the timeout",
        writes(&ctl.requests())
    );
    assert!(
        late >= 1,
        "{vendor}: no write was answered after the timeout"
    );
    assert!(
        reached(&got, &want),
        "{vendor}: the storm faulted only {got}; it must reach {want}"
    );
}

const EACH: Writes = Writes {
    creates: 1,
    updates: 1,
    deletes: 1,
};

fn merge(spec: Value) -> Patch<Value> {
    Patch::Merge(json!({"spec": spec}))
}

/// Updates and deletes mid-storm, for `names[..half]` and `names[half..]`.
async fn update_and_delete<K>(api: &Api<K>, names: &[String], update: Value)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let half = names.len() / 2;
    for n in &names[..half] {
        api.patch(n, &PatchParams::default(), &merge(update.clone()))
            .await
            .unwrap();
    }
    for n in &names[half..] {
        api.delete(n, &DeleteParams::default()).await.unwrap();
    }
}

async fn all_gone<K>(api: &Api<K>, names: &[String])
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned + Send + 'static,
{
    for n in names {
        gone(api, n, Duration::from_secs(180)).await;
    }
}

/// Storm while the creates run; once they are all done (so every update and delete meets a
/// vendor object), the updates and deletes are made under the writes' mix, which stays on until
/// each kind of write in `want` has met a fault, before the mixes alternate again.
///
/// The writes' mix is on before `create` makes the objects: the operator starts writing the
/// moment an object exists, and a vendor that takes its creates in well under a second (Ideco:
/// twelve rules in one burst) finished them all before a storm started after the creates.
async fn two_storms<K>(
    ctl: &Arc<SimControl>,
    api: &Api<K>,
    n: usize,
    want: Writes,
    create: impl AsyncFnOnce(),
    then: impl AsyncFnOnce(),
) where
    K: rampart::bench::measure::WatchedKind,
{
    ctl.set_faults(write_faults());
    create().await;
    storm(ctl, Duration::from_secs(10), true).await;
    all_ready(api, n, Duration::from_secs(180)).await;
    ctl.set_faults(write_faults());
    then().await;
    // The writes' mix stays until every kind of write the case must see faulted has met a
    // fault (a backoff can hold the deletes past any fixed window), at most a minute; the
    // case's assertion says which kind did not.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !reached(&faulted(&ctl.requests()), &want) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    ctl.revoke_tokens();
    storm(ctl, Duration::from_secs(6), false).await;
}

fn reached(got: &Writes, want: &Writes) -> bool {
    got.creates >= want.creates && got.updates >= want.updates && got.deletes >= want.deletes
}

fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}-{i:02}")).collect()
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
    let all = names("cbr", 12);
    let create = async || {
        for n in &all {
            vaults.create(&Default::default(), &obj("Vault", n, json!({"providerConfigRef": {"name": "cbr"}, "deletionPolicy": "Delete", "huaweiCbr": {"objectType": "server", "sizeGB": 100}}))).await.unwrap();
        }
    };
    two_storms(sim.control(), &vaults, 12, EACH, create, async || {
        update_and_delete(&vaults, &all, json!({"huaweiCbr": {"sizeGB": 200}})).await
    })
    .await;
    all_ready(&vaults, 6, Duration::from_secs(180)).await;
    all_gone(&vaults, &all[6..]).await;
    let at_vendor = sim.console().project(PROJECT).vaults;
    assert_eq!(
        at_vendor.len(),
        6,
        "CBR: exactly one vault per Vault under faults"
    );
    assert!(
        at_vendor.iter().all(|v| v.size == 200),
        "CBR: every update arrived"
    );
    let mut ids: Vec<String> = at_vendor.iter().map(|v| v.id.clone()).collect();
    ids.sort();
    assert_eq!(
        external_names(&vaults).await,
        ids,
        "CBR: each belongs to its Vault"
    );
    assert_faulted("huawei-cbr", sim.control(), EACH);
    assert_budget_and_calls("huawei-cbr", sim.control(), 12, CBR_BOUND);
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
    let all = names("fw", 12);
    let create = async || {
        for (i, n) in all.iter().enumerate() {
            rules
                .create(&Default::default(), &obj("FirewallRule", n, json!({"providerConfigRef": {"name": "ngfw"}, "ideco": {"section": "input", "action": "accept", "comment": n, "placement": {"block": "Top", "priority": i}}})))
                .await
                .unwrap();
        }
    };
    two_storms(&server.control, &rules, 12, EACH, create, async || {
        update_and_delete(&rules, &all, json!({"ideco": {"action": "drop"}})).await
    })
    .await;
    all_ready(&rules, 6, Duration::from_secs(180)).await;
    all_gone(&rules, &all[6..]).await;
    let owned: Vec<Value> = sim
        .rules(rampart::api::vendors::ideco::IdecoSection::Input)
        .into_iter()
        .filter(|r| r["comment"].as_str().unwrap_or("").contains("[rampart:"))
        .collect();
    let distinct: std::collections::BTreeSet<&str> =
        owned.iter().filter_map(|r| r["comment"].as_str()).collect();
    assert_eq!(
        owned.len(),
        6,
        "Ideco: exactly one rule per FirewallRule: {owned:#?}"
    );
    assert_eq!(distinct.len(), 6, "Ideco: no duplicate");
    assert!(
        owned.iter().all(|r| r["action"] == "drop"),
        "Ideco: every update arrived"
    );
    assert_faulted("ideco", &server.control, EACH);
    assert_budget_and_calls("ideco", &server.control, 12, IDECO_BOUND);
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
    plane
        .secret("share", json!({"identity": "svc", "secret": "x"}))
        .await;
    sim.control().record_requests();
    let vaults: Api<Vault> = plane.api();
    let all = names("cyber", 12);
    let create = async || {
        for (i, n) in all.iter().enumerate() {
            vaults
                .create(&Default::default(), &obj("Vault", n, json!({"providerConfigRef": {"name": "cyber"}, "deletionPolicy": "Delete", "cyberBackup": {
                    "locationType": "VAULT", "name": format!("share-{i}"), "storageType": "LOCAL_FOLDER", "uri": format!("E:/b/{i}/"),
                    "credentialsSecretRef": {"name": "share"}, "credentialsScope": {"type": "folder"}}})))
                .await
                .unwrap();
        }
    };
    // A registered credentials record cannot be changed (document §2.10.5: create, get,
    // delete), so this case has no updates: two thirds of the Vaults are deleted.
    two_storms(
        sim.control(),
        &vaults,
        12,
        Writes { updates: 0, ..EACH },
        create,
        async || {
            for n in &all[4..] {
                vaults.delete(n, &DeleteParams::default()).await.unwrap();
            }
        },
    )
    .await;
    all_ready(&vaults, 4, Duration::from_secs(180)).await;
    all_gone(&vaults, &all[4..]).await;
    // One record per remaining Vault. A create whose answer was lost (a dropped connection)
    // leaves a record no call can find (no list call); each must have been reported.
    let records: Vec<String> = sim.state.read(|w| w.credentials.keys().cloned().collect());
    let recorded = external_names(&vaults).await;
    assert!(
        recorded.iter().all(|id| records.contains(id)),
        "Cyber Backup: every Vault's record exists"
    );
    let reported = reported_leftovers(plane, "cyber-");
    eprintln!(
        "cyberbackup: {} records for 4 Vaults, {reported} interrupted creates reported",
        records.len()
    );
    assert!(
        records.len() - 4 <= reported,
        "Cyber Backup: {} records for 4 Vaults, only {reported} reported",
        records.len()
    );
    assert_faulted("cyberbackup", sim.control(), Writes { updates: 0, ..EACH });
    assert_budget_and_calls("cyberbackup", sim.control(), 12, CYBER_BOUND);
}

/// CreatePendingNotFound warnings on objects whose name starts with `prefix`.
fn reported_leftovers(plane: &Plane, prefix: &str) -> usize {
    let events = plane
        .server
        .kubectl(&["get", "events", "-n", NS, "-o", "json"]);
    let events: Value = serde_json::from_slice(&events.stdout).unwrap();
    events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["reason"] == "CreatePendingNotFound"
                && (e["involvedObject"]["name"].as_str())
                    .or(e["regarding"]["name"].as_str())
                    .is_some_and(|n| n.starts_with(prefix))
        })
        .count()
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
    let all = names("rb", 12);
    let create = async || {
        for (i, n) in all.iter().enumerate() {
            vaults
                .create(&Default::default(), &obj("Vault", n, json!({"providerConfigRef": {"name": "rb"}, "deletionPolicy": "Delete", "ruBackup": {"name": format!("pool-{i}"), "poolType": "File system", "mediaServer": "rubackup-server"}})))
                .await
                .unwrap();
        }
    };
    two_storms(&sim.server.control, &vaults, 12, EACH, create, async || {
        update_and_delete(
            &vaults,
            &all,
            json!({"ruBackup": {"description": "changed"}}),
        )
        .await
    })
    .await;
    all_ready(&vaults, 6, Duration::from_secs(180)).await;
    all_gone(&vaults, &all[6..]).await;
    assert!(
        sim.sim.failed_logins("rubackup") == 0,
        "faults never turned into wrong-password attempts"
    );
    let pools = crate::plane::rubackup_pools(&sim);
    assert_eq!(pools.len(), 6, "RuBackup: one pool per Vault: {pools:?}");
    assert!(
        pools
            .iter()
            .all(|(_, d)| d.as_ref().is_some_and(|d| d == "changed")),
        "RuBackup: every update arrived: {pools:?}"
    );
    assert_faulted("rubackup", &sim.server.control, EACH);
    assert_budget_and_calls("rubackup", &sim.server.control, 12, RUBACKUP_BOUND);
}

async fn rs_case(plane: &mut Plane, cbr: &CbrSim) {
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
    // Secret, so only the transport faults apply. The inventory is only read.
    rs.control().set_faults(faults());
    tokio::time::sleep(Duration::from_secs(12)).await;
    rs.control().set_faults(Faults::default());
    all_ready(&vaults, 1, Duration::from_secs(180)).await;
    let faulted_reads = rs
        .control()
        .requests()
        .iter()
        .filter(|r| !r.faults.is_empty())
        .count();
    eprintln!("rs-server: faults met {faulted_reads} inventory reads");
    assert!(faulted_reads >= 1, "rs-server: the storm faulted no read");
    let at_vendor = cbr.console().project(PROJECT).vaults;
    assert_eq!(at_vendor.len(), 1, "one CBR vault for the Vault");
    assert_eq!(
        at_vendor[0].resources.len(),
        3,
        "holding the inventory's three servers"
    );
    assert_budget_and_calls("rs-server", rs.control(), 1, RS_BOUND);
}

// Calls per object (every vendor call of the case, logins and polls included, over the objects
// created): the highest of five to six runs of these cases on the 2-core machine, plus 25 % for
// the random faults. Measured: CBR 8.0-10.6, Ideco 10.6-13.7, Cyber Backup 5.5-9.2, RuBackup
// 10.3-12.6, RS server 11-14 (one object: its inventory read at each poll). Observing every
// object with a fresh listing instead of the shared snapshot measured CBR 13.7 and 17.0, Ideco
// 16.8 and 17.4 (both CBR runs and one Ideco run fail here). With every second write answered
// after the timeout (three runs): Cyber Backup 6.6-11.3 and RuBackup 10.3-13.8 (each late answer
// costs a fresh listing before anything is created again), the others within their old range.
// RS server: a CI run measured 16 (4 faulted reads, each retried), above the local 11-14.
const MARGIN: f64 = 1.25;
const CBR_BOUND: f64 = MARGIN * 10.6;
const IDECO_BOUND: f64 = MARGIN * 13.7;
const CYBER_BOUND: f64 = MARGIN * 11.3;
const RUBACKUP_BOUND: f64 = MARGIN * 13.8;
const RS_BOUND: f64 = MARGIN * 16.0;

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
        rs_case(plane, &sim).await;
    })
    .await;
}
