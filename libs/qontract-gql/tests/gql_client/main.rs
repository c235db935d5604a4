//! GraphQL client behaviour against a server speaking qontract-server's protocol, with
//! responses recorded from the real server (`../shared/sample-app-interface/examples/`).

use std::sync::Arc;
use std::time::Duration;

use qontract_gql::{ClientOptions, GqlClient, GqlError, GqlRequest, HttpTransport, RetryPolicy};
use qontract_test_support::{FakeQontractServer, shared_dir};
use serde_json::{Value, json};

const SHA: &str = "e942a4f24d07ad8a927b41a16bebeea5eadcf2e3ba0fc3fe8cc582a40235fc70";

fn recorded(name: &str) -> Value {
    let path = shared_dir()
        .join("sample-app-interface/examples")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// A qontract-server stand-in: the integrations query gets an allow-list for
/// `openshift-namespaces`; other queries get the recorded ClustersMinimal response.
fn handler(clusters_schemas: Vec<&'static str>) -> impl Fn(&Value) -> (u16, Value) + Send + Sync {
    let clusters = recorded("clusters_minimal.response.json");
    move |req: &Value| {
        let query = req["query"].as_str().unwrap_or_default();
        if query.contains("integrations_v1") {
            (
                200,
                json!({
                    "data": {"integrations": [
                        {"name": "openshift-namespaces", "description": "d",
                         "schemas": ["/openshift/namespace-1.yml", "/openshift/cluster-1.yml"]},
                        {"name": "no-schemas", "description": "d", "schemas": []}
                    ]},
                    "extensions": {"schemas": ["/app-sre/integration-1.yml"]}
                }),
            )
        } else {
            let mut body = clusters.clone();
            // The recorded response answered the aliased upstream query (`clusters: clusters_v1`);
            // cynic sends the un-aliased field, so answer under the name it asked for.
            if query.contains("clusters_v1") && !query.contains("clusters:") {
                let list = body["data"]["clusters"].take();
                body["data"] = json!({ "clusters_v1": list });
            }
            body["extensions"] = json!({ "schemas": clusters_schemas.clone() });
            (200, body)
        }
    }
}

fn fast_retry(attempts: u32) -> RetryPolicy {
    RetryPolicy {
        attempts,
        backoff: Duration::from_millis(5),
    }
}

fn options(integration: &str) -> ClientOptions {
    ClientOptions {
        integration: Some(integration.to_owned()),
        validate_schemas: true,
        pin_sha: true,
        retry: fast_retry(5),
        fixed_sha: None,
    }
}

async fn client(
    server: &FakeQontractServer,
    token: Option<&str>,
    options: ClientOptions,
) -> Result<GqlClient, GqlError> {
    let transport = HttpTransport::new(&server.graphql_url(), token.map(str::to_owned)).unwrap();
    GqlClient::connect(Arc::new(transport), options).await
}

const CLUSTERS: &str = "{ clusters: clusters_v1 { name serverUrl } }";

#[tokio::test]
async fn run_is_pinned_to_the_bundle_sha_and_sends_the_token_verbatim() {
    let server = FakeQontractServer::start(SHA, handler(vec!["/openshift/cluster-1.yml"])).await;
    let gql = client(
        &server,
        Some("Basic dXNlcjpwYXNz"),
        options("openshift-namespaces"),
    )
    .await
    .unwrap();
    assert_eq!(gql.bundle().unwrap().sha, SHA);
    assert_eq!(
        gql.bundle().unwrap().commit,
        "0123456789abcdef0123456789abcdef01234567"
    );
    assert_eq!(gql.bundle().unwrap().timestamp, "1798000000");
    gql.query(&GqlRequest::new(CLUSTERS)).await.unwrap();
    assert_eq!(
        server.request_lines(),
        [
            "GET /sha256".to_owned(),
            format!("GET /git-commit-info/{SHA}"),
            format!("POST /graphqlsha/{SHA}"),
            format!("POST /graphqlsha/{SHA}"),
        ]
    );
    for r in server.requests() {
        assert_eq!(
            r.authorization.as_deref(),
            Some("Basic dXNlcjpwYXNz"),
            "{}",
            r.path
        );
    }
}

#[tokio::test]
async fn no_gql_sha_url_queries_the_configured_url_and_sends_no_token_when_none() {
    let server = FakeQontractServer::start(SHA, handler(vec!["/openshift/cluster-1.yml"])).await;
    let gql = client(
        &server,
        None,
        ClientOptions {
            pin_sha: false,
            ..options("openshift-namespaces")
        },
    )
    .await
    .unwrap();
    assert!(gql.bundle().is_none());
    gql.query(&GqlRequest::new(CLUSTERS)).await.unwrap();
    assert_eq!(server.request_lines(), ["POST /graphql", "POST /graphql"]);
    assert!(server.requests().iter().all(|r| r.authorization.is_none()));
}

#[tokio::test]
async fn typed_query_decodes_the_recorded_response() {
    use cynic::QueryBuilder;
    use qontract_gql_bindings::clusters_minimal::{ClustersMinimal, ClustersMinimalVariables};
    let server = FakeQontractServer::start(SHA, handler(vec!["/openshift/cluster-1.yml"])).await;
    let gql = client(&server, None, options("openshift-namespaces"))
        .await
        .unwrap();
    let data = gql
        .run(ClustersMinimal::build(ClustersMinimalVariables {
            name: None,
        }))
        .await
        .unwrap();
    let clusters = data.clusters.unwrap();
    let names: Vec<&str> = clusters.iter().map(|c| c.name.as_str()).collect();
    let expected: Vec<String> = recorded("clusters_minimal.response.json")["data"]["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(names, expected);
    let token = clusters[0].automation_token.as_ref().unwrap();
    assert_eq!(token.path, "app-sre/creds/kube-configs/cluster-1");
    assert_eq!(token.version, Some(2));
    // The typed query sent the generated document, and no variables (all were null).
    let sent = server.requests().pop().unwrap().body;
    assert!(
        sent["query"].as_str().unwrap().contains("clusters_v1"),
        "{sent}"
    );
}

#[tokio::test]
async fn http_5xx_is_retried_until_it_succeeds() {
    let server = FakeQontractServer::start(SHA, handler(vec!["/openshift/cluster-1.yml"])).await;
    let gql = client(&server, None, options("openshift-namespaces"))
        .await
        .unwrap();
    server.fail_next_posts(&[502, 503]);
    let before = server.requests().len();
    gql.query(&GqlRequest::new(CLUSTERS)).await.unwrap();
    assert_eq!(
        server.requests().len() - before,
        3,
        "two failures then one success"
    );
}

#[tokio::test]
async fn http_5xx_gives_up_after_the_bounded_number_of_attempts() {
    let server = FakeQontractServer::start(SHA, handler(vec!["/openshift/cluster-1.yml"])).await;
    let gql = client(
        &server,
        None,
        ClientOptions {
            retry: fast_retry(3),
            ..options("openshift-namespaces")
        },
    )
    .await
    .unwrap();
    server.fail_next_posts(&[500, 500, 500, 500]);
    let before = server.requests().len();
    let err = gql.query(&GqlRequest::new(CLUSTERS)).await.unwrap_err();
    assert_eq!(server.requests().len() - before, 3);
    match &err {
        GqlError::Transport { attempts, .. } => assert_eq!(*attempts, 3),
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("HTTP 500"), "{err}");
}

#[tokio::test]
async fn graphql_errors_are_not_retried() {
    let error = recorded("error-bad-filter-field.response.json");
    let server = FakeQontractServer::start(SHA, move |req: &Value| {
        if req["query"]
            .as_str()
            .unwrap_or_default()
            .contains("integrations_v1")
        {
            (
                200,
                json!({"data": {"integrations": [{"name": "x", "schemas": ["/a-1.yml"]}]}}),
            )
        } else {
            (200, error.clone())
        }
    })
    .await;
    let gql = client(&server, None, options("x")).await.unwrap();
    let before = server.requests().len();
    let err = gql
        .query(&GqlRequest::new("{ clusters_v1(filter: {x: 1}) { name } }"))
        .await
        .unwrap_err();
    assert_eq!(
        server.requests().len() - before,
        1,
        "a GraphQL error is final"
    );
    assert!(matches!(err, GqlError::Graphql { .. }), "{err:?}");
    assert!(err.to_string().contains("BAD_FILTER_FIELD"), "{err}");
}

#[tokio::test]
async fn graphql_validation_errors_with_http_400_are_graphql_errors() {
    let error = recorded("error-unknown-argument.response.json");
    let server = FakeQontractServer::start(SHA, move |req: &Value| {
        if req["query"]
            .as_str()
            .unwrap_or_default()
            .contains("integrations_v1")
        {
            (
                200,
                json!({"data": {"integrations": [{"name": "x", "schemas": ["/a-1.yml"]}]}}),
            )
        } else {
            (400, error.clone())
        }
    })
    .await;
    let gql = client(&server, None, options("x")).await.unwrap();
    let before = server.requests().len();
    let err = gql
        .query(&GqlRequest::new("{ namespaces_v1(name: \"x\") { name } }"))
        .await
        .unwrap_err();
    assert_eq!(server.requests().len() - before, 1);
    assert!(matches!(err, GqlError::Graphql { .. }), "{err:?}");
    assert!(
        err.to_string().contains("GRAPHQL_VALIDATION_FAILED"),
        "{err}"
    );
}

#[tokio::test]
async fn integration_without_entry_is_not_found_only_with_validation() {
    let server = FakeQontractServer::start(SHA, handler(vec![])).await;
    for name in ["unknown-integration", "no-schemas"] {
        let err = client(&server, None, options(name)).await.unwrap_err();
        assert!(
            matches!(err, GqlError::IntegrationNotFound { .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains(name), "{err}");
    }
    let gql = client(
        &server,
        None,
        ClientOptions {
            validate_schemas: false,
            ..options("unknown-integration")
        },
    )
    .await
    .unwrap();
    assert!(gql.allowed_schemas().is_none());
}

#[tokio::test]
async fn forbidden_schema_fails_the_query_and_allowed_ones_pass() {
    let server = FakeQontractServer::start(
        SHA,
        handler(vec!["/openshift/cluster-1.yml", "/access/user-1.yml"]),
    )
    .await;
    let gql = client(&server, None, options("openshift-namespaces"))
        .await
        .unwrap();
    let err = gql.query(&GqlRequest::new(CLUSTERS)).await.unwrap_err();
    match &err {
        GqlError::ForbiddenSchemas {
            integration,
            schemas,
        } => {
            assert_eq!(integration, "openshift-namespaces");
            assert_eq!(schemas, &["/access/user-1.yml".to_owned()]);
        }
        other => panic!("unexpected {other:?}"),
    }
    // Every touched schema is still recorded for --dump-schemas, in first-touch order.
    assert_eq!(
        gql.queried_schemas(),
        [
            "/app-sre/integration-1.yml",
            "/openshift/cluster-1.yml",
            "/access/user-1.yml"
        ]
    );

    let lenient = client(
        &server,
        None,
        ClientOptions {
            validate_schemas: false,
            ..options("openshift-namespaces")
        },
    )
    .await
    .unwrap();
    lenient.query(&GqlRequest::new(CLUSTERS)).await.unwrap();
}

#[tokio::test]
async fn a_bundle_no_longer_served_is_a_clear_error() {
    use qontract_gql::GqlTransport;
    let server = FakeQontractServer::start(SHA, handler(vec!["/openshift/cluster-1.yml"])).await;
    let transport = HttpTransport::new(&server.graphql_url(), None).unwrap();
    let err = transport
        .execute(&GqlRequest::new(CLUSTERS), Some("deadbeef"))
        .await
        .unwrap_err();
    assert!(!err.is_transient(), "a vanished bundle is not retried");
    assert!(err.to_string().contains("bundle deadbeef"), "{err}");
    assert_eq!(server.request_lines(), ["POST /graphqlsha/deadbeef"]);
}

#[tokio::test]
async fn unreachable_server_is_retried_then_reported() {
    let server = FakeQontractServer::start(SHA, handler(vec![])).await;
    let url = server.graphql_url();
    server.stop();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let transport = HttpTransport::with_timeout(&url, None, Duration::from_secs(2)).unwrap();
    let err = GqlClient::connect(
        Arc::new(transport),
        ClientOptions {
            retry: fast_retry(2),
            ..options("openshift-namespaces")
        },
    )
    .await
    .unwrap_err();
    match &err {
        GqlError::Transport { attempts, .. } => assert_eq!(*attempts, 2),
        other => panic!("unexpected {other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("could not connect") && text.contains("/sha256"),
        "{text}"
    );
}
