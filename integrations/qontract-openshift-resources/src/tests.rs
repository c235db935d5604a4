//! Desired state and plan of the openshiftResources machinery, with namespaces shaped like
//! upstream's `/openshift/namespace-1.yml` and `/openshift/shared-resources-1.yml` as the
//! NAMESPACES_QUERY returns them.

use qontract_gql_bindings::openshift_resources_namespaces::NamespaceV1;
use qontract_openshift_resource::OpenshiftResource;
use qontract_resource_inventory::{Action, PlanOptions, compute_plan};
use qontract_test_support::fixtures;
use serde_json::{Value, json};

use crate::desired::*;

const CLUSTER: &str = "appsres03ue1";
const NS: &str = "shop-production";
const TIMESTAMP: &str = "2026-01-02T03:04:05";

const SETTINGS_CM: &str = "\
---
$schema: /openshift/config-map-1.yml
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  mode: production
";

const SHARED_CM: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: shared-ca-bundle
data:
  ca.crt: pem
";

const RULES: &str = "\
---
$schema: /openshift/prometheus-rule-1.yml
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: shop-rules
spec:
  groups:
  - name: shop
    rules:
    - alert: ShopDown
      expr: up{job=\"shop\"} == 0
      annotations:
        message: the shop is down
    - alert: NoAnnotations
      expr: vector(1)
    - record: shop:requests:rate5m
      expr: rate(requests[5m])
      annotations: {}
";

/// The `path` of an openshiftResource: the file, or `null` when it resolves to nothing.
fn path_field(file: Option<(&str, &str)>) -> Value {
    file.map(|(path, content)| fixtures::resource_file(path, content))
        .into()
}

/// A `resource` openshiftResource; `file` is `None` when the path resolves to nothing.
fn resource(file: Option<(&str, &str)>) -> Value {
    let path = path_field(file);
    fixtures::openshift_resource("resource", json!({"path": path, "validate_json": null}))
}

fn template(file: Option<(&str, &str)>, type_: Option<&str>, variables: Option<&str>) -> Value {
    let fields = json!({"path": path_field(file), "type": type_, "variables": variables});
    fixtures::openshift_resource("resource-template", fields)
}

fn prometheus_rule(file: Option<(&str, &str)>, type_: Option<&str>) -> Value {
    let fields = json!({"path": path_field(file), "type": type_, "variables": null});
    fixtures::openshift_resource("prometheus-rule", fields)
}

fn vault_secret() -> Value {
    fixtures::openshift_resource(
        "vault-secret",
        json!({"path": "app-sre/shop/db", "version": 1, "name": null, "labels": null,
               "annotations": null, "type": null}),
    )
}

/// A namespace of the query; `extra` overrides fields (e.g. `sharedResources`).
fn namespace(types: &[&str], resources: Value, extra: Value) -> NamespaceV1 {
    fixtures::namespace(CLUSTER, NS)
        .set("managedResourceTypes", types)
        .set("openshiftResources", resources)
        .set_all(extra)
        .typed()
}

fn filter() -> Filter {
    Filter {
        scope: qontract_realize::NamespaceFilter {
            integration: crate::NAME,
            ..Default::default()
        },
        ..Filter::default()
    }
}

fn errors(state: &DesiredState) -> Vec<String> {
    fixtures::error_messages(&state.inventory)
}

fn desired_names(state: &DesiredState, resource_type: &str) -> Vec<String> {
    state
        .inventory
        .state(CLUSTER, NS, resource_type)
        .map(|s| s.desired().keys().cloned().collect())
        .unwrap_or_default()
}

/// A live ConfigMap that openshift-resources applied earlier (its annotations).
fn owned_config_map(name: &str, data: Value) -> OpenshiftResource {
    let body =
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data});
    let applied = OpenshiftResource::new(body, ANNOTATION_NAME, INTEGRATION_VERSION, "seed", None)
        .expect("valid object")
        .annotate(TIMESTAMP)
        .into_body();
    OpenshiftResource::from_cluster(applied, ANNOTATION_NAME, INTEGRATION_VERSION, "live")
        .expect("valid live object")
}

