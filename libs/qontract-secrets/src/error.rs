//! Errors of the secret readers. Every variant names the secret path (and field / version when
//! relevant); none carries a secret value.

/// An error and its sources on one line (`error: source: source`), each source's text left out
/// when the text so far already contains it (many errors repeat their source in their own
/// message). The one rendering of error chains in logs and registered errors.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let next = e.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = e.source();
    }
    text
}

/// Renders an optional version for messages: `latest` or `version N`.
pub(crate) struct VersionLabel(pub(crate) Option<u64>);

impl std::fmt::Display for VersionLabel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(v) => write!(f, "version {v}"),
            None => f.write_str("latest version"),
        }
    }
}

/// An error reading a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// No secret exists at the path.
    #[error("secret not found: {path} ({backend})")]
    SecretNotFound {
        /// Secret path.
        path: String,
        /// Where it was looked up (`vault https://...` or `config file`).
        backend: String,
    },
    /// The secret exists but has no such field.
    #[error("field {field} not found in secret {path} ({})", VersionLabel(*.version))]
    FieldNotFound {
        /// Secret path.
        path: String,
        /// Missing field.
        field: String,
        /// Version that was read.
        version: Option<u64>,
    },
    /// The secret exists but not at this version (never written, deleted or destroyed).
    #[error("version {version} of secret {path} not found ({detail})")]
    VersionNotFound {
        /// Secret path.
        path: String,
        /// Requested version.
        version: u64,
        /// What Vault says about the secret's versions.
        detail: String,
    },
    /// Vault refused access (HTTP 403): the token's policies do not allow reading the path.
    #[error("access to secret {path} forbidden by Vault {server} (HTTP 403{detail})")]
    Forbidden {
        /// Secret path.
        path: String,
        /// Vault address.
        server: String,
        /// Vault's messages, prefixed with `: ` (empty if none).
        detail: String,
    },
    /// Vault could not be reached (connection refused, timeout, TLS...), after retries.
    #[error("Vault {server} unreachable while {action} (after {attempts} attempts): {reason}")]
    Unreachable {
        /// Vault address.
        server: String,
        /// What was being done, naming the path (`reading secret app-sre/foo`).
        action: String,
        /// How many attempts were made.
        attempts: u32,
        /// The transport error.
        reason: String,
    },
    /// Vault answered with an error other than 403/404 (5xx after retries, 400...).
    #[error("Vault {server} returned HTTP {status} while {action}: {reason}")]
    Vault {
        /// Vault address.
        server: String,
        /// What was being done, naming the path.
        action: String,
        /// HTTP status (0 if the response could not be parsed).
        status: u16,
        /// Vault's error messages.
        reason: String,
    },
    /// Logging in to Vault failed (bad role/secret id, unreadable JWT, rejected token).
    #[error("Vault {server} login with {method} failed: {reason}")]
    Login {
        /// Vault address.
        server: String,
        /// Auth method (`token`, `approle (mount approle)`, `kubernetes (mount ..., role ...)`).
        method: String,
        /// Why.
        reason: String,
    },
    /// The `[vault]` settings are incomplete or invalid.
    #[error("invalid Vault settings: {0}")]
    VaultConfig(String),
    /// The config file (secret store of the config-file backend) cannot be parsed.
    #[error("cannot parse config file {origin}: {reason}")]
    ConfigFile {
        /// File name.
        origin: String,
        /// Parse error.
        reason: String,
    },
    /// The path is not under a KV secrets engine.
    #[error("secret {path} is not under a KV mount of Vault {server} ({detail})")]
    NotKv {
        /// Secret path.
        path: String,
        /// Vault address.
        server: String,
        /// What the mount is instead.
        detail: String,
    },
    /// `format` is neither `plain` nor `base64`.
    #[error(
        "unsupported format {format:?} for field {field} of secret {path} (expected plain or base64)"
    )]
    UnsupportedFormat {
        /// Secret path.
        path: String,
        /// Field.
        field: String,
        /// The format given.
        format: String,
    },
    /// The value could not be decoded per its `format`.
    #[error("cannot decode field {field} of secret {path} ({}): {reason}", VersionLabel(*.version))]
    Decode {
        /// Secret path.
        path: String,
        /// Field.
        field: String,
        /// Version read.
        version: Option<u64>,
        /// Why (never the value).
        reason: &'static str,
    },
}

#[cfg(test)]
mod error_chain_tests {
    #[derive(Debug, thiserror::Error)]
    enum Outer {
        #[error("reading creds/c1: {0}")]
        Repeats(#[source] std::io::Error),
        #[error("reading creds/c2")]
        Hides(#[source] std::io::Error),
    }

    #[test]
    fn sources_are_added_once() {
        let io = || std::io::Error::other("connection refused");
        assert_eq!(
            super::error_chain(&Outer::Repeats(io())),
            "reading creds/c1: connection refused"
        );
        assert_eq!(
            super::error_chain(&Outer::Hides(io())),
            "reading creds/c2: connection refused"
        );
    }
}
