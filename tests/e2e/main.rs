//! End-to-end tests against a real kube-apiserver (built from the Go modules of Kubernetes)
//! and the vendor simulators, with the operator running as a separate process.

mod admission;
mod backup_restore;
mod cbr;
mod cbr_world;
mod cyber_world;
mod cyberbackup;
mod events;
mod ideco;
mod rs_server;
mod rubackup;
mod rubackup_admission;
mod rubackup_safety;
mod rubackup_world;
mod security;
mod support;

/// Extra arguments of the operator this binary starts (`support::env`).
pub const OPERATOR_ARGS: &[&str] = &[];
