//! vault-replication end to end: two real OpenBao dev servers (source and destination, each
//! with an AppRole for the replicator), an app-interface checkout shaped like the upstream
//! schemas (`/vault-config/instance-1.yml` with `replication`, `/vault-config/policy-1.yml`,
//! `/dependencies/jenkins-config-1.yml`) executed in-process, and the `qontract-reconcile
//! vault-replication` CLI. The Vaults' state is checked through their HTTP API with the root
//! token.

#[path = "../../../../libs/qontract-secrets/tests/support/services.rs"]
mod services;

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use qontract_runtime::{Cli, ExitStatus, IntegrationSpec};
use qontract_vault_replication::VaultReplication;
use serde_json::{Value, json};
use services::Bao;

/// A dev server plus root-token HTTP helpers.
struct Vault {
    bao: Bao,
    http: reqwest::Client,
}

impl Vault {
    async fn start() -> Self {
        Self {
            bao: Bao::start().await,
            http: reqwest::Client::new(),
        }
    }

    fn url(&self) -> &str {
        &self.bao.url
    }

    /// `method path` with the root token; returns (status, body).
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
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
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, value) = self.call(method, path, body).await;
        assert!(
            (200..300).contains(&status),
            "{method} {path}: HTTP {status}: {value}"
        );
        value
    }

    async fn enable_kv1(&self, mount: &str) {
        self.ok(
            "POST",
            &format!("sys/mounts/{mount}"),
            Some(json!({"type": "kv", "options": {"version": "1"}})),
        )
        .await;
    }

    /// A new version of `secret/<relative>`; returns its number.
    async fn put_v2(&self, relative: &str, data: Value) -> u64 {
        self.ok(
            "POST",
            &format!("secret/data/{relative}"),
            Some(json!({ "data": data })),
        )
        .await["data"]["version"]
            .as_u64()
            .unwrap()
    }

    async fn put_v1(&self, path: &str, data: Value) {
        self.ok("POST", path, Some(data)).await;
    }

    /// (current version, every version's data or `None` when deleted) of `secret/<relative>`;
    /// `None` when the secret does not exist.
    async fn history(&self, relative: &str) -> Option<(u64, Vec<Option<Value>>)> {
        let (status, meta) = self
            .call("GET", &format!("secret/metadata/{relative}"), None)
            .await;
        if status == 404 {
            return None;
        }
        let current = meta["data"]["current_version"].as_u64().unwrap();
        let mut versions = Vec::new();
        for v in 1..=current {
            let (status, body) = self
                .call("GET", &format!("secret/data/{relative}?version={v}"), None)
                .await;
            versions.push((status == 200).then(|| body["data"]["data"].clone()));
        }
        Some((current, versions))
    }

    /// The number of versions ever written on this server (KV v2 `secret/`), all paths.
    async fn all_v2_paths(&self) -> Vec<String> {
        let mut found = Vec::new();
        let mut folders = vec![String::new()];
        while let Some(folder) = folders.pop() {
            let (status, body) = self
                .call("LIST", &format!("secret/metadata/{folder}"), None)
                .await;
            if status == 404 {
                continue;
            }
            for key in body["data"]["keys"].as_array().unwrap() {
                let key = format!("{folder}{}", key.as_str().unwrap());
                if key.ends_with('/') {
                    folders.push(key);
                } else {
                    found.push(key);
                }
            }
        }
        found.sort();
        found
    }

    /// An AppRole `replicator` with `policy`; returns (role_id, secret_id).
    async fn approle(&self, policy: &str) -> (String, String) {
        self.ok("POST", "sys/auth/approle", Some(json!({"type": "approle"})))
            .await;
        self.ok(
            "PUT",
            "sys/policies/acl/replicator",
            Some(json!({ "policy": policy })),
        )
        .await;
        self.ok(
            "POST",
            "auth/approle/role/replicator",
            Some(json!({"token_policies": "replicator", "token_ttl": "1h"})),
        )
        .await;
        let role_id = self
            .ok("GET", "auth/approle/role/replicator/role-id", None)
            .await["data"]["role_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let secret_id = self
            .ok(
                "POST",
                "auth/approle/role/replicator/secret-id",
                Some(json!({})),
            )
            .await["data"]["secret_id"]
            .as_str()
            .unwrap()
            .to_owned();
        (role_id, secret_id)
    }
}

