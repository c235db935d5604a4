//! The plan of `openshift-namespaces`: per declared namespace, create / delete / no-op / skip,
//! each with a reason; rendered as a table or JSON; executed by [`crate::apply`].

use std::fmt::Write as _;

use serde::Serialize;

use crate::desired::DesiredNamespace;

/// What happens to one namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NamespaceAction {
    /// Create the namespace.
    Create,
    /// Delete the namespace.
    Delete,
    /// Nothing to do.
    NoOp,
    /// Deliberately not acted upon (see the reason).
    Skip,
}

impl PlannedNamespace {
    /// `create`, `delete`, ...
    pub fn action_label(&self) -> &'static str {
        self.action.label()
    }
}

impl NamespaceAction {
    fn label(self) -> &'static str {
        match self {
            NamespaceAction::Create => "create",
            NamespaceAction::Delete => "delete",
            NamespaceAction::NoOp => "no-op",
            NamespaceAction::Skip => "skip",
        }
    }
}

/// One row of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedNamespace {
    /// What happens.
    pub action: NamespaceAction,
    /// Cluster name.
    pub cluster: String,
    /// Namespace name.
    pub namespace: String,
    /// Use the cluster-admin client.
    pub privileged: bool,
    /// Why.
    pub reason: String,
}

/// The whole plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NamespacePlan {
    /// Actions, creates first, then deletes, then the rest; ties by cluster and name.
    pub actions: Vec<PlannedNamespace>,
    /// Errors registered while planning (each names its cluster/namespace). Any error
    /// disables every delete.
    pub errors: Vec<String>,
}

/// What is known about one declared namespace on its cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observed {
    /// The namespace exists.
    Present,
    /// The namespace does not exist.
    Absent,
    /// The cluster could not be asked (error message).
    Unknown(String),
}

impl NamespacePlan {
    /// Plan from the desired namespaces and what was observed for each (same order).
    pub fn compute(
        desired: &[DesiredNamespace],
        observed: &[Observed],
        mut errors: Vec<String>,
    ) -> Self {
        for o in observed {
            if let Observed::Unknown(e) = o
                && !errors.contains(e)
            {
                errors.push(e.clone());
            }
        }
        let deletion_blocked = !errors.is_empty();
        let mut actions = Vec::with_capacity(desired.len());
        for (d, o) in desired.iter().zip(observed) {
            let (action, reason) = match (d.delete, o) {
                (_, Observed::Unknown(e)) => (NamespaceAction::Skip, format!("cluster error: {e}")),
                (false, Observed::Absent) => (
                    NamespaceAction::Create,
                    "declared, not on the cluster".to_owned(),
                ),
                (false, Observed::Present) => (NamespaceAction::NoOp, "exists".to_owned()),
                (true, Observed::Absent) => (NamespaceAction::NoOp, "already absent".to_owned()),
                (true, Observed::Present) if deletion_blocked => (
                    NamespaceAction::Skip,
                    format!(
                        "would delete (declared delete: true in {}), but deletion is disabled: \
                         errors were registered in this run",
                        d.paths.join(", ")
                    ),
                ),
                (true, Observed::Present) => (
                    NamespaceAction::Delete,
                    format!("declared delete: true in {}", d.paths.join(", ")),
                ),
            };
            actions.push(PlannedNamespace {
                action,
                cluster: d.cluster.clone(),
                namespace: d.namespace.clone(),
                privileged: d.privileged,
                reason,
            });
        }
        actions.sort_by(|a, b| {
            (a.action, &a.cluster, &a.namespace).cmp(&(b.action, &b.cluster, &b.namespace))
        });
        NamespacePlan { actions, errors }
    }

    /// Number of creates and deletes.
    pub fn changes(&self) -> usize {
        self.actions
            .iter()
            .filter(|a| matches!(a.action, NamespaceAction::Create | NamespaceAction::Delete))
            .count()
    }

    /// The plan as an aligned text table with a summary line (no-ops omitted unless `all`).
    pub fn render_table(&self, all: bool) -> String {
        let header = ["ACTION", "CLUSTER", "NAMESPACE", "REASON"];
        let rows: Vec<[String; 4]> = self
            .actions
            .iter()
            .filter(|a| all || a.action != NamespaceAction::NoOp)
            .map(|a| {
                let label = if a.privileged {
                    format!("{} (admin)", a.action.label())
                } else {
                    a.action.label().to_owned()
                };
                [
                    label,
                    a.cluster.clone(),
                    a.namespace.clone(),
                    a.reason.clone(),
                ]
            })
            .collect();
        let mut widths = header.map(str::len);
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.len());
            }
        }
        let mut out = String::new();
        let line = |out: &mut String, cells: [&str; 4]| {
            let _ = writeln!(
                out,
                "{:<w0$}  {:<w1$}  {:<w2$}  {}",
                cells[0],
                cells[1],
                cells[2],
                cells[3],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2]
            );
        };
        if !rows.is_empty() {
            line(&mut out, header);
            for row in &rows {
                line(&mut out, [&row[0], &row[1], &row[2], &row[3]]);
            }
        }
        let count = |k| self.actions.iter().filter(|a| a.action == k).count();
        let _ = writeln!(
            out,
            "Plan: {} to create, {} to delete, {} unchanged, {} skipped.",
            count(NamespaceAction::Create),
            count(NamespaceAction::Delete),
            count(NamespaceAction::NoOp),
            count(NamespaceAction::Skip)
        );
        for e in &self.errors {
            let _ = writeln!(out, "Error: {e}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desired(cluster: &str, namespace: &str, delete: bool) -> DesiredNamespace {
        DesiredNamespace {
            cluster: cluster.into(),
            namespace: namespace.into(),
            delete,
            privileged: namespace.starts_with("admin"),
            paths: vec![format!("/services/{namespace}.yml")],
        }
    }

    fn sample() -> (Vec<DesiredNamespace>, Vec<Observed>) {
        (
            vec![
                desired("c1", "stage", false),
                desired("c1", "present", false),
                desired("c1", "legacy", true),
                desired("c1", "gone", true),
                desired("c2", "admin-ns", false),
            ],
            vec![
                Observed::Absent,
                Observed::Present,
                Observed::Present,
                Observed::Absent,
                Observed::Absent,
            ],
        )
    }

    #[test]
    fn plan_table_and_json() {
        let (d, o) = sample();
        let plan = NamespacePlan::compute(&d, &o, Vec::new());
        assert_eq!(plan.changes(), 3);
        insta::assert_snapshot!("plan_table", plan.render_table(false));
        insta::assert_json_snapshot!("plan_json", plan);
    }

    #[test]
    fn an_error_turns_deletes_into_skips() {
        let (d, mut o) = sample();
        o[4] = Observed::Unknown("[c2] is unreachable: connection refused".into());
        let plan = NamespacePlan::compute(&d, &o, Vec::new());
        assert_eq!(plan.errors, ["[c2] is unreachable: connection refused"]);
        assert!(
            plan.actions
                .iter()
                .all(|a| a.action != NamespaceAction::Delete)
        );
        insta::assert_snapshot!("plan_table_with_error", plan.render_table(true));
    }
}
