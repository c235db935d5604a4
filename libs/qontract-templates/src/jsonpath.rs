//! The JSONPath dialect of `jsonpath_ng` (upstream `utils/jsonpath.parse_jsonpath`: the regular
//! parser, or the extended one when the expression has a filter `[?...]`), for the
//! `extract_jsonpath`, `matches_jsonpath` and `json_pointers` filters.
//!
//! Supported: `$`, `@`/`` `this` ``, fields (`a`, `'a b'`, `"a"`, `a,b`, `*`), `.`, `..`,
//! `[n]`, `[*]`, `[start:end]`, `a|b` (binding tighter than `.`, as `jsonpath_ng`), and filters `[?expr & expr]` with `expr` =
//! `path` (exists) or `path OP literal` (`==`, `=`, `!=`, `<`, `<=`, `>`, `>=`, `=~`). The
//! semantics follow `jsonpath_ng` 1.5: fields match only in objects, `*` is every value of an
//! object, an index on a non-list matches nothing, a slice wraps a non-list in a list, a filter
//! on an object filters its values. Anything else (`where`, arithmetic, `len`, sorting) is a
//! parse error naming the expression.

use serde_json::Value;

/// An error parsing a JSONPath expression (the message names the expression).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("cannot parse jsonpath {expression:?}: {reason}")]
pub struct JsonPathError {
    expression: String,
    reason: ParseReason,
}

/// Why an expression is not `jsonpath_ng` syntax this crate supports.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
enum ParseReason {
    #[error("unexpected character {0:?}")]
    UnexpectedCharacter(char),
    #[error("unterminated backquote")]
    UnterminatedBackquote,
    #[error("unsupported named operator `{0}`")]
    UnsupportedNamedOperator(String),
    #[error("unterminated quoted field")]
    UnterminatedQuotedField,
    #[error("bad number")]
    BadNumber,
    #[error("`{0}` is not supported")]
    Unsupported(String),
    #[error("expected {expected:?}, found {found:?}")]
    Expected {
        expected: Token,
        found: Option<Token>,
    },
    #[error("expected a field name, found {0:?}")]
    ExpectedFieldName(Option<Token>),
    #[error("expected a value after {op}, found {found:?}")]
    ExpectedValue { op: String, found: Option<Token> },
    #[error("unexpected {0:?}")]
    Unexpected(Option<Token>),
    #[error("unexpected {0:?} after '['")]
    UnexpectedInBracket(Option<Token>),
    #[error("a slice step is not supported (jsonpath_ng cannot parse it)")]
    SliceStep,
}

/// An error applying a JSONPath expression to data (as `jsonpath_ng` fails at find time).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FindError {
    /// An index applied to a non-empty object (`jsonpath_ng`: `KeyError`).
    #[error("KeyError: {index} (an index on an object)")]
    IndexOnObject {
        /// The index.
        index: i64,
    },
    /// A slice with step 0.
    #[error("slice step cannot be zero")]
    ZeroSliceStep,
    /// A filter compares a value that Python's `int()` cannot convert.
    #[error("int() of {value} is not possible")]
    NotAnInteger {
        /// The value (JSON).
        value: String,
    },
    /// `=~` on a non-string.
    #[error("=~ needs a string")]
    RegexOnNonString,
    /// `=~` with an invalid regular expression.
    #[error("invalid regex {pattern:?}: {reason}")]
    InvalidRegex {
        /// The pattern.
        pattern: String,
        /// The regex crate's error.
        reason: String,
    },
    /// An ordering between a value and a literal of another type (Python's `TypeError`).
    #[error("'{op}' not supported between {value} and this literal")]
    NotComparable {
        /// The operator.
        op: String,
        /// The value (JSON).
        value: String,
    },
    /// An operator the filter does not know.
    #[error("unsupported operator {op}")]
    UnsupportedOperator {
        /// The operator.
        op: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Root,
    This,
    Fields(Vec<String>),
    Index(i64),
    Slice(Option<i64>, Option<i64>, Option<i64>),
    Child(Box<Step>, Box<Step>),
    Descendants(Box<Step>, Box<Step>),
    Union(Box<Step>, Box<Step>),
    Filter(Vec<Expression>),
}

