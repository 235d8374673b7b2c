//! A stateful simulator of the RuBackup REST API (2.4), written from
//! seeds/rubackup-rest-api.txt: `/api/v1` paths, the `{"data": …}` envelopes, 201 creates
//! without an id, JWT + CSRF on every request, token lifetimes, a restart that invalidates
//! every token and the CSRF token, account lockout after repeated wrong passwords, pools,
//! strategies with rules and administrators, global schedule rules, and the tasks and backups
//! their runs leave on the server clock (`schedule`, `runs`, `history`). Fault injection and
//! request counters come from the harness; `/_sim/rubackup/*` controls restarts, the clock and
//! direct edits. The API is HTTPS only (L26-39, every example is `https://`): `start_tls` serves
//! it so; `start` serves plain HTTP for tests that do not look at the transport.
//!
//! Every request is checked with the simulator's own reading of the document (`values`,
//! `interval`, `cron`, `listing`), never with rampart's client code; where the document is
//! silent the choice is marked `GUESS:` with the line it concerns.

pub mod auth;
pub mod control;
pub mod cron;
pub mod history;
pub mod interval;
pub mod kinds;
pub mod listing;
pub mod oneshot;
#[cfg(test)]
mod oneshot_tests;
pub mod records;
pub mod reply;
pub mod resources;
pub mod restore;
pub mod runs;
#[cfg(test)]
mod runs_tests;
pub mod schedule;
pub mod store;
pub mod strategy_runs;
#[cfg(test)]
mod test_api;
pub mod urgent;
pub mod values;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::middleware;
use axum::routing::{delete, get, post};
use serde_json::{Value, json};

use super::harness::{SimControl, SimServer};
use super::tls_listener::TlsIdentity;
use auth::AuthState;
pub use cron::CronFields;
pub use schedule::Launch;
use store::Store;

/// A user who can log in.
#[derive(Debug, Clone)]
pub struct SimUser {
    pub name: String,
    pub password: String,
    /// Set for an MS AD user (`auth_type: domain`, §6.5).
    pub domain: Option<String>,
}

/// What the simulated installation knows and how it behaves.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub users: Vec<SimUser>,
    /// `rubackup_database` the login must name.
    pub database: String,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    /// `wrong_auth_attempts_count` (§8.4.1).
    pub lockout_attempts: u32,
    /// `wrong_auth_block_period`.
    pub lockout_period: Duration,
    pub version: String,
    /// Authorised clients, `hostname (HW ID)`.
    pub clients: Vec<String>,
    pub media_servers: Vec<String>,
    pub pool_types: Vec<String>,
    pub user_groups: Vec<String>,
    pub resource_types: Vec<String>,
    pub crypto: Vec<String>,
    /// `GET /compression_type`. GUESS: the document shows only `None` (L2155).
    pub compression_types: Vec<String>,
    /// `GET /backup_types`. GUESS: the document shows only `full` (L4312); the strategy keys
    /// `inc_`/`diff_` name the other two.
    pub backup_types: Vec<String>,
    /// User names that can administer strategies.
    pub administrators: Vec<String>,
    /// How the five schedule fields are kept (see [`CronFields`]).
    pub cron_fields: CronFields,
    /// Names of the list paging parameters (see `listing`).
    pub page_param: String,
    pub limit_param: String,
    /// Whether `filterdata` also takes the column names of the document's filter example
    /// (`poolname`, see `kinds::KindDef::filter_aliases`); false plays a server that filters by
    /// the keys of its items only and refuses `poolname`.
    pub column_filters: bool,
    /// Whether two global schedule rules may not share a name. GUESS (L4307-4348): nothing
    /// refers to a global schedule rule by its name (pools and strategies are referred to by
    /// theirs, so theirs are unique) and the document never says it is unique; false plays a
    /// server that keeps two rules of one name, where a create sent twice makes two rules.
    pub unique_schedule_names: bool,
    /// Which fields of a global schedule rule say when it runs (see [`Launch`]).
    pub launch: Launch,
    /// The server's time zone, in which schedule fields and listed date-times are read.
    /// GUESS: the document's date-times carry no zone (L3786).
    pub time_zone: String,
    /// How long a run's task executes before it ends.
    pub run_duration: Duration,
    /// How long a task asked for through the API (an urgent backup, a restore) stays `New`
    /// before it executes for `run_duration`. GUESS (L4862-4866): the document gives no task
    /// lifecycle; the
    /// sysadmin guide's statuses start with `New`. Zero skips the `New` phase.
    pub queue_wait: Duration,
    /// Whether the 201 of `POST /repository/{id}/restoring` names the new task as the urgent
    /// backup's does (`… TASK WAS ADDED TO QUEUE: <id>`), or answers only the document's text
    /// (`Задача на восстановление резервной копии создана`), leaving the client to find its
    /// task in the queue. GUESS (L3686): the document shows no body for it (see `restore`).
    pub restore_message_names_task: bool,
    /// The `size` of every backup a run makes, in bytes (GUESS: the document gives no sizes).
    pub backup_size: u64,
    /// At most this many runs of one rule are made when the clock jumps (the last ones).
    pub catch_up_runs: usize,
    /// `done_tasks_remove_period` and `error_tasks_remove_period` (L1643-1644, minutes):
    /// how long an ended task stays in the queue.
    pub done_tasks_remove_period: Duration,
    pub error_tasks_remove_period: Duration,
}

