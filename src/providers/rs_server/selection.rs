//! `resourcesFrom.rsServer` → the resources a CBR vault should protect. Pure: the project
//! lookup, the include/name filter and the mapping to CBR resource types take lists and give
//! lists; the runtime feeds them from its cached collections.

use std::collections::BTreeMap;

use super::VENDOR;
use super::models::{TrsProject, TrsServer, UserVolume};
use super::name_pattern::NamePattern;
use crate::api::vendors::huawei_cbr::{CbrResource, CbrResourceType};
use crate::api::vendors::rs_server::{RsServerProjectRef, RsServerSelector};
use crate::engine::external::ExternalError;
use crate::vendor::error::{ErrorKind, VendorError};

/// Spec path of the selector's project, named by errors about it.
pub const PROJECT_FIELD: &str = "spec.huaweiCbr.resourcesFrom.rsServer.project";
/// Spec path of the selector's name pattern.
pub const NAME_PATTERN_FIELD: &str = "spec.huaweiCbr.resourcesFrom.rsServer.namePattern";
/// Operation label of errors that are about the selector itself, not about a vendor call.
pub const SELECTOR_OPERATION: &str = "resolve resourcesFrom.rsServer";

/// Nova statuses of servers that are on their way out and have nothing left to back up.
// GUESS: the document shows only ACTIVE; these are Nova's terminal statuses.
const GONE_STATUSES: [&str; 2] = ["DELETED", "SOFT_DELETED"];

/// One resource a selector resolved to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SelectedResource {
    /// Nova server id or Cinder volume id.
    pub id: String,
    /// `OS::Nova::Server` for TRS machines, `OS::Cinder::Volume` for user volumes.
    pub resource_type: CbrResourceType,
    /// The server's name (`os_server.name`); `None` for user volumes, which RS server does not
    /// name (CBR fills the name in).
    pub name: Option<String>,
}

impl SelectedResource {
    /// The CBR vault resource (`ResourceCreate`) for this selection.
    pub fn to_cbr_resource(&self) -> CbrResource {
        CbrResource {
            id: self.id.clone(),
            type_: self.resource_type,
            name: self.name.clone(),
            exclude_volumes: Vec::new(),
        }
    }
}

/// What to keep from a project's inventory.
#[derive(Debug, Clone)]
pub struct Selection {
    pub include_servers: bool,
    pub include_user_volumes: bool,
    pub pattern: Option<NamePattern>,
}

impl Selection {
    /// The filter of a selector; an invalid glob is an error naming `namePattern`.
    pub fn from_selector(s: &RsServerSelector) -> Result<Self, VendorError> {
        let pattern = match &s.name_pattern {
            Some(p) => Some(NamePattern::parse(p).map_err(|e| {
                selector_error(
                    NAME_PATTERN_FIELD,
                    ErrorKind::Config,
                    format!("'{p}' is not a valid glob: {e}"),
                )
            })?),
            None => None,
        };
        Ok(Selection {
            include_servers: s.include_servers,
            include_user_volumes: s.include_user_volumes,
            pattern,
        })
    }

    fn keeps_server(&self, s: &TrsServer) -> bool {
        if s.status
            .as_deref()
            .is_some_and(|st| GONE_STATUSES.contains(&st))
        {
            return false;
        }
        match (&self.pattern, &s.name) {
            (None, _) => true,
            (Some(p), Some(name)) => p.matches(name),
            // Nova no longer reports the server: there is no name to match.
            (Some(_), None) => false,
        }
    }
}

/// The project a selector means, among the projects the token can see.
pub fn find_project<'a>(
    projects: impl IntoIterator<Item = &'a TrsProject>,
    wanted: &RsServerProjectRef,
) -> Result<&'a TrsProject, VendorError> {
    let projects: Vec<&TrsProject> = projects.into_iter().collect();
    let visible = projects.len();
    if let Some(id) = &wanted.id {
        return projects.into_iter().find(|p| &p.id == id).ok_or_else(|| {
            let msg = format!("RS server has no TRS project with id '{id}' ({visible} projects visible to this provider)");
            selector_error(PROJECT_FIELD, ErrorKind::NotFound, msg)
        });
    }
    let name = wanted.name.as_deref().unwrap_or_default();
    let mut named: Vec<&TrsProject> = projects
        .into_iter()
        .filter(|p| p.name.as_deref() == Some(name))
        .collect();
    match named.len() {
        1 => Ok(named.remove(0)),
        0 => {
            let msg = format!(
                "RS server has no TRS project named '{name}' ({visible} projects visible to this provider)"
            );
            Err(selector_error(PROJECT_FIELD, ErrorKind::NotFound, msg))
        }
        _ => {
            let ids: Vec<&str> = named.iter().map(|p| p.id.as_str()).collect();
            let msg = format!(
                "several TRS projects are named '{name}' (ids {}); select one by project.id",
                ids.join(", ")
            );
            Err(selector_error(PROJECT_FIELD, ErrorKind::Config, msg))
        }
    }
}

