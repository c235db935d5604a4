//! Desired state of `openshift-resources`: every managed namespace's `openshiftResources` (its
//! own and those of its `sharedResources` files, upstream
//! `openshift_base.aggregate_shared_resources`) of the providers this integration handles
//! (`resource`, `resource-template`), rendered and parsed into a [`ResourceInventory`], with
//! the namespace's managed types and names initialised.
//!
//! Data problems (a `path` that does not resolve to a file of the bundle, unparsable YAML, a
//! template that does not render, a resource of a kind the namespace does not manage, a
//! duplicate) are registered as inventory errors naming the cluster, namespace and source file:
//! they fail the run and disable every delete (upstream `fetch_desired_state` calls
//! `ri.register_error()` without a cluster, so the other objects are still applied).

use std::collections::BTreeMap;
use std::sync::Arc;

use qontract_gql_bindings::openshift_resources_namespaces::{
    AppInterfaceSettingsV1, NamespaceOpenshiftResourceV1,
    NamespaceOpenshiftResourceV12 as Provider, NamespaceV1,
};
use qontract_openshift_resource::OpenshiftResource;
use qontract_realize::cluster_spec;
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
    /// Integration, cluster/namespace filters and shard.
    pub scope: qontract_realize::NamespaceFilter,
    /// The openshiftResources providers this integration handles.
    pub providers: Providers,
    /// Manage only these types (upstream `override_managed_types`).
    pub managed_types_override: Option<Vec<String>>,
    /// The settings' `repoUrl`, base of the `html_url` annotation of PrometheusRule rules
    /// (`None`: upstream's default, [`DEFAULT_REPO_URL`]).
    pub repo_url: Option<String>,
    /// How templates are rendered (helpers' services, the `resource` variable).
    pub templates: TemplateInputs,
}

/// What templates are rendered with: the renderer (the services of `vault()`, `query()`,
/// `url()`) and the namespaces exactly as queried, in the order of the typed ones, from which
/// the `resource` variable is built (upstream `fetch_openshift_resource`: the openshiftResource
/// entry with `namespace` = its namespace). Without them (unit tests) the I/O helpers are
/// errors and `resource` holds only the namespace's name, path and cluster name.
#[derive(Debug, Clone, Default)]
pub struct TemplateInputs {
    /// Renders the templates of a run (shares the run's lookup cache).
    pub renderer: qontract_templates::Renderer,
    /// `data.namespaces` of the query, as JSON.
    pub namespaces: Arc<Vec<Value>>,
}

/// The raw openshiftResources entries of a namespace as queried, in the order of
/// [`namespace_resources_with_origin`] (its own, then its shared resources files').
fn raw_namespace_resources(raw: &Value) -> Vec<&Value> {
    let own = raw
        .get("openshiftResources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    let shared = raw
        .get("sharedResources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|s| {
            s.get("openshiftResources")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        });
    own.chain(shared).collect()
}

/// Base of the `html_url` annotation when the settings have no `repoUrl` (upstream
/// `fetch_provider_resource`).
pub const DEFAULT_REPO_URL: &str = "https://gitlab.cee.redhat.com/service/app-interface";

/// The settings' `repoUrl` of a query result (the first settings file, as upstream
/// `queries.get_app_interface_settings`).
pub fn repo_url(settings: Option<&[AppInterfaceSettingsV1]>) -> Option<String> {
    settings
        .and_then(|s| s.first())
        .and_then(|s| s.repo_url.clone())
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

/// How a template is rendered (upstream `process_jinja2_template` /
/// `process_extracurlyjinja2_template`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateFlavour {
    /// `{{ }}` / `{% %}`.
    Jinja2,
    /// `{{{ }}}` / `{{% %}}`.
    ExtraCurlyJinja2,
}

