//! Leader election: with `--leader-elect`, only the replica holding the Lease reconciles. A
//! standby waits; if the leader stops renewing, a standby takes over within the lease duration.
//! A leader that loses the Lease exits at once (its vendor calls must stop), and Kubernetes
//! restarts it as a standby.

use std::time::Duration;

use kube::Client;
use kube_lease_manager::LeaseManagerBuilder;
use tracing::{error, info};

use super::options::LeaderOptions;

#[derive(Debug, thiserror::Error)]
#[error("leader election: {0}")]
pub struct LeaderError(String);

fn identity(opts: &LeaderOptions) -> String {
    opts.lease_identity
        .clone()
        .or_else(|| std::env::var("POD_NAME").ok())
        .unwrap_or_else(|| {
            let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
            format!("{}-{}", host.trim(), std::process::id())
        })
}

/// Block until this replica leads, then watch the lease in the background and exit the
/// process if leadership is lost.
pub async fn acquire(client: Client, opts: &LeaderOptions) -> Result<(), LeaderError> {
    let namespace = opts
        .lease_namespace
        .clone()
        .or_else(|| std::env::var("POD_NAMESPACE").ok())
        .unwrap_or_else(|| "default".into());
    let me = identity(opts);
    let duration = opts.lease_duration_seconds.max(2);
    let manager = LeaseManagerBuilder::new(client, &opts.lease_name)
        .with_namespace(&namespace)
        .with_identity(&me)
        .with_duration(duration)
        .with_grace((duration / 3).max(1))
        .build()
        .await
        .map_err(|e| LeaderError(e.to_string()))?;
    // The lease task renews the lock for as long as `rx` lives (the process lifetime).
    let (mut rx, _renewal) = manager.watch().await;
    info!(lease = %opts.lease_name, %namespace, identity = %me, "waiting for leadership");
    while !*rx.borrow_and_update() {
        if rx.changed().await.is_err() {
            return Err(LeaderError("lease task ended".into()));
        }
    }
    info!(identity = %me, "acquired leadership");
    tokio::spawn(async move {
        loop {
            if rx.changed().await.is_err() || !*rx.borrow() {
                error!("lost leadership; exiting so that no two replicas reconcile at once");
                // Give the log line a moment to flush.
                tokio::time::sleep(Duration::from_millis(50)).await;
                std::process::exit(2);
            }
        }
    });
    Ok(())
}
