//! openshift-users' current-user selection and desired state on data shaped like
//! app-interface's (`/access/role-1.yml` roles, `/openshift/cluster-1.yml` auth entries).

use super::*;

fn cluster(name: &str, auth: Value) -> ClusterV1 {
    serde_json::from_value(json!({
        "name": name,
        "serverUrl": "https://api.example:6443",
        "insecureSkipTLSVerify": null,
        "automationToken": null,
        "clusterAdminAutomationToken": null,
        "internal": null,
        "disable": null,
        "auth": auth,
    }))
    .expect("cluster")
}

fn role(access: Value, users: &[(&str, &str)]) -> RoleV1 {
    serde_json::from_value(json!({
        "name": "r",
        "path": "/teams/t/roles/r.yml",
        "expirationDate": null,
        "users": users.iter().map(|(org, gh)| json!({"org_username": org, "github_username": gh})).collect::<Vec<_>>(),
        "access": access,
    }))
    .expect("role")
}

fn ns_access(cluster: &str, auth: &[&str], namespace: &str, managed: bool, delete: bool) -> Value {
    json!({
        "namespace": {
            "name": namespace, "managedRoles": managed, "delete": delete,
            "cluster": {"name": cluster, "auth": auth.iter().map(|s| json!({"service": s})).collect::<Vec<_>>()},
        },
        "role": "view", "clusterRole": null, "cluster": null, "group": null,
    })
}

#[test]
fn identities_of_the_clusters_providers_make_a_user_ours() {
    let c = cluster(
        "c1",
        json!([
            {"__typename": "ClusterAuthGithubOrg_v1", "service": "github-org"},
            {"__typename": "ClusterAuthRHIDP_v1", "service": "rhidp", "name": "redhat-sso"},
        ]),
    );
    let prefixes = identity_prefixes(&c);
    assert_eq!(prefixes, ["github", "redhat-sso"]);
    let user = |labels: Value, identities: Value| json!({"metadata": {"name": "u", "labels": labels}, "identities": identities});
    assert!(is_managed_user(
        &user(json!({}), json!(["github:123"])),
        &prefixes
    ));
    assert!(is_managed_user(
        &user(json!(null), json!(["redhat-sso:ada"])),
        &prefixes
    ));
    assert!(
        !is_managed_user(&user(json!({}), json!(["htpasswd:ada"])), &prefixes),
        "another provider"
    );
    assert!(
        !is_managed_user(&user(json!({}), json!(null)), &prefixes),
        "no identity"
    );
    assert!(
        !is_managed_user(
            &user(json!({"admin": "true"}), json!(["github:1"])),
            &prefixes
        ),
        "admin"
    );
}

#[test]
fn users_are_entitled_by_managed_namespace_access_and_cluster_groups_only() {
    let roles = [
        role(
            json!([
                ns_access("c1", &["github-org"], "managed", true, false),
                ns_access("c1", &["github-org"], "unmanaged", false, false),
                ns_access("c1", &["github-org"], "deleted", true, true),
            ]),
            &[("ada", "ada-gh")],
        ),
        role(
            json!([ns_access("c1", &["github-org"], "unmanaged", false, false)]),
            &[("bob", "bob-gh")],
        ),
        role(
            json!([{"namespace": null, "role": null, "clusterRole": null,
                    "cluster": {"name": "c2", "auth": [{"service": "oidc"}]}, "group": "admins"}]),
            &[("carol", "carol-gh")],
        ),
        // Cluster-wide clusterRole access alone does not entitle (as upstream).
        role(
            json!([{"namespace": null, "role": null, "clusterRole": "view",
                    "cluster": {"name": "c1", "auth": []}, "group": null}]),
            &[("dave", "dave-gh")],
        ),
        // A cluster without a working client: nothing.
        role(
            json!([ns_access("c3", &[], "ns", true, false)]),
            &[("eve", "eve-gh")],
        ),
    ];
    let reachable = BTreeSet::from(["c1", "c2"]);
    let desired =
        desired_state(&roles, &reachable, &ShardConfig::default(), "2026-12-06").expect("no error");
    assert_eq!(
        desired.into_iter().collect::<Vec<_>>(),
        [
            ("c1".to_owned(), "ada-gh".to_owned()),
            ("c2".to_owned(), "carol".to_owned()),
        ]
    );
}

#[test]
fn an_unknown_auth_service_fails_the_run() {
    let roles = [role(
        json!([ns_access("c1", &["ldap"], "ns", true, false)]),
        &[("ada", "ada-gh")],
    )];
    let errors = desired_state(
        &roles,
        &BTreeSet::from(["c1"]),
        &ShardConfig::default(),
        "2026-12-06",
    )
    .expect_err("error");
    assert!(errors[0].to_string().contains("ldap"), "{errors:?}");
}

/// Upstream `expiration.date_expired` (`current_date >= exp_date`): on its expirationDate a
/// role entitles nobody any more, the day before it still does.
#[test]
fn a_role_entitles_nobody_from_its_expiration_date_on() {
    let entitled = |expiration: &str| {
        let mut role = role(
            json!([ns_access("c1", &["github-org"], "ns", true, false)]),
            &[("ada", "ada-gh")],
        );
        role.expiration_date = Some(expiration.to_owned());
        desired_state(
            &[role],
            &BTreeSet::from(["c1"]),
            &ShardConfig::default(),
            "2026-12-06",
        )
        .expect("no error")
    };
    assert_eq!(
        entitled("2026-12-07").into_iter().collect::<Vec<_>>(),
        [("c1".to_owned(), "ada-gh".to_owned())]
    );
    assert!(entitled("2026-12-06").is_empty());
}