/// The resources of `project_id` that `selection` keeps, servers then volumes, each by id, with
/// every volume id once (a volume assigned to two users is one resource).
pub fn select<'a>(
    project_id: &str,
    servers: impl IntoIterator<Item = &'a TrsServer>,
    volumes: impl IntoIterator<Item = &'a UserVolume>,
    selection: &Selection,
) -> Vec<SelectedResource> {
    let mut out = BTreeMap::new();
    let mut keep = |r: SelectedResource| out.insert((r.resource_type, r.id.clone()), r);
    if selection.include_servers {
        // The lists are asked for with `project_id`, but the document leaves its "modifiers"
        // undefined, so the project is checked here too.
        for s in servers
            .into_iter()
            .filter(|s| s.project_id == project_id && selection.keeps_server(s))
        {
            keep(SelectedResource {
                id: s.id.clone(),
                resource_type: CbrResourceType::Server,
                name: s.name.clone(),
            });
        }
    }
    if selection.include_user_volumes {
        for v in volumes.into_iter().filter(|v| v.project_id == project_id) {
            keep(SelectedResource {
                id: v.volume_id.clone(),
                resource_type: CbrResourceType::Volume,
                name: None,
            });
        }
    }
    out.into_values().collect()
}

/// An error about the selector itself; its message starts with the spec field.
pub fn selector_error(field: &str, kind: ErrorKind, message: String) -> VendorError {
    VendorError::new(
        VENDOR,
        SELECTOR_OPERATION,
        kind,
        format!("{field}: {message}"),
    )
}

