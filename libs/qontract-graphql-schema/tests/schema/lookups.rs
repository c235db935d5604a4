//! Lookups the executor relies on.

use qontract_graphql_schema::{FieldKind, SchemaConfs};
use serde_json::json;

use crate::sample;

#[test]
fn type_by_name_and_datafile_schema() {
    let s = sample();
    assert_eq!(
        s.get("Cluster_v1").map(|c| c.name.as_str()),
        Some("Cluster_v1")
    );
    assert!(s.get("Nope").is_none());
    assert_eq!(
        s.type_for_datafile_schema("/openshift/namespace-1.yml")
            .map(|c| c.name.as_str()),
        Some("Namespace_v1")
    );
    assert!(s.type_for_datafile_schema("/unknown-1.yml").is_none());
    assert_eq!(s.query().map(|c| c.fields.len()), Some(3));
}

#[test]
fn implementors_in_conf_order() {
    let s = sample();
    let names = |iface: &str| {
        s.implementors(iface)
            .map(|c| c.name.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names("NamespaceOpenshiftResource_v1"),
        [
            "NamespaceOpenshiftResourceResource_v1",
            "NamespaceOpenshiftResourceVaultSecret_v1"
        ]
    );
    assert_eq!(names("DatafileObject_v1"), ["Cluster_v1", "Namespace_v1"]);
}

#[test]
fn interface_resolution_by_field_map_and_schema() {
    let s = sample();
    let iface = s.get("NamespaceOpenshiftResource_v1").unwrap();
    let name = |v: serde_json::Value| s.resolve_interface(iface, &v).map(|c| c.name.clone());
    assert_eq!(
        name(json!({"provider": "vault-secret"})).as_deref(),
        Some("NamespaceOpenshiftResourceVaultSecret_v1")
    );
    assert_eq!(name(json!({"provider": "other"})), None);
    assert_eq!(name(json!({})), None);
    let dfo = s.get("DatafileObject_v1").unwrap();
    assert_eq!(
        s.resolve_interface(dfo, &json!({"$schema": "/openshift/cluster-1.yml"}))
            .map(|c| c.name.as_str()),
        Some("Cluster_v1")
    );
}

#[test]
fn field_kinds_and_arguments() {
    let s = sample();
    let query = s.query().unwrap();
    let kinds: Vec<String> = query
        .fields
        .iter()
        .map(|f| format!("{}={:?}", f.name, f.kind()))
        .collect();
    assert_eq!(
        kinds,
        [
            "clusters_v1=DatafileListing(\"/openshift/cluster-1.yml\")",
            "namespaces_v1=DatafileListing(\"/openshift/namespace-1.yml\")",
            "resources_v1=ResourceListing"
        ]
    );
    let args: Vec<&str> = s
        .field_arguments(&query.fields[0])
        .iter()
        .map(|a| a.name)
        .collect();
    // only string searchable fields become arguments (shards is an int)
    assert_eq!(args, ["name", "path", "filter"]);
    let res = s.get("NamespaceOpenshiftResourceResource_v1").unwrap();
    assert_eq!(res.field("path").unwrap().kind(), FieldKind::ResourceRef);
    assert_eq!(res.field("tests").unwrap().kind(), FieldKind::Plain);
    let cluster = s.get("Cluster_v1").unwrap();
    assert!(
        matches!(cluster.field("namespaces").unwrap().kind(), FieldKind::Synthetic(syn) if syn.sub_attr == "cluster")
    );
}

#[test]
fn implicit_datafile_object_interface_is_added_when_not_declared() {
    let s = SchemaConfs::from_yaml_str(
        "confs:\n- name: A_v1\n  datafile: /a-1.yml\n  fields: [{name: path, type: string, isRequired: true}, {name: schema, type: string, isRequired: true}]\n- name: Query\n  fields: [{name: a_v1, type: A_v1, isList: true, datafileSchema: /a-1.yml}]\n",
        "implicit.yml",
    )
    .unwrap();
    let dfo = s.get("DatafileObject_v1").expect("implicit interface");
    assert!(dfo.is_interface);
    assert_eq!(
        s.interfaces_of(s.get("A_v1").unwrap()).collect::<Vec<_>>(),
        ["DatafileObject_v1"]
    );
}

#[test]
fn repeated_field_keeps_first_position_and_last_definition() {
    let s = SchemaConfs::from_yaml_str(
        "confs:\n- name: Query\n  fields:\n  - {name: a, type: string}\n  - {name: b, type: int}\n  - {name: a, type: int, isRequired: true}\n",
        "dup.yml",
    )
    .unwrap();
    let q = s.query().unwrap();
    let rendered: Vec<String> = q
        .fields
        .iter()
        .map(|f| format!("{}: {}", f.name, f.graphql_type()))
        .collect();
    assert_eq!(rendered, ["a: Int!", "b: Int"]);
}
