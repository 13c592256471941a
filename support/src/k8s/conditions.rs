//! Readiness rules, as pure functions of the objects (so they are proven on real JSON without a
//! cluster). Each returns `Ok(())` or the observed state that is not ready yet.

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::core::v1::{Node, Pod};

/// Istio's own rule (tests/integration/ambient baseline_test.go `daemonsetsetComplete`, operator
/// wait.go) plus `desired > 0`: updated == desired, ready == desired, observedGeneration >=
/// generation.
pub fn daemonset_ready(ds: &DaemonSet) -> Result<(), String> {
    let Some(status) = &ds.status else {
        return Err("no status yet".into());
    };
    let desired = status.desired_number_scheduled;
    let ready = status.number_ready;
    let updated = status.updated_number_scheduled.unwrap_or(0);
    let generation = ds.metadata.generation.unwrap_or(0);
    let observed = status.observed_generation.unwrap_or(0);
    let state = format!(
        "desired {desired}, ready {ready}, updated {updated}, observedGeneration {observed}/{generation}"
    );
    if desired > 0 && updated == desired && ready == desired && observed >= generation {
        Ok(())
    } else {
        Err(state)
    }
}

/// A Deployment is available when its `Available` condition is true, every replica is updated
/// and ready, and the controller has seen the latest spec.
pub fn deployment_available(d: &Deployment) -> Result<(), String> {
    let Some(status) = &d.status else {
        return Err("no status yet".into());
    };
    let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let ready = status.ready_replicas.unwrap_or(0);
    let updated = status.updated_replicas.unwrap_or(0);
    let available = status
        .conditions
        .iter()
        .flatten()
        .any(|c| c.type_ == "Available" && c.status == "True");
    let generation = d.metadata.generation.unwrap_or(0);
    let observed = status.observed_generation.unwrap_or(0);
    let state = format!(
        "replicas {want}, ready {ready}, updated {updated}, Available={available}, observedGeneration {observed}/{generation}"
    );
    if available && ready >= want && updated >= want && observed >= generation {
        Ok(())
    } else {
        Err(state)
    }
}

/// A node is ready for pods when its Ready condition is true and the node lifecycle controller
/// has lifted its `not-ready`/`unreachable` taints (it does so shortly after Ready turns true).
pub fn node_ready(n: &Node) -> bool {
    let ready = n
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    let lifecycle_taint = n
        .spec
        .as_ref()
        .and_then(|s| s.taints.as_ref())
        .is_some_and(|ts| {
            ts.iter().any(|t| {
                t.key == "node.kubernetes.io/not-ready" || t.key == "node.kubernetes.io/unreachable"
            })
        });
    ready && !lifecycle_taint
}

/// How long a pod may stay unschedulable before a wait gives up on it: new nodes and freshly
/// lifted taints make the scheduler's first "no" transient.
pub const UNSCHEDULABLE_GRACE: std::time::Duration = std::time::Duration::from_secs(60);

pub fn pod_ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// Why a pod will not become ready without help, if that is already certain: an image that cannot
/// be pulled, a container crash-looping, or a pod the scheduler has not been able to place for
/// [`UNSCHEDULABLE_GRACE`] (as of `now`). Waits stop at once with this instead of running out the
/// clock.
pub fn pod_blocker(p: &Pod, now: k8s_openapi::jiff::Timestamp) -> Option<String> {
    let name = p.metadata.name.clone().unwrap_or_default();
    let status = p.status.as_ref()?;
    let statuses = status
        .init_container_statuses
        .iter()
        .flatten()
        .chain(status.container_statuses.iter().flatten());
    for cs in statuses {
        let Some(waiting) = cs.state.as_ref().and_then(|s| s.waiting.as_ref()) else {
            continue;
        };
        let reason = waiting.reason.as_deref().unwrap_or_default();
        let message = waiting.message.as_deref().unwrap_or_default();
        match reason {
            "ImagePullBackOff" | "ErrImagePull" | "InvalidImageName" | "ErrImageNeverPull" => {
                return Some(format!(
                    "pod {name}: container {} cannot pull image {}: {reason} {message}",
                    cs.name, cs.image
                ));
            }
            "CrashLoopBackOff" => {
                return Some(format!(
                    "pod {name}: container {} is crash-looping ({} restarts): {message}",
                    cs.name, cs.restart_count
                ));
            }
            "CreateContainerConfigError" | "CreateContainerError" => {
                return Some(format!(
                    "pod {name}: container {}: {reason}: {message}",
                    cs.name
                ));
            }
            _ => {}
        }
    }
    if status.phase.as_deref() == Some("Pending") {
        let unschedulable = status.conditions.iter().flatten().find(|c| {
            c.type_ == "PodScheduled"
                && c.status == "False"
                && c.reason.as_deref() == Some("Unschedulable")
        });
        let since = |c: &&k8s_openapi::api::core::v1::PodCondition| {
            c.last_transition_time.as_ref().map(|t| t.0)
        };
        let long_enough = unschedulable
            .as_ref()
            .and_then(since)
            .is_none_or(|t| now.duration_since(t).unsigned_abs() >= UNSCHEDULABLE_GRACE);
        if let Some(c) = unschedulable.filter(|_| long_enough) {
            return Some(format!(
                "pod {name} cannot be scheduled: {}",
                c.message.as_deref().unwrap_or("Unschedulable")
            ));
        }
    }
    None
}