/// The template flavour of an openshiftResource's `type`, as upstream
/// `fetch_openshift_resource`: `resource-template` takes `jinja2` (also when unset) and
/// `extracurlyjinja2`; `prometheus-rule` takes `resource` (no template),
/// `resource-template-jinja2` and `resource-template-extracurlyjinja2`. Anything else is an
/// error (upstream `UnknownTemplateTypeError`).
pub fn template_flavour(
    provider: &str,
    type_: Option<&str>,
) -> Result<Option<TemplateFlavour>, String> {
    match (provider, type_) {
        ("resource-template", None | Some("jinja2")) => Ok(Some(TemplateFlavour::Jinja2)),
        ("resource-template", Some("extracurlyjinja2")) => {
            Ok(Some(TemplateFlavour::ExtraCurlyJinja2))
        }
        ("prometheus-rule", Some("resource")) => Ok(None),
        ("prometheus-rule", Some("resource-template-jinja2")) => Ok(Some(TemplateFlavour::Jinja2)),
        ("prometheus-rule", Some("resource-template-extracurlyjinja2")) => {
            Ok(Some(TemplateFlavour::ExtraCurlyJinja2))
        }
        (_, other) => Err(format!(
            "unknown template type error: {}",
            other.unwrap_or("None")
        )),
    }
}

/// A template and its `variables` (a JSON object, as the `json` scalar).
#[derive(Debug, Clone, Copy)]
pub struct Template<'a> {
    /// How it is rendered.
    pub flavour: TemplateFlavour,
    /// Its variables.
    pub variables: Option<&'a str>,
}

/// What one handled resource asks for: its content, path, and the template (when it is one).
type Source<'a> = (&'a str, &'a str, Option<Template<'a>>);

/// Every openshiftResources entry of a namespace: its own, then those of its
/// `sharedResources` files in order (upstream `openshift_base.aggregate_shared_resources`,
/// called by `canonicalize_namespaces` for every integration built on openshiftResources).
pub fn namespace_resources(
    ns: &NamespaceV1,
) -> impl Iterator<Item = &NamespaceOpenshiftResourceV1> {
    namespace_resources_with_origin(ns).map(|(_, resource)| resource)
}

/// [`namespace_resources`] with where each entry is declared: `<file> openshiftResources[<i>]`
/// (the namespace file or the shared resources file).
pub fn namespace_resources_with_origin(
    ns: &NamespaceV1,
) -> impl Iterator<Item = (String, &NamespaceOpenshiftResourceV1)> {
    let own = ns
        .openshift_resources
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, r)| (format!("{} openshiftResources[{i}]", ns.path), r));
    let shared = ns.shared_resources.iter().flatten().flat_map(|shared| {
        shared
            .openshift_resources
            .iter()
            .enumerate()
            .map(|(i, r)| (format!("{} openshiftResources[{i}]", shared.path), r))
    });
    own.chain(shared)
}

/// The source of `resource` if its provider is handled. `Err` when its `path` does not
/// resolve to a file of the bundle (GraphQL returns null; upstream fails on
/// `resource["resource"]["path"]`) or for an unknown template type.
fn source<'a>(
    resource: &'a NamespaceOpenshiftResourceV1,
    providers: &Providers,
) -> Option<Result<Source<'a>, String>> {
    let provider = resource.provider.as_str();
    let build = |file: Option<(&'a str, &'a str)>, type_: Option<&str>, vars: Option<&'a str>| {
        let Some((content, path)) = file else {
            return Err(format!(
                "a {provider} openshiftResource's path does not resolve to a resource file of the bundle (is the file missing?)"
            ));
        };
        let template = if provider == "resource" {
            None
        } else {
            template_flavour(provider, type_)
                .map_err(|e| format!("{path}: {e}"))?
                .map(|flavour| Template {
                    flavour,
                    variables: vars,
                })
        };
        Ok((content, path, template))
    };
    // `path` (the file) of each provider's own generated type, and the template's fields.
    macro_rules! file_of {
        ($r:expr) => {
            $r.resource
                .as_ref()
                .map(|f| (f.content.as_str(), f.path.as_str()))
        };
    }
    macro_rules! template_of {
        ($r:expr) => {
            build(
                file_of!($r),
                $r.type_.as_deref(),
                $r.variables.as_ref().map(|v| v.0.as_str()),
            )
        };
    }
    match &resource.namespace_openshift_resource_v12 {
        Provider::NamespaceOpenshiftResourceResourceV12(r) if providers.resource => {
            Some(build(file_of!(r), None, None))
        }
        Provider::NamespaceOpenshiftResourceResourceTemplateV12(r)
            if providers.resource_template =>
        {
            Some(template_of!(r))
        }
        Provider::NamespaceOpenshiftResourcePrometheusRuleV12(r) if providers.prometheus_rule => {
            Some(template_of!(r))
        }
        // Other providers belong to their own integrations, as upstream.
        _ => None,
    }
}

