//! Filters: upstream's (`filters.py`, registered in `compile_jinja2_template`) and the Jinja2
//! built-ins whose output differs from MiniJinja's.

use base64::Engine as _;
use minijinja::value::{Kwargs, Rest, ValueKind};
use minijinja::{Environment, Error, ErrorKind, State, Value};

use crate::pyfmt::{from_json, py_repr, py_str, to_json};
use crate::{jsonpath, tags};

/// Why Python's `format % args` fails (the `format` and `str_format` filters), in Python's
/// words.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FormatError {
    /// `%(` without `)`.
    #[error("incomplete format key")]
    IncompleteKey,
    /// `%(key)s` with positional arguments.
    #[error("format requires a mapping")]
    MappingRequired,
    /// The mapping cannot be read.
    #[error("{source}")]
    Lookup {
        /// The key looked up.
        key: String,
        /// Why.
        source: Error,
    },
    /// `%(key)s` with a key the mapping lacks.
    #[error("KeyError: {key:?}")]
    MissingKey {
        /// The key.
        key: String,
    },
    /// A `%` at the end of the format.
    #[error("incomplete format")]
    Incomplete,
    /// More conversions than arguments.
    #[error("not enough arguments for format string")]
    NotEnoughArguments,
    /// More arguments than conversions.
    #[error("not all arguments converted during string formatting")]
    TooManyArguments,
    /// `%x`, `%X`, `%o` of a non-integer.
    #[error("%{conversion} format: an integer is required")]
    IntegerRequired {
        /// The conversion character.
        conversion: char,
    },
    /// `%d`, `%f`... of a non-number (`kind`: what it was, when not a number).
    #[error("%{conversion} format: a real number is required{}", not_kind(.kind.as_ref()))]
    NumberRequired {
        /// The conversion character.
        conversion: char,
        /// The kind of the value given, when it is not a number at all.
        kind: Option<ValueKind>,
    },
    /// A conversion character Python does not know.
    #[error("unsupported format character {conversion:?}")]
    UnsupportedConversion {
        /// The conversion character.
        conversion: char,
    },
}

fn not_kind(kind: Option<&ValueKind>) -> String {
    kind.map(|k| format!(", not {k}")).unwrap_or_default()
}

/// Why a template rendered by Jinja2's default environment (the `eval` filter, the query file
/// of `query()`) failed: the error's detail and its line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}{}", .line.map(|l| format!(" (line {l})")).unwrap_or_default())]
pub(crate) struct PlainRenderError {
    /// MiniJinja's detail (or its error kind).
    detail: String,
    /// The template line.
    line: Option<usize>,
}

pub(crate) fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, message.into())
}

/// MiniJinja built-ins that Jinja2 does not have (a template using them fails upstream).
const NOT_IN_JINJA2: &[&str] = &["split", "lines", "bool", "chain", "zip"];

pub(crate) fn register(env: &mut Environment<'static>) {
    for name in NOT_IN_JINJA2 {
        env.remove_filter(name);
    }
    // Jinja2 built-ins, with Jinja2's output.
    env.add_filter("tojson", tojson);
    env.add_filter("join", join);
    env.add_filter("string", string);
    env.add_filter("urlencode", urlencode);
    env.add_filter("indent", indent);
    env.add_filter("truncate", truncate);
    env.add_filter("center", center);
    env.add_filter("format", format_filter);
    env.add_filter("wordcount", wordcount);
    env.add_filter("escape", escape);
    env.add_filter("e", escape);
    env.add_filter("forceescape", escape);
    env.add_filter("pprint", pprint);
    // upstream compile_jinja2_template's filters
    env.add_filter("json_to_dict", json_to_dict);
    env.add_filter("yaml_to_dict", yaml_to_dict);
    env.add_filter("urlescape", urlescape_filter);
    env.add_filter("urlunescape", urlunescape_filter);
    env.add_filter("eval", eval_filter);
    env.add_filter("extract_jsonpath", extract_jsonpath);
    env.add_filter("matches_jsonpath", matches_jsonpath);
    env.add_filter("json_pointers", json_pointers);
    env.add_filter("str_format", str_format);
    // the b64encode tag extension
    env.add_filter(tags::B64ENCODE_BLOCK_FILTER, b64encode_block);
}