/// `kubectl rollout status`'s rule, which [`deployment_available`] is not: every pod the
/// Deployment counts is of the current template and ready and available (`updatedReplicas ==
/// replicas == readyReplicas == availableReplicas == spec.replicas`), and the controller has seen
/// the latest spec. Mid-rollout a Deployment is often available while an old pod is still counted
/// (kubernetes/kubectl rollout_status.go `DeploymentStatusViewer`).
pub fn rollout_complete(d: &Deployment) -> Result<(), String> {
    let Some(status) = &d.status else {
        return Err("no status yet".into());
    };
    let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let counted = status.replicas.unwrap_or(0);
    let updated = status.updated_replicas.unwrap_or(0);
    let ready = status.ready_replicas.unwrap_or(0);
    let available = status.available_replicas.unwrap_or(0);
    let generation = d.metadata.generation.unwrap_or(0);
    let observed = status.observed_generation.unwrap_or(0);
    let state = format!(
        "spec.replicas {want}, replicas {counted}, updated {updated}, ready {ready}, available {available}, observedGeneration {observed}/{generation}"
    );
    let all = [counted, updated, ready, available];
    if observed >= generation && all.iter().all(|n| *n == want) {
        Ok(())
    } else {
        Err(state)
    }
}

/// A status condition as written: `(type, status, reason, message)`.
pub type Condition = (String, String, String, String);

/// The conditions of an object's `status.conditions` (its JSON), as written.
pub fn conditions_of(object: &serde_json::Value) -> Vec<Condition> {
    object["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let f = |k: &str| c[k].as_str().unwrap_or_default().to_string();
            (f("type"), f("status"), f("reason"), f("message"))
        })
        .collect()
}

/// Each condition type of `required` is `True` with a controller's reason (not the CRD's
/// `Pending` default); `Err` names the ones that are not, as written or missing.
pub fn all_true(conditions: &[Condition], required: &[&str]) -> Result<(), Vec<String>> {
    let not: Vec<String> = required
        .iter()
        .filter_map(|want| match conditions.iter().find(|(t, ..)| t == want) {
            Some((_, s, reason, _)) if s == "True" && reason != "Pending" => None,
            Some((t, s, reason, _)) => Some(format!("{t}={s} ({reason})")),
            None => Some(format!("{want} missing")),
        })
        .collect();
    if required.is_empty() {
        return Err(vec!["no condition named to require".into()]);
    }
    if not.is_empty() { Ok(()) } else { Err(not) }
}

#[cfg(test)]
mod tests {
    use super::{Condition, UNSCHEDULABLE_GRACE, all_true, node_ready, pod_blocker};
    use k8s_openapi::api::core::v1::{Node, Pod};
    use serde_json::json;

    fn node(conditions: serde_json::Value, taints: serde_json::Value) -> Node {
        serde_json::from_value(json!({
            "metadata": {"name": "n"},
            "spec": {"taints": taints},
            "status": {"conditions": conditions},
        }))
        .unwrap()
    }

