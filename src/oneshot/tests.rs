//! The one-shot engine against an API server and a vendor in memory: a Backup is started once
//! whatever happens to the answer or the cache, a lost answer is found rather than repeated,
//! a finished Backup is never touched again, and a Restore waits for its Backup.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use jiff::Timestamp;
use kube::ResourceExt;
use serde_json::json;

use super::vendor::{BackupOrder, BackupTaker, Progress, Refusal, RestoreOrder, Restorer, Started};
use crate::api::action_status::Phase;
use crate::api::common::ProviderConfigKind;
use crate::api::provider_config::{ProviderObservation, ProviderType};
use crate::api::{Backup, Restore, Vault};
use crate::engine::adapters::Adapters;
use crate::engine::annotations::{EXTERNAL_NAME, FINALIZER, START_PENDING};
use crate::engine::context::EngineSettings;
use crate::engine::errors::Error;
use crate::engine::hub::{ProviderKey, ResolvedProvider, VendorRuntime};
use crate::engine::testkit::{Engine, TestWorld};
use crate::vendor::error::{ErrorKind, VendorError, VendorResult};

const NS: &str = "prod";

/// A vendor whose answers a test scripts, counting what it was asked.
#[derive(Default)]
struct Script {
    starts: Mutex<u32>,
    finds: Mutex<u32>,
    restores: Mutex<u32>,
    deleted: Mutex<Vec<String>>,
    /// The next start's answer (taken once); default: accepted as `cp-1`.
    start_answer: Mutex<Option<VendorResult<Started>>>,
    /// What the vendor holds for a lost start.
    found: Mutex<Option<Started>>,
    progress: Mutex<Option<Progress>>,
}

fn accepted() -> Started {
    Started {
        vendor_id: "cp-1".into(),
        task_id: None,
        backup_ids: vec![],
    }
}

fn err(kind: ErrorKind) -> VendorError {
    VendorError::new("fake", "start", kind, "what the vendor said")
}

#[async_trait]
impl BackupTaker for Script {
    fn check(&self, order: &BackupOrder) -> Result<(), Refusal> {
        match order.backup.spec.retention_days {
            Some(_) => Err(Refusal::new("spec.retentionDays", "not here")),
            None => Ok(()),
        }
    }
    async fn start(&self, _: &BackupOrder) -> VendorResult<Started> {
        *self.starts.lock().unwrap() += 1;
        self.start_answer
            .lock()
            .unwrap()
            .take()
            .unwrap_or(Ok(accepted()))
    }
    async fn find(&self, _: &BackupOrder, _: Timestamp) -> VendorResult<Option<Started>> {
        *self.finds.lock().unwrap() += 1;
        Ok(self.found.lock().unwrap().clone())
    }
    async fn progress(&self, _: &BackupOrder, _: &Started) -> VendorResult<Progress> {
        Ok(self
            .progress
            .lock()
            .unwrap()
            .clone()
            .unwrap_or(Progress::Running))
    }
    async fn delete(&self, ids: &[String]) -> VendorResult<()> {
        self.deleted.lock().unwrap().extend(ids.iter().cloned());
        Ok(())
    }
}

#[async_trait]
impl Restorer for Script {
    fn check(&self, _: &RestoreOrder) -> Result<(), Refusal> {
        Ok(())
    }
    async fn start(&self, order: &RestoreOrder) -> VendorResult<Started> {
        *self.restores.lock().unwrap() += 1;
        Ok(Started {
            vendor_id: format!("restore-of-{}", order.backup_id),
            ..Default::default()
        })
    }
    async fn find(&self, _: &RestoreOrder, _: Timestamp) -> VendorResult<Option<Started>> {
        Ok(None)
    }
    async fn progress(&self, _: &RestoreOrder, _: &Started) -> VendorResult<Progress> {
        Ok(self
            .progress
            .lock()
            .unwrap()
            .clone()
            .unwrap_or(Progress::Running))
    }
}

struct ScriptRuntime {
    script: Arc<Script>,
    adapters: Adapters,
}

