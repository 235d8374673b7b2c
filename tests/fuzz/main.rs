//! Property tests ("fuzzing") of everything that reads what a vendor sends and of the
//! schedule/retention translations: arbitrary bytes, arbitrary JSON, and broken versions of the
//! document's own example bodies must never panic, and every failure must name its problem.
//!
//! Bounded for CI: each property sets its case count explicitly (768 to 1024; about 5 s of CPU
//! in all, debug build), far under the two-minute budget on two shared cores.
//! `RAMPART_FUZZ_CASES=50000 cargo test --test fuzz` runs every property that many times
//! (about five minutes on one core).

mod cyberbackup;
mod huawei_cbr;
mod ideco;
mod rs_server;
mod rubackup;
mod support;
mod translations;
