//! A vendor in memory for the reconciler's tests: objects by id, each with the ownership marker
//! it carries (or none: a person's object) and the spec it was last written with, so observe
//! reports drift when the spec moved on. Every call is logged; any call can be made to fail,
//! and a create can be made to happen at the vendor while its answer is lost.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use kube::ResourceExt;
use serde_json::Value;

use crate::api::common::Drift;
use crate::api::provider_config::{ProviderObservation, ProviderType};
use crate::engine::adapters::Adapters;
use crate::engine::external::{
    CallContext, Created, Deleted, External, ExternalError, ExternalResult, ExtraCondition,
    Observation, Ownership,
};
use crate::engine::hub::VendorRuntime;
use crate::engine::managed::Managed;
use crate::engine::waker::ObjectName;
use crate::vendor::error::{ErrorKind, VendorError, VendorResult};

/// One object at the fake vendor.
#[derive(Clone, Debug, PartialEq)]
pub struct FakeObject {
    pub marker: Option<String>,
    /// A name the vendor knows it by (found by the managed object's name when no marker is).
    pub name: Option<String>,
    pub spec: Value,
    /// Observes left before a deleted object disappears.
    pub deleting_for: Option<u32>,
}

#[derive(Default)]
struct State {
    objects: BTreeMap<String, FakeObject>,
    next_id: u32,
    calls: Vec<String>,
    failures: VecDeque<(&'static str, ExternalError)>,
    lose_create_answer: bool,
    /// The next create is made (without a marker) and then fails with this error.
    fail_after_create: Option<ExternalError>,
    deletion_observes: u32,
    /// Conditions every observe reports, and objects every observe asks to wake.
    report: (Vec<ExtraCondition>, Vec<ObjectName>),
}

/// The vendor side of the fake: shared between the test and the adapter.
#[derive(Clone)]
pub struct FakeVendor {
    state: Arc<Mutex<State>>,
}

impl Default for FakeVendor {
    fn default() -> Self {
        FakeVendor {
            state: Arc::new(Mutex::new(State::default())),
        }
    }
}

/// What the fake stores as an object's spec: the managed object's whole `spec`.
fn spec_of<K: Managed>(cr: &K) -> Value {
    serde_json::to_value(cr).expect("serializes")["spec"].clone()
}

/// A vendor error of `kind`, as a client would report it.
pub fn vendor_error(kind: ErrorKind, message: &str) -> ExternalError {
    ExternalError::Vendor(VendorError::new("fake", "call", kind, message))
}

impl FakeVendor {
    /// An object someone else made with the name a managed object asks for (no marker).
    pub fn seed_named(&self, id: &str, name: &str, spec: Value) {
        self.seed(id, None, spec);
        self.edit(id, |o| o.name = Some(name.to_string()));
    }

    /// An object that exists before rampart starts (`marker: None` for a person's object).
    pub fn seed(&self, id: &str, marker: Option<&str>, spec: Value) {
        self.state.lock().unwrap().objects.insert(
            id.to_string(),
            FakeObject {
                marker: marker.map(String::from),
                name: None,
                spec,
                deleting_for: None,
            },
        );
    }

    pub fn objects(&self) -> BTreeMap<String, FakeObject> {
        self.state.lock().unwrap().objects.clone()
    }

    /// Calls in order: `observe`, `observe-fresh`, `create`, `update`, `delete`.
    pub fn calls(&self) -> Vec<String> {
        self.state.lock().unwrap().calls.clone()
    }

    pub fn count(&self, call: &str) -> usize {
        self.calls().iter().filter(|c| *c == call).count()
    }

    pub fn clear_calls(&self) {
        self.state.lock().unwrap().calls.clear();
    }

    /// The next call named `call` fails with `error` (after nothing happened at the vendor).
    pub fn fail_next(&self, call: &'static str, error: ExternalError) {
        self.state.lock().unwrap().failures.push_back((call, error));
    }

    /// The next create happens at the vendor, but its answer is lost (a timeout).
    pub fn lose_next_create_answer(&self) {
        self.state.lock().unwrap().lose_create_answer = true;
    }

    /// The next create happens at the vendor, as on a vendor with no place for the marker (the
    /// object is known by its name), and a call after it fails with `error` (finding the new
    /// object's id, a follow-up write).
    pub fn fail_after_next_create(&self, error: ExternalError) {
        self.state.lock().unwrap().fail_after_create = Some(error);
    }

    /// Every observe reports `conditions` and asks the engine to wake `wake` (as an adapter
    /// does that sees a conflict between objects).
    pub fn report(&self, conditions: Vec<ExtraCondition>, wake: Vec<ObjectName>) {
        self.state.lock().unwrap().report = (conditions, wake);
    }

    /// Deleted objects stay, `deleting`, for this many observes.
    pub fn set_deletion_observes(&self, n: u32) {
        self.state.lock().unwrap().deletion_observes = n;
    }

    /// Change an object behind rampart's back (a person in the console).
    pub fn edit(&self, id: &str, edit: impl FnOnce(&mut FakeObject)) {
        if let Some(o) = self.state.lock().unwrap().objects.get_mut(id) {
            edit(o);
        }
    }