/// The desired state of a run (see `qontract_realize::DesiredInventory`).
pub type DesiredState = qontract_realize::DesiredInventory;

/// How the integrations built on openshiftResources realize their plan: objects labelled
/// `app.kubernetes.io/part-of: argocd` are left out of the current state (upstream
/// `openshift_resources_base.fetch_current_state`).
pub fn realize_options() -> qontract_realize::RealizeOptions {
    qontract_realize::RealizeOptions {
        skip_argocd_managed: true,
        ..Default::default()
    }
}

/// Whether the run selects `ns` at all: not `delete: true`, its cluster does not list the
/// integration in `disable.integrations`, and it passes `--cluster-name`, `--namespace-name`
/// and the shard (the first check of every integration built on the openshiftResources).
pub fn selects(scope: &qontract_realize::NamespaceFilter, ns: &NamespaceV1) -> bool {
    let disable = ns.cluster.disable.as_ref();
    let disabled = disable.and_then(|d| d.integrations.as_deref());
    scope.selects(&ns.cluster.name, &ns.name, disabled, ns.delete)
}

/// The `managedResourceNames` of `kind` declared by `ns` (`None`: every object of that kind
/// in the namespace is managed).
pub fn managed_names(ns: &NamespaceV1, kind: &str) -> Option<Vec<String>> {
    let mut declared = ns.managed_resource_names.iter().flatten();
    declared
        .find(|m| m.resource == kind)
        .map(|m| m.resource_names.clone())
}

/// Whether a namespace is in scope of this run, as upstream `get_namespaces`,
/// `canonicalize_namespaces` and `init_specs_to_fetch`: not being deleted, in the
/// cluster/namespace filters and the shard, at least one openshiftResource (own or shared) of
/// the handled providers, and managed types (the override, or `managedResourceTypes`).
/// `managedByExternal` does not matter: upstream skips those namespaces only in
/// openshift-namespaces.
fn in_scope(ns: &NamespaceV1, filter: &Filter) -> bool {
    selects(&filter.scope, ns)
        && namespace_resources(ns).any(|r| source(r, &filter.providers).is_some())
        && match &filter.managed_types_override {
            None => ns
                .managed_resource_types
                .as_ref()
                .is_some_and(|t| !t.is_empty()),
            Some(types) => !types.is_empty(),
        }
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
    for (index, ns) in namespaces
        .iter()
        .enumerate()
        .filter(|(_, ns)| in_scope(ns, filter))
    {
        let cluster = &ns.cluster.name;
        // The template variable `resource.namespace`: the namespace as queried, its
        // openshiftResources the handled ones of its own and shared (upstream
        // `canonicalize_namespaces`).
        let fallback = serde_json::json!({
            "name": ns.name,
            "path": ns.path,
            "cluster": {"name": ns.cluster.name},
        });
        let raw_ns = filter
            .templates
            .namespaces
            .get(index)
            .filter(|ns| !ns.is_null())
            .unwrap_or(&fallback);
        let raw_resources = raw_namespace_resources(raw_ns);
        let mut ns_json = raw_ns.clone();
        if let Value::Object(map) = &mut ns_json {
            let handled: Vec<Value> = namespace_resources(ns)
                .zip(raw_resources.iter())
                .filter(|(r, _)| source(r, &filter.providers).is_some())
                .map(|(_, raw)| (*raw).clone())
                .collect();
            map.insert("openshiftResources".to_owned(), Value::Array(handled));
        }
        state.namespaces.insert((cluster.clone(), ns.name.clone()));
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
        let repo_url = filter.repo_url.as_deref().unwrap_or(DEFAULT_REPO_URL);
        for (position, (declared, resource)) in namespace_resources_with_origin(ns).enumerate() {
            let (content, path, template) = match source(resource, &filter.providers) {
                None => continue,
                Some(Ok(found)) => found,
                Some(Err(message)) => {
                    // Upstream `fetch_desired_state`: `ri.register_error()` (no cluster).
                    let message = format!("[{cluster}/{}] {declared}: {message}", ns.name);
                    tracing::error!("{message}");
                    state.inventory.register_error(None, message);
                    continue;
                }
            };
            let origin = format!("[{cluster}/{}] {path}", ns.name);
            let empty = Value::Object(serde_json::Map::new());
            let raw_resource = raw_resources.get(position).copied().unwrap_or(&empty);
            let inputs = RenderInputs {
                renderer: &filter.templates.renderer,
                resource: raw_resource,
                namespace: &ns_json,
            };
            let built = parse_resource_with(content, template, &origin, Some(inputs)).and_then(
                |mut body| {
                    add_html_url(&mut body, path, repo_url);
                    construct(body, &origin, integration, version)
                },
            );
            match built {
                Ok(or) => {
                    let privileged = ns.cluster_admin.unwrap_or(false);
                    if let Err(e) = state
                        .inventory
                        .add_desired_resource_or_register(cluster, &ns.name, or, privileged)
                    {
                        tracing::debug!("{e}");
                    }
                }
                Err(error) => {
                    tracing::error!("{error}");
                    state.inventory.register_error(None, error);
                }
            }
        }
    }
    state
}

