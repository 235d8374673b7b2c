//! Structured logs with `tracing`: human-readable by default, JSON on request.

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

/// Check a `RUST_LOG`-style filter, so a typo fails at start-up instead of silently logging at
/// the default level.
pub fn parse_filter(filter: &str) -> Result<EnvFilter, String> {
    EnvFilter::try_new(filter).map_err(|e| format!("invalid log filter {filter:?}: {e}"))
}

/// Install the global subscriber. `filter` is a `RUST_LOG`-style directive (default `info`).
pub fn init(filter: &str, json: bool) {
    let filter = parse_filter(filter).unwrap_or_else(|_| EnvFilter::new("info"));
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
