//! openshift-namespaces end to end: GraphQL desired state -> two loopback Kubernetes API
//! servers (c1 serves OpenShift's project.openshift.io, c2 is a plain Kubernetes API) -> plan
//! -> dry-run (zero writes) or apply; then the cluster state is checked.

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

/// A namespace file as `namespaces_minimal` returns it (shaped like the upstream schema).
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
        .openshift_projects(true)
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

fn has_ns(server: &KubeTestServer, name: &str) -> bool {
    server.get_object("v1", "Namespace", None, name).is_some()
}

/// Runs the integration's own binary, `openshift-namespaces [args]` (stdout is the plan,
/// stderr the log).
async fn run_binary(env: &Env, extra: &[&str]) -> std::process::Output {
    let bin = env!("CARGO_BIN_EXE_openshift-namespaces");
    qontract_test_support::binary::run_with_config(bin, &env.config, extra).await
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
    assert!(env.c1.writes().is_empty(), "{:?}", env.c1.writes());
    assert!(env.c2.writes().is_empty(), "{:?}", env.c2.writes());
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
    // c1 is OpenShift: created through a ProjectRequest (the project template applied: the
    // requester annotation and the admin RoleBinding), deleted as a Project.
    assert!(
        env.c1
            .writes()
            .contains(&"POST /apis/project.openshift.io/v1/projectrequests".to_owned()),
        "{:?}",
        env.c1.writes()
    );
    assert!(
        env.c1
            .writes()
            .contains(&"DELETE /apis/project.openshift.io/v1/projects/legacy".to_owned()),
        "{:?}",
        env.c1.writes()
    );
    let created = env
        .c1
        .get_object("v1", "Namespace", None, "app-stage")
        .unwrap();
    assert_eq!(
        created["metadata"]["annotations"]["openshift.io/requester"],
        "admin"
    );
    assert!(
        env.c1
            .get_object(
                "rbac.authorization.k8s.io/v1",
                "RoleBinding",
                Some("app-stage"),
                "admin"
            )
            .is_some(),
        "the project template's admin RoleBinding"
    );
    // c2 is plain Kubernetes: a Namespace.
    assert_eq!(env.c2.writes(), ["POST /api/v1/namespaces"]);
    // The engine's action counters (served by the daemon's /metrics) count them.
    let metrics = qontract_runtime::metrics::RunMetrics::new().encode();
    for line in [
        "qontract_reconcile_openshift_actions_total{integration=\"openshift-namespaces\",cluster=\"c2\",kind=\"Namespace\",action=\"create\",outcome=\"applied\"}",
        "qontract_reconcile_openshift_actions_total{integration=\"openshift-namespaces\",cluster=\"c1\",kind=\"Namespace\",action=\"delete\",outcome=\"deleted\"}",
    ] {
        assert!(metrics.contains(line), "{line} missing in {metrics}");
    }
    let before = (env.c1.writes().len(), env.c2.writes().len());
    let status = run(&env, &["--detailed-exitcode", "openshift-namespaces"]).await;
    assert_eq!(status, ExitStatus::Success, "second run has nothing to do");
    assert_eq!((env.c1.writes().len(), env.c2.writes().len()), before);
}

#[tokio::test]
/// Upstream `openshift_namespaces.run` manages each namespace on its own and raises the errors
/// at the end: c2 being unreachable fails the run but does not stop c1's declared delete.
async fn unreachable_cluster_is_an_error_for_that_cluster_only() {
    let env = env(standard).await;
    env.c2.set_unreachable(true);
    let status = run(&env, &["openshift-namespaces"]).await;
    assert_eq!(status, ExitStatus::Error);
    assert!(has_ns(&env.c1, "app-stage"));
    assert!(
        !has_ns(&env.c1, "legacy"),
        "c1's declared delete is not c2's business"
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
    assert!(!has_ns(&env.c1, "legacy"), "c1's declared delete proceeds");
}

/// Upstream `get_namespaces`: a namespace declared twice (with the same or contradicting
/// `delete` flags) is an error; it is not acted upon and the run exits 1, while the other
/// namespaces (a declared delete included) are managed as upstream `run` does.
#[tokio::test]
async fn duplicate_declarations_are_an_error_for_that_namespace() {
    for flags in [(Some(true), Some(false)), (None, Some(false))] {
        let env = env(move |u1, _| {
            let c1 = cluster("c1", u1, false);
            vec![
                ns("dup", &c1, flags.0, "/a.yml"),
                ns("dup", &c1, flags.1, "/b.yml"),
                ns("legacy", &c1, Some(true), "/legacy.yml"),
                ns("app-stage", &c1, None, "/c.yml"),
            ]
        })
        .await;
        assert_eq!(
            run(&env, &["openshift-namespaces"]).await,
            ExitStatus::Error,
            "{flags:?}"
        );
        assert!(!has_ns(&env.c1, "dup"), "not acted upon");
        assert!(!has_ns(&env.c1, "legacy"), "the declared delete proceeds");
        assert!(has_ns(&env.c1, "app-stage"), "the rest is reconciled");
        assert!(
            env.c1.writes().iter().all(|w| !w.contains("/dup")),
            "{:?}",
            env.c1.writes()
        );
    }
}

/// A namespace to create whose name starts with `openshift-` is refused (upstream 0.10.1
/// `manage_namespaces`, and OpenShift refuses such project requests): an error for it, exit 1;
/// the other namespaces are managed (the declared delete included), as upstream.
#[tokio::test]
async fn reserved_names_are_refused_as_errors_for_those_namespaces() {
    let env = env(|u1, u2| {
        let c1 = cluster("c1", u1, false);
        let c2 = cluster("c2", u2, false);
        vec![
            ns("openshift-logging", &c1, None, "/logging.yml"),
            ns("openshift-extra", &c2, None, "/extra.yml"),
            ns("legacy", &c1, Some(true), "/legacy.yml"),
            ns("app-stage", &c1, None, "/c.yml"),
        ]
    })
    .await;
    let out = run_binary(&env, &[]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "[c1/openshift-logging] cannot request a project starting with \"openshift-\""
        ),
        "{stderr}"
    );
    assert!(!has_ns(&env.c1, "openshift-logging"));
    assert!(!has_ns(&env.c2, "openshift-extra"));
    assert!(!has_ns(&env.c1, "legacy"), "the declared delete proceeds");
    assert!(has_ns(&env.c1, "app-stage"));
    assert!(env.c2.writes().is_empty(), "{:?}", env.c2.writes());
}

