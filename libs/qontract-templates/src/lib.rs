//! The jinja2 templates of app-interface (`resource-template` and `prometheus-rule`
//! openshiftResources), rendered as upstream's `reconcile/utils/jinja2` renders them.
//!
//! Upstream (`utils.py`: `process_jinja2_template`, `process_extracurlyjinja2_template`,
//! `compile_jinja2_template`) renders with a Jinja2 `SandboxedEnvironment` configured with
//! `undefined=StrictUndefined`, `trim_blocks`, `lstrip_blocks` and `keep_trailing_newline` all
//! false by default, the `b64encode` and `raise_error` tag extensions, and these additions:
//!
//! * filters: `json_to_dict`, `yaml_to_dict`, `urlescape`, `urlunescape`, `eval`,
//!   `extract_jsonpath`, `matches_jsonpath`, `json_pointers`, `str_format`;
//! * functions (passed as template variables, so they win over a variable of the same name):
//!   `vault`, `github`, `urlescape`, `urlunescape`, `hash_list`, `query`, `url`, `s3`, `s3_ls`,
//!   `flatten_dict`, `yesterday`, `sloth_alerts`; and `_template_mocks` (each entry becomes a
//!   function returning the mocked value).
//!
//! The `extracurlyjinja2` flavour uses `{{{ }}}`, `{{% %}}` and `{{# #}}` as delimiters.
//!
//! This crate reproduces that on MiniJinja: values print as Python's `str()` (`True`, `None`,
//! `['a', 'b']`), `tojson`/`join`/`string`/`urlencode` behave like Jinja2's, Python's string and
//! dict methods work (`.items()`, `.split()`, `.startswith()`...), and the two tag extensions
//! are supported. Helpers that need I/O go through the synchronous [`TemplateContext`]; the
//! [`TokioContext`] adapter serves them from a secret reader and a GraphQL client (render on a
//! blocking thread, e.g. `tokio::task::spawn_blocking`). `github` and `sloth_alerts` are not
//! available: calling them is an error naming the helper.
//!
//! Known differences from Jinja2 (each fails or is rare; none renders other text silently
//! except the first):
//!
//! * Python tuples print as lists: `{{ d.items() | list }}` or `{{ d | dictsort }}` printed
//!   whole show `[['a', 1]]` where Jinja2 shows `[('a', 1)]` (iterating them is the same).
//! * The `%` string-formatting operator (`'%s' % x`) fails; the `format` and `str_format`
//!   filters work.
//! * Filters `wordwrap`, `filesizeformat`, `striptags`, `urlize`, `xmlattr`, `random` and the
//!   global `lipsum` are unknown (an error); `pprint` fails for values longer than 80
//!   characters.
//! * `extract_jsonpath` & co. support the `jsonpath_ng` subset listed in [`JsonPath`]; other
//!   syntax (`where`, arithmetic, sorting, `len`) is a parse error naming the expression.

mod context;
mod filters;
mod helpers;
mod jsonpath;
mod pyfmt;
mod tags;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, UndefinedBehavior, Value};

pub use context::{
    AwsAccountProblem, ContextError, NoContext, SecretSource, TemplateContext, TokioContext,
};
pub use jsonpath::{FindError, JsonPath, JsonPathError};

/// The template flavours of app-interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavour {
    /// `jinja2`: `{{ }}`, `{% %}`, `{# #}`.
    Jinja2,
    /// `extracurlyjinja2`: `{{{ }}}`, `{{% %}}`, `{{# #}}` (upstream
    /// `process_extracurlyjinja2_template`).
    ExtraCurlyJinja2,
}

/// Upstream's `TemplateRenderOptions` (all false unless set).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct RenderOptions {
    /// Remove the first newline after a block tag.
    pub trim_blocks: bool,
    /// Strip whitespace before a block tag at the start of a line.
    pub lstrip_blocks: bool,
    /// Keep the template's final newline (Jinja2 drops it by default).
    pub keep_trailing_newline: bool,
}

/// A template that cannot be rendered. The message reads like upstream's
/// `Jinja2TemplateError` (`error processing jinja2 template: ...`); callers add the template's
/// path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("error processing jinja2 template: {message}")]
pub struct TemplateError {
    message: String,
}

impl TemplateError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// The message without the `error processing jinja2 template: ` prefix.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<tags::TagError> for TemplateError {
    fn from(error: tags::TagError) -> Self {
        Self::new(error.to_string())
    }
}

impl From<TemplateError> for String {
    fn from(error: TemplateError) -> Self {
        error.to_string()
    }
}

