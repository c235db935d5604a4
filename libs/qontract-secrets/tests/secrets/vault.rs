//! The Vault backend against a real OpenBao dev server.

use std::time::Duration;

use qontract_secrets::{
    ManualClock, Secret, SecretBackendKind, SecretError, SecretReader, VaultAuth, VaultSecret,
    VaultSecretReader, create_secret_reader,
};
use serde_json::json;

use crate::admin::{Vault, unique_value};
use crate::logs::remember;

fn strip_server(message: String, vault: &Vault) -> String {
    message.replace(vault.url(), "VAULT")
}

#[tokio::test]
async fn kv2_pinned_latest_and_missing_versions() {
    let vault = Vault::start().await;
    let first = unique_value("kv2-first");
    let second = unique_value("kv2-second");
    remember(&first);
    remember(&second);
    assert_eq!(
        vault
            .put_v2("secret/app/db", json!({"password": first, "user": "app"}))
            .await,
        1
    );
    assert_eq!(
        vault
            .put_v2("secret/app/db", json!({"password": second, "user": "app"}))
            .await,
        2
    );
    let reader = vault.root_reader().await;

    let pinned1 = reader
        .read(&VaultSecret::new("secret/app/db", "password").with_version(1))
        .await
        .unwrap();
    assert_eq!(pinned1.expose(), first);
    let pinned2 = reader
        .read(&VaultSecret::new("secret/app/db", "password").with_version(2))
        .await
        .unwrap();
    assert_eq!(pinned2.expose(), second);
    // Unpinned on KV v2 = latest (the Python tool raises SecretVersionIsNoneError here).
    let latest = reader
        .read(&VaultSecret::new("secret/app/db", "password"))
        .await
        .unwrap();
    assert_eq!(latest.expose(), second);

    let all = reader.read_all("secret/app/db", None).await.unwrap();
    assert_eq!(all.version, Some(2));
    assert_eq!(all.fields.keys().collect::<Vec<_>>(), ["password", "user"]);
    assert_eq!(all.get("user").map(Secret::expose), Some("app"));
    let all1 = reader.read_all("secret/app/db", Some(1)).await.unwrap();
    assert_eq!(all1.version, Some(1));
    assert_eq!(
        all1.get("password").map(Secret::expose),
        Some(first.as_str())
    );

    let missing_version = reader
        .read(&VaultSecret::new("secret/app/db", "password").with_version(7))
        .await
        .unwrap_err();
    assert!(matches!(
        missing_version,
        SecretError::VersionNotFound { version: 7, .. }
    ));
    assert_eq!(
        missing_version.to_string(),
        "version 7 of secret secret/app/db not found (versions 1..=2 exist, current is 2)"
    );

    vault
        .post("secret/delete/app/db", json!({"versions": [1]}))
        .await;
    reader.clear_cache();
    let deleted = reader
        .read(&VaultSecret::new("secret/app/db", "password").with_version(1))
        .await
        .unwrap_err();
    assert_eq!(
        deleted.to_string(),
        "version 1 of secret secret/app/db not found (deleted; current version is 2)"
    );

    let missing_secret = reader
        .read(&VaultSecret::new("secret/app/nothing", "password"))
        .await
        .unwrap_err();
    assert_eq!(
        strip_server(missing_secret.to_string(), &vault),
        "secret not found: secret/app/nothing (vault VAULT)"
    );
    let missing_field = reader
        .read(&VaultSecret::new("secret/app/db", "token").with_version(2))
        .await
        .unwrap_err();
    assert_eq!(
        missing_field.to_string(),
        "field token not found in secret secret/app/db (version 2)"
    );
}

