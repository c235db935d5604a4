//! Unit tests of the desired state (kept out of `desired.rs` for length).

use qontract_gql_bindings::openshift_resources_namespaces::NamespaceV1;
use qontract_secrets::ConfigSecretReader;
use qontract_test_support::fixtures;
use serde_json::json;

use super::desired::*;
use super::{MANAGED_TYPE, NAME};

const ROUTE: &str = "\
apiVersion: route.openshift.io/v1
kind: Route
metadata:
  name: shop
spec:
  host: shop.apps.sandbox.example
  to:
    kind: Service
    name: shop
  tls:
    termination: passthrough
";

/// A self-signed certificate with subject CN `common_name` and its key, as PEM.
fn certificate(common_name: &str) -> (String, String) {
    let mut params =
        rcgen::CertificateParams::new(vec![common_name.replace("*.", "x.")]).expect("params");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, common_name);
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = params.self_signed(&key).expect("certificate");
    (cert.pem(), key.serialize_pem())
}

fn reader(tls_tables: &str) -> ConfigSecretReader {
    ConfigSecretReader::from_toml_str(tls_tables, "test").expect("TOML")
}

/// A namespace of the openshiftResources query with the given openshiftResources.
fn namespace(cluster: &str, name: &str, resources: serde_json::Value) -> NamespaceV1 {
    fixtures::namespace(cluster, name)
        .set("openshiftResources", resources)
        .typed()
}

fn route_resource(content: &str, tls: Option<(&str, Option<i32>)>) -> serde_json::Value {
    let fields = json!({
        "path": fixtures::resource_file("/shop/route.yml", content),
        "vault_tls_secret_path": tls.map(|t| t.0),
        "vault_tls_secret_version": tls.and_then(|t| t.1),
    });
    fixtures::openshift_resource("route", fields)
}

fn filter() -> Filter {
    Filter {
        integration: NAME,
        ..Filter::default()
    }
}

fn errors(state: &DesiredState) -> Vec<String> {
    fixtures::error_messages(&state.inventory)
}

#[tokio::test]
async fn a_route_without_tls_secret_is_the_resource_file() {
    let namespaces = vec![
        namespace(
            "sandbox",
            "shop-production",
            json!([route_resource(ROUTE, None)]),
        ),
        namespace("sandbox", "shop-stage", json!([])),
    ];
    let declared = declared_routes(&namespaces, &filter());
    assert_eq!(declared.namespaces.len(), 1, "shop-stage declares no route");
    let state = desired_state(declared, &reader(""), 4).await;
    assert_eq!(errors(&state), Vec::<String>::new());
    let route = state
        .inventory
        .get_desired("sandbox", "shop-production", MANAGED_TYPE, "shop")
        .expect("desired");
    insta::assert_json_snapshot!(route.resource.body());
}

#[tokio::test]
async fn tls_fields_come_from_the_secret_and_other_keys_are_ignored() {
    let (cert, key) = certificate("*.apps.sandbox.example");
    let tables = format!(
        "[shop.tls]\ntermination = \"edge\"\ninsecureEdgeTerminationPolicy = \"Redirect\"\n\
         certificate = '''{cert}'''\nkey = '''{key}'''\nunrelated = \"ignored\"\n"
    );
    let namespaces = vec![namespace(
        "sandbox",
        "shop-production",
        json!([route_resource(ROUTE, Some(("shop/tls", Some(2))))]),
    )];
    let state = desired_state(declared_routes(&namespaces, &filter()), &reader(&tables), 4).await;
    assert_eq!(errors(&state), Vec::<String>::new());
    let body = state
        .inventory
        .get_desired("sandbox", "shop-production", MANAGED_TYPE, "shop")
        .expect("desired")
        .resource
        .body()
        .clone();
    assert_eq!(body["spec"]["tls"]["certificate"], cert.as_str());
    assert_eq!(body["spec"]["tls"]["key"], key.as_str());
    insta::assert_json_snapshot!(body, {
        ".spec.tls.certificate" => "[certificate]",
        ".spec.tls.key" => "[key]",
    });
}

