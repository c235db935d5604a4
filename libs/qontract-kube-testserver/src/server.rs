//! The HTTP(S) front: TLS, auth, fault injection, request log, connection handling.

use crate::api::{ApiRequest, ApiResponse, Caller, State};
use crate::status::ApiError;
use crate::util::Rng;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Frame, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// One request as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: String,
    /// URL path without the query.
    pub path: String,
    /// Raw query string (may be empty).
    pub query: String,
    /// Kubernetes verb: get, list, watch, create, update, patch, delete, deletecollection.
    pub verb: String,
    /// `dryRun` was requested.
    pub dry_run: bool,
    /// `fieldManager` query parameter.
    pub field_manager: Option<String>,
    /// Request `Content-Type`.
    pub content_type: Option<String>,
    /// Response status code.
    pub status: u16,
    /// Authenticated user, if any.
    pub user: Option<String>,
}

#[derive(Debug)]
pub(crate) struct FailRule {
    pub(crate) pattern: String,
    pub(crate) status: u16,
    pub(crate) remaining: u32,
    pub(crate) retry_after: Option<u64>,
}

#[derive(Debug)]
pub(crate) struct Controls {
    pub(crate) latency: Duration,
    pub(crate) rules: Vec<FailRule>,
    pub(crate) error_rate: Option<(f64, u16)>,
    pub(crate) rng: Rng,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) state: Mutex<State>,
    pub(crate) controls: Mutex<Controls>,
    pub(crate) requests: Mutex<Vec<RecordedRequest>>,
    pub(crate) tokens: HashMap<String, Caller>,
    pub(crate) unreachable: watch::Sender<bool>,
    pub(crate) shutdown: watch::Receiver<bool>,
    /// Connections accepted (for HTTPS: TLS handshakes completed) since start.
    pub(crate) connections: AtomicU64,
}

/// The path of the server's own counters (not part of the Kubernetes API, never logged or
/// counted, no auth): `{"requests": N, "connections": N, "verbs": {"list": N, ...}}`.
pub const STATS_PATH: &str = "/debug/kube-testserver/stats";

/// Requests (total and per verb) and accepted connections so far.
pub(crate) fn stats(shared: &Shared) -> serde_json::Value {
    let mut verbs: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
    let requests = {
        let log = lock(&shared.requests);
        for r in log.iter() {
            *verbs.entry(r.verb.clone()).or_default() += 1;
        }
        log.len()
    };
    serde_json::json!({
        "requests": requests,
        "connections": shared.connections.load(Ordering::Relaxed),
        "verbs": verbs,
    })
}

type Body = BoxBody<Bytes, Infallible>;

/// A response body fed by a channel (watch streams).
struct ChannelBody(tokio::sync::mpsc::Receiver<Bytes>);

impl hyper::body::Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0.poll_recv(cx).map(|o| o.map(|b| Ok(Frame::data(b))))
    }
}

fn line(v: &serde_json::Value) -> Bytes {
    let mut b = serde_json::to_vec(v).unwrap_or_default();
    b.push(b'\n');
    Bytes::from(b)
}