#[tokio::test]
async fn kv1_mounts_are_detected_and_ignore_versions() {
    let vault = Vault::start().await;
    vault.enable_kv1("kv1").await;
    let value = unique_value("kv1-value");
    remember(&value);
    vault
        .put_v1("kv1/team/creds", json!({"token": value, "port": 5432}))
        .await;
    let reader = vault.root_reader().await;

    let plain = reader
        .read(&VaultSecret::new("kv1/team/creds", "token"))
        .await
        .unwrap();
    assert_eq!(plain.expose(), value);
    let versioned = reader
        .read(&VaultSecret::new("kv1/team/creds", "token").with_version(3))
        .await
        .unwrap();
    assert_eq!(versioned.expose(), value);
    let all = reader.read_all("kv1/team/creds", None).await.unwrap();
    assert_eq!(all.version, None);
    // Non-string values come back as their JSON text.
    assert_eq!(all.get("port").map(Secret::expose), Some("5432"));

    let missing = reader.read_all("kv1/team/other", None).await.unwrap_err();
    assert!(
        matches!(missing, SecretError::SecretNotFound { .. }),
        "{missing}"
    );

    // A mount that is not KV at all.
    let not_kv = reader.read_all("cubbyhole/x", None).await.unwrap_err();
    assert!(matches!(not_kv, SecretError::NotKv { .. }), "{not_kv}");
    assert!(
        not_kv
            .to_string()
            .contains("mount cubbyhole/ is of type cubbyhole"),
        "{not_kv}"
    );
}

#[tokio::test]
async fn base64_format_is_decoded() {
    let vault = Vault::start().await;
    let decoded = format!("{}\nsecond line ✓", unique_value("b64"));
    remember(&decoded);
    let encoded = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(&decoded)
    };
    remember(&encoded);
    vault
        .put_v2(
            "secret/b64",
            json!({"cert": encoded, "plain": "not*base64"}),
        )
        .await;
    let reader = vault.root_reader().await;
    let value = reader
        .read(&VaultSecret::new("secret/b64", "cert").with_format("base64"))
        .await
        .unwrap();
    assert_eq!(value.expose(), decoded);
    let raw = reader
        .read(&VaultSecret::new("secret/b64", "cert").with_format("plain"))
        .await
        .unwrap();
    assert_eq!(raw.expose(), encoded);
    let bad = reader
        .read(&VaultSecret::new("secret/b64", "plain").with_format("base64"))
        .await
        .unwrap_err();
    assert_eq!(
        bad.to_string(),
        "cannot decode field plain of secret secret/b64 (version 1): value is not valid base64"
    );
}

#[tokio::test]
async fn approle_login_and_forbidden_path() {
    let vault = Vault::start().await;
    vault
        .put_v2("secret/allowed/app", json!({"key": "a"}))
        .await;
    let hidden = unique_value("forbidden");
    remember(&hidden);
    vault
        .put_v2("secret/forbidden/app", json!({"key": hidden}))
        .await;
    let (role_id, secret_id) = vault
        .approle(
            "reader",
            r#"path "secret/data/allowed/*" { capabilities = ["read"] }"#,
            "1h",
        )
        .await;
    remember(&secret_id);
    let reader = VaultSecretReader::connect(vault.settings(VaultAuth::AppRole {
        mount: "approle".into(),
        role_id: role_id.clone(),
        secret_id: Secret::new(secret_id),
    }))
    .await
    .expect("approle login");

    let allowed = reader
        .read(&VaultSecret::new("secret/allowed/app", "key"))
        .await
        .unwrap();
    assert_eq!(allowed.expose(), "a");
    let forbidden = reader
        .read(&VaultSecret::new("secret/forbidden/app", "key"))
        .await
        .unwrap_err();
    assert!(
        matches!(forbidden, SecretError::Forbidden { .. }),
        "{forbidden}"
    );
    assert_eq!(
        strip_server(forbidden.to_string(), &vault),
        "access to secret secret/forbidden/app forbidden by Vault VAULT \
         (HTTP 403: 1 error occurred: * permission denied)"
    );

    let bad_login = VaultSecretReader::connect(vault.settings(VaultAuth::AppRole {
        mount: "approle".into(),
        role_id,
        secret_id: Secret::new("00000000-0000-0000-0000-000000000000"),
    }))
    .await
    .unwrap_err();
    assert!(
        matches!(bad_login, SecretError::Login { .. }),
        "{bad_login}"
    );
    assert!(
        strip_server(bad_login.to_string(), &vault)
            .starts_with("Vault VAULT login with approle (mount approle) failed: HTTP 400"),
        "{bad_login}"
    );
}

