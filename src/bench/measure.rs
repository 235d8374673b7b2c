//! Measuring instruments for the benchmark: the operator process's memory and CPU from /proc,
//! a watch that counts objects Ready at their current generation, and percentiles.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use kube::api::Api;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Resource, ResourceExt};

/// What watching and writing a kind's objects needs of its Rust type (every rampart kind).
pub trait WatchedKind:
    Resource<DynamicType = ()>
    + Clone
    + std::fmt::Debug
    + serde::de::DeserializeOwned
    + serde::Serialize
    + Send
    + 'static
{
}

impl<K> WatchedKind for K where
    K: Resource<DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + serde::Serialize
        + Send
        + 'static
{
}

/// Resident memory (MiB) and CPU time (seconds) of a process.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcStats {
    pub rss_mib: f64,
    /// Heap and other anonymous memory (the part objects cost).
    pub rss_anon_mib: f64,
    pub threads: u32,
    pub cpu_seconds: f64,
}

/// Read `/proc/<pid>`: VmRSS from `status`, utime+stime from `stat` (in clock ticks of 1/100 s,
/// the Linux default `USER_HZ`).
pub fn proc_stats(pid: u32) -> Option<ProcStats> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<f64> {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    };
    let rss_kib = field("VmRSS:")?;
    let anon_kib = field("RssAnon:").unwrap_or(rss_kib);
    let threads = field("Threads:").unwrap_or(0.0) as u32;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some(ProcStats {
        rss_mib: rss_kib / 1024.0,
        rss_anon_mib: anon_kib / 1024.0,
        threads,
        cpu_seconds: (utime + stime) / 100.0,
    })
}

/// `Ready=True` at the current generation, read from the object's JSON.
pub fn ready_now<K: serde::Serialize>(obj: &K) -> bool {
    let v = serde_json::to_value(obj).unwrap_or_default();
    v["status"]["observedGeneration"] == v["metadata"]["generation"]
        && v["status"]["conditions"].as_array().is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}

/// Wait until `n` objects in `api` are Ready; returns when that happened, or None on timeout.
pub async fn all_ready<K>(api: Api<K>, n: usize, timeout: Duration) -> Option<Instant>
where
    K: WatchedKind,
{
    let mut ready: HashMap<String, bool> = HashMap::new();
    let stream = watcher(api, watcher::Config::default())
        .default_backoff()
        .applied_objects();
    futures::pin_mut!(stream);
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let next = tokio::time::timeout_at(deadline, stream.try_next()).await;
        match next {
            Ok(Ok(Some(obj))) => {
                ready.insert(obj.name_any(), ready_now(&obj));
                if ready.values().filter(|r| **r).count() >= n {
                    return Some(Instant::now());
                }
            }
            Ok(_) => continue,
            Err(_) => return None,
        }
    }
}

/// The `q`-quantile (0..=1) of `samples` (nearest rank).
pub fn percentile(samples: &[f64], q: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let mut s = samples.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let rank = ((q * s.len() as f64).ceil() as usize).clamp(1, s.len());
    s[rank - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let s: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&s, 0.5), 50.0);
        assert_eq!(percentile(&s, 0.99), 99.0);
        assert_eq!(percentile(&s, 1.0), 100.0);
        assert_eq!(percentile(&[7.0], 0.99), 7.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }

    #[test]
    fn this_process_has_stats() {
        let s = proc_stats(std::process::id()).expect("/proc is readable");
        assert!(s.rss_mib > 1.0 && s.cpu_seconds >= 0.0, "{s:?}");
    }
}