    /// Remove an object behind rampart's back.
    pub fn remove(&self, id: &str) {
        self.state.lock().unwrap().objects.remove(id);
    }

    fn call(&self, name: &'static str) -> ExternalResult<()> {
        let mut st = self.state.lock().unwrap();
        st.calls.push(name.to_string());
        match st.failures.iter().position(|(c, _)| *c == name) {
            Some(i) => Err(st.failures.remove(i).expect("present").1),
            None => Ok(()),
        }
    }
}

#[async_trait]
impl<K: Managed> External<K> for FakeVendor
where
    K::Observation: Default,
{
    async fn observe(
        &self,
        cr: &K,
        id: Option<&str>,
        ctx: &CallContext<'_>,
    ) -> ExternalResult<Observation<K::Observation>> {
        self.call(if ctx.fresh {
            "observe-fresh"
        } else {
            "observe"
        })?;
        let mut st = self.state.lock().unwrap();
        let (conditions, wake) = st.report.clone();
        ctx.wake.others(&wake);
        let by_marker = || {
            st.objects
                .iter()
                .find(|(_, o)| o.marker.as_deref() == Some(ctx.marker))
                .map(|(id, _)| id.clone())
        };
        let by_name = || {
            st.objects
                .iter()
                .find(|(_, o)| o.name.as_deref() == Some(cr.name_any().as_str()))
                .map(|(id, _)| id.clone())
        };
        let (found, by_name) = match id {
            Some(id) if st.objects.contains_key(id) => (Some(id.to_string()), false),
            Some(_) => (None, false),
            None => match by_marker() {
                Some(found) => (Some(found), false),
                None => (by_name(), true),
            },
        };
        let Some(found) = found else {
            return Ok(Observation {
                conditions,
                ..Observation::default()
            });
        };
        let obj = st.objects.get_mut(&found).expect("found");
        if let Some(left) = obj.deleting_for {
            if left == 0 {
                st.objects.remove(&found);
                return Ok(Observation::default());
            }
            obj.deleting_for = Some(left - 1);
        }
        let desired = spec_of(cr);
        let drift = if obj.spec == desired {
            Vec::new()
        } else {
            vec![Drift {
                field: "spec".into(),
                desired: desired.to_string(),
                observed: obj.spec.to_string(),
            }]
        };
        let ownership = match obj.marker.as_deref() {
            Some(m) if m == ctx.marker => Ownership::Marked,
            Some(_) => Ownership::OtherMarker,
            None if by_name => Ownership::NameOnly,
            None => Ownership::Unmarked,
        };
        Ok(Observation {
            exists: true,
            external_name: (id != Some(found.as_str())).then_some(found),
            drift,
            ownership,
            conditions,
            ..Observation::default()
        })
    }

    async fn create(&self, cr: &K, ctx: &CallContext<'_>) -> ExternalResult<Created> {
        self.call("create")?;
        let mut st = self.state.lock().unwrap();
        st.next_id += 1;
        let id = format!("id-{}", st.next_id);
        st.objects.insert(
            id.clone(),
            FakeObject {
                marker: Some(ctx.marker.to_string()),
                name: Some(cr.name_any()),
                spec: spec_of(cr),
                deleting_for: None,
            },
        );
        if std::mem::take(&mut st.lose_create_answer) {
            return Err(vendor_error(ErrorKind::Transport, "timed out"));
        }
        if let Some(error) = st.fail_after_create.take() {
            st.objects.get_mut(&id).expect("just made").marker = None;
            return Err(error.after_create());
        }
        Ok(Created { external_name: id })
    }

    async fn update(
        &self,
        cr: &K,
        id: &str,
        _observed: &Observation<K::Observation>,
        ctx: &CallContext<'_>,
    ) -> ExternalResult<()> {
        self.call("update")?;
        let mut st = self.state.lock().unwrap();
        match st.objects.get_mut(id) {
            Some(o) => {
                // As the vendor adapters do: a write carries this object's marker.
                o.marker = Some(ctx.marker.to_string());
                o.spec = spec_of(cr);
                Ok(())
            }
            None => Err(vendor_error(ErrorKind::NotFound, "no such object")),
        }
    }

    async fn delete(&self, _cr: &K, id: &str, _ctx: &CallContext<'_>) -> ExternalResult<Deleted> {
        self.call("delete")?;
        let mut st = self.state.lock().unwrap();
        let wait = st.deletion_observes;
        if wait == 0 {
            st.objects.remove(id);
            return Ok(Deleted::Gone);
        }
        match st.objects.get_mut(id) {
            Some(o) => {
                o.deleting_for.get_or_insert(wait);
                Ok(Deleted::InProgress)
            }
            None => Ok(Deleted::Gone),
        }
    }
}

/// A vendor runtime whose adapters are fake vendors.
pub struct FakeRuntime {
    pub provider_type: ProviderType,
    pub adapters: Adapters,
}

#[async_trait]
impl VendorRuntime for FakeRuntime {
    fn provider_type(&self) -> ProviderType {
        self.provider_type
    }

    async fn check(&self) -> VendorResult<ProviderObservation> {
        Ok(ProviderObservation::default())
    }

    fn adapters(&self) -> &Adapters {
        &self.adapters
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
