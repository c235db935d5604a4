//! Shared set-up: test servers, clients, inventories and one reconcile cycle.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use qontract_cluster_client::{ClusterClient, ClusterMap};
use qontract_kube_testserver::{KubeTestServer, RecordedRequest};
use qontract_openshift_engine::{ApplyReport, Engine, EngineOptions, FetchReport, RetryPolicy};
use qontract_openshift_resource::OpenshiftResource;
use qontract_resource_inventory::{Plan, PlanOptions, ResourceInventory, compute_plan};
use serde_json::{Value, json};

pub(crate) const TOKEN: &str = "engine-test-token";
pub(crate) const INTEGRATION: &str = "openshift_resources";
pub(crate) const VERSION: &str = "0.1.0";
pub(crate) const MANAGER: &str = "qontract-reconcile/openshift_resources";
pub(crate) const TIMESTAMP: &str = "2026-01-02T03:04:05";

/// A plain-HTTP test server with a token and the given objects.
pub(crate) async fn server(seeds: Vec<Value>) -> KubeTestServer {
    let mut builder = KubeTestServer::builder().https(false).token(TOKEN);
    for seed in seeds {
        builder = builder.seed(seed);
    }
    builder.start().await.expect("start the kube test server")
}

/// A kube client for `server`; `kube_retry` keeps kube's own 429/503/504 retry layer.
pub(crate) fn kube_client(server: &KubeTestServer, kube_retry: bool) -> kube::Client {
    let mut config = kube::Config::new(server.url().parse().expect("server URL"));
    config.default_retry = kube_retry;
    config.read_timeout = Some(Duration::from_secs(10));
    config.connect_timeout = Some(Duration::from_secs(2));
    config.headers.push((
        http::header::AUTHORIZATION,
        http::HeaderValue::from_str(&format!("Bearer {TOKEN}")).expect("header"),
    ));
    kube::Client::try_from(config).expect("kube client")
}

/// A cluster map with one (non-privileged) client per `(cluster, client)`.
pub(crate) fn cluster_map(clients: Vec<(&str, kube::Client)>) -> ClusterMap {
    let mut map = ClusterMap::default();
    for (cluster, client) in clients {
        map.insert(ClusterClient::new(cluster, false, client));
    }
    map
}

/// Engine options with a pinned timestamp and fast retries.
pub(crate) fn options() -> EngineOptions {
    let mut options = EngineOptions::new(INTEGRATION, VERSION);
    options.concurrency = 4;
    options.update_timestamp = Some(TIMESTAMP.to_owned());
    options.retry = RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        max_retry_after: Duration::from_secs(2),
    };
    options
}

/// What a scenario manages: `(cluster, namespace, resource type, managed names)` and the
/// desired objects `(cluster, namespace, body)`.
#[derive(Clone, Default)]
pub(crate) struct Scenario {
    pub(crate) types: Vec<(String, String, String, Option<Vec<String>>)>,
    pub(crate) desired: Vec<(String, String, Value)>,
}

impl Scenario {
    pub(crate) fn manage(mut self, cluster: &str, namespace: &str, types: &[&str]) -> Self {
        for resource_type in types {
            self.types.push((
                cluster.to_owned(),
                namespace.to_owned(),
                (*resource_type).to_owned(),
                None,
            ));
        }
        self
    }

    pub(crate) fn manage_names(
        mut self,
        cluster: &str,
        namespace: &str,
        resource_type: &str,
        names: &[&str],
    ) -> Self {
        self.types.push((
            cluster.to_owned(),
            namespace.to_owned(),
            resource_type.to_owned(),
            Some(names.iter().map(|n| (*n).to_owned()).collect()),
        ));
        self
    }

    pub(crate) fn desire(mut self, cluster: &str, namespace: &str, body: Value) -> Self {
        self.desired
            .push((cluster.to_owned(), namespace.to_owned(), body));
        self
    }

