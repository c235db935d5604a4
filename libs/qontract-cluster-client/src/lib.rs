//! Cluster client factory (`ClusterMap`, the Python tool's `OC_Map`): from app-interface
//! cluster data, one memoised Kubernetes client per cluster — and a privileged one where a
//! namespace asks for `clusterAdmin` — with the automation token read through the secret
//! reader. API discovery is cached per cluster.
//!
//! A cluster that cannot be used (no token, token secret missing, `server` in the token
//! secret not matching `serverUrl`, unreachable, bad credentials) becomes a per-cluster
//! [`ClusterClientError`]; every other cluster proceeds. Clusters whose
//! `disable.integrations` lists the integration, or whose `internal` flag does not match
//! `--internal/--external`, are skipped and have no entry.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use kube::api::{ApiResource, GroupVersionKind};
use kube::discovery::{ApiCapabilities, Discovery, Scope};
use qontract_secrets::{SecretError, SecretReader, VaultSecret, error_chain};
use tokio::sync::OnceCell;

/// Connection data of one cluster, as app-interface declares it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterSpec {
    /// Cluster name.
    pub name: String,
    /// API server URL.
    pub server_url: String,
    /// Skip TLS verification of the API server.
    pub insecure_skip_tls_verify: bool,
    /// Token of the automation service account.
    pub automation_token: Option<VaultSecret>,
    /// Token of the cluster-admin automation service account.
    pub cluster_admin_automation_token: Option<VaultSecret>,
    /// `internal` flag (`None` when unset).
    pub internal: Option<bool>,
    /// `disable.integrations`.
    pub disabled_integrations: Vec<String>,
}

/// Why a cluster has no client. Every variant names the cluster.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ClusterClientError {
    /// The cluster declares no token for the requested access level.
    #[error("[{cluster}] has no {} token", if *.privileged { "clusterAdminAutomationToken" } else { "automationToken" })]
    NoAutomationToken {
        /// Cluster name.
        cluster: String,
        /// Privileged (cluster-admin) access was requested.
        privileged: bool,
    },
    /// The cluster declares no `serverUrl`.
    #[error("[{cluster}] has no serverUrl")]
    NoServerUrl {
        /// Cluster name.
        cluster: String,
    },
    /// `serverUrl` is not a URL.
    #[error("[{cluster}] invalid serverUrl {url:?}: {message}")]
    InvalidServerUrl {
        /// Cluster name.
        cluster: String,
        /// The URL.
        url: String,
        /// Parser message.
        message: String,
    },
    /// The token could not be read.
    #[error("[{cluster}] cannot read its token: {message}")]
    Secret {
        /// Cluster name.
        cluster: String,
        /// The secret reader's error (names path/field/version, never the value).
        message: String,
    },
    /// The token secret's `server` field names another API server.
    #[error(
        "[{cluster}] server URL mismatch: token secret is for {secret_server}, cluster serverUrl is {server_url}"
    )]
    ServerMismatch {
        /// Cluster name.
        cluster: String,
        /// `server` in the token secret.
        secret_server: String,
        /// The cluster's `serverUrl`.
        server_url: String,
    },
    /// The API server refused the token.
    #[error("[{cluster}] credentials rejected by {server_url}: {message}")]
    Unauthorized {
        /// Cluster name.
        cluster: String,
        /// API server URL.
        server_url: String,
        /// Server message.
        message: String,
    },
    /// The API server could not be reached.
    #[error("[{cluster}] is unreachable: {message}")]
    Unreachable {
        /// Cluster name.
        cluster: String,
        /// What happened.
        message: String,
    },
}

impl ClusterClientError {
    /// The cluster the error is about.
    pub fn cluster(&self) -> &str {
        match self {
            ClusterClientError::NoAutomationToken { cluster, .. }
            | ClusterClientError::NoServerUrl { cluster }
            | ClusterClientError::InvalidServerUrl { cluster, .. }
            | ClusterClientError::Secret { cluster, .. }
            | ClusterClientError::ServerMismatch { cluster, .. }
            | ClusterClientError::Unauthorized { cluster, .. }
            | ClusterClientError::Unreachable { cluster, .. } => cluster,
        }
    }
}

