//! What openshift-rolebindings, openshift-clusterrolebindings, openshift-groups and
//! openshift-users share (upstream `reconcile/openshift_bindings/models.py` and
//! `reconcile/utils/expiration.py`, used by all four): the roles that still grant access and
//! their bots' ServiceAccounts ([`active_role`]: `expiration.filter`,
//! `ServiceAccountSpec.from_bots`), the user name a cluster's identity providers know a user by
//! ([`ClusterUserKeys`]: `determine_user_keys_for_access`, `get_usernames_from_users`), and the
//! binding objects ([`add_bindings`]: `BindingSpec.construct_user_oc_resource` /
//! `construct_sa_oc_resource`). What is wrong in the data is a [`BindingsError`] naming the
//! role (and its file) or the cluster.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

/// A user of a role, as each integration's query returns it.
pub trait AppUser {
    /// `org_username`.
    fn org_username(&self) -> &str;
    /// `github_username`.
    fn github_username(&self) -> &str;
}

macro_rules! app_user {
    ($($ty:path),* $(,)?) => {$(
        impl AppUser for $ty {
            fn org_username(&self) -> &str {
                &self.org_username
            }
            fn github_username(&self) -> &str {
                &self.github_username
            }
        }
    )*};
}

app_user!(
    qontract_gql_bindings::rolebindings_roles::UserV1,
    qontract_gql_bindings::clusterrolebindings_roles::UserV1,
    qontract_gql_bindings::openshift_groups_roles::UserV1,
    qontract_gql_bindings::openshift_users_roles::UserV1,
);

/// Which user name a cluster's identity provider knows users by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum UserKey {
    /// `github_username` (GitHub OAuth: `github-org`, `github-org-team`, or no auth entry).
    GithubUsername,
    /// `org_username` (`oidc`, `rhidp`).
    OrgUsername,
}

impl UserKey {
    /// The user's name under this key.
    pub fn of(self, user: &impl AppUser) -> &str {
        match self {
            UserKey::GithubUsername => user.github_username(),
            UserKey::OrgUsername => user.org_username(),
        }
    }
}

/// What is wrong in the roles or clusters the bindings are computed from; each names the
/// role (with its file) or the cluster it is about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BindingsError {
    /// A role's `expirationDate` that upstream's `strptime(date, "%Y-%m-%d")` does not read
    /// (upstream `expiration.filter` raises `ValueError`).
    #[error("role {role} ({path}): expirationDate {date:?} is not a YYYY-MM-DD date")]
    ExpirationDate {
        /// The role's name.
        role: String,
        /// The role's file.
        path: String,
        /// The value as written.
        date: String,
    },
    /// A cluster `auth` service without a user key (upstream
    /// `determine_user_keys_for_access` raises `NotImplementedError`).
    #[error(
        "cluster {cluster}: auth service {service:?} is not supported for bindings \
         (supported: github-org, github-org-team, oidc, rhidp)"
    )]
    UnsupportedAuthService {
        /// The cluster's name.
        cluster: String,
        /// The service.
        service: String,
    },
    /// A bot's `openshift_serviceaccount` that is not `<namespace>/<name>` (upstream skips
    /// it silently in `ServiceAccountSpec.from_bots`).
    #[error(
        "role {role} ({path}): bot {bot} has openshift_serviceaccount {value:?}, \
         expected <namespace>/<name>"
    )]
    ServiceAccount {
        /// The role's name.
        role: String,
        /// The role's file.
        path: String,
        /// The bot's name.
        bot: String,
        /// The value as written.
        value: String,
    },
}

impl BindingsError {
    /// The cluster the error is about (deletes are disabled there), `None` for a role's error.
    pub fn cluster(&self) -> Option<&str> {
        match self {
            BindingsError::UnsupportedAuthService { cluster, .. } => Some(cluster),
            BindingsError::ExpirationDate { .. } | BindingsError::ServiceAccount { .. } => None,
        }
    }
}

/// Where the errors of a desired-state computation go: a list (openshift-groups and
/// openshift-users fail the run on any), or the inventory (openshift-rolebindings and
/// openshift-clusterrolebindings: an error on a cluster disables deletes there).
pub trait ReportError {
    /// Record `error`.
    fn report(&mut self, error: BindingsError);
}

impl ReportError for Vec<BindingsError> {
    fn report(&mut self, error: BindingsError) {
        self.push(error);
    }
}

