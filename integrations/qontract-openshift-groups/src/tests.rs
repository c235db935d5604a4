//! openshift-groups' desired state and diff on query data shaped like app-interface's
//! (`/access/role-1.yml` roles with `access[] {cluster, group}`).

use super::*;

fn role(
    name: &str,
    expires: Option<&str>,
    access: &[(&str, &[&str], &str)],
    users: &[(&str, &str)],
) -> RoleV1 {
    serde_json::from_value(json!({
        "name": name,
        "path": format!("/teams/t/roles/{name}.yml"),
        "expirationDate": expires,
        "users": users.iter().map(|(org, gh)| json!({"org_username": org, "github_username": gh})).collect::<Vec<_>>(),
        "access": access.iter().map(|(cluster, auth, group)| json!({
            "cluster": {"name": cluster, "auth": auth.iter().map(|s| json!({"service": s})).collect::<Vec<_>>()},
            "group": group,
        })).collect::<Vec<_>>(),
    }))
    .expect("role")
}

fn member(cluster: &str, group: &str, user: &str) -> Membership {
    Membership {
        cluster: cluster.into(),
        group: group.into(),
        user: user.into(),
    }
}

fn lines(diffs: &[Diff]) -> Vec<String> {
    diffs.iter().map(Diff::log_line).collect()
}

#[test]
fn desired_members_are_the_users_of_active_roles_on_reachable_clusters() {
    let roles = [
        role(
            "admins",
            None,
            &[
                ("c1", &["github-org"], "app-admins"),
                ("c2", &["oidc"], "app-admins"),
                ("gone", &[], "x"),
            ],
            &[("ada", "ada-gh"), ("bob", "bob-gh")],
        ),
        role(
            "old",
            Some("2026-01-01"),
            &[("c1", &[], "app-admins")],
            &[("eve", "eve-gh")],
        ),
        // Namespace access has no cluster/group: nothing here.
        serde_json::from_value(
            json!({"name": "ns", "path": "/r.yml", "expirationDate": null,
            "users": [{"org_username": "x", "github_username": "x-gh"}],
            "access": [{"cluster": null, "group": null}]}),
        )
        .expect("role"),
    ];
    let reachable = BTreeSet::from(["c1", "c2"]);
    let desired = desired_state(&roles, &reachable, "2026-12-06").expect("no error");
    assert_eq!(
        desired.into_iter().collect::<Vec<_>>(),
        [
            member("c1", "app-admins", "ada-gh"),
            member("c1", "app-admins", "bob-gh"),
            member("c2", "app-admins", "ada"),
            member("c2", "app-admins", "bob"),
        ]
    );
}

#[test]
fn an_unknown_auth_service_or_a_bad_date_fails_the_run() {
    let roles = [
        role("r", None, &[("c1", &["ldap"], "g")], &[("ada", "ada-gh")]),
        role(
            "s",
            Some("next week"),
            &[("c1", &[], "g")],
            &[("ada", "ada-gh")],
        ),
    ];
    let errors = desired_state(&roles, &BTreeSet::from(["c1"]), "2026-12-06").expect_err("errors");
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].to_string().contains("ldap") && errors[1].to_string().contains("next week"),
        "{errors:?}"
    );
}

#[test]
fn the_diff_adds_removes_and_creates_groups_as_upstream() {
    let current = BTreeSet::from([
        member("c1", "admins", "ada"),
        member("c1", "admins", "old"),
        member("c1", "leaving", "eve"),
    ]);
    let desired = BTreeSet::from([
        member("c1", "admins", "ada"),
        member("c1", "admins", "bob"),
        member("c1", "new", "ada"),
    ]);
    assert_eq!(
        lines(&calculate_diff(&current, &desired)),
        [
            "['create_group', 'c1', 'new', None]",
            "['del_user_from_group', 'c1', 'admins', 'old']",
            "['del_user_from_group', 'c1', 'leaving', 'eve']",
            "['add_user_to_group', 'c1', 'admins', 'bob']",
            "['add_user_to_group', 'c1', 'new', 'ada']",
            "['delete_group', 'c1', 'leaving', None]",
        ]
    );
    assert_eq!(calculate_diff(&desired, &desired), []);
}

#[test]
fn a_diff_on_a_group_that_is_not_managed_is_refused() {
    let diffs = calculate_diff(
        &BTreeSet::new(),
        &BTreeSet::from([member("c1", "admins", "ada"), member("c1", "rogue", "ada")]),
    );
    let managed = BTreeSet::from([("c1".to_owned(), "admins".to_owned())]);
    let invalid = validate_diffs(&diffs, &managed);
    assert_eq!(
        invalid.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["invalid cluster/group combination: c1/rogue (hint: should be added to managedGroups)"]
    );
}

#[test]
fn ocm_groups_are_left_to_ocm() {
    let ocm = BTreeSet::from(["osd"]);
    assert!(ocm_managed(&ocm, "osd", "dedicated-admins"));
    assert!(ocm_managed(&ocm, "osd", "cluster-admins"));
    assert!(!ocm_managed(&ocm, "osd", "app-admins"));
    assert!(!ocm_managed(&ocm, "self-managed", "dedicated-admins"));
}