const SOURCE_POLICY: &str = r#"
path "secret/data/*" { capabilities = ["read"] }
path "secret/metadata/*" { capabilities = ["read", "list"] }
path "legacy/*" { capabilities = ["read", "list"] }
"#;

const DEST_POLICY: &str = r#"
path "secret/data/*" { capabilities = ["create", "update", "read"] }
path "secret/metadata/*" { capabilities = ["read", "list"] }
path "legacy/*" { capabilities = ["create", "update", "read", "list"] }
"#;

struct Env {
    source: Vault,
    dest: Vault,
    dir: tempfile::TempDir,
    config: PathBuf,
}

fn write(root: &Path, relative: &str, text: &str) {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// The replication policy (`/vault-config/policy-1.yml`): a folder, a folder with `*`, a KV v1
/// secret, a KV v1 secret missing on the source (logged, skipped, not an error, as upstream); plus a Jenkins instance whose config names two secrets, one of them templated.
fn app_interface(root: &Path, source: &str, dest: &str, jenkins_policy: &str) {
    write(
        root,
        "data/app-interface/app-interface-settings.yml",
        "---\n$schema: /app-interface/app-interface-settings-1.yml\nname: settings\n\
         description: test\nvault: false\n",
    );
    write(
        root,
        "data/integrations/vault-replication.yml",
        "---\n$schema: /app-sre/integration-1.yml\nname: vault-replication\n\
         description: replicate vault secrets\nschemas:\n\
         - /app-interface/app-interface-settings-1.yml\n- /vault-config/instance-1.yml\n\
         - /vault-config/policy-1.yml\n- /dependencies/jenkins-config-1.yml\n\
         - /dependencies/jenkins-instance-1.yml\n- /app-sre/app-1.yml\n",
    );
    let auth = |who: &str| {
        format!(
            "provider: approle\n    secretEngine: kv_v2\n    \
             roleID:\n      path: replication/{who}\n      field: role_id\n    \
             secretID:\n      path: replication/{who}\n      field: secret_id"
        )
    };
    write(
        root,
        "data/vault-config/instances/source.yml",
        &format!(
            "---\n$schema: /vault-config/instance-1.yml\nlabels: {{}}\nname: source\n\
             description: the source Vault\naddress: {source}\nauth:\n  {auth}\n\
             replication:\n- vaultInstance:\n    $ref: /vault-config/instances/dest.yml\n  \
             sourceAuth:\n    {src}\n  destAuth:\n    {dst}\n  paths:\n  \
             - provider: policy\n    policy:\n      $ref: /vault-config/policies/replicate.yml\n  \
             - provider: jenkins\n    jenkinsInstance:\n      $ref: /dependencies/jenkins/ci.yml\n    \
             policy:\n      $ref: /vault-config/policies/{jenkins_policy}.yml\n",
            auth = auth("source").replace("\n    ", "\n  "),
            src = auth("source"),
            dst = auth("dest"),
        ),
    );
    write(
        root,
        "data/vault-config/instances/dest.yml",
        &format!(
            "---\n$schema: /vault-config/instance-1.yml\nlabels: {{}}\nname: dest\n\
             description: the destination Vault\naddress: {dest}\nauth:\n  {}\n",
            auth("dest").replace("\n    ", "\n  ")
        ),
    );
    // `/vault-config/policy-1.yml` files of the source instance: (name, rules).
    for (name, rules) in [
        (
            "replicate",
            "path \"secret/app/*\" {\n    capabilities = [\"read\", \"list\"]\n  }\n  \
             path \"secret/shared/\" {\n    capabilities = [\"list\"]\n  }\n  \
             path \"legacy/team/token\" {\n    capabilities = [\"read\"]\n  }\n  \
             path \"legacy/team/missing\" {}\n",
        ),
        (
            "ci",
            "path \"secret/ci/token\" {}\n  path \"secret/ci/stage-deploy/key\" {}\n  \
             path \"secret/ci/prod-deploy/key\" {}\n",
        ),
        (
            "narrow",
            "path \"secret/ci/token\" {\n    capabilities = [\"read\"]\n  }\n",
        ),
    ] {
        write(
            root,
            &format!("data/vault-config/policies/{name}.yml"),
            &format!(
                "---\n$schema: /vault-config/policy-1.yml\nname: {name}\n\
                 instance:\n  $ref: /vault-config/instances/source.yml\nrules: |\n  {rules}"
            ),
        );
    }
    write(
        root,
        "data/dependencies/jenkins/ci.yml",
        "---\n$schema: /dependencies/jenkins-instance-1.yml\nlabels: {}\nname: ci\n\
         description: CI Jenkins\nserverUrl: https://ci.example.com\n\
         token:\n  path: jenkins/ci\n  field: token\n",
    );
    write(
        root,
        "data/services/app/app.yml",
        "---\n$schema: /app-sre/app-1.yml\nlabels: {}\nname: app\ndescription: app\n\
         onboardingStatus: OnBoarded\n",
    );
    write(
        root,
        "data/services/app/jenkins/jobs.yml",
        "---\n$schema: /dependencies/jenkins-config-1.yml\nlabels: {}\nname: app-jobs\n\
         description: jobs\napp:\n  $ref: /services/app/app.yml\n\
         instance:\n  $ref: /dependencies/jenkins/ci.yml\ntype: jobs\n\
         config_path: /jenkins/app/jobs.yaml\n",
    );
    write(
        root,
        "resources/jenkins/app/jobs.yaml",
        "- job:\n    name: deploy\n    wrappers:\n    - vault-secrets:\n        \
         secret-path: 'secret/ci/token'\n    - vault-secrets:\n        \
         secret-path: 'secret/ci/{env}-deploy/key'\n",
    );
}

async fn env() -> Env {
    env_with_jenkins_policy("ci").await
}

async fn env_with_jenkins_policy(jenkins_policy: &str) -> Env {
    let (source, dest) = tokio::join!(Vault::start(), Vault::start());
    source.enable_kv1("legacy").await;
    dest.enable_kv1("legacy").await;
    let (src_role, src_secret) = source.approle(SOURCE_POLICY).await;
    let (dst_role, dst_secret) = dest.approle(DEST_POLICY).await;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("app-interface");
    app_interface(&root, source.url(), dest.url(), jenkins_policy);
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/graphql-schema.yml");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[graphql]\napp_interface = \"{}\"\nschema = \"{}\"\n\n\
             [replication.source]\nrole_id = \"{src_role}\"\nsecret_id = \"{src_secret}\"\n\n\
             [replication.dest]\nrole_id = \"{dst_role}\"\nsecret_id = \"{dst_secret}\"\n",
            root.display(),
            schema.display()
        ),
    )
    .unwrap();
    Env {
        source,
        dest,
        dir,
        config,
    }
}

