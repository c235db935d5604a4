//! openshift-groups end to end through its own binary, on an app-interface shaped like the
//! upstream schemas (`/openshift/cluster-1.yml` with `managedGroups`, `/access/role-1.yml` with
//! `access[] {cluster, group}`, users referring to the roles), against the loopback API server
//! serving OpenShift's `user.openshift.io/v1`: the dry run writes nothing, the run creates the
//! group with its member, the next run converges, a removed access removes the member, and a
//! group that is not managed is left alone.

#[path = "../../../qontract-openshift-rolebindings/tests/support/runs.rs"]
mod runs;

use qontract_kube_testserver::KubeTestServer;
use qontract_test_support::{TestAppInterface, output_text as text};
use runs::{
    assert_contains_all, assert_converged, cluster_yaml, dry_run_plans_changes, github_auth,
    role_yaml, run_ok, user_yaml,
};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_openshift-groups");
const USER_API: &str = "user.openshift.io/v1";
const ADMINS_ACCESS: &str =
    "- cluster:\n    $ref: /openshift/sandbox/cluster.yml\n  group: app-admins\n";

fn app_interface(sandbox: &KubeTestServer) -> TestAppInterface {
    let app = runs::access_app(
        BIN,
        "openshift-groups",
        "OpenShift group membership from the roles",
        &["/openshift/openshift-cluster-manager-1.yml"],
    );
    app.write(
        "openshift/sandbox/cluster.yml",
        &cluster_yaml(
            "sandbox",
            &sandbox.url(),
            &format!(
                "managedGroups:\n- app-admins\n- app-viewers\n{}",
                github_auth("sandbox-admins")
            ),
        ),
    );
    app.write(
        "teams/shop/roles/shop-admins.yml",
        &role_yaml("shop-admins", ADMINS_ACCESS),
    );
    app.write(
        "teams/shop/roles/shop-viewers.yml",
        &role_yaml(
            "shop-viewers",
            "- cluster:\n    $ref: /openshift/sandbox/cluster.yml\n  group: app-viewers\n",
        ),
    );
    let (admins, viewers) = (
        "/teams/shop/roles/shop-admins.yml",
        "/teams/shop/roles/shop-viewers.yml",
    );
    for (name, roles) in [("ada", &[admins, viewers][..]), ("linus", &[viewers][..])] {
        app.write(
            &format!("teams/shop/users/{name}.yml"),
            &user_yaml(name, name, &format!("{name}-example"), roles),
        );
    }
    app
}

fn users(server: &KubeTestServer, group: &str) -> serde_json::Value {
    server
        .get_object(USER_API, "Group", None, group)
        .unwrap_or_else(|| panic!("Group {group}"))["users"]
        .clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn group_members_are_added_converge_and_removed_access_removes_the_member() {
    let sandbox = runs::sandbox()
        .openshift_users(true)
        .seed(json!({
            "apiVersion": USER_API, "kind": "Group",
            "metadata": {"name": "made-by-hand"}, "users": ["someone"],
        }))
        .seed(json!({
            "apiVersion": USER_API, "kind": "Group",
            "metadata": {"name": "app-viewers"}, "users": ["linus-example", "stale-example"],
        }))
        .start()
        .await
        .expect("sandbox");
    let app = app_interface(&sandbox);
    let untouched = || {
        assert_eq!(
            users(&sandbox, "made-by-hand"),
            json!(["someone"]),
            "not managed: untouched"
        );
    };

    // Dry run: the diff, no writes.
    let out = dry_run_plans_changes(&app, &sandbox);
    assert_contains_all(
        &out,
        &[
            "['create_group', 'sandbox', 'app-admins', None]",
            "['del_user_from_group', 'sandbox', 'app-viewers', 'stale-example']",
            "['add_user_to_group', 'sandbox', 'app-admins', 'ada-example']",
            "['add_user_to_group', 'sandbox', 'app-viewers', 'ada-example']",
        ],
    );

    // Wet run.
    run_ok(&app, &[]);
    assert_eq!(users(&sandbox, "app-admins"), json!(["ada-example"]));
    assert_eq!(
        users(&sandbox, "app-viewers"),
        json!(["linus-example", "ada-example"])
    );
    untouched();
    assert_converged(&app);

    // shop-admins no longer grants app-admins: ada is removed, the group stays (upstream
    // never deletes groups).
    let roles = "teams/shop/roles/shop-admins.yml";
    app.edit(roles, &format!("access:\n{ADMINS_ACCESS}"), "access: []\n");
    let out = dry_run_plans_changes(&app, &sandbox);
    assert_contains_all(
        &out,
        &["['del_user_from_group', 'sandbox', 'app-admins', 'ada-example']"],
    );
    run_ok(&app, &[]);
    assert_eq!(users(&sandbox, "app-admins"), json!(null));
    untouched();
    assert_converged(&app);

    // Access to a group the cluster does not manage fails the run before any change.
    app.edit(
        roles,
        "access: []\n",
        "access:\n- cluster:\n    $ref: /openshift/sandbox/cluster.yml\n  group: made-by-hand\n",
    );
    sandbox.clear_requests();
    let out = app.run(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_contains_all(
        &out,
        &["invalid cluster/group combination: sandbox/made-by-hand"],
    );
    assert_eq!(
        sandbox.writes(),
        Vec::<String>::new(),
        "a refused run writes nothing"
    );
    assert_eq!(users(&sandbox, "made-by-hand"), json!(["someone"]));
}
