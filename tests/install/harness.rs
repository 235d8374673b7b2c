//! The install harness: one real kube-apiserver per test binary, helm and the other deployment
//! tools built from tools/deploy-tools, chart releases, and the operator running out of cluster
//! AS a release's ServiceAccount (admin token + impersonation), with exactly the arguments and
//! environment the chart's Deployment gives it.
//!
//! Reuse: `namespaced_operator(prefix, &[("key", "value")])` returns a `Deployed`: a running
//! operator (`.operator`, with its log) confined to a fresh namespace (`.namespace`), installed
//! by the chart in namespaces-only mode with extra `--set` values (`.release`); tests holding
//! one run in parallel. `cluster_wide_operator(prefix)` runs the base release (cluster-wide)
//! alone, since it would reconcile everyone's objects: it waits until no namespaced operator
//! runs and blocks them while it lives. `rbac::unreachable_cbr` is a sample of objects.
#![allow(dead_code)] // Shared by every module of this test binary; each uses a subset.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Container;
use kube::api::Api;
use kube::config::Kubeconfig;
use kube::runtime::wait::Condition;
use kube::{Client, Resource};
use rampart::testenv::{DeployTools, TestApiServer, deploy_tools, free_port};
use serde::de::DeserializeOwned;
use tokio::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

pub const CHART: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/charts/rampart");
pub const RAMPART: &str = env!("CARGO_BIN_EXE_rampart");

/// The image's entrypoint (tools/deploy-tools/ocipack, Dockerfile): the Deployment's args
/// follow it.
pub const ENTRYPOINT_ARGS: &[&str] = &["run"];

/// The CRDs the chart ships.
pub const CRD_NAMES: [&str; 6] = [
    "providerconfigs.rampart.dev",
    "clusterproviderconfigs.rampart.dev",
    "vaults.rampart.dev",
    "policies.rampart.dev",
    "strategies.rampart.dev",
    "firewallrules.rampart.dev",
];

/// The deployment tools (built once per machine and version of tools/deploy-tools).
pub fn tools() -> &'static DeployTools {
    static TOOLS: OnceLock<DeployTools> = OnceLock::new();
    TOOLS.get_or_init(|| deploy_tools().expect("tools/deploy-tools builds"))
}

/// helm without a cluster (`template`, `lint`), its state under rampart's cache.
pub fn helm_offline(args: &[&str]) -> Output {
    helm_command(&rampart::testenv::build::cache_dir().join("helm-home"))
        .args(args)
        .output()
        .expect("helm runs")
}

fn helm_command(home: &Path) -> Command {
    let mut cmd = Command::new(tools().helm());
    cmd.env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_DATA_HOME", home.join("data"))
        .stdin(Stdio::null());
    cmd
}

pub struct Env {
    pub server: TestApiServer,
}

static ENV: OnceLock<Env> = OnceLock::new();

/// The cluster-wide release with default values, installed with the server: it brings the
/// CRDs (the Helm way), so every test finds them.
pub const BASE_RELEASE: &str = "rampart-cluster";

/// Start (once) the API server (building the deployment tools meanwhile) and install the
/// base release.
pub fn env() -> &'static Env {
    ENV.get_or_init(|| {
        let tools = std::thread::spawn(tools);
        let server = TestApiServer::start_blocking().expect("test API server starts");
        eprintln!(
            "test API server ready on port {} in {:?}",
            server.port, server.startup
        );
        tools.join().expect("tools build thread");
        let env = Env { server };
        let out = env.helm(&[
            "install",
            BASE_RELEASE,
            CHART,
            "--namespace",
            BASE_RELEASE,
            "--create-namespace",
        ]);
        assert!(
            out.status.success(),
            "helm install {BASE_RELEASE}: {}",
            text(&out)
        );
        env.wait_for_crds();
        env
    })
}

/// Output of a command as text, for assertions and messages.
pub fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

impl Env {
    /// Run helm against the test server, with helm's own state kept in the server's directory.
    pub fn helm(&self, args: &[&str]) -> Output {
        helm_command(&self.server.data_dir.join("helm"))
            .args(args)
            .env("KUBECONFIG", self.server.kubeconfig_path())
            .output()
            .expect("helm runs")
    }

