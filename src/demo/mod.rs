//! `rampart demo`: the main job on one machine. A local control plane (the test API server),
//! every vendor simulator, the CRDs, provider configurations pointing at the simulators, the
//! examples from deploy/examples, and the operator; it waits until every example is Ready,
//! shows them, and prints a short tour.

mod simulators;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::testenv::{TestApiServer, free_port};
use simulators::DemoSimulators;

mod health;
mod oneshot;

/// The namespace the examples go into.
pub const NAMESPACE: &str = "rampart-demo";

/// The example manifests, built into the binary so the demo runs from anywhere.
const EXAMPLES: &[(&str, &str)] = &[
    (
        "huawei-cbr.yaml",
        include_str!("../../deploy/examples/huawei-cbr.yaml"),
    ),
    (
        "rs-server.yaml",
        include_str!("../../deploy/examples/rs-server.yaml"),
    ),
    (
        "ideco.yaml",
        include_str!("../../deploy/examples/ideco.yaml"),
    ),
    (
        "rubackup.yaml",
        include_str!("../../deploy/examples/rubackup.yaml"),
    ),
    (
        "cyberbackup.yaml",
        include_str!("../../deploy/examples/cyberbackup.yaml"),
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    ApiServer(#[from] crate::testenv::apiserver::ApiServerError),
    #[error("simulators: {0}")]
    Simulators(crate::simulators::standalone::SimulateError),
    #[error("kubectl {0}: {1}")]
    Kubectl(String, String),
    #[error("operator: {0}")]
    Operator(std::io::Error),
    #[error("not every example became Ready within {0:?}:\n{1}")]
    NotReady(Duration, String),
}

/// Options of `rampart demo`.
#[derive(Clone, Debug, clap::Args)]
pub struct DemoOptions {
    /// Stop (and clean up) once every example is Ready, instead of running until Ctrl-C.
    #[arg(long)]
    pub exit_when_ready: bool,
    /// How long to wait for every example to become Ready.
    #[arg(long, default_value_t = 300)]
    pub timeout_seconds: u64,
}

fn kubectl(
    server: &TestApiServer,
    args: &[&str],
    stdin: Option<&str>,
) -> Result<String, DemoError> {
    let out = server.kubectl_with_stdin(args, stdin);
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(DemoError::Kubectl(
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ))
    }
}

/// The example documents the demo applies: everything but the Secrets and provider
/// configurations, which the demo points at its simulators instead.
fn example_objects(replaced: &[Value]) -> Vec<Value> {
    let replaced_names: Vec<(&str, &str)> = replaced
        .iter()
        .map(|d| {
            (
                d["kind"].as_str().unwrap_or(""),
                d["metadata"]["name"].as_str().unwrap_or(""),
            )
        })
        .collect();
    EXAMPLES
        .iter()
        .flat_map(|(file, text)| {
            serde_saphyr::from_multiple::<Value>(text)
                .unwrap_or_else(|e| panic!("deploy/examples/{file} is not valid YAML: {e}"))
        })
        .filter(|v| v.is_object() && v["kind"] != "ProviderConfig")
        .filter(|v| {
            !replaced_names.contains(&(
                v["kind"].as_str().unwrap_or(""),
                v["metadata"]["name"].as_str().unwrap_or(""),
            ))
        })
        .collect()
}

/// Objects of every managed kind in the demo namespace that are not yet Ready.
fn not_ready(server: &TestApiServer) -> Result<Vec<String>, DemoError> {
    let json = kubectl(
        server,
        &["get", "rampart", "-n", NAMESPACE, "-o", "json"],
        None,
    )?;
    let list: Value = serde_json::from_str(&json).unwrap_or_default();
    Ok(list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|o| {
            let ready = o["status"]["conditions"].as_array().is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
            });
            !(ready && o["status"]["observedGeneration"] == o["metadata"]["generation"])
        })
        .map(|o| {
            format!(
                "{}/{}",
                o["kind"].as_str().unwrap_or("?"),
                o["metadata"]["name"].as_str().unwrap_or("?")
            )
        })
        .collect())
}

struct Operator(Child);

