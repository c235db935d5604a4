//! The cluster I/O of `openshift-namespaces` (upstream `openshift_namespaces.manage_namespace`
//! with `OCCli.project_exists`, `new_project` and `delete_project`).
//!
//! * A cluster is *OpenShift* when it serves `Project` and `ProjectRequest` in
//!   `project.openshift.io/v1` (upstream `is_kind_supported("Project.project.openshift.io")`),
//!   asked with one request for that group version's resources (the other API groups are not
//!   used here, so they are not discovered). There, a namespace is read as a
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
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, ListParams, PostParams};
use qontract_cluster_client::ClusterClient;
use qontract_resource_inventory::{
    Action, DesiredNamespace, ObservedNamespace, Phase, Plan, PlannedAction,
    RESERVED_NAMESPACE_PREFIX, RegisteredError,
};
use serde_json::json;

use crate::Engine;
use crate::apply::{ApplyReport, OutcomeKind, outcome};
use crate::error::{EngineError, ObjectId, describe_kube_error, error_chain, status_code};

/// Page size of the namespace list (client-go's pager default).
pub(crate) const LIST_PAGE_SIZE: u32 = 500;

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

/// The API group version that serves `Project` and `ProjectRequest` on OpenShift.
const PROJECT_GROUP_VERSION: &str = "project.openshift.io/v1";

fn project_resource(kind: &str, plural: &str) -> ApiResource {
    let (group, version) = PROJECT_GROUP_VERSION
        .split_once('/')
        .expect("a group/version");
    ApiResource {
        group: group.to_owned(),
        version: version.to_owned(),
        api_version: PROJECT_GROUP_VERSION.to_owned(),
        kind: kind.to_owned(),
        plural: plural.to_owned(),
    }
}

impl NamespaceKinds {
    /// An OpenShift cluster: namespaces are `Project`s, created through `ProjectRequest`s.
    fn openshift() -> Self {
        Self {
            projects: Some((
                project_resource("Project", "projects"),
                project_resource("ProjectRequest", "projectrequests"),
            )),
        }
    }

