//! `openshift-users`: OpenShift `User` objects (`user.openshift.io/v1`) of people no longer
//! entitled to a cluster are deleted, with their identities (upstream
//! `reconcile/openshift_users.py`). This integration only ever deletes.
//!
//! As upstream:
//! * every cluster (not sharded) with a working client is read; its current users are the
//!   `User` objects without a truthy `admin` label that have an identity from a provider
//!   app-interface owns on that cluster: `github*`, or the name of one of the cluster's `oidc` /
//!   `rhidp` auth entries (`get_cluster_users`); any other user is left alone;
//! * a user is entitled on a cluster through a role that has not expired granting namespace
//!   access (`role` / `clusterRole` on a namespace with `managedRoles`, not `delete`, in this
//!   shard: the RoleBindings of openshift-rolebindings) or cluster-group access
//!   (`access {cluster, group}`: the memberships of openshift-groups), under the user key the
//!   cluster's auth knows (shared with openshift-rolebindings); cluster-wide `clusterRole`
//!   access alone does not entitle, as upstream;
//! * every current user not entitled is deleted (`['del_user', cluster, user]`), its
//!   identities with it (`oc.delete_user`).
//!
//! An error reading a cluster's users, an auth service without a user key or a role date that
//! is not a date fails the run before anything is deleted (upstream raises).

use std::collections::BTreeSet;

use anyhow::Context as _;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams};
use qontract_gql_bindings::openshift_users_roles::{
    ClusterAuthV12, ClusterV1, OpenshiftUsersRoles, RoleV1,
};
use qontract_openshift_groups::user_api::{self, PlannedAction};
use qontract_openshift_rolebindings::bindings::{self, BindingsError};
use qontract_runtime::{ClusterScope, Integration, RunContext, RunOutcome};
use qontract_sharding::ShardConfig;
use serde_json::{Value, json};

/// CLI name.
pub const NAME: &str = "openshift-users";

/// The integration.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenshiftUsers;

/// A user on a cluster.
pub type ClusterUser = (String, String);

/// The identity prefixes app-interface owns on `cluster`: `github`, and the names of its
/// `oidc` / `rhidp` auth entries (upstream `get_cluster_users`).
pub fn identity_prefixes(cluster: &ClusterV1) -> Vec<&str> {
    let mut prefixes = vec!["github"];
    prefixes.extend(
        cluster
            .auth
            .iter()
            .filter_map(|auth| match &auth.cluster_auth_v12 {
                ClusterAuthV12::ClusterAuthOidcV1(oidc) => Some(oidc.name.as_str()),
                ClusterAuthV12::ClusterAuthRhidpV1(rhidp) => Some(rhidp.name.as_str()),
                ClusterAuthV12::Unknown => None,
            }),
    );
    prefixes
}

/// Whether the `User` object `user` is app-interface's to manage: no truthy `admin` label,
/// and an identity starting with one of `prefixes`.
pub fn is_managed_user(user: &Value, prefixes: &[&str]) -> bool {
    let admin = user
        .pointer("/metadata/labels/admin")
        .and_then(Value::as_str)
        .is_some_and(|v| !v.is_empty());
    if admin {
        return false;
    }
    user.get("identities")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .any(|identity| prefixes.iter().any(|p| identity.starts_with(p)))
}