/// The JSON plan is the shared one (summary, deletion_enabled, actions with reasons), and the
/// actions are logged as the Python tool logs them.
#[tokio::test]
async fn json_plan_is_the_shared_format_and_actions_are_logged_as_upstream() {
    let env = env(standard).await;
    let out = run_binary(&env, &["--dry-run", "--output", "json"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        plan["summary"],
        json!({"create": 2, "update": 0, "delete": 1, "no_op": 1, "skip": 0})
    );
    assert_eq!(plan["deletion_enabled"], true);
    let delete = plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "delete")
        .unwrap();
    assert_eq!(
        (
            &delete["cluster"],
            &delete["name"],
            &delete["reason"]["code"]
        ),
        (&json!("c1"), &json!("legacy"), &json!("declared_delete"))
    );
    for line in [
        "['create', 'c1', 'app-stage']",
        "['create', 'c2', 'app-prod']",
        "['delete', 'c1', 'legacy']",
    ] {
        assert!(stderr.contains(line), "{line} missing in {stderr}");
    }
    assert!(env.c1.writes().is_empty() && env.c2.writes().is_empty());
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
    assert!(env.c1.writes().is_empty());
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

/// On OpenShift, a namespace is deleted as a Project, except one whose name starts with
/// `openshift-`: that one is deleted as a plain Namespace (upstream `_use_oc_project`).
#[tokio::test]
async fn reserved_names_are_deleted_as_plain_namespaces() {
    let env = env(|u1, _| {
        let c1 = cluster("c1", u1, false);
        vec![
            ns("openshift-old", &c1, Some(true), "/old.yml"),
            ns("legacy", &c1, Some(true), "/legacy.yml"),
        ]
    })
    .await;
    env.c1.seed(namespace("openshift-old")).unwrap();
    assert_eq!(
        run(&env, &["openshift-namespaces"]).await,
        ExitStatus::Success
    );
    assert!(!has_ns(&env.c1, "openshift-old"));
    assert!(!has_ns(&env.c1, "legacy"));
    let mut deletes: Vec<String> = env.c1.writes();
    deletes.sort();
    assert_eq!(
        deletes,
        [
            "DELETE /api/v1/namespaces/openshift-old",
            "DELETE /apis/project.openshift.io/v1/projects/legacy",
        ]
    );
}

/// A dry run asks each cluster only what upstream `OCNative(init_projects=True)` and
/// `project_exists` need: the client's check (`/version`), whether Projects are served (one
/// request for `project.openshift.io/v1`, not the discovery of every API group), the list of
/// Projects (OpenShift) or Namespaces, and a GET of each declared namespace not in it.
#[tokio::test]
async fn a_dry_run_asks_each_cluster_only_what_it_needs() {
    let env = env(standard).await;
    let status = run(&env, &["--dry-run", "openshift-namespaces"]).await;
    assert_eq!(status, ExitStatus::Success);
    let requests = |server: &KubeTestServer| -> Vec<String> {
        server
            .requests()
            .into_iter()
            .map(|r| format!("{} {} {}", r.method, r.path, r.verb))
            .collect()
    };
    assert_eq!(
        requests(&env.c1),
        [
            "GET /version get",
            "GET /apis/project.openshift.io/v1 get",
            "GET /apis/project.openshift.io/v1/projects list",
            "GET /apis/project.openshift.io/v1/projects/app-stage get",
        ]
    );
    assert_eq!(
        requests(&env.c2),
        [
            "GET /version get",
            "GET /apis/project.openshift.io/v1 get",
            "GET /api/v1/namespaces list",
            "GET /api/v1/namespaces/app-prod get",
        ]
    );
}
