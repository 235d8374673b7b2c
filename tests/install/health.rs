//! GitOps health: objects whose status is written through /status exactly as the operator
//! writes it (the engine's own `next_status`), judged by kstatus (Flux and kubectl-style
//! tooling) and by the Argo CD health Lua in deploy/argocd, run as Argo CD runs it.

use std::collections::BTreeMap;

use kube::Resource;
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use rampart::api::common::ManagedStatus;
use rampart::api::provider_config::ProviderObservation;
use rampart::api::vault::VaultObservation;
use rampart::api::{ClusterProviderConfig, Policy, ProviderConfig, Vault};
use rampart::engine::conditions::{Outcome, next_status};
use rampart::engine::external::Readiness;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::harness::{create_namespace, env, shared_scope, text, tools};

const NOW: &str = "2026-01-01T00:00:00Z";
const ARGOCD_CM: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/deploy/argocd/argocd-cm-health.yaml"
);
const KINDS: [&str; 6] = [
    "Vault",
    "Policy",
    "Strategy",
    "FirewallRule",
    "ProviderConfig",
    "ClusterProviderConfig",
];

fn observed<A: Default>(readiness: Readiness, drift: bool) -> Outcome<A> {
    Outcome::Observed {
        marked_id: None,
        readiness,
        at_provider: A::default(),
        drift: if drift {
            vec![rampart::api::common::Drift {
                field: "spec.huaweiCbr.sizeGB".into(),
                desired: "100".into(),
                observed: "80".into(),
            }]
        } else {
            vec![]
        },
        applied_hash: None,
        extra: vec![],
    }
}

/// The status the operator writes after `outcomes` (in order) at generation 1.
fn status_after<A: Clone + Default>(outcomes: &[Outcome<A>]) -> ManagedStatus<A> {
    let mut status: Option<ManagedStatus<A>> = None;
    for outcome in outcomes {
        status = Some(next_status(status.as_ref(), outcome, Some(1), NOW));
    }
    status.expect("at least one outcome")
}

async fn write_status<K, S>(api: &Api<K>, name: &str, status: &S)
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
    S: Serialize,
{
    let body = serde_json::json!({ "status": status });
    api.patch_status(name, &PatchParams::default(), &Patch::Merge(&body))
        .await
        .unwrap_or_else(|e| panic!("status of {name}: {e}"));
}

fn vault(name: &str, label: &str, extra_meta: &str) -> String {
    format!(
        "apiVersion: rampart.dev/v1alpha1\nkind: Vault\nmetadata: {{name: {name}, labels: {{health-test: {label}}}{extra_meta}}}\nspec:\n  providerConfigRef: {{name: cbr}}\n  huaweiCbr: {{objectType: server, sizeGB: 100}}\n---\n"
    )
}

fn provider(kind: &str, name: &str, label: &str) -> String {
    format!(
        "apiVersion: rampart.dev/v1alpha1\nkind: {kind}\nmetadata: {{name: {name}, labels: {{health-test: {label}}}}}\nspec:\n  type: HuaweiCbr\n  endpoint: https://127.0.0.1:1\n---\n"
    )
}

/// Verdicts per object name: (kstatus, Argo CD health).
fn verdicts(namespace: &str, argocd_cm: &std::path::Path) -> BTreeMap<String, (String, String)> {
    let out = std::process::Command::new(tools().health_check())
        .arg("--kubeconfig")
        .arg(env().server.kubeconfig_path())
        .args([
            "--namespace",
            namespace,
            "--selector",
            &format!("health-test={namespace}"),
        ])
        .arg("--argocd-cm")
        .arg(argocd_cm)
        .output()
        .expect("health-check runs");
    assert!(out.status.success(), "health-check: {}", text(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("JSON line");
            let name = v["name"].as_str().unwrap().to_string();
            let verdict = (
                v["kstatus"].as_str().unwrap().to_string(),
                v["argocd"].as_str().unwrap().to_string(),
            );
            (name, verdict)
        })
        .collect()
}

/// Apply the documented `kubectl patch` to an argocd-cm on the server and return the result.
fn patched_argocd_cm(dir: &std::path::Path) -> std::path::PathBuf {
    let env = env();
    env.kubectl_ok(&["create", "namespace", "argocd"]);
    env.kubectl_ok(&["create", "configmap", "argocd-cm", "-n", "argocd"]);
    env.kubectl_ok(&[
        "-n",
        "argocd",
        "patch",
        "configmap",
        "argocd-cm",
        "--type",
        "merge",
        "--patch-file",
        ARGOCD_CM,
    ]);
    let yaml = env.kubectl_ok(&[
        "get",
        "configmap",
        "argocd-cm",
        "-n",
        "argocd",
        "-o",
        "yaml",
    ]);
    let cm: serde_json::Value = serde_saphyr::from_str(&yaml).expect("configmap YAML");
    let scripts: Vec<&str> = KINDS
        .iter()
        .map(|k| {
            cm["data"][format!("resource.customizations.health.rampart.dev_{k}")]
                .as_str()
                .unwrap_or_else(|| panic!("argocd-cm has no health check for {k}"))
        })
        .collect();
    assert!(
        scripts
            .iter()
            .all(|s| *s == scripts[0] && s.contains("Degraded"))
    );
    let path = dir.join("argocd-cm.yaml");
    std::fs::write(&path, yaml).expect("write argocd-cm");
    path
}

