//! `rampart bench`: convergence at scale against a real API server and the simulators with a
//! set vendor latency and rate limit, vendor calls per object and per steady-state resync, the
//! operator's memory and CPU, and the latency from a spec change to the vendor call. Figures go
//! to a JSON file and a Markdown table.

pub mod guard;
mod latency;
pub mod measure;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, PostParams};
use kube::{Client, Resource};
use serde::Serialize;
use serde_json::{Value, json};

use crate::api::{FirewallRule, Policy, ProviderConfig, Vault};
use crate::simulators::harness::{Faults, SimControl};
use crate::simulators::huawei_cbr::{CbrSim, CbrSimConfig};
use crate::simulators::ideco::{self, IdecoSimOptions};
use crate::testenv::{TestApiServer, free_port};
use measure::{ProcStats, all_ready, proc_stats};

const NS: &str = "bench";
const PROJECT: &str = "0605767b5780d5762fc5c0118072a564";

/// Options of `rampart bench`.
#[derive(Clone, Debug, clap::Args)]
pub struct BenchOptions {
    /// Object counts to run, comma separated.
    #[arg(long, value_delimiter = ',', default_value = "100,1000,10000")]
    pub sizes: Vec<usize>,
    /// The vendor's rate limit (requests per second); the provider budget is set to it.
    #[arg(long, default_value_t = 50.0)]
    pub vendor_qps: f64,
    /// Latency the simulators add to every call (milliseconds).
    #[arg(long, default_value_t = 20)]
    pub latency_ms: u64,
    /// Largest number of FirewallRules, all in one section. The default keeps the full run
    /// near half an hour; the 10,000-rule row comes from `--firewall-rules-only` (issue 21).
    #[arg(long, default_value_t = 1000)]
    pub max_firewall_rules: usize,
    /// Run only the FirewallRules (N of them in one section, no cap): their convergence and
    /// the steady state that follows, without Vaults, Policies or the change latency. The rows
    /// replace those of the same N under `firewallRuleRuns` in `--out`; the rest of the file
    /// (the last full run) is kept.
    #[arg(long)]
    pub firewall_rules_only: bool,
    /// Spec changes timed for the change-to-vendor-call latency.
    #[arg(long, default_value_t = 1000)]
    pub changes: usize,
    /// Spec changes made per second while timing them (a steady rate, not one at a time).
    #[arg(long, default_value_t = 10.0)]
    pub change_rate: f64,
    /// Fresh Vaults created per second while the changes are timed, so the changes share the
    /// vendor's rate limit with objects still converging.
    #[arg(long, default_value_t = 25.0)]
    pub background_creates_per_second: f64,
    /// Fail (exit 1) when a figure that does not depend on the machine's speed breaks its bound
    /// (`bench::guard`): calls per object, calls per resync, memory per object. CI's smoke run.
    #[arg(long)]
    pub check: bool,
    /// Provider poll interval (seconds): the steady-state resync period.
    #[arg(long, default_value_t = 20)]
    pub poll_interval_seconds: u64,
    /// Operator reconcile concurrency per kind.
    #[arg(long, default_value_t = 32)]
    pub concurrency: u16,
    /// Where the JSON figures go (a Markdown table is written next to it).
    #[arg(long, default_value = "bench/results.json")]
    pub out: String,
    /// Run nothing: rewrite the Markdown table from the JSON figures already in `--out`.
    #[arg(long)]
    pub table_only: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error(transparent)]
    ApiServer(#[from] crate::testenv::apiserver::ApiServerError),
    #[error("kubernetes: {0}")]
    Kube(#[from] kube::Error),
    #[error("{0}")]
    Other(String),
}

fn other(e: impl std::fmt::Display) -> BenchError {
    BenchError::Other(e.to_string())
}

/// Convergence of N objects of one kind.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Convergence {
    pub objects: usize,
    pub seconds: f64,
    /// Creates divided by the vendor rate: no operator can do better.
    pub floor_seconds: f64,
    pub ratio_to_floor: f64,
    pub vendor_calls_per_object: f64,
    /// From the first apply to the first vendor write (pipeline start-up).
    pub first_vendor_write_s: f64,
    /// From the first apply to the last vendor write.
    pub last_vendor_write_s: f64,
    /// Vendor writes per second between the first and the last.
    pub vendor_write_rate: f64,
    /// Requests the vendor answered 429.
    pub throttled: u64,
}

