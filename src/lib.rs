//! rampart: a Kubernetes operator that keeps backup vaults, backup policies, backup strategies
//! and firewall rules in line across five vendor systems.

// kube's `printcolumn(type_ = ...)` repeats attribute keys by design; clippy reads them as
// duplicated attributes.
#[allow(clippy::duplicated_attributes)]
pub mod api;
pub mod bench;
pub mod demo;
pub mod engine;
pub mod health;
pub mod oneshot;
pub mod operator;
pub mod providers;
pub mod simulators;
pub mod telemetry;
pub mod testenv;
pub mod vendor;