#[tokio::test]
async fn token_auth_rejects_bad_tokens_and_kubernetes_names_the_jwt_file() {
    let vault = Vault::start().await;
    let err = VaultSecretReader::connect(vault.settings(VaultAuth::Token(Secret::new("nope"))))
        .await
        .unwrap_err();
    assert_eq!(
        strip_server(err.to_string(), &vault),
        "Vault VAULT login with token failed: HTTP 403: permission denied"
    );
    let missing_jwt = std::env::temp_dir().join(unique_value("no-such-jwt"));
    let err = VaultSecretReader::connect(vault.settings(VaultAuth::Kubernetes {
        mount: "kubernetes".into(),
        role: "qontract".into(),
        jwt_path: missing_jwt.clone(),
    }))
    .await
    .unwrap_err();
    assert!(matches!(err, SecretError::Login { .. }));
    assert!(
        err.to_string().contains(&format!(
            "cannot read the service-account token {}",
            missing_jwt.display()
        )),
        "{err}"
    );
}

/// Two thirds of a 1 h TTL, in seconds: when the reader logs in again / renews.
const REFRESH_AFTER_1H: u64 = 2400;

/// Accessors of the tokens Vault issued through `display_name_prefix` logins (`approle`).
async fn accessors_of(vault: &Vault, display_name_prefix: &str) -> Vec<String> {
    let listed = vault.get("auth/token/accessors?list=true").await;
    let mut found = Vec::new();
    for accessor in listed["data"]["keys"].as_array().unwrap() {
        let accessor = accessor.as_str().unwrap();
        let info = vault
            .post(
                "auth/token/lookup-accessor",
                json!({ "accessor": accessor }),
            )
            .await;
        if info["data"]["display_name"]
            .as_str()
            .is_some_and(|n| n.starts_with(display_name_prefix))
        {
            found.push(accessor.to_owned());
        }
    }
    found
}

/// The token is refreshed at two thirds of its TTL (as the reader's clock counts it), not
/// before; the new token is the one used afterwards (the old one revoked, reads still work
/// without another login).
#[tokio::test]
async fn relogin_at_two_thirds_of_the_token_ttl() {
    let vault = Vault::start().await;
    for (path, value) in [("a", "1"), ("b", "2"), ("c", "3")] {
        vault
            .put_v2(&format!("secret/ttl/{path}"), json!({ "k": value }))
            .await;
    }
    let (role_id, secret_id) = vault
        .approle(
            "short",
            r#"path "secret/data/ttl/*" { capabilities = ["read"] }"#,
            "1h",
        )
        .await;
    let clock = std::sync::Arc::new(ManualClock::new());
    let reader = VaultSecretReader::connect_with_clock(
        vault.settings(VaultAuth::AppRole {
            mount: "approle".into(),
            role_id,
            secret_id: Secret::new(secret_id),
        }),
        clock.clone(),
    )
    .await
    .unwrap();
    let read = |path: &'static str| {
        let reader = &reader;
        async move {
            reader
                .read(&VaultSecret::new(format!("secret/ttl/{path}"), "k"))
                .await
                .unwrap()
                .into_exposed()
        }
    };
    assert_eq!(read("a").await, "1");
    assert_eq!(reader.login_count(), 1);
    let first_login = accessors_of(&vault, "approle").await;
    assert_eq!(first_login.len(), 1, "{first_login:?}");

    // Just before the refresh point: the first token is still used.
    clock.advance(Duration::from_secs(REFRESH_AFTER_1H - 1));
    assert_eq!(read("b").await, "2");
    assert_eq!(reader.login_count(), 1);

    // Past it: the next call logs in again first.
    clock.advance(Duration::from_secs(2));
    assert_eq!(read("c").await, "3");
    assert_eq!(reader.login_count(), 2);
    assert_eq!(accessors_of(&vault, "approle").await.len(), 2);

    // Vault refuses the first token from now on; the reader no longer uses it.
    vault
        .post(
            "auth/token/revoke-accessor",
            json!({ "accessor": first_login[0] }),
        )
        .await;
    reader.clear_cache();
    assert_eq!(read("a").await, "1");
    assert_eq!(reader.login_count(), 2);
}

