//! Prometheus metrics, one process-wide registry: reconciles, durations, vendor calls by
//! vendor/operation/status code, drift found, and objects Ready.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

pub use super::backup_metrics::{BACKUP_REASONS, BackupMetrics, BackupRecord};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReconcileLabels {
    pub kind: String,
    pub result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct VendorLabels {
    pub vendor: String,
    pub operation: String,
    pub code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct VendorOnly {
    pub vendor: String,
}

/// One object whose backups are judged.
#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub struct BackupLabels {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub vendor: String,
}

/// Every metric rampart exports.
pub struct Metrics {
    pub registry: Registry,
    pub reconciles: Family<ReconcileLabels, Counter>,
    pub reconcile_duration: Family<KindLabels, Histogram>,
    pub vendor_requests: Family<VendorLabels, Counter>,
    pub vendor_duration: Family<VendorOnly, Histogram>,
    pub drift_found: Family<KindLabels, Counter>,
    pub objects_ready: Family<KindLabels, Gauge>,
    pub objects_total: Family<KindLabels, Gauge>,
    pub backups: Arc<BackupMetrics>,
}

fn new_histogram() -> Histogram {
    Histogram::new([
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    ])
}

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("rampart");
        let reconciles = Family::<ReconcileLabels, Counter>::default();
        let reconcile_duration = Family::<KindLabels, Histogram>::new_with_constructor(
            new_histogram as fn() -> Histogram,
        );
        let vendor_requests = Family::<VendorLabels, Counter>::default();
        let vendor_duration = Family::<VendorOnly, Histogram>::new_with_constructor(
            new_histogram as fn() -> Histogram,
        );
        let drift_found = Family::<KindLabels, Counter>::default();
        let objects_ready = Family::<KindLabels, Gauge>::default();
        let objects_total = Family::<KindLabels, Gauge>::default();
        registry.register(
            "reconciles",
            "Reconciles by kind and result",
            reconciles.clone(),
        );
        registry.register(
            "reconcile_duration_seconds",
            "Reconcile duration by kind",
            reconcile_duration.clone(),
        );
        registry.register(
            "vendor_requests",
            "Vendor API requests by vendor, operation and HTTP status (or 'transport')",
            vendor_requests.clone(),
        );
        registry.register(
            "vendor_request_duration_seconds",
            "Vendor API request duration",
            vendor_duration.clone(),
        );
        registry.register(
            "drift_found",
            "Reconciles that found the vendor different from the spec",
            drift_found.clone(),
        );
        registry.register(
            "objects_ready",
            "Managed objects whose Ready condition is True",
            objects_ready.clone(),
        );
        registry.register(
            "objects",
            "Managed objects of the kind in the operator's cache",
            objects_total.clone(),
        );
        let backups = Arc::new(BackupMetrics::default());
        registry.register_collector(Box::new(backups.clone()));
        Metrics {
            registry,
            backups,
            reconciles,
            reconcile_duration,
            vendor_requests,
            vendor_duration,
            drift_found,
            objects_ready,
            objects_total,
        }
    }
}

static METRICS: OnceLock<Metrics> = OnceLock::new();

/// The process-wide metrics.
pub fn metrics() -> &'static Metrics {
    METRICS.get_or_init(Metrics::new)
}

/// Record one vendor call.
pub fn vendor_request(vendor: &str, operation: &str, code: &str, took: Duration) {
    let m = metrics();
    m.vendor_requests
        .get_or_create(&VendorLabels {
            vendor: vendor.into(),
            operation: operation.into(),
            code: code.into(),
        })
        .inc();
    m.vendor_duration
        .get_or_create(&VendorOnly {
            vendor: vendor.into(),
        })
        .observe(took.as_secs_f64());
}

/// Record one reconcile.
pub fn reconcile(kind: &str, result: &str, took: Duration) {
    let m = metrics();
    m.reconciles
        .get_or_create(&ReconcileLabels {
            kind: kind.into(),
            result: result.into(),
        })
        .inc();
    m.reconcile_duration
        .get_or_create(&KindLabels { kind: kind.into() })
        .observe(took.as_secs_f64());
}

/// Record drift found on one object.
pub fn drift(kind: &str) {
    metrics()
        .drift_found
        .get_or_create(&KindLabels { kind: kind.into() })
        .inc();
}

/// Set one object's `BackupHealthy` value and reason.
pub fn backup_health(labels: &BackupLabels, value: i64, reason: &'static str) {
    metrics().backups.update(labels, |r| {
        r.healthy = Some(value);
        r.reason = Some(reason);
    });
}

/// Set one object's backup facts; a fact the vendor did not give keeps its last value.
pub fn backup_facts(
    labels: &BackupLabels,
    last_success: Option<i64>,
    since_success: Option<i64>,
    last_result: Option<i64>,
    held: Option<i64>,
) {
    metrics().backups.update(labels, |r| {
        r.last_success = last_success.or(r.last_success);
        r.since_success = since_success.or(r.since_success);
        r.last_result = last_result.or(r.last_result);
        r.held = held.or(r.held);
    });
}

/// Forget a deleted object's backup series.
pub fn forget_backups(labels: &BackupLabels) {
    metrics().backups.remove(labels);
}

/// Set the number of objects of a kind.
pub fn objects_total(kind: &str, n: i64) {
    metrics()
        .objects_total
        .get_or_create(&KindLabels { kind: kind.into() })
        .set(n);
}

/// Set the number of Ready objects of a kind.
pub fn objects_ready(kind: &str, n: i64) {
    metrics()
        .objects_ready
        .get_or_create(&KindLabels { kind: kind.into() })
        .set(n);
}

/// Text exposition of every metric.
pub fn encode() -> String {
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &metrics().registry)
        .expect("metrics encode");
    out
}
