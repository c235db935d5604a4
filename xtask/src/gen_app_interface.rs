//! `cargo xtask gen-app-interface`: a seeded, deterministic app-interface for benchmarks.
//!
//! Shaped like the real app-interface (the upstream schemas in `../shared/upstream-schemas`):
//! `/openshift/<cluster>/cluster.yml` (`/openshift/cluster-1.yml`, automation token from
//! Vault), `/services/<app>/app.yml`, `/products/bench/...` with environments, one
//! `/openshift/namespace-1.yml` per namespace with `managedResourceTypes` and
//! `openshiftResources` (`resource` and jinja2 `resource-template` providers), and the resource
//! files under `resources/bench/` (a pool shared by namespaces, as real app-interface shares
//! templates). Every namespace gets [`OBJECTS_PER_NAMESPACE`] objects: two static ConfigMaps,
//! two templated ConfigMaps, a Service, a Secret, a Deployment and a ServiceAccount.
//!
//! Every cluster has its own `serverUrl` ([`Target::server_urls`]: `bench-e2e` gives each its
//! own loopback API server, as a real estate has one per cluster); namespace names are unique
//! across clusters (`<app>-c<NN>-n<NNN>`), so one server may also serve them all. The same
//! size, seed and target always give the same bytes.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result, bail};

/// Objects each generated namespace declares.
pub(crate) const OBJECTS_PER_NAMESPACE: usize = 8;

/// A data-set size: clusters × namespaces per cluster × [`OBJECTS_PER_NAMESPACE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Size {
    /// Clusters.
    pub(crate) clusters: usize,
    /// Namespaces per cluster.
    pub(crate) namespaces: usize,
}

impl Size {
    /// `small` (2 × 5, a quick check), `medium` (20 × 150: 24,000 objects) or `large`
    /// (50 × 200: 80,000 objects).
    pub(crate) fn parse(name: &str) -> Result<Size> {
        Ok(match name {
            "small" => Size {
                clusters: 2,
                namespaces: 5,
            },
            "medium" => Size {
                clusters: 20,
                namespaces: 150,
            },
            "large" => Size {
                clusters: 50,
                namespaces: 200,
            },
            other => bail!("unknown size {other:?} (small, medium, large)"),
        })
    }

    /// Objects the data set declares.
    pub(crate) fn objects(&self) -> usize {
        self.clusters * self.namespaces * OBJECTS_PER_NAMESPACE
    }
}

/// Where the generated clusters point and where their token lives in Vault.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// `serverUrl` of cluster `i` is `server_urls[i % len]` (one URL: every cluster on one
    /// server).
    pub(crate) server_urls: Vec<String>,
    /// Vault path prefix of the automation tokens: cluster `c`'s is
    /// [`Target::token_path`] (`field: token`, KV v2 version 1). One secret per cluster, as in
    /// app-interface: each holds its cluster's `server`, which the Python tool checks against
    /// `serverUrl` (upstream `OCConnectionParameters._get_token_verify_server_url`).
    pub(crate) token_prefix: String,
}

impl Default for Target {
    fn default() -> Self {
        Target {
            server_urls: vec!["https://127.0.0.1:6443".into()],
            token_prefix: "secret/bench".into(),
        }
    }
}

impl Target {
    /// `serverUrl` of cluster `c`.
    pub(crate) fn server_url(&self, c: usize) -> &str {
        match self.server_urls.len() {
            0 => "https://127.0.0.1:6443",
            n => &self.server_urls[c % n],
        }
    }

    /// Vault path of cluster `c`'s automation token: `<token_prefix>/<cluster name>`.
    pub(crate) fn token_path(&self, c: usize) -> String {
        format!("{}/{}", self.token_prefix, cluster_name(c))
    }
}

/// splitmix64: small, seedable, stable across platforms and releases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn word(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        (0..len)
            .map(|_| ALPHABET[self.below(ALPHABET.len())] as char)
            .collect()
    }
}

