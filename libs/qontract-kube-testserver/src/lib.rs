//! A faithful loopback Kubernetes API server for tests and the local sandbox.
//!
//! [`KubeTestServer`] serves the Kubernetes REST API on `127.0.0.1` (HTTPS with a
//! generated CA, or plain HTTP): discovery (plain and aggregated), CRUD for namespaced
//! and cluster-scoped kinds, selectors, resourceVersion preconditions, server-side
//! apply with managedFields and conflicts, merge / strategic-merge / JSON patches,
//! `dryRun=All`, defaulting for the kinds our integrations touch, bearer-token auth
//! and fault injection. See the crate README for what is and is not emulated.
//!
//! ```no_run
//! # async fn demo() -> Result<(), qontract_kube_testserver::Error> {
//! use qontract_kube_testserver::KubeTestServer;
//! let server = KubeTestServer::builder().https(true).token("t").start().await?;
//! println!("{}", server.url());
//! server.shutdown().await;
//! # Ok(()) }
//! ```

mod api;
mod defaults;
mod fields;
mod patch;
mod registry;
mod selectors;
mod server;
mod status;
mod tls;
mod util;

pub use server::{RecordedRequest, STATS_PATH};

use api::{Caller, State};
use serde_json::{Value, json};
use server::{Controls, FailRule, Shared, lock};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Errors starting or driving the server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Binding or I/O failed.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// Certificate generation or TLS setup failed.
    #[error("tls: {0}")]
    Tls(String),
    /// A seeded object or CRD was rejected; carries the Status message.
    #[error("seed rejected ({code}): {message}")]
    Seed {
        /// HTTP code the API would have answered.
        code: u16,
        /// Status message.
        message: String,
    },
    /// Building a client failed.
    #[error("client: {0}")]
    Client(String),
}

/// Configures and starts a [`KubeTestServer`].
#[derive(Debug, Clone)]
pub struct KubeTestServerBuilder {
    https: bool,
    port: u16,
    token: Option<String>,
    readonly_token: Option<String>,
    crds: Vec<Value>,
    seeds: Vec<Value>,
    openshift_projects: bool,
    openshift_users: bool,
    latency: Duration,
}

impl Default for KubeTestServerBuilder {
    fn default() -> Self {
        KubeTestServerBuilder {
            https: true,
            port: 0,
            token: None,
            readonly_token: None,
            crds: Vec::new(),
            seeds: Vec::new(),
            openshift_projects: false,
            openshift_users: false,
            latency: Duration::ZERO,
        }
    }
}

impl KubeTestServerBuilder {
    /// Serve HTTPS with a generated CA (default) or plain HTTP.
    pub fn https(mut self, https: bool) -> Self {
        self.https = https;
        self
    }

    /// Listen on this port (default: an ephemeral one).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Require this bearer token (user `admin`, allowed everything). Without any token, auth is off.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// A second bearer token (user `readonly`) that may read but gets 403 Forbidden on writes.
    pub fn readonly_token(mut self, token: impl Into<String>) -> Self {
        self.readonly_token = Some(token.into());
        self
    }

    /// Serve OpenShift's `project.openshift.io/v1` (default off, as a plain Kubernetes API server):
    /// `Project` (a view of each Namespace: get, list, delete) and the create-only
    /// `ProjectRequest`, which creates the Namespace from the default project template (the
    /// `openshift.io/description`, `display-name` and `requester` annotations and an `admin`
    /// RoleBinding for the requesting user), answers with the `Project`, refuses names starting
    /// with `openshift-` (403) and existing names (409 AlreadyExists).
    pub fn openshift_projects(mut self, on: bool) -> Self {
        self.openshift_projects = on;
        self
    }

    /// Serve OpenShift's `user.openshift.io/v1` (default off, as a plain Kubernetes API server):
    /// the cluster-scoped `Group` (members in the top-level `users` list, no `spec`),
    /// `User` (`fullName`, `identities`, `groups`) and `Identity`; list fields that are
    /// absent or empty are stored and returned as `null`, as OpenShift does.
    pub fn openshift_users(mut self, on: bool) -> Self {
        self.openshift_users = on;
        self
    }

    /// Delay every request by `d` from the start (as [`KubeTestServer::set_latency`]): a fixed
    /// per-request latency, to measure a client as against a remote API server.
    pub fn latency(mut self, d: Duration) -> Self {
        self.latency = d;
        self
    }

    /// Register a CustomResourceDefinition (an `apiextensions.k8s.io/v1` object) at start.
    pub fn crd(mut self, crd: Value) -> Self {
        self.crds.push(crd);
        self
    }

    /// Store an object at start (its namespace is created if missing).
    pub fn seed(mut self, obj: Value) -> Self {
        self.seeds.push(obj);
        self
    }