/// The "unused resource type" warnings of upstream `openshift_base.check_unused_resource_types`
/// (called by openshift-resources only): every managed (cluster, namespace, type) without a
/// desired object, as `(cluster, warning)`.
pub fn unused_resource_types(inventory: &ResourceInventory) -> Vec<(String, String)> {
    inventory
        .iter()
        .filter(|(_, _, _, data)| data.desired().is_empty())
        .map(|(cluster, namespace, resource_type, _)| {
            (
                cluster.to_owned(),
                format!(
                    "[{cluster}/{namespace}] unused resource type: {resource_type}. please remove it in a following PR."
                ),
            )
        })
        .collect()
}

/// Upstream `fetch_provider_resource` (`add_path_to_prom_rules`, on for every provider): every
/// rule with non-empty `annotations` of a `PrometheusRule` gets
/// `html_url: <repoUrl>/blob/master/resources<path>`.
pub fn add_html_url(body: &mut serde_json::Map<String, Value>, path: &str, repo_url: &str) {
    if body.get("kind").and_then(Value::as_str) != Some("PrometheusRule") {
        return;
    }
    let url = format!("{repo_url}/blob/master/resources{path}");
    let groups = body
        .get_mut("spec")
        .and_then(|spec| spec.get_mut("groups"))
        .and_then(Value::as_array_mut);
    // Upstream logs a warning when the shape is not groups[].rules[] and keeps the object.
    let mut malformed = false;
    match groups {
        None => malformed = true,
        Some(groups) => {
            for group in groups {
                let Some(rules) = group.get_mut("rules").and_then(Value::as_array_mut) else {
                    malformed = true;
                    break;
                };
                for rule in rules {
                    let Some(annotations) = rule
                        .get_mut("annotations")
                        .and_then(Value::as_object_mut)
                        .filter(|a| !a.is_empty())
                    else {
                        continue;
                    };
                    annotations.insert("html_url".to_owned(), Value::String(url.clone()));
                }
            }
        }
    }
    if malformed {
        let name = body
            .get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        tracing::warn!("could not add html_url annotation to{name}");
    }
}

/// Why a template could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The template's `variables` (or the `resource` variable) could not be read.
    #[error("{0}")]
    Variables(String),
    /// Rendering failed (upstream `Jinja2TemplateError`).
    #[error(transparent)]
    Template(#[from] qontract_templates::TemplateError),
}

