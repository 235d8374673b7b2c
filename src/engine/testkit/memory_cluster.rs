//! An API server in memory for the reconciler's tests: objects as JSON, the same patch
//! semantics the reconciler relies on (merge-patched annotations, finalizer writes guarded by
//! resourceVersion and index, a resourceVersion bumped on every write, an object with a
//! deletion timestamp gone once its last finalizer goes), Events recorded, and faults on demand.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use kube::ResourceExt;
use serde_json::{Value, json};

use crate::engine::annotations::FINALIZER;
use crate::engine::cluster::{Cluster, ObjectAt};
use crate::engine::context::RefLookup;
use crate::engine::events::Event;
use crate::engine::hub::{CredentialSet, SecretString};
use crate::engine::managed::Managed;
use crate::engine::refs::{RefKey, RefTarget};

/// The kinds of write the reconciler makes, to count them and to fail one on demand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Write {
    Annotations,
    AddFinalizer,
    RemoveFinalizer,
    Status,
}

type Key = (String, String, String);

/// How to read a stored kind back as a reference target, and what it refers to.
#[derive(Clone, Copy)]
struct KindReader {
    target: fn(&Value) -> Option<RefTarget>,
    references: fn(&Value) -> Vec<RefKey>,
}

fn target_of<K: Managed>(v: &Value) -> Option<RefTarget> {
    serde_json::from_value::<K>(v.clone())
        .ok()
        .map(|k| RefTarget::object(Arc::new(k)))
}

fn references_of<K: Managed>(v: &Value) -> Vec<RefKey> {
    serde_json::from_value::<K>(v.clone())
        .map(|k| k.references())
        .unwrap_or_default()
}

#[derive(Default)]
struct State {
    objects: BTreeMap<Key, Value>,
    readers: HashMap<String, KindReader>,
    secrets: BTreeMap<(String, String), CredentialSet>,
    events: Vec<(String, Event)>,
    writes: Vec<(Write, String)>,
    faults: VecDeque<(Write, u16)>,
    uninstalling: bool,
    version: u64,
}

impl State {
    fn bump(&mut self) -> String {
        self.version += 1;
        self.version.to_string()
    }

    fn take_fault(&mut self, write: Write) -> Option<kube::Error> {
        let i = self.faults.iter().position(|(w, _)| *w == write)?;
        let (_, code) = self.faults.remove(i)?;
        // A 422 to a guarded write is its `test` failing, worded as kube-apiserver words it (the
        // error class tells it from a schema violation by that wording).
        let message = match code {
            422 => crate::engine::errors::PATCH_NOT_APPLICABLE,
            _ => "injected by the test",
        };
        Some(api_error(code, message))
    }

    fn object(&mut self, at: &ObjectAt) -> kube::Result<&mut Value> {
        let key = key_of(at);
        self.objects
            .get_mut(&key)
            .ok_or_else(|| api_error(404, &format!("{} {} not found", at.resource.kind, at.name)))
    }
}

fn key_of(at: &ObjectAt) -> Key {
    (
        at.resource.kind.clone(),
        at.namespace.clone(),
        at.name.clone(),
    )
}

/// The error the API server answers with.
pub fn api_error(code: u16, message: &str) -> kube::Error {
    let reason = match code {
        404 => "NotFound",
        409 => "Conflict",
        422 => "Invalid",
        _ => "InternalError",
    };
    kube::Error::Api(
        kube::core::Status::failure(message, reason)
            .with_code(code)
            .boxed(),
    )
}

#[derive(Default)]
pub struct MemoryCluster {
    state: Mutex<State>,
}

impl MemoryCluster {
    pub fn new() -> Arc<Self> {
        Arc::new(MemoryCluster::default())
    }

    /// Store an object as a user's `kubectl apply` would: uid, creation time and resourceVersion
    /// assigned, generation bumped when the spec changed. Returns what is stored.
    pub fn apply<K: Managed>(&self, obj: &K) -> K {
        let reader = KindReader {
            target: target_of::<K>,
            references: references_of::<K>,
        };
        self.apply_kind(K::KIND, reader, obj)
    }

    /// `apply` for a one-shot kind (Backup, Restore): found by lookups, refers to nothing
    /// the engine tracks.
    pub fn apply_oneshot<K>(&self, obj: &K) -> K
    where
        K: kube::Resource<DynamicType = ()>
            + serde::Serialize
            + serde::de::DeserializeOwned
            + Send
            + Sync
            + 'static,
    {
        let reader = KindReader {
            target: |v| {
                serde_json::from_value::<K>(v.clone())
                    .ok()
                    .map(|k| RefTarget::Object {
                        external_name: None,
                        object: Arc::new(k),
                    })
            },
            references: |_| Vec::new(),
        };
        self.apply_kind(&K::kind(&()), reader, obj)
    }

