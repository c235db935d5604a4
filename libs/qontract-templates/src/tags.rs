//! Upstream's tag extensions (`extensions.py`), which MiniJinja has no hook for, rewritten into
//! equivalent MiniJinja syntax before the template is compiled:
//!
//! * `{% b64encode %}body{% endb64encode %}` (`B64EncodeExtension`: the rendered body,
//!   `textwrap.dedent`ed, base64-encoded) → `{% filter __b64encode_block %}...{% endfilter %}`;
//! * `{% raise_error expr %}` (`RaiseErrorExtension`: fails the render with `expr`) →
//!   `{{ __raise_error(expr) }}`.
//!
//! Whitespace-control markers (`{%-`, `-%}`, `+`) are kept. `{% raw %}` blocks and comments are
//! left alone.

use crate::Flavour;

/// A tag of upstream's extensions that cannot be rewritten.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TagError {
    /// `{% b64encode args %}`: the tag takes no arguments (upstream's parser fails too).
    #[error("unexpected arguments to b64encode: {arguments}")]
    B64EncodeArguments {
        /// The arguments given.
        arguments: String,
    },
}

/// Name of the filter implementing the `b64encode` block.
pub(crate) const B64ENCODE_BLOCK_FILTER: &str = "__b64encode_block";
/// Name of the function implementing `raise_error`.
pub(crate) const RAISE_ERROR_FUNCTION: &str = "__raise_error";

struct Delimiters {
    block_start: &'static str,
    block_end: &'static str,
    variable_start: &'static str,
    variable_end: &'static str,
    comment_start: &'static str,
    comment_end: &'static str,
}

fn delimiters(flavour: Flavour) -> Delimiters {
    match flavour {
        Flavour::Jinja2 => Delimiters {
            block_start: "{%",
            block_end: "%}",
            variable_start: "{{",
            variable_end: "}}",
            comment_start: "{#",
            comment_end: "#}",
        },
        Flavour::ExtraCurlyJinja2 => Delimiters {
            block_start: "{{%",
            block_end: "%}}",
            variable_start: "{{{",
            variable_end: "}}}",
            comment_start: "{{#",
            comment_end: "#}}",
        },
    }
}

/// The end of a tag starting at `from` (index just after `end`), skipping string literals.
fn tag_end(source: &str, from: usize, end: &str) -> Option<usize> {
    let bytes = source.as_bytes();
    let mut i = from;
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) => {
                if b == b'\\' {
                    i += 1;
                } else if b == q {
                    quote = None;
                }
            }
            None => {
                if b == b'\'' || b == b'"' {
                    quote = Some(b);
                } else if source[i..].starts_with(end) {
                    return Some(i + end.len());
                }
            }
        }
        i += 1;
    }
    None
}

