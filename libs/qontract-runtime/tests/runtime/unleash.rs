//! The kill switch end to end: a real unleash-server (npm `unleash-server` on a private
//! PostgreSQL, [`UnleashServer`]) decides whether an integration runs; a disabled one exits 0
//! without a request to the cluster (the loopback Kubernetes API server) or to GraphQL.
//! Upstream: `cli.run_class_integration` / `reconcile.utils.unleash.get_feature_toggle_state`.

use std::ffi::OsString;
use std::time::Duration;

use clap::Args;
use qontract_gql::{GqlRequest, RetryPolicy};
use qontract_kube_testserver::KubeTestServer;
use qontract_runtime::daemon::DaemonSettings;
use qontract_runtime::unleash::{UnleashSettings, UnleashSource};
use qontract_runtime::{Cli, ExitStatus, Integration, IntegrationSpec, RunContext, RunOutcome};
use qontract_test_support::{FakeQontractServer, UnleashServer};
use serde_json::{Value, json};

/// Touches a cluster on every run: lists namespaces, then creates one more.
struct KubeProbe;

#[derive(Debug, Clone, Args)]
struct KubeProbeArgs {
    /// The cluster's API URL.
    #[arg(long)]
    kube_url: String,
}

impl Integration for KubeProbe {
    type Args = KubeProbeArgs;
    const NAME: &'static str = "kube-probe";
    const ABOUT: &'static str = "test integration that writes to a cluster";

    async fn run(ctx: RunContext, args: KubeProbeArgs) -> anyhow::Result<RunOutcome> {
        ctx.gql
            .query(&GqlRequest::new("{ clusters_v1 { name } }"))
            .await?;
        let http = reqwest::Client::new();
        let url = format!("{}/api/v1/namespaces", args.kube_url);
        let list: Value = http.get(&url).send().await?.json().await?;
        let n = list["items"].as_array().map_or(0, Vec::len);
        let created = http
            .post(&url)
            .json(&json!({"apiVersion": "v1", "kind": "Namespace",
                          "metadata": {"name": format!("run-{n}")}}))
            .send()
            .await?;
        anyhow::ensure!(
            created.status().is_success(),
            "create: {}",
            created.status()
        );
        Ok(RunOutcome {
            changes: 1,
            errors: vec![],
        })
    }
}

const SHA: &str = "e942a4f24d07ad8a927b41a16bebeea5eadcf2e3ba0fc3fe8cc582a40235fc70";

async fn graphql() -> FakeQontractServer {
    FakeQontractServer::start(SHA, |req: &Value| {
        if req["query"]
            .as_str()
            .unwrap_or_default()
            .contains("integrations_v1")
        {
            (
                200,
                json!({"data": {"integrations": [{"name": "kube-probe", "description": "",
                        "schemas": ["/openshift/cluster-1.yml"]}]},
                       "extensions": {"schemas": ["/app-sre/integration-1.yml"]}}),
            )
        } else {
            (
                200,
                json!({"data": {"clusters_v1": [{"name": "c1"}]},
                       "extensions": {"schemas": ["/openshift/cluster-1.yml"]}}),
            )
        }
    })
    .await
}

fn cli(unleash: Option<UnleashSettings>) -> Cli {
    let mut cli = Cli::new(
        "qontract-reconcile",
        vec![IntegrationSpec::of::<KubeProbe>()],
    );
    cli.retry = RetryPolicy {
        attempts: 2,
        backoff: Duration::from_millis(5),
    };
    cli.unleash = UnleashSource::Fixed(unleash);
    cli
}

struct Env {
    kube: KubeTestServer,
    gql: FakeQontractServer,
    _dir: tempfile::TempDir,
    config: String,
}

