//! The HTTP API end to end: a real listener on loopback, raw HTTP/1.1 requests.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use qontract_server::{AppState, ServerConfig, router};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SAMPLE_SHA: &str = "e942a4f24d07ad8a927b41a16bebeea5eadcf2e3ba0fc3fe8cc582a40235fc70";

fn shared_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared"))
}

fn sample_bundle_value() -> serde_json::Value {
    let shared = shared_dir();
    let schemas = shared.join("upstream-schemas/qontract-schemas");
    qontract_bundler::build_bundle(&qontract_bundler::BundleInputs {
        schemas_dir: schemas.join("schemas"),
        graphql_schema_file: schemas.join("graphql-schemas/schema.yml"),
        data_dir: shared.join("sample-app-interface/data"),
        resources_dir: shared.join("sample-app-interface/resources"),
        git_commit: "0123456789abcdef0123456789abcdef01234567".to_owned(),
        git_commit_timestamp: "1798000000".to_owned(),
    })
    .unwrap()
}

fn write_bundle(path: &Path, value: &serde_json::Value) {
    std::fs::write(path, qontract_bundler::bundle_to_json(value)).unwrap();
}

struct Http {
    addr: SocketAddr,
}

impl Http {
    async fn request(&self, method: &str, path: &str, body: Option<&str>) -> (u16, String, String) {
        let mut stream = tokio::net::TcpStream::connect(self.addr).await.unwrap();
        let body = body.unwrap_or("");
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(req.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.unwrap();
        let text = String::from_utf8(raw).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
        (status, head.to_lowercase(), body.to_owned())
    }
}

async fn start(file: &Path) -> (Http, Arc<AppState>) {
    let state = AppState::new(ServerConfig {
        datafiles_file: file.to_path_buf(),
        bundle_ttl: Duration::from_secs(600),
    });
    state.reload().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router(state.clone());
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (Http { addr }, state)
}

const CLUSTERS: &str = r#"{"query":"{ clusters_v1 { name } }"}"#;

#[tokio::test]
async fn endpoints_match_the_upstream_transcript() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bundle.json");
    write_bundle(&file, &sample_bundle_value());
    let (http, _) = start(&file).await;

    let (status, _, body) = http.request("GET", "/sha256", None).await;
    assert_eq!((status, body.as_str()), (200, SAMPLE_SHA));

    let (status, _, body) = http.request("GET", "/git-commit-info", None).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        r#"{"commit":"0123456789abcdef0123456789abcdef01234567","timestamp":"1798000000"}"#
    );

    let (status, _, body) = http.request("GET", "/git-commit", None).await;
    assert_eq!(
        (status, body.as_str()),
        (200, "0123456789abcdef0123456789abcdef01234567")
    );

    let (status, _, body) = http
        .request("POST", &format!("/graphqlsha/{SAMPLE_SHA}"), Some(CLUSTERS))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        r#"{"data":{"clusters_v1":[{"name":"cluster-1"},{"name":"cluster-2"}]},"extensions":{"schemas":["/openshift/cluster-1.yml"]}}"#
    );

    let (status, head, body) = http
        .request("POST", "/graphqlsha/deadbeef", Some(CLUSTERS))
        .await;
    assert_eq!(status, 404);
    assert!(
        head.contains("content-type: text/html; charset=utf-8"),
        "{head}"
    );
    assert_eq!(
        body,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Error</title>\n</head>\n<body>\n<pre>Cannot POST /graphqlsha/deadbeef</pre>\n</body>\n</html>\n"
    );

    let (status, _, body) = http
        .request(
            "GET",
            "/graphql?query=%7B%20integrations_v1%20%7B%20name%20%7D%20%7D",
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        r#"{"data":{"integrations_v1":[{"name":"openshift-namespaces"},{"name":"openshift-resources"},{"name":"openshift-rolebindings"}]},"extensions":{"schemas":["/app-sre/integration-1.yml"]}}"#
    );

    let (status, head, _) = http.request("GET", "/", None).await;
    assert_eq!(status, 302);
    assert!(head.contains("location: /graphql"), "{head}");

    let (status, _, body) = http.request("GET", "/healthz", None).await;
    assert_eq!((status, body.as_str()), (200, ""));

    let (status, _, body) = http
        .request(
            "POST",
            "/graphql",
            Some(r#"{"query":"{ namespaces_v1(name: \"x\") { name } }"}"#),
        )
        .await;
    assert_eq!(status, 400);
    assert!(body.contains("GRAPHQL_VALIDATION_FAILED"), "{body}");

    let (status, _, body) = http.request("GET", "/metrics", None).await;
    assert_eq!(status, 200);
    assert!(
        body.contains("qontract_server_datafiles{schema=\"/openshift/namespace-1.yml\"} 6"),
        "{body}"
    );
    assert!(body.contains("qontract_server_reloads_total 1"), "{body}");
}