#[derive(Debug, Clone, PartialEq)]
struct Expression {
    target: Step,
    op: Option<(String, Literal)>,
}

#[derive(Debug, Clone, PartialEq)]
enum Literal {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

/// A path segment of a match: an object key or a list index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// An object key.
    Key(String),
    /// A list index.
    Index(usize),
}

/// One match: its value and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    /// The matched value.
    pub value: Value,
    /// Keys and indices from the root.
    pub path: Vec<Segment>,
}

impl Match {
    /// RFC 6901 pointer of the match (`~` → `~0`, `/` → `~1`).
    pub fn pointer(&self) -> String {
        let parts: Vec<String> = self
            .path
            .iter()
            .map(|s| match s {
                Segment::Key(k) => k.replace('~', "~0").replace('/', "~1"),
                Segment::Index(i) => i.to_string(),
            })
            .collect();
        format!("/{}", parts.join("/"))
    }
}

/// A parsed JSONPath expression.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    root: Step,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Dollar,
    At,
    This,
    DoubleDot,
    Dot,
    LBracket,
    RBracket,
    LParen,
    RParen,
    Star,
    Comma,
    Colon,
    Pipe,
    Amp,
    Question,
    Id(String),
    Number(i64),
    Float(f64),
    Bool(bool),
    Op(String),
}

