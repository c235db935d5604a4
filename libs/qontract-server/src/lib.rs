//! Drop-in replacement of app-sre's qontract-server.
//!
//! Serves app-interface bundles (the JSON `qontract-bundler` writes) over the same HTTP API:
//! `POST/GET /graphql` (latest bundle), `POST /graphqlsha/<sha>` (a pinned bundle, TTL refreshed
//! on use), `GET /sha256`, `POST /reload`, `GET /git-commit[/<sha>]`,
//! `GET /git-commit-info[/<sha>]`, `GET /cache`, `GET /diff/<old>/<new>[/(datafile|resourcefile)/<path>]`,
//! `GET /healthz`, `GET /metrics` and `GET /`.
//! Queries run on [`qontract_graphql_executor`], which reproduces the Node server's responses.
//! Loading follows the upstream environment contract: `LOAD_METHOD=fs` + `DATAFILES_FILE`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use indexmap::IndexMap;
use qontract_graphql_executor::{Bundle, Request, execute};
use serde_json::Value;

/// Where bundles come from and how long non-latest bundles stay queryable.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The bundle file re-read by `POST /reload` (`DATAFILES_FILE`).
    pub datafiles_file: PathBuf,
    /// How long a non-latest bundle stays in the cache after its last use (`BUNDLE_SHA_TTL`).
    pub bundle_ttl: Duration,
}

/// Errors loading bundles.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The bundle could not be read or parsed.
    #[error(transparent)]
    Bundle(#[from] qontract_graphql_executor::ExecutorError),
}

struct CachedBundle {
    bundle: Arc<Bundle>,
    expires: Instant,
    expires_epoch_ms: u128,
}

#[derive(Default)]
struct Cache {
    latest: Option<String>,
    bundles: IndexMap<String, CachedBundle>,
    reloads: u64,
}

/// Shared server state: the bundle cache and metrics.
pub struct AppState {
    config: ServerConfig,
    cache: RwLock<Cache>,
    requests: RwLock<BTreeMap<(String, u16), u64>>,
}

fn epoch_ms_in(ttl: Duration) -> u128 {
    (SystemTime::now() + ttl)
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

impl AppState {
    /// A state with no bundle loaded yet.
    pub fn new(config: ServerConfig) -> Arc<Self> {
        Arc::new(Self {
            config,
            cache: RwLock::new(Cache::default()),
            requests: RwLock::new(BTreeMap::new()),
        })
    }

    /// (Re)loads `DATAFILES_FILE`. Returns `(old sha, new sha)`; equal when nothing changed.
    pub fn reload(&self) -> Result<(Option<String>, String), ServerError> {
        let old = self.cache.read().ok().and_then(|c| c.latest.clone());
        let sha = self.load_file(&self.config.datafiles_file.clone(), old.as_deref())?;
        Ok((old, sha))
    }

    /// Loads the bundle file `path` (unless its sha is `unchanged`) and makes it the latest;
    /// returns its sha. Used for `DATAFILES_FILE` and for each of `INIT_BUNDLES`.
    pub fn load_file(
        &self,
        path: &std::path::Path,
        unchanged: Option<&str>,
    ) -> Result<String, ServerError> {
        let bytes = std::fs::read(path).map_err(|source| {
            qontract_graphql_executor::ExecutorError::Read {
                path: path.display().to_string(),
                source,
            }
        })?;
        let sha = sha_of(&bytes);
        if unchanged == Some(sha.as_str()) {
            return Ok(sha);
        }
        let bundle = Bundle::from_json_bytes(&bytes, &path.display().to_string())?;
        self.insert(Arc::new(bundle));
        Ok(sha)
    }

    /// Loads `INIT_BUNDLES` (comma-separated bundle files, `fs://` prefix optional) in order,
    /// so that older bundles (e.g. the target branch of a merge request) stay queryable by sha;
    /// `DATAFILES_FILE` is loaded after them and is the latest. Returns their shas.
    pub fn load_init_bundles(&self, list: &str) -> Result<Vec<String>, ServerError> {
        list.split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                let path = entry.strip_prefix("fs://").unwrap_or(entry);
                self.load_file(std::path::Path::new(path), None)
            })
            .collect()
    }

    /// Adds `bundle` and makes it the latest; expired non-latest bundles are dropped.
    pub fn insert(&self, bundle: Arc<Bundle>) {
        let Ok(mut cache) = self.cache.write() else {
            return;
        };
        let sha = bundle.sha.clone();
        let ttl = self.config.bundle_ttl;
        cache.bundles.insert(
            sha.clone(),
            CachedBundle {
                bundle,
                expires: Instant::now() + ttl,
                expires_epoch_ms: epoch_ms_in(ttl),
            },
        );
        cache.latest = Some(sha.clone());
        cache.reloads += 1;
        let now = Instant::now();
        cache.bundles.retain(|k, v| *k == sha || v.expires > now);
    }

    fn latest(&self) -> Option<Arc<Bundle>> {
        let cache = self.cache.read().ok()?;
        let sha = cache.latest.as_ref()?;
        cache.bundles.get(sha).map(|b| b.bundle.clone())
    }

    /// The bundle `sha`, refreshing its TTL.
    fn pinned(&self, sha: &str) -> Option<Arc<Bundle>> {
        let mut cache = self.cache.write().ok()?;
        let ttl = self.config.bundle_ttl;
        let latest = cache.latest.clone();
        let entry = cache.bundles.get_mut(sha)?;
        if entry.expires < Instant::now() && latest.as_deref() != Some(sha) {
            return None;
        }
        entry.expires = Instant::now() + ttl;
        entry.expires_epoch_ms = epoch_ms_in(ttl);
        Some(entry.bundle.clone())
    }

    fn count(&self, route: &str, status: StatusCode) {
        if let Ok(mut r) = self.requests.write() {
            *r.entry((route.to_owned(), status.as_u16())).or_default() += 1;
        }
    }
}

