//! The life of one named RuBackup object (pool, strategy, global schedule rule), shared by the
//! adapters: compare it field by field, create it and find its id by name, PATCH only what
//! differs, delete it (finding it, and whose it is: `ownership`).

use jiff::tz::TimeZone;
use kube::ResourceExt;
use serde_json::{Map, Value, json};

use super::backend::{Backend, Cached};
use super::client::Item;
use super::fields::{self, Desired, parse_datetime};
use super::interval::Interval;
use super::ownership;
use crate::api::common::Drift;
use crate::engine::annotations::CREATE_PENDING;
use crate::engine::external::{Deleted, ExternalError, ExternalResult, Readiness};
use crate::engine::managed::Managed;
use crate::vendor::error::{ErrorKind, VendorError};

/// Keys that RuBackup takes beside the wrapped object, not inside it (§8.7.3, §8.8.1).
const EXTENSION_KEYS: [&str; 2] = ["module_extensions", "common_modules_extensions"];

/// A request body: `{"data": {...}}`, or `{"data": {"<wrapper>": {...}, "module_extensions":
/// ..., "common_modules_extensions": ...}}` for rules.
pub fn body(wrapper: Option<&str>, fields: Map<String, Value>) -> Value {
    let Some(wrapper) = wrapper else {
        return json!({ "data": fields });
    };
    let (extensions, inner): (Map<String, Value>, Map<String, Value>) = fields
        .into_iter()
        .partition(|(k, _)| EXTENSION_KEYS.contains(&k.as_str()));
    let mut data = Map::new();
    data.insert(wrapper.to_string(), Value::Object(inner));
    data.extend(extensions);
    json!({ "data": data })
}

/// An interval from the spec at `path`, in PostgreSQL's own spelling.
pub fn interval(text: &str, path: &str) -> ExternalResult<Value> {
    Interval::parse(text)
        .map(|iv| Value::from(iv.to_postgres()))
        .map_err(|e| ExternalError::invalid(path, e.to_string()))
}

/// A date-time from the spec at `path`, written as the document writes them
/// (`2024-08-13T14:33:31.359954`, L3786): seconds, and a fraction only as six digits
/// (microseconds, finer digits dropped). A server on Python's older `fromisoformat` takes a
/// fraction of 3 or 6 digits only, so `.5` or nanoseconds would be refused.
pub fn datetime(text: &str, path: &str) -> ExternalResult<Value> {
    parse_datetime(text)
        .map(|dt| {
            let seconds = dt.strftime("%Y-%m-%dT%H:%M:%S").to_string();
            match dt.subsec_nanosecond() / 1000 {
                0 => Value::from(seconds),
                micros => Value::from(format!("{seconds}.{micros:06}")),
            }
        })
        .ok_or_else(|| {
            ExternalError::invalid(
                path,
                format!("'{text}' is not a date-time such as 2025-01-01T00:00:00"),
            )
        })
}

/// Drift between the desired fields and the object.
pub fn drift(desired: &[Desired], item: &Item) -> Vec<Drift> {
    fields::drift(&fields::changed(desired, item), item)
}

/// PATCH the fields of `item` (this object's, see `ownership::owned`) that differ and can
/// change, read the object back, and refuse (naming the field) what RuBackup cannot change
/// after creation.
pub async fn update(
    backend: &Backend,
    c: &Cached,
    id: &str,
    wrapper: Option<&str>,
    desired: &[Desired],
    item: &Item,
) -> ExternalResult<()> {
    let changed = fields::changed(desired, item);
    let patch = fields::patch(&changed, item);
    if !patch.is_empty() {
        tracing::info!(operation = %format!("PATCH {}/{{id}}", c.kind.path), id, fields = ?patch.keys().collect::<Vec<_>>(), "correcting drift");
        backend
            .client
            .patch(c.kind.path, id, &body(wrapper, patch))
            .await?;
        backend.reread(c, id).await?;
    }
    match changed.iter().find(|d| !d.mutable) {
        Some(d) => Err(ExternalError::invalid(
            &d.path,
            format!(
                "RuBackup cannot change '{}' after creation (it is {}, the spec asks for {}); delete and re-create the object to change it",
                d.key,
                item.get(&d.key).cloned().unwrap_or(Value::Null),
                d.value
            ),
        )),
        None => Ok(()),
    }
}

/// Whether this create follows one whose answer never came (the create-pending mark was
/// there when the pass began).
pub fn follows_lost_create<K: Managed>(cr: &K) -> bool {
    cr.annotations().contains_key(CREATE_PENDING)
}