impl ReportError for qontract_resource_inventory::ResourceInventory {
    fn report(&mut self, error: BindingsError) {
        self.register_error(error.cluster(), &error);
    }
}

/// The user keys of cluster `cluster` from its `auth` services (upstream
/// `openshift_base.determine_user_keys_for_access`): `github_username` for `github-org` /
/// `github-org-team`, `org_username` for `oidc` / `rhidp`, `github_username` when the cluster
/// has no auth entry. Any other service is an error naming the cluster.
pub fn user_keys<'a>(
    cluster: &str,
    services: impl IntoIterator<Item = &'a str>,
) -> Result<BTreeSet<UserKey>, BindingsError> {
    let mut services = services.into_iter().peekable();
    if services.peek().is_none() {
        tracing::debug!("cluster {cluster}: no auth entries, falling back to github_username");
        return Ok(BTreeSet::from([UserKey::GithubUsername]));
    }
    services
        .map(|service| match service {
            "github-org" | "github-org-team" => Ok(UserKey::GithubUsername),
            "oidc" | "rhidp" => Ok(UserKey::OrgUsername),
            other => Err(BindingsError::UnsupportedAuthService {
                cluster: cluster.to_owned(),
                service: other.to_owned(),
            }),
        })
        .collect()
}

/// The user keys of each cluster, determined once per cluster: a cluster with an unsupported
/// auth service is reported once and then has no keys (its users are bound nowhere).
#[derive(Debug, Default)]
pub struct ClusterUserKeys {
    by_cluster: BTreeMap<String, Option<BTreeSet<UserKey>>>,
}

impl ClusterUserKeys {
    /// The user keys of `cluster` (see [`user_keys`]), `None` when its auth has a service
    /// without one (reported to `errors` the first time).
    pub fn get<'a>(
        &mut self,
        cluster: &str,
        services: impl IntoIterator<Item = &'a str>,
        errors: &mut impl ReportError,
    ) -> Option<&BTreeSet<UserKey>> {
        if !self.by_cluster.contains_key(cluster) {
            let keys = user_keys(cluster, services)
                .map_err(|error| errors.report(error))
                .ok();
            self.by_cluster.insert(cluster.to_owned(), keys);
        }
        self.by_cluster.get(cluster).and_then(Option::as_ref)
    }
}

/// The distinct non-empty names of `users` under `keys` (upstream `get_usernames_from_users`).
pub fn usernames<'a, U: AppUser>(users: &'a [U], keys: &BTreeSet<UserKey>) -> BTreeSet<&'a str> {
    users
        .iter()
        .flat_map(|user| keys.iter().map(move |key| key.of(user)))
        .filter(|name| !name.is_empty())
        .collect()
}

/// The ServiceAccount a bot of a role is bound as (`openshift_serviceaccount: <ns>/<name>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceAccount<'a> {
    /// The bot's name (for messages).
    pub bot: &'a str,
    /// The ServiceAccount's namespace.
    pub namespace: &'a str,
    /// The ServiceAccount's name.
    pub name: &'a str,
}

/// The ServiceAccounts of a role's bots, from `(bot name, openshift_serviceaccount)` pairs
/// (upstream `ServiceAccountSpec.from_bots`); a value that is not `<namespace>/<name>` is
/// reported as an error naming the role and bot (upstream skips it silently; see the crate
/// docs) and skipped.
pub fn service_accounts<'a>(
    role: &str,
    role_path: &str,
    bots: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
    errors: &mut impl ReportError,
) -> Vec<ServiceAccount<'a>> {
    let mut accounts = Vec::new();
    for (bot, account) in bots {
        let Some(account) = account else { continue };
        match account.split_once('/') {
            Some((namespace, name))
                if !namespace.is_empty() && !name.is_empty() && !name.contains('/') =>
            {
                accounts.push(ServiceAccount {
                    bot,
                    namespace,
                    name,
                });
            }
            _ => errors.report(BindingsError::ServiceAccount {
                role: role.to_owned(),
                path: role_path.to_owned(),
                bot: bot.to_owned(),
                value: account.to_owned(),
            }),
        }
    }
    accounts
}

