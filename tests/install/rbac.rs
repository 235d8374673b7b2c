//! Least privilege, proven: the chart installed on a real API server, the operator running AS
//! the chart's ServiceAccount, starting, becoming ready and reconciling (so the granted rules
//! are enough), and requests beyond them refused (so they are no more than that).

use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, DeleteParams, ListParams};
use kube::core::DynamicObject;
use rampart::api::{ClusterProviderConfig, ProviderConfig, Vault};
use rampart::testenv::free_port;

use crate::harness::{
    Deployed, Release, cluster_wide_operator, condition, create_namespace, env, eventually,
    has_condition, namespaced_operator, text, wait_for,
};

/// A credentials Secret, a ProviderConfig `cbr` of type HuaweiCbr whose endpoints are a closed
/// loopback port, and a Vault using it: the operator must read the Secret, fail to connect,
/// and say so in both statuses (and in an Event for the Vault).
pub fn unreachable_cbr(port: u16) -> String {
    format!(
        r#"apiVersion: v1
kind: Secret
metadata: {{name: cbr-credentials}}
stringData: {{username: backup-operator, password: not-a-real-password, domainName: test}}
---
apiVersion: rampart.dev/v1alpha1
kind: ProviderConfig
metadata: {{name: cbr}}
spec:
  type: HuaweiCbr
  endpoint: https://127.0.0.1:{port}
  credentials: {{secretRef: {{name: cbr-credentials}}}}
  huaweiCbr:
    projectId: f841e01fd2b14e7fa41b6ae7aa6b0594
    region: ru-moscow-1
    authMethod: Password
    iamEndpoint: https://127.0.0.1:{port}
---
apiVersion: rampart.dev/v1alpha1
kind: Vault
metadata: {{name: app-servers}}
spec:
  providerConfigRef: {{name: cbr}}
  huaweiCbr: {{objectType: server, sizeGB: 100}}
"#
    )
}

fn log_of(d: &Deployed) -> impl Fn() -> String + '_ {
    move || format!("operator log:\n{}", d.operator.log())
}

/// The provider configuration and the Vault in `d.namespace` get reconciled: status written
/// (list/watch/get Secret/patch status), finalizer added (patch), Event recorded.
async fn assert_reconciles(d: &Deployed) {
    let env = env();
    env.apply(&d.namespace, &unreachable_cbr(free_port()));
    let client = env.client().await;
    let log = log_of(d);

    let pcs: Api<ProviderConfig> = Api::namespaced(client.clone(), &d.namespace);
    let pc = wait_for(&pcs, "cbr", has_condition("Ready", "False"), &log).await;
    let ready = condition(&serde_json::to_value(&pc).unwrap(), "Ready").unwrap();
    let message = ready["message"].as_str().unwrap_or_default();
    assert!(!message.is_empty(), "Ready=False says why");
    assert!(
        !message.contains("forbidden") && !message.contains("cannot read Secret"),
        "the operator could read the credentials Secret: {message}"
    );

    let vaults: Api<Vault> = Api::namespaced(client.clone(), &d.namespace);
    let vault = wait_for(
        &vaults,
        "app-servers",
        has_condition("Synced", "False"),
        &log,
    )
    .await;
    assert!(
        vault
            .metadata
            .finalizers
            .unwrap_or_default()
            .iter()
            .any(|f| f.contains("rampart.dev")),
        "finalizer added before any vendor call"
    );

    let events: Api<Event> = Api::namespaced(client, &d.namespace);
    eventually(
        "an Event about the Vault from rampart",
        || async {
            let list = events.list(&ListParams::default()).await.ok()?;
            list.items.into_iter().find(|e| {
                e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some("app-servers")
                    && e.reporting_controller.as_deref() == Some("rampart")
            })
        },
        &log,
    )
    .await;

    // Deleting it releases it (the default Orphan policy), which first reads its CRD to tell a
    // deletion from an uninstall.
    vaults
        .delete("app-servers", &DeleteParams::default())
        .await
        .expect("delete the Vault");
    eventually(
        "the Vault released and gone",
        || async {
            vaults
                .get_opt("app-servers")
                .await
                .ok()?
                .is_none()
                .then_some(())
        },
        &log,
    )
    .await;
}

fn assert_no_refusals(d: &Deployed) {
    let refused = d.operator.refusals();
    assert!(
        refused.is_empty(),
        "the API server refused the operator: {refused:#?}"
    );
}

