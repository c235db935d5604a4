//! openshift-clusterrolebindings end to end through its own binary, on an app-interface shaped
//! like the upstream schemas (`/openshift/cluster-1.yml` with `managedClusterRoles`,
//! `/access/role-1.yml` with `access[] {cluster, clusterRole}`, users and a bot referring to
//! the roles), against the loopback API server: the dry run writes nothing, the run creates
//! the ClusterRoleBindings, the next run converges, a removed access is deleted, and a
//! ClusterRoleBinding made by hand is left alone.

#[path = "../../../qontract-openshift-rolebindings/tests/support/runs.rs"]
mod runs;

use qontract_kube_testserver::KubeTestServer;
use qontract_test_support::TestAppInterface;
use runs::{
    assert_converged, cluster_yaml, dry_run_plans_changes, github_auth, role_yaml, run_ok,
    user_yaml,
};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_openshift-clusterrolebindings");
const RBAC: &str = "rbac.authorization.k8s.io/v1";
const ADMINS_ACCESS: &str =
    "- cluster:\n    $ref: /openshift/sandbox/cluster.yml\n  clusterRole: cluster-admin\n";

fn app_interface(sandbox: &KubeTestServer) -> TestAppInterface {
    let app = runs::access_app(
        BIN,
        "openshift-clusterrolebindings",
        "ClusterRoleBindings from the roles' cluster access",
        &["/access/bot-1.yml"],
    );
    let cluster = |name: &str, managed: bool| {
        let extra = format!(
            "managedClusterRoles: {managed}\n{}",
            github_auth(&format!("{name}-admins"))
        );
        cluster_yaml(name, &sandbox.url(), &extra)
    };
    app.write("openshift/sandbox/cluster.yml", &cluster("sandbox", true));
    // Same API server, but its ClusterRoleBindings are not managed.
    app.write(
        "openshift/unmanaged/cluster.yml",
        &cluster("unmanaged", false),
    );
    app.write(
        "teams/shop/roles/shop-readers.yml",
        &role_yaml(
            "shop-readers",
            "- cluster:\n    $ref: /openshift/sandbox/cluster.yml\n  clusterRole: dedicated-readers\n\
             - cluster:\n    $ref: /openshift/unmanaged/cluster.yml\n  clusterRole: dedicated-readers\n",
        ),
    );
    app.write(
        "teams/shop/roles/shop-admins.yml",
        &role_yaml("shop-admins", ADMINS_ACCESS),
    );
    app.write(
        "teams/shop/users/ada.yml",
        &user_yaml(
            "Ada Example",
            "ada",
            "ada-example",
            &[
                "/teams/shop/roles/shop-readers.yml",
                "/teams/shop/roles/shop-admins.yml",
            ],
        ),
    );
    app.write(
        "teams/shop/bots/ci.yml",
        "---\n$schema: /access/bot-1.yml\n\nlabels: {}\nname: shop-ci\n\
             openshift_serviceaccount: shop-ci/deployer\n\
             roles:\n- $ref: /teams/shop/roles/shop-readers.yml\n",
    );
    app
}

/// The plan line of `action` on the ClusterRoleBinding `name` of the sandbox cluster.
fn planned(plan: &str, action: &str, name: &str) -> bool {
    plan.lines().any(|line| {
        let words: Vec<&str> = line.split_whitespace().collect();
        words.len() >= 5
            && words[0] == action
            && words[1] == "sandbox"
            && words[2] == "cluster"
            && words[3] == "ClusterRoleBinding.rbac.authorization.k8s.io"
            && words[4] == name
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn clusterrolebindings_are_applied_converge_and_removed_access_is_deleted() {
    let sandbox = runs::sandbox()
        .seed(json!({
            "apiVersion": RBAC,
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "made-by-hand"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "User", "name": "someone"}],
        }))
        .start()
        .await
        .expect("sandbox");
    let app = app_interface(&sandbox);
    let binding = |name: &str| sandbox.get_object(RBAC, "ClusterRoleBinding", None, name);

    // Dry run: the plan, no writes.
    let out = dry_run_plans_changes(&app, &sandbox);
    let plan = String::from_utf8_lossy(&out.stdout).into_owned();
    for name in [
        "cluster-admin-ada-example",
        "dedicated-readers-ada-example",
        "dedicated-readers-shop-ci-deployer",
    ] {
        assert!(planned(&plan, "create", name), "{name}:\n{plan}");
    }
    assert!(
        plan.contains("Plan: 3 to create, 0 to update, 0 to delete"),
        "{plan}"
    );

    // Wet run: created, annotated as upstream.
    run_ok(&app, &[]);
    let sa_binding = binding("dedicated-readers-shop-ci-deployer").expect("applied");
    assert_eq!(
        sa_binding["roleRef"],
        json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "dedicated-readers"})
    );
    assert_eq!(
        sa_binding["subjects"],
        json!([{"kind": "ServiceAccount", "name": "deployer", "namespace": "shop-ci"}])
    );
    let annotations = &sa_binding["metadata"]["annotations"];
    assert_eq!(
        annotations["qontract.integration"],
        "openshift-clusterrolebindings"
    );
    assert_eq!(annotations["qontract.integration_version"], "0.1.0");
    let user = binding("cluster-admin-ada-example").expect("applied");
    assert_eq!(
        user["subjects"][0]["name"], "ada-example",
        "the GitHub name: github-org-team auth"
    );
    assert_converged(&app);

    // shop-admins no longer grants cluster-admin: that binding alone is deleted.
    app.edit(
        "teams/shop/roles/shop-admins.yml",
        &format!("access:\n{ADMINS_ACCESS}"),
        "access: []\n",
    );
    let out = dry_run_plans_changes(&app, &sandbox);
    let plan = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        planned(&plan, "delete", "cluster-admin-ada-example"),
        "{plan}"
    );
    assert!(
        plan.contains("Plan: 0 to create, 0 to update, 1 to delete"),
        "{plan}"
    );
    run_ok(&app, &[]);
    assert!(
        binding("cluster-admin-ada-example").is_none(),
        "the removed access is deleted"
    );
    assert!(
        binding("dedicated-readers-ada-example").is_some(),
        "other access is kept"
    );
    assert!(
        binding("made-by-hand").is_some(),
        "an unowned ClusterRoleBinding is left alone"
    );
    assert_converged(&app);
}
