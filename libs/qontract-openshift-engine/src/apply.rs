//! Carrying out a plan: server-side apply, deletes, fallbacks, takeover and pod recycling
//! (upstream `realize_data`'s `apply` / `delete`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use futures::StreamExt as _;
use kube::Resource as _;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams};
use qontract_cluster_client::ClusterClient;
use qontract_openshift_resource::utc_now_iso_seconds;
use qontract_resource_inventory::{
    Action, CLUSTER_SCOPE_NAMESPACE, Phase, Plan, PlannedAction, ResourceInventory, kind_rank,
};
use serde::Serialize;
use serde_json::Value;

use crate::Engine;
use crate::error::{EngineError, ObjectId, describe_kube_error, error_chain, status_code};
use crate::fetch::{FetchReport, ObjectKey};
use crate::kinds::{ResolvedType, object_path, resolve_object_kind};
use crate::recycle;
use crate::retry::RetryPolicy;
use crate::takeover::{self, ClientSideOwnership};

/// Kinds re-created (delete + create) when an apply hits an immutable field (upstream).
const RECREATE_ON_IMMUTABLE: [&str; 4] = ["Service", "Route", "Secret", "Job"];

/// How long a re-create waits for the old object to disappear.
const DELETE_WAIT_ATTEMPTS: u32 = 50;
const DELETE_WAIT_INTERVAL: Duration = Duration::from_millis(200);

/// What happened to one planned change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    /// Applied (server-side apply).
    Applied,
    /// Deleted and created again (immutable field / forbidden StatefulSet update).
    Recreated,
    /// Deleted (or already gone).
    Deleted,
    /// Dry run: nothing written.
    DryRun,
    /// Not done, on purpose (see the detail).
    Skipped,
    /// Failed; an error was registered.
    Failed,
}

/// The result of one planned change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionOutcome {
    /// Cluster name.
    pub cluster: String,
    /// Namespace.
    pub namespace: String,
    /// Resource type.
    pub resource_type: String,
    /// Object name.
    pub name: String,
    /// The planned action.
    pub action: Action,
    /// What happened.
    pub outcome: OutcomeKind,
    /// Workloads restarted (or, in a dry run, to be restarted), as `Kind/name`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recycled: Vec<String>,
    /// Client-side ownership was migrated to our field manager before the apply.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub took_over: bool,
    /// Error or remark.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Counts of one cluster.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ClusterSummary {
    /// Objects applied.
    pub applied: usize,
    /// Objects deleted and created again.
    pub recreated: usize,
    /// Objects deleted.
    pub deleted: usize,
    /// Workloads restarted.
    pub recycled: usize,
    /// Changes not made in a dry run.
    pub dry_run: usize,
    /// Changes skipped.
    pub skipped: usize,
    /// Changes that failed.
    pub failed: usize,
}

/// What [`Engine::apply_plan`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ApplyReport {
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// One outcome per planned change, in plan order.
    pub outcomes: Vec<ActionOutcome>,
    /// Counts per cluster.
    pub clusters: BTreeMap<String, ClusterSummary>,
    /// Errors registered while applying, each naming cluster/namespace/kind/name.
    pub errors: Vec<String>,
    /// Write requests sent (0 in a dry run).
    pub writes: usize,
}

impl ApplyReport {
    /// True if any change failed.
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    pub(crate) fn record(&mut self, outcome: ActionOutcome) {
        let summary = self.clusters.entry(outcome.cluster.clone()).or_default();
        match outcome.outcome {
            OutcomeKind::Applied => summary.applied += 1,
            OutcomeKind::Recreated => summary.recreated += 1,
            OutcomeKind::Deleted => summary.deleted += 1,
            OutcomeKind::DryRun => summary.dry_run += 1,
            OutcomeKind::Skipped => summary.skipped += 1,
            OutcomeKind::Failed => summary.failed += 1,
        }
        if !self.dry_run {
            summary.recycled += outcome.recycled.len();
        }
        if outcome.outcome == OutcomeKind::Failed
            && let Some(detail) = &outcome.detail
        {
            self.errors.push(detail.clone());
        }
        self.outcomes.push(outcome);
    }
}

/// One change, ready to run.
struct ChangeJob {
    action: PlannedAction,
    /// Annotated desired body (apply) or the current body (delete).
    body: Value,
    client_side: Option<ClientSideOwnership>,
}

struct Executed {
    outcome: ActionOutcome,
    writes: usize,
}

