//! Desired state of `openshift-resources`: every managed namespace's `openshiftResources` of the
//! providers this integration handles (`resource`, `resource-template`), rendered and parsed
//! into a [`ResourceInventory`], with the namespace's managed types and names initialised.
//!
//! Data problems (unparsable YAML, a template that does not render, a resource of a kind the
//! namespace does not manage, a duplicate) are registered as inventory errors naming the
//! cluster, namespace and source file: they fail the run and disable every delete.

use std::collections::{BTreeMap, BTreeSet};

use qontract_cluster_client::ClusterSpec;
use qontract_gql_bindings::openshift_resources_namespaces::{
    ClusterV1, NamespaceOpenshiftResourceV12 as Provider, NamespaceV1,
};
use qontract_openshift_resource::OpenshiftResource;
use qontract_resource_inventory::ResourceInventory;
use serde_json::Value;

/// Name recorded in the `qontract.integration` annotation: the Python tool's (underscore) form,
/// so that objects it applied are recognised as ours.
pub const ANNOTATION_NAME: &str = "openshift_resources";

/// Version recorded in `qontract.integration_version` (only the major is compared).
pub const INTEGRATION_VERSION: &str = "1.9.3";

/// What narrows a run.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// CLI integration name, checked against `cluster.disable.integrations`.
    pub integration: &'static str,
    /// `--cluster-name`.
    pub cluster_name: Option<String>,
    /// `--namespace-name`.
    pub namespace_name: Option<String>,
    /// This process's shard: namespaces are sharded by `"<cluster>/<namespace>"`, as upstream.
    pub shard: qontract_sharding::ShardConfig,
    /// The openshiftResources providers this integration handles.
    pub providers: Providers,
    /// Manage only these types (upstream `override_managed_types`): then only namespaces with
    /// at least one resource of the handled providers are managed.
    pub managed_types_override: Option<Vec<String>>,
}

/// Which openshiftResources providers an integration handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Providers {
    /// `resource`.
    pub resource: bool,
    /// `resource-template`.
    pub resource_template: bool,
    /// `prometheus-rule`.
    pub prometheus_rule: bool,
}

impl Default for Providers {
    /// openshift-resources' providers: `resource` and `resource-template`.
    fn default() -> Self {
        Self {
            resource: true,
            resource_template: true,
            prometheus_rule: false,
        }
    }
}

/// What one handled resource asks for: its content, path, and template variables (when it is
/// a template).
type Source<'a> = (&'a str, &'a str, Option<Option<&'a str>>);

/// The source of `resource` if its provider is handled (`Err` for an unsupported template type).
fn source<'a>(resource: &'a Provider, providers: &Providers) -> Option<Result<Source<'a>, String>> {
    let template = |kind: Option<&str>,
                    res: &'a qontract_gql_bindings::openshift_resources_namespaces::ResourceV1,
                    vars: Option<&'a str>| {
        match kind.unwrap_or("jinja2") {
            "jinja2" => Ok((res.content.as_str(), res.path.as_str(), Some(vars))),
            other => Err(format!(
                "{}: template type {other:?} is not supported (only jinja2)",
                res.path
            )),
        }
    };
    match resource {
        Provider::NamespaceOpenshiftResourceResourceV1(r) if providers.resource => r
            .resource
            .as_ref()
            .map(|res| Ok((res.content.as_str(), res.path.as_str(), None))),
        Provider::NamespaceOpenshiftResourceResourceTemplateV1(r)
            if providers.resource_template =>
        {
            r.resource.as_ref().map(|res| {
                template(
                    r.type_.as_deref(),
                    res,
                    r.variables.as_ref().map(|v| v.0.as_str()),
                )
            })
        }
        Provider::NamespaceOpenshiftResourcePrometheusRuleV1(r) if providers.prometheus_rule => {
            r.resource.as_ref().map(|res| match r.type_.as_deref() {
                None => Ok((res.content.as_str(), res.path.as_str(), None)),
                Some(kind) => template(Some(kind), res, r.variables.as_ref().map(|v| v.0.as_str())),
            })
        }
        // Other providers belong to their own integrations, as upstream.
        _ => None,
    }
}

