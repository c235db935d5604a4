//! Redacted views of object bodies: Secret values never reach logs, plans or snapshots.

use std::fmt;

use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::annotations::LAST_APPLIED_CONFIGURATION;

/// Placeholder written instead of a Secret value.
pub const REDACTED: &str = "<redacted>";

/// A body that displays and serialises with Secret `data`/`stringData` values (and a Secret's
/// `last-applied-configuration` annotation, which repeats them) replaced by `<redacted>`.
/// Keys are kept so reviewers still see which entries exist.
#[derive(Clone, Copy)]
pub struct RedactedBody<'a> {
    body: &'a Value,
}

impl<'a> RedactedBody<'a> {
    /// Wraps `body`.
    pub fn new(body: &'a Value) -> Self {
        Self { body }
    }

    /// True if the body is a Secret, i.e. redaction changes something.
    pub fn is_secret(&self) -> bool {
        self.body.get("kind").and_then(Value::as_str) == Some("Secret")
    }

    /// The redacted copy of the body.
    pub fn to_value(&self) -> Value {
        if !self.is_secret() {
            return self.body.clone();
        }
        redact_secret(self.body)
    }
}

/// The keys of a Secret's `data` and `stringData`, sorted and de-duplicated.
pub fn secret_keys(body: &Value) -> Vec<String> {
    let mut keys: Vec<String> = ["data", "stringData"]
        .iter()
        .filter_map(|field| body.get(*field).and_then(Value::as_object))
        .flat_map(|map| map.keys().cloned())
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

fn redact_secret(body: &Value) -> Value {
    let mut copy = body.clone();
    if let Value::Object(root) = &mut copy {
        for field in ["data", "stringData"] {
            match root.get_mut(field) {
                Some(Value::Object(values)) => {
                    for value in values.values_mut() {
                        *value = Value::String(REDACTED.to_owned());
                    }
                }
                Some(Value::Null) | None => {}
                Some(other) => *other = Value::String(REDACTED.to_owned()),
            }
        }
        if let Some(Value::Object(annotations)) = root
            .get_mut("metadata")
            .and_then(|metadata| metadata.get_mut("annotations"))
            && let Some(value) = annotations.get_mut(LAST_APPLIED_CONFIGURATION)
        {
            *value = Value::String(REDACTED.to_owned());
        }
    }
    copy
}

impl fmt::Display for RedactedBody<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_secret() {
            fmt::Display::fmt(&redact_secret(self.body), formatter)
        } else {
            fmt::Display::fmt(self.body, formatter)
        }
    }
}

impl fmt::Debug for RedactedBody<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, formatter)
    }
}

impl Serialize for RedactedBody<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.is_secret() {
            redact_secret(self.body).serialize(serializer)
        } else {
            self.body.serialize(serializer)
        }
    }
}

/// Redacts in place: used for error messages that would otherwise quote a Secret.
pub fn redact_value_in_place(body: &mut Value) {
    if body.get("kind").and_then(Value::as_str) == Some("Secret") {
        *body = redact_secret(body);
    }
}