/// Steady state with everything converged.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct SteadyState {
    pub window_seconds: f64,
    pub resyncs_in_window: f64,
    /// Vendor calls per resync, by operation.
    pub calls_per_resync: std::collections::BTreeMap<String, f64>,
    /// ceil(N / page size) per collection.
    pub expected_list_calls_per_resync: f64,
    pub rss_mib: f64,
    pub rss_anon_mib: f64,
    pub threads: u32,
    /// Managed objects in the cluster during the window.
    pub objects: usize,
    pub cpu_percent_of_a_core: f64,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Run {
    pub n: usize,
    /// The operator's resident memory with its providers Ready and no object yet.
    #[serde(default)]
    pub rss_base_mib: f64,
    pub vaults: Convergence,
    /// Steady state with the N Vaults only (N objects).
    pub steady_state_vaults_only: SteadyState,
    pub policies: Convergence,
    pub firewall_rules: Convergence,
    pub steady_state: SteadyState,
    pub change_to_vendor_call_ms: Latency,
}

/// A run of `--firewall-rules-only`: N FirewallRules in one section and the steady state after.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct FirewallRuleRun {
    pub n: usize,
    pub rss_base_mib: f64,
    pub firewall_rules: Convergence,
    pub steady_state: SteadyState,
}

#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Latency {
    pub samples: usize,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
    /// The steady rate the changes were made at.
    pub changes_per_second: f64,
    /// Fresh Vaults created while the changes were timed.
    pub vaults_created_meanwhile: usize,
    pub window_seconds: f64,
    /// From the first change until every Vault, the fresh ones included, was Ready.
    pub all_ready_after_seconds: f64,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Results {
    pub vendor_qps: f64,
    pub vendor_latency_ms: u64,
    pub poll_interval_seconds: u64,
    pub concurrency: u16,
    pub cores: usize,
    pub runs: Vec<Run>,
    /// Rows of `--firewall-rules-only` runs, one per N (the latest of each).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub firewall_rule_runs: Vec<FirewallRuleRun>,
}

struct Operator {
    child: Child,
}

