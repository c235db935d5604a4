//! Desired state of openshift-clusterrolebindings on query data shaped like app-interface's
//! (`/access/role-1.yml` roles with `access[] {cluster, clusterRole}`, `/openshift/cluster-1.yml`
//! clusters with `managedClusterRoles`).

#[path = "../../qontract-openshift-rolebindings/tests/support/applied.rs"]
mod applied;

use super::*;
use qontract_gql_bindings::clusterrolebindings_roles::{ClusterV1, RoleV1};
use qontract_resource_inventory::Action;
use qontract_test_support::fixtures::{self, desired_paths, error_messages};
use serde_json::{Value, json};

fn cluster(name: &str, managed: bool, auth: &[&str]) -> (ClusterV1, Value) {
    let mut cluster = fixtures::cluster(name);
    cluster["internal"] = json!(false);
    cluster["managedClusterRoles"] = json!(managed);
    let cluster = fixtures::typed(cluster);
    let reference = json!({
        "name": name,
        "auth": auth.iter().map(|s| json!({"service": s})).collect::<Vec<_>>(),
    });
    (cluster, reference)
}

fn role(name: &str, access: Vec<Value>, users: &[(&str, &str)], bots: &[Option<&str>]) -> RoleV1 {
    serde_json::from_value(json!({
        "name": name,
        "path": format!("/teams/t/roles/{name}.yml"),
        "expirationDate": null,
        "users": users.iter().map(|(org, gh)| json!({"org_username": org, "github_username": gh})).collect::<Vec<_>>(),
        "bots": bots.iter().enumerate().map(|(i, sa)| json!({"name": format!("bot{i}"), "openshift_serviceaccount": sa})).collect::<Vec<_>>(),
        "access": access,
    }))
    .expect("role")
}

fn access(cluster: &Value, cluster_role: &str) -> Value {
    json!({"cluster": cluster, "clusterRole": cluster_role})
}

fn filter() -> Filter {
    Filter {
        scope: NamespaceFilter {
            integration: NAME,
            ..NamespaceFilter::default()
        },
        today: "2026-12-06".into(),
    }
}

/// `cluster/name` of every desired ClusterRoleBinding; every managed type is
/// ClusterRoleBindings in the cluster-scope pseudo namespace.
fn names(state: &DesiredInventory) -> Vec<String> {
    for (_, namespace, resource_type, _) in state.inventory.iter() {
        assert_eq!(
            (namespace, resource_type),
            (CLUSTER_SCOPE_NAMESPACE, MANAGED_TYPE)
        );
    }
    let cluster_scope = format!("/{CLUSTER_SCOPE_NAMESPACE}/{MANAGED_TYPE}/");
    desired_paths(&state.inventory)
        .iter()
        .map(|path| path.replacen(&cluster_scope, "/", 1))
        .collect()
}

fn errors(state: &DesiredInventory) -> Vec<String> {
    error_messages(&state.inventory)
}

#[test]
fn one_clusterrolebinding_per_cluster_role_user_and_bot() {
    let (c1, c1_ref) = cluster("c1", true, &["github-org"]);
    let roles = [role(
        "readers",
        vec![
            access(&c1_ref, "dedicated-readers"),
            json!({"cluster": null, "clusterRole": "x"}),
        ],
        &[("ada", "ada-gh"), ("linus", "linus-gh")],
        &[Some("ci/deployer"), None],
    )];
    let state = desired_state(&roles, &[c1], &filter());
    assert_eq!(errors(&state), Vec::<String>::new());
    assert_eq!(
        names(&state),
        [
            "c1/dedicated-readers-ada-gh",
            "c1/dedicated-readers-ci-deployer",
            "c1/dedicated-readers-linus-gh"
        ]
    );
    let body = state
        .inventory
        .iter()
        .flat_map(|(_, _, _, data)| data.desired())
        .find(|(name, _)| *name == "dedicated-readers-ci-deployer")
        .map(|(_, d)| d.resource.body().clone())
        .expect("sa binding");
    assert_eq!(body["kind"], "ClusterRoleBinding");
    assert!(
        body["metadata"].get("namespace").is_none(),
        "cluster-scoped"
    );
    assert_eq!(
        body["roleRef"],
        json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "dedicated-readers"})
    );
    assert_eq!(
        body["subjects"],
        json!([{"kind": "ServiceAccount", "name": "deployer", "namespace": "ci"}])
    );
}

