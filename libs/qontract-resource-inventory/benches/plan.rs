//! Benchmark of plan computation on generated inventories (run with
//! `cargo bench -p qontract-resource-inventory --bench plan [-- SIZE...]`).
//!
//! Mirrors the Python micro-benchmark (python-tool-notes §5): N resource keys over 10 clusters
//! x 50 namespaces, half ConfigMaps (1-8 data keys of 20-400 chars) and half Deployments (2-10
//! env vars, cpu sometimes as decimals); 80 % identical (the cluster copy is what was applied
//! plus server-added fields, managedFields, last-applied, status, defaults, cpu normalised),
//! 10 % changed, 5 % missing on the cluster, 5 % extra on the cluster (annotated, owned).
//! The cluster side is serialised per namespace to JSON and parsed back, as a list response
//! would be. Prints phase times and peak RSS (VmHWM); asserts only the expected
//! classification, never timings.

use std::time::{Duration, Instant};

use qontract_openshift_resource::OpenshiftResource;
use qontract_resource_inventory::{PlanOptions, Planner, ResourceInventory, compute_plan};
use serde_json::{Value, json};

const INTEGRATION: &str = "openshift_resources";
const VERSION: &str = "1.9.3";
const CLUSTERS: usize = 10;
const NAMESPACES_PER_CLUSTER: usize = 50;

/// Small deterministic PRNG (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn range(&mut self, low: usize, high: usize) -> usize {
        low + usize::try_from(self.next() % (high - low + 1) as u64).unwrap_or(0)
    }

    fn text(&mut self, length: usize) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789-_ ";
        (0..length)
            .map(|_| char::from(ALPHABET[self.range(0, ALPHABET.len() - 1)]))
            .collect()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Category {
    Identical,
    Changed,
    Missing,
    Extra,
}

fn category(index: usize) -> Category {
    match index % 20 {
        0..=15 => Category::Identical,
        16 | 17 => Category::Changed,
        18 => Category::Missing,
        _ => Category::Extra,
    }
}

fn configmap(rng: &mut Rng, name: &str) -> Value {
    let mut data = serde_json::Map::new();
    for key in 0..rng.range(1, 8) {
        let length = rng.range(20, 400);
        data.insert(format!("key-{key}"), Value::String(rng.text(length)));
    }
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": {"app": "bench", "component": name}},
        "data": data,
    })
}

fn deployment(rng: &mut Rng, name: &str) -> Value {
    let env: Vec<Value> = (0..rng.range(2, 10))
        .map(|index| {
            let length = rng.range(5, 40);
            json!({"name": format!("VAR_{index}"), "value": rng.text(length)})
        })
        .collect();
    let cpu = if rng.range(0, 1) == 0 {
        json!(0.25)
    } else {
        json!("250m")
    };
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": rng.range(1, 3),
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{
                    "name": "main",
                    "image": format!("quay.io/bench/{name}:{}", rng.range(1, 999)),
                    "env": env,
                    "resources": {"requests": {"cpu": cpu, "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
                }]},
            },
        },
    })
}

/// The object as the API server returns it after this integration applied `desired`.
fn as_on_cluster(desired: &Value, namespace: &str, index: usize) -> Value {
    let resource =
        OpenshiftResource::new_unvalidated(desired.clone(), INTEGRATION, VERSION, "bench", None);
    let mut body = resource.annotate("2024-12-01T00:00:00").into_body();
    let last_applied = body.to_string();
    let metadata = body["metadata"].as_object_mut().expect("metadata");
    metadata.insert("namespace".into(), json!(namespace));
    metadata.insert(
        "uid".into(),
        json!(format!("00000000-0000-4000-8000-{index:012}")),
    );
    metadata.insert("resourceVersion".into(), json!(format!("{}", 1000 + index)));
    metadata.insert("creationTimestamp".into(), json!("2024-12-01T00:00:00Z"));
    metadata.insert(
        "managedFields".into(),
        json!([{
            "apiVersion": desired["apiVersion"], "fieldsType": "FieldsV1",
            "manager": "kubectl-client-side-apply", "operation": "Update",
            "time": "2024-12-01T00:00:00Z",
            "fieldsV1": {"f:metadata": {"f:annotations": {".": {}, "f:qontract.integration": {}, "f:qontract.sha256sum": {}}, "f:labels": {".": {}, "f:app": {}}}},
        }]),
    );
    metadata["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] =
        Value::String(last_applied);
    if body["kind"] == "Deployment" {
        let spec = &mut body["spec"];
        spec["progressDeadlineSeconds"] = json!(600);
        spec["revisionHistoryLimit"] = json!(10);
        spec["strategy"] = json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}});
        let pod = &mut spec["template"]["spec"];
        pod["restartPolicy"] = json!("Always");
        pod["dnsPolicy"] = json!("ClusterFirst");
        pod["schedulerName"] = json!("default-scheduler");
        pod["terminationGracePeriodSeconds"] = json!(30);
        let container = &mut pod["containers"][0];
        container["imagePullPolicy"] = json!("IfNotPresent");
        container["terminationMessagePath"] = json!("/dev/termination-log");
        container["terminationMessagePolicy"] = json!("File");
        if container["resources"]["requests"]["cpu"] == json!(0.25) {
            container["resources"]["requests"]["cpu"] = json!("250m");
        }
        body["status"] = json!({"observedGeneration": 1, "replicas": 1, "readyReplicas": 1,
            "conditions": [{"type": "Available", "status": "True"}]});
    }
    body
}

