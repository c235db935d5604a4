//! YAML loading with the YAML 1.1 rules of PyYAML's `SafeLoader`.
//!
//! The upstream bundler reads datafiles with `yaml.load(text, Loader=SafeLoader)`, whose implicit
//! resolver follows YAML 1.1: `yes/no/on/off` are booleans, `0755` is octal, `1:30` is
//! sexagesimal, `1e9` (no dot) is a string, `<<` merges mappings, and so on. Serde YAML crates
//! follow YAML 1.2, so this module consumes the raw parser events (granit-parser, the parser of
//! serde-saphyr) and applies PyYAML's resolver and `SafeConstructor` itself, producing the same
//! JSON value Python would. Used wherever the tool reads app-interface YAML: the bundler, the
//! resources of `openshift-resources`, and `explain`.

use std::collections::HashMap;

use serde_json::{Map, Number, Value};
use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle, Span};

/// A YAML document that cannot be loaded the way PyYAML's `SafeLoader` would.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line} column {column}: {message}")]
pub struct YamlError {
    /// 1-based line of the problem.
    pub line: usize,
    /// 1-based column of the problem.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

const CORE: &str = "tag:yaml.org,2002:";

#[derive(Debug, Clone)]
enum Node {
    Scalar {
        value: String,
        plain: bool,
        tag: Option<String>,
        at: (usize, usize),
    },
    Seq {
        items: Vec<Node>,
        tag: Option<String>,
        at: (usize, usize),
    },
    Map {
        pairs: Vec<(Node, Node)>,
        tag: Option<String>,
        at: (usize, usize),
    },
}

impl Node {
    fn at(&self) -> (usize, usize) {
        match self {
            Node::Scalar { at, .. } | Node::Seq { at, .. } | Node::Map { at, .. } => *at,
        }
    }
}

fn err(at: (usize, usize), message: impl Into<String>) -> YamlError {
    YamlError {
        line: at.0,
        column: at.1,
        message: message.into(),
    }
}

fn pos(span: &Span) -> (usize, usize) {
    (span.start.line(), span.start.col() + 1)
}

/// Loads a single-document YAML text like `yaml.load(text, Loader=SafeLoader)`.
///
/// Returns `None` for an empty document (PyYAML's `None`), which the bundler skips.
pub fn load(text: &str) -> Result<Option<Value>, YamlError> {
    let mut parser = Parser::new_from_str(text);
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    // stack of open collections: (node, pending key for maps)
    let mut stack: Vec<(Node, usize, Option<Node>)> = Vec::new();
    let mut root: Option<Node> = None;
    let mut documents = 0usize;
    while let Some(item) = parser.next_event() {
        let (event, span) = item.map_err(|e| {
            let m = e.marker();
            err((m.line(), m.col() + 1), e.info())
        })?;
        let at = pos(&span);
        let complete: Option<(Node, usize)> = match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Anchor(..) => None,
            Event::DocumentStart(..) => {
                documents += 1;
                if documents > 1 {
                    return Err(err(
                        at,
                        "expected a single document in the stream, but found another document",
                    ));
                }
                None
            }
            Event::Alias(id) => match anchors.get(&id) {
                Some(node) => Some((node.clone(), 0)),
                None => return Err(err(at, "found undefined alias")),
            },
            Event::UnresolvedAlias(name) => {
                return Err(err(at, format!("found undefined alias {name}")));
            }
            Event::Scalar(value, style, anchor, tag) => {
                let node = Node::Scalar {
                    value: value.into_owned(),
                    plain: style == ScalarStyle::Plain,
                    tag: tag.map(|t| format!("{}{}", t.handle(), t.suffix())),
                    at,
                };
                Some((node, anchor))
            }
            Event::SequenceStart(_, anchor, tag) => {
                let tag = tag.map(|t| format!("{}{}", t.handle(), t.suffix()));
                stack.push((
                    Node::Seq {
                        items: Vec::new(),
                        tag,
                        at,
                    },
                    anchor,
                    None,
                ));
                None
            }
            Event::MappingStart(_, anchor, tag) => {
                let tag = tag.map(|t| format!("{}{}", t.handle(), t.suffix()));
                stack.push((
                    Node::Map {
                        pairs: Vec::new(),
                        tag,
                        at,
                    },
                    anchor,
                    None,
                ));
                None
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor, _) = stack
                    .pop()
                    .ok_or_else(|| err(at, "unbalanced collection end"))?;
                Some((node, anchor))
            }
            #[allow(unreachable_patterns)]
            _ => None,
        };
        if let Some((node, anchor)) = complete {
            if anchor != 0 {
                anchors.insert(anchor, node.clone());
            }
            match stack.last_mut() {
                None => root = Some(node),
                Some((Node::Seq { items, .. }, _, _)) => items.push(node),
                Some((Node::Map { pairs, .. }, _, pending)) => match pending.take() {
                    None => *pending = Some(node),
                    Some(key) => pairs.push((key, node)),
                },
                Some((Node::Scalar { .. }, _, _)) => {
                    return Err(err(at, "scalar cannot hold children"));
                }
            }
        }
    }
    match root {
        None => Ok(None),
        Some(node) => construct(node, false).map(Some),
    }
}