/// Why the `variables` of an openshiftResource cannot be used (upstream
/// `anymarkup.parse(variables, force_types=None)` failing or giving no mapping).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VariablesError {
    /// The variables are not YAML (or JSON).
    #[error("template variables cannot be parsed: {error}")]
    Unparsable {
        /// The parser's error (line and column).
        error: qontract_yaml::YamlError,
    },
    /// The variables parse to something else than a mapping (shown as Python's `str()`).
    #[error("template variables are not a mapping: {value}")]
    NotAMapping {
        /// The parsed value.
        value: String,
    },
}

impl From<VariablesError> for String {
    fn from(error: VariablesError) -> Self {
        error.to_string()
    }
}

/// The helpers upstream registers that this crate cannot serve (calling one is an error).
pub const UNSUPPORTED_HELPERS: &[&str] = &["github", "sloth_alerts"];

/// Names upstream adds to the template variables (they replace user variables of the same
/// name, as `vars.update(...)` does upstream).
pub(crate) const HELPER_NAMES: &[&str] = &[
    "vault",
    "github",
    "urlescape",
    "urlunescape",
    "hash_list",
    "query",
    "url",
    "s3",
    "s3_ls",
    "flatten_dict",
    "yesterday",
    "sloth_alerts",
];

type SecretFields = Arc<BTreeMap<String, String>>;
type VaultCache = HashMap<(String, Option<u64>), Option<SecretFields>>;

/// The per-run cache of external lookups (upstream `Jinja2TemplateCache`): one secret read per
/// `(path, version)`, one GraphQL query per `(query file, arguments)`, one S3 read or listing
/// per `(account, bucket, path, region)`. Failures are not cached.
#[derive(Default)]
pub(crate) struct Cache {
    pub(crate) vault: Mutex<VaultCache>,
    pub(crate) query: Mutex<HashMap<(String, String), serde_json::Value>>,
    pub(crate) url: Mutex<HashMap<String, bool>>,
}

pub(crate) struct Shared {
    pub(crate) ctx: Arc<dyn TemplateContext>,
    pub(crate) cache: Cache,
}

/// Renders templates for one run: holds the [`TemplateContext`] and the run's lookup cache.
/// Cheap to clone (shared state).
#[derive(Clone)]
pub struct Renderer {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer").finish_non_exhaustive()
    }
}

impl Default for Renderer {
    /// A renderer whose I/O helpers (`vault`, `query`, `url`) are unavailable.
    fn default() -> Self {
        Self::new(Arc::new(NoContext))
    }
}

impl Renderer {
    /// A renderer whose I/O helpers are served by `ctx`.
    pub fn new(ctx: Arc<dyn TemplateContext>) -> Self {
        Self {
            shared: Arc::new(Shared {
                ctx,
                cache: Cache::default(),
            }),
        }
    }

    /// Render `body` with `vars` (upstream `process_jinja2_template` /
    /// `process_extracurlyjinja2_template`). Must not be called on an async runtime thread
    /// when the context blocks on async I/O (see [`TokioContext`]).
    pub fn render(
        &self,
        body: &str,
        vars: serde_json::Map<String, serde_json::Value>,
        flavour: Flavour,
        options: RenderOptions,
    ) -> Result<String, TemplateError> {
        let vars = build_vars(vars);
        render_with(&self.shared, body, &vars, flavour, options)
    }
}

/// The template variables as upstream passes them: the user variables minus the names the
/// helpers take over; `_template_mocks` is kept (it is read when the environment is built).
fn build_vars(mut vars: serde_json::Map<String, serde_json::Value>) -> Value {
    for name in HELPER_NAMES {
        vars.remove(*name);
    }
    crate::pyfmt::from_json(&serde_json::Value::Object(vars))
}

/// Parse `variables` of an openshiftResource as upstream does
/// (`anymarkup.parse(variables, force_types=None)`, which reads JSON text as YAML with PyYAML's
/// safe loader). Empty or absent variables are an empty map.
pub fn parse_variables(
    variables: Option<&str>,
) -> Result<serde_json::Map<String, serde_json::Value>, VariablesError> {
    let Some(text) = variables.filter(|t| !t.trim().is_empty()) else {
        return Ok(serde_json::Map::new());
    };
    match qontract_yaml::load(text) {
        Ok(Some(serde_json::Value::Object(map))) => Ok(map),
        Ok(None) => Ok(serde_json::Map::new()),
        Ok(Some(other)) => Err(VariablesError::NotAMapping {
            value: qontract_pyjson::python_str(&other),
        }),
        Err(error) => Err(VariablesError::Unparsable { error }),
    }
}

