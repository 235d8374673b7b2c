//! The local control plane used by end-to-end tests, the benchmark and the demo: a real
//! kube-apiserver built from the Go modules of Kubernetes (tools/kube-testenv).

pub mod apiserver;
pub mod build;

pub use apiserver::{TestApiServer, free_port};
