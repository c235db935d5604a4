//! Drop-in replacement of qontract-validator's `qontract-bundler`.
//!
//! Reads an app-interface checkout (JSON-schema dir, GraphQL conf schema file, `data/`,
//! `resources/`) into the bundle JSON that qontract-server serves, with the same bytes as the
//! upstream Python bundler: datafiles parsed with PyYAML `SafeLoader`'s YAML 1.1 rules
//! ([`yaml11`]), `$file_sha256sum` on every datafile, `__identifier` on context-unique list
//! items, resource `$schema` sniffing, `sha256sum` and `backrefs`, serialised as Python's
//! `json.dumps(sort_keys=True, separators=(",", ":"))` ([`pyjson`]) plus a newline.
//!
//! Unlike upstream, bad data is reported before anything is written: datafiles without
//! `$schema` or with an unknown one, dangling `$ref`s and references to missing resource files
//! are all listed with the file and JSON pointer they are about. JSON-schema validation of the
//! datafiles is not done here (that is `qontract-validator`'s job).

mod files;
mod postprocess;
pub mod pyjson;
pub use qontract_yaml as yaml11;

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

pub use files::{parse_markup_file, sha256_hex};

/// Key under which each datafile's sha256 is stored.
pub const CHECKSUM_FIELD: &str = "$file_sha256sum";

/// The six positional inputs of `qontract-bundler`.
#[derive(Debug, Clone)]
pub struct BundleInputs {
    /// JSON-schema directory (qontract-schemas `schemas/`). An empty path means "no JSON
    /// schemas" (the bundle's `schemas` map is then empty), for embedded runs of a data
    /// directory without a qontract-schemas checkout next to it.
    pub schemas_dir: PathBuf,
    /// GraphQL conf schema file (`graphql-schemas/schema.yml`).
    pub graphql_schema_file: PathBuf,
    /// Datafile directory (`data/`).
    pub data_dir: PathBuf,
    /// Resource directory (`resources/`).
    pub resources_dir: PathBuf,
    /// Git commit recorded in the bundle.
    pub git_commit: String,
    /// Git commit timestamp recorded in the bundle (seconds, as given).
    pub git_commit_timestamp: String,
}

/// One problem in the data, located by file and JSON pointer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// File on disk the problem is in.
    pub file: String,
    /// JSON pointer inside the file (`""` for the whole file).
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}: {}", self.file, self.pointer, self.message)
    }
}

/// Why a bundle could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// A file or directory could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// Underlying error.
        source: std::io::Error,
    },
    /// A file is not valid YAML/JSON/UTF-8.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// Parser message with line and column.
        message: String,
    },
    /// The data is inconsistent; every problem is listed.
    #[error("{} problem(s) in the data:\n{}", .0.len(), .0.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Problem>),
}

/// Builds the bundle value (see the crate docs). Errors list every problem found.
pub fn build_bundle(inputs: &BundleInputs) -> Result<Value, BundleError> {
    let with_schemas = !inputs.schemas_dir.as_os_str().is_empty();
    for dir in [&inputs.schemas_dir, &inputs.data_dir, &inputs.resources_dir] {
        if dir.as_os_str().is_empty() && !with_schemas {
            continue;
        }
        if !dir.is_dir() {
            return Err(BundleError::Io {
                path: dir.display().to_string(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "not a directory"),
            });
        }
    }
    let schemas = if with_schemas {
        files::bundle_datafiles(&inputs.schemas_dir, None)?
    } else {
        Map::new()
    };
    let (graphql, _) = parse_markup_file(&inputs.graphql_schema_file)?;
    let data = files::bundle_datafiles(&inputs.data_dir, Some(CHECKSUM_FIELD))?;
    let resources = files::bundle_resources(&inputs.resources_dir)?;

    let mut bundle = Map::new();
    bundle.insert(
        "git_commit".to_owned(),
        Value::String(inputs.git_commit.clone()),
    );
    bundle.insert(
        "git_commit_timestamp".to_owned(),
        Value::String(inputs.git_commit_timestamp.clone()),
    );
    bundle.insert("schemas".to_owned(), Value::Object(schemas));
    bundle.insert("graphql".to_owned(), graphql.unwrap_or(Value::Null));
    bundle.insert("data".to_owned(), Value::Object(data));
    bundle.insert("resources".to_owned(), Value::Object(resources));

    let mut problems = check_data(&bundle, &inputs.data_dir);
    let missing = postprocess::postprocess(&mut bundle, CHECKSUM_FIELD);
    for m in missing {
        problems.push(Problem {
            file: file_of(&inputs.data_dir, &m.datafile),
            pointer: jsonpath_to_pointer(&m.jsonpath),
            message: format!(
                "resource file {} not found in {}",
                m.resource,
                inputs.resources_dir.display()
            ),
        });
    }
    if problems.is_empty() {
        Ok(Value::Object(bundle))
    } else {
        Err(BundleError::Invalid(problems))
    }
}

/// The bundle file text: Python-compatible compact sorted JSON plus a newline.
pub fn bundle_to_json(bundle: &Value) -> String {
    let mut out = pyjson::to_string(bundle);
    out.push('\n');
    out
}

fn file_of(data_dir: &Path, bundle_path: &str) -> String {
    data_dir
        .join(bundle_path.trim_start_matches('/'))
        .display()
        .to_string()
}

fn jsonpath_to_pointer(jsonpath: &str) -> String {
    jsonpath
        .split('.')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let s = s
                .strip_prefix('[')
                .and_then(|s| s.strip_suffix(']'))
                .unwrap_or(s);
            format!("/{}", s.replace('~', "~0").replace('/', "~1"))
        })
        .collect()
}

/// Missing/unknown `$schema` and dangling `$ref`s.
fn check_data(bundle: &Map<String, Value>, data_dir: &Path) -> Vec<Problem> {
    let empty = Map::new();
    let data = bundle
        .get("data")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let schemas = bundle
        .get("schemas")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let mut problems = Vec::new();
    for (path, datafile) in data {
        let file = file_of(data_dir, path);
        match datafile.get("$schema") {
            Some(Value::String(s)) if !s.is_empty() => {
                // Without JSON schemas (embedded runs) any `$schema` is accepted.
                if !schemas.is_empty() && !schemas.contains_key(s) {
                    problems.push(Problem {
                        file: file.clone(),
                        pointer: "/$schema".to_owned(),
                        message: format!("unknown schema {s}"),
                    });
                }
            }
            _ => problems.push(Problem {
                file: file.clone(),
                pointer: String::new(),
                message: "missing `$schema`".to_owned(),
            }),
        }
        let mut pointer = String::new();
        find_dangling_refs(datafile, data, &file, &mut pointer, &mut problems);
    }
    problems
}

fn find_dangling_refs(
    value: &Value,
    data: &Map<String, Value>,
    file: &str,
    pointer: &mut String,
    problems: &mut Vec<Problem>,
) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                let target_file = target.split(['#', '$']).next().unwrap_or(target);
                if !data.contains_key(target_file) {
                    problems.push(Problem {
                        file: file.to_owned(),
                        pointer: pointer.clone(),
                        message: format!("dangling $ref: {target} does not exist"),
                    });
                }
            }
            for (k, v) in map {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&k.replace('~', "~0").replace('/', "~1"));
                find_dangling_refs(v, data, file, pointer, problems);
                pointer.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&i.to_string());
                find_dangling_refs(v, data, file, pointer, problems);
                pointer.truncate(len);
            }
        }
        _ => {}
    }
}
