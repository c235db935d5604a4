//! Early exit of merge-request checks (`--early-exit-compare-sha`): the desired states of two
//! bundles are compared without regard to list order, like the Python tool's deepdiff
//! `DeepHash` (which ignores list order by default).

use serde_json::Value;

/// A copy of `value` in which every list is sorted (by the canonical text of its items), so
/// that two values equal up to list order become equal.
pub fn order_insensitive(value: &Value) -> Value {
    match value {
        Value::Array(items) => {
            let mut items: Vec<Value> = items.iter().map(order_insensitive).collect();
            items.sort_by_cached_key(qontract_pyjson::dumps_sorted);
            Value::Array(items)
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), order_insensitive(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Whether two desired states are the same up to list order.
pub fn same_desired_state(a: &Value, b: &Value) -> bool {
    qontract_pyjson::dumps_sorted(&order_insensitive(a))
        == qontract_pyjson::dumps_sorted(&order_insensitive(b))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn list_order_does_not_matter_but_content_does() {
        let a = json!({"ns": [{"name": "a", "delete": false}, {"name": "b"}], "x": 1});
        let b = json!({"x": 1, "ns": [{"name": "b"}, {"delete": false, "name": "a"}]});
        assert!(same_desired_state(&a, &b));
        let c = json!({"x": 1, "ns": [{"name": "b"}, {"delete": true, "name": "a"}]});
        assert!(!same_desired_state(&a, &c));
        assert!(!same_desired_state(&json!([1, 1, 2]), &json!([1, 2, 2])));
    }
}