fn sha_of(bytes: &[u8]) -> String {
    qontract_graphql_executor::sha256_hex(bytes)
}

/// The HTTP API.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(|| async { redirect("/graphql") }))
        .route("/graphql", post(graphql_post).get(graphql_get))
        .route("/graphqlsha/{sha}", post(graphql_sha))
        .route("/sha256", get(sha256))
        .route("/reload", post(reload))
        .route("/git-commit", get(git_commit_latest))
        .route("/git-commit/{sha}", get(git_commit_sha))
        .route("/git-commit-info", get(git_commit_info_latest))
        .route("/git-commit-info/{sha}", get(git_commit_info_sha))
        .route("/cache", get(cache))
        .route("/diff/{old}/{new}", get(diff))
        .route("/diff/{old}/{new}/{kind}/{*path}", get(diff_file))
        .route("/healthz", get(|| async { StatusCode::OK }))
        .route("/metrics", get(metrics))
        .with_state(state)
}

fn redirect(to: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, to.to_owned())]).into_response()
}

fn express_404(method: &str, path: &str) -> Response {
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Error</title>\n</head>\n<body>\n<pre>Cannot {method} {path}</pre>\n</body>\n</html>\n"
    );
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

fn text(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    resp
}

#[derive(serde::Deserialize)]
struct GraphqlBody {
    query: Option<String>,
    #[serde(default)]
    variables: Option<Value>,
    #[serde(default, rename = "operationName")]
    operation_name: Option<String>,
}

fn bad_request(message: &str) -> Response {
    let body = serde_json::json!({
        "errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]
    });
    json_response(StatusCode::BAD_REQUEST, body.to_string().into_bytes())
}

async fn run_query(
    state: &AppState,
    route: &str,
    bundle: Arc<Bundle>,
    body: GraphqlBody,
) -> Response {
    let Some(query) = body.query.filter(|q| !q.is_empty()) else {
        let resp = bad_request(
            "GraphQL operations must contain a non-empty `query` or a `persistedQuery` extension.",
        );
        state.count(route, StatusCode::BAD_REQUEST);
        return resp;
    };
    let result = tokio::task::spawn_blocking(move || {
        let execution = execute(
            &bundle,
            Request {
                query: &query,
                variables: body.variables.as_ref().filter(|v| !v.is_null()),
                operation_name: body.operation_name.as_deref(),
            },
        );
        (execution.status, execution.to_json())
    })
    .await;
    let (status, bytes) = match result {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "query execution panicked");
            (500, br#"{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}"#.to_vec())
        }
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    state.count(route, status);
    json_response(status, bytes)
}

fn parse_body(body: &Bytes) -> Result<GraphqlBody, String> {
    serde_json::from_slice(body).map_err(|e| format!("invalid JSON request body: {e}"))
}

async fn graphql_post(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let Some(bundle) = state.latest() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "no bundle loaded").into_response();
    };
    match parse_body(&body) {
        Ok(b) => run_query(&state, "/graphql", bundle, b).await,
        Err(message) => bad_request(&message),
    }
}

