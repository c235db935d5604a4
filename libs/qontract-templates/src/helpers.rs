//! The functions upstream's `process_jinja2_template` adds to the template variables.

use std::sync::Arc;

use minijinja::value::{Kwargs, Rest, ValueKind};
use minijinja::{Environment, Error, ErrorKind, Value};
use sha2::Digest as _;

use crate::filters::{check_encoding, invalid, plain_render, quote, unquote};
use crate::pyfmt::{from_json, py_repr, py_str, to_json};
use crate::{Flavour, RenderOptions, Shared, tags};

pub(crate) fn register(env: &mut Environment<'static>, shared: &Arc<Shared>, vars: &Value) {
    {
        let shared = Arc::clone(shared);
        let vars = vars.clone();
        env.add_function("vault", move |args: Rest<Value>, kwargs: Kwargs| {
            vault(&shared, &vars, &args, &kwargs)
        });
    }
    {
        let shared = Arc::clone(shared);
        env.add_function("query", move |args: Rest<Value>, kwargs: Kwargs| {
            query(&shared, &args, &kwargs)
        });
    }
    {
        let shared = Arc::clone(shared);
        env.add_function("url", move |url: Value| url_makes_sense(&shared, &url));
    }
    env.add_function("urlescape", urlescape);
    env.add_function("urlunescape", urlunescape);
    env.add_function("hash_list", hash_list);
    env.add_function("flatten_dict", flatten_dict);
    env.add_function("yesterday", yesterday);
    {
        let shared = Arc::clone(shared);
        env.add_function("s3", move |args: Rest<Value>, kwargs: Kwargs| {
            s3(&shared, &args, &kwargs, false)
        });
    }
    {
        let shared = Arc::clone(shared);
        env.add_function("s3_ls", move |args: Rest<Value>, kwargs: Kwargs| {
            s3(&shared, &args, &kwargs, true)
        });
    }
    for (name, what) in [
        ("github", "reads a file from GitHub"),
        ("sloth_alerts", "runs the sloth binary"),
    ] {
        env.add_function(
            name,
            move |_args: Rest<Value>, _kwargs: Kwargs| -> Result<Value, Error> {
                Err(invalid(format!(
                    "template helper {name}() is not supported by qontract-reconcile-rs \
                 (upstream's {name}() {what}); render this resource with the Python tool or \
                 replace the call"
                )))
            },
        );
    }
    // Jinja2's default globals that MiniJinja lacks.
    env.add_function("joiner", |sep: Option<String>| {
        Value::from_object(Joiner {
            separator: sep.unwrap_or_else(|| ", ".to_owned()),
            used: std::sync::atomic::AtomicBool::new(false),
        })
    });
    env.add_function("cycler", |items: Rest<Value>| {
        Value::from_object(Cycler {
            items: items.0,
            position: std::sync::atomic::AtomicUsize::new(0),
        })
    });
    env.add_function(
        tags::RAISE_ERROR_FUNCTION,
        |message: Value| -> Result<Value, Error> {
            Err(Error::new(ErrorKind::InvalidOperation, py_str(&message)))
        },
    );
    // `_template_mocks`: every entry becomes a function. Upstream's lambdas close over the loop
    // variable, so every mock returns the value of the last entry; so do these.
    if let Ok(mocks) = vars.get_attr("_template_mocks")
        && mocks.kind() == ValueKind::Map
        && let Ok(keys) = mocks.try_iter()
    {
        let keys: Vec<Value> = keys.collect();
        let last = keys
            .last()
            .and_then(|k| mocks.get_item(k).ok())
            .unwrap_or_default();
        for key in keys {
            let name = py_str(&key);
            let mocked = last.clone();
            env.add_function(name, move |_args: Rest<Value>, _kwargs: Kwargs| {
                Ok::<Value, Error>(mocked.clone())
            });
        }
    }
}

/// Positional-or-keyword arguments of a Python lambda.
fn argument(
    args: &[Value],
    kwargs: &Kwargs,
    index: usize,
    name: &str,
) -> Result<Option<Value>, Error> {
    let keyword: Option<Value> = kwargs.get(name)?;
    match (args.get(index), keyword) {
        (Some(_), Some(_)) => Err(Error::new(
            ErrorKind::TooManyArguments,
            format!("got multiple values for argument '{name}'"),
        )),
        (Some(v), None) => Ok(Some(v.clone())),
        (None, v) => Ok(v),
    }
}

fn required(value: Option<Value>, helper: &str, name: &str) -> Result<Value, Error> {
    value.ok_or_else(|| {
        Error::new(
            ErrorKind::MissingArgument,
            format!("{helper}() missing required argument: '{name}'"),
        )
    })
}

