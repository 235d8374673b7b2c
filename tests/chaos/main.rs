//! Chaos: the operator killed, vendors failing, the API server restarted, two replicas with
//! leader election, the CRDs uninstalled; and the search for secrets in everything the operator
//! writes, with sessions revoked under it. Each test has its own control plane; run them one at
//! a time (`--test-threads=1`).

mod control_plane;
mod crash;
mod faults;
mod inflight;
mod oneshot;
mod plane;
mod secrets;
