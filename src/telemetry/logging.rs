//! Structured logs with `tracing`: human-readable by default, JSON on request.

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

/// Install the global subscriber. `filter` is a `RUST_LOG`-style directive (default `info`).
pub fn init(filter: &str, json: bool) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    let result = if json {
        registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true),
            )
            .try_init()
    } else {
        registry.with(fmt::layer().with_target(false)).try_init()
    };
    // A second init (tests) keeps the first subscriber.
    let _ = result;
}
