//! The contract between the generic reconciler and one (kind, vendor) adapter, after
//! Crossplane's managed-resource contract: observe, create, update, delete. An adapter holds no
//! Kubernetes logic; the engine owns finalizers, policies, conditions, events and status.

use async_trait::async_trait;

use super::managed::Managed;
use crate::api::common::Drift;
use crate::vendor::error::VendorError;

/// What an adapter saw at the vendor.
#[derive(Debug, Clone, Default)]
pub struct Observation<A> {
    /// Whether the vendor object exists.
    pub exists: bool,
    /// The vendor id of the object when the adapter found it without one (adoption by ownership
    /// marker, or re-discovery after a crash between create and status write).
    pub external_name: Option<String>,
    /// Fields whose vendor value differs from the spec. Empty means up to date.
    pub drift: Vec<Drift>,
    /// What the vendor reports, for `status.atProvider`.
    pub at_provider: A,
    /// Whether the vendor object is usable.
    pub readiness: Readiness,
    /// Hash of the write-only fields the spec asks for (fields the vendor never returns). The
    /// engine compares it with `status.lastAppliedHash`, reports drift when they differ, and
    /// stores it after a successful create or update.
    pub desired_hash: Option<String>,
    /// Extra conditions the adapter reports (type, status, reason, message), for example
    /// `FirewallEnabled` or `ResourcesNotPruned`.
    pub conditions: Vec<ExtraCondition>,
    /// How the adapter knows the object it found is this object's. The engine writes to and
    /// deletes only objects that are: see `Ownership`.
    pub ownership: Ownership,
}

/// Why a found vendor object is (or may not be) this object's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Ownership {
    /// It carries this object's ownership marker (a tag, a comment suffix, a name rampart
    /// derived from the marker), or the vendor's identity for it is one rampart alone chose.
    #[default]
    Marked,
    /// It was found at the id the external-name annotation gives and carries no marker (the
    /// vendor has a place for one). It is this object's only while `CallContext::
    /// trust_unmarked_id` says the user named it to adopt it; after rampart has seen its marker
    /// there, an unmarked object at that id is a stranger that took over a re-used id.
    Unmarked,
    /// It carries the ownership marker of another rampart object (of this cluster or another):
    /// never this object's.
    OtherMarker,
    /// It was found only by a name the user chose, without the marker: it may be anyone's.
    /// Adopted only to finish rampart's own interrupted create (the create-pending mark);
    /// otherwise rampart reports it and leaves it alone until the user names it in the
    /// external-name annotation.
    NameOnly,
}

/// An adapter-specific condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraCondition {
    pub type_: &'static str,
    pub status: bool,
    pub reason: &'static str,
    pub message: String,
}

/// Whether the vendor object is usable, as the `Ready` condition says it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Readiness {
    /// Usable (`Ready=True`, reason `Available`).
    #[default]
    Available,
    /// Still coming up at the vendor (`Ready=False`, reason `Creating`).
    Creating(String),
    /// Exists but not usable: locked, frozen, in error (`Ready=False`, reason `Unavailable`).
    Unavailable(String),
}

/// Result of a create.
#[derive(Debug, Clone)]
pub struct Created {
    /// The vendor id, written to `rampart.dev/external-name`.
    pub external_name: String,
}

/// Result of a delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deleted {
    /// The object is gone (or was already gone).
    Gone,
    /// The vendor is still deleting it; the engine observes again later.
    InProgress,
}

/// Why an adapter call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ExternalError {
    /// A vendor call failed; its kind decides retry or not.
    #[error(transparent)]
    Vendor(#[from] VendorError),
    /// The spec cannot be applied as written. Terminal until the spec changes.
    #[error("{field}: {message}")]
    InvalidSpec { field: String, message: String },
    /// Something this object depends on is not ready yet (a referenced Policy without an
    /// external name, an unresolved inventory). Not an error: retried soon, quietly.
    #[error("{message}")]
    Waiting { message: String },
    /// A call made after the vendor accepted a create failed (finding the new object's id, a
    /// follow-up write). Whatever it says, it is no refusal of the create: the object exists,
    /// and the next pass must find it as rampart's rather than be told nothing was made.
    #[error("the vendor accepted the create; after it, {0}")]
    AfterCreate(Box<ExternalError>),
}

/// A provider configuration an adapter reaches through the hub (an inventory) could not be used.
impl From<super::hub::HubError> for ExternalError {
    fn from(e: super::hub::HubError) -> Self {
        use super::hub::HubError;
        match e {
            HubError::NotFound(key) => ExternalError::waiting(format!("{key} not found")),
            HubError::Connect { source, .. } => ExternalError::Vendor(*source),
            HubError::Credentials { key, message } => ExternalError::Vendor(VendorError::new(
                "rampart",
                "read credentials",
                crate::vendor::error::ErrorKind::Config,
                format!("{key}: {message}"),
            )),
        }
    }
}