/// The plan after adding the live objects to the desired state's inventory.
fn plan_with_live(
    mut state: DesiredState,
    live: Vec<OpenshiftResource>,
) -> qontract_resource_inventory::Plan {
    for object in live {
        state
            .inventory
            .add_current(CLUSTER, NS, "ConfigMap", object)
            .expect("ConfigMap is managed");
    }
    compute_plan(&mut state.inventory, &PlanOptions::default())
}

fn action_for(plan: &qontract_resource_inventory::Plan, name: &str) -> Option<Action> {
    plan.actions
        .iter()
        .find(|a| a.name == name)
        .map(|a| a.action)
}

// --- a path that does not resolve (upstream fails on `resource["resource"]["path"]`) ---

#[test]
fn a_resource_whose_path_is_missing_from_the_bundle_is_an_error_not_a_drop() {
    for missing in [
        resource(None),
        template(None, None, None),
        prometheus_rule(None, Some("resource")),
    ] {
        let provider = missing["provider"].as_str().unwrap().to_owned();
        let ns = namespace(
            &["ConfigMap", "PrometheusRule"],
            json!([resource(Some(("/shop/settings.yml", SETTINGS_CM))), missing]),
            json!({}),
        );
        let mut filter = filter();
        filter.providers.prometheus_rule = true;
        let state = desired_state(&[ns], &filter);
        let errors = errors(&state);
        assert_eq!(errors.len(), 1, "{provider}: {errors:?}");
        assert!(
            errors[0].contains(&format!(
                "[{CLUSTER}/{NS}] /services/shop/namespaces/{NS}.yml openshiftResources[1]: a {provider} openshiftResource's path does not resolve"
            )),
            "{errors:?}"
        );
        // As upstream `ri.register_error()`: deletes are disabled, the cluster still gets its
        // other objects.
        assert!(!state.inventory.has_cluster_error(CLUSTER));
        assert_eq!(desired_names(&state, "ConfigMap"), vec!["settings"]);
    }
}

#[test]
fn the_live_object_of_a_missing_path_is_not_deleted() {
    // `feature-flags` was applied from /shop/feature-flags.yml, which is no longer in the
    // bundle (a typo in the namespace file, or a moved file).
    let ns = namespace(
        &["ConfigMap"],
        json!([
            resource(Some(("/shop/settings.yml", SETTINGS_CM))),
            resource(None)
        ]),
        json!({}),
    );
    let state = desired_state(&[ns], &filter());
    let plan = plan_with_live(
        state,
        vec![
            owned_config_map("settings", json!({"mode": "production"})),
            owned_config_map("feature-flags", json!({"beta": "on"})),
        ],
    );
    assert!(!plan.deletion_enabled);
    assert!(!plan.errors.is_empty());
    assert_ne!(action_for(&plan, "feature-flags"), Some(Action::Delete));
    assert!(
        plan.actions.iter().all(|a| a.action != Action::Delete),
        "{:?}",
        plan.actions
    );
    // The other object is still reconciled.
    assert_eq!(action_for(&plan, "settings"), Some(Action::NoOp));
}

// --- sharedResources (upstream `openshift_base.aggregate_shared_resources`) ---

fn shared(resources: Value) -> Value {
    json!({"sharedResources": [{"path": "/services/shop/shared/ca.yml", "openshiftResources": resources}]})
}

#[test]
fn shared_resources_are_desired_and_not_deleted() {
    let ns = namespace(
        &["ConfigMap"],
        json!([resource(Some(("/shop/settings.yml", SETTINGS_CM)))]),
        shared(json!([resource(Some((
            "/shared/ca-bundle.yml",
            SHARED_CM
        )))])),
    );
    let state = desired_state(&[ns], &filter());
    assert!(errors(&state).is_empty(), "{:?}", errors(&state));
    assert_eq!(
        desired_names(&state, "ConfigMap"),
        vec!["settings", "shared-ca-bundle"]
    );
    let plan = plan_with_live(
        state,
        vec![
            owned_config_map("settings", json!({"mode": "production"})),
            owned_config_map("shared-ca-bundle", json!({"ca.crt": "pem"})),
        ],
    );
    assert!(plan.deletion_enabled);
    assert_eq!(action_for(&plan, "shared-ca-bundle"), Some(Action::NoOp));
    assert!(plan.actions.iter().all(|a| a.action == Action::NoOp));
}