/// How the objects are planned.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    /// One inventory holding everything, then `compute_plan` (the upstream shape).
    Whole,
    /// One small inventory per namespace handed to a `Planner` and dropped right away.
    Streaming,
}

#[derive(Default)]
struct Figures {
    generate_and_serialise: Duration,
    parse_current: Duration,
    build_inventory: Duration,
    plan: Duration,
    plan_cpu: f64,
    rss_before_plan: Option<u64>,
}

fn run(keys: usize, mode: Mode) -> Figures {
    let mut rng = Rng(0x5eed_0000_0000_0001 ^ keys as u64);
    let namespaces = CLUSTERS * NAMESPACES_PER_CLUSTER;
    let per_namespace = keys.div_ceil(namespaces);
    let mut figures = Figures::default();
    let mut whole = ResourceInventory::new();
    let mut planner = Planner::new(PlanOptions::default());
    let mut expected = [0usize; 4];
    let mut index = 0;
    'outer: for cluster_index in 0..CLUSTERS {
        let cluster = format!("cluster-{cluster_index}");
        for namespace_index in 0..NAMESPACES_PER_CLUSTER {
            let namespace = format!("ns-{namespace_index}");
            let started = Instant::now();
            let mut desired_objects = Vec::new();
            let mut current_items = Vec::new();
            for _ in 0..per_namespace {
                if index == keys {
                    break;
                }
                let name = format!("obj-{index}");
                let body = if index % 2 == 0 {
                    configmap(&mut rng, &name)
                } else {
                    deployment(&mut rng, &name)
                };
                let category = category(index);
                expected[category as usize] += 1;
                match category {
                    Category::Identical => {
                        current_items.push(as_on_cluster(&body, &namespace, index));
                        desired_objects.push(body);
                    }
                    Category::Changed => {
                        let older = if index % 2 == 0 {
                            configmap(&mut rng, &name)
                        } else {
                            deployment(&mut rng, &name)
                        };
                        current_items.push(as_on_cluster(&older, &namespace, index));
                        desired_objects.push(body);
                    }
                    Category::Missing => desired_objects.push(body),
                    Category::Extra => current_items.push(as_on_cluster(&body, &namespace, index)),
                }
                index += 1;
            }
            let list_text = serde_json::to_string(&json!({"kind": "List", "items": current_items}))
                .expect("serialise list");
            drop(current_items);
            figures.generate_and_serialise += started.elapsed();

            let started = Instant::now();
            let list: Value = serde_json::from_str(&list_text).expect("parse list");
            drop(list_text);
            figures.parse_current += started.elapsed();

            let started = Instant::now();
            let mut batch = ResourceInventory::new();
            let inventory = match mode {
                Mode::Whole => &mut whole,
                Mode::Streaming => &mut batch,
            };
            for kind in ["ConfigMap", "Deployment"] {
                inventory.initialize_resource_type(&cluster, &namespace, kind, None);
            }
            let Value::Object(mut list) = list else {
                unreachable!("list is an object")
            };
            let items = match list.remove("items") {
                Some(Value::Array(items)) => items,
                _ => Vec::new(),
            };
            for item in items {
                let kind = item["kind"].as_str().unwrap_or_default().to_owned();
                let resource = OpenshiftResource::from_cluster(item, INTEGRATION, VERSION, "bench")
                    .expect("valid current");
                inventory
                    .add_current(&cluster, &namespace, &kind, resource)
                    .expect("add current");
            }
            for body in desired_objects {
                let kind = body["kind"].as_str().unwrap_or_default().to_owned();
                let resource = OpenshiftResource::new(body, INTEGRATION, VERSION, "bench", None)
                    .expect("valid desired");
                inventory
                    .add_desired(&cluster, &namespace, &kind, resource, false)
                    .expect("add desired");
            }
            figures.build_inventory += started.elapsed();
            if mode == Mode::Streaming {
                let started = Instant::now();
                let cpu_started = cpu_seconds();
                planner.absorb(batch);
                figures.plan += started.elapsed();
                figures.plan_cpu += cpu_seconds() - cpu_started;
            }
            if index == keys {
                break 'outer;
            }
        }
    }

    figures.rss_before_plan = status_kib("VmRSS:");
    let started = Instant::now();
    let cpu_started = cpu_seconds();
    let plan = match mode {
        Mode::Whole => compute_plan(&mut whole, &PlanOptions::default()),
        Mode::Streaming => planner.finish(),
    };
    figures.plan += started.elapsed();
    figures.plan_cpu += cpu_seconds() - cpu_started;

    let summary = plan.summary();
    let [identical, changed, missing, extra] = expected;
    assert_eq!(
        (
            summary.no_op,
            summary.update,
            summary.create,
            summary.delete,
            summary.skip
        ),
        (identical, changed, missing, extra, 0),
        "classification of {keys} keys"
    );
    figures
}

