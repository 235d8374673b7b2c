//! The reconciler's Kubernetes side: the few writes it makes to its own objects (finalizer,
//! annotations, status) and the Events it publishes. Behind one small trait so that the
//! reconciler runs against a real API server (`KubeCluster`) or in memory
//! (`testkit::MemoryCluster`) with the same code.
//!
//! The trait speaks JSON and `ObjectAt` rather than typed objects, so it stays object-safe and
//! one value serves every kind.

use async_trait::async_trait;
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams};
use kube::{Resource, ResourceExt};
use serde_json::{Value, json};

use super::annotations::FINALIZER;
use super::events::{Event, EventPublisher};

/// Field manager of every write rampart makes.
pub const FIELD_MANAGER: &str = "rampart";

/// Which object a write goes to, and who it is (for the Events about it).
#[derive(Clone, Debug)]
pub struct ObjectAt {
    pub resource: ApiResource,
    pub namespace: String,
    pub name: String,
    pub uid: Option<String>,
}

impl ObjectAt {
    pub fn of<K: Resource<DynamicType = ()>>(obj: &K) -> Self {
        ObjectAt {
            resource: ApiResource::erase::<K>(&()),
            namespace: obj.namespace().unwrap_or_default(),
            name: obj.name_any(),
            uid: obj.meta().uid.clone(),
        }
    }

    /// The object as an Event's `regarding`.
    pub fn reference(&self) -> ObjectReference {
        ObjectReference {
            api_version: Some(self.resource.api_version.clone()),
            kind: Some(self.resource.kind.clone()),
            namespace: Some(self.namespace.clone()),
            name: Some(self.name.clone()),
            uid: self.uid.clone(),
            ..Default::default()
        }
    }

    /// `plural.group`: the name of the object's CustomResourceDefinition.
    pub fn crd_name(&self) -> String {
        format!("{}.{}", self.resource.plural, self.resource.group)
    }
}

/// Everything the reconciler asks of Kubernetes.
#[async_trait]
pub trait Cluster: Send + Sync {
    /// Set (`Some`) or remove (`None`) annotations in one merge patch; other keys untouched.
    async fn patch_annotations(
        &self,
        at: &ObjectAt,
        changes: &[(&str, Option<&str>)],
    ) -> kube::Result<()>;

    /// Set one annotation, guarded by `resource_version`: refused with 422 when the object
    /// changed since the reconciler read it. A one-shot action claims its start this way, so a
    /// reconcile working from a stale cache can never start it a second time.
    /// `has_annotations`: whether the object as read had any (the guard makes that still true).
    async fn annotate_guarded(
        &self,
        at: &ObjectAt,
        key: &str,
        value: &str,
        resource_version: &str,
        has_annotations: bool,
    ) -> kube::Result<()>;

    /// Add rampart's finalizer to `finalizers` (the object's list as the reconciler read it),
    /// guarded by `resource_version`: a concurrent change is refused, never overwritten.
    async fn add_finalizer(
        &self,
        at: &ObjectAt,
        finalizers: &[String],
        resource_version: &str,
    ) -> kube::Result<()>;

    /// Remove rampart's finalizer, guarded by a test that its index still holds it. An object
    /// already gone is fine.
    async fn remove_finalizer(&self, at: &ObjectAt, finalizers: &[String]) -> kube::Result<()>;

    /// Write the whole status (fields rampart no longer sets disappear). An object already gone
    /// is fine.
    async fn apply_status(&self, at: &ObjectAt, status: Value) -> kube::Result<()>;

    /// Publish an Event about the object. Failing to publish never fails a reconcile.
    async fn publish(&self, at: &ObjectAt, event: &Event);

    /// Whether the object's CustomResourceDefinition is being deleted (an uninstall).
    async fn uninstalling(&self, at: &ObjectAt) -> kube::Result<bool>;
}

/// The JSON patch that adds rampart's finalizer after checking the resourceVersion.
pub fn add_finalizer_patch(finalizers: &[String], resource_version: &str) -> Value {
    let add = if finalizers.is_empty() {
        json!({"op": "add", "path": "/metadata/finalizers", "value": [FINALIZER]})
    } else {
        json!({"op": "add", "path": "/metadata/finalizers/-", "value": FINALIZER})
    };
    json!([{"op": "test", "path": "/metadata/resourceVersion", "value": resource_version}, add])
}