    fn apply_kind<K: kube::Resource + serde::Serialize + serde::de::DeserializeOwned>(
        &self,
        kind: &str,
        reader: KindReader,
        obj: &K,
    ) -> K {
        let mut st = self.state.lock().unwrap();
        st.readers.insert(kind.to_string(), reader);
        let key = (
            kind.to_string(),
            obj.namespace().unwrap_or_default(),
            obj.name_any(),
        );
        let mut value = serde_json::to_value(obj).expect("object serializes");
        let old = st.objects.get(&key).cloned();
        let generation = match &old {
            Some(o) if o["spec"] == value["spec"] => o["metadata"]["generation"].as_i64(),
            Some(o) => o["metadata"]["generation"].as_i64().map(|g| g + 1),
            None => Some(1),
        };
        let version = st.bump();
        let meta = &mut value["metadata"];
        meta["generation"] = json!(generation);
        meta["resourceVersion"] = json!(version);
        if meta["uid"].is_null() {
            meta["uid"] = json!(format!("uid-{}-{}", key.0, key.2));
        }
        // Set once, at the first apply, as the API server does (backup health counts from it).
        meta["creationTimestamp"] = match &old {
            Some(o) => o["metadata"]["creationTimestamp"].clone(),
            None => json!(
                jiff::Timestamp::now()
                    .round(jiff::Unit::Second)
                    .unwrap()
                    .to_string()
            ),
        };
        // Status belongs to the controller: a user's apply does not change it.
        if let Some(o) = old {
            value["status"] = o["status"].clone();
        }
        st.objects.insert(key, value.clone());
        serde_json::from_value(value).expect("stored object reads back")
    }

    /// The object as stored now.
    pub fn get<K: kube::Resource<DynamicType = ()> + serde::de::DeserializeOwned>(
        &self,
        namespace: &str,
        name: &str,
    ) -> Option<K> {
        let st = self.state.lock().unwrap();
        let key = (K::kind(&()).to_string(), namespace.into(), name.into());
        st.objects
            .get(&key)
            .map(|v| serde_json::from_value(v.clone()).expect("stored object reads back"))
    }

    /// `kubectl delete`: with finalizers the object gets a deletion timestamp; without, it goes.
    pub fn delete<K: kube::Resource<DynamicType = ()>>(&self, namespace: &str, name: &str) {
        let mut st = self.state.lock().unwrap();
        let key = (K::kind(&()).to_string(), namespace.into(), name.into());
        let version = st.bump();
        let Some(v) = st.objects.get_mut(&key) else {
            return;
        };
        let has_finalizers = v["metadata"]["finalizers"]
            .as_array()
            .is_some_and(|f| !f.is_empty());
        if has_finalizers {
            v["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
            v["metadata"]["resourceVersion"] = json!(version);
        } else {
            st.objects.remove(&key);
        }
    }

    /// A Secret that references of kind `Secret` resolve to.
    pub fn put_secret(&self, namespace: &str, name: &str, pairs: &[(&str, &str)]) {
        let values = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), SecretString::new(*v)))
            .collect();
        let set = CredentialSet {
            source: format!("{namespace}/{name}"),
            values,
        };
        self.state
            .lock()
            .unwrap()
            .secrets
            .insert((namespace.into(), name.into()), set);
    }

    /// Events published about the object `name`, oldest first.
    pub fn events(&self, name: &str) -> Vec<Event> {
        let st = self.state.lock().unwrap();
        st.events
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, e)| e.clone())
            .collect()
    }

    /// The reasons of those events.
    pub fn reasons(&self, name: &str) -> Vec<&'static str> {
        self.events(name).iter().map(|e| e.reason).collect()
    }

    /// Writes made to the object `name`, in order.
    pub fn writes(&self, name: &str) -> Vec<Write> {
        let st = self.state.lock().unwrap();
        st.writes
            .iter()
            .filter(|(_, n)| n == name)
            .map(|(w, _)| *w)
            .collect()
    }

    /// Forget the events and writes seen so far.
    pub fn clear_log(&self) {
        let mut st = self.state.lock().unwrap();
        st.events.clear();
        st.writes.clear();
    }

    /// The next write of this kind is refused with `code`.
    pub fn fail_next(&self, write: Write, code: u16) {
        self.state.lock().unwrap().faults.push_back((write, code));
    }

    /// Whether the CRDs are being uninstalled.
    pub fn set_uninstalling(&self, uninstalling: bool) {
        self.state.lock().unwrap().uninstalling = uninstalling;
    }

    fn write(
        &self,
        at: &ObjectAt,
        write: Write,
        change: impl FnOnce(&mut Value) -> kube::Result<()>,
    ) -> kube::Result<()> {
        let mut st = self.state.lock().unwrap();
        if let Some(e) = st.take_fault(write) {
            return Err(e);
        }
        let version = st.bump();
        let obj = st.object(at)?;
        change(obj)?;
        obj["metadata"]["resourceVersion"] = json!(version);
        let gone = !obj["metadata"]["deletionTimestamp"].is_null()
            && obj["metadata"]["finalizers"]
                .as_array()
                .is_none_or(|f| f.is_empty());
        if gone {
            st.objects.remove(&key_of(at));
        }
        st.writes.push((write, at.name.clone()));
        Ok(())
    }
}