/// Streams a watch: initial events, then live ones until timeout, disconnect or shutdown.
fn stream_watch(shared: &Shared, mut spec: crate::api::WatchSpec) -> Response<Body> {
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(256);
    let mut shutdown = shared.shutdown.clone();
    let mut unreachable = shared.unreachable.subscribe();
    tokio::spawn(async move {
        for ev in std::mem::take(&mut spec.initial) {
            if tx.send(line(&ev)).await.is_err() {
                return;
            }
        }
        let deadline = spec.timeout.map(|t| tokio::time::Instant::now() + t);
        loop {
            let sleep = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                ev = spec.rx.recv() => match ev {
                    Ok(ev) => {
                        if let Some(v) = spec.render(&ev)
                            && tx.send(line(&v)).await.is_err() {
                                return;
                            }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        let gone = crate::status::ApiError::gone("too old resource version");
                        let _ = tx.send(line(&serde_json::json!({"type": "ERROR", "object": gone.body}))).await;
                        return;
                    }
                    Err(_) => return,
                },
                _ = sleep => return,
                _ = tx.closed() => return,
                _ = shutdown.changed() => return,
                _ = unreachable.changed() => return,
            }
        }
    });
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(ChannelBody(rx).boxed())
        .unwrap_or_default()
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// `*` matches any run of characters; without `*` the pattern matches as a substring.
pub(crate) fn pattern_matches(pattern: &str, text: &str) -> bool {
    if !pattern.contains('*') {
        return text.contains(pattern);
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut pos = 0;
    for (i, part) in parts.iter().enumerate() {
        if part.is_empty() {
            continue;
        }
        if i == 0 {
            if !text.starts_with(part) {
                return false;
            }
            pos = part.len();
            continue;
        }
        match text[pos..].find(part) {
            Some(idx) => pos += idx + part.len(),
            None => return false,
        }
    }
    parts
        .last()
        .is_none_or(|l| l.is_empty() || text.ends_with(l))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(crate) fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn respond(r: &ApiResponse) -> Response<Body> {
    let body = match &r.body {
        serde_json::Value::String(s) if r.content_type.starts_with("text/") => {
            s.clone().into_bytes()
        }
        b => serde_json::to_vec(b).unwrap_or_default(),
    };
    let mut builder = Response::builder()
        .status(r.code)
        .header("content-type", r.content_type);
    if let Some(ra) = r.retry_after {
        builder = builder.header("retry-after", ra.to_string());
    }
    builder
        .header("audit-id", "00000000-0000-0000-0000-000000000000")
        .body(Full::new(Bytes::from(body)).boxed())
        .unwrap_or_default()
}

async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Body>, std::io::Error> {
    if *shared.unreachable.borrow() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "unreachable",
        ));
    }
    if req.uri().path() == STATS_PATH {
        return Ok(Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(stats(&shared).to_string())).boxed())
            .unwrap_or_default());
    }
    let latency = lock(&shared.controls).latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes();
    if *shared.unreachable.borrow() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "unreachable",
        ));
    }
    let method = parts.method.as_str().to_string();
    let path = parts.uri.path().to_string();
    let raw_query = parts.uri.query().unwrap_or("").to_string();
    let query = parse_query(&raw_query);
    let header = |n: &str| {
        parts
            .headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let content_type = header("content-type");
    let accept = header("accept");
    let user_agent = header("user-agent");
    let field_manager = query
        .iter()
        .find(|(k, _)| k == "fieldManager")
        .map(|(_, v)| v.clone());
    let query_dry_run = query.iter().any(|(k, _)| k == "dryRun");

    // authentication
    let caller: Result<Option<Caller>, ApiError> = if shared.tokens.is_empty() {
        Ok(Some(Caller {
            name: "system:admin".into(),
            readonly: false,
        }))
    } else {
        match header("authorization") {
            Some(h) => match h
                .strip_prefix("Bearer ")
                .and_then(|t| shared.tokens.get(t.trim()))
            {
                Some(c) => Ok(Some(c.clone())),
                None => Err(ApiError::unauthorized()),
            },
            None if matches!(
                path.as_str(),
                "/version" | "/healthz" | "/livez" | "/readyz"
            ) =>
            {
                Ok(None)
            }
            None => Err(ApiError::unauthorized()),
        }
    };

    // injected faults
    let injected = {
        let mut c = lock(&shared.controls);
        let target = format!("{method} {path}");
        let mut hit = None;
        if let Some(idx) = c.rules.iter().position(|r| {
            pattern_matches(&r.pattern, &path) || pattern_matches(&r.pattern, &target)
        }) {
            let rule = &mut c.rules[idx];
            hit = Some(ApiError::injected(rule.status, rule.retry_after));
            rule.remaining = rule.remaining.saturating_sub(1);
            if rule.remaining == 0 {
                c.rules.remove(idx);
            }
        }
        if hit.is_none()
            && let Some((rate, status)) = c.error_rate
            && c.rng.next_f64() < rate
        {
            hit = Some(ApiError::injected(
                status,
                if status == 429 { Some(1) } else { None },
            ));
        }
        hit
    };

    let user_name = caller
        .as_ref()
        .ok()
        .and_then(|c| c.as_ref().map(|c| c.name.clone()));
    let mut resp: ApiResponse = match (caller, injected) {
        (Err(e), _) => e.into(),
        (Ok(_), Some(e)) => e.into(),
        (Ok(caller), None) => {
            let caller = caller.unwrap_or(Caller {
                name: "system:anonymous".into(),
                readonly: true,
            });
            let req = ApiRequest {
                method: &method,
                path: &path,
                query: query.clone(),
                content_type: content_type.as_deref(),
                accept: accept.as_deref(),
                user_agent: user_agent.as_deref(),
                body: &body,
                caller: &caller,
            };
            lock(&shared.state).handle(&req)
        }
    };
    let verb = if resp.verb.is_empty() {
        lock(&shared.state).verb_of(&method, &path, &query)
    } else {
        resp.verb.clone()
    };
    lock(&shared.requests).push(RecordedRequest {
        method,
        path,
        query: raw_query,
        verb,
        dry_run: resp.dry_run || query_dry_run,
        field_manager,
        content_type,
        status: resp.code,
        user: user_name,
    });
    tracing::debug!(code = resp.code, "kube-testserver response");
    if let Some(spec) = resp.watch.take() {
        return Ok(stream_watch(&shared, spec));
    }
    Ok(respond(&resp))
}

