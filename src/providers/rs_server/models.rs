//! RS server responses → rampart's view of them. The document types several fields one way and
//! shows them another (`license` "string" but an object, assignment `id` "string" but an
//! integer, booleans sent as `"True"`), so the wire types accept both forms.

use serde::{Deserialize, Deserializer};

/// `GET /v1/info` → `info`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ModuleInfo {
    pub version: Option<String>,
    pub license: Option<License>,
}

/// The licence object of `/v1/info` (typed "string" in the table, an object in the example).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct License {
    /// Unix seconds.
    #[serde(default)]
    pub created_at: Option<i64>,
    /// Unix seconds.
    #[serde(default)]
    pub expire_at: Option<i64>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub product: Option<String>,
    #[serde(default)]
    pub verified: Option<bool>,
    /// Set when the vendor sent the licence as plain text instead of an object.
    #[serde(skip)]
    pub text: Option<String>,
}

/// A TRS project (`GET /v1/projects/?with_os_object=true`). Its name lives in `os_project`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrsProject {
    pub id: String,
    pub name: Option<String>,
    pub domain_id: Option<String>,
}

/// A TRS machine (`GET /v1/servers/?with_os_object=true`). Name and Nova status live in
/// `os_server`, which is absent when Nova no longer knows the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrsServer {
    pub id: String,
    pub project_id: String,
    pub name: Option<String>,
    pub status: Option<String>,
}

/// A user volume (`GET /v1/volume-assignments/`): a Cinder volume assigned to a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserVolume {
    pub assignment_id: String,
    pub project_id: String,
    pub user_id: String,
    pub volume_id: String,
}

#[derive(Deserialize)]
struct InfoEnvelope {
    info: WireInfo,
}

#[derive(Deserialize)]
struct WireInfo {
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    license: Option<WireLicense>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum WireLicense {
    Object(License),
    Text(String),
}

#[derive(Deserialize)]
struct ProjectList {
    projects: Vec<WireProject>,
}

#[derive(Deserialize)]
struct WireProject {
    id: String,
    #[serde(default)]
    os_project: Option<OsProject>,
}

#[derive(Deserialize)]
struct OsProject {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    domain_id: Option<String>,
}

#[derive(Deserialize)]
struct ServerList {
    servers: Vec<WireServer>,
}

#[derive(Deserialize)]
struct WireServer {
    id: String,
    project_id: String,
    #[serde(default)]
    os_server: Option<OsServer>,
}

#[derive(Deserialize)]
struct OsServer {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    status: Option<String>,
}

#[derive(Deserialize)]
struct AssignmentList {
    #[serde(rename = "volume-assignments")]
    assignments: Vec<WireAssignment>,
}

#[derive(Deserialize)]
struct WireAssignment {
    #[serde(deserialize_with = "string_or_number")]
    id: String,
    project_id: String,
    user_id: String,
    volume_id: String,
}

/// An id the document types as string and shows as a number.
fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        S(String),
        N(i64),
    }
    Ok(match Id::deserialize(d)? {
        Id::S(s) => s,
        Id::N(n) => n.to_string(),
    })
}

pub fn parse_info(body: &[u8]) -> serde_json::Result<ModuleInfo> {
    let InfoEnvelope { info } = serde_json::from_slice(body)?;
    let license = info.license.map(|l| match l {
        WireLicense::Object(l) => l,
        WireLicense::Text(text) => License {
            text: Some(text),
            ..License::default()
        },
    });
    Ok(ModuleInfo {
        version: info.version,
        license,
    })
}

pub fn parse_projects(body: &[u8]) -> serde_json::Result<Vec<TrsProject>> {
    let ProjectList { projects } = serde_json::from_slice(body)?;
    Ok(projects
        .into_iter()
        .map(|p| {
            let (name, domain_id) = p
                .os_project
                .map(|o| (o.name, o.domain_id))
                .unwrap_or_default();
            TrsProject {
                id: p.id,
                name,
                domain_id,
            }
        })
        .collect())
}

pub fn parse_servers(body: &[u8]) -> serde_json::Result<Vec<TrsServer>> {
    let ServerList { servers } = serde_json::from_slice(body)?;
    Ok(servers
        .into_iter()
        .map(|s| {
            let (name, status) = s.os_server.map(|o| (o.name, o.status)).unwrap_or_default();
            TrsServer {
                id: s.id,
                project_id: s.project_id,
                name,
                status,
            }
        })
        .collect())
}

pub fn parse_volume_assignments(body: &[u8]) -> serde_json::Result<Vec<UserVolume>> {
    let AssignmentList { assignments } = serde_json::from_slice(body)?;
    Ok(assignments
        .into_iter()
        .map(|a| UserVolume {
            assignment_id: a.id,
            project_id: a.project_id,
            user_id: a.user_id,
            volume_id: a.volume_id,
        })
        .collect())
}