    pub fn kubectl_ok(&self, args: &[&str]) -> String {
        let out = self.server.kubectl(args);
        assert!(out.status.success(), "kubectl {args:?}: {}", text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn apply(&self, namespace: &str, yaml: &str) {
        let out = self
            .server
            .kubectl_with_stdin(&["apply", "-n", namespace, "-f", "-"], Some(yaml));
        assert!(out.status.success(), "apply: {}\n{yaml}", text(&out));
    }

    pub async fn client(&self) -> Client {
        self.server.client().await.expect("kube client")
    }

    /// Wait until the chart's CRDs serve (helm skips CRDs that exist, so a concurrent install
    /// may find them created but not yet established).
    pub fn wait_for_crds(&self) {
        let mut args = vec!["wait", "--for=condition=Established", "--timeout=60s"];
        let names: Vec<String> = CRD_NAMES.iter().map(|n| format!("crd/{n}")).collect();
        args.extend(names.iter().map(String::as_str));
        self.kubectl_ok(&args);
    }
}

/// A short random suffix for names.
pub fn suffix() -> String {
    use rand::Rng;
    let mut r = rand::rng();
    (0..6)
        .map(|_| format!("{:x}", r.random_range(0..16)))
        .collect()
}

/// A chart release on the test server.
#[derive(Clone, Debug)]
pub struct Release {
    pub name: String,
    pub namespace: String,
    /// Namespaces-only mode: the namespace the release watches.
    pub watch_namespace: Option<String>,
}

impl Release {
    /// `helm install` the chart with `--set` values; the namespace is created.
    pub fn install(name: &str, namespace: &str, values: &[(&str, &str)]) -> Release {
        let mut args = vec![
            "install",
            name,
            CHART,
            "--namespace",
            namespace,
            "--create-namespace",
        ];
        let sets: Vec<String> = values.iter().map(|(k, v)| format!("{k}={v}")).collect();
        for s in &sets {
            args.extend(["--set", s.as_str()]);
        }
        let out = env().helm(&args);
        assert!(out.status.success(), "helm install {name}: {}", text(&out));
        env().wait_for_crds();
        Release {
            name: name.to_string(),
            namespace: namespace.to_string(),
            watch_namespace: values
                .iter()
                .find(|(k, _)| *k == "watchNamespace")
                .map(|(_, v)| v.to_string()),
        }
    }

    pub async fn deployment(&self) -> Deployment {
        let api: Api<Deployment> = Api::namespaced(env().client().await, &self.namespace);
        let list = api
            .list(&kube::api::ListParams::default().labels(&format!(
                "app.kubernetes.io/instance={},app.kubernetes.io/name=rampart",
                self.name
            )))
            .await
            .expect("list deployments");
        assert_eq!(list.items.len(), 1, "one Deployment per release");
        list.items.into_iter().next().unwrap()
    }

    pub async fn container(&self) -> Container {
        let d = self.deployment().await;
        let spec = d.spec.and_then(|s| s.template.spec).expect("pod spec");
        spec.containers
            .into_iter()
            .find(|c| c.name == "rampart")
            .expect("rampart container")
    }

    pub async fn service_account(&self) -> String {
        let d = self.deployment().await;
        d.spec
            .and_then(|s| s.template.spec)
            .and_then(|s| s.service_account_name)
            .expect("serviceAccountName")
    }

    /// The Kubernetes user name of the release's ServiceAccount.
    pub async fn user(&self) -> String {
        format!(
            "system:serviceaccount:{}:{}",
            self.namespace,
            self.service_account().await
        )
    }

    /// `kubectl auth can-i` as the ServiceAccount (`namespace` None: cluster-wide).
    /// `resource` is `type`, `type/name`, or `type/status` for the status subresource.
    pub async fn can_i(&self, verb: &str, resource: &str, namespace: Option<&str>) -> bool {
        let user = self.user().await;
        let (resource, subresource) = match resource.strip_suffix("/status") {
            Some(r) => (r, Some("--subresource=status")),
            None => (resource, None),
        };
        let mut args = vec!["auth", "can-i", verb, resource, "--as", &user];
        args.extend(subresource);
        match namespace {
            Some(ns) => args.extend(["-n", ns]),
            None => args.push("--all-namespaces"),
        }
        let out = env().server.kubectl(&args);
        let answer = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert!(
            answer == "yes" || answer == "no",
            "can-i {verb} {resource}: {}",
            text(&out)
        );
        answer == "yes"
    }

    /// kubectl as the ServiceAccount.
    pub async fn kubectl_as(&self, args: &[&str]) -> Output {
        let user = self.user().await;
        let mut all = vec!["--as", user.as_str()];
        all.extend_from_slice(args);
        env().server.kubectl(&all)
    }

    /// A kubeconfig that acts as the ServiceAccount (admin token, `as:` impersonation), next
    /// to the server's own kubeconfig.
    pub async fn kubeconfig(&self) -> PathBuf {
        let user = self.user().await;
        impersonating_kubeconfig(&user)
    }

    /// Run the operator as the chart's Deployment would, as the ServiceAccount, and wait until
    /// `/readyz` says ready.
    pub async fn start_operator(&self) -> Operator {
        let container = self.container().await;
        assert!(
            container.command.is_none(),
            "the image's entrypoint runs the operator; the chart only passes args"
        );
        let metrics_port = free_port();
        let mut args: Vec<String> = ENTRYPOINT_ARGS.iter().map(|s| s.to_string()).collect();
        for arg in container.args.clone().unwrap_or_default() {
            args.push(if arg.starts_with("--metrics-addr=") {
                format!("--metrics-addr=127.0.0.1:{metrics_port}")
            } else {
                arg
            });
        }
        let pod_name = format!("{}-test-pod", self.name);
        let env = pod_env(&container, &pod_name, &self.namespace);
        let kubeconfig = self.kubeconfig().await;
        let log = env_dir().join(format!("operator-{}-{}.log", self.name, suffix()));
        Operator::spawn(&args, &env, &kubeconfig, metrics_port, log).await
    }
}

fn env_dir() -> &'static Path {
    &env().server.data_dir
}

/// A copy of the admin kubeconfig whose user acts as `user`.
pub fn impersonating_kubeconfig(user: &str) -> PathBuf {
    let server = &env().server;
    let mut kc = Kubeconfig::read_from(server.kubeconfig_path()).expect("admin kubeconfig");
    for named in &mut kc.auth_infos {
        if let Some(auth) = named.auth_info.as_mut() {
            auth.impersonate = Some(user.to_string());
        }
    }
    let file_name = format!("kubeconfig-as-{}", user.replace(':', "_"));
    let path = server.data_dir.join(file_name);
    // JSON is YAML: kube and kubectl read it as a kubeconfig.
    std::fs::write(
        &path,
        serde_json::to_vec_pretty(&kc).expect("kubeconfig serializes"),
    )
    .expect("write kubeconfig");
    path
}

/// The container's environment as the kubelet would set it (downward API included).
fn pod_env(container: &Container, pod_name: &str, namespace: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for var in container.env.clone().unwrap_or_default() {
        let value = match (var.value, var.value_from) {
            (Some(v), _) => v,
            (None, Some(from)) => {
                let field = from
                    .field_ref
                    .unwrap_or_else(|| panic!("{}: only fieldRef is emulated", var.name))
                    .field_path;
                match field.as_str() {
                    "metadata.name" => pod_name.to_string(),
                    "metadata.namespace" => namespace.to_string(),
                    other => panic!("{}: fieldRef {other} is not emulated", var.name),
                }
            }
            (None, None) => String::new(),
        };
        out.push((var.name, value));
    }
    out
}

/// The operator, a child process (as in production: SIGKILL-able), killed when dropped.
pub struct Operator {
    child: Child,
    pub metrics_port: u16,
    pub log_path: PathBuf,
}

impl Operator {
    /// Start `rampart <args>` with only `env` and KUBECONFIG, as in a container.
    pub async fn spawn(
        args: &[String],
        env: &[(String, String)],
        kubeconfig: &Path,
        metrics_port: u16,
        log_path: PathBuf,
    ) -> Operator {
        let mut cmd = Command::new(RAMPART);
        cmd.args(args)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("KUBECONFIG", kubeconfig);
        Operator::spawn_command(cmd, metrics_port, log_path).await
    }