/// The source's secrets: `secret/app/db` with three versions (the second deleted),
/// `secret/app/sub/api`, `secret/shared/readme`, the KV v1 `legacy/team/token`, CI secrets, and
/// secrets outside the policy.
async fn seed_source(vault: &Vault) {
    for (version, password) in [
        (1, json!({"password": "src-db-1"})),
        (2, json!({"password": "src-db-2"})),
        (3, json!({"password": "src-db-3", "user": "app"})),
    ] {
        assert_eq!(vault.put_v2("app/db", password).await, version);
    }
    vault
        .ok(
            "POST",
            "secret/delete/app/db",
            Some(json!({"versions": [2]})),
        )
        .await;
    for (path, data) in [
        ("app/sub/api", json!({"key": "src-api"})),
        ("shared/readme", json!({"text": "src-readme"})),
        ("unrelated/secret", json!({"x": "src-unrelated"})),
        ("ci/token", json!({"token": "src-ci-token"})),
        ("ci/stage-deploy/key", json!({"k": "src-stage"})),
        ("ci/prod-deploy/key", json!({"k": "src-prod"})),
        ("ci/prod-deploy/other", json!({"k": "src-other"})),
    ] {
        vault.put_v2(path, data).await;
    }
    for (path, data) in [
        ("legacy/team/token", json!({"token": "src-legacy"})),
        ("legacy/team/unlisted", json!({"token": "src-unlisted"})),
    ] {
        vault.put_v1(path, data).await;
    }
}

