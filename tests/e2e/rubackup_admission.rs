//! The `ruBackup` blocks on a real kube-apiserver: the example is accepted, bad manifests are
//! refused with a message naming the field, and immutable fields cannot change.

use rampart::testenv::TestApiServer;

/// The shared test API server of this binary (CRDs installed there).
struct Server(&'static TestApiServer);

impl Server {
    fn start() -> Server {
        Server(&crate::support::env().server)
    }

    fn namespace(&self, name: &str) -> String {
        let name = format!("{name}-rb");
        let out = self.0.kubectl(&["create", "namespace", &name]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        name
    }

    /// Apply `yaml` into `ns`: (accepted, stderr).
    fn apply(&self, ns: &str, yaml: &str) -> (bool, String) {
        let out = self
            .0
            .kubectl_with_stdin(&["apply", "-n", ns, "-f", "-"], Some(yaml));
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

fn object(kind: &str, name: &str, body: &str) -> String {
    format!(
        "apiVersion: rampart.dev/v1alpha1\nkind: {kind}\nmetadata:\n  name: {name}\nspec:\n  providerConfigRef: {{name: rb}}\n{body}"
    )
}

fn pool(extra: &str) -> String {
    object(
        "Vault",
        "pool",
        &format!(
            "  ruBackup:\n    name: k8s-main\n    poolType: File system\n    mediaServer: rubackup-server\n{extra}"
        ),
    )
}

fn rule(extra: &str) -> String {
    object(
        "Policy",
        "rule",
        &format!(
            "  ruBackup:\n    name: k8s-rule\n    client: db1 (0a1b2c3d4e5f6071)\n    resourceType: File system\n    resource: /home/\n{extra}"
        ),
    )
}

fn strategy(extra: &str) -> String {
    object(
        "Strategy",
        "strategy",
        &format!("  ruBackup:\n    name: k8s-nightly\n{extra}"),
    )
}

fn provider(extra: &str) -> String {
    format!(
        "apiVersion: rampart.dev/v1alpha1\nkind: ProviderConfig\nmetadata:\n  name: rb\nspec:\n  type: RuBackup\n  endpoint: https://rb.example:5656\n  ruBackup:\n{extra}"
    )
}

#[tokio::test]
async fn the_api_server_checks_the_rubackup_blocks() {
    let server = Server::start();

    let ns = server.namespace("rubackup-example");
    let example = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/examples/rubackup.yaml"
    ))
    .unwrap();
    let (ok, err) = server.apply(&ns, &example);
    assert!(ok, "the example is accepted: {err}");

    let ns = server.namespace("rubackup-bad");
    let two_rules = "    rules:\n    - {client: db1 (aa), resourceType: File system, resource: /a}\n    - {client: db1 (aa), resourceType: File system, resource: /a}\n";
    let bad: Vec<(&str, String, &[&str])> = vec![
        (
            "pool without a media server",
            object(
                "Vault",
                "p",
                "  ruBackup: {name: p, poolType: File system}\n",
            ),
            &["mediaServer", "Required value"],
        ),
        (
            "block device parameters on a file system pool",
            pool("    blockDevice: {blockSize: 4096}\n"),
            &["blockDevice is only for pools of type Block device"],
        ),
        (
            "compression on a block device pool",
            pool("    compressionType: None\n").replace("File system", "Block device"),
            &["compressionType is not used"],
        ),
        (
            "a quote in a pool name",
            pool("").replace("k8s-main", "k8s\\\"main"),
            &["name", "should match"],
        ),
        (
            "client without its HW ID",
            rule("").replace("db1 (0a1b2c3d4e5f6071)", "db1-server"),
            &["client", "should match"],
        ),
        (
            "pool and vaultRef on a strategy",
            strategy("    pool: Default\n    vaultRef: {name: v}\n"),
            &["set pool or vaultRef, not both"],
        ),
        (
            "schedule and cron on one backup type",
            strategy(
                "    full:\n      schedule: {cron: '0 1 * * *'}\n      cron: {minute: '0', hour: '1', dayOfMonth: '*', month: '*', dayOfWeek: '*'}\n",
            ),
            &["set schedule or cron, not both"],
        ),
        (
            "retention and storageDuration on one backup type",
            strategy("    full:\n      retention: {keepDays: 3}\n      storageDuration: 3 days\n"),
            &["set retention or storageDuration, not both"],
        ),
        (
            "two rules for one client resource",
            strategy(two_rules),
            &["rules", "Duplicate value"],
        ),
        (
            "an administrator twice",
            strategy("    administrators: [alice, alice]\n"),
            &["administrators", "Duplicate value"],
        ),
        (
            "a cron field that is not one",
            strategy(
                "    full:\n      cron: {minute: 'x', hour: '1', dayOfMonth: '*', month: '*', dayOfWeek: '*'}\n",
            ),
            &["minute", "should match"],
        ),
        (
            "domain login without a domain",
            provider("    authType: Domain\n"),
            &["domain is required"],
        ),
        (
            "domain login in the 2.3 body",
            provider("    authType: Domain\n    domain: RB\n    loginFormat: Legacy\n"),
            &["no domain authentication"],
        ),
        ("page size 0", provider("    pageSize: 0\n"), &["pageSize"]),
        (
            "one query parameter for the page and its size",
            provider("    pageParameter: limit\n"),
            &["pageParameter and limitParameter must name different query parameters"],
        ),
        (
            "a paging parameter that is no query name",
            provider("    limitParameter: 'page size'\n"),
            &["limitParameter", "should match"],
        ),
        (
            "an unknown form of schedule fields",
            provider("    cronFields: Sometimes\n"),
            &["cronFields", "Unsupported value"],
        ),
    ];
    let mut failures = Vec::new();
    for (what, yaml, expect) in &bad {
        let (ok, stderr) = server.apply(&ns, yaml);
        if ok {
            failures.push(format!("{what}: accepted"));
        } else if let Some(missing) = expect.iter().find(|e| !stderr.contains(*e)) {
            failures.push(format!("{what}: message lacks {missing:?}: {stderr}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    let ns = server.namespace("rubackup-immutable");
    let base_rule = rule("    backupType: full\n");
    let base_strategy = strategy("");
    let base_pool = pool("");
    for yaml in [&base_rule, &base_strategy, &base_pool] {
        let (ok, err) = server.apply(&ns, yaml);
        assert!(ok, "{err}");
    }
    let changes: Vec<(&str, String, &str)> = vec![
        (
            "pool name",
            base_pool.replace("name: k8s-main", "name: k8s-other"),
            "name is immutable",
        ),
        (
            "pool type",
            base_pool.replace("File system", "Cloud"),
            "poolType is immutable",
        ),
        (
            "media server",
            base_pool.replace("rubackup-server", "rubackup-media"),
            "mediaServer is immutable",
        ),
        (
            "block device added",
            base_pool.replace("File system", "Block device")
                + "    blockDevice: {blockSize: 4096}\n",
            "poolType is immutable",
        ),
        (
            "rule client",
            base_rule.replace("db1 (0a1b2c3d4e5f6071)", "db2 (0a1b2c3d4e5f6071)"),
            "client is immutable",
        ),
        (
            "rule resource",
            base_rule.replace("/home/", "/etc/"),
            "resource is immutable",
        ),
        (
            "rule backup type",
            base_rule.replace("backupType: full", "backupType: incremental"),
            "backupType is immutable",
        ),
        (
            "rule backup type removed",
            base_rule.replace("    backupType: full\n", ""),
            "backupType is set at creation only",
        ),
        (
            "rule crypto added",
            base_rule.clone() + "    crypto: nocrypt\n",
            "crypto is set at creation only",
        ),
        (
            "strategy name",
            base_strategy.replace("k8s-nightly", "k8s-daily"),
            "name is immutable",
        ),
    ];
    for (what, yaml, expect) in changes {
        let (ok, stderr) = server.apply(&ns, &yaml);
        assert!(!ok, "{what}: change accepted");
        assert!(
            stderr.contains(expect),
            "{what}: message lacks {expect:?}: {stderr}"
        );
    }
    // What RuBackup's PATCH can change, may change.
    let (ok, err) = server.apply(
        &ns,
        &(base_pool + "    description: changed\n    retentionPeriod: 2 years\n"),
    );
    assert!(ok, "{err}");
}