/// Create the object and find its id by name. `after_lost`: see [`follows_lost_create`].
pub async fn create(
    backend: &Backend,
    c: &Cached,
    name: &str,
    wrapper: Option<&str>,
    desired: &[Desired],
    after_lost: bool,
) -> ExternalResult<(String, Item)> {
    tracing::info!(operation = %format!("POST {}", c.kind.path), name, "creating");
    let sent = backend
        .client
        .create(c.kind.path, &body(wrapper, fields::create_body(desired)))
        .await;
    match sent {
        // The listing just before showed no object of this name, and now RuBackup has one: after
        // an unanswered create, that is most likely rampart's own, landed late. A refusal would
        // clear the create-pending mark and leave rampart's own object to be found by its name
        // alone, which rampart does not adopt; as a passing failure the mark stays, and the
        // next pass looks for the object again.
        Err(e) if after_lost && e.kind == ErrorKind::Conflict => Err(VendorError {
            kind: ErrorKind::Unavailable,
            message: format!(
                "{}; the create rampart sent before was not answered and may have landed late: rampart looks for it before anything else",
                e.message
            ),
            ..e
        }
        .into()),
        sent => {
            sent?;
            // RuBackup made the object: a failure to find its id (a throttled or cut listing)
            // is no refusal, and must leave the create-pending mark for the next pass.
            backend
                .created(c, name)
                .await
                .map_err(|e| ExternalError::from(e).after_create())
        }
    }
}

/// Delete the object named `name` at `id`; already gone counts as deleted, and so does a
/// stranger at the id (left alone, see `ownership::deletable`).
pub async fn delete(
    backend: &Backend,
    c: &Cached,
    id: &str,
    name: &str,
) -> ExternalResult<Deleted> {
    if ownership::deletable(backend, c, id, name).await?.is_none() {
        return Ok(Deleted::Gone);
    }
    tracing::info!(operation = %format!("DELETE {}/{{id}}", c.kind.path), id, "deleting");
    backend.delete(c, id).await?;
    Ok(Deleted::Gone)
}

/// Whether the object's validity window is over, in the server's time zone.
pub fn validity(item: &Item, server_tz: &str) -> Readiness {
    let end = item
        .get("validity_end_period")
        .and_then(Value::as_str)
        .and_then(parse_datetime);
    let now = TimeZone::get(server_tz).map(|tz| jiff::Timestamp::now().to_zoned(tz).datetime());
    match (end, now) {
        (Some(end), Ok(now)) if end < now => Readiness::Unavailable(format!(
            "its validity ended at {end} (server time); RuBackup no longer runs it: move spec validity.end"
        )),
        _ => Readiness::Available,
    }
}

/// A string field of the object, for status.
pub fn text(item: &Item, key: &str) -> Option<String> {
    match item.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_wrap_like_the_document() {
        let fields: Map<String, Value> =
            json!({"name": "n", "module_extensions": {"parameters": {}}})
                .as_object()
                .unwrap()
                .clone();
        assert_eq!(
            body(Some("global_schedule"), fields.clone()),
            json!({"data": {"global_schedule": {"name": "n"}, "module_extensions": {"parameters": {}}}})
        );
        assert_eq!(
            body(None, fields),
            json!({"data": {"name": "n", "module_extensions": {"parameters": {}}}})
        );
    }

    #[test]
    fn spec_values_are_checked_and_canonical() {
        assert_eq!(interval("1 Years", "p").unwrap(), json!("1 year"));
        assert!(
            matches!(interval("soon", "spec.x").unwrap_err(), ExternalError::InvalidSpec { field, .. } if field == "spec.x")
        );
        assert_eq!(
            datetime("2025-01-01", "p").unwrap(),
            json!("2025-01-01T00:00:00")
        );
        assert!(datetime("tomorrow", "p").is_err());
        assert_eq!(
            datetime("2025-01-01T00:00:00.5", "p").unwrap(),
            json!("2025-01-01T00:00:00.500000")
        );
        assert_eq!(
            datetime("2025-01-01 00:00:00.123456789", "p").unwrap(),
            json!("2025-01-01T00:00:00.123456")
        );
    }

    #[test]
    fn an_ended_validity_makes_the_object_unavailable() {
        let ended: Item = json!({"validity_end_period": "2001-01-01T00:00:00"})
            .as_object()
            .unwrap()
            .clone();
        assert!(matches!(validity(&ended, "UTC"), Readiness::Unavailable(_)));
        let open: Item = json!({"validity_end_period": "2999-01-01T00:00:00"})
            .as_object()
            .unwrap()
            .clone();
        assert_eq!(validity(&open, "UTC"), Readiness::Available);
        assert_eq!(validity(&Item::new(), "UTC"), Readiness::Available);
    }
}