/// Secrets that exist only on the destination, one inside a replicated folder.
async fn seed_dest(vault: &Vault) {
    vault
        .put_v2("app/dest-only", json!({"mine": "dest-1"}))
        .await;
    vault.put_v2("elsewhere/x", json!({"mine": "dest-2"})).await;
}

/// `qontract-reconcile --config <config> [extra] vault-replication` in-process; returns the
/// status.
async fn run(env: &Env, extra: &[&str]) -> ExitStatus {
    let cli = Cli::new(
        "qontract-reconcile",
        vec![IntegrationSpec::of::<VaultReplication>()],
    );
    let config = env.config.as_os_str();
    let argv = [
        OsStr::new("qontract-reconcile"),
        OsStr::new("--config"),
        config,
    ]
    .into_iter()
    .chain(extra.iter().map(OsStr::new))
    .chain([OsStr::new("vault-replication")])
    .map(OsString::from);
    cli.run_multi(argv.collect::<Vec<_>>()).await
}

/// The crate's own `vault-replication` binary (stdout is the plan, stderr the log).
async fn run_binary(env: &Env, extra: &[&str]) -> std::process::Output {
    let bin = env!("CARGO_BIN_EXE_vault-replication");
    qontract_test_support::binary::run_with_config(bin, &env.config, extra).await
}

const REPLICATED: [&str; 6] = [
    "app/db",
    "app/sub/api",
    "ci/prod-deploy/key",
    "ci/stage-deploy/key",
    "ci/token",
    "shared/readme",
];

