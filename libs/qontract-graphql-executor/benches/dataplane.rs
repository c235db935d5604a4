//! Data-plane benchmark: a generated bundle of 3,000 namespaces over 20 clusters (the sample
//! app-interface scaled up). Prints bundle size, load time, the openshift-resources
//! NAMESPACES_QUERY time (execution + JSON serialisation; min/median/max) and peak RSS.
//!
//! `cargo bench -p qontract-graphql-executor --bench dataplane`
//! Reference (Node qontract-server, same data): load ~0.6 s, query median ~0.88 s.

use std::path::PathBuf;
use std::time::Instant;

use qontract_graphql_executor::{Bundle, Request, execute};
use serde_json::{Value, json};

const NAMESPACES: usize = 3000;
const CLUSTERS: usize = 20;
const RUNS: usize = 15;

const NAMESPACES_QUERY: &str = r#"
{
  namespaces: namespaces_v1 {
    name path labels delete clusterAdmin managedResourceTypes
    managedResourceTypeOverrides { resource override }
    managedResourceNames { resource resourceNames }
    sharedResources { openshiftResources { provider } }
    openshiftResources {
      provider
      ... on NamespaceOpenshiftResourceResource_v1 { resource: path { content path schema } validate_json validate_alertmanager_config alertmanager_config_key enable_query_support }
      ... on NamespaceOpenshiftResourceResourceTemplate_v1 { resource: path { content path schema } type variables validate_alertmanager_config alertmanager_config_key enable_query_support }
      ... on NamespaceOpenshiftResourceVaultSecret_v1 { path version name labels annotations type validate_alertmanager_config alertmanager_config_key }
      ... on NamespaceOpenshiftResourcePrometheusRule_v1 { resource: path { content path schema } type variables enable_query_support tests promtool_version }
    }
    environment { name parameters }
    cluster {
      name labels serverUrl
      auth { service ... on ClusterAuthGithubOrgTeam_v1 { org team } }
      insecureSkipTLSVerify spec { version } network { pod }
      automationToken { path field version format }
      clusterAdminAutomationToken { path field version format }
      internal disable { integrations }
    }
  }
}
"#;

fn shared_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared"))
}

fn generated_bundle() -> String {
    let shared = shared_dir();
    let schemas = shared.join("upstream-schemas/qontract-schemas");
    let mut bundle = qontract_bundler::build_bundle(&qontract_bundler::BundleInputs {
        schemas_dir: schemas.join("schemas"),
        graphql_schema_file: schemas.join("graphql-schemas/schema.yml"),
        data_dir: shared.join("sample-app-interface/data"),
        resources_dir: shared.join("sample-app-interface/resources"),
        git_commit: "0123456789abcdef0123456789abcdef01234567".to_owned(),
        git_commit_timestamp: "1798000000".to_owned(),
    })
    .expect("sample bundles");
    let data = bundle["data"].as_object_mut().expect("data");
    let cluster = data["/openshift/cluster-1/cluster.yml"].clone();
    let namespaces = [
        data["/services/app-a/namespaces/app-a-stage.yml"].clone(),
        data["/services/app-a/namespaces/app-a-observability.yml"].clone(),
        data["/services/app-b/namespaces/app-b-production.yml"].clone(),
    ];
    for c in 0..CLUSTERS {
        let mut cl = cluster.clone();
        cl["name"] = json!(format!("gen-cluster-{c}"));
        data.insert(format!("/openshift/gen-cluster-{c}/cluster.yml"), cl);
    }
    for n in 0..NAMESPACES {
        let mut ns = namespaces[n % namespaces.len()].clone();
        ns["name"] = json!(format!("gen-ns-{n}"));
        ns["cluster"] =
            json!({"$ref": format!("/openshift/gen-cluster-{}/cluster.yml", n % CLUSTERS)});
        data.insert(format!("/services/gen/namespaces/gen-ns-{n:04}.yml"), ns);
    }
    let sorted: serde_json::Map<String, Value> = {
        let mut entries: Vec<(String, Value)> = std::mem::take(data).into_iter().collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        entries.into_iter().collect()
    };
    bundle["data"] = Value::Object(sorted);
    qontract_bundler::bundle_to_json(&bundle)
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
    let text = generated_bundle();
    println!(
        "bundle: {NAMESPACES} generated namespaces over {CLUSTERS} clusters, {:.1} MB",
        text.len() as f64 / 1e6
    );
    let rss_before = peak_rss_mib().unwrap_or_default();

    let mut loads = Vec::new();
    let mut bundle = None;
    for _ in 0..5 {
        let start = Instant::now();
        let b = Bundle::from_json_bytes(text.as_bytes(), "generated").expect("bundle loads");
        loads.push(start.elapsed().as_secs_f64());
        bundle = Some(b);
    }
    let bundle = bundle.expect("loaded");
    loads.sort_by(f64::total_cmp);
    println!(
        "load (parse + index): min {:.1} ms, median {:.1} ms ({} datafiles)",
        loads[0] * 1e3,
        loads[loads.len() / 2] * 1e3,
        bundle.datafile_count()
    );

    let mut times = Vec::new();
    let mut size = 0;
    for _ in 0..RUNS {
        let start = Instant::now();
        let execution = execute(
            &bundle,
            Request {
                query: NAMESPACES_QUERY,
                variables: None,
                operation_name: None,
            },
        );
        let body = execution.to_json();
        times.push(start.elapsed().as_secs_f64());
        assert!(
            execution.errors.is_empty(),
            "{:?}",
            execution.errors.first()
        );
        size = body.len();
    }
    times.sort_by(f64::total_cmp);
    println!(
        "NAMESPACES_QUERY (execute + serialise): min {:.1} ms, median {:.1} ms, max {:.1} ms, response {:.1} MB",
        times[0] * 1e3,
        times[times.len() / 2] * 1e3,
        times[times.len() - 1] * 1e3,
        size as f64 / 1e6
    );
    println!(
        "peak RSS: {:.0} MiB (before loading: {rss_before:.0} MiB)",
        peak_rss_mib().unwrap_or_default()
    );
    println!(
        "vs Node qontract-server: load {:.1}x faster (0.6 s), query {:.1}x faster (0.88 s median)",
        0.6 / loads[loads.len() / 2],
        0.88 / times[times.len() / 2]
    );
}