    /// Whether the cluster serves `Project.project.openshift.io` (upstream
    /// `is_kind_supported("Project.project.openshift.io")`), with the `ProjectRequest` that
    /// `oc new-project` posts: one request for the resource list of
    /// [`PROJECT_GROUP_VERSION`] (a 404 is a cluster without it), not the discovery of every
    /// API group, which this integration does not use. The error is `[cluster] API discovery
    /// failed: ...`.
    async fn discover(engine: &Engine<'_>, client: &ClusterClient) -> Result<Self, String> {
        let (result, _) = engine
            .options
            .retry
            .run(|| {
                client
                    .client
                    .list_api_group_resources(PROJECT_GROUP_VERSION)
            })
            .await;
        match result {
            Ok(list) => {
                let serves = |kind: &str| {
                    list.resources
                        .iter()
                        .any(|resource| resource.kind == kind && !resource.name.contains('/'))
                };
                Ok(if serves("Project") && serves("ProjectRequest") {
                    Self::openshift()
                } else {
                    Self { projects: None }
                })
            }
            Err(error) if status_code(&error) == Some(404) => Ok(Self { projects: None }),
            Err(error) => Err(format!(
                "[{}] API discovery failed: {}",
                client.cluster,
                error_chain(&error)
            )),
        }
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

/// What [`Engine::read_cluster`] found on one cluster.
struct ClusterRead {
    /// How it serves namespaces, or why that is not known.
    kinds: Result<NamespaceKinds, String>,
    /// The error in `kinds` is the discovery's (to register), not a missing client's.
    discovery_failed: bool,
    /// Per client (`privileged`): the names listed, or the cluster's error.
    listed: Vec<(bool, Result<BTreeSet<String>, String>)>,
    /// List requests made, retries included.
    requests: usize,
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

    /// Reads whether each declared namespace exists, as upstream `OCCli(init_projects=True)`
    /// with `project_exists`: one paginated list of the `Project`s on OpenShift clusters, of
    /// the `Namespace`s elsewhere, per cluster client (the cluster admin's for `clusterAdmin`
    /// namespaces); a namespace in that list is present, one not in it is decided by a GET of
    /// its own, at most `concurrency` requests at a time. The clusters are read at the same
    /// time, at most `concurrency` at once, each asked whether it serves Projects then listed;
    /// the report is the same whichever answers first. A cluster without a client or whose
    /// discovery fails leaves its namespaces unknown (client errors are the caller's to
    /// register, discovery errors are in the report); so does a failed list (an error for that
    /// cluster, as upstream's client then is "unreachable"); a refused GET (e.g. 403) is an
    /// error for that namespace only.
    pub async fn read_namespaces(&self, desired: &[DesiredNamespace]) -> NamespaceReadReport {
        let mut report = NamespaceReadReport::default();
        // The clients of each cluster (upstream `oc_map.get(cluster, privileged=...)`), that of
        // its first declared namespace first: that one asks whether Projects are served.
        let mut clusters: BTreeMap<String, Vec<bool>> = BTreeMap::new();
        for namespace in desired {
            let clients = clusters.entry(namespace.cluster.clone()).or_default();
            if !clients.contains(&namespace.privileged) {
                clients.push(namespace.privileged);
            }
        }
        // The clusters are read at the same time, at most `concurrency` at once (upstream
        // `init_oc_map_from_namespaces(thread_pool_size=...)` builds its clients, each with
        // its list, in a thread pool); the answers are kept by cluster, so the report does
        // not depend on which one answered first.
        let read: Vec<(String, ClusterRead)> = futures::stream::iter(clusters)
            .map(|(cluster, clients)| async move {
                let read = self.read_cluster(&cluster, &clients).await;
                (cluster, read)
            })
            .buffer_unordered(self.options.concurrency.max(1))
            .collect()
            .await;
        let mut kinds: BTreeMap<String, Result<NamespaceKinds, String>> = BTreeMap::new();
        let mut listed: BTreeMap<(String, bool), Result<BTreeSet<String>, String>> =
            BTreeMap::new();
        for (cluster, read) in read {
            report.requests += read.requests;
            if let Ok(found) = &read.kinds
                && found.projects.is_some()
            {
                report.openshift.insert(cluster.clone());
            }
            if read.discovery_failed
                && let Err(error) = &read.kinds
            {
                report.errors.push(RegisteredError {
                    cluster: Some(cluster.clone()),
                    message: error
                        .strip_prefix(&format!("[{cluster}] "))
                        .unwrap_or(error)
                        .to_owned(),
                });
            }
            for (privileged, names) in read.listed {
                listed.insert((cluster.clone(), privileged), names);
            }
            kinds.insert(cluster, read.kinds);
        }
        let kinds = &kinds;
        // Owned jobs: the futures must not borrow from the stream (they are `Send`). A
        // namespace in its client's list is present (upstream `project_exists`); one that is
        // not is read on its own, as upstream does.
        let jobs: Vec<(DesiredNamespace, Result<NamespaceKinds, Read>)> = desired
            .iter()
            .map(|namespace| {
                let found = match kinds.get(&namespace.cluster) {
                    Some(Ok(found)) => {
                        match listed.get(&(namespace.cluster.clone(), namespace.privileged)) {
                            Some(Ok(names)) if names.contains(&namespace.name) => {
                                Err(Read::Done(ObservedNamespace::Present, 0))
                            }
                            Some(Err(message)) => Err(Read::ClusterError(message.clone(), 0)),
                            _ => Ok(found.clone()),
                        }
                    }
                    Some(Err(error)) => {
                        Err(Read::Done(ObservedNamespace::Unknown(error.clone()), 0))
                    }
                    None => Err(Read::Done(
                        ObservedNamespace::Unknown("not read".to_owned()),
                        0,
                    )),
                };
                (namespace.clone(), found)
            })
            .collect();
        let results: Vec<(DesiredNamespace, Read)> = futures::stream::iter(jobs)
            .map(|(namespace, found)| async move {
                let read = match found {
                    Err(read) => read,
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

    /// One cluster: whether it serves Projects (asked with the client of its first declared
    /// namespace), then the list of each of its `clients` (see [`Self::list_names`]). A
    /// missing client leaves the cluster unread (the caller registers client errors).
    async fn read_cluster(&self, cluster: &str, clients: &[bool]) -> ClusterRead {
        let mut read = ClusterRead {
            kinds: Err("not read".to_owned()),
            discovery_failed: false,
            listed: Vec::new(),
            requests: 0,
        };
        let Some(&first) = clients.first() else {
            return read;
        };
        let client = match self.client_for(cluster, first) {
            Ok(client) => client,
            Err(error) => {
                read.kinds = Err(error);
                return read;
            }
        };
        read.kinds = NamespaceKinds::discover(self, client).await;
        let found = match &read.kinds {
            Ok(found) => found.clone(),
            Err(_) => {
                read.discovery_failed = true;
                return read;
            }
        };
        for &privileged in clients {
            let (names, requests) = self.list_names(cluster, privileged, &found).await;
            read.requests += requests;
            read.listed.push((privileged, names));
        }
        read
    }

    /// The names of all `Project`s (OpenShift) or `Namespace`s of one cluster client, listed
    /// in pages of [`LIST_PAGE_SIZE`] (upstream `OCCli.init_projects`: `get_all(kind)`), with
    /// the number of requests made. An error is the cluster's: its namespaces are unknown.
    async fn list_names(
        &self,
        cluster: &str,
        privileged: bool,
        kinds: &NamespaceKinds,
    ) -> (Result<BTreeSet<String>, String>, usize) {
        let client = match self.client_for(cluster, privileged) {
            Ok(client) => client,
            Err(error) => return (Err(error), 0),
        };
        let resource = kinds.read_as();
        let api: Api<DynamicObject> = Api::all_with(client.client.clone(), &resource);
        let mut names = BTreeSet::new();
        let mut requests = 0;
        let mut continue_token: Option<String> = None;
        loop {
            let mut params = ListParams::default().limit(LIST_PAGE_SIZE);
            if let Some(token) = &continue_token {
                params = params.continue_token(token);
            }
            let (result, attempts) = self.options.retry.run(|| api.list(&params)).await;
            requests += attempts as usize;
            let page = match result {
                Ok(page) => page,
                Err(error) => {
                    let message = match &error {
                        kube::Error::Api(_) => describe_kube_error(&error, false),
                        _ => error_chain(&error),
                    };
                    return (
                        Err(format!("error listing {}s: {message}", resource.kind)),
                        requests,
                    );
                }
            };
            names.extend(page.items.into_iter().filter_map(|item| item.metadata.name));
            continue_token = page.metadata.continue_.filter(|token| !token.is_empty());
            if continue_token.is_none() {
                return (Ok(names), requests);
            }
        }
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
        // As read: the cluster served `project.openshift.io/v1` then (no discovery again).
        let kinds = if openshift {
            NamespaceKinds::openshift()
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use qontract_cluster_client::ClusterMap;
    use qontract_kube_testserver::{KubeTestServer, KubeTestServerBuilder};

    use super::*;
    use crate::{EngineOptions, RetryPolicy};

    const ADMIN: &str = "namespaces-admin-token";
    const READER: &str = "namespaces-reader-token";

    /// A client of the API server at `url` with `token`.
    fn kube_client_at(url: &str, token: &str) -> kube::Client {
        let mut config = kube::Config::new(url.parse().expect("server URL"));
        config.read_timeout = Some(Duration::from_secs(10));
        config.connect_timeout = Some(Duration::from_secs(2));
        config.headers.push((
            http::header::AUTHORIZATION,
            http::HeaderValue::from_str(&format!("Bearer {token}")).expect("header"),
        ));
        kube::Client::try_from(config).expect("kube client")
    }

    fn kube_client(server: &KubeTestServer, token: &str) -> kube::Client {
        kube_client_at(&server.url(), token)
    }

    /// A plain-HTTP test server accepting `ADMIN`, serving Projects when `openshift`, holding
    /// the namespaces `names`.
    fn server_builder<S: AsRef<str>>(openshift: bool, names: &[S]) -> KubeTestServerBuilder {
        names.iter().fold(
            KubeTestServer::builder()
                .https(false)
                .token(ADMIN)
                .openshift_projects(openshift),
            |builder, name| builder.seed(namespace(name.as_ref())),
        )
    }

    async fn start(builder: KubeTestServerBuilder) -> KubeTestServer {
        builder.start().await.expect("start the kube test server")
    }

    /// One client per `(cluster, privileged, client)`.
    fn cluster_map(clients: Vec<(&str, bool, kube::Client)>) -> ClusterMap {
        let mut clusters = ClusterMap::default();
        for (cluster, privileged, client) in clients {
            clusters.insert(ClusterClient::new(cluster, privileged, client));
        }
        clusters
    }

    /// `appsres01`, read with `ADMIN`'s unprivileged client of `server`.
    fn one_cluster(server: &KubeTestServer) -> ClusterMap {
        cluster_map(vec![("appsres01", false, kube_client(server, ADMIN))])
    }

    fn options() -> EngineOptions {
        let mut options = EngineOptions::new("openshift_namespaces", "0.1.0");
        options.concurrency = 10;
        options.retry = RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(50),
            max_retry_after: Duration::from_secs(2),
        };
        options
    }

    fn namespace(name: &str) -> serde_json::Value {
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    }

    fn desired(cluster: &str, name: &str, privileged: bool) -> DesiredNamespace {
        DesiredNamespace {
            cluster: cluster.to_owned(),
            name: name.to_owned(),
            delete: false,
            privileged,
        }
    }

    /// What the report observed of `cluster`'s namespace `name` (which must be declared).
    fn observed<'a>(
        report: &'a NamespaceReadReport,
        cluster: &str,
        name: &str,
    ) -> &'a ObservedNamespace {
        &report.observed[&(cluster.to_owned(), name.to_owned())]
    }

    /// The report holds one error, for `cluster`, whose message starts with `prefix`.
    fn assert_one_cluster_error(report: &NamespaceReadReport, cluster: &str, prefix: &str) {
        assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
        assert_eq!(report.errors[0].cluster.as_deref(), Some(cluster));
        assert!(
            report.errors[0].message.starts_with(prefix),
            "{}",
            report.errors[0].message
        );
    }

    /// `(verb, path, user)` of the namespace reads (discovery left out).
    fn namespace_reads(server: &KubeTestServer) -> Vec<(String, String, String)> {
        server
            .requests()
            .into_iter()
            .filter(|request| {
                request.path.starts_with("/api/v1/namespaces")
                    || request
                        .path
                        .starts_with("/apis/project.openshift.io/v1/projects")
            })
            .map(|request| (request.verb, request.path, request.user.unwrap_or_default()))
            .collect()
    }

    /// As upstream `OCCli(init_projects=True)` + `project_exists`: 1,100 present namespaces
    /// are one list of three pages, not 1,100 GETs; only the two names missing from the list
    /// are read on their own.
    #[tokio::test]
    async fn namespaces_are_listed_once_per_cluster_not_read_one_by_one() {
        let count = 2 * LIST_PAGE_SIZE as usize + 100;
        let names: Vec<String> = (0..count).map(|index| format!("app-{index:04}")).collect();
        let server = start(server_builder(false, &names)).await;
        let clusters = one_cluster(&server);
        let engine = Engine::new(&clusters, options());
        let mut wanted: Vec<DesiredNamespace> = names
            .iter()
            .map(|name| desired("appsres01", name, false))
            .collect();
        wanted.push(desired("appsres01", "new-one", false));
        wanted.push(desired("appsres01", "new-two", false));

        let report = engine.read_namespaces(&wanted).await;

        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!(report.observed.len(), count + 2);
        for (key, observed) in &report.observed {
            let expected = if key.1.starts_with("new-") {
                ObservedNamespace::Absent
            } else {
                ObservedNamespace::Present
            };
            assert_eq!(observed, &expected, "{key:?}");
        }
        let reads = namespace_reads(&server);
        let lists = reads.iter().filter(|(verb, _, _)| verb == "list").count();
        let mut gets: Vec<&str> = reads
            .iter()
            .filter(|(verb, _, _)| verb == "get")
            .map(|(_, path, _)| path.as_str())
            .collect();
        gets.sort_unstable();
        assert_eq!(lists, 3, "pages of {LIST_PAGE_SIZE}: {reads:?}");
        assert_eq!(
            gets,
            ["/api/v1/namespaces/new-one", "/api/v1/namespaces/new-two"]
        );
        assert_eq!(report.requests, 5);
        server.shutdown().await;
    }

    /// A `clusterAdmin` namespace is listed (and read) with the cluster admin's client, the
    /// others with the automation token's, as upstream `oc_map.get(cluster, privileged=...)`;
    /// on OpenShift the list is of `Project`s.
    #[tokio::test]
    async fn a_cluster_admin_namespace_is_listed_with_the_admin_client() {
        let server =
            start(server_builder(true, &["app", "admin-only"]).readonly_token(READER)).await;
        let clusters = cluster_map(vec![
            ("appsres01", false, kube_client(&server, READER)),
            ("appsres01", true, kube_client(&server, ADMIN)),
        ]);
        let engine = Engine::new(&clusters, options());
        let wanted = [
            desired("appsres01", "app", false),
            desired("appsres01", "admin-only", true),
            desired("appsres01", "admin-new", true),
        ];

        let report = engine.read_namespaces(&wanted).await;

        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert!(report.openshift.contains("appsres01"));
        assert_eq!(
            observed(&report, "appsres01", "app"),
            &ObservedNamespace::Present
        );
        assert_eq!(
            observed(&report, "appsres01", "admin-only"),
            &ObservedNamespace::Present
        );
        assert_eq!(
            observed(&report, "appsres01", "admin-new"),
            &ObservedNamespace::Absent
        );
        let mut reads = namespace_reads(&server);
        reads.sort();
        let expected = [
            (
                "get",
                "/apis/project.openshift.io/v1/projects/admin-new",
                "admin",
            ),
            ("list", "/apis/project.openshift.io/v1/projects", "admin"),
            ("list", "/apis/project.openshift.io/v1/projects", "readonly"),
        ]
        .map(|(verb, path, user)| (verb.to_owned(), path.to_owned(), user.to_owned()));
        assert_eq!(reads, expected);
        server.shutdown().await;
    }

    /// A refused list leaves the cluster's namespaces unknown, one error for the cluster (as
    /// upstream, whose client of that cluster is then "unreachable"); no namespace is read
    /// on its own.
    #[tokio::test]
    async fn a_failed_list_leaves_the_clusters_namespaces_unknown() {
        let server = start(server_builder(false, &["app"])).await;
        let clusters = one_cluster(&server);
        let engine = Engine::new(&clusters, options());
        server.fail_next("GET /api/v1/namespaces", 403);

        let report = engine
            .read_namespaces(&[
                desired("appsres01", "app", false),
                desired("appsres01", "other", false),
            ])
            .await;

        assert_one_cluster_error(&report, "appsres01", "error listing Namespaces: ");
        assert!(
            report
                .observed
                .values()
                .all(|observed| matches!(observed, ObservedNamespace::Unknown(_))),
            "{:?}",
            report.observed
        );
        let reads = namespace_reads(&server);
        assert_eq!(reads.len(), 1, "{reads:?}");
        server.shutdown().await;
    }

    /// `(method, path)` of every request a server received.
    fn all_requests(server: &KubeTestServer) -> Vec<(String, String)> {
        server
            .requests()
            .into_iter()
            .map(|request| (request.method, request.path))
            .collect()
    }

    /// Whether a cluster serves Projects is one request for `project.openshift.io/v1`'s
    /// resources (upstream `is_kind_supported("Project.project.openshift.io")`), not the
    /// discovery of every API group; a create on OpenShift then posts its `ProjectRequest`
    /// without discovering again. On a plain Kubernetes cluster that request is a 404.
    #[tokio::test]
    async fn only_the_project_api_group_is_discovered() {
        let openshift = start(server_builder(true, &["app"])).await;
        let plain = start(server_builder(false, &["app"])).await;
        let clusters = cluster_map(vec![
            ("appsres01", false, kube_client(&openshift, ADMIN)),
            ("appsres02", false, kube_client(&plain, ADMIN)),
        ]);
        let engine = Engine::new(&clusters, options());
        let wanted = [
            desired("appsres01", "app", false),
            desired("appsres01", "new-one", false),
            desired("appsres02", "app", false),
        ];

        let report = engine.read_namespaces(&wanted).await;

        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!(
            report.openshift.iter().collect::<Vec<_>>(),
            ["appsres01"],
            "only the cluster serving project.openshift.io/v1"
        );
        let expected = |requests: &[(&str, &str)]| -> Vec<(String, String)> {
            requests
                .iter()
                .map(|(method, path)| ((*method).to_owned(), (*path).to_owned()))
                .collect()
        };
        assert_eq!(
            all_requests(&openshift),
            expected(&[
                ("GET", "/apis/project.openshift.io/v1"),
                ("GET", "/apis/project.openshift.io/v1/projects"),
                ("GET", "/apis/project.openshift.io/v1/projects/new-one"),
            ])
        );
        assert_eq!(
            all_requests(&plain),
            expected(&[
                ("GET", "/apis/project.openshift.io/v1"),
                ("GET", "/api/v1/namespaces"),
            ])
        );

        let plan =
            qontract_resource_inventory::plan_namespaces(&wanted, &report.observed, Vec::new());
        openshift.clear_requests();
        let applied = engine.apply_namespace_plan(&plan, &report, false).await;

        assert!(applied.errors.is_empty(), "{:?}", applied.errors);
        assert_eq!(
            all_requests(&openshift),
            expected(&[("POST", "/apis/project.openshift.io/v1/projectrequests")])
        );
        assert!(
            openshift
                .get_object("v1", "Namespace", None, "new-one")
                .is_some()
        );
        openshift.shutdown().await;
        plain.shutdown().await;
    }

    /// A refused discovery of `project.openshift.io/v1` is an error for that cluster (its
    /// namespaces unknown, nothing listed), as a failed discovery was.
    #[tokio::test]
    async fn a_failed_discovery_is_an_error_for_that_cluster() {
        let server = start(server_builder(true, &["app"])).await;
        let clusters = one_cluster(&server);
        let engine = Engine::new(&clusters, options());
        server.fail_next("GET /apis/project.openshift.io/v1", 403);

        let report = engine
            .read_namespaces(&[desired("appsres01", "app", false)])
            .await;

        assert_one_cluster_error(&report, "appsres01", "API discovery failed: ");
        assert!(matches!(
            observed(&report, "appsres01", "app"),
            ObservedNamespace::Unknown(_)
        ));
        assert!(namespace_reads(&server).is_empty());
        server.shutdown().await;
    }

    /// A plain-TCP proxy to `target` that holds every connection until `gate` has received a
    /// request.
    async fn gated_proxy(
        target: std::net::SocketAddr,
        gate: std::sync::Arc<KubeTestServer>,
    ) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let address = listener.local_addr().expect("proxy address");
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                while gate.requests().is_empty() {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        format!("http://{address}")
    }

    /// The clusters are read at the same time (upstream builds its clients, each with its
    /// list, in a thread pool): the first cluster's API server answers only once the second
    /// one has been asked, so reading them one after the other never gets an answer.
    #[tokio::test]
    async fn clusters_are_read_at_the_same_time() {
        let first = start(server_builder(false, &["app"])).await;
        // The second cluster's server: the first one's answers wait for its first request.
        let second = std::sync::Arc::new(start(server_builder::<&str>(false, &[])).await);
        let proxy = gated_proxy(first.addr(), std::sync::Arc::clone(&second)).await;
        let clusters = cluster_map(vec![
            ("appsres01", false, kube_client_at(&proxy, ADMIN)),
            ("appsres02", false, kube_client(&second, ADMIN)),
        ]);
        let mut options = options();
        options.concurrency = 2;
        options.retry.max_attempts = 1;
        let engine = Engine::new(&clusters, options);

        let report = engine
            .read_namespaces(&[
                desired("appsres01", "app", false),
                desired("appsres02", "other", false),
            ])
            .await;

        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!(
            observed(&report, "appsres01", "app"),
            &ObservedNamespace::Present
        );
        assert_eq!(
            observed(&report, "appsres02", "other"),
            &ObservedNamespace::Absent
        );
        first.shutdown().await;
    }
}