#[tokio::test]
async fn dry_run_plans_every_secret_and_writes_nothing() {
    let env = env().await;
    seed_source(&env.source).await;
    seed_dest(&env.dest).await;
    let before = env.dest.all_v2_paths().await;

    let output = run_binary(&env, &["--dry-run", "--detailed-exitcode"]).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stdout}\n{stderr}");
    for line in [
        "source  dest         secret/app/db               copy versions 1..3 (dummy: 2)  missing on destination",
        "source  dest         secret/app/sub/api          copy version 1                 missing on destination",
        "source  dest         secret/ci/prod-deploy/key   copy version 1                 missing on destination",
        "source  dest         secret/ci/stage-deploy/key  copy version 1                 missing on destination",
        "source  dest         secret/ci/token             copy version 1                 missing on destination",
        "source  dest         secret/shared/readme        copy version 1                 missing on destination",
        "source  dest         legacy/team/token           copy                           missing on destination",
        "7 secret(s) to replicate",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in:\n{stdout}");
    }
    // Never a secret value on stdout or in the log.
    assert!(
        !stdout.contains("src-") && !stderr.contains("src-"),
        "{stdout}\n{stderr}"
    );
    assert!(
        stderr.contains("['replicate_vault_secret', 3, 'secret/app/db']"),
        "{stderr}"
    );

    // A KV v1 secret of the policy missing on the source: logged, not an error (exit 2 above).
    assert!(
        stderr.contains(
            "['replicate_vault_secret', 'no versions found for secret', 'legacy/team/missing']"
        ),
        "{stderr}"
    );
    // Expected 404s (secrets missing on the destination) are not logged as errors by the
    // Vault client library.
    assert!(!stderr.contains("Server returned error"), "{stderr}");
    // Zero writes on the destination.
    assert_eq!(env.dest.all_v2_paths().await, before);
    let (status, _) = env.dest.call("GET", "legacy/team/token", None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn wet_run_replicates_versions_leaves_destination_only_secrets_and_converges() {
    let env = env().await;
    seed_source(&env.source).await;
    seed_dest(&env.dest).await;

    assert_eq!(
        run(&env, &["--detailed-exitcode"]).await,
        ExitStatus::ChangesPlanned
    );

    // Every version, in order; the deleted source version becomes a dummy version.
    let (current, versions) = env.dest.history("app/db").await.unwrap();
    assert_eq!(current, 3);
    assert_eq!(
        versions,
        [
            Some(json!({"password": "src-db-1"})),
            Some(json!({"dummy": "data"})),
            Some(json!({"password": "src-db-3", "user": "app"})),
        ]
    );
    for path in REPLICATED {
        let (src, dst) = (
            env.source.history(path).await.unwrap(),
            env.dest.history(path).await.unwrap(),
        );
        assert_eq!(src.0, dst.0, "{path}: same current version");
        assert_eq!(src.1.last(), dst.1.last(), "{path}: same latest data");
    }
    assert_eq!(
        env.dest.ok("GET", "legacy/team/token", None).await["data"],
        json!({"token": "src-legacy"})
    );
    // Outside the policies: not replicated.
    assert!(env.dest.history("unrelated/secret").await.is_none());
    assert!(env.dest.history("ci/prod-deploy/other").await.is_none());
    let (status, _) = env.dest.call("GET", "legacy/team/unlisted", None).await;
    assert_eq!(status, 404);
    // Only on the destination (one inside a replicated folder): left alone.
    assert_eq!(
        env.dest.history("app/dest-only").await,
        Some((1, vec![Some(json!({"mine": "dest-1"}))]))
    );
    assert_eq!(
        env.dest.history("elsewhere/x").await,
        Some((1, vec![Some(json!({"mine": "dest-2"}))]))
    );

    // Converged: nothing planned, nothing written.
    let paths = env.dest.all_v2_paths().await;
    assert_eq!(
        run(&env, &["--detailed-exitcode"]).await,
        ExitStatus::Success
    );
    assert_eq!(env.dest.history("app/db").await.unwrap().0, 3);
    assert_eq!(env.dest.all_v2_paths().await, paths);

    // The destination's latest version deleted by hand: the source's versions are written
    // again after it (upstream `_handle_missing_destination_secret`).
    env.dest
        .ok(
            "POST",
            "secret/delete/shared/readme",
            Some(json!({"versions": [1]})),
        )
        .await;
    let output = run_binary(&env, &["--dry-run"]).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(
            "secret/shared/readme  copy version 1  latest version deleted on destination"
        ),
        "{stdout}"
    );
    assert_eq!(
        run(&env, &["--detailed-exitcode"]).await,
        ExitStatus::ChangesPlanned
    );
    assert_eq!(
        env.dest.history("shared/readme").await,
        Some((2, vec![None, Some(json!({"text": "src-readme"}))]))
    );
}