/// User + system CPU seconds of the whole process (all threads), from `/proc/self/stat`
/// (`utime`/`stime` in clock ticks of 1/100 s, the value of `CLK_TCK` on Linux).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of the line are at index 11 and 12 after the `(comm)` field.
    let ticks = |index: usize| {
        fields
            .get(index)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Runs one configuration in this process and prints its figures.
fn child(mode: Mode, keys: usize) {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let started = Instant::now();
    let figures = run(keys, mode);
    let total = started.elapsed();
    let mib = |kib: Option<u64>| {
        kib.map_or("n/a".to_owned(), |kib| {
            format!("{:.0} MiB", kib as f64 / 1024.0)
        })
    };
    let without_generation = figures.plan + figures.parse_current + figures.build_inventory;
    println!(
        "{mode:>9?} {keys:>7} keys: plan {:>6.3} s (cpu {:.2} s) | parse current {:>6.3} s | build inventory {:>6.3} s | => without generation {:>6.3} s | generate {:>6.3} s | total {:>6.3} s | RSS before plan {} | peak RSS {} | load {}",
        figures.plan.as_secs_f64(),
        figures.plan_cpu,
        figures.parse_current.as_secs_f64(),
        figures.build_inventory.as_secs_f64(),
        without_generation.as_secs_f64(),
        figures.generate_and_serialise.as_secs_f64(),
        total.as_secs_f64(),
        mib(figures.rss_before_plan),
        mib(status_kib("VmHWM:")),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .next()
            .unwrap_or("?"),
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(position) = args.iter().position(|arg| arg == "--child") {
        let mode = match args.get(position + 1).map(String::as_str) {
            Some("streaming") => Mode::Streaming,
            _ => Mode::Whole,
        };
        let keys = args
            .get(position + 2)
            .and_then(|k| k.parse().ok())
            .unwrap_or(10_000);
        child(mode, keys);
        return;
    }
    let sizes: Vec<usize> = args
        .iter()
        .skip(1)
        .filter_map(|arg| arg.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![10_000, 100_000]
    } else {
        sizes
    };
    println!(
        "plan benchmark: 10 clusters x 50 namespaces, 80% identical / 10% changed / 5% missing / 5% extra; each run in its own process"
    );
    println!(
        "Python 0.10.1 reference: 10k keys 11.7 s / 321 MiB, 100k keys 97.6 s / 2.35 GiB (whole process)"
    );
    let exe = std::env::current_exe().expect("own executable");
    for mode in ["whole", "streaming"] {
        for keys in &sizes {
            let status = std::process::Command::new(&exe)
                .args(["--child", mode, &keys.to_string()])
                .status()
                .expect("run child");
            assert!(status.success(), "{mode} {keys} failed");
        }
    }
}