impl SimConfig {
    /// The document's example installation, with these database users.
    pub fn new(users: &[(&str, &str)]) -> Self {
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        SimConfig {
            users: users
                .iter()
                .map(|(n, p)| SimUser {
                    name: n.to_string(),
                    password: p.to_string(),
                    domain: None,
                })
                .collect(),
            database: "rubackup".into(),
            access_ttl: Duration::from_secs(15 * 60),
            refresh_ttl: Duration::from_secs(24 * 3600),
            lockout_attempts: 5,
            lockout_period: Duration::from_secs(30 * 60),
            version: "2.4.0".into(),
            clients: strings(&[
                "rubackup-client (525a99154f3505a2)",
                "db1 (0a1b2c3d4e5f6071)",
            ]),
            media_servers: strings(&["rubackup-server", "rubackup-media"]),
            pool_types: strings(&[
                "File system",
                "Tape library",
                "Cloud",
                "Block device",
                "Client defined",
            ]),
            user_groups: strings(&["Nobody", "Operators"]),
            resource_types: strings(&["File system", "LVM logical volume", "PostgreSQL Universal"]),
            crypto: strings(&["nocrypt", "Kuznyechik", "AES 256"]),
            compression_types: strings(&["None", "fast", "optimal", "best"]),
            backup_types: strings(&["full", "incremental", "differential"]),
            cron_fields: CronFields::default(),
            page_param: listing::PAGE.into(),
            limit_param: listing::LIMIT.into(),
            column_filters: true,
            unique_schedule_names: true,
            launch: Launch::Cron,
            time_zone: "UTC".into(),
            run_duration: Duration::from_secs(60),
            queue_wait: Duration::from_secs(10),
            restore_message_names_task: true,
            backup_size: 1 << 30,
            catch_up_runs: 100,
            done_tasks_remove_period: Duration::from_secs(1440 * 60),
            error_tasks_remove_period: Duration::from_secs(10080 * 60),
            administrators: users
                .iter()
                .map(|(n, _)| n.to_string())
                .chain(strings(&["Nobody", "alice", "bob"]))
                .collect(),
        }
    }
}

/// The simulated server.
pub struct Sim {
    pub config: SimConfig,
    pub control: Arc<SimControl>,
    pub store: Mutex<Store>,
    pub auth: Mutex<AuthState>,
    clock_offset: AtomicI64,
    /// Every accepted write: `METHOD /path` and its body, for tests that check what was sent.
    journal: Mutex<Vec<(String, Value)>>,
}

