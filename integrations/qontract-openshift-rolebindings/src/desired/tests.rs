//! Desired state of openshift-rolebindings on query data shaped like app-interface's
//! (`/openshift/namespace-1.yml` namespaces with `managedRoles`, `/access/role-1.yml` roles
//! with `access[] {namespace, role | clusterRole}`).

#[path = "../../tests/support/applied.rs"]
mod applied;

use super::*;
use qontract_gql_bindings::rolebindings_roles::{
    AccessV1, BotV1, ClusterAuthV1, ClusterV12, DisableClusterAutomationsV1, NamespaceV12, UserV1,
};
use qontract_test_support::fixtures::{
    self, assert_two_shards_split, desired_paths, error_messages, many_namespaces, typed_all,
};
use serde_json::json;

/// `namespace-1.yml` `name` on cluster `cluster_name` (whose users log in with `oidc`), with
/// `managedRoles: managed`.
fn declared(ns: fixtures::Namespace, managed: bool) -> fixtures::Namespace {
    ns.set("managedRoles", managed)
        .set_cluster("auth", json!([{"service": "oidc"}]))
}

fn namespace(cluster_name: &str, name: &str, managed: bool) -> NamespaceV1 {
    declared(fixtures::namespace(cluster_name, name), managed).typed()
}

fn role(name: &str, access: &[(&str, &str, &str)], users: &[&str]) -> RoleV1 {
    RoleV1 {
        name: name.to_owned(),
        path: format!("/teams/shop/roles/{name}.yml"),
        expiration_date: None,
        access: Some(
            access
                .iter()
                .map(|(c, n, r)| AccessV1 {
                    namespace: Some(NamespaceV12 {
                        name: (*n).to_owned(),
                        cluster: ClusterV12 {
                            name: (*c).to_owned(),
                        },
                    }),
                    role: Some((*r).to_owned()),
                    cluster_role: None,
                })
                .collect(),
        ),
        users: users
            .iter()
            .map(|u| UserV1 {
                org_username: (*u).to_owned(),
                github_username: format!("{u}-gh"),
            })
            .collect(),
        bots: Vec::new(),
    }
}

fn filter() -> Filter {
    Filter {
        scope: qontract_realize::NamespaceFilter {
            integration: NAME,
            ..Default::default()
        },
        today: "2026-11-29".to_owned(),
        support_role_ref: false,
    }
}

/// `cluster/namespace/name` of every desired RoleBinding.
fn desired_names(state: &DesiredState) -> Vec<String> {
    let rolebinding = format!("/{MANAGED_TYPE}/");
    desired_paths(&state.inventory)
        .iter()
        .map(|path| path.replace(&rolebinding, "/"))
        .collect()
}

/// The desired RoleBinding `cluster/namespace/name`.
fn desired<'a>(
    state: &'a DesiredState,
    cluster: &str,
    namespace: &str,
    name: &str,
) -> &'a qontract_resource_inventory::DesiredEntry {
    state
        .inventory
        .get_desired(cluster, namespace, MANAGED_TYPE, name)
        .unwrap_or_else(|| panic!("{cluster}/{namespace}/{name} is not desired"))
}

fn example_roles() -> Vec<RoleV1> {
    vec![
        role(
            "shop-developer",
            &[
                ("sandbox", "shop-stage", "edit"),
                ("sandbox", "shop-production", "view"),
            ],
            &["ada", "linus"],
        ),
        role(
            "shop-sre",
            &[("sandbox", "shop-production", "admin")],
            &["linus"],
        ),
        // The same access as shop-developer grants: still one RoleBinding.
        role(
            "shop-viewers",
            &[("sandbox", "shop-production", "view")],
            &["ada"],
        ),
    ]
}

#[test]
fn one_rolebinding_per_namespace_role_and_user() {
    let namespaces = vec![
        namespace("sandbox", "shop-stage", true),
        namespace("sandbox", "shop-production", true),
    ];
    let state = desired_state(&example_roles(), &namespaces, &filter());
    assert!(
        state.inventory.errors().is_empty(),
        "{:?}",
        state.inventory.errors()
    );
    assert_eq!(
        desired_names(&state),
        [
            "sandbox/shop-production/admin-linus",
            "sandbox/shop-production/view-ada",
            "sandbox/shop-production/view-linus",
            "sandbox/shop-stage/edit-ada",
            "sandbox/shop-stage/edit-linus",
        ]
    );
    let binding = desired(&state, "sandbox", "shop-production", "admin-linus");
    insta::assert_json_snapshot!(binding.resource.body());
}