async fn serve_conn<I>(io: I, shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut unreachable = shared.unreachable.subscribe();
    let svc = hyper::service::service_fn(move |req| handle(shared.clone(), req));
    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    let conn = builder.serve_connection(TokioIo::new(io), svc);
    tokio::select! {
        _ = conn => {}
        _ = shutdown.changed() => {}
        _ = async { loop { if unreachable.changed().await.is_err() || *unreachable.borrow() { break; } } } => {}
    }
}

/// Accept loop; drops the listener while unreachable (connections are refused) and re-binds after.
pub(crate) async fn run(
    listener: TcpListener,
    addr: SocketAddr,
    shared: Arc<Shared>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut listener = Some(listener);
    let mut unreachable = shared.unreachable.subscribe();
    loop {
        if *shutdown.borrow() {
            break;
        }
        if *unreachable.borrow() {
            listener = None;
            tokio::select! {
                _ = unreachable.changed() => continue,
                _ = shutdown.changed() => break,
            }
        }
        let l = match &listener {
            Some(l) => l,
            None => {
                match TcpListener::bind(addr).await {
                    Ok(l) => listener = Some(l),
                    Err(e) => {
                        tracing::warn!(%e, "kube-testserver: re-bind failed; retrying");
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
                continue;
            }
        };
        tokio::select! {
            _ = shutdown.changed() => break,
            _ = unreachable.changed() => continue,
            acc = l.accept() => {
                let Ok((stream, _)) = acc else { continue };
                let _ = stream.set_nodelay(true);
                let shared = shared.clone();
                let sd = shutdown.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    match tls {
                        Some(acceptor) => {
                            if let Ok(s) = acceptor.accept(stream).await {
                                shared.connections.fetch_add(1, Ordering::Relaxed);
                                serve_conn(s, shared, sd).await;
                            }
                        }
                        None => {
                            shared.connections.fetch_add(1, Ordering::Relaxed);
                            serve_conn(stream, shared, sd).await
                        }
                    }
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(pattern_matches(
            "configmaps",
            "/api/v1/namespaces/a/configmaps/x"
        ));
        assert!(pattern_matches(
            "/api/v1/namespaces/*/configmaps",
            "/api/v1/namespaces/a/configmaps"
        ));
        assert!(!pattern_matches(
            "/api/v1/namespaces/*/configmaps",
            "/api/v1/namespaces/a/configmaps/x"
        ));
        assert!(pattern_matches(
            "*/configmaps/*",
            "/api/v1/namespaces/a/configmaps/x"
        ));
    }

    #[test]
    fn query_decoding() {
        assert_eq!(
            parse_query("labelSelector=a%3Db&x=a+b"),
            vec![
                ("labelSelector".into(), "a=b".into()),
                ("x".into(), "a b".into())
            ]
        );
    }
}