#[tokio::test]
async fn unpinned_reads_are_cached_per_run_or_for_a_ttl() {
    let vault = Vault::start().await;
    vault.put_v2("secret/cache", json!({"k": "old"})).await;
    let per_run = vault.root_reader().await;
    let mut daemon_settings = vault.root_settings();
    daemon_settings.unpinned_cache_ttl = Some(Duration::ZERO);
    let daemon = VaultSecretReader::connect(daemon_settings).await.unwrap();
    let latest = VaultSecret::new("secret/cache", "k");
    let pinned = VaultSecret::new("secret/cache", "k").with_version(1);
    for reader in [&per_run, &daemon] {
        assert_eq!(reader.read(&latest).await.unwrap().expose(), "old");
        assert_eq!(reader.read(&pinned).await.unwrap().expose(), "old");
    }
    // The unpinned read also filled the (path, version 1) entry.
    assert_eq!(per_run.vault_read_count(), 1);
    assert_eq!(daemon.vault_read_count(), 1);

    vault.put_v2("secret/cache", json!({"k": "new"})).await;
    assert_eq!(per_run.read(&latest).await.unwrap().expose(), "old");
    assert_eq!(daemon.read(&latest).await.unwrap().expose(), "new");
    // Pinned versions never expire.
    assert_eq!(daemon.read(&pinned).await.unwrap().expose(), "old");
    assert_eq!(per_run.vault_read_count(), 1);
    assert_eq!(daemon.vault_read_count(), 2);
}

/// Daemon mode: an unpinned read is served from the cache until `unpinned_cache_ttl` has
/// passed on the reader's clock, then read again (pinned versions stay cached).
#[tokio::test]
async fn unpinned_cache_entries_expire_after_their_ttl() {
    let vault = Vault::start().await;
    vault.put_v2("secret/ttl-cache", json!({"k": "old"})).await;
    let mut settings = vault.root_settings();
    settings.unpinned_cache_ttl = Some(Duration::from_secs(600));
    let clock = std::sync::Arc::new(ManualClock::new());
    let reader = VaultSecretReader::connect_with_clock(settings, clock.clone())
        .await
        .unwrap();
    let latest = VaultSecret::new("secret/ttl-cache", "k");
    let pinned = VaultSecret::new("secret/ttl-cache", "k").with_version(1);
    assert_eq!(reader.read(&latest).await.unwrap().expose(), "old");
    vault.put_v2("secret/ttl-cache", json!({"k": "new"})).await;

    clock.advance(Duration::from_secs(599));
    assert_eq!(reader.read(&latest).await.unwrap().expose(), "old");
    assert_eq!(reader.vault_read_count(), 1);

    clock.advance(Duration::from_secs(1));
    assert_eq!(reader.read(&latest).await.unwrap().expose(), "new");
    assert_eq!(reader.read(&pinned).await.unwrap().expose(), "old");
    assert_eq!(reader.vault_read_count(), 2);
}

#[tokio::test]
async fn server_stopped_mid_run_gives_a_clear_error() {
    let mut vault = Vault::start().await;
    vault.put_v2("secret/run/a", json!({"k": "v"})).await;
    let reader = vault.root_reader().await;
    assert_eq!(
        reader
            .read(&VaultSecret::new("secret/run/a", "k"))
            .await
            .unwrap()
            .expose(),
        "v"
    );

    vault.bao.service.stop();
    // Cached reads keep working; new reads fail after the bounded retries.
    assert_eq!(
        reader
            .read(&VaultSecret::new("secret/run/a", "k"))
            .await
            .unwrap()
            .expose(),
        "v"
    );
    let err = reader
        .read(&VaultSecret::new("secret/run/b", "k").with_version(1))
        .await
        .unwrap_err();
    match &err {
        SecretError::Unreachable {
            action, attempts, ..
        } => {
            assert_eq!(action, "reading secret secret/run/b (version 1)");
            assert_eq!(*attempts, 2);
        }
        other => panic!("expected Unreachable, got {other}"),
    }
    assert!(
        strip_server(err.to_string(), &vault)
            .starts_with("Vault VAULT unreachable while reading secret secret/run/b (version 1) (after 2 attempts): "),
        "{err}"
    );
}