const APPS: &[&str] = &[
    "checkout", "billing", "catalog", "search", "accounts", "gateway", "ledger", "notify",
    "reports", "storage",
];
/// The schemas an integration may query (its `integrations_v1` entry's allow-list).
const INTEGRATION_SCHEMAS: &str = "- /app-interface/app-interface-settings-1.yml\n- /app-sre/integration-1.yml\n- /openshift/namespace-1.yml\n- /openshift/cluster-1.yml\n- /openshift/prometheus-rule-1.yml\n- /openshift/shared-resources-1.yml\n- /openshift/limitrange-1.yml\n- /openshift/quota-1.yml\n- /app-sre/app-1.yml\n- /app-sre/environment-1.yml\n- /app-sre/product-1.yml\n- /access/role-1.yml\n- /access/user-1.yml\n- /access/bot-1.yml\n";
const ENVIRONMENTS: &[&str] = &["stage", "production"];
const CONFIGMAP_POOL: usize = 16;
const SERVICE_POOL: usize = 4;
const SECRET_POOL: usize = 4;
const DEPLOYMENT_POOL: usize = 4;

/// The generated tree: `(path relative to the output directory, content)`, sorted by path.
pub(crate) fn generate(size: Size, seed: u64, target: &Target) -> Vec<(String, String)> {
    let mut rng = Rng(seed);
    let mut files: Vec<(String, String)> = Vec::new();
    let mut add = |path: String, content: String| files.push((path, content));

    add(
        "data/app-interface/app-interface-settings.yml".into(),
        "---\n$schema: /app-interface/app-interface-settings-1.yml\n\nname: app-interface-settings\ndescription: generated benchmark app-interface\nrepoUrl: https://git.example.com/app-interface\nvault: true\nkubeBinary: oc\nhashLength: 7\nsaasDeployJobTemplate: openshift-saas-deploy\n".into(),
    );
    for integration in ["openshift-resources", "openshift-namespaces"] {
        add(
            format!("data/integrations/{integration}.yml"),
            format!(
                "---\n$schema: /app-sre/integration-1.yml\n\nname: {integration}\ndescription: {integration} (benchmark)\nupstream: https://github.com/app-sre/qontract-reconcile\nschemas:\n{INTEGRATION_SCHEMAS}"
            ),
        );
    }
    add(
        "data/products/bench/product.yml".into(),
        "---\n$schema: /app-sre/product-1.yml\n\nname: bench\ndescription: the benchmark product\nproductOwners: []\n".into(),
    );
    for env in ENVIRONMENTS {
        add(
            format!("data/products/bench/environments/{env}.yml"),
            format!(
                "---\n$schema: /app-sre/environment-1.yml\n\nname: {env}\ndescription: the {env} environment\nproduct:\n  $ref: /products/bench/product.yml\nparameters: '{{\"ENV\": \"{env}\"}}'\n"
            ),
        );
    }
    for app in APPS {
        add(
            format!("data/services/{app}/app.yml"),
            format!(
                "---\n$schema: /app-sre/app-1.yml\n\nlabels:\n  service: {app}\nname: {app}\ndescription: the {app} service\nonboardingStatus: OnBoarded\nserviceOwners:\n- name: {app} team\n  email: {app}@example.com\n"
            ),
        );
    }

    // the resource pool
    for k in 0..CONFIGMAP_POOL {
        let mut data = String::new();
        for i in 0..10 {
            let len = 24 + rng.below(40);
            let _ = writeln!(data, "  key-{i:02}: {}", rng.word(len));
        }
        add(
            format!("resources/bench/configmap-{k:02}.yml"),
            format!(
                "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-{k:02}\n  labels:\n    app.kubernetes.io/part-of: bench\ndata:\n{data}"
            ),
        );
    }
    add(
        "resources/bench/settings.yml.j2".into(),
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  labels:\n    app.kubernetes.io/name: {{ app }}\ndata:\n  namespace: {{ resource.namespace.name }}\n  environment: {{ resource.namespace.environment.name }}\n  replicas: \"{{ replicas }}\"\n  owner: {{ owner }}\n".into(),
    );
    add(
        "resources/bench/features.yml.j2".into(),
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: features\ndata:\n{% for f in features %}  {{ f }}: enabled\n{% endfor %}  cluster: {{ resource.namespace.cluster.name }}\n".into(),
    );
    for k in 0..SERVICE_POOL {
        add(
            format!("resources/bench/service-{k}.yml"),
            format!(
                "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  labels:\n    app: web\nspec:\n  selector:\n    app: web\n  ports:\n  - name: http\n    port: {}\n    targetPort: {}\n",
                80 + k,
                8080 + k
            ),
        );
    }
    for k in 0..SECRET_POOL {
        add(
            format!("resources/bench/secret-{k}.yml"),
            format!(
                "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: credentials\ntype: Opaque\nstringData:\n  username: svc-{k}\n  password: {}\n",
                rng.word(32)
            ),
        );
    }
    for k in 0..DEPLOYMENT_POOL {
        add(
            format!("resources/bench/deployment-{k}.yml"),
            format!(
                "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: {}\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n      - name: web\n        image: registry.example.com/web:1.{k}\n        env:\n        - name: MODE\n          value: bench\n        resources:\n          requests:\n            cpu: 100m\n            memory: 64Mi\n",
                1 + k % 3
            ),
        );
    }
    add(
        "resources/bench/serviceaccount.yml".into(),
        "---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: app\n".into(),
    );

    for c in 0..size.clusters {
        let cluster = cluster_name(c);
        add(
            format!("data/openshift/{cluster}/cluster.yml"),
            format!(
                "---\n$schema: /openshift/cluster-1.yml\n\nlabels: {{}}\nname: {cluster}\ndescription: generated cluster {c}\nconsoleUrl: \"{url}\"\nprometheusUrl: \"{url}\"\nalertmanagerUrl: \"{url}\"\nserverUrl: \"{url}\"\nelbFQDN: {cluster}.local\ninsecureSkipTLSVerify: true\ninternal: false\nautomationToken:\n  path: {path}\n  field: token\n  version: 1\nauth:\n- service: github-org-team\n  org: example\n  team: {cluster}-admins\n",
                url = target.server_url(c),
                path = target.token_path(c),
            ),
        );
        for n in 0..size.namespaces {
            let app = APPS[rng.below(APPS.len())];
            let env = ENVIRONMENTS[rng.below(ENVIRONMENTS.len())];
            let ns = namespace_name(app, c, n);
            let cm1 = rng.below(CONFIGMAP_POOL);
            let cm2 = (cm1 + 1 + rng.below(CONFIGMAP_POOL - 1)) % CONFIGMAP_POOL;
            let (cm1, cm2) = (cm1.min(cm2), cm1.max(cm2));
            let features: Vec<String> = (0..1 + rng.below(4))
                .map(|i| format!("feature-{i}-{}", rng.word(6)))
                .collect();
            let mut text = format!(
                "---\n$schema: /openshift/namespace-1.yml\n\nname: {ns}\ndescription: {app} in {env} on {cluster}\ncluster:\n  $ref: /openshift/{cluster}/cluster.yml\napp:\n  $ref: /services/{app}/app.yml\nenvironment:\n  $ref: /products/bench/environments/{env}.yml\nmanagedResourceTypes:\n- ConfigMap\n- Deployment\n- Secret\n- Service\n- ServiceAccount\nopenshiftResources:\n"
            );
            for path in [
                format!("/bench/configmap-{cm1:02}.yml"),
                format!("/bench/configmap-{cm2:02}.yml"),
                format!("/bench/service-{}.yml", rng.below(SERVICE_POOL)),
                format!("/bench/secret-{}.yml", rng.below(SECRET_POOL)),
                format!("/bench/deployment-{}.yml", rng.below(DEPLOYMENT_POOL)),
                "/bench/serviceaccount.yml".to_string(),
            ] {
                let _ = writeln!(text, "- provider: resource\n  path: {path}");
            }
            let _ = writeln!(
                text,
                "- provider: resource-template\n  path: /bench/settings.yml.j2\n  variables:\n    replicas: {}\n    app: {app}\n    owner: {app}-team",
                1 + rng.below(5)
            );
            let _ = writeln!(
                text,
                "- provider: resource-template\n  path: /bench/features.yml.j2\n  variables:\n    features:"
            );
            for f in &features {
                let _ = writeln!(text, "    - {f}");
            }
            add(
                format!("data/services/{app}/namespaces/{cluster}/{ns}.yml"),
                text,
            );
        }
    }
    files.sort();
    files
}

