//! Stateful HTTP simulators of each vendor API, written from the documents in seeds/.

pub mod cyberbackup;
pub mod harness;
pub mod rs_server;
