//! The `qontract-bundler` binary: same arguments and output as upstream.

use std::process::Command;

use qontract_bundler::sha256_hex;

use crate::shared_dir;

fn bundler() -> Command {
    Command::new(env!("CARGO_BIN_EXE_qontract-bundler"))
}

#[test]
fn binary_writes_the_upstream_bundle_to_stdout() {
    let shared = shared_dir();
    let schemas = shared.join("upstream-schemas/qontract-schemas");
    let output = bundler()
        .arg(schemas.join("schemas"))
        .arg(schemas.join("graphql-schemas/schema.yml"))
        .arg(shared.join("sample-app-interface/data"))
        .arg(shared.join("sample-app-interface/resources"))
        .arg("0123456789abcdef0123456789abcdef01234567")
        .arg("1798000000")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        sha256_hex(&output.stdout),
        "e942a4f24d07ad8a927b41a16bebeea5eadcf2e3ba0fc3fe8cc582a40235fc70"
    );
}

#[test]
fn binary_rejects_bad_arguments() {
    let output = bundler().arg("only-one").output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("expected 6 arguments, got 1"), "{stderr}");
    let output = bundler()
        .args(["/nonexistent/schemas", "g.yml", "d", "r", "c", "1"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("Path does not exist: /nonexistent/schemas"),
        "{stderr}"
    );
}
