use kube::Client;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use qontract_kube_testserver::{KubeTestServer, custom_resource_definition};
use serde_json::Value;

pub(crate) const TOKEN: &str = "t";
pub(crate) const RO_TOKEN: &str = "r";

pub(crate) async fn server() -> KubeTestServer {
    KubeTestServer::builder()
        .https(true)
        .token(TOKEN)
        .readonly_token(RO_TOKEN)
        .crd(custom_resource_definition(
            "example.com",
            "v1",
            "Widget",
            "widgets",
            true,
        ))
        .start()
        .await
        .expect("start server")
}

pub(crate) async fn http_server() -> KubeTestServer {
    KubeTestServer::builder()
        .https(false)
        .token(TOKEN)
        .readonly_token(RO_TOKEN)
        .start()
        .await
        .expect("start server")
}

pub(crate) async fn client(s: &KubeTestServer) -> Client {
    s.client().await.expect("client")
}

pub(crate) fn ar(group: &str, version: &str, kind: &str, plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural)
}

pub(crate) fn cm_ar() -> ApiResource {
    ar("", "v1", "ConfigMap", "configmaps")
}

pub(crate) fn ns_api(c: &Client, r: &ApiResource, ns: &str) -> Api<DynamicObject> {
    Api::namespaced_with(c.clone(), ns, r)
}

pub(crate) fn dynobj(v: Value) -> DynamicObject {
    serde_json::from_value(v).expect("dynamic object")
}

/// The Status of a failed kube call.
pub(crate) fn api_err<T: std::fmt::Debug>(r: Result<T, kube::Error>) -> kube::core::Status {
    match r {
        Err(kube::Error::Api(s)) => *s,
        other => panic!("expected an API error, got {other:?}"),
    }
}

pub(crate) async fn create_ns(c: &Client, name: &str) {
    let api: Api<DynamicObject> =
        Api::all_with(c.clone(), &ar("", "v1", "Namespace", "namespaces"));
    api.create(&Default::default(), &dynobj(serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})))
        .await
        .expect("create namespace");
}

/// A raw HTTP/1.1 exchange against a plain-HTTP server: (status, headers, body).
pub(crate) async fn raw(
    s: &KubeTestServer,
    method: &str,
    path: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: Option<&str>,
) -> (u16, Vec<(String, String)>, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(s.addr())
        .await
        .expect("connect");
    let body = body.unwrap_or("");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: Python-urllib/3.12\r\nAccept: application/json\r\nConnection: close\r\nContent-Length: {}\r\n",
        s.addr(),
        body.len()
    );
    if let Some(t) = token {
        req.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    if let Some(ct) = content_type {
        req.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    stream.write_all(req.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    stream.read_to_end(&mut buf).await.expect("read");
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers, body.to_string())
}