#[async_trait]
impl VendorRuntime for ScriptRuntime {
    fn provider_type(&self) -> ProviderType {
        ProviderType::HuaweiCbr
    }
    async fn check(&self) -> VendorResult<ProviderObservation> {
        Ok(ProviderObservation::default())
    }
    fn adapters(&self) -> &Adapters {
        &self.adapters
    }
    fn backup_taker(&self) -> Option<&dyn BackupTaker> {
        Some(self.script.as_ref())
    }
    fn restorer(&self) -> Option<&dyn Restorer> {
        Some(self.script.as_ref())
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

struct World {
    script: Arc<Script>,
    engine: Engine,
    _world: TestWorld,
}

impl World {
    fn new() -> World {
        let script = Arc::new(Script::default());
        let for_connect = script.clone();
        let world = TestWorld::new(Arc::new(move |_: &ResolvedProvider| {
            let runtime: Arc<dyn VendorRuntime> = Arc::new(ScriptRuntime {
                script: for_connect.clone(),
                adapters: Adapters::new(),
            });
            Ok(runtime)
        }));
        let spec = serde_json::from_value(json!({
            "type": "HuaweiCbr", "endpoint": "https://cbr.example", "pollIntervalSeconds": 30
        }))
        .unwrap();
        let key = ProviderKey {
            kind: ProviderConfigKind::ProviderConfig,
            namespace: Some(NS.into()),
            name: "cbr".into(),
        };
        world.source.set(key, spec, &[]);
        let engine = world.engine(EngineSettings::default());
        let w = World {
            script,
            engine,
            _world: world,
        };
        w.vault("v", Some("vault-1"));
        w
    }

    fn vault(&self, name: &str, id: Option<&str>) {
        let mut v: Vault = serde_json::from_value(json!({
            "apiVersion": "rampart.dev/v1alpha1", "kind": "Vault",
            "metadata": {"name": name, "namespace": NS},
            "spec": {"providerConfigRef": {"name": "cbr"}, "huaweiCbr": {"objectType": "server", "sizeGB": 10}}
        }))
        .unwrap();
        if let Some(id) = id {
            v.annotations_mut().insert(EXTERNAL_NAME.into(), id.into());
        }
        self.engine.cluster.apply(&v);
    }

    fn backup(&self, name: &str, extra: serde_json::Value) -> Backup {
        let mut spec = json!({"source": {"vaultRef": {"name": "v"}}});
        spec.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let b: Backup = serde_json::from_value(json!({
            "apiVersion": "rampart.dev/v1alpha1", "kind": "Backup",
            "metadata": {"name": name, "namespace": NS}, "spec": spec
        }))
        .unwrap();
        self.engine.cluster.apply_oneshot(&b)
    }

    fn stored(&self, name: &str) -> Backup {
        self.engine.cluster.get(NS, name).expect("stored")
    }

    async fn reconcile(&self, name: &str) -> Result<(), Error> {
        super::backup::reconcile(Arc::new(self.stored(name)), self.engine.ctx.clone())
            .await
            .map(drop)
    }

    fn starts(&self) -> u32 {
        *self.script.starts.lock().unwrap()
    }
}

fn phase(b: &Backup) -> Option<Phase> {
    b.status.as_ref().and_then(|s| s.phase)
}

#[tokio::test]
async fn a_backup_is_started_once_and_followed_to_success_then_left_alone() {
    let w = World::new();
    w.backup("b", json!({}));
    w.reconcile("b").await.unwrap();
    let b = w.stored("b");
    assert_eq!(phase(&b), Some(Phase::Running));
    assert_eq!(
        b.status.as_ref().unwrap().vendor_id.as_deref(),
        Some("cp-1")
    );
    assert!(
        !b.annotations().contains_key(START_PENDING),
        "the claim is cleared once recorded"
    );
    w.reconcile("b").await.unwrap();
    assert_eq!(
        w.starts(),
        1,
        "a running backup is followed, not started again"
    );
    *w.script.progress.lock().unwrap() = Some(Progress::Succeeded {
        backup_ids: vec!["bk-1".into()],
        size_bytes: Some(42),
        completed_at: None,
    });
    w.reconcile("b").await.unwrap();
    let b = w.stored("b");
    assert_eq!(phase(&b), Some(Phase::Succeeded));
    assert_eq!(
        b.status.as_ref().unwrap().backup_ids,
        vec!["bk-1".to_string()]
    );
    *w.script.progress.lock().unwrap() = Some(Progress::Failed {
        message: "later".into(),
        completed_at: None,
    });
    w.reconcile("b").await.unwrap();
    assert_eq!(
        phase(&w.stored("b")),
        Some(Phase::Succeeded),
        "a finished Backup is never re-judged"
    );
    assert_eq!(w.starts(), 1);
    assert!(w.engine.cluster.reasons("b").contains(&"Succeeded"));
}

#[tokio::test]
async fn a_lost_answer_is_found_at_the_vendor_not_started_again() {
    let w = World::new();
    w.backup("b", json!({}));
    *w.script.start_answer.lock().unwrap() = Some(Err(err(ErrorKind::Transport)));
    assert!(
        w.reconcile("b").await.is_err(),
        "an unconfirmed start is retried with backoff"
    );
    let b = w.stored("b");
    assert!(
        b.annotations().contains_key(START_PENDING),
        "the claim stays"
    );
    assert_eq!(phase(&b), Some(Phase::Pending));
    // Not visible at the vendor yet: wait, do not start.
    w.reconcile("b").await.unwrap();
    assert_eq!(w.starts(), 1);
    *w.script.found.lock().unwrap() = Some(Started {
        vendor_id: "cp-late".into(),
        ..Default::default()
    });
    w.reconcile("b").await.unwrap();
    let b = w.stored("b");
    assert_eq!(w.starts(), 1, "found, never started twice");
    assert_eq!(
        b.status.as_ref().unwrap().vendor_id.as_deref(),
        Some("cp-late")
    );
    assert_eq!(phase(&b), Some(Phase::Running));
    assert!(!b.annotations().contains_key(START_PENDING));
}

#[tokio::test]
async fn a_start_never_seen_at_the_vendor_fails_after_the_grace_and_is_not_repeated() {
    let w = World::new();
    let mut b = w.backup("b", json!({}));
    // A claim made long ago (a crash right after it), and nothing at the vendor.
    let long_ago = (Timestamp::now() - jiff::SignedDuration::from_hours(1)).to_string();
    b.annotations_mut().insert(START_PENDING.into(), long_ago);
    w.engine.cluster.apply_oneshot(&b);
    w.reconcile("b").await.unwrap();
    let b = w.stored("b");
    assert_eq!(phase(&b), Some(Phase::Failed));
    let message = b.status.as_ref().unwrap().message.clone().unwrap();
    assert!(message.contains("not made again"), "{message}");
    assert_eq!(w.starts(), 0);
    w.reconcile("b").await.unwrap();
    assert_eq!(w.starts(), 0, "a failed Backup is never retried");
}

#[tokio::test]
async fn a_reconcile_from_a_stale_cache_cannot_claim_the_start_again() {
    let w = World::new();
    w.backup("b", json!({}));
    let stale = w.stored("b");
    w.reconcile("b").await.unwrap();
    assert_eq!(w.starts(), 1);
    // The same object as the cache held it before the first pass's writes.
    let again = super::backup::reconcile(Arc::new(stale), w.engine.ctx.clone()).await;
    assert!(again.is_err(), "the guarded claim is refused");
    assert_eq!(w.starts(), 1, "no second backup");
}

#[tokio::test]
async fn a_vendor_refusal_fails_the_backup_with_the_vendors_words_and_a_refused_spec_names_its_field()
 {
    let w = World::new();
    w.backup("b", json!({}));
    *w.script.start_answer.lock().unwrap() = Some(Err(err(ErrorKind::Rejected)));
    w.reconcile("b").await.unwrap();
    let b = w.stored("b");
    assert_eq!(phase(&b), Some(Phase::Failed));
    assert!(
        b.status
            .as_ref()
            .unwrap()
            .message
            .as_deref()
            .unwrap()
            .contains("what the vendor said")
    );
    assert!(
        !b.annotations().contains_key(START_PENDING),
        "a refusal proves nothing started"
    );
    w.backup("r", json!({"retentionDays": 3}));
    w.reconcile("r").await.unwrap();
    let r = w.stored("r");
    assert_eq!(phase(&r), Some(Phase::Failed));
    assert!(
        r.status
            .as_ref()
            .unwrap()
            .message
            .as_deref()
            .unwrap()
            .starts_with("spec.retentionDays")
    );
    assert_eq!(w.starts(), 1, "the refused spec made no call");
}

#[tokio::test]
async fn a_backup_waits_for_a_source_without_a_vendor_id() {
    let w = World::new();
    w.vault("new", None);
    w.backup("b", json!({"source": {"vaultRef": {"name": "new"}}}));
    w.reconcile("b").await.unwrap();
    let b = w.stored("b");
    assert_eq!(phase(&b), Some(Phase::Pending));
    assert!(
        b.status
            .as_ref()
            .unwrap()
            .message
            .as_deref()
            .unwrap()
            .contains("no vendor id yet")
    );
    assert_eq!(w.starts(), 0);
}

#[tokio::test]
async fn deleting_a_backup_deletes_its_vendor_backups_only_with_delete() {
    let w = World::new();
    w.backup("keep", json!({}));
    w.backup("drop", json!({"deletionPolicy": "Delete"}));
    *w.script.progress.lock().unwrap() = Some(Progress::Succeeded {
        backup_ids: vec!["bk-9".into()],
        size_bytes: None,
        completed_at: None,
    });
    for name in ["keep", "drop"] {
        for _ in 0..3 {
            w.reconcile(name).await.unwrap();
        }
        assert_eq!(phase(&w.stored(name)), Some(Phase::Succeeded));
    }
    assert!(
        w.stored("drop")
            .finalizers()
            .contains(&FINALIZER.to_string())
    );
    assert!(
        w.stored("keep").finalizers().is_empty(),
        "Orphan needs no finalizer"
    );
    w.engine.cluster.delete::<Backup>(NS, "drop");
    w.reconcile("drop").await.unwrap();
    assert_eq!(*w.script.deleted.lock().unwrap(), vec!["bk-9".to_string()]);
    assert!(
        w.engine.cluster.get::<Backup>(NS, "drop").is_none(),
        "released"
    );
}

#[tokio::test]
async fn a_restore_waits_for_its_backup_and_then_restores_its_one_backup_once() {
    let w = World::new();
    let r: Restore = serde_json::from_value(json!({
        "apiVersion": "rampart.dev/v1alpha1", "kind": "Restore",
        "metadata": {"name": "r", "namespace": NS},
        "spec": {"backupRef": {"name": "b"}}
    }))
    .unwrap();
    w.engine.cluster.apply_oneshot(&r);
    let restore = async || {
        let stored: Restore = w.engine.cluster.get(NS, "r").unwrap();
        super::restore::reconcile(Arc::new(stored), w.engine.ctx.clone())
            .await
            .unwrap();
        w.engine.cluster.get::<Restore>(NS, "r").unwrap()
    };
    let r = restore().await;
    assert_eq!(
        r.status.as_ref().and_then(|s| s.phase),
        Some(Phase::Pending)
    );
    w.backup("b", json!({}));
    *w.script.progress.lock().unwrap() = Some(Progress::Succeeded {
        backup_ids: vec!["bk-1".into()],
        size_bytes: None,
        completed_at: None,
    });
    w.reconcile("b").await.unwrap();
    w.reconcile("b").await.unwrap();
    let r = restore().await;
    assert_eq!(
        r.status.as_ref().unwrap().vendor_id.as_deref(),
        Some("restore-of-bk-1")
    );
    restore().await;
    let r = restore().await;
    assert_eq!(
        r.status.as_ref().and_then(|s| s.phase),
        Some(Phase::Succeeded)
    );
    assert_eq!(*w.script.restores.lock().unwrap(), 1, "one restore call");
}

#[tokio::test]
async fn a_vendor_clock_ahead_never_shows_an_action_completed_in_the_future() {
    let w = World::new();
    w.backup("b", json!({}));
    w.reconcile("b").await.unwrap();
    let ahead = Timestamp::now() + jiff::SignedDuration::from_hours(24);
    *w.script.progress.lock().unwrap() = Some(Progress::Succeeded {
        backup_ids: vec!["bk-1".into()],
        size_bytes: None,
        completed_at: Some(ahead),
    });
    w.reconcile("b").await.unwrap();
    let st = w.stored("b").status.unwrap();
    let completed: Timestamp = st.completed_at.unwrap().parse().unwrap();
    let started: Timestamp = st.started_at.unwrap().parse().unwrap();
    assert!(completed <= Timestamp::now(), "not in the future");
    assert!(completed >= started, "not before the start");
}
