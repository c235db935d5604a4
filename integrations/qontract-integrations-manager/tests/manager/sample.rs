//! The desired state of the shared sample app-interface (real upstream data shapes: a cached
//! per-openshift-cluster integration with a shard override, a statically sharded one), queried
//! with our GraphQL query document through our schema.

use std::sync::Arc;

use qontract_gql::{ClientOptions, GqlClient};
use qontract_graphql_executor::EmbeddedTransport;
use qontract_integrations_manager::desired::{self, Options};
use serde_json::Value;

async fn sample_data() -> qontract_gql_bindings::integrations_managed::IntegrationsManaged {
    use cynic::QueryBuilder;
    let sample = qontract_test_support::shared_dir().join("sample-app-interface");
    let inputs = qontract_bundler::BundleInputs {
        schemas_dir: Default::default(),
        graphql_schema_file: std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../schemas/graphql-schema.yml"),
        data_dir: sample.join("data"),
        resources_dir: sample.join("resources"),
        git_commit: "0".repeat(40),
        git_commit_timestamp: "0".into(),
    };
    let transport = EmbeddedTransport::from_bundle_inputs(&inputs).unwrap();
    let client = GqlClient::connect(Arc::new(transport), ClientOptions::default())
        .await
        .unwrap();
    client
        .run(qontract_gql_bindings::integrations_managed::IntegrationsManaged::build(()))
        .await
        .unwrap()
}

#[tokio::test]
async fn the_sample_app_interface_renders_per_shard_workloads() {
    let data = sample_data().await;
    let options = Options {
        integration: qontract_integrations_manager::NAME,
        image: Some("quay.io/app-sre/qontract-reconcile-rs".into()),
        parameter_overrides: [("IMAGE_TAG".to_owned(), "0.1.0".to_owned())].into(),
        ..Options::default()
    };
    let state = desired::desired_state(&data, &options, &qontract_integrations_manager::cli_meta);
    let errors: Vec<&str> = state
        .inventory
        .errors()
        .iter()
        .map(|e| e.message.as_str())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let mut objects: Vec<(String, String, String, Option<String>)> = Vec::new();
    let mut bodies: std::collections::BTreeMap<String, Value> = Default::default();
    for (cluster, namespace, kind, types) in state.inventory.iter() {
        for (name, entry) in types.desired() {
            let body = entry.resource.body();
            let image = body["spec"]["template"]["spec"]["containers"][0]["image"]
                .as_str()
                .map(str::to_owned);
            objects.push((
                format!("{cluster}/{namespace}"),
                kind.to_owned(),
                name.clone(),
                image,
            ));
            bodies.insert(name.clone(), body.clone());
        }
    }
    insta::assert_yaml_snapshot!(objects);
    // The cached integration is a StatefulSet with its cache volume.
    let cached = bodies
        .values()
        .find(|b| b["kind"] == "StatefulSet")
        .expect("a StatefulSet");
    assert_eq!(
        cached["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"],
        "1Gi"
    );
    // The sample's environment parameters are a YAML mapping, not a JSON string.
    assert_eq!(state.namespaces, 1);
}
