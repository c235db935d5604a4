//! SDL rendering: snapshot of a small sample, and validity of the upstream schema's SDL.

use std::collections::{HashMap, HashSet};

use cynic_parser::type_system::{Definition, TypeDefinition};
use qontract_graphql_schema::{SchemaConfs, to_sdl};

use crate::{sample, upstream_schema_file};

#[test]
fn sample_sdl_snapshot() {
    insta::assert_snapshot!(to_sdl(&sample()));
}

#[test]
fn sdl_is_deterministic() {
    assert_eq!(to_sdl(&sample()), to_sdl(&sample()));
}

/// Parses `sdl` and checks what GraphQL schema validation checks for this subset: every
/// referenced type is defined, implemented interfaces exist and their fields are present with
/// the same type. Returns the problems.
fn validate_sdl(sdl: &str) -> Vec<String> {
    let doc = match cynic_parser::parse_type_system_document(sdl) {
        Ok(doc) => doc,
        Err(e) => return vec![format!("SDL does not parse: {e}")],
    };
    let builtin = ["String", "Int", "Float", "Boolean", "ID"];
    let mut defined: HashSet<String> = builtin.iter().map(|s| (*s).to_owned()).collect();
    // type name -> (is interface, field name -> rendered type)
    let mut fields: HashMap<String, (bool, HashMap<String, String>)> = HashMap::new();
    let mut implements: Vec<(String, String)> = Vec::new();
    let mut referenced: Vec<(String, String)> = Vec::new();
    for def in doc.definitions() {
        let Definition::Type(ty) = def else { continue };
        let name = ty.name().to_owned();
        if !defined.insert(name.clone()) {
            return vec![format!("type {name} defined twice")];
        }
        let (is_iface, field_iter, ifaces): (bool, Vec<_>, Vec<&str>) = match ty {
            TypeDefinition::Object(o) => (
                false,
                o.fields().collect(),
                o.implements_interfaces().collect(),
            ),
            TypeDefinition::Interface(i) => (
                true,
                i.fields().collect(),
                i.implements_interfaces().collect(),
            ),
            _ => continue,
        };
        let mut map = HashMap::new();
        for f in field_iter {
            if map.contains_key(f.name()) {
                return vec![format!("field {name}.{} defined twice", f.name())];
            }
            referenced.push((format!("{name}.{}", f.name()), f.ty().name().to_owned()));
            for a in f.arguments() {
                referenced.push((
                    format!("{name}.{}({})", f.name(), a.name()),
                    a.ty().name().to_owned(),
                ));
            }
            map.insert(f.name().to_owned(), f.ty().to_string());
        }
        for i in ifaces {
            implements.push((name.clone(), i.to_owned()));
        }
        fields.insert(name, (is_iface, map));
    }
    let subtypes: HashSet<(String, String)> = implements.iter().cloned().collect();
    let mut problems = Vec::new();
    for (at, ty) in referenced {
        if !defined.contains(&ty) {
            problems.push(format!("{at}: undefined type {ty}"));
        }
    }
    for (ty, iface) in implements {
        let Some((true, iface_fields)) = fields.get(&iface) else {
            problems.push(format!(
                "{ty} implements {iface}, which is not an interface"
            ));
            continue;
        };
        let own = &fields[&ty].1;
        for (fname, ftype) in iface_fields {
            match own.get(fname) {
                None => problems.push(format!("{ty} lacks {iface}.{fname}")),
                Some(t) if !is_valid_implementation(t, ftype, &subtypes) => {
                    problems.push(format!("{ty}.{fname}: {t} vs {iface}.{fname}: {ftype}"))
                }
                Some(_) => {}
            }
        }
    }
    problems
}

/// GraphQL's `IsValidImplementationFieldType` (covariant field types) on rendered types.
fn is_valid_implementation(
    field: &str,
    implemented: &str,
    subtypes: &HashSet<(String, String)>,
) -> bool {
    if let Some(inner) = field.strip_suffix('!') {
        let implemented = implemented.strip_suffix('!').unwrap_or(implemented);
        return is_valid_implementation(inner, implemented, subtypes);
    }
    if implemented.ends_with('!') {
        return false;
    }
    match (field.strip_prefix('['), implemented.strip_prefix('[')) {
        (Some(f), Some(i)) => {
            is_valid_implementation(&f[..f.len() - 1], &i[..i.len() - 1], subtypes)
        }
        (None, None) => {
            field == implemented || subtypes.contains(&(field.to_owned(), implemented.to_owned()))
        }
        _ => false,
    }
}

#[test]
fn sample_sdl_is_valid() {
    assert_eq!(validate_sdl(&to_sdl(&sample())), Vec::<String>::new());
}

#[test]
fn upstream_schema_renders_to_valid_sdl() {
    let confs = SchemaConfs::from_yaml_file(&upstream_schema_file()).unwrap();
    let sdl = to_sdl(&confs);
    let problems = validate_sdl(&sdl);
    assert!(
        problems.is_empty(),
        "{} problems, first: {:#?}",
        problems.len(),
        &problems[..problems.len().min(20)]
    );
    let doc = cynic_parser::parse_type_system_document(&sdl).unwrap();
    let count = doc.definitions().count();
    // JSON + one definition per conf
    assert_eq!(count, confs.confs.len() + 1);
}

#[test]
fn upstream_sdl_matches_the_real_server_on_known_fields() {
    let confs = SchemaConfs::from_yaml_file(&upstream_schema_file()).unwrap();
    let sdl = to_sdl(&confs);
    let line_of = |ty: &str, field: &str| -> String {
        let start = sdl
            .find(&format!("type {ty} "))
            .or_else(|| sdl.find(&format!("interface {ty} ")))
            .unwrap_or_else(|| panic!("{ty} not rendered"));
        let body = &sdl[start..];
        let body = &body[..body.find("\n}").unwrap()];
        body.lines()
            .find(|l| {
                l.trim_start().starts_with(&format!("{field}("))
                    || l.trim_start().starts_with(&format!("{field}:"))
            })
            .unwrap_or_else(|| panic!("{ty}.{field} not rendered"))
            .trim()
            .to_owned()
    };
    // namespaces_v1 has no `name` argument (the server answers "Unknown argument \"name\"")
    insta::assert_snapshot!(line_of("Query", "namespaces_v1"), @"namespaces_v1(path: String, filter: JSON): [Namespace_v1!]");
    insta::assert_snapshot!(line_of("Query", "clusters_v1"), @"clusters_v1(name: String, path: String, filter: JSON): [Cluster_v1!]");
    insta::assert_snapshot!(line_of("Query", "resources_v1"), @"resources_v1(path: String, schema: String): [Resource_v1!]!");
    insta::assert_snapshot!(line_of("NamespaceOpenshiftResourceResource_v1", "path"), @"path: Resource_v1");
    insta::assert_snapshot!(line_of("Role_v1", "users"), @"users: [User_v1!]!");
    let head = sdl
        .lines()
        .find(|l| l.starts_with("type Cluster_v1 "))
        .unwrap();
    insta::assert_snapshot!(head, @"type Cluster_v1 implements DatafileObject_v1 {");
}