/// The adapter-level error for a failed `resolve`: a problem with the selector becomes
/// `InvalidSpec` naming its field; a vendor failure stays a vendor error (retried by kind).
pub fn into_external_error(e: VendorError) -> ExternalError {
    if e.operation == SELECTOR_OPERATION
        && let Some((field, message)) = e.message.split_once(": ")
    {
        return ExternalError::invalid(field, message);
    }
    ExternalError::Vendor(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::common::ProviderConfigRef;

    fn server(id: &str, project: &str, name: Option<&str>, status: &str) -> TrsServer {
        TrsServer {
            id: id.into(),
            project_id: project.into(),
            name: name.map(Into::into),
            status: Some(status.into()),
        }
    }

    fn volume(assignment: &str, project: &str, volume: &str) -> UserVolume {
        UserVolume {
            assignment_id: assignment.into(),
            project_id: project.into(),
            user_id: "u".into(),
            volume_id: volume.into(),
        }
    }

    fn selector(servers: bool, volumes: bool, pattern: Option<&str>) -> RsServerSelector {
        RsServerSelector {
            provider_config_ref: ProviderConfigRef {
                name: "trs".into(),
                ..Default::default()
            },
            project: RsServerProjectRef {
                id: Some("p1".into()),
                name: None,
            },
            include_servers: servers,
            include_user_volumes: volumes,
            name_pattern: pattern.map(Into::into),
        }
    }

    fn ids(r: &[SelectedResource]) -> Vec<&str> {
        r.iter().map(|r| r.id.as_str()).collect()
    }

    fn inventory() -> (Vec<TrsServer>, Vec<UserVolume>) {
        let servers = vec![
            server("s2", "p1", Some("trs-02"), "ACTIVE"),
            server("s1", "p1", Some("trs-01"), "SHUTOFF"),
            server("s3", "p1", Some("gpu-01"), "ACTIVE"),
            server("s4", "p1", Some("trs-04"), "DELETED"),
            server("s5", "p2", Some("trs-05"), "ACTIVE"),
            server("s6", "p1", None, "ACTIVE"),
        ];
        let volumes = vec![
            volume("5", "p1", "v1"),
            volume("6", "p1", "v1"),
            volume("7", "p1", "a2"),
            volume("8", "p2", "v3"),
        ];
        (servers, volumes)
    }

    #[test]
    fn servers_of_the_project_without_gone_ones_sorted_by_id() {
        let (servers, volumes) = inventory();
        let sel = Selection::from_selector(&selector(true, false, None)).unwrap();
        let r = select("p1", &servers, &volumes, &sel);
        assert_eq!(ids(&r), ["s1", "s2", "s3", "s6"]);
        assert!(r.iter().all(|r| r.resource_type == CbrResourceType::Server));
        assert_eq!(r[0].name.as_deref(), Some("trs-01"));
    }

    #[test]
    fn the_pattern_filters_servers_by_name_and_drops_nameless_ones() {
        let (servers, volumes) = inventory();
        let sel = Selection::from_selector(&selector(true, true, Some("trs-*"))).unwrap();
        let r = select("p1", &servers, &volumes, &sel);
        assert_eq!(
            ids(&r),
            ["s1", "s2", "a2", "v1"],
            "servers first; volumes are not filtered by the pattern"
        );
    }

    #[test]
    fn user_volumes_alone_each_volume_once() {
        let (servers, volumes) = inventory();
        let sel = Selection::from_selector(&selector(false, true, None)).unwrap();
        let r = select("p1", &servers, &volumes, &sel);
        assert_eq!(ids(&r), ["a2", "v1"]);
        assert_eq!(
            r[1],
            SelectedResource {
                id: "v1".into(),
                resource_type: CbrResourceType::Volume,
                name: None
            }
        );
    }

    #[test]
    fn an_invalid_pattern_names_the_field() {
        let e = Selection::from_selector(&selector(true, false, Some("trs-[0-9"))).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Config);
        match into_external_error(e) {
            ExternalError::InvalidSpec { field, message } => {
                assert_eq!(field, NAME_PATTERN_FIELD);
                assert_eq!(
                    message,
                    "'trs-[0-9' is not a valid glob: '[' at character 5 is never closed with ']'"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    fn by_id(id: &str) -> RsServerProjectRef {
        RsServerProjectRef {
            id: Some(id.into()),
            name: None,
        }
    }

    fn by_name(name: &str) -> RsServerProjectRef {
        RsServerProjectRef {
            id: None,
            name: Some(name.into()),
        }
    }

    fn project(id: &str, name: &str) -> TrsProject {
        TrsProject {
            id: id.into(),
            name: Some(name.into()),
            domain_id: Some("default".into()),
        }
    }

    #[test]
    fn projects_are_found_by_id_or_name() {
        let projects = [project("p1", "office"), project("p2", "lab")];
        assert_eq!(
            find_project(&projects, &by_id("p2"))
                .unwrap()
                .name
                .as_deref(),
            Some("lab")
        );
        assert_eq!(
            find_project(&projects, &by_name("office")).unwrap().id,
            "p1"
        );
    }

    #[test]
    fn an_unknown_project_is_an_error_naming_the_field() {
        let projects = [project("p1", "office")];
        let e = find_project(&projects, &by_name("nope")).unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotFound);
        assert_eq!(
            e.to_string(),
            "rs-server resolve resourcesFrom.rsServer: spec.huaweiCbr.resourcesFrom.rsServer.project: \
             RS server has no TRS project named 'nope' (1 projects visible to this provider)"
        );
        let e = find_project(&projects, &by_id("p9")).unwrap_err();
        assert!(
            matches!(into_external_error(e), ExternalError::InvalidSpec { field, .. } if field == PROJECT_FIELD)
        );
    }

    #[test]
    fn a_shared_name_asks_for_the_id() {
        let projects = [project("p1", "office"), project("p2", "office")];
        let e = find_project(&projects, &by_name("office")).unwrap_err();
        assert!(e.message.contains("ids p1, p2"), "{e}");
    }

    #[test]
    fn vendor_failures_stay_vendor_errors() {
        let e = VendorError::new(VENDOR, "GET /v1/servers/", ErrorKind::Unavailable, "x: y");
        assert!(matches!(into_external_error(e), ExternalError::Vendor(_)));
    }

    #[test]
    fn a_selection_becomes_a_cbr_resource() {
        let s = SelectedResource {
            id: "s1".into(),
            resource_type: CbrResourceType::Server,
            name: Some("trs-01".into()),
        };
        let r = s.to_cbr_resource();
        assert_eq!(
            (r.id.as_str(), r.type_, r.name.as_deref()),
            ("s1", CbrResourceType::Server, Some("trs-01"))
        );
    }
}
