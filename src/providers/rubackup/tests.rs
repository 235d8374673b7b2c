//! Adapter tests against the simulator.
