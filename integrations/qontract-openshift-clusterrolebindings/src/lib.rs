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

use std::collections::BTreeMap;

use qontract_gql_bindings::clusterrolebindings_roles::{
    ClusterV1, ClusterrolebindingsRoles, RoleV1,
};
use qontract_openshift_resource::OpenshiftResource;
use qontract_openshift_rolebindings::bindings::{self, BindingKind, RoleKind, UserKey};
use qontract_realize::{DesiredInventory, NamespaceFilter};
use qontract_resource_inventory::{CLUSTER_SCOPE_NAMESPACE, InventoryError};
use qontract_runtime::{ArgsOf, InventoryIntegration, NoArgs, RunContext};
use serde_json::Value;

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
    /// Today (UTC) as `YYYY-MM-DD`: roles whose `expirationDate` is earlier grant nothing.
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
    let mut keys_of: BTreeMap<String, Option<std::collections::BTreeSet<UserKey>>> =
        BTreeMap::new();
    for role in roles {
        match bindings::role_is_active(
            &role.name,
            &role.path,
            role.expiration_date.as_deref(),
            &filter.today,
        ) {
            Ok(true) => {}
            Ok(false) => continue,
            Err(message) => {
                state.inventory.register_error(None, message);
                continue;
            }
        }
        let (service_accounts, errors) = bindings::service_accounts(
            &role.name,
            &role.path,
            role.bots
                .iter()
                .map(|bot| (bot.name.as_str(), bot.openshift_serviceaccount.as_deref())),
        );
        for message in errors {
            state.inventory.register_error(None, message);
        }
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
            let keys = keys_of.entry(cluster.name.clone()).or_insert_with(|| {
                bindings::user_keys(
                    &cluster.name,
                    cluster.auth.iter().map(|auth| auth.service.as_str()),
                )
                .map_err(|message| state.inventory.register_error(Some(&cluster.name), message))
                .ok()
            });
            let Some(keys) = keys else { continue };
            let mut objects: Vec<(String, Value)> = bindings::usernames(&role.users, keys)
                .into_iter()
                .map(|username| {
                    (
                        format!("user {username}"),
                        bindings::user_binding(
                            BindingKind::ClusterRoleBinding,
                            cluster_role,
                            RoleKind::ClusterRole,
                            username,
                        ),
                    )
                })
                .collect();
            objects.extend(service_accounts.iter().map(|sa| {
                (
                    format!("bot {} ServiceAccount {}/{}", sa.bot, sa.namespace, sa.name),
                    bindings::serviceaccount_binding(
                        BindingKind::ClusterRoleBinding,
                        cluster_role,
                        RoleKind::ClusterRole,
                        sa.namespace,
                        sa.name,
                    ),
                )
            }));
            for (subject, body) in objects {
                let origin = format!(
                    "{} role {} ({}) access ClusterRole {cluster_role} for {subject}",
                    cluster.name, role.name, role.path
                );
                let added = OpenshiftResource::new(body, NAME, VERSION, origin.as_str(), None)
                    .map_err(|e| format!("{origin}: {e}"))
                    .and_then(|resource| {
                        match state.inventory.add_desired(
                            &cluster.name,
                            CLUSTER_SCOPE_NAMESPACE,
                            MANAGED_TYPE,
                            resource,
                            false,
                        ) {
                            // The same binding granted by several roles: the first one (upstream
                            // `if not ri.get_desired(...)`).
                            Ok(()) | Err(InventoryError::DuplicateDesired { .. }) => Ok(()),
                            Err(e) => Err(format!("{origin}: {e}")),
                        }
                    });
                if let Err(message) = added {
                    state.inventory.register_error(Some(&cluster.name), message);
                }
            }
        }
    }
    state
}

impl InventoryIntegration for OpenshiftClusterRolebindings {
    type Args = NoArgs;
    type Query = ClusterrolebindingsRoles;
    type Desired = DesiredInventory;
    const NAME: &'static str = NAME;
    const ABOUT: &'static str = "Configures ClusterRolebindings in OpenShift clusters.";
    const VERSION: &'static str = VERSION;
    const MANAGED_TYPES: &'static [&'static str] = &[MANAGED_TYPE];
    // Upstream has no early-exit desired state for this integration (and no sharding).
    const EARLY_EXIT: bool = false;

    async fn desired(
        _: &RunContext,
        data: ClusterrolebindingsRoles,
        scope: &NamespaceFilter,
        _: &ArgsOf<Self>,
    ) -> anyhow::Result<DesiredInventory> {
        let filter = Filter {
            scope: scope.clone(),
            today: bindings::today_utc(),
        };
        Ok(desired_state(
            &data.roles.unwrap_or_default(),
            &data.clusters.unwrap_or_default(),
            &filter,
        ))
    }
}

#[cfg(test)]
mod tests;
