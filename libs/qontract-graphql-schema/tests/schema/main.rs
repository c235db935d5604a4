//! Integration tests of the conf model and the SDL rendering.

mod load;
mod lookups;
mod sdl;

use std::path::PathBuf;

use qontract_graphql_schema::SchemaConfs;

/// `../shared` relative to the workspace root.
pub(crate) fn shared_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared"))
}

/// The upstream qontract-schemas `graphql-schemas/schema.yml`.
pub(crate) fn upstream_schema_file() -> PathBuf {
    shared_dir().join("upstream-schemas/qontract-schemas/graphql-schemas/schema.yml")
}

/// A small hand-written conf sample exercising every feature.
pub(crate) const SAMPLE: &str = r#"---
$schema: /app-interface/graphql-schemas-1.yml
confs:
- name: DatafileObject_v1
  isInterface: true
  interfaceResolve:
    strategy: schema
  fields:
  - { name: path, type: string, isRequired: true }
  - { name: schema, type: string, isRequired: true }
- name: Resource_v1
  fields:
  - { name: path, type: string, isRequired: true }
  - { name: content, type: string, isRequired: true }
  - { name: schema, type: string }
- name: Cluster_v1
  datafile: /openshift/cluster-1.yml
  fields:
  - { name: schema, type: string, isRequired: true }
  - { name: path, type: string, isRequired: true }
  - { name: labels, type: json }
  - { name: name, type: string, isRequired: True, isUnique: true, isSearchable: true }
  - { name: shards, type: int, isSearchable: true }
  - { name: weight, type: float }
  - { name: internal, type: boolean }
  - { name: namespaces, type: Namespace_v1, isList: true, synthetic: { schema: /openshift/namespace-1.yml, subAttr: cluster } }
- name: Namespace_v1
  datafile: /openshift/namespace-1.yml
  fields:
  - { name: schema, type: string, isRequired: true }
  - { name: path, type: string, isRequired: true }
  - { name: name, type: string, isRequired: true }
  - { name: cluster, type: Cluster_v1, isRequired: true }
  - { name: openshiftResources, type: NamespaceOpenshiftResource_v1, isList: true, isInterface: true }
  - { name: tags, type: string, isList: true, isRequired: true }
- name: NamespaceOpenshiftResource_v1
  isInterface: true
  interfaceResolve:
    strategy: fieldMap
    field: provider
    fieldMap:
      resource: NamespaceOpenshiftResourceResource_v1
      vault-secret: NamespaceOpenshiftResourceVaultSecret_v1
  fields:
  - { name: provider, type: string, isRequired: true }
- name: NamespaceOpenshiftResourceResource_v1
  interface: NamespaceOpenshiftResource_v1
  fields:
  - { name: provider, type: string, isRequired: true }
  - { name: path, type: string, isRequired: true, isResource: true, resolveResource: true, isContextUnique: true }
  - { name: tests, type: string, isList: true, isResource: true }
- name: NamespaceOpenshiftResourceVaultSecret_v1
  interface: NamespaceOpenshiftResource_v1
  fields:
  - { name: provider, type: string, isRequired: true }
  - { name: path, type: string, isRequired: true }
  - { name: version, type: int, isRequired: true }
- name: Query
  fields:
  - { name: clusters_v1, type: Cluster_v1, isList: true, datafileSchema: /openshift/cluster-1.yml }
  - { name: namespaces_v1, type: Namespace_v1, isList: true, isRequired: true, datafileSchema: /openshift/namespace-1.yml }
  - { name: resources_v1, type: Resource_v1, isResource: True, isRequired: true, isList: true }
"#;

pub(crate) fn sample() -> SchemaConfs {
    match SchemaConfs::from_yaml_str(SAMPLE, "sample.yml") {
        Ok(s) => s,
        Err(e) => panic!("sample must load: {e}"),
    }
}