/// `vault(path, key, version=None, allow_not_found=False)`: upstream `lookup_secret`. The path,
/// key and a string version are themselves rendered as `jinja2` templates with the same
/// variables; `LATEST` means the latest version.
fn vault(
    shared: &Arc<Shared>,
    vars: &Value,
    args: &[Value],
    kwargs: &Kwargs,
) -> Result<Value, Error> {
    if args.len() > 4 {
        return Err(Error::new(
            ErrorKind::TooManyArguments,
            "vault() takes at most 4 arguments",
        ));
    }
    let path = required(argument(args, kwargs, 0, "p")?, "vault", "p")?;
    let key = required(argument(args, kwargs, 1, "k")?, "vault", "k")?;
    let version = argument(args, kwargs, 2, "v")?;
    let allow_not_found =
        argument(args, kwargs, 3, "allow_not_found")?.is_some_and(|v| v.is_true());
    kwargs.assert_all_used()?;

    let nested = |body: &str| -> Result<String, Error> {
        crate::render_with(
            shared,
            body,
            vars,
            Flavour::Jinja2,
            RenderOptions::default(),
        )
        .map_err(|e| invalid(e.message().to_owned()))
    };
    let path = nested(&py_str(&path))?;
    let key = nested(&py_str(&key))?;
    let mut version_text: Option<String> = match &version {
        None => None,
        Some(v) if v.is_none() => None,
        Some(v) if !v.is_true() => Some(py_str(v)),
        Some(v) if v.is_integer() => Some(py_str(v)),
        Some(v) => Some(nested(&py_str(v))?),
    };
    if version_text
        .as_deref()
        .is_some_and(|v| v.eq_ignore_ascii_case("latest"))
    {
        version_text = None;
    }
    let version: Option<u64> = match &version_text {
        None => None,
        Some(text) => Some(text.trim().parse::<u64>().map_err(|_| {
            invalid(format!(
                "error fetching secret: version {} of secret {path} is not a number",
                py_repr(&Value::from(text.as_str()))
            ))
        })?),
    };

    let cache_key = (path.clone(), version);
    let cached = shared
        .cache
        .vault
        .lock()
        .ok()
        .and_then(|c| c.get(&cache_key).cloned());
    let data = match cached {
        Some(data) => data,
        None => {
            let data = shared
                .ctx
                .read_secret(&path, version)
                .map_err(|e| invalid(format!("error fetching secret: {e}")))?
                .map(Arc::new);
            if let Ok(mut c) = shared.cache.vault.lock() {
                c.insert(cache_key, data.clone());
            }
            data
        }
    };
    let Some(data) = data else {
        if allow_not_found {
            return Ok(Value::from(()));
        }
        return Err(invalid(format!(
            "error fetching secret: secret not found: {path}"
        )));
    };
    match data.get(&key) {
        Some(value) => Ok(Value::from(value.as_str())),
        None if allow_not_found => Ok(Value::from(())),
        None => Err(invalid(format!(
            "error fetching secret: secret field not found: {path}/{key}"
        ))),
    }
}

/// `query(query_file, **kwargs)`: upstream `lookup_graphql_query_results`: the query file's
/// content (`resources_v1`) rendered with `kwargs` by a default Jinja2 environment, run, and
/// the first value of its `data`.
fn query(shared: &Arc<Shared>, args: &[Value], kwargs: &Kwargs) -> Result<Value, Error> {
    let [file] = args else {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "query() takes exactly one positional argument (the query file's path)",
        ));
    };
    let file = py_str(file);
    let mut vars = serde_json::Map::new();
    for name in kwargs.args() {
        let value: Value = kwargs.get(name)?;
        vars.insert(name.to_owned(), to_json(&value));
    }
    kwargs.assert_all_used()?;
    let key = (
        file.clone(),
        qontract_pyjson::dumps_sorted(&serde_json::Value::Object(vars.clone())),
    );
    if let Some(hit) = shared
        .cache
        .query
        .lock()
        .ok()
        .and_then(|c| c.get(&key).cloned())
    {
        return Ok(from_json(&hit));
    }
    let content = shared
        .ctx
        .resource_content(&file)
        .map_err(|e| invalid(format!("query({file:?}): {e}")))?;
    let text = plain_render(
        &content,
        &crate::pyfmt::from_json(&serde_json::Value::Object(vars)),
    )
    .map_err(|e| invalid(format!("query({file:?}): rendering the query: {e}")))?;
    let data = shared
        .ctx
        .graphql(&text)
        .map_err(|e| invalid(format!("query({file:?}): {e}")))?;
    let first = match &data {
        serde_json::Value::Object(map) => map.values().next().cloned(),
        _ => None,
    }
    .ok_or_else(|| invalid(format!("query({file:?}): the query returned no data")))?;
    if let Ok(mut c) = shared.cache.query.lock() {
        c.insert(key, first.clone());
    }
    Ok(from_json(&first))
}

