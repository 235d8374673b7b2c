//! What Cyber Backup sends, with its odd shapes: create answers `{"result": ["<uuid>@<type>"]}`;
//! policy lists wrap each item as `{"policy": {…}}` and get-by-id answers a one-item list;
//! policy applications come as an array of arrays and with two key casings (§2.9 upper-case
//! keys with lower-case values, §2.10.4.4 the reverse).

use serde::Deserialize;
use serde_json::Value;

/// One page of a list: its items (nested arrays flattened, wrappers removed) and the cursor of
/// the next page (`paging.cursors.after`; missing, `null` or `""` means the last page).
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub items: Vec<Value>,
    pub after: Option<String>,
}

/// Parse a list body. `wrapper` is the key each item is wrapped in (`policy`), if any; items
/// that are not wrapped are taken as they are.
pub fn parse_page(body: &[u8], wrapper: Option<&str>) -> Result<Page, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    let raw = match v.get("items") {
        Some(Value::Array(items)) => items.clone(),
        Some(Value::Null) | None => Vec::new(),
        Some(other) => return Err(format!("`items` is not an array but {}", kind_of(other))),
    };
    let mut items = Vec::with_capacity(raw.len());
    for item in raw {
        match item {
            // Policy applications: `items` is an array of arrays (§2.9.2.2, §2.10.4.4).
            Value::Array(inner) => items.extend(inner.into_iter().map(|i| unwrap_item(i, wrapper))),
            other => items.push(unwrap_item(other, wrapper)),
        }
    }
    let after = v
        .pointer("/paging/cursors/after")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    Ok(Page { items, after })
}

fn unwrap_item(item: Value, wrapper: Option<&str>) -> Value {
    match (wrapper, item) {
        (Some(key), Value::Object(mut map)) if map.contains_key(key) => {
            map.remove(key).unwrap_or(Value::Null)
        }
        (_, other) => other,
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The body of `POST /policies`: `{"result": ["<uuid>@<type>"]}`.
#[derive(Deserialize, Debug)]
struct CreateResult {
    result: Vec<String>,
}

/// The plan id out of a create response (the part before `@`).
pub fn parse_created_policy_id(body: &[u8]) -> Result<String, String> {
    let r: CreateResult =
        serde_json::from_slice(body).map_err(|e| format!("unexpected create response: {e}"))?;
    let first = r
        .result
        .into_iter()
        .next()
        .ok_or("create response has an empty `result`")?;
    let id = plan_id(&first);
    if id.is_empty() {
        return Err(format!("create response names no id: {first:?}"));
    }
    Ok(id)
}

/// A plan id as used in paths and as the external name: the UUID without the `@<type>` suffix
/// the create response carries, lower-cased (the vendor prints ids in both cases).
pub fn plan_id(reference: &str) -> String {
    reference
        .split('@')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// A protection plan (§2.10.3.2). The licence list is spelled `ls_features` in the table and
/// `is_features` in the examples.
#[derive(Deserialize, Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(rename = "type", default)]
    pub type_: String,
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub settings: Value,
    #[serde(default, alias = "ls_features")]
    pub is_features: Option<String>,
    #[serde(default)]
    pub plan_hash: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub deleted_at: Option<String>,
}

/// `{"id", "type"}` of an application's context.
#[derive(Deserialize, Debug, Clone, Default, PartialEq)]
pub struct ContextRef {
    pub id: String,
    #[serde(rename = "type", default)]
    pub type_: Option<String>,
}

/// `{"id", "type", "name"}` of an application's policy.
#[derive(Deserialize, Debug, Clone, Default, PartialEq)]
pub struct PolicyRef {
    pub id: String,
}

#[derive(Deserialize, Debug, Clone, Default, PartialEq)]
pub struct StateBlock {
    #[serde(default, alias = "STATE")]
    pub state: Option<String>,
    /// A percentage; a string in the document (`"20"`).
    #[serde(default, alias = "PROGRESS")]
    pub progress: Option<Value>,
}

/// A policy application (§2.9.2, §2.10.4.4), in either key casing.
#[derive(Deserialize, Debug, Clone, Default, PartialEq)]
pub struct Application {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default, alias = "DEPLOYMENT")]
    pub deployment: Option<StateBlock>,
    #[serde(default, alias = "RUNNING")]
    pub running: Option<StateBlock>,
    #[serde(default, alias = "STATUS")]
    pub status: Option<String>,
    #[serde(default)]
    pub last_success_time: Option<String>,
    #[serde(default)]
    pub last_runtime: Option<String>,
    #[serde(default)]
    pub next_run_time: Option<String>,
    /// Moves when the application changes, a run's end included (§2.9.2).
    #[serde(default)]
    pub updated_at: Option<String>,
    pub context: ContextRef,
    pub policy: PolicyRef,
    #[serde(default)]
    pub origin_contexts: Vec<String>,
}

impl Application {
    /// Deployment state, upper-cased (`DEPLOYED`).
    pub fn deployment_state(&self) -> Option<String> {
        upper(self.deployment.as_ref().and_then(|d| d.state.as_deref()))
    }

    /// Run state, upper-cased (`IDLE`, `RUNNING`).
    pub fn running_state(&self) -> Option<String> {
        upper(self.running.as_ref().and_then(|r| r.state.as_deref()))
    }

    /// Outcome, upper-cased (`OK`).
    pub fn status_text(&self) -> Option<String> {
        upper(self.status.as_deref())
    }

