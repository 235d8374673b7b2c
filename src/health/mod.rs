//! Backup health (issue 17): when a schedule should have run (`runs`), whether the backups the
//! vendor holds show that it did (`verdict`), and both together for the reconciler (`assess`).
//! Pure; the reconciler asks adapters for a `BackupReport` and writes what `assess` says.

pub mod assess;
pub mod runs;
pub mod verdict;

pub use assess::{Assessed, BackupReport, assess, summarize};
pub use runs::{default_grace, due_run, next_run, previous_run};
pub use verdict::{BackupRun, Expected, Facts, Health, RunResult, judge};
