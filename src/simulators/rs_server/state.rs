//! The simulated cloud behind RS server: Keystone users, projects and tokens; TRS projects
//! (Keystone projects with TRS attributes, as `os_project` shows them), TRS machines (Nova
//! servers), volume assignments, floating-IP assignments and Celery tasks. Tests drive it
//! through this Rust API; other processes through `/_sim/rs-server/...`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use serde::Serialize;

use crate::simulators::harness::SimControl;

/// The one domain of the simulated cloud (Keystone's default domain).
pub const DOMAIN_ID: &str = "default";
pub const DOMAIN_NAME: &str = "Default";

/// A Keystone user.
#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: String,
    pub name: String,
    pub domain_id: String,
    #[serde(skip)]
    pub password: String,
}

/// A Keystone project; `trs` is set for TRS projects.
#[derive(Debug, Clone, Serialize)]
pub struct Project {
    pub id: String,
    pub name: String,
    pub domain_id: String,
    pub description: String,
    pub enabled: bool,
    pub trs: Option<TrsSettings>,
}

/// The TRS attributes of a project (`POST /v1/projects/` fields).
#[derive(Debug, Clone, Serialize, Default)]
pub struct TrsSettings {
    pub flavor_id: String,
    pub image_id: String,
    pub network_id: Option<String>,
    pub availability_zone: String,
    pub operation_mode: String,
    pub instance_init_script: Option<String>,
    pub min_reserve_vm: Option<i64>,
    pub instance_name_pattern: Option<String>,
    pub user_volume_enabled: bool,
    pub volume_size: Option<i64>,
    pub volume_type_id: Option<String>,
    pub tags: Vec<String>,
}

/// A TRS machine: a Nova server with TRS user and group assignments.
#[derive(Debug, Clone, Serialize)]
pub struct Server {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub description: Option<String>,
    pub status: String,
    pub users: Vec<String>,
    pub groups: Vec<String>,
    pub volumes_attached: Vec<String>,
    pub reservation_id: String,
    pub created: String,
}

/// A user volume assignment.
#[derive(Debug, Clone, Serialize)]
pub struct Assignment {
    pub id: i64,
    pub project_id: String,
    pub user_id: String,
    pub volume_id: String,
}

/// A token Keystone issued (or the control API minted, as `openstack token issue` would).
#[derive(Debug, Clone)]
pub struct TokenRecord {
    pub epoch: u64,
    pub expires_at: jiff::Timestamp,
    pub user_id: String,
    pub project_id: Option<String>,
}

/// A Celery task.
#[derive(Debug, Clone, Serialize)]
pub struct Task {
    pub id: String,
    pub name: String,
    pub status: String,
}

/// Everything the simulator holds.
#[derive(Debug, Default, Serialize)]
pub struct World {
    pub users: BTreeMap<String, User>,
    pub projects: BTreeMap<String, Project>,
    pub servers: BTreeMap<String, Server>,
    pub assignments: BTreeMap<i64, Assignment>,
    pub floating_ips: BTreeMap<String, String>,
    pub tasks: Vec<Task>,
    pub license_expired: bool,
    #[serde(skip)]
    pub tokens: HashMap<String, TokenRecord>,
    #[serde(skip)]
    next_assignment: i64,
}

impl World {
    /// A TRS project by id.
    pub fn trs_project(&self, id: &str) -> Option<&Project> {
        self.projects.get(id).filter(|p| p.trs.is_some())
    }

    pub fn insert_assignment(
        &mut self,
        project_id: &str,
        user_id: &str,
        volume_id: &str,
    ) -> Assignment {
        self.next_assignment += 1;
        let a = Assignment {
            id: self.next_assignment,
            project_id: project_id.into(),
            user_id: user_id.into(),
            volume_id: volume_id.into(),
        };
        self.assignments.insert(a.id, a.clone());
        a
    }

    pub fn insert_server(&mut self, project_id: &str, name: &str, reservation_id: &str) -> String {
        let id = uuid();
        let server = Server {
            id: id.clone(),
            project_id: project_id.into(),
            name: name.into(),
            description: None,
            status: "ACTIVE".into(),
            users: Vec::new(),
            groups: Vec::new(),
            volumes_attached: Vec::new(),
            reservation_id: reservation_id.into(),
            created: now_iso(),
        };
        self.servers.insert(id.clone(), server);
        id
    }

    pub fn insert_project(&mut self, name: &str, trs: Option<TrsSettings>) -> String {
        let id = hex32();
        let p = Project {
            id: id.clone(),
            name: name.into(),
            domain_id: DOMAIN_ID.into(),
            description: String::new(),
            enabled: true,
            trs,
        };
        self.projects.insert(id.clone(), p);
        id
    }
}

/// Shared simulator state: the world, the harness control block (token epoch, counters), and
/// how long issued tokens live.
pub struct SimState {
    world: Mutex<World>,
    pub control: Arc<SimControl>,
    token_lifetime: Mutex<Duration>,
}

impl SimState {
    pub fn new(control: Arc<SimControl>) -> Arc<Self> {
        let state = Arc::new(SimState {
            world: Mutex::new(World::default()),
            control,
            token_lifetime: Mutex::new(Duration::from_secs(3600)),
        });
        // Keystone always has an admin project to scope service tokens to.
        state.with(|w| w.insert_project("admin", None));
        state
    }

