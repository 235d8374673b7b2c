//! Whose a RuBackup object is. RuBackup has no place for rampart's ownership marker: pools,
//! strategies and global schedule rules are known by the name the user chose (immutable in the
//! CRDs). A name alone proves nothing (anyone may have made an object of that name), and an id
//! alone proves nothing either (ids are integers the server hands out again after a reset). An
//! object is this object's when rampart holds its id (it created it, or the user named it in
//! the external-name annotation) and the object there still has the name the spec asks for.
//! Rampart writes to and deletes only such objects; an object found by its name alone is
//! adopted only by the engine, to finish rampart's own interrupted create.

use super::backend::{Backend, Cached, item_name};
use super::client::Item;
use crate::engine::annotations::EXTERNAL_NAME;
use crate::engine::external::{CallContext, ExternalError, ExternalResult, Ownership};

/// A vendor object the adapter found, and whose it is.
#[derive(Debug, Clone)]
pub struct Located {
    pub id: String,
    pub item: Item,
    pub ownership: Ownership,
}

/// The ownership rule: found at the recorded id with the spec's name, it is this object's;
/// at the recorded id with another name, it is a stranger on a re-used id; found by its name
/// alone, it may be anyone's.
pub fn ownership(found_by_id: bool, vendor_name: Option<&str>, spec_name: &str) -> Ownership {
    match (found_by_id, vendor_name == Some(spec_name)) {
        (true, true) => Ownership::Marked,
        (true, false) => Ownership::Unmarked,
        (false, _) => Ownership::NameOnly,
    }
}

/// The spec path of the annotation a stranger's id came from, for errors.
fn annotation_field() -> String {
    format!("metadata.annotations[{EXTERNAL_NAME}]")
}

/// Why rampart leaves the object at `id` alone: it has another name than the spec's.
pub fn stranger(c: &Cached, id: &str, item: &Item, name: &str) -> ExternalError {
    let label = c.kind.label;
    let actual = item_name(c.kind, item).unwrap_or("(no name)");
    ExternalError::invalid(
        annotation_field(),
        format!(
            "RuBackup {label} {id} is named '{actual}', not '{name}' as the spec asks: RuBackup knows a {label} by its name and hands out ids again after a reset, so rampart neither changes nor deletes a {label} of another name. Set the annotation to the id of the {label} named '{name}', or remove it to let rampart find or create that {label}"
        ),
    )
}

/// Find the object: by the recorded id when there is one, else by its name. An object at a
/// user-named id (`ctx.trust_unmarked_id`) whose name is not the spec's is an error: the
/// engine would adopt an unmarked object there, and RuBackup's name is its identity.
pub async fn locate(
    backend: &Backend,
    c: &Cached,
    id: Option<&str>,
    name: &str,
    ctx: &CallContext<'_>,
) -> ExternalResult<Option<Located>> {
    let found = match id {
        Some(id) => backend
            .by_id(c, id, ctx.fresh)
            .await?
            .map(|item| (id.to_string(), item, true)),
        None => backend
            .by_name(c, name, ctx.fresh)
            .await?
            .map(|(id, item)| (id, item, false)),
    };
    let Some((id, item, by_id)) = found else {
        return Ok(None);
    };
    let ownership = ownership(by_id, item_name(c.kind, &item), name);
    if ownership == Ownership::Unmarked && ctx.trust_unmarked_id {
        return Err(stranger(c, &id, &item, name));
    }
    Ok(Some(Located {
        id,
        item,
        ownership,
    }))
}

/// The object at `id`, read from RuBackup now (the copy may predate a reset), before rampart
/// writes to it: it must exist and have the spec's name.
pub async fn owned(backend: &Backend, c: &Cached, id: &str, name: &str) -> ExternalResult<Item> {
    let Some(item) = backend.reread(c, id).await? else {
        return Err(ExternalError::waiting(format!(
            "{} {id} no longer exists in RuBackup",
            c.kind.label
        )));
    };
    if item_name(c.kind, &item) != Some(name) {
        return Err(stranger(c, id, &item, name));
    }
    Ok(item)
}

/// What deleting the object at `id` may touch: the object, when it is this object's; None when
/// it is gone or is a stranger, which rampart leaves alone (this object's own is gone either
/// way, so the deletion is over).
pub async fn deletable(
    backend: &Backend,
    c: &Cached,
    id: &str,
    name: &str,
) -> ExternalResult<Option<Item>> {
    let Some(item) = backend.reread(c, id).await? else {
        return Ok(None);
    };
    if item_name(c.kind, &item) != Some(name) {
        tracing::warn!(
            vendor = super::VENDOR,
            collection = c.kind.path,
            id,
            spec_name = name,
            found = item_name(c.kind, &item).unwrap_or_default(),
            "the object at the recorded id has another name; left alone"
        );
        return Ok(None);
    }
    Ok(Some(item))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_decides_at_an_id_and_proves_nothing_alone() {
        assert_eq!(ownership(true, Some("k8s"), "k8s"), Ownership::Marked);
        assert_eq!(ownership(true, Some("theirs"), "k8s"), Ownership::Unmarked);
        assert_eq!(ownership(true, None, "k8s"), Ownership::Unmarked);
        assert_eq!(ownership(false, Some("k8s"), "k8s"), Ownership::NameOnly);
    }
}
