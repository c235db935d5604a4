//! Integration tests of the executor: conformance with the real qontract-server responses,
//! error shapes, and the embedded transport.

mod conformance;
mod introspection;
mod semantics;
mod transport;

use std::path::PathBuf;
use std::sync::OnceLock;

use qontract_graphql_executor::Bundle;

/// `../shared` relative to the workspace root.
pub(crate) fn shared_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared"))
}

pub(crate) fn sample_inputs() -> qontract_bundler::BundleInputs {
    let shared = shared_dir();
    let schemas = shared.join("upstream-schemas/qontract-schemas");
    qontract_bundler::BundleInputs {
        schemas_dir: schemas.join("schemas"),
        graphql_schema_file: schemas.join("graphql-schemas/schema.yml"),
        data_dir: shared.join("sample-app-interface/data"),
        resources_dir: shared.join("sample-app-interface/resources"),
        git_commit: "0123456789abcdef0123456789abcdef01234567".to_owned(),
        git_commit_timestamp: "1798000000".to_owned(),
    }
}

/// The sample app-interface bundle, built once.
pub(crate) fn sample_bundle() -> &'static Bundle {
    static BUNDLE: OnceLock<Bundle> = OnceLock::new();
    BUNDLE.get_or_init(|| {
        let value = qontract_bundler::build_bundle(&sample_inputs()).expect("sample bundles");
        let text = qontract_bundler::bundle_to_json(&value);
        Bundle::from_json_bytes(text.as_bytes(), "sample bundle").expect("sample bundle loads")
    })
}

/// Executes `query` and returns (status, body parsed with order preserved).
pub(crate) fn run(query: &str, variables: Option<&serde_json::Value>) -> (u16, serde_json::Value) {
    let execution = qontract_graphql_executor::execute(
        sample_bundle(),
        qontract_graphql_executor::Request {
            query,
            variables,
            operation_name: None,
        },
    );
    let body = execution.to_json();
    (
        execution.status,
        serde_json::from_slice(&body).expect("response is JSON"),
    )
}
