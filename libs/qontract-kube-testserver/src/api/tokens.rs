//! The service-account token controller of kube-controller-manager (`TokensController`): a
//! `kubernetes.io/service-account-token` Secret whose `kubernetes.io/service-account.name`
//! names a ServiceAccount of its namespace gets `data.token` (a JWT-shaped token), `data.ca.crt`
//! and `data.namespace`, and the `kubernetes.io/service-account.uid` annotation, written by
//! the manager `kube-controller-manager` right after the write that made it fillable (the
//! Secret's creation, or its ServiceAccount's). The create response is the Secret as stored
//! before the controller ran, as on a real server. A Secret whose ServiceAccount does not exist
//! stays without token (the real controller deletes it shortly after).
//!
//! `ca.crt` is a placeholder certificate text, not the serving CA.

use serde_json::{Map, Value, json};

use super::{Managed, State, in_namespace, key};
use crate::util::get_str;

/// The Secret type the controller fills.
pub(crate) const TOKEN_TYPE: &str = "kubernetes.io/service-account-token";
const SA_NAME: &str = "kubernetes.io/service-account.name";
const SA_UID: &str = "kubernetes.io/service-account.uid";
const MANAGER: &str = "kube-controller-manager";
const CA: &str =
    "-----BEGIN CERTIFICATE-----\nkube-testserver placeholder CA\n-----END CERTIFICATE-----\n";

fn b64(bytes: &[u8], url: bool) -> String {
    let alphabet: &[u8; 64] = if url {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    } else {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    };
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(alphabet[((n >> (18 - 6 * i)) & 63) as usize]));
        }
        if !url {
            for _ in chunk.len()..3 {
                out.push('=');
            }
        }
    }
    out
}

/// Base64 (standard, padded) as Secret `data` holds it.
pub(crate) fn encode(text: &str) -> String {
    b64(text.as_bytes(), false)
}

impl State {
    /// Fill the token Secrets of namespace `ns` that are waiting for the controller.
    pub(super) fn token_controller(&mut self, ns: &str) {
        let Some(secrets) = self.registry.find_plural("", "v1", "secrets").cloned() else {
            return;
        };
        let pending: Vec<Value> = self
            .objects
            .get(&key(&secrets))
            .map(|m| {
                in_namespace(m, ns)
                    .map(|(_, s)| s)
                    .filter(|s| {
                        get_str(s, &["type"]) == Some(TOKEN_TYPE)
                            && s.pointer("/data/token").is_none()
                            && s.pointer("/metadata/deletionTimestamp").is_none()
                    })
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        for secret in pending {
            let Some(sa_name) = secret
                .pointer("/metadata/annotations")
                .and_then(|a| a.get(SA_NAME))
                .and_then(Value::as_str)
                .map(str::to_owned)
            else {
                continue;
            };
            let Some(sa_uid) = self
                .objects
                .get(&(String::new(), "serviceaccounts".to_owned()))
                .and_then(|m| m.get(&(ns.to_owned(), sa_name.clone())))
                .and_then(|sa| get_str(sa, &["metadata", "uid"]))
                .map(str::to_owned)
            else {
                continue;
            };
            let name = get_str(&secret, &["metadata", "name"])
                .unwrap_or_default()
                .to_owned();
            let claims = json!({
                "iss": "kubernetes/serviceaccount",
                "kubernetes.io/serviceaccount/namespace": ns,
                "kubernetes.io/serviceaccount/secret.name": name,
                "kubernetes.io/serviceaccount/service-account.name": sa_name,
                "kubernetes.io/serviceaccount/service-account.uid": sa_uid,
                "sub": format!("system:serviceaccount:{ns}:{sa_name}"),
            });
            let signature = self.rng.uuid();
            let token = format!(
                "{}.{}.{}",
                b64(br#"{"alg":"RS256","kid":"kube-testserver"}"#, true),
                b64(claims.to_string().as_bytes(), true),
                b64(signature.as_bytes(), true),
            );
            let mut new = secret.clone();
            if let Some(object) = new.as_object_mut() {
                let data = object
                    .entry("data")
                    .or_insert_with(|| Value::Object(Map::new()));
                if !data.is_object() {
                    *data = Value::Object(Map::new());
                }
                if let Some(data) = data.as_object_mut() {
                    data.insert("ca.crt".into(), json!(encode(CA)));
                    data.insert("namespace".into(), json!(encode(ns)));
                    data.insert("token".into(), json!(encode(&token)));
                }
            }
            if let Some(annotations) = new
                .pointer_mut("/metadata/annotations")
                .and_then(Value::as_object_mut)
            {
                annotations.insert(SA_UID.into(), json!(sa_uid));
            }
            let result = self.commit(
                &secrets,
                Some(ns),
                &name,
                Some(secret),
                new,
                Managed::Update(MANAGER.to_owned()),
                None,
                false,
            );
            if let Err(e) = result {
                tracing::warn!("token controller: {ns}/{name}: {e:?}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_as_the_standard_encodings() {
        assert_eq!(encode(""), "");
        assert_eq!(encode("f"), "Zg==");
        assert_eq!(encode("fo"), "Zm8=");
        assert_eq!(encode("foo"), "Zm9v");
        assert_eq!(encode("ci"), "Y2k=");
        assert_eq!(b64(&[0xfb, 0xff], true), "-_8");
    }
}
