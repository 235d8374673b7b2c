//! The generic managed-resource engine: one reconciler for every kind and vendor.

pub mod adapters;
pub mod annotations;
pub mod backup_health;
pub mod cluster;
pub mod conditions;
pub mod context;
pub mod errors;
pub mod events;
pub mod external;
pub mod hub;
pub mod kinds;
pub mod managed;
pub mod marker;
pub mod reconciler;
pub mod refs;
pub mod testkit;
pub mod waker;