fn finalizers_of(obj: &Value) -> Vec<String> {
    obj["metadata"]["finalizers"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[async_trait]
impl Cluster for MemoryCluster {
    async fn patch_annotations(
        &self,
        at: &ObjectAt,
        changes: &[(&str, Option<&str>)],
    ) -> kube::Result<()> {
        self.write(at, Write::Annotations, |obj| {
            let meta = &mut obj["metadata"];
            if !meta["annotations"].is_object() {
                meta["annotations"] = json!({});
            }
            let map = meta["annotations"].as_object_mut().expect("an object");
            for (k, v) in changes {
                match v {
                    Some(v) => map.insert(k.to_string(), json!(v)),
                    None => map.remove(*k),
                };
            }
            Ok(())
        })
    }

    async fn annotate_guarded(
        &self,
        at: &ObjectAt,
        key: &str,
        value: &str,
        resource_version: &str,
        _has_annotations: bool,
    ) -> kube::Result<()> {
        self.write(at, Write::Annotations, |obj| {
            if obj["metadata"]["resourceVersion"] != json!(resource_version) {
                return Err(api_error(422, crate::engine::errors::PATCH_NOT_APPLICABLE));
            }
            let meta = &mut obj["metadata"];
            if !meta["annotations"].is_object() {
                meta["annotations"] = json!({});
            }
            meta["annotations"][key] = json!(value);
            Ok(())
        })
    }

    async fn add_finalizer(
        &self,
        at: &ObjectAt,
        _finalizers: &[String],
        resource_version: &str,
    ) -> kube::Result<()> {
        self.write(at, Write::AddFinalizer, |obj| {
            // The API server answers a failed JSON-patch `test` with 422 Invalid.
            if obj["metadata"]["resourceVersion"] != json!(resource_version) {
                return Err(api_error(422, crate::engine::errors::PATCH_NOT_APPLICABLE));
            }
            let mut finalizers = finalizers_of(obj);
            finalizers.push(FINALIZER.to_string());
            obj["metadata"]["finalizers"] = json!(finalizers);
            Ok(())
        })
    }

    async fn remove_finalizer(&self, at: &ObjectAt, finalizers: &[String]) -> kube::Result<()> {
        let Some(i) = finalizers.iter().position(|f| f == FINALIZER) else {
            return Ok(());
        };
        let result = self.write(at, Write::RemoveFinalizer, |obj| {
            let mut now = finalizers_of(obj);
            if now.get(i).map(String::as_str) != Some(FINALIZER) {
                return Err(api_error(422, crate::engine::errors::PATCH_NOT_APPLICABLE));
            }
            now.remove(i);
            obj["metadata"]["finalizers"] = json!(now);
            Ok(())
        });
        match result {
            Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
            other => other,
        }
    }

    async fn apply_status(&self, at: &ObjectAt, status: Value) -> kube::Result<()> {
        let result = self.write(at, Write::Status, |obj| {
            obj["status"] = status;
            Ok(())
        });
        match result {
            Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
            other => other,
        }
    }

    async fn publish(&self, at: &ObjectAt, event: &Event) {
        self.state
            .lock()
            .unwrap()
            .events
            .push((at.name.clone(), event.clone()));
    }

    async fn uninstalling(&self, _at: &ObjectAt) -> kube::Result<bool> {
        Ok(self.state.lock().unwrap().uninstalling)
    }
}

#[async_trait]
impl RefLookup for MemoryCluster {
    async fn get(&self, namespace: &str, key: &RefKey) -> Result<Option<RefTarget>, kube::Error> {
        let st = self.state.lock().unwrap();
        if key.kind == "Secret" {
            let found = st.secrets.get(&(namespace.into(), key.name.clone()));
            return Ok(found.cloned().map(RefTarget::Secret));
        }
        let stored = st
            .objects
            .get(&(key.kind.to_string(), namespace.into(), key.name.clone()));
        let reader = st.readers.get(key.kind);
        Ok(stored.zip(reader).and_then(|(v, r)| (r.target)(v)))
    }

    fn referrers(&self, namespace: &str, kind: &str, name: &str) -> Vec<String> {
        let st = self.state.lock().unwrap();
        st.objects
            .iter()
            .filter(|((_, ns, _), v)| {
                ns == namespace && v["metadata"]["deletionTimestamp"].is_null()
            })
            .filter(|((k, _, _), v)| {
                st.readers.get(k).is_some_and(|r| {
                    (r.references)(v)
                        .iter()
                        .any(|r| r.kind == kind && r.name == name)
                })
            })
            .map(|((k, _, n), _)| format!("{k}/{n}"))
            .collect()
    }
}
