//! rampart: a Kubernetes operator that keeps backup vaults, backup policies, backup strategies
//! and firewall rules in line across five vendor systems.

pub mod api;
