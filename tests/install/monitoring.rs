//! The chart's alerts and dashboard (issue 17): rendered only when enabled, as the objects
//! Prometheus Operator and Grafana's sidecar look for, holding exactly the files the chart
//! ships; and every metric those files name is one rampart's registry exports. What the alerts
//! do on recorded series is tested in tools/deploy-tools/alerts-check, with Prometheus' own
//! rule parser and engine.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::chart::{find, render};
use crate::harness::{CHART, helm_offline, text};

const RULES: &str = "rules/rampart-alerts.yaml";
const DASHBOARD: &str = "dashboards/rampart.json";
/// The job the rules file names; the template puts the release's in its place.
const PLACEHOLDER_JOB: &str = r#"job="rampart-metrics""#;
/// The Go test's copy of the metric list.
const GO_METRICS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tools/deploy-tools/alerts-check/metrics_test.go"
);

fn chart_file(rel: &str) -> String {
    std::fs::read_to_string(format!("{CHART}/{rel}")).unwrap_or_else(|e| panic!("{rel}: {e}"))
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

/// Every alert expression of a PrometheusRule (or of the rules file, parsed).
fn exprs(groups: &Value) -> Vec<String> {
    groups
        .as_array()
        .expect("groups")
        .iter()
        .flat_map(|g| g["rules"].as_array().expect("rules").iter())
        .map(|r| r["expr"].as_str().expect("expr").to_string())
        .collect()
}

/// The rules file as the chart must render it for a release whose alerts watch `job`.
fn expected_rules(job: &str) -> Value {
    let file = chart_file(RULES);
    let rendered = file.replace(PLACEHOLDER_JOB, &format!(r#"job="{job}""#));
    serde_saphyr::from_str(&rendered).expect("rules file parses")
}

#[test]
fn alerts_and_dashboard_render_only_when_enabled() {
    let default = kinds(&render(&[]));
    assert!(
        !default
            .iter()
            .any(|k| k.starts_with("PrometheusRule/") || k.starts_with("ConfigMap/")),
        "off by default: {default:?}"
    );

    let objs = render(&[
        "alerts.enabled=true",
        "alerts.labels.release=prometheus",
        "dashboard.enabled=true",
    ]);
    let rule = find(&objs, "PrometheusRule", "t-rampart");
    assert_eq!(rule["apiVersion"], "monitoring.coreos.com/v1");
    assert_eq!(rule["metadata"]["namespace"], "rs");
    let labels = &rule["metadata"]["labels"];
    assert_eq!(labels["release"], "prometheus");
    assert_eq!(labels["app.kubernetes.io/part-of"], "rampart");
    // The file as it is, but watching this release's metrics Service (the ServiceMonitor's job).
    assert_eq!(rule["spec"], expected_rules("t-rampart-metrics"));
    let names: BTreeSet<&str> = rule["spec"]["groups"][0]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["alert"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "RampartBackupFailed",
            "RampartBackupMissed",
            "RampartObjectsNotReady",
            "RampartOperatorDown",
            "RampartVendorUnreachable",
        ])
    );
    assert!(
        chart_file(RULES).matches(PLACEHOLDER_JOB).count() >= names.len(),
        "every alert names the placeholder job"
    );
    for e in exprs(&rule["spec"]["groups"]) {
        assert!(e.contains(r#"job="t-rampart-metrics""#), "{e}");
        assert!(!e.contains(PLACEHOLDER_JOB), "{e}");
    }

    let cm = find(&objs, "ConfigMap", "t-rampart-dashboard");
    assert_eq!(cm["metadata"]["namespace"], "rs");
    assert_eq!(cm["metadata"]["labels"]["grafana_dashboard"], "1");
    let shipped: Value = serde_json::from_str(&chart_file(DASHBOARD)).expect("dashboard JSON");
    let embedded: Value =
        serde_json::from_str(cm["data"]["rampart.json"].as_str().expect("rampart.json"))
            .expect("the embedded dashboard is JSON");
    assert_eq!(embedded, shipped);
}

#[test]
fn alerts_and_dashboard_values_change_job_label_and_namespace() {
    let objs = render(&[
        "alerts.enabled=true",
        "alerts.operatorJob=rampart",
        "dashboard.enabled=true",
        "dashboard.label=grafana.example/dashboard",
        "dashboard.labelValue=yes",
        "dashboard.namespace=monitoring",
        "dashboard.annotations.grafana_folder=Backups",
    ]);
    let rule = find(&objs, "PrometheusRule", "t-rampart");
    assert_eq!(rule["spec"], expected_rules("rampart"));
    let cm = find(&objs, "ConfigMap", "t-rampart-dashboard");
    let meta = &cm["metadata"];
    assert_eq!(meta["namespace"], "monitoring");
    assert_eq!(meta["labels"]["grafana.example/dashboard"], "yes");
    assert!(meta["labels"]["grafana_dashboard"].is_null());
    assert_eq!(meta["annotations"]["grafana_folder"], "Backups");
    // `--set dashboard.labelValue=1` gives helm a number; the label is still the string "1".
    let objs = render(&["dashboard.enabled=true", "dashboard.labelValue=1"]);
    assert_eq!(
        find(&objs, "ConfigMap", "t-rampart-dashboard")["metadata"]["labels"]["grafana_dashboard"],
        "1"
    );
}

#[test]
fn alerts_and_dashboard_pass_helm_lint_and_refuse_bad_values() {
    let out = helm_offline(&[
        "lint",
        "--strict",
        CHART,
        "--set",
        "alerts.enabled=true",
        "--set",
        "dashboard.enabled=true",
        "--set",
        "metrics.serviceMonitor.enabled=true",
    ]);
    assert!(out.status.success(), "helm lint: {}", text(&out));
    for (set, named) in [
        (r#"alerts.operatorJob=a"b"#, "alerts/operatorJob"),
        ("alerts.severity=page", "severity"),
        ("dashboard.label=not a label", "dashboard/label"),
        ("dashboard.namespace=Monitoring", "dashboard/namespace"),
        ("dashboard.enabled=yes", "dashboard/enabled"),
    ] {
        let out = helm_offline(&["template", "t", CHART, "--set", set]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{set} was accepted");
        assert!(
            stderr.contains(named),
            "{set}: the error does not name {named}: {stderr}"
        );
    }
}

/// The families of the registry's text exposition (`# TYPE <family> <type>`), after one sample
/// of each was recorded through the functions the operator calls: a family without samples
/// prints nothing. A new family needs its line here.
fn exported() -> BTreeMap<String, String> {
    use rampart::telemetry::metrics::{self, BackupLabels};
    let took = std::time::Duration::from_millis(5);
    metrics::vendor_request("MonitoringTest", "list", "200", took);
    metrics::reconcile("MonitoringTest", "success", took);
    metrics::drift("MonitoringTest");
    metrics::objects_total("MonitoringTest", 1);
    metrics::objects_ready("MonitoringTest", 1);
    let object = BackupLabels {
        kind: "MonitoringTest".into(),
        namespace: "ns".into(),
        name: "n".into(),
        vendor: "MonitoringTest".into(),
    };
    metrics::backup_health(&object, 1, "BackupSucceeded");
    metrics::backup_facts(&object, Some(1), Some(1), Some(1), Some(1));
    let text = metrics::encode();
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(|l| {
            let (name, kind) = l.split_once(' ').expect("# TYPE name type");
            (name.to_string(), kind.to_string())
        })
        .collect()
}

/// Series names: a counter's samples are `<family>_total`, a histogram's `_bucket`, `_sum` and
/// `_count`, a gauge's its own.
fn sample_names(families: &BTreeMap<String, String>) -> BTreeSet<String> {
    families
        .iter()
        .flat_map(|(name, kind)| match kind.as_str() {
            "counter" => vec![format!("{name}_total")],
            "histogram" => ["_bucket", "_sum", "_count"]
                .iter()
                .map(|s| format!("{name}{s}"))
                .collect(),
            _ => vec![name.clone()],
        })
        .collect()
}

#[test]
fn alerts_and_dashboard_name_only_metrics_rampart_exports() {
    let families = exported();
    assert!(
        families.contains_key("rampart_backup_healthy") && families.len() >= 10,
        "the exposition lists the families: {families:?}"
    );
    let samples = sample_names(&families);
    let metric = regex::Regex::new(r"\brampart_[a-z0-9_]+").unwrap();
    for rel in [RULES, DASHBOARD] {
        let text = chart_file(rel);
        let used: BTreeSet<&str> = metric.find_iter(&text).map(|m| m.as_str()).collect();
        assert!(!used.is_empty(), "{rel} names no rampart metric");
        let unknown: Vec<&&str> = used.iter().filter(|n| !samples.contains(**n)).collect();
        assert!(
            unknown.is_empty(),
            "{rel} names metrics rampart does not export: {unknown:?} (exported: {samples:?})"
        );
    }
    // The Go test checks the dashboard's queries against its own copy of the list: it must be
    // the registry's.
    let go = std::fs::read_to_string(GO_METRICS).expect("alerts-check metrics list");
    let entry = regex::Regex::new(r#""(rampart_[a-z0-9_]+)":\s*"(\w+)""#).unwrap();
    let listed: BTreeMap<String, String> = entry
        .captures_iter(&go)
        .map(|c| (c[1].to_string(), c[2].to_string()))
        .collect();
    assert_eq!(
        listed, families,
        "tools/deploy-tools/alerts-check/metrics_test.go lists other families than the registry"
    );
}