fn needs_str<'a>(value: &'a Value, what: &str) -> Result<&'a str, Error> {
    value.as_str().ok_or_else(|| {
        invalid(format!(
            "{what} expects a string, got {} {}",
            value.kind(),
            py_repr(value)
        ))
    })
}

/// `B64EncodeExtension._b64encode`: `textwrap.dedent` the body, then base64 (standard).
fn b64encode_block(body: &Value) -> Result<Value, Error> {
    let text = py_str(body);
    let dedented = tags::dedent(&text);
    Ok(Value::from(
        base64::engine::general_purpose::STANDARD.encode(dedented.as_bytes()),
    ))
}

/// Jinja2's `tojson`: `json.dumps(value, sort_keys=True, indent=indent)` with `<`, `>`, `&`
/// and `'` escaped as `\u003c`... (`htmlsafe_json_dumps`).
fn tojson(value: &Value, indent: Option<Value>) -> Result<Value, Error> {
    if value.is_undefined() {
        return Err(Error::from(ErrorKind::UndefinedError));
    }
    let json = to_json(value);
    let indent = match indent {
        None => None,
        Some(v) if v.is_none() => None,
        Some(v) => match v.as_i64() {
            Some(n) => Some(usize::try_from(n.max(0)).unwrap_or(0)),
            None => return Err(invalid("tojson: indent must be an integer")),
        },
    };
    let text = match indent {
        None => qontract_pyjson::dumps_sorted(&json),
        Some(n) => {
            let mut out = String::new();
            dump_indented(&json, n, 0, &mut out);
            out
        }
    };
    let text = text
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\'', "\\u0027");
    Ok(Value::from_safe_string(text))
}

/// `json.dumps(value, sort_keys=True, indent=n)` (separators `,` and `: `).
fn dump_indented(value: &serde_json::Value, indent: usize, level: usize, out: &mut String) {
    let pad = |level: usize| format!("\n{}", " ".repeat(indent * level));
    match value {
        serde_json::Value::Array(items) if !items.is_empty() => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&pad(level + 1));
                dump_indented(item, indent, level + 1, out);
            }
            out.push_str(&pad(level));
            out.push(']');
        }
        serde_json::Value::Object(map) if !map.is_empty() => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&pad(level + 1));
                qontract_pyjson::write_str(key, out);
                out.push_str(": ");
                dump_indented(item, indent, level + 1, out);
            }
            out.push_str(&pad(level));
            out.push('}');
        }
        other => out.push_str(&qontract_pyjson::dumps_sorted(other)),
    }
}

/// Jinja2's `join(value, d="", attribute=None)`: items as Python `str()`.
fn join(
    state: &State,
    value: &Value,
    separator: Option<Value>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let separator = match separator {
        Some(s) => py_str(&s),
        None => kwargs
            .get::<Option<Value>>("d")?
            .map(|s| py_str(&s))
            .unwrap_or_default(),
    };
    let attribute: Option<Value> = kwargs.get("attribute")?;
    kwargs.assert_all_used()?;
    if value.is_undefined() {
        return Err(Error::from(ErrorKind::UndefinedError));
    }
    let mut parts = Vec::new();
    for item in value.try_iter()? {
        let item = match &attribute {
            Some(attr) => item_attribute(state, &item, attr)?,
            None => item,
        };
        parts.push(py_str(&item));
    }
    Ok(Value::from(parts.join(&separator)))
}

/// `environment.getitem` for a dotted attribute path (`"a.b"`, `"0"`), as Jinja2's
/// `make_attrgetter`.
fn item_attribute(state: &State, item: &Value, attr: &Value) -> Result<Value, Error> {
    let path = py_str(attr);
    let mut current = item.clone();
    for part in path.split('.') {
        current = match part.parse::<i64>() {
            Ok(index) => current.get_item(&Value::from(index))?,
            Err(_) => current.get_attr(part)?,
        };
        if current.is_undefined() {
            return Err(Error::new(
                ErrorKind::UndefinedError,
                format!("{} has no attribute {part:?}", py_repr(item)),
            ));
        }
    }
    let _ = state;
    Ok(current)
}