/// The desired state of a run.
#[derive(Debug, Default)]
pub struct DesiredState {
    /// Desired objects and managed types per (cluster, namespace).
    pub inventory: ResourceInventory,
    /// Connection data of the clusters involved.
    pub clusters: BTreeMap<String, ClusterSpec>,
    /// (cluster, namespace) pairs that use the cluster-admin client.
    pub privileged: BTreeSet<(String, String)>,
    /// Number of managed namespaces.
    pub namespaces: usize,
}

/// The connection data of a namespace's cluster.
pub fn cluster_spec(cluster: &ClusterV1) -> ClusterSpec {
    qontract_realize::cluster_spec!(cluster)
}

/// Whether a namespace is in scope of this run.
fn in_scope(ns: &NamespaceV1, filter: &Filter) -> bool {
    let disabled = ns
        .cluster
        .disable
        .as_ref()
        .and_then(|d| d.integrations.as_ref())
        .is_some_and(|l| l.iter().any(|i| i == filter.integration));
    !disabled
        && !ns.delete.unwrap_or(false)
        && !ns.managed_by_external.unwrap_or(false)
        && match &filter.managed_types_override {
            None => ns
                .managed_resource_types
                .as_ref()
                .is_some_and(|t| !t.is_empty()),
            Some(_) => {
                ns.openshift_resources.iter().flatten().any(|r| {
                    source(&r.namespace_openshift_resource_v12, &filter.providers).is_some()
                })
            }
        }
        && filter
            .cluster_name
            .as_ref()
            .is_none_or(|c| c == &ns.cluster.name)
        && filter.namespace_name.as_ref().is_none_or(|n| n == &ns.name)
        && filter
            .shard
            .is_in_shard(&format!("{}/{}", ns.cluster.name, ns.name))
}

/// Build the desired state.
pub fn desired_state(namespaces: &[NamespaceV1], filter: &Filter) -> DesiredState {
    desired_state_for(namespaces, filter, ANNOTATION_NAME, INTEGRATION_VERSION)
}

/// [`desired_state`] for another integration built on the openshiftResources (its providers
/// and managed types are in `filter`), with its own annotation name and version.
pub fn desired_state_for(
    namespaces: &[NamespaceV1],
    filter: &Filter,
    integration: &str,
    version: &str,
) -> DesiredState {
    let mut state = DesiredState::default();
    for ns in namespaces.iter().filter(|ns| in_scope(ns, filter)) {
        let cluster = &ns.cluster.name;
        state.namespaces += 1;
        state
            .clusters
            .entry(cluster.clone())
            .or_insert_with(|| cluster_spec(&ns.cluster));
        if ns.cluster_admin.unwrap_or(false) {
            state.privileged.insert((cluster.clone(), ns.name.clone()));
        }
        let overrides: BTreeMap<&str, &str> = ns
            .managed_resource_type_overrides
            .iter()
            .flatten()
            .map(|o| (o.resource.as_str(), o.override_.as_str()))
            .collect();
        let names: BTreeMap<&str, Vec<String>> = ns
            .managed_resource_names
            .iter()
            .flatten()
            .map(|m| (m.resource.as_str(), m.resource_names.clone()))
            .collect();
        let managed_types: Vec<String> = match &filter.managed_types_override {
            Some(types) => types.clone(),
            None => ns.managed_resource_types.clone().unwrap_or_default(),
        };
        for kind in &managed_types {
            let resource_type = overrides.get(kind.as_str()).copied().unwrap_or(kind);
            let managed = names.get(kind.as_str()).cloned();
            state
                .inventory
                .initialize_resource_type(cluster, &ns.name, resource_type, managed);
        }
        for resource in ns.openshift_resources.iter().flatten() {
            let (content, path, variables) = match source(
                &resource.namespace_openshift_resource_v12,
                &filter.providers,
            ) {
                None => continue,
                Some(Ok(found)) => found,
                Some(Err(message)) => {
                    state.inventory.register_error(
                        Some(cluster),
                        format!("[{cluster}/{}] {message}", ns.name),
                    );
                    continue;
                }
            };
            let origin = format!("[{cluster}/{}] {path}", ns.name);
            match build_resource_for(content, variables, &origin, integration, version) {
                Ok(or) => {
                    let privileged = ns.cluster_admin.unwrap_or(false);
                    if let Err(e) = state
                        .inventory
                        .add_desired_resource_or_register(cluster, &ns.name, or, privileged)
                    {
                        tracing::debug!("{e}");
                    }
                }
                Err(message) => state.inventory.register_error(Some(cluster), message),
            }
        }
    }
    state
}