#[tokio::test]
async fn a_certificate_for_another_host_is_an_error_that_shows_no_tls_value() {
    let (cert, key) = certificate("*.apps.elsewhere.example");
    let tables = format!("[shop.tls]\ncertificate = '''{cert}'''\nkey = '''{key}'''\n");
    let namespaces = vec![namespace(
        "sandbox",
        "shop-production",
        json!([route_resource(ROUTE, Some(("shop/tls", Some(1))))]),
    )];
    let state = desired_state(declared_routes(&namespaces, &filter()), &reader(&tables), 4).await;
    let errors = errors(&state);
    assert_eq!(errors.len(), 1, "{errors:?}");
    insta::assert_snapshot!(errors[0]);
    assert!(!errors[0].contains("PRIVATE KEY") && !errors[0].contains("BEGIN CERTIFICATE"));
    assert!(state.inventory.has_cluster_error("sandbox"));
    assert_eq!(state.inventory.len().0, 0);
}

#[tokio::test]
async fn an_unreadable_secret_or_a_bad_certificate_is_an_error_naming_the_route_and_path() {
    let namespaces = vec![
        namespace(
            "sandbox",
            "shop-production",
            json!([route_resource(ROUTE, Some(("shop/missing", Some(1))))]),
        ),
        namespace(
            "other",
            "shop-stage",
            json!([route_resource(ROUTE, Some(("shop/bad", Some(1))))]),
        ),
    ];
    let tables = "[shop.bad]\ncertificate = \"not a certificate\"\n";
    let state = desired_state(declared_routes(&namespaces, &filter()), &reader(tables), 4).await;
    let mut errors = errors(&state);
    errors.sort();
    insta::assert_json_snapshot!(errors);
}

#[tokio::test]
async fn a_tls_path_without_version_is_not_read_as_upstream() {
    let namespaces = vec![namespace(
        "sandbox",
        "shop-production",
        json!([route_resource(ROUTE, Some(("shop/missing", None)))]),
    )];
    let declared = declared_routes(&namespaces, &filter());
    assert!(declared.routes.iter().all(|r| r.tls.is_none()));
    let state = desired_state(declared, &reader(""), 4).await;
    assert_eq!(errors(&state), Vec::<String>::new());
    assert_eq!(state.inventory.len().0, 1);
}

#[tokio::test]
async fn invalid_files_and_other_kinds_are_errors_and_filtered_namespaces_are_not_managed() {
    let service = "apiVersion: v1\nkind: Service\nmetadata:\n  name: shop\nspec: {}\n";
    let mut deleted = namespace("sandbox", "gone", json!([route_resource(ROUTE, None)]));
    deleted.delete = Some(true);
    let namespaces = vec![
        namespace(
            "sandbox",
            "shop-production",
            json!([
                route_resource("kind: [", None),
                route_resource(service, None)
            ]),
        ),
        deleted,
        namespace("other", "web", json!([route_resource(ROUTE, None)])),
    ];
    let declared = declared_routes(
        &namespaces,
        &Filter {
            cluster_name: Some("sandbox".to_owned()),
            ..filter()
        },
    );
    assert_eq!(declared.namespaces.len(), 1);
    assert_eq!(declared.clusters.keys().collect::<Vec<_>>(), ["sandbox"]);
    let state = desired_state(declared, &reader(""), 4).await;
    let errors = errors(&state);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].contains("[sandbox/shop-production] /shop/route.yml"),
        "{errors:?}"
    );
    assert!(errors[1].contains("Service"), "{errors:?}");
    assert_eq!(state.inventory.len().0, 0);
}

#[test]
fn the_host_must_end_with_the_common_name_as_upstream() {
    assert!(certificate_matches_host(
        "*.apps.example",
        "shop.apps.example"
    ));
    assert!(certificate_matches_host("shop.example", "shop.example"));
    assert!(!certificate_matches_host("*.apps.example", "shop.example"));
    let (cert, _) = certificate("shop.example");
    assert_eq!(
        certificate_common_name(&cert).as_deref(),
        Ok("shop.example")
    );
    assert!(certificate_common_name("garbage").is_err());
}
