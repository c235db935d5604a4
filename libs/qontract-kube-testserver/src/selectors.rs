//! Label and field selectors.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
enum Op {
    Eq(String),
    NotEq(String),
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    NotExists,
    Gt(i64),
    Lt(i64),
}

/// A parsed label selector.
#[derive(Debug, Clone, Default)]
pub(crate) struct LabelSelector {
    reqs: Vec<(String, Op)>,
}

fn split_top_level(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' => {
                depth += 1;
                cur.push(c)
            }
            ')' => {
                depth -= 1;
                cur.push(c)
            }
            ',' if depth == 0 => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Why a label or field selector does not parse; the text is (part of) the 400 answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SelectorError {
    /// `in`/`notin` without a parenthesised set.
    #[error("found '{0}', expected: '('")]
    ExpectedSet(String),
    /// `>`/`<` with a value that is not an integer.
    #[error("invalid integer value {0}")]
    InvalidInteger(String),
    /// A label key with characters a key may not have.
    #[error("unable to parse requirement: invalid label key \"{0}\"")]
    InvalidLabelKey(String),
    /// A field selector term without `=`, `==` or `!=`.
    #[error("invalid selector: '{0}'; can't understand '{0}'")]
    FieldSyntax(String),
    /// A field the kind cannot be selected by.
    #[error("field label not supported: {0}")]
    UnsupportedField(String),
}

fn parse_set(rest: &str) -> Result<Vec<String>, SelectorError> {
    let rest = rest.trim();
    if !(rest.starts_with('(') && rest.ends_with(')')) {
        return Err(SelectorError::ExpectedSet(rest.to_owned()));
    }
    Ok(rest[1..rest.len() - 1]
        .split(',')
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect())
}

fn valid_key(k: &str) -> bool {
    !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
}

impl LabelSelector {
    pub(crate) fn parse(s: &str) -> Result<Self, SelectorError> {
        let mut reqs = Vec::new();
        for part in split_top_level(s) {
            let p = part.as_str();
            let req = if let Some(k) = p.strip_prefix('!') {
                (k.trim().to_string(), Op::NotExists)
            } else if let Some((k, v)) = p.split_once("!=") {
                (k.trim().to_string(), Op::NotEq(v.trim().to_string()))
            } else if let Some((k, v)) = p.split_once("==") {
                (k.trim().to_string(), Op::Eq(v.trim().to_string()))
            } else if let Some((k, v)) = p.split_once('=') {
                (k.trim().to_string(), Op::Eq(v.trim().to_string()))
            } else if let Some((k, v)) = p.split_once('>') {
                (
                    k.trim().to_string(),
                    Op::Gt(
                        v.trim()
                            .parse()
                            .map_err(|_| SelectorError::InvalidInteger(v.to_owned()))?,
                    ),
                )
            } else if let Some((k, v)) = p.split_once('<') {
                (
                    k.trim().to_string(),
                    Op::Lt(
                        v.trim()
                            .parse()
                            .map_err(|_| SelectorError::InvalidInteger(v.to_owned()))?,
                    ),
                )
            } else if let Some(idx) = p.find(" notin ").or_else(|| p.find(" notin(")) {
                (
                    p[..idx].trim().to_string(),
                    Op::NotIn(parse_set(&p[idx + 6..])?),
                )
            } else if let Some(idx) = p.find(" in ").or_else(|| p.find(" in(")) {
                (
                    p[..idx].trim().to_string(),
                    Op::In(parse_set(&p[idx + 3..])?),
                )
            } else {
                (p.trim().to_string(), Op::Exists)
            };
            if !valid_key(&req.0) {
                return Err(SelectorError::InvalidLabelKey(req.0));
            }
            reqs.push(req);
        }
        Ok(LabelSelector { reqs })
    }