impl Operator {
    fn start(server: &TestApiServer, concurrency: u16) -> Result<Self, BenchError> {
        let log = std::fs::File::create(server.data_dir.join("operator.log")).map_err(other)?;
        let exe = std::env::current_exe().map_err(other)?;
        // A profiler can wrap the operator: RAMPART_BENCH_WRAPPER="heaptrack -o /tmp/rampart".
        let wrapper = std::env::var("RAMPART_BENCH_WRAPPER").unwrap_or_default();
        let mut command = match wrapper.split_whitespace().collect::<Vec<_>>().split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(exe);
                c
            }
            None => Command::new(exe),
        };
        if wrapper.is_empty() {
            // A wrapper would be the operator's parent; then it is stopped by hand.
            command.env("RAMPART_EXIT_WITH_PARENT", std::process::id().to_string());
        }
        let child = command
            .args([
                "run",
                "--metrics-addr",
                &format!("127.0.0.1:{}", free_port()),
                "--concurrency",
                &concurrency.to_string(),
            ])
            .args(["--log", "warn"])
            .env("KUBECONFIG", server.kubeconfig_path())
            .stdout(log.try_clone().map_err(other)?)
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .map_err(other)?;
        Ok(Operator { child })
    }

    fn stats(&self) -> ProcStats {
        proc_stats(self.child.id()).unwrap_or_default()
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn create_all<K>(api: &Api<K>, objects: Vec<K>) -> Result<(), BenchError>
where
    K: Resource + Clone + std::fmt::Debug + serde::Serialize + serde::de::DeserializeOwned,
{
    let results: Vec<kube::Result<K>> = futures::stream::iter(objects)
        .map(|o| {
            let api = api.clone();
            async move { api.create(&PostParams::default(), &o).await }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    for r in results {
        r?;
    }
    Ok(())
}

fn object<K: serde::de::DeserializeOwned>(kind: &str, name: &str, spec: Value) -> K {
    serde_json::from_value(json!({"apiVersion": "rampart.dev/v1alpha1", "kind": kind, "metadata": {"name": name}, "spec": spec}))
        .expect("valid object")
}

/// Create `objects`, wait until all are Ready, and compare with the rate-limit floor.
async fn converge<K>(
    api: &Api<K>,
    objects: Vec<K>,
    creates_per_object: f64,
    qps: f64,
    sim: &SimControl,
) -> Result<Convergence, BenchError>
where
    K: crate::bench::measure::WatchedKind,
{
    let n = objects.len();
    sim.reset_counters();
    sim.record_requests();
    let floor = n as f64 * creates_per_object / qps;
    // Generous, but a stuck run (the CI smoke run above all) fails instead of hanging.
    let limit = Duration::from_secs_f64(120.0 + 10.0 * floor);
    let started = Instant::now();
    let waiter = tokio::spawn(all_ready(api.clone(), n, limit));
    create_all(api, objects).await?;
    let done = waiter.await.map_err(other)?.ok_or_else(|| {
        other(format!(
            "{n} objects did not become Ready within {}s",
            limit.as_secs()
        ))
    })?;
    let seconds = done.duration_since(started).as_secs_f64();
    let writes = sim.request_times(|r| !r.starts_with("GET "));
    let since = |t: Option<&Instant>| {
        t.map(|t| t.duration_since(started).as_secs_f64())
            .unwrap_or(0.0)
    };
    let (first, last) = (since(writes.first()), since(writes.last()));
    Ok(Convergence {
        objects: n,
        seconds,
        floor_seconds: floor,
        ratio_to_floor: seconds / floor,
        vendor_calls_per_object: sim.total() as f64 / n as f64,
        first_vendor_write_s: first,
        last_vendor_write_s: last,
        vendor_write_rate: if last > first {
            writes.len() as f64 / (last - first)
        } else {
            0.0
        },
        throttled: sim.throttled(),
    })
}

async fn provider(
    client: &Client,
    name: &str,
    spec: Value,
    secret: Value,
) -> Result<(), BenchError> {
    let s: Secret = serde_json::from_value(
        json!({"metadata": {"name": format!("{name}-creds")}, "stringData": secret}),
    )
    .map_err(other)?;
    Api::<Secret>::namespaced(client.clone(), NS)
        .create(&PostParams::default(), &s)
        .await?;
    let mut spec = spec;
    spec["credentials"] = json!({"secretRef": {"name": format!("{name}-creds")}});
    let pc: ProviderConfig = object("ProviderConfig", name, spec);
    let pcs = Api::<ProviderConfig>::namespaced(client.clone(), NS);
    pcs.create(&PostParams::default(), &pc).await?;
    all_ready(pcs, 1, Duration::from_secs(60))
        .await
        .ok_or_else(|| other(format!("provider {name} not Ready")))?;
    Ok(())
}

/// The API server, the simulators with the vendor's latency and limit, and the operator with
/// both providers Ready. Fields drop in order: the operator first.
struct Bench {
    operator: Operator,
    _ideco: ideco::IdecoSim,
    ideco_server: crate::simulators::harness::SimServer,
    cbr: CbrSim,
    client: Client,
    _server: TestApiServer,
    rss_base_mib: f64,
}

async fn start(opts: &BenchOptions, n: usize) -> Result<Bench, BenchError> {
    eprintln!("== N = {n}: starting the API server, simulators and operator");
    let server = TestApiServer::start().await?;
    server.install_crds().map_err(other)?;
    server.kubectl(&["create", "namespace", NS]);
    let client = server.client().await?;
    let vendor_faults = Faults {
        latency_ms: opts.latency_ms,
        rate_limit_qps: Some(opts.vendor_qps),
        rate_limit_burst: Some(opts.vendor_qps),
        ..Default::default()
    };
    let cbr = CbrSim::start(CbrSimConfig::default(), "127.0.0.1:0".parse().unwrap())
        .await
        .map_err(other)?;
    let (ideco_server, ideco) =
        ideco::start("127.0.0.1:0".parse().unwrap(), IdecoSimOptions::default())
            .await
            .map_err(other)?;
    let operator = Operator::start(&server, opts.concurrency)?;
    // The budget matches the vendor's limit with a small burst, so the floor is honest.
    let budget = json!({"qps": opts.vendor_qps, "burst": 5, "maxInFlight": 16});
    provider(&client, "cbr", json!({
        "type": "HuaweiCbr", "endpoint": cbr.url(), "pollIntervalSeconds": opts.poll_interval_seconds, "budget": budget,
        "huaweiCbr": {"projectId": PROJECT, "authMethod": "Password", "iamEndpoint": cbr.url(), "projectName": "ru-moscow-1"}
    }), json!({"username": "rampart", "password": "rampart-password", "domainName": "rampart-domain"})).await?;
    let ideco_opts = IdecoSimOptions::default();
    provider(&client, "ngfw", json!({
        "type": "Ideco", "endpoint": ideco_server.url(), "pollIntervalSeconds": opts.poll_interval_seconds, "budget": budget, "ideco": {}
    }), json!({"login": ideco_opts.login, "password": ideco_opts.password})).await?;
    cbr.control().set_faults(vendor_faults.clone());
    ideco_server.control.set_faults(vendor_faults);
    let rss_base_mib = operator.stats().rss_mib;
    Ok(Bench {
        operator,
        _ideco: ideco,
        ideco_server,
        cbr,
        client,
        _server: server,
        rss_base_mib,
    })
}

/// N FirewallRules in one section, Bottom block, declared in creation order.
async fn converge_rules(
    opts: &BenchOptions,
    b: &Bench,
    nf: usize,
) -> Result<Convergence, BenchError> {
    eprintln!("   {nf} firewall rules");
    let rules: Api<FirewallRule> = Api::namespaced(b.client.clone(), NS);
    let objs = (0..nf)
        .map(|i| {
            object("FirewallRule", &format!("r{i:05}"), json!({"providerConfigRef": {"name": "ngfw"}, "ideco": {"section": "forward", "action": "accept", "comment": format!("rule {i}"), "placement": {"block": "Bottom", "priority": i}}}))
        })
        .collect();
    let run = converge(&rules, objs, 1.0, opts.vendor_qps, &b.ideco_server.control).await?;
    eprintln!("   {run:?}");
    eprintln!("   vendor calls: {:?}", b.ideco_server.control.counters());
    Ok(run)
}

/// `--firewall-rules-only`: N FirewallRules and the steady state after them.
async fn run_firewall_rules(opts: &BenchOptions, n: usize) -> Result<FirewallRuleRun, BenchError> {
    let b = start(opts, n).await?;
    let firewall_rules = converge_rules(opts, &b, n).await?;
    eprintln!("   steady state");
    let steady = steady_state(
        opts,
        0,
        0,
        n,
        &b.operator,
        b.cbr.control(),
        &b.ideco_server.control,
    )
    .await;
    eprintln!("   {steady:?}");
    Ok(FirewallRuleRun {
        n,
        rss_base_mib: b.rss_base_mib,
        firewall_rules,
        steady_state: steady,
    })
}

async fn run_size(opts: &BenchOptions, n: usize) -> Result<Run, BenchError> {
    let b = start(opts, n).await?;
    let (client, cbr, ideco_server, operator) = (&b.client, &b.cbr, &b.ideco_server, &b.operator);
    let rss_base_mib = b.rss_base_mib;

    eprintln!("   {n} vaults");
    let vaults: Api<Vault> = Api::namespaced(client.clone(), NS);
    let objs = (0..n)
        .map(|i| object("Vault", &format!("v{i:05}"), json!({"providerConfigRef": {"name": "cbr"}, "huaweiCbr": {"objectType": "server", "sizeGB": 100}})))
        .collect();
    let vault_run = converge(&vaults, objs, 1.0, opts.vendor_qps, cbr.control()).await?;
    eprintln!("   {vault_run:?}");
    let vaults_only = steady_state(
        opts,
        n,
        0,
        0,
        operator,
        cbr.control(),
        &ideco_server.control,
    )
    .await;
    eprintln!("   vaults only: {vaults_only:?}");

    eprintln!("   {n} policies");
    let policies: Api<Policy> = Api::namespaced(client.clone(), NS);
    let objs = (0..n)
        .map(|i| {
            object("Policy", &format!("p{i:05}"), json!({"providerConfigRef": {"name": "cbr"}, "schedule": {"cron": format!("{} {} * * *", i % 60, i % 24)}, "retention": {"keepLast": 7}, "huaweiCbr": {}}))
        })
        .collect();
    let policy_run = converge(&policies, objs, 1.0, opts.vendor_qps, cbr.control()).await?;
    eprintln!("   {policy_run:?}");

    let nf = n.min(opts.max_firewall_rules);
    let rule_run = converge_rules(opts, &b, nf).await?;

    eprintln!("   steady state");
    let steady = steady_state(
        opts,
        n,
        n,
        nf,
        operator,
        cbr.control(),
        &ideco_server.control,
    )
    .await;
    eprintln!("   {steady:?}");

    eprintln!(
        "   change latency: {} changes at {}/s, Vaults created meanwhile at {}/s, vendor limits on",
        opts.changes, opts.change_rate, opts.background_creates_per_second
    );
    let latency = latency::change_latency(opts, n, &vaults, cbr).await?;
    eprintln!("   {latency:?}");
    Ok(Run {
        n,
        rss_base_mib,
        vaults: vault_run,
        steady_state_vaults_only: vaults_only,
        policies: policy_run,
        firewall_rules: rule_run,
        steady_state: steady,
        change_to_vendor_call_ms: latency,
    })
}

async fn steady_state(
    opts: &BenchOptions,
    vaults: usize,
    policies: usize,
    nf: usize,
    operator: &Operator,
    cbr: &SimControl,
    ideco: &SimControl,
) -> SteadyState {
    // Let the create burst's requeues settle into the periodic rhythm first.
    tokio::time::sleep(Duration::from_secs(opts.poll_interval_seconds)).await;
    cbr.reset_counters();
    ideco.reset_counters();
    let before = operator.stats();
    let window = Duration::from_secs(opts.poll_interval_seconds * 2);
    tokio::time::sleep(window).await;
    let after = operator.stats();
    let resyncs = window.as_secs_f64() / opts.poll_interval_seconds as f64;
    let mut calls = std::collections::BTreeMap::new();
    for (vendor, ctl) in [("huawei-cbr", cbr), ("ideco", ideco)] {
        for (op, count) in ctl.counters() {
            calls.insert(format!("{vendor} {op}"), count as f64 / resyncs);
        }
    }
    let pages = |objects: usize| (objects as f64 / 1000.0).ceil().max(1.0);
    SteadyState {
        window_seconds: window.as_secs_f64(),
        resyncs_in_window: resyncs,
        calls_per_resync: calls,
        // Vaults (paged by 1000), policies (one unpaged list), one firewall section, and for
        // backup health CBR's backups and backup tasks (one page each: the benchmark's vaults
        // hold no backups).
        expected_list_calls_per_resync: pages(vaults)
            + 1.0
            + if nf > 0 { 1.0 } else { 0.0 }
            + if vaults > 0 { 2.0 } else { 0.0 },
        rss_mib: after.rss_mib,
        rss_anon_mib: after.rss_anon_mib,
        threads: after.threads,
        objects: vaults + policies + nf,
        cpu_percent_of_a_core: 100.0 * (after.cpu_seconds - before.cpu_seconds)
            / window.as_secs_f64(),
    }
}

/// The Markdown table of a set of results.
pub fn markdown(r: &Results) -> String {
    let mut s = format!(
        "Vendor rate limit {} req/s, vendor latency {} ms, poll interval {} s, concurrency {}, {} cores.\n\n",
        r.vendor_qps, r.vendor_latency_ms, r.poll_interval_seconds, r.concurrency, r.cores
    );
    s.push_str("| N | kind | to all Ready (s) | floor (s) | ratio | vendor calls / object |\n|---|---|---|---|---|---|\n");
    for run in &r.runs {
        for (kind, c) in [
            ("Vault", &run.vaults),
            ("Policy", &run.policies),
            ("FirewallRule", &run.firewall_rules),
        ] {
            s.push_str(&format!(
                "| {} | {kind} | {:.1} | {:.1} | {:.2} | {:.2} |\n",
                c.objects, c.seconds, c.floor_seconds, c.ratio_to_floor, c.vendor_calls_per_object
            ));
        }
    }
    s.push_str("\n| N | objects in the cluster | vendor calls per resync (all) | expected list pages | RSS (MiB) | KiB per object above the base | CPU (% of a core) |\n|---|---|---|---|---|---|---|\n");
    for run in &r.runs {
        for st in [&run.steady_state_vaults_only, &run.steady_state] {
            let total: f64 = st.calls_per_resync.values().sum();
            s.push_str(&format!(
                "| {} | {} | {:.1} | {:.0} | {:.1} | {} | {:.2} |\n",
                run.n,
                st.objects,
                total,
                st.expected_list_calls_per_resync,
                st.rss_mib,
                // Runs before issue 20 did not measure the base.
                if run.rss_base_mib > 0.0 {
                    format!("{:.1}", guard::kib_per_object(run.rss_base_mib, st))
                } else {
                    "–".to_string()
                },
                st.cpu_percent_of_a_core,
            ));
        }
    }
    if !r.firewall_rule_runs.is_empty() {
        s.push_str("\nFirewallRules alone (`--firewall-rules-only`), N in one section, and the steady state after:\n\n| N | to all Ready (s) | floor (s) | ratio | vendor calls / rule | vendor calls per resync (all) | RSS (MiB) | KiB per object above the base | CPU (% of a core) |\n|---|---|---|---|---|---|---|---|---|\n");
        for run in &r.firewall_rule_runs {
            let (c, st) = (&run.firewall_rules, &run.steady_state);
            let total: f64 = st.calls_per_resync.values().sum();
            s.push_str(&format!(
                "| {} | {:.1} | {:.1} | {:.2} | {:.2} | {:.1} | {:.1} | {:.1} | {:.2} |\n",
                run.n,
                c.seconds,
                c.floor_seconds,
                c.ratio_to_floor,
                c.vendor_calls_per_object,
                total,
                st.rss_mib,
                guard::kib_per_object(run.rss_base_mib, st),
                st.cpu_percent_of_a_core,
            ));
        }
    }
    s.push_str("\n| N | objects in the cluster | changes (per second) | Vaults created meanwhile | change → accepted vendor call p50 / p99 / max (ms) | all Ready after (s) |\n|---|---|---|---|---|---|\n");
    for run in &r.runs {
        let l = &run.change_to_vendor_call_ms;
        // Runs before issue 20 made the changes one at a time with the vendor limits off.
        let (rate, ready) = if l.changes_per_second > 0.0 {
            (
                l.changes_per_second.to_string(),
                format!("{:.1}", l.all_ready_after_seconds),
            )
        } else {
            (
                "one at a time, vendor limits off".to_string(),
                "–".to_string(),
            )
        };
        s.push_str(&format!(
            "| {} | {} | {} ({}) | {} | {:.0} / {:.0} / {:.0} | {} |\n",
            run.n,
            run.steady_state.objects,
            l.samples,
            rate,
            l.vaults_created_meanwhile,
            l.p50,
            l.p99,
            l.max,
            ready
        ));
    }
    s
}

pub async fn run(opts: BenchOptions) -> Result<Results, BenchError> {
    let out = std::path::Path::new(&opts.out);
    if opts.table_only {
        let results: Results =
            serde_json::from_str(&std::fs::read_to_string(out).map_err(other)?).map_err(other)?;
        std::fs::write(out.with_extension("md"), markdown(&results)).map_err(other)?;
        return Ok(results);
    }
    if opts.firewall_rules_only {
        return run_firewall_rules_only(&opts, out).await;
    }
    let mut runs = Vec::new();
    for &n in &opts.sizes {
        runs.push(run_size(&opts, n).await?);
    }
    // Rows of `--firewall-rules-only` runs stay until such a run replaces them.
    let firewall_rule_runs = std::fs::read_to_string(out)
        .ok()
        .and_then(|text| serde_json::from_str::<Results>(&text).ok())
        .map(|kept| kept.firewall_rule_runs)
        .unwrap_or_default();
    let results = Results {
        vendor_qps: opts.vendor_qps,
        vendor_latency_ms: opts.latency_ms,
        poll_interval_seconds: opts.poll_interval_seconds,
        concurrency: opts.concurrency,
        cores: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        runs,
        firewall_rule_runs,
    };
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).map_err(other)?;
    }
    std::fs::write(out, serde_json::to_string_pretty(&results).map_err(other)?).map_err(other)?;
    std::fs::write(out.with_extension("md"), markdown(&results)).map_err(other)?;
    if opts.check {
        let broken: Vec<String> = results.runs.iter().flat_map(guard::violations).collect();
        if !broken.is_empty() {
            return Err(other(format!(
                "figures out of bounds (bench::guard):\n  {}",
                broken.join("\n  ")
            )));
        }
        eprintln!(
            "bench --check: calls per object, calls per resync and memory per object within bounds"
        );
    }
    Ok(results)
}

/// `--firewall-rules-only`: run each size, then replace the rows of those sizes in `out`,
/// keeping the rest of the file (the last full run). A file that does not exist yet is started
/// with these settings and no full run.
async fn run_firewall_rules_only(
    opts: &BenchOptions,
    out: &std::path::Path,
) -> Result<Results, BenchError> {
    let mut fresh = Vec::new();
    for &n in &opts.sizes {
        fresh.push(run_firewall_rules(opts, n).await?);
    }
    let mut results = match std::fs::read_to_string(out) {
        Ok(text) => serde_json::from_str::<Results>(&text).map_err(other)?,
        Err(_) => Results {
            vendor_qps: opts.vendor_qps,
            vendor_latency_ms: opts.latency_ms,
            poll_interval_seconds: opts.poll_interval_seconds,
            concurrency: opts.concurrency,
            cores: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            runs: Vec::new(),
            firewall_rule_runs: Vec::new(),
        },
    };
    results
        .firewall_rule_runs
        .retain(|kept| !fresh.iter().any(|f| f.n == kept.n));
    results.firewall_rule_runs.extend(fresh);
    results.firewall_rule_runs.sort_by_key(|r| r.n);
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).map_err(other)?;
    }
    std::fs::write(out, serde_json::to_string_pretty(&results).map_err(other)?).map_err(other)?;
    std::fs::write(out.with_extension("md"), markdown(&results)).map_err(other)?;
    Ok(results)
}
