//! The kill switch: an Unleash feature toggle per integration, checked before every run, so an
//! SRE can stop an integration without a deploy (upstream `cli.run_class_integration` calls
//! `reconcile.utils.unleash.get_feature_toggle_state(integration.name)` and exits 0 with
//! "Integration toggle is disabled, skipping integration." when it is off).
//!
//! Same environment as upstream: `UNLEASH_API_URL` (the server's `/api` URL) and
//! `UNLEASH_CLIENT_ACCESS_TOKEN` (a client token, sent verbatim as `Authorization`). Either one
//! missing or empty means no Unleash: every integration is enabled.
//!
//! The toggles come from the Unleash client API (`GET {UNLEASH_API_URL}/client/features`) and
//! are evaluated as upstream's client (UnleashClient 5.x, `UnleashClient.is_enabled` with
//! `Feature._get_evaluation_result`) evaluates them with the static context
//! `{appName: "qontract-reconcile", environment: "default"}`:
//!
//! * a toggle the server does not know, or a fetch that failed before any succeeded: the
//!   fallback, which is `default` (`true` for integration toggles, upstream
//!   `get_feature_toggle_default`); a failed fetch is logged as a warning;
//! * a fetch that fails after one succeeded (the daemon): the last toggles fetched, as
//!   upstream's long-lived client keeps its in-memory cache when a refresh fails;
//! * `enabled: false`: off; enabled without strategies (or with only strategies the client
//!   does not know, which it drops): on;
//! * otherwise on when one strategy is on (its constraints and segments all hold, then the
//!   strategy itself); an evaluation error (a missing parameter, a context field a strategy
//!   requires) turns the whole toggle off, as upstream's `try` around the strategy loop does;
//! * dependencies on parent toggles (`dependencies`: parent enabled or not); a missing parent
//!   gives the fallback, as upstream's `KeyError`.
//!
//! Strategies: `default`, `flexibleRollout` (rollout 0/100 exact; in between random, as
//! upstream without `userId`/`sessionId` in the context), `gradualRolloutRandom`,
//! `userWithId`, `applicationHostname`, `remoteAddress`, `gradualRolloutUserId`,
//! `gradualRolloutSessionId` (the last four can only be decided from the fields of our context,
//! which has no user, session or address: off or an evaluation error, as upstream), and
//! qontract-reconcile's custom `enableCluster` / `disableCluster` (on `cluster_name`).
//! Constraint operators: `IN`, `NOT_IN`, `STR_CONTAINS`, `STR_STARTS_WITH`, `STR_ENDS_WITH`
//! (`caseInsensitive`), `NUM_EQ`/`NUM_GT`/`NUM_GTE`/`NUM_LT`/`NUM_LTE`, `inverted`. Date and
//! semver operators evaluate to false (a warning names them).
//!
//! Not done (the server does not need them to serve toggles): client registration
//! (`POST /client/register`) and usage metrics (`POST /client/metrics`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

/// Environment variable with the Unleash API URL (e.g. `https://unleash.example.com/api`).
pub const UNLEASH_API_URL: &str = "UNLEASH_API_URL";
/// Environment variable with the client access token (sent as `Authorization`).
pub const UNLEASH_CLIENT_ACCESS_TOKEN: &str = "UNLEASH_CLIENT_ACCESS_TOKEN";
/// `appName` of the static context and the `UNLEASH-APPNAME` header (upstream's `app_name`).
pub const APP_NAME: &str = "qontract-reconcile";
/// `environment` of the static context (the UnleashClient default).
pub const CONTEXT_ENVIRONMENT: &str = "default";

/// Upstream `REQUEST_TIMEOUT`.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Upstream `REQUEST_RETRIES` (urllib3 `Retry(total=3)`): one request and three retries.
const REQUEST_RETRIES: u32 = 3;

/// Where the Unleash server is. `Debug` never shows the token.
#[derive(Clone, PartialEq, Eq)]
pub struct UnleashSettings {
    /// `UNLEASH_API_URL`.
    pub api_url: String,
    /// `UNLEASH_CLIENT_ACCESS_TOKEN`.
    pub client_access_token: String,
}

