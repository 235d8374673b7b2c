//! Simulator of Huawei Cloud Backup and Recovery (CBR) v3 and its IAM token call, written from
//! seeds/huawei-cbr-api.txt: the `/v3/{project_id}/…` vault, policy, backup and task routes with
//! the document's envelopes, status codes, error bodies and validation ranges, policy runs that
//! make backups and tasks as the simulator's clock passes their triggers, restore points
//! (manual backups), restores and backup deletion that take a few reads, token and AK/SK
//! authentication (its own reading of the signing scheme; nothing here uses rampart's client),
//! vault deletions that pass through `deleting`, the API gateway's answer to unknown APIs, and
//! the harness's counters and faults. Where the document is silent, the choice is marked
//! `GUESS (Lnnn):` with the document line it concerns. `rampart simulate huawei-cbr` serves it
//! on its own; Huawei's Go SDK drives it in tools/cbr-conformance.

mod aksk;
mod backups;
mod checkpoints;
mod control;
mod error;
mod iam;
pub mod model;
mod operation_logs;
mod policies;
mod progress;
mod restores;
mod rrule;
mod runs;
mod validate;
mod vaults;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::middleware;
use axum::routing::{get, post};

pub use backups::SimBackup;
pub use error::{SimError, fault_body};
pub use iam::Scope;
pub use model::{Project, SimPolicy, SimResource, SimTask, SimVault};
pub use restores::SimRestore;
pub use runs::FailPlan;

use super::harness::{SimControl, SimServer};
use super::tls_listener::TlsIdentity;
use model::{Store, new_id};

/// An IAM user that may log in.
#[derive(Clone, Debug)]
pub struct SimUser {
    pub name: String,
    pub password: String,
    /// The name of the user's account (IAM's "domain").
    pub domain: String,
    /// The id of the user's account.
    pub domain_id: String,
}

/// Who may call the simulator.
#[derive(Clone, Debug)]
pub struct CbrSimConfig {
    pub users: Vec<SimUser>,
    /// IAM projects: (name, id). A token is scoped to one of them.
    pub projects: Vec<(String, String)>,
    /// Access key pairs: (AK, SK).
    pub access_keys: Vec<(String, String)>,
    /// Lifetime of issued tokens ("The validity period of a token is 24 hours").
    pub token_lifetime: Duration,
    /// Reads (GETs or lists showing it) during which a deleted vault is still `deleting`.
    pub deleting_reads: u32,
    /// Reads (GETs or lists showing one of its backups or tasks) during which a restore point
    /// is `protecting` or a restore `restoring` (progress.rs); 0 finishes them at once.
    pub progress_reads: u32,
}

impl Default for CbrSimConfig {
    fn default() -> Self {
        CbrSimConfig {
            users: vec![SimUser {
                name: "rampart".into(),
                password: "rampart-password".into(),
                domain: "rampart-domain".into(),
                domain_id: "d5d1f1e2b8a34f4c9a3b7e6c5d4e3f20".into(),
            }],
            projects: vec![(
                "ru-moscow-1".into(),
                "0605767b5780d5762fc5c0118072a564".into(),
            )],
            access_keys: vec![(
                "RAMPARTSIMACCESSKEY0".into(),
                "rampartSimSecretKey0123456789".into(),
            )],
            token_lifetime: Duration::from_secs(24 * 3600),
            deleting_reads: 2,
            progress_reads: 2,
        }
    }
}

pub(crate) struct SimShared {
    store: Mutex<Store>,
    control: Arc<SimControl>,
    config: CbrSimConfig,
}

type Shared = Arc<SimShared>;

/// A running CBR simulator.
pub struct CbrSim {
    pub server: SimServer,
    console: Console,
}

impl CbrSim {
    /// Serve on `addr` (`127.0.0.1:0` for a free port).
    pub async fn start(config: CbrSimConfig, addr: SocketAddr) -> std::io::Result<CbrSim> {
        Self::start_with(config, addr, None).await
    }

    /// Serve over HTTPS with `identity` (see `LoopbackPki`).
    pub async fn start_tls(
        config: CbrSimConfig,
        addr: SocketAddr,
        identity: TlsIdentity,
    ) -> std::io::Result<CbrSim> {
        Self::start_with(config, addr, Some(identity)).await
    }

