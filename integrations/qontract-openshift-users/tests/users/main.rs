//! openshift-users end to end through its own binary, on an app-interface shaped like the
//! upstream schemas (a namespace with `managedRoles`, a role granting access to it, users
//! referring to the role), against the loopback API server serving OpenShift's
//! `user.openshift.io/v1`: the dry run deletes nothing, the run deletes the User (and its
//! Identity) of someone no longer entitled, the next run converges, a removed access deletes
//! that user, and admin users and users of other identity providers are left alone.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use qontract_kube_testserver::KubeTestServer;
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_openshift-users");
const USER_API: &str = "user.openshift.io/v1";

struct AppInterface {
    _tmp: tempfile::TempDir,
    data: PathBuf,
    config: PathBuf,
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

impl AppInterface {
    fn new(sandbox: &KubeTestServer) -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let data = tmp.path().join("app-interface/data");
        std::fs::create_dir_all(tmp.path().join("app-interface/resources")).expect("resources");
        let schema = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../schemas/graphql-schema.yml")
            .canonicalize()
            .expect("schema");
        let config = tmp.path().join("config.toml");
        write(
            &config,
            &format!(
                "[graphql]\napp_interface = \"app-interface\"\nschema = {:?}\n\n\
                 [sandbox.creds]\ntoken = \"sandbox-token\"\n",
                schema.display().to_string()
            ),
        );
        write(
            &data.join("app-interface/app-interface-settings.yml"),
            "---\n$schema: /app-interface/app-interface-settings-1.yml\n\n\
             name: app-interface-settings\ndescription: test settings\nvault: false\n",
        );
        write(
            &data.join("integrations/openshift-users.yml"),
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
        write(
            &data.join("openshift/sandbox/cluster.yml"),
            &format!(
                "---\n$schema: /openshift/cluster-1.yml\n\nlabels: {{}}\nname: sandbox\n\
                 description: the sandbox\nconsoleUrl: {url}\nprometheusUrl: {url}\n\
                 alertmanagerUrl: {url}\nserverUrl: {url}\nelbFQDN: sandbox.local\n\
                 automationToken:\n  path: sandbox/creds\n  field: token\n\
                 auth:\n- service: github-org-team\n  org: example\n  team: sandbox-admins\n",
                url = sandbox.url()
            ),
        );
        write(
            &data.join("services/shop/namespaces/shop.yml"),
            "---\n$schema: /openshift/namespace-1.yml\n\nlabels: {}\nname: shop\n\
             description: the shop\ncluster:\n  $ref: /openshift/sandbox/cluster.yml\n\
             managedRoles: true\n",
        );
        write(
            &data.join("teams/shop/roles/shop-dev.yml"),
            "---\n$schema: /access/role-1.yml\n\nlabels: {}\nname: shop-dev\n\
             access:\n- namespace:\n    $ref: /services/shop/namespaces/shop.yml\n  role: view\n",
        );
        write(
            &data.join("teams/shop/users/ada.yml"),
            "---\n$schema: /access/user-1.yml\n\nlabels: {}\nname: ada\n\
             org_username: ada\ngithub_username: ada-example\n\
             roles:\n- $ref: /teams/shop/roles/shop-dev.yml\n",
        );
        AppInterface {
            _tmp: tmp,
            data,
            config,
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .output()
            .expect("run the binary")
    }

    fn edit(&self, file: &str, from: &str, to: &str) {
        let path = self.data.join(file);
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.contains(from), "{file} does not contain {from:?}");
        std::fs::write(&path, text.replace(from, to)).expect("write");
    }
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn writes(server: &KubeTestServer) -> Vec<String> {
    server
        .requests()
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
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
    let app = AppInterface::new(&sandbox);
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
    assert_eq!(writes(&sandbox), Vec::<String>::new(), "the dry run wrote");

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
    assert_eq!(writes(&sandbox), Vec::<String>::new(), "the dry run wrote");
    let out = app.run(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!exists(&sandbox, "User", "ada-example"));
    assert!(!exists(&sandbox, "Identity", "github:1"));
    assert!(exists(&sandbox, "User", "root-example") && exists(&sandbox, "User", "local-user"));
    let out = app.run(&dry);
    assert_eq!(out.status.code(), Some(0), "converged:\n{}", text(&out));
}
