//! Installing rampart: the Helm chart and the kustomize base on a real kube-apiserver, the
//! operator running out of cluster AS the chart's ServiceAccount (least privilege, proven),
//! GitOps health (kstatus and Argo CD), the container image built without a container engine,
//! the operator's start-up errors, and the chart's alerts and dashboard.

mod chart;
mod harness;
mod health;
mod image;
mod kustomize;
mod monitoring;
mod rbac;
mod startup;
