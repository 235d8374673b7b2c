//! The simulator over plain HTTP, as a client in another process sees it: the document's
//! semantics, the session cookies, the `/_sim/ideco` routes people use, and injected faults.

use crate::ideco_support::*;
use rampart::api::vendors::ideco::IdecoSection;
use rampart::engine::external::ExternalError;
use rampart::simulators::harness::Faults;
use rampart::vendor::error::ErrorKind;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn full_rule(comment: &str) -> Value {
    json!({
        "action": "accept", "comment": comment, "destination_addresses": [], "destination_addresses_negate": false,
        "destination_ports": [], "enabled": true, "hip_profiles": [], "incoming_interface": "", "outgoing_interface": "",
        "parent_id": "f3ffde22-a562-4f43-ac04-c40fcec6a88c", "protocol": "", "source_addresses": [],
        "source_addresses_negate": false, "timetable": []
    })
}

/// A client in another process: plain HTTP with the session cookies it logged in with.
struct Api {
    http: reqwest::Client,
    base: String,
    cookie: String,
}

impl Api {
    /// Log in, checking the two cookies the device sets.
    async fn login(base: String) -> Api {
        let http = http_client();
        let resp = http
            .post(format!("{base}/web/auth/login"))
            .json(&json!({"login": "admin", "password": "ideco-sim-password", "rest_path": "/"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let cookies: Vec<String> = resp
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
            .collect();
        assert_eq!(cookies.len(), 2);
        assert!(cookies[0].starts_with("insecure-ideco-session="));
        assert!(cookies[1].starts_with("__Secure-ideco-"));
        Api {
            http,
            base,
            cookie: cookies.join("; "),
        }
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("cookie", &self.cookie);
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await.unwrap()
    }

    async fn status(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> StatusCode {
        self.call(method, path, body).await.status()
    }

    async fn get(&self, path: &str) -> Value {
        let resp = self.call(reqwest::Method::GET, path, None).await;
        assert_eq!(resp.status(), StatusCode::OK, "GET {path}");
        resp.json().await.unwrap()
    }
}

#[tokio::test]
async fn the_session_cookies_guard_every_call() {
    let f = Fixture::start().await;
    let base = f.server.url();
    let http = http_client();
    let anonymous = http
        .get(format!("{base}/firewall/rules/forward"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert!(anonymous.json::<Value>().await.unwrap()["message"].is_string());
    let wrong = http
        .post(format!("{base}/web/auth/login"))
        .json(&json!({"login": "admin", "password": "x"}));
    assert_eq!(
        wrong.send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );

    let mut api = Api::login(base).await;
    assert_eq!(api.get("/firewall/state").await, json!({"enabled": true}));
    assert_eq!(
        api.status(reqwest::Method::DELETE, "/web/auth/login", None)
            .await,
        StatusCode::OK
    );
    assert_eq!(
        api.status(reqwest::Method::GET, "/firewall/state", None)
            .await,
        StatusCode::UNAUTHORIZED
    );
    // Both cookies are needed.
    let full = Api::login(api.base.clone()).await.cookie;
    api.cookie = full.split("; ").next().unwrap().to_string();
    assert_eq!(
        api.status(reqwest::Method::GET, "/firewall/state", None)
            .await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn rules_follow_the_document() {
    use reqwest::Method;
    let f = Fixture::start().await;
    let api = Api::login(f.server.url()).await;
    // No anchor appends; `insert_after` defaults to true; false takes the anchor's place.
    let create_at = |query: String| {
        let api = &api;
        async move {
            let path = format!("/firewall/rules/forward?{query}");
            let resp = api.call(Method::POST, &path, Some(full_rule("x"))).await;
            assert_eq!(resp.status(), StatusCode::OK);
            resp.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
        }
    };
    let a = create_at(String::new()).await;
    let b = create_at(String::new()).await;
    let after_a = create_at(format!("anchor_item_id={a}")).await;
    let before_a = create_at(format!("anchor_item_id={a}&insert_after=false")).await;
    assert_eq!(
        f.sim.ids(IdecoSection::Forward),
        vec![before_a, a, after_a, b]
    );

    // The move body is wrapped in params; a bare body is refused.
    let bare = json!({"id": b, "anchor_item_id": before_a, "insert_after": false});
    let path = "/firewall/rules/forward/move";
    assert_eq!(
        api.status(Method::PATCH, path, Some(bare.clone())).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        api.status(Method::PATCH, path, Some(json!({"params": bare})))
            .await,
        StatusCode::OK
    );
    assert_eq!(
        f.sim.ids(IdecoSection::Forward),
        vec![b, before_a, a, after_a]
    );

    // PUT replaces the body: a field left out is gone, the place stays.
    f.sim
        .human_edit(IdecoSection::Forward, a, json!({"nat_to": "1.1.1.1"}))
        .unwrap();
    let rule = format!("/firewall/rules/forward/{a}");
    assert_eq!(
        api.status(Method::PUT, &rule, Some(full_rule("a2"))).await,
        StatusCode::OK
    );
    let listed = api.get("/firewall/rules/forward").await;
    assert_eq!(
        (listed[2]["id"].as_i64(), listed[2]["comment"].as_str()),
        (Some(a), Some("a2"))
    );
    assert!(listed[2].get("nat_to").is_none());

    let log = api
        .status(Method::POST, "/firewall/rules/log", Some(full_rule("x")))
        .await;
    assert_eq!(
        log,
        StatusCode::BAD_REQUEST,
        "accept is not a logging action"
    );
    for expected in [StatusCode::OK, StatusCode::NOT_FOUND] {
        assert_eq!(api.status(Method::DELETE, &rule, None).await, expected);
    }
    assert_eq!(
        api.get("/firewall/counters/forward")
            .await
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

/// One call to a `/_sim/ideco` route, as a test in another process makes it.
async fn control(method: reqwest::Method, url: String, body: Option<Value>) -> reqwest::Response {
    let mut req = http_client().request(method, url);
    if let Some(body) = body {
        req = req.json(&body);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn people_edit_tables_through_the_control_routes_which_are_never_counted() {
    use reqwest::Method;
    let f = Fixture::start().await;
    let base = format!("{}/_sim/ideco", f.server.url());
    let mut added = Vec::new();
    for comment in ["x", "y", "z"] {
        let resp = control(
            Method::POST,
            format!("{base}/rules/input"),
            Some(json!({"comment": comment})),
        )
        .await;
        added.push(resp.json::<Value>().await.unwrap()["id"].as_i64().unwrap());
    }
    let (x, y, z) = (added[0], added[1], added[2]);
    let calls = [
        (
            Method::PATCH,
            format!("{base}/rules/input/{x}"),
            Some(json!({"action": "drop"})),
        ),
        (
            Method::POST,
            format!("{base}/rules/input/move"),
            Some(json!({"id": z, "anchor_item_id": x, "insert_after": false})),
        ),
        (Method::DELETE, format!("{base}/rules/input/{y}"), None),
        (
            Method::PUT,
            format!("{base}/state"),
            Some(json!({"enabled": false})),
        ),
        (
            Method::PUT,
            format!("{base}/session-expiry"),
            Some(json!({"answer": "redirect"})),
        ),
        (Method::POST, format!("{base}/sessions/expire"), None),
    ];
    for (method, url, body) in calls {
        assert_eq!(
            control(method, url, body).await.status(),
            StatusCode::NO_CONTENT
        );
    }
    let dump: Value = control(Method::GET, format!("{base}/rules/input"), None)
        .await
        .json()
        .await
        .unwrap();
    let seen: Vec<(Option<i64>, Option<&str>)> = dump
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_i64(), r["action"].as_str()))
        .collect();
    assert_eq!(
        seen,
        vec![(Some(z), Some("accept")), (Some(x), Some("drop"))]
    );
    let stats: Value = control(Method::GET, format!("{base}/stats"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stats["liveSessions"], 0);
    assert_eq!(f.server.control.total(), 0);
}

#[tokio::test]
async fn injected_faults_come_back_as_retryable_vendor_errors() {
    let f = Fixture::start().await;
    let rt = f.runtime().await;
    rt.check().await.unwrap();
    f.server.control.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    let mut t = Tracked::new(ordered_rule(
        "a",
        IdecoSection::Forward,
        json!({"block": "Top"}),
        0,
    ));
    ideco_runtime(&rt).invalidate_snapshots();
    let err = reconcile(&f, &rt, &mut t).await.unwrap_err();
    assert!(
        matches!(&err, ExternalError::Vendor(e) if e.kind == ErrorKind::Unavailable && e.is_retryable()),
        "{err}"
    );
    f.server.control.set_faults(Faults {
        throttle_rate: 1.0,
        retry_after_secs: 1,
        ..Faults::default()
    });
    let err = rt.check().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Throttled);
    f.server.control.set_faults(Faults::default());
    converge(&f, &rt, std::slice::from_mut(&mut t)).await;
}
