//! Reading the schema, data and resource directories the way the upstream bundler does.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::{BundleError, yaml11};

/// Files of `dir` (dot-files skipped) in Python `os.walk(dir, topdown=False)` order: the files
/// of each sub-directory (recursively, in directory-listing order) before the directory's own.
/// The order matters: it is the order of `backrefs` in the bundle.
pub(crate) fn walk(dir: &Path) -> Result<Vec<PathBuf>, BundleError> {
    let mut out = Vec::new();
    walk_into(dir, &mut out)?;
    Ok(out)
}

fn walk_into(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), BundleError> {
    let io = |source| BundleError::Io {
        path: dir.display().to_string(),
        source,
    };
    let mut subdirs = Vec::new();
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        // is_dir follows symlinks (like DirEntry.is_dir()); symlinked dirs are not walked into
        let is_dir = path.is_dir();
        if is_dir {
            let is_symlink = entry.file_type().map(|t| t.is_symlink()).unwrap_or(false);
            if !is_symlink {
                subdirs.push(path);
            }
        } else if !entry.file_name().to_string_lossy().starts_with('.') {
            files.push(path);
        }
    }
    for sub in subdirs {
        walk_into(&sub, out)?;
    }
    out.extend(files);
    Ok(())
}

/// Bundle key of `file` under `root`: `/sub/dir/file.yml`.
pub(crate) fn bundle_path(root: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(root).unwrap_or(file);
    let mut out = String::new();
    for comp in rel.components() {
        out.push('/');
        out.push_str(&comp.as_os_str().to_string_lossy());
    }
    out
}

/// Lowercase hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest {
        s.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        s.push(char::from(b"0123456789abcdef"[usize::from(b & 0xf)]));
    }
    s
}

fn is_markup(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yml" | "yaml" | "json")
    )
}

/// Parses one YAML/JSON file like `parse_anymarkup_file`: text mode (universal newlines),
/// YAML 1.1 for `.yml`/`.yaml`, JSON for `.json`. Returns the value and the sha256 of the text.
pub fn parse_markup_file(path: &Path) -> Result<(Option<Value>, String), BundleError> {
    let bytes = std::fs::read(path).map_err(|source| BundleError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let raw = String::from_utf8(bytes).map_err(|e| BundleError::Parse {
        path: path.display().to_string(),
        message: format!("not valid UTF-8: {e}"),
    })?;
    // Python's text mode translates \r\n and \r to \n before hashing and parsing
    let text = if raw.contains('\r') {
        raw.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        raw
    };
    let checksum = sha256_hex(text.as_bytes());
    let parse_err = |message: String| BundleError::Parse {
        path: path.display().to_string(),
        message,
    };
    let value = if path.extension().and_then(|e| e.to_str()) == Some("json") {
        Some(
            serde_json::from_str::<Value>(&text)
                .map_err(|e| parse_err(format!("invalid JSON: {e}")))?,
        )
    } else {
        yaml11::load(&text).map_err(|e| parse_err(format!("invalid YAML: {e}")))?
    };
    Ok((value, checksum))
}

/// Runs `f` over `items` on a few threads, keeping the input order.
fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    if threads <= 1 || items.len() < 64 {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| {
                let f = &f;
                scope.spawn(move || part.iter().map(f).collect::<Vec<R>>())
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// `bundle_datafiles`: every `.yml/.yaml/.json` file under `dir`, keyed by bundle path, empty
/// documents skipped; with `checksum_field`, the file's sha256 is stored under that key.
pub(crate) fn bundle_datafiles(
    dir: &Path,
    checksum_field: Option<&str>,
) -> Result<Map<String, Value>, BundleError> {
    let files: Vec<PathBuf> = walk(dir)?.into_iter().filter(|p| is_markup(p)).collect();
    let parsed = parallel_map(&files, |p| parse_markup_file(p));
    let mut out = Map::new();
    for (path, result) in files.iter().zip(parsed) {
        let (value, checksum) = result?;
        let Some(mut value) = value else { continue };
        if let Some(field) = checksum_field {
            match &mut value {
                Value::Object(map) => {
                    map.insert(field.to_owned(), Value::String(checksum));
                }
                _ => {
                    return Err(BundleError::Parse {
                        path: path.display().to_string(),
                        message: "a datafile must be a mapping at the top level".to_owned(),
                    });
                }
            }
        }
        out.insert(bundle_path(dir, path), value);
    }
    Ok(out)
}

/// The `$schema: x.yml` line of a YAML resource (`^\$schema: (.+\.ya?ml)$`, multiline).
pub(crate) fn resource_schema(path: &Path, content: &str) -> Option<String> {
    if !matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yml" | "yaml")
    ) {
        return None;
    }
    content.split('\n').find_map(|line| {
        let rest = line.strip_prefix("$schema: ")?;
        let stem = rest
            .strip_suffix(".yml")
            .or_else(|| rest.strip_suffix(".yaml"))?;
        (!stem.is_empty()).then(|| rest.to_owned())
    })
}

/// `bundle_resources`: every file under `dir` with its content, sha256 and sniffed `$schema`.
pub(crate) fn bundle_resources(dir: &Path) -> Result<Map<String, Value>, BundleError> {
    let files = walk(dir)?;
    let read = parallel_map(&files, |p| std::fs::read(p));
    let mut out = Map::new();
    for (path, bytes) in files.iter().zip(read) {
        let bytes = bytes.map_err(|source| BundleError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let sha = sha256_hex(&bytes);
        let content = String::from_utf8(bytes).map_err(|e| BundleError::Parse {
            path: path.display().to_string(),
            message: format!("resource file is not valid UTF-8: {e}"),
        })?;
        let key = bundle_path(dir, path);
        let mut resource = Map::new();
        resource.insert("path".to_owned(), Value::String(key.clone()));
        resource.insert(
            "$schema".to_owned(),
            resource_schema(path, &content).map_or(Value::Null, Value::String),
        );
        resource.insert("content".to_owned(), Value::String(content));
        resource.insert("sha256sum".to_owned(), Value::String(sha));
        resource.insert("backrefs".to_owned(), Value::Array(Vec::new()));
        out.insert(key, Value::Object(resource));
    }
    Ok(out)
}