impl Drop for Operator {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub async fn run(opts: DemoOptions) -> Result<(), DemoError> {
    println!(
        "==> starting a local Kubernetes API server (the first run builds it from the Go modules of Kubernetes: a few minutes)"
    );
    let server = TestApiServer::start().await?;
    println!(
        "    ready on https://127.0.0.1:{} in {:.1?}",
        server.port, server.startup
    );
    println!("==> installing the rampart CRDs");
    server
        .install_crds()
        .map_err(|e| DemoError::Kubectl("install CRDs".into(), e))?;
    kubectl(&server, &["create", "namespace", NAMESPACE], None)?;
    println!("==> starting the vendor simulators");
    let sims = DemoSimulators::start()
        .await
        .map_err(DemoError::Simulators)?;
    for (name, url) in sims.endpoints() {
        println!("    {name:<20} {url}");
    }
    println!("==> starting the operator");
    let metrics_port = free_port();
    let log_path = server.data_dir.join("operator.log");
    let log = std::fs::File::create(&log_path).map_err(DemoError::Operator)?;
    let exe = std::env::current_exe().map_err(DemoError::Operator)?;
    let _operator = Operator(
        Command::new(exe)
            .args([
                "run",
                "--metrics-addr",
                &format!("127.0.0.1:{metrics_port}"),
            ])
            .env("KUBECONFIG", server.kubeconfig_path())
            .env("RAMPART_EXIT_WITH_PARENT", std::process::id().to_string())
            .stdout(log.try_clone().map_err(DemoError::Operator)?)
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .map_err(DemoError::Operator)?,
    );
    println!(
        "==> applying provider configurations (pointing at the simulators) and the examples from deploy/examples"
    );
    let providers = sims.provider_manifests();
    let mut docs: Vec<String> = providers.iter().map(|v| v.to_string()).collect();
    docs.extend(example_objects(&providers).iter().map(|v| v.to_string()));
    docs.push(health::failing_vault().to_string());
    for doc in &docs {
        kubectl(&server, &["apply", "-n", NAMESPACE, "-f", "-"], Some(doc))?;
    }
    println!("==> waiting until every example is Ready");
    let started = Instant::now();
    let limit = Duration::from_secs(opts.timeout_seconds);
    loop {
        let pending = not_ready(&server)?;
        if pending.is_empty() {
            break;
        }
        if started.elapsed() > limit {
            return Err(DemoError::NotReady(limit, pending.join("\n")));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    println!(
        "    every example is Ready after {:.1?}\n",
        started.elapsed()
    );
    println!(
        "==> backup health: a day passes at the CBR simulator; {} backs up, {} fails on purpose",
        health::HEALTHY_VAULT,
        health::FAILING_VAULT
    );
    health::show(&server, &sims.cbr, simulators::CBR_PROJECT, limit).await?;
    println!(
        "==> an on-demand backup of {} (Backup {}), then a restore of it onto its server (Restore {})",
        health::HEALTHY_VAULT,
        oneshot::BACKUP,
        oneshot::RESTORE
    );
    oneshot::show(&server, limit).await?;
    print!(
        "{}",
        kubectl(&server, &["get", "rampart", "-n", NAMESPACE], None)?
    );
    print_tour(&server, metrics_port, &log_path);
    if !opts.exit_when_ready {
        println!("\nrampart is running; press Ctrl-C to stop everything.");
        let _ = tokio::signal::ctrl_c().await;
    }
    Ok(())
}

fn print_tour(server: &TestApiServer, metrics_port: u16, log: &std::path::Path) {
    let kc = server.kubeconfig_path();
    let kubectl = crate::testenv::build::kubectl_path()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "kubectl".into());
    println!(
        "
What to try next (in another terminal):
  export KUBECONFIG={kc}
  alias kubectl={kubectl}
  kubectl get rampart -A                         # every rampart object, with READY/SYNCED
  kubectl describe vault -n {ns} app-servers     # conditions, events, what CBR reports
  kubectl explain vault.spec.huaweiCbr           # every field, from the vendor documents
  kubectl patch vault -n {ns} app-servers --type merge -p '{{\"spec\":{{\"huaweiCbr\":{{\"sizeGB\":300}}}}}}'
  kubectl annotate vault -n {ns} app-servers rampart.dev/paused=true   # rampart leaves it alone
  kubectl get vault -n {ns}                      # the BACKUP column: BackupSucceeded, LastBackupFailed
  kubectl get vault -n {ns} {failing} -o jsonpath='{{.status.backup}}'   # last backup, last failure with CBR's message
  kubectl get rbackup,rrestore -n {ns}           # the demo's on-demand backup and its restore: PHASE, STARTED, COMPLETED
  kubectl get vault -n {ns} app-servers -o jsonpath='{{.status.backup.recentBackups}}'   # backup ids a Restore can name
  kubectl get events -n {ns}                     # Created, Updated, DriftDetected, LastBackupFailed, ...
  curl -s http://127.0.0.1:{metrics_port}/metrics | grep rampart_   # reconciles, vendor calls, backup health
  operator log: {log}",
        kc = kc.display(),
        ns = NAMESPACE,
        failing = health::FAILING_VAULT,
        log = log.display()
    );
}
