//! The config.toml backend.

use qontract_secrets::{
    ConfigSecretReader, SecretBackendKind, SecretError, SecretReader, VaultSecret,
    create_secret_reader,
};

const CONFIG: &str = r#"
[graphql]
server = "http://localhost:4000/graphql"

[app-sre.creds.db]
password = "pw-from-config"
port = 5432
encoded = "aGVsbG8gY29uZmln"

[app-sre.creds.db.nested]
inner = "x"
"#;

#[tokio::test]
async fn reads_fields_and_tables_by_path() {
    crate::logs::init();
    let reader = create_secret_reader(
        SecretBackendKind::choose(false, None),
        None,
        CONFIG.parse::<toml::Table>().unwrap(),
    )
    .await
    .unwrap();
    let secret = VaultSecret::new("app-sre/creds/db", "password").with_version(3);
    assert_eq!(
        reader.read(&secret).await.unwrap().expose(),
        "pw-from-config"
    );
    let decoded = reader
        .read(&VaultSecret::new("app-sre/creds/db", "encoded").with_format("base64"))
        .await
        .unwrap();
    assert_eq!(decoded.expose(), "hello config");

    let all = reader.read_all("app-sre/creds/db", Some(1)).await.unwrap();
    assert_eq!(all.version, None);
    let fields: Vec<(&str, &str)> = all
        .fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.expose()))
        .collect();
    assert_eq!(
        fields,
        [
            ("encoded", "aGVsbG8gY29uZmln"),
            ("password", "pw-from-config"),
            ("port", "5432")
        ]
    );
}

#[tokio::test]
async fn missing_paths_and_fields_are_named() {
    crate::logs::init();
    let reader = ConfigSecretReader::from_toml_str(CONFIG, "config.toml").unwrap();
    let err = reader
        .read(&VaultSecret::new("app-sre/creds/cache", "password"))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "secret not found: app-sre/creds/cache (config file: key cache not found)"
    );
    let err = reader
        .read(&VaultSecret::new("app-sre/creds/db/password", "x"))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "secret not found: app-sre/creds/db/password (config file: key password is not a table)"
    );
    let err = reader
        .read(&VaultSecret::new("app-sre/creds/db", "nested"))
        .await
        .unwrap_err();
    assert!(matches!(err, SecretError::FieldNotFound { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "field nested not found in secret app-sre/creds/db (latest version)"
    );
    let err =
        ConfigSecretReader::from_toml_str("[broken", "/etc/qontract/config.toml").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cannot parse config file /etc/qontract/config.toml: "),
        "{err}"
    );
}
