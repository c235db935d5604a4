//! Reading the current state of every managed `(cluster, namespace, resource type)` into the
//! inventory (upstream `fetch_current_state` / `populate_current_state`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use futures::StreamExt as _;
use kube::Resource as _;
use kube::api::{DynamicObject, GetParams, ListParams};
use qontract_cluster_client::ClusterClient;
use qontract_openshift_resource::OpenshiftResource;
use qontract_openshift_resource::annotations::QONTRACT_CALLER_NAME;
use qontract_resource_inventory::{CLUSTER_SCOPE_NAMESPACE, ResourceInventory, prune_current};
use serde::Serialize;
use serde_json::Value;

use crate::Engine;
use crate::error::{describe_kube_error, error_chain, status_code};
use crate::kinds::{ResolvedType, ResourceTypeResolution, resolve_resource_type};
use crate::takeover::{self, ClientSideOwnership};

/// Page size of list requests.
const LIST_PAGE_SIZE: u32 = 500;

/// One object of the inventory.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ObjectKey {
    /// Cluster name.
    pub cluster: String,
    /// Namespace (`cluster` for cluster-scoped integrations).
    pub namespace: String,
    /// Resource type as managed (kind or `Kind.group`).
    pub resource_type: String,
    /// Object name.
    pub name: String,
}

impl ObjectKey {
    /// The key of an object.
    pub fn new(cluster: &str, namespace: &str, resource_type: &str, name: &str) -> Self {
        Self {
            cluster: cluster.to_owned(),
            namespace: namespace.to_owned(),
            resource_type: resource_type.to_owned(),
            name: name.to_owned(),
        }
    }
}

/// What [`Engine::fetch_current_state`] found besides the objects it put into the inventory.
#[derive(Debug, Clone, Default)]
pub struct FetchReport {
    /// Warnings (kinds the cluster does not serve, skipped clusters), each naming its subject.
    pub warnings: Vec<String>,
    /// Errors registered in the inventory, each naming its cluster.
    pub errors: Vec<String>,
    /// Clusters that had an error; nothing is changed on them.
    pub failed_clusters: BTreeSet<String>,
    /// Objects applied client-side that are migrated to our field manager on first apply.
    pub client_side_owned: HashMap<ObjectKey, ClientSideOwnership>,
    /// Objects read into the inventory.
    pub objects_read: usize,
    /// List and get requests made, retries included (discovery not counted).
    pub requests: usize,
}

struct FetchJob {
    cluster: String,
    namespace: String,
    resource_type: String,
    names: Option<Vec<String>>,
    client: ClusterClient,
}

/// A cluster object as read, reduced right away to what the plan reads (its client-side
/// ownership taken first), so that a list's full bodies are never all held at once.
struct FetchedObject {
    body: Value,
    client_side: Option<ClientSideOwnership>,
}

enum JobOutcome {
    Objects(Vec<FetchedObject>),
    /// The namespace is not managed in this run (upstream `init_specs_to_fetch` skips it).
    NamespaceRefused(String),
    UnknownKind,
    ClusterError(String),
    Error(String),
}