/// can-i answers for the release's ServiceAccount that differ from `expected`.
async fn can_i_mismatches(
    release: &Release,
    expected: &[(bool, &str, &str, Option<&str>)],
) -> Vec<String> {
    let mut wrong = Vec::new();
    for (allowed, verb, resource, ns) in expected {
        if release.can_i(verb, resource, *ns).await != *allowed {
            wrong.push(format!(
                "{verb} {resource} in {ns:?}: expected allowed={allowed}"
            ));
        }
    }
    wrong
}

#[tokio::test]
async fn cluster_wide_release_runs_the_operator_as_its_service_account() {
    let d = cluster_wide_operator("cw").await;
    let env = env();
    let kube_system_uid = env.kubectl_ok(&[
        "get",
        "namespace",
        "kube-system",
        "-o",
        "jsonpath={.metadata.uid}",
    ]);
    assert!(
        d.operator.log().contains(&kube_system_uid),
        "cluster id read from kube-system (get namespaces/kube-system):\n{}",
        d.operator.log()
    );
    assert_reconciles(&d).await;

    // A ClusterProviderConfig (cluster-scoped) is reconciled too; its Secret lives in the
    // test's namespace. Deleted afterwards: namespaced operators must not see it.
    let cpc_name = format!("cpc-{}", d.namespace);
    let port = free_port();
    env.apply(
        &d.namespace,
        &format!(
            r#"apiVersion: rampart.dev/v1alpha1
kind: ClusterProviderConfig
metadata: {{name: {cpc_name}}}
spec:
  type: HuaweiCbr
  endpoint: https://127.0.0.1:{port}
  credentials: {{secretRef: {{name: cbr-credentials, namespace: {ns}}}}}
  huaweiCbr: {{projectId: f841e01fd2b14e7fa41b6ae7aa6b0594, region: ru-moscow-1, authMethod: Password, iamEndpoint: "https://127.0.0.1:{port}"}}
"#,
            ns = d.namespace
        ),
    );
    let cpcs: Api<ClusterProviderConfig> = Api::all(env.client().await);
    wait_for(
        &cpcs,
        &cpc_name,
        has_condition("Ready", "False"),
        &log_of(&d),
    )
    .await;
    cpcs.delete(&cpc_name, &DeleteParams::default())
        .await
        .expect("delete cpc");

    let ns = Some(d.namespace.as_str());
    let wrong = can_i_mismatches(
        &d.release,
        &[
            (true, "list", "vaults.rampart.dev", None),
            (true, "watch", "policies.rampart.dev", None),
            (true, "patch", "firewallrules.rampart.dev", ns),
            (true, "patch", "strategies.rampart.dev/status", ns),
            (
                true,
                "patch",
                "clusterproviderconfigs.rampart.dev/status",
                None,
            ),
            (true, "watch", "secrets", None),
            (true, "create", "events.events.k8s.io", ns),
            (true, "get", "namespaces/kube-system", None),
            // Users own their objects; rampart reads caches, never single objects.
            (false, "create", "vaults.rampart.dev", ns),
            (false, "update", "vaults.rampart.dev", ns),
            (false, "delete", "policies.rampart.dev", ns),
            (false, "get", "vaults.rampart.dev", ns),
            (false, "patch", "providerconfigs.rampart.dev", ns),
            (false, "patch", "clusterproviderconfigs.rampart.dev", None),
            (false, "update", "vaults.rampart.dev/status", ns),
            // Secrets are read, never written.
            (false, "create", "secrets", ns),
            (false, "update", "secrets", ns),
            (false, "delete", "secrets", ns),
            (false, "get", "namespaces/default", None),
            (false, "list", "namespaces", None),
            (false, "create", "events", ns),
            (false, "get", "configmaps", ns),
            (false, "create", "pods", ns),
            (
                false,
                "create",
                "leases.coordination.k8s.io",
                Some(&d.release.namespace),
            ),
        ],
    )
    .await;
    assert!(
        wrong.is_empty(),
        "RBAC differs from what the operator needs: {wrong:#?}"
    );
    assert_no_refusals(&d);
}