impl ExternalError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ExternalError::InvalidSpec {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn waiting(message: impl Into<String>) -> Self {
        ExternalError::Waiting {
            message: message.into(),
        }
    }

    /// This error came after the vendor accepted a create (see `AfterCreate`).
    pub fn after_create(self) -> Self {
        match self {
            e @ ExternalError::AfterCreate(_) => e,
            e => ExternalError::AfterCreate(Box::new(e)),
        }
    }

    /// The error itself, without the note that it came after an accepted create.
    pub fn cause(&self) -> &ExternalError {
        match self {
            ExternalError::AfterCreate(inner) => inner.cause(),
            e => e,
        }
    }

    /// Whether this error, returned by a create, proves that the vendor made nothing: a clear
    /// refusal before the vendor acted. A timeout or a dropped connection proves nothing (the
    /// vendor may have acted), and neither does any failure after the vendor accepted.
    pub fn proves_nothing_created(&self) -> bool {
        use crate::vendor::error::ErrorKind;
        match self {
            ExternalError::InvalidSpec { .. } | ExternalError::Waiting { .. } => true,
            ExternalError::AfterCreate(_) => false,
            ExternalError::Vendor(v) => matches!(
                v.kind,
                ErrorKind::Rejected
                    | ErrorKind::Forbidden
                    | ErrorKind::Unauthorized
                    | ErrorKind::Config
                    | ErrorKind::Conflict
                    | ErrorKind::Throttled
            ),
        }
    }
}

pub type ExternalResult<T> = Result<T, ExternalError>;

/// Per-call context the engine hands to an adapter.
pub struct CallContext<'a> {
    /// Ownership marker of this object: a short stable hash of cluster id, kind, namespace and
    /// name. Adapters put it where the vendor allows (tag, deterministic name, comment suffix)
    /// so that a re-created object, or a restart after a crash, finds its vendor object again.
    pub marker: &'a str,
    /// Bypass cached collections: the engine sets this when a create may have happened without
    /// its result being recorded (`rampart.dev/external-create-pending`), so an observe reads
    /// the vendor, not a snapshot taken before the create.
    pub fresh: bool,
    /// The object's write-only hash from status (see `Observation::desired_hash`).
    pub last_applied_hash: Option<&'a str>,
    /// Cross references resolved by the engine (see `Refs`).
    pub refs: &'a super::refs::Refs,
    /// Access to other provider configurations (for inventories such as RS server).
    pub hub: &'a super::hub::ProviderHub,
    /// An object at the external name that carries no ownership marker is this object's: the
    /// user named it to adopt it, and rampart has not seen its marker there yet (after that, an
    /// unmarked object at the id is someone else's). Adapters that can find an object by its
    /// recorded id without the marker must check this before treating it as owned.
    pub trust_unmarked_id: bool,
    /// Asks for other objects of this kind to be reconciled soon, when the adapter learned
    /// something that changes them too (a conflict between objects appeared or went away).
    pub wake: super::waker::Wake<'a>,
}

/// One (kind, vendor) adapter.
#[async_trait]
pub trait External<K: Managed>: Send + Sync {
    /// Read the vendor object. `id` is the external name when known; without one, find the
    /// object by its ownership marker (adoption) or report `exists: false`.
    async fn observe(
        &self,
        cr: &K,
        id: Option<&str>,
        ctx: &CallContext<'_>,
    ) -> ExternalResult<Observation<K::Observation>>;

    /// Create the vendor object and return its id. Only called after an observe said it does
    /// not exist.
    async fn create(&self, cr: &K, ctx: &CallContext<'_>) -> ExternalResult<Created>;

    /// Make the vendor object match the spec; `observed` is the observation that found drift.
    /// Send only what differs.
    async fn update(
        &self,
        cr: &K,
        id: &str,
        observed: &Observation<K::Observation>,
        ctx: &CallContext<'_>,
    ) -> ExternalResult<()>;

    /// Delete the vendor object.
    async fn delete(&self, cr: &K, id: &str, ctx: &CallContext<'_>) -> ExternalResult<Deleted>;

    /// What the vendor holds of this object's backups, for `BackupHealthy` and
    /// `status.backup`; `None` where the kind holds no backups at this vendor. Read from a
    /// collection shared by every object of the provider configuration, once per poll. A
    /// vendor that cannot be read is `Facts::Unreadable`, not an error: backup health never
    /// fails a reconcile.
    async fn backups(
        &self,
        _cr: &K,
        _id: &str,
        _ctx: &CallContext<'_>,
    ) -> Option<crate::health::BackupReport> {
        None
    }
}
