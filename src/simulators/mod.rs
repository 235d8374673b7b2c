//! Stateful HTTP simulators of each vendor API, written from the documents in seeds/.

pub mod harness;
pub mod huawei_cbr;
pub mod rs_server;
pub mod rubackup;
