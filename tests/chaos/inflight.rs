//! What a kill or a fault interrupted, from the simulators' request logs: the vendor writes a
//! simulator held at a moment (arrived, not yet answered), and the writes that met an injected
//! fault, each counted as a create, an update or a delete. Logins and token calls are not
//! counted: they change nothing the tests check.

use std::time::Instant;

use rampart::simulators::harness::LoggedRequest;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Writes {
    pub creates: usize,
    pub updates: usize,
    pub deletes: usize,
}

impl Writes {
    pub fn total(&self) -> usize {
        self.creates + self.updates + self.deletes
    }

    pub fn add(&mut self, other: Writes) {
        self.creates += other.creates;
        self.updates += other.updates;
        self.deletes += other.deletes;
    }

    fn count(&mut self, r: &LoggedRequest) {
        match write_kind(&r.operation) {
            Some(WriteKind::Create) => self.creates += 1,
            Some(WriteKind::Update) => self.updates += 1,
            Some(WriteKind::Delete) => self.deletes += 1,
            None => {}
        }
    }
}

impl std::fmt::Display for Writes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} creates, {} updates, {} deletes",
            self.creates, self.updates, self.deletes
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKind {
    Create,
    Update,
    Delete,
}

/// What a vendor operation (`"METHOD /route/{template}"`) does to the objects the tests count.
pub fn write_kind(operation: &str) -> Option<WriteKind> {
    let (method, path) = operation.split_once(' ')?;
    let session = ["/auth/", "/idp/token", "/login", "/logout"];
    if session.iter().any(|s| path.contains(s)) {
        return None;
    }
    // Actions on an object (CBR's resource and policy bindings, Ideco's move) change it.
    let actions = [
        "addresources",
        "addressesources",
        "addressources",
        "removeresources",
        "associatepolicy",
        "dissociatepolicy",
        "/move",
    ];
    match method {
        "DELETE" => Some(WriteKind::Delete),
        "PUT" | "PATCH" => Some(WriteKind::Update),
        "POST" if actions.iter().any(|a| path.ends_with(a)) => Some(WriteKind::Update),
        "POST" => Some(WriteKind::Create),
        _ => None,
    }
}

/// Writes the simulators held at `t`.
pub fn in_flight(requests: &[LoggedRequest], t: Instant) -> Writes {
    let mut w = Writes::default();
    for r in requests.iter().filter(|r| r.in_flight_at(t)) {
        w.count(r);
    }
    w
}

/// Every write, by kind.
pub fn writes(requests: &[LoggedRequest]) -> Writes {
    let mut w = Writes::default();
    for r in requests {
        w.count(r);
    }
    w
}

/// Writes that met an injected fault (an error, 429, a hang or a dropped connection).
pub fn faulted(requests: &[LoggedRequest]) -> Writes {
    let mut w = Writes::default();
    for r in requests.iter().filter(|r| !r.faults.is_empty()) {
        w.count(r);
    }
    w
}

#[test]
fn operations_are_classed_by_what_they_do() {
    use WriteKind::*;
    let cases = [
        ("POST /v3/{project_id}/vaults", Some(Create)),
        ("PUT /v3/{project_id}/vaults/{vault_id}", Some(Update)),
        (
            "POST /v3/{project_id}/vaults/{vault_id}/associatepolicy",
            Some(Update),
        ),
        ("DELETE /v3/{project_id}/policies/{policy_id}", Some(Delete)),
        ("POST /v3/auth/tokens", None),
        ("POST /idp/token", None),
        ("POST /web/auth/login", None),
        ("PATCH /firewall/rules/{section}/move", Some(Update)),
        ("POST /api/v1/auth/login", None),
        ("GET /firewall/rules/{section}", None),
    ];
    for (op, want) in cases {
        assert_eq!(write_kind(op), want, "{op}");
    }
}
