//! Desired state of `openshift-rolebindings`: the managed namespaces (`managedRoles: true`,
//! not deleted), with `RoleBinding.rbac.authorization.k8s.io` initialised in each, and one
//! RoleBinding per (namespace, access role, user) granted by a role that has not expired.
//!
//! The subject is the user's name as the cluster's identity providers know it (upstream
//! `determine_user_keys_for_access`): `github_username` for `github-org` / `github-org-team`
//! auth, `org_username` for `oidc` / `rhidp`, one RoleBinding per distinct key when a cluster
//! has several, `github_username` when it has none. An auth service not in that list is an
//! error on the cluster.
//!
//! Bots with an `openshift_serviceaccount` (`<namespace>/<name>`) of a role get a RoleBinding
//! `<role>-<sa namespace>-<sa name>` with that ServiceAccount as subject, in every namespace
//! the role grants access to (upstream `construct_sa_oc_resource`).

use std::collections::{BTreeMap, BTreeSet};

use qontract_gql_bindings::rolebindings_roles::{NamespaceV1, RoleV1};
use qontract_realize::{Declared, cluster_spec};
use serde_json::Value;

use crate::bindings::{self, BindingKind};
use crate::{MANAGED_TYPE, NAME, VERSION};

/// What narrows a run.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Integration, cluster/namespace filters and shard.
    pub scope: qontract_realize::NamespaceFilter,
    /// Today (UTC) as `YYYY-MM-DD`: roles whose `expirationDate` is today or earlier grant
    /// nothing.
    pub today: String,
    /// `--support-role-ref`: an access `role` binds the namespace's Role of that name instead
    /// of the ClusterRole (upstream `RoleBindingSpec.create_role_binding_spec`).
    pub support_role_ref: bool,
}

/// The desired state of a run (see `qontract_realize::DesiredInventory`).
pub type DesiredState = qontract_realize::DesiredInventory;

pub use crate::bindings::{RoleKind, UserKey, today_utc};

/// Whether a namespace's RoleBindings are managed by this run.
fn in_scope(ns: &NamespaceV1, filter: &Filter) -> bool {
    let disabled = ns
        .cluster
        .disable
        .as_ref()
        .and_then(|d| d.integrations.as_deref());
    ns.managed_roles.unwrap_or(false)
        && filter
            .scope
            .selects(&ns.cluster.name, &ns.name, disabled, ns.delete)
}

/// The role an access entry binds, as upstream `RoleBindingSpec.create_role_binding_spec`:
/// the name is `role` or else `clusterRole`; the kind is `Role` only for `role` with
/// `--support-role-ref`, `ClusterRole` otherwise. `None` when the entry names neither.
pub fn access_role<'a>(
    role: Option<&'a str>,
    cluster_role: Option<&'a str>,
    support_role_ref: bool,
) -> Option<(&'a str, RoleKind)> {
    // Python truthiness: an empty string is no role.
    let role = role.filter(|r| !r.is_empty());
    let cluster_role = cluster_role.filter(|r| !r.is_empty());
    let name = role.or(cluster_role)?;
    let kind = if role.is_some() && support_role_ref {
        RoleKind::Role
    } else {
        RoleKind::ClusterRole
    };
    Some((name, kind))
}

/// The name of the RoleBinding of `user` to `role` (upstream
/// `BindingSpec.construct_user_oc_resource`).
pub fn rolebinding_name(role: &str, user: &str) -> String {
    bindings::user_binding_name(role, user)
}

/// The RoleBinding of `user` to `role` of `kind` (upstream
/// `BindingSpec.construct_user_oc_resource`).
pub fn rolebinding(role: &str, kind: RoleKind, user: &str) -> Value {
    bindings::user_binding(BindingKind::RoleBinding, role, kind, user)
}

/// The RoleBinding of the ServiceAccount `sa_namespace/sa_name` to `role` of `kind`
/// (upstream `BindingSpec.construct_sa_oc_resource`).
pub fn serviceaccount_rolebinding(
    role: &str,
    kind: RoleKind,
    sa_namespace: &str,
    sa_name: &str,
) -> Value {
    bindings::serviceaccount_binding(BindingKind::RoleBinding, role, kind, sa_namespace, sa_name)
}

/// Build the desired state from the `RolebindingsRoles` query (upstream
/// `OpenShiftRoleBindingsIntegration.fetch_desired_state`).
pub fn desired_state(
    roles: &[RoleV1],
    namespaces: &[NamespaceV1],
    filter: &Filter,
) -> DesiredState {
    let mut state = DesiredState::default();
    // Managed (cluster, namespace) -> (privileged, user keys of the cluster).
    let mut managed: BTreeMap<(&str, &str), (bool, BTreeSet<UserKey>)> = BTreeMap::new();
    let mut keys_of = bindings::ClusterUserKeys::default();
    for ns in namespaces.iter().filter(|ns| in_scope(ns, filter)) {
        let cluster = &ns.cluster.name;
        if state
            .namespaces
            .contains(&(cluster.clone(), ns.name.clone()))
        {
            continue;
        }
        let privileged = ns.cluster_admin.unwrap_or(false);
        state.manage_namespace(cluster, &ns.name, privileged, &[MANAGED_TYPE], || {
            cluster_spec(&ns.cluster)
        });
        let services = ns.cluster.auth.iter().map(|auth| auth.service.as_str());
        if let Some(keys) = keys_of.get(cluster, services, &mut state.inventory) {
            managed.insert(
                (cluster.as_str(), ns.name.as_str()),
                (privileged, keys.clone()),
            );
        }
    }
    for role in roles {
        let Some(active) = bindings::active_role(role, &filter.today, &mut state.inventory) else {
            continue;
        };
        for access in role.access.iter().flatten() {
            let Some(namespace) = &access.namespace else {
                continue;
            };
            let Some((role_name, role_kind)) = access_role(
                access.role.as_deref(),
                access.cluster_role.as_deref(),
                filter.support_role_ref,
            ) else {
                continue;
            };
            let cluster = namespace.cluster.name.as_str();
            let Some((privileged, keys)) = managed.get(&(cluster, namespace.name.as_str())) else {
                // Not managed here: no managedRoles, deleted, filtered out or another shard.
                continue;
            };
            let location = format!("{cluster}/{}", namespace.name);
            bindings::add_bindings(
                &mut state,
                &active,
                bindings::usernames(&role.users, keys),
                &bindings::AccessBindings {
                    kind: BindingKind::RoleBinding,
                    role_name,
                    role_kind,
                    at: Declared {
                        cluster,
                        namespace: &namespace.name,
                        privileged: *privileged,
                        origin: &location,
                    },
                    resource_type: MANAGED_TYPE,
                    integration: (NAME, VERSION),
                },
            );
        }
    }
    state
}

#[cfg(test)]
mod tests;
