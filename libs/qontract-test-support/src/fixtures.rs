//! App-interface test data for the integrations' unit tests, built once here instead of a
//! copy of struct literals per integration.
//!
//! The data is JSON shaped like what qontract-server answers for the upstream schemas
//! (`/openshift/namespace-1.yml`, `/openshift/cluster-1.yml`, `/openshift/limitrange-1.yml`,
//! ...): field names as GraphQL spells them, and a field the datafile leaves out is `null`, as
//! GraphQL returns it. [`Namespace::typed`] (or [`typed`]) turns it into any query's generated
//! type (cynic's `Deserialize` ignores the fields a query does not select, and requires every
//! field it does select, so the builders carry every `Namespace_v1` field our queries select).
//!
//! Also here: the inventory views the tests assert on ([`desired_paths`], [`error_messages`])
//! and the scope cases every namespace-scoped integration shares ([`scope_cases`],
//! [`assert_only_admin_is_managed`], [`assert_two_shards_split`]).

use std::collections::BTreeSet;
use std::fmt::Debug;

use qontract_resource_inventory::{Action, Plan, ResourceInventory};
use qontract_sharding::ShardConfig;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// `value` as the query type `T`; panics naming the type and the data when it does not fit.
pub fn typed<T: DeserializeOwned>(value: Value) -> T {
    match serde_json::from_value(value.clone()) {
        Ok(typed) => typed,
        Err(e) => panic!(
            "test data is not a {}: {e}\n{value:#}",
            std::any::type_name::<T>()
        ),
    }
}

/// A `VaultSecret_v1` reference (`/common-1.json#/definitions/vaultSecret`).
pub fn vault_secret(path: &str, field: &str) -> Value {
    json!({"path": path, "field": field, "version": null, "format": null})
}

/// A cluster (`/openshift/cluster-1.yml`) as the `ClusterConnection` fragment selects it: API
/// `https://api.<name>.example:6443`, automation token at `creds/<name>` field `token`.
pub fn cluster(name: &str) -> Value {
    json!({
        "name": name,
        "serverUrl": format!("https://api.{name}.example:6443"),
        "insecureSkipTLSVerify": null,
        "automationToken": vault_secret(&format!("creds/{name}"), "token"),
        "clusterAdminAutomationToken": null,
        "internal": null,
        "disable": null,
    })
}

/// `{cpu, memory}` (`ResourceValues_v1`): an empty field is `null`, as GraphQL returns it.
pub fn cpu_memory(cpu: Option<&str>, memory: Option<&str>) -> Value {
    json!({"cpu": cpu, "memory": memory})
}

/// A `Resource_v1` file reference (`path` and `content`) as an openshiftResource's `path`.
pub fn resource_file(path: &str, content: &str) -> Value {
    json!({"path": path, "content": content})
}

/// An `openshiftResources` entry of `provider` (`resource`, `resource-template`,
/// `prometheus-rule`, `vault-secret`, `route`) as the query's inline fragments return it:
/// `provider`, `__typename` (`NamespaceOpenshiftResource<Provider>_v1`) and the provider's own
/// `fields`.
pub fn openshift_resource(provider: &str, fields: Value) -> Value {
    let type_name: String = provider
        .split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect();
    let mut entry = json!({
        "provider": provider,
        "__typename": format!("NamespaceOpenshiftResource{type_name}_v1"),
    });
    merge(&mut entry, fields);
    entry
}

/// Sets every field of the object `fields` on the object `target`.
fn merge(target: &mut Value, fields: Value) {
    if let (Some(target), Value::Object(fields)) = (target.as_object_mut(), fields) {
        target.extend(fields);
    }
}

/// A namespace (`/openshift/namespace-1.yml`) of app `shop` in environment `production`, at
/// `/services/shop/namespaces/<name>.yml`, declaring nothing; see [`namespace`].
#[derive(Debug, Clone)]
pub struct Namespace(Value);

