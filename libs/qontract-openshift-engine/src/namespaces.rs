//! The cluster I/O of `openshift-namespaces` (upstream `openshift_namespaces.manage_namespace`
//! with `OCCli.project_exists`, `new_project` and `delete_project`).
//!
//! * A cluster is *OpenShift* when its discovery serves `Project.project.openshift.io` (upstream
//!   `is_kind_supported("Project.project.openshift.io")`). There, a namespace is read as a
//!   `Project`, created through a `ProjectRequest` (what `oc new-project` posts, so the cluster's
//!   project template applies) and deleted as a `Project`. Elsewhere it is a plain `Namespace`.
//!   Names starting with `openshift-` are deleted as plain Namespaces (upstream
//!   `_use_oc_project`); the plan refuses to create them.
//! * A create that finds the namespace already there (409 AlreadyExists) is done, as upstream;
//!   a delete that finds it gone (404) too.
//! * Each change is logged in the Python tool's format, `['create', 'cluster', 'namespace']` /
//!   `['delete', ...]`, in a dry run as well; a dry run writes nothing.

use std::collections::{BTreeMap, BTreeSet};

use futures::StreamExt as _;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, PostParams};
use qontract_cluster_client::ClusterClient;
use qontract_resource_inventory::{
    Action, DesiredNamespace, ObservedNamespace, Phase, Plan, PlannedAction,
    RESERVED_NAMESPACE_PREFIX, RegisteredError,
};
use serde_json::json;

use crate::Engine;
use crate::apply::{ApplyReport, OutcomeKind, outcome};
use crate::error::{EngineError, ObjectId, describe_kube_error, error_chain, status_code};
use crate::kinds::{ResourceTypeResolution, resolve_resource_type};

/// What [`Engine::read_namespaces`] found.
#[derive(Debug, Clone, Default)]
pub struct NamespaceReadReport {
    /// Per declared `(cluster, namespace)`: present, absent or unknown.
    pub observed: BTreeMap<(String, String), ObservedNamespace>,
    /// Clusters serving `project.openshift.io` (namespaces are Projects there).
    pub openshift: BTreeSet<String>,
    /// Errors to register: a cluster that could not be read (with its cluster) or a namespace
    /// whose read was refused (without). Each names its cluster (and namespace).
    pub errors: Vec<RegisteredError>,
    /// Read requests made, retries included (discovery not counted).
    pub requests: usize,
}

/// How one cluster serves namespaces.
#[derive(Debug, Clone)]
struct NamespaceKinds {
    /// `Project` and `ProjectRequest` on OpenShift.
    projects: Option<(ApiResource, ApiResource)>,
}

fn namespace_resource() -> ApiResource {
    ApiResource {
        group: String::new(),
        version: "v1".to_owned(),
        api_version: "v1".to_owned(),
        kind: "Namespace".to_owned(),
        plural: "namespaces".to_owned(),
    }
}

impl NamespaceKinds {
    async fn discover(client: &ClusterClient) -> Result<Self, String> {
        let resolve = |kind: &'static str| async move {
            match resolve_resource_type(client, kind).await {
                Ok(ResourceTypeResolution::Found(found)) => Ok(Some(found.resource)),
                Ok(_) => Ok(None),
                Err(error) => Err(format!(
                    "[{}] API discovery failed: {}",
                    error.cluster,
                    error_chain(&error.source)
                )),
            }
        };
        let projects = match resolve("Project.project.openshift.io").await? {
            Some(project) => resolve("ProjectRequest.project.openshift.io")
                .await?
                .map(|request| (project, request)),
            None => None,
        };
        Ok(Self { projects })
    }

    /// The resource a namespace is read as (upstream `project_exists`: the Project wherever
    /// Projects are served).
    fn read_as(&self) -> ApiResource {
        match &self.projects {
            Some((project, _)) => project.clone(),
            None => namespace_resource(),
        }
    }

    /// The resource a namespace is deleted as (upstream `_use_oc_project`: not for names
    /// starting with `openshift-`).
    fn delete_as(&self, name: &str) -> ApiResource {
        match &self.projects {
            Some((project, _)) if !name.starts_with(RESERVED_NAMESPACE_PREFIX) => project.clone(),
            _ => namespace_resource(),
        }
    }
}

/// The Python tool's log line: `['create', 'cluster', 'namespace']`.
fn log_line(action: &PlannedAction) -> String {
    let verb = if action.action == Action::Delete {
        "delete"
    } else {
        "create"
    };
    format!(
        "[{}, {}, {}]",
        py_repr(verb),
        py_repr(&action.cluster),
        py_repr(&action.name)
    )
}