/// The JSON patch that sets one annotation after checking the resourceVersion. Adding the
/// whole map would replace annotations set since, so the map is created only when missing.
pub fn annotate_guarded_patch(
    has_annotations: bool,
    key: &str,
    value: &str,
    resource_version: &str,
) -> Value {
    let set = if has_annotations {
        let pointer = key.replace('~', "~0").replace('/', "~1");
        json!({"op": "add", "path": format!("/metadata/annotations/{pointer}"), "value": value})
    } else {
        json!({"op": "add", "path": "/metadata/annotations", "value": {key: value}})
    };
    json!([{"op": "test", "path": "/metadata/resourceVersion", "value": resource_version}, set])
}

/// The JSON patch that removes rampart's finalizer by index, if the list holds it.
pub fn remove_finalizer_patch(finalizers: &[String]) -> Option<Value> {
    let i = finalizers.iter().position(|f| f == FINALIZER)?;
    let path = format!("/metadata/finalizers/{i}");
    Some(json!([{"op": "test", "path": path, "value": FINALIZER}, {"op": "remove", "path": path}]))
}

/// The merge patch that sets or removes annotations.
pub fn annotations_patch(changes: &[(&str, Option<&str>)]) -> Value {
    let map: serde_json::Map<String, Value> = changes
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                v.map_or(Value::Null, |s| Value::String(s.into())),
            )
        })
        .collect();
    json!({"metadata": {"annotations": map}})
}

/// The real API server.
pub struct KubeCluster {
    client: kube::Client,
    events: std::sync::Arc<EventPublisher>,
}

impl KubeCluster {
    pub fn new(client: kube::Client, events: std::sync::Arc<EventPublisher>) -> Self {
        KubeCluster { client, events }
    }

    fn api(&self, at: &ObjectAt) -> Api<DynamicObject> {
        Api::namespaced_with(self.client.clone(), &at.namespace, &at.resource)
    }

    async fn json_patch(&self, at: &ObjectAt, ops: Value) -> kube::Result<()> {
        let patch: json_patch::Patch = serde_json::from_value(ops).expect("well-formed JSON patch");
        self.api(at)
            .patch(&at.name, &PatchParams::default(), &Patch::<()>::Json(patch))
            .await
            .map(drop)
    }
}

/// A 404: the object went away under us (deleted once its last finalizer went).
fn gone_is_fine(r: kube::Result<()>) -> kube::Result<()> {
    match r {
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        other => other,
    }
}

#[async_trait]
impl Cluster for KubeCluster {
    async fn patch_annotations(
        &self,
        at: &ObjectAt,
        changes: &[(&str, Option<&str>)],
    ) -> kube::Result<()> {
        self.api(at)
            .patch(
                &at.name,
                &PatchParams::default(),
                &Patch::Merge(annotations_patch(changes)),
            )
            .await
            .map(drop)
    }

    async fn add_finalizer(
        &self,
        at: &ObjectAt,
        finalizers: &[String],
        resource_version: &str,
    ) -> kube::Result<()> {
        self.json_patch(at, add_finalizer_patch(finalizers, resource_version))
            .await
    }

    async fn annotate_guarded(
        &self,
        at: &ObjectAt,
        key: &str,
        value: &str,
        resource_version: &str,
        has_annotations: bool,
    ) -> kube::Result<()> {
        let patch = annotate_guarded_patch(has_annotations, key, value, resource_version);
        self.json_patch(at, patch).await
    }

    async fn remove_finalizer(&self, at: &ObjectAt, finalizers: &[String]) -> kube::Result<()> {
        match remove_finalizer_patch(finalizers) {
            Some(ops) => gone_is_fine(self.json_patch(at, ops).await),
            None => Ok(()),
        }
    }

    async fn apply_status(&self, at: &ObjectAt, status: Value) -> kube::Result<()> {
        let body = json!({
            "apiVersion": at.resource.api_version,
            "kind": at.resource.kind,
            "status": status,
        });
        let pp = PatchParams::apply(FIELD_MANAGER).force();
        gone_is_fine(
            self.api(at)
                .patch_status(&at.name, &pp, &Patch::Apply(body))
                .await
                .map(drop),
        )
    }

    async fn publish(&self, at: &ObjectAt, event: &Event) {
        if let Err(e) = self.events.publish(&at.reference(), event).await {
            tracing::debug!(error = %e, "could not publish event");
        }
    }

    async fn uninstalling(&self, at: &ObjectAt) -> kube::Result<bool> {
        let crds: Api<CustomResourceDefinition> = Api::all(self.client.clone());
        match crds.get_opt(&at.crd_name()).await? {
            Some(crd) => Ok(crd.metadata.deletion_timestamp.is_some()),
            // Gone already: certainly an uninstall.
            None => Ok(true),
        }
    }
}
