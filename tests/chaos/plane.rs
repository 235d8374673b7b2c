//! A control plane of its own for each chaos test: a real API server with the CRDs, and
//! operator processes the test starts, kills (SIGKILL) and restarts at will.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, PostParams};
use kube::{Client, Resource};
use rampart::api::ProviderConfig;
use rampart::testenv::{TestApiServer, free_port};
use serde_json::{Value, json};

pub const NS: &str = "chaos";

pub struct Plane {
    pub server: TestApiServer,
    pub client: Client,
    operators: Vec<Child>,
    metrics_ports: Vec<u16>,
    log_seq: usize,
}

impl Plane {
    pub async fn start() -> Plane {
        let server = TestApiServer::start().await.expect("API server");
        server.install_crds().expect("CRDs install");
        server.kubectl(&["create", "namespace", NS]);
        let client = server.client().await.expect("client");
        Plane {
            server,
            client,
            operators: Vec::new(),
            metrics_ports: Vec::new(),
            log_seq: 0,
        }
    }

    /// Start one more operator with extra flags; returns its index.
    pub fn start_operator(&mut self, extra: &[&str]) -> usize {
        self.log_seq += 1;
        let log = std::fs::File::create(
            self.server
                .data_dir
                .join(format!("operator-{}.log", self.log_seq)),
        )
        .unwrap();
        let port = free_port();
        self.metrics_ports.push(port);
        let mut args = vec!["run", "--metrics-addr"];
        let addr = format!("127.0.0.1:{port}");
        args.push(&addr);
        args.extend(["--cluster-id", "chaos"]);
        args.extend(extra);
        let child = Command::new(env!("CARGO_BIN_EXE_rampart"))
            .args(&args)
            .env("KUBECONFIG", self.server.kubeconfig_path())
            .env("RAMPART_LOG", "debug")
            .env("RAMPART_EXIT_WITH_PARENT", std::process::id().to_string())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .expect("operator starts");
        self.operators.push(child);
        self.operators.len() - 1
    }

    /// SIGKILL operator `i`.
    pub fn kill(&mut self, i: usize) {
        let _ = self.operators[i].kill();
        let _ = self.operators[i].wait();
    }

