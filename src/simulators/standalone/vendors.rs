//! One starter per vendor simulator, shared by `rampart simulate <vendor>` and `rampart demo`:
//! each starts the simulator where `ServeOptions` says, seeds the state it was asked to start
//! with, and lists what a client needs to reach it (the lines `simulate` prints).

use serde_json::json;

use super::{ServeOptions, SimulateError, tls_identity};
use crate::api::vendors::ideco::IdecoSection;
use crate::simulators::cyberbackup::{CyberBackupSim, SimConfig as CyberConfig};
use crate::simulators::harness::SimServer;
use crate::simulators::huawei_cbr::{CbrSim, CbrSimConfig};
use crate::simulators::ideco::{self, IdecoSim, IdecoSimOptions};
use crate::simulators::rs_server::RsServerSim;
use crate::simulators::rubackup::{RuBackupSim, SimConfig as RuBackupConfig};

/// A simulator serving, and the `key=value` lines that tell a client how to reach it.
pub struct Started<S> {
    pub sim: S,
    pub lines: Vec<(&'static str, String)>,
}

/// A login the simulator accepts, written `NAME:PASSWORD` on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub name: String,
    pub password: String,
}

impl Login {
    pub fn new(name: &str, password: &str) -> Login {
        Login {
            name: name.into(),
            password: password.into(),
        }
    }

    pub fn parse(text: &str) -> Result<Login, String> {
        match text.split_once(':') {
            Some((name, password)) if !name.is_empty() && !password.is_empty() => {
                Ok(Login::new(name, password))
            }
            _ => Err("expected NAME:PASSWORD".into()),
        }
    }
}

/// A vault the CBR simulator starts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedVault {
    pub name: String,
    pub object_type: String,
    pub size: i64,
}

/// Huawei CBR and its IAM on one address; `(deleting_reads, progress_reads)` as `CbrSimConfig`
/// has them.
pub async fn huawei_cbr(
    serve: &ServeOptions,
    (deleting_reads, progress_reads): (u32, u32),
    vaults: &[SeedVault],
) -> Result<Started<CbrSim>, SimulateError> {
    let config = CbrSimConfig {
        deleting_reads,
        progress_reads,
        ..CbrSimConfig::default()
    };
    let user = config.users[0].clone();
    let (project_name, project_id) = config.projects[0].clone();
    let (access_key, secret_key) = config.access_keys[0].clone();
    let sim = match tls_identity(serve)? {
        Some(identity) => CbrSim::start_tls(config, serve.listen, identity).await,
        None => CbrSim::start(config, serve.listen).await,
    }
    .map_err(|e| SimulateError::Listen(serve.listen, e))?;
    for v in vaults {
        sim.console()
            .insert_vault(&project_id, &v.name, &v.object_type, v.size);
    }
    let token = sim.console().issue_token(&project_id);
    let lines = vec![
        ("vendor", "huawei-cbr".into()),
        ("url", sim.url()),
        ("iam_url", sim.url()),
        ("project_name", project_name),
        ("project_id", project_id),
        ("domain_name", user.domain),
        ("domain_id", user.domain_id),
        ("username", user.name),
        ("password", user.password),
        ("access_key", access_key),
        ("secret_key", secret_key),
        ("token", token),
    ];
    Ok(Started { sim, lines })
}

/// RuBackup's REST API with these administrators (database `rubackup`).
pub async fn rubackup(
    serve: &ServeOptions,
    logins: &[Login],
) -> Result<Started<RuBackupSim>, SimulateError> {
    let pairs: Vec<(&str, &str)> = logins
        .iter()
        .map(|l| (l.name.as_str(), l.password.as_str()))
        .collect();
    let config = RuBackupConfig::new(&pairs);
    let database = config.database.clone();
    let sim = match tls_identity(serve)? {
        Some(identity) => RuBackupSim::start_tls(config, serve.listen, identity).await,
        None => RuBackupSim::start(config, serve.listen).await,
    }
    .map_err(|e| SimulateError::Listen(serve.listen, e))?;
    let mut lines = vec![
        ("vendor", "rubackup".into()),
        ("url", sim.url()),
        ("database", database),
    ];
    lines.extend(login_lines(logins));
    Ok(Started { sim, lines })
}

