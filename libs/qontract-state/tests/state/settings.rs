//! Backend resolution (the Python settings chain) and store errors.

use std::collections::HashMap;
use std::path::PathBuf;

use qontract_secrets::{Secret, VaultAuth, VaultSecretReader, VaultSettings};
use qontract_state::{
    AppInterfaceStateSettings, State, StateBackendConfig, StateError, StateSettingsSources,
    resolve_state_backend,
};
use serde_json::json;

use crate::fixture::{BUCKET, s3_settings};
use crate::services::{Bao, Moto, free_port};

async fn resolve(
    env: &[(&str, &str)],
    app_interface: Option<AppInterfaceStateSettings>,
) -> Result<StateBackendConfig, StateError> {
    let map: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let lookup = move |k: &str| map.get(k).cloned();
    resolve_state_backend(StateSettingsSources {
        env: &lookup,
        secret_reader: None,
        app_interface,
        fs_dir: None,
    })
    .await
}

#[tokio::test]
async fn static_keys_and_endpoint_from_env() {
    let config = resolve(
        &[
            ("APP_INTERFACE_STATE_BUCKET", "b"),
            ("APP_INTERFACE_STATE_BUCKET_REGION", "eu-west-1"),
            ("APP_INTERFACE_STATE_BUCKET_ACCESS_KEY_ID", "AKID"),
            (
                "APP_INTERFACE_STATE_BUCKET_SECRET_ACCESS_KEY",
                "s3cr3t-value",
            ),
            (
                "APP_INTERFACE_STATE_BUCKET_ENDPOINT",
                "http://127.0.0.1:9000",
            ),
        ],
        None,
    )
    .await
    .unwrap();
    match config {
        StateBackendConfig::S3(s3) => {
            assert_eq!(
                (
                    s3.bucket.as_str(),
                    s3.region.as_str(),
                    s3.access_key_id.as_str()
                ),
                ("b", "eu-west-1", "AKID")
            );
            assert_eq!(s3.secret_access_key.expose(), "s3cr3t-value");
            assert_eq!(s3.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
            assert!(!format!("{s3:?}").contains("s3cr3t-value"));
        }
        other => panic!("expected S3, got {other:?}"),
    }
}

#[tokio::test]
async fn no_bucket_means_the_filesystem() {
    let config = resolve(&[("QONTRACT_STATE_DIR", "/var/lib/qontract")], None)
        .await
        .unwrap();
    assert!(
        matches!(config, StateBackendConfig::Fs { ref root } if root == &PathBuf::from("/var/lib/qontract"))
    );
    let config = resolve(&[], None).await.unwrap();
    assert!(
        matches!(config, StateBackendConfig::Fs { ref root } if root == &PathBuf::from(".qontract-state"))
    );
}

#[tokio::test]
async fn incomplete_settings_list_what_was_tried() {
    let err = resolve(&[("APP_INTERFACE_STATE_BUCKET", "b")], None)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "state store not configured: APP_INTERFACE_STATE_BUCKET=b is set but no option gives \
         credentials; settings tried: \
         1. AWS profile: APP_INTERFACE_STATE_BUCKET_REGION not set, APP_INTERFACE_STATE_AWS_PROFILE not set, AWS_CONFIG_FILE not set or missing; \
         2. Vault secret: APP_INTERFACE_STATE_BUCKET_REGION not set, APP_INTERFACE_STATE_VAULT_SECRET not set; \
         3. static keys: APP_INTERFACE_STATE_BUCKET_REGION not set, APP_INTERFACE_STATE_BUCKET_ACCESS_KEY_ID not set, APP_INTERFACE_STATE_BUCKET_SECRET_ACCESS_KEY not set; \
         4. AWS account: APP_INTERFACE_STATE_BUCKET_ACCOUNT not set"
    );
    let err = resolve(
        &[
            ("APP_INTERFACE_STATE_BUCKET", "b"),
            ("APP_INTERFACE_STATE_BUCKET_ACCOUNT", "app-sre"),
        ],
        None,
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("APP_INTERFACE_STATE_BUCKET_ACCOUNT is not supported"),
        "{err}"
    );
    let err = resolve(
        &[
            ("APP_INTERFACE_STATE_BUCKET", "b"),
            ("APP_INTERFACE_STATE_BUCKET_REGION", "r"),
            ("APP_INTERFACE_STATE_VAULT_SECRET", "secret/state"),
        ],
        None,
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("names the secret secret/state but no secret reader was given"),
        "{err}"
    );
    let err = resolve(
        &[],
        Some(AppInterfaceStateSettings {
            provider: "gcs".into(),
            bucket: "b".into(),
            region: "r".into(),
            credentials_path: "p".into(),
            credentials_version: None,
        }),
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("state provider \"gcs\" is not supported (only s3)"),
        "{err}"
    );
}

