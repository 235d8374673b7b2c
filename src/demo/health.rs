//! Backup health in the demo: one CBR Vault whose backups succeed (the example's) and one whose
//! runs the simulator fails on purpose. Once every example is Ready, the CBR simulator's clock
//! moves a day on, so the nightly policy runs once; the demo waits until both Vaults show their
//! verdict.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{DemoError, NAMESPACE, kubectl};
use crate::simulators::huawei_cbr::CbrSim;
use crate::testenv::TestApiServer;

/// The demo-only Vault whose backups fail.
pub const FAILING_VAULT: &str = "scratch-failing";
/// The example Vault whose backups succeed.
pub const HEALTHY_VAULT: &str = "app-servers";
const FAILURE: &str = "the demo fails this vault's backups on purpose";

/// The demo-only Vault, bound to the example's nightly Policy.
pub fn failing_vault() -> Value {
    json!({
        "apiVersion": "rampart.dev/v1alpha1", "kind": "Vault",
        "metadata": {"name": FAILING_VAULT},
        "spec": {"providerConfigRef": {"name": "cbr"}, "deletionPolicy": "Orphan",
                 "huaweiCbr": {"objectType": "server", "sizeGB": 100, "policyRef": {"name": "nightly"},
                               "description": "backups fail here on purpose (the demo)",
                               "resources": [{"id": "5a3c9d2e-7f41-4b8a-9e6d-0c1b2a3f4e5d", "type": "OS::Nova::Server", "name": "scratch-1"}]}}
    })
}

/// Fail the demo Vault's runs, move the CBR clock a day on, and wait until both Vaults show
/// their verdict (at most `limit`).
pub async fn show(
    server: &TestApiServer,
    cbr: &CbrSim,
    project: &str,
    limit: Duration,
) -> Result<(), DemoError> {
    let id = kubectl(
        server,
        &[
            "get",
            "vault",
            FAILING_VAULT,
            "-n",
            NAMESPACE,
            "-o",
            "jsonpath={.metadata.annotations.rampart\\.dev/external-name}",
        ],
        None,
    )?;
    cbr.console()
        .fail_runs(project, id.trim(), u32::MAX, "BackupService.0001", FAILURE);
    cbr.console()
        .advance_clock(jiff::SignedDuration::from_hours(24));
    let started = Instant::now();
    loop {
        let healthy = verdict(server, HEALTHY_VAULT)?;
        let failing = verdict(server, FAILING_VAULT)?;
        if healthy == "BackupSucceeded" && failing == "LastBackupFailed" {
            return Ok(());
        }
        if started.elapsed() > limit {
            return Err(DemoError::NotReady(
                limit,
                format!("backup health: {HEALTHY_VAULT} {healthy:?}, {FAILING_VAULT} {failing:?}"),
            ));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// A Vault's `BackupHealthy` reason, empty until judged.
fn verdict(server: &TestApiServer, vault: &str) -> Result<String, DemoError> {
    kubectl(
        server,
        &[
            "get",
            "vault",
            vault,
            "-n",
            NAMESPACE,
            "-o",
            "jsonpath={.status.conditions[?(@.type==\"BackupHealthy\")].reason}",
        ],
        None,
    )
}
