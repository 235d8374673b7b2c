//! Replacing a destination's credentials record. Cyber Backup cannot change a record (the
//! document has create, get and delete only, L4117–4122), so a changed Secret or scope is a new
//! record: rampart registers it, points every plan that names the old record at the new one,
//! and only then deletes the old one, so no plan ever names a record that does not exist.
//!
//! Between the registration and the engine writing the new id into the Vault's external name,
//! Policies ask here which record a Vault's id stands for now, so that they never put the old
//! id back into a plan.

use std::collections::HashMap;
use std::sync::Mutex;

/// Why a record was replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    SecretChanged,
    ScopeChanged,
}

impl Cause {
    pub fn reason(self) -> &'static str {
        match self {
            Cause::SecretChanged => "SecretChanged",
            Cause::ScopeChanged => "ScopeChanged",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Cause::SecretChanged => "the credentials Secret changed",
            Cause::ScopeChanged => "the record's scope no longer matched the Vault's",
        }
    }
}

/// A replacement made by this process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replacement {
    pub old: String,
    pub new: String,
    pub cause: Cause,
    /// Plans moved from the old record to the new one.
    pub plans: usize,
    /// The old record is deleted: the replacement is complete.
    pub retired: bool,
    /// Plans rampart does not own that still name the old record, which keeps it.
    pub held_by: Vec<String>,
}

#[derive(Default)]
struct State {
    /// old id → new id.
    replaced_by: HashMap<String, String>,
    /// new id → the replacement that made it.
    made: HashMap<String, Replacement>,
    /// id → hash of what this process registered under it.
    registered: HashMap<String, String>,
}

/// The records this runtime registered and replaced.
#[derive(Default)]
pub struct Rotations {
    state: Mutex<State>,
}

impl Rotations {
    /// The record an id stands for now (following replacements).
    pub fn current(&self, id: &str) -> String {
        let s = self.state.lock().unwrap();
        let mut at = id.to_ascii_lowercase();
        // A chain is short (one per rotation); the bound guards against a cycle.
        for _ in 0..16 {
            match s.replaced_by.get(&at) {
                Some(next) => at = next.clone(),
                None => break,
            }
        }
        at
    }

    /// Remember what was registered under `id`.
    pub fn registered(&self, id: &str, hash: Option<String>) {
        if let Some(h) = hash {
            self.state
                .lock()
                .unwrap()
                .registered
                .insert(id.to_ascii_lowercase(), h);
        }
    }

    /// The hash registered under `id`, when this process registered it.
    pub fn hash_of(&self, id: &str) -> Option<String> {
        self.state
            .lock()
            .unwrap()
            .registered
            .get(&id.to_ascii_lowercase())
            .cloned()
    }

    /// `new` replaces `old` from now on (plans not moved yet).
    pub fn begin(&self, old: &str, new: &str, cause: Cause) {
        let (old, new) = (old.to_ascii_lowercase(), new.to_ascii_lowercase());
        let mut s = self.state.lock().unwrap();
        s.replaced_by.insert(old.clone(), new.clone());
        s.made.insert(
            new.clone(),
            Replacement {
                old,
                new,
                cause,
                plans: 0,
                retired: false,
                held_by: Vec::new(),
            },
        );
    }

    /// The replacement that made `new`, if this process made it.
    pub fn made(&self, new: &str) -> Option<Replacement> {
        self.state
            .lock()
            .unwrap()
            .made
            .get(&new.to_ascii_lowercase())
            .cloned()
    }

    /// The old record stays while these plans, which rampart does not own, name it.
    pub fn hold(&self, new: &str, plans: Vec<String>) {
        if let Some(r) = self
            .state
            .lock()
            .unwrap()
            .made
            .get_mut(&new.to_ascii_lowercase())
        {
            r.held_by = plans;
        }
    }

    /// Record progress: `plans` more plans moved, and whether the old record is gone.
    pub fn progress(&self, new: &str, plans: usize, retired: bool) {
        if let Some(r) = self
            .state
            .lock()
            .unwrap()
            .made
            .get_mut(&new.to_ascii_lowercase())
        {
            r.plans += plans;
            r.retired = retired;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_stands_for_its_latest_replacement() {
        let r = Rotations::default();
        assert_eq!(r.current("A"), "a");
        r.begin("a", "b", Cause::SecretChanged);
        r.begin("b", "c", Cause::ScopeChanged);
        assert_eq!(r.current("a"), "c");
        assert_eq!(r.made("c").unwrap().old, "b");
        r.progress("c", 2, true);
        let m = r.made("c").unwrap();
        assert_eq!((m.plans, m.retired), (2, true));
        assert_eq!(r.made("a"), None);
    }
}
