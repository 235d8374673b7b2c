//! Every vendor simulator the demo needs, seeded with a little realistic state, and the
//! provider configurations (with Secrets) that point the operator at them.

use std::net::SocketAddr;

use serde_json::{Value, json};

use crate::api::vendors::ideco::IdecoSection;
use crate::simulators::harness::SimServer;
use crate::simulators::huawei_cbr::{CbrSim, CbrSimConfig};
use crate::simulators::ideco::{self, IdecoSim, IdecoSimOptions};
use crate::simulators::rs_server::RsServerSim;

/// The comment of the rule people placed to mark where rampart's firewall block goes.
pub const SENTINEL: &str = "--- managed by rampart below ---";

pub struct DemoSimulators {
    pub cbr: CbrSim,
    pub rs: RsServerSim,
    pub ideco: (SimServer, IdecoSim),
    rs_token: String,
}

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
        Ok(DemoSimulators {
            cbr,
            rs,
            ideco,
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
        ]
    }

    /// Where each simulator listens, for the tour.
    pub fn endpoints(&self) -> Vec<(&'static str, String)> {
        vec![
            ("Huawei CBR (+IAM)", self.cbr.url()),
            ("RS server", self.rs.url()),
            ("Ideco NGFW", self.ideco.0.url()),
        ]
    }
}
