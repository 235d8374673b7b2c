//! Flags and environment variables of `rampart run`.

use std::net::SocketAddr;

use clap::{Args, ValueEnum};

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Options of `rampart run`. Every flag can also be set by the environment variable shown.
/// The Kubernetes connection comes from KUBECONFIG or the in-cluster service account.
#[derive(Clone, Debug, Args)]
pub struct RunOptions {
    /// Watch only this namespace (namespaces-only mode). Default: every namespace.
    #[arg(long, env = "RAMPART_NAMESPACE")]
    pub namespace: Option<String>,
    /// Address of the /metrics, /healthz and /readyz endpoints.
    #[arg(long, env = "RAMPART_METRICS_ADDR", default_value = "0.0.0.0:8080")]
    pub metrics_addr: SocketAddr,
    /// Identifies this cluster in ownership markers on vendor objects. Default: the uid of the
    /// kube-system namespace. Set it when two clusters share a vendor system.
    #[arg(long, env = "RAMPART_CLUSTER_ID")]
    pub cluster_id: Option<String>,
    /// Objects of one kind reconciled at once.
    #[arg(long, env = "RAMPART_CONCURRENCY", default_value_t = 32)]
    pub concurrency: u16,
    /// Threads that run reconciles. One is the default: the work waits on the network, and
    /// on one thread no wake-up crosses threads (thread parking was a third of the steady-state
    /// CPU with two, measured with perf). More help only when reconciling itself is CPU-bound.
    #[arg(long, env = "RAMPART_WORKER_THREADS", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    pub worker_threads: u16,
    /// Log filter, RUST_LOG syntax (for example `info,rampart=debug`).
    #[arg(long, env = "RAMPART_LOG", default_value = "info")]
    pub log: String,
    /// Log format.
    #[arg(long, env = "RAMPART_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    #[command(flatten)]
    pub leader: LeaderOptions,
    /// Exit once the process with this id, which started this one, has exited. For test
    /// harnesses and `rampart demo`, so that a killed or panicking run leaves no operator
    /// behind. The id is given rather than read at start-up, when the parent may be gone.
    #[arg(long, env = "RAMPART_EXIT_WITH_PARENT", value_name = "PID")]
    pub exit_with_parent: Option<u32>,
    /// Judge backup health as if the wall clock were this many seconds later. For end-to-end
    /// tests, which cannot wait a day for a nightly backup to be missed; hidden, and nothing
    /// but backup health reads it.
    #[arg(
        long,
        env = "RAMPART_HEALTH_CLOCK_OFFSET_SECONDS",
        hide = true,
        default_value_t = 0,
        allow_hyphen_values = true
    )]
    pub health_clock_offset_seconds: i64,
}

/// Leader election for more than one replica.
#[derive(Clone, Debug, Args)]
pub struct LeaderOptions {
    /// Elect a leader through a Lease so only one replica reconciles; the others wait and take
    /// over within the lease duration when the leader stops.
    #[arg(long, env = "RAMPART_LEADER_ELECT", default_value_t = false)]
    pub leader_elect: bool,
    /// Name of the Lease.
    #[arg(long, env = "RAMPART_LEASE_NAME", default_value = "rampart-leader")]
    pub lease_name: String,
    /// Namespace of the Lease (default: the POD_NAMESPACE environment variable, else `default`).
    #[arg(long, env = "RAMPART_LEASE_NAMESPACE")]
    pub lease_namespace: Option<String>,
    /// Seconds a lease lasts without renewal; a standby takes over after this.
    #[arg(long, env = "RAMPART_LEASE_DURATION", default_value_t = 15)]
    pub lease_duration_seconds: u64,
    /// This replica's identity in the Lease (default: the POD_NAME environment variable, else
    /// host name and process id). POD_NAME also names the reporting instance of Events.
    #[arg(long, env = "RAMPART_LEASE_IDENTITY")]
    pub lease_identity: Option<String>,
}