    /// Run `f` on the world under its lock (never held across an await).
    pub fn with<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        f(&mut self.world.lock().unwrap())
    }

    /// Add a Keystone user of the default domain; returns its id.
    pub fn add_user(&self, name: &str, password: &str) -> String {
        let id = hex32();
        let user = User {
            id: id.clone(),
            name: name.into(),
            domain_id: DOMAIN_ID.into(),
            password: password.into(),
        };
        self.with(|w| w.users.insert(id.clone(), user));
        id
    }

    /// Add a TRS project with the document's example settings; returns its id.
    pub fn add_project(&self, name: &str) -> String {
        let trs = TrsSettings {
            flavor_id: uuid(),
            image_id: uuid(),
            network_id: Some(uuid()),
            availability_zone: "nova".into(),
            operation_mode: "1".into(),
            user_volume_enabled: true,
            volume_size: Some(1),
            tags: vec!["trs".into()],
            ..TrsSettings::default()
        };
        self.with(|w| w.insert_project(name, Some(trs)))
    }

    /// The id of the project named `name` (TRS or not).
    pub fn project_id(&self, name: &str) -> Option<String> {
        self.with(|w| {
            w.projects
                .values()
                .find(|p| p.name == name)
                .map(|p| p.id.clone())
        })
    }

    /// Add an ACTIVE TRS machine to a project; returns its id.
    pub fn add_server(&self, project_id: &str, name: &str) -> String {
        self.with(|w| w.insert_server(project_id, name, &reservation_id()))
    }

    /// Change a server's Nova status (`ACTIVE`, `SHUTOFF`, `ERROR`, `DELETED`, ...).
    pub fn set_server_status(&self, id: &str, status: &str) -> bool {
        self.with(|w| {
            w.servers
                .get_mut(id)
                .map(|s| s.status = status.into())
                .is_some()
        })
    }

    /// Remove a server, as Nova does when it is deleted outside RS server.
    pub fn remove_server(&self, id: &str) -> bool {
        self.with(|w| w.servers.remove(id).is_some())
    }

    /// Create a user volume in a project and assign it to a user; returns (assignment, volume).
    pub fn add_user_volume(&self, project_id: &str, user_id: &str) -> (i64, String) {
        let volume_id = uuid();
        let a = self.with(|w| w.insert_assignment(project_id, user_id, &volume_id));
        (a.id, volume_id)
    }

    /// Remove a volume and every assignment of it.
    pub fn remove_user_volume(&self, volume_id: &str) -> bool {
        self.with(|w| {
            let before = w.assignments.len();
            w.assignments.retain(|_, a| a.volume_id != volume_id);
            w.assignments.len() != before
        })
    }

    /// Mint a token for a user, optionally project-scoped, as `openstack token issue` would.
    pub fn issue_token(&self, user_id: &str, project_id: Option<&str>) -> String {
        let token = format!("gAAAAA{}", hex32());
        let lifetime = *self.token_lifetime.lock().unwrap();
        let expires_at = jiff::Timestamp::now()
            + jiff::SignedDuration::try_from(lifetime).unwrap_or(jiff::SignedDuration::MAX);
        let record = TokenRecord {
            epoch: self.control.token_epoch(),
            expires_at,
            user_id: user_id.into(),
            project_id: project_id.map(Into::into),
        };
        self.with(|w| w.tokens.insert(token.clone(), record));
        self.control.remember_issued(&token);
        token
    }

    /// The caller behind a token that is known, of the current epoch, and not expired.
    pub fn validate_token(&self, token: &str) -> Option<TokenRecord> {
        let epoch = self.control.token_epoch();
        self.with(|w| {
            w.tokens
                .get(token)
                .filter(|t| t.epoch == epoch && t.expires_at > jiff::Timestamp::now())
                .cloned()
        })
    }

    /// How long tokens issued from now on live (default one hour, as Keystone's default).
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        *self.token_lifetime.lock().unwrap() = lifetime;
    }

    /// Expire the licence: every call but `/v1/info` then fails with code 2.
    pub fn set_license_expired(&self, expired: bool) {
        self.with(|w| w.license_expired = expired);
    }

    /// The whole world as JSON (passwords and tokens left out).
    pub fn dump(&self) -> serde_json::Value {
        self.with(|w| serde_json::to_value(&*w).expect("the world serializes"))
    }
}

/// A dashed UUID, as Nova and Cinder ids are.
pub fn uuid() -> String {
    let v: u128 = rand::rng().random();
    let h = format!("{v:032x}");
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

/// 32 hex digits, as Keystone ids are.
pub fn hex32() -> String {
    let v: u128 = rand::rng().random();
    format!("{v:032x}")
}

/// A Nova reservation id (`r-vd4o1bvy`).
pub fn reservation_id() -> String {
    let mut rng = rand::rng();
    let s: String = (0..8)
        .map(|_| char::from(b'a' + rng.random_range(0..26u8)))
        .collect();
    format!("r-{s}")
}

/// Now, as Nova writes `created` (`2018-12-17T12:25:04Z`).
pub fn now_iso() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}