/// Jinja2's `string`: Python `str()`.
fn string(value: &Value) -> Result<Value, Error> {
    if value.is_undefined() {
        return Err(Error::from(ErrorKind::UndefinedError));
    }
    Ok(Value::from(py_str(value)))
}

/// Jinja2's `urlencode`: strings quoted with `/` safe; dicts and pair lists as a query string
/// (`+` for spaces, nothing safe).
fn urlencode(value: &Value) -> Result<Value, Error> {
    let quote_qs = |v: &Value| quote(&py_str(v), "").replace("%20", "+");
    match value.kind() {
        ValueKind::Map => {
            let mut parts = Vec::new();
            for key in value.try_iter()? {
                let item = value.get_item(&key)?;
                parts.push(format!("{}={}", quote_qs(&key), quote_qs(&item)));
            }
            Ok(Value::from(parts.join("&")))
        }
        ValueKind::Seq | ValueKind::Iterable => {
            let mut parts = Vec::new();
            for pair in value.try_iter()? {
                let key = pair.get_item(&Value::from(0))?;
                let item = pair.get_item(&Value::from(1))?;
                parts.push(format!("{}={}", quote_qs(&key), quote_qs(&item)));
            }
            Ok(Value::from(parts.join("&")))
        }
        ValueKind::Undefined => Err(Error::from(ErrorKind::UndefinedError)),
        _ => Ok(Value::from(quote(&py_str(value), "/"))),
    }
}

/// Python's `str.splitlines()`.
fn splitlines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let is_break = matches!(
            c,
            '\n' | '\r'
                | '\u{0b}'
                | '\u{0c}'
                | '\u{1c}'
                | '\u{1d}'
                | '\u{1e}'
                | '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
        );
        if is_break {
            lines.push(&text[start..i]);
            let mut end = i + c.len_utf8();
            if c == '\r' && chars.peek().is_some_and(|(_, n)| *n == '\n') {
                chars.next();
                end += 1;
            }
            start = end;
        }
    }
    if start < text.len() {
        lines.push(&text[start..]);
    }
    lines
}

/// Jinja2's `indent(s, width=4, first=False, blank=False)` (a string `width` is the indent).
fn indent(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let pick = |index: usize, name: &str| -> Result<Option<Value>, Error> {
        let keyword: Option<Value> = kwargs.get(name)?;
        Ok(keyword.or_else(|| args.get(index).cloned()))
    };
    let width = pick(0, "width")?;
    let first = pick(1, "first")?.is_some_and(|v| v.is_true());
    let blank = pick(2, "blank")?.is_some_and(|v| v.is_true());
    kwargs.assert_all_used()?;
    let indention = match &width {
        None => "    ".to_owned(),
        Some(w) if w.kind() == ValueKind::String => py_str(w),
        Some(w) => " ".repeat(
            w.as_i64()
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| invalid("indent: width must be an integer or a string"))?,
        ),
    };
    let mut text = py_str(value);
    text.push('\n');
    let lines = splitlines(&text);
    let mut rv = if blank {
        lines.join(&format!("\n{indention}"))
    } else {
        let mut rv = lines.first().copied().unwrap_or_default().to_owned();
        if lines.len() > 1 {
            rv.push('\n');
            let rest: Vec<String> = lines[1..]
                .iter()
                .map(|l| {
                    if l.is_empty() {
                        String::new()
                    } else {
                        format!("{indention}{l}")
                    }
                })
                .collect();
            rv.push_str(&rest.join("\n"));
        }
        rv
    };
    if first {
        rv = format!("{indention}{rv}");
    }
    Ok(Value::from(rv))
}