/// The object kinds resolved during one [`Engine::apply_plan`], by (cluster, privileged,
/// apiVersion, kind): every object of a kind would otherwise look its kind up again in the
/// cluster's discovery (which copies the whole API group). Only found kinds are kept: a miss is
/// asked again, as a CustomResourceDefinition applied earlier in the run may have added it.
#[derive(Default)]
struct KindCache(Mutex<HashMap<(String, bool, String, String), ResolvedType>>);

impl KindCache {
    async fn resolve(
        &self,
        client: &ClusterClient,
        action: &PlannedAction,
        api_version: &str,
        kind: &str,
    ) -> Result<Option<ResolvedType>, qontract_cluster_client::DiscoveryError> {
        let key = (
            action.cluster.clone(),
            action.privileged,
            api_version.to_owned(),
            kind.to_owned(),
        );
        if let Some(found) = self.lock().get(&key) {
            return Ok(Some(found.clone()));
        }
        let resolved = resolve_object_kind(client, api_version, kind).await?;
        if let Some(found) = &resolved {
            self.lock().insert(key, found.clone());
        }
        Ok(resolved)
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<(String, bool, String, String), ResolvedType>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Engine<'_> {
    /// Carries out the create, update and delete actions of `plan`, in plan order (applies
    /// by kind order, then deletes in reverse kind order); actions of the same phase and kind
    /// rank run concurrently, bounded by `concurrency`. In a dry run no write request is made.
    ///
    /// Failures are registered in `inventory` (naming cluster/namespace/kind/name) and the run
    /// continues; if any error is registered before the deletes, no delete is made.
    pub async fn apply_plan(
        &self,
        plan: &Plan,
        inventory: &mut ResourceInventory,
        fetched: &FetchReport,
        dry_run: bool,
    ) -> ApplyReport {
        let mut report = ApplyReport {
            dry_run,
            ..ApplyReport::default()
        };
        let timestamp = self
            .options
            .update_timestamp
            .clone()
            .unwrap_or_else(utc_now_iso_seconds);
        let changes: Vec<&PlannedAction> = plan.changes().collect();
        let mut registered = 0;
        let mut index = 0;
        let kinds = KindCache::default();
        while index < changes.len() {
            let group_key = (
                changes[index].phase,
                kind_rank(&changes[index].resource_type),
            );
            let end = changes[index..]
                .iter()
                .position(|a| (a.phase, kind_rank(&a.resource_type)) != group_key)
                .map_or(changes.len(), |offset| index + offset);
            let group = &changes[index..end];
            index = end;

            if group_key.0 == Phase::Delete && inventory.has_error_registered() {
                for action in group {
                    tracing::error!(
                        "['delete', '{}', '{}', '{}', '{}'] 'delete' action is disabled due to previous errors.",
                        action.cluster,
                        action.namespace,
                        action.resource_type,
                        action.name
                    );
                    report.record(outcome(
                        action,
                        OutcomeKind::Skipped,
                        Some("'delete' action is disabled due to previous errors".to_owned()),
                    ));
                }
                continue;
            }

            let mut jobs = Vec::with_capacity(group.len());
            for action in group {
                match self.prepare(action, inventory, fetched, &timestamp) {
                    Ok(job) => jobs.push(job),
                    Err(message) => {
                        report.record(outcome(action, OutcomeKind::Failed, Some(message)));
                    }
                }
            }
            let concurrency = self.options.concurrency.max(1);
            let mut executed: Vec<(usize, Executed)> = futures::stream::iter(
                jobs.into_iter().enumerate(),
            )
            .map(|(position, job)| {
                let timestamp = &timestamp;
                let kinds = &kinds;
                async move { (position, self.execute(job, dry_run, timestamp, kinds).await) }
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
            executed.sort_by_key(|(position, _)| *position);
            for (_, done) in executed {
                report.writes += done.writes;
                report.record(done.outcome);
            }
            for error in &report.errors[registered..] {
                tracing::error!("{error}");
                inventory.register_error(None, error.clone());
            }
            registered = report.errors.len();
        }
        report
    }

    fn prepare(
        &self,
        action: &PlannedAction,
        inventory: &ResourceInventory,
        fetched: &FetchReport,
        timestamp: &str,
    ) -> Result<ChangeJob, String> {
        let key = ObjectKey::new(
            &action.cluster,
            &action.namespace,
            &action.resource_type,
            &action.name,
        );
        match action.action {
            Action::Create | Action::Update => {
                let entry = inventory.desired_for(action).ok_or_else(|| {
                    format!(
                        "[{}/{}] {} {}: planned for apply but not desired in the inventory",
                        action.cluster, action.namespace, action.resource_type, action.name
                    )
                })?;
                Ok(ChangeJob {
                    action: action.clone(),
                    body: entry.resource.annotate(timestamp).into_body(),
                    client_side: fetched.client_side_owned.get(&key).cloned(),
                })
            }
            _ => {
                let current = inventory
                    .get_current(
                        &action.cluster,
                        &action.namespace,
                        &action.resource_type,
                        &action.name,
                    )
                    .ok_or_else(|| {
                        format!(
                            "[{}/{}] {} {}: planned for delete but not on the cluster in the inventory",
                            action.cluster, action.namespace, action.resource_type, action.name
                        )
                    })?;
                Ok(ChangeJob {
                    action: action.clone(),
                    body: current.body().clone(),
                    client_side: None,
                })
            }
        }
    }

    async fn execute(
        &self,
        job: ChangeJob,
        dry_run: bool,
        timestamp: &str,
        kinds: &KindCache,
    ) -> Executed {
        let action = &job.action;
        if let Some(line) = action.upstream_log_line() {
            tracing::info!("{line}");
        }
        let mut writes = 0;
        let result = self
            .execute_inner(&job, dry_run, timestamp, kinds, &mut writes)
            .await;
        let outcome = match result {
            Ok(outcome) => outcome,
            Err(error) => outcome(action, OutcomeKind::Failed, Some(error.to_string())),
        };
        Executed { outcome, writes }
    }

    async fn execute_inner(
        &self,
        job: &ChangeJob,
        dry_run: bool,
        timestamp: &str,
        kinds: &KindCache,
        writes: &mut usize,
    ) -> Result<ActionOutcome, EngineError> {
        let action = &job.action;
        let client = match self.clusters.get(&action.cluster, action.privileged) {
            Some(Ok(client)) => client,
            Some(Err(error)) => {
                return Err(EngineError::NoClient {
                    cluster: action.cluster.clone(),
                    message: error.to_string(),
                });
            }
            None if self.clusters.is_skipped(&action.cluster) => {
                return Ok(outcome(
                    action,
                    OutcomeKind::Skipped,
                    Some(format!("[{}] cluster skipped", action.cluster)),
                ));
            }
            None => {
                return Err(EngineError::NoClient {
                    cluster: action.cluster.clone(),
                    message: format!(
                        "no {}client in this run",
                        if action.privileged { "privileged " } else { "" }
                    ),
                });
            }
        };
        let kind = str_at(&job.body, "/kind").to_owned();
        let api_version = str_at(&job.body, "/apiVersion").to_owned();
        let declared_namespace = job
            .body
            .pointer("/metadata/namespace")
            .and_then(Value::as_str);
        let target = Target::resolve(
            self,
            client,
            kinds,
            action,
            (&api_version, &kind),
            declared_namespace,
        )
        .await?;

        if action.action == Action::Delete {
            if dry_run {
                return Ok(outcome(action, OutcomeKind::DryRun, None));
            }
            *writes += 1;
            let params = DeleteParams::background();
            let (result, _) = self
                .options
                .retry
                .run(|| target.api.delete(&action.name, &params))
                .await;
            return match result {
                Ok(_) => Ok(outcome(action, OutcomeKind::Deleted, None)),
                Err(error) if status_code(&error) == Some(404) => Ok(outcome(
                    action,
                    OutcomeKind::Deleted,
                    Some("already gone".to_owned()),
                )),
                Err(error) => Err(target.error("deleting", &error)),
            };
        }

        let body = target.prepare_body(job.body.clone())?;
        let mut result = if dry_run {
            outcome(action, OutcomeKind::DryRun, None)
        } else {
            let took_over = match &job.client_side {
                Some(ownership) if action.action == Action::Update => {
                    self.migrate_client_side(&target, ownership, writes).await?
                }
                _ => false,
            };
            let kind_outcome = match self.apply_with_fallbacks(&target, &body, writes).await {
                Ok(kind_outcome) => kind_outcome,
                // As upstream: a namespace that does not exist (yet) is a warning, not an error.
                Err(ApplyFailure::NamespaceMissing) => {
                    let message = format!(
                        "[{}/{}] {} {}: namespace does not exist (yet).",
                        action.cluster, action.namespace, action.resource_type, action.name
                    );
                    tracing::warn!("{message}");
                    return Ok(outcome(action, OutcomeKind::Skipped, Some(message)));
                }
                Err(ApplyFailure::Error(error)) => return Err(error),
            };
            let mut done = outcome(action, kind_outcome, None);
            done.took_over = took_over;
            done
        };

        if action.recycle_pods && self.options.recycle_pods && target.namespace.is_some() {
            let namespace = target.namespace.as_deref().unwrap_or_default();
            let workloads = recycle::workloads_using(
                &client.client,
                &self.options.retry,
                namespace,
                &kind,
                &action.name,
            )
            .await
            .map_err(|error| target.error("listing workloads to recycle for", &error))?;
            let restarted_at = format!("{timestamp}Z");
            for workload in workloads {
                tracing::info!(
                    "['recycle_{}', '{}', '{}', '{}']",
                    workload.kind.to_lowercase(),
                    action.cluster,
                    namespace,
                    workload.name
                );
                if !dry_run {
                    *writes += 1;
                    recycle::restart(
                        &client.client,
                        &self.options.retry,
                        namespace,
                        &workload,
                        &self.options.field_manager(),
                        &restarted_at,
                    )
                    .await
                    .map_err(|error| EngineError::Api {
                        object: ObjectId::boxed(
                            &action.cluster,
                            namespace,
                            workload.kind,
                            &workload.name,
                        ),
                        operation: "restarting",
                        message: describe_kube_error(&error, false),
                    })?;
                }
                result.recycled.push(workload.label());
            }
        }
        Ok(result)
    }

    /// Server-side apply; on an immutable field of a Service/Route/Secret/Job, or a forbidden
    /// StatefulSet update, delete (orphaning a StatefulSet's pods) and apply again.
    async fn apply_with_fallbacks(
        &self,
        target: &Target,
        body: &Value,
        writes: &mut usize,
    ) -> Result<OutcomeKind, ApplyFailure> {
        let manager = self.options.field_manager();
        let params = PatchParams::apply(&manager).force();
        let patch = Patch::Apply(body);
        let apply = || async {
            let (result, attempts) = self
                .options
                .retry
                .run(|| target.apply_patch(&params, &patch))
                .await;
            (result, attempts as usize)
        };
        let (result, attempts) = apply().await;
        *writes += attempts;
        let error = match result {
            Ok(_) => return Ok(OutcomeKind::Applied),
            Err(error) if is_namespace_not_found(&error) => {
                return Err(ApplyFailure::NamespaceMissing);
            }
            Err(error) => error,
        };
        let propagation = if is_statefulset_update_forbidden(&error) && target.kind == "StatefulSet"
        {
            DeleteParams::orphan()
        } else if is_immutable_field_error(&error)
            && (RECREATE_ON_IMMUTABLE.contains(&target.kind.as_str())
                || (target.kind == "Deployment"
                    && body.pointer("/spec/strategy/type").and_then(Value::as_str)
                        == Some("Recreate")))
        {
            DeleteParams::background()
        } else {
            return Err(target.error("applying", &error).into());
        };
        tracing::info!(
            "['replace', '{}', '{}', '{}', '{}'] ({})",
            target.cluster,
            target
                .namespace
                .as_deref()
                .unwrap_or(CLUSTER_SCOPE_NAMESPACE),
            target.kind,
            target.name,
            describe_kube_error(&error, target.kind == "Secret")
        );
        *writes += 1;
        let (deleted, _) = self
            .options
            .retry
            .run(|| target.api.delete(&target.name, &propagation))
            .await;
        match deleted {
            Ok(_) => {}
            Err(error) if status_code(&error) == Some(404) => {}
            Err(error) => return Err(target.error("deleting (to re-create)", &error).into()),
        }
        for _ in 0..DELETE_WAIT_ATTEMPTS {
            match target.api.get_opt(&target.name).await {
                Ok(None) => break,
                Ok(Some(_)) => tokio::time::sleep(DELETE_WAIT_INTERVAL).await,
                Err(error) => {
                    return Err(target.error("waiting for the deletion of", &error).into());
                }
            }
        }
        let (result, attempts) = apply().await;
        *writes += attempts;
        match result {
            Ok(_) => Ok(OutcomeKind::Recreated),
            Err(error) => Err(target.error("re-creating", &error).into()),
        }
    }

    /// Migrates client-side-apply ownership to our field manager (kubectl's csaupgrade).
    /// Returns whether a migration was written.
    async fn migrate_client_side(
        &self,
        target: &Target,
        ownership: &ClientSideOwnership,
        writes: &mut usize,
    ) -> Result<bool, EngineError> {
        let manager = self.options.field_manager();
        let mut ownership = ownership.clone();
        for attempt in 0..2 {
            let Some(managed_fields) = takeover::migrated_managed_fields(
                &ownership.managed_fields,
                &self.options.client_side_managers,
                &manager,
            ) else {
                return Ok(false);
            };
            let patch = takeover::migration_patch(&ownership.resource_version, managed_fields);
            *writes += 1;
            match target.json_patch(&patch).await {
                Ok(()) => return Ok(true),
                // The object changed since it was read: read it again and retry once.
                Err(error) if attempt == 0 && matches!(status_code(&error), Some(409 | 422)) => {
                    match target.api.get_opt(&target.name).await {
                        Ok(Some(object)) => {
                            let body = serde_json::to_value(object).unwrap_or(Value::Null);
                            match takeover::detect(&body, &self.options.client_side_managers) {
                                Some(fresh) => ownership = fresh,
                                None => return Ok(false),
                            }
                        }
                        Ok(None) => return Ok(false),
                        Err(error) => {
                            return Err(target.error("re-reading (for the takeover of)", &error));
                        }
                    }
                }
                Err(error) if status_code(&error) == Some(404) => return Ok(false),
                Err(error) => {
                    return Err(target.error("migrating client-side ownership of", &error));
                }
            }
        }
        Ok(false)
    }
}

/// Where one object lives on its cluster.
struct Target {
    cluster: String,
    /// `None` for cluster-scoped kinds.
    namespace: Option<String>,
    kind: String,
    name: String,
    resolved: ResolvedType,
    api: Api<DynamicObject>,
    client: kube::Client,
    retry: RetryPolicy,
}

impl Target {
    async fn resolve(
        engine: &Engine<'_>,
        client: &ClusterClient,
        kinds: &KindCache,
        action: &PlannedAction,
        (api_version, kind): (&str, &str),
        declared_namespace: Option<&str>,
    ) -> Result<Self, EngineError> {
        let resolved = kinds
            .resolve(client, action, api_version, kind)
            .await
            .map_err(|error| EngineError::NoClient {
                cluster: action.cluster.clone(),
                message: error.to_string(),
            })?
            .ok_or_else(|| EngineError::KindNotServed {
                object: ObjectId::boxed(&action.cluster, &action.namespace, kind, &action.name),
                api_version: api_version.to_owned(),
            })?;
        let namespace = if !resolved.namespaced {
            None
        } else if action.namespace == CLUSTER_SCOPE_NAMESPACE {
            // A namespaced kind managed by a cluster-scoped integration: the manifest says where.
            match declared_namespace {
                Some(namespace) => Some(namespace.to_owned()),
                None => {
                    return Err(EngineError::NoNamespace {
                        object: ObjectId::boxed(
                            &action.cluster,
                            &action.namespace,
                            kind,
                            &action.name,
                        ),
                    });
                }
            }
        } else {
            Some(action.namespace.clone())
        };
        let api = match &namespace {
            Some(namespace) => {
                Api::namespaced_with(client.client.clone(), namespace, &resolved.resource)
            }
            None => Api::all_with(client.client.clone(), &resolved.resource),
        };
        Ok(Self {
            cluster: action.cluster.clone(),
            namespace,
            kind: kind.to_owned(),
            name: action.name.clone(),
            resolved,
            api,
            client: client.client.clone(),
            retry: engine.options.retry,
        })
    }

    fn error(&self, operation: &'static str, error: &kube::Error) -> EngineError {
        EngineError::Api {
            object: self.id(),
            operation,
            message: describe_kube_error(error, self.kind == "Secret"),
        }
    }

    fn id(&self) -> Box<ObjectId> {
        ObjectId::boxed(
            &self.cluster,
            self.namespace.as_deref().unwrap_or(CLUSTER_SCOPE_NAMESPACE),
            &self.kind,
            &self.name,
        )
    }

    /// The body sent: server-populated metadata and `status` dropped, the namespace set.
    fn prepare_body(&self, mut body: Value) -> Result<Value, EngineError> {
        if let Value::Object(root) = &mut body {
            root.shift_remove("status");
            if let Some(Value::Object(metadata)) = root.get_mut("metadata") {
                for field in [
                    "managedFields",
                    "resourceVersion",
                    "uid",
                    "creationTimestamp",
                    "generation",
                    "selfLink",
                ] {
                    metadata.shift_remove(field);
                }
                match (
                    &self.namespace,
                    metadata.get("namespace").and_then(Value::as_str),
                ) {
                    (Some(target), Some(declared)) if declared != target => {
                        return Err(EngineError::NamespaceMismatch {
                            object: self.id(),
                            declared: declared.to_owned(),
                        });
                    }
                    (Some(target), None) => {
                        metadata.insert("namespace".to_owned(), Value::String(target.clone()));
                    }
                    (None, Some(_)) => {
                        metadata.shift_remove("namespace");
                    }
                    _ => {}
                }
            }
        }
        strip_null_fields(&mut body);
        Ok(body)
    }

    /// A server-side apply of the object, as `Api::patch` without decoding the answer (the
    /// applied object, managedFields included, is not used: an error status still is).
    async fn apply_patch(
        &self,
        params: &PatchParams,
        patch: &Patch<&Value>,
    ) -> Result<(), kube::Error> {
        let collection =
            DynamicObject::url_path(&self.resolved.resource, self.namespace.as_deref());
        let mut request = kube::core::Request::new(collection)
            .patch(&self.name, params, patch)
            .map_err(kube::Error::BuildRequest)?;
        request.extensions_mut().insert("patch");
        self.client.request_text(request).await.map(drop)
    }

    /// A JSON patch (RFC 6902) of the object.
    async fn json_patch(&self, patch: &Value) -> Result<(), kube::Error> {
        let path = object_path(
            &self.resolved.resource,
            self.namespace.as_deref(),
            Some(&self.name),
        );
        let body = serde_json::to_vec(patch).map_err(kube::Error::SerdeError)?;
        let (result, _) = self
            .retry
            .run(|| {
                let request = http::Request::builder()
                    .method(http::Method::PATCH)
                    .uri(path.as_str())
                    .header(http::header::CONTENT_TYPE, "application/json-patch+json")
                    .body(body.clone())
                    .map_err(kube::Error::HttpError);
                let client = self.client.clone();
                async move { client.request::<Value>(request?).await }
            })
            .await;
        result.map(|_| ())
    }
}

fn str_at<'v>(body: &'v Value, pointer: &str) -> &'v str {
    body.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

pub(crate) fn outcome(
    action: &PlannedAction,
    kind: OutcomeKind,
    detail: Option<String>,
) -> ActionOutcome {
    ActionOutcome {
        cluster: action.cluster.clone(),
        namespace: action.namespace.clone(),
        resource_type: action.resource_type.clone(),
        name: action.name.clone(),
        action: action.action,
        outcome: kind,
        recycled: Vec::new(),
        took_over: false,
        detail,
    }
}

fn api_message(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) => status.message.clone(),
        other => error_chain(other),
    }
}