#[test]
fn only_managed_namespaces_get_rolebindings() {
    let mut deleted = namespace("sandbox", "shop-stage", true);
    deleted.delete = Some(true);
    let namespaces = vec![deleted, namespace("sandbox", "shop-production", false)];
    let state = desired_state(&example_roles(), &namespaces, &filter());
    assert!(state.inventory.is_empty());
    assert!(state.namespaces.is_empty());
    assert!(state.clusters.is_empty());

    let mut disabled = namespace("sandbox", "shop-stage", true);
    disabled.cluster.disable = Some(DisableClusterAutomationsV1 {
        integrations: Some(vec![NAME.to_owned()]),
    });
    let mut admin = namespace("sandbox", "shop-production", true);
    admin.cluster_admin = Some(true);
    let state = desired_state(&example_roles(), &[disabled, admin], &filter());
    assert_eq!(
        desired_names(&state),
        [
            "sandbox/shop-production/admin-linus",
            "sandbox/shop-production/view-ada",
            "sandbox/shop-production/view-linus",
        ]
    );
    assert!(desired(&state, "sandbox", "shop-production", "view-ada").privileged);
}

#[test]
fn a_managed_namespace_without_access_is_still_managed() {
    // Its RoleBindings of this integration are deleted when the last access goes away.
    let namespaces = vec![namespace("sandbox", "empty", true)];
    let state = desired_state(&example_roles(), &namespaces, &filter());
    assert!(
        state
            .inventory
            .is_initialized("sandbox", "empty", MANAGED_TYPE)
    );
    assert_eq!(state.inventory.len().0, 0);
}

#[test]
fn expired_roles_grant_nothing_and_bad_dates_are_errors() {
    let namespaces = vec![
        namespace("sandbox", "shop-stage", true),
        namespace("sandbox", "shop-production", true),
    ];
    let mut roles = example_roles();
    roles[0].expiration_date = Some("2026-11-28".to_owned());
    roles[1].expiration_date = Some("2026-11-30".to_owned());
    roles[2].expiration_date = Some("29/11/2026".to_owned());
    // Upstream `expiration.date_expired` (`current_date >= exp_date`): a role expires on
    // its expirationDate, today.
    let mut today = role(
        "shop-oncall",
        &[("sandbox", "shop-stage", "admin")],
        &["ada"],
    );
    today.expiration_date = Some("2026-11-29".to_owned());
    roles.push(today);
    let state = desired_state(&roles, &namespaces, &filter());
    assert_eq!(
        desired_names(&state),
        ["sandbox/shop-production/admin-linus"]
    );
    let errors = error_messages(&state.inventory);
    insta::assert_json_snapshot!(errors);
}

#[test]
fn filters_and_shards_split_the_namespaces() {
    let namespaces = vec![
        namespace("sandbox", "shop-stage", true),
        namespace("sandbox", "shop-production", true),
        namespace("other", "shop-production", true),
    ];
    let state = desired_state(
        &example_roles(),
        &namespaces,
        &Filter {
            scope: qontract_realize::NamespaceFilter {
                namespace_name: Some("shop-production".to_owned()),
                cluster_name: Some("sandbox".to_owned()),
                ..filter().scope
            },
            ..filter()
        },
    );
    assert_eq!(
        state.namespaces.iter().collect::<Vec<_>>(),
        [&("sandbox".to_owned(), "shop-production".to_owned())]
    );
    let many: Vec<NamespaceV1> = typed_all(many_namespaces(20, |ns| declared(ns, true)));
    assert_two_shards_split(20, |shard| {
        let scope = qontract_realize::NamespaceFilter {
            shard,
            ..filter().scope
        };
        desired_state(&[], &many, &Filter { scope, ..filter() }).namespaces
    });
}

#[test]
fn early_exit_state_is_keyed_by_cluster() {
    let namespaces = vec![
        namespace("sandbox", "shop-production", true),
        namespace("other", "empty", true),
    ];
    let roles = vec![role(
        "shop-sre",
        &[("sandbox", "shop-production", "admin")],
        &["linus"],
    )];
    let state = desired_state(&roles, &namespaces, &filter());
    insta::assert_json_snapshot!(state.early_exit_state());
}

