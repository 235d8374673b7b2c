//! How an adapter asks for other objects of its kind to be reconciled soon. An adapter sees
//! one object, but some facts belong to several: FirewallRules of one Ideco section that ask
//! for different blocks conflict, and when one of them changes, the others' conditions (and a
//! create held back by the conflict) change with it. Without a wake-up they would learn it only
//! at their next poll, or after the ten-minute backoff of a terminal error.

use std::sync::Mutex;

/// A managed object of the kind being reconciled, by namespace and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectName {
    pub namespace: String,
    pub name: String,
}

impl ObjectName {
    /// Read `namespace/name` (neither part can hold a `/`).
    pub fn parse(s: &str) -> Option<ObjectName> {
        let (namespace, name) = s.split_once('/')?;
        Some(ObjectName {
            namespace: namespace.to_string(),
            name: name.to_string(),
        })
    }
}

/// Queues objects for a reconcile. The operator's kinds table implements it.
pub trait Waker: Send + Sync {
    fn wake(&self, kind: &'static str, objects: &[ObjectName]);
}

/// Wakes nobody: an engine without an operator around it.
pub struct NoWaker;

impl Waker for NoWaker {
    fn wake(&self, _kind: &'static str, _objects: &[ObjectName]) {}
}

/// Remembers what it was asked to wake, for tests (which reconcile those objects themselves).
#[derive(Default)]
pub struct RecordingWaker {
    woken: Mutex<Vec<(&'static str, ObjectName)>>,
}

impl RecordingWaker {
    /// Everything asked for since the last take, oldest first.
    pub fn take(&self) -> Vec<(&'static str, ObjectName)> {
        std::mem::take(&mut self.woken.lock().unwrap())
    }
}

impl Waker for RecordingWaker {
    fn wake(&self, kind: &'static str, objects: &[ObjectName]) {
        let mut woken = self.woken.lock().unwrap();
        woken.extend(objects.iter().map(|o| (kind, o.clone())));
    }
}

/// The waker as one adapter call holds it: it wakes objects of the kind being reconciled.
#[derive(Clone, Copy)]
pub struct Wake<'a> {
    kind: &'static str,
    waker: &'a dyn Waker,
}

impl<'a> Wake<'a> {
    pub fn new(kind: &'static str, waker: &'a dyn Waker) -> Self {
        Wake { kind, waker }
    }

    /// Wakes nobody.
    pub fn none() -> Wake<'static> {
        Wake {
            kind: "",
            waker: &NoWaker,
        }
    }

    /// Reconcile these objects of the same kind soon.
    pub fn others(&self, objects: &[ObjectName]) {
        if !objects.is_empty() {
            tracing::debug!(
                kind = self.kind,
                count = objects.len(),
                "waking related objects"
            );
            self.waker.wake(self.kind, objects);
        }
    }
}
