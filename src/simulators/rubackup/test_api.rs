//! A client of the simulator over HTTP for its tests: calls under `/api/v1` with a fresh
//! login each, the `/_sim/rubackup` controls, and the clock.

use std::net::SocketAddr;

use reqwest::Method;
use serde_json::{Value, json};

use super::{RuBackupSim, SimConfig};

pub const CLIENT: &str = "rubackup-client (525a99154f3505a2)";

pub struct Api {
    pub sim: RuBackupSim,
    http: reqwest::Client,
}

impl Api {
    pub async fn new(config: SimConfig) -> Api {
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let sim = RuBackupSim::start(config, addr).await.unwrap();
        crate::vendor::tls::install_crypto_provider();
        Api {
            sim,
            http: reqwest::Client::new(),
        }
    }

    /// A call under `/api/v1` with a fresh login (clock moves expire tokens).
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let login = json!({"rubackup_database": "rubackup", "rubackup_user": "u", "password": "p"});
        let url = |p: &str| format!("{}/api/v1{p}", self.sim.url());
        let tokens: Value = self
            .http
            .post(url("/auth/login"))
            .json(&login)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = |k: &str| tokens["data"][k].as_str().unwrap().to_string();
        let mut req = self
            .http
            .request(method, url(path))
            .bearer_auth(token("access_token"))
            .header("X-CSRF-TOKEN", token("csrf_token"));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap())
    }

    /// The `data` of a list (200 expected).
    pub async fn list(&self, path: &str) -> Vec<Value> {
        let (status, body) = self.call(Method::GET, path, None).await;
        assert_eq!(status, 200, "{path}: {body}");
        body["data"].as_array().unwrap().clone()
    }

    pub async fn control(&self, path: &str, body: Value) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}/_sim/rubackup{path}", self.sim.url()))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// A control read (`GET /_sim/rubackup{path}`), its JSON.
    pub async fn control_get(&self, path: &str) -> Value {
        let url = format!("{}/_sim/rubackup{path}", self.sim.url());
        let resp = self.http.get(url).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 200, "{path}");
        resp.json().await.unwrap()
    }

    /// Move the server clock forward by `secs`; the new time.
    pub async fn advance(&self, secs: i64) -> i64 {
        let (_, body) = self
            .control("/clock", json!({"advanceSeconds": secs}))
            .await;
        body["now"].as_i64().unwrap()
    }

    /// Move the clock to the next time `secs` past midnight (UTC), at least a minute ahead.
    pub async fn to_time_of_day(&self, secs: i64) -> i64 {
        let now = self.advance(0).await;
        let ahead = (secs - now.rem_euclid(86_400)).rem_euclid(86_400);
        let ahead = if ahead < 60 { ahead + 86_400 } else { ahead };
        self.advance(ahead).await;
        now + ahead
    }

    /// Create a global schedule rule in status `run`; its id.
    pub async fn rule(&self, name: &str, fields: Value) -> i64 {
        let mut rule = json!({
            "name": name, "client_id": CLIENT, "resource_type": "File system",
            "resource": format!("/{name}/"), "status": "run", "storage_duration": "1 day",
            "min": "0", "hour": "*", "dom": "*", "mon": "*", "dow": "*",
        });
        rule.as_object_mut()
            .unwrap()
            .extend(fields.as_object().unwrap().clone());
        let (status, body) = self
            .call(
                Method::POST,
                "/global_schedule",
                Some(json!({"data": {"global_schedule": rule}})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let found = self
            .list(&format!("/global_schedule?filterdata=name=\"{name}\""))
            .await;
        found[0]["id"].as_i64().unwrap()
    }
}

pub fn config() -> SimConfig {
    SimConfig::new(&[("u", "p")])
}

/// Unix seconds as the server lists them.
pub fn listed(secs: i64) -> String {
    jiff::Timestamp::from_second(secs)
        .unwrap()
        .strftime("%Y-%m-%dT%H:%M:%S")
        .to_string()
}