impl std::fmt::Debug for UnleashSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnleashSettings")
            .field("api_url", &self.api_url)
            .field("client_access_token", &"<redacted>")
            .finish()
    }
}

impl UnleashSettings {
    /// Read `UNLEASH_API_URL` and `UNLEASH_CLIENT_ACCESS_TOKEN` through `get`; `None` unless
    /// both are set and non-empty (upstream `if not (api_url and client_access_token)`).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Option<Self> {
        let api_url = get(UNLEASH_API_URL).filter(|v| !v.is_empty())?;
        let client_access_token = get(UNLEASH_CLIENT_ACCESS_TOKEN).filter(|v| !v.is_empty())?;
        Some(Self {
            api_url,
            client_access_token,
        })
    }

    fn features_url(&self) -> String {
        format!("{}/client/features", self.api_url.trim_end_matches('/'))
    }
}

/// Where the runner gets its Unleash settings from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum UnleashSource {
    /// `UNLEASH_API_URL` / `UNLEASH_CLIENT_ACCESS_TOKEN` of the process (production).
    #[default]
    Environment,
    /// Fixed settings (`None`: no Unleash); tests and embedders.
    Fixed(Option<UnleashSettings>),
}

impl UnleashSource {
    /// The settings in force now.
    pub fn settings(&self) -> Option<UnleashSettings> {
        match self {
            Self::Environment => UnleashSettings::from_env(|k| std::env::var(k).ok()),
            Self::Fixed(s) => s.clone(),
        }
    }
}

/// Why the toggles could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum UnleashError {
    /// Transport error (connection refused, timeout, TLS).
    #[error("GET {url}: {source}")]
    Http {
        /// The features URL.
        url: String,
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
    /// Any status but 200 (upstream accepts 200 and 304).
    #[error("GET {url}: HTTP {status}")]
    Status {
        /// The features URL.
        url: String,
        /// The status.
        status: u16,
    },
    /// The body is not the client API's features document.
    #[error("GET {url}: not an Unleash client features document: {source}")]
    Body {
        /// The features URL.
        url: String,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
}

/// The client API's features document (`GET /api/client/features`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct ClientFeatures {
    /// The toggles of the token's environment.
    #[serde(default)]
    pub features: Vec<FeatureToggle>,
    /// Segments referenced by strategies (when the server does not inline them).
    #[serde(default)]
    pub segments: Vec<Segment>,
}

/// One toggle.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct FeatureToggle {
    /// Toggle name (for the kill switch: the integration's name).
    pub name: String,
    /// Enabled in the token's environment.
    pub enabled: bool,
    /// Activation strategies.
    #[serde(default)]
    pub strategies: Vec<StrategyDef>,
    /// Parent toggles.
    #[serde(default)]
    pub dependencies: Vec<Dependency>,
}

/// One activation strategy.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct StrategyDef {
    /// Strategy name (`default`, `flexibleRollout`, ...).
    pub name: String,
    /// Parameters (strings, as the server sends them).
    #[serde(default)]
    pub parameters: BTreeMap<String, Value>,
    /// Constraints.
    #[serde(default)]
    pub constraints: Vec<Constraint>,
    /// Segment ids.
    #[serde(default)]
    pub segments: Vec<i64>,
}

/// A segment: named constraints shared by strategies.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Segment {
    /// Segment id.
    pub id: i64,
    /// Its constraints.
    #[serde(default)]
    pub constraints: Vec<Constraint>,
}

/// A strategy constraint.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Constraint {
    /// Context field.
    pub context_name: String,
    /// Operator (`IN`, `NOT_IN`, `STR_CONTAINS`, ...).
    pub operator: String,
    /// Values of list operators.
    #[serde(default)]
    pub values: Vec<String>,
    /// Value of single-value operators.
    #[serde(default)]
    pub value: Option<String>,
    /// Negate the result.
    #[serde(default)]
    pub inverted: bool,
    /// String operators ignore case.
    #[serde(default)]
    pub case_insensitive: bool,
}