    /// Start `cmd` (an operator serving /readyz on `metrics_port`) and wait until it is ready.
    pub async fn spawn_command(mut cmd: Command, metrics_port: u16, log_path: PathBuf) -> Operator {
        let log = std::fs::File::create(&log_path).expect("operator log");
        let child = cmd
            .env("RAMPART_EXIT_WITH_PARENT", std::process::id().to_string())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .expect("operator starts");
        let mut op = Operator {
            child,
            metrics_port,
            log_path,
        };
        op.wait_ready().await;
        op
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Wait for `/readyz` = 200; fail with the log if the process exits or time runs out.
    pub async fn wait_ready(&mut self) {
        let url = format!("http://127.0.0.1:{}/readyz", self.metrics_port);
        rampart::vendor::tls::install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .expect("http client");
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("operator exited ({status}) before ready:\n{}", self.log());
            }
            if let Ok(r) = http.get(&url).send().await
                && r.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("operator not ready after 60 s:\n{}", self.log());
    }

    /// Lines of the log that show the API server refusing the operator something.
    pub fn refusals(&self) -> Vec<String> {
        self.log()
            .lines()
            .filter(|l| l.contains("forbidden") || l.contains("Forbidden"))
            .map(str::to_string)
            .collect()
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Operators run side by side only if each is confined to its namespace.
static SCOPE: RwLock<()> = RwLock::const_new(());

/// What keeps other operators out while a test runs.
pub enum Scope {
    /// Namespaced operators (and tests that write status themselves) share the server.
    Shared(RwLockReadGuard<'static, ()>),
    /// A cluster-wide operator runs alone.
    Exclusive(RwLockWriteGuard<'static, ()>),
}

/// For tests that run no operator but need statuses no operator overwrites.
pub async fn shared_scope() -> Scope {
    Scope::Shared(SCOPE.read().await)
}

/// For a cluster-wide operator: alone on the server while this lives.
pub async fn cluster_wide_scope() -> Scope {
    Scope::Exclusive(SCOPE.write().await)
}

/// A running operator and where it works.
pub struct Deployed {
    pub release: Release,
    /// The namespace whose objects it reconciles (namespaces-only mode), or a fresh namespace
    /// for the test's objects (cluster-wide mode).
    pub namespace: String,
    pub operator: Operator,
    _scope: Scope,
}

/// A fresh namespace.
pub fn create_namespace(prefix: &str) -> String {
    let name = format!("{prefix}-{}", suffix());
    env().kubectl_ok(&["create", "namespace", &name]);
    name
}

/// Install the chart in namespaces-only mode for a fresh namespace (release namespace
/// `<ns>-system`, extra `--set` values allowed) and run the operator as its ServiceAccount.
pub async fn namespaced_operator(prefix: &str, values: &[(&str, &str)]) -> Deployed {
    let scope = Scope::Shared(SCOPE.read().await);
    let namespace = create_namespace(prefix);
    let mut all = vec![("watchNamespace", namespace.as_str())];
    all.extend_from_slice(values);
    let release = Release::install(&namespace, &format!("{namespace}-system"), &all);
    deploy(release, namespace, scope).await
}

async fn deploy(release: Release, namespace: String, scope: Scope) -> Deployed {
    let operator = release.start_operator().await;
    Deployed {
        release,
        namespace,
        operator,
        _scope: scope,
    }
}

/// The base release (cluster-wide, default values) and its operator, alone on the server;
/// `namespace` is fresh, for the test's objects.
pub async fn cluster_wide_operator(prefix: &str) -> Deployed {
    env();
    let scope = cluster_wide_scope().await;
    let release = Release {
        name: BASE_RELEASE.into(),
        namespace: BASE_RELEASE.into(),
        watch_namespace: None,
    };
    deploy(release, create_namespace(prefix), scope).await
}

/// Wait until `cond` holds for `name`, or fail with the object's last state and `context`.
pub async fn wait_for<K, C>(api: &Api<K>, name: &str, cond: C, context: &dyn Fn() -> String) -> K
where
    K: Resource + Clone + std::fmt::Debug + DeserializeOwned + Send + 'static,
    C: Condition<K>,
{
    rampart::testenv::wait::wait_for(api, name, cond, Duration::from_secs(60), context).await
}

/// Poll `probe` until it yields a value (for lists, where no single object can be watched).
pub async fn eventually<T, F, Fut>(what: &str, mut probe: F, context: &dyn Fn() -> String) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}\n{}",
            context()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The condition `type_` of a serialized object, if present.
pub fn condition(obj: &serde_json::Value, type_: &str) -> Option<serde_json::Value> {
    obj["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
        .cloned()
}

/// `type_` has `status` ("True"/"False").
pub fn has_condition<K>(type_: &'static str, status: &'static str) -> impl Condition<K>
where
    K: Resource + serde::Serialize,
{
    move |obj: Option<&K>| {
        obj.map(|o| serde_json::to_value(o).unwrap_or_default())
            .and_then(|v| condition(&v, type_))
            .is_some_and(|c| c["status"] == status)
    }
}
