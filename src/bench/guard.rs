//! The figures of a benchmark run that do not depend on the machine's speed, held to stated
//! bounds (`rampart bench --check`, run by CI at a small size): a regression in vendor calls
//! per object, calls per resync or memory per object fails the run instead of passing unseen.
//! Timings (seconds to Ready, latency, CPU) are left out: a slow or busy machine would fail them.

use super::{Convergence, Run, SteadyState};

/// Vendor calls per object to converge, by kind: the measured figure plus 25 % (Vault and
/// Policy: one create each, 1.00–1.02 measured; FirewallRule: create, then its section read
/// back and its position confirmed, 3.01–3.02 measured). Health reads during convergence are
/// in the count, which is why the bounds are not exactly 1 and 3.
pub const MAX_CALLS_PER_VAULT: f64 = 1.25;
pub const MAX_CALLS_PER_POLICY: f64 = 1.25;
pub const MAX_CALLS_PER_FIREWALL_RULE: f64 = 3.75;

/// Vendor reads per resync that do not list a collection: the health checks that keep each
/// provider's `Ready` honest (one CBR vault read; Ideco status, state and settings), counted
/// twice because a resync window can hold two of one provider's checks.
pub const HEALTH_CALLS_PER_RESYNC: f64 = 8.0;

/// Memory per managed object above the operator's base before any object existed (KiB), with
/// every kind present (the steady state after all kinds converged). The fixed costs that come
/// with the first objects (caches, connections, allocator arenas) are in it, so small runs
/// measure more per object than large ones: release builds measure about 9 KiB at 21,000
/// objects; CI's debug smoke run (N = 300, 650 objects) measured 17.2 KiB. The bound is that plus
/// about 60 %: caching whole objects again (managedFields and kubectl's last-applied copy, about
/// 14 KiB each, dropped in issue 9) would break it.
pub const MAX_KIB_PER_OBJECT: f64 = 28.0;

/// Every bound a run breaks, as sentences; empty when it keeps them all.
pub fn violations(run: &Run) -> Vec<String> {
    let mut found = Vec::new();
    for (kind, c, max) in [
        ("Vault", &run.vaults, MAX_CALLS_PER_VAULT),
        ("Policy", &run.policies, MAX_CALLS_PER_POLICY),
        (
            "FirewallRule",
            &run.firewall_rules,
            MAX_CALLS_PER_FIREWALL_RULE,
        ),
    ] {
        check_calls_per_object(&mut found, run.n, kind, c, max);
    }
    for st in [&run.steady_state_vaults_only, &run.steady_state] {
        check_calls_per_resync(&mut found, run.n, st);
    }
    check_memory(&mut found, run.n, run.rss_base_mib, &run.steady_state);
    found
}

fn check_calls_per_object(
    found: &mut Vec<String>,
    n: usize,
    kind: &str,
    c: &Convergence,
    max: f64,
) {
    if c.vendor_calls_per_object > max {
        found.push(format!(
            "N = {n}: {kind} took {:.2} vendor calls per object to converge (bound {max})",
            c.vendor_calls_per_object
        ));
    }
}

fn check_calls_per_resync(found: &mut Vec<String>, n: usize, st: &SteadyState) {
    let calls: f64 = st.calls_per_resync.values().sum();
    let bound = 2.0 * st.expected_list_calls_per_resync + HEALTH_CALLS_PER_RESYNC;
    if calls > bound {
        found.push(format!(
            "N = {n}, {} objects: {calls:.1} vendor calls per resync, bound 2 x {} list pages + \
             {HEALTH_CALLS_PER_RESYNC} health reads = {bound}: {:?}",
            st.objects, st.expected_list_calls_per_resync, st.calls_per_resync
        ));
    }
}

fn check_memory(found: &mut Vec<String>, n: usize, base_mib: f64, st: &SteadyState) {
    let kib = kib_per_object(base_mib, st);
    if kib > MAX_KIB_PER_OBJECT {
        found.push(format!(
            "N = {n}, {} objects: {kib:.1} KiB per object above the {base_mib:.1} MiB base \
             ({:.1} MiB resident; bound {MAX_KIB_PER_OBJECT} KiB)",
            st.objects, st.rss_mib
        ));
    }
}

/// Resident memory per managed object above the base, in KiB.
pub fn kib_per_object(base_mib: f64, st: &SteadyState) -> f64 {
    (st.rss_mib - base_mib).max(0.0) * 1024.0 / st.objects.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::Latency;

    fn convergence(calls_per_object: f64) -> Convergence {
        Convergence {
            objects: 50,
            seconds: 1.0,
            floor_seconds: 1.0,
            ratio_to_floor: 1.0,
            vendor_calls_per_object: calls_per_object,
            first_vendor_write_s: 0.0,
            last_vendor_write_s: 1.0,
            vendor_write_rate: 50.0,
            throttled: 0,
        }
    }

    fn steady(objects: usize, list_pages: f64, calls: f64, rss_mib: f64) -> SteadyState {
        SteadyState {
            window_seconds: 10.0,
            resyncs_in_window: 2.0,
            calls_per_resync: [("huawei-cbr GET /v3/{project_id}/vaults".to_string(), calls)]
                .into(),
            expected_list_calls_per_resync: list_pages,
            rss_mib,
            rss_anon_mib: rss_mib,
            threads: 4,
            objects,
            cpu_percent_of_a_core: 1.0,
        }
    }

    /// A run as measured at N = 50: one create per Vault and Policy, three calls per rule.
    fn measured() -> Run {
        Run {
            n: 50,
            rss_base_mib: 30.0,
            vaults: convergence(1.02),
            steady_state_vaults_only: steady(50, 2.0, 6.0, 31.0),
            policies: convergence(1.0),
            firewall_rules: convergence(3.02),
            steady_state: steady(150, 3.0, 6.5, 32.0),
            change_to_vendor_call_ms: Latency::default(),
        }
    }

    #[test]
    fn a_run_as_measured_keeps_every_bound() {
        assert_eq!(violations(&measured()), Vec::<String>::new());
    }

    #[test]
    fn a_second_call_per_vault_fails() {
        let mut run = measured();
        run.vaults.vendor_calls_per_object = 2.0;
        let v = violations(&run);
        assert!(v.len() == 1 && v[0].contains("Vault took 2.00"), "{v:?}");
    }

    #[test]
    fn a_read_per_object_per_resync_fails() {
        let mut run = measured();
        // Every one of 150 objects read once per resync on top of the lists.
        run.steady_state = steady(150, 3.0, 156.5, 32.0);
        let v = violations(&run);
        assert!(
            v.len() == 1 && v[0].contains("156.5 vendor calls per resync"),
            "{v:?}"
        );
    }

    #[test]
    fn memory_beyond_the_ceiling_per_object_fails() {
        let mut run = measured();
        // 150 objects at 64 KiB each above the base.
        run.steady_state = steady(150, 3.0, 6.5, 30.0 + 150.0 * 64.0 / 1024.0);
        let v = violations(&run);
        assert!(
            v.len() == 1 && v[0].contains("64.0 KiB per object"),
            "{v:?}"
        );
    }
}
