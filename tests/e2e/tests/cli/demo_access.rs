//! The README demo's access and token integrations on `examples/` (as `scripts/demo.sh` runs
//! them): openshift-clusterrolebindings, openshift-groups, openshift-users and
//! openshift-serviceaccount-tokens each plan something, apply it and converge, against the
//! demo's sandbox (`kube-testserver --openshift-users` with the Users the script seeds).

use serde_json::{Value, json};

use super::support::{Example, USER_API, apply, plan_apply_converge, sandbox_with_demo_users};

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_access_and_token_integrations_plan_apply_and_converge() {
    let sandbox = sandbox_with_demo_users().start().await.unwrap();
    let example = Example::new(&sandbox);
    // The demo's order: the namespaces, then openshift-resources (the shop-deployer
    // ServiceAccount whose token is copied).
    for integration in ["openshift-namespaces", "openshift-resources"] {
        apply(&example, &[integration]);
    }
    assert!(
        sandbox
            .get_object(
                "v1",
                "ServiceAccount",
                Some("shop-production"),
                "shop-deployer"
            )
            .is_some()
    );

    // shop-oncall grants linus cluster-reader on the sandbox (managedClusterRoles).
    plan_apply_converge(
        &example,
        &sandbox,
        "openshift-clusterrolebindings",
        &[
            "create  sandbox  cluster    ClusterRoleBinding.rbac.authorization.k8s.io  cluster-reader-linus-example",
            "Plan: 1 to create, 0 to update, 0 to delete",
        ],
        1,
    );
    let binding = sandbox
        .get_object(
            "rbac.authorization.k8s.io/v1",
            "ClusterRoleBinding",
            None,
            "cluster-reader-linus-example",
        )
        .expect("ClusterRoleBinding");
    assert_eq!(binding["roleRef"]["name"], "cluster-reader");
    assert_eq!(binding["subjects"][0]["name"], "linus-example");

    // shop-team (a managedGroups group) gets ada and linus.
    plan_apply_converge(
        &example,
        &sandbox,
        "openshift-groups",
        &[
            "['create_group', 'sandbox', 'shop-team', None]",
            "['add_user_to_group', 'sandbox', 'shop-team', 'ada-example']",
            "['add_user_to_group', 'sandbox', 'shop-team', 'linus-example']",
        ],
        1,
    );
    let group = sandbox
        .get_object(USER_API, "Group", None, "shop-team")
        .expect("Group shop-team");
    assert_eq!(group["users"], json!(["ada-example", "linus-example"]));

    // grace has no role: her User and Identity go; ada (entitled) and the admin stay.
    let plan = plan_apply_converge(
        &example,
        &sandbox,
        "openshift-users",
        &["['del_user', 'sandbox', 'grace-example']"],
        1,
    );
    assert!(
        !plan.contains("'ada-example'") && !plan.contains("sandbox-admin"),
        "{plan}"
    );
    let exists = |kind: &str, name: &str| sandbox.get_object(USER_API, kind, None, name).is_some();
    assert!(!exists("User", "grace-example") && !exists("Identity", "github:grace-example"));
    for user in ["ada-example", "sandbox-admin"] {
        assert!(
            exists("User", user) && exists("Identity", &format!("github:{user}")),
            "{user} kept"
        );
    }

    // shop-deployer has no token: the first apply requests one, the second copies it into
    // app-sre-integrations.
    let plan = plan_apply_converge(
        &example,
        &sandbox,
        "openshift-serviceaccount-tokens",
        &["create  sandbox  shop-production  Secret  shop-deployer-token-"],
        2,
    );
    let requested: Vec<Value> = sandbox
        .list_objects("v1", "Secret", Some("shop-production"))
        .into_iter()
        .filter(|s| {
            s["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("shop-deployer-token-"))
        })
        .collect();
    assert_eq!(requested.len(), 1, "{requested:?}");
    let token = requested[0]["data"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let copy = sandbox
        .get_object(
            "v1",
            "Secret",
            Some("app-sre-integrations"),
            "sandbox-shop-production-shop-deployer",
        )
        .expect("the copied token Secret");
    assert_eq!(copy["data"]["token"].as_str(), Some(token.as_str()));
    assert_eq!(
        copy["metadata"]["annotations"]["qontract.integration"],
        "openshift-serviceaccount-tokens"
    );
    assert!(!plan.contains(&token), "the plan printed the token");
}
