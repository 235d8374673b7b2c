//! Every vendor simulator the demo needs, seeded with a little realistic state, and the
//! provider configurations (with Secrets) that point the operator at them.

use std::net::SocketAddr;

use serde_json::{Value, json};

use crate::api::vendors::ideco::IdecoSection;
use crate::simulators::cyberbackup::{CyberBackupSim, SimConfig as CyberConfig};
use crate::simulators::harness::SimServer;
use crate::simulators::huawei_cbr::{CbrSim, CbrSimConfig};
use crate::simulators::ideco::{self, IdecoSim, IdecoSimOptions};
use crate::simulators::rs_server::RsServerSim;
use crate::simulators::rubackup::{RuBackupSim, SimConfig as RuBackupConfig};

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

/// Demo credentials of the simulated RuBackup and Cyber Backup administrators.
const RUBACKUP_LOGIN: (&str, &str) = ("rubackup", "demo-rubackup-password");
const CYBER_LOGIN: (&str, &str) = ("backup-admin", "demo-cyber-password");

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().expect("loopback")
}

impl DemoSimulators {
    pub async fn start() -> std::io::Result<Self> {
        let cbr = CbrSim::start(CbrSimConfig::default(), loopback()).await?;
        let rs = RsServerSim::start(loopback()).await?;
        let user = rs.state.add_user("backup-reader", "demo-password");
        let rs_token = rs.state.issue_token(&user, None);
        let project = rs.state.add_project("desktops");
        for name in ["desk-01", "desk-02", "desk-03", "build-agent"] {
            rs.state.add_server(&project, name);
        }
        rs.state.add_user_volume(&project, &user);
        let options = IdecoSimOptions::default();
        let ideco = ideco::start(loopback(), options).await?;
        for comment in [
            "allow established",
            "admin workstations",
            SENTINEL,
            "default deny",
        ] {
            let fields = if comment == SENTINEL {
                json!({"comment": comment, "enabled": false})
            } else {
                json!({"comment": comment})
            };
            let _ = ideco.1.human_insert(IdecoSection::Forward, fields, None);
        }
        let rubackup =
            RuBackupSim::start(RuBackupConfig::new(&[RUBACKUP_LOGIN]), loopback()).await?;
        let cyber_config = CyberConfig {
            users: [(CYBER_LOGIN.0.to_string(), CYBER_LOGIN.1.to_string())].into(),
            ..Default::default()
        };
        let cyber = CyberBackupSim::start(loopback(), cyber_config).await?;
        Ok(DemoSimulators {
            cbr,
            rs,
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
                    "huaweiCbr": {"projectId": "0605767b5780d5762fc5c0118072a564", "region": "ru-moscow-1", "authMethod": "Password",
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
