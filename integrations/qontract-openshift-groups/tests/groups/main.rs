//! openshift-groups end to end through its own binary, on an app-interface shaped like the
//! upstream schemas (`/openshift/cluster-1.yml` with `managedGroups`, `/access/role-1.yml` with
//! `access[] {cluster, group}`, users referring to the roles), against the loopback API server
//! serving OpenShift's `user.openshift.io/v1`: the dry run writes nothing, the run creates the
//! group with its member, the next run converges, a removed access removes the member, and a
//! group that is not managed is left alone.

use qontract_kube_testserver::KubeTestServer;
use qontract_test_support::{TestAppInterface, output_text as text};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_openshift-groups");
const USER_API: &str = "user.openshift.io/v1";

fn app_interface(sandbox: &KubeTestServer) -> TestAppInterface {
    let app = TestAppInterface::new(BIN, "[sandbox.creds]\ntoken = \"sandbox-token\"\n");
    app.write(
        "integrations/openshift-groups.yml",
        "---\n$schema: /app-sre/integration-1.yml\n\n\
             name: openshift-groups\ndescription: OpenShift group membership from the roles\n\
             upstream: https://github.com/app-sre/qontract-reconcile\n\
             schemas:\n\
             - /app-interface/app-interface-settings-1.yml\n\
             - /app-sre/integration-1.yml\n\
             - /openshift/cluster-1.yml\n\
             - /openshift/openshift-cluster-manager-1.yml\n\
             - /access/role-1.yml\n\
             - /access/user-1.yml\n",
    );
    app.write(
        "openshift/sandbox/cluster.yml",
        &format!(
            "---\n$schema: /openshift/cluster-1.yml\n\nlabels: {{}}\nname: sandbox\n\
                 description: the sandbox\nconsoleUrl: {url}\nprometheusUrl: {url}\n\
                 alertmanagerUrl: {url}\nserverUrl: {url}\nelbFQDN: sandbox.local\n\
                 managedGroups:\n- app-admins\n- app-viewers\n\
                 automationToken:\n  path: sandbox/creds\n  field: token\n\
                 auth:\n- service: github-org-team\n  org: example\n  team: sandbox-admins\n",
            url = sandbox.url()
        ),
    );
    app.write(
        "teams/shop/roles/shop-admins.yml",
        "---\n$schema: /access/role-1.yml\n\nlabels: {}\nname: shop-admins\n\
             access:\n- cluster:\n    $ref: /openshift/sandbox/cluster.yml\n  group: app-admins\n",
    );
    app.write(
        "teams/shop/roles/shop-viewers.yml",
        "---\n$schema: /access/role-1.yml\n\nlabels: {}\nname: shop-viewers\n\
             access:\n- cluster:\n    $ref: /openshift/sandbox/cluster.yml\n  group: app-viewers\n",
    );
    for (name, roles) in [
        (
            "ada",
            "- $ref: /teams/shop/roles/shop-admins.yml\n- $ref: /teams/shop/roles/shop-viewers.yml\n",
        ),
        ("linus", "- $ref: /teams/shop/roles/shop-viewers.yml\n"),
    ] {
        app.write(
            &format!("teams/shop/users/{name}.yml"),
            &format!(
                "---\n$schema: /access/user-1.yml\n\nlabels: {{}}\nname: {name}\n\
                     org_username: {name}\ngithub_username: {name}-example\nroles:\n{roles}"
            ),
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
    let sandbox = KubeTestServer::builder()
        .https(false)
        .token("sandbox-token")
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
    let dry = ["--dry-run", "--detailed-exitcode"];

    // Dry run: the diff, no writes.
    let out = app.run(&dry);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let all = text(&out);
    for line in [
        "['create_group', 'sandbox', 'app-admins', None]",
        "['del_user_from_group', 'sandbox', 'app-viewers', 'stale-example']",
        "['add_user_to_group', 'sandbox', 'app-admins', 'ada-example']",
        "['add_user_to_group', 'sandbox', 'app-viewers', 'ada-example']",
    ] {
        assert!(all.contains(line), "{line}:\n{all}");
    }
    assert_eq!(sandbox.writes(), Vec::<String>::new(), "the dry run wrote");

    // Wet run.
    let out = app.run(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(users(&sandbox, "app-admins"), json!(["ada-example"]));
    assert_eq!(
        users(&sandbox, "app-viewers"),
        json!(["linus-example", "ada-example"])
    );
    assert_eq!(
        users(&sandbox, "made-by-hand"),
        json!(["someone"]),
        "not managed: untouched"
    );

    // Converged.
    let out = app.run(&dry);
    assert_eq!(out.status.code(), Some(0), "converged:\n{}", text(&out));

    // shop-admins no longer grants app-admins: ada is removed, the group stays (upstream
    // never deletes groups).
    app.edit(
        "teams/shop/roles/shop-admins.yml",
        "access:\n- cluster:\n    $ref: /openshift/sandbox/cluster.yml\n  group: app-admins\n",
        "access: []\n",
    );
    sandbox.clear_requests();
    let out = app.run(&dry);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("['del_user_from_group', 'sandbox', 'app-admins', 'ada-example']"),
        "{}",
        text(&out)
    );
    assert_eq!(sandbox.writes(), Vec::<String>::new(), "the dry run wrote");
    let out = app.run(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(users(&sandbox, "app-admins"), json!(null));
    assert_eq!(
        users(&sandbox, "made-by-hand"),
        json!(["someone"]),
        "not managed: untouched"
    );
    let out = app.run(&dry);
    assert_eq!(out.status.code(), Some(0), "converged:\n{}", text(&out));

    // Access to a group the cluster does not manage fails the run before any change.
    app.edit(
        "teams/shop/roles/shop-admins.yml",
        "access: []\n",
        "access:\n- cluster:\n    $ref: /openshift/sandbox/cluster.yml\n  group: made-by-hand\n",
    );
    sandbox.clear_requests();
    let out = app.run(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("invalid cluster/group combination: sandbox/made-by-hand"),
        "{}",
        text(&out)
    );
    assert_eq!(
        sandbox.writes(),
        Vec::<String>::new(),
        "a refused run writes nothing"
    );
    assert_eq!(users(&sandbox, "made-by-hand"), json!(["someone"]));
}