/// The users entitled on the clusters `clusters` (upstream `fetch_desired_state`: the users of
/// the RoleBindings and of the group memberships), or the errors that make upstream fail.
pub fn desired_state(
    roles: &[RoleV1],
    clusters: &BTreeSet<&str>,
    shard: &ShardConfig,
    today: &str,
) -> Result<BTreeSet<ClusterUser>, Vec<BindingsError>> {
    let mut desired = BTreeSet::new();
    let mut errors = Vec::new();
    let mut keys_of = bindings::ClusterUserKeys::default();
    for role in roles {
        if bindings::active_role(role, today, &mut errors).is_none() {
            continue;
        }
        for access in role.access.iter().flatten() {
            // The clusters this access entitles the role's users on, with their auth services.
            let mut entitled: Vec<(&str, Vec<&str>)> = Vec::new();
            // A RoleBinding (upstream `RoleBindingSpec.create_rb_specs_from_role`).
            let has_role = [&access.role, &access.cluster_role]
                .into_iter()
                .any(|r| r.as_deref().is_some_and(|r| !r.is_empty()));
            if let Some(namespace) = &access.namespace
                && has_role
                && namespace.managed_roles.unwrap_or(false)
                && !namespace.delete.unwrap_or(false)
                && clusters.contains(namespace.cluster.name.as_str())
                && shard.is_in_shard(&format!("{}/{}", namespace.cluster.name, namespace.name))
            {
                let auth = namespace.cluster.auth.iter();
                entitled.push((
                    &namespace.cluster.name,
                    auth.map(|a| a.service.as_str()).collect(),
                ));
            }
            // A group membership (upstream `openshift_groups.fetch_desired_state`).
            if let Some(cluster) = &access.cluster
                && access.group.as_deref().is_some_and(|g| !g.is_empty())
                && clusters.contains(cluster.name.as_str())
            {
                let auth = cluster.auth.iter();
                entitled.push((&cluster.name, auth.map(|a| a.service.as_str()).collect()));
            }
            for (cluster, services) in entitled {
                let Some(keys) = keys_of.get(cluster, services, &mut errors) else {
                    continue;
                };
                for user in bindings::usernames(&role.users, keys) {
                    desired.insert((cluster.to_owned(), user.to_owned()));
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(desired)
    } else {
        Err(errors)
    }
}

/// A user to delete on a cluster (upstream `calculate_diff`: `del_user`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DelUser<'a> {
    /// Cluster name.
    pub cluster: &'a str,
    /// User name.
    pub user: &'a str,
}

impl PlannedAction for DelUser<'_> {
    fn cluster(&self) -> &str {
        self.cluster
    }

    fn to_json(&self) -> Value {
        json!({"action": "del_user", "cluster": self.cluster, "user": self.user})
    }

    fn text_line(&self) -> String {
        format!("del_user  {}  {}", self.cluster, self.user)
    }

    fn log_line(&self) -> String {
        format!("['del_user', '{}', '{}']", self.cluster, self.user)
    }
}

/// Delete `user` and its identities (upstream `OCCli.delete_user`).
async fn delete_user(client: &kube::Client, del: &DelUser<'_>) -> anyhow::Result<()> {
    let DelUser { cluster, user } = *del;
    let users: Api<DynamicObject> =
        Api::all_with(client.clone(), &user_api::resource("User", "users"));
    let identities: Api<DynamicObject> = Api::all_with(
        client.clone(),
        &user_api::resource("Identity", "identities"),
    );
    let object = users
        .get(user)
        .await
        .with_context(|| format!("[{cluster}] get User {user}"))?;
    users
        .delete(user, &DeleteParams::default())
        .await
        .with_context(|| format!("[{cluster}] delete User {user}"))?;
    for identity in object
        .data
        .get("identities")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        // An identity already gone (e.g. a run interrupted after the User was deleted) is
        // not an error.
        match identities.delete(identity, &DeleteParams::default()).await {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 404 => {
                tracing::debug!("[{cluster}] Identity {identity} of User {user} already gone");
            }
            Err(e) => {
                return Err(anyhow::Error::new(e).context(format!(
                    "[{cluster}] delete Identity {identity} of User {user}"
                )));
            }
        }
    }
    Ok(())
}

impl Integration for OpenshiftUsers {
    /// `--internal` / `--external`.
    type Args = ClusterScope;
    const NAME: &'static str = NAME;
    const ABOUT: &'static str = "Deletion of users from OpenShift clusters.";

    async fn run(ctx: RunContext, scope: ClusterScope) -> anyhow::Result<RunOutcome> {
        use cynic::QueryBuilder;
        let data = ctx.gql.run(OpenshiftUsersRoles::build(())).await?;
        let clusters: Vec<ClusterV1> = data.clusters.unwrap_or_default();
        let roles = data.roles.unwrap_or_default();
        let clients = user_api::cluster_clients(&ctx, &scope, &clusters).await?;

        // Current state (upstream `get_cluster_users`).
        let mut current: BTreeSet<ClusterUser> = BTreeSet::new();
        for cluster in &clusters {
            let Some(client) = clients.get(&cluster.name) else {
                continue;
            };
            let users: Api<DynamicObject> =
                Api::all_with(client.clone(), &user_api::resource("User", "users"));
            let list = users
                .list(&ListParams::default())
                .await
                .with_context(|| format!("[{}] list Users", cluster.name))?;
            let prefixes = identity_prefixes(cluster);
            for user in list.items {
                let name = user.metadata.name.clone().unwrap_or_default();
                let value = serde_json::to_value(&user)?;
                if is_managed_user(&value, &prefixes) {
                    current.insert((cluster.name.clone(), name));
                }
            }
        }

        let reachable: BTreeSet<&str> = clients.keys().map(String::as_str).collect();
        let desired = match desired_state(&roles, &reachable, &ctx.shard, &bindings::today_utc()) {
            Ok(desired) => desired,
            Err(errors) => return Ok(user_api::refused(&errors)),
        };
        tracing::info!(
            "desired state: {} entitled user(s); current: {} managed user(s) on {} cluster(s)",
            desired.len(),
            current.len(),
            reachable.len()
        );
        let to_delete: Vec<DelUser<'_>> = current
            .difference(&desired)
            .map(|(cluster, user)| DelUser { cluster, user })
            .collect();
        let errors = user_api::print_and_carry_out(&ctx, &clients, &to_delete, delete_user).await?;
        Ok(RunOutcome {
            changes: to_delete.len(),
            errors,
        })
    }
}

#[cfg(test)]
mod tests;