/// A role as each integration's query returns it.
pub trait Role {
    /// The type of its users.
    type User: AppUser;
    /// `name`.
    fn name(&self) -> &str;
    /// `path` (its file).
    fn path(&self) -> &str;
    /// `expirationDate`.
    fn expiration_date(&self) -> Option<&str>;
    /// `users`.
    fn users(&self) -> &[Self::User];
    /// `(name, openshift_serviceaccount)` of its `bots` (none where the query does not
    /// select them: openshift-groups and openshift-users bind no bots).
    fn bots(&self) -> Vec<(&str, Option<&str>)> {
        Vec::new()
    }
}

macro_rules! role {
    ($module:ident $(, bots: $bots:tt)?) => {
        impl Role for qontract_gql_bindings::$module::RoleV1 {
            type User = qontract_gql_bindings::$module::UserV1;
            fn name(&self) -> &str {
                &self.name
            }
            fn path(&self) -> &str {
                &self.path
            }
            fn expiration_date(&self) -> Option<&str> {
                self.expiration_date.as_deref()
            }
            fn users(&self) -> &[Self::User] {
                &self.users
            }
            $(role!(@bots $bots);)?
        }
    };
    (@bots yes) => {
        fn bots(&self) -> Vec<(&str, Option<&str>)> {
            self.bots
                .iter()
                .map(|bot| (bot.name.as_str(), bot.openshift_serviceaccount.as_deref()))
                .collect()
        }
    };
}

role!(rolebindings_roles, bots: yes);
role!(clusterrolebindings_roles, bots: yes);
role!(openshift_groups_roles);
role!(openshift_users_roles);

/// A role that still grants access, with the ServiceAccounts of its bots.
#[derive(Debug)]
pub struct ActiveRole<'a, R> {
    /// The role.
    pub role: &'a R,
    /// Its bots' ServiceAccounts (upstream `ServiceAccountSpec.from_bots`).
    pub service_accounts: Vec<ServiceAccount<'a>>,
}

/// `role` if it still grants access `today` (`YYYY-MM-DD`, UTC), with its bots'
/// ServiceAccounts: what the four integrations bind (upstream `expiration.filter` on the
/// roles, then `ServiceAccountSpec.from_bots`). An expired role is `None`; so is one whose
/// `expirationDate` is not a date, reported to `errors` (upstream raises), as are bots whose
/// `openshift_serviceaccount` is not `<namespace>/<name>` (skipped).
pub fn active_role<'a, R: Role>(
    role: &'a R,
    today: &str,
    errors: &mut impl ReportError,
) -> Option<ActiveRole<'a, R>> {
    match role_is_active(role.name(), role.path(), role.expiration_date(), today) {
        Ok(true) => {}
        Ok(false) => return None,
        Err(error) => {
            errors.report(error);
            return None;
        }
    }
    let service_accounts = service_accounts(role.name(), role.path(), role.bots(), errors);
    Some(ActiveRole {
        role,
        service_accounts,
    })
}

/// What a binding binds: a `ClusterRole` or a namespace's `Role`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleKind {
    /// `roleRef.kind: ClusterRole`.
    ClusterRole,
    /// `roleRef.kind: Role`.
    Role,
}

impl RoleKind {
    /// The `roleRef.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            RoleKind::ClusterRole => "ClusterRole",
            RoleKind::Role => "Role",
        }
    }
}

/// The kind of binding object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindingKind {
    /// A namespaced `RoleBinding`.
    RoleBinding,
    /// A cluster-scoped `ClusterRoleBinding`.
    ClusterRoleBinding,
}

impl BindingKind {
    /// The object's `kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            BindingKind::RoleBinding => "RoleBinding",
            BindingKind::ClusterRoleBinding => "ClusterRoleBinding",
        }
    }
}

/// The name of the binding of `user` to `role` (upstream `construct_user_oc_resource`).
pub fn user_binding_name(role: &str, user: &str) -> String {
    format!("{role}-{user}")
}

/// The binding of `user` to `role` of `role_kind` (upstream
/// `BindingSpec.construct_user_oc_resource`; `roleRef.apiGroup` is what the API server
/// defaults and is not part of the `qontract.sha256sum`).
pub fn user_binding(kind: BindingKind, role: &str, role_kind: RoleKind, user: &str) -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind.as_str(),
        "metadata": {"name": user_binding_name(role, user)},
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": role_kind.as_str(),
            "name": role,
        },
        "subjects": [{"kind": "User", "name": user}],
    })
}

