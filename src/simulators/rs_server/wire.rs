//! The JSON shapes of the document's examples for projects and servers, including the
//! OpenStack objects (`os_project`, `os_server`) that `with_os_object=true` adds.

use serde_json::{Value, json};

use super::state::{Project, Server, TrsSettings};

/// Keystone and Nova hosts in the links of OpenStack objects, as in the document's examples.
const KEYSTONE: &str = "http://controller:5000";
const NOVA: &str = "http://controller:8774";

/// The fields of a project every project response has (`GET /v1/projects/` items).
fn project_core(p: &Project, t: &TrsSettings) -> Value {
    json!({
        "id": p.id,
        "image_id": t.image_id,
        "flavor_id": t.flavor_id,
        "network_id": t.network_id,
        "availability_zone": t.availability_zone,
        "operation_mode": t.operation_mode,
        "user_volume_enabled": t.user_volume_enabled,
        "volume_size": t.volume_size,
        "volume_type_id": t.volume_type_id,
    })
}

/// A project as listed; `os_project` only when asked for.
pub fn project_summary(p: &Project, t: &TrsSettings, with_os_object: bool) -> Value {
    let mut v = project_core(p, t);
    if with_os_object {
        v["os_project"] = os_project(p, t);
    }
    v
}

/// `GET /v1/projects/{id}`: the summary plus script, reserve and name template.
pub fn project_detail(p: &Project, t: &TrsSettings, with_os_object: bool) -> Value {
    let mut v = project_summary(p, t, with_os_object);
    v["instance_init_script"] = json!(t.instance_init_script);
    v["min_reserve_vm"] = json!(t.min_reserve_vm);
    v["instance_name_pattern"] = json!(t.instance_name_pattern);
    v
}

/// `PUT /v1/projects/{id}` response.
pub fn project_updated(p: &Project, t: &TrsSettings) -> Value {
    let mut v = project_core(p, t);
    v["instance_init_script"] = json!(t.instance_init_script);
    v
}

/// The Keystone project with the TRS attributes stored on it.
fn os_project(p: &Project, t: &TrsSettings) -> Value {
    json!({
        "availability_zone": t.availability_zone,
        "description": p.description,
        "domain_id": p.domain_id,
        "enabled": p.enabled,
        "flavor_id": t.flavor_id,
        "id": p.id,
        "image_id": t.image_id,
        "is_domain": false,
        "links": { "self": format!("{KEYSTONE}/v3/projects/{}", p.id) },
        "name": p.name,
        "network_id": t.network_id,
        "operation_mode": t.operation_mode,
        "parent_id": p.domain_id,
        "project_type": "TRS",
        "tags": t.tags,
    })
}

/// A server as listed and as `PUT /v1/servers/{id}` returns it; `os_server` only when asked.
pub fn server_summary(s: &Server, with_os_object: bool) -> Value {
    let mut v = json!({
        "id": s.id,
        "project_id": s.project_id,
        "assigned": !(s.users.is_empty() && s.groups.is_empty()),
        "users": s.users,
        "groups": s.groups,
    });
    if with_os_object {
        v["os_server"] = os_server(s);
    }
    v
}

/// The Nova server object, shaped like the document's example.
fn os_server(s: &Server) -> Value {
    let vm_state = match s.status.as_str() {
        "SHUTOFF" => "stopped",
        "ERROR" => "error",
        "BUILD" => "building",
        "DELETED" => "deleted",
        "SOFT_DELETED" => "soft-delete",
        _ => "active",
    };
    let attached: Vec<Value> = s
        .volumes_attached
        .iter()
        .map(|id| json!({ "id": id }))
        .collect();
    json!({
        "OS-DCF:diskConfig": "MANUAL",
        "OS-EXT-AZ:availability_zone": "nova",
        "OS-EXT-SRV-ATTR:host": null,
        "OS-EXT-SRV-ATTR:hostname": s.name,
        "OS-EXT-SRV-ATTR:reservation_id": s.reservation_id,
        "OS-EXT-STS:power_state": if s.status == "ACTIVE" { 1 } else { 0 },
        "OS-EXT-STS:task_state": null,
        "OS-EXT-STS:vm_state": vm_state,
        "accessIPv4": "",
        "accessIPv6": "",
        "addresses": {},
        "created": s.created,
        "description": s.description,
        "flavor": { "disk": 0, "ephemeral": 0, "extra_specs": {}, "original_name": "c1_r1G_d0", "ram": 1024, "swap": 0, "vcpus": 1 },
        "id": s.id,
        "links": [{ "href": format!("{NOVA}/v2.1/{}/servers/{}", s.project_id, s.id), "rel": "self" }],
        "locked": false,
        "metadata": {},
        "name": s.name,
        "os-extended-volumes:volumes_attached": attached,
        "progress": 0,
        "status": s.status,
        "tags": ["trs"],
        "tenant_id": s.project_id,
        "updated": s.created,
    })
}

/// A query flag: the document's examples write `true`; Python services also take `True`/`1`.
pub fn flag(v: Option<&String>) -> Option<bool> {
    v.map(|s| matches!(s.as_str(), "true" | "True" | "1"))
}

/// A body boolean the document sends as a bool or as the strings `"True"`/`"False"`.
pub fn lenient_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}