    pub(crate) fn matches(&self, obj: &Value) -> bool {
        let labels = obj.pointer("/metadata/labels").and_then(Value::as_object);
        self.reqs.iter().all(|(k, op)| {
            let v = labels.and_then(|l| l.get(k)).and_then(Value::as_str);
            match op {
                Op::Eq(x) => v == Some(x.as_str()),
                Op::NotEq(x) => v != Some(x.as_str()),
                Op::In(xs) => v.is_some_and(|v| xs.iter().any(|x| x == v)),
                Op::NotIn(xs) => v.is_none_or(|v| !xs.iter().any(|x| x == v)),
                Op::Exists => v.is_some(),
                Op::NotExists => v.is_none(),
                Op::Gt(n) => v
                    .and_then(|v| v.parse::<i64>().ok())
                    .is_some_and(|v| v > *n),
                Op::Lt(n) => v
                    .and_then(|v| v.parse::<i64>().ok())
                    .is_some_and(|v| v < *n),
            }
        })
    }
}

/// A parsed field selector (`=`, `==`, `!=` on supported fields).
#[derive(Debug, Clone, Default)]
pub(crate) struct FieldSelector {
    reqs: Vec<(String, bool, String)>,
}

fn supported_field(kind: &str, builtin: bool, field: &str) -> bool {
    if matches!(field, "metadata.name" | "metadata.namespace") {
        return true;
    }
    if !builtin {
        return false;
    }
    matches!(
        (kind, field),
        ("Secret", "type")
            | ("Pod", "status.phase")
            | ("Pod", "spec.nodeName")
            | ("Pod", "spec.restartPolicy")
            | ("Pod", "spec.schedulerName")
            | ("Pod", "spec.serviceAccountName")
            | ("Pod", "status.podIP")
            | ("Event", "involvedObject.kind")
            | ("Event", "involvedObject.name")
            | ("Event", "involvedObject.namespace")
            | ("Event", "involvedObject.uid")
            | ("Event", "reason")
            | ("Event", "type")
            | ("Namespace", "status.phase")
    )
}

impl FieldSelector {
    pub(crate) fn parse(s: &str, kind: &str, builtin: bool) -> Result<Self, SelectorError> {
        let mut reqs = Vec::new();
        for part in split_top_level(s) {
            let (k, eq, v) = if let Some((k, v)) = part.split_once("!=") {
                (k, false, v)
            } else if let Some((k, v)) = part.split_once("==") {
                (k, true, v)
            } else if let Some((k, v)) = part.split_once('=') {
                (k, true, v)
            } else {
                return Err(SelectorError::FieldSyntax(part));
            };
            let k = k.trim();
            if !supported_field(kind, builtin, k) {
                return Err(SelectorError::UnsupportedField(k.to_owned()));
            }
            reqs.push((k.to_string(), eq, v.trim().to_string()));
        }
        Ok(FieldSelector { reqs })
    }

    pub(crate) fn matches(&self, obj: &Value) -> bool {
        self.reqs.iter().all(|(k, eq, v)| {
            let ptr = format!("/{}", k.replace('.', "/"));
            let actual = obj.pointer(&ptr).and_then(Value::as_str).unwrap_or("");
            (actual == v) == *eq
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn label_ops() {
        let o = json!({"metadata": {"labels": {"a": "b", "env": "prod"}}});
        for (s, want) in [
            ("a=b", true),
            ("a==b", true),
            ("a!=b", false),
            ("env in (prod, dev)", true),
            ("env notin (prod)", false),
            ("missing notin (x)", true),
            ("a", true),
            ("!a", false),
            ("!zzz,a=b", true),
            ("a=b,env in (dev)", false),
        ] {
            assert_eq!(LabelSelector::parse(s).unwrap().matches(&o), want, "{s}");
        }
    }

    #[test]
    fn parse_errors_read_as_the_apiserver_messages() {
        for (s, message) in [
            ("env in prod", "found 'prod', expected: '('"),
            ("n>x", "invalid integer value x"),
            (
                "a b",
                "unable to parse requirement: invalid label key \"a b\"",
            ),
        ] {
            assert_eq!(LabelSelector::parse(s).unwrap_err().to_string(), message);
        }
        for (s, message) in [
            ("name", "invalid selector: 'name'; can't understand 'name'"),
            ("spec.x=1", "field label not supported: spec.x"),
        ] {
            let e = FieldSelector::parse(s, "ConfigMap", true).unwrap_err();
            assert_eq!(e.to_string(), message);
        }
    }
}