impl Env {
    async fn new() -> Self {
        let kube = KubeTestServer::builder()
            .https(false)
            .start()
            .await
            .unwrap();
        let gql = graphql().await;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            format!("[graphql]\nserver = \"{}\"\n", gql.graphql_url()),
        )
        .unwrap();
        Self {
            kube,
            gql,
            config: path.display().to_string(),
            _dir: dir,
        }
    }

    fn argv(&self, extra: &[&str]) -> Vec<OsString> {
        let mut argv: Vec<OsString> = vec!["qontract-reconcile".into(), "--config".into()];
        argv.push(self.config.clone().into());
        argv.extend(extra.iter().map(OsString::from));
        argv.extend([
            "kube-probe".into(),
            "--kube-url".into(),
            self.kube.url().into(),
        ]);
        argv
    }

    /// One run through the multi-call CLI; returns its exit status and whether it touched the
    /// cluster or GraphQL (request logs are cleared first).
    async fn run(&self, cli: &Cli, extra: &[&str]) -> (ExitStatus, usize, usize) {
        self.kube.clear_requests();
        let gql_before = self.gql.requests().len();
        let status = cli.run_multi(self.argv(extra)).await;
        (
            status,
            self.kube.requests().len(),
            self.gql.requests().len() - gql_before,
        )
    }

    /// One iteration of the `run-integration` daemon (`RUN_ONCE`).
    async fn daemon_once(&self, cli: &Cli) -> (ExitStatus, usize) {
        self.kube.clear_requests();
        let extra = format!("--kube-url {}", self.kube.url());
        let config = self.config.clone();
        let settings = DaemonSettings::from_env(|k| match k {
            "INTEGRATION_NAME" => Some("kube-probe".to_owned()),
            "INTEGRATION_EXTRA_ARGS" => Some(extra.clone()),
            "CONFIG" => Some(config.clone()),
            "RUN_ONCE" => Some("yes".to_owned()),
            "PROMETHEUS_PORT" => Some("0".to_owned()),
            _ => None,
        })
        .unwrap();
        let status = qontract_runtime::daemon::run(cli, settings).await;
        (status, self.kube.requests().len())
    }

    fn namespaces(&self) -> usize {
        self.kube.list_objects("v1", "Namespace", None).len()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn toggling_an_integration_off_in_unleash_stops_its_runs_and_on_resumes_them() {
    let unleash = UnleashServer::start().await;
    let env = Env::new().await;
    let settings = UnleashSettings {
        api_url: unleash.api_url(),
        client_access_token: unleash.client_token().to_owned(),
    };
    let cli = cli(Some(settings.clone()));
    let before = env.namespaces();

    // A toggle Unleash does not know: upstream's default, enabled.
    let (status, kube, gql) = env.run(&cli, &[]).await;
    assert_eq!(status, ExitStatus::Success);
    assert!(
        kube > 0 && gql > 0,
        "an unknown toggle runs the integration"
    );
    assert_eq!(env.namespaces(), before + 1);

    // The SRE turns the integration off in Unleash.
    unleash.create_toggle("kube-probe").await;
    unleash.set_enabled("kube-probe", false).await;
    for extra in [&[][..], &["--dry-run", "--detailed-exitcode"][..]] {
        let (status, kube, gql) = env.run(&cli, extra).await;
        assert_eq!(
            status,
            ExitStatus::Success,
            "a disabled run exits 0 ({extra:?})"
        );
        assert_eq!(kube, 0, "a disabled integration makes no cluster request");
        assert_eq!(gql, 0, "a disabled integration makes no GraphQL request");
    }
    let (status, kube) = env.daemon_once(&cli).await;
    assert_eq!(
        (status, kube),
        (ExitStatus::Success, 0),
        "the daemon skips the run"
    );
    assert_eq!(
        env.namespaces(),
        before + 1,
        "nothing was written while off"
    );

    // And on again: the next run resumes.
    unleash.set_enabled("kube-probe", true).await;
    let (status, kube, _) = env.run(&cli, &[]).await;
    assert_eq!(status, ExitStatus::Success);
    assert!(kube > 0, "the integration runs again once its toggle is on");
    assert_eq!(env.namespaces(), before + 2);
    let (status, kube) = env.daemon_once(&cli).await;
    assert!(
        status == ExitStatus::Success && kube > 0,
        "the daemon runs it again"
    );
    assert_eq!(env.namespaces(), before + 3);

    // Off, then Unleash goes away: a long-lived process (the daemon) keeps the toggles it
    // fetched last, as upstream's client keeps its cache when a refresh fails ...
    unleash.set_enabled("kube-probe", false).await;
    let (status, kube, _) = env.run(&cli, &[]).await;
    assert_eq!((status, kube), (ExitStatus::Success, 0));
    drop(unleash);
    let (status, kube, _) = env.run(&cli, &[]).await;
    assert_eq!(
        (status, kube),
        (ExitStatus::Success, 0),
        "last known toggles"
    );
    // ... while a new process that never reached Unleash falls back to enabled.
    let (status, kube, _) = env.run(&self::cli(Some(settings)), &[]).await;
    assert_eq!(status, ExitStatus::Success);
    assert!(kube > 0, "unreachable Unleash falls back to enabled");
}

/// Toggles as an SRE configures them in the Unleash UI, evaluated by our client as upstream's
/// (UnleashClient 5.x with qontract-reconcile's `enableCluster` / `disableCluster` and the
/// static context `{appName: "qontract-reconcile", environment: "default"}`) evaluates them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn toggle_strategies_evaluate_as_upstreams_client() {
    let unleash = UnleashServer::start().await;
    unleash
        .define_strategy("enableCluster", &["cluster_name"])
        .await;
    unleash
        .define_strategy("disableCluster", &["cluster_name"])
        .await;
    let flexible = |rollout: &str| {
        json!({"name": "flexibleRollout",
               "parameters": {"rollout": rollout, "stickiness": "default", "groupId": "g"}})
    };
    let app_is = |app: &str| json!([{"contextName": "appName", "operator": "IN", "values": [app]}]);
    let cases: Vec<(&str, Vec<Value>, bool)> = vec![
        ("flexible-100", vec![flexible("100")], true),
        ("flexible-0", vec![flexible("0")], false),
        (
            "app-matches",
            vec![json!({"name": "default", "constraints": app_is("qontract-reconcile")})],
            true,
        ),
        (
            "other-app",
            vec![
                json!({"name": "flexibleRollout", "constraints": app_is("other"),
                        "parameters": {"rollout": "100", "stickiness": "default", "groupId": "g"}}),
            ],
            false,
        ),
        // The client's static environment is "default", whatever the token's environment.
        (
            "environment-default",
            vec![json!({"name": "default", "constraints":
                [{"contextName": "environment", "operator": "IN", "values": ["default"]}]})],
            true,
        ),
        (
            "environment-development",
            vec![json!({"name": "default", "constraints":
                [{"contextName": "environment", "operator": "IN", "values": ["development"]}]})],
            false,
        ),
        (
            "enable-cluster",
            vec![json!({"name": "enableCluster", "parameters": {"cluster_name": "c1"}})],
            false,
        ),
        (
            "disable-cluster",
            vec![json!({"name": "disableCluster", "parameters": {"cluster_name": "c1"}})],
            true,
        ),
        (
            "cluster-or-default",
            vec![
                json!({"name": "enableCluster", "parameters": {"cluster_name": "c1"}}),
                json!({"name": "default"}),
            ],
            true,
        ),
    ];
    for (name, strategies, _) in &cases {
        unleash.create_toggle(name).await;
        for s in strategies {
            unleash.add_strategy(name, s.clone()).await;
        }
        unleash.set_enabled(name, true).await;
    }
    let cli = cli(Some(UnleashSettings {
        api_url: unleash.api_url(),
        client_access_token: unleash.client_token().to_owned(),
    }));
    let mut got = Vec::new();
    let mut want = Vec::new();
    for (name, _, expected) in &cases {
        got.push((*name, cli.integration_enabled(name).await));
        want.push((*name, *expected));
    }
    assert_eq!(got, want, "{}", unleash.log());
}