async fn graphql_get(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(params): Query<BTreeMap<String, String>>,
) -> Response {
    let Some(query) = params.get("query").cloned() else {
        let wants_html = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"));
        if wants_html {
            return text("<!DOCTYPE html><html><head><title>qontract-server</title></head><body><p>POST GraphQL queries to /graphql.</p></body></html>".to_owned());
        }
        return bad_request("GET query missing.");
    };
    let variables = match params
        .get("variables")
        .map(|v| serde_json::from_str::<Value>(v))
    {
        None => None,
        Some(Ok(v)) => Some(v),
        Some(Err(e)) => return bad_request(&format!("`variables` is not valid JSON: {e}")),
    };
    let Some(bundle) = state.latest() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "no bundle loaded").into_response();
    };
    let body = GraphqlBody {
        query: Some(query),
        variables,
        operation_name: params.get("operationName").cloned(),
    };
    run_query(&state, "/graphql", bundle, body).await
}

async fn graphql_sha(
    State(state): State<Arc<AppState>>,
    Path(sha): Path<String>,
    body: Bytes,
) -> Response {
    let Some(bundle) = state.pinned(&sha) else {
        state.count("/graphqlsha/#sha", StatusCode::NOT_FOUND);
        return express_404("POST", &format!("/graphqlsha/{sha}"));
    };
    match parse_body(&body) {
        Ok(b) => run_query(&state, "/graphqlsha/#sha", bundle, b).await,
        Err(message) => bad_request(&message),
    }
}

async fn sha256(State(state): State<Arc<AppState>>) -> Response {
    match state.latest() {
        Some(b) => text(b.sha.clone()),
        None => text(String::new()),
    }
}

async fn reload(State(state): State<Arc<AppState>>) -> Response {
    let st = state.clone();
    match tokio::task::spawn_blocking(move || st.reload()).await {
        Ok(Ok((old, new))) => {
            if old.as_deref() != Some(new.as_str()) {
                tracing::info!(old = old.as_deref().unwrap_or(""), new = %new, "bundle reloaded");
            }
            StatusCode::OK.into_response()
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "reload failed");
            (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response()
        }
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    }
}

fn commit_info(bundle: &Bundle) -> Response {
    let body =
        serde_json::json!({"commit": bundle.git_commit, "timestamp": bundle.git_commit_timestamp});
    json_response(StatusCode::OK, body.to_string().into_bytes())
}

async fn git_commit_latest(State(state): State<Arc<AppState>>) -> Response {
    state.latest().map_or_else(
        || express_404("GET", "/git-commit"),
        |b| text(b.git_commit.clone()),
    )
}

async fn git_commit_sha(State(state): State<Arc<AppState>>, Path(sha): Path<String>) -> Response {
    state.pinned(&sha).map_or_else(
        || express_404("GET", &format!("/git-commit/{sha}")),
        |b| text(b.git_commit.clone()),
    )
}

async fn git_commit_info_latest(State(state): State<Arc<AppState>>) -> Response {
    state.latest().map_or_else(
        || express_404("GET", "/git-commit-info"),
        |b| commit_info(&b),
    )
}

async fn git_commit_info_sha(
    State(state): State<Arc<AppState>>,
    Path(sha): Path<String>,
) -> Response {
    state.pinned(&sha).map_or_else(
        || express_404("GET", &format!("/git-commit-info/{sha}")),
        |b| commit_info(&b),
    )
}

async fn cache(State(state): State<Arc<AppState>>) -> Response {
    let Ok(cache) = state.cache.read() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let entries: Vec<Value> = cache
        .bundles
        .iter()
        .map(|(sha, b)| serde_json::json!({"sha": sha, "expiration": b.expires_epoch_ms as u64}))
        .collect();
    let shas: Vec<&String> = cache.bundles.keys().collect();
    let body = serde_json::json!({
        "bundleCache": entries,
        "bundles": shas,
        "routerStack": shas.len(),
        "searchableFields": shas,
    });
    json_response(StatusCode::OK, body.to_string().into_bytes())
}

fn pretty(value: &Value) -> Vec<u8> {
    use serde::Serialize;
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
    // serialising a Value into a Vec cannot fail
    let _ = value.serialize(&mut ser);
    out
}

fn datafile_diff(path: &str, old: Option<&Value>, new: Option<&Value>) -> Value {
    let schema = new
        .or(old)
        .and_then(|v| v.get("$schema"))
        .cloned()
        .unwrap_or(Value::Null);
    serde_json::json!({
        "datafilepath": path,
        "datafileschema": schema,
        "old": old.cloned().unwrap_or(Value::Null),
        "new": new.cloned().unwrap_or(Value::Null),
    })
}