/// The licence as one line for `status.atProvider.license`, judged against `now` (Unix seconds).
pub fn describe_license(l: &License, now: i64) -> String {
    if let Some(text) = l.text.as_ref().filter(|t| !t.trim().is_empty()) {
        return text.clone();
    }
    let mut parts = vec![l.product.clone().unwrap_or_else(|| "RS server".to_string())];
    if let Some(name) = &l.name {
        parts.push(format!("licensed to {name}"));
    }
    match l.verified {
        Some(true) => parts.push("verified".to_string()),
        Some(false) => parts.push("NOT verified".to_string()),
        None => {}
    }
    if let Some(exp) = l.expire_at {
        let date = jiff::Timestamp::from_second(exp)
            .map(|t| t.to_string())
            .unwrap_or_else(|_| exp.to_string());
        parts.push(if exp <= now {
            format!("EXPIRED at {date}")
        } else {
            format!("valid until {date}")
        });
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    // The document's examples, with the trailing commas it has (L91-95, L494-503) removed.
    const INFO: &str = r#"{"info": {"license": {"created_at": 1538141220, "expire_at": 1545955200,
        "module_package": "rs_server", "name": "Laboratoria", "product": "RSserver",
        "surrogate_name": "RSserver", "unique_id": "07-002-decf3c6c893561752802", "verified": true},
        "version": "0.1.0"}}"#;

    #[test]
    fn info_reads_version_and_the_licence_object() {
        let info = parse_info(INFO.as_bytes()).unwrap();
        assert_eq!(info.version.as_deref(), Some("0.1.0"));
        let l = info.license.unwrap();
        assert_eq!(l.expire_at, Some(1545955200));
        assert_eq!(l.name.as_deref(), Some("Laboratoria"));
        assert_eq!(
            describe_license(&l, 1_540_000_000),
            "RSserver, licensed to Laboratoria, verified, valid until 2018-12-28T00:00:00Z"
        );
        assert_eq!(
            describe_license(&l, 1_600_000_000),
            "RSserver, licensed to Laboratoria, verified, EXPIRED at 2018-12-28T00:00:00Z"
        );
    }

    #[test]
    fn info_accepts_the_licence_as_the_string_the_table_says() {
        let info =
            parse_info(br#"{"info": {"license": "site licence 42", "version": "1.2"}}"#).unwrap();
        assert_eq!(
            describe_license(&info.license.unwrap(), 0),
            "site licence 42"
        );
    }

    #[test]
    fn an_empty_licence_text_is_described_as_the_product() {
        // Found by tests/fuzz: `"license": ""` made the licence line empty.
        let info = parse_info(br#"{"info": {"license": "", "version": "1"}}"#).unwrap();
        assert_eq!(describe_license(&info.license.unwrap(), 0), "RS server");
    }

    #[test]
    fn projects_take_their_name_from_os_project() {
        let body = br#"{"projects": [
            {"id": "c445f25f8c7e48a99ee7985309ed6954", "operation_mode": "1", "user_volume_enabled": true,
             "os_project": {"name": "office", "domain_id": "default", "enabled": true, "tags": ["trs"]}},
            {"id": "37e51ab4c5134e5198788d1f6afe5b8b", "operation_mode": "2"}]}"#;
        let p = parse_projects(body).unwrap();
        assert_eq!(
            p[0],
            TrsProject {
                id: "c445f25f8c7e48a99ee7985309ed6954".into(),
                name: Some("office".into()),
                domain_id: Some("default".into())
            }
        );
        assert_eq!(p[1].name, None);
    }

    #[test]
    fn servers_take_name_and_status_from_os_server() {
        let body = br#"{"servers": [
            {"id": "7ad6183a-817e-47c7-b848-741fdfbecc40", "project_id": "184e", "assigned": true, "users": [], "groups": [],
             "os_server": {"name": "trs-01", "status": "ACTIVE", "os-extended-volumes:volumes_attached": []}},
            {"id": "0972fadc-6f8d-415a-b4cb-d4a0992b2370", "project_id": "184e", "assigned": "False", "users": [], "groups": []}]}"#;
        let s = parse_servers(body).unwrap();
        assert_eq!(s[0].name.as_deref(), Some("trs-01"));
        assert_eq!(s[0].status.as_deref(), Some("ACTIVE"));
        assert_eq!(
            (s[1].name.clone(), s[1].project_id.as_str()),
            (None, "184e")
        );
    }

    #[test]
    fn assignments_use_the_hyphenated_key_and_numeric_ids() {
        let body = br#"{"volume-assignments": [
            {"id": 5, "project_id": "3005", "user_id": "c72a", "volume_id": "c8327ff2-eb85-4495-ab68-df4aa36d7ae0"},
            {"id": "10", "project_id": "3005", "user_id": "7ac2", "volume_id": "2f1a653b-2f5a-499c-a2b9-2a893b855504"}]}"#;
        let v = parse_volume_assignments(body).unwrap();
        assert_eq!(v[0].assignment_id, "5");
        assert_eq!(v[1].assignment_id, "10");
        assert_eq!(v[0].volume_id, "c8327ff2-eb85-4495-ab68-df4aa36d7ae0");
    }

    #[test]
    fn a_wrong_envelope_is_an_error_not_an_empty_list() {
        assert!(parse_servers(br#"{"server": []}"#).is_err());
        assert!(parse_volume_assignments(br#"{"volume_assignments": []}"#).is_err());
        assert!(parse_projects(b"[]").is_err());
    }
}
