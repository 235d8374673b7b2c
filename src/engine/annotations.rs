//! The annotations rampart reads and writes.

/// The vendor's id of the object: set by rampart after create, or by the user to adopt.
pub const EXTERNAL_NAME: &str = "rampart.dev/external-name";
/// `"true"` pauses reconciliation: rampart neither reads nor writes the vendor object.
pub const PAUSED: &str = "rampart.dev/paused";
/// Any new value asks for an immediate reconcile.
pub const RECONCILE_REQUESTED_AT: &str = "rampart.dev/reconcile-requested-at";
/// Written before a vendor create and removed after the external name is recorded, so a crash
/// in between makes the next reconcile search the vendor (fresh) before creating again.
pub const CREATE_PENDING: &str = "rampart.dev/external-create-pending";
/// Any new value on a Policy asks for one on-demand run (vendors that support it).
pub const RUN_REQUESTED_AT: &str = "rampart.dev/run-requested-at";
/// The finalizer that holds an object until its vendor side is dealt with.
pub const FINALIZER: &str = "rampart.dev/finalizer";
/// Written (guarded by the object's resourceVersion) before a one-shot action's vendor call and
/// removed once its vendor id is in status: a crash in between makes the next reconcile look
/// for the start at the vendor instead of starting again. The value is when it was written.
pub const START_PENDING: &str = "rampart.dev/start-pending";