/// A dependency on a parent toggle.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Dependency {
    /// Parent toggle name.
    pub feature: String,
    /// Required state of the parent (default: enabled).
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Required variants of the parent.
    #[serde(default)]
    pub variants: Vec<String>,
}

/// The evaluation context: upstream's static context plus what the caller passes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    fields: BTreeMap<String, String>,
}

impl Default for Context {
    fn default() -> Self {
        Self::new()
    }
}

impl Context {
    /// `{appName: "qontract-reconcile", environment: "default"}`.
    pub fn new() -> Self {
        let mut fields = BTreeMap::new();
        fields.insert("appName".to_owned(), APP_NAME.to_owned());
        fields.insert("environment".to_owned(), CONTEXT_ENVIRONMENT.to_owned());
        Self { fields }
    }

    /// Add `cluster_name` (for the `enableCluster` / `disableCluster` strategies).
    pub fn with_cluster_name(mut self, cluster: impl Into<String>) -> Self {
        self.fields
            .insert("cluster_name".to_owned(), cluster.into());
        self
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

/// An evaluation error: upstream catches it and turns the toggle off.
#[derive(Debug)]
struct EvalError(String);

/// The result of one check, before the fallback is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Value(bool),
    Fallback,
}

impl ClientFeatures {
    /// Upstream `UnleashClient.is_enabled(name, context, fallback_function)`: the toggle's
    /// state, or `fallback` when the toggle is unknown.
    pub fn is_enabled(&self, name: &str, context: &Context, fallback: bool) -> bool {
        match self.decide(name, context) {
            Decision::Value(v) => v,
            Decision::Fallback => fallback,
        }
    }

    fn feature(&self, name: &str) -> Option<&FeatureToggle> {
        self.features.iter().find(|f| f.name == name)
    }

    fn decide(&self, name: &str, context: &Context) -> Decision {
        let Some(feature) = self.feature(name) else {
            tracing::debug!("unleash: no toggle {name:?}; using the default");
            return Decision::Fallback;
        };
        // Upstream `_dependencies_are_satisfied`.
        for dep in &feature.dependencies {
            let Some(parent) = self.feature(&dep.feature) else {
                tracing::warn!(
                    "unleash: toggle {name:?} depends on unknown toggle {:?}; using the default",
                    dep.feature
                );
                return Decision::Fallback;
            };
            if !parent.dependencies.is_empty() {
                tracing::warn!(
                    "unleash: toggle {:?} (a dependency of {name:?}) has dependencies itself",
                    dep.feature
                );
                return Decision::Value(false);
            }
            if self.evaluate(parent, context) != dep.enabled.unwrap_or(true) {
                return Decision::Value(false);
            }
            if !dep.variants.is_empty() {
                tracing::warn!(
                    "unleash: toggle {name:?} requires variants of {:?}; variants are not supported, \
                     the dependency is not satisfied",
                    dep.feature
                );
                return Decision::Value(false);
            }
        }
        Decision::Value(self.evaluate(feature, context))
    }

    /// Upstream `Feature._get_evaluation_result` (without variants).
    fn evaluate(&self, feature: &FeatureToggle, context: &Context) -> bool {
        if !feature.enabled {
            return false;
        }
        // The loader drops strategies it cannot build (unknown names, missing parameters).
        let strategies: Vec<Strategy<'_>> = feature
            .strategies
            .iter()
            .filter_map(|s| match Strategy::load(s) {
                Ok(strategy) => Some(strategy),
                Err(e) => {
                    tracing::warn!(
                        "unleash: toggle {:?}: cannot load strategy {:?}: {}; ignored",
                        feature.name,
                        s.name,
                        e.0
                    );
                    None
                }
            })
            .collect();
        if strategies.is_empty() {
            return true;
        }
        let any = || -> Result<bool, EvalError> {
            for strategy in &strategies {
                if self.constraints_hold(strategy.def, context)? && strategy.apply(context)? {
                    return Ok(true);
                }
            }
            Ok(false)
        };
        match any() {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(
                    "unleash: toggle {:?}: error evaluating: {}; off",
                    feature.name,
                    e.0
                );
                false
            }
        }
    }