/// Render (for templates) and parse (YAML 1.1, like the Python tool) one resource. The
/// `qontract.*` annotations are written when it is applied.
pub fn build_resource(
    content: &str,
    variables: Option<Option<&str>>,
    origin: &str,
) -> Result<OpenshiftResource, String> {
    build_resource_for(
        content,
        variables,
        origin,
        ANNOTATION_NAME,
        INTEGRATION_VERSION,
    )
}

/// [`build_resource`] for another integration name and version.
pub fn build_resource_for(
    content: &str,
    variables: Option<Option<&str>>,
    origin: &str,
    integration: &str,
    version: &str,
) -> Result<OpenshiftResource, String> {
    let text = match variables {
        None => content.to_owned(),
        Some(vars) => render_template(content, vars).map_err(|e| format!("{origin}: {e}"))?,
    };
    let parsed = qontract_yaml::load(&text).map_err(|e| format!("{origin}: invalid YAML: {e}"))?;
    let Some(Value::Object(mut body)) = parsed else {
        return Err(format!("{origin}: the resource is not a YAML mapping"));
    };
    // Resource files may carry their own `$schema`; it is not part of the object.
    body.remove("$schema");
    OpenshiftResource::new(Value::Object(body), integration, version, origin, None)
        .map_err(|e| format!("{origin}: {e}"))
}

/// Render a jinja2 template with its `variables` (a JSON object, as the `json` scalar).
pub fn render_template(template: &str, variables: Option<&str>) -> Result<String, String> {
    let vars: Value = match variables {
        Some(text) => {
            serde_json::from_str(text).map_err(|e| format!("variables are not JSON: {e}"))?
        }
        None => Value::Object(serde_json::Map::new()),
    };
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.render_str(
        template,
        minijinja::Value::from(minijinja::value::Serde(&vars)),
    )
    .map_err(|e| format!("template does not render: {e:#}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_render_with_their_variables() {
        let out = render_template(
            "data:\n  env: {{ environment }}\n  n: \"{{ replicas }}\"\n",
            Some(r#"{"environment":"stage","replicas":2}"#),
        )
        .unwrap();
        // Like Python's jinja2 (keep_trailing_newline=False), the final newline is dropped.
        assert_eq!(out, "data:\n  env: stage\n  n: \"2\"");
    }

    #[test]
    fn an_undefined_variable_is_an_error_not_an_empty_string() {
        let err = render_template("x: {{ missing }}", Some("{}")).unwrap_err();
        assert!(
            err.contains("missing") || err.contains("undefined"),
            "{err}"
        );
        let err = render_template("x: {{ broken }", None).unwrap_err();
        assert!(err.contains("does not render"), "{err}");
        let err = render_template("x: 1", Some("not json")).unwrap_err();
        assert!(err.contains("not JSON"), "{err}");
    }

    #[test]
    fn resources_are_parsed_with_yaml_1_1_rules_and_lose_their_schema() {
        let content = "$schema: /openshift/prometheus-rule-1.yml\napiVersion: v1\nkind: ConfigMap\n\
                       metadata:\n  name: x\ndata:\n  enabled: yes\n  mode: '0755'\n";
        let or = build_resource(content, None, "[c/ns] /x.yml").unwrap();
        let body = or.body();
        assert!(body.get("$schema").is_none());
        // PyYAML reads an unquoted `yes` as the boolean true.
        assert_eq!(body["data"]["enabled"], serde_json::Value::Bool(true));
        assert_eq!(body["data"]["mode"], "0755");
    }

    #[test]
    fn bad_resources_name_their_origin() {
        for (content, needle) in [
            ("- a\n- b\n", "not a YAML mapping"),
            ("kind: ConfigMap\nmetadata: {}\n", "[c/ns] /x.yml"),
            ("kind: [\n", "invalid YAML"),
        ] {
            let err = build_resource(content, None, "[c/ns] /x.yml").unwrap_err();
            assert!(
                err.contains("[c/ns] /x.yml") && err.contains(needle),
                "{err}"
            );
        }
    }
}
