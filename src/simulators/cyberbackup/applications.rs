//! `/policy_applications` (§2.10.4): list (an array of arrays), apply (204, or 200 with
//! `issues`), revoke, enable/disable and `:run` (202, a long operation without a handle).
//! Deployment takes `deploySeconds` on the simulated clock; a run takes `runSeconds`.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use jiff::SignedDuration;
use serde_json::{Value, json};

use super::query;
use super::state::{SimApplication, SimRun, new_id, stamp};
use super::{
    Answer, ApiError, AppState, ListParams, bad_request, json_body, no_content, not_found, ok_json,
    views,
};

const ALIASES: [(&str, &str); 2] = [("policy_id", "policy.id"), ("context_id", "context.id")];

pub async fn list(
    State(app): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Answer {
    app.sim.tick();
    let config = app.sim.config();
    let now = app.sim.now();
    let items: Vec<Value> = {
        let w = app.sim.world.lock().unwrap();
        w.applications
            .values()
            .filter_map(|a| {
                w.policies
                    .get(&a.policy_id)
                    .map(|p| views::application(a, p, now, config.legacy_casing))
            })
            .collect()
    };
    let params = ListParams { pairs };
    let (page, mut cursors, total) = params.apply(items, &ALIASES, config.default_limit)?;
    // The document's lists print `cursors: {"total": N}`; `after` only when a page follows.
    cursors["total"] = json!(total);
    if cursors["after"] == "" {
        cursors
            .as_object_mut()
            .expect("cursors is an object")
            .remove("after");
    }
    // GUESS: the inner arrays group one context's applications (the document never says).
    let mut by_context: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for item in page {
        let key = query::attribute(&item, "context.id").unwrap_or_default();
        by_context.entry(key).or_default().push(item);
    }
    let nested: Vec<Value> = by_context.into_values().map(Value::Array).collect();
    Ok(ok_json(
        StatusCode::OK,
        json!({"items": nested, "paging": {"cursors": cursors}}),
    ))
}

fn policy_id(body: &Value) -> Result<String, ApiError> {
    body.get("policy_id")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
        .ok_or_else(|| bad_request("policy_id is required"))
}

fn ids(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_ascii_lowercase)
                .collect()
        })
        .unwrap_or_default()
}

