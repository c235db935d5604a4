//! openshift-users end to end through its own binary, on an app-interface shaped like the
//! upstream schemas (a namespace with `managedRoles`, a role granting access to it, users
//! referring to the role), against the loopback API server serving OpenShift's
//! `user.openshift.io/v1`: the dry run deletes nothing, the run deletes the User (and its
//! Identity) of someone no longer entitled, the next run converges, a removed access deletes
//! that user, and admin users and users of other identity providers are left alone.

use qontract_kube_testserver::KubeTestServer;
use qontract_test_support::{TestAppInterface, output_text as text};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_openshift-users");
const USER_API: &str = "user.openshift.io/v1";

fn app_interface(sandbox: &KubeTestServer) -> TestAppInterface {
    let app = TestAppInterface::new(BIN, "[sandbox.creds]\ntoken = \"sandbox-token\"\n");
    app.write(
        "integrations/openshift-users.yml",
        "---\n$schema: /app-sre/integration-1.yml\n\n\
             name: openshift-users\ndescription: OpenShift users no longer entitled are deleted\n\
             upstream: https://github.com/app-sre/qontract-reconcile\n\
             schemas:\n\
             - /app-interface/app-interface-settings-1.yml\n\
             - /app-sre/integration-1.yml\n\
             - /openshift/cluster-1.yml\n\
             - /openshift/namespace-1.yml\n\
             - /access/role-1.yml\n\
             - /access/user-1.yml\n",
    );
    app.write(
        "openshift/sandbox/cluster.yml",
        &format!(
            "---\n$schema: /openshift/cluster-1.yml\n\nlabels: {{}}\nname: sandbox\n\
                 description: the sandbox\nconsoleUrl: {url}\nprometheusUrl: {url}\n\
                 alertmanagerUrl: {url}\nserverUrl: {url}\nelbFQDN: sandbox.local\n\
                 automationToken:\n  path: sandbox/creds\n  field: token\n\
                 auth:\n- service: github-org-team\n  org: example\n  team: sandbox-admins\n",
            url = sandbox.url()
        ),
    );
    app.write(
        "services/shop/namespaces/shop.yml",
        "---\n$schema: /openshift/namespace-1.yml\n\nlabels: {}\nname: shop\n\
             description: the shop\ncluster:\n  $ref: /openshift/sandbox/cluster.yml\n\
             managedRoles: true\n",
    );
    app.write(
        "teams/shop/roles/shop-dev.yml",
        "---\n$schema: /access/role-1.yml\n\nlabels: {}\nname: shop-dev\n\
             access:\n- namespace:\n    $ref: /services/shop/namespaces/shop.yml\n  role: view\n",
    );
    app.write(
        "teams/shop/users/ada.yml",
        "---\n$schema: /access/user-1.yml\n\nlabels: {}\nname: ada\n\
             org_username: ada\ngithub_username: ada-example\n\
             roles:\n- $ref: /teams/shop/roles/shop-dev.yml\n",
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
    let sandbox = KubeTestServer::builder()
        .https(false)
        .token("sandbox-token")
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
    let dry = ["--dry-run", "--detailed-exitcode"];

    let out = app.run(&dry);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let all = text(&out);
    assert!(
        all.contains("['del_user', 'sandbox', 'stale-example']"),
        "{all}"
    );
    assert!(!all.contains("'ada-example'"), "{all}");
    assert!(
        !all.contains("root-example") && !all.contains("local-user"),
        "{all}"
    );
    assert_eq!(sandbox.writes(), Vec::<String>::new(), "the dry run wrote");

    let out = app.run(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!exists(&sandbox, "User", "stale-example"), "deleted");
    assert!(
        !exists(&sandbox, "Identity", "github:2"),
        "its identity deleted"
    );
    for kept in ["ada-example", "root-example", "local-user"] {
        assert!(exists(&sandbox, "User", kept), "{kept} kept");
    }
    let out = app.run(&dry);
    assert_eq!(out.status.code(), Some(0), "converged:\n{}", text(&out));

    // ada loses her only access: her User goes too.
    app.edit(
        "teams/shop/roles/shop-dev.yml",
        "access:\n- namespace:\n    $ref: /services/shop/namespaces/shop.yml\n  role: view\n",
        "access: []\n",
    );
    sandbox.clear_requests();
    let out = app.run(&dry);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("['del_user', 'sandbox', 'ada-example']"),
        "{}",
        text(&out)
    );
    assert_eq!(sandbox.writes(), Vec::<String>::new(), "the dry run wrote");
    let out = app.run(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!exists(&sandbox, "User", "ada-example"));
    assert!(!exists(&sandbox, "Identity", "github:1"));
    assert!(exists(&sandbox, "User", "root-example") && exists(&sandbox, "User", "local-user"));
    let out = app.run(&dry);
    assert_eq!(out.status.code(), Some(0), "converged:\n{}", text(&out));
}
