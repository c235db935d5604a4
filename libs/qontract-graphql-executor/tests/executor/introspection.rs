//! Introspection agrees with the SDL rendering of the same confs.

use serde_json::Value;

use crate::{run, sample_bundle};

const INTROSPECTION: &str = r#"
query IntrospectionQuery {
  __schema {
    queryType { name }
    mutationType { name }
    types { ...FullType }
    directives { name locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }
"#;

fn render(t: &Value) -> String {
    match t["kind"].as_str().unwrap() {
        "NON_NULL" => format!("{}!", render(&t["ofType"])),
        "LIST" => format!("[{}]", render(&t["ofType"])),
        _ => t["name"].as_str().unwrap().to_owned(),
    }
}

#[test]
fn introspection_rebuilds_the_sdl() {
    let (status, v) = run(INTROSPECTION, None);
    assert_eq!(status, 200);
    assert!(v.get("errors").is_none(), "{v}");
    let schema = &v["data"]["__schema"];
    assert_eq!(schema["queryType"]["name"], "Query");
    assert!(schema["mutationType"].is_null());
    let mut sdl = String::from("scalar JSON\n");
    for t in schema["types"].as_array().unwrap() {
        let kind = t["kind"].as_str().unwrap();
        if kind == "SCALAR" {
            continue;
        }
        sdl.push('\n');
        sdl.push_str(if kind == "INTERFACE" {
            "interface "
        } else {
            "type "
        });
        sdl.push_str(t["name"].as_str().unwrap());
        let ifaces: Vec<&str> = t["interfaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap())
            .collect();
        if !ifaces.is_empty() {
            sdl.push_str(&format!(" implements {}", ifaces.join(" & ")));
        }
        sdl.push_str(" {\n");
        for f in t["fields"].as_array().unwrap() {
            let args: Vec<String> = f["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| format!("{}: {}", a["name"].as_str().unwrap(), render(&a["type"])))
                .collect();
            let args = if args.is_empty() {
                String::new()
            } else {
                format!("({})", args.join(", "))
            };
            sdl.push_str(&format!(
                "  {}{args}: {}\n",
                f["name"].as_str().unwrap(),
                render(&f["type"])
            ));
        }
        sdl.push_str("}\n");
    }
    let want = qontract_graphql_schema::to_sdl(sample_bundle().schema());
    if let Some((got, want)) = sdl.lines().zip(want.lines()).find(|(a, b)| a != b) {
        panic!("introspection differs from the SDL: {got:?} vs {want:?}");
    }
    assert_eq!(sdl.len(), want.len());
}

#[test]
fn type_lookup_and_possible_types() {
    let (_, v) = run(
        r#"{ __type(name: "NamespaceOpenshiftResource_v1") { kind name possibleTypes { name } } missing: __type(name: "Nope") { name } }"#,
        None,
    );
    assert_eq!(v["data"]["__type"]["kind"], "INTERFACE");
    let possible: Vec<&str> = v["data"]["__type"]["possibleTypes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(
        possible.contains(&"NamespaceOpenshiftResourceResource_v1"),
        "{possible:?}"
    );
    assert!(v["data"]["missing"].is_null());
}
