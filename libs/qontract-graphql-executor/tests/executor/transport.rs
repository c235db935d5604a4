//! The embedded transport answers like a qontract-server pinned to one bundle.

use std::sync::Arc;

use qontract_gql::{GqlRequest, GqlTransport};
use qontract_graphql_executor::{Bundle, EmbeddedTransport};

use crate::{sample_bundle, sample_inputs};

fn transport() -> EmbeddedTransport {
    let text = qontract_bundler::bundle_to_json(
        &qontract_bundler::build_bundle(&sample_inputs()).unwrap(),
    );
    let bundle = Bundle::from_json_bytes(text.as_bytes(), "sample").unwrap();
    EmbeddedTransport::new(Arc::new(bundle), "sample bundle")
}

#[tokio::test]
async fn bundle_info_is_the_bundle_identity() {
    let t = transport();
    let info = t.bundle_info().await.unwrap();
    assert_eq!(
        info.sha,
        "e942a4f24d07ad8a927b41a16bebeea5eadcf2e3ba0fc3fe8cc582a40235fc70"
    );
    assert_eq!(info.sha, sample_bundle().sha);
    assert_eq!(info.commit, "0123456789abcdef0123456789abcdef01234567");
    assert_eq!(info.timestamp, "1798000000");
}

#[tokio::test]
async fn execute_returns_data_and_schemas() {
    let t = transport();
    let request = GqlRequest::new("{ clusters: clusters_v1 { name } }");
    let sha = sample_bundle().sha.clone();
    let response = t.execute(&request, Some(&sha)).await.unwrap();
    assert_eq!(
        response.data,
        Some(serde_json::json!({"clusters": [{"name": "cluster-1"}, {"name": "cluster-2"}]}))
    );
    assert_eq!(response.schemas(), ["/openshift/cluster-1.yml"]);
    assert!(response.errors.is_empty());
}

#[tokio::test]
async fn errors_are_carried_with_codes() {
    let t = transport();
    let request = GqlRequest::new("{ namespaces_v1(filter: {nope: 1}) { name } }");
    let response = t.execute(&request, None).await.unwrap();
    assert_eq!(response.errors.len(), 1);
    assert_eq!(
        response.errors[0].extensions.as_ref().unwrap()["code"],
        "BAD_FILTER_FIELD"
    );
    assert_eq!(
        response.errors[0].path,
        Some(serde_json::json!(["namespaces_v1"]))
    );
}

#[tokio::test]
async fn another_sha_is_refused() {
    let t = transport();
    let err = t
        .execute(
            &GqlRequest::new("{ clusters_v1 { name } }"),
            Some("deadbeef"),
        )
        .await
        .unwrap_err();
    assert!(!err.is_transient());
    assert!(err.to_string().contains("deadbeef"), "{err}");
}

#[tokio::test]
async fn app_interface_checkout_is_bundled_in_memory() {
    let t = EmbeddedTransport::from_bundle_inputs(&sample_inputs()).unwrap();
    assert_eq!(t.bundle().sha, sample_bundle().sha);
    assert!(t.describe().contains("sample-app-interface/data"));
}
