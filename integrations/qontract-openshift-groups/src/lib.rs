//! `openshift-groups`: OpenShift `Group` membership (`user.openshift.io/v1`) from the roles
//! granting access to cluster groups (upstream `reconcile/openshift_groups.py`).
//!
//! As upstream:
//! * clusters are sharded by name; the current state is the members of each cluster's
//!   `managedGroups` (a missing Group has none), read with the cluster's automation token;
//! * the desired state is, for every role that has not expired and every
//!   `access[] {cluster, group}` on a cluster with a working client, each user's name as the
//!   cluster's auth knows it (the user-key logic shared with openshift-rolebindings);
//! * on clusters provisioned by OCM (`ocm` set), the OCM-managed groups `dedicated-admins` and
//!   `cluster-admins` are left out of both states;
//! * the diff is `add_user_to_group` / `del_user_from_group` per member, `create_group` when a
//!   group with desired members has none now, `delete_group` (never carried out) when a group
//!   has no desired member left; every (cluster, group) of the diff must be in that cluster's
//!   `managedGroups`, otherwise the run fails before any change ("hint: should be added to
//!   managedGroups"), so only managed groups are ever touched;
//! * `create_group` and `del_user_from_group` go first, then `add_user_to_group`;
//!   each action is logged as upstream logs it (`['add_user_to_group', cluster, group, user]`).

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context as _;
use kube::api::{Api, DynamicObject, PostParams};
use qontract_gql_bindings::openshift_groups_roles::{ClusterV1, OpenshiftGroupsRoles, RoleV1};
use qontract_openshift_rolebindings::bindings::{self, BindingsError};
use qontract_runtime::{ClusterScope, Integration, RunContext, RunOutcome};
use serde_json::{Value, json};
use user_api::PlannedAction;

pub mod user_api;

/// CLI name.
pub const NAME: &str = "openshift-groups";

/// The groups OCM manages on the clusters it provisions (upstream `OCMClusterGroupId`).
pub const OCM_GROUPS: &[&str] = &["dedicated-admins", "cluster-admins"];

/// The integration.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenshiftGroups;

/// One member of one group on one cluster.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Membership {
    /// Cluster name.
    pub cluster: String,
    /// Group name.
    pub group: String,
    /// User name.
    pub user: String,
}

/// What a diff entry does (upstream `calculate_diff` actions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    /// Create the group (when it has no member now).
    CreateGroup,
    /// Remove a member.
    DelUserFromGroup,
    /// Add a member.
    AddUserToGroup,
    /// The group has no desired member left (logged, never carried out, as upstream).
    DeleteGroup,
}

impl Action {
    /// Upstream's action name.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::CreateGroup => "create_group",
            Action::DelUserFromGroup => "del_user_from_group",
            Action::AddUserToGroup => "add_user_to_group",
            Action::DeleteGroup => "delete_group",
        }
    }

    /// Upstream `sort_diffs`: group creations and removals first.
    fn priority(self) -> u8 {
        match self {
            Action::CreateGroup | Action::DelUserFromGroup => 1,
            Action::AddUserToGroup | Action::DeleteGroup => 2,
        }
    }
}

/// One entry of the diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diff {
    /// What to do.
    pub action: Action,
    /// Cluster name.
    pub cluster: String,
    /// Group name.
    pub group: String,
    /// The member (none for group actions).
    pub user: Option<String>,
}

impl PlannedAction for Diff {
    fn cluster(&self) -> &str {
        &self.cluster
    }

    fn to_json(&self) -> Value {
        json!({"action": self.action.as_str(), "cluster": self.cluster,
               "group": self.group, "user": self.user})
    }

    fn text_line(&self) -> String {
        format!(
            "{}  {}  {}  {}",
            self.action.as_str(),
            self.cluster,
            self.group,
            self.user.as_deref().unwrap_or("-")
        )
    }

    /// The line upstream logs for it: `['add_user_to_group', 'c1', 'g', 'ada']`.
    fn log_line(&self) -> String {
        let user = self
            .user
            .as_deref()
            .map_or_else(|| "None".to_owned(), |u| format!("'{u}'"));
        format!(
            "['{}', '{}', '{}', {user}]",
            self.action.as_str(),
            self.cluster,
            self.group
        )
    }
}

/// Whether `group` on `cluster` is left to OCM.
fn ocm_managed(ocm_clusters: &BTreeSet<&str>, cluster: &str, group: &str) -> bool {
    ocm_clusters.contains(cluster) && OCM_GROUPS.contains(&group)
}