/// Why an apply did not happen.
enum ApplyFailure {
    /// The target namespace does not exist (yet).
    NamespaceMissing,
    /// Anything else.
    Error(EngineError),
}

impl From<EngineError> for ApplyFailure {
    fn from(error: EngineError) -> Self {
        ApplyFailure::Error(error)
    }
}

/// The API's answer for a write into a namespace that does not exist.
fn is_namespace_not_found(error: &kube::Error) -> bool {
    match error {
        kube::Error::Api(status) if status.code == 404 => {
            status
                .details
                .as_ref()
                .is_some_and(|details| details.kind == "namespaces")
                || status.message.starts_with("namespaces \"")
        }
        _ => false,
    }
}

/// 422 answers the Python tool treats as "immutable field" (delete + create for some kinds).
fn is_immutable_field_error(error: &kube::Error) -> bool {
    if status_code(error) != Some(422) {
        return false;
    }
    let message = api_message(error);
    message.contains("field is immutable")
        || message.contains("may not change once set")
        || message.contains("primary clusterIP can not be unset")
}

/// The API's refusal of a StatefulSet spec change.
fn is_statefulset_update_forbidden(error: &kube::Error) -> bool {
    matches!(status_code(error), Some(422 | 403))
        && api_message(error).contains("updates to statefulset spec for fields other than")
}

/// Removes the fields whose value is `null`, at any depth (list items are kept, their null
/// fields removed). The desired object keeps them for its `qontract.sha256sum` (upstream hashes
/// them, e.g. a half-filled LimitRange's `memory: null`), but they are not sent: the Python
/// tool's `oc apply` does not send them either, and a real API server would decode a null
/// quantity as `0` rather than leave the field unset.
fn strip_null_fields(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, field| !field.is_null());
            map.values_mut().for_each(strip_null_fields);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_null_fields),
        _ => {}
    }
}
