//! Codegen freshness and compatibility tests.

use std::path::{Path, PathBuf};

use qontract_test_support::bundle_server::start_bundle_server;
use qontract_test_support::copy_dir;

use crate::codegen::{self, Layout};

fn root() -> PathBuf {
    crate::workspace_root()
}

fn shared() -> PathBuf {
    root().join("../shared")
}

#[test]
fn generated_bindings_are_fresh() {
    codegen::run(&Layout::new(root()), true).expect("run `cargo xtask codegen` and commit");
}

#[test]
fn check_fails_when_a_generated_file_is_edited_by_hand() {
    let tmp = tempfile::tempdir().unwrap();
    for dir in ["schemas", "codegen/queries", "codegen/src/generated"] {
        copy_dir(&root().join(dir), &tmp.path().join(dir));
    }
    let layout = Layout::new(tmp.path());
    codegen::run(&layout, true).expect("a fresh copy passes the check");

    let edited = tmp.path().join("codegen/src/generated/integrations.rs");
    let text = std::fs::read_to_string(&edited).unwrap();
    std::fs::write(
        &edited,
        text.replace("pub name: String", "pub name: Option<String>"),
    )
    .unwrap();
    let err = codegen::run(&layout, true).unwrap_err().to_string();
    assert!(
        err.contains("codegen/src/generated/integrations.rs"),
        "{err}"
    );
    assert!(err.contains("cargo xtask codegen"), "{err}");

    // Regenerating repairs it, and the check passes again.
    codegen::run(&layout, false).unwrap();
    codegen::run(&layout, true).unwrap();

    // A stray module is stale too.
    std::fs::write(tmp.path().join("codegen/src/generated/stray.rs"), "").unwrap();
    let err = codegen::run(&layout, true).unwrap_err().to_string();
    assert!(err.contains("stray.rs"), "{err}");
}

#[test]
fn check_fails_when_a_query_changes() {
    let tmp = tempfile::tempdir().unwrap();
    for dir in ["schemas", "codegen/queries", "codegen/src/generated"] {
        copy_dir(&root().join(dir), &tmp.path().join(dir));
    }
    let query = tmp.path().join("codegen/queries/integrations.graphql");
    let text = std::fs::read_to_string(&query).unwrap();
    std::fs::write(&query, text.replace("    description\n", "")).unwrap();
    let err = codegen::run(&Layout::new(tmp.path()), true)
        .unwrap_err()
        .to_string();
    assert!(err.contains("integrations.rs"), "{err}");
}

/// Validate `document` against `sdl` with a complete GraphQL validator (apollo-compiler).
fn validate(sdl: &str, document: &str, origin: &str) -> Result<(), String> {
    let schema = apollo_compiler::Schema::parse_and_validate(sdl, "schema.graphql")
        .map_err(|e| format!("schema: {}", e.errors))?;
    apollo_compiler::ExecutableDocument::parse_and_validate(&schema, document, origin)
        .map(|_| ())
        .map_err(|e| e.errors.to_string())
}