#[tokio::test]
async fn credentials_from_a_vault_secret_open_the_bucket() {
    let bao = Bao::start().await;
    let moto = Moto::start().await;
    moto.create_bucket(BUCKET).await;
    let response = reqwest::Client::new()
        .post(format!("{}/v1/secret/data/state/creds", bao.url))
        .header("X-Vault-Token", Bao::ROOT_TOKEN)
        .json(
            &json!({"data": {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}}),
        )
        .send()
        .await
        .expect("write the credentials secret");
    assert!(response.status().is_success());
    let reader = VaultSecretReader::connect(VaultSettings::new(
        bao.url.clone(),
        VaultAuth::Token(Secret::new(Bao::ROOT_TOKEN)),
    ))
    .await
    .expect("connect to OpenBao");
    let env: HashMap<&str, String> = HashMap::from([
        ("APP_INTERFACE_STATE_BUCKET", BUCKET.to_owned()),
        ("APP_INTERFACE_STATE_BUCKET_REGION", "us-east-1".to_owned()),
        (
            "APP_INTERFACE_STATE_VAULT_SECRET",
            "secret/state/creds".to_owned(),
        ),
        ("APP_INTERFACE_STATE_VAULT_SECRET_VERSION", "1".to_owned()),
        // Lower priority than the Vault secret: must not be used.
        (
            "APP_INTERFACE_STATE_BUCKET_ACCESS_KEY_ID",
            "wrong".to_owned(),
        ),
        (
            "APP_INTERFACE_STATE_BUCKET_SECRET_ACCESS_KEY",
            "wrong".to_owned(),
        ),
        ("AWS_ENDPOINT_URL", moto.url.clone()),
    ]);
    let lookup = move |k: &str| env.get(k).cloned();
    let config = resolve_state_backend(StateSettingsSources {
        env: &lookup,
        secret_reader: Some(&reader),
        app_interface: None,
        fs_dir: None,
    })
    .await
    .unwrap();
    let StateBackendConfig::S3(s3) = &config else {
        panic!("expected S3, got {config:?}");
    };
    assert_eq!(s3.access_key_id, "testing");
    assert_eq!(
        s3.source,
        "APP_INTERFACE_STATE_VAULT_SECRET=secret/state/creds"
    );
    let state = State::open("vault-creds", &config).await.unwrap();
    state.set("k", &"v").await.unwrap();
    assert_eq!(state.get::<String>("k").await.unwrap(), "v");
}

#[tokio::test]
async fn unreachable_or_missing_buckets_fail_on_open() {
    let closed = format!("http://127.0.0.1:{}", free_port());
    let config = StateBackendConfig::S3(s3_settings(&closed, BUCKET));
    let err = State::open("i", &config).await.unwrap_err();
    assert!(matches!(err, StateError::Inaccessible { .. }), "{err}");
    let message = err.to_string().replace(&closed, "ENDPOINT");
    assert!(
        message.starts_with(
            "state store s3://qontract-state-test/state/i (region us-east-1, endpoint ENDPOINT, \
             credentials from test) inaccessible while checking access to the state store: "
        ),
        "{message}"
    );

    let mut moto = Moto::start().await;
    let config = StateBackendConfig::S3(s3_settings(&moto.url, "no-such-bucket"));
    let err = State::open("i", &config).await.unwrap_err();
    assert!(err.to_string().contains("NoSuchBucket"), "{err}");

    moto.create_bucket(BUCKET).await;
    let state = State::open("i", &StateBackendConfig::S3(s3_settings(&moto.url, BUCKET)))
        .await
        .unwrap();
    state.set("k", &1).await.unwrap();
    moto.service.stop();
    let err = state.get::<u64>("k").await.unwrap_err();
    assert!(
        matches!(err, StateError::Inaccessible { ref action, .. } if action == "reading key k"),
        "{err}"
    );
}