/// Jinja2's `truncate(s, length=255, killwords=False, end="...", leeway=5)`.
fn truncate(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let pick = |index: usize, name: &str| -> Result<Option<Value>, Error> {
        let keyword: Option<Value> = kwargs.get(name)?;
        Ok(keyword.or_else(|| args.get(index).cloned()))
    };
    let length = pick(0, "length")?.and_then(|v| v.as_i64()).unwrap_or(255);
    let killwords = pick(1, "killwords")?.is_some_and(|v| v.is_true());
    let end = pick(2, "end")?
        .map(|v| py_str(&v))
        .unwrap_or_else(|| "...".to_owned());
    let leeway = pick(3, "leeway")?.and_then(|v| v.as_i64()).unwrap_or(5);
    kwargs.assert_all_used()?;
    let text = py_str(value);
    let chars: Vec<char> = text.chars().collect();
    let len = i64::try_from(chars.len()).unwrap_or(i64::MAX);
    let end_len = i64::try_from(end.chars().count()).unwrap_or(0);
    if length < end_len {
        return Err(invalid(format!(
            "expected length >= {end_len}, got {length}"
        )));
    }
    if leeway < 0 {
        return Err(invalid(format!("expected leeway >= 0, got {leeway}")));
    }
    if len <= length + leeway {
        return Ok(Value::from(text));
    }
    let keep = usize::try_from(length - end_len).unwrap_or(0);
    let head: String = chars[..keep.min(chars.len())].iter().collect();
    if killwords {
        return Ok(Value::from(format!("{head}{end}")));
    }
    let head = match head.rsplit_once(' ') {
        Some((before, _)) => before.to_owned(),
        None => head,
    };
    Ok(Value::from(format!("{head}{end}")))
}

/// Jinja2's `center(value, width=80)`: Python's `str.center`.
fn center(value: &Value, width: Option<i64>) -> Result<Value, Error> {
    let text = py_str(value);
    let width = usize::try_from(width.unwrap_or(80)).unwrap_or(0);
    let len = text.chars().count();
    if width <= len {
        return Ok(Value::from(text));
    }
    let pad = width - len;
    let left = pad / 2 + (pad & width & 1);
    Ok(Value::from(format!(
        "{}{text}{}",
        " ".repeat(left),
        " ".repeat(pad - left)
    )))
}

/// Jinja2's `format(value, *args, **kwargs)`: `value % (kwargs or args)`.
fn format_filter(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let format = py_str(value);
    let names: Vec<String> = kwargs.args().map(str::to_owned).collect();
    let result = if names.is_empty() {
        percent_format_args(&format, &args, None)
    } else {
        let mut map = serde_json::Map::new();
        for name in &names {
            let v: Value = kwargs.get(name)?;
            map.insert(name.clone(), to_json(&v));
        }
        percent_format_args(
            &format,
            &[],
            Some(&from_json(&serde_json::Value::Object(map))),
        )
    };
    kwargs.assert_all_used()?;
    result
        .map(Value::from)
        .map_err(|e| invalid(format!("format: {e}")))
}

/// Jinja2's `wordcount`: the number of `\w+` runs.
fn wordcount(value: &Value) -> Result<Value, Error> {
    let re = regex::Regex::new(r"\w+").map_err(|e| invalid(e.to_string()))?;
    Ok(Value::from(re.find_iter(&py_str(value)).count()))
}

/// Jinja2's `escape` (markupsafe): `&`, `<`, `>`, `'` and `"` as `&amp;`, `&lt;`, `&gt;`,
/// `&#39;`, `&#34;`; already safe strings are kept.
fn escape(value: &Value) -> Result<Value, Error> {
    if value.is_safe() {
        return Ok(value.clone());
    }
    let text = py_str(value)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\'', "&#39;")
        .replace('"', "&#34;");
    Ok(Value::from_safe_string(text))
}

/// Jinja2's `pprint` (`pprint.pformat`): the `repr()` of values that fit on one line of 80
/// characters; longer ones (which pformat wraps) are an error rather than different output.
fn pprint(value: &Value) -> Result<Value, Error> {
    let text = py_repr(value);
    if text.chars().count() > 80 {
        return Err(invalid(
            "pprint of a value longer than 80 characters is not supported (pformat wraps it)",
        ));
    }
    Ok(Value::from(text))
}

/// `json_to_dict`: `json.loads`.
fn json_to_dict(input: &Value) -> Result<Value, Error> {
    let text = needs_str(input, "json_to_dict")?;
    let parsed: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| invalid(format!("json_to_dict: invalid JSON: {e}")))?;
    Ok(from_json(&parsed))
}