/// `bench-NN`.
pub(crate) fn cluster_name(c: usize) -> String {
    format!("bench-{c:02}")
}

fn namespace_name(app: &str, c: usize, n: usize) -> String {
    format!("{app}-c{c:02}-n{n:03}")
}

/// Writes [`generate`]'s tree under `out` (which must not exist or be empty).
pub(crate) fn write(out: &Path, size: Size, seed: u64, target: &Target) -> Result<usize> {
    if out.exists()
        && std::fs::read_dir(out)
            .with_context(|| format!("reading {}", out.display()))?
            .next()
            .is_some()
    {
        bail!("{} exists and is not empty", out.display());
    }
    let files = generate(size, seed, target);
    for (path, content) in &files {
        let file = out.join(path);
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(&file, content).with_context(|| format!("writing {}", file.display()))?;
    }
    Ok(files.len())
}

/// `cargo xtask gen-app-interface --size small|medium|large [--seed N] --out DIR
/// [--server-url URL]... [--token-prefix PATH]` (`--server-url` repeated: cluster `i` on
/// the `i`-th, round robin; cluster tokens at `<token-prefix>/<cluster>`).
pub(crate) fn run(args: &[String]) -> Result<()> {
    let mut size = None;
    let mut seed = 1u64;
    let mut out = None;
    let mut target = Target::default();
    let mut urls = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--size" => size = Some(Size::parse(value()?)?),
            "--seed" => seed = value()?.parse().context("--seed")?,
            "--out" => out = Some(std::path::PathBuf::from(value()?)),
            "--server-url" => urls.push(value()?.clone()),
            "--token-prefix" => target.token_prefix = value()?.clone(),
            other => bail!("unknown argument {other}"),
        }
    }
    if !urls.is_empty() {
        target.server_urls = urls;
    }
    let size = size.context("--size small|medium|large is required")?;
    let out = out.context("--out DIR is required")?;
    let n = write(&out, size, seed, &target)?;
    println!(
        "{}: {} clusters × {} namespaces × {OBJECTS_PER_NAMESPACE} objects = {} objects ({n} files, seed {seed})",
        out.display(),
        size.clusters,
        size.namespaces,
        size.objects()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let small = Size::parse("small").unwrap();
        let a = generate(small, 7, &Target::default());
        assert_eq!(a, generate(small, 7, &Target::default()));
        assert_ne!(a, generate(small, 8, &Target::default()));
    }

    /// The generated data validates against the upstream JSON schemas and GraphQL schema
    /// (the bundler checks every `$schema`, `$ref` and resource path).
    #[test]
    fn small_validates_against_the_upstream_schemas() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("ai");
        write(&out, Size::parse("small").unwrap(), 3, &Target::default()).unwrap();
        let upstream = crate::workspace_root().join("../shared/upstream-schemas/qontract-schemas");
        let bundle = qontract_bundler::build_bundle(&qontract_bundler::BundleInputs {
            schemas_dir: upstream.join("schemas"),
            graphql_schema_file: upstream.join("graphql-schemas/schema.yml"),
            data_dir: out.join("data"),
            resources_dir: out.join("resources"),
            git_commit: "0".repeat(40),
            git_commit_timestamp: "0".to_owned(),
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let data = bundle["data"].as_object().expect("data");
        let namespaces = data
            .values()
            .filter(|d| d["$schema"] == "/openshift/namespace-1.yml")
            .count();
        assert_eq!(namespaces, 10);
    }

    /// `bench-e2e` gives every cluster its own API server: each cluster file carries its own
    /// `serverUrl`.
    #[test]
    fn every_cluster_points_at_its_own_server() {
        let small = Size::parse("small").unwrap();
        let target = Target {
            server_urls: vec![
                "https://127.0.0.1:7001".into(),
                "https://127.0.0.1:7002".into(),
            ],
            ..Target::default()
        };
        let files = generate(small, 1, &target);
        for c in 0..small.clusters {
            let path = format!("data/openshift/{}/cluster.yml", cluster_name(c));
            let (_, text) = files.iter().find(|(p, _)| *p == path).expect(&path);
            assert!(
                text.contains(&format!("serverUrl: \"https://127.0.0.1:700{}\"\n", c + 1)),
                "{path}: {text}"
            );
            // its own token secret (the Python tool checks the secret's `server`)
            assert!(
                text.contains(&format!("  path: secret/bench/{}\n", cluster_name(c))),
                "{path}: {text}"
            );
        }
    }

    #[test]
    fn sizes_declare_the_documented_object_counts() {
        assert_eq!(Size::parse("medium").unwrap().objects(), 24_000);
        assert_eq!(Size::parse("large").unwrap().objects(), 80_000);
        let small = Size::parse("small").unwrap();
        let files = generate(small, 1, &Target::default());
        let namespaces: Vec<&String> = files
            .iter()
            .filter(|(_, c)| c.contains("$schema: /openshift/namespace-1.yml"))
            .map(|(_, c)| c)
            .collect();
        assert_eq!(namespaces.len(), small.clusters * small.namespaces);
        for ns in namespaces {
            assert_eq!(
                ns.matches("- provider: ").count(),
                OBJECTS_PER_NAMESPACE,
                "{ns}"
            );
        }
    }
}