fn lex(text: &str, extended: bool) -> Result<Vec<Token>, ParseReason> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' => i += 1,
            '$' => {
                tokens.push(Token::Dollar);
                i += 1;
            }
            '.' if chars.get(i + 1) == Some(&'.') => {
                tokens.push(Token::DoubleDot);
                i += 2;
            }
            '.' => {
                tokens.push(Token::Dot);
                i += 1;
            }
            '[' => {
                tokens.push(Token::LBracket);
                i += 1;
            }
            ']' => {
                tokens.push(Token::RBracket);
                i += 1;
            }
            '(' => {
                tokens.push(Token::LParen);
                i += 1;
            }
            ')' => {
                tokens.push(Token::RParen);
                i += 1;
            }
            '*' => {
                tokens.push(Token::Star);
                i += 1;
            }
            ',' => {
                tokens.push(Token::Comma);
                i += 1;
            }
            ':' => {
                tokens.push(Token::Colon);
                i += 1;
            }
            '|' => {
                tokens.push(Token::Pipe);
                i += 1;
            }
            '&' => {
                tokens.push(Token::Amp);
                i += 1;
            }
            '?' if extended => {
                tokens.push(Token::Question);
                i += 1;
            }
            '=' | '!' | '<' | '>' if extended => {
                let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
                let op = if ["=~", "==", "<=", ">=", "!="].contains(&two.as_str()) {
                    two
                } else if c == '!' {
                    return Err(ParseReason::UnexpectedCharacter(c));
                } else {
                    c.to_string()
                };
                i += op.chars().count();
                tokens.push(Token::Op(op));
            }
            '`' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|c| *c == '`')
                    .ok_or(ParseReason::UnterminatedBackquote)?;
                let word: String = chars[i + 1..i + 1 + end].iter().collect();
                if word != "this" {
                    return Err(ParseReason::UnsupportedNamedOperator(word));
                }
                tokens.push(Token::This);
                i += end + 2;
            }
            '\'' | '"' => {
                let mut word = String::new();
                let mut j = i + 1;
                loop {
                    match chars.get(j) {
                        None => return Err(ParseReason::UnterminatedQuotedField),
                        Some('\\') => {
                            if let Some(n) = chars.get(j + 1) {
                                word.push(*n);
                            }
                            j += 2;
                        }
                        Some(q) if *q == c => break,
                        Some(other) => {
                            word.push(*other);
                            j += 1;
                        }
                    }
                }
                tokens.push(Token::Id(word));
                i = j + 1;
            }
            c if c.is_ascii_digit()
                || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) =>
            {
                let mut j = i + 1;
                while chars.get(j).is_some_and(char::is_ascii_digit) {
                    j += 1;
                }
                let is_float = extended
                    && chars.get(j) == Some(&'.')
                    && chars.get(j + 1).is_some_and(char::is_ascii_digit);
                if is_float {
                    j += 1;
                    while chars.get(j).is_some_and(char::is_ascii_digit) {
                        j += 1;
                    }
                    let text: String = chars[i..j].iter().collect();
                    tokens.push(Token::Float(
                        text.parse().map_err(|_| ParseReason::BadNumber)?,
                    ));
                } else {
                    let text: String = chars[i..j].iter().collect();
                    tokens.push(Token::Number(
                        text.parse().map_err(|_| ParseReason::BadNumber)?,
                    ));
                }
                i = j;
            }
            c if c.is_ascii_alphabetic() || c == '_' || c == '@' => {
                let mut j = i + 1;
                while chars.get(j).is_some_and(|c| {
                    c.is_ascii_alphanumeric() || *c == '_' || *c == '@' || *c == '-'
                }) {
                    j += 1;
                }
                let word: String = chars[i..j].iter().collect();
                i = j;
                match word.as_str() {
                    "@" if extended => tokens.push(Token::At),
                    "true" if extended => tokens.push(Token::Bool(true)),
                    "false" if extended => tokens.push(Token::Bool(false)),
                    "where" | "wherenot" => {
                        return Err(ParseReason::Unsupported(word));
                    }
                    _ => tokens.push(Token::Id(word)),
                }
            }
            other => return Err(ParseReason::UnexpectedCharacter(other)),
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn expect(&mut self, token: &Token) -> Result<(), ParseReason> {
        match self.next() {
            Some(t) if &t == token => Ok(()),
            found => Err(ParseReason::Expected {
                expected: token.clone(),
                found,
            }),
        }
    }

    /// `jsonpath_ng`'s precedence, loosest first: `..`, `.`, `|`, then `[...]` on an atom
    /// (so `a|b.c` is `(a|b).c` and `a..b.c` is `a..(b.c)`).
    fn path(&mut self) -> Result<Step, ParseReason> {
        let mut left = self.dotted()?;
        while self.peek() == Some(&Token::DoubleDot) {
            self.next();
            let right = self.dotted()?;
            left = Step::Descendants(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn dotted(&mut self) -> Result<Step, ParseReason> {
        let mut left = self.union()?;
        while self.peek() == Some(&Token::Dot) {
            self.next();
            let right = self.union()?;
            left = Step::Child(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn union(&mut self) -> Result<Step, ParseReason> {
        let mut left = self.chain()?;
        while self.peek() == Some(&Token::Pipe) {
            self.next();
            let right = self.chain()?;
            left = Step::Union(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    /// An atom and its `[...]` suffixes.
    fn chain(&mut self) -> Result<Step, ParseReason> {
        let mut left = self.atom()?;
        while self.peek() == Some(&Token::LBracket) {
            let right = self.bracket()?;
            left = Step::Child(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn atom(&mut self) -> Result<Step, ParseReason> {
        match self.peek().cloned() {
            Some(Token::Dollar) => {
                self.next();
                Ok(Step::Root)
            }
            Some(Token::At) | Some(Token::This) => {
                self.next();
                Ok(Step::This)
            }
            Some(Token::Star) => {
                self.next();
                Ok(Step::Fields(vec!["*".to_owned()]))
            }
            Some(Token::Id(first)) => {
                self.next();
                let mut fields = vec![first];
                while self.peek() == Some(&Token::Comma) {
                    self.next();
                    match self.next() {
                        Some(Token::Id(f)) => fields.push(f),
                        other => return Err(ParseReason::ExpectedFieldName(other)),
                    }
                }
                Ok(Step::Fields(fields))
            }
            Some(Token::LBracket) => self.bracket(),
            Some(Token::LParen) => {
                self.next();
                let inner = self.path()?;
                self.expect(&Token::RParen)?;
                Ok(inner)
            }
            other => Err(ParseReason::Unexpected(other)),
        }
    }

    /// `[n]`, `[*]`, `[a:b:c]`, `[?filter]`, `['field']`.
    fn bracket(&mut self) -> Result<Step, ParseReason> {
        self.expect(&Token::LBracket)?;
        let step = match self.peek().cloned() {
            Some(Token::Question) => {
                self.next();
                let expressions = self.expressions()?;
                Step::Filter(expressions)
            }
            Some(Token::Star) => {
                self.next();
                Step::Slice(None, None, None)
            }
            Some(Token::Id(_)) => match self.atom()? {
                fields @ Step::Fields(_) => fields,
                other => other,
            },
            Some(Token::Number(n)) => {
                self.next();
                if self.peek() == Some(&Token::Colon) {
                    self.slice(Some(n))?
                } else {
                    Step::Index(n)
                }
            }
            Some(Token::Colon) => self.slice(None)?,
            other => return Err(ParseReason::UnexpectedInBracket(other)),
        };
        self.expect(&Token::RBracket)?;
        Ok(step)
    }

    fn slice(&mut self, start: Option<i64>) -> Result<Step, ParseReason> {
        self.expect(&Token::Colon)?;
        let end = match self.peek() {
            Some(Token::Number(n)) => {
                let n = *n;
                self.next();
                Some(n)
            }
            _ => None,
        };
        if self.peek() == Some(&Token::Colon) {
            return Err(ParseReason::SliceStep);
        }
        let step = None;
        Ok(Step::Slice(start, end, step))
    }

    fn expressions(&mut self) -> Result<Vec<Expression>, ParseReason> {
        let mut list = Vec::new();
        loop {
            if self.peek() == Some(&Token::LParen) {
                // `( expressions )` or a parenthesised path: try expressions first.
                let save = self.pos;
                self.next();
                match self.expressions() {
                    Ok(inner) if self.peek() == Some(&Token::RParen) => {
                        self.next();
                        list.extend(inner);
                    }
                    _ => {
                        self.pos = save;
                        list.push(self.expression()?);
                    }
                }
            } else {
                list.push(self.expression()?);
            }
            if self.peek() == Some(&Token::Amp) {
                self.next();
            } else {
                return Ok(list);
            }
        }
    }

    fn expression(&mut self) -> Result<Expression, ParseReason> {
        let target = self.path()?;
        let op = match self.peek().cloned() {
            Some(Token::Op(op)) => {
                self.next();
                let literal = match self.next() {
                    Some(Token::Id(s)) => Literal::Str(s),
                    Some(Token::Number(n)) => Literal::Int(n),
                    Some(Token::Float(f)) => Literal::Float(f),
                    Some(Token::Bool(b)) => Literal::Bool(b),
                    found => return Err(ParseReason::ExpectedValue { op, found }),
                };
                Some((op, literal))
            }
            _ => None,
        };
        Ok(Expression { target, op })
    }
}

type Found = Vec<(Value, Vec<Segment>)>;

impl JsonPath {
    /// Parse `expression` like upstream `parse_jsonpath`.
    pub fn parse(expression: &str) -> Result<Self, JsonPathError> {
        let error = |reason: ParseReason| JsonPathError {
            expression: expression.to_owned(),
            reason,
        };
        let extended = expression.contains('?');
        let tokens = lex(expression, extended).map_err(error)?;
        let mut parser = Parser { tokens, pos: 0 };
        let root = parser.path().map_err(error)?;
        if parser.pos < parser.tokens.len() {
            return Err(error(ParseReason::Unexpected(
                parser.tokens.get(parser.pos).cloned(),
            )));
        }
        Ok(Self { root })
    }

    /// The matches in `data`, in `jsonpath_ng`'s order.
    pub fn find(&self, data: &Value) -> Result<Vec<Match>, FindError> {
        let found = find(&self.root, data, data, Vec::new())?;
        Ok(found
            .into_iter()
            .map(|(value, path)| Match { value, path })
            .collect())
    }
}

fn find(step: &Step, root: &Value, datum: &Value, path: Vec<Segment>) -> Result<Found, FindError> {
    Ok(match step {
        Step::Root => vec![(root.clone(), Vec::new())],
        Step::This => vec![(datum.clone(), path)],
        Step::Fields(fields) => {
            let Value::Object(map) = datum else {
                return Ok(Vec::new());
            };
            let names: Vec<String> = if fields.iter().any(|f| f == "*") {
                map.keys().cloned().collect()
            } else {
                fields.clone()
            };
            names
                .into_iter()
                .filter_map(|name| {
                    map.get(&name).map(|v| {
                        let mut p = path.clone();
                        p.push(Segment::Key(name.clone()));
                        (v.clone(), p)
                    })
                })
                .collect()
        }
        Step::Index(index) => match datum {
            Value::Array(items) => {
                let Ok(i) = usize::try_from(*index) else {
                    // jsonpath_ng: `len(value) > index` holds for a negative index, Python
                    // indexing counts from the end.
                    let from_end = usize::try_from(index.unsigned_abs()).unwrap_or(usize::MAX);
                    if from_end <= items.len() && !items.is_empty() {
                        let i = items.len() - from_end;
                        let mut p = path;
                        p.push(Segment::Index(i));
                        return Ok(vec![(items[i].clone(), p)]);
                    }
                    return Ok(Vec::new());
                };
                match items.get(i) {
                    Some(v) => {
                        let mut p = path;
                        p.push(Segment::Index(i));
                        vec![(v.clone(), p)]
                    }
                    None => Vec::new(),
                }
            }
            // jsonpath_ng indexes the object with the number: `KeyError`.
            Value::Object(map) if !map.is_empty() => {
                return Err(FindError::IndexOnObject { index: *index });
            }
            _ => Vec::new(),
        },
        Step::Slice(start, end, stride) => {
            if is_falsy(datum) {
                return Ok(Vec::new());
            }
            let items: Vec<Value> = match datum {
                Value::Array(items) => items.clone(),
                other => vec![other.clone()],
            };
            let indices = python_slice(items.len(), *start, *end, *stride)?;
            indices
                .into_iter()
                .map(|i| {
                    let mut p = path.clone();
                    p.push(Segment::Index(i));
                    (items[i].clone(), p)
                })
                .collect()
        }
        Step::Child(left, right) => {
            let mut out = Vec::new();
            for (value, p) in find(left, root, datum, path)? {
                out.extend(find(right, root, &value, p)?);
            }
            out
        }
        Step::Union(left, right) => {
            let mut out = find(left, root, datum, path.clone())?;
            out.extend(find(right, root, datum, path)?);
            out
        }
        Step::Descendants(left, right) => {
            let mut out = Vec::new();
            for (value, p) in find(left, root, datum, path)? {
                descend(right, root, &value, p, &mut out)?;
            }
            out
        }
        Step::Filter(expressions) => {
            let items: Vec<Value> = match datum {
                Value::Array(items) => items.clone(),
                Value::Object(map) => map.values().cloned().collect(),
                _ => return Ok(Vec::new()),
            };
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let mut all = true;
                for expression in expressions {
                    if !matches_expression(expression, root, item)? {
                        all = false;
                        break;
                    }
                }
                if all {
                    let mut p = path.clone();
                    p.push(Segment::Index(i));
                    out.push((item.clone(), p));
                }
            }
            out
        }
    })
}

/// `Descendants.find`: matches of `right` at `datum`, then in every child, depth first.
fn descend(
    right: &Step,
    root: &Value,
    datum: &Value,
    path: Vec<Segment>,
    out: &mut Found,
) -> Result<(), FindError> {
    out.extend(find(right, root, datum, path.clone())?);
    match datum {
        Value::Object(map) => {
            for (k, v) in map {
                let mut p = path.clone();
                p.push(Segment::Key(k.clone()));
                descend(right, root, v, p, out)?;
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let mut p = path.clone();
                p.push(Segment::Index(i));
                descend(right, root, v, p, out)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn is_falsy(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

/// `range(len)[start:end:step]`.
fn python_slice(
    len: usize,
    start: Option<i64>,
    end: Option<i64>,
    step: Option<i64>,
) -> Result<Vec<usize>, FindError> {
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    let step = step.unwrap_or(1);
    if step == 0 {
        return Err(FindError::ZeroSliceStep);
    }
    let clamp = |v: Option<i64>, default: i64, low: i64, high: i64| -> i64 {
        match v {
            None => default,
            Some(v) if v < 0 => (v + len).max(low),
            Some(v) => v.min(high),
        }
    };
    let mut out = Vec::new();
    if step > 0 {
        let s = clamp(start, 0, 0, len);
        let e = clamp(end, len, 0, len);
        let mut i = s;
        while i < e {
            out.push(usize::try_from(i).unwrap_or(0));
            i += step;
        }
    } else {
        let s = clamp(start, len - 1, -1, len - 1);
        let e = clamp(end, -1, -1, len - 1);
        let mut i = s;
        while i > e {
            out.push(usize::try_from(i).unwrap_or(0));
            i += step;
        }
    }
    Ok(out)
}

/// `Expression.find` (truthy when non-empty).
fn matches_expression(
    expression: &Expression,
    root: &Value,
    item: &Value,
) -> Result<bool, FindError> {
    let found = find(&expression.target, root, item, Vec::new())?;
    if found.is_empty() {
        return Ok(false);
    }
    let Some((op, literal)) = &expression.op else {
        return Ok(true);
    };
    for (value, _) in found {
        if compare(&value, op, literal)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// `OPERATOR_MAP[op](value, literal)`; an integer literal converts the value with `int()`
/// first (values that cannot be converted do not match).
fn compare(value: &Value, op: &str, literal: &Literal) -> Result<bool, FindError> {
    use std::cmp::Ordering;
    let ordering: Option<Ordering> = match literal {
        Literal::Int(n) => {
            let converted = match value {
                Value::Number(x) => x.as_i64().or_else(|| x.as_f64().map(|f| f.trunc() as i64)),
                Value::Bool(b) => Some(i64::from(*b)),
                Value::String(s) => match s.trim().parse::<i64>() {
                    Ok(v) => Some(v),
                    Err(_) => return Ok(false),
                },
                _ => {
                    return Err(FindError::NotAnInteger {
                        value: value.to_string(),
                    });
                }
            };
            converted.map(|v| v.cmp(n))
        }
        Literal::Float(f) => match value {
            Value::Number(x) => x.as_f64().and_then(|v| v.partial_cmp(f)),
            _ => None,
        },
        Literal::Bool(b) => {
            // Python's `bool` is an `int`: the integer branch runs first upstream.
            let converted = match value {
                Value::Number(x) => x.as_i64(),
                Value::Bool(v) => Some(i64::from(*v)),
                Value::String(s) => match s.trim().parse::<i64>() {
                    Ok(v) => Some(v),
                    Err(_) => return Ok(false),
                },
                _ => {
                    return Err(FindError::NotAnInteger {
                        value: value.to_string(),
                    });
                }
            };
            converted.map(|v| v.cmp(&i64::from(*b)))
        }
        Literal::Str(s) => {
            if op == "=~" {
                let Value::String(text) = value else {
                    return Err(FindError::RegexOnNonString);
                };
                let re = regex::Regex::new(s).map_err(|e| FindError::InvalidRegex {
                    pattern: s.clone(),
                    reason: e.to_string(),
                })?;
                return Ok(re.is_match(text));
            }
            match value {
                Value::String(text) => Some(text.as_str().cmp(s.as_str())),
                _ => None,
            }
        }
    };
    Ok(match (op, ordering) {
        ("==" | "=", Some(o)) => o == Ordering::Equal,
        ("==" | "=", None) => false,
        ("!=", Some(o)) => o != Ordering::Equal,
        ("!=", None) => true,
        ("<", Some(o)) => o == Ordering::Less,
        ("<=", Some(o)) => o != Ordering::Greater,
        (">", Some(o)) => o == Ordering::Greater,
        (">=", Some(o)) => o != Ordering::Less,
        (op, None) => {
            return Err(FindError::NotComparable {
                op: op.to_owned(),
                value: value.to_string(),
            });
        }
        (other, _) => {
            return Err(FindError::UnsupportedOperator {
                op: other.to_owned(),
            });
        }
    })
}
