//! Throughput of the filesystem state backend; prints figures, asserts nothing about time.
//!
//! `cargo bench -p qontract-state --bench fs_state` (`KEYS=5000` to change the size).

use std::time::Instant;

use qontract_state::{State, StateBackendConfig};
use serde_json::json;

fn report(what: &str, count: usize, started: Instant) {
    let elapsed = started.elapsed();
    println!(
        "{what:<28} {count:>6} ops in {:>8.1} ms  ({:>9.0} ops/s)",
        elapsed.as_secs_f64() * 1000.0,
        count as f64 / elapsed.as_secs_f64()
    );
}

fn main() {
    let keys: usize = std::env::var("KEYS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("temporary directory");
        let config = StateBackendConfig::Fs {
            root: dir.path().to_owned(),
        };
        let state = State::open("bench", &config).await.expect("open state");
        let value = json!({"cluster": "appsres01ue1", "namespaces": ["a", "b", "c"], "sha": "0123456789abcdef"});

        let started = Instant::now();
        for i in 0..keys {
            state.set(&format!("items/{i}"), &value).await.expect("set");
        }
        report("set", keys, started);

        let started = Instant::now();
        for i in 0..keys {
            let _: serde_json::Value = state.get(&format!("items/{i}")).await.expect("get");
        }
        report("get", keys, started);

        let started = Instant::now();
        let listed = state.ls().await.expect("ls");
        assert_eq!(listed.len(), keys);
        report("ls (keys listed)", keys, started);

        let started = Instant::now();
        let all = state.get_all("items").await.expect("get_all");
        assert_eq!(all.len(), keys);
        report("get_all (values read)", keys, started);

        let started = Instant::now();
        for i in 0..keys {
            let mut tx = state.transaction(&format!("items/{i}")).await.expect("begin");
            tx.set(&json!({"n": i})).expect("set value");
            assert!(tx.commit().await.expect("commit"));
        }
        report("transaction (read+commit)", keys, started);
    });
}
