//! The plain manifests: `kubectl apply -k deploy/` on a real API server, under the restricted
//! Pod Security Standard, and the operator from them running as their ServiceAccount.

use kube::api::Api;
use rampart::api::ProviderConfig;
use rampart::testenv::free_port;

use crate::harness::{Release, create_namespace, env, has_condition, text, wait_for};

#[tokio::test]
async fn kubectl_apply_k_deploy_installs_a_working_operator() {
    let env = env();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy");
    let out = env.server.kubectl(&["apply", "-k", dir]);
    assert!(
        out.status.success(),
        "kubectl apply -k deploy/: {}",
        text(&out)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("PodSecurity"),
        "Pod Security warnings: {stderr}"
    );
    env.wait_for_crds();
    let labels = env.kubectl_ok(&[
        "get",
        "deployment",
        "rampart",
        "-n",
        "rampart-system",
        "-o",
        "jsonpath={.metadata.labels.app\\.kubernetes\\.io/managed-by}",
    ]);
    assert_eq!(labels, "kustomize");

    // The manifests are the chart's release "rampart" in rampart-system: run it like one.
    let release = Release {
        name: "rampart".into(),
        namespace: "rampart-system".into(),
        watch_namespace: None,
    };
    assert!(release.can_i("watch", "vaults.rampart.dev", None).await);
    assert!(!release.can_i("delete", "vaults.rampart.dev", None).await);
    let _alone = crate::harness::cluster_wide_scope().await;
    let operator = release.start_operator().await;
    let ns = create_namespace("kustomize");
    env.apply(&ns, &crate::rbac::unreachable_cbr(free_port()));
    let pcs: Api<ProviderConfig> = Api::namespaced(env.client().await, &ns);
    let log = || format!("operator log:\n{}", operator.log());
    wait_for(&pcs, "cbr", has_condition("Ready", "False"), &log).await;
    assert!(operator.refusals().is_empty(), "{}", operator.log());
}
