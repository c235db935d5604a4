//! Request routing and the REST semantics (storage, preconditions, apply, patches, dry-run).

use crate::defaults::{apply_defaults, create_baseline, validate};
use crate::fields::{
    FieldSet, Schema, apply_merge, compare, path_string, remove_path, to_field_set,
};
use crate::patch::{json_patch, merge_patch, strategic_merge_patch};
use crate::registry::{Registry, ResourceDef};
use crate::selectors::{FieldSelector, LabelSelector};
use crate::status::{ApiError, delete_success};
use crate::util::{Rng, canonical_order, get_str, metadata_mut, now_rfc3339};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

mod projects;
mod tokens;

pub(crate) const AGGREGATED_CT: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// Who is calling.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub(crate) name: String,
    pub(crate) readonly: bool,
}

/// A decoded HTTP request.
#[derive(Debug)]
pub(crate) struct ApiRequest<'a> {
    pub(crate) method: &'a str,
    pub(crate) path: &'a str,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) content_type: Option<&'a str>,
    pub(crate) accept: Option<&'a str>,
    pub(crate) user_agent: Option<&'a str>,
    pub(crate) body: &'a [u8],
    pub(crate) caller: &'a Caller,
}

impl ApiRequest<'_> {
    fn q(&self, k: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(kk, _)| kk == k)
            .map(|(_, v)| v.as_str())
    }
}

/// The answer to a request.
#[derive(Debug)]
pub(crate) struct ApiResponse {
    pub(crate) code: u16,
    pub(crate) body: Value,
    pub(crate) content_type: &'static str,
    pub(crate) retry_after: Option<u64>,
    pub(crate) verb: String,
    pub(crate) dry_run: bool,
    /// Set for watch requests: the server streams from it.
    pub(crate) watch: Option<WatchSpec>,
}

impl ApiResponse {
    fn ok(code: u16, body: Value) -> Self {
        ApiResponse {
            code,
            body,
            content_type: "application/json",
            retry_after: None,
            verb: String::new(),
            dry_run: false,
            watch: None,
        }
    }
}

impl From<ApiError> for ApiResponse {
    fn from(e: ApiError) -> Self {
        ApiResponse {
            code: e.code,
            body: e.body,
            content_type: "application/json",
            retry_after: e.retry_after,
            verb: String::new(),
            dry_run: false,
            watch: None,
        }
    }
}

type Key = (String, String); // (group, plural)
type ObjKey = (String, String); // (namespace, name)

/// Server state: registry, objects, counters.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) registry: Registry,
    /// Stored objects, shared with the watch events that carry them (a write copies the
    /// object once, for its answer).
    objects: HashMap<Key, BTreeMap<ObjKey, Arc<Value>>>,
    rv: u64,
    rng: Rng,
    next_ip: u32,
    pub(crate) server_address: String,
    /// Every change so far (for watches resuming from a resourceVersion), capped.
    history: std::collections::VecDeque<Arc<WatchEvent>>,
    events: tokio::sync::broadcast::Sender<Arc<WatchEvent>>,
}

/// A stored change, as watches see it.
#[derive(Debug)]
pub(crate) struct WatchEvent {
    key: Key,
    ns: String,
    kind: &'static str,
    rv: u64,
    object: Arc<Value>,
    old: Option<Arc<Value>>,
}

const HISTORY_CAP: usize = 50_000;

/// What a watch request needs after the state lock is released.
#[derive(Debug)]
pub(crate) struct WatchSpec {
    def: ResourceDef,
    ns: Option<String>,
    labels: Option<LabelSelector>,
    fields: Option<FieldSelector>,
    /// Serialized events to send first.
    pub(crate) initial: Vec<Value>,
    pub(crate) rx: tokio::sync::broadcast::Receiver<Arc<WatchEvent>>,
    pub(crate) after_rv: u64,
    pub(crate) timeout: Option<std::time::Duration>,
}

impl WatchSpec {
    /// The watch event line(s) for a change, or `None` when it is not for this watch.
    pub(crate) fn render(&self, ev: &WatchEvent) -> Option<Value> {
        if ev.rv <= self.after_rv || ev.key != key(&self.def) {
            return None;
        }
        if let Some(ns) = &self.ns
            && &ev.ns != ns
        {
            return None;
        }
        let matches = |o: &Value| {
            self.labels.as_ref().is_none_or(|l| l.matches(o))
                && self.fields.as_ref().is_none_or(|f| f.matches(o))
        };
        let now = matches(&ev.object);
        let before = ev.old.as_deref().is_some_and(&matches);
        let kind = match (ev.kind, before, now) {
            ("DELETED", true, _) => "DELETED",
            ("DELETED", false, _) => return None,
            (_, _, true) if ev.old.is_some() && before => "MODIFIED",
            (_, _, true) => "ADDED",
            (_, true, false) => "DELETED",
            _ => return None,
        };
        Some(json!({"type": kind, "object": present_as(&self.def, &ev.object)}))
    }
}

fn present_as(def: &ResourceDef, o: &Value) -> Value {
    let mut o = o.clone();
    if let Some(m) = o.as_object_mut()
        && m.get("apiVersion").and_then(Value::as_str) != Some(def.api_version().as_str())
    {
        m.insert("apiVersion".into(), json!(def.api_version()));
        canonical_order(&mut o);
    }
    o
}

enum Route {
    Version,
    Health,
    CoreVersions,
    CoreResources(String),
    Groups,
    Group(String),
    GroupResources(String, String),
    Resource {
        def: Box<ResourceDef>,
        ns: Option<String>,
        name: Option<String>,
        sub: Option<String>,
    },
    NotFound,
}

/// The Kubernetes verb of a request (for logging/authorization).
fn verb_for(route: &Route, method: &str, query: &[(String, String)]) -> String {
    match route {
        Route::Resource { name, .. } => {
            let watch = query
                .iter()
                .any(|(k, v)| k == "watch" && (v == "true" || v == "1"));
            match (method, name.is_some()) {
                ("GET", true) => "get",
                ("GET", false) if watch => "watch",
                ("GET", false) => "list",
                ("POST", _) => "create",
                ("PUT", _) => "update",
                ("PATCH", _) => "patch",
                ("DELETE", true) => "delete",
                ("DELETE", false) => "deletecollection",
                _ => "unknown",
            }
            .to_string()
        }
        _ => match method {
            "GET" | "HEAD" => "get",
            "POST" => "create",
            "PUT" => "update",
            "PATCH" => "patch",
            "DELETE" => "delete",
            _ => "unknown",
        }
        .to_string(),
    }
}

fn key(def: &ResourceDef) -> Key {
    (def.group.clone(), def.plural.clone())
}

/// The objects of one kind stored in namespace `ns`, in key order: a range of the kind's map
/// (keyed by namespace first), so a namespaced list or watch costs what it returns, not the
/// number of objects of that kind in every namespace.
fn in_namespace<'a>(
    m: &'a BTreeMap<ObjKey, Arc<Value>>,
    ns: &'a str,
) -> impl Iterator<Item = (&'a ObjKey, &'a Value)> + 'a {
    m.range((ns.to_string(), String::new())..)
        .take_while(move |(k, _)| k.0 == ns)
        .map(|(k, o)| (k, &**o))
}

/// The objects of one kind, in key order: those of namespace `ns` only when given.
fn scoped<'a>(
    m: &'a BTreeMap<ObjKey, Arc<Value>>,
    ns: Option<&'a str>,
) -> Box<dyn Iterator<Item = (&'a ObjKey, &'a Value)> + 'a> {
    match ns {
        Some(ns) => Box::new(in_namespace(m, ns)),
        None => Box::new(m.iter().map(|(k, o)| (k, &**o))),
    }
}

