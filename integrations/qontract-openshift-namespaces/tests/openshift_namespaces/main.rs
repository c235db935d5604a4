//! openshift-namespaces end to end: GraphQL desired state -> two loopback Kubernetes API
//! servers -> plan -> dry-run (zero writes) or apply; then the cluster state is checked.

use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;

use qontract_gql::RetryPolicy;
use qontract_kube_testserver::KubeTestServer;
use qontract_openshift_namespaces::OpenshiftNamespaces;
use qontract_runtime::{Cli, ExitStatus, IntegrationSpec};
use qontract_test_support::FakeQontractServer;
use serde_json::{Value, json};

const SHA: &str = "e942a4f24d07ad8a927b41a16bebeea5eadcf2e3ba0fc3fe8cc582a40235fc70";

struct Env {
    c1: KubeTestServer,
    c2: KubeTestServer,
    gql: FakeQontractServer,
    _dir: tempfile::TempDir,
    config: String,
}

fn namespace(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}

fn cluster(name: &str, url: &str, disabled: bool) -> Value {
    json!({
        "name": name,
        "serverUrl": url,
        "insecureSkipTLSVerify": false,
        "automationToken": {"path": format!("creds/{name}"), "field": "token", "version": null, "format": null},
        "clusterAdminAutomationToken": null,
        "internal": false,
        "disable": if disabled { json!({"integrations": ["openshift-namespaces"]}) } else { Value::Null },
    })
}

fn ns(name: &str, cluster: &Value, delete: Option<bool>, path: &str) -> Value {
    json!({
        "name": name, "path": path, "delete": delete, "labels": null,
        "clusterAdmin": null, "managedByExternal": null, "cluster": cluster,
    })
}

