//! Captures every tracing event of the test binary (at TRACE level, dependencies included) into
//! a buffer, and remembers the secret values the tests wrote, so that a test can check that no
//! secret value ever reaches the logs.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::json;

use crate::admin::{Vault, unique_value};

static BUFFER: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
static WRITTEN: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs the capturing subscriber (once per process).
pub(crate) fn init() {
    BUFFER.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || Capture(writer.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other global tracing subscriber in this test binary");
        buffer
    });
}

/// Records a secret value written by a test.
pub(crate) fn remember(value: &str) {
    WRITTEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(value.to_owned());
}

fn captured() -> String {
    let buffer = BUFFER.get().expect("logs::init was called");
    String::from_utf8_lossy(
        &buffer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    )
    .into_owned()
}

/// Runs reads of every kind (hits, misses, errors, base64, KV v1 and v2, AppRole) with TRACE
/// logging on, then checks that no value written to Vault (by this or any other test of this
/// binary so far) appears in the captured logs or in any error message.
#[tokio::test]
async fn no_secret_value_reaches_the_logs() {
    let vault = Vault::start().await;
    vault.enable_kv1("kv1").await;
    let plain = unique_value("plain-secret");
    let encoded_plain = unique_value("decoded-secret");
    let encoded = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(&encoded_plain)
    };
    let v1_value = unique_value("kv1-secret");
    for value in [&plain, &encoded_plain, &encoded, &v1_value] {
        remember(value);
    }
    vault
        .put_v2(
            "secret/logs/app",
            json!({"password": plain, "blob": encoded}),
        )
        .await;
    vault
        .put_v1("kv1/logs/app", json!({"token": v1_value}))
        .await;
    let (role_id, secret_id) = vault
        .approle(
            "logs",
            r#"path "secret/data/logs/*" { capabilities = ["read"] }"#,
            "1h",
        )
        .await;
    remember(&secret_id);

    let root = vault.root_reader().await;
    let approle = qontract_secrets::VaultSecretReader::connect(vault.settings(
        qontract_secrets::VaultAuth::AppRole {
            mount: "approle".into(),
            role_id,
            secret_id: qontract_secrets::Secret::new(secret_id.clone()),
        },
    ))
    .await
    .expect("approle login");

    use qontract_secrets::{SecretReader, VaultSecret};
    let mut error_messages = Vec::new();
    let readers: [&dyn SecretReader; 2] = [&root, &approle];
    for reader in readers {
        let secrets = [
            VaultSecret::new("secret/logs/app", "password"),
            VaultSecret::new("secret/logs/app", "password").with_version(1),
            VaultSecret::new("secret/logs/app", "blob").with_format("base64"),
            VaultSecret::new("secret/logs/app", "password").with_format("base64"),
            VaultSecret::new("secret/logs/app", "missing"),
            VaultSecret::new("secret/logs/app", "password").with_version(9),
            VaultSecret::new("secret/logs/nothing", "password"),
            VaultSecret::new("kv1/logs/app", "token"),
        ];
        for secret in &secrets {
            match reader.read(secret).await {
                Ok(value) => {
                    let debug = format!("{value:?} {value}");
                    assert!(
                        !debug.contains(value.expose()),
                        "Debug/Display shows the value"
                    );
                }
                Err(e) => error_messages.push(format!("{e} {e:?}")),
            }
        }
        if let Ok(all) = reader.read_all("secret/logs/app", None).await {
            error_messages.push(format!("{all:?}"));
        }
    }
    assert_eq!(
        approle
            .read(&VaultSecret::new("secret/logs/app", "password"))
            .await
            .expect("approle reads its path")
            .expose(),
        plain
    );

    let logs = captured();
    assert!(
        logs.contains("reading secret from Vault"),
        "the capture works and saw this crate's events"
    );
    let written = WRITTEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    assert!(written.len() >= 5);
    for value in &written {
        assert!(
            !logs.contains(value.as_str()),
            "a secret value appears in the logs"
        );
        for message in &error_messages {
            assert!(
                !message.contains(value.as_str()),
                "a secret value appears in an error/debug message: {message}"
            );
        }
    }
}