    /// Binds, seeds and starts serving on the current tokio runtime.
    pub async fn start(self) -> Result<KubeTestServer, Error> {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await?;
        let addr = listener.local_addr()?;
        let mut state = State::new();
        state.server_address = addr.to_string();
        if self.openshift_projects {
            state
                .registry
                .resources
                .extend(registry::openshift_project_resources());
        }
        if self.openshift_users {
            state
                .registry
                .resources
                .extend(registry::openshift_user_resources());
        }
        for crd in &self.crds {
            state
                .seed(crd.clone(), "kube-testserver")
                .map_err(seed_err)?;
        }
        for obj in &self.seeds {
            state
                .seed(obj.clone(), "kube-testserver")
                .map_err(seed_err)?;
        }
        let mut tokens = HashMap::new();
        if let Some(t) = &self.token {
            tokens.insert(
                t.clone(),
                Caller {
                    name: "admin".into(),
                    readonly: false,
                },
            );
        }
        if let Some(t) = &self.readonly_token {
            tokens.insert(
                t.clone(),
                Caller {
                    name: "readonly".into(),
                    readonly: true,
                },
            );
        }
        let (tls, ca_pem) = if self.https {
            let t = tls::generate()?;
            (
                Some(tokio_rustls::TlsAcceptor::from(t.config)),
                Some(t.ca_pem),
            )
        } else {
            (None, None)
        };
        let (unreachable, _) = watch::channel(false);
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            controls: Mutex::new(Controls {
                latency: self.latency,
                rules: Vec::new(),
                error_rate: None,
                rng: util::Rng::new(),
            }),
            requests: Mutex::new(Vec::new()),
            tokens,
            unreachable,
            shutdown: shutdown_rx.clone(),
            connections: std::sync::atomic::AtomicU64::new(0),
        });
        let task = tokio::spawn(server::run(
            listener,
            addr,
            shared.clone(),
            tls,
            shutdown_rx,
        ));
        Ok(KubeTestServer {
            shared,
            addr,
            https: self.https,
            ca_pem,
            token: self.token,
            readonly_token: self.readonly_token,
            shutdown: shutdown_tx,
            task: Some(task),
        })
    }
}

fn seed_err(e: status::ApiError) -> Error {
    Error::Seed {
        code: e.code,
        message: e
            .body
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
    }
}