/// Why one openshiftResource could not become an object; every message starts with its
/// origin (`[cluster/namespace] path`).
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The template could not be rendered.
    #[error("{origin}: {source}")]
    Render {
        /// `[cluster/namespace] path`.
        origin: String,
        /// Why.
        source: RenderError,
    },
    /// The (rendered) text is not YAML.
    #[error("{origin}: invalid YAML: {source}")]
    Yaml {
        /// `[cluster/namespace] path`.
        origin: String,
        /// The parse error.
        source: qontract_yaml::YamlError,
    },
    /// The YAML document is not a mapping.
    #[error("{origin}: the resource is not a YAML mapping")]
    NotAMapping {
        /// `[cluster/namespace] path`.
        origin: String,
    },
    /// The object is not a valid resource (no kind, no name, ...).
    #[error("{origin}: {source}")]
    Invalid {
        /// `[cluster/namespace] path`.
        origin: String,
        /// Why.
        source: qontract_openshift_resource::ResourceError,
    },
}

/// Render (for templates) and parse (YAML 1.1, like the Python tool) one resource. The
/// `qontract.*` annotations are written when it is applied.
pub fn build_resource(
    content: &str,
    template: Option<Template<'_>>,
    origin: &str,
) -> Result<OpenshiftResource, BuildError> {
    build_resource_for(
        content,
        template,
        origin,
        ANNOTATION_NAME,
        INTEGRATION_VERSION,
    )
}

/// [`build_resource`] for another integration name and version.
pub fn build_resource_for(
    content: &str,
    template: Option<Template<'_>>,
    origin: &str,
    integration: &str,
    version: &str,
) -> Result<OpenshiftResource, BuildError> {
    construct(
        parse_resource(content, template, origin)?,
        origin,
        integration,
        version,
    )
}

/// Render (for templates) and parse one resource into its body, without `$schema`.
fn parse_resource(
    content: &str,
    template: Option<Template<'_>>,
    origin: &str,
) -> Result<serde_json::Map<String, Value>, BuildError> {
    parse_resource_with(content, template, origin, None)
}

/// What a template is rendered with besides its variables.
#[derive(Clone, Copy)]
struct RenderInputs<'a> {
    renderer: &'a qontract_templates::Renderer,
    /// The openshiftResource entry as queried.
    resource: &'a Value,
    /// Its namespace as queried (`resource.namespace`).
    namespace: &'a Value,
}

/// [`parse_resource`] with the run's renderer and the `resource` variable.
fn parse_resource_with(
    content: &str,
    template: Option<Template<'_>>,
    origin: &str,
    inputs: Option<RenderInputs<'_>>,
) -> Result<serde_json::Map<String, Value>, BuildError> {
    let text = match template {
        None => content.to_owned(),
        Some(template) => {
            render(template, content, inputs).map_err(|source| BuildError::Render {
                origin: origin.to_owned(),
                source,
            })?
        }
    };
    let parsed = qontract_yaml::load(&text).map_err(|source| BuildError::Yaml {
        origin: origin.to_owned(),
        source,
    })?;
    let Some(Value::Object(mut body)) = parsed else {
        return Err(BuildError::NotAMapping {
            origin: origin.to_owned(),
        });
    };
    // Resource files may carry their own `$schema`; it is not part of the object.
    body.remove("$schema");
    Ok(body)
}

/// The [`OpenshiftResource`] of a parsed body.
fn construct(
    body: serde_json::Map<String, Value>,
    origin: &str,
    integration: &str,
    version: &str,
) -> Result<OpenshiftResource, BuildError> {
    OpenshiftResource::new(Value::Object(body), integration, version, origin, None).map_err(
        |source| BuildError::Invalid {
            origin: origin.to_owned(),
            source,
        },
    )
}