/// The variables of a `resource-template` / templated `prometheus-rule`, built like upstream
/// `fetch_openshift_resource`: the parsed `variables`, then `resource` = the openshiftResource
/// entry as queried, with `resource.namespace` = the namespace it belongs to.
///
/// Upstream's `resource.namespace` is the very namespace dict holding the resource, so
/// `resource.namespace.openshiftResources[i]` points back to the namespace again; here the
/// namespace's `openshiftResources` entries carry no `namespace` key (one level, no cycle).
pub fn resource_template_vars(
    variables: Option<&str>,
    resource: &serde_json::Value,
    namespace: &serde_json::Value,
) -> Result<serde_json::Map<String, serde_json::Value>, VariablesError> {
    let mut vars = parse_variables(variables)?;
    let mut entry = resource.clone();
    if let serde_json::Value::Object(map) = &mut entry {
        map.insert("namespace".to_owned(), namespace.clone());
    }
    vars.insert("resource".to_owned(), entry);
    Ok(vars)
}

/// Render `body` with already-built `vars` (also used for the nested renders of `vault()`'s
/// arguments, which upstream renders as plain `jinja2` with default options).
pub(crate) fn render_with(
    shared: &Arc<Shared>,
    body: &str,
    vars: &Value,
    flavour: Flavour,
    options: RenderOptions,
) -> Result<String, TemplateError> {
    let env = environment(shared, vars, flavour, options)?;
    let source = tags::rewrite(body, flavour)?;
    let template = env
        .template_from_str(&source)
        .map_err(|e| TemplateError::new(describe(&e, &source, None)))?;
    template
        .render(vars)
        .map_err(|e| TemplateError::new(describe(&e, &source, Some((&template, vars, &env)))))
}

/// An error message in Jinja2's words where they differ (`'x' is undefined`).
fn describe(
    error: &minijinja::Error,
    source: &str,
    template: Option<(&minijinja::Template<'_, '_>, &Value, &Environment<'_>)>,
) -> String {
    use minijinja::ErrorKind;
    let mut text = match (error.kind(), error.detail()) {
        (ErrorKind::UndefinedError, detail) => {
            let mut names: Vec<String> = Vec::new();
            if let Some((template, vars, env)) = template {
                let mut undeclared: Vec<String> =
                    template.undeclared_variables(false).into_iter().collect();
                undeclared.sort();
                for name in undeclared {
                    let known = vars.get_attr(&name).is_ok_and(|v| !v.is_undefined())
                        || env.globals().any(|(n, _)| n == name);
                    if !known {
                        names.push(format!("'{name}' is undefined"));
                    }
                }
            }
            let expression = error
                .range()
                .and_then(|r| source.get(r))
                .map(|e| format!(" in `{e}`"))
                .unwrap_or_default();
            match (names.is_empty(), detail) {
                (false, _) => names.join(", "),
                (true, Some(d)) => format!("undefined value{expression}: {d}"),
                (true, None) => format!("undefined value{expression}"),
            }
        }
        (ErrorKind::InvalidOperation, Some(detail)) => detail.to_owned(),
        (kind, Some(detail)) => format!("{kind}: {detail}"),
        (kind, None) => kind.to_string(),
    };
    if let Some(line) = error.line() {
        text.push_str(&format!(" (template line {line})"));
    }
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// The environment of upstream's `compile_jinja2_template`, on MiniJinja.
fn environment(
    shared: &Arc<Shared>,
    vars: &Value,
    flavour: Flavour,
    options: RenderOptions,
) -> Result<Environment<'static>, TemplateError> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    let mut syntax = SyntaxConfig::builder();
    if flavour == Flavour::ExtraCurlyJinja2 {
        syntax
            .block_delimiters("{{%", "%}}")
            .variable_delimiters("{{{", "}}}")
            .comment_delimiters("{{#", "#}}");
    }
    syntax
        .trim_blocks(options.trim_blocks)
        .lstrip_blocks(options.lstrip_blocks)
        .keep_trailing_newline(options.keep_trailing_newline);
    env.set_syntax(
        syntax
            .build()
            .map_err(|e| TemplateError::new(format!("invalid template syntax: {e}")))?,
    );
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.set_formatter(pyfmt::formatter);
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    filters::register(&mut env);
    helpers::register(&mut env, shared, vars);
    Ok(env)
}

#[cfg(test)]
mod tests;
