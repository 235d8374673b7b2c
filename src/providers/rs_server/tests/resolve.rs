//! Resolution of `resourcesFrom.rsServer` against the simulator, and what it costs.

use super::*;
use crate::api::vendors::huawei_cbr::CbrResourceType;
use crate::engine::external::ExternalError;
use crate::providers::rs_server::{PROJECT_FIELD, SelectedResource, into_external_error};
use crate::vendor::error::ErrorKind;

const PROJECTS: &str = "GET /v1/projects/";
const SERVERS: &str = "GET /v1/servers/";
const VOLUMES: &str = "GET /v1/volume-assignments/";

/// Two TRS projects with machines and user volumes.
struct Estate {
    office: String,
    lab: String,
    office_servers: Vec<String>,
    office_volumes: Vec<String>,
}

fn estate(f: &Fixture) -> Estate {
    let s = &f.sim.state;
    let office = s.add_project("office");
    let lab = s.add_project("lab");
    let office_servers = vec![
        s.add_server(&office, "trs-01"),
        s.add_server(&office, "trs-02"),
        s.add_server(&office, "gpu-01"),
    ];
    s.add_server(&lab, "trs-01");
    let office_volumes = vec![
        s.add_user_volume(&office, "alice").1,
        s.add_user_volume(&office, "bob").1,
    ];
    s.add_user_volume(&lab, "carol");
    Estate {
        office,
        lab,
        office_servers,
        office_volumes,
    }
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

async fn resolved_ids(rt: &RsServerRuntime, sel: &RsServerSelector) -> Vec<String> {
    rt.resolve(sel)
        .await
        .unwrap()
        .into_iter()
        .map(|x| x.id)
        .collect()
}

fn ids_of(r: &[SelectedResource], t: CbrResourceType) -> Vec<String> {
    r.iter()
        .filter(|x| x.resource_type == t)
        .map(|x| x.id.clone())
        .collect()
}

#[tokio::test]
async fn resolve_by_id_returns_the_projects_servers_and_user_volumes() {
    let f = Fixture::new().await;
    let e = estate(&f);
    let rt = f.password_runtime().await;
    let r = rs(&rt)
        .resolve(&selector(by_id(&e.office), true, true, None))
        .await
        .unwrap();
    assert_eq!(
        ids_of(&r, CbrResourceType::Server),
        sorted(e.office_servers.clone())
    );
    assert_eq!(
        ids_of(&r, CbrResourceType::Volume),
        sorted(e.office_volumes.clone())
    );
    assert_eq!(
        r.len(),
        5,
        "servers first, then volumes, nothing of the lab"
    );
    assert_eq!(r[0].resource_type, CbrResourceType::Server);
    let named: Vec<_> = r.iter().filter_map(|x| x.name.as_deref()).collect();
    assert_eq!(
        sorted(named.iter().map(|s| s.to_string()).collect()),
        ["gpu-01", "trs-01", "trs-02"]
    );
}

#[tokio::test]
async fn resolve_by_name_with_a_pattern_returns_the_matching_servers() {
    let f = Fixture::new().await;
    let e = estate(&f);
    let rt = f.password_runtime().await;
    let r = rs(&rt)
        .resolve(&selector(by_name("office"), true, false, Some("trs-*")))
        .await
        .unwrap();
    let names: Vec<_> = r.iter().map(|x| x.name.clone().unwrap()).collect();
    assert_eq!(names.len(), 2);
    assert!(names.iter().all(|n| n.starts_with("trs-")), "{names:?}");
    assert!(r.iter().all(|x| e.office_servers.contains(&x.id)));
    let lab = rs(&rt)
        .resolve(&selector(by_name("lab"), false, true, None))
        .await
        .unwrap();
    assert_eq!(lab.len(), 1);
    assert_eq!(lab[0].resource_type, CbrResourceType::Volume);
    assert!(!e.lab.is_empty());
}

#[tokio::test]
async fn an_unknown_project_names_the_spec_field() {
    let f = Fixture::new().await;
    estate(&f);
    let rt = f.password_runtime().await;
    let e = rs(&rt)
        .resolve(&selector(by_name("accounting"), true, false, None))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert!(e.to_string().contains("spec.huaweiCbr.resourcesFrom.rsServer.project: RS server has no TRS project named 'accounting'"), "{e}");
    match into_external_error(e) {
        ExternalError::InvalidSpec { field, .. } => assert_eq!(field, PROJECT_FIELD),
        other => panic!("{other:?}"),
    }
    let non_trs = f.sim.state.project_id("admin").unwrap();
    let e = rs(&rt)
        .resolve(&selector(by_id(&non_trs), true, false, None))
        .await
        .unwrap_err();
    assert!(
        e.message.starts_with(PROJECT_FIELD),
        "a plain Keystone project is not a TRS project: {e}"
    );
}

#[tokio::test]
async fn servers_and_volumes_that_come_and_go_show_at_the_next_refresh() {
    let f = Fixture::new().await;
    let e = estate(&f);
    let rt = f.uncached_runtime();
    let sel = selector(by_id(&e.office), true, true, None);
    assert_eq!(rt.resolve(&sel).await.unwrap().len(), 5);

    let added = f.sim.state.add_server(&e.office, "trs-03");
    let (_, volume) = f.sim.state.add_user_volume(&e.office, "dave");
    let ids = resolved_ids(&rt, &sel).await;
    assert!(ids.contains(&added) && ids.contains(&volume), "{ids:?}");

    assert!(f.sim.state.remove_server(&e.office_servers[0]));
    assert!(f.sim.state.remove_user_volume(&e.office_volumes[0]));
    f.sim
        .state
        .set_server_status(&e.office_servers[1], "DELETED");
    let ids = resolved_ids(&rt, &sel).await;
    assert_eq!(ids.len(), 4, "{ids:?}");
    assert!(
        !ids.contains(&e.office_servers[0])
            && !ids.contains(&e.office_servers[1])
            && !ids.contains(&e.office_volumes[0])
    );
}

#[tokio::test]
async fn within_the_ttl_a_hundred_vaults_cost_one_list_per_collection() {
    let f = Fixture::new().await;
    let e = estate(&f);
    let rt = f.password_runtime().await;
    let runtime = rs(&rt);
    f.sim.control().reset_counters();
    for i in 0..100 {
        let project = if i % 2 == 0 {
            by_id(&e.office)
        } else {
            by_name("lab")
        };
        runtime
            .resolve(&selector(project, true, i % 3 == 0, None))
            .await
            .unwrap();
    }
    assert_eq!(
        (f.count(PROJECTS), f.count(SERVERS), f.count(VOLUMES)),
        (1, 2, 2)
    );
    assert_eq!(f.count("POST /v3/auth/tokens"), 1);

    // A server added now is not seen until the collections are listed again.
    let added = f.sim.state.add_server(&e.office, "trs-09");
    let sel = selector(by_id(&e.office), true, false, None);
    assert!(
        !runtime
            .resolve(&sel)
            .await
            .unwrap()
            .iter()
            .any(|x| x.id == added)
    );
    assert_eq!(f.count(SERVERS), 2);
    runtime.invalidate();
    assert!(
        runtime
            .resolve(&sel)
            .await
            .unwrap()
            .iter()
            .any(|x| x.id == added)
    );
    assert_eq!((f.count(PROJECTS), f.count(SERVERS)), (2, 3));
}

#[tokio::test]
async fn concurrent_resolves_share_one_listing() {
    let f = Fixture::new().await;
    let e = estate(&f);
    let rt = f.password_runtime().await;
    f.sim.control().reset_counters();
    let sel = selector(by_id(&e.office), true, true, None);
    let all = futures::future::join_all((0..50).map(|_| rs(&rt).resolve(&sel))).await;
    assert!(all.iter().all(|r| r.as_ref().map(Vec::len).ok() == Some(5)));
    assert_eq!(
        (
            f.count(PROJECTS),
            f.count(SERVERS),
            f.count(VOLUMES),
            f.count("POST /v3/auth/tokens")
        ),
        (1, 1, 1, 1)
    );
}

#[tokio::test]
async fn only_the_collections_a_selector_needs_are_listed() {
    let f = Fixture::new().await;
    let e = estate(&f);
    let rt = f.password_runtime().await;
    f.sim.control().reset_counters();
    rs(&rt)
        .resolve(&selector(by_id(&e.office), false, true, None))
        .await
        .unwrap();
    assert_eq!((f.count(SERVERS), f.count(VOLUMES)), (0, 1));
}
