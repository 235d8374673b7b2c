//! One file per vendor: the vendor blocks of every kind and the vendor's provider settings.

pub mod cyberbackup;
pub mod huawei_cbr;
pub mod ideco;
pub mod rs_server;
pub mod rubackup;