/// Every query document must also validate against the real app-interface schema, so that our
/// integrations run unchanged against production.
#[test]
fn queries_validate_against_the_upstream_app_interface_schema() {
    let upstream = shared().join("upstream-schemas/qontract-schemas/graphql-schemas/schema.yml");
    let upstream_sdl = codegen::render_sdl(&upstream).expect("upstream schema renders");
    let our_sdl = codegen::render_sdl(&root().join("schemas/graphql-schema.yml")).unwrap();
    let layout = Layout::new(root());
    let fragments = codegen::fragments(&layout).unwrap();
    let docs = codegen::query_documents(&layout).unwrap();
    assert!(!docs.is_empty());
    let mut failures = Vec::new();
    for path in &docs {
        let text = std::fs::read_to_string(path).unwrap();
        let doc = codegen::with_fragments(&text, &fragments, path).unwrap();
        let origin = path.display().to_string();
        for (which, sdl) in [("upstream", &upstream_sdl), ("ours", &our_sdl)] {
            if let Err(e) = validate(sdl, &doc, &origin) {
                failures.push(format!("{which}: {origin}: {e}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "invalid queries:\n{}",
        failures.join("\n")
    );
}

/// The validator used above does reject queries that do not match the schema.
#[test]
fn upstream_validation_rejects_invalid_queries() {
    let upstream = shared().join("upstream-schemas/qontract-schemas/graphql-schemas/schema.yml");
    let sdl = codegen::render_sdl(&upstream).unwrap();
    for bad in [
        "query Q { clusters_v1 { name noSuchField } }",
        "query Q { no_such_v1 { name } }",
        "query Q { clusters_v1(nosuch: \"x\") { name } }",
        "query Q { clusters_v1 { automationToken } }",
        "query Q($n: Int) { clusters_v1(name: $n) { name } }",
        "query Q { namespaces_v1(name: \"x\") { name } }",
    ] {
        assert!(
            validate(&sdl, bad, "bad.graphql").is_err(),
            "accepted: {bad}"
        );
    }
    validate(
        &sdl,
        "query Q($n: String) { clusters_v1(name: $n) { name } }",
        "good.graphql",
    )
    .unwrap();
    // querygen, used for generation, reports unknown fields as errors too.
    let err = codegen::generate_module(
        &sdl,
        "query Q { clusters_v1 { name noSuchField } }",
        Path::new("inline.graphql"),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("noSuchField") && err.contains("inline.graphql"),
        "{err}"
    );
}

#[test]
fn fragments_are_appended_transitively_and_once() {
    let mut fragments = std::collections::BTreeMap::new();
    fragments.insert("A".to_owned(), "fragment A on T { x ...B }".to_owned());
    fragments.insert("B".to_owned(), "fragment B on T { y }".to_owned());
    let doc = codegen::with_fragments(
        "query Q { t { ...A ...B ... on T { z } } }",
        &fragments,
        Path::new("q.graphql"),
    )
    .unwrap();
    assert_eq!(doc.matches("fragment A").count(), 1);
    assert_eq!(doc.matches("fragment B").count(), 1);
    let err = codegen::with_fragments("query Q { ...Missing }", &fragments, Path::new("q.graphql"))
        .unwrap_err();
    assert!(err.to_string().contains("Missing"), "{err}");
}

/// `cargo xtask introspect` against our qontract-server serving the example app-interface
/// returns the same schema as `schemas/qontract.graphql` (types, fields, argument and field
/// types compared after parsing both).
#[test]
fn introspect_reads_the_schema_of_a_live_server() {
    let tmp = tempfile::tempdir().unwrap();
    let bundle = qontract_bundler::build_bundle(&qontract_bundler::BundleInputs {
        schemas_dir: Default::default(),
        graphql_schema_file: root().join("schemas/graphql-schema.yml"),
        data_dir: root().join("examples/app-interface/data"),
        resources_dir: root().join("examples/app-interface/resources"),
        git_commit: "0".repeat(40),
        git_commit_timestamp: "0".to_owned(),
    })
    .unwrap();
    let file = tmp.path().join("bundle.json");
    std::fs::write(&file, qontract_bundler::bundle_to_json(&bundle)).unwrap();

    let (addr, _state) = start_bundle_server(&file);
    let out = tmp.path().join("introspected.graphql");
    crate::introspect::run(&[
        "--url".to_owned(),
        format!("http://{addr}/graphql"),
        "--out".to_owned(),
        out.display().to_string(),
    ])
    .unwrap();

    let shape = |sdl: &str| -> Vec<String> {
        let schema = apollo_compiler::Schema::parse(sdl, "s.graphql").unwrap();
        let mut lines = Vec::new();
        for (name, ty) in &schema.types {
            if name.starts_with("__") || ty.is_built_in() {
                continue;
            }
            match ty {
                apollo_compiler::schema::ExtendedType::Object(o) => {
                    for (f, def) in &o.fields {
                        let args: Vec<String> = def
                            .arguments
                            .iter()
                            .map(|a| format!("{}:{}", a.name, a.ty))
                            .collect();
                        lines.push(format!("{name}.{f}({}): {}", args.join(","), def.ty));
                    }
                }
                apollo_compiler::schema::ExtendedType::Interface(i) => {
                    for (f, def) in &i.fields {
                        lines.push(format!("{name}.{f}: {}", def.ty));
                    }
                }
                other => lines.push(format!("{name}: {}", other.name())),
            }
        }
        lines.sort();
        lines
    };
    let ours = std::fs::read_to_string(root().join("schemas/qontract.graphql")).unwrap();
    let live = std::fs::read_to_string(&out).unwrap();
    assert_eq!(shape(&live), shape(&ours));
}

/// Each shared fragment's types are generated once, into `generated/fragments.rs`; the query
/// modules re-export them instead of defining a copy (issue 12).
#[test]
fn shared_fragments_are_generated_once() {
    let files = codegen::generate(&Layout::new(root())).unwrap();
    let text_of = |name: &str| {
        files
            .iter()
            .find(|f| f.path.ends_with(name))
            .map(|f| f.content.clone())
            .unwrap()
    };
    let fragments = text_of("generated/fragments.rs");
    for ty in [
        "ClusterConnection",
        "VaultSecret",
        "DisableClusterAutomationsV1",
    ] {
        assert_eq!(
            fragments.matches(&format!("pub struct {ty} ")).count(),
            1,
            "{ty}"
        );
        for f in files.iter().filter(|f| {
            f.path.extension().is_some_and(|e| e == "rs") && !f.path.ends_with("fragments.rs")
        }) {
            assert!(
                !f.content.contains(&format!("pub struct {ty} ")),
                "{} defines its own {ty}",
                f.path.display()
            );
        }
    }
    let limitranges = text_of("generated/limitranges_namespaces.rs");
    assert!(limitranges.contains("pub use super::fragments::{"));
    assert!(limitranges.contains("pub cluster: ClusterConnection,"));
    // A query type selecting more than the spread derefs to the shared type.
    let rolebindings = text_of("generated/rolebindings_roles.rs");
    assert!(rolebindings.contains("impl std::ops::Deref for ClusterV1"));
}

/// Two query modules generating one shared type differently is an error naming both.
#[test]
fn a_shared_type_generated_differently_is_an_error() {
    let fragments = [("Frag".to_owned(), String::new())].into_iter().collect();
    let item = |field: &str| {
        format!(
            "#[derive(cynic::QueryFragment, Debug)]\n#[cynic(graphql_type = \"T\")]\n\
             pub struct Frag {{\n    pub {field}: String,\n}}\n"
        )
    };
    let mut shared = codegen::SharedTypes::default();
    let (own, moved) = shared.take("one", &item("a"), &fragments).unwrap();
    assert_eq!(moved, ["Frag"]);
    assert!(own.trim().is_empty());
    shared.take("two", &item("a"), &fragments).unwrap();
    let err = shared
        .take("three", &item("b"), &fragments)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("three.graphql") && err.contains("one.graphql"),
        "{err}"
    );
}
