//! Stateful HTTP simulators of each vendor API, written from the documents in seeds/.

pub mod cyberbackup;
pub mod harness;
pub mod huawei_cbr;
pub mod ideco;
pub mod loopback_pki;
pub mod rs_server;
pub mod rubackup;
pub mod standalone;
pub mod tls_listener;

#[cfg(test)]
mod import_tests;