/// Rewrite the extension tags of `source` (see the module docs).
pub(crate) fn rewrite(source: &str, flavour: Flavour) -> Result<String, TagError> {
    let d = delimiters(flavour);
    if !source.contains("b64encode") && !source.contains("raise_error") {
        return Ok(source.to_owned());
    }
    let mut out = String::with_capacity(source.len() + 32);
    let mut rest = 0;
    let mut in_raw = false;
    loop {
        // The next opening delimiter of any kind.
        let candidates = [
            (source[rest..].find(d.comment_start), 0u8),
            (source[rest..].find(d.block_start), 1u8),
            (source[rest..].find(d.variable_start), 2u8),
        ];
        // Longer delimiters sharing a prefix ("{{%" vs "{{{") cannot start at the same index
        // as each other; the block and comment ones win over the variable one in extra-curly.
        let next = candidates
            .iter()
            .filter_map(|(pos, kind)| pos.map(|p| (rest + p, *kind)))
            .min_by_key(|(p, kind)| (*p, *kind));
        let Some((start, kind)) = next else {
            out.push_str(&source[rest..]);
            return Ok(out);
        };
        out.push_str(&source[rest..start]);
        match kind {
            0 => {
                let end = source[start..]
                    .find(d.comment_end)
                    .map(|p| start + p + d.comment_end.len())
                    .unwrap_or(source.len());
                out.push_str(&source[start..end]);
                rest = end;
            }
            2 => {
                let inner = start + d.variable_start.len();
                let end = tag_end(source, inner, d.variable_end).unwrap_or(source.len());
                out.push_str(&source[start..end]);
                rest = end;
            }
            _ => {
                let inner_start = start + d.block_start.len();
                let Some(end) = tag_end(source, inner_start, d.block_end) else {
                    out.push_str(&source[start..]);
                    return Ok(out);
                };
                let inner = &source[inner_start..end - d.block_end.len()];
                let (open_ws, body) = split_marker_front(inner);
                let (body, close_ws) = split_marker_back(body);
                let trimmed = body.trim();
                let word_end = trimmed
                    .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .unwrap_or(trimmed.len());
                let (word, args) = trimmed.split_at(word_end);
                if in_raw {
                    if word == "endraw" {
                        in_raw = false;
                    }
                    out.push_str(&source[start..end]);
                } else {
                    match word {
                        "raw" => {
                            in_raw = true;
                            out.push_str(&source[start..end]);
                        }
                        "b64encode" => {
                            if !args.trim().is_empty() {
                                return Err(TagError::B64EncodeArguments {
                                    arguments: args.trim().to_owned(),
                                });
                            }
                            out.push_str(&format!(
                                "{}{open_ws} filter {B64ENCODE_BLOCK_FILTER} {close_ws}{}",
                                d.block_start, d.block_end
                            ));
                        }
                        "endb64encode" => {
                            out.push_str(&format!(
                                "{}{open_ws} endfilter {close_ws}{}",
                                d.block_start, d.block_end
                            ));
                        }
                        "raise_error" => {
                            out.push_str(&format!(
                                "{}{open_ws} {RAISE_ERROR_FUNCTION}({}) {close_ws}{}",
                                d.variable_start,
                                args.trim(),
                                d.variable_end
                            ));
                        }
                        _ => out.push_str(&source[start..end]),
                    }
                }
                rest = end;
            }
        }
    }
}

fn split_marker_front(inner: &str) -> (&str, &str) {
    match inner.as_bytes().first() {
        Some(b'-') | Some(b'+') => (&inner[..1], &inner[1..]),
        _ => ("", inner),
    }
}

fn split_marker_back(inner: &str) -> (&str, &str) {
    match inner.as_bytes().last() {
        Some(b'-') | Some(b'+') => (&inner[..inner.len() - 1], &inner[inner.len() - 1..]),
        _ => (inner, ""),
    }
}

/// Python's `textwrap.dedent`: lines of only blanks and tabs become empty, then the longest
/// common leading whitespace of the other lines is removed.
pub(crate) fn dedent(text: &str) -> String {
    // Split keeping line ends, as the regexes of textwrap work on the whole text.
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut normalised: Vec<String> = Vec::with_capacity(lines.len());
    for line in &lines {
        let (content, ending) = match line.strip_suffix('\n') {
            Some(c) => (c, "\n"),
            None => (*line, ""),
        };
        if !content.is_empty() && content.chars().all(|c| c == ' ' || c == '\t') {
            normalised.push(ending.to_owned());
        } else {
            normalised.push(format!("{content}{ending}"));
        }
    }
    let mut margin: Option<String> = None;
    for line in &normalised {
        let content = line.strip_suffix('\n').unwrap_or(line);
        if content.is_empty() {
            continue;
        }
        let indent: String = content
            .chars()
            .take_while(|c| *c == ' ' || *c == '\t')
            .collect();
        margin = Some(match margin {
            None => indent,
            Some(m) => {
                if indent.starts_with(&m) {
                    m
                } else if m.starts_with(&indent) {
                    indent
                } else {
                    m.chars()
                        .zip(indent.chars())
                        .take_while(|(a, b)| a == b)
                        .map(|(a, _)| a)
                        .collect()
                }
            }
        });
    }
    let margin = margin.unwrap_or_default();
    if margin.is_empty() {
        return normalised.concat();
    }
    normalised
        .iter()
        .map(|line| line.strip_prefix(margin.as_str()).unwrap_or(line))
        .collect()
}