impl State {
    pub(crate) fn new() -> Self {
        let mut s = State {
            registry: Registry::new(),
            objects: HashMap::new(),
            rv: 100,
            rng: Rng::new(),
            next_ip: 1,
            server_address: "127.0.0.1:6443".into(),
            history: std::collections::VecDeque::new(),
            events: tokio::sync::broadcast::channel(16_384).0,
        };
        for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            s.seed(
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
                "kube-apiserver",
            )
            .expect("seed namespace");
        }
        s
    }

    pub(crate) fn resource_version(&self) -> u64 {
        self.rv
    }

    fn emit(
        &mut self,
        k: Key,
        ns: &str,
        kind: &'static str,
        object: Arc<Value>,
        old: Option<Arc<Value>>,
    ) {
        let ev = Arc::new(WatchEvent {
            key: k,
            ns: ns.to_string(),
            kind,
            rv: self.rv,
            object,
            old,
        });
        if self.history.len() >= HISTORY_CAP {
            self.history.pop_front();
        }
        self.history.push_back(ev.clone());
        let _ = self.events.send(ev);
    }

    /// Sets up a watch: initial events (per resourceVersion semantics) and a live receiver.
    fn watch(
        &self,
        def: &ResourceDef,
        ns: Option<&str>,
        req: &ApiRequest<'_>,
    ) -> Result<WatchSpec, ApiError> {
        let labels = match req.q("labelSelector") {
            Some(s) if !s.is_empty() => Some(LabelSelector::parse(s).map_err(|e| {
                ApiError::bad_request(&format!("unable to parse requirement: {e}"))
            })?),
            _ => None,
        };
        let fields = match req.q("fieldSelector") {
            Some(s) if !s.is_empty() => Some(
                FieldSelector::parse(s, &def.kind, def.builtin)
                    .map_err(|e| ApiError::bad_request(&e.to_string()))?,
            ),
            _ => None,
        };
        let timeout = req
            .q("timeoutSeconds")
            .and_then(|t| t.parse::<u64>().ok())
            .map(std::time::Duration::from_secs);
        let mut spec = WatchSpec {
            def: def.clone(),
            ns: ns.map(str::to_string),
            labels,
            fields,
            initial: Vec::new(),
            rx: self.events.subscribe(),
            after_rv: self.rv,
            timeout,
        };
        let send_initial = req.q("sendInitialEvents") == Some("true");
        match req
            .q("resourceVersion")
            .filter(|r| !r.is_empty() && *r != "0")
        {
            Some(rv) if !send_initial => {
                let from: u64 = rv.parse().map_err(|_| {
                    ApiError::bad_request(&format!("invalid resource version: {rv}"))
                })?;
                if let Some(first) = self.history.front()
                    && from + 1 < first.rv
                {
                    return Err(ApiError::gone(&format!(
                        "too old resource version: {from} ({})",
                        first.rv - 1
                    )));
                }
                spec.after_rv = from;
                let replay: Vec<Value> = self
                    .history
                    .iter()
                    .filter(|e| e.rv > from)
                    .filter_map(|e| spec.render(e))
                    .collect();
                spec.initial = replay;
                spec.after_rv = self.rv;
            }
            _ => {
                let empty = BTreeMap::new();
                for ((n, _), o) in scoped(self.objects.get(&key(def)).unwrap_or(&empty), ns) {
                    if ns.is_some_and(|ns| ns != n)
                        || spec.labels.as_ref().is_some_and(|l| !l.matches(o))
                        || spec.fields.as_ref().is_some_and(|f| !f.matches(o))
                    {
                        continue;
                    }
                    spec.initial
                        .push(json!({"type": "ADDED", "object": present_as(def, o)}));
                }
                if send_initial {
                    spec.initial.push(json!({"type": "BOOKMARK", "object": {
                        "kind": def.kind, "apiVersion": def.api_version(),
                        "metadata": {"resourceVersion": self.rv.to_string(),
                            "annotations": {"k8s.io/initial-events-end": "true"}}}}));
                }
            }
        }
        Ok(spec)
    }

    fn def_for(&self, api_version: &str, kind: &str) -> Option<ResourceDef> {
        let (g, v) = api_version.split_once('/').unwrap_or(("", api_version));
        self.registry.find_kind(g, v, kind).cloned()
    }

    /// Stores an object as if created through the API (defaults, uid, managedFields for `manager`).
    pub(crate) fn seed(&mut self, obj: Value, manager: &str) -> Result<Value, ApiError> {
        let api_version = get_str(&obj, &["apiVersion"]).unwrap_or("").to_string();
        let kind = get_str(&obj, &["kind"]).unwrap_or("").to_string();
        let def = self.def_for(&api_version, &kind).ok_or_else(|| {
            ApiError::bad_request(&format!(
                "no kind \"{kind}\" is registered for version \"{api_version}\""
            ))
        })?;
        let ns = if def.namespaced {
            Some(
                get_str(&obj, &["metadata", "namespace"])
                    .unwrap_or("default")
                    .to_string(),
            )
        } else {
            None
        };
        if let Some(ns) = &ns
            && !self.exists("", "namespaces", "", ns)
        {
            let nsobj = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
            self.seed(nsobj, manager)?;
        }
        let body = serde_json::to_vec(&obj).unwrap_or_default();
        let caller = Caller {
            name: "seed".into(),
            readonly: false,
        };
        let req = ApiRequest {
            method: "POST",
            path: "",
            query: vec![("fieldManager".into(), manager.into())],
            content_type: Some("application/json"),
            accept: None,
            user_agent: None,
            body: &body,
            caller: &caller,
        };
        let r = self.create(&def, ns.as_deref(), &req, false)?;
        self.after_write(&def, ns.as_deref());
        Ok(r.body)
    }

    /// What controllers do after a write: the token controller fills the namespace's
    /// service-account token Secrets once their ServiceAccount exists ([`tokens`]).
    fn after_write(&mut self, def: &ResourceDef, ns: Option<&str>) {
        if def.group.is_empty()
            && matches!(def.kind.as_str(), "Secret" | "ServiceAccount")
            && let Some(ns) = ns
        {
            self.token_controller(ns);
        }
    }

    fn exists(&self, group: &str, plural: &str, ns: &str, name: &str) -> bool {
        self.objects
            .get(&(group.to_string(), plural.to_string()))
            .is_some_and(|m| m.contains_key(&(ns.to_string(), name.to_string())))
    }

    pub(crate) fn get_object(
        &self,
        api_version: &str,
        kind: &str,
        ns: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        let def = self.def_for(api_version, kind)?;
        let ns = if def.namespaced {
            ns.unwrap_or("default")
        } else {
            ""
        };
        let o = self
            .objects
            .get(&key(&def))?
            .get(&(ns.to_string(), name.to_string()))?;
        Some(self.present(&def, o, true))
    }

    pub(crate) fn list_objects(
        &self,
        api_version: &str,
        kind: &str,
        ns: Option<&str>,
    ) -> Vec<Value> {
        let Some(def) = self.def_for(api_version, kind) else {
            return Vec::new();
        };
        self.objects
            .get(&key(&def))
            .map(|m| {
                scoped(m, ns)
                    .filter(|((n, _), _)| ns.is_none_or(|ns| ns == n))
                    .map(|(_, o)| self.present(&def, o, true))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Object as served at `def`'s version (stored objects are already in canonical key order).
    fn present(&self, def: &ResourceDef, o: &Value, with_type: bool) -> Value {
        let mut o = o.clone();
        if let Some(m) = o.as_object_mut() {
            if with_type {
                if m.get("apiVersion").and_then(Value::as_str) != Some(def.api_version().as_str()) {
                    m.insert("apiVersion".into(), json!(def.api_version()));
                    canonical_order(&mut o);
                }
            } else {
                m.shift_remove("kind");
                m.shift_remove("apiVersion");
            }
        }
        o
    }

    fn route(&self, path: &str) -> Route {
        let segs: Vec<&str> = path
            .trim_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .collect();
        match segs.as_slice() {
            ["version"] => return Route::Version,
            ["healthz"] | ["livez"] | ["readyz"] => return Route::Health,
            ["api"] => return Route::CoreVersions,
            ["api", v] if *v == "v1" => return Route::CoreResources(v.to_string()),
            ["apis"] => return Route::Groups,
            ["apis", g] if !self.registry.group_versions(g).is_empty() => {
                return Route::Group(g.to_string());
            }
            ["apis", g, v] if self.registry.has_group_version(g, v) => {
                return Route::GroupResources(g.to_string(), v.to_string());
            }
            _ => {}
        }
        let (group, version, rest) = match segs.as_slice() {
            ["api", v, rest @ ..] => ("", *v, rest),
            ["apis", g, v, rest @ ..] => (*g, *v, rest),
            _ => return Route::NotFound,
        };
        let find = |plural: &str| self.registry.find_plural(group, version, plural);
        let mk = |def: &ResourceDef, ns: Option<&str>, name: Option<&str>, sub: Option<&str>| {
            Route::Resource {
                def: Box::new(def.clone()),
                ns: ns.map(str::to_string),
                name: name.map(str::to_string),
                sub: sub.map(str::to_string),
            }
        };
        match rest {
            ["namespaces", ns, plural, tail @ ..]
                if let Some(def) = find(plural).filter(|d| d.namespaced) =>
            {
                match tail {
                    [] => mk(def, Some(ns), None, None),
                    [name] => mk(def, Some(ns), Some(name), None),
                    [name, sub] => mk(def, Some(ns), Some(name), Some(sub)),
                    _ => Route::NotFound,
                }
            }
            [plural, tail @ ..] => {
                let Some(def) = find(plural) else {
                    return Route::NotFound;
                };
                match tail {
                    [] => mk(def, None, None, None),
                    [name] if !def.namespaced => mk(def, None, Some(name), None),
                    [name, sub] if !def.namespaced => mk(def, None, Some(name), Some(sub)),
                    _ => Route::NotFound,
                }
            }
            _ => Route::NotFound,
        }
    }

    /// Resolves the Kubernetes verb (for logging/authorization) without handling the request.
    pub(crate) fn verb_of(&self, method: &str, path: &str, query: &[(String, String)]) -> String {
        verb_for(&self.route(path), method, query)
    }

    pub(crate) fn handle(&mut self, req: &ApiRequest<'_>) -> ApiResponse {
        let route = self.route(req.path);
        let verb = verb_for(&route, req.method, &req.query);
        let body_dry_run = req.method == "DELETE"
            && serde_json::from_slice::<Value>(req.body)
                .ok()
                .and_then(|b| b.get("dryRun").and_then(Value::as_array).cloned())
                .is_some_and(|a| a.iter().any(|v| v == "All"));
        let dry_run = req.q("dryRun").is_some() || body_dry_run;
        let mut resp = match self.dispatch(req, route, &verb, dry_run) {
            Ok(r) => r,
            Err(e) => e.into(),
        };
        resp.verb = verb;
        resp.dry_run = dry_run;
        resp
    }

    fn dispatch(
        &mut self,
        req: &ApiRequest<'_>,
        route: Route,
        verb: &str,
        dry_run: bool,
    ) -> Result<ApiResponse, ApiError> {
        let aggregated = req.accept.is_some_and(|a| {
            a.split(',').next().is_some_and(|first| {
                first.contains("g=apidiscovery.k8s.io")
                    && first.contains("as=APIGroupDiscoveryList")
            })
        });
        let is_read = matches!(req.method, "GET" | "HEAD");
        if !matches!(route, Route::Resource { .. }) && !is_read {
            return match route {
                Route::NotFound => Err(ApiError::not_found_path()),
                _ => Err(ApiError::method_not_allowed(req.method)),
            };
        }
        let discovery = |body: Value| Ok(ApiResponse::ok(200, body));
        match route {
            Route::Version => discovery(json!({
                "major": "1",
                "minor": "36",
                "emulationMajor": "1",
                "emulationMinor": "36",
                "minCompatibilityMajor": "1",
                "minCompatibilityMinor": "35",
                "gitVersion": "v1.36.2",
                "gitCommit": "0000000000000000000000000000000000000000",
                "gitTreeState": "clean",
                "buildDate": "2026-11-28T00:00:00Z",
                "goVersion": "go1.27.3",
                "compiler": "gc",
                "platform": "linux/amd64"
            })),
            Route::Health => {
                let mut r = ApiResponse::ok(200, Value::String("ok".into()));
                r.content_type = "text/plain; charset=utf-8";
                Ok(r)
            }
            Route::CoreVersions if aggregated => {
                let mut r = ApiResponse::ok(200, self.registry.aggregated(true));
                r.content_type = AGGREGATED_CT;
                Ok(r)
            }
            Route::CoreVersions => discovery(self.registry.api_versions(&self.server_address)),
            Route::CoreResources(v) => discovery(self.registry.resource_list("", &v)),
            Route::Groups if aggregated => {
                let mut r = ApiResponse::ok(200, self.registry.aggregated(false));
                r.content_type = AGGREGATED_CT;
                Ok(r)
            }
            Route::Groups => discovery(self.registry.group_list()),
            Route::Group(g) => discovery(self.registry.group(&g)),
            Route::GroupResources(g, v) => discovery(self.registry.resource_list(&g, &v)),
            Route::NotFound => Err(ApiError::not_found_path()),
            Route::Resource { def, ns, name, sub } => {
                if req.caller.readonly && !matches!(verb, "get" | "list" | "watch") {
                    return Err(ApiError::forbidden(
                        &req.caller.name,
                        verb,
                        &def,
                        ns.as_deref(),
                        name.as_deref(),
                    ));
                }
                if let Some(dr) = req.q("dryRun")
                    && dr != "All"
                {
                    let opts = match verb {
                        "create" => "CreateOptions",
                        "update" => "UpdateOptions",
                        "patch" => "PatchOptions",
                        _ => "DeleteOptions",
                    };
                    return Err(ApiError::invalid_options(
                        opts,
                        "dryRun",
                        "FieldValueNotSupported",
                        &format!("Unsupported value: \"{dr}\": supported values: \"All\""),
                    ));
                }
                if let Some(s) = &sub
                    && !def.subresources.contains(s)
                {
                    return Err(ApiError::not_found_path());
                }
                if def.group == projects::GROUP {
                    return self.project_api(&def, verb, name.as_deref(), req, dry_run);
                }
                let result = match (verb, name.as_deref()) {
                    ("get", Some(n)) => self.get(&def, ns.as_deref(), n, sub.as_deref()),
                    ("list", None) => self.list(&def, ns.as_deref(), req),
                    ("watch", None) => {
                        let spec = self.watch(&def, ns.as_deref(), req)?;
                        let mut r = ApiResponse::ok(200, Value::Null);
                        r.watch = Some(spec);
                        Ok(r)
                    }
                    ("create", None) => {
                        if def.namespaced && ns.is_none() {
                            return Err(ApiError::method_not_allowed(req.method));
                        }
                        self.create(&def, ns.as_deref(), req, dry_run)
                    }
                    ("update", Some(n)) => {
                        self.update(&def, ns.as_deref(), n, sub.as_deref(), req, dry_run)
                    }
                    ("patch", Some(n)) => {
                        self.patch(&def, ns.as_deref(), n, sub.as_deref(), req, dry_run)
                    }
                    ("delete", Some(n)) => self.delete(&def, ns.as_deref(), n, req, dry_run),
                    ("deletecollection", None) => {
                        self.delete_collection(&def, ns.as_deref(), req, dry_run)
                    }
                    _ => Err(ApiError::method_not_allowed(req.method)),
                };
                if result.is_ok() && !dry_run && matches!(verb, "create" | "update" | "patch") {
                    self.after_write(&def, ns.as_deref());
                }
                result
            }
        }
    }

    fn stored(&self, def: &ResourceDef, ns: Option<&str>, name: &str) -> Option<&Value> {
        self.objects
            .get(&key(def))?
            .get(&(ns.unwrap_or("").to_string(), name.to_string()))
            .map(|o| &**o)
    }

    fn get(
        &self,
        def: &ResourceDef,
        ns: Option<&str>,
        name: &str,
        sub: Option<&str>,
    ) -> Result<ApiResponse, ApiError> {
        let o = self
            .stored(def, ns, name)
            .ok_or_else(|| ApiError::not_found(def, name))?;
        if sub == Some("scale") {
            return Ok(ApiResponse::ok(200, scale_of(def, o)));
        }
        Ok(ApiResponse::ok(200, self.present(def, o, true)))
    }

    fn list(
        &self,
        def: &ResourceDef,
        ns: Option<&str>,
        req: &ApiRequest<'_>,
    ) -> Result<ApiResponse, ApiError> {
        let ls = match req.q("labelSelector") {
            Some(s) if !s.is_empty() => Some(LabelSelector::parse(s).map_err(|e| {
                ApiError::bad_request(&format!("unable to parse requirement: {e}"))
            })?),
            _ => None,
        };
        let fs = match req.q("fieldSelector") {
            Some(s) if !s.is_empty() => Some(
                FieldSelector::parse(s, &def.kind, def.builtin)
                    .map_err(|e| ApiError::bad_request(&e.to_string()))?,
            ),
            _ => None,
        };
        let limit: usize = req
            .q("limit")
            .and_then(|l| l.parse().ok())
            .filter(|l| *l > 0)
            .unwrap_or(usize::MAX);
        let start_after: Option<ObjKey> = match req.q("continue") {
            Some(c) if !c.is_empty() => Some(
                decode_continue(c)
                    .ok_or_else(|| ApiError::bad_request("continue key is not valid"))?,
            ),
            _ => None,
        };
        let empty = BTreeMap::new();
        let all = self.objects.get(&key(def)).unwrap_or(&empty);
        let mut items = Vec::new();
        let mut last: Option<&ObjKey> = None;
        let mut remaining = 0usize;
        for (k, o) in scoped(all, ns) {
            if let Some(ns) = ns
                && k.0 != ns
            {
                continue;
            }
            if let Some(sa) = &start_after
                && k <= sa
            {
                continue;
            }
            if ls.as_ref().is_some_and(|s| !s.matches(o))
                || fs.as_ref().is_some_and(|s| !s.matches(o))
            {
                continue;
            }
            if items.len() >= limit {
                remaining += 1;
                continue;
            }
            items.push(self.present(def, o, !def.builtin));
            last = Some(k);
        }
        let mut meta = Map::new();
        meta.insert("resourceVersion".into(), json!(self.rv.to_string()));
        if remaining > 0
            && let Some(l) = last
        {
            meta.insert("continue".into(), json!(encode_continue(l)));
            meta.insert("remainingItemCount".into(), json!(remaining));
        }
        Ok(ApiResponse::ok(
            200,
            json!({
                "kind": format!("{}List", def.kind),
                "apiVersion": def.api_version(),
                "metadata": meta,
                "items": items,
            }),
        ))
    }

    fn parse_body(&self, req: &ApiRequest<'_>) -> Result<Value, ApiError> {
        if req.body.is_empty() {
            return Err(ApiError::bad_request("the body of the request was empty"));
        }
        match serde_json::from_slice::<Value>(req.body) {
            Ok(v) => Ok(v),
            Err(e) => {
                let yamlish = req.content_type.is_some_and(|c| c.contains("yaml"));
                if yamlish {
                    let text = std::str::from_utf8(req.body)
                        .map_err(|e| ApiError::bad_request(&e.to_string()))?;
                    serde_saphyr::from_str::<Value>(text)
                        .map_err(|e| ApiError::bad_request(&format!("error decoding YAML: {e}")))
                } else {
                    Err(ApiError::bad_request(&format!(
                        "Object 'Kind' is missing in '{}': {e}",
                        String::from_utf8_lossy(req.body)
                    )))
                }
            }
        }
    }

    fn check_type(&self, def: &ResourceDef, obj: &Value, required: bool) -> Result<(), ApiError> {
        let av = get_str(obj, &["apiVersion"]);
        let kind = get_str(obj, &["kind"]);
        if required && (av.is_none_or(str::is_empty) || kind.is_none_or(str::is_empty)) {
            let missing = if av.is_none_or(str::is_empty) {
                "apiVersion"
            } else {
                "kind"
            };
            return Err(ApiError::bad_request(&format!(
                "{missing} must be set for apply requests"
            )));
        }
        if let Some(av) = av
            && !av.is_empty()
            && av != def.api_version()
        {
            return Err(ApiError::bad_request(&format!(
                "the API version in the data ({av}) does not match the expected API version ({})",
                def.api_version()
            )));
        }
        if let Some(k) = kind
            && !k.is_empty()
            && k != def.kind
        {
            return Err(ApiError::bad_request(&format!(
                "the kind in the data ({k}) does not match the expected kind ({})",
                def.kind
            )));
        }
        if !obj.is_object() {
            return Err(ApiError::bad_request("the body must be a JSON object"));
        }
        Ok(())
    }

    fn check_namespace(
        &self,
        def: &ResourceDef,
        ns: Option<&str>,
        obj: &mut Value,
        create: bool,
    ) -> Result<(), ApiError> {
        if !def.namespaced {
            if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
                m.remove("namespace");
            }
            return Ok(());
        }
        let ns = ns.unwrap_or("");
        match get_str(obj, &["metadata", "namespace"]) {
            Some(n) if !n.is_empty() && n != ns => {
                return Err(ApiError::bad_request(&if create {
                    "the namespace of the provided object does not match the namespace sent on the request".to_string()
                } else {
                    format!(
                        "the namespace of the object ({n}) does not match the namespace on the request ({ns})"
                    )
                }));
            }
            _ => {}
        }
        metadata_mut(obj).insert("namespace".into(), json!(ns));
        Ok(())
    }

    fn manager_of(req: &ApiRequest<'_>) -> String {
        if let Some(m) = req.q("fieldManager") {
            return m.to_string();
        }
        req.user_agent
            .and_then(|ua| ua.split('/').next())
            .filter(|s| !s.is_empty())
            .unwrap_or("unknown")
            .to_string()
    }

    fn create(
        &mut self,
        def: &ResourceDef,
        ns: Option<&str>,
        req: &ApiRequest<'_>,
        dry_run: bool,
    ) -> Result<ApiResponse, ApiError> {
        let mut obj = self.parse_body(req)?;
        self.check_type(def, &obj, false)?;
        self.check_namespace(def, ns, &mut obj, true)?;
        {
            let meta = metadata_mut(&mut obj);
            let has_name = meta
                .get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| !n.is_empty());
            if !has_name
                && let Some(gn) = meta
                    .get("generateName")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            {
                let n = format!("{gn}{}", self.rng.name_suffix());
                meta.insert("name".into(), json!(n));
            }
            for k in [
                "uid",
                "resourceVersion",
                "creationTimestamp",
                "deletionTimestamp",
                "generation",
                "selfLink",
            ] {
                meta.remove(k);
            }
        }
        let name = get_str(&obj, &["metadata", "name"])
            .unwrap_or("")
            .to_string();
        validate(def, &obj)?;
        if let Some(ns) = ns {
            if !self.exists("", "namespaces", "", ns) {
                return Err(ApiError::namespace_not_found(ns));
            }
            if self
                .stored(
                    &self
                        .registry
                        .find_plural("", "v1", "namespaces")
                        .cloned()
                        .expect("namespaces"),
                    None,
                    ns,
                )
                .is_some_and(|n| n.pointer("/metadata/deletionTimestamp").is_some())
            {
                return Err(ApiError::forbidden_path(
                    &req.caller.name,
                    "create",
                    req.path,
                ));
            }
        }
        if self.stored(def, ns, &name).is_some() {
            return Err(ApiError::already_exists(def, &name));
        }
        let manager = Self::manager_of(req);
        let result = self.commit(
            def,
            ns,
            &name,
            None,
            obj,
            Managed::Update(manager),
            None,
            dry_run,
        )?;
        Ok(ApiResponse::ok(201, result))
    }

    fn update(
        &mut self,
        def: &ResourceDef,
        ns: Option<&str>,
        name: &str,
        sub: Option<&str>,
        req: &ApiRequest<'_>,
        dry_run: bool,
    ) -> Result<ApiResponse, ApiError> {
        let mut obj = self.parse_body(req)?;
        if sub == Some("scale") {
            return self.update_scale(def, ns, name, &obj, req, dry_run);
        }
        self.check_type(def, &obj, false)?;
        self.check_namespace(def, ns, &mut obj, false)?;
        let body_name = get_str(&obj, &["metadata", "name"]).unwrap_or("");
        if body_name != name {
            return Err(ApiError::bad_request(&format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        let old = self
            .stored(def, ns, name)
            .cloned()
            .ok_or_else(|| ApiError::not_found(def, name))?;
        check_rv(def, name, &obj, &old)?;
        let manager = Self::manager_of(req);
        let result = self.commit(
            def,
            ns,
            name,
            Some(old),
            obj,
            Managed::Update(manager),
            sub,
            dry_run,
        )?;
        Ok(ApiResponse::ok(200, result))
    }

    fn update_scale(
        &mut self,
        def: &ResourceDef,
        ns: Option<&str>,
        name: &str,
        scale: &Value,
        req: &ApiRequest<'_>,
        dry_run: bool,
    ) -> Result<ApiResponse, ApiError> {
        let old = self
            .stored(def, ns, name)
            .cloned()
            .ok_or_else(|| ApiError::not_found(def, name))?;
        let replicas = scale.pointer("/spec/replicas").cloned().unwrap_or(json!(0));
        let mut new = old.clone();
        crate::util::obj_entry(&mut new, "spec").insert("replicas".into(), replicas);
        let manager = Self::manager_of(req);
        let result = self.commit(
            def,
            ns,
            name,
            Some(old),
            new,
            Managed::Update(manager),
            None,
            dry_run,
        )?;
        Ok(ApiResponse::ok(200, scale_of(def, &result)))
    }

    fn patch(
        &mut self,
        def: &ResourceDef,
        ns: Option<&str>,
        name: &str,
        sub: Option<&str>,
        req: &ApiRequest<'_>,
        dry_run: bool,
    ) -> Result<ApiResponse, ApiError> {
        let ct = req
            .content_type
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        let patch = self.parse_body(req)?;
        let force = req.q("force").is_some_and(|f| f == "true" || f == "1");
        if ct == "application/apply-patch+yaml" {
            return self.apply(def, ns, name, sub, patch, req, force, dry_run);
        }
        if force {
            return Err(ApiError::invalid_options(
                "PatchOptions",
                "force",
                "FieldValueForbidden",
                "Forbidden: may not be specified for non-apply patch",
            ));
        }
        let old = self
            .stored(def, ns, name)
            .cloned()
            .ok_or_else(|| ApiError::not_found(def, name))?;
        if sub == Some("scale") {
            let mut scale = scale_of(def, &old);
            match ct.as_str() {
                "application/json-patch+json" => {
                    json_patch(&mut scale, &patch).map_err(|e| patch_error(def, name, &e))?
                }
                _ => merge_patch(&mut scale, &patch),
            }
            return self.update_scale(def, ns, name, &scale, req, dry_run);
        }
        let mut target = self.present(def, &old, true);
        let schema = Schema::for_def(def);
        match ct.as_str() {
            "application/merge-patch+json" => merge_patch(&mut target, &patch),
            "application/strategic-merge-patch+json" => {
                if !def.builtin {
                    return Err(ApiError::unsupported_media_type(false));
                }
                strategic_merge_patch(&schema, &mut target, &patch)
            }
            "application/json-patch+json" => {
                json_patch(&mut target, &patch).map_err(|e| patch_error(def, name, &e))?
            }
            _ => return Err(ApiError::unsupported_media_type(def.builtin)),
        }
        self.check_type(def, &target, false)?;
        if get_str(&target, &["metadata", "name"]) != Some(name) {
            return Err(ApiError::bad_request(&format!(
                "the name of the object ({}) does not match the name on the URL ({name})",
                get_str(&target, &["metadata", "name"]).unwrap_or("")
            )));
        }
        self.check_namespace(def, ns, &mut target, false)?;
        check_rv(def, name, &target, &old)?;
        let manager = Self::manager_of(req);
        let result = self.commit(
            def,
            ns,
            name,
            Some(old),
            target,
            Managed::Update(manager),
            sub,
            dry_run,
        )?;
        Ok(ApiResponse::ok(200, result))
    }

    #[allow(clippy::too_many_arguments)]
    fn apply(
        &mut self,
        def: &ResourceDef,
        ns: Option<&str>,
        name: &str,
        sub: Option<&str>,
        mut applied: Value,
        req: &ApiRequest<'_>,
        force: bool,
        dry_run: bool,
    ) -> Result<ApiResponse, ApiError> {
        let Some(manager) = req
            .q("fieldManager")
            .filter(|m| !m.is_empty())
            .map(str::to_string)
        else {
            return Err(ApiError::invalid_options(
                "PatchOptions",
                "fieldManager",
                "FieldValueRequired",
                "Required value: is required for apply patch",
            ));
        };
        self.check_type(def, &applied, true)?;
        if get_str(&applied, &["metadata", "name"]) != Some(name) {
            return Err(ApiError::bad_request(&format!(
                "the name of the object ({}) does not match the name on the URL ({name})",
                get_str(&applied, &["metadata", "name"]).unwrap_or("")
            )));
        }
        if applied
            .pointer("/metadata/managedFields")
            .is_some_and(|m| !m.is_null())
        {
            return Err(ApiError::bad_request("metadata.managedFields must be nil"));
        }
        self.check_namespace(def, ns, &mut applied, false)?;
        let live = self.stored(def, ns, name).cloned();
        if live.is_none() {
            if sub.is_some() {
                return Err(ApiError::not_found(def, name));
            }
            if let Some(ns) = ns
                && !self.exists("", "namespaces", "", ns)
            {
                return Err(ApiError::namespace_not_found(ns));
            }
        }
        if let Some(rv) = get_str(&applied, &["metadata", "resourceVersion"]) {
            match &live {
                Some(l) if get_str(l, &["metadata", "resourceVersion"]) != Some(rv) => {
                    return Err(ApiError::conflict(def, name));
                }
                None => return Err(ApiError::not_found(def, name)),
                _ => {}
            }
        }
        if let Some(m) = applied.get_mut("metadata").and_then(Value::as_object_mut) {
            for k in [
                "resourceVersion",
                "uid",
                "creationTimestamp",
                "generation",
                "managedFields",
                "selfLink",
            ] {
                m.remove(k);
            }
        }
        let schema = Schema::for_def(def);
        let status_sub = def.has_status_subresource();
        let mut applied_set = to_field_set(&schema, &applied);
        restrict_to_scope(&mut applied_set, status_sub, sub);

        // the live object at `def`'s version without its managedFields: what the apply merges
        // into, and (for an existing object) the baseline its changes are computed against
        let base = match &live {
            Some(l) => {
                let mut b = self.present(def, l, true);
                if let Some(m) = b.get_mut("metadata").and_then(Value::as_object_mut) {
                    m.remove("managedFields");
                }
                b
            }
            None => {
                json!({"apiVersion": def.api_version(), "kind": def.kind, "metadata": {"name": name}})
            }
        };
        let mut merged = base.clone();
        apply_merge(&schema, &mut merged, &applied);
        let mut entries = live.as_ref().map(decode_managed).unwrap_or_default();
        let baseline = match &live {
            Some(_) => base,
            None => create_baseline(def),
        };
        let (mut changed, mut removed) = compare(&schema, &baseline, &merged);
        restrict_to_scope(&mut changed, status_sub, sub);
        let own = |e: &ManagedEntry| {
            e.manager == manager && e.operation == "Apply" && e.subresource.as_deref() == sub
        };
        let mut conflicts: Vec<(String, String)> = Vec::new();
        for e in entries.iter_mut().filter(|e| !own(e)) {
            let inter = e.set.intersection(&changed);
            if inter.is_empty() {
                continue;
            }
            if force {
                e.set = e.set.difference(&inter);
            } else {
                for p in inter.members() {
                    let who = if e.operation == "Update" {
                        format!("\"{}\" using {}", e.manager, e.api_version)
                    } else {
                        format!("\"{}\"", e.manager)
                    };
                    conflicts.push((who, path_string(&p)));
                }
            }
        }
        if !conflicts.is_empty() {
            conflicts.sort();
            conflicts.dedup();
            return Err(ApiError::apply_conflicts(&conflicts));
        }
        let previous = entries
            .iter()
            .find(|e| own(e))
            .map(|e| e.set.clone())
            .unwrap_or_default();
        // prune: fields this manager applied before, stopped applying, and nobody else owns
        let to_remove = previous.difference(&applied_set);
        let mut removal_paths = to_remove.members();
        removal_paths.sort_by_key(Vec::len);
        let mut pruned = false;
        for p in removal_paths {
            let owned_elsewhere = applied_set.has_member_at_or_below(&p)
                || entries
                    .iter()
                    .filter(|e| !own(e))
                    .any(|e| e.set.has_member_at_or_below(&p));
            if !owned_elsewhere {
                remove_path(&mut merged, &p);
                pruned = true;
            }
        }
        if pruned {
            // `merged` changed since it was compared
            removed = compare(&schema, &baseline, &merged).1;
        }
        for e in entries.iter_mut() {
            e.set.remove_all_subtrees(&removed);
        }
        let now = now_rfc3339();
        entries.retain(|e| !own(e));
        entries.push(ManagedEntry {
            manager: manager.clone(),
            operation: "Apply".into(),
            api_version: def.api_version(),
            time: now,
            subresource: sub.map(str::to_string),
            set: applied_set,
        });
        entries.retain(|e| !e.set.is_empty());
        let created = live.is_none();
        if created {
            validate(def, &merged)?;
        }
        let result = self.commit(
            def,
            ns,
            name,
            live,
            merged,
            Managed::Computed(entries),
            sub,
            dry_run,
        )?;
        Ok(ApiResponse::ok(if created { 201 } else { 200 }, result))
    }

    /// The common write path: immutables, status scoping, defaults, generation, managedFields,
    /// resourceVersion, storage and CRD side effects.
    #[allow(clippy::too_many_arguments)]
    fn commit(
        &mut self,
        def: &ResourceDef,
        ns: Option<&str>,
        name: &str,
        old: Option<Value>,
        mut new: Value,
        managed: Managed,
        sub: Option<&str>,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        let status_sub = def.has_status_subresource();
        if let Some(m) = new.as_object_mut() {
            m.insert("apiVersion".into(), json!(def.api_version()));
            m.insert("kind".into(), json!(def.kind));
        }
        // status scoping
        if let Some(o) = &old {
            if sub == Some("status") {
                let status = new.get("status").cloned();
                let mut merged = o.clone();
                match status {
                    Some(s) => merged["status"] = s,
                    None => {
                        merged.as_object_mut().map(|m| m.remove("status"));
                    }
                }
                if let (Some(nm), Some(mm)) =
                    (new.get("metadata").cloned(), merged.get_mut("metadata"))
                    && let Some(mf) = nm.get("managedFields")
                {
                    mm["managedFields"] = mf.clone();
                }
                new = merged;
            } else if status_sub {
                match o.get("status") {
                    Some(s) => new["status"] = s.clone(),
                    None => {
                        new.as_object_mut().map(|m| m.remove("status"));
                    }
                }
            }
        } else if status_sub {
            if def.builtin {
                new.as_object_mut().map(|m| m.remove("status"));
            } else {
                new.as_object_mut().map(|m| m.remove("status"));
            }
        }
        // immutable metadata
        {
            let now = now_rfc3339();
            let uid = match &old {
                Some(o) => get_str(o, &["metadata", "uid"]).unwrap_or("").to_string(),
                None => self.rng.uuid(),
            };
            let created = old
                .as_ref()
                .and_then(|o| get_str(o, &["metadata", "creationTimestamp"]).map(str::to_string))
                .unwrap_or(now);
            let meta = metadata_mut(&mut new);
            meta.insert("name".into(), json!(name));
            if let Some(ns) = ns {
                meta.insert("namespace".into(), json!(ns));
            }
            meta.insert("uid".into(), json!(uid));
            meta.insert("creationTimestamp".into(), json!(created));
            meta.remove("resourceVersion");
            meta.remove("generation");
            if let Some(o) = &old
                && let Some(dt) = o.pointer("/metadata/deletionTimestamp")
            {
                meta.insert("deletionTimestamp".into(), dt.clone());
            }
            meta.retain(|_, v| !v.is_null());
        }
        // fields the REST storage allocates after field management (never owned by the caller)
        let allocated: Vec<&str> = if def.builtin && def.kind == "Service" {
            ["clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"]
                .into_iter()
                .filter(|k| new.pointer(&format!("/spec/{k}")).is_none())
                .collect()
        } else {
            Vec::new()
        };
        let mut next_ip = self.next_ip;
        let mut alloc = || {
            let ip = format!("10.96.{}.{}", (next_ip >> 8) & 0xff, next_ip & 0xff);
            next_ip += 1;
            ip
        };
        apply_defaults(def, &mut new, old.as_ref(), &mut alloc);
        self.next_ip = next_ip;
        if old.is_some() {
            validate(def, &new)?;
        }
        if def.kind == "CustomResourceDefinition" && def.group == "apiextensions.k8s.io" {
            let mut probe = Registry {
                resources: self.registry.resources.clone(),
            };
            probe.apply_crd(&new).map_err(|e| {
                ApiError::invalid(
                    &def.kind,
                    &def.group,
                    name,
                    &[("FieldValueInvalid".into(), e.to_string(), "spec".into())],
                )
            })?;
            set_crd_status(&mut new);
        }
        // generation
        if def.has_generation() {
            let generation = match &old {
                None => 1,
                Some(o) => {
                    let g = o
                        .pointer("/metadata/generation")
                        .and_then(Value::as_i64)
                        .unwrap_or(1);
                    if spec_changed(def, o, &new) { g + 1 } else { g }
                }
            };
            metadata_mut(&mut new).insert("generation".into(), json!(generation));
        }
        // managed fields
        let entries = match managed {
            Managed::Computed(e) => e,
            Managed::Update(manager) => {
                let schema = Schema::for_def(def);
                let provided = new
                    .pointer("/metadata/managedFields")
                    .and_then(Value::as_array)
                    .filter(|a| !a.is_empty())
                    .cloned();
                let mut entries = match provided {
                    Some(list)
                        if list.len() == 1 && list[0].as_object().is_some_and(Map::is_empty) =>
                    {
                        Vec::new()
                    }
                    Some(_) => decode_managed(&new),
                    None => old.as_ref().map(decode_managed).unwrap_or_default(),
                };
                let mut baseline = old.clone().unwrap_or_else(|| create_baseline(def));
                if old.is_none() && def.kind == "Namespace" {
                    // the namespace label and finalizer are set by the server, not the caller
                    baseline = json!({"metadata": {}, "spec": {}, "status": {}});
                }
                let mut cur = new.clone();
                for v in [&mut baseline, &mut cur] {
                    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
                        m.remove("managedFields");
                    }
                }
                let (mut changed, mut removed) = compare(&schema, &baseline, &cur);
                restrict_to_scope(&mut changed, status_sub, sub);
                if let Some(spec) = changed.children.get_mut("f:spec") {
                    for k in &allocated {
                        spec.children.remove(&format!("f:{k}"));
                    }
                }
                changed.prune();
                restrict_to_scope(&mut removed, status_sub, sub);
                let api_version = def.api_version();
                let is_own = |e: &ManagedEntry| {
                    e.manager == manager
                        && e.operation == "Update"
                        && e.api_version == api_version
                        && e.subresource.as_deref() == sub
                };
                for e in entries.iter_mut() {
                    e.set.remove_all_subtrees(&removed);
                    if !is_own(e) {
                        e.set = e.set.difference(&changed);
                    }
                }
                if !changed.is_empty() {
                    let now = now_rfc3339();
                    match entries.iter_mut().find(|e| is_own(e)) {
                        Some(e) => {
                            e.set.union(&changed);
                            e.time = now;
                        }
                        None => entries.push(ManagedEntry {
                            manager: manager.clone(),
                            operation: "Update".into(),
                            api_version: api_version.clone(),
                            time: now,
                            subresource: sub.map(str::to_string),
                            set: changed,
                        }),
                    }
                }
                entries.retain(|e| !e.set.is_empty());
                entries
            }
        };
        encode_managed(&mut new, entries);
        if !dry_run {
            let unchanged = old.as_ref().is_some_and(|o| same_but_rv_and_times(o, &new));
            let rv = if unchanged {
                old.as_ref()
                    .and_then(|o| get_str(o, &["metadata", "resourceVersion"]).map(str::to_string))
                    .unwrap_or_default()
            } else {
                self.rv += 1;
                self.rv.to_string()
            };
            metadata_mut(&mut new).insert("resourceVersion".into(), json!(rv));
            if unchanged {
                // a no-op write keeps the stored object (including managedFields times)
                new = old.clone().expect("unchanged implies old");
            }
        } else if let Some(o) = &old
            && let Some(rv) = o.pointer("/metadata/resourceVersion").cloned()
        {
            metadata_mut(&mut new).insert("resourceVersion".into(), rv);
        }
        canonical_order(&mut new);
        if !dry_run
            && new.pointer("/metadata/resourceVersion")
                != old
                    .as_ref()
                    .and_then(|o| o.pointer("/metadata/resourceVersion"))
        {
            let stored = Arc::new(new.clone());
            self.objects.entry(key(def)).or_default().insert(
                (ns.unwrap_or("").to_string(), name.to_string()),
                stored.clone(),
            );
            let kind = if old.is_some() { "MODIFIED" } else { "ADDED" };
            if def.kind == "CustomResourceDefinition" && def.group == "apiextensions.k8s.io" {
                let _ = self.registry.apply_crd(&new);
            }
            // the stored object is already at `def`'s version (`apiVersion` set above): the
            // response is `new` itself, the watch event shares the stored copy
            self.emit(key(def), ns.unwrap_or(""), kind, stored, old.map(Arc::new));
        }
        Ok(new)
    }

    fn delete(
        &mut self,
        def: &ResourceDef,
        ns: Option<&str>,
        name: &str,
        req: &ApiRequest<'_>,
        dry_run: bool,
    ) -> Result<ApiResponse, ApiError> {
        let old = self
            .stored(def, ns, name)
            .cloned()
            .ok_or_else(|| ApiError::not_found(def, name))?;
        let opts: Value = if req.body.is_empty() {
            json!({})
        } else {
            serde_json::from_slice(req.body).unwrap_or(json!({}))
        };
        if let Some(pre) = opts.get("preconditions") {
            let uid_ok = pre
                .get("uid")
                .and_then(Value::as_str)
                .is_none_or(|u| Some(u) == get_str(&old, &["metadata", "uid"]));
            let rv_ok = pre
                .get("resourceVersion")
                .and_then(Value::as_str)
                .is_none_or(|r| Some(r) == get_str(&old, &["metadata", "resourceVersion"]));
            if !uid_ok || !rv_ok {
                return Err(ApiError::conflict(def, name));
            }
        }
        if def.kind == "Namespace"
            && def.builtin
            && matches!(name, "default" | "kube-system" | "kube-public")
        {
            return Err(
                ApiError::forbidden(&req.caller.name, "delete", def, None, Some(name))
                    .with_message(&format!(
                        "namespaces \"{name}\" is forbidden: this namespace may not be deleted"
                    )),
            );
        }
        let propagation = opts
            .get("propagationPolicy")
            .and_then(Value::as_str)
            .or_else(|| req.q("propagationPolicy"))
            .unwrap_or("Background")
            .to_string();
        let uid = get_str(&old, &["metadata", "uid"])
            .unwrap_or("")
            .to_string();
        if !dry_run {
            self.remove_object(def, ns, name, &propagation);
        }
        if def.kind == "Namespace" && def.builtin {
            let mut o = self.present(def, &old, true);
            metadata_mut(&mut o).insert("deletionTimestamp".into(), json!(now_rfc3339()));
            o["status"]["phase"] = json!("Terminating");
            canonical_order(&mut o);
            return Ok(ApiResponse::ok(200, o));
        }
        if def.kind == "Pod" && def.builtin {
            let mut o = self.present(def, &old, true);
            metadata_mut(&mut o).insert("deletionTimestamp".into(), json!(now_rfc3339()));
            metadata_mut(&mut o).insert("deletionGracePeriodSeconds".into(), json!(30));
            canonical_order(&mut o);
            return Ok(ApiResponse::ok(200, o));
        }
        Ok(ApiResponse::ok(200, delete_success(def, name, &uid)))
    }

    /// Deletes an object plus what depends on it: namespace contents, a CRD's objects,
    /// and (unless orphaning) objects that list it in ownerReferences.
    fn remove_object(
        &mut self,
        def: &ResourceDef,
        ns: Option<&str>,
        name: &str,
        propagation: &str,
    ) {
        let Some(old) = self
            .objects
            .get_mut(&key(def))
            .and_then(|m| m.remove(&(ns.unwrap_or("").to_string(), name.to_string())))
        else {
            return;
        };
        self.rv += 1;
        self.emit_deleted(key(def), ns.unwrap_or(""), old.clone());
        if def.kind == "Namespace" && def.builtin {
            let mut gone: Vec<(Key, String, Arc<Value>)> = Vec::new();
            for (k, m) in self.objects.iter_mut() {
                let names: Vec<ObjKey> = in_namespace(m, name).map(|(k, _)| k.clone()).collect();
                for ok in names {
                    if let Some(o) = m.remove(&ok) {
                        gone.push((k.clone(), ok.0, o));
                    }
                }
            }
            for (k, n, o) in gone {
                self.rv += 1;
                self.emit_deleted(k, &n, o);
            }
        }
        if def.kind == "CustomResourceDefinition" && def.builtin {
            for gone in self.registry.remove_crd(name) {
                if let Some(m) = self.objects.remove(&key(&gone)) {
                    for ((n, _), o) in m {
                        self.rv += 1;
                        self.emit_deleted(key(&gone), &n, o);
                    }
                }
            }
        }
        if propagation == "Orphan" {
            return;
        }
        let uid = get_str(&old, &["metadata", "uid"])
            .unwrap_or("")
            .to_string();
        let mut dependents: Vec<(ResourceDef, Option<String>, String)> = Vec::new();
        for r in &self.registry.resources {
            // A namespaced owner's dependents live in its namespace (ownerReferences resolve in
            // the dependent's namespace), so only that namespace is searched.
            if ns.is_some() && !r.namespaced {
                continue;
            }
            if let Some(m) = self.objects.get(&key(r)) {
                for ((n, nm), o) in scoped(m, ns) {
                    let owned = o
                        .pointer("/metadata/ownerReferences")
                        .and_then(Value::as_array)
                        .is_some_and(|refs| {
                            refs.iter().any(|rf| {
                                rf.get("uid").and_then(Value::as_str) == Some(uid.as_str())
                            })
                        });
                    if owned {
                        let ns = if n.is_empty() { None } else { Some(n.clone()) };
                        dependents.push((r.clone(), ns, nm.clone()));
                    }
                }
            }
        }
        for (r, n, nm) in dependents {
            self.remove_object(&r, n.as_deref(), &nm, propagation);
        }
    }

    fn emit_deleted(&mut self, k: Key, ns: &str, old: Arc<Value>) {
        let mut o = (*old).clone();
        metadata_mut(&mut o).insert("resourceVersion".into(), json!(self.rv.to_string()));
        self.emit(k, ns, "DELETED", Arc::new(o), Some(old));
    }

    fn delete_collection(
        &mut self,
        def: &ResourceDef,
        ns: Option<&str>,
        req: &ApiRequest<'_>,
        dry_run: bool,
    ) -> Result<ApiResponse, ApiError> {
        let listed = self.list(def, ns, req)?;
        let items = listed
            .body
            .get("items")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if !dry_run {
            for it in &items {
                let n = get_str(it, &["metadata", "name"]).unwrap_or("").to_string();
                let ins = get_str(it, &["metadata", "namespace"]).map(str::to_string);
                self.remove_object(def, ins.as_deref(), &n, "Background");
            }
        }
        Ok(ApiResponse::ok(
            200,
            json!({
                "kind": format!("{}List", def.kind),
                "apiVersion": def.api_version(),
                "metadata": {"resourceVersion": self.rv.to_string()},
                "items": items,
            }),
        ))
    }
}

impl ApiError {
    fn with_message(mut self, msg: &str) -> Self {
        self.body["message"] = json!(msg);
        self
    }
}

enum Managed {
    Update(String),
    Computed(Vec<ManagedEntry>),
}

#[derive(Debug, Clone)]
struct ManagedEntry {
    manager: String,
    operation: String,
    api_version: String,
    time: String,
    subresource: Option<String>,
    set: FieldSet,
}

fn decode_managed(obj: &Value) -> Vec<ManagedEntry> {
    obj.pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|e| {
                    Some(ManagedEntry {
                        manager: e.get("manager")?.as_str()?.to_string(),
                        operation: e
                            .get("operation")
                            .and_then(Value::as_str)
                            .unwrap_or("Update")
                            .to_string(),
                        api_version: e
                            .get("apiVersion")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string(),
                        time: e
                            .get("time")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string(),
                        subresource: e
                            .get("subresource")
                            .and_then(Value::as_str)
                            .map(str::to_string),
                        set: FieldSet::from_fields_v1(e.get("fieldsV1").unwrap_or(&Value::Null)),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

fn encode_managed(obj: &mut Value, mut entries: Vec<ManagedEntry>) {
    entries.sort_by(|a, b| {
        (
            a.operation.as_str(),
            a.time.as_str(),
            a.manager.as_str(),
            a.api_version.as_str(),
        )
            .cmp(&(
                b.operation.as_str(),
                b.time.as_str(),
                b.manager.as_str(),
                b.api_version.as_str(),
            ))
    });
    let meta = metadata_mut(obj);
    if entries.is_empty() {
        meta.remove("managedFields");
        return;
    }
    let list: Vec<Value> = entries
        .into_iter()
        .map(|e| {
            let mut m = Map::new();
            m.insert("manager".into(), json!(e.manager));
            m.insert("operation".into(), json!(e.operation));
            m.insert("apiVersion".into(), json!(e.api_version));
            m.insert("time".into(), json!(e.time));
            m.insert("fieldsType".into(), json!("FieldsV1"));
            m.insert("fieldsV1".into(), e.set.to_fields_v1());
            if let Some(s) = e.subresource {
                m.insert("subresource".into(), json!(s));
            }
            Value::Object(m)
        })
        .collect();
    meta.insert("managedFields".into(), Value::Array(list));
}

/// Main-resource writes never own `status` of kinds with a status subresource; status writes own only `status`.
fn restrict_to_scope(set: &mut FieldSet, status_sub: bool, sub: Option<&str>) {
    if sub == Some("status") {
        set.children.retain(|k, _| k == "f:status");
    } else if status_sub {
        set.children.remove("f:status");
    }
}

/// Whether two stored objects differ only in `metadata.resourceVersion` and the `time` of
/// their managedFields entries (a no-op write), compared in place.
fn same_but_rv_and_times(a: &Value, b: &Value) -> bool {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return a == b;
    };
    let others_equal = |x: &Map<String, Value>, y: &Map<String, Value>, skip: &str| {
        x.iter().filter(|(k, _)| *k != skip).count() == y.iter().filter(|(k, _)| *k != skip).count()
            && x.iter()
                .filter(|(k, _)| *k != skip)
                .all(|(k, v)| y.get(k) == Some(v))
    };
    if !others_equal(a, b, "metadata") {
        return false;
    }
    match (a.get("metadata"), b.get("metadata")) {
        (Some(Value::Object(ma)), Some(Value::Object(mb))) => {
            let strip = |m: &Map<String, Value>| {
                m.iter()
                    .filter(|(k, _)| *k != "resourceVersion" && *k != "managedFields")
                    .count()
            };
            if strip(ma) != strip(mb)
                || !ma
                    .iter()
                    .filter(|(k, _)| *k != "resourceVersion" && *k != "managedFields")
                    .all(|(k, v)| mb.get(k) == Some(v))
            {
                return false;
            }
            match (ma.get("managedFields"), mb.get("managedFields")) {
                (Some(Value::Array(fa)), Some(Value::Array(fb))) => {
                    fa.len() == fb.len()
                        && fa.iter().zip(fb).all(|(ea, eb)| match (ea, eb) {
                            (Value::Object(ea), Value::Object(eb)) => others_equal(ea, eb, "time"),
                            (ea, eb) => ea == eb,
                        })
                }
                (fa, fb) => fa == fb,
            }
        }
        (ma, mb) => ma == mb,
    }
}

fn check_rv(def: &ResourceDef, name: &str, new: &Value, old: &Value) -> Result<(), ApiError> {
    if let Some(rv) = get_str(new, &["metadata", "resourceVersion"])
        && !rv.is_empty()
        && Some(rv) != get_str(old, &["metadata", "resourceVersion"])
    {
        return Err(ApiError::conflict(def, name));
    }
    Ok(())
}

fn patch_error(def: &ResourceDef, name: &str, e: &crate::patch::JsonPatchError) -> ApiError {
    ApiError::invalid(
        &def.kind,
        &def.group,
        name,
        &[(
            "FieldValueInvalid".into(),
            format!("Invalid value: {e}"),
            "patch".into(),
        )],
    )
}

fn spec_changed(def: &ResourceDef, old: &Value, new: &Value) -> bool {
    if def.builtin {
        return old.get("spec") != new.get("spec")
            || (def.kind.ends_with("Role") && old.get("rules") != new.get("rules"));
    }
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(m) = v.as_object_mut() {
            m.remove("metadata");
            m.remove("status");
            m.remove("kind");
            m.remove("apiVersion");
        }
        v
    };
    strip(old) != strip(new)
}

fn scale_of(def: &ResourceDef, o: &Value) -> Value {
    let selector = o
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    let _ = def;
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": o.pointer("/metadata/name"),
            "namespace": o.pointer("/metadata/namespace"),
            "uid": o.pointer("/metadata/uid"),
            "resourceVersion": o.pointer("/metadata/resourceVersion"),
            "creationTimestamp": o.pointer("/metadata/creationTimestamp"),
        },
        "spec": {"replicas": o.pointer("/spec/replicas").cloned().unwrap_or(json!(0))},
        "status": {
            "replicas": o.pointer("/status/replicas").cloned().unwrap_or(json!(0)),
            "selector": selector,
        },
    })
}

fn set_crd_status(crd: &mut Value) {
    let names = crd.pointer("/spec/names").cloned().unwrap_or(json!({}));
    let mut accepted = names.clone();
    if let Some(m) = accepted.as_object_mut() {
        if !m.contains_key("singular") {
            let k = m
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_lowercase();
            m.insert("singular".into(), json!(k));
        }
        if !m.contains_key("listKind") {
            let k = format!(
                "{}List",
                m.get("kind").and_then(Value::as_str).unwrap_or("")
            );
            m.insert("listKind".into(), json!(k));
        }
    }
    let storage: Vec<Value> = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .map(|vs| {
            vs.iter()
                .filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
                .filter_map(|v| v.get("name").cloned())
                .collect()
        })
        .unwrap_or_default();
    let now = now_rfc3339();
    crd["status"] = json!({
        "conditions": [
            {"type": "NamesAccepted", "status": "True", "lastTransitionTime": now, "reason": "NoConflicts", "message": "no conflicts found"},
            {"type": "Established", "status": "True", "lastTransitionTime": now, "reason": "InitialNamesAccepted", "message": "the initial names have been accepted"}
        ],
        "acceptedNames": accepted,
        "storedVersions": storage,
    });
}

fn encode_continue(k: &ObjKey) -> String {
    let raw = format!("{}\u{0}{}", k.0, k.1);
    raw.bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode_continue(s: &str) -> Option<ObjKey> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect();
    let raw = String::from_utf8(bytes?).ok()?;
    let (a, b) = raw.split_once('\u{0}')?;
    Some((a.to_string(), b.to_string()))
}
