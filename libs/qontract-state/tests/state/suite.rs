//! The state API, run on both backends (filesystem and S3) with identical expectations.

use std::collections::BTreeMap;

use qontract_state::StateError;
use serde_json::{Value, json};

use crate::fixture::Fixture;

macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod fs {
            $(
                #[tokio::test]
                async fn $scenario() {
                    super::$scenario(crate::fixture::Fixture::fs().await).await;
                }
            )*
        }
        mod s3 {
            $(
                #[tokio::test]
                async fn $scenario() {
                    super::$scenario(crate::fixture::Fixture::s3().await).await;
                }
            )*
        }
    };
}

on_both_backends!(
    add_get_set_rm_and_listing,
    values_are_written_like_python_json_dumps,
    metadata_round_trips,
    transaction_raced_by_a_second_writer,
    concurrent_transactions_lose_no_update,
    unreadable_values_are_errors,
);

async fn add_get_set_rm_and_listing(fixture: Fixture) {
    let state = fixture.open("my-integration").await;
    let other = fixture.open("other-integration").await;
    assert!(state.ls().await.unwrap().is_empty());
    assert!(!state.exists("clusters/a").await.unwrap());
    assert_eq!(state.head("clusters/a").await.unwrap(), None);

    state
        .add("clusters/a", &json!({"n": 1}), false)
        .await
        .unwrap();
    state
        .add("clusters/b", &json!([1, 2]), false)
        .await
        .unwrap();
    state.add("top", &"plain string", false).await.unwrap();
    other
        .add("clusters/a", &json!("other's"), false)
        .await
        .unwrap();
    assert!(state.exists("clusters/a").await.unwrap());
    assert_eq!(
        state.get::<Value>("clusters/a").await.unwrap(),
        json!({"n": 1})
    );
    assert_eq!(state.get::<String>("top").await.unwrap(), "plain string");
    // Keys as returned by ls (leading slash) are accepted too.
    assert_eq!(
        state.get::<Value>("/clusters/b").await.unwrap(),
        json!([1, 2])
    );

    let err = state
        .add("clusters/a", &json!({"n": 2}), false)
        .await
        .unwrap_err();
    assert!(matches!(err, StateError::KeyExists { .. }), "{err}");
    assert_eq!(
        fixture.normalize(&err.to_string()),
        match fixture {
            Fixture::Fs { .. } =>
                "state key clusters/a already exists in fs:ROOT/state/my-integration (use force to overwrite)",
            Fixture::S3 { .. } =>
                "state key clusters/a already exists in s3://qontract-state-test/state/my-integration (region us-east-1, endpoint ENDPOINT, credentials from test) (use force to overwrite)",
        }
    );
    assert_eq!(
        state.get::<Value>("clusters/a").await.unwrap(),
        json!({"n": 1})
    );
    state
        .add("clusters/a", &json!({"n": 2}), true)
        .await
        .unwrap();
    assert_eq!(
        state.get::<Value>("clusters/a").await.unwrap(),
        json!({"n": 2})
    );
    state.set("clusters/a", &json!({"n": 3})).await.unwrap();
    assert_eq!(
        state.get::<Value>("clusters/a").await.unwrap(),
        json!({"n": 3})
    );

    assert_eq!(
        state.ls().await.unwrap(),
        ["/clusters/a", "/clusters/b", "/top"]
    );
    assert_eq!(other.ls().await.unwrap(), ["/clusters/a"]);
    let all = state.get_all("clusters").await.unwrap();
    assert_eq!(
        all,
        BTreeMap::from([
            ("a".to_owned(), json!({"n": 3})),
            ("b".to_owned(), json!([1, 2]))
        ])
    );

    let missing = state.get::<Value>("nothing").await.unwrap_err();
    assert!(matches!(missing, StateError::KeyNotFound { ref key, .. } if key == "nothing"));
    assert_eq!(
        state.get_or("nothing", json!("default")).await.unwrap(),
        json!("default")
    );

    state.rm("clusters/b").await.unwrap();
    assert!(!state.exists("clusters/b").await.unwrap());
    let err = state.rm("clusters/b").await.unwrap_err();
    assert!(matches!(err, StateError::KeyNotFound { .. }), "{err}");
    assert_eq!(state.ls().await.unwrap(), ["/clusters/a", "/top"]);
    assert_eq!(other.get::<String>("clusters/a").await.unwrap(), "other's");

    for bad in ["", "/", "a//b", "a/../b"] {
        let err = state.set(bad, &1).await.unwrap_err();
        assert!(
            matches!(err, StateError::InvalidKey { .. }),
            "{bad:?}: {err}"
        );
    }
}

async fn values_are_written_like_python_json_dumps(fixture: Fixture) {
    let state = fixture.open("fmt").await;
    state
        .set(
            "k",
            &json!({"zeta": [1, {"b": null, "a": true}], "alpha": "é"}),
        )
        .await
        .unwrap();
    let raw = fixture.raw("state/fmt/k").await.expect("object exists");
    assert_eq!(
        String::from_utf8(raw).unwrap(),
        r#"{"alpha": "\u00e9", "zeta": [1, {"a": true, "b": null}]}"#
    );
    // Empty integration name: objects directly under state/.
    let root_state = fixture.open("").await;
    root_state.set("flat", &1).await.unwrap();
    assert_eq!(
        fixture.raw("state/flat").await.as_deref(),
        Some(b"1".as_slice())
    );
}

