//! Every recorded qontract-server response in `sample-app-interface/examples/` is reproduced
//! exactly (JSON-equal, key order included).

use serde_json::Value;

use crate::{run, shared_dir};

fn examples() -> std::path::PathBuf {
    shared_dir().join("sample-app-interface/examples")
}

fn expected(name: &str) -> Value {
    let text = std::fs::read_to_string(examples().join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Compares with key order (serde_json preserves it) and reports the first difference.
fn assert_same(got: &Value, want: &Value, what: &str) {
    let g = serde_json::to_string_pretty(got).unwrap();
    let w = serde_json::to_string_pretty(want).unwrap();
    if g != w {
        let line = g
            .lines()
            .zip(w.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        let ctx = |s: &str| {
            s.lines()
                .skip(line.saturating_sub(3))
                .take(8)
                .collect::<Vec<_>>()
                .join("\n")
        };
        panic!(
            "{what}: response differs at line {line}\n--- got\n{}\n--- want\n{}",
            ctx(&g),
            ctx(&w)
        );
    }
}

fn check(query_file: &str, variables_file: Option<&str>, response_file: &str, status: u16) {
    let query = std::fs::read_to_string(examples().join(query_file)).unwrap();
    let variables = variables_file.map(expected);
    let (got_status, got) = run(&query, variables.as_ref());
    assert_same(&got, &expected(response_file), query_file);
    assert_eq!(got_status, status, "{query_file}");
}

#[test]
fn filters() {
    check(
        "filters.query.gql",
        Some("filters.variables.json"),
        "filters.response.json",
        200,
    );
}

#[test]
fn synthetic_and_refs() {
    check(
        "synthetic_and_refs.query.gql",
        None,
        "synthetic_and_refs.response.json",
        200,
    );
}

#[test]
fn resources() {
    check("resources.query.gql", None, "resources.response.json", 200);
}

#[test]
fn empty_objects_dropped() {
    check(
        "empty_objects.query.gql",
        None,
        "empty-objects-dropped.response.json",
        200,
    );
}

#[test]
fn unknown_argument_is_a_validation_error() {
    check(
        "bad_arg.query.gql",
        None,
        "error-unknown-argument.response.json",
        400,
    );
}

#[test]
fn bad_filter_field() {
    check(
        "bad_filter.query.gql",
        None,
        "error-bad-filter-field.response.json",
        200,
    );
}

#[test]
fn nonnull_backref_type() {
    // resources.query.gql with `type` selected on the first backrefs (line 2, column 113)
    let query = "{\n  one: resources_v1(path: \"/app-a/prometheus-rules.yml\") { path schema sha256sum backrefs { path datafileSchema type jsonpath } content }\n  all: resources_v1 { path schema sha256sum backrefs { path jsonpath } }\n}\n";
    let (status, got) = run(query, None);
    let mut want = expected("error-nonnull-backref-type.response.json");
    // the recorded run also selected the two namespace queries of resources.query.gql
    if let Some(data) = want.get_mut("data").and_then(Value::as_object_mut) {
        data.retain(|k, _| k == "one" || k == "all");
    }
    if let Some(ext) = want.get_mut("extensions") {
        ext["schemas"] = serde_json::json!(["/openshift/prometheus-rule-1.yml"]);
    }
    assert_same(&got, &want, "nonnull backref type");
    assert_eq!(status, 200);
}

const CLUSTERS_MINIMAL: &str = r#"
query ClustersMinimal($name: String) {
  clusters: clusters_v1(name: $name) {
    name
    serverUrl
    consoleUrl
    prometheusUrl
    insecureSkipTLSVerify
    managedGroups
    ocm { name }
    spec { private }
    automationToken { ...VaultSecret }
    clusterAdmin
    clusterAdminAutomationToken { ...VaultSecret }
    internal
    disable { integrations }
    auth {
      service
      ... on ClusterAuthGithubOrg_v1 { org }
      ... on ClusterAuthGithubOrgTeam_v1 { org team }
      ... on ClusterAuthOIDC_v1 { name }
    }
  }
}
fragment VaultSecret on VaultSecret_v1 { path field version format }
"#;

const INTEGRATIONS: &str = r#"
query Integrations {
  integrations: integrations_v1 {
    name
    upstream
    managed {
      namespace {
        path
        name
        environment { name parameters }
        cluster {
          name
          labels
          serverUrl
          insecureSkipTLSVerify
          automationToken { ...VaultSecret }
        }
      }
      spec {
        cache
        command
        disableUnleash
        environmentAware
        extraArgs
        extraEnv { secretKey secretName name value }
        internalCertificates
        logs { slack googleChat slackErrorFilter govSlack }
        resources { requests { cpu memory } limits { cpu memory } }
        fluentdResources { requests { cpu memory } limits { cpu memory } }
        sleepDurationSecs
        state
        storage
        storageClassName
        trigger
        cron
        dashdotdb
        concurrencyPolicy
        restartPolicy
        successfulJobHistoryLimit
        failedJobHistoryLimit
        imageRef
        enablePushgateway
      }
      sharding {
        strategy
        ... on StaticSharding_v1 { shards }
        ... on OpenshiftClusterSharding_v1 {
          shardSpecOverrides { shard { name } imageRef disabled resources { requests { cpu memory } limits { cpu memory } } subSharding { strategy ... on StaticSubSharding_v1 { shards } } }
        }
      }
    }
  }
}
fragment VaultSecret on VaultSecret_v1 { path field version format }
"#;

const NAMESPACES: &str = r#"
{
  namespaces: namespaces_v1 {
    name
    path
    labels
    delete
    clusterAdmin
    managedResourceTypes
    managedResourceTypeOverrides { resource override }
    managedResourceNames { resource resourceNames }
    sharedResources { openshiftResources { provider } }
    openshiftResources {
      provider
      ... on NamespaceOpenshiftResourceResource_v1 {
        resource: path { content path schema }
        validate_json
        validate_alertmanager_config
        alertmanager_config_key
        enable_query_support
      }
      ... on NamespaceOpenshiftResourceResourceTemplate_v1 {
        resource: path { content path schema }
        type
        variables
        validate_alertmanager_config
        alertmanager_config_key
        enable_query_support
      }
      ... on NamespaceOpenshiftResourceVaultSecret_v1 {
        path
        version
        name
        labels
        annotations
        type
        validate_alertmanager_config
        alertmanager_config_key
      }
      ... on NamespaceOpenshiftResourceRoute_v1 {
        resource: path { content path schema }
        vault_tls_secret_path
        vault_tls_secret_version
      }
      ... on NamespaceOpenshiftResourcePrometheusRule_v1 {
        resource: path { content path schema }
        type
        variables
        enable_query_support
        tests
        promtool_version
      }
    }
    environment { name parameters }
    cluster {
      name
      labels
      serverUrl
      auth { service ... on ClusterAuthGithubOrgTeam_v1 { org team } }
      insecureSkipTLSVerify
      spec { version }
      network { pod }
      automationToken { ...VaultSecret }
      clusterAdminAutomationToken { ...VaultSecret }
      internal
      disable { integrations }
    }
  }
}
fragment VaultSecret on VaultSecret_v1 { path field version format }
"#;

#[test]
fn clusters_minimal() {
    // recorded with `{"name": "cluster-1"}`
    let (status, got) = run(
        CLUSTERS_MINIMAL,
        Some(&serde_json::json!({"name": "cluster-1"})),
    );
    assert_same(
        &got,
        &expected("clusters_minimal.response.json"),
        "clusters_minimal",
    );
    assert_eq!(status, 200);
}

#[test]
fn integrations() {
    let (status, got) = run(INTEGRATIONS, None);
    assert_same(
        &got,
        &expected("integrations.response.json"),
        "integrations",
    );
    assert_eq!(status, 200);
}

#[test]
fn openshift_resources_namespaces() {
    let (status, got) = run(NAMESPACES, None);
    assert_same(
        &got,
        &expected("openshift_resources_namespaces.response.json"),
        "namespaces",
    );
    assert_eq!(status, 200);
}