    pub fn progress(&self) -> Option<String> {
        match self.running.as_ref()?.progress.as_ref()? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    /// The contexts the plan was applied to for this application: `origin_contexts` (a group
    /// when the context is one of its members), else the context itself; lower-cased.
    pub fn applied_contexts(&self) -> Vec<String> {
        if self.origin_contexts.is_empty() {
            vec![self.context.id.to_ascii_lowercase()]
        } else {
            self.origin_contexts
                .iter()
                .map(|c| c.to_ascii_lowercase())
                .collect()
        }
    }
}

fn upper(s: Option<&str>) -> Option<String> {
    s.map(str::to_ascii_uppercase)
}

/// A resource (§2.10.1): a machine, a group, a database…
#[derive(Deserialize, Debug, Clone, Default, PartialEq)]
pub struct Resource {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub user_defined_name: Option<String>,
    #[serde(rename = "type", default)]
    pub type_: Option<String>,
    /// The agent on the resource's machine (`DELETE /backups` names it, §2.10.7.5).
    #[serde(default)]
    pub agent_id: Option<String>,
}

/// `scope` of a credentials record.
#[derive(Deserialize, Debug, Clone, Default, PartialEq)]
pub struct Scope {
    #[serde(rename = "type", default)]
    pub type_: String,
    #[serde(default)]
    pub subtype: Option<String>,
}

/// A credentials record as `GET /credentials/{id}` shows it (never with its secret).
#[derive(Deserialize, Debug, Clone, Default, PartialEq)]
pub struct Credentials {
    pub id: String,
    #[serde(default)]
    pub scope: Scope,
    #[serde(default)]
    pub description: Option<String>,
}

/// `{"id": …}` of `POST /credentials`.
#[derive(Deserialize, Debug)]
pub struct CreatedId {
    pub id: String,
}

/// The `vault` object embedded in an archive: the only place a vault appears as an entity.
#[derive(Deserialize, Debug, Clone, Default, PartialEq)]
pub struct ArchiveVault {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub storage_type: Option<String>,
}

/// A backup archive (§2.10.6).
#[derive(Deserialize, Debug, Clone, Default, PartialEq)]
pub struct Archive {
    pub id: String,
    /// The document's names end with the plan's id and `A` (`…_edd0ec02-…A`, L4349).
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub vault_id: Option<String>,
    #[serde(default)]
    pub size: Option<i64>,
    #[serde(default)]
    pub last_backup_created_at: Option<String>,
    #[serde(default)]
    pub deleted: bool,
    #[serde(default)]
    pub vault: Option<ArchiveVault>,
}

/// A backup (§2.10.7); its id field is `backup_id`.
#[derive(Deserialize, Debug, Clone, Default, PartialEq)]
pub struct Backup {
    pub backup_id: String,
    #[serde(default)]
    pub archive_id: Option<String>,
    #[serde(default)]
    pub vault_id: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub deleted: bool,
    /// Bytes the backup takes (§2.10.7.4).
    #[serde(default)]
    pub size: Option<i64>,
    /// The resources backed up (upper-case ids in the document).
    #[serde(default)]
    pub resource_ids: Vec<String>,
}

/// The `result` of a task: `code` (`OK` in the document) and a payload, a string or an object.
#[derive(Deserialize, Debug, Clone, Default, PartialEq)]
pub struct TaskResult {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub payload: Option<Value>,
}

/// The object a task works on (`context.persistent`, §2.10.8.3).
#[derive(Deserialize, Debug, Clone, Default, PartialEq)]
pub struct TaskPersistent {
    #[serde(default)]
    pub id: Option<String>,
}

#[derive(Deserialize, Debug, Clone, Default, PartialEq)]
pub struct TaskContext {
    #[serde(default)]
    pub persistent: Option<TaskPersistent>,
    #[serde(default)]
    pub machine_name: Option<String>,
}

/// A task (§2.10.8): `id` a numeric string, `state` (`COMPLETED`), `result`.
#[derive(Deserialize, Debug, Clone, Default, PartialEq)]
pub struct Task {
    pub id: String,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub result: Option<TaskResult>,
    #[serde(default)]
    pub started_at: Option<String>,
    #[serde(default)]
    pub completed_at: Option<String>,
    #[serde(default)]
    pub context: Option<TaskContext>,
}

/// The body of a 200 answer to apply, revoke or PATCH: non-critical warnings.
#[derive(Deserialize, Debug, Default)]
pub struct Issues {
    #[serde(default)]
    pub issues: Vec<Value>,
}

/// Warnings out of a 200 body, as short text.
pub fn issues_text(body: &[u8]) -> Vec<String> {
    serde_json::from_slice::<Issues>(body)
        .map(|i| {
            i.issues
                .into_iter()
                .map(|v| match v {
                    Value::String(s) => s,
                    Value::Object(ref m) => m
                        .get("message")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string()),
                    other => other.to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A timestamp worth reporting: the vendor fills unknown times with `1970-01-01T00:00:00Z` or
/// `0001-01-01T00:00:00Z` (§2.10.6 example).
pub fn meaningful_time(t: Option<&str>) -> Option<String> {
    let t = t?.trim();
    if t.is_empty() || t.starts_with("0001-") || t.starts_with("1970-01-01T00:00:00") {
        return None;
    }
    Some(t.to_string())
}

#[cfg(test)]
mod tests;