#[tokio::test]
async fn no_unleash_configured_means_enabled() {
    let env = Env::new().await;
    let before = env.namespaces();
    let (status, kube, gql) = env.run(&cli(None), &[]).await;
    assert_eq!(status, ExitStatus::Success);
    assert!(kube > 0 && gql > 0);
    assert_eq!(env.namespaces(), before + 1);
}

#[tokio::test]
async fn unreachable_unleash_falls_back_to_enabled() {
    let env = Env::new().await;
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cli = cli(Some(UnleashSettings {
        api_url: format!("http://127.0.0.1:{port}/api"),
        client_access_token: "*:development.token".to_owned(),
    }));
    let before = env.namespaces();
    let (status, kube, _) = env.run(&cli, &[]).await;
    assert_eq!(status, ExitStatus::Success);
    assert!(kube > 0, "upstream's fallback: enabled");
    assert_eq!(env.namespaces(), before + 1);
}

/// A stub answering `/api/client/features` with the scripted statuses, then with a document
/// (the shape unleash-server 7 serves) in which `kube-probe` is off; counts the requests and
/// records the `Authorization` / `UNLEASH-APPNAME` headers.
async fn stub_unleash(
    statuses: Vec<u16>,
) -> (
    String,
    std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>,
) {
    use axum::http::{HeaderMap, StatusCode};
    use std::sync::{Arc, Mutex};
    let seen: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let script = Arc::new(Mutex::new(std::collections::VecDeque::from(statuses)));
    let record = seen.clone();
    let app = axum::Router::new().route(
        "/api/client/features",
        axum::routing::get(move |headers: HeaderMap| {
            let record = record.clone();
            let script = script.clone();
            async move {
                let h = |k: &str| {
                    headers
                        .get(k)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned()
                };
                record
                    .lock()
                    .unwrap()
                    .push((h("authorization"), h("unleash-appname")));
                match script.lock().unwrap().pop_front() {
                    Some(status) => (StatusCode::from_u16(status).unwrap(), String::new()),
                    None => (
                        StatusCode::OK,
                        json!({"version": 2, "features": [{"name": "kube-probe", "type": "kill-switch",
                            "enabled": false, "project": "default", "stale": false,
                            "strategies": [{"name": "flexibleRollout", "constraints": [],
                                "parameters": {"groupId": "kube-probe", "rollout": "100", "stickiness": "default"},
                                "variants": []}],
                            "variants": [], "description": null, "impressionData": false}],
                            "query": {"environment": "development", "inlineSegmentConstraints": true},
                            "meta": {"revisionId": 3, "etag": "\"76d8bb0e:3:v1\"", "queryHash": "76d8bb0e"}})
                        .to_string(),
                    ),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

/// Recorded-shape stub (not a real server): upstream's client retries 500/502/504 three times
/// (`Retry(total=3, status_forcelist=[500, 502, 504])`) and treats any other non-200 as a
/// failed fetch, which falls back to enabled.
#[tokio::test]
async fn fetch_retries_server_errors_and_falls_back_on_other_statuses() {
    let settings = |url: String| {
        Some(UnleashSettings {
            api_url: url,
            client_access_token: "*:development.stub-token".to_owned(),
        })
    };
    // Three retriable failures, then the document: the toggle is read (off).
    let (url, seen) = stub_unleash(vec![500, 502, 504]).await;
    assert!(!cli(settings(url)).integration_enabled("kube-probe").await);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 4);
    assert!(
        seen.iter()
            .all(|(auth, app)| auth == "*:development.stub-token" && app == "qontract-reconcile")
    );
    // Four retriable failures exhaust the retries: the fallback, enabled.
    let (url, seen) = stub_unleash(vec![500, 500, 500, 500]).await;
    assert!(cli(settings(url)).integration_enabled("kube-probe").await);
    assert_eq!(seen.lock().unwrap().len(), 4);
    // 401/503 are not retried: the fallback at once.
    for status in [401, 503] {
        let (url, seen) = stub_unleash(vec![status]).await;
        assert!(cli(settings(url)).integration_enabled("kube-probe").await);
        assert_eq!(
            seen.lock().unwrap().len(),
            1,
            "HTTP {status} is not retried"
        );
    }
}