#[tokio::test]
async fn kstatus_and_argocd_read_rampart_status_as_documented() {
    let _scope = shared_scope().await;
    let env = env();
    let ns = create_namespace("health");
    let hold = ", finalizers: [health.test/hold]";
    let mut yaml = String::new();
    for name in [
        "ready", "new", "creating", "stale", "retrying", "stalled", "paused", "drift",
    ] {
        yaml.push_str(&vault(name, &ns, ""));
    }
    yaml.push_str(&vault("deleting", &ns, hold));
    yaml.push_str(&format!(
        "apiVersion: rampart.dev/v1alpha1\nkind: Policy\nmetadata: {{name: waiting, labels: {{health-test: {ns}}}}}\nspec:\n  providerConfigRef: {{name: cbr}}\n  schedule: {{cron: \"30 2 * * *\"}}\n  retention: {{keepDays: 7}}\n  huaweiCbr: {{}}\n---\n"
    ));
    yaml.push_str(&provider("ProviderConfig", "pc-ready", &ns));
    yaml.push_str(&provider("ProviderConfig", "pc-unreachable", &ns));
    let cpc = format!("cpc-{ns}");
    yaml.push_str(&provider("ClusterProviderConfig", &cpc, &ns));
    env.apply(&ns, &yaml);

    let client = env.client().await;
    let vaults: Api<Vault> = Api::namespaced(client.clone(), &ns);
    let ready: ManagedStatus<VaultObservation> =
        status_after(&[observed(Readiness::Available, false)]);
    for (name, status) in [
        ("ready", ready.clone()),
        (
            "creating",
            status_after(&[observed(
                Readiness::Creating("the vendor is creating it".into()),
                false,
            )]),
        ),
        ("stale", ready.clone()),
        (
            "retrying",
            status_after(&[Outcome::Failed {
                message: "HTTP 503 from the vendor".into(),
                terminal: false,
            }]),
        ),
        (
            "stalled",
            status_after(&[Outcome::Failed {
                message: "spec.huaweiCbr.sizeGB: too large".into(),
                terminal: true,
            }]),
        ),
        (
            "paused",
            status_after(&[observed(Readiness::Available, false), Outcome::Paused]),
        ),
        (
            "drift",
            status_after(&[observed(Readiness::Available, true)]),
        ),
        ("deleting", ready.clone()),
    ] {
        write_status(&vaults, name, &status).await;
    }
    // A spec change after the last reconcile: generation 2, observed 1.
    vaults
        .patch(
            "stale",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"spec": {"huaweiCbr": {"sizeGB": 200}}})),
        )
        .await
        .expect("spec change");
    vaults
        .delete("deleting", &DeleteParams::default())
        .await
        .expect("delete (held by a finalizer)");

    let policies: Api<Policy> = Api::namespaced(client.clone(), &ns);
    let waiting: ManagedStatus<rampart::api::policy::PolicyObservation> =
        status_after(&[Outcome::Waiting("Vault backups is not ready".into())]);
    write_status(&policies, "waiting", &waiting).await;

    let pcs: Api<ProviderConfig> = Api::namespaced(client.clone(), &ns);
    let pc_ready: ManagedStatus<ProviderObservation> =
        status_after(&[observed(Readiness::Available, false)]);
    write_status(&pcs, "pc-ready", &pc_ready).await;
    let pc_down: ManagedStatus<ProviderObservation> = status_after(&[observed(
        Readiness::Unavailable("connection refused".into()),
        false,
    )]);
    write_status(&pcs, "pc-unreachable", &pc_down).await;
    let cpcs: Api<ClusterProviderConfig> = Api::all(client.clone());
    write_status(&cpcs, &cpc, &pc_ready).await;

    let dir = tempfile::tempdir().expect("temp dir");
    let got = verdicts(&ns, &patched_argocd_cm(dir.path()));
    let expected: BTreeMap<String, (String, String)> = [
        ("ready", "Current", "Healthy"),
        // kstatus cannot tell a CR nobody has reported on from a healthy one; Argo CD waits.
        ("new", "Current", "Progressing"),
        ("creating", "InProgress", "Progressing"),
        ("stale", "InProgress", "Progressing"),
        ("retrying", "InProgress", "Progressing"),
        ("stalled", "Failed", "Degraded"),
        ("paused", "Current", "Suspended"),
        ("drift", "Current", "Healthy"),
        ("deleting", "Terminating", "Progressing"),
        ("waiting", "InProgress", "Progressing"),
        ("pc-ready", "Current", "Healthy"),
        ("pc-unreachable", "InProgress", "Progressing"),
        (cpc.as_str(), "Current", "Healthy"),
    ]
    .into_iter()
    .map(|(n, k, a)| (n.to_string(), (k.to_string(), a.to_string())))
    .collect();
    assert_eq!(got, expected);

    // Let the held object go.
    vaults
        .patch(
            "deleting",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"metadata": {"finalizers": null}})),
        )
        .await
        .expect("release finalizer");
    cpcs.delete(&cpc, &DeleteParams::default())
        .await
        .expect("delete cpc");
}