fn tag_suffix(tag: &Option<String>) -> Option<&str> {
    tag.as_deref().map(|t| t.strip_prefix(CORE).unwrap_or(t))
}

/// What a scalar resolves to (PyYAML `Resolver` + `SafeConstructor`).
fn construct_scalar(
    value: &str,
    plain: bool,
    tag: &Option<String>,
    at: (usize, usize),
    is_key: bool,
) -> Result<Value, YamlError> {
    let kind = match tag_suffix(tag) {
        // `!` forces a string, like quoting
        Some("!") => "str",
        Some(explicit) => explicit,
        None if !plain => "str",
        None => resolve_plain(value),
    };
    match kind {
        "str" => Ok(Value::String(value.to_owned())),
        "null" => Ok(Value::Null),
        "bool" => match value.to_ascii_lowercase().as_str() {
            "yes" | "true" | "on" => Ok(Value::Bool(true)),
            "no" | "false" | "off" => Ok(Value::Bool(false)),
            _ => Err(err(at, format!("invalid boolean {value:?}"))),
        },
        "int" => construct_int(value).ok_or_else(|| err(at, format!("invalid integer {value:?}"))),
        "float" => construct_float(value)
            .ok_or_else(|| err(at, format!("invalid or non-finite float {value:?}"))),
        "timestamp" => Err(err(
            at,
            format!(
                "unquoted timestamp {value:?}: PyYAML loads it as a date, which cannot be bundled as JSON; quote it"
            ),
        )),
        "value" if is_key => Ok(Value::String(value.to_owned())),
        "merge" => Ok(Value::String(value.to_owned())),
        other => Err(err(
            at,
            format!(
                "could not determine a constructor for the tag '{}'",
                full_tag(other)
            ),
        )),
    }
}

fn full_tag(suffix: &str) -> String {
    if suffix.starts_with('!') || suffix.contains(':') {
        suffix.to_owned()
    } else {
        format!("{CORE}{suffix}")
    }
}

/// PyYAML's implicit resolvers for plain scalars, in their registration order.
fn resolve_plain(v: &str) -> &'static str {
    let first = v.chars().next();
    match first {
        None => "null",
        Some(c) => {
            if "yYnNtTfFoO".contains(c) && is_bool(v) {
                return "bool";
            }
            if "-+0123456789.".contains(c) && is_float(v) {
                return "float";
            }
            if "-+0123456789".contains(c) && is_int(v) {
                return "int";
            }
            if c == '<' && v == "<<" {
                return "merge";
            }
            if "~nN".contains(c) && matches!(v, "~" | "null" | "Null" | "NULL") {
                return "null";
            }
            if c.is_ascii_digit() && is_timestamp(v) {
                return "timestamp";
            }
            if c == '=' && v == "=" {
                return "value";
            }
            "str"
        }
    }
}

