//! Ideco NGFW: firewall rules kept in declared order among rules people edit by hand.
//!
//! The device assigns rule ids and rules have no name, so rampart owns a rule through a marker
//! in its comment (`marker`). Every FirewallRule records its placement in the runtime's
//! registry (`registry`); after any change the section sync (`sync`) computes the fewest moves
//! (`order`) that put rampart's rules in declared order, never moving anyone else's. Writes
//! take the device's turn (`writer`) and are laid over rampart's model of the section
//! (`model`), so a burst of creates costs one write each and one listing at its end.

pub mod client;
pub mod conditions;
pub mod desired;
pub mod errors;
pub mod firewall_rule;
pub mod marker;
pub mod model;
pub mod models;
pub mod order;
pub mod registry;
pub mod runtime;
pub mod section;
pub mod session;
pub mod sync;
pub mod writer;

pub use runtime::{IdecoDevice, IdecoRuntime, connect};

/// The vendor label in errors, metrics and logs.
pub const VENDOR: &str = "ideco";