    async fn start_with(
        config: CbrSimConfig,
        addr: SocketAddr,
        tls: Option<TlsIdentity>,
    ) -> std::io::Result<CbrSim> {
        let control = SimControl::new(fault_body);
        let shared = Arc::new(SimShared {
            store: Mutex::new(Store::default()),
            control: control.clone(),
            config,
        });
        let server = SimServer::start_with(
            routes(shared.clone()),
            control::router(shared.clone()),
            control,
            addr,
            tls,
        )
        .await?;
        Ok(CbrSim {
            server,
            console: Console(shared),
        })
    }

    /// Serve on a free loopback port with the default users, project and keys.
    pub async fn start_default() -> std::io::Result<CbrSim> {
        Self::start(
            CbrSimConfig::default(),
            "127.0.0.1:0".parse().expect("loopback address"),
        )
        .await
    }

    /// Base URL of both CBR and IAM.
    pub fn url(&self) -> String {
        self.server.url()
    }

    pub fn control(&self) -> &Arc<SimControl> {
        &self.server.control
    }

    /// Edit the state as a person in the console would.
    pub fn console(&self) -> &Console {
        &self.console
    }
}

/// The CBR and IAM routes, authenticated where CBR requires it.
fn routes(shared: Shared) -> Router {
    let p = "/v3/{project_id}";
    let v = format!("{p}/vaults/{{vault_id}}");
    let cbr = Router::new()
        .route(
            &format!("{p}/vaults"),
            post(vaults::create).get(vaults::list),
        )
        .route(
            &v,
            get(vaults::get).put(vaults::update).delete(vaults::delete),
        )
        .route(&format!("{v}/addresources"), post(vaults::add_resources))
        // The document also spells the path `addressesources` (URI line) and `addressources`
        // (chapter 5); both are served too.
        .route(&format!("{v}/addressesources"), post(vaults::add_resources))
        .route(&format!("{v}/addressources"), post(vaults::add_resources))
        .route(
            &format!("{v}/removeresources"),
            post(vaults::remove_resources),
        )
        .route(
            &format!("{v}/associatepolicy"),
            post(vaults::associate_policy),
        )
        .route(
            &format!("{v}/dissociatepolicy"),
            post(vaults::dissociate_policy),
        )
        .route(
            &format!("{p}/policies"),
            post(policies::create).get(policies::list),
        )
        .route(
            &format!("{p}/policies/{{policy_id}}"),
            get(policies::get)
                .put(policies::update)
                .delete(policies::delete),
        )
        .route(&format!("{p}/operation-logs"), get(operation_logs::list))
        .route(
            &format!("{p}/operation-logs/{{operation_log_id}}"),
            get(operation_logs::get),
        )
        .route(&format!("{p}/backups"), get(backups::list))
        .route(
            &format!("{p}/backups/{{backup_id}}"),
            get(backups::get).delete(backups::delete),
        )
        .route(
            &format!("{p}/backups/{{backup_id}}/restore"),
            post(restores::restore),
        )
        .route(&format!("{p}/checkpoints"), post(checkpoints::create))
        .route(
            &format!("{p}/checkpoints/{{checkpoint_id}}"),
            get(checkpoints::get),
        )
        .route_layer(middleware::from_fn_with_state(
            shared.clone(),
            iam::authenticate,
        ));
    Router::new()
        .route("/v3/auth/tokens", post(iam::issue_token))
        .merge(cbr)
        .fallback(error::no_such_api)
        .method_not_allowed_fallback(error::no_such_api)
        .with_state(shared)
}

/// The console: a Rust API over the simulator's state for tests.
#[derive(Clone)]
pub struct Console(Shared);

impl Console {
    fn with_project<T>(
        &self,
        project_id: &str,
        f: impl FnOnce(&mut Project, jiff::Timestamp) -> T,
    ) -> T {
        let mut store = self.0.store.lock().unwrap();
        let now = store.now();
        f(store.project(project_id), now)
    }

    /// Create an empty, available vault; returns its id.
    pub fn insert_vault(
        &self,
        project_id: &str,
        name: &str,
        object_type: &str,
        size: i64,
    ) -> String {
        self.with_project(project_id, |p, now| {
            p.vaults
                .push(SimVault::new(new_id(), name, object_type, size, now));
            p.vaults[p.vaults.len() - 1].id.clone()
        })
    }

