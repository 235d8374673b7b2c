//! The latency from a spec change to the vendor call it causes, measured under load: the vendor
//! latency and rate limit stay on, the changes arrive at a steady rate (not one at a time, each
//! waiting for the last), and fresh Vaults are created at the same time so the changes share
//! the provider's budget with objects still converging. A sample ends when the vendor accepts
//! the change's PUT: a PUT the vendor's rate limit refused does not count as the call.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

use super::measure::{all_ready, percentile};
use super::{BenchError, BenchOptions, Latency, PROJECT, object, other};
use crate::api::Vault;
use crate::simulators::huawei_cbr::CbrSim;

/// One spec change: which vendor call it must cause, and when it was sent.
struct Change {
    wanted: String,
    sent: Instant,
}

/// Change `opts.changes` of the `n` Vaults at `opts.change_rate` per second while creating
/// fresh Vaults at `opts.background_creates_per_second`; wait for every change's vendor call
/// and every fresh Vault to be Ready.
pub async fn change_latency(
    opts: &BenchOptions,
    n: usize,
    vaults: &Api<Vault>,
    cbr: &CbrSim,
) -> Result<Latency, BenchError> {
    let mut current: HashMap<String, (String, i64)> = HashMap::new();
    for v in vaults.list(&ListParams::default()).await?.items {
        let name = v.metadata.name.clone().unwrap_or_default();
        let id = v
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("rampart.dev/external-name"))
            .cloned()
            .ok_or_else(|| other(format!("{name} has no external name")))?;
        let size = v.spec.huawei_cbr.as_ref().map(|c| c.size_gb).unwrap_or(100);
        current.insert(name, (id, size));
    }
    let window = Duration::from_secs_f64(opts.changes as f64 / opts.change_rate);
    let background = (opts.background_creates_per_second * window.as_secs_f64()).round() as usize;
    cbr.control().record_requests();
    let started = Instant::now();

    // Fresh Vaults, created on their own schedule while the changes are made.
    let creator = {
        let (api, rate) = (vaults.clone(), opts.background_creates_per_second);
        tokio::spawn(async move {
            let mut sent = Vec::new();
            for i in 0..background {
                tokio::time::sleep_until(
                    (started + Duration::from_secs_f64(i as f64 / rate)).into(),
                )
                .await;
                let api = api.clone();
                let v: Vault = object(
                    "Vault",
                    &format!("bg{i:05}"),
                    json!({"providerConfigRef": {"name": "cbr"}, "huaweiCbr": {"objectType": "server", "sizeGB": 100}}),
                );
                sent.push(tokio::spawn(async move {
                    api.create(&PostParams::default(), &v).await.map(|_| ())
                }));
            }
            for s in sent {
                s.await.map_err(other)??;
            }
            Ok::<(), BenchError>(())
        })
    };

    let mut changes = Vec::with_capacity(opts.changes);
    let mut patches = Vec::with_capacity(opts.changes);
    for i in 0..opts.changes {
        // Spread over the Vaults; a Vault changed again gets a size it has not had.
        let name = format!("v{:05}", (i * 7919) % n);
        let (id, size) = current
            .get_mut(&name)
            .ok_or_else(|| other(format!("{name} is missing")))?;
        *size += 10;
        let patch = json!({"spec": {"huaweiCbr": {"sizeGB": *size}}});
        tokio::time::sleep_until(
            (started + Duration::from_secs_f64(i as f64 / opts.change_rate)).into(),
        )
        .await;
        changes.push(Change {
            wanted: format!("PUT /v3/{PROJECT}/vaults/{id}"),
            sent: Instant::now(),
        });
        let api = vaults.clone();
        patches.push(tokio::spawn(async move {
            api.patch(&name, &PatchParams::default(), &Patch::Merge(patch))
                .await
                .map(|_| ())
        }));
    }
    for p in patches {
        p.await.map_err(other)??;
    }
    creator.await.map_err(other)??;

    // Every change's accepted PUT, and every Vault Ready again, the fresh ones included.
    let deadline = Instant::now() + Duration::from_secs(120);
    let samples = loop {
        let log = cbr.control().requests();
        let arrived: Option<Vec<f64>> = changes
            .iter()
            .map(|c| {
                log.iter()
                    .find(|r| {
                        r.at >= c.sent && r.request == c.wanted && !r.faults.contains(&"limit")
                    })
                    .map(|r| r.at.duration_since(c.sent).as_secs_f64() * 1000.0)
            })
            .collect();
        if let Some(samples) = arrived {
            break samples;
        }
        if Instant::now() > deadline {
            return Err(other(
                "some spec changes caused no vendor call within 120 s",
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let ready = all_ready(vaults.clone(), n + background, Duration::from_secs(300))
        .await
        .ok_or_else(|| other("the Vaults created during the changes never became Ready"))?;
    Ok(Latency {
        samples: samples.len(),
        p50: percentile(&samples, 0.5),
        p99: percentile(&samples, 0.99),
        max: samples.iter().copied().fold(0.0, f64::max),
        changes_per_second: opts.change_rate,
        vaults_created_meanwhile: background,
        window_seconds: window.as_secs_f64(),
        all_ready_after_seconds: ready.duration_since(started).as_secs_f64(),
    })
}