/// The binding of the ServiceAccount `sa_namespace/sa_name` to `role` of `role_kind`, named
/// `<role>-<sa namespace>-<sa name>` (upstream `BindingSpec.construct_sa_oc_resource`).
pub fn serviceaccount_binding(
    kind: BindingKind,
    role: &str,
    role_kind: RoleKind,
    sa_namespace: &str,
    sa_name: &str,
) -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind.as_str(),
        "metadata": {"name": format!("{role}-{sa_namespace}-{sa_name}")},
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": role_kind.as_str(),
            "name": role,
        },
        "subjects": [{"kind": "ServiceAccount", "name": sa_name, "namespace": sa_namespace}],
    })
}

/// Where the bindings of one access entry go, and what they bind.
#[derive(Debug, Clone, Copy)]
pub struct AccessBindings<'a> {
    /// `RoleBinding` or `ClusterRoleBinding`.
    pub kind: BindingKind,
    /// The role bound (`roleRef.name`).
    pub role_name: &'a str,
    /// Its kind (`roleRef.kind`).
    pub role_kind: RoleKind,
    /// Where the bindings are desired (`origin`: the cluster, or `cluster/namespace`).
    pub at: qontract_realize::Declared<'a>,
    /// The managed type (`RoleBinding.rbac.authorization.k8s.io`, ...).
    pub resource_type: &'a str,
    /// The integration's name and version (the objects' annotations).
    pub integration: (&'a str, &'a str),
}

/// Add to `state` the bindings one access entry of `role` grants (upstream
/// `BindingSpec.get_openshift_resources`): one per name of `usernames`, one per bot
/// ServiceAccount of the role. The same binding granted by several roles is one object
/// (upstream keeps the first one it meets); any other error is registered on the cluster,
/// naming the location, role, access and subject.
pub fn add_bindings<R: Role>(
    state: &mut qontract_realize::DesiredInventory,
    role: &ActiveRole<'_, R>,
    usernames: BTreeSet<&str>,
    access: &AccessBindings<'_>,
) {
    let AccessBindings {
        kind,
        role_name,
        role_kind,
        at,
        resource_type,
        integration: (integration, version),
    } = *access;
    let users = usernames.into_iter().map(|username| {
        (
            format!("user {username}"),
            user_binding(kind, role_name, role_kind, username),
        )
    });
    let bots = role.service_accounts.iter().map(|sa| {
        (
            format!("bot {} ServiceAccount {}/{}", sa.bot, sa.namespace, sa.name),
            serviceaccount_binding(kind, role_name, role_kind, sa.namespace, sa.name),
        )
    });
    for (subject, body) in users.chain(bots) {
        let origin = format!(
            "{} role {} ({}) access {} {role_name} for {subject}",
            at.origin,
            role.role.name(),
            role.role.path(),
            role_kind.as_str()
        );
        let resource = match qontract_openshift_resource::OpenshiftResource::new(
            body,
            integration,
            version,
            origin.as_str(),
            None,
        ) {
            Ok(resource) => resource,
            Err(e) => {
                let message = format!("{origin}: {e}");
                state.inventory.register_error(Some(at.cluster), message);
                continue;
            }
        };
        match state.inventory.add_desired(
            at.cluster,
            at.namespace,
            resource_type,
            resource,
            at.privileged,
        ) {
            Ok(()) | Err(qontract_resource_inventory::InventoryError::DuplicateDesired { .. }) => {}
            Err(e) => {
                let message = format!("{origin}: {e}");
                state.inventory.register_error(Some(at.cluster), message);
            }
        }
    }
}

/// Whether a role with `expirationDate` `expiration` still grants access `today`
/// (`YYYY-MM-DD`, UTC) as upstream `expiration.filter` / `date_expired`: no date, or a date
/// after today (a role expires on its `expirationDate`: `current_date >= exp_date` is
/// expired). A date that upstream's `strptime(date, "%Y-%m-%d")` does not read is an error
/// naming the role.
pub fn role_is_active(
    role: &str,
    role_path: &str,
    expiration: Option<&str>,
    today: &str,
) -> Result<bool, BindingsError> {
    let Some(expiration) = expiration else {
        return Ok(true);
    };
    let Some(date) = parse_date(expiration) else {
        return Err(BindingsError::ExpirationDate {
            role: role.to_owned(),
            path: role_path.to_owned(),
            date: expiration.to_owned(),
        });
    };
    // Zero-padded `YYYY-MM-DD` strings compare as the dates they spell.
    if today >= date.as_str() {
        tracing::debug!("role {role} ({role_path}) expired on {date}");
        return Ok(false);
    }
    Ok(true)
}

