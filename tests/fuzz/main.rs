//! Property tests ("fuzzing") of everything that reads what a vendor sends and of the
//! schedule/retention translations: arbitrary bytes, arbitrary JSON, and broken versions of the
//! document's own example bodies must never panic, and every failure must name its problem.
//!
//! Bounded for CI: each property sets its case count explicitly (a few hundred), so the whole
//! binary runs in well under two minutes on two cores. `RAMPART_FUZZ_CASES=20000 cargo test
//! --release --test fuzz` runs every property longer.

mod cyberbackup;
mod huawei_cbr;
mod ideco;
mod rs_server;
mod support;
