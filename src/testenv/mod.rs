//! The local control plane used by end-to-end tests, the benchmark and the demo: a real
//! kube-apiserver built from the Go modules of Kubernetes (tools/kube-testenv), and the
//! deployment tools the install tests use (tools/deploy-tools: helm, health-check, ocipack).

pub mod apiserver;
pub mod build;
pub mod tools;
pub mod wait;

pub use apiserver::{TestApiServer, free_port};
pub use tools::{DeployTools, deploy_tools};
