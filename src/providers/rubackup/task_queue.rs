//! The task queue as the one-shot actions use it (`POST /task_queue`, `GET /task_queue`,
//! `GET /task_queue/{id}`, L4841-4945): the id of a task just asked for, the search for a task
//! whose answer was lost, and how far a task got. Shared by the urgent backup and the restore.
//!
//! The document gives no task body: the fields read here (`status`, `created`, `finished`,
//! `message`, `repository_id`, `client`, `resource`, `pool`, `rule`, `strategy`) are the names
//! the document uses for the same things elsewhere (as `backup_runs` reads them). Times carry
//! no zone (L3786): they are the server's local time.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde_json::Value;
use tracing::debug;

use super::backend::Backend;
use super::backup_runs::owner_of;
use super::client::Item;
use super::fields::parse_datetime;
use crate::oneshot::Progress;
use crate::vendor::error::VendorResult;

/// The task number a create's message names: "…TASK WAS ADDED TO QUEUE: <номер в очереди>"
/// (L969-970). None when the server answered without it (the restore's 201 text, L3686, names
/// no task; an empty body names nothing).
pub fn queued_task(message: &str) -> Option<String> {
    // ASCII upper case keeps byte offsets, so `at` indexes `message` too.
    let upper = message.to_ascii_uppercase();
    let at = upper.rfind("ADDED TO QUEUE:")? + "ADDED TO QUEUE:".len();
    let digits: String = message[at..]
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    (!digits.is_empty()).then_some(digits)
}

/// A server time field of `item`, as an instant in the server's zone.
pub fn time(item: &Item, key: &str, tz: &TimeZone) -> Option<Timestamp> {
    let local = parse_datetime(item.get(key)?.as_str()?)?;
    tz.to_ambiguous_timestamp(local).compatible().ok()
}

/// Text of a field, whether a string or a number.
pub fn text(item: &Item, key: &str) -> Option<String> {
    owner_of(item, key)
}

/// The newest task, listed afresh, that `wanted` accepts and that was created at or after
/// `since` (to the second: the server keeps whole seconds). A task made by a global rule or a
/// strategy (its `rule` or `strategy` set) is never one rampart asked for.
pub async fn newest_task(
    b: &Backend,
    since: Timestamp,
    wanted: impl Fn(&Item) -> bool,
) -> VendorResult<Option<(String, Item)>> {
    let tz = server_zone(b);
    let since = Timestamp::from_second(since.as_second()).unwrap_or(since);
    let tasks = b.all(&b.tasks, true).await?;
    let found = tasks
        .iter()
        .filter(|(_, t)| owner_of(t, "rule").is_none() && owner_of(t, "strategy").is_none())
        .filter(|(_, t)| time(t, "created", &tz).is_some_and(|c| c >= since))
        .filter(|(_, t)| wanted(t))
        .max_by_key(|(id, t)| (time(t, "created", &tz), id.parse::<i64>().unwrap_or(0)))
        .map(|(id, t)| (id.clone(), t.clone()));
    debug!(found = ?found.as_ref().map(|f| &f.0), "looked for a task in the queue");
    Ok(found)
}

/// The server's zone (checked when the runtime was built; UTC if it ever fails).
pub fn server_zone(b: &Backend) -> TimeZone {
    TimeZone::get(&b.schedule.time_zone).unwrap_or(TimeZone::UTC)
}

/// Where a task stands, by its `status` (`GET /task_status`; the names the sysadmin guide gives,
/// as `backup_runs` reads them).
pub enum TaskState {
    Running,
    Done,
    Failed(String),
}

pub fn state(id: &str, task: &Item) -> TaskState {
    let status = task.get("status").and_then(Value::as_str).unwrap_or("");
    match status {
        "Done" => TaskState::Done,
        "Error" | "Killed" | "Broken" => {
            let said = task.get("message").and_then(Value::as_str).unwrap_or("");
            TaskState::Failed(match said.trim() {
                "" => format!("RuBackup task {id} ended {status} without a message"),
                said => format!("{said} (RuBackup task {id}, {status})"),
            })
        }
        // New, Execution, Paused, Suspended, and a status this version does not know: the task
        // is still in the queue, so it has not ended as far as rampart can tell.
        _ => TaskState::Running,
    }
}

/// A task read afresh, None when the queue no longer has it.
pub async fn task(b: &Backend, id: &str) -> VendorResult<Option<Item>> {
    b.client.get(b.tasks.kind.path, id).await
}

/// A failed task's progress.
pub fn failed(message: String, task: &Item, tz: &TimeZone) -> Progress {
    Progress::Failed {
        message,
        completed_at: time(task, "finished", tz),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_task_number_is_read_from_the_documented_message() {
        let m =
            "Resource with name 'Task Queue' was created successfully! TASK WAS ADDED TO QUEUE: 42";
        assert_eq!(queued_task(m).as_deref(), Some("42"));
        assert_eq!(
            queued_task("TASK\nWAS added to queue:  7").as_deref(),
            Some("7")
        );
        assert_eq!(
            queued_task("Задача на восстановление резервной копии создана"),
            None
        );
        assert_eq!(queued_task("ADDED TO QUEUE: <номер>"), None);
    }
}
