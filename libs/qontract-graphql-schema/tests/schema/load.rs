//! Loading from YAML / bundle JSON and the errors of bad input.

use qontract_graphql_schema::{InterfaceResolve, SchemaConfs, SchemaError};
use serde_json::json;

use crate::{sample, upstream_schema_file};

#[test]
fn upstream_schema_loads_with_yaml11_capitalised_booleans() {
    let confs =
        SchemaConfs::from_yaml_file(&upstream_schema_file()).expect("upstream schema.yml loads");
    assert_eq!(
        confs.schema.as_deref(),
        Some("/app-interface/graphql-schemas-1.yml")
    );
    assert!(confs.confs.len() > 400, "got {} confs", confs.confs.len());
    // `isRequired: True` in TerraformResourcesProviderExclusionsByProvisioner_v1
    let conf = confs
        .get("TerraformResourcesProviderExclusionsByProvisioner_v1")
        .unwrap();
    let provisioner = conf.field("provisioner").unwrap();
    assert!(provisioner.is_required);
    assert!(provisioner.is_interface);
}

#[test]
fn bundle_graphql_value_and_bare_list_are_equivalent() {
    let doc = json!({"$schema": "/x.yml", "confs": [
        {"name": "Query", "fields": [{"name": "a", "type": "string"}]}
    ]});
    let from_doc = SchemaConfs::from_json_value(&doc, "bundle.json#/graphql").unwrap();
    let from_list = SchemaConfs::from_json_value(&doc["confs"], "bundle.json#/graphql").unwrap();
    assert_eq!(from_doc.confs, from_list.confs);
    assert_eq!(from_doc.schema.as_deref(), Some("/x.yml"));
    assert_eq!(from_list.schema, None);
}

#[test]
fn sample_interface_resolve_is_parsed() {
    let s = sample();
    let iface = s.get("NamespaceOpenshiftResource_v1").unwrap();
    match &iface.interface_resolve {
        Some(InterfaceResolve::FieldMap { field, field_map }) => {
            assert_eq!(field, "provider");
            assert_eq!(
                field_map
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>(),
                [
                    "resource=NamespaceOpenshiftResourceResource_v1",
                    "vault-secret=NamespaceOpenshiftResourceVaultSecret_v1"
                ]
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        s.get("DatafileObject_v1").unwrap().interface_resolve,
        Some(InterfaceResolve::Schema)
    );
}

fn error_of(yaml: &str) -> String {
    match SchemaConfs::from_yaml_str(yaml, "graphql-schemas/broken.yml") {
        Ok(_) => panic!("expected an error for {yaml}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn invalid_yaml_names_the_file() {
    let msg = error_of("confs: [ {name: Query\n");
    assert!(
        msg.starts_with("parsing GraphQL schema graphql-schemas/broken.yml as YAML: "),
        "{msg}"
    );
}

#[test]
fn unknown_field_type_is_reported_with_type_and_field() {
    let msg = error_of(
        "confs:\n- name: Query\n  fields:\n  - { name: a, type: Nope_v1 }\n  - { name: b, type: Other_v1 }\n",
    );
    insta::assert_snapshot!(msg, @"invalid GraphQL schema graphql-schemas/broken.yml: field Query.a: unknown type Nope_v1; field Query.b: unknown type Other_v1");
}

#[test]
fn structural_problems_are_all_reported() {
    let yaml = r#"
confs:
- name: I_v1
  isInterface: true
  interfaceResolve: { strategy: fieldMap, field: kind, fieldMap: { a: Missing_v1 } }
  fields: [ { name: kind, type: string } ]
- name: T_v1
  interface: Nope_v1
  fields: [ { name: i, type: I_v1 } ]
- name: T_v1
  fields: []
"#;
    insta::assert_snapshot!(error_of(yaml), @"invalid GraphQL schema graphql-schemas/broken.yml: interface I_v1: fieldMap value a names unknown type Missing_v1; type T_v1: unknown interface Nope_v1; field T_v1.i: type I_v1 is an interface but isInterface is false; type T_v1 is declared twice; no Query type");
}

#[test]
fn bad_shapes_name_the_conf() {
    insta::assert_snapshot!(error_of("confs: 3\n"), @"invalid GraphQL schema graphql-schemas/broken.yml: `confs` must be a list");
    insta::assert_snapshot!(error_of("other: 1\n"), @"invalid GraphQL schema graphql-schemas/broken.yml: missing `confs` list");
    insta::assert_snapshot!(error_of("- name: Query\n  fields:\n  - { name: a }\n"), @"invalid GraphQL schema graphql-schemas/broken.yml: confs[0] (Query): missing field `type`");
    insta::assert_snapshot!(error_of("- name: I\n  isInterface: true\n  interfaceResolve: { strategy: magic }\n  fields: []\n"), @"invalid GraphQL schema graphql-schemas/broken.yml: confs[0] (I): unknown interfaceResolve.strategy `magic` (expected fieldMap or schema)");
}

#[test]
fn missing_file_names_the_path() {
    let err =
        SchemaConfs::from_yaml_file(std::path::Path::new("/nonexistent/schema.yml")).unwrap_err();
    assert!(matches!(err, SchemaError::Read { .. }));
    assert!(
        err.to_string()
            .starts_with("reading GraphQL schema file /nonexistent/schema.yml: "),
        "{err}"
    );
}