#[tokio::test]
async fn a_version_bump_on_the_source_is_replicated_as_the_next_versions() {
    let env = env().await;
    seed_source(&env.source).await;
    assert_eq!(run(&env, &[]).await, ExitStatus::Success);

    // Two new versions on the source, and a KV v1 change.
    env.source
        .put_v2("app/db", json!({"password": "src-db-4"}))
        .await;
    env.source
        .put_v2("app/db", json!({"password": "src-db-5"}))
        .await;
    env.source
        .put_v1("legacy/team/token", json!({"token": "src-legacy-2"}))
        .await;

    let output = run_binary(&env, &["--dry-run", "--detailed-exitcode"]).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains(
            "secret/app/db      copy versions 4..5  destination at version 3, source at version 5"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("legacy/team/token  copy                data differs (KV v1)"),
        "{stdout}"
    );
    assert!(stdout.contains("2 secret(s) to replicate"), "{stdout}");
    assert_eq!(
        env.dest.history("app/db").await.unwrap().0,
        3,
        "dry run wrote nothing"
    );

    assert_eq!(
        run(&env, &["--detailed-exitcode"]).await,
        ExitStatus::ChangesPlanned
    );
    let (current, versions) = env.dest.history("app/db").await.unwrap();
    assert_eq!(current, 5);
    assert_eq!(versions[3], Some(json!({"password": "src-db-4"})));
    assert_eq!(versions[4], Some(json!({"password": "src-db-5"})));
    assert_eq!(
        env.dest.ok("GET", "legacy/team/token", None).await["data"],
        json!({"token": "src-legacy-2"})
    );
    assert_eq!(
        run(&env, &["--detailed-exitcode"]).await,
        ExitStatus::Success
    );

    // A destination ahead of the source is left alone (upstream compares versions only).
    env.dest
        .put_v2("app/sub/api", json!({"key": "dest-newer"}))
        .await;
    assert_eq!(
        run(&env, &["--detailed-exitcode"]).await,
        ExitStatus::Success
    );
    assert_eq!(
        env.dest
            .history("app/sub/api")
            .await
            .unwrap()
            .1
            .last()
            .unwrap(),
        &Some(json!({"key": "dest-newer"}))
    );
}

#[tokio::test]
async fn jenkins_paths_outside_their_policy_are_an_error_for_that_entry_only() {
    let env = env_with_jenkins_policy("narrow").await;
    seed_source(&env.source).await;
    let output = run_binary(&env, &["--output", "json"]).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(
            "replication source -> dest: paths[1] (provider jenkins): paths not allowed by policy \
             narrow: secret/ci/prod-deploy/key, secret/ci/stage-deploy/key"
        ),
        "{stderr}"
    );
    // The Jenkins entry replicated nothing; the policy entry did its work.
    assert!(env.dest.history("ci/token").await.is_none());
    assert_eq!(env.dest.history("app/db").await.unwrap().0, 3);
    let plan: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(plan["summary"], json!({"secrets": 4, "errors": 1}));
    assert_eq!(plan["replications"][0]["source"], "source");
    assert_eq!(
        plan["replications"][0]["secrets"][0],
        json!({"path": "legacy/team/token", "action": "copy",
               "reason": {"kind": "missing_on_destination"}})
    );
}

#[tokio::test]
async fn bad_destination_credentials_fail_the_run_and_write_nothing() {
    let env = env().await;
    seed_source(&env.source).await;
    let text = std::fs::read_to_string(&env.config).unwrap();
    let broken = text.replace(
        "[replication.dest]\nrole_id = \"",
        "[replication.dest]\nrole_id = \"x",
    );
    std::fs::write(&env.config, broken).unwrap();
    assert_eq!(run(&env, &[]).await, ExitStatus::Error);
    assert!(env.dest.all_v2_paths().await.is_empty());
    drop(env.dir);
}

#[tokio::test]
async fn a_kv2_policy_secret_missing_on_the_source_is_an_error_for_that_secret_only() {
    let env = env().await;
    seed_source(&env.source).await;
    let policy = env
        .dir
        .path()
        .join("app-interface/data/vault-config/policies/replicate.yml");
    let text = std::fs::read_to_string(&policy).unwrap();
    std::fs::write(
        &policy,
        format!("{text}  path \"secret/app-missing/key\" {{}}\n"),
    )
    .unwrap();
    let output = run_binary(&env, &[]).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "replication source -> dest: secret secret/app-missing/key: secret not found"
        ),
        "{stderr}"
    );
    // Every other secret was still replicated.
    for path in REPLICATED {
        assert!(env.dest.history(path).await.is_some(), "{path}");
    }
}