/// `s3(a, b, p, r=None)` / `s3_ls(a, b, p, r=None)`: upstream `lookup_s3_object` /
/// `list_s3_objects` (account, bucket, key or prefix, region), cached per run.
fn s3(shared: &Arc<Shared>, args: &[Value], kwargs: &Kwargs, list: bool) -> Result<Value, Error> {
    let helper = if list { "s3_ls" } else { "s3" };
    if args.len() > 4 {
        return Err(Error::new(
            ErrorKind::TooManyArguments,
            format!("{helper}() takes at most 4 arguments"),
        ));
    }
    let account = py_str(&required(argument(args, kwargs, 0, "a")?, helper, "a")?);
    let bucket = py_str(&required(argument(args, kwargs, 1, "b")?, helper, "b")?);
    let path = py_str(&required(argument(args, kwargs, 2, "p")?, helper, "p")?);
    let region = argument(args, kwargs, 3, "r")?
        .filter(|r| !r.is_none())
        .map(|r| py_str(&r));
    kwargs.assert_all_used()?;
    let key = (
        helper.to_owned(),
        qontract_pyjson::dumps_sorted(&serde_json::json!([account, bucket, path, region])),
    );
    if let Some(hit) = shared
        .cache
        .query
        .lock()
        .ok()
        .and_then(|c| c.get(&key).cloned())
    {
        return Ok(from_json(&hit));
    }
    let result = if list {
        shared
            .ctx
            .s3_list(&account, &bucket, &path, region.as_deref())
            .map(|keys| serde_json::json!(keys))
    } else {
        shared
            .ctx
            .s3_object(&account, &bucket, &path, region.as_deref())
            .map(serde_json::Value::String)
    }
    .map_err(|e| invalid(format!("{helper}(): {e}")))?;
    if let Ok(mut c) = shared.cache.query.lock() {
        c.insert(key, result.clone());
    }
    Ok(from_json(&result))
}

/// `url(u)`: upstream `checkpoint.url_makes_sense` (a GET answering below 404).
fn url_makes_sense(shared: &Arc<Shared>, url: &Value) -> Result<Value, Error> {
    let url = py_str(url).trim().to_owned();
    if url.is_empty() {
        return Ok(Value::from(false));
    }
    if let Some(hit) = shared
        .cache
        .url
        .lock()
        .ok()
        .and_then(|c| c.get(&url).copied())
    {
        return Ok(Value::from(hit));
    }
    let answer = shared
        .ctx
        .url_makes_sense(&url)
        .map_err(|e| invalid(format!("url({url:?}): {e}")))?;
    if let Ok(mut c) = shared.cache.url.lock() {
        c.insert(url, answer);
    }
    Ok(Value::from(answer))
}

/// `urlescape(u, s="/", e=None)`.
fn urlescape(args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    if args.len() > 3 {
        return Err(Error::new(
            ErrorKind::TooManyArguments,
            "urlescape() takes at most 3 arguments",
        ));
    }
    let text = required(argument(&args, &kwargs, 0, "u")?, "urlescape", "u")?;
    let safe = argument(&args, &kwargs, 1, "s")?;
    let encoding = argument(&args, &kwargs, 2, "e")?;
    kwargs.assert_all_used()?;
    check_encoding(encoding.as_ref(), "urlescape")?;
    let text = text.as_str().ok_or_else(|| {
        invalid(format!(
            "urlescape: expected a string, got {}",
            py_repr(&text)
        ))
    })?;
    let safe = safe.map(|s| py_str(&s)).unwrap_or_else(|| "/".to_owned());
    Ok(Value::from(quote(text, &safe)))
}

/// `urlunescape(u, e=None)`.
fn urlunescape(args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    if args.len() > 2 {
        return Err(Error::new(
            ErrorKind::TooManyArguments,
            "urlunescape() takes at most 2 arguments",
        ));
    }
    let text = required(argument(&args, &kwargs, 0, "u")?, "urlunescape", "u")?;
    let encoding = argument(&args, &kwargs, 1, "e")?;
    kwargs.assert_all_used()?;
    check_encoding(encoding.as_ref(), "urlunescape")?;
    let text = text.as_str().ok_or_else(|| {
        invalid(format!(
            "urlunescape: expected a string, got {}",
            py_repr(&text)
        ))
    })?;
    Ok(Value::from(unquote(text)))
}