/// The desired memberships (upstream `fetch_desired_state`) on the clusters `clusters` (those
/// with a working client), or the errors that make upstream fail (an expiration date that is
/// not a date, an auth service without a user key).
pub fn desired_state(
    roles: &[RoleV1],
    clusters: &BTreeSet<&str>,
    today: &str,
) -> Result<BTreeSet<Membership>, Vec<BindingsError>> {
    let mut desired = BTreeSet::new();
    let mut errors = Vec::new();
    let mut keys_of = bindings::ClusterUserKeys::default();
    for role in roles {
        if bindings::active_role(role, today, &mut errors).is_none() {
            continue;
        }
        for access in role.access.iter().flatten() {
            let (Some(cluster), Some(group)) = (
                access.cluster.as_ref(),
                access.group.as_deref().filter(|g| !g.is_empty()),
            ) else {
                continue;
            };
            if !clusters.contains(cluster.name.as_str()) {
                continue;
            }
            let services = cluster.auth.iter().map(|auth| auth.service.as_str());
            let Some(keys) = keys_of.get(&cluster.name, services, &mut errors) else {
                continue;
            };
            for user in bindings::usernames(&role.users, keys) {
                desired.insert(Membership {
                    cluster: cluster.name.clone(),
                    group: group.to_owned(),
                    user: user.to_owned(),
                });
            }
        }
    }
    if errors.is_empty() {
        Ok(desired)
    } else {
        Err(errors)
    }
}

/// The memberships of `from` not in `subtract` as `user_action`, each preceded (once) by
/// `group_action` when `subtract` has no member of that group on that cluster (upstream
/// `subtract_states`).
fn subtract(
    from: &BTreeSet<Membership>,
    subtract: &BTreeSet<Membership>,
    user_action: Action,
    group_action: Action,
) -> Vec<Diff> {
    let groups: BTreeSet<(&str, &str)> = subtract
        .iter()
        .map(|m| (m.cluster.as_str(), m.group.as_str()))
        .collect();
    let mut out: Vec<Diff> = Vec::new();
    for member in from.difference(subtract) {
        if !groups.contains(&(member.cluster.as_str(), member.group.as_str())) {
            let diff = Diff {
                action: group_action,
                cluster: member.cluster.clone(),
                group: member.group.clone(),
                user: None,
            };
            if !out.contains(&diff) {
                out.push(diff);
            }
        }
        out.push(Diff {
            action: user_action,
            cluster: member.cluster.clone(),
            group: member.group.clone(),
            user: Some(member.user.clone()),
        });
    }
    out
}

/// The diff from `current` to `desired`, sorted as upstream (`calculate_diff`, then
/// `sort_diffs`, a stable sort).
pub fn calculate_diff(current: &BTreeSet<Membership>, desired: &BTreeSet<Membership>) -> Vec<Diff> {
    let mut diffs = subtract(
        desired,
        current,
        Action::AddUserToGroup,
        Action::CreateGroup,
    );
    diffs.extend(subtract(
        current,
        desired,
        Action::DelUserFromGroup,
        Action::DeleteGroup,
    ));
    diffs.sort_by_key(|d| d.action.priority());
    diffs
}

/// A diff on a group its cluster does not list in `managedGroups` (upstream `validate_diffs`
/// raises): the run fails before any change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid cluster/group combination: {cluster}/{group} (hint: should be added to managedGroups)"
)]
pub struct UnmanagedGroup {
    /// Cluster name.
    pub cluster: String,
    /// Group name.
    pub group: String,
}

/// Every (cluster, group) of the diff must be a managed group of that cluster (upstream
/// `validate_diffs`): those that are not, once each.
pub fn validate_diffs(diffs: &[Diff], managed: &BTreeSet<(String, String)>) -> Vec<UnmanagedGroup> {
    let mut invalid: Vec<UnmanagedGroup> = Vec::new();
    for diff in diffs {
        if managed.contains(&(diff.cluster.clone(), diff.group.clone())) {
            continue;
        }
        let error = UnmanagedGroup {
            cluster: diff.cluster.clone(),
            group: diff.group.clone(),
        };
        if !invalid.contains(&error) {
            invalid.push(error);
        }
    }
    invalid
}

