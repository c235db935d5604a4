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

/// The shards whose part of the desired state differs between `before` and `after`, for
/// integrations whose early-exit desired state is `{"state": {<shard>: ...}}` (upstream's
/// `shard_path_selectors = {"state.*.shard"}` convention). `None` when the states do not have
/// that shape, or when something outside `state` changed (then only a full run is safe).
pub fn affected_shards(before: &Value, after: &Value) -> Option<Vec<String>> {
    let outside = |v: &Value| {
        let mut v = v.clone();
        v.as_object_mut()?.remove("state");
        Some(v)
    };
    if !same_desired_state(&outside(before)?, &outside(after)?) {
        return None;
    }
    let b = before.get("state")?.as_object()?;
    let a = after.get("state")?.as_object()?;
    let mut shards: Vec<String> = b
        .keys()
        .chain(a.keys())
        .filter(|k| match (b.get(*k), a.get(*k)) {
            (Some(x), Some(y)) => !same_desired_state(x, y),
            _ => true,
        })
        .cloned()
        .collect();
    shards.sort();
    shards.dedup();
    Some(shards)
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

    #[test]
    fn affected_shards_are_the_changed_added_and_removed_ones() {
        let before = json!({"state": {"c1": [1], "c2": [2], "c3": [3]}, "errors": []});
        let after = json!({"state": {"c1": [1], "c2": [20], "c4": [4]}, "errors": []});
        assert_eq!(
            affected_shards(&before, &after),
            Some(vec!["c2".into(), "c3".into(), "c4".into()])
        );
        assert_eq!(affected_shards(&before, &before), Some(vec![]));
        // A change outside `state` cannot be attributed to a shard.
        let other = json!({"state": {"c1": [1], "c2": [2], "c3": [3]}, "errors": ["x"]});
        assert_eq!(affected_shards(&before, &other), None);
        assert_eq!(affected_shards(&json!([1]), &json!([2])), None);
    }
}
