//! The adapters of one vendor runtime, by kind: a vendor registers one `External<K>` per kind
//! it has, and the engine asks for the one of the kind it reconciles. Keyed by type, so a new
//! kind needs no new accessor anywhere.

use std::any::{Any, TypeId};
use std::collections::HashMap;

use super::external::External;
use super::managed::Managed;

#[derive(Default)]
pub struct Adapters {
    by_kind: HashMap<TypeId, Box<dyn Any + Send + Sync>>,
}

impl Adapters {
    pub fn new() -> Self {
        Adapters::default()
    }

    /// Register the adapter of kind `K`.
    pub fn with<K: Managed>(mut self, adapter: impl External<K> + 'static) -> Self {
        let boxed: Box<dyn External<K>> = Box::new(adapter);
        self.by_kind.insert(TypeId::of::<K>(), Box::new(boxed));
        self
    }

    /// The adapter of kind `K`, if the vendor has the kind.
    pub fn get<K: Managed>(&self) -> Option<&dyn External<K>> {
        self.by_kind
            .get(&TypeId::of::<K>())?
            .downcast_ref::<Box<dyn External<K>>>()
            .map(|b| b.as_ref())
    }

    /// Whether the vendor has kind `K`.
    pub fn has<K: Managed>(&self) -> bool {
        self.by_kind.contains_key(&TypeId::of::<K>())
    }
}