/// The namespace `name` on cluster `cluster` (see [`cluster`]), every optional field `null`.
pub fn namespace(cluster_name: &str, name: &str) -> Namespace {
    Namespace(json!({
        "name": name,
        "path": format!("/services/shop/namespaces/{name}.yml"),
        "labels": null,
        "delete": null,
        "clusterAdmin": null,
        "managedByExternal": null,
        "managedResourceTypes": null,
        "managedResourceTypeOverrides": null,
        "managedResourceNames": null,
        "openshiftResources": null,
        "sharedResources": null,
        "openshiftServiceAccountTokens": null,
        "limitRanges": null,
        "quota": null,
        "networkPoliciesAllow": null,
        "environment": {"name": "production", "parameters": null},
        "app": {"name": "shop"},
        "cluster": cluster(cluster_name),
    }))
}

impl Namespace {
    /// Sets the namespace field `field` (GraphQL name, e.g. `limitRanges`) to `value`.
    pub fn set(mut self, field: &str, value: impl Into<Value>) -> Self {
        self.0[field] = value.into();
        self
    }

    /// Sets every field of the object `fields` (e.g. `{"sharedResources": [...]}`).
    pub fn set_all(mut self, fields: Value) -> Self {
        merge(&mut self.0, fields);
        self
    }

    /// Sets the cluster field `field` (e.g. `internal`) to `value`.
    pub fn set_cluster(mut self, field: &str, value: impl Into<Value>) -> Self {
        self.0["cluster"][field] = value.into();
        self
    }

    /// `delete: true`.
    pub fn deleted(self) -> Self {
        self.set("delete", true)
    }

    /// `clusterAdmin: true` (managed with the cluster-admin token).
    pub fn cluster_admin(self) -> Self {
        self.set("clusterAdmin", true)
    }

    /// Its cluster lists `integration` in `disable.integrations`.
    pub fn disabled_for(self, integration: &str) -> Self {
        self.set_cluster("disable", json!({"integrations": [integration]}))
    }

    /// The cluster's name.
    pub fn cluster_name(&self) -> &str {
        self.0["cluster"]["name"].as_str().unwrap_or_default()
    }

    /// The data as JSON, owned.
    pub fn into_json(self) -> Value {
        self.0
    }

    /// The namespace as the query type `T` (panics naming `T` when it does not fit).
    pub fn typed<T: DeserializeOwned>(self) -> T {
        typed(self.0)
    }
}

/// Every namespace of `namespaces` as the query type `T`.
pub fn typed_all<T: DeserializeOwned>(namespaces: impl IntoIterator<Item = Namespace>) -> Vec<T> {
    namespaces.into_iter().map(Namespace::typed).collect()
}

/// `sandbox/shop-production` declared by `declare`, and `sandbox/shop-stage` declaring
/// nothing (so not managed). See [`assert_only_production_is_managed`].
pub fn production_and_stage(declare: impl Fn(Namespace) -> Namespace) -> Vec<Namespace> {
    vec![
        declare(namespace("sandbox", "shop-production")),
        namespace("sandbox", "shop-stage"),
    ]
}

/// The run registered no error, desires exactly `paths` (see [`desired_paths`]) and manages
/// only `sandbox/shop-production`: a namespace that declares nothing for the integration is
/// left alone (its objects are neither applied nor deleted).
pub fn assert_only_production_is_managed(
    inventory: &ResourceInventory,
    managed: &BTreeSet<(String, String)>,
    paths: &[&str],
) {
    assert_eq!(error_messages(inventory), Vec::<String>::new());
    assert_eq!(desired_paths(inventory), paths);
    let production = ("sandbox".to_owned(), "shop-production".to_owned());
    assert_eq!(managed, &BTreeSet::from([production]), "managed namespaces");
}

