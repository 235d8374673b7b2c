//! Backup and Restore in the demo: once every example is Ready, one on-demand backup of the
//! example Vault `app-servers` (a CBR restore point), then a restore of its backup onto the
//! same server. The Restore is written after the Backup succeeds because a server restore names
//! the backup of each disk (`mappings`), which only exists then.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{DemoError, NAMESPACE, kubectl};
use crate::testenv::TestApiServer;

pub const BACKUP: &str = "app-servers-now";
pub const RESTORE: &str = "app-servers-back";
/// The example Vault's server (deploy/examples/huawei-cbr.yaml).
const SERVER: &str = "94eba8b2-acc9-4d82-badc-127144cc5526";
/// A disk of that server, for the restore's mapping (the simulator takes any).
const DISK: &str = "c1f0e2d3-4b5a-6978-8a9b-0c1d2e3f4a5b";

fn object(kind: &str, name: &str, spec: Value) -> String {
    json!({"apiVersion": "rampart.dev/v1alpha1", "kind": kind, "metadata": {"name": name}, "spec": spec})
        .to_string()
}

/// Take the backup, restore it, and wait for both to succeed (at most `limit` each).
pub async fn show(server: &TestApiServer, limit: Duration) -> Result<(), DemoError> {
    let backup = object(
        "Backup",
        BACKUP,
        json!({"source": {"vaultRef": {"name": "app-servers"}}, "description": "taken by the demo"}),
    );
    kubectl(
        server,
        &["apply", "-n", NAMESPACE, "-f", "-"],
        Some(&backup),
    )?;
    let done = until_succeeded(server, "backup", BACKUP, limit).await?;
    let backup_id = done["status"]["backupIds"][0]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let restore = object(
        "Restore",
        RESTORE,
        json!({"backupRef": {"name": BACKUP}, "huaweiCbr": {"serverId": SERVER,
               "mappings": [{"backupId": backup_id, "volumeId": DISK}]}}),
    );
    kubectl(
        server,
        &["apply", "-n", NAMESPACE, "-f", "-"],
        Some(&restore),
    )?;
    until_succeeded(server, "restore", RESTORE, limit).await?;
    Ok(())
}

async fn until_succeeded(
    server: &TestApiServer,
    kind: &str,
    name: &str,
    limit: Duration,
) -> Result<Value, DemoError> {
    let started = Instant::now();
    loop {
        let json = kubectl(
            server,
            &["get", kind, name, "-n", NAMESPACE, "-o", "json"],
            None,
        )?;
        let obj: Value = serde_json::from_str(&json).unwrap_or_default();
        match obj["status"]["phase"].as_str() {
            Some("Succeeded") => return Ok(obj),
            Some("Failed") => {
                let why = obj["status"]["message"].as_str().unwrap_or_default();
                return Err(DemoError::NotReady(
                    limit,
                    format!("{kind} {name} failed: {why}"),
                ));
            }
            _ if started.elapsed() > limit => {
                return Err(DemoError::NotReady(
                    limit,
                    format!("{kind} {name} not done"),
                ));
            }
            _ => tokio::time::sleep(Duration::from_secs(1)).await,
        }
    }
}
