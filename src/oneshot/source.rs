//! The source of a Backup or Restore: the rampart object it names, that object's vendor id,
//! and the provider configuration it lives on. One-shot kinds have no providerConfigRef of
//! their own: a backup is taken where its source is.

use std::sync::Arc;

use kube::ResourceExt;

use super::vendor::SourceObject;
use crate::api::{Policy, Strategy, Vault};
use crate::engine::context::Context;
use crate::engine::hub::ProviderKey;
use crate::engine::managed::Managed;
use crate::engine::refs::{RefKey, RefTarget};

/// A source found with its vendor id.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub object: SourceObject,
    pub id: String,
    pub provider: ProviderKey,
    /// `Vault/<name>`, for status and messages.
    pub label: String,
}

/// Why a source cannot be used yet. Not an error: the action waits, quietly, for the source.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotYet {
    #[error("{field}: {kind} {name} does not exist in this namespace")]
    Missing {
        field: &'static str,
        kind: &'static str,
        name: String,
    },
    #[error("{field}: {kind} {name} has no vendor id yet (it is not Ready)")]
    NoVendorId {
        field: &'static str,
        kind: &'static str,
        name: String,
    },
    #[error("{field}: {kind} {name} is being deleted")]
    Deleting {
        field: &'static str,
        kind: &'static str,
        name: String,
    },
}

/// Find `kind`/`name` in `ns` (from the operator's caches).
pub async fn resolve(
    ctx: &Context,
    ns: &str,
    kind: &'static str,
    name: &str,
    field: &'static str,
) -> Result<Result<Resolved, NotYet>, kube::Error> {
    let key = RefKey {
        kind,
        name: name.to_string(),
        field,
    };
    let found = ctx.lookup.get(ns, &key).await?;
    let missing = || NotYet::Missing {
        field,
        kind,
        name: name.to_string(),
    };
    let Some(RefTarget::Object { object, .. }) = found else {
        return Ok(Err(missing()));
    };
    let object = match kind {
        "Vault" => object.downcast::<Vault>().ok().map(SourceObject::Vault),
        "Policy" => object.downcast::<Policy>().ok().map(SourceObject::Policy),
        "Strategy" => object
            .downcast::<Strategy>()
            .ok()
            .map(SourceObject::Strategy),
        _ => None,
    };
    let Some(object) = object else {
        return Ok(Err(missing()));
    };
    Ok(of(object, ns, field))
}

fn of(object: SourceObject, ns: &str, field: &'static str) -> Result<Resolved, NotYet> {
    fn parts<K: Managed>(o: &Arc<K>, ns: &str) -> (Option<String>, ProviderKey, bool, String) {
        let provider = ProviderKey::for_ref(ns, &o.managed().provider_config_ref);
        let id = o
            .annotations()
            .get(crate::engine::annotations::EXTERNAL_NAME)
            .cloned();
        (
            id,
            provider,
            o.meta().deletion_timestamp.is_some(),
            o.name_any(),
        )
    }
    let (kind, (id, provider, deleting, name)) = match &object {
        SourceObject::Vault(o) => ("Vault", parts(o, ns)),
        SourceObject::Policy(o) => ("Policy", parts(o, ns)),
        SourceObject::Strategy(o) => ("Strategy", parts(o, ns)),
    };
    if deleting {
        return Err(NotYet::Deleting { field, kind, name });
    }
    let Some(id) = id else {
        return Err(NotYet::NoVendorId { field, kind, name });
    };
    Ok(Resolved {
        label: format!("{kind}/{name}"),
        object,
        id,
        provider,
    })
}