/// The log target of kube's per-connection `Server cert bypassed` warning. The runtime's log
/// filter raises it to `error`: [`ClusterMap::build`] says it once per cluster instead.
pub const KUBE_CERT_BYPASS_LOG_TARGET: &str = "kube_client::client::tls";

/// Options of [`ClusterMap::build`].
#[derive(Debug, Clone, Default)]
pub struct ClusterMapOptions {
    /// Integration name, matched against `disable.integrations`.
    pub integration: String,
    /// `--internal` (Some(true)) / `--external` (Some(false)) / all (None).
    pub internal: Option<bool>,
    /// Clusters that also need a privileged (cluster-admin) client.
    pub privileged: BTreeSet<String>,
    /// Extra trusted CA certificates (PEM), e.g. a test cluster's.
    pub extra_root_certs_pem: Vec<Vec<u8>>,
    /// Concurrency bound (`--thread-pool-size`).
    pub concurrency: usize,
    /// Timeout of each API request (default 60 s, like the Python native client).
    pub request_timeout: Option<Duration>,
}

/// A ready client for one cluster.
#[derive(Clone)]
pub struct ClusterClient {
    /// Cluster name.
    pub cluster: String,
    /// Whether this is the cluster-admin client.
    pub privileged: bool,
    /// The Kubernetes client.
    pub client: kube::Client,
    discovery: Arc<OnceCell<Arc<Discovery>>>,
}

impl std::fmt::Debug for ClusterClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterClient")
            .field("cluster", &self.cluster)
            .field("privileged", &self.privileged)
            .finish()
    }
}

/// Errors of API discovery.
#[derive(Debug, thiserror::Error)]
#[error("[{cluster}] API discovery failed: {source}")]
pub struct DiscoveryError {
    /// Cluster name.
    pub cluster: String,
    /// kube's error.
    #[source]
    pub source: kube::Error,
}

impl ClusterClient {
    /// Wrap an existing client (tests, custom set-ups).
    pub fn new(cluster: impl Into<String>, privileged: bool, client: kube::Client) -> Self {
        Self {
            cluster: cluster.into(),
            privileged,
            client,
            discovery: Arc::new(OnceCell::new()),
        }
    }

    /// The cluster's API discovery, fetched once and cached.
    pub async fn discovery(&self) -> Result<Arc<Discovery>, DiscoveryError> {
        self.discovery
            .get_or_try_init(|| async {
                Discovery::new(self.client.clone())
                    .run()
                    .await
                    .map(Arc::new)
                    .map_err(|source| DiscoveryError {
                        cluster: self.cluster.clone(),
                        source,
                    })
            })
            .await
            .cloned()
    }

    /// Resolve `kind` (optionally in `api_version`, e.g. `apps/v1`) to its API resource.
    /// `None` when the cluster does not serve that kind.
    pub async fn resolve_kind(
        &self,
        kind: &str,
        api_version: Option<&str>,
    ) -> Result<Option<(ApiResource, ApiCapabilities)>, DiscoveryError> {
        let discovery = self.discovery().await?;
        if let Some(api_version) = api_version {
            let (group, version) = match api_version.split_once('/') {
                Some((g, v)) => (g, v),
                None => ("", api_version),
            };
            return Ok(discovery.resolve_gvk(&GroupVersionKind::gvk(group, version, kind)));
        }
        // Prefer the core group, then any group's preferred version.
        for group in discovery.groups() {
            if let Some((ar, caps)) = group
                .recommended_resources()
                .into_iter()
                .find(|(ar, _)| ar.kind == kind)
            {
                return Ok(Some((ar, caps)));
            }
        }
        Ok(None)
    }

