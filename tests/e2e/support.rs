//! Shared end-to-end fixtures: one real kube-apiserver per test binary (started once, on
//! loopback), the rampart operator as a child process (with the binary's `OPERATOR_ARGS`), a
//! namespace per test, and waiting on conditions instead of sleeping.
#![allow(dead_code)] // Fixtures shared by every e2e module; each module uses a subset.

use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use kube::api::{Api, PostParams};
use kube::runtime::wait::{Condition, await_condition};
use kube::{Client, Resource};
use rampart::testenv::{TestApiServer, free_port};
use serde::de::DeserializeOwned;

/// The shared control plane and operator of this test binary.
pub struct Env {
    pub server: TestApiServer,
    operator: std::sync::Mutex<Option<Child>>,
    pub metrics_port: u16,
}

static ENV: OnceLock<Env> = OnceLock::new();

/// Start (once) the API server, install the CRDs, start the operator.
pub fn env() -> &'static Env {
    ENV.get_or_init(|| {
        let server = TestApiServer::start_blocking().expect("test API server starts");
        eprintln!(
            "test API server ready on port {} in {:?}",
            server.port, server.startup
        );
        server.install_crds().expect("CRDs install");
        let env = Env {
            server,
            operator: std::sync::Mutex::new(None),
            metrics_port: free_port(),
        };
        env.start_operator();
        env
    })
}

impl Env {
    /// Start the operator (a child process, as in production: SIGKILL-able).
    pub fn start_operator(&self) {
        let log =
            std::fs::File::create(self.server.data_dir.join("operator.log")).expect("operator log");
        let child = Command::new(env!("CARGO_BIN_EXE_rampart"))
            .args([
                "run",
                "--metrics-addr",
                &format!("127.0.0.1:{}", self.metrics_port),
                "--cluster-id",
                "e2e",
            ])
            .args(crate::OPERATOR_ARGS)
            .env("KUBECONFIG", self.server.kubeconfig_path())
            .env("RAMPART_LOG", "info,rampart=debug")
            .env("RAMPART_EXIT_WITH_PARENT", std::process::id().to_string())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .expect("operator starts");
        *self.operator.lock().unwrap() = Some(child);
    }

    /// SIGKILL the operator (no graceful shutdown).
    pub fn kill_operator(&self) {
        if let Some(mut c) = self.operator.lock().unwrap().take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn operator_log(&self) -> String {
        std::fs::read_to_string(self.server.data_dir.join("operator.log")).unwrap_or_default()
    }

    pub async fn client(&self) -> Client {
        self.server.client().await.expect("kube client")
    }
}

/// A fresh namespace for one test.
pub async fn namespace(client: &Client, prefix: &str) -> String {
    use k8s_openapi::api::core::v1::Namespace;
    let name = format!("{prefix}-{}", &uuid_like()[..8]);
    let ns: Namespace =
        serde_json::from_value(serde_json::json!({"metadata": {"name": name}})).unwrap();
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .expect("namespace");
    name
}

fn uuid_like() -> String {
    use rand::Rng;
    let mut r = rand::rng();
    (0..16)
        .map(|_| format!("{:x}", r.random_range(0..16)))
        .collect()
}

/// Wait until `cond` holds for `name`, or fail with the object's last state.
pub async fn wait_for<K, C>(api: &Api<K>, name: &str, cond: C, timeout: Duration) -> K
where
    K: Resource + Clone + std::fmt::Debug + DeserializeOwned + Send + 'static,
    C: Condition<K>,
{
    let log = || format!("operator log tail:\n{}", tail(&env().operator_log(), 40));
    rampart::testenv::wait::wait_for(api, name, cond, timeout, &log).await
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// `Ready=True` at the current generation.
pub fn is_ready<K>() -> impl Condition<K>
where
    K: Resource + serde::Serialize,
{
    move |obj: Option<&K>| {
        let Some(obj) = obj else { return false };
        let v = serde_json::to_value(obj).unwrap_or_default();
        let generation = v["metadata"]["generation"].as_i64();
        let status = &v["status"];
        status["observedGeneration"].as_i64() == generation
            && status["conditions"].as_array().is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
            })
    }
}

/// A condition of `type_` has `status` ("True"/"False") (and optionally `reason`).
pub fn has_condition<K>(
    type_: &'static str,
    status: &'static str,
    reason: Option<&'static str>,
) -> impl Condition<K>
where
    K: Resource + serde::Serialize,
{
    move |obj: Option<&K>| {
        let Some(obj) = obj else { return false };
        let v = serde_json::to_value(obj).unwrap_or_default();
        v["status"]["conditions"].as_array().is_some_and(|cs| {
            cs.iter().any(|c| {
                c["type"] == type_
                    && c["status"] == status
                    && reason.is_none_or(|r| c["reason"] == r)
            })
        })
    }
}

/// Wait until `name` no longer exists (its finalizers are done).
pub async fn wait_gone<K>(api: &Api<K>, name: &str, timeout: Duration)
where
    K: Resource + Clone + std::fmt::Debug + DeserializeOwned + Send + 'static,
{
    let gone = |obj: Option<&K>| obj.is_none();
    match tokio::time::timeout(timeout, await_condition(api.clone(), name, gone)).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => panic!("watch of {name} failed: {e}"),
        Err(_) => {
            let last = api.get_opt(name).await.ok().flatten();
            panic!(
                "{name} still exists after {timeout:?}: {last:#?}\noperator log tail:\n{}",
                tail(&env().operator_log(), 40)
            );
        }
    }
}

/// The message of condition `type_` on `obj` (empty when it has none).
/// Poll `check` until it holds, for state only the simulators hold (no watch to await there).
pub async fn until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + crate::cbr_world::T;
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting until {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

pub fn condition_message<K: serde::Serialize>(obj: &K, type_: &str) -> String {
    let v = serde_json::to_value(obj).unwrap_or_default();
    v["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == type_)
        .and_then(|c| c["message"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// Create a Secret with `data` (string values) in `ns`.
pub async fn create_secret(client: &kube::Client, ns: &str, name: &str, data: serde_json::Value) {
    let secret: k8s_openapi::api::core::v1::Secret =
        serde_json::from_value(serde_json::json!({"metadata": {"name": name}, "stringData": data}))
            .expect("a Secret");
    Api::<k8s_openapi::api::core::v1::Secret>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &secret)
        .await
        .expect("Secret created");
}
