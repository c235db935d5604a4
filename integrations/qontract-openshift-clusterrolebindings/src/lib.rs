//! `openshift-clusterrolebindings`: the cluster-wide access granted by app-interface roles, as
//! ClusterRoleBindings (upstream `reconcile/openshift_bindings/openshift_clusterrolebindings.py`
//! and `ClusterRoleBindingSpec` in `openshift_bindings/models.py`). For every role
//! (`roles_v1`) with `access[] {cluster, clusterRole}`, every user holding that role gets a
//! `ClusterRoleBinding` named `<clusterRole>-<username>` binding the user to the ClusterRole,
//! and every bot of the role with an `openshift_serviceaccount` (`<ns>/<sa>`) gets
//! `<clusterRole>-<ns>-<sa>` binding that ServiceAccount.
//!
//! As upstream: only clusters with `managedClusterRoles: true` and an `automationToken` that do
//! not disable the integration are managed (`--internal` / `--external` narrow them further),
//! and on them only `ClusterRoleBinding.rbac.authorization.k8s.io` (in the inventory's
//! `cluster` pseudo namespace); expired roles grant nothing; the username is the one the
//! cluster's auth knows (the user-key logic shared with openshift-rolebindings,
//! [`qontract_openshift_rolebindings::bindings`]); the same binding granted by several roles
//! is one object. Only ClusterRoleBindings carrying this integration's annotations are ever
//! deleted. Upstream runs this integration unsharded and without an early-exit desired state,
//! and so does this one: `--cluster-name` narrows the run to one cluster, `--namespace-name`
//! does not apply.

use qontract_gql_bindings::clusterrolebindings_roles::{
    ClusterV1, ClusterrolebindingsRoles, RoleV1,
};
use qontract_openshift_rolebindings::bindings::{self, BindingKind, RoleKind};
use qontract_realize::{Declared, DesiredInventory, NamespaceFilter};
use qontract_resource_inventory::CLUSTER_SCOPE_NAMESPACE;
use qontract_runtime::{DesiredInput, IntegrationInfo, InventoryIntegration, NoArgs};

/// CLI name, also the `qontract.integration` annotation of the objects.
pub const NAME: &str = "openshift-clusterrolebindings";

/// Version recorded in `qontract.integration_version` (upstream `make_semver(0, 1, 0)`).
pub const VERSION: &str = "0.1.0";

/// The managed type.
pub const MANAGED_TYPE: &str = "ClusterRoleBinding.rbac.authorization.k8s.io";

/// The integration.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenshiftClusterRolebindings;

/// What narrows a run.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// The integration (for `disable.integrations`) and `--cluster-name`; the shard and
    /// `--namespace-name` are not looked at (upstream is not sharded).
    pub scope: NamespaceFilter,
    /// Today (UTC) as `YYYY-MM-DD`: roles whose `expirationDate` is today or earlier grant
    /// nothing.
    pub today: String,
}

/// Whether the ClusterRoleBindings of `cluster` are managed by this run (upstream
/// `fetch_current_state`: `managedClusterRoles` and an `automationToken`; `OC_Map` skips
/// clusters that disable the integration).
fn managed(cluster: &ClusterV1, filter: &Filter) -> bool {
    let disabled = cluster
        .disable
        .as_ref()
        .and_then(|d| d.integrations.as_deref());
    cluster.managed_cluster_roles.unwrap_or(false)
        && cluster.automation_token.is_some()
        && !filter.scope.disabled_on(disabled)
        && filter
            .scope
            .cluster_name
            .as_deref()
            .is_none_or(|name| name == cluster.name)
}

/// Build the desired state from the `ClusterrolebindingsRoles` query (upstream
/// `OpenShiftClusterRoleBindingsIntegration.fetch_desired_state`).
pub fn desired_state(
    roles: &[RoleV1],
    clusters: &[ClusterV1],
    filter: &Filter,
) -> DesiredInventory {
    let mut state = DesiredInventory::default();
    for cluster in clusters.iter().filter(|c| managed(c, filter)) {
        state.manage_namespace(
            &cluster.name,
            CLUSTER_SCOPE_NAMESPACE,
            false,
            &[MANAGED_TYPE],
            || qontract_realize::cluster_spec(cluster),
        );
    }
    // The user keys of each cluster, from the `auth` of the access entries naming it.
    let mut keys_of = bindings::ClusterUserKeys::default();
    for role in roles {
        let Some(active) = bindings::active_role(role, &filter.today, &mut state.inventory) else {
            continue;
        };
        for access in role.access.iter().flatten() {
            let (Some(cluster), Some(cluster_role)) = (
                access.cluster.as_ref(),
                access.cluster_role.as_deref().filter(|r| !r.is_empty()),
            ) else {
                continue;
            };
            if !state
                .namespaces
                .contains(&(cluster.name.clone(), CLUSTER_SCOPE_NAMESPACE.to_owned()))
            {
                // Not managed here (upstream keeps only specs of `allowed_clusters`).
                continue;
            }
            let services = cluster.auth.iter().map(|auth| auth.service.as_str());
            let Some(keys) = keys_of.get(&cluster.name, services, &mut state.inventory) else {
                continue;
            };
            bindings::add_bindings(
                &mut state,
                &active,
                bindings::usernames(&role.users, keys),
                &bindings::AccessBindings {
                    kind: BindingKind::ClusterRoleBinding,
                    role_name: cluster_role,
                    role_kind: RoleKind::ClusterRole,
                    at: Declared {
                        cluster: &cluster.name,
                        namespace: CLUSTER_SCOPE_NAMESPACE,
                        privileged: false,
                        origin: &cluster.name,
                    },
                    resource_type: MANAGED_TYPE,
                    integration: (NAME, VERSION),
                },
            );
        }
    }
    state
}

impl InventoryIntegration for OpenshiftClusterRolebindings {
    type Args = NoArgs;
    type Query = ClusterrolebindingsRoles;
    type Desired = DesiredInventory;
    const INFO: IntegrationInfo = IntegrationInfo {
        about: "Configures ClusterRolebindings in OpenShift clusters.",
        managed_types: &[MANAGED_TYPE],
        // Upstream has no early-exit desired state for this integration (and no sharding).
        early_exit: false,
        ..IntegrationInfo::new(NAME, VERSION)
    };

    async fn desired(input: DesiredInput<'_, Self>) -> anyhow::Result<DesiredInventory> {
        let filter = Filter {
            scope: input.scope.clone(),
            today: bindings::today_utc(),
        };
        let data = input.data;
        Ok(desired_state(
            data.roles.as_deref().unwrap_or_default(),
            data.clusters.as_deref().unwrap_or_default(),
            &filter,
        ))
    }
}

#[cfg(test)]
mod tests;
