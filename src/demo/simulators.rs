//! Every vendor simulator the demo needs, seeded with a little realistic state, and the
//! provider configurations (with Secrets) that point the operator at them.

use serde_json::{Value, json};

use crate::simulators::cyberbackup::{CyberBackupSim, SimConfig as CyberConfig};
use crate::simulators::harness::SimServer;
use crate::simulators::huawei_cbr::{CbrSim, CbrSimConfig};
use crate::simulators::ideco::{IdecoSim, IdecoSimOptions};
use crate::simulators::rs_server::RsServerSim;
use crate::simulators::rubackup::RuBackupSim;
use crate::simulators::standalone::vendors::{self, Login, SeedRule};
use crate::simulators::standalone::{ServeOptions, SimulateError};

/// The CBR project the demo's provider configuration names.
pub const CBR_PROJECT: &str = "0605767b5780d5762fc5c0118072a564";

/// The comment of the rule people placed to mark where rampart's firewall block goes.
pub const SENTINEL: &str = "--- managed by rampart below ---";

pub struct DemoSimulators {
    pub cbr: CbrSim,
    pub rs: RsServerSim,
    pub ideco: (SimServer, IdecoSim),
    pub rubackup: RuBackupSim,
    pub cyber: CyberBackupSim,
    rs_token: String,
}

/// Demo credentials of the simulated RuBackup, Cyber Backup and RS server users.
const RUBACKUP_LOGIN: (&str, &str) = ("rubackup", "demo-rubackup-password");
const CYBER_LOGIN: (&str, &str) = ("backup-admin", "demo-cyber-password");
const RS_LOGIN: (&str, &str) = ("backup-reader", "demo-password");

impl From<(&str, &str)> for Login {
    fn from((name, password): (&str, &str)) -> Login {
        Login::new(name, password)
    }
}

impl DemoSimulators {
    /// Each simulator from the starter `rampart simulate <vendor>` uses, seeded for the tour.
    pub async fn start() -> Result<Self, SimulateError> {
        let serve = ServeOptions::loopback();
        let d = CbrSimConfig::default();
        let cbr = vendors::huawei_cbr(&serve, (d.deleting_reads, d.progress_reads), &[])
            .await?
            .sim;
        let servers = ["desk-01", "desk-02", "desk-03", "build-agent"].map(String::from);
        let rs = vendors::rs_server(&serve, &RS_LOGIN.into(), "desktops", &servers).await?;
        let rs_token = rs
            .lines
            .iter()
            .find(|(k, _)| *k == "token")
            .expect("a token")
            .1
            .clone();
        let rules = [
            ("allow established", true),
            ("admin workstations", true),
            (SENTINEL, false),
            ("default deny", true),
        ]
        .map(|(comment, enabled)| SeedRule {
            comment: comment.into(),
            enabled,
        });
        let defaults = IdecoSimOptions::default();
        let ideco_login = Login::new(&defaults.login, &defaults.password);
        let ideco = vendors::ideco(&serve, &ideco_login, &rules).await?.sim;
        let rubackup = vendors::rubackup(&serve, &[RUBACKUP_LOGIN.into()])
            .await?
            .sim;
        let cyber = CyberConfig::default();
        let (deploy, run) = (cyber.deploy_seconds, cyber.run_seconds);
        let cyber = vendors::cyber_backup(&serve, &[CYBER_LOGIN.into()], deploy, run)
            .await?
            .sim;
        Ok(DemoSimulators {
            cbr,
            rs: rs.sim,
            ideco,
            rubackup,
            cyber,
            rs_token,
        })
    }

    /// Secrets and provider configurations, named as the examples expect them.
    pub fn provider_manifests(&self) -> Vec<Value> {
        let ideco_opts = IdecoSimOptions::default();
        let secret = |name: &str, data: Value| json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "stringData": data});
        let pc = |name: &str, spec: Value| json!({"apiVersion": "rampart.dev/v1alpha1", "kind": "ProviderConfig", "metadata": {"name": name}, "spec": spec});
        vec![
            secret(
                "cbr-credentials",
                json!({"username": "rampart", "password": "rampart-password", "domainName": "rampart-domain"}),
            ),
            pc(
                "cbr",
                json!({
                    "type": "HuaweiCbr", "endpoint": self.cbr.url(), "credentials": {"secretRef": {"name": "cbr-credentials"}},
                    "pollIntervalSeconds": 15,
                    "huaweiCbr": {"projectId": CBR_PROJECT, "region": "ru-moscow-1", "authMethod": "Password",
                                  "iamEndpoint": self.cbr.url(), "projectName": "ru-moscow-1"}
                }),
            ),
            secret("rs-credentials", json!({"token": self.rs_token})),
            pc(
                "rs",
                json!({
                    "type": "RsServer", "endpoint": self.rs.url(), "credentials": {"secretRef": {"name": "rs-credentials"}},
                    "pollIntervalSeconds": 15, "rsServer": {"authMethod": "Token"}
                }),
            ),
            secret(
                "ngfw-login",
                json!({"login": ideco_opts.login, "password": ideco_opts.password}),
            ),
            pc(
                "ngfw",
                json!({
                    "type": "Ideco", "endpoint": self.ideco.0.url(), "credentials": {"secretRef": {"name": "ngfw-login"}},
                    "pollIntervalSeconds": 15, "ideco": {}
                }),
            ),
            secret(
                "rubackup-credentials",
                json!({"username": RUBACKUP_LOGIN.0, "password": RUBACKUP_LOGIN.1}),
            ),
            pc(
                "rubackup",
                json!({
                    "type": "RuBackup", "endpoint": self.rubackup.url(), "credentials": {"secretRef": {"name": "rubackup-credentials"}},
                    "pollIntervalSeconds": 15, "ruBackup": {"database": "rubackup", "authType": "Database", "serverTimeZone": "Europe/Moscow"}
                }),
            ),
            secret(
                "cyberbackup-admin",
                json!({"username": CYBER_LOGIN.0, "password": CYBER_LOGIN.1}),
            ),
            pc(
                "cyberbackup",
                json!({
                    "type": "CyberBackup", "endpoint": self.cyber.url(), "credentials": {"secretRef": {"name": "cyberbackup-admin"}},
                    "pollIntervalSeconds": 15, "cyberBackup": {"agentTimeZone": "Europe/Moscow"}
                }),
            ),
        ]
    }

    /// Where each simulator listens, for the tour.
    pub fn endpoints(&self) -> Vec<(&'static str, String)> {
        vec![
            ("Huawei CBR (+IAM)", self.cbr.url()),
            ("RS server", self.rs.url()),
            ("Ideco NGFW", self.ideco.0.url()),
            ("RuBackup", self.rubackup.url()),
            ("Cyber Backup", self.cyber.url()),
        ]
    }
}