async fn env(namespaces: impl Fn(&str, &str) -> Vec<Value> + Send + Sync + 'static) -> Env {
    let c1 = KubeTestServer::builder()
        .https(false)
        .token("token-c1")
        .seed(namespace("legacy"))
        .seed(namespace("present"))
        .start()
        .await
        .unwrap();
    let c2 = KubeTestServer::builder()
        .https(false)
        .token("token-c2")
        .start()
        .await
        .unwrap();
    let (u1, u2) = (c1.url(), c2.url());
    let list = namespaces(&u1, &u2);
    let gql = FakeQontractServer::start(SHA, move |req: &Value| {
        let q = req["query"].as_str().unwrap_or_default();
        let schemas = json!(["/openshift/namespace-1.yml", "/openshift/cluster-1.yml"]);
        if q.contains("integrations_v1") {
            (200, json!({"data": {"integrations": [{"name": "openshift-namespaces", "description": "",
                "schemas": ["/openshift/namespace-1.yml", "/openshift/cluster-1.yml",
                            "/app-interface/app-interface-settings-1.yml"]}]}}))
        } else if q.contains("app_interface_settings_v1") {
            (200, json!({"data": {"app_interface_settings_v1": [{"vault": false}]},
                         "extensions": {"schemas": ["/app-interface/app-interface-settings-1.yml"]}}))
        } else {
            (200, json!({"data": {"namespaces_v1": list.clone()}, "extensions": {"schemas": schemas}}))
        }
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &gql.graphql_url(), &c1.url(), &c2.url());
    Env {
        c1,
        c2,
        gql,
        _dir: dir,
        config,
    }
}

fn write_config(dir: &Path, gql: &str, u1: &str, u2: &str) -> String {
    let path = dir.join("config.toml");
    let text = format!(
        "[graphql]\nserver = \"{gql}\"\n\n[creds.c1]\ntoken = \"token-c1\"\nserver = \"{u1}\"\n\n\
         [creds.c2]\ntoken = \"token-c2\"\nserver = \"{u2}\"\n"
    );
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn standard(u1: &str, u2: &str) -> Vec<Value> {
    let c1 = cluster("c1", u1, false);
    let c2 = cluster("c2", u2, false);
    vec![
        ns("app-stage", &c1, None, "/services/app/namespaces/stage.yml"),
        ns(
            "present",
            &c1,
            Some(false),
            "/services/app/namespaces/present.yml",
        ),
        ns(
            "legacy",
            &c1,
            Some(true),
            "/services/app/namespaces/legacy.yml",
        ),
        ns("app-prod", &c2, None, "/services/app/namespaces/prod.yml"),
    ]
}

async fn run(env: &Env, extra: &[&str]) -> ExitStatus {
    let mut cli = Cli::new(
        "qontract-reconcile",
        vec![IntegrationSpec::of::<OpenshiftNamespaces>()],
    );
    cli.retry = RetryPolicy {
        attempts: 1,
        backoff: Duration::from_millis(1),
    };
    let mut argv: Vec<OsString> = vec![
        "qontract-reconcile".into(),
        "--config".into(),
        env.config.clone().into(),
    ];
    argv.extend(extra.iter().map(OsString::from));
    cli.run_multi(argv).await
}

fn writes(server: &KubeTestServer) -> Vec<String> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

fn has_ns(server: &KubeTestServer, name: &str) -> bool {
    server.get_object("v1", "Namespace", None, name).is_some()
}

#[tokio::test]
async fn dry_run_plans_and_writes_nothing() {
    let env = env(standard).await;
    let status = run(
        &env,
        &["--dry-run", "--detailed-exitcode", "openshift-namespaces"],
    )
    .await;
    assert_eq!(status, ExitStatus::ChangesPlanned);
    assert!(writes(&env.c1).is_empty(), "{:?}", writes(&env.c1));
    assert!(writes(&env.c2).is_empty(), "{:?}", writes(&env.c2));
    assert!(!has_ns(&env.c1, "app-stage"));
    assert!(has_ns(&env.c1, "legacy"));
    assert!(
        env.gql
            .request_lines()
            .iter()
            .all(|l| l.starts_with("GET") || l.contains("graphqlsha"))
    );
}

#[tokio::test]
async fn wet_run_converges_and_a_second_run_plans_nothing() {
    let env = env(standard).await;
    assert_eq!(
        run(&env, &["openshift-namespaces"]).await,
        ExitStatus::Success
    );
    assert!(has_ns(&env.c1, "app-stage"));
    assert!(has_ns(&env.c1, "present"));
    assert!(!has_ns(&env.c1, "legacy"), "declared delete: true");
    assert!(has_ns(&env.c2, "app-prod"));
    let before = (writes(&env.c1).len(), writes(&env.c2).len());
    let status = run(&env, &["--detailed-exitcode", "openshift-namespaces"]).await;
    assert_eq!(status, ExitStatus::Success, "second run has nothing to do");
    assert_eq!((writes(&env.c1).len(), writes(&env.c2).len()), before);
}

#[tokio::test]
async fn unreachable_cluster_is_an_error_and_disables_every_delete() {
    let env = env(standard).await;
    env.c2.set_unreachable(true);
    let status = run(&env, &["openshift-namespaces"]).await;
    assert_eq!(status, ExitStatus::Error);
    // c1 is still reconciled, but nothing is deleted anywhere.
    assert!(has_ns(&env.c1, "app-stage"));
    assert!(
        has_ns(&env.c1, "legacy"),
        "deletes are disabled when an error was registered"
    );
    assert!(
        writes(&env.c1).iter().all(|w| !w.starts_with("DELETE")),
        "{:?}",
        writes(&env.c1)
    );
}

#[tokio::test]
async fn wrong_token_is_a_per_cluster_error() {
    let env = env(standard).await;
    // Rewrite the config with a bad token for c2.
    let text = std::fs::read_to_string(&env.config)
        .unwrap()
        .replace("token-c2", "wrong");
    std::fs::write(&env.config, text).unwrap();
    assert_eq!(
        run(&env, &["openshift-namespaces"]).await,
        ExitStatus::Error
    );
    assert!(has_ns(&env.c1, "app-stage"));
    assert!(!has_ns(&env.c2, "app-prod"));
    assert!(has_ns(&env.c1, "legacy"));
}

#[tokio::test]
async fn contradicting_declarations_are_not_acted_upon() {
    let env = env(|u1, _| {
        let c1 = cluster("c1", u1, false);
        vec![
            ns("legacy", &c1, Some(true), "/a.yml"),
            ns("legacy", &c1, Some(false), "/b.yml"),
            ns("app-stage", &c1, None, "/c.yml"),
        ]
    })
    .await;
    assert_eq!(
        run(&env, &["openshift-namespaces"]).await,
        ExitStatus::Error
    );
    assert!(has_ns(&env.c1, "legacy"));
    assert!(has_ns(&env.c1, "app-stage"));
}

#[tokio::test]
async fn disabled_clusters_and_filters_are_left_alone() {
    let env = env(|u1, u2| {
        let c1 = cluster("c1", u1, false);
        let c2 = cluster("c2", u2, true);
        vec![
            ns("app-stage", &c1, None, "/a.yml"),
            ns("app-prod", &c2, None, "/b.yml"),
        ]
    })
    .await;
    assert_eq!(
        run(
            &env,
            &["openshift-namespaces", "--namespace-name", "nothing"]
        )
        .await,
        ExitStatus::Success
    );
    assert!(writes(&env.c1).is_empty());
    assert_eq!(
        run(&env, &["openshift-namespaces"]).await,
        ExitStatus::Success
    );
    assert!(has_ns(&env.c1, "app-stage"));
    assert!(
        env.c2.requests().is_empty(),
        "disabled cluster is never contacted"
    );
}
