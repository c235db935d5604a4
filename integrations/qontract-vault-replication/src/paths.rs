//! Which secret paths a replication covers: the `path "..."` lines of Vault policies and the
//! `secret-path:` lines of Jenkins configs, with upstream's selection rules (all pure; the
//! folder listings are done by the caller).

use std::sync::LazyLock;

use regex::Regex;

/// A policy path `vault-replication` accepts: a secret (`a/b/c`) or a folder (`a/b/` or
/// `a/b/*`), as upstream `SECRET_PATH_PATTERN`.
static SECRET_PATH_PATTERN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[\w/-]+?(?P<folder>/\*?)?$").expect("valid regex"));
static POLICY_PATH_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"path \s*['"](.+)['"]"#).expect("valid regex"));
static JENKINS_SECRET_PATH_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"secret-path:\s*['"](.+)['"]"#).expect("valid regex"));
static TEMPLATE_SLICE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(.*)(\{.*\})(.*)").expect("valid regex"));

/// A path selection error (upstream `VaultInvalidPathsError`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// A policy path that is neither a secret nor a folder.
    #[error(
        "invalid path to replicate {0:?} (expected a secret `a/b` or a folder `a/b/` or `a/b/*`)"
    )]
    InvalidPolicyPath(String),
    /// A Jenkins `secret-path` with `{` but no `{...}` path segment.
    #[error("invalid templated secret-path {0:?} (no path segment with {{...}})")]
    InvalidTemplate(String),
    /// Paths to replicate that the limiting policy does not allow.
    #[error("paths not allowed by policy {policy}: {}", paths.join(", "))]
    NotInPolicy {
        /// The policy's name.
        policy: String,
        /// The paths it does not cover.
        paths: Vec<String>,
    },
}

/// What one policy path selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicySelection {
    /// One secret.
    Secret(String),
    /// Every secret under this folder (ends with `/`), listed recursively.
    Folder(String),
}

/// The paths of a policy's `path "..."` lines, in order (upstream `get_policy_paths`).
pub fn policy_paths(rules: &str) -> Vec<String> {
    rules
        .split('\n')
        .filter_map(|line| POLICY_PATH_LINE.captures(line))
        .map(|c| c[1].to_owned())
        .collect()
}

/// Classifies a policy path (upstream `get_policy_secret_list`): a folder loses its trailing `*`.
pub fn policy_selection(path: &str) -> Result<PolicySelection, PathError> {
    let captures = SECRET_PATH_PATTERN
        .captures(path)
        .ok_or_else(|| PathError::InvalidPolicyPath(path.to_owned()))?;
    Ok(if captures.name("folder").is_some() {
        PolicySelection::Folder(path.trim_end_matches('*').to_owned())
    } else {
        PolicySelection::Secret(path.to_owned())
    })
}

/// The paths of `paths` that no policy path contains as a substring (upstream
/// `list_invalid_paths` / `_policy_contains_path`).
pub fn invalid_paths(paths: &[String], policy_paths: &[String]) -> Vec<String> {
    paths
        .iter()
        .filter(|p| !policy_paths.iter().any(|pp| pp.contains(p.as_str())))
        .cloned()
        .collect()
}

/// One `secret-path:` of a Jenkins config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JenkinsSecretPath {
    /// A literal secret path.
    Literal(String),
    /// A templated path (`a/{x}/b`): list `list_folder` and keep what [`expand_template`] keeps.
    Template {
        /// The templated path.
        path: String,
        /// The folder to list (the part before the template, up to its last `/`).
        list_folder: String,
    },
}

/// The `secret-path:` lines of a Jenkins config (upstream `get_jenkins_secret_list`).
pub fn jenkins_secret_paths(config: &str) -> Vec<JenkinsSecretPath> {
    config
        .split('\n')
        .filter(|line| line.contains("secret-path"))
        .filter_map(|line| JENKINS_SECRET_PATH_LINE.captures(line))
        .map(|c| {
            let path = c[1].to_owned();
            if path.contains('{') {
                let (start, _) = start_end(&path);
                JenkinsSecretPath::Template {
                    path,
                    list_folder: start,
                }
            } else {
                JenkinsSecretPath::Literal(path)
            }
        })
        .collect()
}

/// The fixed folder before a template and the fixed tail after it (upstream
/// `_get_start_end_secret`).
fn start_end(path: &str) -> (String, String) {
    let open = path.find('{').unwrap_or(path.len());
    let mut start = path[..open].to_owned();
    if !start.ends_with('/') {
        start = match start.rsplit_once('/') {
            Some((head, _)) => format!("{head}/"),
            None => format!("{start}/"),
        };
    }
    let end = match path.rfind('}') {
        Some(close) => match path[close..].find('/') {
            Some(slash) => path[close + slash..].to_owned(),
            None => String::new(),
        },
        None => String::new(),
    };
    (start, end)
}