fn resource_diff(path: &str, old: Option<&Value>, new: Option<&Value>) -> Value {
    serde_json::json!({
        "resourcepath": path,
        "old": old.cloned().unwrap_or(Value::Null),
        "new": new.cloned().unwrap_or(Value::Null),
    })
}

/// Changed, added and removed files between two bundles, in bundle order.
fn bundle_diff(old: &Bundle, new: &Bundle) -> Value {
    let mut datafiles = serde_json::Map::new();
    for (path, value) in old.datafiles() {
        let other = new.datafile(path);
        if other != Some(value) {
            datafiles.insert(path.to_owned(), datafile_diff(path, Some(value), other));
        }
    }
    for (path, value) in new.datafiles() {
        if old.datafile(path).is_none() {
            datafiles.insert(path.to_owned(), datafile_diff(path, None, Some(value)));
        }
    }
    let mut resources = serde_json::Map::new();
    for (path, value) in old.resources() {
        let other = new.resource(path);
        if other != Some(value) {
            resources.insert(path.to_owned(), resource_diff(path, Some(value), other));
        }
    }
    for (path, value) in new.resources() {
        if old.resource(path).is_none() {
            resources.insert(path.to_owned(), resource_diff(path, None, Some(value)));
        }
    }
    serde_json::json!({"datafiles": datafiles, "resources": resources})
}

async fn diff(
    State(state): State<Arc<AppState>>,
    Path((old_sha, new_sha)): Path<(String, String)>,
) -> Response {
    let (Some(old), Some(new)) = (state.pinned(&old_sha), state.pinned(&new_sha)) else {
        return express_404("GET", &format!("/diff/{old_sha}/{new_sha}"));
    };
    let body = tokio::task::spawn_blocking(move || pretty(&bundle_diff(&old, &new)))
        .await
        .unwrap_or_default();
    json_response(StatusCode::OK, body)
}

async fn diff_file(
    State(state): State<Arc<AppState>>,
    Path((old_sha, new_sha, kind, path)): Path<(String, String, String, String)>,
) -> Response {
    let not_found = || express_404("GET", &format!("/diff/{old_sha}/{new_sha}/{kind}/{path}"));
    let (Some(old), Some(new)) = (state.pinned(&old_sha), state.pinned(&new_sha)) else {
        return not_found();
    };
    let key = format!("/{}", path.trim_start_matches('/'));
    let body = match kind.as_str() {
        "datafile" => datafile_diff(&key, old.datafile(&key), new.datafile(&key)),
        "resourcefile" => resource_diff(&key, old.resource(&key), new.resource(&key)),
        _ => return not_found(),
    };
    json_response(StatusCode::OK, body.to_string().into_bytes())
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let mut out = String::new();
    if let Ok(requests) = state.requests.read() {
        out.push_str("# HELP qontract_server_http_requests_total HTTP requests by route and status\n# TYPE qontract_server_http_requests_total counter\n");
        for ((route, status), n) in requests.iter() {
            out.push_str(&format!(
                "qontract_server_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}\n"
            ));
        }
    }
    if let Ok(cache) = state.cache.read() {
        out.push_str(&format!(
            "# HELP qontract_server_reloads_total Bundle loads\n# TYPE qontract_server_reloads_total counter\nqontract_server_reloads_total {}\n",
            cache.reloads
        ));
        out.push_str("# HELP qontract_server_datafiles Datafiles of the latest bundle by schema\n# TYPE qontract_server_datafiles gauge\n");
        if let Some(latest) = cache.latest.as_ref().and_then(|s| cache.bundles.get(s)) {
            for (schema, n) in latest.bundle.datafile_counts_by_schema() {
                out.push_str(&format!(
                    "qontract_server_datafiles{{schema=\"{schema}\"}} {n}\n"
                ));
            }
        }
        out.push_str(&format!(
            "# HELP qontract_server_bundle_object_shas Bundles loaded\n# TYPE qontract_server_bundle_object_shas gauge\nqontract_server_bundle_object_shas {0}\n# HELP qontract_server_bundle_cache_object_shas Bundles in the sha cache\n# TYPE qontract_server_bundle_cache_object_shas gauge\nqontract_server_bundle_cache_object_shas {0}\n",
            cache.bundles.len()
        ));
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response()
}
