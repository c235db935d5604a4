//! The plan of `openshift-namespaces` (upstream `openshift_namespaces.manage_namespace`), in
//! the shared [`Plan`] format.
//!
//! Unlike `realize_data`, a namespace is deleted because it is *declared* with `delete: true`,
//! not because it is owned and no longer desired; and nothing is ever updated. Per declared
//! namespace:
//!
//! | declared | on the cluster | action |
//! |---|---|---|
//! | present | no | create (refused with an error for names starting with `openshift-`) |
//! | present | yes | no-op |
//! | `delete: true` | yes | delete |
//! | `delete: true` | no | no-op |
//! | any | could not be read | skip (the error is registered) |
//!
//! A cluster with an error gets no changes, as everywhere ([`Planner::finish`]). But, as
//! upstream `openshift_namespaces.run` (each namespace is managed on its own and the errors are
//! raised at the end), an error does not disable the deletes of *other* namespaces: a delete
//! here is declared (`delete: true`), never derived from ownership, so a data error elsewhere
//! cannot make it wrong. The namespaces an error is about (duplicates, refused names, unread
//! state) are never acted on.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::inventory::{CLUSTER_SCOPE_NAMESPACE, RegisteredError};
use crate::metrics::InventoryGaugeSample;
use crate::plan::{Action, Phase, Plan, PlanOptions, PlannedAction, Planner, Reason};

/// The resource type of namespace actions.
pub const NAMESPACE_TYPE: &str = "Namespace";

/// The prefix OpenShift reserves: a project starting with it cannot be requested.
pub const RESERVED_NAMESPACE_PREFIX: &str = "openshift-";

/// One declared namespace.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct DesiredNamespace {
    /// Cluster name.
    pub cluster: String,
    /// Namespace name.
    pub name: String,
    /// Declared with `delete: true`: must be absent.
    pub delete: bool,
    /// Read and written with the cluster-admin client (`clusterAdmin: true`).
    pub privileged: bool,
}

/// What the cluster said about a declared namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObservedNamespace {
    /// It exists.
    Present,
    /// It does not exist.
    Absent,
    /// It could not be read (the message says why; the caller registers the error).
    Unknown(String),
}

/// Plans `desired` against `observed` (keyed by `(cluster, name)`; a missing entry is
/// [`ObservedNamespace::Unknown`]) with the errors registered so far. A namespace to create
/// whose name starts with `openshift-` is refused with an error naming it, as upstream
/// `manage_namespaces` (qontract-reconcile 0.10.1) raises for it.
pub fn plan_namespaces(
    desired: &[DesiredNamespace],
    observed: &BTreeMap<(String, String), ObservedNamespace>,
    errors: Vec<RegisteredError>,
) -> Plan {
    let mut planner = Planner::new(PlanOptions {
        errors_disable_deletes: false,
        ..PlanOptions::default()
    });
    for error in errors {
        planner.register_error(error.cluster.as_deref(), error.message);
    }
    for namespace in desired {
        let key = (namespace.cluster.clone(), namespace.name.clone());
        let state = observed.get(&key).cloned().unwrap_or_else(|| {
            ObservedNamespace::Unknown("the cluster was not read in this run".to_owned())
        });
        let (phase, action, reason) = match (namespace.delete, state) {
            (_, ObservedNamespace::Unknown(why)) => {
                (Phase::Apply, Action::Skip, Reason::CurrentStateUnknown(why))
            }
            (false, ObservedNamespace::Present) | (true, ObservedNamespace::Absent) => {
                (Phase::Apply, Action::NoOp, Reason::UpToDate)
            }
            (false, ObservedNamespace::Absent)
                if namespace.name.starts_with(RESERVED_NAMESPACE_PREFIX) =>
            {
                let why = format!(
                    "cannot request a project starting with \"{RESERVED_NAMESPACE_PREFIX}\""
                );
                planner.register_error(
                    None,
                    format!("[{}/{}] {why}", namespace.cluster, namespace.name),
                );
                (Phase::Apply, Action::Skip, Reason::Refused(why))
            }
            (false, ObservedNamespace::Absent) => {
                (Phase::Apply, Action::Create, Reason::NotOnCluster)
            }
            (true, ObservedNamespace::Present) => {
                (Phase::Delete, Action::Delete, Reason::DeclaredDelete)
            }
        };
        planner.push_action(PlannedAction {
            action,
            phase,
            cluster: namespace.cluster.clone(),
            // The namespace is both the object's name and where it lives: plans filter and
            // shard by namespace like every other integration's.
            namespace: namespace.name.clone(),
            resource_type: NAMESPACE_TYPE.to_owned(),
            name: namespace.name.clone(),
            privileged: namespace.privileged,
            recycle_pods: false,
            reason,
        });
    }
    planner.finish()
}