    pub(crate) fn inventory(&self) -> ResourceInventory {
        let mut inventory = ResourceInventory::new();
        for (cluster, namespace, resource_type, names) in &self.types {
            inventory.initialize_resource_type(cluster, namespace, resource_type, names.clone());
        }
        for (cluster, namespace, body) in &self.desired {
            let resource = OpenshiftResource::new(body.clone(), INTEGRATION, VERSION, "test", None)
                .expect("valid desired object");
            inventory
                .add_desired_resource(cluster, namespace, resource, false)
                .expect("desired object added");
        }
        inventory
    }
}

/// One reconcile cycle: fetch, plan, apply.
pub(crate) struct Run {
    pub(crate) inventory: ResourceInventory,
    pub(crate) fetch: FetchReport,
    pub(crate) plan: Plan,
    pub(crate) apply: ApplyReport,
}

pub(crate) async fn reconcile(
    clusters: &ClusterMap,
    options: EngineOptions,
    scenario: &Scenario,
    dry_run: bool,
) -> Run {
    let engine = Engine::new(clusters, options);
    let mut inventory = scenario.inventory();
    let fetch = engine.fetch_current_state(&mut inventory).await;
    let plan_options = PlanOptions {
        dry_run,
        ..PlanOptions::default()
    };
    let plan = compute_plan(&mut inventory, &plan_options);
    let apply = engine
        .apply_plan(&plan, &mut inventory, &fetch, dry_run)
        .await;
    Run {
        inventory,
        fetch,
        plan,
        apply,
    }
}

/// Requests that write (anything but GET).
pub(crate) fn writes(requests: &[RecordedRequest]) -> Vec<String> {
    requests
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {} -> {}", r.method, r.path, r.status))
        .collect()
}

pub(crate) fn namespace(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}

pub(crate) fn config_map(namespace: &str, name: &str, data: Value) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": data,
    })
}

/// A ConfigMap annotated as this integration applied it, with the sha256sum of `data`.
pub(crate) fn owned_config_map(namespace: &str, name: &str, data: Value) -> Value {
    let body =
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data});
    let resource =
        OpenshiftResource::new(body, INTEGRATION, VERSION, "seed", None).expect("valid object");
    let mut annotated = resource.annotate(TIMESTAMP).into_body();
    annotated["metadata"]["namespace"] = json!(namespace);
    annotated
}

/// The kind of a test API answer: a real apiserver Status for a request the test server does
/// not reject on its own (it does not enforce immutable fields).
#[derive(Clone)]
pub(crate) struct Injected {
    pub(crate) method: &'static str,
    pub(crate) path: String,
    pub(crate) status: Value,
}

/// A kube client service that answers chosen requests with a canned Status (once each) and
/// forwards everything else to the real client.
#[derive(Clone)]
pub(crate) struct Intercept {
    inner: kube::Client,
    rules: Arc<Mutex<Vec<Injected>>>,
}

impl Intercept {
    pub(crate) fn client(inner: kube::Client, rules: Vec<Injected>) -> kube::Client {
        kube::Client::new(
            Intercept {
                inner,
                rules: Arc::new(Mutex::new(rules)),
            },
            "default",
        )
    }
}

impl tower::Service<http::Request<kube::client::Body>> for Intercept {
    type Response = http::Response<kube::client::Body>;
    type Error = kube::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<kube::client::Body>) -> Self::Future {
        let injected = {
            let mut rules = self.rules.lock().expect("rules lock");
            let position = rules.iter().position(|rule| {
                request.method().as_str() == rule.method && request.uri().path() == rule.path
            });
            position.map(|position| rules.remove(position))
        };
        if let Some(rule) = injected {
            let code = rule.status["code"].as_u64().unwrap_or(500) as u16;
            let body = serde_json::to_vec(&rule.status).expect("status body");
            return Box::pin(async move {
                Ok(http::Response::builder()
                    .status(code)
                    .header(http::header::CONTENT_TYPE, "application/json")
                    .body(kube::client::Body::from(body))
                    .expect("response"))
            });
        }
        let inner = self.inner.clone();
        Box::pin(async move { inner.send(request).await })
    }
}