/// Cyber Backup 18.5's API with these administrators; plans deploy and run in the seconds given.
pub async fn cyber_backup(
    serve: &ServeOptions,
    logins: &[Login],
    deploy_seconds: i64,
    run_seconds: i64,
) -> Result<Started<CyberBackupSim>, SimulateError> {
    let config = CyberConfig {
        users: logins
            .iter()
            .map(|l| (l.name.clone(), l.password.clone()))
            .collect(),
        deploy_seconds,
        run_seconds,
        ..Default::default()
    };
    let sim = match tls_identity(serve)? {
        Some(identity) => CyberBackupSim::start_tls(serve.listen, config, identity).await,
        None => CyberBackupSim::start(serve.listen, config).await,
    }
    .map_err(|e| SimulateError::Listen(serve.listen, e))?;
    let mut lines = vec![("vendor", "cyber-backup".into()), ("url", sim.url())];
    lines.extend(login_lines(logins));
    Ok(Started { sim, lines })
}

/// A rule a person placed in the Forward section before rampart came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedRule {
    pub comment: String,
    pub enabled: bool,
}

/// Ideco NGFW with one administrator and these people's rules in the Forward section, in order.
pub async fn ideco(
    serve: &ServeOptions,
    login: &Login,
    rules: &[SeedRule],
) -> Result<Started<(SimServer, IdecoSim)>, SimulateError> {
    let options = IdecoSimOptions {
        login: login.name.clone(),
        password: login.password.clone(),
        ..IdecoSimOptions::default()
    };
    let sim = match tls_identity(serve)? {
        Some(identity) => ideco::start_tls(serve.listen, options, identity).await,
        None => ideco::start(serve.listen, options).await,
    }
    .map_err(|e| SimulateError::Listen(serve.listen, e))?;
    for rule in rules {
        let fields = json!({"comment": rule.comment, "enabled": rule.enabled});
        sim.1
            .human_insert(IdecoSection::Forward, fields, None)
            .map_err(|e| SimulateError::Seed(format!("rule {:?}: {e:?}", rule.comment)))?;
    }
    let mut lines = vec![("vendor", "ideco".into()), ("url", sim.0.url())];
    lines.extend(login_lines(std::slice::from_ref(login)));
    Ok(Started { sim, lines })
}

/// The RS server (TRS) with Keystone: one user, one project with these servers and a volume of
/// the user's; prints a token issued to the user.
pub async fn rs_server(
    serve: &ServeOptions,
    login: &Login,
    project: &str,
    servers: &[String],
) -> Result<Started<RsServerSim>, SimulateError> {
    let sim = match tls_identity(serve)? {
        Some(identity) => RsServerSim::start_tls(serve.listen, identity).await,
        None => RsServerSim::start(serve.listen).await,
    }
    .map_err(|e| SimulateError::Listen(serve.listen, e))?;
    let user = sim.state.add_user(&login.name, &login.password);
    let token = sim.state.issue_token(&user, None);
    let project_id = sim.state.add_project(project);
    for name in servers {
        sim.state.add_server(&project_id, name);
    }
    sim.state.add_user_volume(&project_id, &user);
    let mut lines = vec![("vendor", "rs-server".into()), ("url", sim.url())];
    lines.extend(login_lines(std::slice::from_ref(login)));
    lines.extend([
        ("project", project.to_string()),
        ("project_id", project_id),
        ("token", token),
    ]);
    Ok(Started { sim, lines })
}

fn login_lines(logins: &[Login]) -> Vec<(&'static str, String)> {
    logins
        .iter()
        .flat_map(|l| {
            [
                ("username", l.name.clone()),
                ("password", l.password.clone()),
            ]
        })
        .collect()
}