/// `yaml_to_dict`: `yaml.safe_load` (YAML 1.1, PyYAML's rules).
fn yaml_to_dict(input: &Value) -> Result<Value, Error> {
    let text = needs_str(input, "yaml_to_dict")?;
    match qontract_yaml::load(text) {
        Ok(Some(parsed)) => Ok(from_json(&parsed)),
        Ok(None) => Ok(Value::from(())),
        Err(e) => Err(invalid(format!("yaml_to_dict: invalid YAML: {e}"))),
    }
}

/// `urllib.parse.quote(string, safe)` with UTF-8.
pub(crate) fn quote(text: &str, safe: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        let always_safe = byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'-' | b'~');
        if always_safe || (byte < 128 && safe.as_bytes().contains(&byte)) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `urllib.parse.unquote(string)` with UTF-8 and `errors="replace"`.
pub(crate) fn unquote(text: &str) -> String {
    if !text.contains('%') {
        return text.to_owned();
    }
    let bytes = text.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && bytes[i + 1].is_ascii_hexdigit()
            && bytes[i + 2].is_ascii_hexdigit()
        {
            let hex = &text[i + 1..i + 3];
            out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Only UTF-8 is supported as `encoding` of `urlescape`/`urlunescape`.
pub(crate) fn check_encoding(encoding: Option<&Value>, helper: &str) -> Result<(), Error> {
    match encoding {
        None => Ok(()),
        Some(v) if v.is_none() => Ok(()),
        Some(v) => {
            let name = py_str(v).to_ascii_lowercase().replace(['-', '_'], "");
            if name == "utf8" {
                Ok(())
            } else {
                Err(invalid(format!(
                    "{helper}: encoding {} is not supported (only utf-8)",
                    py_repr(v)
                )))
            }
        }
    }
}

/// `urlescape(string, safe="/", encoding=None)`.
pub(crate) fn urlescape_filter(
    input: &Value,
    args: Rest<Value>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let mut safe = args.first().cloned();
    let mut encoding = args.get(1).cloned();
    if args.len() > 2 {
        return Err(invalid("urlescape: too many arguments"));
    }
    if let Some(s) = kwargs.get::<Option<Value>>("safe")? {
        safe = Some(s);
    }
    if let Some(e) = kwargs.get::<Option<Value>>("encoding")? {
        encoding = Some(e);
    }
    kwargs.assert_all_used()?;
    check_encoding(encoding.as_ref(), "urlescape")?;
    let text = needs_str(input, "urlescape")?;
    let safe = safe.map(|s| py_str(&s)).unwrap_or_else(|| "/".to_owned());
    Ok(Value::from(quote(text, &safe)))
}

/// `urlunescape(string, encoding=None)`.
pub(crate) fn urlunescape_filter(
    input: &Value,
    encoding: Option<Value>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let encoding = match kwargs.get::<Option<Value>>("encoding")? {
        Some(e) => Some(e),
        None => encoding,
    };
    kwargs.assert_all_used()?;
    check_encoding(encoding.as_ref(), "urlunescape")?;
    let text = needs_str(input, "urlunescape")?;
    Ok(Value::from(unquote(text)))
}

/// `eval`: `jinja2.Template(input).render(**kwargs)` (a default Jinja2 environment: lenient
/// undefined, no extensions or extra filters).
fn eval_filter(input: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    let text = py_str(input);
    let mut vars = serde_json::Map::new();
    for name in kwargs.args() {
        let value: Value = kwargs.get(name)?;
        vars.insert(name.to_owned(), to_json(&value));
    }
    kwargs.assert_all_used()?;
    plain_render(
        &text,
        &crate::pyfmt::from_json(&serde_json::Value::Object(vars)),
    )
    .map(Value::from)
    .map_err(|e| invalid(format!("eval: {e}")))
}

/// `jinja2.Template(text).render(vars)`: Jinja2's default environment (lenient undefined).
pub(crate) fn plain_render(text: &str, vars: &Value) -> Result<String, PlainRenderError> {
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Lenient);
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.set_formatter(crate::pyfmt::formatter);
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    for name in NOT_IN_JINJA2 {
        env.remove_filter(name);
    }
    env.add_filter("tojson", tojson);
    env.add_filter("join", join);
    env.add_filter("string", string);
    env.add_filter("urlencode", urlencode);
    env.add_filter("indent", indent);
    env.add_filter("truncate", truncate);
    env.add_filter("center", center);
    env.add_filter("format", format_filter);
    env.add_filter("wordcount", wordcount);
    env.add_filter("escape", escape);
    env.add_filter("e", escape);
    env.add_filter("forceescape", escape);
    env.add_filter("pprint", pprint);
    env.render_str(text, vars).map_err(|e| PlainRenderError {
        detail: e
            .detail()
            .map(str::to_owned)
            .unwrap_or_else(|| e.kind().to_string()),
        line: e.line(),
    })
}

fn parse_path(jsonpath: &Value, filter: &str) -> Result<jsonpath::JsonPath, Error> {
    let text = needs_str(jsonpath, filter)?;
    if text.is_empty() {
        return Err(invalid(format!("{filter}: the jsonpath is empty")));
    }
    jsonpath::JsonPath::parse(text).map_err(|e| invalid(format!("{filter}: {e}")))
}

/// `extract_jsonpath(input, jsonpath)`: the values of the matches (`jsonpath_ng`).
fn extract_jsonpath(input: &Value, path: &Value) -> Result<Value, Error> {
    let path = parse_path(path, "extract_jsonpath")?;
    let data = to_json(input);
    let found = path
        .find(&data)
        .map_err(|e| invalid(format!("extract_jsonpath: {e}")))?;
    Ok(Value::from(
        found
            .into_iter()
            .map(|m| from_json(&m.value))
            .collect::<Vec<_>>(),
    ))
}

/// `matches_jsonpath(input, jsonpath)`: whether anything matches.
fn matches_jsonpath(input: &Value, path: &Value) -> Result<Value, Error> {
    let path = parse_path(path, "matches_jsonpath")?;
    let data = to_json(input);
    let found = path
        .find(&data)
        .map_err(|e| invalid(format!("matches_jsonpath: {e}")))?;
    Ok(Value::from(!found.is_empty()))
}

/// `json_pointers(input, jsonpath)`: the RFC 6901 pointers of the matches (current upstream
/// `_jsonpath_to_pointer`: `~` and `/` escaped).
fn json_pointers(input: &Value, path: &Value) -> Result<Value, Error> {
    let path = parse_path(path, "json_pointers")?;
    let data = to_json(input);
    let found = path
        .find(&data)
        .map_err(|e| invalid(format!("json_pointers: {e}")))?;
    Ok(Value::from(
        found
            .into_iter()
            .map(|m| m.pointer())
            .collect::<Vec<String>>(),
    ))
}

/// `str_format(value, format)`: Python's `format % value`.
fn str_format(value: &Value, format: &Value) -> Result<Value, Error> {
    let format = needs_str(format, "str_format")?;
    percent_format(format, value)
        .map(Value::from)
        .map_err(|e| invalid(format!("str_format: {e}")))
}

/// Python's `format % value` for one value (a mapping serves `%(key)s`).
pub(crate) fn percent_format(format: &str, value: &Value) -> Result<String, FormatError> {
    if value.kind() == ValueKind::Map {
        percent_format_args(format, std::slice::from_ref(value), Some(value))
    } else {
        percent_format_args(format, std::slice::from_ref(value), None)
    }
}

/// Python's `format % args` (`mapping` serves `%(key)s`).
pub(crate) fn percent_format_args(
    format: &str,
    args: &[Value],
    mapping: Option<&Value>,
) -> Result<String, FormatError> {
    let chars: Vec<char> = format.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let mut used = 0usize;
    while i < chars.len() {
        let c = chars[i];
        if c != '%' {
            out.push(c);
            i += 1;
            continue;
        }
        i += 1;
        let mut arg = Value::UNDEFINED;
        let mut keyed = false;
        if chars.get(i) == Some(&'(') {
            let close = chars[i..]
                .iter()
                .position(|c| *c == ')')
                .ok_or(FormatError::IncompleteKey)?;
            let key: String = chars[i + 1..i + close].iter().collect();
            let Some(mapping) = mapping else {
                return Err(FormatError::MappingRequired);
            };
            arg = match mapping.get_attr(&key) {
                Ok(arg) => arg,
                Err(source) => return Err(FormatError::Lookup { key, source }),
            };
            if arg.is_undefined() {
                return Err(FormatError::MissingKey { key });
            }
            keyed = true;
            i += close + 1;
        }
        let mut flags = String::new();
        while let Some(f) = chars.get(i).filter(|c| "-+ #0".contains(**c)) {
            flags.push(*f);
            i += 1;
        }
        let mut width = String::new();
        while let Some(d) = chars.get(i).filter(|c| c.is_ascii_digit()) {
            width.push(*d);
            i += 1;
        }
        let mut precision: Option<usize> = None;
        if chars.get(i) == Some(&'.') {
            i += 1;
            let mut p = String::new();
            while let Some(d) = chars.get(i).filter(|c| c.is_ascii_digit()) {
                p.push(*d);
                i += 1;
            }
            precision = Some(p.parse().unwrap_or(0));
        }
        let Some(conversion) = chars.get(i).copied() else {
            return Err(FormatError::Incomplete);
        };
        i += 1;
        if conversion == '%' {
            out.push('%');
            continue;
        }
        if !keyed {
            arg = args
                .get(used)
                .cloned()
                .ok_or(FormatError::NotEnoughArguments)?;
            used += 1;
        }
        let body = match conversion {
            's' => {
                let s = py_str(&arg);
                match precision {
                    Some(p) => s.chars().take(p).collect(),
                    None => s,
                }
            }
            'r' | 'a' => py_repr(&arg),
            'd' | 'i' | 'u' => {
                let n = number(&arg, conversion)?;
                let n = n.trunc();
                format!("{}", n as i128)
            }
            'f' | 'F' => {
                let n = number(&arg, conversion)?;
                format!("{:.*}", precision.unwrap_or(6), n)
            }
            'x' | 'X' | 'o' => {
                let n = arg
                    .as_i64()
                    .ok_or(FormatError::IntegerRequired { conversion })?;
                let digits = match conversion {
                    'x' => format!("{:x}", n.unsigned_abs()),
                    'X' => format!("{:X}", n.unsigned_abs()),
                    _ => format!("{:o}", n.unsigned_abs()),
                };
                if n < 0 { format!("-{digits}") } else { digits }
            }
            other => return Err(FormatError::UnsupportedConversion { conversion: other }),
        };
        let body = if matches!(conversion, 'd' | 'i' | 'u' | 'f' | 'F') && flags.contains('+') {
            if body.starts_with('-') {
                body
            } else {
                format!("+{body}")
            }
        } else {
            body
        };
        let width: usize = width.parse().unwrap_or(0);
        let len = body.chars().count();
        if len < width {
            let fill = width - len;
            if flags.contains('-') {
                out.push_str(&body);
                out.push_str(&" ".repeat(fill));
            } else if flags.contains('0') && conversion != 's' && conversion != 'r' {
                let (sign, digits) = match body.strip_prefix(['-', '+']) {
                    Some(rest) => (&body[..1], rest),
                    None => ("", body.as_str()),
                };
                out.push_str(sign);
                out.push_str(&"0".repeat(fill));
                out.push_str(digits);
            } else {
                out.push_str(&" ".repeat(fill));
                out.push_str(&body);
            }
        } else {
            out.push_str(&body);
        }
    }
    if used < args.len() && mapping.is_none() {
        return Err(FormatError::TooManyArguments);
    }
    Ok(out)
}

fn number(value: &Value, conversion: char) -> Result<f64, FormatError> {
    match value.kind() {
        ValueKind::Number | ValueKind::Bool => {
            let json = to_json(value);
            json.as_f64()
                .or_else(|| json.as_bool().map(|b| if b { 1.0 } else { 0.0 }))
                .ok_or(FormatError::NumberRequired {
                    conversion,
                    kind: None,
                })
        }
        kind => Err(FormatError::NumberRequired {
            conversion,
            kind: Some(kind),
        }),
    }
}
