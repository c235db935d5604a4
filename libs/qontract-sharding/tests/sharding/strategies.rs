//! The deployment-time strategies, one fixture per strategy and error.

use qontract_sharding::{
    IntegrationCliMeta, OcmOrganization, Sharding, ShardingError, ShardingInputs, ShardingTarget,
    build_integration_shards,
};
use serde_json::json;

fn inputs() -> ShardingInputs {
    ShardingInputs {
        clusters: vec![
            ShardingTarget {
                name: "cluster-a".into(),
                disabled_integrations: vec![],
            },
            ShardingTarget {
                name: "cluster-b".into(),
                disabled_integrations: vec!["openshift-resources".into()],
            },
            ShardingTarget {
                name: "cluster-c".into(),
                disabled_integrations: vec!["other".into()],
            },
        ],
        aws_accounts: vec![
            ShardingTarget {
                name: "app-sre".into(),
                disabled_integrations: vec![],
            },
            ShardingTarget {
                name: "legacy".into(),
                disabled_integrations: vec!["terraform-resources".into()],
            },
        ],
        ocm_organizations: vec![OcmOrganization {
            name: "prod-org".into(),
            org_id: "1AbC".into(),
        }],
    }
}

fn meta(args: &[&str]) -> IntegrationCliMeta {
    IntegrationCliMeta {
        args: args.iter().map(|a| (*a).to_owned()).collect(),
    }
}

fn sharding(value: serde_json::Value) -> Sharding {
    serde_json::from_value(value).expect("valid sharding block")
}

#[test]
fn no_sharding_block_is_one_static_shard() {
    let shards =
        build_integration_shards("vault-replication", None, Some("--flag"), None, &inputs())
            .expect("shards");
    insta::assert_json_snapshot!("static_default", shards);
    assert_eq!(shards.len(), 1);
    assert_eq!(shards[0].shard_name_suffix, "");
}

#[test]
fn static_sharding_makes_numbered_shards() {
    let block = sharding(json!({"strategy": "static", "shards": 3}));
    let shards =
        build_integration_shards("gitlab-housekeeping", None, None, Some(&block), &inputs())
            .expect("shards");
    let summary: Vec<(String, String, String)> = shards
        .iter()
        .map(|s| {
            (
                s.shards.clone(),
                s.shard_id.clone(),
                s.shard_name_suffix.clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [("3", "0", "-0"), ("3", "1", "-1"), ("3", "2", "-2")].map(|(a, b, c)| (
            a.to_owned(),
            b.to_owned(),
            c.to_owned()
        ))
    );
}

#[test]
fn per_openshift_cluster_skips_disabled_clusters_and_sub_shards() {
    let block = sharding(json!({
        "strategy": "per-openshift-cluster",
        "shardSpecOverrides": [
            {"shard": {"name": "cluster-a"}, "imageRef": "abc123", "subSharding": {"strategy": "static", "shards": 2}},
            {"shard": {"name": "cluster-c"}, "disabled": true, "resources": {"requests": {"cpu": "100m"}}},
        ],
    }));
    let shards = build_integration_shards(
        "openshift-resources",
        Some(&meta(&["--cluster-name", "--thread-pool-size"])),
        Some("--internal"),
        Some(&block),
        &inputs(),
    )
    .expect("shards");
    insta::assert_json_snapshot!("per_openshift_cluster", shards);
    let suffixes: Vec<&str> = shards
        .iter()
        .map(|s| s.shard_name_suffix.as_str())
        .collect();
    assert_eq!(suffixes, ["-cluster-a-0", "-cluster-a-1", "-cluster-c"]);
}

#[test]
fn per_aws_account_and_per_ocm_organization() {
    let block = sharding(json!({"strategy": "per-aws-account"}));
    let shards = build_integration_shards(
        "terraform-resources",
        Some(&meta(&["--account-name"])),
        None,
        Some(&block),
        &inputs(),
    )
    .expect("shards");
    assert_eq!(shards.len(), 1, "legacy disables the integration");
    assert_eq!(shards[0].extra_args, " --account-name app-sre");
    assert_eq!(shards[0].shard_key, "app-sre");

    let block = sharding(json!({"strategy": "per-ocm-organization",
        "shardSpecOverrides": [{"shard": {"name": "prod-org"}, "disabled": true}]}));
    let shards = build_integration_shards(
        "ocm-machine-pools",
        Some(&meta(&["--org-id"])),
        None,
        Some(&block),
        &inputs(),
    )
    .expect("shards");
    insta::assert_json_snapshot!("per_ocm_organization", shards);
    assert_eq!(shards[0].shard_name_suffix, "-1abc");
}

#[test]
fn key_strategies_need_their_cli_option() {
    let block = sharding(json!({"strategy": "per-openshift-cluster"}));
    let error = build_integration_shards("go-integration", None, None, Some(&block), &inputs())
        .expect_err("unknown integrations have no options");
    assert!(matches!(
        error,
        ShardingError::MissingCliOption {
            option: "--cluster-name",
            ..
        }
    ));
    assert!(
        error
            .to_string()
            .contains("integration go-integration does not support")
    );
}

#[test]
fn invalid_blocks_are_errors_naming_the_integration() {
    let cases = [
        json!({"strategy": "per-planet"}),
        json!({"strategy": "static"}),
        json!({"strategy": "static", "shards": 0}),
        json!({"strategy": "per-openshift-cluster", "shardSpecOverrides": [
            {"shard": {"name": "cluster-a"}, "subSharding": {"strategy": "per-aws-account"}}]}),
    ];
    let mut messages = Vec::new();
    for case in cases {
        let block = sharding(case);
        let error = build_integration_shards(
            "integ",
            Some(&meta(&["--cluster-name"])),
            None,
            Some(&block),
            &inputs(),
        )
        .expect_err("invalid");
        messages.push(error.to_string());
    }
    assert!(messages.iter().all(|m| m.contains("integ")));
    insta::assert_snapshot!("invalid_blocks", messages.join("\n"));
}
