//! Backup health (issue 17, groundwork): when a schedule should have run (`runs`) and whether
//! the backups the vendor holds show that it did (`verdict`). Pure; not yet wired into the
//! reconciler or any vendor adapter.

pub mod runs;
pub mod verdict;

pub use runs::{default_grace, due_run, next_run, previous_run};
pub use verdict::{BackupRun, Expected, Facts, Health, RunResult, judge};