    /// Upstream `Strategy.execute`: all constraints (the strategy's, then its segments').
    fn constraints_hold(&self, def: &StrategyDef, context: &Context) -> Result<bool, EvalError> {
        for c in &def.constraints {
            if !constraint_holds(c, context)? {
                return Ok(false);
            }
        }
        for id in &def.segments {
            let segment = self
                .segments
                .iter()
                .find(|s| s.id == *id)
                .ok_or_else(|| EvalError(format!("unknown segment {id}")))?;
            for c in &segment.constraints {
                if !constraint_holds(c, context)? {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }
}

/// Upstream `Constraint.apply` for the operators this client knows.
fn constraint_holds(c: &Constraint, context: &Context) -> Result<bool, EvalError> {
    const KNOWN: &[&str] = &[
        "IN",
        "NOT_IN",
        "STR_CONTAINS",
        "STR_STARTS_WITH",
        "STR_ENDS_WITH",
        "NUM_EQ",
        "NUM_GT",
        "NUM_GTE",
        "NUM_LT",
        "NUM_LTE",
        "DATE_AFTER",
        "DATE_BEFORE",
        "SEMVER_EQ",
        "SEMVER_GT",
        "SEMVER_LT",
    ];
    let op = c.operator.to_uppercase();
    if !KNOWN.contains(&op.as_str()) {
        // Upstream: `ConstraintOperators(operator)` raises while the strategy runs.
        return Err(EvalError(format!(
            "unknown constraint operator {:?}",
            c.operator
        )));
    }
    let check = match context.get(&c.context_name) {
        None => op == "NOT_IN",
        Some(value) => match op.as_str() {
            "IN" => c.values.iter().any(|v| v == value),
            "NOT_IN" => !c.values.iter().any(|v| v == value),
            "STR_CONTAINS" | "STR_STARTS_WITH" | "STR_ENDS_WITH" => {
                let norm = |s: &str| {
                    if c.case_insensitive {
                        s.to_uppercase()
                    } else {
                        s.to_owned()
                    }
                };
                let value = norm(value);
                c.values.iter().map(|v| norm(v)).any(|v| match op.as_str() {
                    "STR_CONTAINS" => value.contains(&v),
                    "STR_STARTS_WITH" => value.starts_with(&v),
                    _ => value.ends_with(&v),
                })
            }
            "NUM_EQ" | "NUM_GT" | "NUM_GTE" | "NUM_LT" | "NUM_LTE" => {
                let parse = |s: Option<&str>| s.and_then(|s| s.trim().parse::<f64>().ok());
                match (parse(Some(value)), parse(c.value.as_deref())) {
                    (Some(a), Some(b)) => match op.as_str() {
                        "NUM_EQ" => a == b,
                        "NUM_GT" => a > b,
                        "NUM_GTE" => a >= b,
                        "NUM_LT" => a < b,
                        _ => a <= b,
                    },
                    // Upstream logs the conversion error and the constraint is false.
                    _ => false,
                }
            }
            other => {
                tracing::warn!(
                    "unleash: constraint operator {other} on {:?} is not supported; false",
                    c.context_name
                );
                false
            }
        },
    };
    Ok(check != c.inverted)
}

/// A loaded strategy (upstream's strategy classes).
struct Strategy<'a> {
    def: &'a StrategyDef,
    kind: StrategyKind,
}

enum StrategyKind {
    Default,
    FlexibleRollout,
    GradualRolloutRandom,
    /// Needs `userId` or `sessionId` in the context.
    GradualRolloutHashed(&'static str),
    UserWithId(Vec<String>),
    ApplicationHostname(Vec<String>),
    RemoteAddress,
    EnableCluster(Vec<String>),
    DisableCluster(Vec<String>),
}

fn param(def: &StrategyDef, name: &str) -> Result<String, EvalError> {
    match def.parameters.get(name) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(other) => Err(EvalError(format!(
            "parameter {name:?} of strategy {:?} is not a string: {other}",
            def.name
        ))),
        None => Err(EvalError(format!(
            "strategy {:?} has no parameter {name:?}",
            def.name
        ))),
    }
}

fn split_list(s: &str) -> Vec<String> {
    s.split(',').map(|x| x.trim().to_owned()).collect()
}

fn percentage(def: &StrategyDef, name: &str) -> Result<u32, EvalError> {
    let raw = param(def, name)?;
    raw.trim()
        .parse::<i64>()
        .map(|p| p.clamp(0, 1000) as u32)
        .map_err(|_| EvalError(format!("{name} {raw:?} of strategy {:?}", def.name)))
}

/// A uniformly random number in 1..=100 (upstream `random.randint(1, 100)`).
fn random_1_to_100() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    (h.finish() % 100) as u32 + 1
}

fn hostname() -> String {
    // Upstream `platform.node()`.
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default()
}

impl<'a> Strategy<'a> {
    /// Upstream loader `_create_strategies`: unknown names and constructors that fail
    /// (`load_provisioning` reading a missing parameter) are dropped.
    fn load(def: &'a StrategyDef) -> Result<Self, EvalError> {
        let kind = match def.name.as_str() {
            "default" => StrategyKind::Default,
            "flexibleRollout" => StrategyKind::FlexibleRollout,
            "gradualRolloutRandom" => StrategyKind::GradualRolloutRandom,
            "gradualRolloutUserId" => StrategyKind::GradualRolloutHashed("userId"),
            "gradualRolloutSessionId" => StrategyKind::GradualRolloutHashed("sessionId"),
            "userWithId" => StrategyKind::UserWithId(split_list(&param(def, "userIds")?)),
            "applicationHostname" => {
                StrategyKind::ApplicationHostname(split_list(&param(def, "hostNames")?))
            }
            "remoteAddress" => {
                param(def, "IPs")?;
                StrategyKind::RemoteAddress
            }
            "enableCluster" => {
                StrategyKind::EnableCluster(split_list(&param(def, "cluster_name")?))
            }
            "disableCluster" => {
                StrategyKind::DisableCluster(split_list(&param(def, "cluster_name")?))
            }
            other => return Err(EvalError(format!("unknown strategy {other:?}"))),
        };
        Ok(Self { def, kind })
    }