/// `date` read as Python's `datetime.strptime(date, "%Y-%m-%d")` reads it (upstream
/// `expiration.date_expired`), as a zero-padded `YYYY-MM-DD`: a four-digit year from 1, a
/// month `1`-`12` (`01`-`09` or `1`-`9`), a day `1`-`31` (`01`-`09`, `1`-`9` or ` 1`-` 9`) that
/// exists in that month, nothing else around. `None` when strptime raises `ValueError`.
pub fn parse_date(date: &str) -> Option<String> {
    let mut parts = date.split('-');
    let (Some(year), Some(month), Some(day), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    // `%Y`: exactly four digits; datetime's years start at 1.
    if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: u32 = year.parse().ok()?;
    // `%m`: `1[0-2]|0[1-9]|[1-9]`; `%d`: `3[01]|[12]\d|0[1-9]|[1-9]| [1-9]`.
    let number = |field: &str, space: bool| -> Option<u32> {
        let digits = match field.len() {
            2 if space && field.starts_with(' ') => &field[1..],
            1 | 2 => field,
            _ => return None,
        };
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    };
    let month = number(month, false)?;
    let day = number(day, true)?;
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if year == 0 || day == 0 || day > days_in_month {
        return None;
    }
    Some(format!("{year:04}-{month:02}-{day:02}"))
}

/// Today's date in UTC as `YYYY-MM-DD`.
pub fn today_utc() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = i64::try_from(seconds / 86_400).unwrap_or(0);
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}")
}