    #[test]
    fn a_node_is_ready_when_ready_is_true_and_no_lifecycle_taint_is_left() {
        let ready = json!([{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True"}]);
        assert!(node_ready(&node(ready.clone(), json!([]))));
        // A taint of another kind does not hold a node back.
        let other = json!([{"key": "dedicated", "effect": "NoSchedule"}]);
        assert!(node_ready(&node(ready.clone(), other)));
        // Near misses: Ready not true, another condition true, a lifecycle taint left.
        for conditions in [
            json!([{"type": "Ready", "status": "False"}]),
            json!([{"type": "MemoryPressure", "status": "True"}]),
            json!([]),
        ] {
            assert!(
                !node_ready(&node(conditions.clone(), json!([]))),
                "{conditions}"
            );
        }
        for key in [
            "node.kubernetes.io/not-ready",
            "node.kubernetes.io/unreachable",
        ] {
            let taints = json!([{"key": key, "effect": "NoSchedule"}]);
            assert!(!node_ready(&node(ready.clone(), taints)), "{key}");
        }
    }

    fn pod(status: serde_json::Value) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "p"}, "status": status})).unwrap()
    }

    fn waiting(reason: &str) -> Pod {
        pod(json!({"phase": "Pending", "containerStatuses": [{
            "name": "c", "image": "i", "imageID": "", "ready": false, "restartCount": 3,
            "state": {"waiting": {"reason": reason, "message": "m"}},
        }]}))
    }

    #[test]
    fn a_pod_is_blocked_by_a_waiting_reason_that_will_not_clear_or_a_long_unschedulable_wait() {
        let now: k8s_openapi::jiff::Timestamp = "2026-12-06T12:00:00Z".parse().unwrap();
        for (reason, says) in [
            ("ImagePullBackOff", "cannot pull image i"),
            ("CrashLoopBackOff", "crash-looping (3 restarts)"),
            (
                "CreateContainerConfigError",
                "c: CreateContainerConfigError: m",
            ),
            ("CreateContainerError", "c: CreateContainerError: m"),
        ] {
            let why = pod_blocker(&waiting(reason), now).unwrap_or_default();
            assert!(why.contains(says), "{reason}: {why}");
        }
        assert_eq!(pod_blocker(&waiting("ContainerCreating"), now), None);
        let unscheduled = |since: &str, status: &str, reason: &str| {
            pod(json!({"phase": "Pending", "conditions": [{
                "type": "PodScheduled", "status": status, "reason": reason,
                "message": "0/3 nodes are available", "lastTransitionTime": since,
            }]}))
        };
        let long_ago = "2026-12-06T11:58:59Z";
        assert_eq!(
            pod_blocker(&unscheduled(long_ago, "False", "Unschedulable"), now).as_deref(),
            Some("pod p cannot be scheduled: 0/3 nodes are available")
        );
        // Near misses: within the grace, scheduled, another reason.
        let just_now = "2026-12-06T11:59:30Z";
        assert!(UNSCHEDULABLE_GRACE.as_secs() > 30);
        assert_eq!(
            pod_blocker(&unscheduled(just_now, "False", "Unschedulable"), now),
            None
        );
        assert_eq!(
            pod_blocker(&unscheduled(long_ago, "True", "Unschedulable"), now),
            None
        );
        assert_eq!(
            pod_blocker(&unscheduled(long_ago, "False", "SchedulingGated"), now),
            None
        );
    }

    fn c(t: &str, s: &str, r: &str) -> Condition {
        (t.into(), s.into(), r.into(), String::new())
    }

    #[test]
    fn every_required_condition_true_and_written_by_a_controller() {
        let both = [
            c("Accepted", "True", "Accepted"),
            c("Programmed", "True", "Programmed"),
        ];
        assert_eq!(all_true(&both, &["Accepted", "Programmed"]), Ok(()));
        assert_eq!(all_true(&both, &["Accepted"]), Ok(()));
        let not_programmed = [
            c("Accepted", "True", "Accepted"),
            c("Programmed", "False", "Invalid"),
        ];
        assert_eq!(
            all_true(&not_programmed, &["Accepted", "Programmed"]),
            Err(vec!["Programmed=False (Invalid)".to_string()])
        );
        // The CRD's default, and a required type never written.
        let pending = [c("Accepted", "True", "Pending")];
        assert_eq!(
            all_true(&pending, &["Accepted", "Programmed"]),
            Err(vec![
                "Accepted=True (Pending)".to_string(),
                "Programmed missing".to_string()
            ])
        );
        // Nothing required is never a pass.
        assert!(all_true(&both, &[]).is_err());
    }
}
