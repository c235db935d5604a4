//! The sample app-interface bundles to the exact bytes of the upstream bundler.

use qontract_bundler::{BundleInputs, build_bundle, bundle_to_json, sha256_hex};

use crate::shared_dir;

fn sample_inputs() -> BundleInputs {
    let shared = shared_dir();
    let schemas = shared.join("upstream-schemas/qontract-schemas");
    BundleInputs {
        schemas_dir: schemas.join("schemas"),
        graphql_schema_file: schemas.join("graphql-schemas/schema.yml"),
        data_dir: shared.join("sample-app-interface/data"),
        resources_dir: shared.join("sample-app-interface/resources"),
        git_commit: "0123456789abcdef0123456789abcdef01234567".to_owned(),
        git_commit_timestamp: "1798000000".to_owned(),
    }
}

#[test]
fn sample_bundle_has_the_upstream_sha256() {
    let bundle = build_bundle(&sample_inputs()).expect("sample bundles");
    let text = bundle_to_json(&bundle);
    assert_eq!(
        sha256_hex(text.as_bytes()),
        "e942a4f24d07ad8a927b41a16bebeea5eadcf2e3ba0fc3fe8cc582a40235fc70"
    );
}

#[test]
fn sample_bundle_content_highlights() {
    let bundle = build_bundle(&sample_inputs()).unwrap();
    let ns = &bundle["data"]["/services/app-a/namespaces/app-a-stage.yml"];
    // checksum of the file text
    let raw = std::fs::read(
        shared_dir().join("sample-app-interface/data/services/app-a/namespaces/app-a-stage.yml"),
    )
    .unwrap();
    assert_eq!(ns["$file_sha256sum"], sha256_hex(&raw));
    // context-unique openshiftResources items carry an identifier
    let ids: Vec<bool> = ns["openshiftResources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["__identifier"].is_string())
        .collect();
    assert!(ids.iter().any(|b| *b), "{ids:?}");
    let rules = &bundle["resources"]["/app-a/prometheus-rules.yml"];
    insta::assert_json_snapshot!(
        serde_json::json!({
            "schema": rules["$schema"],
            "sha256sum": rules["sha256sum"],
            "backrefs": rules["backrefs"],
            "configmap_backrefs": bundle["resources"]["/app-a/configmap.yml"]["backrefs"],
            "metaschema_checksum_prop": bundle["schemas"]["/openshift/namespace-1.yml"]["properties"]["$file_sha256sum"],
        }),
        @r#"{
  "schema": "/openshift/prometheus-rule-1.yml",
  "sha256sum": "605ecaf53d39a96db8428452bca0f0affd1f23c329b53fa185fa713cfb5ccc1a",
  "backrefs": [
    {
      "path": "/services/app-a/namespaces/app-a-observability.yml",
      "datafileSchema": "/openshift/namespace-1.yml",
      "jsonpath": "openshiftResources.[1].path"
    }
  ],
  "configmap_backrefs": [
    {
      "path": "/services/app-a/namespaces/app-a-production.yml",
      "datafileSchema": "/openshift/namespace-1.yml",
      "jsonpath": "openshiftResources.[0].path"
    },
    {
      "path": "/services/app-a/namespaces/app-a-stage.yml",
      "datafileSchema": "/openshift/namespace-1.yml",
      "jsonpath": "openshiftResources.[0].path"
    }
  ],
  "metaschema_checksum_prop": {
    "type": "string",
    "description": "sha256sum of the datafile"
  }
}"#
    );
}
