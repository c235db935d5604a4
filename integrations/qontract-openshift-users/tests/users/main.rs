//! openshift-users end to end through its own binary, on an app-interface shaped like the
//! upstream schemas (a namespace with `managedRoles`, a role granting access to it, users
//! referring to the role), against the loopback API server serving OpenShift's
//! `user.openshift.io/v1`: the dry run deletes nothing, the run deletes the User (and its
//! Identity) of someone no longer entitled, the next run converges, a removed access deletes
//! that user, and admin users and users of other identity providers are left alone.

#[path = "../../../qontract-openshift-rolebindings/tests/support/runs.rs"]
mod runs;

use qontract_kube_testserver::KubeTestServer;
use qontract_test_support::TestAppInterface;
use runs::{
    assert_contains_all, assert_converged, cluster_yaml, dry_run_plans_changes, github_auth,
    role_yaml, run_ok, user_yaml,
};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_openshift-users");
const USER_API: &str = "user.openshift.io/v1";
const SHOP_ACCESS: &str =
    "- namespace:\n    $ref: /services/shop/namespaces/shop.yml\n  role: view\n";

fn app_interface(sandbox: &KubeTestServer) -> TestAppInterface {
    let app = runs::access_app(
        BIN,
        "openshift-users",
        "OpenShift users no longer entitled are deleted",
        &["/openshift/namespace-1.yml"],
    );
    app.write(
        "openshift/sandbox/cluster.yml",
        &cluster_yaml("sandbox", &sandbox.url(), &github_auth("sandbox-admins")),
    );
    app.write(
        "services/shop/namespaces/shop.yml",
        "---\n$schema: /openshift/namespace-1.yml\n\nlabels: {}\nname: shop\n\
             description: the shop\ncluster:\n  $ref: /openshift/sandbox/cluster.yml\n\
             managedRoles: true\n",
    );
    app.write(
        "teams/shop/roles/shop-dev.yml",
        &role_yaml("shop-dev", SHOP_ACCESS),
    );
    app.write(
        "teams/shop/users/ada.yml",
        &user_yaml(
            "ada",
            "ada",
            "ada-example",
            &["/teams/shop/roles/shop-dev.yml"],
        ),
    );
    app
}

fn user(name: &str, identity: &str, admin: bool) -> serde_json::Value {
    let labels = if admin {
        json!({"admin": "true"})
    } else {
        json!({})
    };
    json!({
        "apiVersion": USER_API, "kind": "User",
        "metadata": {"name": name, "labels": labels}, "identities": [identity],
    })
}

fn identity(name: &str, user: &str) -> serde_json::Value {
    let (provider, provider_user) = name.split_once(':').expect("provider:name");
    json!({
        "apiVersion": USER_API, "kind": "Identity", "metadata": {"name": name},
        "providerName": provider, "providerUserName": provider_user,
        "user": {"name": user},
    })
}

fn exists(server: &KubeTestServer, kind: &str, name: &str) -> bool {
    server.get_object(USER_API, kind, None, name).is_some()
}

#[tokio::test(flavor = "multi_thread")]
async fn users_no_longer_entitled_are_deleted_and_others_left_alone() {
    let sandbox = runs::sandbox()
        .openshift_users(true)
        .seed(user("ada-example", "github:1", false))
        .seed(identity("github:1", "ada-example"))
        .seed(user("stale-example", "github:2", false))
        .seed(identity("github:2", "stale-example"))
        .seed(user("root-example", "github:3", true))
        .seed(user("local-user", "htpasswd:local-user", false))
        .start()
        .await
        .expect("sandbox");
    let app = app_interface(&sandbox);

    let out = dry_run_plans_changes(&app, &sandbox);
    assert_contains_all(&out, &["['del_user', 'sandbox', 'stale-example']"]);
    let all = qontract_test_support::output_text(&out);
    assert!(!all.contains("'ada-example'"), "{all}");
    assert!(
        !all.contains("root-example") && !all.contains("local-user"),
        "{all}"
    );

    run_ok(&app, &[]);
    assert!(!exists(&sandbox, "User", "stale-example"), "deleted");
    assert!(
        !exists(&sandbox, "Identity", "github:2"),
        "its identity deleted"
    );
    for kept in ["ada-example", "root-example", "local-user"] {
        assert!(exists(&sandbox, "User", kept), "{kept} kept");
    }
    assert_converged(&app);

    // ada loses her only access: her User goes too.
    app.edit(
        "teams/shop/roles/shop-dev.yml",
        &format!("access:\n{SHOP_ACCESS}"),
        "access: []\n",
    );
    let out = dry_run_plans_changes(&app, &sandbox);
    assert_contains_all(&out, &["['del_user', 'sandbox', 'ada-example']"]);
    run_ok(&app, &[]);
    assert!(!exists(&sandbox, "User", "ada-example"));
    assert!(!exists(&sandbox, "Identity", "github:1"));
    assert!(exists(&sandbox, "User", "root-example") && exists(&sandbox, "User", "local-user"));
    assert_converged(&app);
}