/// The proleptic Gregorian date of `days` since 1970-01-01 (H. Hinnant's algorithm).
pub(crate) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use qontract_gql_bindings::rolebindings_roles::RoleV1;

    #[test]
    fn user_keys_follow_the_cluster_auth_services() {
        assert_eq!(
            user_keys("c", []),
            Ok(BTreeSet::from([UserKey::GithubUsername]))
        );
        assert_eq!(
            user_keys("c", ["github-org-team", "rhidp", "oidc"]),
            Ok(BTreeSet::from([
                UserKey::GithubUsername,
                UserKey::OrgUsername
            ]))
        );
        let error = user_keys("c1", ["ldap"]).expect_err("unknown service");
        assert_eq!(error.cluster(), Some("c1"));
        let message = error.to_string();
        assert!(
            message.contains("c1") && message.contains("ldap"),
            "{message}"
        );
        // Once per cluster, whatever the number of lookups.
        let mut keys = ClusterUserKeys::default();
        let mut errors = Vec::new();
        assert_eq!(keys.get("c1", ["ldap"], &mut errors), None);
        assert_eq!(keys.get("c1", ["ldap"], &mut errors), None);
        assert_eq!(
            keys.get("c2", ["oidc"], &mut errors),
            Some(&BTreeSet::from([UserKey::OrgUsername]))
        );
        assert_eq!(errors, [error]);
    }

    #[test]
    fn bots_bind_their_serviceaccount_and_bad_values_are_errors() {
        let mut errors = Vec::new();
        let accounts = service_accounts(
            "r",
            "/roles/r.yml",
            [
                ("ci", Some("ci-ns/ci-sa")),
                ("human", None),
                ("bad", Some("no-slash")),
                ("worse", Some("a/b/c")),
            ],
            &mut errors,
        );
        assert_eq!(
            accounts,
            [ServiceAccount {
                bot: "ci",
                namespace: "ci-ns",
                name: "ci-sa"
            }]
        );
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert_eq!(
            errors[0].to_string(),
            "role r (/roles/r.yml): bot bad has openshift_serviceaccount \"no-slash\", \
             expected <namespace>/<name>"
        );
    }

    /// A role of the rolebindings query, shaped like `/access/role-1.yml` (`expirationDate`,
    /// users, bots referring to it).
    fn role(name: &str, expiration: Option<&str>, bots: &[(&str, Option<&str>)]) -> RoleV1 {
        serde_json::from_value(json!({
            "name": name,
            "path": format!("/teams/shop/roles/{name}.yml"),
            "expirationDate": expiration,
            "access": [],
            "users": [{"org_username": "ada", "github_username": "ada-gh"}],
            "bots": bots.iter().map(|(bot, sa)| json!({"name": bot, "openshift_serviceaccount": sa}))
                .collect::<Vec<_>>(),
        }))
        .expect("role")
    }

    #[test]
    fn active_roles_are_those_not_expired_with_their_bots_serviceaccounts() {
        let roles = [
            role(
                "current",
                None,
                &[("ci", Some("ci-ns/deployer")), ("human", None)],
            ),
            role("later", Some("2026-12-07"), &[("bad", Some("deployer"))]),
            role("expired", Some("2026-12-05"), &[("old", Some("ci-ns/old"))]),
            role(
                "garbled",
                Some("next week"),
                &[("ci", Some("ci-ns/deployer"))],
            ),
        ];
        let mut errors = Vec::new();
        let active: Vec<(&str, Vec<ServiceAccount<'_>>)> = roles
            .iter()
            .filter_map(|role| active_role(role, "2026-12-06", &mut errors))
            .map(|active| (active.role.name(), active.service_accounts))
            .collect();
        assert_eq!(
            active,
            [
                (
                    "current",
                    vec![ServiceAccount {
                        bot: "ci",
                        namespace: "ci-ns",
                        name: "deployer"
                    }]
                ),
                ("later", vec![]),
            ]
        );
        // The bad bot of an active role and the date that is not a date, in role order; the
        // expired role's bots are not looked at.
        assert_eq!(
            errors,
            [
                BindingsError::ServiceAccount {
                    role: "later".into(),
                    path: "/teams/shop/roles/later.yml".into(),
                    bot: "bad".into(),
                    value: "deployer".into(),
                },
                BindingsError::ExpirationDate {
                    role: "garbled".into(),
                    path: "/teams/shop/roles/garbled.yml".into(),
                    date: "next week".into(),
                },
            ]
        );
        assert_eq!(
            errors[1].to_string(),
            "role garbled (/teams/shop/roles/garbled.yml): expirationDate \"next week\" is not \
             a YYYY-MM-DD date"
        );
        assert_eq!(errors[1].cluster(), None);
    }

    #[test]
    fn expired_roles_are_inactive_and_bad_dates_are_errors() {
        assert_eq!(role_is_active("r", "p", None, "2026-01-02"), Ok(true));
        assert_eq!(
            role_is_active("r", "p", Some("2026-01-03"), "2026-01-02"),
            Ok(true)
        );
        // Upstream `date_expired`: `current_date >= exp_date`, so a role expires on its date.
        assert_eq!(
            role_is_active("r", "p", Some("2026-01-02"), "2026-01-02"),
            Ok(false)
        );
        assert_eq!(
            role_is_active("r", "p", Some("2026-01-01"), "2026-01-02"),
            Ok(false)
        );
        // strptime reads unpadded months and days: 2026-1-3 is the 3rd of January.
        assert_eq!(
            role_is_active("r", "p", Some("2026-1-3"), "2026-01-02"),
            Ok(true)
        );
        assert_eq!(
            role_is_active("r", "p", Some("2025-12-31"), "2026-01-02"),
            Ok(false)
        );
        assert!(role_is_active("r", "p", Some("tomorrow"), "2026-01-02").is_err());
        assert!(role_is_active("r", "p", Some("2026-02-30"), "2026-01-02").is_err());
    }

    /// Each value as the 0.10.1 venv's `datetime.datetime.strptime(value, "%Y-%m-%d")` reads
    /// it (`None`: it raises `ValueError`).
    #[test]
    fn dates_are_read_as_python_strptime_reads_them() {
        for (value, expected) in [
            ("2026-12-06", Some("2026-12-06")),
            ("2026-1-2", Some("2026-01-02")),
            ("2026-12- 6", Some("2026-12-06")),
            ("2024-02-29", Some("2024-02-29")),
            ("0999-12-06", Some("0999-12-06")),
            ("2025-02-29", None),
            ("2026-02-30", None),
            ("0000-01-01", None),
            (" 2026-12-06", None),
            ("2026-12-06 ", None),
            ("12026-12-06", None),
            ("+2026-12-06", None),
            ("2026-001-01", None),
            ("2026-00-01", None),
            ("2026-12-00", None),
            ("2026-12-32", None),
            ("2026-12-6x", None),
            ("2026-12-06-", None),
            ("29/11/2026", None),
        ] {
            assert_eq!(parse_date(value).as_deref(), expected, "{value:?}");
        }
    }

    #[test]
    fn today_is_an_iso_date() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_786), (2026, 11, 29));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        let today = today_utc();
        assert_eq!(parse_date(&today), Some(today));
    }
}
