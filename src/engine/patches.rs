//! The few writes the engine makes to its own objects: finalizer, annotations, status. Each is
//! a small, targeted patch so that it never overwrites a user's concurrent change.

use kube::api::{Api, Patch, PatchParams};
use kube::{Resource, ResourceExt};
use serde_json::{Value, json};

use super::annotations::FINALIZER;
use super::managed::Managed;
use crate::api::common::ManagedStatus;

/// Field manager of every write rampart makes.
pub const FIELD_MANAGER: &str = "rampart";

pub fn has_finalizer<K: Resource>(obj: &K) -> bool {
    obj.finalizers().iter().any(|f| f == FINALIZER)
}

/// Add rampart's finalizer, guarded by the resourceVersion (a JSON patch `test`), so a
/// concurrent change to the finalizer list is retried rather than overwritten.
pub async fn add_finalizer<K: Managed>(api: &Api<K>, obj: &K) -> kube::Result<K> {
    let rv = obj.resource_version().unwrap_or_default();
    let ops = if obj.finalizers().is_empty() {
        json!([
            {"op": "test", "path": "/metadata/resourceVersion", "value": rv},
            {"op": "add", "path": "/metadata/finalizers", "value": [FINALIZER]}
        ])
    } else {
        json!([
            {"op": "test", "path": "/metadata/resourceVersion", "value": rv},
            {"op": "add", "path": "/metadata/finalizers/-", "value": FINALIZER}
        ])
    };
    json_patch(api, &obj.name_any(), ops).await
}

/// Remove rampart's finalizer (by index, with a `test` that the index still holds it).
pub async fn remove_finalizer<K: Managed>(api: &Api<K>, obj: &K) -> kube::Result<()> {
    let Some(i) = obj.finalizers().iter().position(|f| f == FINALIZER) else {
        return Ok(());
    };
    let path = format!("/metadata/finalizers/{i}");
    let ops =
        json!([{"op": "test", "path": path, "value": FINALIZER}, {"op": "remove", "path": path}]);
    match json_patch(api, &obj.name_any(), ops).await {
        Ok(_) => Ok(()),
        // Already gone: the object was deleted once its last finalizer went.
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        Err(e) => Err(e),
    }
}

async fn json_patch<K: Managed>(api: &Api<K>, name: &str, ops: Value) -> kube::Result<K> {
    let patch: json_patch::Patch = serde_json::from_value(ops).expect("static JSON patch");
    api.patch(name, &PatchParams::default(), &Patch::<()>::Json(patch))
        .await
}

/// Set (Some) or remove (None) annotations in one merge patch; other keys are untouched.
pub async fn set_annotations<K: Managed>(
    api: &Api<K>,
    name: &str,
    changes: &[(&str, Option<&str>)],
) -> kube::Result<K> {
    let mut map = serde_json::Map::new();
    for (k, v) in changes {
        map.insert(
            (*k).to_string(),
            v.map(|s| Value::String(s.to_string()))
                .unwrap_or(Value::Null),
        );
    }
    let body = json!({"metadata": {"annotations": map}});
    api.patch(name, &PatchParams::default(), &Patch::Merge(body))
        .await
}

/// Write the whole status with server-side apply, so fields rampart no longer sets (cleared
/// drift, a resolved Stalled condition) disappear instead of lingering.
pub async fn apply_status<K, A>(
    api: &Api<K>,
    name: &str,
    status: &ManagedStatus<A>,
) -> kube::Result<()>
where
    K: Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
    A: serde::Serialize,
{
    let body = json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "status": status,
    });
    let pp = PatchParams::apply(FIELD_MANAGER).force();
    match api.patch_status(name, &pp, &Patch::Apply(body)).await {
        Ok(_) => Ok(()),
        // The object went away under us (deleted with its finalizer removed): nothing to report.
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        Err(e) => Err(e),
    }
}