/// The secrets of `listed` that match the templated `path` (upstream
/// `get_secrets_from_templated_path`): every fixed segment present, same start and tail, and the
/// text around the `{...}` of the templated segment present.
pub fn expand_template(path: &str, listed: &[String]) -> Result<Vec<String>, PathError> {
    let mut fixed = Vec::new();
    let mut template = None;
    for slice in path.split('/') {
        if slice.contains('{') && slice.contains('}') {
            template = Some(slice);
        } else {
            fixed.push(slice);
        }
    }
    let captures = template
        .and_then(|t| TEMPLATE_SLICE.captures(t))
        .ok_or_else(|| PathError::InvalidTemplate(path.to_owned()))?;
    let prefix = captures.get(1).map_or("", |m| m.as_str());
    let suffix = captures.get(3).map_or("", |m| m.as_str());
    let (start, end) = start_end(path);
    Ok(listed
        .iter()
        .filter(|secret| {
            let segments: Vec<&str> = secret.split('/').collect();
            // Upstream `any(item for item in ... if item not in ...)`: empty slices are falsy.
            !fixed
                .iter()
                .any(|item| !item.is_empty() && !segments.contains(item))
        })
        .filter(|secret| secret.starts_with(&start) && secret.ends_with(&end))
        .filter(|secret| secret.contains(prefix) && secret.contains(suffix))
        .cloned()
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_paths_are_read_from_path_lines() {
        let rules = "path \"app-sre/creds/*\" {\n  capabilities = [\"read\", \"list\"]\n}\n\
                     path 'app-sre/other/secret' {\n}\n# path without quotes\n";
        assert_eq!(
            policy_paths(rules),
            ["app-sre/creds/*", "app-sre/other/secret"]
        );
    }

    #[test]
    fn policy_paths_are_secrets_or_folders() {
        assert_eq!(
            policy_selection("app-sre/creds/*"),
            Ok(PolicySelection::Folder("app-sre/creds/".into()))
        );
        assert_eq!(
            policy_selection("app-sre/creds/"),
            Ok(PolicySelection::Folder("app-sre/creds/".into()))
        );
        assert_eq!(
            policy_selection("app-sre/creds/db"),
            Ok(PolicySelection::Secret("app-sre/creds/db".into()))
        );
        assert!(matches!(
            policy_selection("app-sre/+/x"),
            Err(PathError::InvalidPolicyPath(_))
        ));
        assert!(policy_selection("app-sre/*/x").is_err());
    }

    #[test]
    fn invalid_paths_are_those_no_policy_path_contains() {
        let policy = vec!["app-sre/ci/*".to_owned(), "app-sre/other/x".to_owned()];
        let paths = vec![
            "app-sre/ci/".to_owned(),
            "app-sre/other/x".to_owned(),
            "app-sre/ci/token".to_owned(),
        ];
        // Substring test, as upstream: `app-sre/ci/token` is not inside `app-sre/ci/*`.
        assert_eq!(invalid_paths(&paths, &policy), ["app-sre/ci/token"]);
    }

    #[test]
    fn jenkins_secret_paths_and_templates() {
        let config = "- job:\n    secret-path: \"app-sre/ci/token\"\n    \
                      secret-path: 'app-sre/ci/{env}-creds/key'\n    other: x\n";
        assert_eq!(
            jenkins_secret_paths(config),
            [
                JenkinsSecretPath::Literal("app-sre/ci/token".into()),
                JenkinsSecretPath::Template {
                    path: "app-sre/ci/{env}-creds/key".into(),
                    list_folder: "app-sre/ci/".into()
                }
            ]
        );
        assert_eq!(
            start_end("app-sre/ci/{env}-creds/key"),
            ("app-sre/ci/".to_owned(), "/key".to_owned())
        );
        assert_eq!(
            start_end("app-sre/ci/x{env}"),
            ("app-sre/ci/".to_owned(), String::new())
        );
        let listed: Vec<String> = [
            "app-sre/ci/stage-creds/key",
            "app-sre/ci/prod-creds/key",
            "app-sre/ci/prod-creds/other",
            "app-sre/ci/prod/key",
            "app-sre/ci/token",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        assert_eq!(
            expand_template("app-sre/ci/{env}-creds/key", &listed).unwrap(),
            ["app-sre/ci/stage-creds/key", "app-sre/ci/prod-creds/key"]
        );
        assert!(matches!(
            expand_template("app-sre/ci/{env", &listed),
            Err(PathError::InvalidTemplate(_))
        ));
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    /// The vectors of upstream `test_get_secrets_from_templated_path`.
    #[test]
    fn templated_paths_match_upstream_vectors() {
        let three = strings(&[
            "app-sre/test/path/test-1",
            "app-sre/test/path/test-2",
            "app-sre/example/path/test-1",
        ]);
        let two = strings(&["app-sre/test/path/test-1", "app-sre/test/path/test-2"]);
        let mut four = three.clone();
        four.push("app-sre/example/path2/test-1".to_owned());
        let cases: Vec<(&str, &[String], Vec<&str>)> = vec![
            (
                "app-sre/test/path/{template}-1",
                &three,
                vec!["app-sre/test/path/test-1"],
            ),
            (
                "app-sre/test/path/{template}",
                &three,
                vec!["app-sre/test/path/test-1", "app-sre/test/path/test-2"],
            ),
            (
                "app-sre/{template}/path/{template}",
                &four,
                vec![
                    "app-sre/test/path/test-1",
                    "app-sre/test/path/test-2",
                    "app-sre/example/path/test-1",
                ],
            ),
            (
                "app-sre/{template}/path/{template}-1",
                &two,
                vec!["app-sre/test/path/test-1"],
            ),
            (
                "app-sre/{template}/path/test-1",
                &two,
                vec!["app-sre/test/path/test-1"],
            ),
            (
                "app-sre/test/pa{th}/test-1",
                &two,
                vec!["app-sre/test/path/test-1"],
            ),
        ];
        for (path, listed, expected) in cases {
            assert_eq!(expand_template(path, listed).unwrap(), expected, "{path}");
        }
    }

    /// The vectors of upstream `test_get_policy_secret_list` / `..._failure`.
    #[test]
    fn policy_path_vectors_match_upstream() {
        assert_eq!(
            policy_selection("policy/p-a_th/3/secret1_1-1"),
            Ok(PolicySelection::Secret(
                "policy/p-a_th/3/secret1_1-1".into()
            ))
        );
        for bad in ["policy/path*", "policy/p*th", "policy/+/p*th"] {
            assert!(policy_selection(bad).is_err(), "{bad}");
        }
    }
}
