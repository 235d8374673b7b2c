//! Pools named by reference. RuBackup bodies name pools (`pool_id: "Default"`); a spec may name
//! one directly or through a Vault of the same provider (`vaultRef`). A Vault's external name
//! is its pool's id, so the pool is read from the pool collection at that id; it is the Vault's
//! pool only if it has the name the Vault asks for (RuBackup hands out ids again after a reset,
//! and a stranger's pool at the id must not receive this object's backups). A missing or
//! foreign pool is reported, and the reference waits for the Vault to find its own.

use super::backend::{Backend, item_name};
use crate::api::common::LocalObjectRef;
use crate::api::common::ProviderConfigRef;
use crate::engine::external::{CallContext, ExternalError, ExternalResult};
use crate::engine::refs::RefKey;

/// A pool given as a name or as a Vault reference at spec path `field`.
pub struct PoolChoice<'a> {
    pub pool: Option<&'a String>,
    pub vault_ref: Option<&'a LocalObjectRef>,
    /// Spec path of the `vaultRef` (as listed by `Managed::references`).
    pub field: &'static str,
}

/// The pool name to send, or None when the spec names no pool.
pub async fn pool_name(
    backend: &Backend,
    ctx: &CallContext<'_>,
    provider: &ProviderConfigRef,
    choice: PoolChoice<'_>,
) -> ExternalResult<Option<String>> {
    if let Some(pool) = choice.pool {
        return Ok(Some(pool.clone()));
    }
    let Some(r) = choice.vault_ref else {
        return Ok(None);
    };
    let key = RefKey {
        kind: "Vault",
        name: r.name.clone(),
        field: choice.field,
    };
    let id = ctx.refs.external_name(&key)?.to_string();
    let mut wanted = None;
    if let Some(vault) = ctx.refs.object::<crate::api::Vault>(&r.name) {
        let Some(rb) = &vault.spec.ru_backup else {
            return Err(ExternalError::invalid(
                choice.field,
                format!(
                    "Vault {} is not a RuBackup pool (it has no ruBackup block)",
                    r.name
                ),
            ));
        };
        if &vault.spec.managed.provider_config_ref != provider {
            return Err(ExternalError::invalid(
                choice.field,
                format!(
                    "Vault {} lives on another provider configuration ({}); RuBackup pools are named within one server",
                    r.name, vault.spec.managed.provider_config_ref.name
                ),
            ));
        }
        wanted = Some(rb.name.clone());
    }
    let pool = backend.by_id(&backend.pools, &id, ctx.fresh).await?;
    match pool.as_ref().and_then(|p| item_name(backend.pools.kind, p)) {
        None => Err(ExternalError::waiting(format!(
            "{}: the pool of Vault {} (id {id}) does not exist in RuBackup",
            choice.field, r.name
        ))),
        Some(name) if wanted.as_deref().is_some_and(|w| w != name) => {
            Err(ExternalError::waiting(format!(
                "{}: pool {id}, the external name of Vault {}, is named '{name}', not '{}': it is not that Vault's pool (RuBackup may have handed the id out again); waiting for the Vault to find its own",
                choice.field,
                r.name,
                wanted.unwrap_or_default()
            )))
        }
        Some(name) => Ok(Some(name.to_string())),
    }
}

/// Resolves the pools of one spec. Strict (create): a reference that cannot be resolved is an
/// error. Lenient (observe, update): it is left out and recorded in `problems`, so an object
/// whose Vault was deleted first can still be observed, corrected elsewhere and deleted, while
/// its status says what is wrong.
pub struct Resolver {
    pub strict: bool,
    pub problems: Vec<String>,
}

impl Resolver {
    pub fn new(strict: bool) -> Self {
        Resolver {
            strict,
            problems: Vec::new(),
        }
    }

    pub async fn pool(
        &mut self,
        backend: &Backend,
        ctx: &CallContext<'_>,
        provider: &ProviderConfigRef,
        choice: PoolChoice<'_>,
    ) -> ExternalResult<Option<String>> {
        match pool_name(backend, ctx, provider, choice).await {
            Err(e @ (ExternalError::Waiting { .. } | ExternalError::InvalidSpec { .. }))
                if !self.strict =>
            {
                self.problems.push(e.to_string());
                Ok(None)
            }
            other => other,
        }
    }

    /// The readiness to report: unavailable while a reference is unresolved.
    pub fn readiness(
        &self,
        otherwise: crate::engine::external::Readiness,
    ) -> crate::engine::external::Readiness {
        match self.problems.is_empty() {
            true => otherwise,
            false => crate::engine::external::Readiness::Unavailable(self.problems.join("; ")),
        }
    }
}
