//! A real kube-apiserver (with etcd in the same process) on a free loopback port, for tests,
//! benchmarks and the demo. Stopped when dropped.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use kube::config::{KubeConfigOptions, Kubeconfig};

use super::build::{BuildError, ensure_binary};

#[derive(Debug, thiserror::Error)]
pub enum ApiServerError {
    #[error(transparent)]
    Build(#[from] BuildError),
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    #[error("kube-apiserver did not become ready within {0:?}; log: {1}")]
    NotReady(Duration, String),
    #[error("kubeconfig: {0}")]
    Kubeconfig(String),
}

/// A running test API server.
pub struct TestApiServer {
    pub port: u16,
    pub data_dir: PathBuf,
    binary: PathBuf,
    child: Option<Child>,
    /// Keeps the temporary directory alive (and removes it) unless `data_dir` was given.
    _temp: Option<tempfile::TempDir>,
    /// How long the last start took until `/readyz` answered ok.
    pub startup: Duration,
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl TestApiServer {
    /// Start a fresh server with its own temporary data directory.
    pub async fn start() -> Result<Self, ApiServerError> {
        let temp = tempfile::Builder::new()
            .prefix("rampart-apiserver-")
            .tempdir()
            .map_err(|e| ApiServerError::Io("temp dir".into(), e))?;
        let dir = temp.path().to_path_buf();
        let mut s = Self::start_in(&dir, free_port()).await?;
        s._temp = Some(temp);
        Ok(s)
    }

    /// Start a fresh server from synchronous code or from inside any async runtime: it is
    /// started on a thread and runtime of its own, since the server (a child process) is meant
    /// to outlive the runtime of whichever test started it.
    pub fn start_blocking() -> Result<Self, ApiServerError> {
        std::thread::spawn(|| {
            tokio::runtime::Runtime::new()
                .map_err(|e| ApiServerError::Io("tokio runtime".into(), e))?
                .block_on(Self::start())
        })
        .join()
        .expect("API server start thread")
    }

    /// Start (or restart) a server on `port` with data in `data_dir` (kept after stop).
    pub async fn start_in(data_dir: &Path, port: u16) -> Result<Self, ApiServerError> {
        let binary = ensure_binary()?;
        let mut s = TestApiServer {
            port,
            data_dir: data_dir.to_path_buf(),
            binary,
            child: None,
            _temp: None,
            startup: Duration::ZERO,
        };
        s.spawn().await?;
        Ok(s)
    }

    async fn spawn(&mut self) -> Result<(), ApiServerError> {
        let log_path = self.data_dir.join("apiserver.log");
        std::fs::create_dir_all(&self.data_dir)
            .map_err(|e| ApiServerError::Io(self.data_dir.display().to_string(), e))?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| ApiServerError::Io(log_path.display().to_string(), e))?;
        let started = Instant::now();
        let child = Command::new(&self.binary)
            .arg("apiserver")
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--port")
            .arg(self.port.to_string())
            .stdin(Stdio::null())
            .stdout(
                log.try_clone()
                    .map_err(|e| ApiServerError::Io("log".into(), e))?,
            )
            .stderr(log)
            .spawn()
            .map_err(|e| ApiServerError::Io(self.binary.display().to_string(), e))?;
        self.child = Some(child);
        let limit = Duration::from_secs(90);
        while started.elapsed() < limit {
            if self.ready().await {
                self.startup = started.elapsed();
                return Ok(());
            }
            if let Some(Ok(Some(_))) = self.child.as_mut().map(|c| c.try_wait()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(ApiServerError::NotReady(
            limit,
            log_path.display().to_string(),
        ))
    }

    async fn ready(&self) -> bool {
        let Ok(ca) = std::fs::read(self.data_dir.join("ca.crt")) else {
            return false;
        };
        let Ok(token) = std::fs::read_to_string(self.data_dir.join("token")) else {
            return false;
        };
        crate::vendor::tls::install_crypto_provider();
        let Ok(cert) = reqwest::Certificate::from_pem(&ca) else {
            return false;
        };
        let Ok(client) = reqwest::Client::builder()
            .tls_certs_only([cert])
            .timeout(Duration::from_secs(2))
            .build()
        else {
            return false;
        };
        let url = format!("https://127.0.0.1:{}/readyz", self.port);
        match client.get(url).bearer_auth(token.trim()).send().await {
            Ok(r) => r.status().is_success(),
            Err(_) => false,
        }
    }

    pub fn kubeconfig_path(&self) -> PathBuf {
        self.data_dir.join("kubeconfig")
    }

    /// A kube client as the admin user.
    pub async fn client(&self) -> Result<kube::Client, ApiServerError> {
        let kc = Kubeconfig::read_from(self.kubeconfig_path())
            .map_err(|e| ApiServerError::Kubeconfig(e.to_string()))?;
        let config = kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
            .await
            .map_err(|e| ApiServerError::Kubeconfig(e.to_string()))?;
        kube::Client::try_from(config).map_err(|e| ApiServerError::Kubeconfig(e.to_string()))
    }

    /// Install rampart's CRDs (as the code generates them, which is what `crds/` holds) and
    /// wait until the server serves them. The error is kubectl's message.
    pub fn install_crds(&self) -> Result<(), String> {
        let steps: [(&[&str], Option<String>); 2] = [
            (
                &["apply", "--server-side", "-f", "-"],
                Some(crate::api::crds_yaml()),
            ),
            (
                &[
                    "wait",
                    "--for=condition=Established",
                    "crd",
                    "--all",
                    "--timeout=60s",
                ],
                None,
            ),
        ];
        for (args, stdin) in steps {
            let out = self.kubectl_with_stdin(args, stdin.as_deref());
            if !out.status.success() {
                return Err(format!(
                    "kubectl {}: {}",
                    args.join(" "),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
        Ok(())
    }

    /// Run kubectl against this server; returns its output whatever the exit status.
    pub fn kubectl(&self, args: &[&str]) -> Output {
        self.kubectl_with_stdin(args, None)
    }

    /// Run kubectl with `stdin` piped in (for `apply -f -`).
    pub fn kubectl_with_stdin(&self, args: &[&str], stdin: Option<&str>) -> Output {
        use std::io::Write;
        let kubectl = self.binary.with_file_name("kubectl");
        let mut child = Command::new(kubectl)
            .args(args)
            .env("KUBECONFIG", self.kubeconfig_path())
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubectl runs");
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(input.as_bytes())
                .expect("write stdin");
        }
        child.wait_with_output().expect("kubectl finishes")
    }

    /// Stop the server (SIGTERM, then SIGKILL after 10 s); the data directory is kept.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            unsafe_sigterm(child.id());
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stop and start again on the same port and data (an API server restart).
    pub async fn restart(&mut self) -> Result<(), ApiServerError> {
        self.stop();
        self.spawn().await
    }
}

fn unsafe_sigterm(pid: u32) {
    // No libc dependency: the `kill` command is on every machine this runs on.
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status();
}

impl Drop for TestApiServer {
    fn drop(&mut self) {
        self.stop();
    }
}