#[test]
fn the_subject_is_the_username_the_cluster_auth_knows() {
    let roles = vec![role(
        "shop-sre",
        &[
            ("github", "ns", "admin"),
            ("both", "ns", "admin"),
            ("none", "ns", "admin"),
            ("unknown", "ns", "admin"),
        ],
        &["linus"],
    )];
    let with_auth = |cluster_name: &str, services: &[&str]| {
        let mut ns = namespace(cluster_name, "ns", true);
        ns.cluster.auth = services
            .iter()
            .map(|s| ClusterAuthV1 {
                service: (*s).to_owned(),
            })
            .collect();
        ns
    };
    let namespaces = vec![
        with_auth("github", &["github-org-team", "github-org"]),
        with_auth("both", &["github-org", "rhidp"]),
        with_auth("none", &[]),
        with_auth("unknown", &["ldap"]),
    ];
    let state = desired_state(&roles, &namespaces, &filter());
    assert_eq!(
        desired_names(&state),
        [
            "both/ns/admin-linus",
            "both/ns/admin-linus-gh",
            "github/ns/admin-linus-gh",
            "none/ns/admin-linus-gh",
        ]
    );
    let binding = desired(&state, "github", "ns", "admin-linus-gh");
    assert_eq!(binding.resource.body()["subjects"][0]["name"], "linus-gh");
    let errors = error_messages(&state.inventory);
    insta::assert_json_snapshot!(errors);
    assert!(state.inventory.has_cluster_error("unknown"));
    assert!(!state.inventory.has_cluster_error("github"));
}

#[test]
fn bots_with_a_serviceaccount_are_bound_as_serviceaccounts() {
    let mut roles = example_roles();
    roles[1].bots = vec![
        BotV1 {
            name: "ci".to_owned(),
            openshift_serviceaccount: Some("ci-ns/deployer".to_owned()),
        },
        BotV1 {
            name: "no-sa".to_owned(),
            openshift_serviceaccount: None,
        },
        BotV1 {
            name: "bad".to_owned(),
            openshift_serviceaccount: Some("deployer".to_owned()),
        },
    ];
    let namespaces = vec![namespace("sandbox", "shop-production", true)];
    let state = desired_state(&roles, &namespaces, &filter());
    let binding = desired(&state, "sandbox", "shop-production", "admin-ci-ns-deployer");
    insta::assert_json_snapshot!(binding.resource.body());
    let errors = error_messages(&state.inventory);
    insta::assert_json_snapshot!(errors);
}

/// A role granting `clusterRole` in a namespace (schema `/access/role-1.yml`:
/// `access: [{namespace: ..., clusterRole: ...}]`).
fn cluster_role_access_role() -> RoleV1 {
    let mut role = role("shop-admins", &[], &["ada"]);
    role.access = Some(vec![AccessV1 {
        namespace: Some(NamespaceV12 {
            name: "shop-production".to_owned(),
            cluster: ClusterV12 {
                name: "sandbox".to_owned(),
            },
        }),
        role: None,
        cluster_role: Some("dedicated-admins-project".to_owned()),
    }]);
    role.bots = vec![BotV1 {
        name: "ci".to_owned(),
        openshift_serviceaccount: Some("ci-ns/deployer".to_owned()),
    }];
    role
}