/// A running loopback API server. Dropping it stops serving.
#[derive(Debug)]
pub struct KubeTestServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    https: bool,
    ca_pem: Option<String>,
    token: Option<String>,
    readonly_token: Option<String>,
    shutdown: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl KubeTestServer {
    /// A builder with HTTPS on, no auth, no CRDs.
    pub fn builder() -> KubeTestServerBuilder {
        KubeTestServerBuilder::default()
    }

    /// Base URL, e.g. `https://127.0.0.1:43121`.
    pub fn url(&self) -> String {
        format!(
            "{}://{}",
            if self.https { "https" } else { "http" },
            self.addr
        )
    }

    /// Listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// PEM of the CA that signed the serving certificate (HTTPS only).
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// The admin bearer token, if configured.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// The read-only bearer token, if configured.
    pub fn readonly_token(&self) -> Option<&str> {
        self.readonly_token.as_deref()
    }

    /// A kubeconfig (YAML) for this server using the admin token; TLS verification stays on.
    pub fn kube_config_yaml(&self) -> String {
        self.kube_config_yaml_for(self.token.as_deref())
    }

    /// A kubeconfig (YAML) using the given token (`None`: no credentials).
    pub fn kube_config_yaml_for(&self, token: Option<&str>) -> String {
        let mut cluster = json!({"server": self.url()});
        if let Some(ca) = &self.ca_pem {
            cluster["certificate-authority-data"] = json!(registry::base64(ca.as_bytes()));
        }
        let user = match token {
            Some(t) => json!({"token": t}),
            None => json!({}),
        };
        let doc = json!({
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "kube-testserver", "cluster": cluster}],
            "users": [{"name": "kube-testserver", "user": user}],
            "contexts": [{"name": "kube-testserver", "context": {"cluster": "kube-testserver", "user": "kube-testserver", "namespace": "default"}}],
            "current-context": "kube-testserver",
        });
        serde_json::to_string_pretty(&doc).unwrap_or_default()
    }

    /// Writes [`Self::kube_config_yaml`] to `path`.
    pub fn write_kube_config(&self, path: impl AsRef<std::path::Path>) -> Result<(), Error> {
        std::fs::write(path, self.kube_config_yaml())?;
        Ok(())
    }

    /// A `kube::Client` for this server with the admin token.
    #[cfg(feature = "client")]
    pub async fn client(&self) -> Result<kube::Client, Error> {
        self.client_for(self.token.as_deref()).await
    }

    /// A `kube::Client` for this server with the given token.
    #[cfg(feature = "client")]
    pub async fn client_for(&self, token: Option<&str>) -> Result<kube::Client, Error> {
        let kc = kube::config::Kubeconfig::from_yaml(&self.kube_config_yaml_for(token))
            .map_err(|e| Error::Client(e.to_string()))?;
        let config =
            kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
                .await
                .map_err(|e| Error::Client(e.to_string()))?;
        kube::Client::try_from(config).map_err(|e| Error::Client(e.to_string()))
    }

    /// Requests received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// The requests so far that were not reads (`GET`), as `"METHOD /path"`: what a dry run
    /// must leave empty.
    pub fn writes(&self) -> Vec<String> {
        lock(&self.shared.requests)
            .iter()
            .filter(|r| r.method != "GET")
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }

    /// Connections accepted so far (for HTTPS: TLS handshakes completed); also served at
    /// [`STATS_PATH`] with the request counts.
    pub fn connections(&self) -> u64 {
        self.shared
            .connections
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Forgets the request log.
    pub fn clear_requests(&self) {
        lock(&self.shared.requests).clear();
    }

    /// Delay every request by `d` (zero turns it off).
    pub fn set_latency(&self, d: Duration) {
        lock(&self.shared.controls).latency = d;
    }

    /// The next request whose path (or `"METHOD /path"`) matches `pattern` fails with `status`
    /// (a Status body with the real reason). `*` is a wildcard; otherwise substring match.
    pub fn fail_next(&self, pattern: &str, status: u16) {
        self.fail_next_n(pattern, status, 1);
    }

    /// Like [`Self::fail_next`] for the next `n` matching requests.
    pub fn fail_next_n(&self, pattern: &str, status: u16, n: u32) {
        let retry_after = if status == 429 { Some(1) } else { None };
        lock(&self.shared.controls).rules.push(FailRule {
            pattern: pattern.into(),
            status,
            remaining: n.max(1),
            retry_after,
        });
    }

    /// The next `n` matching requests get 429 TooManyRequests with `Retry-After: secs`.
    pub fn throttle_next(&self, pattern: &str, retry_after_secs: u64, n: u32) {
        lock(&self.shared.controls).rules.push(FailRule {
            pattern: pattern.into(),
            status: 429,
            remaining: n.max(1),
            retry_after: Some(retry_after_secs),
        });
    }

    /// Fail a random fraction (0.0–1.0) of requests with `status` (0.0 turns it off).
    pub fn set_error_rate(&self, rate: f64, status: u16) {
        lock(&self.shared.controls).error_rate = if rate > 0.0 {
            Some((rate, status))
        } else {
            None
        };
    }

    /// Removes all pending injected failures and the error rate.
    pub fn clear_faults(&self) {
        let mut c = lock(&self.shared.controls);
        c.rules.clear();
        c.error_rate = None;
        c.latency = Duration::ZERO;
    }

    /// While unreachable, new connections are refused and open ones are closed.
    pub fn set_unreachable(&self, unreachable: bool) {
        self.shared.unreachable.send_replace(unreachable);
    }

    /// Stores an object as if created through the API (manager `kube-testserver`); returns the stored object.
    pub fn seed(&self, obj: Value) -> Result<Value, Error> {
        lock(&self.shared.state)
            .seed(obj, "kube-testserver")
            .map_err(seed_err)
    }

    /// Stores an object created by the given field manager (e.g. `kubectl-client-side-apply`).
    pub fn seed_as(&self, obj: Value, field_manager: &str) -> Result<Value, Error> {
        lock(&self.shared.state)
            .seed(obj, field_manager)
            .map_err(seed_err)
    }

    /// The stored object, as a GET would return it. `ns` is ignored for cluster-scoped kinds.
    pub fn get_object(
        &self,
        api_version: &str,
        kind: &str,
        ns: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        lock(&self.shared.state).get_object(api_version, kind, ns, name)
    }

    /// All stored objects of a kind (optionally in one namespace).
    pub fn list_objects(&self, api_version: &str, kind: &str, ns: Option<&str>) -> Vec<Value> {
        lock(&self.shared.state).list_objects(api_version, kind, ns)
    }

    /// The current global resourceVersion.
    pub fn resource_version(&self) -> u64 {
        lock(&self.shared.state).resource_version()
    }

    /// Stops serving and waits for the accept loop to end.
    pub async fn shutdown(mut self) {
        self.shutdown.send_replace(true);
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for KubeTestServer {
    fn drop(&mut self) {
        self.shutdown.send_replace(true);
    }
}

/// A minimal CRD manifest (schema preserves unknown fields, status subresource on).
pub fn custom_resource_definition(
    group: &str,
    version: &str,
    kind: &str,
    plural: &str,
    namespaced: bool,
) -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{plural}.{group}")},
        "spec": {
            "group": group,
            "names": {"plural": plural, "singular": kind.to_lowercase(), "kind": kind, "listKind": format!("{kind}List")},
            "scope": if namespaced { "Namespaced" } else { "Cluster" },
            "versions": [{
                "name": version,
                "served": true,
                "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
                "subresources": {"status": {}}
            }]
        }
    })
}
