//! Stateful HTTP simulators of each vendor API, written from the documents in seeds/.

pub mod harness;
pub mod rubackup;