#[tokio::test]
async fn vault_backend_without_settings_is_an_error() {
    crate::logs::init();
    let err = create_secret_reader(SecretBackendKind::Vault, None, toml::Table::new())
        .await
        .unwrap_err();
    assert!(matches!(err, SecretError::VaultConfig(_)));
    assert!(err.to_string().contains("no [vault] section"), "{err}");
}

#[tokio::test]
async fn concurrent_reads_of_one_secret_fetch_it_once() {
    let vault = Vault::start().await;
    vault
        .put_v2("secret/shared", json!({"a": "1", "b": "2"}))
        .await;
    let reader = std::sync::Arc::new(vault.root_reader().await);
    let mut tasks = Vec::new();
    for i in 0..20 {
        let reader = reader.clone();
        tasks.push(tokio::spawn(async move {
            let field = if i % 2 == 0 { "a" } else { "b" };
            reader
                .read(&VaultSecret::new("secret/shared", field).with_version(1))
                .await
                .map(Secret::into_exposed)
        }));
    }
    let mut values = Vec::new();
    for task in tasks {
        values.push(task.await.unwrap().unwrap());
    }
    assert_eq!(values.iter().filter(|v| *v == "1").count(), 10);
    assert_eq!(values.iter().filter(|v| *v == "2").count(), 10);
    assert_eq!(reader.vault_read_count(), 1);
}

/// A renewable static token is renewed (server-side: Vault records the renewal) at two thirds
/// of its TTL, not before, and the next renewal is scheduled from the renewed TTL.
#[tokio::test]
async fn renewable_tokens_are_renewed_at_two_thirds_of_their_ttl() {
    let vault = Vault::start().await;
    for (path, value) in [("a", "1"), ("b", "2"), ("c", "3"), ("d", "4")] {
        vault
            .put_v2(&format!("secret/renew/{path}"), json!({ "k": value }))
            .await;
    }
    let created = vault
        .post(
            "auth/token/create",
            json!({"ttl": "1h", "explicit_max_ttl": "24h", "renewable": true, "policies": ["root"]}),
        )
        .await;
    let token = created["auth"]["client_token"].as_str().unwrap().to_owned();
    let last_renewal = |token: String| {
        let vault = &vault;
        async move {
            let info = vault
                .post("auth/token/lookup", json!({ "token": token }))
                .await;
            info["data"]["last_renewal_time"].as_i64().unwrap_or(0)
        }
    };
    let clock = std::sync::Arc::new(ManualClock::new());
    let reader = VaultSecretReader::connect_with_clock(
        vault.settings(VaultAuth::Token(Secret::new(token.clone()))),
        clock.clone(),
    )
    .await
    .unwrap();
    let read = |path: &'static str| {
        let reader = &reader;
        async move {
            reader
                .read(&VaultSecret::new(format!("secret/renew/{path}"), "k"))
                .await
                .unwrap()
                .into_exposed()
        }
    };
    assert_eq!(read("a").await, "1");
    clock.advance(Duration::from_secs(REFRESH_AFTER_1H - 1));
    assert_eq!(read("b").await, "2");
    assert_eq!(reader.login_count(), 1);
    assert_eq!(last_renewal(token.clone()).await, 0, "renewed too early");

    clock.advance(Duration::from_secs(2));
    assert_eq!(read("c").await, "3");
    assert_eq!(reader.login_count(), 2);
    assert!(
        last_renewal(token.clone()).await > 0,
        "not renewed in Vault"
    );

    // The next renewal is due two thirds of the renewed TTL after this one.
    clock.advance(Duration::from_secs(REFRESH_AFTER_1H - 1));
    reader.clear_cache();
    assert_eq!(read("a").await, "1");
    assert_eq!(reader.login_count(), 2);
    clock.advance(Duration::from_secs(2));
    assert_eq!(read("d").await, "4");
    assert_eq!(reader.login_count(), 3);
}