/// Python's `repr` of a str (quotes as Python picks them).
fn py_repr(text: &str) -> String {
    if text.contains('\'') && !text.contains('"') {
        format!("\"{text}\"")
    } else {
        format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

enum Read {
    Done(ObservedNamespace, usize),
    NamespaceError(String, usize),
    ClusterError(String, usize),
}

impl Engine<'_> {
    fn client_for(&self, cluster: &str, privileged: bool) -> Result<&ClusterClient, String> {
        match self.clusters.get(cluster, privileged) {
            Some(Ok(client)) => Ok(client),
            Some(Err(error)) => Err(error.to_string()),
            None if self.clusters.is_skipped(cluster) => Err(format!(
                "[{cluster}] cluster skipped (disabled for this integration or internal/external mismatch)"
            )),
            None => Err(format!(
                "[{cluster}] no {}client in this run",
                if privileged { "privileged " } else { "" }
            )),
        }
    }

    /// Reads whether each declared namespace exists (upstream `project_exists`): a GET of the
    /// `Project` on OpenShift clusters, of the `Namespace` elsewhere, at most `concurrency` at a
    /// time. A cluster without a client or whose discovery fails leaves its namespaces unknown
    /// (client errors are the caller's to register, discovery errors are in the report); a
    /// refused read (e.g. 403) is an error for that namespace only.
    pub async fn read_namespaces(&self, desired: &[DesiredNamespace]) -> NamespaceReadReport {
        let mut report = NamespaceReadReport::default();
        let mut kinds: BTreeMap<String, Result<NamespaceKinds, String>> = BTreeMap::new();
        for namespace in desired {
            if kinds.contains_key(&namespace.cluster) {
                continue;
            }
            let found = match self.client_for(&namespace.cluster, namespace.privileged) {
                Ok(client) => NamespaceKinds::discover(client).await.inspect_err(|error| {
                    report.errors.push(RegisteredError {
                        cluster: Some(namespace.cluster.clone()),
                        message: error
                            .strip_prefix(&format!("[{}] ", namespace.cluster))
                            .unwrap_or(error)
                            .to_owned(),
                    });
                }),
                Err(error) => Err(error),
            };
            if let Ok(found) = &found
                && found.projects.is_some()
            {
                report.openshift.insert(namespace.cluster.clone());
            }
            kinds.insert(namespace.cluster.clone(), found);
        }
        // Owned jobs: the futures must not borrow from the stream (they are `Send`).
        let jobs: Vec<(DesiredNamespace, Result<NamespaceKinds, String>)> = desired
            .iter()
            .map(|namespace| {
                let found = kinds
                    .get(&namespace.cluster)
                    .cloned()
                    .unwrap_or_else(|| Err("not read".to_owned()));
                (namespace.clone(), found)
            })
            .collect();
        let results: Vec<(DesiredNamespace, Read)> = futures::stream::iter(jobs)
            .map(|(namespace, found)| async move {
                let read = match found {
                    Err(error) => Read::Done(ObservedNamespace::Unknown(error), 0),
                    Ok(found) => self.read_one(&namespace, &found).await,
                };
                (namespace, read)
            })
            .buffer_unordered(self.options.concurrency.max(1))
            .collect()
            .await;
        let mut failed_clusters: BTreeMap<String, String> = BTreeMap::new();
        for (namespace, read) in results {
            let key = (namespace.cluster.clone(), namespace.name.clone());
            let observed = match read {
                Read::Done(observed, requests) => {
                    report.requests += requests;
                    observed
                }
                Read::NamespaceError(message, requests) => {
                    report.requests += requests;
                    report.errors.push(RegisteredError {
                        cluster: None,
                        message: message.clone(),
                    });
                    ObservedNamespace::Unknown(message)
                }
                Read::ClusterError(message, requests) => {
                    report.requests += requests;
                    failed_clusters
                        .entry(namespace.cluster.clone())
                        .or_insert_with(|| message.clone());
                    ObservedNamespace::Unknown(message)
                }
            };
            report.observed.insert(key, observed);
        }
        for (cluster, message) in failed_clusters {
            report.errors.push(RegisteredError {
                cluster: Some(cluster),
                message,
            });
        }
        report
            .errors
            .sort_by(|a, b| (&a.cluster, &a.message).cmp(&(&b.cluster, &b.message)));
        report
    }

    async fn read_one(&self, namespace: &DesiredNamespace, kinds: &NamespaceKinds) -> Read {
        let client = match self.client_for(&namespace.cluster, namespace.privileged) {
            Ok(client) => client,
            Err(error) => return Read::Done(ObservedNamespace::Unknown(error), 0),
        };
        let resource = kinds.read_as();
        let api: Api<DynamicObject> = Api::all_with(client.client.clone(), &resource);
        let (result, attempts) = self
            .options
            .retry
            .run(|| api.get_opt(&namespace.name))
            .await;
        let requests = attempts as usize;
        match result {
            Ok(Some(_)) => Read::Done(ObservedNamespace::Present, requests),
            Ok(None) => Read::Done(ObservedNamespace::Absent, requests),
            Err(error @ kube::Error::Api(_)) => Read::NamespaceError(
                format!(
                    "[{}/{}] error reading {} {}: {}",
                    namespace.cluster,
                    namespace.name,
                    resource.kind,
                    namespace.name,
                    describe_kube_error(&error, false)
                ),
                requests,
            ),
            Err(error) => Read::ClusterError(
                format!("error reading {}: {}", resource.kind, error_chain(&error)),
                requests,
            ),
        }
    }

    /// Carries out the creates, then the deletes of an openshift-namespaces plan (see the
    /// module documentation); the deletes are skipped if a create failed. In a dry run only
    /// the log lines are written.
    pub async fn apply_namespace_plan(
        &self,
        plan: &Plan,
        read: &NamespaceReadReport,
        dry_run: bool,
    ) -> ApplyReport {
        let mut report = ApplyReport {
            dry_run,
            ..ApplyReport::default()
        };
        for phase in [Phase::Apply, Phase::Delete] {
            let group: Vec<PlannedAction> = plan
                .changes()
                .filter(|action| action.phase == phase)
                .cloned()
                .collect();
            if phase == Phase::Delete && report.has_errors() {
                for action in &group {
                    tracing::error!(
                        "{} 'delete' action is disabled due to previous errors.",
                        log_line(action)
                    );
                    report.record(outcome(
                        action,
                        OutcomeKind::Skipped,
                        Some("'delete' action is disabled due to previous errors".to_owned()),
                    ));
                }
                continue;
            }
            let done: Vec<(usize, crate::ActionOutcome, usize)> =
                futures::stream::iter(group.into_iter().enumerate())
                    .map(|(position, action)| async move {
                        tracing::info!("{}", log_line(&action));
                        let mut writes = 0;
                        let result = if dry_run {
                            Ok(outcome(&action, OutcomeKind::DryRun, None))
                        } else {
                            let openshift = read.openshift.contains(&action.cluster);
                            self.change_one(&action, openshift, &mut writes).await
                        };
                        let result = result.unwrap_or_else(|error| {
                            outcome(&action, OutcomeKind::Failed, Some(error.to_string()))
                        });
                        (position, result, writes)
                    })
                    .buffer_unordered(self.options.concurrency.max(1))
                    .collect()
                    .await;
            let mut done = done;
            done.sort_by_key(|(position, _, _)| *position);
            let before = report.errors.len();
            for (_, result, writes) in done {
                report.writes += writes;
                report.record(result);
            }
            for error in &report.errors[before..] {
                tracing::error!("{error}");
            }
        }
        report
    }

    async fn change_one(
        &self,
        action: &PlannedAction,
        openshift: bool,
        writes: &mut usize,
    ) -> Result<crate::ActionOutcome, EngineError> {
        let client = self
            .client_for(&action.cluster, action.privileged)
            .map_err(|message| EngineError::NoClient {
                cluster: action.cluster.clone(),
                message,
            })?;
        let kinds = if openshift {
            NamespaceKinds::discover(client)
                .await
                .map_err(|message| EngineError::NoClient {
                    cluster: action.cluster.clone(),
                    message,
                })?
        } else {
            NamespaceKinds { projects: None }
        };
        let name = action.name.as_str();
        let reserved = name.starts_with(RESERVED_NAMESPACE_PREFIX);
        let api_error =
            |kind: &str, operation: &'static str, error: &kube::Error| EngineError::Api {
                object: ObjectId::boxed(&action.cluster, &action.namespace, kind, name),
                operation,
                message: describe_kube_error(error, false),
            };
        if action.action == Action::Delete {
            let resource = kinds.delete_as(name);
            let api: Api<DynamicObject> = Api::all_with(client.client.clone(), &resource);
            let params = DeleteParams::background();
            let (result, attempts) = self.options.retry.run(|| api.delete(name, &params)).await;
            *writes += attempts as usize;
            return match result {
                Ok(_) => Ok(outcome(action, OutcomeKind::Deleted, None)),
                Err(error) if status_code(&error) == Some(404) => Ok(outcome(
                    action,
                    OutcomeKind::Deleted,
                    Some("already gone".to_owned()),
                )),
                Err(error) => Err(api_error(&resource.kind, "deleting", &error)),
            };
        }
        let (resource, body) = match &kinds.projects {
            Some((_, request)) if !reserved => (
                request.clone(),
                json!({
                    "apiVersion": request.api_version,
                    "kind": request.kind,
                    "metadata": {"name": name},
                }),
            ),
            _ => (
                namespace_resource(),
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}),
            ),
        };
        let object: DynamicObject =
            serde_json::from_value(body).map_err(|error| EngineError::Api {
                object: ObjectId::boxed(&action.cluster, &action.namespace, &resource.kind, name),
                operation: "encoding",
                message: error.to_string(),
            })?;
        let api: Api<DynamicObject> = Api::all_with(client.client.clone(), &resource);
        let params = PostParams {
            field_manager: Some(self.options.field_manager()),
            ..PostParams::default()
        };
        let (result, attempts) = self
            .options
            .retry
            .run(|| api.create(&params, &object))
            .await;
        *writes += attempts as usize;
        match result {
            Ok(_) => Ok(outcome(action, OutcomeKind::Applied, None)),
            // As upstream `new_project`: a namespace that appeared meanwhile is fine.
            Err(kube::Error::Api(status)) if status.reason == "AlreadyExists" => Ok(outcome(
                action,
                OutcomeKind::Applied,
                Some("already exists".to_owned()),
            )),
            Err(error) => Err(api_error(&resource.kind, "creating", &error)),
        }
    }
}
