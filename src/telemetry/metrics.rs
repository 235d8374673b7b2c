//! Prometheus metrics, one process-wide registry: reconciles, durations, vendor calls by
//! vendor/operation/status code, drift found, and objects Ready.

use std::sync::OnceLock;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

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
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BackupLabels {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub vendor: String,
}

/// One object's backup verdict, by its reason.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BackupReasonLabels {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub vendor: String,
    pub reason: String,
}

/// The reasons `BackupHealthy` can give (`health::verdict`), each a series of
/// `rampart_backup_health_reason` (1 on the current one, 0 on the others: continuous series,
/// as kube-state-metrics writes a pod's phase).
pub const BACKUP_REASONS: [&str; 5] = [
    "BackupSucceeded",
    "LastBackupFailed",
    "BackupMissed",
    "NoBackupsYet",
    "VendorUnreadable",
];

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
    pub backup_healthy: Family<BackupLabels, Gauge>,
    pub backup_last_success: Family<BackupLabels, Gauge>,
    pub backup_since_success: Family<BackupLabels, Gauge>,
    pub backup_last_result: Family<BackupLabels, Gauge>,
    pub backups_held: Family<BackupLabels, Gauge>,
    pub backup_reason: Family<BackupReasonLabels, Gauge>,
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
        let backup_healthy = Family::<BackupLabels, Gauge>::default();
        let backup_last_success = Family::<BackupLabels, Gauge>::default();
        let backup_since_success = Family::<BackupLabels, Gauge>::default();
        let backup_last_result = Family::<BackupLabels, Gauge>::default();
        let backups_held = Family::<BackupLabels, Gauge>::default();
        let backup_reason = Family::<BackupReasonLabels, Gauge>::default();
        registry.register(
            "backup_health_reason",
            "BackupHealthy's reason: 1 on the object's current reason, 0 on the others",
            backup_reason.clone(),
        );
        for (name, help, family) in [
            (
                "backup_healthy",
                "BackupHealthy: 1 True, 0 False, -1 Unknown (the vendor cannot be read)",
                &backup_healthy,
            ),
            (
                "backup_last_success_timestamp_seconds",
                "Unix time of the newest successful backup the vendor holds",
                &backup_last_success,
            ),
            (
                "backup_seconds_since_success",
                "Seconds from the newest successful backup to the last poll",
                &backup_since_success,
            ),
            (
                "backup_last_result",
                "The newest backup run: 1 succeeded, 0 failed, -1 still running",
                &backup_last_result,
            ),
            (
                "backups_held",
                "Backups the vendor holds for the object",
                &backups_held,
            ),
        ] {
            registry.register(name, help, family.clone());
        }
        Metrics {
            registry,
            backup_healthy,
            backup_last_success,
            backup_since_success,
            backup_last_result,
            backups_held,
            backup_reason,
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
pub fn backup_health(labels: &BackupLabels, value: i64, reason: &str) {
    let m = metrics();
    m.backup_healthy.get_or_create(labels).set(value);
    for r in BACKUP_REASONS {
        m.backup_reason
            .get_or_create(&reason_labels(labels, r))
            .set(i64::from(r == reason));
    }
}

fn reason_labels(labels: &BackupLabels, reason: &str) -> BackupReasonLabels {
    BackupReasonLabels {
        kind: labels.kind.clone(),
        namespace: labels.namespace.clone(),
        name: labels.name.clone(),
        vendor: labels.vendor.clone(),
        reason: reason.into(),
    }
}

/// Set one object's backup facts; a fact the vendor did not give leaves its series unset.
pub fn backup_facts(
    labels: &BackupLabels,
    last_success: Option<i64>,
    since_success: Option<i64>,
    last_result: Option<i64>,
    held: Option<i64>,
) {
    let m = metrics();
    for (family, value) in [
        (&m.backup_last_success, last_success),
        (&m.backup_since_success, since_success),
        (&m.backup_last_result, last_result),
        (&m.backups_held, held),
    ] {
        if let Some(v) = value {
            family.get_or_create(labels).set(v);
        }
    }
}

/// Forget a deleted object's backup series.
pub fn forget_backups(labels: &BackupLabels) {
    let m = metrics();
    for family in [
        &m.backup_healthy,
        &m.backup_last_success,
        &m.backup_since_success,
        &m.backup_last_result,
        &m.backups_held,
    ] {
        family.remove(labels);
    }
    for r in BACKUP_REASONS {
        m.backup_reason.remove(&reason_labels(labels, r));
    }
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