impl Sim {
    pub fn new(config: SimConfig, control: Arc<SimControl>) -> Arc<Self> {
        Arc::new(Sim {
            store: Mutex::new(Store::new(config.clone())),
            config,
            control,
            auth: Mutex::new(AuthState::new()),
            clock_offset: AtomicI64::new(0),
            journal: Mutex::new(Vec::new()),
        })
    }

    /// Record an accepted write.
    pub fn record(&self, request: String, body: Value) {
        self.journal.lock().unwrap().push((request, body));
    }

    /// The accepted writes so far (`PATCH /pool_list/3`, body).
    pub fn journal(&self) -> Vec<(String, Value)> {
        self.journal.lock().unwrap().clone()
    }

    /// Forget the recorded writes.
    pub fn clear_journal(&self) {
        self.journal.lock().unwrap().clear();
    }

    /// The server's clock (Unix seconds), which tests may move forward.
    pub fn now(&self) -> i64 {
        jiff::Timestamp::now().as_second() + self.clock_offset.load(Ordering::SeqCst)
    }

    /// Move the server's clock (expires tokens without waiting), and make the runs of global
    /// schedule rules due by then.
    pub fn advance_clock(&self, by: Duration) {
        self.clock_offset
            .fetch_add(by.as_secs() as i64, Ordering::SeqCst);
        self.catch_up();
    }

    /// The API routes (what the harness counts and faults).
    pub fn router(self: &Arc<Self>) -> Router {
        let guarded = kinds::ALL
            .iter()
            .fold(Router::new(), |r, def| r.merge(resources::routes(def)))
            .merge(history::routes())
            .route("/api/v1/server_hello", get(server_hello))
            .route_layer(middleware::from_fn_with_state(self.clone(), auth::guard));
        Router::new()
            .route("/api/v1/auth/login", post(auth::login))
            .route("/api/v1/auth/refresh", post(auth::refresh))
            .route("/api/v1/auth/logout", delete(auth::logout))
            .route("/api/v1/logout", delete(auth::logout))
            .merge(guarded)
            .with_state(self.clone())
    }
}

/// `GET /server_hello` (§8.3.2). GUESS: the document says only that it returns the version.
async fn server_hello(State(sim): State<Arc<Sim>>) -> axum::response::Response {
    reply::ok(json!({ "version": sim.config.version }))
}

/// A running simulator.
pub struct RuBackupSim {
    pub server: SimServer,
    pub sim: Arc<Sim>,
}

impl RuBackupSim {
    /// Serve plain HTTP on `addr` (`127.0.0.1:0` for a free port).
    pub async fn start(config: SimConfig, addr: SocketAddr) -> std::io::Result<RuBackupSim> {
        Self::start_with(config, addr, None).await
    }

    /// Serve HTTPS with `identity` (see `LoopbackPki`), as the real API does.
    pub async fn start_tls(
        config: SimConfig,
        addr: SocketAddr,
        identity: TlsIdentity,
    ) -> std::io::Result<RuBackupSim> {
        Self::start_with(config, addr, Some(identity)).await
    }

    async fn start_with(
        config: SimConfig,
        addr: SocketAddr,
        tls: Option<TlsIdentity>,
    ) -> std::io::Result<RuBackupSim> {
        let control = SimControl::new(reply::fault);
        let sim = Sim::new(config, control.clone());
        let server = SimServer::start_with(
            sim.router(),
            control::routes(sim.clone()),
            control,
            addr,
            tls,
        )
        .await?;
        Ok(RuBackupSim { server, sim })
    }

    /// Base URL of the server (the API is below `/api/v1`).
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Requests for one API operation, written as in the document (`GET /pool_list/{id}`).
    pub fn count(&self, operation: &str) -> u64 {
        let (method, path) = operation.split_once(' ').unwrap_or(("GET", operation));
        self.server
            .control
            .count(&format!("{method} /api/v1{path}"))
    }
}
