//! Test support shared by the crates' test suites (never linked into a shipped binary):
//!
//! * [`FakeQontractServer`]: a scriptable HTTP server speaking qontract-server's protocol
//!   (`/sha256`, `/git-commit-info/<sha>`, `/graphql`, `/graphqlsha/<sha>`), recording every
//!   request, with injectable HTTP failures — for client behaviour that a real server cannot
//!   be made to show on demand (5xx bursts, forbidden schemas).
//! * [`UnleashServer`]: a real unleash-server on a private PostgreSQL cluster (kill-switch
//!   tests).
//! * [`TestAppInterface`]: a temporary app-interface and the `config.toml` an integration's
//!   binary runs it with (end-to-end tests).
//! * [`binary::run_with_config`]: a crate's own binary run from its async test.
//! * [`fixtures`]: app-interface test data shaped like the upstream schemas, typed into any
//!   query's generated types, and the inventory views unit tests assert on.
//! * [`shared_dir`]: the read-only reference data (`../shared` beside the workspace).
//! * [`copy_dir`], [`replace_in_tree`]: a directory tree copied, and edited in place.
//! * `bundle_server` (feature `bundle-server`): our qontract-server serving a bundle file.

pub mod app_interface;
pub mod binary;
#[cfg(feature = "bundle-server")]
pub mod bundle_server;
pub mod fixtures;
pub mod unleash;
pub use app_interface::{TestAppInterface, output_text};
pub use unleash::UnleashServer;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;

/// `../shared` relative to the workspace root (CI lays it out the same way).
pub fn shared_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

/// Copy the directory tree `from` to `to` (created), e.g. to edit example data in a test.
pub fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("creating {}: {e}", to.display()));
    let entries =
        std::fs::read_dir(from).unwrap_or_else(|e| panic!("reading {}: {e}", from.display()));
    for entry in entries {
        let entry = entry.expect("directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target)
                .unwrap_or_else(|e| panic!("copying to {}: {e}", target.display()));
        }
    }
}

/// Replace `from` by `to` in every file below `dir` that is text (others are left alone),
/// e.g. to point copied example data at a test server's URL.
pub fn replace_in_tree(dir: &std::path::Path, from: &str, to: &str) {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            replace_in_tree(&path, from, to);
        } else if let Ok(text) = std::fs::read_to_string(&path) {
            std::fs::write(&path, text.replace(from, to))
                .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        }
    }
}

/// One request the fake server received.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    /// `GET` / `POST`.
    pub method: String,
    /// Request path.
    pub path: String,
    /// `Authorization` header, verbatim.
    pub authorization: Option<String>,
    /// Parsed JSON body (`null` for GETs).
    pub body: Value,
}

/// Answers a GraphQL request body with (HTTP status, JSON body).
pub type GraphqlHandler = Arc<dyn Fn(&Value) -> (u16, Value) + Send + Sync>;

struct Inner {
    sha: String,
    commit: String,
    timestamp: String,
    handler: GraphqlHandler,
    requests: Vec<RecordedRequest>,
    failures: VecDeque<u16>,
}

/// A scriptable qontract-server stand-in on `127.0.0.1:<free port>`.
pub struct FakeQontractServer {
    addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeQontractServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeQontractServer {
    /// Start a server serving bundle `sha`; GraphQL requests are answered by `handler`.
    pub async fn start(
        sha: &str,
        handler: impl Fn(&Value) -> (u16, Value) + Send + Sync + 'static,
    ) -> Self {
        let inner = Arc::new(Mutex::new(Inner {
            sha: sha.to_owned(),
            commit: "0123456789abcdef0123456789abcdef01234567".to_owned(),
            timestamp: "1798000000".to_owned(),
            handler: Arc::new(handler),
            requests: Vec::new(),
            failures: VecDeque::new(),
        }));
        let app = axum::Router::new()
            .route("/sha256", get(sha256))
            .route("/git-commit-info/{sha}", get(commit_info))
            .route("/graphql", post(graphql))
            .route("/graphqlsha/{sha}", post(graphql_sha))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, inner, task }
    }

    /// `http://127.0.0.1:<port>/graphql`.
    pub fn graphql_url(&self) -> String {
        format!("http://{}/graphql", self.addr)
    }

    /// The bundle sha served.
    pub fn sha(&self) -> String {
        self.lock().sha.clone()
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.clone()
    }

    /// Paths of every request so far, as `METHOD /path`.
    pub fn request_lines(&self) -> Vec<String> {
        self.lock()
            .requests
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }

    /// Answer the next `statuses.len()` GraphQL POSTs with these HTTP statuses.
    pub fn fail_next_posts(&self, statuses: &[u16]) {
        self.lock().failures.extend(statuses.iter().copied());
    }

    /// Stop answering (connections are refused from now on).
    pub fn stop(&self) {
        self.task.abort();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

type Shared = State<Arc<Mutex<Inner>>>;

fn record(state: &Arc<Mutex<Inner>>, method: &str, path: String, headers: &HeaderMap, body: Value) {
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut inner = state.lock().unwrap_or_else(|p| p.into_inner());
    inner.requests.push(RecordedRequest {
        method: method.to_owned(),
        path,
        authorization,
        body,
    });
}

async fn sha256(State(state): Shared, headers: HeaderMap) -> String {
    record(&state, "GET", "/sha256".to_owned(), &headers, Value::Null);
    state.lock().unwrap_or_else(|p| p.into_inner()).sha.clone()
}

async fn commit_info(
    State(state): Shared,
    Path(sha): Path<String>,
    headers: HeaderMap,
) -> Response {
    record(
        &state,
        "GET",
        format!("/git-commit-info/{sha}"),
        &headers,
        Value::Null,
    );
    let inner = state.lock().unwrap_or_else(|p| p.into_inner());
    if sha != inner.sha {
        return (StatusCode::NOT_FOUND, "unknown sha").into_response();
    }
    axum::Json(serde_json::json!({"commit": inner.commit, "timestamp": inner.timestamp}))
        .into_response()
}

fn answer(state: &Arc<Mutex<Inner>>, body: &Bytes) -> Response {
    let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let (failure, handler) = {
        let mut inner = state.lock().unwrap_or_else(|p| p.into_inner());
        (inner.failures.pop_front(), inner.handler.clone())
    };
    if let Some(status) = failure {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return (status, "injected failure").into_response();
    }
    let (status, json) = handler(&request);
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    (status, axum::Json(json)).into_response()
}

async fn graphql(State(state): Shared, headers: HeaderMap, body: Bytes) -> Response {
    let parsed = serde_json::from_slice(&body).unwrap_or(Value::Null);
    record(&state, "POST", "/graphql".to_owned(), &headers, parsed);
    answer(&state, &body)
}

async fn graphql_sha(
    State(state): Shared,
    Path(sha): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let parsed = serde_json::from_slice(&body).unwrap_or(Value::Null);
    record(
        &state,
        "POST",
        format!("/graphqlsha/{sha}"),
        &headers,
        parsed,
    );
    let known = state.lock().unwrap_or_else(|p| p.into_inner()).sha == sha;
    if !known {
        return (
            StatusCode::NOT_FOUND,
            format!("Cannot POST /graphqlsha/{sha}"),
        )
            .into_response();
    }
    answer(&state, &body)
}
