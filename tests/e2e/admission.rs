//! The CRDs on a real API server: every example is accepted, and bad manifests are rejected by
//! the server with a message that names the field.

use std::time::Duration;

use crate::support::env;

/// Apply `yaml` into `ns` with kubectl; returns (success, stderr).
fn apply(ns: &str, yaml: &str) -> (bool, String) {
    let out = env()
        .server
        .kubectl_with_stdin(&["apply", "-n", ns, "-f", "-"], Some(yaml));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn examples() -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/examples");
    let mut v: Vec<(String, String)> = std::fs::read_dir(dir)
        .expect("deploy/examples exists")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "yaml"))
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read_to_string(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn every_example_is_accepted_by_the_api_server() {
    let client = env().client().await;
    let ns = crate::support::namespace(&client, "examples").await;
    let all = examples();
    assert!(!all.is_empty());
    for (file, yaml) in all {
        // Dry-run on the server: full validation (schema + CEL) without creating anything.
        let out = env().server.kubectl_with_stdin(
            &["apply", "--dry-run=server", "-n", &ns, "-f", "-"],
            Some(&yaml),
        );
        assert!(
            out.status.success(),
            "{file} rejected: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let _ = Duration::ZERO;
}

/// One invalid manifest per constraint class, with the text the rejection must contain.
struct Bad {
    what: &'static str,
    yaml: String,
    expect: &'static [&'static str],
}

const CBR_PC: &str = "providerConfigRef: {name: cbr}";

fn vault(block: &str) -> String {
    format!(
        "apiVersion: rampart.dev/v1alpha1\nkind: Vault\nmetadata: {{name: v}}\nspec:\n  {CBR_PC}\n{block}"
    )
}

fn cbr_vault(extra: &str) -> String {
    vault(&format!(
        "  huaweiCbr:\n    objectType: server\n    sizeGB: 100\n{extra}"
    ))
}

fn policy(body: &str) -> String {
    format!(
        "apiVersion: rampart.dev/v1alpha1\nkind: Policy\nmetadata: {{name: p}}\nspec:\n  {CBR_PC}\n{body}"
    )
}

fn pc(body: &str) -> String {
    format!(
        "apiVersion: rampart.dev/v1alpha1\nkind: ProviderConfig\nmetadata: {{name: pc}}\nspec:\n{body}"
    )
}

fn bad_manifests() -> Vec<Bad> {
    vec![
        Bad { what: "missing required field (vault objectType)", yaml: vault("  huaweiCbr:\n    sizeGB: 100\n"), expect: &["objectType", "Required"] },
        Bad { what: "missing providerConfigRef", yaml: "apiVersion: rampart.dev/v1alpha1\nkind: Vault\nmetadata: {name: v}\nspec:\n  huaweiCbr: {objectType: server, sizeGB: 100}\n".into(), expect: &["providerConfigRef", "Required"] },
        Bad { what: "out of range (size below 10 GB)", yaml: cbr_vault("").replace("sizeGB: 100", "sizeGB: 5"), expect: &["sizeGB", "10"] },
        Bad { what: "out of range (size above the maximum)", yaml: cbr_vault("").replace("sizeGB: 100", "sizeGB: 99999999"), expect: &["sizeGB", "10485760"] },
        Bad { what: "bad enum (objectType)", yaml: cbr_vault("").replace("objectType: server", "objectType: tape"), expect: &["objectType", "Unsupported value"] },
        Bad { what: "too long (vault name)", yaml: cbr_vault(&format!("    name: {}\n", "n".repeat(65))), expect: &["name", "64"] },
        Bad { what: "too long (description)", yaml: cbr_vault(&format!("    description: {}\n", "d".repeat(65))), expect: &["description", "64"] },
        Bad { what: "two vendor blocks", yaml: cbr_vault("  ruBackup: {name: p, poolType: File system, mediaServer: m}\n"), expect: &["exactly one vendor block"] },
        Bad { what: "no vendor block", yaml: vault(""), expect: &["exactly one vendor block"] },
        Bad { what: "resource type does not match objectType", yaml: cbr_vault("    resources:\n    - {id: a1, type: OS::Cinder::Volume}\n"), expect: &["resources", "objectType"] },
        Bad { what: "duplicate resource id", yaml: cbr_vault("    resources:\n    - {id: a1, type: OS::Nova::Server}\n    - {id: a1, type: OS::Nova::Server}\n"), expect: &["resources", "Duplicate value"] },
        Bad { what: "bad enum (resource type)", yaml: cbr_vault("    resources:\n    - {id: a1, type: OS::Glance::Image}\n"), expect: &["type", "Unsupported value"] },
        Bad { what: "too many bind rules", yaml: cbr_vault(&format!("    bindRules:\n{}", (0..6).map(|i| format!("    - {{key: k{i}, value: v}}\n")).collect::<String>())), expect: &["bindRules", "5"] },
        Bad { what: "bad pattern (tag key)", yaml: cbr_vault("    tags:\n    - {key: 'bad key!', value: v}\n"), expect: &["key", "should match"] },
        Bad { what: "reserved tag key", yaml: cbr_vault("    tags:\n    - {key: rampart-owner, value: v}\n"), expect: &["rampart-owner"] },
        Bad { what: "threshold out of range", yaml: cbr_vault("    threshold: 101\n"), expect: &["threshold", "100"] },
        Bad { what: "bad enum (deletionPolicy)", yaml: cbr_vault("").replace("spec:\n", "spec:\n  deletionPolicy: Keep\n"), expect: &["deletionPolicy", "Unsupported value"] },
        Bad { what: "bad enum (managementPolicies)", yaml: cbr_vault("").replace("spec:\n", "spec:\n  managementPolicies: [Observe, Destroy]\n"), expect: &["managementPolicies", "Unsupported value"] },
        Bad { what: "bad pattern (RRULE)", yaml: policy("  huaweiCbr:\n    pattern: ['FREQ=HOURLY;BYHOUR=1']\n    operationDefinition: {maxBackups: 3}\n"), expect: &["pattern", "should match"] },
        Bad { what: "policy without schedule", yaml: policy("  retention: {keepLast: 3}\n  huaweiCbr: {}\n"), expect: &["spec.schedule or spec.huaweiCbr.pattern"] },
        Bad { what: "schedule and native pattern together", yaml: policy("  schedule: {cron: '0 2 * * *'}\n  retention: {keepLast: 3}\n  huaweiCbr:\n    pattern: ['FREQ=DAILY;INTERVAL=1;BYHOUR=2;BYMINUTE=0']\n"), expect: &["not both"] },
        Bad { what: "bad pattern (cron with 6 fields)", yaml: policy("  schedule: {cron: '0 2 * * * *'}\n  retention: {keepLast: 3}\n  huaweiCbr: {}\n"), expect: &["cron", "should match"] },
        Bad { what: "out of range (keepLast 0)", yaml: policy("  schedule: {cron: '0 2 * * *'}\n  retention: {keepLast: 0}\n  huaweiCbr: {}\n"), expect: &["keepLast", "1"] },
        Bad { what: "cross-field (long-term retention without timezone)", yaml: policy("  schedule: {cron: '0 2 * * *'}\n  huaweiCbr:\n    operationDefinition: {dayBackups: 3}\n"), expect: &["timezone is required"] },
        Bad { what: "maxBackups 0 is neither -1 nor 1..99999", yaml: policy("  schedule: {cron: '0 2 * * *'}\n  huaweiCbr:\n    operationDefinition: {maxBackups: 0}\n"), expect: &["maxBackups"] },
        Bad { what: "provider vendor block not matching type", yaml: pc("  type: RuBackup\n  endpoint: https://rb.example\n  huaweiCbr: {projectId: p1}\n"), expect: &["huaweiCbr", "only allowed when spec.type is HuaweiCbr"] },
        Bad { what: "provider endpoint not a URL", yaml: pc("  type: HuaweiCbr\n  endpoint: cbr.example\n"), expect: &["endpoint", "should match"] },
        Bad { what: "namespaced provider reading another namespace's Secret", yaml: pc("  type: HuaweiCbr\n  endpoint: https://cbr.example\n  credentials: {secretRef: {name: s, namespace: other}}\n"), expect: &["secretRef.namespace", "own namespace"] },
        Bad { what: "password auth without IAM endpoint", yaml: pc("  type: HuaweiCbr\n  endpoint: https://cbr.example\n  huaweiCbr: {projectId: p1, authMethod: Password}\n"), expect: &["iamEndpoint"] },
        Bad { what: "budget out of range", yaml: pc("  type: HuaweiCbr\n  endpoint: https://cbr.example\n  budget: {qps: 0}\n"), expect: &["qps"] },
    ]
}

#[tokio::test]
async fn bad_manifests_are_rejected_with_the_field_named() {
    let client = env().client().await;
    let ns = crate::support::namespace(&client, "bad").await;
    let cases = bad_manifests();
    assert!(
        cases.len() >= 25,
        "at least 25 constraint classes, have {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let (ok, stderr) = apply(&ns, &case.yaml);
        if ok {
            failures.push(format!("{}: accepted", case.what));
        } else if let Some(missing) = case.expect.iter().find(|e| !stderr.contains(*e)) {
            failures.push(format!(
                "{}: message lacks {missing:?}: {stderr}",
                case.what
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Immutable fields: created fine, then changing them is refused.
#[tokio::test]
async fn immutable_fields_cannot_change() {
    let client = env().client().await;
    let ns = crate::support::namespace(&client, "immut").await;
    let base = cbr_vault("    description: first\n");
    let (ok, err) = apply(&ns, &base);
    assert!(ok, "{err}");
    let changes: [(&str, String, &[&str]); 5] = [
        (
            "objectType",
            base.replace("objectType: server", "objectType: disk"),
            &["objectType is immutable"],
        ),
        (
            "description",
            base.replace("description: first", "description: second"),
            &["description is immutable"],
        ),
        (
            "sizeGB shrink",
            base.replace("sizeGB: 100", "sizeGB: 50"),
            &["sizeGB can only grow"],
        ),
        (
            "providerConfigRef",
            base.replace("{name: cbr}", "{name: other}"),
            &["providerConfigRef is immutable"],
        ),
        (
            "description removed",
            base.replace("    description: first\n", ""),
            &["description is set at creation only"],
        ),
    ];
    for (what, yaml, expect) in changes {
        let (ok, stderr) = apply(&ns, &yaml);
        assert!(!ok, "{what}: change accepted");
        for e in expect {
            assert!(stderr.contains(e), "{what}: message lacks {e:?}: {stderr}");
        }
    }
    // A size increase is allowed.
    let (ok, err) = apply(&ns, &base.replace("sizeGB: 100", "sizeGB: 200"));
    assert!(ok, "growing a vault must be allowed: {err}");
}
