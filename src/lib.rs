//! rampart: a Kubernetes operator for backup estates and perimeter rules.
