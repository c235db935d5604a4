//! Rendering: the text table and the JSON form, and that Secret values never appear.

use qontract_resource_inventory::{
    PlanOptions, TableOptions, compute_plan, render_json, render_table, write_json,
};
use serde_json::json;

use crate::support::*;

const PASSWORD: &str = "hunter2-very-secret";

fn secret_inventory() -> qontract_resource_inventory::ResourceInventory {
    let mut inventory = inventory(
        "Secret",
        vec![
            desired(secret("db", PASSWORD)),
            desired(secret("api", PASSWORD)),
        ],
        vec![
            current(applied(&secret("db", "old-password"))),
            current(applied(&secret("gone", PASSWORD))),
        ],
    );
    inventory.initialize_resource_type(CLUSTER, NAMESPACE, "ConfigMap", None);
    inventory
        .add_desired(
            CLUSTER,
            NAMESPACE,
            "ConfigMap",
            desired(configmap("cfg", "visible")),
            true,
        )
        .expect("configmap");
    inventory
}

#[test]
fn table_shows_changes_and_hides_unchanged_by_default() {
    let mut inventory = secret_inventory();
    inventory
        .add_current(
            CLUSTER,
            NAMESPACE,
            "ConfigMap",
            current(applied(&configmap("cfg", "visible"))),
        )
        .expect("current cfg");
    let plan = compute_plan(&mut inventory, &PlanOptions::default());
    let table = render_table(&plan, TableOptions::default());
    assert!(
        !table.contains(" cfg "),
        "unchanged ConfigMap hidden:\n{table}"
    );
    insta::assert_snapshot!("table_default", table);
}

#[test]
fn the_streamed_json_document_is_the_rendered_one() {
    let mut inventory = secret_inventory();
    inventory.register_error(None, "an error, so that deletes are disabled and listed");
    let plan = compute_plan(&mut inventory, &PlanOptions::default());
    let mut written = Vec::new();
    write_json(&plan, &mut written).expect("writes");
    let rendered = serde_json::to_string_pretty(&render_json(&plan, None)).expect("renders");
    assert_eq!(String::from_utf8(written).expect("utf-8"), rendered);
    assert!(!rendered.contains(PASSWORD));
}

#[test]
fn secret_values_never_appear_in_table_or_json() {
    let mut inventory = secret_inventory();
    let plan = compute_plan(&mut inventory, &PlanOptions::default());
    let table = render_table(
        &plan,
        TableOptions {
            include_unchanged: true,
        },
    );
    let rendered_json = render_json(&plan, Some(&inventory));
    let json_text = serde_json::to_string(&rendered_json).expect("json");
    let encoded = qontract_openshift_resource::canonical::base64_encode_secret_value(PASSWORD);
    for text in [&table, &json_text] {
        assert!(!text.contains(PASSWORD), "plaintext leaked: {text}");
        assert!(!text.contains(&encoded), "base64 leaked: {text}");
    }
    // Keys stay visible, values are redacted, other kinds are shown in full.
    let db = rendered_json["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .find(|a| a["name"] == "db")
        .expect("db action");
    assert_eq!(
        db["desired"]["stringData"],
        json!({"password": "<redacted>", "user": "<redacted>"})
    );
    let cfg = rendered_json["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .find(|a| a["name"] == "cfg")
        .expect("cfg action");
    assert_eq!(cfg["desired"]["data"]["setting"], "visible");
    assert_eq!(cfg["privileged"], true);
    insta::assert_json_snapshot!("plan_json", rendered_json);
    // Debug output of the model is redacted too.
    let debug = format!(
        "{:?}",
        inventory.get_desired(CLUSTER, NAMESPACE, "Secret", "db")
    );
    assert!(
        !debug.contains(PASSWORD) && debug.contains("<redacted>"),
        "{debug}"
    );
}

#[test]
fn inventory_gauge_counts_current_and_desired_per_type() {
    let mut inventory = secret_inventory();
    let samples = inventory.inventory_gauge_samples("openshift_resources");
    insta::assert_json_snapshot!("inventory_gauge", samples);
    assert!(
        samples
            .iter()
            .all(|s| s.integration == "openshift-resources")
    );
    let plan = compute_plan(&mut inventory, &PlanOptions::default());
    // Every create/update can find the body it applies.
    for action in plan
        .changes()
        .filter(|a| a.action != qontract_resource_inventory::Action::Delete)
    {
        let entry = inventory
            .desired_for(action)
            .expect("desired object of a planned apply");
        assert_eq!(entry.resource.name(), action.name);
    }
}
