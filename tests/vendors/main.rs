//! Each vendor's adapters, clients and simulators exercised in-process (no Kubernetes): the
//! engine's calls driven by a small stand-in, against the simulators, with request counters.

mod cyberbackup_example;
mod cyberbackup_health;
mod cyberbackup_intent;
mod cyberbackup_oneshot;
mod cyberbackup_policy;
mod cyberbackup_runs;
mod cyberbackup_simulator;
mod cyberbackup_support;
mod cyberbackup_vault;
mod ideco_drift;
mod ideco_insert_after;
mod ideco_order;
mod ideco_session;
mod ideco_simulator;
mod ideco_support;