#[test]
fn a_missing_path_in_a_shared_resources_file_names_that_file() {
    let ns = namespace(&["ConfigMap"], Value::Null, shared(json!([resource(None)])));
    let state = desired_state(&[ns], &filter());
    assert_eq!(
        errors(&state),
        vec![format!(
            "[{CLUSTER}/{NS}] /services/shop/shared/ca.yml openshiftResources[0]: a resource openshiftResource's path does not resolve to a resource file of the bundle (is the file missing?)"
        )]
    );
}

#[test]
fn a_namespace_with_only_shared_resources_is_managed() {
    let ns = namespace(
        &["ConfigMap"],
        Value::Null,
        shared(json!([resource(Some((
            "/shared/ca-bundle.yml",
            SHARED_CM
        )))])),
    );
    let state = desired_state(&[ns], &filter());
    assert_eq!(state.namespaces.len(), 1);
    assert_eq!(desired_names(&state, "ConfigMap"), vec!["shared-ca-bundle"]);
}

// --- scope (upstream `get_namespaces`, `canonicalize_namespaces`, `init_specs_to_fetch`) ---

#[test]
fn managed_by_external_namespaces_are_managed() {
    let ns = namespace(
        &["ConfigMap"],
        json!([resource(Some(("/shop/settings.yml", SETTINGS_CM)))]),
        json!({"managedByExternal": true}),
    );
    let state = desired_state(&[ns], &filter());
    assert_eq!(state.namespaces.len(), 1);
    assert_eq!(desired_names(&state, "ConfigMap"), vec!["settings"]);
}

#[test]
fn a_namespace_without_resources_of_the_providers_is_not_managed() {
    // Upstream `canonicalize_namespaces` drops it: its owned ConfigMaps are left alone.
    let ns = namespace(&["ConfigMap", "Secret"], json!([vault_secret()]), json!({}));
    let state = desired_state(&[ns], &filter());
    assert_eq!(state.namespaces.len(), 0);
    assert!(!state.inventory.is_initialized(CLUSTER, NS, "ConfigMap"));
}

// --- template types and the prometheus-rule provider ---

#[test]
fn template_types_map_to_flavours_as_upstream() {
    use TemplateFlavour::*;
    for (provider, type_, want) in [
        ("resource-template", None, Some(Jinja2)),
        ("resource-template", Some("jinja2"), Some(Jinja2)),
        (
            "resource-template",
            Some("extracurlyjinja2"),
            Some(ExtraCurlyJinja2),
        ),
        ("prometheus-rule", Some("resource"), None),
        (
            "prometheus-rule",
            Some("resource-template-jinja2"),
            Some(Jinja2),
        ),
        (
            "prometheus-rule",
            Some("resource-template-extracurlyjinja2"),
            Some(ExtraCurlyJinja2),
        ),
    ] {
        assert_eq!(
            template_flavour(provider, type_),
            Ok(want),
            "{provider} {type_:?}"
        );
    }
    for (provider, type_) in [
        ("resource-template", Some("resource")),
        ("prometheus-rule", None),
        ("prometheus-rule", Some("jinja2")),
    ] {
        let err = template_flavour(provider, type_).unwrap_err();
        assert!(err.contains("unknown template type"), "{err}");
    }
}

