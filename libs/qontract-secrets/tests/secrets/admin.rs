//! Test-side administration of the OpenBao server (root token, raw HTTP API).

use std::time::Duration;

use qontract_secrets::{RetryPolicy, Secret, VaultAuth, VaultSecretReader, VaultSettings};
use serde_json::{Value, json};

use crate::services::Bao;

/// A started server plus a root HTTP client.
pub(crate) struct Vault {
    pub(crate) bao: Bao,
    http: reqwest::Client,
}

impl Vault {
    pub(crate) async fn start() -> Self {
        crate::logs::init();
        Self {
            bao: Bao::start().await,
            http: reqwest::Client::new(),
        }
    }

    pub(crate) fn url(&self) -> &str {
        &self.bao.url
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .http
            .request(method.clone(), format!("{}/v1/{path}", self.bao.url))
            .header("X-Vault-Token", Bao::ROOT_TOKEN);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert!(
            status.is_success(),
            "{method} {path}: HTTP {status}: {text}"
        );
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::Null)
        }
    }

    pub(crate) async fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    pub(crate) async fn get(&self, path: &str) -> Value {
        self.call(reqwest::Method::GET, path, None).await
    }

    /// Enables a KV v1 engine at `mount`.
    pub(crate) async fn enable_kv1(&self, mount: &str) {
        self.post(
            &format!("sys/mounts/{mount}"),
            json!({"type": "kv", "options": {"version": "1"}}),
        )
        .await;
    }

    /// Writes a new version of `path` on the default KV v2 mount `secret/`; returns the version.
    pub(crate) async fn put_v2(&self, path: &str, data: Value) -> u64 {
        let relative = path.strip_prefix("secret/").expect("path on secret/");
        let response = self
            .post(&format!("secret/data/{relative}"), json!({ "data": data }))
            .await;
        response["data"]["version"]
            .as_u64()
            .expect("version in KV v2 write response")
    }

    /// Creates or replaces ACL policy `name`.
    pub(crate) async fn call_put_policy(&self, name: &str, policy: &str) {
        self.call(
            reqwest::Method::PUT,
            &format!("sys/policies/acl/{name}"),
            Some(json!({ "policy": policy })),
        )
        .await;
    }

    /// Writes a KV v1 secret.
    pub(crate) async fn put_v1(&self, path: &str, data: Value) {
        self.post(path, data).await;
    }

    /// Creates policy `name` and an AppRole `role` with it; returns (role_id, secret_id).
    pub(crate) async fn approle(
        &self,
        role: &str,
        policy: &str,
        token_ttl: &str,
    ) -> (String, String) {
        let auths = self.get("sys/auth").await;
        if auths["data"]["approle/"].is_null() && auths["approle/"].is_null() {
            self.post("sys/auth/approle", json!({"type": "approle"}))
                .await;
        }
        self.call(
            reqwest::Method::PUT,
            &format!("sys/policies/acl/{role}"),
            Some(json!({ "policy": policy })),
        )
        .await;
        self.post(
            &format!("auth/approle/role/{role}"),
            json!({"token_policies": role, "token_ttl": token_ttl, "token_max_ttl": "1h"}),
        )
        .await;
        let role_id =
            self.get(&format!("auth/approle/role/{role}/role-id")).await["data"]["role_id"]
                .as_str()
                .expect("role_id")
                .to_owned();
        let secret_id = self
            .post(&format!("auth/approle/role/{role}/secret-id"), json!({}))
            .await["data"]["secret_id"]
            .as_str()
            .expect("secret_id")
            .to_owned();
        (role_id, secret_id)
    }

    /// Settings with the root token and fast retries.
    pub(crate) fn root_settings(&self) -> VaultSettings {
        self.settings(VaultAuth::Token(Secret::new(Bao::ROOT_TOKEN)))
    }

    pub(crate) fn settings(&self, auth: VaultAuth) -> VaultSettings {
        let mut settings = VaultSettings::new(self.bao.url.clone(), auth);
        settings.retry = RetryPolicy {
            attempts: 2,
            initial_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_millis(100),
        };
        settings.request_timeout = Duration::from_secs(10);
        settings
    }

    pub(crate) async fn root_reader(&self) -> VaultSecretReader {
        VaultSecretReader::connect(self.root_settings())
            .await
            .expect("connect with the root token")
    }
}

/// A value unique to this process and call, so log greps cannot match by accident.
pub(crate) fn unique_value(label: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{label}-{}-{nanos}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}