/// A fake Kubernetes API answering every TokenReview with "authenticated as
/// system:serviceaccount:app-sre:qontract"; returns its URL and counts reviews.
async fn fake_token_review_api() -> (String, std::sync::Arc<std::sync::atomic::AtomicU32>) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let reviews = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let counter = reviews.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                // Read headers and the Content-Length body.
                loop {
                    let Ok(n) = socket.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&request).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text[..end]
                            .lines()
                            .find_map(|l| {
                                let (k, v) = l.split_once(':')?;
                                k.eq_ignore_ascii_case("content-length")
                                    .then(|| v.trim().parse::<usize>().ok())?
                            })
                            .unwrap_or(0);
                        if request.len() >= end + 4 + length {
                            break;
                        }
                    }
                }
                counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let body = json!({
                    "apiVersion": "authentication.k8s.io/v1",
                    "kind": "TokenReview",
                    "status": {
                        "authenticated": true,
                        "user": {
                            "username": "system:serviceaccount:app-sre:qontract",
                            "uid": "8c0bd1b6-0000-4000-8000-000000000001",
                            "groups": ["system:serviceaccounts"]
                        }
                    }
                })
                .to_string();
                let response = format!(
                    "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (url, reviews)
}

/// A throwaway self-signed CA (no key kept): Vault requires one; the fake API is plain HTTP.
const FAKE_KUBE_CA: &str = "-----BEGIN CERTIFICATE-----
MIIBhjCCASugAwIBAgIUMoUC20FbuaAGmwURBd6PG5tPWP4wCgYIKoZIzj0EAwIw
FzEVMBMGA1UEAwwMZmFrZS1rdWJlLWNhMCAXDTI2MTEyODIyNTQzMFoYDzIxMjYx
MTA0MjI1NDMwWjAXMRUwEwYDVQQDDAxmYWtlLWt1YmUtY2EwWTATBgcqhkjOPQIB
BggqhkjOPQMBBwNCAAT+EnlzaLPXe9MQeqQqhsE438kJM7V/9CrMVFpOwcGVmzA3
a7UHnsZfBdIJVag9MULTlmTEVkh8CGE4AAnOD2yzo1MwUTAdBgNVHQ4EFgQUyHCQ
Phea6XHP3h1OWi9Q5+qflWswHwYDVR0jBBgwFoAUyHCQPhea6XHP3h1OWi9Q5+qf
lWswDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEAutnD74+xQHLk
hzzZZVNbOJbNzgRYRoC66/nXw5LrMdMCIQDFB8J0ltx2Ei30UcqRQFJaUqtQcWwA
4vtA/dBbvxyLMg==
-----END CERTIFICATE-----";

fn fake_service_account_jwt() -> String {
    use base64::Engine as _;
    let b64 = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    format!(
        "{}.{}.{}",
        b64(json!({"alg": "RS256", "typ": "JWT"})),
        b64(json!({
            "iss": "kubernetes/serviceaccount",
            "kubernetes.io/serviceaccount/namespace": "app-sre",
            "kubernetes.io/serviceaccount/secret.name": "qontract-token",
            "kubernetes.io/serviceaccount/service-account.name": "qontract",
            "kubernetes.io/serviceaccount/service-account.uid": "8c0bd1b6-0000-4000-8000-000000000001",
            "sub": "system:serviceaccount:app-sre:qontract"
        })),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b"not-a-real-signature")
    )
}

