//! Bad data gives clear errors naming the file and the JSON pointer, never a panic.

use std::fs;
use std::path::Path;

use qontract_bundler::{BundleError, BundleInputs, build_bundle};

struct Tree {
    dir: tempfile::TempDir,
}

impl Tree {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["schemas", "data", "resources"] {
            fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        let t = Self { dir };
        t.write(
            "schemas/thing-1.yml",
            "---\n\"$schema\": /metaschema-1.json\ntype: object\nproperties:\n  name: {type: string}\n  other: {\"$ref\": /common-1.json#/definitions/crossref}\n  file: {\"$ref\": /common-1.json#/definitions/resourceref}\n",
        );
        t.write(
            "graphql.yml",
            "confs:\n- name: Thing_v1\n  datafile: /thing-1.yml\n  fields:\n  - {name: name, type: string}\n- name: Query\n  fields:\n  - {name: things_v1, type: Thing_v1, isList: true, datafileSchema: /thing-1.yml}\n",
        );
        t
    }

    fn write(&self, rel: &str, text: &str) {
        let p = self.dir.path().join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn build(&self) -> Result<serde_json::Value, BundleError> {
        build_bundle(&BundleInputs {
            schemas_dir: self.root().join("schemas"),
            graphql_schema_file: self.root().join("graphql.yml"),
            data_dir: self.root().join("data"),
            resources_dir: self.root().join("resources"),
            git_commit: "c".to_owned(),
            git_commit_timestamp: "1".to_owned(),
        })
    }

    fn error(&self) -> String {
        match self.build() {
            Err(e) => e
                .to_string()
                .replace(&self.root().display().to_string(), "<root>"),
            Ok(_) => panic!("expected an error"),
        }
    }
}

#[test]
fn valid_tree_bundles() {
    let t = Tree::new();
    t.write(
        "data/a.yml",
        "$schema: /thing-1.yml\nname: a\nfile: /f.txt\n",
    );
    t.write("resources/f.txt", "hello\n");
    let bundle = t.build().unwrap();
    assert_eq!(
        bundle["resources"]["/f.txt"]["backrefs"][0]["jsonpath"],
        "file"
    );
    assert_eq!(bundle["data"]["/a.yml"]["name"], "a");
}

#[test]
fn invalid_yaml_names_the_file_and_line() {
    let t = Tree::new();
    t.write("data/bad.yml", "$schema: /thing-1.yml\nname: [a\n");
    insta::assert_snapshot!(t.error(), @"<root>/data/bad.yml: invalid YAML: line 2 column 7: unclosed bracket '['");
}

#[test]
fn missing_schema_dangling_ref_and_missing_resource_are_all_listed() {
    let t = Tree::new();
    t.write("data/noschema.yml", "name: x\n");
    t.write("data/unknown.yml", "$schema: /nope-1.yml\nname: x\n");
    t.write(
        "data/ref.yml",
        "$schema: /thing-1.yml\nname: r\nother: {$ref: /missing.yml}\nfile: /absent.txt\n",
    );
    let msg = t.error();
    let mut lines: Vec<&str> = msg.lines().collect();
    lines[1..].sort_unstable();
    insta::assert_snapshot!(lines.join("\n"), @"4 problem(s) in the data:
  <root>/data/noschema.yml#: missing `$schema`
  <root>/data/ref.yml#/file: resource file /absent.txt not found in <root>/resources
  <root>/data/ref.yml#/other: dangling $ref: /missing.yml does not exist
  <root>/data/unknown.yml#/$schema: unknown schema /nope-1.yml");
}

#[test]
fn top_level_list_is_rejected() {
    let t = Tree::new();
    t.write("data/list.yml", "- a\n- b\n");
    insta::assert_snapshot!(t.error(), @"<root>/data/list.yml: a datafile must be a mapping at the top level");
}

#[test]
fn missing_directory_is_reported() {
    let t = Tree::new();
    fs::remove_dir(t.root().join("resources")).unwrap();
    insta::assert_snapshot!(t.error(), @"reading <root>/resources: not a directory");
}