fn is_bool(v: &str) -> bool {
    matches!(
        v,
        "yes"
            | "Yes"
            | "YES"
            | "no"
            | "No"
            | "NO"
            | "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
    )
}

/// A tiny cursor for the hand-written regex equivalents.
struct Cur<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Cur<'a> {
    fn new(s: &'a str) -> Self {
        Self {
            s: s.as_bytes(),
            i: 0,
        }
    }
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn eat(&mut self, f: impl Fn(u8) -> bool) -> bool {
        match self.peek() {
            Some(c) if f(c) => {
                self.i += 1;
                true
            }
            _ => false,
        }
    }
    fn eat_many(&mut self, f: impl Fn(u8) -> bool) -> usize {
        let start = self.i;
        while self.eat(&f) {}
        self.i - start
    }
    fn done(&self) -> bool {
        self.i == self.s.len()
    }
    fn sign(&mut self) {
        self.eat(|c| c == b'-' || c == b'+');
    }
    /// `[eE][-+][0-9]+`, optional.
    fn exponent(&mut self) -> bool {
        let save = self.i;
        if self.eat(|c| c == b'e' || c == b'E')
            && self.eat(|c| c == b'-' || c == b'+')
            && self.eat_many(|c| c.is_ascii_digit()) > 0
        {
            return true;
        }
        self.i = save;
        false
    }
    /// `(?::[0-5]?[0-9])+`
    fn sexagesimal_parts(&mut self) -> bool {
        let mut n = 0;
        loop {
            let save = self.i;
            if !self.eat(|c| c == b':') {
                break;
            }
            let a = self.eat(|c| c.is_ascii_digit());
            if !a {
                self.i = save;
                break;
            }
            // `[0-5]?[0-9]`: one or two digits, the first of two being 0-5
            let first = self.s[self.i - 1];
            if let Some(c) = self.peek()
                && c.is_ascii_digit()
                && first <= b'5'
            {
                self.i += 1;
            }
            n += 1;
        }
        n > 0
    }
}

fn digit_us(c: u8) -> bool {
    c.is_ascii_digit() || c == b'_'
}

fn is_float(v: &str) -> bool {
    // A: [-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?
    let mut c = Cur::new(v);
    c.sign();
    if c.eat(|x| x.is_ascii_digit()) {
        c.eat_many(digit_us);
        if c.eat(|x| x == b'.') {
            c.eat_many(digit_us);
            c.exponent();
            if c.done() {
                return true;
            }
        }
    }
    // B: \.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
    let mut c = Cur::new(v);
    if c.eat(|x| x == b'.') && c.eat(|x| x.is_ascii_digit()) {
        c.eat_many(digit_us);
        c.exponent();
        if c.done() {
            return true;
        }
    }
    // C: [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
    let mut c = Cur::new(v);
    c.sign();
    if c.eat(|x| x.is_ascii_digit()) {
        c.eat_many(digit_us);
        if c.sexagesimal_parts() && c.eat(|x| x == b'.') {
            c.eat_many(digit_us);
            if c.done() {
                return true;
            }
        }
    }
    // D, E
    let unsigned = v.strip_prefix(['-', '+']).unwrap_or(v);
    matches!(unsigned, ".inf" | ".Inf" | ".INF") || matches!(v, ".nan" | ".NaN" | ".NAN")
}

fn is_int(v: &str) -> bool {
    let body = v.strip_prefix(['-', '+']).unwrap_or(v);
    if let Some(bits) = body.strip_prefix("0b") {
        return !bits.is_empty() && bits.bytes().all(|c| c == b'0' || c == b'1' || c == b'_');
    }
    if let Some(hex) = body.strip_prefix("0x") {
        return !hex.is_empty() && hex.bytes().all(|c| c.is_ascii_hexdigit() || c == b'_');
    }
    if body == "0" {
        return true;
    }
    if let Some(oct) = body.strip_prefix('0') {
        return !oct.is_empty() && oct.bytes().all(|c| (b'0'..=b'7').contains(&c) || c == b'_');
    }
    // [1-9][0-9_]* or [1-9][0-9_]*(?::[0-5]?[0-9])+
    let mut c = Cur::new(body);
    if !c.eat(|x| (b'1'..=b'9').contains(&x)) {
        return false;
    }
    c.eat_many(digit_us);
    if c.done() {
        return true;
    }
    c.sexagesimal_parts() && c.done()
}