/// The inventory gauge samples of openshift-namespaces (upstream
/// `publish_cluster_desired_metrics_from_state`): per cluster, the number of declared
/// namespaces as `namespace="cluster", kind="Namespace", state="desired"`.
pub fn namespace_gauge_samples(
    desired: &[DesiredNamespace],
    integration: &str,
) -> Vec<InventoryGaugeSample> {
    let mut per_cluster: BTreeMap<&str, usize> = BTreeMap::new();
    for namespace in desired {
        *per_cluster.entry(namespace.cluster.as_str()).or_default() += 1;
    }
    per_cluster
        .into_iter()
        .map(|(cluster, value)| InventoryGaugeSample {
            integration: integration.replace('_', "-"),
            cluster: cluster.to_owned(),
            namespace: CLUSTER_SCOPE_NAMESPACE.to_owned(),
            kind: NAMESPACE_TYPE.to_owned(),
            state: "desired",
            value,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{TableOptions, render_json, render_table};

    fn desired(cluster: &str, name: &str, delete: bool) -> DesiredNamespace {
        DesiredNamespace {
            cluster: cluster.into(),
            name: name.into(),
            delete,
            privileged: name.starts_with("admin"),
        }
    }

    fn sample() -> (
        Vec<DesiredNamespace>,
        BTreeMap<(String, String), ObservedNamespace>,
    ) {
        let rows = [
            ("c1", "stage", false, ObservedNamespace::Absent),
            ("c1", "present", false, ObservedNamespace::Present),
            ("c1", "legacy", true, ObservedNamespace::Present),
            ("c1", "gone", true, ObservedNamespace::Absent),
            ("c2", "admin-ns", false, ObservedNamespace::Absent),
        ];
        let desired = rows.iter().map(|(c, n, d, _)| desired(c, n, *d)).collect();
        let observed = rows
            .into_iter()
            .map(|(c, n, _, o)| ((c.to_owned(), n.to_owned()), o))
            .collect();
        (desired, observed)
    }

    fn actions(plan: &Plan) -> Vec<(Action, &str, &str)> {
        plan.actions
            .iter()
            .map(|a| (a.action, a.cluster.as_str(), a.name.as_str()))
            .collect()
    }

    #[test]
    fn creates_missing_deletes_declared_and_renders_the_shared_format() {
        let (d, o) = sample();
        let plan = plan_namespaces(&d, &o, Vec::new());
        assert!(plan.deletion_enabled);
        assert_eq!(
            actions(&plan),
            [
                (Action::NoOp, "c1", "gone"),
                (Action::NoOp, "c1", "present"),
                (Action::Create, "c1", "stage"),
                (Action::Create, "c2", "admin-ns"),
                (Action::Delete, "c1", "legacy"),
            ]
        );
        insta::assert_snapshot!(
            "namespaces_plan_table",
            render_table(&plan, TableOptions::default())
        );
        insta::assert_json_snapshot!("namespaces_plan_json", render_json(&plan, None));
    }

    #[test]
    fn gauge_counts_declared_namespaces_per_cluster() {
        let (d, _) = sample();
        let samples = namespace_gauge_samples(&d, "openshift-namespaces");
        let got: Vec<(&str, &str, &str, usize)> = samples
            .iter()
            .map(|s| (s.cluster.as_str(), s.namespace.as_str(), s.state, s.value))
            .collect();
        assert_eq!(
            got,
            [
                ("c1", "cluster", "desired", 4),
                ("c2", "cluster", "desired", 1)
            ]
        );
    }

    #[test]
    fn a_reserved_name_is_refused_with_an_error_and_other_declared_deletes_proceed() {
        let (mut d, mut o) = sample();
        d.push(desired("c1", "openshift-logging", false));
        o.insert(
            ("c1".into(), "openshift-logging".into()),
            ObservedNamespace::Absent,
        );
        let plan = plan_namespaces(&d, &o, Vec::new());
        assert_eq!(plan.errors.len(), 1, "{:?}", plan.errors);
        assert!(
            plan.errors[0].message.contains(
                "[c1/openshift-logging] cannot request a project starting with \"openshift-\""
            ),
            "{}",
            plan.errors[0]
        );
        let refused = plan
            .actions
            .iter()
            .find(|a| a.name == "openshift-logging")
            .expect("planned");
        assert_eq!(refused.action, Action::Skip);
        assert_eq!(refused.reason.code(), "refused");
        // As upstream `openshift_namespaces.run`: the declared delete of another namespace is
        // not disabled by this error (the error still fails the run).
        assert!(plan.deletion_enabled);
        assert!(
            plan.changes()
                .any(|a| a.action == Action::Delete && a.name == "legacy")
        );
        // An existing reserved namespace is simply there.
        o.insert(
            ("c1".into(), "openshift-logging".into()),
            ObservedNamespace::Present,
        );
        assert!(plan_namespaces(&d, &o, Vec::new()).errors.is_empty());
    }

    #[test]
    fn errors_block_the_failed_cluster_only() {
        let (d, mut o) = sample();
        o.insert(
            ("c2".into(), "admin-ns".into()),
            ObservedNamespace::Unknown("connection refused".into()),
        );
        let errors = vec![RegisteredError {
            cluster: Some("c2".into()),
            message: "is unreachable: connection refused".into(),
        }];
        let plan = plan_namespaces(&d, &o, errors);
        // c1's declared delete is not c2's business (upstream manages each namespace on its
        // own); nothing happens on c2.
        assert!(plan.deletion_enabled);
        let legacy = plan
            .actions
            .iter()
            .find(|a| a.name == "legacy")
            .expect("planned");
        assert_eq!(legacy.action, Action::Delete);
        let unknown = plan
            .actions
            .iter()
            .find(|a| a.name == "admin-ns")
            .expect("planned");
        assert_eq!(unknown.action, Action::Skip);
        insta::assert_snapshot!(
            "namespaces_plan_table_with_error",
            render_table(
                &plan,
                TableOptions {
                    include_unchanged: true
                }
            )
        );
    }
}