    fn apply(&self, context: &Context) -> Result<bool, EvalError> {
        let def = self.def;
        Ok(match &self.kind {
            StrategyKind::Default => true,
            StrategyKind::FlexibleRollout => {
                let rollout = percentage(def, "rollout")?;
                param(def, "groupId")?;
                let stickiness = def
                    .parameters
                    .get("stickiness")
                    .and_then(Value::as_str)
                    .unwrap_or("default");
                match stickiness {
                    // Our context has no userId / sessionId: random, as upstream.
                    "default" | "random" => rollout > 0 && random_1_to_100() <= rollout,
                    custom => match context.get(custom) {
                        // 0 and 100 are decided whatever the hash; in between needs
                        // murmur3 stickiness, which no kill-switch context has.
                        Some(_) if rollout == 0 => false,
                        Some(_) if rollout >= 100 => true,
                        Some(_) => {
                            return Err(EvalError(format!(
                                "stickiness {custom:?} with rollout {rollout} is not supported"
                            )));
                        }
                        None => {
                            return Err(EvalError(format!(
                                "stickiness {custom:?} is not in the context"
                            )));
                        }
                    },
                }
            }
            StrategyKind::GradualRolloutRandom => {
                let p = percentage(def, "percentage")?;
                p > 0 && random_1_to_100() <= p
            }
            StrategyKind::GradualRolloutHashed(field) => {
                percentage(def, "percentage")?;
                param(def, "groupId")?;
                // Upstream `context["userId"]`: a KeyError without it.
                return Err(EvalError(format!("{field} is not in the context")));
            }
            StrategyKind::UserWithId(ids) => context
                .get("userId")
                .is_some_and(|u| ids.iter().any(|i| i == u)),
            StrategyKind::ApplicationHostname(hosts) => {
                let host = hostname();
                hosts.contains(&host)
            }
            StrategyKind::RemoteAddress => {
                // Upstream `context["remoteAddress"]`: a KeyError without it.
                return Err(EvalError("remoteAddress is not in the context".to_owned()));
            }
            StrategyKind::EnableCluster(clusters) => context
                .get("cluster_name")
                .is_some_and(|c| clusters.iter().any(|x| x == c)),
            StrategyKind::DisableCluster(clusters) => context
                .get("cluster_name")
                .is_none_or(|c| !clusters.iter().any(|x| x == c)),
        })
    }
}

/// Fetches toggles from one Unleash server and remembers the last document fetched (upstream's
/// client keeps its in-memory cache when a refresh fails).
#[derive(Clone, Default)]
pub struct UnleashClient {
    last_known: Arc<Mutex<Option<(UnleashSettings, ClientFeatures)>>>,
}

impl std::fmt::Debug for UnleashClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnleashClient").finish_non_exhaustive()
    }
}