pub async fn apply(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Answer {
    let body = json_body(&headers, &body)?;
    let policy_id = policy_id(&body)?;
    let contexts = ids(body.pointer("/context/items"));
    if contexts.is_empty() {
        return Err(bad_request("context.items must list resource ids"));
    }
    let config = app.sim.config();
    let now = app.sim.now();
    let mut w = app.sim.world.lock().unwrap();
    let Some(enabled) = w.policies.get(&policy_id).map(|p| p.enabled) else {
        return Err(not_found("Policy", &policy_id));
    };
    if let Some(missing) = contexts.iter().find(|c| !w.resources.contains_key(*c)) {
        return Err(not_found("Resource", missing));
    }
    let mut issues = Vec::new();
    for c in contexts {
        if w.applications
            .values()
            .any(|a| a.policy_id == policy_id && a.context_id == c)
        {
            issues.push(json!({"message": format!("the plan is already applied to {c}"), "context": {"id": c}}));
            continue;
        }
        let r = &w.resources[&c];
        let app_id = new_id();
        let application = SimApplication {
            id: app_id.clone(),
            policy_id: policy_id.clone(),
            context_id: c.clone(),
            context_type: r.type_.clone(),
            agent_id: r.agent_id.clone(),
            enabled,
            deployed_at: now + SignedDuration::from_secs(config.deploy_seconds),
            run: None,
            status: "OK".into(),
            last_runtime: None,
            last_success_time: None,
            created_at: stamp(now),
            updated_at: stamp(now),
            schedule_checked: now,
            next_start: None,
        };
        w.applications.insert(app_id, application);
    }
    if issues.is_empty() {
        no_content()
    } else {
        Ok(ok_json(StatusCode::OK, json!({"issues": issues})))
    }
}

pub async fn revoke(
    State(app): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Answer {
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    // The prose names the parameter `context`, the code `context_id` (§2.10.4.6): take both.
    let (Some(policy_id), Some(context)) = (
        get("policy_id"),
        get("context_id").or_else(|| get("context")),
    ) else {
        return Err(bad_request("policy_id and context_id are required"));
    };
    let cond = query::parse(&context).map_err(|m| bad_request(&m))?;
    let policy_id = policy_id.to_ascii_lowercase();
    let mut w = app.sim.world.lock().unwrap();
    if !w.policies.contains_key(&policy_id) {
        return Err(not_found("Policy", &policy_id));
    }
    w.applications
        .retain(|_, a| !(a.policy_id == policy_id && cond.matches(&a.context_id)));
    no_content()
}

pub async fn set_enabled(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Answer {
    let body = json_body(&headers, &body)?;
    let Some(value) = body.get("value").and_then(Value::as_bool) else {
        return Err(bad_request("value must be true or false"));
    };
    let policies = ids(body.get("policy_ids"));
    let contexts = ids(body.get("context_ids"));
    let now = stamp(app.sim.now());
    let mut w = app.sim.world.lock().unwrap();
    if let Some(missing) = policies.iter().find(|p| !w.policies.contains_key(*p)) {
        return Err(not_found("Policy", missing));
    }
    for pid in &policies {
        if contexts.is_empty() {
            let p = w.policies.get_mut(pid).expect("checked above");
            p.enabled = value;
            p.updated_at = now.clone();
        }
        for a in w.applications.values_mut().filter(|a| {
            &a.policy_id == pid && (contexts.is_empty() || contexts.contains(&a.context_id))
        }) {
            a.enabled = value;
            a.updated_at = now.clone();
        }
    }
    no_content()
}

pub async fn run(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Answer {
    let body = json_body(&headers, &body)?;
    app.sim.tick();
    // §2.9 writes the state "running", §2.10.4.7 "RUNNING": either case is taken.
    let state = body
        .get("state")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_ascii_uppercase();
    let policy_id = policy_id(&body)?;
    let contexts = ids(body.get("context_ids"));
    let config = app.sim.config();
    let now = app.sim.now();
    let mut w = app.sim.world.lock().unwrap();
    if !w.policies.contains_key(&policy_id) {
        return Err(not_found("Policy", &policy_id));
    }
    let targeted = w.applications.values_mut().filter(|a| {
        a.policy_id == policy_id && (contexts.is_empty() || contexts.contains(&a.context_id))
    });
    match state.as_str() {
        "RUNNING" => {
            // GUESS: only deployed, enabled applications run; the rest are skipped silently
            // (202 accepts the invocation, it does not promise a run).
            for a in targeted.filter(|a| a.enabled && a.deployed_at <= now && a.run.is_none()) {
                a.run = Some(SimRun {
                    started: now,
                    ends: now + SignedDuration::from_secs(config.run_seconds),
                });
                // §2.9's example in progress shows `last_runtime` as the running run's start.
                a.last_runtime = Some(now);
                a.updated_at = stamp(now);
            }
        }
        "IDLE" => {
            for a in targeted.filter(|a| a.run.is_some()) {
                let run = a.run.take().expect("filtered");
                a.last_runtime = Some(run.started);
                a.updated_at = stamp(now);
                // GUESS: a stopped run's status; the document shows only "ok" and "running".
                a.status = "CANCELED".into();
            }
        }
        other => {
            return Err(bad_request(&format!(
                "state must be RUNNING or IDLE, not {other:?}"
            )));
        }
    }
    // "Accepted for asynchronous run invocation" (§2.9.1.2): no handle in the body.
    Ok(ok_json(StatusCode::ACCEPTED, json!({})))
}