fn rules_filter() -> Filter {
    Filter {
        scope: qontract_realize::NamespaceFilter {
            integration: "openshift-prometheus-rules",
            ..Default::default()
        },
        providers: Providers {
            resource: false,
            resource_template: false,
            prometheus_rule: true,
        },
        managed_types_override: Some(vec![
            "PrometheusRule.monitoring.coreos.com".to_owned(),
            "PrometheusRule.monitoring.rhobs".to_owned(),
        ]),
        ..Filter::default()
    }
}

/// The desired state of openshift-prometheus-rules for a namespace whose one openshiftResource
/// is the `prometheus-rule` `/shop/rules.yml` of `content` and `type_`.
fn rules_state(content: &str, type_: &str, filter: &Filter) -> DesiredState {
    let rule = prometheus_rule(Some(("/shop/rules.yml", content)), Some(type_));
    let ns = namespace(&[], json!([rule]), json!({}));
    desired_state_for(&[ns], filter, "openshift-prometheus-rules", "1.0.0")
}

fn html_urls(state: &DesiredState, resource_type: &str) -> Vec<Option<String>> {
    let rules = state
        .inventory
        .get_desired(CLUSTER, NS, resource_type, "shop-rules")
        .expect("desired rule")
        .resource
        .body()["spec"]["groups"][0]["rules"]
        .clone();
    rules
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.pointer("/annotations/html_url")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .collect()
}

#[test]
fn prometheus_rules_of_type_resource_are_desired_with_html_url_on_annotated_rules() {
    let state = rules_state(RULES, "resource", &rules_filter());
    assert!(errors(&state).is_empty(), "{:?}", errors(&state));
    let url = format!("{DEFAULT_REPO_URL}/blob/master/resources/shop/rules.yml");
    // Only rules with non-empty annotations get it (upstream `if not annotations: continue`).
    assert_eq!(
        html_urls(&state, "PrometheusRule.monitoring.coreos.com"),
        vec![Some(url), None, None]
    );

    let mut filter = rules_filter();
    filter.repo_url = Some("https://gitlab.example/app-interface".to_owned());
    let rhobs = RULES.replace("monitoring.coreos.com", "monitoring.rhobs");
    let state = rules_state(&rhobs, "resource", &filter);
    assert!(errors(&state).is_empty(), "{:?}", errors(&state));
    // PrometheusRule.monitoring.rhobs is managed too.
    assert_eq!(
        html_urls(&state, "PrometheusRule.monitoring.rhobs")[0].as_deref(),
        Some("https://gitlab.example/app-interface/blob/master/resources/shop/rules.yml")
    );
}

#[test]
fn openshift_resources_add_html_url_to_prometheus_rules_too() {
    let ns = namespace(
        &["PrometheusRule.monitoring.coreos.com"],
        json!([resource(Some(("/shop/rules.yml", RULES)))]),
        json!({}),
    );
    let state = desired_state(&[ns], &filter());
    assert!(errors(&state).is_empty(), "{:?}", errors(&state));
    assert!(html_urls(&state, "PrometheusRule.monitoring.coreos.com")[0].is_some());
}

#[test]
fn an_unknown_prometheus_rule_type_is_an_error() {
    let state = rules_state(RULES, "jinja2", &rules_filter());
    let errors = errors(&state);
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].contains("/shop/rules.yml") && errors[0].contains("unknown template type"),
        "{errors:?}"
    );
}

// --- unused resource types (upstream `openshift_base.check_unused_resource_types`) ---

#[test]
fn managed_types_without_desired_objects_are_reported_as_unused() {
    let ns = namespace(
        &["ConfigMap", "Service"],
        json!([resource(Some(("/shop/settings.yml", SETTINGS_CM)))]),
        json!({}),
    );
    let state = desired_state(&[ns], &filter());
    assert_eq!(
        unused_resource_types(&state.inventory),
        vec![(
            CLUSTER.to_owned(),
            format!(
                "[{CLUSTER}/{NS}] unused resource type: Service. please remove it in a following PR."
            )
        )]
    );
}

#[test]
fn the_integrations_built_on_openshift_resources_skip_argocd_managed_objects() {
    assert!(realize_options().skip_argocd_managed);
    assert!(!realize_options().take_over);
}