#[tokio::test]
async fn kubernetes_login_reads_the_service_account_jwt() {
    let vault = Vault::start().await;
    let (kube_api, reviews) = fake_token_review_api().await;
    vault
        .post("sys/auth/kube-test", json!({"type": "kubernetes"}))
        .await;
    vault
        .post(
            "auth/kube-test/config",
            json!({
                "kubernetes_host": kube_api,
                "disable_local_ca_jwt": true,
                "kubernetes_ca_cert": FAKE_KUBE_CA,
            }),
        )
        .await;
    vault
        .call_put_policy(
            "kube-reader",
            r#"path "secret/data/kube/*" { capabilities = ["read"] }"#,
        )
        .await;
    vault
        .post(
            "auth/kube-test/role/qontract",
            json!({
                "bound_service_account_names": ["qontract"],
                "bound_service_account_namespaces": ["app-sre"],
                "token_policies": ["kube-reader"],
                "token_ttl": "1h"
            }),
        )
        .await;
    vault
        .put_v2("secret/kube/app", json!({"k": "from-kube-login"}))
        .await;
    let dir = tempfile::tempdir().unwrap();
    let jwt_path = dir.path().join("token");
    std::fs::write(&jwt_path, format!("{}\n", fake_service_account_jwt())).unwrap();

    let fields = qontract_secrets::VaultConfigFields {
        server: Some(vault.url().to_owned()),
        kube_auth_role: Some("qontract".into()),
        kube_auth_mount: Some("kube-test".into()),
        ..Default::default()
    };
    let path_text = jwt_path.display().to_string();
    let mut settings = qontract_secrets::VaultSettings::from_config(&fields, |k| {
        (k == "KUBE_SA_TOKEN_PATH").then(|| path_text.clone())
    })
    .unwrap();
    settings.retry = vault.root_settings().retry;
    let reader = VaultSecretReader::connect(settings)
        .await
        .expect("kubernetes login");
    assert!(reviews.load(std::sync::atomic::Ordering::Relaxed) >= 1);
    assert_eq!(
        reader
            .read(&VaultSecret::new("secret/kube/app", "k"))
            .await
            .unwrap()
            .expose(),
        "from-kube-login"
    );
    let forbidden = reader.read_all("secret/other", None).await.unwrap_err();
    assert!(
        matches!(forbidden, SecretError::Forbidden { .. }),
        "{forbidden}"
    );
}

#[tokio::test]
async fn revoked_tokens_are_replaced_by_a_new_login() {
    let vault = Vault::start().await;
    vault.put_v2("secret/revoke/a", json!({"k": "1"})).await;
    vault.put_v2("secret/revoke/b", json!({"k": "2"})).await;
    let (role_id, secret_id) = vault
        .approle(
            "revoked",
            r#"path "secret/data/revoke/*" { capabilities = ["read"] }"#,
            "1h",
        )
        .await;
    let reader = VaultSecretReader::connect(vault.settings(VaultAuth::AppRole {
        mount: "approle".into(),
        role_id,
        secret_id: Secret::new(secret_id),
    }))
    .await
    .unwrap();
    assert_eq!(
        reader
            .read(&VaultSecret::new("secret/revoke/a", "k"))
            .await
            .unwrap()
            .expose(),
        "1"
    );
    vault
        .post("sys/leases/revoke-prefix/auth/approle/login", json!({}))
        .await;
    assert_eq!(
        reader
            .read(&VaultSecret::new("secret/revoke/b", "k"))
            .await
            .unwrap()
            .expose(),
        "2"
    );
    assert_eq!(reader.login_count(), 2);
    // A path the policy denies stays forbidden and does not trigger more logins.
    let err = reader.read_all("secret/elsewhere", None).await.unwrap_err();
    assert!(matches!(err, SecretError::Forbidden { .. }), "{err}");
    assert_eq!(reader.login_count(), 2);
}

#[tokio::test]
async fn unreachable_vault_at_startup_names_the_server() {
    crate::logs::init();
    let server = format!("http://127.0.0.1:{}", crate::services::free_port());
    let mut settings =
        qontract_secrets::VaultSettings::new(server.clone(), VaultAuth::Token(Secret::new("t")));
    settings.retry = qontract_secrets::RetryPolicy {
        attempts: 3,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(20),
    };
    let err = VaultSecretReader::connect(settings).await.unwrap_err();
    assert!(
        matches!(err, SecretError::Unreachable { attempts: 3, .. }),
        "{err}"
    );
    assert!(
        err.to_string().starts_with(&format!(
            "Vault {server} unreachable while logging in with token (after 3 attempts): "
        )),
        "{err}"
    );
}