fn is_timestamp(v: &str) -> bool {
    let b = v.as_bytes();
    let d = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    // date only
    if b.len() == 10
        && d(0)
        && d(1)
        && d(2)
        && d(3)
        && b[4] == b'-'
        && d(5)
        && d(6)
        && b[7] == b'-'
        && d(8)
        && d(9)
    {
        return true;
    }
    let mut c = Cur::new(v);
    let digits = |c: &mut Cur<'_>, min: usize, max: usize| {
        let start = c.i;
        while c.i - start < max && c.eat(|x| x.is_ascii_digit()) {}
        c.i - start >= min
    };
    if !(digits(&mut c, 4, 4)
        && c.eat(|x| x == b'-')
        && digits(&mut c, 1, 2)
        && c.eat(|x| x == b'-')
        && digits(&mut c, 1, 2))
    {
        return false;
    }
    if !(c.eat(|x| x == b'T' || x == b't') || c.eat_many(|x| x == b' ' || x == b'\t') > 0) {
        return false;
    }
    if !(digits(&mut c, 1, 2)
        && c.eat(|x| x == b':')
        && digits(&mut c, 2, 2)
        && c.eat(|x| x == b':')
        && digits(&mut c, 2, 2))
    {
        return false;
    }
    if c.eat(|x| x == b'.') {
        c.eat_many(|x| x.is_ascii_digit());
    }
    c.eat_many(|x| x == b' ' || x == b'\t');
    if c.eat(|x| x == b'Z') {
        return c.done();
    }
    if c.eat(|x| x == b'-' || x == b'+') {
        if !digits(&mut c, 1, 2) {
            return false;
        }
        if c.eat(|x| x == b':') && !digits(&mut c, 2, 2) {
            return false;
        }
    }
    c.done()
}

fn construct_int(value: &str) -> Option<Value> {
    let v: String = value.chars().filter(|&c| c != '_').collect();
    let (negative, body) = match v.as_bytes().first() {
        Some(b'-') => (true, &v[1..]),
        Some(b'+') => (false, &v[1..]),
        _ => (false, v.as_str()),
    };
    let magnitude: i128 = if body == "0" {
        0
    } else if let Some(bits) = body.strip_prefix("0b") {
        i128::from_str_radix(bits, 2).ok()?
    } else if let Some(hex) = body.strip_prefix("0x") {
        i128::from_str_radix(hex, 16).ok()?
    } else if body.starts_with('0') {
        i128::from_str_radix(body, 8).ok()?
    } else if body.contains(':') {
        let mut total: i128 = 0;
        for part in body.split(':') {
            total = total
                .checked_mul(60)?
                .checked_add(part.parse::<i128>().ok()?)?;
        }
        total
    } else {
        body.parse::<i128>().ok()?
    };
    let signed = if negative { -magnitude } else { magnitude };
    if let Ok(i) = i64::try_from(signed) {
        Some(Value::Number(Number::from(i)))
    } else {
        u64::try_from(signed)
            .ok()
            .map(|u| Value::Number(Number::from(u)))
    }
}

fn construct_float(value: &str) -> Option<Value> {
    let v: String = value
        .chars()
        .filter(|&c| c != '_')
        .collect::<String>()
        .to_lowercase();
    let (negative, body) = match v.as_bytes().first() {
        Some(b'-') => (true, &v[1..]),
        Some(b'+') => (false, &v[1..]),
        _ => (false, v.as_str()),
    };
    let magnitude = if body == ".inf" || body == ".nan" {
        // JSON cannot carry them (Python would emit the non-standard Infinity/NaN)
        return None;
    } else if body.contains(':') {
        let mut total = 0.0f64;
        for part in body.split(':') {
            total = total * 60.0 + parse_py_float(part)?;
        }
        total
    } else {
        parse_py_float(body)?
    };
    let f = if negative { -magnitude } else { magnitude };
    Number::from_f64(f).map(Value::Number)
}