/// `sandbox/shop-production` and `other/web`, both declared by `declare` (two clusters, e.g.
/// for the early-exit state, keyed by cluster).
pub fn on_two_clusters(declare: impl Fn(Namespace) -> Namespace) -> Vec<Namespace> {
    vec![
        declare(namespace("sandbox", "shop-production")),
        declare(namespace("other", "web")),
    ]
}

/// The namespaces a namespace-scoped integration must tell apart (upstream: the
/// `delete`/`disable.integrations` checks and `--cluster-name`/`--namespace-name` of its
/// namespace filter), each declared by `declare`:
///
/// * `sandbox/gone`: `delete: true`, not managed;
/// * `off/ns`: its cluster disables `integration`, not managed;
/// * `sandbox/admin`: `clusterAdmin: true`, managed with the privileged client;
/// * `other/elsewhere`: another cluster, not managed in a run narrowed to `sandbox` or to
///   namespace `admin`.
///
/// See [`assert_only_admin_is_managed`].
pub fn scope_cases(integration: &str, declare: impl Fn(Namespace) -> Namespace) -> Vec<Namespace> {
    vec![
        declare(namespace("sandbox", "gone")).deleted(),
        declare(namespace("off", "ns")).disabled_for(integration),
        declare(namespace("sandbox", "admin")).cluster_admin(),
        declare(namespace("other", "elsewhere")),
    ]
}

/// Of the [`scope_cases`] in a run narrowed to `sandbox` (or to `admin`), only `sandbox/admin`
/// is managed, privileged, and only cluster `sandbox` gets a client.
pub fn assert_only_admin_is_managed<'a>(
    managed: &BTreeSet<(String, String)>,
    privileged: &BTreeSet<(String, String)>,
    clusters: impl IntoIterator<Item = &'a String>,
) {
    let admin = BTreeSet::from([("sandbox".to_owned(), "admin".to_owned())]);
    assert_eq!(managed, &admin, "managed namespaces");
    assert_eq!(privileged, &admin, "privileged namespaces");
    assert_eq!(clusters.into_iter().collect::<Vec<_>>(), ["sandbox"]);
}

/// `count` namespaces `sandbox/ns-<i>`, each declared by `declare` (for sharding tests).
pub fn many_namespaces(count: usize, declare: impl Fn(Namespace) -> Namespace) -> Vec<Namespace> {
    (0..count)
        .map(|i| declare(namespace("sandbox", &format!("ns-{i}"))))
        .collect()
}

/// Two shards split `total` namespaces between them (upstream `is_in_shard` on
/// `"<cluster>/<namespace>"`): each gets some, none gets one twice, none is left out.
/// `run` returns the namespaces a run in `shard` manages.
pub fn assert_two_shards_split<T: Ord + Debug>(
    total: usize,
    run: impl Fn(ShardConfig) -> BTreeSet<T>,
) {
    let [zero, one] = [0, 1].map(|shard_id| {
        run(ShardConfig {
            shards: 2,
            shard_id,
        })
    });
    assert!(!zero.is_empty() && !one.is_empty(), "{zero:?} {one:?}");
    assert!(zero.is_disjoint(&one), "{zero:?} {one:?}");
    assert_eq!(zero.len() + one.len(), total);
}

/// `cluster/namespace/type/name` of every desired object of `inventory`, in inventory order.
pub fn desired_paths(inventory: &ResourceInventory) -> Vec<String> {
    inventory
        .iter()
        .flat_map(|(c, n, t, data)| {
            data.desired()
                .keys()
                .map(move |name| format!("{c}/{n}/{t}/{name}"))
        })
        .collect()
}

/// The errors registered in `inventory`, as messages.
pub fn error_messages(inventory: &ResourceInventory) -> Vec<String> {
    inventory.errors().iter().map(|e| e.to_string()).collect()
}

/// `(action, name)` of every action of `plan`, in plan order.
pub fn plan_actions(plan: &Plan) -> Vec<(Action, &str)> {
    plan.actions
        .iter()
        .map(|a| (a.action, a.name.as_str()))
        .collect()
}