    /// Whether `kind` is namespaced on this cluster (`None` when unknown).
    pub async fn is_namespaced(&self, kind: &str) -> Result<Option<bool>, DiscoveryError> {
        Ok(self
            .resolve_kind(kind, None)
            .await?
            .map(|(_, caps)| caps.scope == Scope::Namespaced))
    }
}

/// The clients of every cluster of a run.
#[derive(Debug, Default)]
pub struct ClusterMap {
    clients: BTreeMap<(String, bool), Result<ClusterClient, ClusterClientError>>,
    skipped: BTreeSet<String>,
}

impl ClusterMap {
    /// Adds the clients (and skipped clusters) of `other`, e.g. of another cluster of a run
    /// that builds its clients one cluster at a time.
    pub fn absorb(&mut self, other: ClusterMap) {
        self.clients.extend(other.clients);
        self.skipped.extend(other.skipped);
    }

    /// Build (concurrently, bounded) a client for every cluster — and a privileged one for
    /// the clusters in `options.privileged` — and check each can be reached with its token.
    pub async fn build(
        clusters: Vec<ClusterSpec>,
        secrets: Arc<dyn SecretReader>,
        options: &ClusterMapOptions,
    ) -> Self {
        let mut map = ClusterMap::default();
        let mut jobs = Vec::new();
        let mut seen = BTreeSet::new();
        for spec in clusters {
            if !seen.insert(spec.name.clone()) {
                continue;
            }
            let disabled = spec
                .disabled_integrations
                .iter()
                .any(|i| i == &options.integration || i.replace('_', "-") == options.integration);
            let internal_mismatch = options
                .internal
                .is_some_and(|want| spec.internal.unwrap_or(false) != want);
            if disabled || internal_mismatch {
                map.skipped.insert(spec.name.clone());
                continue;
            }
            let spec = Arc::new(spec);
            jobs.push((spec.clone(), false));
            if options.privileged.contains(&spec.name) {
                jobs.push((spec, true));
            }
        }
        // Once per cluster and run, not once per client and TLS connection (kube logs it at
        // every handshake; see KUBE_CERT_BYPASS_LOG_TARGET).
        let insecure: BTreeSet<&str> = jobs
            .iter()
            .filter(|(spec, _)| spec.insecure_skip_tls_verify)
            .map(|(spec, _)| spec.name.as_str())
            .collect();
        for cluster in insecure {
            tracing::warn!(
                "[{cluster}] Server cert bypassed: insecureSkipTLSVerify is set, the API \
                 server's certificate is not verified"
            );
        }
        let concurrency = options.concurrency.max(1);
        let results: Vec<_> = futures::stream::iter(jobs)
            .map(|(spec, privileged)| {
                let secrets = secrets.clone();
                async move {
                    let result = connect(&spec, privileged, secrets.as_ref(), options).await;
                    ((spec.name.clone(), privileged), result)
                }
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
        for (key, result) in results {
            if let Err(e) = &result {
                tracing::error!("{e}");
            }
            map.clients.insert(key, result);
        }
        map
    }

    /// Insert a client directly (tests, custom set-ups).
    pub fn insert(&mut self, client: ClusterClient) {
        self.clients
            .insert((client.cluster.clone(), client.privileged), Ok(client));
    }

    /// The client of `cluster`: `None` if the cluster was skipped or is unknown, the error if
    /// it could not be built.
    pub fn get(
        &self,
        cluster: &str,
        privileged: bool,
    ) -> Option<Result<&ClusterClient, &ClusterClientError>> {
        self.clients
            .get(&(cluster.to_owned(), privileged))
            .map(|r| r.as_ref())
    }

    /// Whether the cluster was skipped (disabled for this integration, internal mismatch).
    pub fn is_skipped(&self, cluster: &str) -> bool {
        self.skipped.contains(cluster)
    }

    /// Names of the clusters with a working (non-privileged) client.
    pub fn clusters(&self) -> Vec<&str> {
        self.clients
            .iter()
            .filter(|((_, privileged), r)| !privileged && r.is_ok())
            .map(|((name, _), _)| name.as_str())
            .collect()
    }

    /// Every per-cluster error.
    pub fn errors(&self) -> Vec<&ClusterClientError> {
        self.clients
            .values()
            .filter_map(|r| r.as_ref().err())
            .collect()
    }
}

async fn connect(
    spec: &ClusterSpec,
    privileged: bool,
    secrets: &dyn SecretReader,
    options: &ClusterMapOptions,
) -> Result<ClusterClient, ClusterClientError> {
    let cluster = spec.name.clone();
    if spec.server_url.trim().is_empty() {
        return Err(ClusterClientError::NoServerUrl { cluster });
    }
    let token_ref = if privileged {
        spec.cluster_admin_automation_token.as_ref()
    } else {
        spec.automation_token.as_ref()
    };
    let token_ref = token_ref.ok_or_else(|| ClusterClientError::NoAutomationToken {
        cluster: cluster.clone(),
        privileged,
    })?;
    let secret_err = |e: SecretError| ClusterClientError::Secret {
        cluster: cluster.clone(),
        message: e.to_string(),
    };
    let data = secrets
        .read_all(&token_ref.path, token_ref.version)
        .await
        .map_err(secret_err)?;
    if let Some(server) = data.get("server") {
        let secret_server = server.expose().trim_end_matches('/');
        if secret_server != spec.server_url.trim_end_matches('/') {
            return Err(ClusterClientError::ServerMismatch {
                cluster,
                secret_server: secret_server.to_owned(),
                server_url: spec.server_url.clone(),
            });
        }
    }
    let token = secrets.read(token_ref).await.map_err(secret_err)?;

    let uri: http::Uri = spec
        .server_url
        .parse()
        .map_err(
            |e: http::uri::InvalidUri| ClusterClientError::InvalidServerUrl {
                cluster: cluster.clone(),
                url: spec.server_url.clone(),
                message: e.to_string(),
            },
        )?;
    let mut config = kube::Config::new(uri);
    config.accept_invalid_certs = spec.insecure_skip_tls_verify;
    let timeout = options.request_timeout.unwrap_or(Duration::from_secs(60));
    config.connect_timeout = Some(Duration::from_secs(10).min(timeout));
    config.read_timeout = Some(timeout);
    config.write_timeout = Some(timeout);
    if !options.extra_root_certs_pem.is_empty() {
        let mut ders = Vec::new();
        for pem in &options.extra_root_certs_pem {
            ders.extend(pem_to_der(pem));
        }
        config.root_cert = Some(ders);
    }
    config.auth_info.token = Some(secrecy::SecretString::from(token.into_exposed()));
    let client = build_client(config).map_err(|e| ClusterClientError::Unreachable {
        cluster: cluster.clone(),
        message: format!("cannot build a client: {e}"),
    })?;
    match client.apiserver_version().await {
        Ok(_) => Ok(ClusterClient::new(cluster, privileged, client)),
        Err(kube::Error::Api(status)) if status.code == 401 || status.code == 403 => {
            Err(ClusterClientError::Unauthorized {
                cluster,
                server_url: spec.server_url.clone(),
                message: status.message.clone(),
            })
        }
        Err(e) => Err(ClusterClientError::Unreachable {
            cluster,
            message: error_chain(&e),
        }),
    }
}

/// The `kube::Client` of one cluster: kube's default stack (`ClientBuilder::try_from`: base
/// URI, bearer token, extra headers, kube's 429/503/504 retry, connect/read/write timeouts,
/// TLS from the config with `insecureSkipTLSVerify` as `accept_invalid_certs`) over an HTTPS
/// connector that offers HTTP/2 as well as HTTP/1.1 by ALPN. kube's own connector offers only
/// HTTP/1.1, where each concurrent request needs a connection of its own (a run opened about
/// eleven TLS connections per cluster); over HTTP/2 the requests of a client share one
/// connection. A server that does not pick `h2` is spoken to in HTTP/1.1 as before.
pub fn build_client(config: kube::Config) -> Result<kube::Client, kube::Error> {
    use kube::client::ConfigExt as _;
    use tower::ServiceBuilder;

    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // As kube's builder: the process-wide provider, unless one is installed already (the
        // only error is a concurrent install, which is as good).
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    }
    let mut config = config;
    // kube builds the platform verifier (the system's roots) for every client, which reads and
    // parses the system CA bundle each time (a third of the CPU of an openshift-namespaces run
    // over 20 clusters). Without a cluster CA, the process-wide verifier is used instead; with
    // `insecureSkipTLSVerify` no roots are needed at all. kube builds the rest (client identity)
    // from an empty root store.
    let system_roots = config.root_cert.is_none() && config.root_cert_file.is_none();
    if system_roots {
        config.root_cert = Some(Vec::new());
    }
    let mut tls = config.rustls_client_config()?;
    if system_roots && !config.accept_invalid_certs {
        tls.dangerous()
            .set_certificate_verifier(platform_verifier().map_err(|e| {
                kube::Error::RustlsTls(kube::client::RustlsTlsError::AddRootCertificate(Box::new(
                    e,
                )))
            })?);
    }
    let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
    http.enforce_http(false);
    // HTTP/2 sends a request's headers and body as separate frames: without TCP_NODELAY,
    // Nagle's algorithm holds the body back until the headers are acknowledged (a delayed
    // ACK, ~40 ms per write request).
    http.set_nodelay(true);
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .wrap_connector(http);
    let mut connector = hyper_timeout::TimeoutConnector::new(https);
    connector.set_connect_timeout(config.connect_timeout);
    connector.set_read_timeout(config.read_timeout);
    connector.set_write_timeout(config.write_timeout);
    connector.set_reset_reader_on_write(config.reset_reader_on_write);
    let http_client: hyper_util::client::legacy::Client<_, kube::client::Body> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build(connector);
    let retry = config
        .default_retry
        .then(|| tower::retry::RetryLayer::new(kube::client::retry::RetryPolicy::server_retry()));
    let service = ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(retry)
        .option_layer(config.auth_layer()?)
        .layer(config.extra_headers_layer()?)
        .map_err(tower::BoxError::from)
        .service(http_client);
    Ok(kube::Client::new(service, config.default_namespace))
}

/// The verifier of server certificates against the system's roots, built once per process
/// (building one reads and parses the system CA bundle).
fn platform_verifier() -> Result<std::sync::Arc<rustls_platform_verifier::Verifier>, rustls::Error>
{
    static VERIFIER: std::sync::OnceLock<std::sync::Arc<rustls_platform_verifier::Verifier>> =
        std::sync::OnceLock::new();
    if let Some(verifier) = VERIFIER.get() {
        return Ok(verifier.clone());
    }
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    let verifier = std::sync::Arc::new(rustls_platform_verifier::Verifier::new(provider)?);
    Ok(VERIFIER.get_or_init(|| verifier).clone())
}

/// Decode the certificates of a PEM bundle to DER.
fn pem_to_der(pem: &[u8]) -> Vec<Vec<u8>> {
    use base64::Engine as _;
    let text = String::from_utf8_lossy(pem);
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with("-----BEGIN CERTIFICATE-----") {
            current = Some(String::new());
        } else if line.starts_with("-----END CERTIFICATE-----") {
            if let Some(b64) = current.take()
                && let Ok(der) = base64::engine::general_purpose::STANDARD.decode(b64)
            {
                out.push(der);
            }
        } else if let Some(buf) = current.as_mut() {
            buf.push_str(line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use qontract_secrets::ConfigSecretReader;
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    /// Collects the messages of WARN events.
    #[derive(Clone, Default)]
    struct Warnings(Arc<Mutex<Vec<String>>>);

    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Warnings {
        fn on_event(
            &self,
            event: &tracing::Event<'_>,
            _ctx: tracing_subscriber::layer::Context<'_, S>,
        ) {
            struct Message<'a>(&'a mut String);
            impl tracing::field::Visit for Message<'_> {
                fn record_debug(
                    &mut self,
                    field: &tracing::field::Field,
                    value: &dyn std::fmt::Debug,
                ) {
                    if field.name() == "message" {
                        *self.0 = format!("{value:?}");
                    }
                }
            }
            if *event.metadata().level() == tracing::Level::WARN {
                let mut message = String::new();
                event.record(&mut Message(&mut message));
                self.0.lock().expect("lock").push(message);
            }
        }
    }

    fn spec(name: &str, insecure: bool) -> ClusterSpec {
        let token = |path: &str| VaultSecret {
            path: path.to_owned(),
            field: "token".to_owned(),
            version: None,
            format: None,
        };
        ClusterSpec {
            name: name.to_owned(),
            // Nothing listens on port 1: connecting fails fast.
            server_url: "https://127.0.0.1:1".to_owned(),
            insecure_skip_tls_verify: insecure,
            automation_token: Some(token("creds/token")),
            cluster_admin_automation_token: Some(token("creds/admin")),
            internal: None,
            disabled_integrations: Vec::new(),
        }
    }

    #[test]
    fn an_insecure_cluster_is_reported_once_per_run_not_per_client() {
        let warnings = Warnings::default();
        let subscriber = tracing_subscriber::registry().with(warnings.clone());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let reader: Arc<dyn SecretReader> = Arc::new(
            ConfigSecretReader::from_toml_str(
                "[creds.token]\ntoken = \"t\"\n[creds.admin]\ntoken = \"a\"\n",
                "test",
            )
            .expect("TOML"),
        );
        let options = ClusterMapOptions {
            integration: "openshift-resources".to_owned(),
            // Two clients of the insecure cluster: plain and privileged.
            privileged: BTreeSet::from(["insecure".to_owned()]),
            concurrency: 4,
            request_timeout: Some(Duration::from_secs(2)),
            ..ClusterMapOptions::default()
        };
        let map = tracing::subscriber::with_default(subscriber, || {
            runtime.block_on(ClusterMap::build(
                vec![spec("insecure", true), spec("verified", false)],
                reader,
                &options,
            ))
        });
        assert_eq!(map.errors().len(), 3, "every client failed to connect");
        let bypassed: Vec<String> = warnings
            .0
            .lock()
            .expect("lock")
            .iter()
            .filter(|m| m.contains("cert bypassed"))
            .cloned()
            .collect();
        assert_eq!(
            bypassed,
            [
                "[insecure] Server cert bypassed: insecureSkipTLSVerify is set, the API server's \
              certificate is not verified"
            ]
        );
    }

    /// A cluster map with the plain client of one cluster served by `server`.
    async fn one_cluster(
        server: &qontract_kube_testserver::KubeTestServer,
        insecure: bool,
    ) -> ClusterMap {
        let reader: Arc<dyn SecretReader> = Arc::new(
            ConfigSecretReader::from_toml_str("[creds.token]\ntoken = \"t\"\n", "test")
                .expect("TOML"),
        );
        let options = ClusterMapOptions {
            integration: "openshift-resources".to_owned(),
            concurrency: 10,
            extra_root_certs_pem: if insecure {
                Vec::new()
            } else {
                vec![server.ca_pem().expect("HTTPS").as_bytes().to_vec()]
            },
            request_timeout: Some(Duration::from_secs(10)),
            ..ClusterMapOptions::default()
        };
        let mut spec = spec("appsres01", insecure);
        spec.server_url = server.url();
        let map = ClusterMap::build(vec![spec], reader, &options).await;
        assert!(map.errors().is_empty(), "{:?}", map.errors());
        map
    }

    /// 40 reads, 10 at a time, the way a run reads a cluster: how many connections the
    /// server accepted for them (and the client's check), each read succeeding.
    async fn concurrent_reads(
        server: &qontract_kube_testserver::KubeTestServer,
        client: &kube::Client,
    ) -> u64 {
        let api: kube::Api<k8s_openapi::api::core::v1::Namespace> = kube::Api::all(client.clone());
        let found: Vec<bool> = futures::stream::iter(0..40)
            .map(|index| {
                let api = api.clone();
                async move {
                    api.get_opt(&format!("ns-{}", index % 4))
                        .await
                        .expect("read")
                        .is_some()
                }
            })
            .buffer_unordered(10)
            .collect()
            .await;
        assert!(found.iter().all(|found| *found));
        server.connections()
    }

    async fn https_server() -> qontract_kube_testserver::KubeTestServer {
        let mut builder = qontract_kube_testserver::KubeTestServer::builder()
            .https(true)
            .token("t")
            // Each request takes a while, so the reads overlap as against a real cluster.
            .latency(Duration::from_millis(20));
        for index in 0..4 {
            builder = builder.seed(serde_json::json!({
                "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": format!("ns-{index}")}
            }));
        }
        builder.start().await.expect("kube test server")
    }

