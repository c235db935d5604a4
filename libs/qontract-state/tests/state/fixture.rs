//! One state backend per test: a temporary directory or a fresh moto S3 server.

use qontract_secrets::Secret;
use qontract_state::{S3Settings, State, StateBackendConfig};

use crate::services::Moto;

pub(crate) const BUCKET: &str = "qontract-state-test";

pub(crate) enum Fixture {
    Fs { dir: tempfile::TempDir },
    S3 { moto: Moto },
}

impl Fixture {
    pub(crate) async fn fs() -> Self {
        Self::Fs {
            dir: tempfile::tempdir().expect("temporary state directory"),
        }
    }

    pub(crate) async fn s3() -> Self {
        let moto = Moto::start().await;
        moto.create_bucket(BUCKET).await;
        Self::S3 { moto }
    }

    pub(crate) fn config(&self) -> StateBackendConfig {
        match self {
            Self::Fs { dir } => StateBackendConfig::Fs {
                root: dir.path().to_owned(),
            },
            Self::S3 { moto } => StateBackendConfig::S3(s3_settings(&moto.url, BUCKET)),
        }
    }

    pub(crate) async fn open(&self, integration: &str) -> State {
        State::open(integration, &self.config())
            .await
            .unwrap_or_else(|e| panic!("open state: {e}"))
    }

    /// The stored bytes of an object (`state/<integration>/<key>`), bypassing the crate.
    pub(crate) async fn raw(&self, location: &str) -> Option<Vec<u8>> {
        match self {
            Self::Fs { dir } => std::fs::read(dir.path().join(location)).ok(),
            Self::S3 { moto } => {
                use object_store::ObjectStoreExt as _;
                match raw_store(&moto.url).get(&location.into()).await {
                    Ok(result) => Some(result.bytes().await.expect("object body").to_vec()),
                    Err(object_store::Error::NotFound { .. }) => None,
                    Err(e) => panic!("GET {location} from moto: {e}"),
                }
            }
        }
    }

    /// Writes raw bytes to an object, bypassing the crate.
    pub(crate) async fn put_raw(&self, location: &str, bytes: &'static [u8]) {
        match self {
            Self::Fs { dir } => {
                let path = dir.path().join(location);
                std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
                std::fs::write(path, bytes).expect("write raw object");
            }
            Self::S3 { moto } => {
                use object_store::ObjectStoreExt as _;
                raw_store(&moto.url)
                    .put(&location.into(), bytes.into())
                    .await
                    .unwrap_or_else(|e| panic!("PUT {location} to moto: {e}"));
            }
        }
    }

    /// The store description with the variable part (temporary dir / port) replaced.
    pub(crate) fn normalize(&self, text: &str) -> String {
        match self {
            Self::Fs { dir } => {
                let root = dir.path().canonicalize().expect("canonical temp dir");
                text.replace(&root.display().to_string(), "ROOT")
            }
            Self::S3 { moto } => text.replace(&moto.url, "ENDPOINT"),
        }
    }
}

pub(crate) fn s3_settings(endpoint: &str, bucket: &str) -> S3Settings {
    S3Settings {
        bucket: bucket.to_owned(),
        region: "us-east-1".to_owned(),
        endpoint: Some(endpoint.to_owned()),
        access_key_id: "testing".to_owned(),
        secret_access_key: Secret::new("testing"),
        source: "test".to_owned(),
    }
}

/// A plain object_store client on the moto bucket, for raw access.
fn raw_store(endpoint: &str) -> object_store::aws::AmazonS3 {
    object_store::aws::AmazonS3Builder::new()
        .with_bucket_name(BUCKET)
        .with_region("us-east-1")
        .with_access_key_id("testing")
        .with_secret_access_key("testing")
        .with_endpoint(endpoint)
        .with_allow_http(true)
        .build()
        .expect("raw S3 client")
}
