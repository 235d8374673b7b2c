//! The vendor toolkit: what every vendor client needs and nothing vendor-specific. It sits below
//! both the engine and the providers (each depends on it, never on the other's insides): vendor
//! errors and their classes, the HTTP edge with TLS and the API budget, the gate that keeps
//! refused credentials from being tried again and again, shared collection snapshots, the memo
//! of compiled schedules, the one reader of the portable cron schedule, and the leader's fence
//! on calls.

pub mod budget;
pub mod cron;
pub mod error;
pub mod fence;
pub mod http;
pub mod login_gate;
pub mod memo;
pub mod snapshot;
pub mod tls;