#[test]
fn a_cluster_role_access_is_bound_in_the_namespace() {
    // Upstream `RoleBindingSpec.create_role_binding_spec`: `role or clusterRole` names
    // the binding, roleRef.kind is ClusterRole.
    let namespaces = vec![namespace("sandbox", "shop-production", true)];
    let state = desired_state(&[cluster_role_access_role()], &namespaces, &filter());
    assert!(state.inventory.errors().is_empty());
    assert_eq!(
        desired_names(&state),
        [
            "sandbox/shop-production/dedicated-admins-project-ada",
            "sandbox/shop-production/dedicated-admins-project-ci-ns-deployer",
        ]
    );
    let user = desired(
        &state,
        "sandbox",
        "shop-production",
        "dedicated-admins-project-ada",
    );
    assert_eq!(
        user.resource.body()["roleRef"],
        json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
               "name": "dedicated-admins-project"})
    );
    assert_eq!(
        user.resource.body()["subjects"],
        json!([{"kind": "User", "name": "ada"}])
    );
    // The sha256sum the Python tool writes for the same binding, computed with upstream's
    // own code in the 0.10.1 venv:
    //   OpenshiftResource({"apiVersion": "rbac.authorization.k8s.io/v1",
    //     "kind": "RoleBinding", "metadata": {"name": "dedicated-admins-project-ada"},
    //     "roleRef": {"kind": "ClusterRole", "name": "dedicated-admins-project"},
    //     "subjects": [{"kind": "User", "name": "ada"}]},
    //     "openshift-rolebindings", "0.3.0").sha256sum()
    assert_eq!(
        user.resource.sha256sum(),
        "683da234bbd6d6b4d9f63301e937d5b21024147fba69db48d1359f45cae64bf1"
    );
    let bot = desired(
        &state,
        "sandbox",
        "shop-production",
        "dedicated-admins-project-ci-ns-deployer",
    );
    assert_eq!(bot.resource.body()["roleRef"]["kind"], "ClusterRole");
    assert_eq!(
        bot.resource.body()["subjects"],
        json!([{"kind": "ServiceAccount", "name": "deployer", "namespace": "ci-ns"}])
    );
}

#[test]
fn the_python_applied_cluster_role_binding_is_unchanged() {
    use qontract_resource_inventory::Action;
    let namespaces = vec![namespace("sandbox", "shop-production", true)];
    let mut role = cluster_role_access_role();
    role.bots.clear();
    let mut state = desired_state(&[role], &namespaces, &filter());
    // As the Python tool applied it (`OpenshiftResource.annotate()` in the 0.10.1 venv),
    // plus what the API server adds (roleRef.apiGroup default, uid, resourceVersion).
    let applied = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {
            "annotations": {
                "qontract.integration": "openshift-rolebindings",
                "qontract.integration_version": "0.3.0",
                "qontract.sha256sum":
                    "683da234bbd6d6b4d9f63301e937d5b21024147fba69db48d1359f45cae64bf1",
                "qontract.update": "2026-12-06T19:54:16",
            },
            "name": "dedicated-admins-project-ada",
            "namespace": "shop-production",
            "resourceVersion": "4711",
            "uid": "0b3f4c1e-0000-4000-8000-000000000001",
            "creationTimestamp": "2026-12-06T19:54:17Z",
        },
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": "dedicated-admins-project",
        },
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "ada"}],
    });
    let at = applied::Applied {
        cluster: "sandbox",
        namespace: "shop-production",
        resource_type: MANAGED_TYPE,
        integration: (NAME, VERSION),
    };
    let actions = applied::plan_with_applied(&mut state, &at, applied);
    assert_eq!(
        actions,
        [(Action::NoOp, "dedicated-admins-project-ada".to_owned())]
    );
}

#[test]
fn support_role_ref_binds_the_namespace_role() {
    let namespaces = vec![namespace("sandbox", "shop-production", true)];
    let mut roles = vec![role(
        "shop-sre",
        &[("sandbox", "shop-production", "deployer")],
        &["linus"],
    )];
    roles.push(cluster_role_access_role());
    let kinds = |support_role_ref| {
        let state = desired_state(
            &roles,
            &namespaces,
            &Filter {
                support_role_ref,
                ..filter()
            },
        );
        ["deployer-linus", "dedicated-admins-project-ada"].map(|name| {
            desired(&state, "sandbox", "shop-production", name)
                .resource
                .body()["roleRef"]["kind"]
                .clone()
        })
    };
    // Without the flag an access `role` is a ClusterRole (upstream default).
    assert_eq!(kinds(false), ["ClusterRole", "ClusterRole"]);
    // With it, `role` is the namespace's Role; `clusterRole` stays a ClusterRole.
    assert_eq!(kinds(true), ["Role", "ClusterRole"]);
}

#[test]
fn access_role_follows_upstream() {
    assert_eq!(
        access_role(Some("edit"), None, false),
        Some(("edit", RoleKind::ClusterRole))
    );
    assert_eq!(
        access_role(Some("edit"), None, true),
        Some(("edit", RoleKind::Role))
    );
    assert_eq!(
        access_role(None, Some("admin"), true),
        Some(("admin", RoleKind::ClusterRole))
    );
    assert_eq!(access_role(None, None, true), None);
    assert_eq!(access_role(Some(""), Some(""), false), None);
}
