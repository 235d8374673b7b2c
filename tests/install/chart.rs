//! The chart on its own: lint, the values schema refusing bad values, the values table in the
//! README, what it renders in each mode, and the generated copies (chart CRDs, kustomize base)
//! being current.

use serde_json::Value;

use crate::harness::{CHART, env, helm_offline, text};

const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// `helm template` with `--set` values; the rendered objects.
pub fn render(sets: &[&str]) -> Vec<Value> {
    let mut args = vec!["template", "t", CHART, "--namespace", "rs"];
    for s in sets {
        args.extend(["--set", s]);
    }
    let out = helm_offline(&args);
    assert!(
        out.status.success(),
        "helm template {sets:?}: {}",
        text(&out)
    );
    parse_yaml_stream(&String::from_utf8_lossy(&out.stdout))
}

pub fn parse_yaml_stream(yaml: &str) -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(yaml)
        .expect("rendered YAML parses")
        .into_iter()
        .filter(|v| !v.is_null())
        .collect()
}

pub fn find<'a>(objs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objs.iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} rendered"))
}

fn kinds(objs: &[Value]) -> Vec<String> {
    objs.iter()
        .map(|o| {
            format!(
                "{}/{}",
                o["kind"].as_str().unwrap(),
                o["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect()
}

fn container(objs: &[Value]) -> &Value {
    &find(objs, "Deployment", "t-rampart")["spec"]["template"]["spec"]["containers"][0]
}

fn args(objs: &[Value]) -> Vec<String> {
    container(objs)["args"]
        .as_array()
        .expect("args")
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

/// The rules of a (Cluster)Role as "group/resource:verb[@name]" strings.
fn rules(role: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for rule in role["rules"].as_array().expect("rules") {
        let names: Vec<&str> = rule["resourceNames"]
            .as_array()
            .map(|n| n.iter().map(|v| v.as_str().unwrap()).collect())
            .unwrap_or_default();
        for group in rule["apiGroups"].as_array().unwrap() {
            for res in rule["resources"].as_array().unwrap() {
                for verb in rule["verbs"].as_array().unwrap() {
                    let base = format!(
                        "{}/{}:{}",
                        group.as_str().unwrap(),
                        res.as_str().unwrap(),
                        verb.as_str().unwrap()
                    );
                    if names.is_empty() {
                        out.push(base);
                    } else {
                        out.extend(names.iter().map(|n| format!("{base}@{n}")));
                    }
                }
            }
        }
    }
    out.sort();
    out
}

#[test]
fn chart_passes_helm_lint_strict_in_every_mode() {
    let modes: [&[&str]; 3] = [
        &[],
        &[
            "watchNamespace=team-a",
            "clusterId=prod-1",
            "logFormat=text",
        ],
        &[
            "replicaCount=2",
            "podDisruptionBudget.enabled=true",
            "networkPolicy.enabled=true",
            "metrics.serviceMonitor.enabled=true",
            "image.digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ],
    ];
    for sets in modes {
        let mut args = vec!["lint", "--strict", CHART];
        for s in sets {
            args.extend(["--set", s]);
        }
        let out = helm_offline(&args);
        assert!(out.status.success(), "helm lint {sets:?}: {}", text(&out));
    }
}

#[test]
fn bad_values_are_refused_with_the_value_named() {
    let cases: &[(&str, &str)] = &[
        ("replicaCount=0", "replicaCount"),
        ("watchNamespace=Team_A", "watchNamespace"),
        ("logFormat=xml", "logFormat"),
        ("metrics.port=80", "metrics/port"),
        ("image.digest=latest", "image/digest"),
        ("image.pullPolicy=Sometimes", "image/pullPolicy"),
        (
            "leaderElection.leaseDurationSeconds=1",
            "leaderElection/leaseDurationSeconds",
        ),
        ("resources.limits.memory=lots", "resources/limits/memory"),
        ("concurrency=0", "concurrency"),
        ("replicaCount=two", "replicaCount"),
        ("unknownKey=1", "unknownKey"),
        (
            "metrics.serviceMonitor.interval=often",
            "serviceMonitor/interval",
        ),
        (
            "serviceAccount.create=false",
            "serviceAccount.name is required",
        ),
    ];
    for (set, named) in cases {
        let out = helm_offline(&["template", "t", CHART, "--set", set]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{set} was accepted");
        assert!(
            stderr.contains(named),
            "{set}: the error does not name {named}: {stderr}"
        );
    }
}

/// `helm install` against a real server refuses bad values before creating anything.
#[test]
fn bad_values_fail_helm_install_and_leave_nothing_behind() {
    let env = env();
    let out = env.helm(&[
        "install",
        "bad-values",
        CHART,
        "--namespace",
        "bad-values",
        "--create-namespace",
        "--set",
        "watchNamespace=Not A Namespace",
    ]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("watchNamespace"),
        "{}",
        text(&out)
    );
    let releases = env.helm(&["list", "--all-namespaces", "--all", "-q"]);
    assert!(!String::from_utf8_lossy(&releases.stdout).contains("bad-values"));
}

/// Every value in values.yaml has a row in the README's table, and every row is a value.
#[test]
fn chart_readme_documents_every_value() {
    let values: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(format!("{CHART}/values.yaml")).unwrap())
            .unwrap();
    let mut leaves = Vec::new();
    collect_leaves(&values, "", &mut leaves);
    let readme = std::fs::read_to_string(format!("{CHART}/README.md")).unwrap();
    let (_, table) = readme
        .split_once("\n## Values\n")
        .expect("a Values section");
    let rows: Vec<String> = table
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_string)
        .collect();
    // A row may document a whole object (podSecurityContext) instead of each field.
    let undocumented: Vec<&String> = leaves
        .iter()
        .filter(|leaf| {
            !rows
                .iter()
                .any(|r| *leaf == r || leaf.starts_with(&format!("{r}.")))
        })
        .collect();
    assert!(
        undocumented.is_empty(),
        "values missing from charts/rampart/README.md: {undocumented:?}"
    );
    let unknown: Vec<&String> = rows
        .iter()
        .filter(|r| {
            !leaves
                .iter()
                .any(|l| l == *r || l.starts_with(&format!("{r}.")))
        })
        .collect();
    assert!(
        unknown.is_empty(),
        "README rows that are not values: {unknown:?}"
    );
}

fn collect_leaves(v: &Value, prefix: &str, out: &mut Vec<String>) {
    match v.as_object() {
        Some(map) if !map.is_empty() => {
            for (k, child) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                collect_leaves(child, &path, out);
            }
        }
        _ => out.push(prefix.to_string()),
    }
}

#[test]
fn deployment_is_hardened_and_probes_the_metrics_port() {
    let objs = render(&[]);
    let pod = &find(&objs, "Deployment", "t-rampart")["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(pod["securityContext"]["runAsUser"], 65532);
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    assert_eq!(pod["serviceAccountName"], "t-rampart");
    let c = container(&objs);
    let sc = &c["securityContext"];
    assert_eq!(sc["allowPrivilegeEscalation"], false);
    assert_eq!(sc["readOnlyRootFilesystem"], true);
    assert_eq!(sc["privileged"], false);
    assert_eq!(sc["capabilities"]["drop"], serde_json::json!(["ALL"]));
    for kind in ["requests", "limits"] {
        for res in ["cpu", "memory"] {
            assert!(
                c["resources"][kind][res].is_string(),
                "resources.{kind}.{res} set"
            );
        }
    }
    assert_eq!(c["ports"][0]["containerPort"], 8080);
    assert_eq!(c["ports"][0]["name"], "metrics");
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(c["livenessProbe"]["httpGet"]["port"], "metrics");
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(c["readinessProbe"]["httpGet"]["port"], "metrics");
    assert!(
        c["command"].is_null(),
        "the image's entrypoint is `rampart run`"
    );
    let a = args(&objs);
    assert!(
        a.contains(&"--metrics-addr=0.0.0.0:8080".to_string()),
        "{a:?}"
    );
    assert!(
        !a.iter().any(|x| x == "run" || x.starts_with("--namespace")),
        "{a:?}"
    );
    let svc = find(&objs, "Service", "t-rampart-metrics");
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], "metrics");
}

#[test]
fn cluster_wide_mode_renders_one_cluster_role_with_the_operators_rules() {
    let objs = render(&[]);
    assert_eq!(
        rules(find(&objs, "ClusterRole", "t-rampart")),
        [
            "/namespaces:get@kube-system",
            "/secrets:get",
            "/secrets:list",
            "/secrets:watch",
            "apiextensions.k8s.io/customresourcedefinitions:get@backups.rampart.dev",
            "apiextensions.k8s.io/customresourcedefinitions:get@firewallrules.rampart.dev",
            "apiextensions.k8s.io/customresourcedefinitions:get@policies.rampart.dev",
            "apiextensions.k8s.io/customresourcedefinitions:get@restores.rampart.dev",
            "apiextensions.k8s.io/customresourcedefinitions:get@strategies.rampart.dev",
            "apiextensions.k8s.io/customresourcedefinitions:get@vaults.rampart.dev",
            "events.k8s.io/events:create",
            "events.k8s.io/events:patch",
            "rampart.dev/backups/status:patch",
            "rampart.dev/backups:list",
            "rampart.dev/backups:patch",
            "rampart.dev/backups:watch",
            "rampart.dev/clusterproviderconfigs/status:patch",
            "rampart.dev/clusterproviderconfigs:list",
            "rampart.dev/clusterproviderconfigs:watch",
            "rampart.dev/firewallrules/status:patch",
            "rampart.dev/firewallrules:list",
            "rampart.dev/firewallrules:patch",
            "rampart.dev/firewallrules:watch",
            "rampart.dev/policies/status:patch",
            "rampart.dev/policies:list",
            "rampart.dev/policies:patch",
            "rampart.dev/policies:watch",
            "rampart.dev/providerconfigs/status:patch",
            "rampart.dev/providerconfigs:list",
            "rampart.dev/providerconfigs:watch",
            "rampart.dev/restores/status:patch",
            "rampart.dev/restores:list",
            "rampart.dev/restores:patch",
            "rampart.dev/restores:watch",
            "rampart.dev/strategies/status:patch",
            "rampart.dev/strategies:list",
            "rampart.dev/strategies:patch",
            "rampart.dev/strategies:watch",
            "rampart.dev/vaults/status:patch",
            "rampart.dev/vaults:list",
            "rampart.dev/vaults:patch",
            "rampart.dev/vaults:watch",
        ]
    );
    let ks = kinds(&objs);
    assert!(
        !ks.iter()
            .any(|k| k.starts_with("Role/") || k.starts_with("RoleBinding/")),
        "{ks:?}"
    );
}

#[test]
fn people_may_take_backups_with_edit_but_restoring_needs_its_own_role() {
    let objs = render(&[]);
    let edit = find(&objs, "ClusterRole", "t-rampart-edit");
    assert_eq!(
        edit["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-edit"],
        "true"
    );
    let edit = rules(edit);
    assert!(
        edit.contains(&"rampart.dev/backups:create".to_string()),
        "{edit:?}"
    );
    assert!(edit.contains(&"rampart.dev/restores:get".to_string()));
    assert!(
        !edit.iter().any(|r| r.starts_with("rampart.dev/restores:")
            && !r.ends_with(":get")
            && !r.ends_with(":list")
            && !r.ends_with(":watch")),
        "edit only reads Restores: {edit:?}"
    );
    let restore = rules(find(&objs, "ClusterRole", "t-rampart-restore"));
    assert!(restore.contains(&"rampart.dev/restores:create".to_string()));
    let restore_role = find(&objs, "ClusterRole", "t-rampart-restore");
    assert!(
        restore_role["metadata"]["labels"]
            .as_object()
            .is_none_or(|l| !l
                .keys()
                .any(|k| k.starts_with("rbac.authorization.k8s.io/aggregate"))),
        "the restore role is bound on purpose, never aggregated"
    );
    let off = render(&["rbac.userRoles=false"]);
    assert!(!kinds(&off).iter().any(|k| k.ends_with("t-rampart-edit")));
}

#[test]
fn namespaces_only_mode_moves_the_namespaced_rules_into_a_role() {
    let objs = render(&["watchNamespace=team-a", "clusterId=prod-1"]);
    let cluster = rules(find(&objs, "ClusterRole", "t-rampart"));
    assert_eq!(
        cluster,
        [
            "apiextensions.k8s.io/customresourcedefinitions:get@backups.rampart.dev",
            "apiextensions.k8s.io/customresourcedefinitions:get@firewallrules.rampart.dev",
            "apiextensions.k8s.io/customresourcedefinitions:get@policies.rampart.dev",
            "apiextensions.k8s.io/customresourcedefinitions:get@restores.rampart.dev",
            "apiextensions.k8s.io/customresourcedefinitions:get@strategies.rampart.dev",
            "apiextensions.k8s.io/customresourcedefinitions:get@vaults.rampart.dev",
            "rampart.dev/clusterproviderconfigs/status:patch",
            "rampart.dev/clusterproviderconfigs:list",
            "rampart.dev/clusterproviderconfigs:watch",
        ],
        "with clusterId set, kube-system is not read either"
    );
    let role = find(&objs, "Role", "t-rampart");
    assert_eq!(role["metadata"]["namespace"], "team-a");
    assert!(rules(role).contains(&"/secrets:get".to_string()));
    let binding = find(&objs, "RoleBinding", "t-rampart");
    assert_eq!(binding["metadata"]["namespace"], "team-a");
    assert_eq!(binding["subjects"][0]["namespace"], "rs");
    let a = args(&objs);
    assert!(a.contains(&"--namespace=team-a".to_string()), "{a:?}");
    assert!(a.contains(&"--cluster-id=prod-1".to_string()), "{a:?}");
}

#[test]
fn leader_election_comes_with_more_than_one_replica() {
    let single = render(&[]);
    assert!(!args(&single).contains(&"--leader-elect".to_string()));
    assert!(!kinds(&single).iter().any(|k| k.contains("leader-election")));
    for sets in [
        &["replicaCount=2"][..],
        &["leaderElection.enabled=true"][..],
    ] {
        let objs = render(sets);
        let a = args(&objs);
        for flag in [
            "--leader-elect",
            "--lease-name=t-rampart-leader",
            "--lease-namespace=rs",
            "--lease-duration-seconds=15",
        ] {
            assert!(a.contains(&flag.to_string()), "{sets:?}: {flag} in {a:?}");
        }
        let role = find(&objs, "Role", "t-rampart-leader-election");
        assert_eq!(role["metadata"]["namespace"], "rs");
        assert_eq!(
            rules(role),
            [
                "coordination.k8s.io/leases:create",
                "coordination.k8s.io/leases:get@t-rampart-leader",
                "coordination.k8s.io/leases:patch@t-rampart-leader",
            ]
        );
    }
}

#[test]
fn optional_objects_render_only_when_enabled() {
    let default = kinds(&render(&[]));
    for k in ["PodDisruptionBudget/", "NetworkPolicy/", "ServiceMonitor/"] {
        assert!(
            !default.iter().any(|x| x.starts_with(k)),
            "{k} off by default"
        );
    }
    let objs = render(&[
        "podDisruptionBudget.enabled=true",
        "networkPolicy.enabled=true",
        "networkPolicy.metricsFrom[0].namespaceSelector.matchLabels.monitoring=enabled",
        "metrics.serviceMonitor.enabled=true",
        "metrics.serviceMonitor.labels.release=prometheus",
    ]);
    let np = find(&objs, "NetworkPolicy", "t-rampart");
    assert_eq!(np["spec"]["policyTypes"], serde_json::json!(["Ingress"]));
    assert_eq!(np["spec"]["ingress"][0]["ports"][0]["port"], "metrics");
    assert_eq!(
        np["spec"]["ingress"][0]["from"][0]["namespaceSelector"]["matchLabels"]["monitoring"],
        "enabled"
    );
    let sm = find(&objs, "ServiceMonitor", "t-rampart");
    assert_eq!(sm["metadata"]["labels"]["release"], "prometheus");
    assert_eq!(sm["spec"]["endpoints"][0]["port"], "metrics");
    assert_eq!(
        find(&objs, "PodDisruptionBudget", "t-rampart")["spec"]["maxUnavailable"],
        1
    );
}

/// The rendered Deployment passes the "restricted" Pod Security Standard: a server-side dry
/// run into a namespace that enforces it draws no warning.
#[test]
fn rendered_workload_meets_the_restricted_pod_security_standard() {
    let env = env();
    let ns = crate::harness::create_namespace("psa");
    env.kubectl_ok(&[
        "label",
        "namespace",
        &ns,
        "pod-security.kubernetes.io/enforce=restricted",
        "pod-security.kubernetes.io/warn=restricted",
    ]);
    let out = helm_offline(&["template", "t", CHART, "--namespace", &ns]);
    assert!(out.status.success(), "{}", text(&out));
    let rendered = String::from_utf8_lossy(&out.stdout).into_owned();
    let out = env.server.kubectl_with_stdin(
        &["apply", "--dry-run=server", "-n", &ns, "-f", "-"],
        Some(&rendered),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        !stderr.contains("PodSecurity"),
        "Pod Security warnings: {stderr}"
    );
}

const GENERATED_HEADER: &str = "# Generated from charts/rampart: `helm template rampart charts/rampart --namespace rampart-system`.\n# Do not edit: change the chart and run scripts/generate (tests/install fails when this is stale).\n";

/// Compare a generated file with what it should hold; with RAMPART_BLESS=1 (scripts/generate),
/// rewrite it instead.
fn check_generated(rel: &str, expected: &str) {
    let path = format!("{REPO}/{rel}");
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if current == expected {
        return;
    }
    if std::env::var_os("RAMPART_BLESS").is_some() {
        std::fs::write(&path, expected).expect("write generated file");
        return;
    }
    panic!("{rel} is stale: run scripts/generate and commit the result");
}

#[test]
fn generated_chart_crds_are_current() {
    check_generated(
        "charts/rampart/crds/rampart.dev.yaml",
        &rampart::api::crds_yaml(),
    );
}

#[test]
fn generated_kustomize_crds_are_current() {
    check_generated("deploy/crds.yaml", &rampart::api::crds_yaml());
}

#[test]
fn generated_kustomize_manifests_are_current() {
    let out = helm_offline(&[
        "template",
        "rampart",
        CHART,
        "--namespace",
        "rampart-system",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let rendered = String::from_utf8_lossy(&out.stdout);
    check_generated(
        "deploy/rampart.yaml",
        &format!("{GENERATED_HEADER}{rendered}"),
    );
}