/// Python's `float()` on the strings the resolver accepts (`1.`, `.5`, `1.e+3`, `12`).
fn parse_py_float(s: &str) -> Option<f64> {
    let normalized = if let Some(rest) = s.strip_prefix('.') {
        format!("0.{rest}")
    } else if s.contains(".e") {
        s.replacen(".e", ".0e", 1)
    } else if let Some(stripped) = s.strip_suffix('.') {
        format!("{stripped}.0")
    } else {
        s.to_owned()
    };
    normalized.parse::<f64>().ok().filter(|f| f.is_finite())
}

fn key_string(key: Value, at: (usize, usize)) -> Result<String, YamlError> {
    Ok(match key {
        Value::String(s) => s,
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => qontract_pyjson::python_float_repr(f),
            _ => n.to_string(),
        },
        Value::Array(_) | Value::Object(_) => {
            return Err(err(
                at,
                "found unhashable key (a sequence or mapping used as a key)",
            ));
        }
    })
}

/// PyYAML `flatten_mapping`: merged pairs first, then the node's own pairs.
fn flatten(pairs: Vec<(Node, Node)>) -> Result<Vec<(Node, Node)>, YamlError> {
    let mut merged = Vec::new();
    let mut own = Vec::with_capacity(pairs.len());
    for (key, value) in pairs {
        let is_merge = matches!(&key, Node::Scalar { value: v, plain: true, tag: None, .. } if v == "<<")
            || matches!(&key, Node::Scalar { tag: Some(t), .. } if t == &format!("{CORE}merge"));
        if !is_merge {
            own.push((key, value));
            continue;
        }
        match value {
            Node::Map { pairs, .. } => merged.extend(flatten(pairs)?),
            Node::Seq { items, at, .. } => {
                let mut sub = Vec::new();
                for item in items {
                    match item {
                        Node::Map { pairs, .. } => sub.push(flatten(pairs)?),
                        other => {
                            return Err(err(
                                other.at(),
                                "while constructing a mapping: expected a mapping for merging",
                            ));
                        }
                    }
                }
                let _ = at;
                for pairs in sub.into_iter().rev() {
                    merged.extend(pairs);
                }
            }
            other => {
                return Err(err(
                    other.at(),
                    "while constructing a mapping: expected a mapping or list of mappings for merging",
                ));
            }
        }
    }
    merged.extend(own);
    Ok(merged)
}

fn construct(node: Node, is_key: bool) -> Result<Value, YamlError> {
    match node {
        Node::Scalar {
            value,
            plain,
            tag,
            at,
        } => construct_scalar(&value, plain, &tag, at, is_key),
        Node::Seq { items, tag, at } => {
            match tag_suffix(&tag) {
                None | Some("seq") | Some("!") => {}
                Some(other) => {
                    return Err(err(
                        at,
                        format!(
                            "could not determine a constructor for the tag '{}'",
                            full_tag(other)
                        ),
                    ));
                }
            }
            items
                .into_iter()
                .map(|n| construct(n, false))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        Node::Map { pairs, tag, at } => {
            match tag_suffix(&tag) {
                None | Some("map") | Some("!") => {}
                Some(other) => {
                    return Err(err(
                        at,
                        format!(
                            "could not determine a constructor for the tag '{}'",
                            full_tag(other)
                        ),
                    ));
                }
            }
            let mut map = Map::new();
            for (key, value) in flatten(pairs)? {
                let key_at = key.at();
                let key = key_string(construct(key, true)?, key_at)?;
                let value = construct(value, false)?;
                // like a Python dict: first position, last value
                map.insert(key, value);
            }
            Ok(Value::Object(map))
        }
    }
}