    /// Concurrent requests of a cluster client share one HTTP/2 connection (ALPN `h2`, see
    /// `build_client`) instead of one HTTP/1.1 connection each (kube's own client: the same
    /// load opens 10).
    #[tokio::test]
    async fn concurrent_requests_of_a_cluster_share_one_connection() {
        let server = https_server().await;
        let map = one_cluster(&server, false).await;
        let client = map.get("appsres01", false).expect("client").expect("ready");
        let connections = concurrent_reads(&server, &client.client).await;
        assert!(
            connections <= 2,
            "{connections} connections for one cluster client"
        );
        server.shutdown().await;

        // The load is concurrent enough to tell: kube's HTTP/1.1-only client needs more.
        let server = https_server().await;
        let mut config = kube::Config::new(server.url().parse().expect("URL"));
        config.root_cert = Some(pem_to_der(server.ca_pem().expect("HTTPS").as_bytes()));
        config.auth_info.token = Some(secrecy::SecretString::from("t".to_owned()));
        let http1 = kube::Client::try_from(config).expect("kube client");
        let connections = concurrent_reads(&server, &http1).await;
        assert!(connections > 2, "{connections} connections");
        server.shutdown().await;
    }

    /// `insecureSkipTLSVerify` still reaches a server whose CA is not trusted, over HTTP/2.
    #[tokio::test]
    async fn without_a_cluster_ca_the_certificate_is_verified_against_the_system_roots() {
        // The loopback server's certificate is signed by its own CA, which no system trusts:
        // the process-wide platform verifier must refuse it, for every client built.
        let server = https_server().await;
        let reader: Arc<dyn SecretReader> = Arc::new(
            ConfigSecretReader::from_toml_str("[creds.token]\ntoken = \"t\"\n", "test")
                .expect("TOML"),
        );
        let options = ClusterMapOptions {
            integration: "openshift-resources".to_owned(),
            concurrency: 2,
            request_timeout: Some(Duration::from_secs(10)),
            ..ClusterMapOptions::default()
        };
        let specs: Vec<ClusterSpec> = ["first", "second"]
            .into_iter()
            .map(|name| {
                let mut spec = spec(name, false);
                spec.server_url = server.url();
                spec
            })
            .collect();
        let map = ClusterMap::build(specs, reader, &options).await;
        let errors: Vec<String> = map.errors().iter().map(|e| e.to_string()).collect();
        assert_eq!(errors.len(), 2, "{errors:?}");
        for error in &errors {
            assert!(
                error.to_lowercase().contains("certificate"),
                "not a certificate error: {error}"
            );
        }
        server.shutdown().await;
    }

    #[tokio::test]
    async fn an_insecure_cluster_is_reached_without_its_ca_over_one_connection() {
        let server = https_server().await;
        let map = one_cluster(&server, true).await;
        let client = map.get("appsres01", false).expect("client").expect("ready");
        let connections = concurrent_reads(&server, &client.client).await;
        assert!(
            connections <= 2,
            "{connections} connections for one cluster client"
        );
        server.shutdown().await;
    }
}
