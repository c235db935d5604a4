//! `is_in_shard` against every vector computed by the Python tool.

use std::path::PathBuf;

use qontract_sharding::{ShardConfig, ShardingEnvError, is_in_shard, shard_of};
use serde_json::Value;

fn vectors() -> Vec<Value> {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared"))
        .join("compat/sharding-vectors.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("reading {}: {error}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("parsing {}: {error}", path.display()))
}

#[test]
fn every_python_sharding_vector_matches() {
    let vectors = vectors();
    assert_eq!(vectors.len(), 45, "vector file changed");
    let mut failures = Vec::new();
    let mut checked = 0;
    for vector in &vectors {
        let key = vector["key"].as_str().expect("key is a string");
        let shard_of_map = vector["shard_of"].as_object().expect("shard_of is a map");
        for (shards, expected) in shard_of_map {
            let shards: u64 = shards.parse().expect("shard count");
            let expected = expected.as_u64().expect("shard id");
            checked += 1;
            if shard_of(key, shards) != expected {
                failures.push(format!(
                    "{key:?} with {shards} shards: {} != {expected}",
                    shard_of(key, shards)
                ));
            }
            // Exactly the expected shard claims the key.
            let claiming: Vec<u64> = (0..shards)
                .filter(|id| is_in_shard(key, shards, *id))
                .collect();
            if claiming != [expected] {
                failures.push(format!(
                    "{key:?} with {shards} shards claimed by {claiming:?}"
                ));
            }
        }
    }
    assert_eq!(checked, 45 * 16);
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn env_values_are_validated() {
    assert_eq!(
        ShardConfig::from_values(None, None),
        Ok(ShardConfig {
            shards: 1,
            shard_id: 0
        })
    );
    assert_eq!(
        ShardConfig::from_values(Some(" 4 "), Some("3")),
        Ok(ShardConfig {
            shards: 4,
            shard_id: 3
        })
    );
    assert_eq!(
        ShardConfig::from_values(Some("0"), None),
        Err(ShardingEnvError::ZeroShards)
    );
    assert_eq!(
        ShardConfig::from_values(Some("2"), Some("2")),
        Err(ShardingEnvError::ShardIdOutOfRange {
            shards: 2,
            shard_id: 2
        })
    );
    let error = ShardConfig::from_values(Some("two"), None).expect_err("not a number");
    assert_eq!(
        error.to_string(),
        "environment variable SHARDS=\"two\" is not a non-negative integer"
    );
}

#[test]
fn a_single_shard_owns_everything() {
    let config = ShardConfig::default();
    assert!(config.is_in_shard("cluster-0/ns-0"));
    assert!(config.is_in_shard(""));
}
