//! Writes and listings (`VaultSecretReader::write_all`, `list`, `list_all`) against a real
//! OpenBao dev server, KV v1 and v2 (upstream `VaultClient.write(force=True)`, `list`,
//! `list_all`).

use std::collections::BTreeMap;

use qontract_secrets::{KvEngine, Secret, SecretError, SecretReader};
use serde_json::json;

use crate::admin::Vault;

fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, Secret> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Secret::new(*v)))
        .collect()
}

#[tokio::test]
async fn kv2_write_always_creates_a_version_and_refreshes_the_cache() {
    let vault = Vault::start().await;
    let reader = vault.root_reader().await;
    assert_eq!(
        reader.kv_engine("secret/app/db").await.unwrap(),
        KvEngine::V2
    );

    let v1 = reader
        .write_all(
            "secret/app/db",
            &fields(&[("user", "app"), ("password", "one")]),
        )
        .await
        .unwrap();
    assert_eq!(v1, Some(1));
    // Cached latest read, then a write with the same data: a new version anyway (force=True).
    assert_eq!(
        reader
            .read_all("secret/app/db", None)
            .await
            .unwrap()
            .version,
        Some(1)
    );
    let v2 = reader
        .write_all(
            "secret/app/db",
            &fields(&[("user", "app"), ("password", "one")]),
        )
        .await
        .unwrap();
    assert_eq!(v2, Some(2));
    let latest = reader.read_all("secret/app/db", None).await.unwrap();
    assert_eq!(
        latest.version,
        Some(2),
        "the write dropped the cached latest read"
    );
    assert_eq!(latest.get("password").map(Secret::expose), Some("one"));

    // Vault itself agrees.
    let raw = vault.get("secret/data/app/db").await;
    assert_eq!(raw["data"]["metadata"]["version"], 2);
    assert_eq!(
        raw["data"]["data"],
        json!({"user": "app", "password": "one"})
    );

    let uncached = reader
        .read_all_uncached("secret/app/db", Some(1))
        .await
        .unwrap();
    assert_eq!(uncached.version, Some(1));
    let missing = reader
        .read_all_uncached("secret/app/nothing", None)
        .await
        .unwrap_err();
    assert!(
        matches!(missing, SecretError::SecretNotFound { .. }),
        "{missing}"
    );
    let no_version = reader
        .read_all_uncached("secret/app/db", Some(7))
        .await
        .unwrap_err();
    assert!(
        matches!(no_version, SecretError::VersionNotFound { version: 7, .. }),
        "{no_version}"
    );
}

#[tokio::test]
async fn kv1_write_replaces_the_value() {
    let vault = Vault::start().await;
    vault.enable_kv1("legacy").await;
    let reader = vault.root_reader().await;
    assert_eq!(reader.kv_engine("legacy/a").await.unwrap(), KvEngine::V1);
    assert_eq!(
        reader
            .write_all("legacy/a", &fields(&[("k", "1"), ("old", "x")]))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        reader
            .write_all("legacy/a", &fields(&[("k", "2")]))
            .await
            .unwrap(),
        None
    );
    assert_eq!(vault.get("legacy/a").await["data"], json!({"k": "2"}));
    let err = reader
        .write_all("legacy/", &fields(&[("k", "1")]))
        .await
        .unwrap_err();
    assert!(matches!(err, SecretError::SecretNotFound { .. }), "{err}");
}

#[tokio::test]
async fn list_and_list_all_walk_folders_on_both_engines() {
    let vault = Vault::start().await;
    vault.enable_kv1("legacy").await;
    for path in [
        "secret/team/a",
        "secret/team/sub/b",
        "secret/team/sub/deeper/c",
        "secret/other/x",
    ] {
        vault.put_v2(path, json!({"k": "v"})).await;
    }
    for path in ["legacy/team/a", "legacy/team/sub/b"] {
        vault.put_v1(path, json!({"k": "v"})).await;
    }
    let reader = vault.root_reader().await;

    let mut keys = reader.list("secret/team/").await.unwrap();
    keys.sort();
    assert_eq!(keys, ["a", "sub/"]);
    assert_eq!(
        reader.list_all("secret/team/").await.unwrap(),
        [
            "secret/team/a",
            "secret/team/sub/b",
            "secret/team/sub/deeper/c"
        ]
    );
    assert_eq!(
        reader.list_all("legacy/team/").await.unwrap(),
        ["legacy/team/a", "legacy/team/sub/b"]
    );
    // A folder that does not exist lists as empty, like upstream.
    assert!(reader.list_all("secret/nothing/").await.unwrap().is_empty());
    assert!(reader.list("legacy/nothing/").await.unwrap().is_empty());
}

#[tokio::test]
async fn forbidden_writes_and_listings_name_the_path() {
    let vault = Vault::start().await;
    let (role_id, secret_id) = vault
        .approle(
            "reader",
            r#"path "secret/data/*" { capabilities = ["read"] }"#,
            "1h",
        )
        .await;
    let reader = qontract_secrets::VaultSecretReader::connect(vault.settings(
        qontract_secrets::VaultAuth::AppRole {
            mount: "approle".to_owned(),
            role_id,
            secret_id: Secret::new(secret_id),
        },
    ))
    .await
    .unwrap();
    let err = reader
        .write_all("secret/app/x", &fields(&[("k", "v")]))
        .await
        .unwrap_err();
    assert!(
        matches!(err, SecretError::Forbidden { ref path, .. } if path == "secret/app/x"),
        "{err}"
    );
    let err = reader.list("secret/app/").await.unwrap_err();
    assert!(
        matches!(err, SecretError::Forbidden { ref path, .. } if path == "secret/app/"),
        "{err}"
    );
}