    /// Change a vault; false when it does not exist.
    pub fn edit_vault(&self, project_id: &str, id: &str, f: impl FnOnce(&mut SimVault)) -> bool {
        self.with_project(project_id, |p, _| p.vault_mut(id).map(f).is_some())
    }

    pub fn delete_vault(&self, project_id: &str, id: &str) -> bool {
        self.with_project(project_id, |p, _| {
            let before = p.vaults.len();
            p.vaults.retain(|v| v.id != id);
            p.vaults.len() != before
        })
    }

    /// Create an enabled backup policy with these patterns and `operation_definition`; returns
    /// its id.
    pub fn insert_policy(
        &self,
        project_id: &str,
        name: &str,
        pattern: &[&str],
        operation_definition: serde_json::Value,
    ) -> String {
        let od = operation_definition
            .as_object()
            .cloned()
            .unwrap_or_default();
        let pattern = pattern.iter().map(|s| s.to_string()).collect();
        self.with_project(project_id, |p, now| {
            p.policies.push(SimPolicy::new(name, od, pattern, now));
            p.policies[p.policies.len() - 1].id.clone()
        })
    }

    pub fn edit_policy(&self, project_id: &str, id: &str, f: impl FnOnce(&mut SimPolicy)) -> bool {
        self.with_project(project_id, |p, _| p.policy_mut(id).map(f).is_some())
    }

    /// Delete a policy and its associations.
    pub fn delete_policy(&self, project_id: &str, id: &str) -> bool {
        self.with_project(project_id, |p, _| p.remove_policy(id))
    }

    /// A copy of one project's state.
    pub fn project(&self, project_id: &str) -> Project {
        self.0.store.lock().unwrap().project(project_id).clone()
    }

    /// Move the simulator's clock (token expiry, signature dates, policy runs) without
    /// sleeping; the runs the move passes are made at once.
    pub fn advance_clock(&self, by: jiff::SignedDuration) {
        let mut store = self.0.store.lock().unwrap();
        store.clock_offset = store.clock_offset.saturating_add(by);
        store.catch_up();
    }

    /// The simulator's clock (the runs due are made first).
    pub fn now(&self) -> jiff::Timestamp {
        let mut store = self.0.store.lock().unwrap();
        store.catch_up();
        store.now()
    }

    /// The next `runs` runs of a vault's policy fail with this error code and message (each
    /// leaves `error` backups and `failed` tasks); false when the vault does not exist.
    pub fn fail_runs(
        &self,
        project_id: &str,
        vault_id: &str,
        runs: u32,
        code: &str,
        message: &str,
    ) -> bool {
        self.with_project(project_id, |p, _| {
            if p.vault(vault_id).is_none() {
                return false;
            }
            let plan = FailPlan {
                runs,
                code: code.into(),
                message: message.into(),
            };
            if runs == 0 {
                p.failing.remove(vault_id);
            } else {
                p.failing.insert(vault_id.into(), plan);
            }
            true
        })
    }

    /// Run a policy now, as if its schedule had fired (whether or not it is enabled); false
    /// when it does not exist.
    pub fn run_policy(&self, project_id: &str, policy_id: &str) -> bool {
        self.with_project(project_id, |p, now| p.run_policy(policy_id, now))
    }

    /// Issue a token as IAM would for a password login scoped to `project_id`, without a call.
    pub fn issue_token(&self, project_id: &str) -> String {
        let epoch = self.0.control.token_epoch();
        let lifetime = self.0.config.token_lifetime;
        let mut store = self.0.store.lock().unwrap();
        let token = store
            .issue_token(Some(project_id.to_string()), epoch, lifetime)
            .0;
        self.0.control.remember_issued(&token);
        token
    }

    /// Tokens issued so far (revoked and expired ones included).
    pub fn tokens_issued(&self) -> usize {
        self.0.store.lock().unwrap().tokens.len()
    }
}

#[cfg(test)]
mod backups_tests;
#[cfg(test)]
mod checkpoints_tests;
#[cfg(test)]
mod gateway_tests;
#[cfg(test)]
mod limits_tests;
#[cfg(test)]
mod restores_tests;
#[cfg(test)]
mod tests;