impl UnleashClient {
    /// A client with an empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// `GET {api_url}/client/features` with the token as `Authorization` and upstream's
    /// `UNLEASH-APPNAME` / `UNLEASH-INSTANCEID` headers; transport errors and 500/502/504 are
    /// retried three times (upstream `Retry(total=3, status_forcelist=[500, 502, 504])`).
    pub async fn fetch(settings: &UnleashSettings) -> Result<ClientFeatures, UnleashError> {
        let url = settings.features_url();
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|source| UnleashError::Http {
                url: url.clone(),
                source,
            })?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sent = http
                .get(&url)
                .header(
                    reqwest::header::AUTHORIZATION,
                    &settings.client_access_token,
                )
                .header("UNLEASH-APPNAME", APP_NAME)
                .header("UNLEASH-INSTANCEID", "qontract-reconcile-rs")
                .send()
                .await;
            let resp = match sent {
                Ok(resp) => resp,
                Err(source) if attempt > REQUEST_RETRIES => {
                    return Err(UnleashError::Http { url, source });
                }
                Err(_) => continue,
            };
            let status = resp.status().as_u16();
            if matches!(status, 500 | 502 | 504) && attempt <= REQUEST_RETRIES {
                continue;
            }
            if status != 200 {
                return Err(UnleashError::Status { url, status });
            }
            let body = resp.bytes().await.map_err(|source| UnleashError::Http {
                url: url.clone(),
                source,
            })?;
            return serde_json::from_slice(&body)
                .map_err(|source| UnleashError::Body { url, source });
        }
    }

    /// Upstream `get_feature_toggle_state(name, context, default)`: `true` without Unleash;
    /// otherwise the toggle as the server has it now, falling back to the last toggles fetched
    /// when the server cannot be reached, and to `default` when the toggle is unknown or
    /// nothing could ever be fetched.
    pub async fn feature_toggle_state(
        &self,
        settings: Option<&UnleashSettings>,
        name: &str,
        context: &Context,
        default: bool,
    ) -> bool {
        let Some(settings) = settings else {
            // Upstream `get_feature_toggle_default`: no Unleash means enabled, whatever
            // `default` says.
            return true;
        };
        let features = match Self::fetch(settings).await {
            Ok(features) => {
                *self.lock() = Some((settings.clone(), features.clone()));
                Some(features)
            }
            Err(e) => {
                let cached = self
                    .lock()
                    .as_ref()
                    .filter(|(s, _)| s == settings)
                    .map(|(_, f)| f.clone());
                match &cached {
                    Some(_) => tracing::warn!(
                        "unleash: cannot fetch feature toggles: {e}; using the toggles fetched last"
                    ),
                    None => tracing::warn!(
                        "unleash: cannot fetch feature toggles: {e}; feature toggle {name:?} \
                         defaults to {}",
                        if default { "enabled" } else { "disabled" }
                    ),
                }
                cached
            }
        };
        match features {
            Some(f) => f.is_enabled(name, context, default),
            None => default,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(UnleashSettings, ClientFeatures)>> {
        self.last_known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn features(v: Value) -> ClientFeatures {
        serde_json::from_value(v).unwrap()
    }

    fn state(doc: &ClientFeatures, name: &str) -> bool {
        doc.is_enabled(name, &Context::new(), true)
    }

    #[test]
    fn settings_need_both_variables() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(UnleashSettings::from_env(env(&[])), None);
        assert_eq!(
            UnleashSettings::from_env(env(&[(UNLEASH_API_URL, "http://u/api")])),
            None
        );
        assert_eq!(
            UnleashSettings::from_env(env(&[
                (UNLEASH_API_URL, "http://u/api"),
                (UNLEASH_CLIENT_ACCESS_TOKEN, "")
            ])),
            None
        );
        let s = UnleashSettings::from_env(env(&[
            (UNLEASH_API_URL, "http://u/api/"),
            (UNLEASH_CLIENT_ACCESS_TOKEN, "tok-secret"),
        ]))
        .unwrap();
        assert_eq!(s.features_url(), "http://u/api/client/features");
        assert!(!format!("{s:?}").contains("tok-secret"));
    }

    #[test]
    fn unknown_toggle_gives_the_default_and_disabled_is_off() {
        let doc = features(json!({"features": [
            {"name": "off", "enabled": false, "strategies": [{"name": "default"}]},
            {"name": "on", "enabled": true, "strategies": [{"name": "default"}]},
            {"name": "bare", "enabled": true, "strategies": []},
            {"name": "only-unknown", "enabled": true, "strategies": [{"name": "myCustom"}]},
        ]}));
        assert!(state(&doc, "unknown"));
        assert!(!doc.is_enabled("unknown", &Context::new(), false));
        assert!(!state(&doc, "off"));
        assert!(state(&doc, "on"));
        assert!(state(&doc, "bare"));
        // The loader drops strategies it does not know; no strategy left means on.
        assert!(state(&doc, "only-unknown"));
    }

    #[test]
    fn flexible_rollout_as_the_server_creates_it() {
        // The shape unleash-server 7 serves for a toggle enabled in the admin UI/API.
        let doc = features(json!({"version": 2, "features": [
            {"name": "full", "type": "release", "enabled": true, "project": "default", "stale": false,
             "strategies": [{"name": "flexibleRollout", "constraints": [],
               "parameters": {"groupId": "full", "rollout": "100", "stickiness": "default"}, "variants": []}],
             "variants": [], "description": null, "impressionData": false},
            {"name": "none", "enabled": true,
             "strategies": [{"name": "flexibleRollout",
               "parameters": {"groupId": "none", "rollout": "0", "stickiness": "default"}}]},
            {"name": "no-group", "enabled": true,
             "strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "100"}}]},
        ], "query": {"environment": "development"}, "meta": {"revisionId": 9}}));
        assert!(state(&doc, "full"));
        assert!(!state(&doc, "none"));
        // Upstream reads parameters["groupId"]: a KeyError turns the toggle off.
        assert!(!state(&doc, "no-group"));
    }

    #[test]
    fn constraints_on_the_static_context() {
        let doc = features(json!({"features": [
            {"name": "app-in", "enabled": true, "strategies": [{"name": "default",
               "constraints": [{"contextName": "appName", "operator": "IN", "values": ["qontract-reconcile"]}]}]},
            {"name": "app-not", "enabled": true, "strategies": [{"name": "default",
               "constraints": [{"contextName": "appName", "operator": "IN", "values": ["other"]}]}]},
            {"name": "inverted", "enabled": true, "strategies": [{"name": "default",
               "constraints": [{"contextName": "environment", "operator": "IN", "values": ["default"], "inverted": true}]}]},
            {"name": "missing-not-in", "enabled": true, "strategies": [{"name": "default",
               "constraints": [{"contextName": "userId", "operator": "NOT_IN", "values": ["x"]}]}]},
            {"name": "missing-in", "enabled": true, "strategies": [{"name": "default",
               "constraints": [{"contextName": "userId", "operator": "IN", "values": ["x"]}]}]},
            {"name": "starts", "enabled": true, "strategies": [{"name": "default",
               "constraints": [{"contextName": "appName", "operator": "STR_STARTS_WITH", "values": ["QONTRACT"], "caseInsensitive": true}]}]},
            {"name": "segment", "enabled": true, "strategies": [{"name": "default", "segments": [7]}]},
            {"name": "bad-segment", "enabled": true, "strategies": [{"name": "default", "segments": [8]}]},
        ], "segments": [{"id": 7, "constraints": [{"contextName": "appName", "operator": "NOT_IN", "values": ["qontract-reconcile"]}]}]}));
        assert!(state(&doc, "app-in"));
        assert!(!state(&doc, "app-not"));
        assert!(!state(&doc, "inverted"));
        assert!(state(&doc, "missing-not-in"));
        assert!(!state(&doc, "missing-in"));
        assert!(state(&doc, "starts"));
        assert!(!state(&doc, "segment"));
        assert!(!state(&doc, "bad-segment"));
    }

    #[test]
    fn cluster_strategies_and_context_only_strategies() {
        let doc = features(json!({"features": [
            {"name": "enable", "enabled": true, "strategies": [{"name": "enableCluster", "parameters": {"cluster_name": "a, b"}}]},
            {"name": "disable", "enabled": true, "strategies": [{"name": "disableCluster", "parameters": {"cluster_name": "a,b"}}]},
            {"name": "users", "enabled": true, "strategies": [{"name": "userWithId", "parameters": {"userIds": "u1"}}]},
            // An evaluation error stops the loop: the later default strategy is not reached.
            {"name": "remote-then-default", "enabled": true, "strategies": [
                {"name": "remoteAddress", "parameters": {"IPs": "10.0.0.1"}}, {"name": "default"}]},
            {"name": "default-then-remote", "enabled": true, "strategies": [
                {"name": "default"}, {"name": "remoteAddress", "parameters": {"IPs": "10.0.0.1"}}]},
        ]}));
        assert!(!state(&doc, "enable"));
        assert!(doc.is_enabled("enable", &Context::new().with_cluster_name("b"), true));
        assert!(state(&doc, "disable"));
        assert!(!doc.is_enabled("disable", &Context::new().with_cluster_name("a"), true));
        assert!(doc.is_enabled("disable", &Context::new().with_cluster_name("c"), true));
        assert!(!state(&doc, "users"));
        assert!(!state(&doc, "remote-then-default"));
        assert!(state(&doc, "default-then-remote"));
    }

    #[test]
    fn dependencies_on_parent_toggles() {
        let doc = features(json!({"features": [
            {"name": "parent-on", "enabled": true, "strategies": []},
            {"name": "parent-off", "enabled": false, "strategies": []},
            {"name": "needs-on", "enabled": true, "dependencies": [{"feature": "parent-on"}]},
            {"name": "needs-off-parent", "enabled": true, "dependencies": [{"feature": "parent-off"}]},
            {"name": "needs-parent-disabled", "enabled": true, "dependencies": [{"feature": "parent-off", "enabled": false}]},
            {"name": "needs-missing", "enabled": true, "dependencies": [{"feature": "gone"}]},
        ]}));
        assert!(state(&doc, "needs-on"));
        assert!(!state(&doc, "needs-off-parent"));
        assert!(state(&doc, "needs-parent-disabled"));
        assert!(state(&doc, "needs-missing"));
        assert!(!doc.is_enabled("needs-missing", &Context::new(), false));
    }
}
