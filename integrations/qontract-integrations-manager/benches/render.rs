//! How long rendering the desired state takes for a large app-interface: `N` integrations,
//! each statically sharded in 4 and deployed to 10 namespaces. Prints figures, asserts nothing
//! about time. `cargo bench -p qontract-integrations-manager`.

use std::collections::BTreeMap;
use std::time::Instant;

use qontract_integrations_manager::render::{
    IntegrationDeployment, RenderContext, render_namespace,
};
use qontract_sharding::{Sharding, ShardingInputs, build_integration_shards};

fn main() {
    let sharding = Sharding {
        strategy: "static".into(),
        shards: Some(4),
        shard_spec_overrides: None,
    };
    let integrations: Vec<IntegrationDeployment> = (0..150)
        .map(|i| {
            let name = format!("integration-{i}");
            IntegrationDeployment {
                shards: build_integration_shards(
                    &name,
                    None,
                    Some("--thread-pool-size 5"),
                    Some(&sharding),
                    &ShardingInputs::default(),
                )
                .expect("static shards"),
                name,
                resources: Some(serde_json::json!({
                    "requests": {"cpu": "100m", "memory": "200Mi"},
                    "limits": {"memory": "400Mi"},
                })),
                ..IntegrationDeployment::default()
            }
        })
        .collect();
    let ctx = RenderContext {
        namespace: "/services/app-sre/namespaces/app-sre-integrations.yml".into(),
        environment: "production".into(),
        parameters: BTreeMap::from([
            (
                "IMAGE".into(),
                "quay.io/app-sre/qontract-reconcile-rs".into(),
            ),
            ("IMAGE_TAG".into(), "abc1234".into()),
        ]),
    };
    let start = Instant::now();
    let mut objects = 0;
    let mut bytes = 0;
    for _ in 0..10 {
        let (rendered, errors) = render_namespace(&integrations, &ctx);
        assert!(errors.is_empty());
        objects += rendered.len();
        bytes += rendered.iter().map(|o| o.to_string().len()).sum::<usize>();
    }
    let elapsed = start.elapsed();
    println!(
        "rendered {objects} objects ({:.1} MiB of JSON) for 150 integrations x 4 shards x 10 \
         namespaces in {elapsed:?} ({:.1} µs/object)",
        bytes as f64 / (1024.0 * 1024.0),
        elapsed.as_secs_f64() * 1e6 / objects as f64
    );
}
