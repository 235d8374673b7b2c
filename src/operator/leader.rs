//! Leader election: with `--leader-elect`, only the replica holding the Lease reconciles. A
//! standby waits; if the leader stops renewing, a standby takes over within the lease duration.
//!
//! A leader must stop calling vendors before a standby can take over, including when it was
//! frozen (SIGSTOP, a paused VM) or cut off from the API server past its lease: thawed, its
//! reconciles resume before its lease task has asked the API server anything. So besides the
//! lease task, a keeper reads the Lease after each renewal and keeps the vendor fence
//! (`vendor::fence`) open only until the lease's end as last seen renewed, minus a margin for
//! clock skew; every vendor request checks that fence against the clock alone. A leader that
//! sees another holder, or its lease run out, exits (Kubernetes restarts it as a standby).

use std::time::{Duration, SystemTime};

use k8s_openapi::api::coordination::v1::Lease;
use kube::{Api, Client};
use kube_lease_manager::LeaseManagerBuilder;
use tracing::{debug, error, info};

use super::options::LeaderOptions;
use crate::vendor::fence;

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
    fence::name_replica(&me);
    // No vendor call until a renewal of our own lease has been seen.
    fence::close();
    let duration = opts.lease_duration_seconds.max(2);
    let grace = (duration / 3).max(1);
    let manager = LeaseManagerBuilder::new(client.clone(), &opts.lease_name)
        .with_namespace(&namespace)
        .with_identity(&me)
        .with_duration(duration)
        .with_grace(grace)
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
    let keeper = FenceKeeper {
        leases: Api::namespaced(client, &namespace),
        lease_name: opts.lease_name.clone(),
        me,
        duration: Duration::from_secs(duration),
        grace: Duration::from_secs(grace),
    };
    // Acquired just now: until a read says otherwise, the lease runs from here.
    let renewed = keeper.read_once().await.unwrap_or_else(SystemTime::now);
    tokio::spawn(keeper.run(renewed));
    tokio::spawn(async move {
        loop {
            if rx.changed().await.is_err() || !*rx.borrow() {
                lost("the lease task reports another holder");
            }
        }
    });
    Ok(())
}

/// Stop every vendor call, say why, and exit so that no two replicas reconcile at once.
fn lost(why: &str) -> ! {
    fence::close();
    error!(
        why,
        "lost leadership; exiting so that no two replicas reconcile at once"
    );
    // Give the log line a moment to flush (no vendor call can go out meanwhile).
    std::thread::sleep(Duration::from_millis(50));
    std::process::exit(2);
}

/// Keeps the vendor fence at the end of this replica's lease as last seen renewed.
struct FenceKeeper {
    leases: Api<Lease>,
    lease_name: String,
    me: String,
    duration: Duration,
    grace: Duration,
}

impl FenceKeeper {
    /// How long before the lease's end calls stop: half the renewal grace, so a renewal (due a
    /// whole grace before the end) has time to be seen, and clocks may differ by that much.
    fn margin(&self) -> Duration {
        self.grace / 2
    }

    /// Read the Lease; open the fence until its end if it is still ours. Returns the renewal
    /// time seen, if any.
    async fn read_once(&self) -> Option<SystemTime> {
        let lease = match self.leases.get_opt(&self.lease_name).await {
            Ok(lease) => lease?,
            Err(e) => {
                // The fence runs out by itself if reads keep failing.
                debug!(error = %e, "could not read the Lease");
                return None;
            }
        };
        let spec = lease.spec.unwrap_or_default();
        if spec.holder_identity.as_deref() != Some(self.me.as_str()) {
            lost("the Lease names another holder");
        }
        let renewed: SystemTime = spec.renew_time?.0.into();
        fence::open_until(renewed + self.duration - self.margin());
        Some(renewed)
    }

    async fn run(self, mut last_renewal: SystemTime) {
        loop {
            let now = SystemTime::now();
            // Past the lease's end a standby may hold it: this replica must not come back.
            if now >= last_renewal + self.duration {
                lost("the lease ran out before a renewal was seen");
            }
            // The lease task renews a grace before the end; look shortly after that, and then
            // every eighth of the grace until the renewal shows.
            let due = last_renewal + self.duration - self.grace + self.grace / 4;
            let wait = due
                .duration_since(now)
                .ok()
                .filter(|w| !w.is_zero())
                .unwrap_or(self.grace / 8)
                .max(Duration::from_millis(50));
            tokio::time::sleep(wait).await;
            if let Some(renewed) = self.read_once().await {
                last_renewal = last_renewal.max(renewed);
            }
        }
    }
}