#[tokio::test]
async fn namespaces_only_release_is_confined_to_its_namespace() {
    let env = env();
    let d = namespaced_operator("nso", &[]).await;
    // A configuration outside the watched namespace, created before the one inside.
    let other = create_namespace("other");
    env.apply(&other, &unreachable_cbr(free_port()));
    assert_reconciles(&d).await;

    let outside: Api<ProviderConfig> = Api::namespaced(env.client().await, &other);
    let untouched = outside.get("cbr").await.expect("outside config");
    assert!(untouched.status.is_none(), "the operator never saw {other}");

    let refused = d
        .release
        .kubectl_as(&["get", "secrets", "-n", &other])
        .await;
    assert!(!refused.status.success(), "{}", text(&refused));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("forbidden"),
        "{}",
        text(&refused)
    );

    let ns = Some(d.namespace.as_str());
    let elsewhere = Some(other.as_str());
    let wrong = can_i_mismatches(
        &d.release,
        &[
            (true, "list", "secrets", ns),
            (true, "patch", "vaults.rampart.dev", ns),
            (true, "patch", "providerconfigs.rampart.dev/status", ns),
            (true, "create", "events.events.k8s.io", ns),
            (true, "list", "clusterproviderconfigs.rampart.dev", None),
            (
                true,
                "patch",
                "clusterproviderconfigs.rampart.dev/status",
                None,
            ),
            (true, "get", "namespaces/kube-system", None),
            (false, "list", "secrets", elsewhere),
            (false, "get", "secrets", elsewhere),
            (false, "list", "vaults.rampart.dev", elsewhere),
            (false, "list", "vaults.rampart.dev", None),
            (false, "create", "events.events.k8s.io", elsewhere),
            (false, "list", "secrets", Some(&d.release.namespace)),
        ],
    )
    .await;
    assert!(
        wrong.is_empty(),
        "RBAC differs from namespaces-only mode: {wrong:#?}"
    );
    assert_no_refusals(&d);
}

/// With leader election on, the ServiceAccount may create Leases in the release namespace
/// and read and renew its own Lease only; optional objects install on a real server.
#[tokio::test]
async fn leader_election_and_optional_objects_install() {
    let env = env();
    env.apply(
        "default",
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/install/fixtures/servicemonitor-crd.yaml"
        ))
        .unwrap(),
    );
    env.kubectl_ok(&[
        "wait",
        "--for=condition=Established",
        "crd/servicemonitors.monitoring.coreos.com",
        "--timeout=60s",
    ]);
    let watched = create_namespace("le");
    let release_ns = format!("{watched}-system");
    let release = Release::install(
        &watched,
        &release_ns,
        &[
            ("watchNamespace", watched.as_str()),
            ("replicaCount", "2"),
            ("podDisruptionBudget.enabled", "true"),
            ("networkPolicy.enabled", "true"),
            ("metrics.serviceMonitor.enabled", "true"),
        ],
    );
    let fullname = format!("{watched}-rampart");
    for kind in [
        "poddisruptionbudget",
        "networkpolicy",
        "servicemonitor",
        "service",
    ] {
        let name = if kind == "service" {
            format!("{fullname}-metrics")
        } else {
            fullname.clone()
        };
        env.kubectl_ok(&["get", kind, &name, "-n", &release_ns]);
    }
    let lease = format!("leases.coordination.k8s.io/{fullname}-leader");
    let ns = Some(release_ns.as_str());
    let wrong = can_i_mismatches(
        &release,
        &[
            (true, "create", "leases.coordination.k8s.io", ns),
            (true, "get", &lease, ns),
            (true, "patch", &lease, ns),
            (
                false,
                "patch",
                "leases.coordination.k8s.io/someone-else",
                ns,
            ),
            (false, "delete", &lease, ns),
            (
                false,
                "create",
                "leases.coordination.k8s.io",
                Some(&watched),
            ),
        ],
    )
    .await;
    assert!(wrong.is_empty(), "Lease RBAC: {wrong:#?}");

    // Once the operator has `--leader-elect`, the standby/leader split runs here too.
    if operator_has_flag("--leader-elect") {
        let _scope = crate::harness::shared_scope().await;
        let operator = release.start_operator().await;
        let leases: Api<DynamicObject> = Api::namespaced_with(
            env.client().await,
            &release_ns,
            &kube::discovery::ApiResource::erase::<k8s_openapi::api::coordination::v1::Lease>(&()),
        );
        let log = move || format!("operator log:\n{}", operator.log());
        let held = eventually(
            "the Lease held by the operator",
            || async {
                let l = leases.get_opt(&format!("{fullname}-leader")).await.ok()??;
                l.data["spec"]["holderIdentity"]
                    .as_str()
                    .map(str::to_string)
            },
            &log,
        )
        .await;
        assert_eq!(held, format!("{watched}-test-pod"));
    }
}

/// Whether `rampart run --help` lists `flag` (features the lead is adding land here unchanged).
pub fn operator_has_flag(flag: &str) -> bool {
    let out = std::process::Command::new(crate::harness::RAMPART)
        .args(["run", "--help"])
        .output()
        .expect("rampart runs");
    String::from_utf8_lossy(&out.stdout).contains(flag)
}