/// `hash_list(input)`: sha256 of `"a"` + the sorted `str()` of the (primitive) items.
fn hash_list(input: Value) -> Result<Value, Error> {
    let items: Vec<Value> = input.try_iter()?.collect();
    let mut texts = Vec::with_capacity(items.len());
    for item in &items {
        if matches!(item.kind(), ValueKind::Seq | ValueKind::Map) {
            return Err(invalid(format!(
                "jinja2 hash_list function received non-primitive value {}. All values received {}",
                py_str(item),
                py_str(&Value::from(items.clone()))
            )));
        }
        texts.push(py_str(item));
    }
    texts.sort();
    let mut message = String::from("a");
    message.push_str(&texts.concat());
    let digest = sha2::Sha256::digest(message.as_bytes());
    Ok(Value::from(
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>(),
    ))
}

/// `flatten_dict(d, parent_key="", sep=".")`: upstream `helpers.flatten`.
fn flatten_dict(d: Value, parent_key: Option<String>, sep: Option<String>) -> Result<Value, Error> {
    let mut out: Vec<(String, String)> = Vec::new();
    flatten_into(
        &d,
        parent_key.as_deref().unwrap_or(""),
        sep.as_deref().unwrap_or("."),
        &mut out,
    )?;
    // Later duplicates win, at the position of the first (Python dict semantics).
    let mut map = serde_json::Map::new();
    for (k, v) in out {
        map.insert(k, serde_json::Value::String(v));
    }
    Ok(from_json(&serde_json::Value::Object(map)))
}

fn flatten_into(
    d: &Value,
    parent: &str,
    sep: &str,
    out: &mut Vec<(String, String)>,
) -> Result<(), Error> {
    if d.kind() != ValueKind::Map {
        return Err(invalid(format!(
            "flatten_dict: expected a mapping, got {}",
            py_repr(d)
        )));
    }
    for key in d.try_iter()? {
        let value = d.get_item(&key)?;
        if value.is_none() || value.is_undefined() {
            continue;
        }
        let key = py_str(&key);
        let new_key = if parent.is_empty() {
            key
        } else {
            format!("{parent}{sep}{key}")
        };
        if value.kind() == ValueKind::Map {
            flatten_into(&value, &new_key, sep, out)?;
        } else {
            out.push((new_key, py_str(&value)));
        }
    }
    Ok(())
}

/// `yesterday()`: the UTC date of 24 hours ago, `%Y-%m-%d`.
fn yesterday() -> Result<Value, Error> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| invalid(format!("yesterday: {e}")))?
        .as_secs();
    let days = i64::try_from(now / 86_400).unwrap_or(0) - 1;
    let (y, m, d) = civil_from_days(days);
    Ok(Value::from(format!("{y:04}-{m:02}-{d:02}")))
}

/// Days since 1970-01-01 → (year, month, day) (Howard Hinnant's algorithm).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

/// Jinja2's `joiner(sep=", ")`: a callable returning `""` the first time, `sep` afterwards.
#[derive(Debug)]
struct Joiner {
    separator: String,
    used: std::sync::atomic::AtomicBool,
}

impl minijinja::value::Object for Joiner {
    fn call(
        self: &Arc<Self>,
        _state: &mut minijinja::State<'_, '_>,
        _args: &[Value],
    ) -> Result<Value, Error> {
        if self.used.swap(true, std::sync::atomic::Ordering::SeqCst) {
            Ok(Value::from(self.separator.as_str()))
        } else {
            Ok(Value::from(""))
        }
    }
}

/// Jinja2's `cycler(*items)`: `next()`, `current`, `reset()`.
#[derive(Debug)]
struct Cycler {
    items: Vec<Value>,
    position: std::sync::atomic::AtomicUsize,
}

impl minijinja::value::Object for Cycler {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "current" => self
                .items
                .get(self.position.load(std::sync::atomic::Ordering::SeqCst))
                .cloned(),
            _ => None,
        }
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut minijinja::State<'_, '_>,
        method: &str,
        _args: &[Value],
    ) -> Result<Value, Error> {
        use std::sync::atomic::Ordering::SeqCst;
        match method {
            "next" => {
                if self.items.is_empty() {
                    return Err(invalid("cycler() has no items"));
                }
                let at = self.position.load(SeqCst);
                self.position.store((at + 1) % self.items.len(), SeqCst);
                Ok(self.items[at].clone())
            }
            "reset" => {
                self.position.store(0, SeqCst);
                Ok(Value::from(()))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}
