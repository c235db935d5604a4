//! What openshift-rolebindings and openshift-clusterrolebindings share (upstream
//! `reconcile/openshift_bindings/models.py`, used by both integrations): the user name a
//! cluster's identity providers know a user by (`determine_user_keys_for_access`,
//! `get_usernames_from_users`), the ServiceAccounts of a role's bots
//! (`ServiceAccountSpec.from_bots`), the binding objects (`BindingSpec.construct_user_oc_resource`
//! / `construct_sa_oc_resource`) and role expiration (`reconcile.utils.expiration.filter`).

use std::collections::BTreeSet;

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

/// The user keys of cluster `cluster` from its `auth` services (upstream
/// `openshift_base.determine_user_keys_for_access`): `github_username` for `github-org` /
/// `github-org-team`, `org_username` for `oidc` / `rhidp`, `github_username` when the cluster
/// has no auth entry. Any other service is an error naming the cluster.
pub fn user_keys<'a>(
    cluster: &str,
    services: impl IntoIterator<Item = &'a str>,
) -> Result<BTreeSet<UserKey>, String> {
    let mut services = services.into_iter().peekable();
    if services.peek().is_none() {
        tracing::debug!("cluster {cluster}: no auth entries, falling back to github_username");
        return Ok(BTreeSet::from([UserKey::GithubUsername]));
    }
    services
        .map(|service| match service {
            "github-org" | "github-org-team" => Ok(UserKey::GithubUsername),
            "oidc" | "rhidp" => Ok(UserKey::OrgUsername),
            other => Err(format!(
                "cluster {cluster}: auth service {other:?} is not supported for bindings \
                 (supported: github-org, github-org-team, oidc, rhidp)"
            )),
        })
        .collect()
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
/// (upstream `ServiceAccountSpec.from_bots`); a value that is not `<namespace>/<name>` is an
/// error message naming the role and bot (upstream skips it silently; see the crate docs).
pub fn service_accounts<'a>(
    role: &str,
    role_path: &str,
    bots: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
) -> (Vec<ServiceAccount<'a>>, Vec<String>) {
    let mut accounts = Vec::new();
    let mut errors = Vec::new();
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
            _ => errors.push(format!(
                "role {role} ({role_path}): bot {bot} has openshift_serviceaccount {account:?}, \
                 expected <namespace>/<name>"
            )),
        }
    }
    (accounts, errors)
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

/// Whether a role with `expirationDate` `expiration` still grants access `today`
/// (`YYYY-MM-DD`, UTC) as upstream `expiration.filter`: no date or a date not before today.
/// A date that is not `YYYY-MM-DD` is an error naming the role.
pub fn role_is_active(
    role: &str,
    role_path: &str,
    expiration: Option<&str>,
    today: &str,
) -> Result<bool, String> {
    let Some(expiration) = expiration else {
        return Ok(true);
    };
    if !is_iso_date(expiration) {
        return Err(format!(
            "role {role} ({role_path}): expirationDate {expiration:?} is not a YYYY-MM-DD date"
        ));
    }
    if expiration < today {
        tracing::debug!("role {role} ({role_path}) expired on {expiration}");
        return Ok(false);
    }
    Ok(true)
}

/// Whether `date` is an ISO `YYYY-MM-DD` date.
pub fn is_iso_date(date: &str) -> bool {
    let bytes = date.as_bytes();
    bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        })
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
        assert!(error.contains("c1") && error.contains("ldap"), "{error}");
    }

    #[test]
    fn bots_bind_their_serviceaccount_and_bad_values_are_errors() {
        let (accounts, errors) = service_accounts(
            "r",
            "/roles/r.yml",
            [
                ("ci", Some("ci-ns/ci-sa")),
                ("human", None),
                ("bad", Some("no-slash")),
                ("worse", Some("a/b/c")),
            ],
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
        assert!(errors[0].contains("bot bad"), "{errors:?}");
    }

    #[test]
    fn expired_roles_are_inactive_and_bad_dates_are_errors() {
        assert_eq!(role_is_active("r", "p", None, "2026-01-02"), Ok(true));
        assert_eq!(
            role_is_active("r", "p", Some("2026-01-02"), "2026-01-02"),
            Ok(true)
        );
        assert_eq!(
            role_is_active("r", "p", Some("2026-01-01"), "2026-01-02"),
            Ok(false)
        );
        assert!(role_is_active("r", "p", Some("tomorrow"), "2026-01-02").is_err());
    }

    #[test]
    fn today_is_an_iso_date() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_786), (2026, 11, 29));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert!(is_iso_date(&today_utc()));
    }
}
