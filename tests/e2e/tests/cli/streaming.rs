//! A run streamed cluster by cluster (`IntegrationInfo::streamed_by_cluster`, set by
//! openshift-resources): each cluster is read, planned and its creates/updates applied on its
//! own, but deletes are decided once every cluster is done, so an error on any cluster keeps
//! every delete from being made (upstream `realize_data` decides `enable_deletion` after the
//! whole current state is fetched).

use super::support::*;

/// A second cluster, `far`, whose API server cannot be reached, with a namespace managing
/// ConfigMaps: its cluster error must disable the delete planned on the reachable sandbox.
fn add_unreachable_cluster(example: &Example) {
    example.copy_datafile(
        "openshift/sandbox/cluster.yml",
        "openshift/far/cluster.yml",
        &[
            ("name: sandbox", "name: far"),
            ("path: sandbox/creds", "path: far/creds"),
        ],
    );
    // Its token, for the server it names (nothing listens on port 9).
    let mut config = std::fs::read_to_string(&example.config).unwrap();
    config.push_str("\n[far.creds]\ntoken = \"far-token\"\nserver = \"http://127.0.0.1:9\"\n");
    std::fs::write(&example.config, config).unwrap();
    let cluster = example.data.join("openshift/far/cluster.yml");
    let text = std::fs::read_to_string(&cluster).unwrap();
    let text: String = text
        .lines()
        .map(|line| match line.split_once(": ") {
            Some((key, _)) if key.ends_with("Url") => format!("{key}: http://127.0.0.1:9\n"),
            _ => format!("{line}\n"),
        })
        .collect();
    std::fs::write(&cluster, text).unwrap();
    example.copy_datafile(
        "services/shop/namespaces/shop-stage.yml",
        "services/shop/namespaces/shop-far.yml",
        &[
            ("name: shop-stage", "name: shop-far"),
            (
                "/openshift/sandbox/cluster.yml",
                "/openshift/far/cluster.yml",
            ),
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_error_on_one_cluster_disables_the_deletes_of_every_cluster() {
    let (sandbox, example) = demo([]).await;
    let cm = |ns: &str, name: &str| sandbox.get_object("v1", "ConfigMap", Some(ns), name);
    create_namespaces(&example);
    apply(&example, &["openshift-resources"]);
    assert!(cm("shop-production", "shop-settings").is_some());

    // shop-settings is no longer declared, and another cluster cannot be read.
    example.edit(
        "services/shop/namespaces/shop-production.yml",
        "- provider: resource\n  path: /shop/configmap.yml\n",
        "",
    );
    add_unreachable_cluster(&example);

    let out = dry_run(&example, &sandbox, &["openshift-resources"], 1);
    let plan = stdout(&out);
    assert_contains_all(&plan, &["shop-settings", "Deletion: DISABLED"], "dry run");
    assert!(text(&out).contains("[far]"), "{}", text(&out));
    assert!(!text(&out).contains("mismatch"), "{}", text(&out));
    assert!(plan.contains(", 0 to delete,"), "{plan}");

    // The wet run reaches the sandbox, deletes nothing there and fails for `far`.
    sandbox.clear_requests();
    let out = example.run(&["openshift-resources"]);
    assert_exit(&out, 1, "unreachable cluster");
    assert!(text(&out).contains("[far]"), "{}", text(&out));
    assert!(
        cm("shop-production", "shop-settings").is_some(),
        "no delete while another cluster has an error"
    );
    assert!(
        sandbox
            .writes()
            .iter()
            .all(|write| !write.starts_with("DELETE")),
        "{:?}",
        sandbox.writes()
    );

    // The cluster gone from the data: the delete is made.
    std::fs::remove_file(example.data.join("services/shop/namespaces/shop-far.yml")).unwrap();
    apply(&example, &["openshift-resources"]);
    assert!(cm("shop-production", "shop-settings").is_none(), "deleted");
    assert_converged(&example, "openshift-resources");
}