/// Render a template of either flavour as upstream `process_jinja2_template` /
/// `process_extracurlyjinja2_template` (crate `qontract-templates`), with the variables of
/// upstream `fetch_openshift_resource`: the parsed `variables` and `resource`.
fn render(
    template: Template<'_>,
    content: &str,
    inputs: Option<RenderInputs<'_>>,
) -> Result<String, RenderError> {
    let flavour = match template.flavour {
        TemplateFlavour::Jinja2 => qontract_templates::Flavour::Jinja2,
        TemplateFlavour::ExtraCurlyJinja2 => qontract_templates::Flavour::ExtraCurlyJinja2,
    };
    let default_renderer = qontract_templates::Renderer::default();
    let empty = Value::Object(serde_json::Map::new());
    let (renderer, resource, namespace) = match inputs {
        Some(i) => (i.renderer, i.resource, i.namespace),
        None => (&default_renderer, &empty, &empty),
    };
    let vars = qontract_templates::resource_template_vars(template.variables, resource, namespace)
        .map_err(|e| RenderError::Variables(e.to_string()))?;
    Ok(renderer.render(
        content,
        vars,
        flavour,
        qontract_templates::RenderOptions::default(),
    )?)
}

/// Render a `jinja2` template with its `variables` (the `json` scalar, read as upstream's
/// `anymarkup.parse`), without services (`vault()`, `query()` fail) and without `resource`.
pub fn render_template(template: &str, variables: Option<&str>) -> Result<String, RenderError> {
    let vars = qontract_templates::parse_variables(variables)
        .map_err(|e| RenderError::Variables(e.to_string()))?;
    Ok(qontract_templates::Renderer::default().render(
        template,
        vars,
        qontract_templates::Flavour::Jinja2,
        qontract_templates::RenderOptions::default(),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use qontract_test_support::fixtures;

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
        let err = render_template("x: {{ missing }}", Some("{}"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("missing") || err.contains("undefined"),
            "{err}"
        );
        let err = render_template("x: {{ broken }", None).unwrap_err();
        assert!(matches!(err, RenderError::Template(_)));
        let err = err.to_string();
        assert!(err.contains("error processing jinja2 template"), "{err}");
        let err = render_template("x: 1", Some("[not a mapping]")).unwrap_err();
        assert!(matches!(err, RenderError::Variables(_)));
        let err = err.to_string();
        assert!(err.contains("not a mapping"), "{err}");
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
            let err = build_resource(content, None, "[c/ns] /x.yml")
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("[c/ns] /x.yml") && err.contains(needle),
                "{err}"
            );
        }
    }

    /// A namespace as the typed query returns it (the file under `path`) with `resources`.
    fn query_namespace(resources: Value) -> Value {
        fixtures::namespace("appsres03ue1", "shop-production")
            .set("managedResourceTypes", ["ConfigMap"].as_slice())
            .set("openshiftResources", resources)
            .into_json()
    }

    fn template_entry(path: &str, content: &str, type_: Option<&str>, vars: Option<&str>) -> Value {
        let fields = serde_json::json!({
            "path": fixtures::resource_file(path, content), "type": type_, "variables": vars,
        });
        fixtures::openshift_resource("resource-template", fields)
    }

    /// A namespace whose one openshiftResource is the `jinja2` template `path` of `content`.
    fn one_template(path: &str, content: &str) -> Value {
        query_namespace(serde_json::json!([template_entry(
            path, content, None, None
        )]))
    }

    /// The desired state of `raw` with its templates rendered by `renderer`.
    fn state_of(raw: Value, renderer: qontract_templates::Renderer) -> DesiredState {
        let typed: NamespaceV1 = serde_json::from_value(raw.clone()).expect("typed namespace");
        let filter = Filter {
            scope: qontract_realize::NamespaceFilter {
                integration: "openshift-resources",
                ..Default::default()
            },
            templates: TemplateInputs {
                renderer,
                namespaces: Arc::new(vec![crate::upstream_shape(&raw)]),
            },
            ..Filter::default()
        };
        desired_state(&[typed], &filter)
    }

    fn config_map(state: &DesiredState, name: &str) -> Value {
        state
            .inventory
            .get_desired("appsres03ue1", "shop-production", "ConfigMap", name)
            .unwrap_or_else(|| {
                panic!(
                    "ConfigMap {name} desired; errors: {:?}",
                    state.inventory.errors()
                )
            })
            .resource
            .body()
            .clone()
    }

    #[test]
    fn resource_templates_render_both_flavours_with_the_resource_variable() {
        // Expected values computed with the Python tool 0.10.1:
        // process_jinja2_template / process_extracurlyjinja2_template with tv["resource"] =
        // the entry and tv["resource"]["namespace"] = the namespace (fetch_openshift_resource).
        let settings = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ resource.namespace.name }}-settings\n\
                        data:\n  cluster: {{ resource.namespace.cluster.name }}\n  file: {{ resource.resource.path }}\n\
                        \x20 replicas: \"{{ replicas }}\"\n  debug: \"{{ debug }}\"\n";
        let extra = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata:\n\
                     \x20 env: {{{ resource.namespace.environment.name }}}\n  literal: \"{{ not_a_variable }}\"\n\
                     \x20 encoded: {{% b64encode %}}{{{ resource.namespace.name }}}{{% endb64encode %}}\n";
        let raw = query_namespace(serde_json::json!([
            template_entry(
                "/shop/settings.yml",
                settings,
                None,
                Some(r#"{"replicas": 3, "debug": false}"#)
            ),
            template_entry("/shop/extra.yml", extra, Some("extracurlyjinja2"), None),
        ]));
        let state = state_of(raw, qontract_templates::Renderer::default());
        assert!(
            state.inventory.errors().is_empty(),
            "{:?}",
            state.inventory.errors()
        );
        assert_eq!(
            config_map(&state, "shop-production-settings")["data"],
            serde_json::json!({"cluster": "appsres03ue1", "file": "/shop/settings.yml", "replicas": "3", "debug": "False"})
        );
        assert_eq!(
            config_map(&state, "extra")["data"],
            serde_json::json!({"env": "production", "literal": "{{ not_a_variable }}", "encoded": "c2hvcC1wcm9kdWN0aW9u"})
        );
    }

    /// A secret store of one secret, for `vault()`.
    struct OneSecret;

    impl qontract_templates::TemplateContext for OneSecret {
        fn read_secret(
            &self,
            path: &str,
            _version: Option<u64>,
        ) -> Result<Option<BTreeMap<String, String>>, qontract_templates::ContextError> {
            Ok((path == "app-sre/shop/db")
                .then(|| BTreeMap::from([("user".to_owned(), "shop".to_owned())])))
        }
        fn resource_content(&self, path: &str) -> Result<String, qontract_templates::ContextError> {
            Err(format!("no {path}").into())
        }
        fn graphql(&self, _query: &str) -> Result<Value, qontract_templates::ContextError> {
            Err("no GraphQL".into())
        }
        fn url_makes_sense(&self, _url: &str) -> Result<bool, qontract_templates::ContextError> {
            Ok(false)
        }
    }

    #[test]
    fn template_helpers_use_the_runs_renderer() {
        let content = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: db\ndata:\n  user: {{ vault('app-sre/{{ resource.namespace.app.name }}/db', 'user') }}\n";
        let raw = one_template("/shop/db.yml", content);
        let state = state_of(
            raw.clone(),
            qontract_templates::Renderer::new(Arc::new(OneSecret)),
        );
        assert_eq!(config_map(&state, "db")["data"]["user"], "shop");
        // Without services, vault() is an error that names the template (and disables deletes).
        let state = state_of(raw, qontract_templates::Renderer::default());
        let errors = fixtures::error_messages(&state.inventory);
        assert!(
            errors.len() == 1
                && errors[0].contains("[appsres03ue1/shop-production] /shop/db.yml")
                && errors[0].contains("vault()"),
            "{errors:?}"
        );
    }

    #[test]
    fn an_undefined_template_variable_is_an_error_naming_the_template() {
        let content = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ missing }}\n";
        let raw = one_template("/shop/bad.yml", content);
        let state = state_of(raw, qontract_templates::Renderer::default());
        let errors = fixtures::error_messages(&state.inventory);
        assert!(
            errors.len() == 1
                && errors[0].contains("[appsres03ue1/shop-production] /shop/bad.yml: error processing jinja2 template: 'missing' is undefined"),
            "{errors:?}"
        );
    }
}
