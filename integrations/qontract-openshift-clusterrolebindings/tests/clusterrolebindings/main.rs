//! openshift-clusterrolebindings end to end through its own binary, on an app-interface shaped
//! like the upstream schemas (`/openshift/cluster-1.yml` with `managedClusterRoles`,
//! `/access/role-1.yml` with `access[] {cluster, clusterRole}`, users and a bot referring to
//! the roles), against the loopback API server: the dry run writes nothing, the run creates
//! the ClusterRoleBindings, the next run converges, a removed access is deleted, and a
//! ClusterRoleBinding made by hand is left alone.

use qontract_kube_testserver::KubeTestServer;
use qontract_test_support::{TestAppInterface, output_text as text};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_openshift-clusterrolebindings");
const RBAC: &str = "rbac.authorization.k8s.io/v1";

fn app_interface(sandbox: &KubeTestServer) -> TestAppInterface {
    let app = TestAppInterface::new(BIN, "[sandbox.creds]\ntoken = \"sandbox-token\"\n");
    app.write(
        "integrations/openshift-clusterrolebindings.yml",
        "---\n$schema: /app-sre/integration-1.yml\n\n\
             name: openshift-clusterrolebindings\n\
             description: ClusterRoleBindings from the roles' cluster access\n\
             upstream: https://github.com/app-sre/qontract-reconcile\n\
             schemas:\n\
             - /app-interface/app-interface-settings-1.yml\n\
             - /app-sre/integration-1.yml\n\
             - /openshift/cluster-1.yml\n\
             - /access/role-1.yml\n\
             - /access/user-1.yml\n\
             - /access/bot-1.yml\n",
    );
    let cluster = |name: &str, managed: bool| {
        format!(
            "---\n$schema: /openshift/cluster-1.yml\n\nlabels: {{}}\nname: {name}\n\
                 description: a test cluster\nconsoleUrl: {url}\nprometheusUrl: {url}\n\
                 alertmanagerUrl: {url}\nserverUrl: {url}\nelbFQDN: {name}.local\n\
                 managedClusterRoles: {managed}\n\
                 automationToken:\n  path: sandbox/creds\n  field: token\n\
                 auth:\n- service: github-org-team\n  org: example\n  team: {name}-admins\n",
            url = sandbox.url()
        )
    };
    app.write("openshift/sandbox/cluster.yml", &cluster("sandbox", true));
    // Same API server, but its ClusterRoleBindings are not managed.
    app.write(
        "openshift/unmanaged/cluster.yml",
        &cluster("unmanaged", false),
    );
    app.write(
            "teams/shop/roles/shop-readers.yml",
            "---\n$schema: /access/role-1.yml\n\nlabels: {}\nname: shop-readers\n\
             access:\n- cluster:\n    $ref: /openshift/sandbox/cluster.yml\n  clusterRole: dedicated-readers\n\
             - cluster:\n    $ref: /openshift/unmanaged/cluster.yml\n  clusterRole: dedicated-readers\n",
        );
    app.write(
            "teams/shop/roles/shop-admins.yml",
            "---\n$schema: /access/role-1.yml\n\nlabels: {}\nname: shop-admins\n\
             access:\n- cluster:\n    $ref: /openshift/sandbox/cluster.yml\n  clusterRole: cluster-admin\n",
        );
    app.write(
            "teams/shop/users/ada.yml",
            "---\n$schema: /access/user-1.yml\n\nlabels: {}\nname: Ada Example\n\
             org_username: ada\ngithub_username: ada-example\n\
             roles:\n- $ref: /teams/shop/roles/shop-readers.yml\n- $ref: /teams/shop/roles/shop-admins.yml\n",
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
    let sandbox = KubeTestServer::builder()
        .https(false)
        .token("sandbox-token")
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
    let dry = ["--dry-run", "--detailed-exitcode"];

    // Dry run: the plan, no writes.
    let out = app.run(&dry);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
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
    assert_eq!(sandbox.writes(), Vec::<String>::new(), "the dry run wrote");

    // Wet run: created, annotated as upstream.
    let out = app.run(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let binding = sandbox
        .get_object(
            RBAC,
            "ClusterRoleBinding",
            None,
            "dedicated-readers-shop-ci-deployer",
        )
        .expect("applied");
    assert_eq!(
        binding["roleRef"],
        json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "dedicated-readers"})
    );
    assert_eq!(
        binding["subjects"],
        json!([{"kind": "ServiceAccount", "name": "deployer", "namespace": "shop-ci"}])
    );
    let annotations = &binding["metadata"]["annotations"];
    assert_eq!(
        annotations["qontract.integration"],
        "openshift-clusterrolebindings"
    );
    assert_eq!(annotations["qontract.integration_version"], "0.1.0");
    let user = sandbox
        .get_object(
            RBAC,
            "ClusterRoleBinding",
            None,
            "cluster-admin-ada-example",
        )
        .expect("applied");
    assert_eq!(
        user["subjects"][0]["name"], "ada-example",
        "the GitHub name: github-org-team auth"
    );

    // Converged.
    let out = app.run(&dry);
    assert_eq!(out.status.code(), Some(0), "converged:\n{}", text(&out));

    // shop-admins no longer grants cluster-admin: that binding alone is deleted.
    app.edit(
        "teams/shop/roles/shop-admins.yml",
        "access:\n- cluster:\n    $ref: /openshift/sandbox/cluster.yml\n  clusterRole: cluster-admin\n",
        "access: []\n",
    );
    sandbox.clear_requests();
    let out = app.run(&dry);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let plan = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        planned(&plan, "delete", "cluster-admin-ada-example"),
        "{plan}"
    );
    assert!(
        plan.contains("Plan: 0 to create, 0 to update, 1 to delete"),
        "{plan}"
    );
    assert_eq!(sandbox.writes(), Vec::<String>::new(), "the dry run wrote");
    let out = app.run(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let exists = |name: &str| {
        sandbox
            .get_object(RBAC, "ClusterRoleBinding", None, name)
            .is_some()
    };
    assert!(
        !exists("cluster-admin-ada-example"),
        "the removed access is deleted"
    );
    assert!(
        exists("dedicated-readers-ada-example"),
        "other access is kept"
    );
    assert!(
        exists("made-by-hand"),
        "an unowned ClusterRoleBinding is left alone"
    );
    let out = app.run(&dry);
    assert_eq!(out.status.code(), Some(0), "converged:\n{}", text(&out));
}