#[tokio::test]
async fn reload_switches_latest_and_keeps_the_old_sha_queryable() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bundle.json");
    let mut value = sample_bundle_value();
    write_bundle(&file, &value);
    let (http, _) = start(&file).await;

    // same content: no-op
    let (status, _, _) = http.request("POST", "/reload", None).await;
    assert_eq!(status, 200);
    let (_, _, sha) = http.request("GET", "/sha256", None).await;
    assert_eq!(sha, SAMPLE_SHA);

    // new content
    value["data"]["/services/app-a/namespaces/app-a-stage.yml"]["description"] =
        serde_json::json!("changed");
    value["git_commit"] = serde_json::json!("fedcba9876543210fedcba9876543210fedcba98");
    write_bundle(&file, &value);
    let (status, _, _) = http.request("POST", "/reload", None).await;
    assert_eq!(status, 200);
    let (_, _, new_sha) = http.request("GET", "/sha256", None).await;
    assert_ne!(new_sha, SAMPLE_SHA);
    let (_, _, commit) = http.request("GET", "/git-commit", None).await;
    assert_eq!(commit, "fedcba9876543210fedcba9876543210fedcba98");

    // the old bundle is still served by sha
    let (status, _, body) = http
        .request("GET", &format!("/git-commit-info/{SAMPLE_SHA}"), None)
        .await;
    assert_eq!(status, 200);
    assert!(
        body.contains("0123456789abcdef0123456789abcdef01234567"),
        "{body}"
    );
    let (status, _, _) = http
        .request("POST", &format!("/graphqlsha/{SAMPLE_SHA}"), Some(CLUSTERS))
        .await;
    assert_eq!(status, 200);
    let (_, _, cache) = http.request("GET", "/cache", None).await;
    let cache: serde_json::Value = serde_json::from_str(&cache).unwrap();
    assert_eq!(cache["bundles"], serde_json::json!([SAMPLE_SHA, new_sha]));

    // diff between the two bundles: only the changed datafile
    let (status, _, body) = http
        .request("GET", &format!("/diff/{SAMPLE_SHA}/{new_sha}"), None)
        .await;
    assert_eq!(status, 200);
    let diff: serde_json::Value = serde_json::from_str(&body).unwrap();
    let changed: Vec<&String> = diff["datafiles"].as_object().unwrap().keys().collect();
    assert_eq!(changed, ["/services/app-a/namespaces/app-a-stage.yml"]);
    assert_eq!(
        diff["datafiles"][changed[0]]["new"]["description"],
        "changed"
    );
    assert_eq!(
        diff["datafiles"][changed[0]]["datafileschema"],
        "/openshift/namespace-1.yml"
    );
    assert_eq!(diff["resources"], serde_json::json!({}));
    let (status, _, body) = http
        .request(
            "GET",
            &format!(
                "/diff/{SAMPLE_SHA}/{new_sha}/datafile/services/app-a/namespaces/app-a-stage.yml"
            ),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let one: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        one["datafilepath"],
        "/services/app-a/namespaces/app-a-stage.yml"
    );
    assert_ne!(one["old"]["description"], "changed");

    // a broken file: 503, latest unchanged
    std::fs::write(&file, "{not json").unwrap();
    let (status, _, _) = http.request("POST", "/reload", None).await;
    assert_eq!(status, 503);
    let (_, _, sha) = http.request("GET", "/sha256", None).await;
    assert_eq!(sha, new_sha);
}

/// `INIT_BUNDLES` are loaded before `DATAFILES_FILE`: every one stays queryable by sha and the
/// data file is the latest.
#[tokio::test]
async fn init_bundles_are_queryable_by_sha() {
    let dir = tempfile::tempdir().unwrap();
    let mut older = sample_bundle_value();
    older["git_commit"] = serde_json::Value::String("1".repeat(40));
    let older_file = dir.path().join("older.json");
    write_bundle(&older_file, &older);
    let latest_file = dir.path().join("bundle.json");
    write_bundle(&latest_file, &sample_bundle_value());

    let state = AppState::new(ServerConfig {
        datafiles_file: latest_file.clone(),
        bundle_ttl: Duration::from_secs(600),
    });
    let init = state
        .load_init_bundles(&format!("fs://{}, ", older_file.display()))
        .unwrap();
    assert_eq!(init.len(), 1);
    let (_, latest) = state.reload().unwrap();
    assert_ne!(init[0], latest);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let http = Http {
        addr: listener.local_addr().unwrap(),
    };
    tokio::spawn(async move {
        axum::serve(listener, router(state)).await.unwrap();
    });
    let (status, _, body) = http.request("GET", "/sha256", None).await;
    assert_eq!((status, body.trim()), (200, latest.as_str()));
    for sha in [&init[0], &latest] {
        let (status, _, body) = http
            .request("POST", &format!("/graphqlsha/{sha}"), Some(CLUSTERS))
            .await;
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("cluster-1"), "{body}");
    }
    let (status, _, body) = http
        .request("GET", &format!("/git-commit/{}", init[0]), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(body.trim(), "1".repeat(40));

    let missing = state_error(&dir.path().join("nope.json"));
    assert!(missing.contains("nope.json"), "{missing}");
}

fn state_error(path: &Path) -> String {
    let state = AppState::new(ServerConfig {
        datafiles_file: path.to_owned(),
        bundle_ttl: Duration::from_secs(1),
    });
    state
        .load_init_bundles(&path.display().to_string())
        .unwrap_err()
        .to_string()
}