async fn metadata_round_trips(fixture: Fixture) {
    let state = fixture.open("meta").await;
    let metadata = BTreeMap::from([
        ("commit".to_owned(), "abc123".to_owned()),
        ("owner".to_owned(), "app-sre".to_owned()),
    ]);
    state
        .add_with_metadata("with-meta", &json!({"x": 1}), &metadata, false)
        .await
        .unwrap();
    let head = state.head("with-meta").await.unwrap().expect("exists");
    assert_eq!(head.metadata, metadata);
    assert_eq!(head.size, br#"{"x": 1}"#.len() as u64);
    state.set("with-meta", &2).await.unwrap();
    let head = state.head("with-meta").await.unwrap().expect("exists");
    assert!(head.metadata.is_empty(), "{:?}", head.metadata);
    state
        .add_with_metadata("with-meta", &3, &metadata, true)
        .await
        .unwrap();
    state.rm("with-meta").await.unwrap();
    assert_eq!(state.head("with-meta").await.unwrap(), None);
    assert!(state.ls().await.unwrap().is_empty());
}

async fn transaction_raced_by_a_second_writer(fixture: Fixture) {
    let first = fixture.open("tx").await;
    let second = fixture.open("tx").await;

    // Key absent when both start: one creates it, the other must not overwrite.
    let mut tx_a = first.transaction("lock").await.unwrap();
    let mut tx_b = second.transaction("lock").await.unwrap();
    assert!(!tx_a.exists() && !tx_b.exists());
    tx_a.set(&json!({"owner": "a"})).unwrap();
    tx_b.set(&json!({"owner": "b"})).unwrap();
    assert!(tx_a.commit().await.unwrap());
    let err = tx_b.commit().await.unwrap_err();
    assert!(matches!(err, StateError::Conflict { .. }), "{err}");
    assert!(err.to_string().starts_with("state key lock in "), "{err}");
    assert!(err.to_string().ends_with(
        "was changed by another writer since the transaction read it; nothing was written"
    ));
    assert_eq!(
        first.get::<Value>("lock").await.unwrap(),
        json!({"owner": "a"})
    );

    // Key present: both read version a, b commits first, a's commit is refused.
    let mut tx_a = first.transaction("lock").await.unwrap();
    let mut tx_b = second.transaction("lock").await.unwrap();
    assert_eq!(tx_a.stored(), Some(&json!({"owner": "a"})));
    tx_a.value = Some(json!({"owner": "a2"}));
    tx_b.set(&json!({"owner": "b2"})).unwrap();
    assert!(tx_b.commit().await.unwrap());
    let err = tx_a.commit().await.unwrap_err();
    assert!(matches!(err, StateError::Conflict { .. }), "{err}");
    assert_eq!(
        second.get::<Value>("lock").await.unwrap(),
        json!({"owner": "b2"})
    );

    // Unchanged value: nothing is written, even if someone else wrote in between.
    let tx = first.transaction("lock").await.unwrap();
    second.set("lock", &json!({"owner": "c"})).await.unwrap();
    assert!(!tx.changed());
    assert!(!tx.commit().await.unwrap());
    assert_eq!(
        first.get::<Value>("lock").await.unwrap(),
        json!({"owner": "c"})
    );

    // Dropped without commit (abort): nothing is written.
    let mut tx = first.transaction("lock").await.unwrap();
    tx.set(&json!({"owner": "aborted"})).unwrap();
    drop(tx);
    assert_eq!(
        first.get::<Value>("lock").await.unwrap(),
        json!({"owner": "c"})
    );

    // Deleted by the other writer after the transaction read it: conflict.
    let mut tx = first.transaction("lock").await.unwrap();
    second.rm("lock").await.unwrap();
    tx.set(&json!({"owner": "late"})).unwrap();
    let err = tx.commit().await.unwrap_err();
    assert!(matches!(err, StateError::Conflict { .. }), "{err}");
    assert!(!first.exists("lock").await.unwrap());
}

async fn concurrent_transactions_lose_no_update(fixture: Fixture) {
    const WRITERS: u64 = 6;
    let mut tasks = Vec::new();
    for _ in 0..WRITERS {
        let state = fixture.open("counter").await;
        tasks.push(tokio::spawn(async move {
            let mut conflicts = 0u32;
            loop {
                let mut tx = state.transaction("count").await.unwrap();
                let current = tx.stored().and_then(Value::as_u64).unwrap_or(0);
                tx.set(&(current + 1)).unwrap();
                match tx.commit().await {
                    Ok(true) => return conflicts,
                    Ok(false) => unreachable!("the value always changes"),
                    Err(StateError::Conflict { .. }) => conflicts += 1,
                    Err(other) => panic!("unexpected error: {other}"),
                }
            }
        }));
    }
    let mut total_conflicts = 0;
    for task in tasks {
        total_conflicts += task.await.expect("writer task");
    }
    let state = fixture.open("counter").await;
    assert_eq!(state.get::<u64>("count").await.unwrap(), WRITERS);
    println!("{WRITERS} concurrent writers, {total_conflicts} conflicts retried, no update lost");
}

async fn unreadable_values_are_errors(fixture: Fixture) {
    let state = fixture.open("bad").await;
    fixture.put_raw("state/bad/garbage", b"{not json").await;
    let err = state.get::<Value>("garbage").await.unwrap_err();
    assert!(matches!(err, StateError::InvalidValue { .. }), "{err}");
    assert!(
        err.to_string().starts_with("state key garbage in "),
        "{err}"
    );
    let err = state.get_or("garbage", json!(null)).await.unwrap_err();
    assert!(matches!(err, StateError::InvalidValue { .. }), "{err}");
    state.set("number", &5).await.unwrap();
    let err = state.get::<String>("number").await.unwrap_err();
    assert!(
        err.to_string()
            .contains("holds an unreadable value: invalid type: integer `5`, expected a string"),
        "{err}"
    );
}