/// The members of a Group object (`users`, `null` when none).
fn members(group: &DynamicObject) -> Vec<String> {
    group
        .data
        .get("users")
        .and_then(Value::as_array)
        .map(|users| {
            users
                .iter()
                .filter_map(|u| u.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Carry out one diff entry on its cluster (upstream `act`: `oc adm groups new`,
/// `add-users`, `remove-users`; `delete_group` is skipped).
async fn act(client: &kube::Client, diff: &Diff) -> anyhow::Result<()> {
    let api: Api<DynamicObject> =
        Api::all_with(client.clone(), &user_api::resource("Group", "groups"));
    let group = diff.group.as_str();
    let context = || format!("[{}] {} Group {group}", diff.cluster, diff.action.as_str());
    match diff.action {
        Action::DeleteGroup => {
            tracing::debug!("skipping group deletion");
            Ok(())
        }
        Action::CreateGroup => {
            if api.get_opt(group).await.with_context(context)?.is_some() {
                return Ok(());
            }
            let object: DynamicObject = serde_json::from_value(json!({
                "apiVersion": "user.openshift.io/v1",
                "kind": "Group",
                "metadata": {"name": group},
                "users": null,
            }))
            .with_context(context)?;
            api.create(&PostParams::default(), &object)
                .await
                .with_context(context)?;
            Ok(())
        }
        Action::AddUserToGroup | Action::DelUserFromGroup => {
            let user = diff.user.as_deref().unwrap_or_default();
            let mut object = api.get(group).await.with_context(context)?;
            let mut users = members(&object);
            if diff.action == Action::AddUserToGroup {
                if users.iter().any(|u| u == user) {
                    return Ok(());
                }
                users.push(user.to_owned());
            } else {
                users.retain(|u| u != user);
            }
            object.data["users"] = json!(users);
            api.replace(group, &PostParams::default(), &object)
                .await
                .with_context(context)?;
            Ok(())
        }
    }
}

impl Integration for OpenshiftGroups {
    /// `--internal` / `--external`.
    type Args = ClusterScope;
    const NAME: &'static str = NAME;
    const ABOUT: &'static str = "Manages OpenShift Groups.";

    async fn run(ctx: RunContext, scope: ClusterScope) -> anyhow::Result<RunOutcome> {
        use cynic::QueryBuilder;
        let data = ctx.gql.run(OpenshiftGroupsRoles::build(())).await?;
        let all_clusters: Vec<ClusterV1> = data.clusters.unwrap_or_default();
        let roles = data.roles.unwrap_or_default();
        // Upstream `validate_diffs` checks against every cluster's managed groups.
        let managed: BTreeSet<(String, String)> = all_clusters
            .iter()
            .flat_map(|c| {
                c.managed_groups
                    .iter()
                    .flatten()
                    .map(|g| (c.name.clone(), g.clone()))
            })
            .collect();
        let clusters: Vec<&ClusterV1> = all_clusters
            .iter()
            .filter(|c| ctx.shard.is_in_shard(&c.name))
            .collect();
        let ocm_clusters: BTreeSet<&str> = clusters
            .iter()
            .filter(|c| c.ocm.is_some())
            .map(|c| c.name.as_str())
            .collect();
        let clients = user_api::cluster_clients(&ctx, &scope, clusters.iter().copied()).await?;
        let apis: BTreeMap<&str, Api<DynamicObject>> = clients
            .iter()
            .map(|(name, client)| {
                let api = Api::all_with(client.clone(), &user_api::resource("Group", "groups"));
                (name.as_str(), api)
            })
            .collect();

        // Current state: the members of the managed groups (upstream `get_cluster_state`).
        let mut current = BTreeSet::new();
        for cluster in &clusters {
            let Some(api) = apis.get(cluster.name.as_str()) else {
                continue;
            };
            for group in cluster.managed_groups.iter().flatten() {
                let object = api.get_opt(group).await.with_context(|| {
                    format!(
                        "could not get group state for cluster/group combination: {}/{group}",
                        cluster.name
                    )
                })?;
                for user in object.as_ref().map(members).unwrap_or_default() {
                    current.insert(Membership {
                        cluster: cluster.name.clone(),
                        group: group.clone(),
                        user,
                    });
                }
            }
        }

        let reachable: BTreeSet<&str> = apis.keys().copied().collect();
        let desired = match desired_state(&roles, &reachable, &bindings::today_utc()) {
            Ok(desired) => desired,
            Err(errors) => return Ok(user_api::refused(&errors)),
        };
        let keep = |m: &Membership| !ocm_managed(&ocm_clusters, &m.cluster, &m.group);
        let current: BTreeSet<Membership> = current.into_iter().filter(keep).collect();
        let desired: BTreeSet<Membership> = desired.into_iter().filter(keep).collect();
        tracing::info!(
            "desired state: {} membership(s), current: {} in {} managed group(s)",
            desired.len(),
            current.len(),
            clusters
                .iter()
                .map(|c| c.managed_groups.as_ref().map_or(0, Vec::len))
                .sum::<usize>()
        );

        let diffs = calculate_diff(&current, &desired);
        let invalid = validate_diffs(&diffs, &managed);
        if !invalid.is_empty() {
            return Ok(user_api::refused(&invalid));
        }
        let changes = diffs
            .iter()
            .filter(|d| d.action != Action::DeleteGroup)
            .count();
        let errors = user_api::print_and_carry_out(&ctx, &clients, &diffs, act).await?;
        Ok(RunOutcome { changes, errors })
    }
}

#[cfg(test)]
mod tests;
