//! Behaviour beyond the recorded examples: errors, variables, directives, filters, scalars.

use serde_json::json;

use crate::run;

fn body(query: &str) -> String {
    let (status, v) = run(query, None);
    format!("{status} {}", serde_json::to_string(&v).unwrap())
}

#[test]
fn syntax_error_is_a_400_parse_failure() {
    let (status, v) = run("{ clusters_v1 { name }", None);
    assert_eq!(status, 400);
    assert_eq!(v["errors"][0]["extensions"]["code"], "GRAPHQL_PARSE_FAILED");
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("Syntax Error: ")
    );
    assert!(v.get("data").is_none());
    assert_eq!(v["extensions"], json!({"schemas": []}));
}

#[test]
fn unknown_field_gets_graphql_js_suggestions() {
    insta::assert_snapshot!(body("{ clusters_v1 { nam } }"), @r#"400 {"errors":[{"message":"Cannot query field \"nam\" on type \"Cluster_v1\". Did you mean \"name\" or \"ocm\"?","locations":[{"line":1,"column":17}],"extensions":{"code":"GRAPHQL_VALIDATION_FAILED"}}],"extensions":{"schemas":[]}}"#);
    insta::assert_snapshot!(body("{ namespaces_v1 { openshiftResources { provider path } } }"), @r#"400 {"errors":[{"message":"Cannot query field \"path\" on type \"NamespaceOpenshiftResource_v1\". Did you mean to use an inline fragment on \"NamespaceOpenshiftResourcePrometheusRule_v1\", \"NamespaceOpenshiftResourceResourceTemplate_v1\", \"NamespaceOpenshiftResourceResource_v1\", \"NamespaceOpenshiftResourceRoute_v1\", or \"NamespaceOpenshiftResourceVaultSecret_v1\"?","locations":[{"line":1,"column":49}],"extensions":{"code":"GRAPHQL_VALIDATION_FAILED"}}],"extensions":{"schemas":[]}}"#);
}

#[test]
fn leaf_and_object_selection_rules() {
    insta::assert_snapshot!(body("{ clusters_v1 { name { x } } }"), @r#"400 {"errors":[{"message":"Field \"name\" must not have a selection since type \"String!\" has no subfields.","locations":[{"line":1,"column":17}],"extensions":{"code":"GRAPHQL_VALIDATION_FAILED"}}],"extensions":{"schemas":[]}}"#);
    insta::assert_snapshot!(body("{ clusters_v1 { automationToken } }"), @r#"400 {"errors":[{"message":"Field \"automationToken\" of type \"VaultSecret_v1\" must have a selection of subfields. Did you mean \"automationToken { ... }\"?","locations":[{"line":1,"column":17}],"extensions":{"code":"GRAPHQL_VALIDATION_FAILED"}}],"extensions":{"schemas":[]}}"#);
    insta::assert_snapshot!(body("{ clusters_v1 { ...Nope } }"), @r#"400 {"errors":[{"message":"Unknown fragment \"Nope\".","locations":[{"line":1,"column":17}],"extensions":{"code":"GRAPHQL_VALIDATION_FAILED"}}],"extensions":{"schemas":[]}}"#);
    insta::assert_snapshot!(body("{ clusters_v1(name: 12) { name } }"), @r#"400 {"errors":[{"message":"String cannot represent a non string value: 12","locations":[{"line":1,"column":21}],"extensions":{"code":"GRAPHQL_VALIDATION_FAILED"}}],"extensions":{"schemas":[]}}"#);
    insta::assert_snapshot!(body("query Q { clusters_v1(name: $n) { name } }"), @r#"400 {"errors":[{"message":"Variable \"$n\" is not defined by operation \"Q\".","locations":[{"line":1,"column":29},{"line":1,"column":1}],"extensions":{"code":"GRAPHQL_VALIDATION_FAILED"}}],"extensions":{"schemas":[]}}"#);
}

#[test]
fn typename_aliases_and_directives() {
    let (status, v) = run(
        "query Q($yes: Boolean!) { c: clusters_v1(name: \"cluster-1\") { __typename n: name skipped: name @skip(if: $yes) kept: name @include(if: $yes) } }",
        Some(&json!({"yes": true})),
    );
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::to_string(&v["data"]).unwrap(),
        r#"{"c":[{"__typename":"Cluster_v1","n":"cluster-1","kept":"cluster-1"}]}"#
    );
}

#[test]
fn required_variable_missing_is_rejected() {
    insta::assert_snapshot!(body("query Q($n: String!) { clusters_v1(name: $n) { name } }"), @r#"400 {"errors":[{"message":"Variable \"$n\" of required type \"String!\" was not provided.","locations":[{"line":1,"column":8}],"extensions":{"code":"BAD_USER_INPUT"}}],"extensions":{"schemas":[]}}"#);
}

#[test]
fn unset_optional_variable_means_no_filter() {
    let (_, v) = run(
        "query Q($n: String) { clusters_v1(name: $n) { name } }",
        Some(&json!({})),
    );
    assert_eq!(v["data"]["clusters_v1"].as_array().unwrap().len(), 2);
}

#[test]
fn filter_in_and_list_equality() {
    let (_, v) = run(
        "query Q($f: JSON) { namespaces_v1(filter: $f) { name } }",
        Some(&json!({"f": {"managedResourceTypes": ["Role"]}})),
    );
    assert_eq!(
        v["data"]["namespaces_v1"],
        json!([{"name": "app-a-observability"}])
    );
    let (_, v) = run(
        "{ namespaces_v1(filter: {name: {in: [\"app-b-stage\", \"nope\"]}, cluster: {filter: {name: \"cluster-1\"}}}) { name } }",
        None,
    );
    assert_eq!(v["data"]["namespaces_v1"], json!([{"name": "app-b-stage"}]));
    // nested filter fields are checked against the referenced type
    insta::assert_snapshot!(body("{ namespaces_v1(filter: {cluster: {filter: {nope: 1}}}) { name } }"), @r#"200 {"errors":[{"message":"Field \"nope\" does not exist on type \"Cluster_v1\"","locations":[{"line":1,"column":3}],"path":["namespaces_v1"],"extensions":{"code":"BAD_FILTER_FIELD","gqlType":"Cluster_v1"}}],"data":{"namespaces_v1":null},"extensions":{"schemas":[]}}"#);
}

#[test]
fn json_scalar_is_a_json_string_and_schema_reads_dollar_schema() {
    let (_, v) = run(
        "{ environments_v1(name: \"production\") { name schema parameters } }",
        None,
    );
    assert_eq!(
        v["data"]["environments_v1"][0],
        json!({"name": "production", "schema": "/app-sre/environment-1.yml", "parameters": "{\"ENV_NAME\":\"production\",\"REPLICAS\":3}"})
    );
    assert_eq!(
        v["extensions"]["schemas"],
        json!(["/app-sre/environment-1.yml"])
    );
}

#[test]
fn interface_listing_resolves_concrete_types() {
    let (_, v) = run(
        "{ permissions_v1 { __typename service ... on PermissionSlackUsergroup_v1 { handle } } }",
        None,
    );
    let types: Vec<&str> = v["data"]["permissions_v1"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["__typename"].as_str().unwrap())
        .collect();
    assert!(types.contains(&"PermissionSlackUsergroup_v1"), "{types:?}");
    assert!(types.contains(&"PermissionGithubOrgTeam_v1"), "{types:?}");
}

#[test]
fn multiple_operations_need_a_name() {
    insta::assert_snapshot!(body("query A { clusters_v1 { name } } query B { apps_v1 { name } }"), @r#"400 {"errors":[{"message":"Must provide operation name if query contains multiple operations.","extensions":{"code":"OPERATION_RESOLUTION_FAILURE"}}],"extensions":{"schemas":[]}}"#);
}

#[test]
fn fragment_cycles_are_rejected_not_recursed() {
    let (status, v) = run(
        "{ clusters_v1 { ...A } } fragment A on Cluster_v1 { name namespaces { cluster { ...B } } } fragment B on Cluster_v1 { ...A }",
        None,
    );
    assert_eq!(status, 400);
    let messages: Vec<&str> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert!(
        messages.contains(&"Cannot spread fragment \"A\" within itself via \"B\"."),
        "{messages:?}"
    );
}
