//! The generic managed-resource engine: one reconciler for every kind and vendor.

pub mod annotations;
pub mod external;
pub mod hub;
pub mod kinds;
pub mod managed;
pub mod refs;
pub mod snapshot;
pub mod testkit;