    /// Send `signal` ("STOP", "CONT") to operator `i`: SIGSTOP freezes it as a paused VM or a
    /// long GC pause would, with its connections and timers intact.
    pub fn signal(&self, i: usize, signal: &str) {
        let status = Command::new("kill")
            .args([format!("-{signal}"), self.operators[i].id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Wait until operator `i` exits by itself; its exit status, or None after `timeout`.
    pub async fn exit_of(
        &mut self,
        i: usize,
        timeout: Duration,
    ) -> Option<std::process::ExitStatus> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.operators[i].try_wait() {
                return Some(status);
            }
            if tokio::time::Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Operator `i`'s `/metrics` page.
    pub async fn metrics(&self, i: usize) -> String {
        let url = format!("http://127.0.0.1:{}/metrics", self.metrics_ports[i]);
        reqwest::get(url)
            .await
            .expect("metrics answer")
            .text()
            .await
            .expect("metrics body")
    }

    /// What operator `i` logged.
    pub fn log_of(&self, i: usize) -> String {
        std::fs::read_to_string(self.server.data_dir.join(format!("operator-{}.log", i + 1)))
            .unwrap_or_default()
    }

    pub fn kill_all(&mut self) {
        for c in &mut self.operators {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Everything every operator logged, for secret greps and diagnostics.
    pub fn logs(&self) -> String {
        (1..=self.log_seq)
            .map(|i| {
                std::fs::read_to_string(self.server.data_dir.join(format!("operator-{i}.log")))
                    .unwrap_or_default()
            })
            .collect()
    }

    /// A Secret and a ProviderConfig `name` in the chaos namespace.
    pub async fn provider(&self, name: &str, spec: Value, secret: Value) {
        self.secret(&format!("{name}-creds"), secret).await;
        let mut spec = spec;
        spec["credentials"] = json!({"secretRef": {"name": format!("{name}-creds")}});
        let pc: ProviderConfig = obj("ProviderConfig", name, spec);
        Api::<ProviderConfig>::namespaced(self.client.clone(), NS)
            .create(&PostParams::default(), &pc)
            .await
            .unwrap();
    }

    /// A Secret `name` in the chaos namespace with `data` as its stringData.
    pub async fn secret(&self, name: &str, data: Value) {
        let s: Secret =
            serde_json::from_value(json!({"metadata": {"name": name}, "stringData": data}))
                .unwrap();
        Api::<Secret>::namespaced(self.client.clone(), NS)
            .create(&PostParams::default(), &s)
            .await
            .unwrap();
    }

    pub fn api<K>(&self) -> Api<K>
    where
        K: Resource<Scope = kube::core::NamespaceResourceScope, DynamicType = ()>,
    {
        Api::namespaced(self.client.clone(), NS)
    }
}

impl Drop for Plane {
    fn drop(&mut self) {
        self.kill_all();
    }
}

pub fn obj<K: serde::de::DeserializeOwned>(kind: &str, name: &str, spec: Value) -> K {
    serde_json::from_value(json!({"apiVersion": "rampart.dev/v1alpha1", "kind": kind, "metadata": {"name": name}, "spec": spec})).unwrap()
}

/// Wait until every object of `api` is Ready at its generation; panics with the stragglers.
pub async fn all_ready<K>(api: &Api<K>, n: usize, timeout: Duration)
where
    K: rampart::bench::measure::WatchedKind,
{
    if rampart::bench::measure::all_ready(api.clone(), n, timeout)
        .await
        .is_none()
    {
        let list = api.list(&Default::default()).await.unwrap();
        let stragglers: Vec<String> = list
            .items
            .iter()
            .filter(|o| !rampart::bench::measure::ready_now(*o))
            .map(|o| serde_json::to_string(&serde_json::to_value(o).unwrap()["status"]).unwrap())
            .take(5)
            .collect();
        panic!("not all {n} objects Ready within {timeout:?}; some not ready: {stragglers:#?}");
    }
}

/// The vendor ids rampart recorded on `api`'s objects.
pub async fn external_names<K>(api: &Api<K>) -> Vec<String>
where
    K: Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned,
{
    let mut v: Vec<String> = api
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .iter()
        .filter_map(|o| {
            o.meta()
                .annotations
                .as_ref()?
                .get("rampart.dev/external-name")
                .cloned()
        })
        .collect();
    v.sort();
    v
}

/// Wait until `name` is gone (its finalizer released after the vendor object was deleted).
pub async fn gone<K>(api: &Api<K>, name: &str, timeout: Duration)
where
    K: Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned + Send + 'static,
{
    let absent = |o: Option<&K>| o.is_none();
    match tokio::time::timeout(
        timeout,
        kube::runtime::wait::await_condition(api.clone(), name, absent),
    )
    .await
    {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => panic!("watch of {name}: {e}"),
        Err(_) => panic!(
            "{name} still there after {timeout:?}: {:#?}",
            api.get_opt(name).await.ok().flatten()
        ),
    }
}

/// Wait until `name` has condition `type_` with `status`.
pub async fn until_condition<K>(api: &Api<K>, name: &str, type_: &str, status: &str)
where
    K: rampart::bench::measure::WatchedKind,
{
    let (t, s) = (type_.to_string(), status.to_string());
    let holds = move |o: Option<&K>| {
        let v = o
            .map(|o| serde_json::to_value(o).unwrap())
            .unwrap_or_default();
        v["status"]["conditions"].as_array().is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == t.as_str() && c["status"] == s.as_str())
        })
    };
    if tokio::time::timeout(
        Duration::from_secs(120),
        kube::runtime::wait::await_condition(api.clone(), name, holds),
    )
    .await
    .is_err()
    {
        panic!(
            "{name} never had {type_}={status}: {:#?}",
            api.get_opt(name).await.ok().flatten()
        );
    }
}

/// The RuBackup pools the chaos cases create (named `pool-…`), with their descriptions.
pub fn rubackup_pools(
    rb: &rampart::simulators::rubackup::RuBackupSim,
) -> Vec<(String, Option<Value>)> {
    rb.sim
        .store
        .lock()
        .unwrap()
        .table("pool_list")
        .values()
        .filter_map(|p| {
            let name = p.get("pool_name")?.as_str()?.to_string();
            Some((name, p.get("description").cloned())).filter(|(n, _)| n.starts_with("pool-"))
        })
        .collect()
}
