//! The extra conditions a FirewallRule shows: what the device says about the firewall as a whole
//! (read, never changed by rampart) and whether the rule's section can be put in order.

use super::models::DeviceFacts;
use super::registry::BlockSpec;
use super::section::Blocked;
use crate::engine::external::ExtraCondition;

/// The service whose state says whether the rules are loaded (L14).
const RULES_SERVICE: &str = "rules-in-kernel";

/// `name: status` of every service the device reports.
pub fn service_summary(facts: &DeviceFacts) -> String {
    let parts: Vec<String> = facts
        .services
        .iter()
        .map(|s| format!("{}: {}", s.name, s.status))
        .collect();
    if parts.is_empty() {
        "the device reports no firewall services".to_string()
    } else {
        parts.join("; ")
    }
}

/// `DeviceReachable`, `FirewallEnabled` and `RulesInKernel`.
pub fn device_conditions(facts: &DeviceFacts) -> Vec<ExtraCondition> {
    let enabled = if facts.state.enabled {
        ExtraCondition {
            type_: "FirewallEnabled",
            status: true,
            reason: "Enabled",
            message: "the Firewall section is on: its rules are applied".to_string(),
        }
    } else {
        ExtraCondition {
            type_: "FirewallEnabled",
            status: false,
            reason: "Disabled",
            message: "the Firewall section is off on the device, so none of its rules (rampart's included) are applied; rampart never changes this setting".to_string(),
        }
    };
    let rules = match facts.services.iter().find(|s| s.name == RULES_SERVICE) {
        Some(s) if s.status == "active" => ExtraCondition {
            type_: "RulesInKernel",
            status: true,
            reason: "Active",
            message: format!("{RULES_SERVICE} is active"),
        },
        Some(s) => ExtraCondition {
            type_: "RulesInKernel",
            status: false,
            reason: "NotActive",
            message: format!("{RULES_SERVICE} is {}: {}", s.status, s.msg.join(" "))
                .trim_end_matches([' ', ':'])
                .to_string(),
        },
        None => ExtraCondition {
            type_: "RulesInKernel",
            status: false,
            reason: "Unknown",
            message: format!("the device does not report {RULES_SERVICE}"),
        },
    };
    let reachable = ExtraCondition {
        type_: "DeviceReachable",
        status: true,
        reason: "Reachable",
        message: service_summary(facts),
    };
    vec![reachable, enabled, rules]
}

/// `PlacementConflict`, and `SentinelFound` for a rule placed after a sentinel.
pub fn placement_conditions(block: &BlockSpec, blocked: Option<&Blocked>) -> Vec<ExtraCondition> {
    let conflict = match blocked {
        Some(Blocked::Conflict(c)) => ExtraCondition {
            type_: "PlacementConflict",
            status: true,
            reason: "ConflictingBlocks",
            message: c.to_string(),
        },
        _ => ExtraCondition {
            type_: "PlacementConflict",
            status: false,
            reason: "NoConflict",
            message: "every FirewallRule of the section asks for the same block".to_string(),
        },
    };
    let mut out = vec![conflict];
    if let BlockSpec::AfterSentinel(comment) = block {
        out.push(match blocked {
            Some(b @ Blocked::SentinelMissing(_)) => ExtraCondition {
                type_: "SentinelFound",
                status: false,
                reason: "SentinelMissing",
                message: b.to_string(),
            },
            _ => ExtraCondition {
                type_: "SentinelFound",
                status: true,
                reason: "Found",
                message: format!("the block follows the rule with comment {comment:?}"),
            },
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::ideco::models::{FirewallSettings, FirewallState, ServiceStatus};
    use crate::providers::ideco::registry::PlacementConflict;

    fn facts(enabled: bool, rules_status: Option<&str>) -> DeviceFacts {
        let services = rules_status
            .map(|s| ServiceStatus {
                name: RULES_SERVICE.into(),
                status: s.into(),
                msg: vec!["reloading tables".into()],
            })
            .into_iter()
            .collect();
        DeviceFacts {
            services,
            state: FirewallState { enabled },
            settings: FirewallSettings::default(),
        }
    }

    fn find<'a>(c: &'a [ExtraCondition], t: &str) -> &'a ExtraCondition {
        c.iter().find(|c| c.type_ == t).unwrap()
    }

    #[test]
    fn the_device_state_becomes_conditions() {
        let c = device_conditions(&facts(true, Some("active")));
        assert!(
            find(&c, "FirewallEnabled").status
                && find(&c, "RulesInKernel").status
                && find(&c, "DeviceReachable").status
        );
        assert_eq!(
            find(&c, "DeviceReachable").message,
            "rules-in-kernel: active"
        );
        let c = device_conditions(&facts(false, Some("failed")));
        assert_eq!(
            (
                find(&c, "FirewallEnabled").status,
                find(&c, "FirewallEnabled").reason
            ),
            (false, "Disabled")
        );
        assert_eq!(
            find(&c, "RulesInKernel").message,
            "rules-in-kernel is failed: reloading tables"
        );
        let c = device_conditions(&facts(true, None));
        assert_eq!(find(&c, "RulesInKernel").reason, "Unknown");
    }

    #[test]
    fn placement_problems_become_conditions() {
        let conflict = Blocked::Conflict(PlacementConflict {
            wishes: vec![
                (BlockSpec::Top, vec!["ns/a".into()]),
                (BlockSpec::Bottom, vec!["ns/b".into()]),
            ],
        });
        let c = placement_conditions(&BlockSpec::Top, Some(&conflict));
        assert_eq!(c.len(), 1);
        assert!(c[0].status && c[0].message.contains("ns/b"));
        let sentinel = BlockSpec::AfterSentinel("--".into());
        let c = placement_conditions(&sentinel, Some(&Blocked::SentinelMissing("--".into())));
        assert!(!find(&c, "PlacementConflict").status);
        assert_eq!(find(&c, "SentinelFound").reason, "SentinelMissing");
        assert!(find(&placement_conditions(&sentinel, None), "SentinelFound").status);
    }
}