#[test]
fn only_clusters_with_managed_cluster_roles_a_token_and_not_disabled_are_managed() {
    let (managed, managed_ref) = cluster("managed", true, &[]);
    let (unmanaged, unmanaged_ref) = cluster("unmanaged", false, &[]);
    let (mut tokenless, tokenless_ref) = cluster("tokenless", true, &[]);
    tokenless.automation_token = None;
    let (mut disabled, disabled_ref) = cluster("disabled", true, &[]);
    disabled.disable = serde_json::from_value(json!({"integrations": [NAME]})).expect("disable");
    let roles = [role(
        "admins",
        [&managed_ref, &unmanaged_ref, &tokenless_ref, &disabled_ref]
            .into_iter()
            .map(|c| access(c, "cluster-admin"))
            .collect(),
        &[("ada", "ada-gh")],
        &[],
    )];
    let state = desired_state(
        &roles,
        &[managed, unmanaged, tokenless, disabled],
        &filter(),
    );
    assert_eq!(names(&state), ["managed/cluster-admin-ada-gh"]);
    assert_eq!(
        state.clusters.keys().collect::<Vec<_>>(),
        ["managed"],
        "only managed clusters are read"
    );

    // --cluster-name narrows the run to one cluster.
    let (a, a_ref) = cluster("a", true, &[]);
    let (b, b_ref) = cluster("b", true, &[]);
    let roles = [role(
        "admins",
        vec![access(&a_ref, "view"), access(&b_ref, "view")],
        &[("ada", "ada-gh")],
        &[],
    )];
    let mut only_b = filter();
    only_b.scope.cluster_name = Some("b".into());
    assert_eq!(
        names(&desired_state(&roles, &[a, b], &only_b)),
        ["b/view-ada-gh"]
    );
}

#[test]
fn the_subject_is_the_username_the_cluster_auth_knows() {
    let (oidc, oidc_ref) = cluster("oidc", true, &["oidc"]);
    let (both, both_ref) = cluster("both", true, &["github-org-team", "rhidp"]);
    let (ldap, ldap_ref) = cluster("ldap", true, &["ldap"]);
    let roles = [role(
        "r",
        vec![
            access(&oidc_ref, "view"),
            access(&both_ref, "view"),
            access(&ldap_ref, "view"),
        ],
        // A user without a GitHub name gets no binding under that key.
        &[("ada", "ada-gh"), ("bob", "")],
        &[],
    )];
    let state = desired_state(&roles, &[oidc, both, ldap], &filter());
    assert_eq!(
        names(&state),
        [
            "both/view-ada",
            "both/view-ada-gh",
            "both/view-bob",
            "oidc/view-ada",
            "oidc/view-bob"
        ]
    );
    let errors = errors(&state);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("ldap"), "{errors:?}");
}

#[test]
fn expired_roles_grant_nothing_and_a_binding_granted_twice_is_one() {
    let (c1, c1_ref) = cluster("c1", true, &[]);
    let mut expired = role(
        "expired",
        vec![access(&c1_ref, "view")],
        &[("old", "old-gh")],
        &[],
    );
    expired.expiration_date = Some("2026-12-05".into());
    let mut bad_date = role("bad", vec![access(&c1_ref, "view")], &[("x", "x-gh")], &[]);
    bad_date.expiration_date = Some("soon".into());
    let roles = [
        expired,
        bad_date,
        role(
            "a",
            vec![access(&c1_ref, "view")],
            &[("ada", "ada-gh")],
            &[Some("ci/sa")],
        ),
        role(
            "b",
            vec![access(&c1_ref, "view")],
            &[("ada", "ada-gh")],
            &[Some("ci/sa")],
        ),
        role(
            "bad-bot",
            vec![access(&c1_ref, "view")],
            &[],
            &[Some("no-namespace")],
        ),
    ];
    let state = desired_state(&roles, &[c1], &filter());
    assert_eq!(names(&state), ["c1/view-ada-gh", "c1/view-ci-sa"]);
    let errors = errors(&state);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors.iter().any(|e| e.contains("expirationDate \"soon\"")),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(|e| e.contains("no-namespace")),
        "{errors:?}"
    );
}

/// A ClusterRoleBinding as the Python tool 0.10.1 applied it (`OpenshiftResource.annotate()`
/// of `construct_user_oc_resource("dedicated-readers", "ada")`), plus what the API server adds:
/// no change.
#[test]
fn the_python_applied_clusterrolebinding_is_unchanged() {
    let (c1, c1_ref) = cluster("c1", true, &["oidc"]);
    let roles = [role(
        "r",
        vec![access(&c1_ref, "dedicated-readers")],
        &[("ada", "ada-gh")],
        &[],
    )];
    let mut state = desired_state(&roles, &[c1], &filter());
    let applied = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {
            "annotations": {
                "qontract.integration": "openshift-clusterrolebindings",
                "qontract.integration_version": "0.1.0",
                "qontract.sha256sum":
                    "9e4aea88b4deb3aafd28099cc4b6d4c001273ae8c5874b33852b2ff33bb22adf",
                "qontract.update": "2026-12-06T19:54:16",
            },
            "name": "dedicated-readers-ada",
            "resourceVersion": "4711",
            "uid": "0b3f4c1e-0000-4000-8000-000000000002",
        },
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": "dedicated-readers",
        },
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "ada"}],
    });
    let at = applied::Applied {
        cluster: "c1",
        namespace: CLUSTER_SCOPE_NAMESPACE,
        resource_type: MANAGED_TYPE,
        integration: (NAME, VERSION),
    };
    let actions = applied::plan_with_applied(&mut state, &at, applied);
    assert_eq!(
        actions,
        [(Action::NoOp, "dedicated-readers-ada".to_owned())]
    );
}