impl Engine<'_> {
    /// Reads the current objects of every initialised `(cluster, namespace, resource type)`
    /// of `inventory`, concurrently over clusters × namespaces × types (bounded by
    /// `concurrency`), and adds them as current objects. Cluster errors are registered in
    /// the inventory with the cluster, so the plan changes nothing there and deletes nothing
    /// anywhere; every other cluster proceeds.
    pub async fn fetch_current_state(&self, inventory: &mut ResourceInventory) -> FetchReport {
        let mut report = FetchReport::default();
        let mut jobs = Vec::new();
        let mut cluster_errors: BTreeMap<String, String> = BTreeMap::new();
        for (cluster, namespace, resource_type, state) in inventory.iter() {
            if cluster_errors.contains_key(cluster) {
                continue;
            }
            let privileged = self.options.is_privileged(cluster, namespace);
            match self.clusters.get(cluster, privileged) {
                None => {
                    let message = if self.clusters.is_skipped(cluster) {
                        format!(
                            "[{cluster}] cluster skipped (disabled for this integration or internal/external mismatch)"
                        )
                    } else {
                        format!("[{cluster}] cluster skipped: no client for it in this run")
                    };
                    if !report.warnings.contains(&message) {
                        tracing::warn!("{message}");
                        report.warnings.push(message);
                    }
                }
                Some(Err(error)) => {
                    cluster_errors.insert(cluster.to_owned(), error.to_string());
                }
                Some(Ok(client)) => jobs.push(FetchJob {
                    cluster: cluster.to_owned(),
                    namespace: namespace.to_owned(),
                    resource_type: resource_type.to_owned(),
                    names: state
                        .managed_names()
                        .map(|names| names.iter().cloned().collect()),
                    client: client.clone(),
                }),
            }
        }
        jobs.retain(|job| !cluster_errors.contains_key(&job.cluster));

        let concurrency = self.options.concurrency.max(1);
        let results: Vec<(FetchJob, JobOutcome, usize)> = futures::stream::iter(jobs)
            .map(|job| async move {
                let (outcome, requests) = self.run_fetch_job(&job).await;
                (job, outcome, requests)
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;

        let mut results = results;
        results.sort_by(|(a, _, _), (b, _, _)| {
            (&a.cluster, &a.namespace, &a.resource_type).cmp(&(
                &b.cluster,
                &b.namespace,
                &b.resource_type,
            ))
        });
        let mut current: Vec<(FetchJob, Vec<FetchedObject>)> = Vec::new();
        let mut refused: BTreeSet<(String, String)> = BTreeSet::new();
        for (job, outcome, requests) in results {
            report.requests += requests;
            match outcome {
                JobOutcome::Objects(objects) => current.push((job, objects)),
                JobOutcome::UnknownKind => {
                    let message = format!(
                        "[{}/{}] kind {} is not served by the cluster; no current objects read (nothing of it can be deleted)",
                        job.cluster, job.namespace, job.resource_type
                    );
                    tracing::warn!("{message}");
                    report.warnings.push(message);
                }
                JobOutcome::ClusterError(message) => {
                    cluster_errors.entry(job.cluster.clone()).or_insert(message);
                }
                JobOutcome::NamespaceRefused(message) => {
                    tracing::error!("{message}");
                    inventory.register_error(None, message.clone());
                    report.errors.push(message);
                    refused.insert((job.cluster.clone(), job.namespace.clone()));
                }
                JobOutcome::Error(message) => {
                    tracing::error!("{message}");
                    inventory.register_error(None, message.clone());
                    report.errors.push(message);
                }
            }
        }
        for (cluster, message) in &cluster_errors {
            tracing::error!("{message}");
            // The inventory prefixes cluster errors with `[cluster] ` itself.
            let bare = message
                .strip_prefix(&format!("[{cluster}] "))
                .unwrap_or(message);
            inventory.register_error(Some(cluster), bare.to_owned());
            report.errors.push(message.clone());
            report.failed_clusters.insert(cluster.clone());
        }
        // Upstream `init_specs_to_fetch` skips a namespace that fails validation: nothing of it
        // is read, applied or deleted.
        for (cluster, namespace) in &refused {
            inventory.remove_namespace(cluster, namespace);
        }
        for (job, objects) in current {
            if cluster_errors.contains_key(&job.cluster)
                || refused.contains(&(job.cluster.clone(), job.namespace.clone()))
            {
                continue;
            }
            for object in objects {
                self.add_current_object(inventory, &job, object, &mut report);
            }
        }
        report
    }

    /// Whether a cluster object is part of the current state: objects of the ArgoCD Operator
    /// (with `skip_argocd_managed`) and, with a caller filter, other callers' objects are not.
    fn keeps_current(&self, job: &FetchJob, body: &Value) -> bool {
        if self.options.skip_argocd_managed
            && body
                .pointer("/metadata/labels/app.kubernetes.io~1part-of")
                .and_then(Value::as_str)
                == Some("argocd")
        {
            let kind = body.get("kind").and_then(Value::as_str).unwrap_or_default();
            let name = body
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            tracing::debug!(
                "Skipping {kind} {name} in current state for cluster '{}' namespace '{}' because it is managed by the ArgoCD Operator (not by an ArgoCD Application CR).",
                job.cluster,
                job.namespace
            );
            return false;
        }
        if let Some(caller) = &self.options.caller_filter {
            let object_caller = body
                .pointer("/metadata/annotations")
                .and_then(|annotations| annotations.get(QONTRACT_CALLER_NAME))
                .and_then(Value::as_str);
            if object_caller != Some(caller.as_str()) {
                return false;
            }
        }
        true
    }

    /// The kept objects of a list or get answer, each reduced as it is read.
    fn reduce_objects(&self, job: &FetchJob, items: Vec<Value>) -> Vec<FetchedObject> {
        items
            .into_iter()
            .filter(|body| self.keeps_current(job, body))
            .map(|mut body| {
                let client_side = takeover::detect(&body, &self.options.client_side_managers);
                prune_current(&mut body);
                FetchedObject { body, client_side }
            })
            .collect()
    }

    fn add_current_object(
        &self,
        inventory: &mut ResourceInventory,
        job: &FetchJob,
        object: FetchedObject,
        report: &mut FetchReport,
    ) {
        let FetchedObject { body, client_side } = object;
        let name = body
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let details = format!(
            "cluster {} namespace {} {} {}",
            job.cluster, job.namespace, job.resource_type, name
        );
        let resource = match OpenshiftResource::from_cluster(
            body,
            self.options.integration.as_str(),
            self.options.integration_version.as_str(),
            details,
        ) {
            Ok(resource) => resource,
            Err(error) => {
                let message = format!("[{}/{}] {error}", job.cluster, job.namespace);
                report.warnings.push(message);
                return;
            }
        };
        if let Some(ownership) = client_side {
            report.client_side_owned.insert(
                ObjectKey::new(&job.cluster, &job.namespace, &job.resource_type, &name),
                ownership,
            );
        }
        match inventory.add_current(&job.cluster, &job.namespace, &job.resource_type, resource) {
            Ok(()) => report.objects_read += 1,
            Err(error) => report.warnings.push(error.to_string()),
        }
    }

    async fn run_fetch_job(&self, job: &FetchJob) -> (JobOutcome, usize) {
        let resolved = match resolve_resource_type(&job.client, &job.resource_type).await {
            Ok(ResourceTypeResolution::Found(resolved)) => resolved,
            Ok(ResourceTypeResolution::Unknown) => return (JobOutcome::UnknownKind, 0),
            Ok(ResourceTypeResolution::Ambiguous(groups)) => {
                return (
                    JobOutcome::Error(format!(
                        "[{}/{}] ambiguous resource type {}: served by the groups {}; qualify it as Kind.group",
                        job.cluster,
                        job.namespace,
                        job.resource_type,
                        groups.join(", ")
                    )),
                    0,
                );
            }
            Err(error) => {
                return (
                    JobOutcome::ClusterError(format!(
                        "[{}] API discovery failed: {}",
                        error.cluster,
                        error_chain(&error.source)
                    )),
                    0,
                );
            }
        };
        // Upstream `openshift_base.validate_managed_resource_types` (with
        // `cluster_scope_resource_validation`): a namespace may manage a cluster-scoped type
        // only by name; listing it cluster-wide into the namespace is refused.
        if !resolved.namespaced && job.namespace != CLUSTER_SCOPE_NAMESPACE && job.names.is_none() {
            return (
                JobOutcome::NamespaceRefused(format!(
                    "[{}/{}] Cluster-scoped resource {} must be managed by name only. Please use 'managedResourceNames' field to specify the names of the resources to manage.",
                    job.cluster, job.namespace, job.resource_type
                )),
                0,
            );
        }
        let namespace = (resolved.namespaced && job.namespace != CLUSTER_SCOPE_NAMESPACE)
            .then_some(job.namespace.as_str());
        let url = DynamicObject::url_path(&resolved.resource, namespace);
        let result = match &job.names {
            Some(names) => self.get_names(&job.client.client, &url, names).await,
            None => self.list_all(&job.client.client, &url).await,
        };
        match result {
            (Ok(items), requests) => {
                let items = items
                    .into_iter()
                    .map(|item| with_type(item, &resolved))
                    .collect();
                (
                    JobOutcome::Objects(self.reduce_objects(job, items)),
                    requests,
                )
            }
            (Err(error), requests) => {
                let message = format!(
                    "[{}/{}] error reading {}: {}",
                    job.cluster,
                    job.namespace,
                    job.resource_type,
                    describe_kube_error(&error, false)
                );
                (JobOutcome::ClusterError(message), requests)
            }
        }
    }

    /// GETs each named object (a missing one is not there), as raw JSON.
    async fn get_names(
        &self,
        client: &kube::Client,
        url: &str,
        names: &[String],
    ) -> (Result<Vec<Value>, kube::Error>, usize) {
        let mut objects = Vec::new();
        let mut requests = 0;
        let request = kube::core::Request::new(url);
        for name in names {
            let (result, attempts) = self
                .options
                .retry
                .run(|| async {
                    let http = request
                        .get(name, &GetParams::default())
                        .map_err(kube::Error::BuildRequest)?;
                    client.request::<Value>(http).await
                })
                .await;
            requests += attempts as usize;
            match result {
                Ok(object) => objects.push(object),
                Err(error) if status_code(&error) == Some(404) => {}
                Err(error) => return (Err(error), requests),
            }
        }
        (Ok(objects), requests)
    }

    /// Lists every object at `url`, page by page, as raw JSON (no typed metadata in between:
    /// the bodies are reduced as soon as they are read).
    async fn list_all(
        &self,
        client: &kube::Client,
        url: &str,
    ) -> (Result<Vec<Value>, kube::Error>, usize) {
        let mut objects = Vec::new();
        let mut requests = 0;
        let mut continue_token: Option<String> = None;
        let request = kube::core::Request::new(url);
        loop {
            let mut params = ListParams::default().limit(LIST_PAGE_SIZE);
            if let Some(token) = &continue_token {
                params = params.continue_token(token);
            }
            let (result, attempts) = self
                .options
                .retry
                .run(|| async {
                    let http = request.list(&params).map_err(kube::Error::BuildRequest)?;
                    client.request::<RawList>(http).await
                })
                .await;
            requests += attempts as usize;
            match result {
                Ok(list) => {
                    continue_token = list.metadata.continue_.filter(|t| !t.is_empty());
                    objects.extend(list.items);
                    if continue_token.is_none() {
                        return (Ok(objects), requests);
                    }
                }
                // The namespace does not exist (yet): nothing is there.
                Err(error) if status_code(&error) == Some(404) => {
                    return (Ok(Vec::new()), requests);
                }
                Err(error) => return (Err(error), requests),
            }
        }
    }
}

/// A list answer with its items as raw JSON.
#[derive(serde::Deserialize)]
struct RawList {
    #[serde(default)]
    metadata: kube::core::ListMeta,
    #[serde(default)]
    items: Vec<Value>,
}

/// The object with `apiVersion` and `kind` (list items lack them).
fn with_type(mut body: Value, resolved: &ResolvedType) -> Value {
    if let Value::Object(map) = &mut body {
        map.insert(
            "apiVersion".to_owned(),
            Value::String(resolved.resource.api_version.clone()),
        );
        map.insert(
            "kind".to_owned(),
            Value::String(resolved.resource.kind.clone()),
        );
    }
    body
}
